"""What the communication tests share: clients with and without a portal account, and shortcuts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from caseload.casework import communications
from caseload.casework.models import Communication
from caseload.clients import actions as client_actions
from caseload.clients.models import Client
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import agency_scope


def register(agency, **data) -> Client:
    data.setdefault("given_name", "Amina")
    data.setdefault("family_name", "Haddad")
    with agency_scope(agency):
        return client_actions.register_client(agency=agency, actor=None, data=data)


def invite(client: Client) -> Client:
    with agency_scope(client.agency):
        client_actions.invite_to_portal(client, None)
    client.refresh_from_db()
    return client


def log_in_once(client: Client) -> Client:
    user = client.portal_user
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return client


def portal_client(agency, email: str = "amina@example.org", **data) -> Client:
    """A client who accepted their portal invitation and logged in (reminders allowed)."""
    data.setdefault("consent_email", True)
    return log_in_once(invite(register(agency, email=email, **data)))


def today(agency) -> date:
    return communications.agency_today(agency)


def days(agency, n: int) -> date:
    return today(agency) + timedelta(days=n)


def in_scope(agency, function, *args: Any, **kwargs: Any) -> Any:
    with agency_scope(agency):
        return function(*args, **kwargs)


def record(client: Client, actor=None, **data) -> Communication:
    data.setdefault("kind", "phone")
    data.setdefault("subject", "Called about the workshop")
    data.setdefault("date", today(client.agency))
    return in_scope(client.agency, communications.record_communication, client, actor, data)


def remind(client: Client, actor=None, **data) -> Communication:
    data.setdefault("subject", "Workshop tomorrow")
    data.setdefault("body", "Bring your resume to the job search workshop at 10:00.")
    return record(client, actor, kind="reminder", **data)


def fresh(communication: Communication) -> Communication:
    with agency_scope(communication.agency):
        return Communication.objects.for_agency(communication.agency).select_related("message").get(pk=communication.pk)


def messages_to(client: Client, **filters) -> list[OutboundMessage]:
    with agency_scope(client.agency):
        return list(OutboundMessage.objects.for_agency(client.agency).filter(client=client, **filters).order_by("pk"))
