"""Sessions: creating, changing and deleting them, and the named attendees of a group session.

A direct session (direct service, job development, finance) is about one client; a group session
(language training, information & orientation, community connections, employment) has named
attendees and/or an anonymous count. A session belongs to one program: a member records sessions
for the programs they belong to (or any, with ``delivery.all_programs``). Every write is one
transaction with its audit event.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import record_change, record_create, record_delete, snapshot
from caseload.casework.records import membership_of
from caseload.clients.models import Client
from caseload.delivery.models import GROUP_TYPES, Attendee, ServiceRecord, Session, SessionType
from caseload.delivery.visibility import program_ids, sees_all_programs
from caseload.tenancy.models import Agency, Funder, Membership, Program

SESSION_FIELDS = [
    "session_type",
    "title",
    "date",
    "start_time",
    "duration_minutes",
    "mode",
    "location",
    "staff",
    "program",
    "anonymous_attendees",
]


def _check_client(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError({"client": _("This profile was merged into another one: record services on the kept profile.")})


def _clean(agency: Agency, actor, data: dict[str, Any], *, session: Session | None) -> dict[str, Any]:
    """The session fields of ``data`` checked against the agency (programs, staff, funders); errors name the field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for name in SESSION_FIELDS:
        if name in data:
            cleaned[name] = data[name]
    session_type = cleaned.get("session_type", session.session_type if session else None)
    if session_type not in SessionType.values:
        errors["session_type"] = _("Choose a session type.")
    elif session is not None and session_type != session.session_type:
        errors["session_type"] = _("A session's type cannot change; create a new session.")
    mode = cleaned.get("mode")
    if mode is not None and mode not in Session.Mode.values:
        errors["mode"] = _("Choose how the service was given.")
    program = cleaned.get("program", session.program if session else None)
    if program is None:
        errors["program"] = _("Choose the program this service belongs to.")
    elif isinstance(program, Program):
        if program.agency_id != agency.pk:
            errors["program"] = _("Choose one of your agency's programs.")
        elif "program" in cleaned and not _may_use_program(agency, actor, program):
            errors["program"] = _("You can record services only for the programs you belong to.")
    staff = cleaned.get("staff")
    if isinstance(staff, Membership) and staff.agency_id != agency.pk:
        errors["staff"] = _("Choose a staff member of your agency.")
    date = cleaned.get("date")
    if date is not None and not isinstance(date, datetime.date):
        errors["date"] = _("Enter a valid date.")
    duration = cleaned.get("duration_minutes")
    if duration is not None and not (0 < int(duration) <= 24 * 60):
        errors["duration_minutes"] = _("Enter a duration between 1 minute and 24 hours.")
    anonymous = cleaned.get("anonymous_attendees")
    if anonymous and session_type not in GROUP_TYPES:
        errors["anonymous_attendees"] = _("Only a group session has anonymous attendees.")
    funders = data.get("funders")
    if funders is not None and any(f.agency_id != agency.pk for f in funders):
        errors["funders"] = _("Choose your agency's funders.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _may_use_program(agency: Agency, actor, program: Program) -> bool:
    membership = membership_of(agency, actor)
    if membership is None:  # the system (imports, demo data)
        return True
    return sees_all_programs(membership) or program.pk in program_ids(membership)


@transaction.atomic
def create_session(agency: Agency, actor, data: dict[str, Any], *, client: Client | None = None) -> Session:
    """Record a session. ``data``: session_type, program, date, start_time, duration_minutes, mode,
    location, staff, title, anonymous_attendees, funders. A direct session needs ``client``; a group
    session has none (its attendees are added with ``add_attendees``)."""
    cleaned = _clean(agency, actor, data, session=None)
    if cleaned["session_type"] in GROUP_TYPES:
        if client is not None:
            raise ValidationError({"client": _("A group session has attendees, not one client.")})
    else:
        if client is None:
            raise ValidationError({"client": _("A one-on-one session is about one client.")})
        if client.agency_id != agency.pk:
            raise ValidationError({"client": _("Choose one of your agency's clients.")})
        _check_client(client)
    membership = membership_of(agency, actor)
    session = Session(agency=agency, client=client, created_by=membership, **cleaned)
    if session.staff is None:
        session.staff = membership
    session.save()
    if data.get("funders"):
        session.funders.set(data["funders"])
    elif session.program.funders.exists():
        session.funders.set(session.program.funders.all())
    record_create(agency=agency, actor=actor, obj=session, client_id=client.pk if client else None)
    return session


@transaction.atomic
def update_session(session: Session, actor, data: dict[str, Any]) -> Session:
    """Change a session's details; a new program moves its service records with it."""
    session = Session.objects.for_agency(session.agency).select_for_update(of=("self",)).get(pk=session.pk)
    if session.deleted_at is not None:
        raise ValidationError({"session": _("This session was deleted.")})
    if session.client_id:
        _check_client(session.client)
    cleaned = _clean(session.agency, actor, data, session=session)
    before = snapshot(session, [*SESSION_FIELDS, "funders"])
    for name, value in cleaned.items():
        setattr(session, name, value)
    session.updated_at = timezone.now()
    session.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    session.save()
    if "funders" in data:
        session.funders.set(data["funders"] or [])
    if "program" in cleaned:
        ServiceRecord.objects.for_agency(session.agency).filter(session=session).update(program=session.program)
    record_change(agency=session.agency, actor=actor, obj=session, before=before, client_id=session.client_id)
    return session


@transaction.atomic
def delete_session(session: Session, actor) -> None:
    """Soft-delete a session and the service records in it (kept for the audit trail)."""
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    for row in ServiceRecord.objects.for_agency(session.agency).filter(session=session, deleted_at__isnull=True):
        row.deleted_at, row.deleted_by = now, user
        row.save(update_fields=["deleted_at", "deleted_by"])
        record_delete(agency=session.agency, actor=actor, obj=row, client_id=row.client_id)
    session.deleted_at, session.deleted_by = now, user
    session.save(update_fields=["deleted_at", "deleted_by"])
    record_delete(agency=session.agency, actor=actor, obj=session, client_id=session.client_id)


@transaction.atomic
def add_attendees(
    session: Session, actor, clients: Iterable[Client], *, joined_on: datetime.date | None = None
) -> list[Attendee]:
    """Add named clients to a group session (already there: left as they are). Returns the new attendees."""
    if not session.is_group:
        raise ValidationError({"client": _("Only a group session has attendees.")})
    clients = list(clients)
    for client in clients:
        if client.agency_id != session.agency_id:
            raise ValidationError({"client": _("Choose one of your agency's clients.")})
        _check_client(client)
    present = set(Attendee.objects.for_agency(session.agency).filter(session=session).values_list("client_id", flat=True))
    membership = membership_of(session.agency, actor)
    added = []
    for client in clients:
        if client.pk in present:
            continue
        present.add(client.pk)
        attendee = Attendee.objects.create(
            agency=session.agency,
            session=session,
            client=client,
            joined_on=joined_on or session.date,
            added_by=membership,
        )
        record_create(agency=session.agency, actor=actor, obj=attendee, client_id=client.pk)
        added.append(attendee)
    return added


@transaction.atomic
def remove_attendee(attendee: Attendee, actor) -> None:
    """Take a named attendee off a group session; refused once service forms were recorded for them."""
    has_records = ServiceRecord.objects.for_agency(attendee.agency).filter(
        session_id=attendee.session_id, client_id=attendee.client_id, deleted_at__isnull=True
    )
    if has_records.exists():
        raise ValidationError(
            {"client": _("Forms were recorded for this attendee in this session: delete them first, or record that they left.")}
        )
    record_delete(agency=attendee.agency, actor=actor, obj=attendee, client_id=attendee.client_id)
    attendee.delete()


@transaction.atomic
def record_support(session: Session, actor, clients: Iterable[Client], data: dict[str, Any]) -> list:
    """The same supportive service (casework) given to several attendees of a group session: all or none."""
    from caseload.casework.services import record_service

    recorded = []
    for client in clients:
        client.agency = session.agency
        recorded.append(record_service(client, actor, {**data, "session": session}))
    return recorded


@transaction.atomic
def set_funders(session: Session, actor, funders: Iterable[Funder]) -> None:
    update_session(session, actor, {"funders": list(funders)})
