"""What the task tests share: clients (with and without a portal account), staff, and a task maker.

The fixtures (``amina``, ``amina_portal``, ``colleague``) are imported into each test module as
``FIXTURES`` names (``from ...task_helpers import amina_fixture  # noqa: F401``).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from caseload.casework import tasks as actions
from caseload.casework.models import Task
from caseload.clients import actions as client_actions
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

TODAY = date(2026, 3, 10)


def member_of(agency, user) -> Membership:
    return Membership.objects.for_agency(agency).get(user=user)


def register(agency, **data):
    with agency_scope(agency):
        return client_actions.register_client(agency=agency, actor=None, data=data)


def with_portal(client, *, consent_email: bool = True):
    """The client with a portal account (invited; what a client task needs)."""
    with agency_scope(client.agency):
        client_actions.invite_to_portal(client, None)
    client.refresh_from_db()
    if consent_email != client.consent_email:
        client.consent_email = consent_email
        client.save(update_fields=["consent_email"])
    return client


def make_task(agency, actor, client=None, **data) -> Task:
    data.setdefault("title", "Call the employer")
    with agency_scope(agency):
        return actions.create_task(agency, actor, data, client=client)


def fresh(task: Task) -> Task:
    return Task.objects.for_agency(task.agency).get(pk=task.pk)


def days(agency, n: int) -> date:
    """``n`` days from today in the agency's time zone (what My Tasks calls today)."""
    return actions.agency_today(agency) + timedelta(days=n)


@pytest.fixture(name="amina")
def amina_fixture(agency):
    return register(agency, given_name="Amina", family_name="Haddad", email="amina@example.org", preferred_language="fr")


@pytest.fixture(name="amina_portal")
def amina_portal_fixture(amina):
    return with_portal(amina)


@pytest.fixture(name="colleague")
def colleague_fixture(agency) -> Membership:
    return make_member(agency, "Caseworker", email="colleague@example.org")
