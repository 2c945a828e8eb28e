"""Changing an agency's message templates (``messages.templates``): checked, then audited with
the names of the fields that changed (never the wording)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from caseload.audit.actions import REDACTED, Action, record
from caseload.messaging.models import MessageTemplate
from caseload.messaging.templates import check_template, default_texts

EDITABLE = ("subject", "body")


def _save(template: MessageTemplate, actor, subject: str, body: str) -> MessageTemplate:
    check_template(template.purpose, template.channel, subject, body)
    changed = [name for name, value in (("subject", subject), ("body", body)) if getattr(template, name) != value]
    if not changed:
        return template
    with transaction.atomic():
        template.subject, template.body = subject, body
        template.updated_at = timezone.now()
        template.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        template.save(update_fields=[*changed, "updated_at", "updated_by"])
        record(
            agency=template.agency,
            actor=actor,
            action=Action.CHANGE,
            obj=template,
            changes={name: [REDACTED, REDACTED] for name in changed},
        )
    return template


def update_template(template: MessageTemplate, actor, data: dict[str, Any]) -> MessageTemplate:
    """Change a template's subject and/or body (keys of ``data``; others are ignored).

    Raises ValidationError naming the field when the new wording would not send (see
    """
    subject = data.get("subject", template.subject)
    body = data.get("body", template.body)
    subject = "" if subject is None else str(subject).strip()
    body = "" if body is None else str(body).replace("\r\n", "\n")
    return _save(template, actor, subject, body)


def reset_template(template: MessageTemplate, actor) -> MessageTemplate:
    """Put back the built-in wording of the template (its language's, or English)."""
    subject, body = default_texts(template.purpose, template.channel, template.language)
    return _save(template, actor, subject, body)
