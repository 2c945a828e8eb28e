"""Shared set-up of the Actions menu tests: every action, the state it applies to, and its effect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.models import Assignment, Client, Enrolment
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Agency
from caseload.tenancy.roles import SEEDED_ROLES
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program, membership_of
from caseload.testing.factories import make_member

ROLES = ["Administrator", "Manager", "Caseworker", "Front desk", "Read-only auditor"]


def holds(role: str, permission: str) -> bool:
    return permission in SEEDED_ROLES[role]


def fresh(client: Client) -> Client:
    with agency_scope(client.agency):
        return Client.objects.for_agency(client.agency).select_related("portal_user").get(pk=client.pk)


def events_of(client: Client, **filters) -> list[AuditEvent]:
    with agency_scope(client.agency):
        return list(AuditEvent.objects.for_agency(client.agency).filter(client_id=client.pk, **filters).order_by("pk"))


def outbox(agency: Agency, **filters) -> list[OutboundMessage]:
    with agency_scope(agency):
        return list(OutboundMessage.objects.for_agency(agency).filter(**filters).order_by("pk"))


def assignments(client: Client) -> list[tuple[str, bool]]:
    """(staff email, primary) of the client's assignments, oldest first."""
    with agency_scope(client.agency):
        rows = (
            Assignment.objects.for_agency(client.agency)
            .filter(client=client)
            .order_by("assigned_at", "pk")
            .select_related("staff__user")
        )
        return [(a.staff.user.email, a.is_primary) for a in rows]


def enrolments(client: Client) -> list[Enrolment]:
    with agency_scope(client.agency):
        return list(Enrolment.objects.for_agency(client.agency).filter(client=client).select_related("program").order_by("pk"))


def in_scope(client: Client, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with agency_scope(client.agency):
        return function(*args, **kwargs)


@dataclass
class Case:
    """One action of the menu: the state it applies to, the form it posts, and how to see it happened."""

    name: str
    permission: str
    prepare: Callable[[Client], dict[str, Any]] = field(default=lambda client: {})
    happened: Callable[[Client, Any], bool] = field(default=lambda client, user: False)
    email: str = "amina@example.org"


def _staff(client: Client) -> dict[str, Any]:
    return {"staff": make_member(client.agency, "Caseworker").pk}


def _assigned(client: Client) -> dict[str, Any]:
    membership = make_member(client.agency, "Caseworker")
    in_scope(client, actions.assign_staff, client, None, membership)
    return {"staff": membership.pk}


def _flagged(client: Client) -> dict[str, Any]:
    in_scope(client, actions.flag_client, client, None, "Threatened staff at the last visit.")
    return {"reason": "Resolved after the meeting with the manager."}


def _archived(client: Client) -> dict[str, Any]:
    in_scope(client, actions.archive_client, client, None)
    return {}


def _linked(client: Client) -> dict[str, Any]:
    in_scope(client, actions.link_cams, client, None, "12345678")
    return {}


def _invited(client: Client) -> dict[str, Any]:
    in_scope(client, actions.invite_to_portal, client, None)
    return {}


def _program(client: Client) -> dict[str, Any]:
    program = make_program(client.agency, "Job Search Workshop")
    return {"program": program.pk, "start_date": timezone.localdate().isoformat()}


def _enrolled(client: Client) -> dict[str, Any]:
    program = make_program(client.agency, "Job Search Workshop")
    enrolment = in_scope(client, actions.enrol_client, client, None, program)
    return {"enrolment": enrolment.pk, "end_date": timezone.localdate().isoformat()}


def _assigned_to(client: Client, user) -> bool:
    return (user.email, True) in assignments(client)


CASES = [
    Case("assign", "clients.assign", _staff, lambda c, user: len(assignments(c)) == 1),
    Case("assign_me", "clients.assign", happened=_assigned_to),
    Case("unassign", "clients.assign", _assigned, lambda c, user: assignments(c) == []),
    Case(
        "flag",
        "clients.flag",
        lambda c: {"reason": "Threatened staff at the last visit."},
        lambda c, user: fresh(c).has_safety_flag,
    ),
    Case("unflag", "clients.flag", _flagged, lambda c, user: not fresh(c).has_safety_flag),
    Case("archive", "clients.archive", happened=lambda c, user: fresh(c).status == Client.Status.ARCHIVED),
    Case("unarchive", "clients.archive", _archived, lambda c, user: fresh(c).status == Client.Status.ACTIVE),
    Case("cams_link", "clients.link", lambda c: {"cams_number": "1234567"}, lambda c, user: fresh(c).cams_number == "1234567"),
    Case("cams_unlink", "clients.link", _linked, lambda c, user: fresh(c).cams_number == ""),
    Case("portal_invite", "clients.portal", happened=lambda c, user: fresh(c).portal_user is not None),
    Case("portal_resend", "clients.portal", _invited, lambda c, user: len(outbox(c.agency, kind="portal_invitation")) == 2),
    Case("portal_reset", "clients.portal", _invited, lambda c, user: len(outbox(c.agency, kind="password_reset")) == 1),
    Case("enrol", "clients.change", _program, lambda c, user: len(enrolments(c)) == 1),
    Case("end_enrolment", "clients.change", _enrolled, lambda c, user: enrolments(c)[0].end_date is not None),
]

__all__ = ["CASES", "ROLES", "Case", "holds", "membership_of"]
