"""Registering and changing clients. One transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from caseload.audit.actions import record_create
from caseload.clients.models import Client
from caseload.tenancy.models import Agency


def next_client_number(agency: Agency) -> int:
    # Serialised by the transaction (IMMEDIATE on SQLite, the unique constraint on PostgreSQL).
    current = Client.objects.for_agency(agency).aggregate(n=Max("client_number"))["n"] or 0
    return current + 1


@transaction.atomic
def register_client(*, agency: Agency, actor, data: dict[str, Any]) -> Client:
    client = Client(agency=agency, created_by=actor if getattr(actor, "is_authenticated", False) else None, **data)
    client.client_number = next_client_number(agency)
    client.full_clean(exclude=["client_number"])
    client.save()
    record_create(agency=agency, actor=actor, obj=client, client_id=client.pk)
    return client
