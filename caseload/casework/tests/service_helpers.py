"""Test helpers of the supportive services tests: rows made through the actions, in the agency's scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from caseload.casework import services
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.clients.actions import register_client
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder

START, END = date(2026, 1, 1), date(2026, 12, 31)


def a_client(agency: Agency, given_name: str = "Amina", family_name: str = "Haddad"):
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": given_name, "family_name": family_name})


def service_type(agency: Agency, name: str = "Transportation") -> SupportServiceType:
    with agency_scope(agency):
        return SupportServiceType.objects.for_agency(agency).get(name=name)


def turn_on_grants(agency: Agency) -> Agency:
    agency.grants_management = True
    agency.save(update_fields=["grants_management"])
    return agency


def make_grant(agency: Agency, name: str = "Bus fund", budget: str = "1000.00", **data) -> Grant:
    with agency_scope(agency):
        from caseload.tenancy.models import Funder

        funder = Funder.objects.for_agency(agency).filter(name="United Way").first()
    funder = funder or make_funder(agency, "United Way")
    with agency_scope(agency):
        return services.create_grant(
            agency, None, {"name": name, "funder": funder, "budget": Decimal(budget), "starts_on": START, "ends_on": END, **data}
        )


def record(agency: Agency, client, actor=None, *, type_name: str = "Transportation", **data) -> SupportiveService:
    values = {"service_type": service_type(agency, type_name), "date": date(2026, 3, 2), **data}
    if isinstance(values.get("amount"), str):
        values["amount"] = Decimal(values["amount"])
    with agency_scope(agency):
        return services.record_service(client, actor, values)


def fresh(agency: Agency, row):
    with agency_scope(agency):
        return type(row).objects.for_agency(agency).get(pk=row.pk)
