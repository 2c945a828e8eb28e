"""Service records: a form of the form engine filled in during a session, as a draft or completed.

A record is answered under the current version of its form and of the agency's questions on it;
both versions are kept with the record, and later edits validate against them (an old record
keeps its own form). A client form in a group session is for a named attendee; a group form is
for the whole session (one per session, except the attendance form: one per class date).

Answers never enter the audit log: a change records which questions changed, not their values.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import REDACTED, Action, record, record_create, record_delete
from caseload.casework.records import membership_of
from caseload.clients.models import Client
from caseload.delivery import catalogue
from caseload.delivery.models import Attendee, ServiceRecord, Session
from caseload.delivery.sessions import _check_client
from caseload.delivery.visibility import may_change_record
from caseload.formbuilder import engine, loading
from caseload.formbuilder.models import FormDefinition, FormFile

Status = ServiceRecord.Status


def allowed_forms(session: Session) -> list[str]:
    return catalogue.SESSION_FORMS.get(session.session_type, [])


def file_checker(agency, client: Client | None):
    """``file_exists`` for the engine: a file uploaded in this agency for this client (or for no client)."""

    def exists(file_id: int) -> bool:
        rows = FormFile.objects.for_agency(agency).filter(pk=file_id)
        return rows.filter(client=client).exists() if client is not None else rows.exists()

    return exists


def _validate(spec: dict, answers: dict, *, draft: bool, agency, client: Client | None) -> dict:
    try:
        return engine.validate(spec, answers, draft=draft, file_exists=file_checker(agency, client))
    except engine.AnswerErrors as error:
        raise ValidationError({f"answers.{path}": message for path, message in error.errors.items()}) from error


def _check_target(session: Session, definition: FormDefinition, client: Client | None, answers: dict) -> None:
    """A client form needs the session's client or a named attendee; a group form is for the whole session."""
    if definition.key not in allowed_forms(session):
        raise ValidationError({"form": _("This form is not one of this session's forms.")})
    if definition.scope == FormDefinition.Scope.GROUP:
        if client is not None:
            raise ValidationError({"client": _("This form is about the whole group, not one client.")})
        if definition.key == catalogue.ATTENDANCE_FORM:
            return
        taken = ServiceRecord.objects.for_agency(session.agency).filter(
            session=session, definition__key=definition.key, deleted_at__isnull=True
        )
        if taken.exists():
            raise ValidationError({"form": _("This session already has this form: open it to change it.")})
        return
    if session.is_group:
        if client is None:
            raise ValidationError({"client": _("Choose the attendee this form is for.")})
        if not Attendee.objects.for_agency(session.agency).filter(session=session, client=client).exists():
            raise ValidationError({"client": _("Add the client to the session's attendees first.")})
    elif client is None or client.pk != session.client_id:
        raise ValidationError({"client": _("A one-on-one session's forms are about its client.")})
    _check_client(client)


@transaction.atomic
def create_record(
    session: Session,
    actor,
    form_key: str,
    answers: dict[str, Any],
    *,
    client: Client | None = None,
    status: str = Status.DRAFT,
    is_private: bool = False,
) -> ServiceRecord:
    """Fill in ``form_key`` in ``session`` (for ``client``: the session's client or an attendee).

    A draft may leave required questions unanswered (it shows on its author's dashboard until it
    is completed); a completed record must answer them. Answers are validated by the form engine
    against the current versions of the form and the agency's questions.
    """
    if session.deleted_at is not None:
        raise ValidationError({"session": _("This session was deleted.")})
    if status not in Status.values:
        raise ValidationError({"status": _("Save the form as a draft or as completed.")})
    agency = session.agency
    if client is None and not session.is_group:
        client = session.client
    try:
        definition, extension, spec = loading.form_spec(agency, form_key)
    except FormDefinition.DoesNotExist:
        definition = None
    if definition is None:
        raise ValidationError({"form": _("There is no such form.")})
    _check_target(session, definition, client, answers)
    cleaned = _validate(spec, answers, draft=status == Status.DRAFT, agency=agency, client=client)
    now = timezone.now()
    row = ServiceRecord.objects.create(
        agency=agency,
        session=session,
        client=client,
        program=session.program,
        definition=definition,
        extension=extension,
        answers=cleaned,
        status=status,
        is_private=bool(is_private),
        author=membership_of(agency, actor),
        completed_at=now if status == Status.COMPLETED else None,
    )
    record_create(agency=agency, actor=actor, obj=row, client_id=client.pk if client else None)
    return row


@transaction.atomic
def update_record(
    row: ServiceRecord,
    actor,
    answers: dict[str, Any] | None = None,
    *,
    status: str | None = None,
    is_private: bool | None = None,
) -> ServiceRecord:
    """Change a record's answers (validated under its own form versions), complete it, or mark it private.

    A completed record stays completed; a private record is changed by its author only.
    """
    agency = row.agency
    row = (
        ServiceRecord.objects.for_agency(agency)
        .select_for_update(of=("self",))
        .select_related("definition", "extension", "author", "client", "session")
        .get(pk=row.pk)
    )
    row.agency = agency
    if row.deleted_at is not None:
        raise ValidationError({"record": _("This form was deleted.")})
    if not may_change_record(row, membership_of(agency, actor)) and getattr(actor, "is_authenticated", False):
        raise ValidationError({"record": _("Only its author can change a private form.")})
    if row.client_id:
        _check_client(row.client)
    new_status = status or row.status
    if new_status not in Status.values:
        raise ValidationError({"status": _("Save the form as a draft or as completed.")})
    if row.status == Status.COMPLETED and new_status == Status.DRAFT:
        raise ValidationError({"status": _("A completed form cannot go back to draft.")})
    spec = loading.record_spec(row.definition, row.extension)
    merged = row.answers if answers is None else answers
    cleaned = _validate(spec, merged, draft=new_status == Status.DRAFT, agency=agency, client=row.client)
    changed = sorted(key for key in set(cleaned) | set(row.answers) if cleaned.get(key) != row.answers.get(key))
    changes: dict[str, list[Any]] = {f"answers.{key}": [REDACTED, REDACTED] for key in changed}
    if new_status != row.status:
        changes["status"] = [row.status, new_status]
        if new_status == Status.COMPLETED:
            row.completed_at = timezone.now()
    if is_private is not None and bool(is_private) != row.is_private:
        if row.author_id and membership_of(agency, actor) and row.author_id != membership_of(agency, actor).pk:
            raise ValidationError({"is_private": _("Only its author can make a form private or open it.")})
        changes["is_private"] = [row.is_private, bool(is_private)]
        row.is_private = bool(is_private)
    if not changes:
        return row
    row.answers = cleaned
    row.status = new_status
    row.updated_at = timezone.now()
    row.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save()
    record(agency=agency, actor=actor, action=Action.CHANGE, obj=row, changes=changes, client_id=row.client_id)
    return row


@transaction.atomic
def delete_record(row: ServiceRecord, actor) -> None:
    """Soft-delete a record (kept for the audit trail); a private one by its author only."""
    if not may_change_record(row, membership_of(row.agency, actor)) and getattr(actor, "is_authenticated", False):
        raise ValidationError({"record": _("Only its author can delete a private form.")})
    row.deleted_at = timezone.now()
    row.deleted_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save(update_fields=["deleted_at", "deleted_by"])
    record_delete(agency=row.agency, actor=actor, obj=row, client_id=row.client_id)
