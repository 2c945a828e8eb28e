"""What the batch, saved list and export tests share: many clients at once, and shortcuts in scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from caseload.clients.actions import insert_search_keys, next_client_number, refresh_search_fields, register_client
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership, Program
from caseload.tenancy.scoping import agency_scope

DAY = date(2026, 3, 2)


def a_client(agency: Agency, given_name: str = "Amina", family_name: str = "Haddad", **data: Any) -> Client:
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": given_name, "family_name": family_name, **data})


def many_clients(agency: Agency, count: int) -> list[Client]:
    """``count`` clients of ``agency`` written in bulk (as the demo seeding writes them)."""
    with agency_scope(agency):
        number = next_client_number(agency)
        clients = []
        for n in range(count):
            client = Client(agency=agency, client_number=number + n, given_name=f"Client{n:04d}", family_name="Batch")
            refresh_search_fields(client)
            clients.append(client)
        Client.objects.bulk_create(clients)
        insert_search_keys(clients)
        return list(Client.objects.for_agency(agency).filter(client_number__gte=number).order_by("client_number"))


def membership(agency: Agency, user) -> Membership:
    with agency_scope(agency):
        return Membership.objects.for_agency(agency).select_related("user").get(user=user)


def a_program(agency: Agency, name: str = "Youth Job Connection") -> Program:
    with agency_scope(agency):
        return Program.objects.create(agency=agency, name=name)


def merge(kept: Client, merged: Client) -> None:
    from caseload.clients.merging import merge_clients

    with agency_scope(kept.agency):
        merge_clients(kept, merged, None, reason="same person")


def in_scope(scope: Agency, function, *args: Any, **kwargs: Any) -> Any:
    with agency_scope(scope):
        return function(*args, **kwargs)


def count(agency: Agency, model, **lookup: Any) -> int:
    with agency_scope(agency):
        return model.objects.for_agency(agency).filter(**lookup).count()


def note_data(**data: Any) -> dict[str, Any]:
    return {
        "note_type": "general",
        "contact_date": DAY,
        "body": "Invited to the spring job fair.",
        "is_private": False,
        "status": "final",
        "program": None,
        **data,
    }
