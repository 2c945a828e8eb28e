"""The API of supportive services, service types and grants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.casework import services
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.tests.service_helpers import a_client, fresh, make_grant, record, service_type, turn_on_grants
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder

pytestmark = pytest.mark.django_db

SERVICES, TYPES, GRANTS = "/api/v1/supportive-services/", "/api/v1/service-types/", "/api/v1/grants/"


@pytest.fixture
def amina(agency):
    return a_client(agency)


@pytest.fixture
def grant(agency):
    turn_on_grants(agency)
    return make_grant(agency, budget="500.00")


def payload(agency, client, **data):
    return {
        "client": client.pk,
        "service_type": service_type(agency).pk,
        "date": "2026-03-02",
        "amount": "45.50",
        "vendor": "TTC",
        **data,
    }


def count(agency, model=SupportiveService):
    with agency_scope(agency):
        return model.objects.for_agency(agency).count()


# --- Supportive services ------------------------------------------------------------------------


def test_a_caseworker_records_reads_changes_and_deletes_a_service(api, agency, caseworker, amina):
    client = api.as_user(caseworker)
    response = client.post(SERVICES, payload(agency, amina, justification="Bus to interviews"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["vendor"], body["client"], body["grant"]) == ("45.50", "TTC", amina.pk, None)
    assert "approve_overspend" not in body
    pk = body["id"]
    assert client.get(f"{SERVICES}{pk}/").json()["justification"] == "Bus to interviews"
    assert client.patch(f"{SERVICES}{pk}/", {"amount": "50.00"}, format="json").json()["amount"] == "50.00"
    assert client.delete(f"{SERVICES}{pk}/").status_code == 204
    assert client.get(f"{SERVICES}{pk}/").status_code == 404
    with agency_scope(agency):
        assert SupportiveService.objects.for_agency(agency).get(pk=pk).deleted_at is not None


def test_the_list_filters_by_client_date_range_grant_and_service_type(api, agency, caseworker, amina, grant):
    bo = a_client(agency, "Bo")
    on_grant = record(agency, amina, caseworker, amount="10.00", grant=grant)
    childcare = record(agency, amina, caseworker, type_name="Childcare", date=date(2026, 5, 1))
    for_bo = record(agency, bo, caseworker, amount="3.00")
    client = api.as_user(caseworker)

    def ids(**params):
        return {row["id"] for row in client.get(SERVICES, params).json()["results"]}

    assert ids() == {on_grant.pk, childcare.pk, for_bo.pk}
    assert ids(client=amina.pk) == {on_grant.pk, childcare.pk}
    assert ids(grant=grant.pk) == {on_grant.pk}
    assert ids(service_type=service_type(agency, "Childcare").pk) == {childcare.pk}
    assert ids(date_from="2026-04-01") == {childcare.pk}
    assert ids(date_to="2026-04-01") == {on_grant.pk, for_bo.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"client": "x"}, "client"),
        ({"date_from": "soon"}, "date_from"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "date_to"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, agency, caseworker, params, field):
    response = api.as_user(caseworker).get(SERVICES, params)
    assert response.status_code == 400 and field in errors_of(response)


def test_an_overspend_is_a_400_naming_amount_unless_a_manager_approves(api, agency, caseworker, manager, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    data = payload(agency, amina, grant=grant.pk, amount="60.00")
    response = api.as_user(caseworker).post(SERVICES, {**data, "approve_overspend": True}, format="json")
    assert response.status_code == 400 and errors_of(response) == {"amount": ["overspend"]}
    assert "$50.00" in response.json()["errors"][0]["detail"]
    response = api.as_user(manager).post(SERVICES, {**data, "approve_overspend": True}, format="json")
    assert response.status_code == 201 and response.json()["overspend_approved_by"] == manager.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"date": "2027-06-01"}, "date"),
        ({"service_type": 999999}, "service_type"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, agency, caseworker, amina, grant, data, field):
    response = api.as_user(caseworker).post(SERVICES, payload(agency, amina, grant=grant.pk, **data), format="json")
    assert response.status_code == 400 and field in errors_of(response)
    assert count(agency) == 0


def test_another_agencys_grant_client_or_type_is_a_400_naming_the_field(api, agency, other_agency, caseworker, amina, grant):
    turn_on_grants(other_agency)
    theirs = make_grant(other_agency, "Their fund")
    client = api.as_user(caseworker)
    assert errors_of(client.post(SERVICES, payload(agency, amina, grant=theirs.pk), format="json")) == {
        "grant": ["does_not_exist"]
    }
    assert "client" in errors_of(client.post(SERVICES, payload(agency, a_client(other_agency)), format="json"))
    assert "service_type" in errors_of(
        client.post(SERVICES, payload(agency, amina, service_type=service_type(other_agency).pk), format="json")
    )
    assert count(agency) == 0


def test_a_service_cannot_move_to_another_client(api, agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="5.00")
    response = api.as_user(caseworker).patch(f"{SERVICES}{service.pk}/", {"client": a_client(agency, "Bo").pk}, format="json")
    assert response.status_code == 400 and "client" in errors_of(response)


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_agencys_service_is_a_404(api, other_agency, outsider, agency, amina, method):
    service = record(agency, amina, None, amount="5.00")
    response = getattr(api.as_user(outsider), method)(f"{SERVICES}{service.pk}/", {"amount": "1.00"}, format="json")
    assert response.status_code == 404
    assert fresh(agency, service).amount == Decimal("5.00") and fresh(agency, service).deleted_at is None


def test_reading_needs_casework_view_and_writing_casework_change(api, agency, auditor, amina):
    from caseload.testing.factories import make_member

    desk = make_member(agency, "Front desk").user
    service = record(agency, amina, None, amount="5.00")
    assert api.as_user(desk).get(SERVICES).status_code == 403
    reader = api.as_user(auditor)
    assert reader.get(SERVICES).status_code == 200
    assert reader.post(SERVICES, payload(agency, amina), format="json").status_code == 403
    assert reader.delete(f"{SERVICES}{service.pk}/").status_code == 403
    assert count(agency) == 1


def test_the_list_never_shows_another_agencys_services(api, agency, other_agency, caseworker, amina):
    record(agency, amina, caseworker, amount="5.00")
    record(other_agency, a_client(other_agency), None, amount="9.00")
    rows = api.as_user(caseworker).get(SERVICES).json()["results"]
    assert [row["amount"] for row in rows] == ["5.00"]


# --- Service types ------------------------------------------------------------------------------


def test_anyone_with_casework_view_reads_the_service_types(api, agency, caseworker):
    rows = api.as_user(caseworker).get(TYPES, {"page_size": 50}).json()["results"]
    assert {row["name"] for row in rows} == set(services.DEFAULT_SERVICE_TYPES)


def test_writing_service_types_needs_casework_configure(api, agency, caseworker, manager, amina):
    assert api.as_user(caseworker).post(TYPES, {"name": "Bikes"}, format="json").status_code == 403
    manage = api.as_user(manager)
    response = manage.post(TYPES, {"name": "Bikes"}, format="json")
    assert response.status_code == 201
    pk = response.json()["id"]
    assert errors_of(manage.post(TYPES, {"name": "bikes"}, format="json")) == {"name": ["unique"]}
    assert manage.patch(f"{TYPES}{pk}/", {"name": "Bicycles"}, format="json").json()["name"] == "Bicycles"
    # Unused: deleted. In use: deactivated instead, and the answer says so.
    assert manage.delete(f"{TYPES}{pk}/").status_code == 204
    record(agency, amina, None, type_name="Food")
    food = service_type(agency, "Food")
    response = manage.delete(f"{TYPES}{food.pk}/")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert count(agency, SupportServiceType) == 10


def test_another_agencys_service_type_is_a_404(api, other_agency, outsider, agency):
    theirs = service_type(agency, "Food")
    assert api.as_user(outsider).delete(f"{TYPES}{theirs.pk}/").status_code == 404
    assert fresh(agency, theirs).is_active


# --- Grants -------------------------------------------------------------------------------------


def test_grants_show_spent_and_remaining(api, agency, caseworker, manager, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    record(agency, amina, manager, amount="75.25", grant=grant, approve_overspend=True)
    client = api.as_user(caseworker)
    [row] = client.get(GRANTS).json()["results"]
    assert (row["budget"], row["spent"], row["remaining"]) == ("500.00", "525.25", "-25.25")
    assert client.get(f"{GRANTS}{grant.pk}/").json()["spent"] == "525.25"


def test_writing_grants_needs_casework_configure(api, agency, caseworker, manager):
    funder = make_funder(agency, "IRCC")
    data = {"name": "Tools fund", "funder": funder.pk, "budget": "800.00", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    assert api.as_user(caseworker).post(GRANTS, data, format="json").status_code == 403
    response = api.as_user(manager).post(GRANTS, data, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["spent"], response.json()["remaining"]) == ("0.00", "800.00")
    pk = response.json()["id"]
    assert api.as_user(manager).patch(f"{GRANTS}{pk}/", {"budget": "900.00"}, format="json").json()["remaining"] == "900.00"
    assert api.as_user(manager).delete(f"{GRANTS}{pk}/").status_code == 405


@pytest.mark.parametrize(
    ("data", "field"),
    [({"ends_on": "2025-01-01"}, "ends_on"), ({"budget": "-5"}, "budget"), ({"name": "bus fund"}, "name")],
)
def test_a_bad_grant_is_a_400_naming_the_field(api, agency, manager, grant, data, field):
    funder = make_funder(agency, "IRCC")
    base = {"name": "Tools fund", "funder": funder.pk, "budget": "800.00", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    response = api.as_user(manager).post(GRANTS, {**base, **data}, format="json")
    assert response.status_code == 400 and field in errors_of(response)
    assert count(agency, Grant) == 1


def test_a_budget_below_what_is_spent_is_a_400(api, agency, caseworker, manager, amina, grant):
    record(agency, amina, caseworker, amount="300.00", grant=grant)
    response = api.as_user(manager).patch(f"{GRANTS}{grant.pk}/", {"budget": "100.00"}, format="json")
    assert response.status_code == 400 and "budget" in errors_of(response)


def test_another_agencys_grant_is_a_404_and_its_funder_does_not_exist(api, agency, other_agency, manager, outsider, grant):
    assert api.as_user(outsider).get(f"{GRANTS}{grant.pk}/").status_code == 404
    theirs = make_funder(other_agency, "Theirs")
    data = {"name": "Fund", "funder": theirs.pk, "budget": "1.00", "starts_on": "2026-01-01", "ends_on": "2026-12-31"}
    assert errors_of(api.as_user(manager).post(GRANTS, data, format="json")) == {"funder": ["does_not_exist"]}
