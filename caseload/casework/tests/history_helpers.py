"""Rows for the history and dashboard tests, made inside the agency's scope.

The history reads the models, whoever writes them; these helpers write rows as the topic actions
leave them (author, program, dates), with the dates the tests need.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from caseload.casework.models import CaseNote, Communication, ServiceReferral, SupportiveService, SupportServiceType, Task
from caseload.clients.actions import register_client
from caseload.clients.models import Assignment, Enrolment, Referral, SafetyFlag
from caseload.tenancy import actions as tenancy_actions
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope

TORONTO = zoneinfo.ZoneInfo("America/Toronto")


def at(day: dt.date, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware datetime on ``day`` in the agency's time zone (the test agencies' default)."""
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=TORONTO)


def a_client(agency, given="Amina", family="Haddad"):
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": given, "family_name": family})


def a_program(agency, name="Employment Services"):
    with agency_scope(agency):
        return tenancy_actions.create_object(Program, agency=agency, actor=None, data={"name": name})


def note(
    client, author, day, *, body="Talked about the resume.", is_private=False, status="final", program=None, created=None, **extra
):
    with agency_scope(client.agency):
        return CaseNote.objects.create(
            agency=client.agency,
            client=client,
            author=author,
            contact_date=day,
            body=body,
            is_private=is_private,
            status=status,
            program=program,
            created_at=created or at(day),
            **extra,
        )


def communication(client, author, day, *, kind="phone", subject="Called about the job fair", program=None, created=None, **extra):
    with agency_scope(client.agency):
        return Communication.objects.create(
            agency=client.agency,
            client=client,
            author=author,
            kind=kind,
            date=day,
            subject=subject,
            program=program,
            created_at=created or at(day),
            **extra,
        )


def task(
    agency, creator, *, client=None, title="Call back about the interview", created=None, due_on=None, assigned_to=None, **extra
):
    with agency_scope(agency):
        return Task.objects.create(
            agency=agency,
            client=client,
            title=title,
            created_by=creator,
            assigned_to=assigned_to or creator,
            due_on=due_on,
            created_at=created or at(dt.date(2025, 3, 3)),
            **extra,
        )


def service_type(agency, name="Transportation"):
    with agency_scope(agency):
        return SupportServiceType.objects.get_or_create(agency=agency, name=name)[0]


def service(client, author, day, *, amount="42.50", vendor="City Transit", program=None, created=None):
    with agency_scope(client.agency):
        return SupportiveService.objects.create(
            agency=client.agency,
            client=client,
            author=author,
            service_type=service_type(client.agency),
            date=day,
            amount=Decimal(amount),
            vendor=vendor,
            program=program,
            created_at=created or at(day),
        )


def service_referral(client, author, day, *, to_program, status="sent", created=None, **extra):
    with agency_scope(client.agency):
        return ServiceReferral.objects.create(
            agency=client.agency,
            client=client,
            author=author,
            kind="internal",
            to_program=to_program,
            referred_on=day,
            reason="Needs help with the language test.",
            status=status,
            created_at=created or at(day),
            **extra,
        )


def agency_referral(client, user, when):
    with agency_scope(client.agency):
        return Referral.objects.create(
            agency=client.agency,
            client=client,
            kind="external",
            organisation="Food Bank North",
            service="Emergency food",
            reason="Short of food this month.",
            client_consent=True,
            status="recorded",
            created_by=user,
            created_at=when,
        )


def enrolment(client, program, start, *, end=None, user=None):
    with agency_scope(client.agency):
        return Enrolment.objects.create(
            agency=client.agency, client=client, program=program, start_date=start, end_date=end, created_by=user
        )


def assignment(client, staff, when, *, by=None):
    with agency_scope(client.agency):
        return Assignment.objects.create(agency=client.agency, client=client, staff=staff, assigned_at=when, assigned_by=by)


def safety_flag(client, user, raised, *, removed=None, reason="Aggressive dog at the home."):
    with agency_scope(client.agency):
        return SafetyFlag.objects.create(
            agency=client.agency,
            client=client,
            reason=reason,
            raised_by=user,
            raised_at=raised,
            removed_at=removed,
            removed_by=user if removed else None,
        )
