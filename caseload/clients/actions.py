"""Registering and changing clients. One transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext_lazy as _

from caseload.audit.actions import record_change, record_create, snapshot
from caseload.clients.matching import normalise_phone, search_fields
from caseload.clients.models import Client
from caseload.tenancy.models import Agency


def next_client_number(agency: Agency) -> int:
    # Serialised by the transaction (IMMEDIATE on SQLite, the unique constraint on PostgreSQL).
    current = Client.objects.for_agency(agency).aggregate(n=Max("client_number"))["n"] or 0
    return current + 1


def refresh_search_fields(client: Client) -> None:
    """Set the folded search columns from the client's names and email; the caller saves.

    Every write that changes a name or the email (register, update, merge, import, bulk seeding) calls this.
    """
    for name, value in search_fields(client.given_name, client.family_name, client.preferred_name, client.email).items():
        setattr(client, name, value)


def clean_phone(raw: str) -> str:
    """E.164 form of a phone typed in any format; blank stays blank; raises ValidationError naming the field."""
    if not raw or not raw.strip():
        return ""
    normalised = normalise_phone(raw)
    if normalised is None:
        raise ValidationError({"phone": _("Enter a valid phone number.")})
    return normalised


@transaction.atomic
def register_client(*, agency: Agency, actor, data: dict[str, Any]) -> Client:
    client = Client(agency=agency, created_by=actor if getattr(actor, "is_authenticated", False) else None, **data)
    client.phone = clean_phone(client.phone)
    refresh_search_fields(client)
    client.client_number = next_client_number(agency)
    client.full_clean(exclude=["client_number"])
    client.save()
    record_create(agency=agency, actor=actor, obj=client, client_id=client.pk)
    return client


# What update_client may change; the rest (number, status, search columns) is the actions' own.
EDITABLE_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    "preferred_language",
    "is_anonymous",
)


@transaction.atomic
def update_client(client: Client, actor, data: dict[str, Any]) -> Client:
    """Change the client's details (any of EDITABLE_FIELDS); the audit event lists the fields that changed."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"update_client cannot change {sorted(unknown)}")
    before = snapshot(client, EDITABLE_FIELDS)
    for name, value in data.items():
        setattr(client, name, value)
    client.phone = clean_phone(client.phone)
    refresh_search_fields(client)
    client.full_clean(exclude=["client_number"])
    client.save()
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return client


@transaction.atomic
def _set_status(client: Client, actor, status: str) -> Client:
    before = snapshot(client, ["status"])
    client.status = status
    client.save(update_fields=["status"])
    record_change(agency=client.agency, actor=actor, obj=client, before=before, client_id=client.pk)
    return client


def archive_client(client: Client, actor) -> Client:
    """Take the client off the active lists; nothing is deleted. Archiving an archived client changes nothing."""
    return _set_status(client, actor, Client.Status.ARCHIVED)


def unarchive_client(client: Client, actor) -> Client:
    """Bring an archived client back to the active lists."""
    return _set_status(client, actor, Client.Status.ACTIVE)
