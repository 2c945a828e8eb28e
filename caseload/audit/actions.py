"""Writing audit events. Every action in every app calls ``record`` in its transaction."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models

from caseload.audit.context import client_ip
from caseload.audit.models import AuditEvent

REDACTED = "[redacted]"
# Field names whose values never enter the audit log; that they changed still does.
SENSITIVE_FIELDS = {"password", "session_salt", "token", "token_key", "digest", "key", "secret", "body", "html_body", "content", "text", "general_notes", "justification", "outcome"}

Action = AuditEvent.Action


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The instance's field values as plain JSON, for diffing before and after a change.

    Without ``fields``: every concrete field and many-to-many link (as sorted primary keys).
    """
    opts = instance._meta
    names = list(fields) if fields is not None else [f.name for f in [*opts.concrete_fields, *opts.many_to_many]]
    data: dict[str, Any] = {}
    for name in names:
        field = opts.get_field(name)
        if field.many_to_many:
            data[name] = sorted(o.pk for o in field.value_from_object(instance)) if instance.pk else []
        else:
            data[name] = _plain(field.value_from_object(instance))
    return data


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for every field whose value changed, sensitive values redacted."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            changes[name] = [REDACTED, REDACTED] if name in SENSITIVE_FIELDS else [old, new]
    return changes


def event(
    *,
    agency,
    actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    client_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    agency_id: int | None = None,
) -> AuditEvent:
    """One audit event, not saved yet: ``record`` saves it; a writer that inserts it with its own
    statement (the outbox's send) takes it from here, so every event says the same things.

    ``agency=None, agency_id=...`` when only the agency's id is at hand (no query to load the agency)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        **({"agency_id": agency_id} if agency is None else {"agency": agency}),
        actor=actor,
        actor_label=actor.email if actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        client_id=client_id,
        changes=dict(changes or {}),
        ip_address=client_ip.get(),
    )


def record(**details: Any) -> AuditEvent:
    """Write one audit event (the keywords of ``event``). ``changes`` is ``{field: [old, new]}`` (see ``diff``)."""
    new = event(**details)
    new.save(force_insert=True)
    return new


def record_change(*, agency, actor, obj: models.Model, before: dict[str, Any], **extra: Any) -> AuditEvent | None:
    """Record a change from a snapshot taken before it; nothing is written when nothing changed."""
    changes = diff(before, snapshot(obj, before.keys()))
    if not changes:
        return None
    return record(agency=agency, actor=actor, action=Action.CHANGE, obj=obj, changes=changes, **extra)


def record_create(*, agency, actor, obj: models.Model, **extra: Any) -> AuditEvent:
    after = snapshot(obj)
    after.pop("agency", None)
    return record(agency=agency, actor=actor, action=Action.CREATE, obj=obj, changes=diff({}, after), **extra)


def record_delete(*, agency, actor, obj: models.Model, **extra: Any) -> AuditEvent:
    before = snapshot(obj)
    before.pop("agency", None)
    return record(agency=agency, actor=actor, action=Action.DELETE, obj=obj, changes=diff(before, {}), **extra)
