"""Batch actions: the same note, communication, task or supportive service for many clients at once.

All or nothing: one transaction writes the BatchAction row and, for every client, calls the
single-record action (``notes.create_note``, ``communications.record_communication``,
``tasks.create_task``, ``services.record_service``) with ``batch=``, so each record is validated
and audited exactly as one made on the client's profile. If any client fails, nothing is written
and the error names the clients and the field (grouped: one message per problem, not per client).

Cost: the clients are fetched once (with their portal accounts, which reminders and client tasks
read); each client then costs what its action costs — an insert, its audit event and a savepoint,
about five queries (a service on a grant a few more: it locks and sums the grant).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from caseload.audit.actions import record_create
from caseload.casework.models import BatchAction, CaseNote, Communication, SupportiveService, Task
from caseload.casework.records import membership_of
from caseload.casework.selection import agency_clients, check_clients, names_text
from caseload.clients.models import Client
from caseload.tenancy.models import Agency

Kind = BatchAction.Kind

# The model each kind creates (to find a batch's records again).
MODELS: dict[str, type[models.Model]] = {
    Kind.NOTE: CaseNote,
    Kind.COMMUNICATION: Communication,
    Kind.TASK: Task,
    Kind.SERVICE: SupportiveService,
}
# A problem without a field (e.g. "this profile was merged") is reported on the clients.
CLIENTS_FIELD = "clients"


def _action(kind: str) -> Callable[[Client, Any, dict[str, Any], BatchAction], models.Model]:
    """The single-record action for ``kind``, called as ``action(client, actor, data, batch)``."""
    if kind == Kind.NOTE:
        from caseload.casework.notes import create_note

        return lambda client, actor, data, batch: create_note(client, actor, data, batch=batch)
    if kind == Kind.COMMUNICATION:
        from caseload.casework.communications import record_communication

        return lambda client, actor, data, batch: record_communication(client, actor, data, batch=batch)
    if kind == Kind.TASK:
        from caseload.casework.tasks import create_task

        return lambda client, actor, data, batch: create_task(client.agency, actor, data, client=client, batch=batch)
    if kind == Kind.SERVICE:
        from caseload.casework.services import record_service

        return lambda client, actor, data, batch: record_service(client, actor, data, batch=batch)
    raise ValidationError({"kind": _("Choose what to create: a case note, a communication, a task or a supportive service.")})


def _resolve(agency: Agency, clients: Iterable[Client | int]) -> list[Client]:
    """The clients of ``agency`` among ``clients`` (instances or ids), fetched once; others are dropped."""
    ids = list(dict.fromkeys(c.pk if isinstance(c, Client) else int(c) for c in clients))
    found, _ignored = agency_clients(agency, ids)
    return found


def _problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field, message) of each problem a per-record action raised."""
    if hasattr(error, "error_dict"):
        return [
            (CLIENTS_FIELD if field == NON_FIELD_ERRORS else field, message)
            for field, errors in error.error_dict.items()
            for message in ValidationError(errors).messages
        ]
    return [(CLIENTS_FIELD, message) for message in error.messages]


def failure_error(failures: dict[tuple[str, str], list[Client]]) -> ValidationError:
    """One ValidationError naming, for each field, each problem and the clients who have it."""
    errors: dict[str, list[str]] = {}
    for (field, message), clients in failures.items():
        errors.setdefault(field, []).append(
            _("%(clients)s: %(message)s") % {"clients": names_text(clients), "message": message.rstrip()}
        )
    return ValidationError(errors)


def run_batch(
    agency: Agency, actor, kind: str, clients: Iterable[Client | int], data: dict[str, Any], *, source: str = ""
) -> BatchAction:
    """Create the same record (``kind``: note, communication, task, service) for every client, all or nothing.

    ``clients``: Client instances or ids; only the agency's are used (the others are dropped, never
    written: callers warn). ``data`` is the kind's action data (Python values, as for one record).
    Raises ValidationError naming the field, and the clients, when anything fails; nothing is written then.
    """
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose what to create: a case note, a communication, a task or a supportive service.")})
    action = _action(kind)
    found = _resolve(agency, clients)
    check_clients(found)
    failures: dict[tuple[str, str], list[Client]] = {}
    with transaction.atomic():
        batch = BatchAction.objects.create(
            agency=agency,
            kind=kind,
            source=(source or "")[:200],
            client_count=len(found),
            created_by=membership_of(agency, actor),
        )
        record_create(agency=agency, actor=actor, obj=batch)
        for client in found:
            try:
                # A copy each: an action may normalise the values it was given.
                action(client, actor, dict(data), batch)
            except ValidationError as error:
                # The failed action's savepoint is rolled back and the transaction stays usable, so the
                # other clients are still checked: the message then names everyone with the problem.
                for problem in _problems(error):
                    failures.setdefault(problem, []).append(client)
        if failures:
            raise failure_error(failures)
    return batch


def records_of(batch: BatchAction) -> models.QuerySet:
    """The records the batch created (soft-deleted ones included: the caller applies records.visible)."""
    model = MODELS[batch.kind]
    return model.objects.for_agency(batch.agency).filter(agency=batch.agency, batch=batch)


def clients_of(batch: BatchAction) -> models.QuerySet[Client]:
    """The clients the batch made records for."""
    return Client.objects.for_agency(batch.agency).filter(agency=batch.agency, pk__in=records_of(batch).values("client_id"))
