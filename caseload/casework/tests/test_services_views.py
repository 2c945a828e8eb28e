"""The Supportive services tab and forms, the service types page and the grant pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from caseload.casework import services
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.tests.service_helpers import a_client, fresh, make_grant, record, service_type, turn_on_grants
from caseload.clients.models import Client
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder, make_role
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency):
    return a_client(agency)


@pytest.fixture
def grant(agency):
    turn_on_grants(agency)
    return make_grant(agency, budget="500.00")


def front_desk(agency):
    return make_member(agency, "Front desk").user


def services_of(agency, client):
    with agency_scope(agency):
        return list(SupportiveService.objects.for_agency(agency).filter(client=client, deleted_at__isnull=True))


def form_data(agency, **data):
    return {
        "service_type": service_type(agency).pk,
        "date": "2026-03-02",
        "amount": "45.50",
        "vendor": "TTC",
        "justification": "Bus pass",
        **data,
    }


# --- The tab ------------------------------------------------------------------------------------


def test_the_tab_lists_the_services_with_amounts_and_the_total(as_user, agency, caseworker, amina):
    record(
        agency,
        amina,
        caseworker,
        amount="1234.50",
        vendor="Tool Depot",
        justification="Steel-toe boots",
        type_name="Tools and equipment",
    )
    record(agency, amina, caseworker, amount="20.00", vendor="TTC", date=date(2026, 3, 5))
    deleted = record(agency, amina, caseworker, amount="999.00")
    with agency_scope(agency):
        services.delete_service(deleted, caseworker)
    response = as_user(caseworker).get(reverse("casework:services", args=[amina.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Tools and equipment" in page and "Tool Depot" in page and "Steel-toe boots" in page
    assert "$1,234.50" in page and "$20.00" in page and "$1,254.50" in page
    assert "$999.00" not in page
    assert page.index("TTC") < page.index("Tool Depot")  # newest first
    assert reverse("casework:service_new", args=[amina.pk]) in page


def test_amounts_follow_the_language(client, agency, caseworker, amina):
    record(agency, amina, caseworker, amount="1234.50")
    client.force_login(caseworker)
    page = client.get(reverse("casework:services", args=[amina.pk]), headers={"accept-language": "fr"}).content.decode()
    assert "1\xa0234,50\xa0$" in page


def test_the_tab_shows_the_grant_column_only_with_grants_management(as_user, agency, caseworker, amina):
    url = reverse("casework:services", args=[amina.pk])
    record(agency, amina, caseworker, amount="5.00")
    assert ">Grant<" not in as_user(caseworker).get(url).content.decode()
    turn_on_grants(agency)
    assert ">Grant<" in as_user(caseworker).get(url).content.decode()


def test_reading_is_audited_and_needs_casework_view(as_user, agency, caseworker, amina):
    from caseload.audit.models import AuditEvent

    url = reverse("casework:services", args=[amina.pk])
    assert as_user(front_desk(agency)).get(url).status_code == 403
    as_user(caseworker).get(url)
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(action=AuditEvent.Action.VIEW, client_id=amina.pk, changes={"tab": "services"})
            .exists()
        )


def test_the_auditor_reads_but_cannot_record(as_user, agency, auditor, amina):
    response = as_user(auditor).get(reverse("casework:services", args=[amina.pk]))
    assert response.status_code == 200
    assert reverse("casework:service_new", args=[amina.pk]) not in response.content.decode()
    assert as_user(auditor).post(reverse("casework:service_new", args=[amina.pk]), form_data(agency)).status_code == 403
    assert services_of(agency, amina) == []


@pytest.mark.parametrize("name", ["services", "service_new"])
def test_another_agencys_client_is_a_404(as_user, agency, other_agency, outsider, name):
    theirs = a_client(other_agency)
    assert as_user(outsider).get(reverse(f"casework:{name}", args=[a_client(agency).pk])).status_code == 404
    assert as_user(outsider).get(reverse(f"casework:{name}", args=[theirs.pk])).status_code == 200


# --- Recording, changing, deleting through the pages --------------------------------------------


def test_a_caseworker_records_a_service(as_user, agency, caseworker, amina):
    url = reverse("casework:service_new", args=[amina.pk])
    page = as_user(caseworker).get(url).content.decode()
    assert 'name="grant"' not in page and 'name="approve_overspend"' not in page
    response = as_user(caseworker).post(url, form_data(agency))
    assert response.status_code == 302 and response["Location"] == reverse("casework:services", args=[amina.pk])
    [service] = services_of(agency, amina)
    assert (service.amount, service.vendor, service.date) == (Decimal("45.50"), "TTC", date(2026, 3, 2))


def test_a_french_amount_is_understood(client, agency, caseworker, amina):
    client.force_login(caseworker)
    client.post(
        reverse("casework:service_new", args=[amina.pk]), form_data(agency, amount="1 234,50"), headers={"accept-language": "fr"}
    )
    assert [s.amount for s in services_of(agency, amina)] == [Decimal("1234.50")]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-3"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"date": "yesterday"}, "date"),
        ({"service_type": "999999"}, "service_type"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(as_user, agency, caseworker, amina, data, field):
    response = as_user(caseworker).post(reverse("casework:service_new", args=[amina.pk]), form_data(agency, **data))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert services_of(agency, amina) == []


def test_another_agencys_service_type_is_an_invalid_choice(as_user, agency, other_agency, caseworker, amina):
    response = as_user(caseworker).post(
        reverse("casework:service_new", args=[amina.pk]), form_data(agency, service_type=service_type(other_agency).pk)
    )
    assert response.status_code == 400 and "service_type" in response.context["form"].errors


def test_with_grants_management_the_form_offers_the_active_grants(as_user, agency, caseworker, amina, grant):
    closed = make_grant(agency, "Closed fund", is_active=False)
    page = as_user(caseworker).get(reverse("casework:service_new", args=[amina.pk])).content.decode()
    assert 'name="grant"' in page and "Bus fund" in page and "$500.00 left" in page
    assert "Closed fund" not in page and closed.pk
    response = as_user(caseworker).post(reverse("casework:service_new", args=[amina.pk]), form_data(agency, grant=grant.pk))
    assert response.status_code == 302
    assert services_of(agency, amina)[0].grant == grant


def test_an_overspend_is_a_form_error_for_a_caseworker(as_user, agency, caseworker, amina, grant):
    response = as_user(caseworker).post(
        reverse("casework:service_new", args=[amina.pk]), form_data(agency, grant=grant.pk, amount="600.00")
    )
    assert response.status_code == 400
    [message] = response.context["form"].errors["amount"]
    assert "$500.00 left" in message and "manager" in message
    assert "approve_overspend" not in response.context["form"].fields


def test_a_manager_approves_an_overspend_in_the_form(as_user, agency, manager, amina, grant):
    url = reverse("casework:service_new", args=[amina.pk])
    assert 'name="approve_overspend"' in as_user(manager).get(url).content.decode()
    assert as_user(manager).post(url, form_data(agency, grant=grant.pk, amount="600.00")).status_code == 400
    assert (
        as_user(manager).post(url, form_data(agency, grant=grant.pk, amount="600.00", approve_overspend="on")).status_code == 302
    )
    assert services_of(agency, amina)[0].overspend_approved_by == manager
    page = as_user(manager).get(reverse("casework:services", args=[amina.pk])).content.decode()
    assert "overspend approved" in page


def test_a_date_outside_the_grant_is_a_form_error_on_the_date(as_user, agency, caseworker, amina, grant):
    response = as_user(caseworker).post(
        reverse("casework:service_new", args=[amina.pk]), form_data(agency, grant=grant.pk, date="2027-02-01")
    )
    assert response.status_code == 400 and "date" in response.context["form"].errors


def test_a_service_is_edited_and_deleted(as_user, agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="10.00")
    edit = reverse("casework:service_edit", args=[service.pk])
    page = as_user(caseworker).get(edit).content.decode()
    assert 'value="10.00"' in page
    assert as_user(caseworker).post(edit, form_data(agency, amount="12.00", vendor="Presto")).status_code == 302
    assert fresh(agency, service).vendor == "Presto"
    delete = reverse("casework:service_delete", args=[service.pk])
    assert "Delete this supportive service?" in as_user(caseworker).get(delete).content.decode()
    assert as_user(caseworker).post(delete).status_code == 302
    assert services_of(agency, amina) == []
    # Gone: its pages answer 404.
    assert as_user(caseworker).get(edit).status_code == 404


@pytest.mark.parametrize("name", ["service_edit", "service_delete"])
def test_a_services_pages_answer_404_across_agencies_and_403_without_the_permission(
    as_user, agency, outsider, auditor, amina, name
):
    service = record(agency, amina, None, amount="10.00")
    url = reverse(f"casework:{name}", args=[service.pk])
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, form_data(agency)).status_code == 404
    assert as_user(auditor).get(url).status_code == 403
    assert as_user(auditor).post(url, form_data(agency)).status_code == 403
    assert fresh(agency, service).deleted_at is None and fresh(agency, service).amount == Decimal("10.00")


def test_a_merged_profile_is_read_only(as_user, agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="10.00")
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=amina.pk).update(status=Client.Status.MERGED)
    page = as_user(caseworker).get(reverse("casework:services", args=[amina.pk])).content.decode()
    assert reverse("casework:service_edit", args=[service.pk]) not in page
    for url in (
        reverse("casework:service_new", args=[amina.pk]),
        reverse("casework:service_edit", args=[service.pk]),
        reverse("casework:service_delete", args=[service.pk]),
    ):
        response = as_user(caseworker).post(url, form_data(agency))
        assert response.status_code == 302 and response["Location"] == reverse("casework:services", args=[amina.pk])
    assert fresh(agency, service).deleted_at is None and len(services_of(agency, amina)) == 1


# --- Service types ------------------------------------------------------------------------------


def test_an_administrator_adds_renames_and_deactivates_service_types(as_user, agency, admin, caseworker, amina):
    url = reverse("casework:service_types")
    page = as_user(admin).get(url).content.decode()
    assert "Exam and certification fees" in page
    assert as_user(admin).post(url, {"name": "Bicycle repair"}).status_code == 302
    bikes = service_type(agency, "Bicycle repair")
    assert as_user(admin).post(url, {"name": "bicycle REPAIR"}).status_code == 400

    edit = reverse("casework:service_type_edit", args=[bikes.pk])
    assert as_user(admin).post(edit, {"name": "Bike repair", "is_active": "on"}).status_code == 302
    assert fresh(agency, bikes).name == "Bike repair"

    record(agency, amina, caseworker, type_name="Childcare")
    childcare = service_type(agency, "Childcare")
    delete = reverse("casework:service_type_delete", args=[childcare.pk])
    assert "deactivated instead of deleted" in as_user(admin).get(delete).content.decode()
    as_user(admin).post(delete)
    assert fresh(agency, childcare).is_active is False
    as_user(admin).post(reverse("casework:service_type_delete", args=[bikes.pk]))
    with agency_scope(agency):
        assert not SupportServiceType.objects.for_agency(agency).filter(pk=bikes.pk).exists()
    # A deactivated type is not offered for new services.
    form = as_user(caseworker).get(reverse("casework:service_new", args=[amina.pk])).context["form"]
    assert childcare not in form.fields["service_type"].queryset


@pytest.mark.parametrize("name", ["service_types", "grants", "grant_new"])
def test_the_settings_pages_need_casework_configure(as_user, agency, caseworker, name):
    turn_on_grants(agency)
    expected = 200 if name == "grants" else 403  # caseworkers read grants
    assert as_user(caseworker).get(reverse(f"casework:{name}")).status_code == expected
    assert as_user(front_desk(agency)).get(reverse(f"casework:{name}")).status_code == 403


@pytest.mark.parametrize("name", ["service_type_edit", "service_type_delete"])
def test_another_agencys_service_type_is_a_404(as_user, agency, other_agency, admin, caseworker, name):
    assert as_user(admin).get(reverse(f"casework:{name}", args=[service_type(other_agency).pk])).status_code == 404
    assert (
        as_user(admin).post(reverse(f"casework:{name}", args=[service_type(other_agency).pk]), {"name": "Mine"}).status_code
        == 404
    )
    assert as_user(caseworker).get(reverse(f"casework:{name}", args=[service_type(agency).pk])).status_code == 403
    assert service_type(other_agency).is_active


def test_the_administration_home_links_to_service_types_and_grants(as_user, agency, admin, manager):
    for user in (admin, manager):
        page = as_user(user).get(reverse("tenancy:home")).content.decode()
        assert reverse("casework:service_types") in page and reverse("casework:grants") in page


# --- Grants -------------------------------------------------------------------------------------


def test_grant_pages_say_grants_management_is_off(as_user, agency, admin, caseworker):
    grant = make_grant(agency)
    for name, args in (("grants", []), ("grant_new", []), ("grant_detail", [grant.pk]), ("grant_edit", [grant.pk])):
        page = as_user(admin).get(reverse(f"casework:{name}", args=args)).content.decode()
        assert "Grants management is off" in page and reverse("tenancy:agency_settings") in page
    page = as_user(caseworker).get(reverse("casework:grants")).content.decode()
    assert "Grants management is off" in page and reverse("tenancy:agency_settings") not in page
    assert as_user(admin).post(reverse("casework:grant_new"), {"name": "X"}).status_code == 200
    with agency_scope(agency):
        assert Grant.objects.for_agency(agency).count() == 1


def test_an_administrator_turns_grants_management_on_in_the_agency_settings(as_user, agency, admin):
    response = as_user(admin).get(reverse("tenancy:agency_settings"))
    assert 'name="grants_management"' in response.content.decode()
    data = {"name": agency.name, "time_zone": agency.time_zone, "languages": agency.languages, "grants_management": "on"}
    assert as_user(admin).post(reverse("tenancy:agency_settings"), data).status_code == 302
    assert Agency.objects.get(pk=agency.pk).grants_management is True


def test_an_administrator_creates_and_edits_a_grant(as_user, agency, admin):
    turn_on_grants(agency)
    funder = make_funder(agency, "IRCC")
    data = {
        "name": "Settlement supports",
        "funder": funder.pk,
        "budget": "2500",
        "starts_on": "2026-04-01",
        "ends_on": "2027-03-31",
        "is_active": "on",
    }
    response = as_user(admin).post(reverse("casework:grant_new"), data)
    assert response.status_code == 302
    with agency_scope(agency):
        grant = Grant.objects.for_agency(agency).get(name="Settlement supports")
    assert response["Location"] == reverse("casework:grant_detail", args=[grant.pk])
    assert grant.budget == Decimal("2500.00")
    response = as_user(admin).post(reverse("casework:grant_edit", args=[grant.pk]), {**data, "ends_on": "2026-03-01"})
    assert response.status_code == 400 and "ends_on" in response.context["form"].errors
    assert as_user(admin).post(reverse("casework:grant_edit", args=[grant.pk]), {**data, "budget": "3000"}).status_code == 302
    assert fresh(agency, grant).budget == Decimal("3000.00")


def test_the_grant_list_shows_spent_and_remaining(as_user, agency, caseworker, amina, grant):
    record(agency, amina, caseworker, amount="125.00", grant=grant)
    page = as_user(caseworker).get(reverse("casework:grants")).content.decode()
    assert "Bus fund" in page and "$500.00" in page and "$125.00" in page and "$375.00" in page
    assert reverse("casework:grant_new") not in page  # caseworkers read, managers configure


def test_the_grant_page_shows_the_budget_the_progress_and_the_services_drawn_on_it(
    as_user, agency, caseworker, manager, amina, grant
):
    record(agency, amina, caseworker, amount="125.00", grant=grant, vendor="TTC")
    record(agency, a_client(agency, "Bo", "Li"), manager, amount="400.00", grant=grant, approve_overspend=True)
    record(agency, amina, caseworker, amount="7.00")  # on no grant
    response = as_user(caseworker).get(reverse("casework:grant_detail", args=[grant.pk]))
    page = response.content.decode()
    assert "United Way" in page and "$500.00" in page and "$525.00" in page and "$25.00 over budget" in page
    assert '<progress class="grant-progress is-over" max="100" value="100"' in page
    assert "105% of the budget spent" in page
    assert reverse("clients:detail", args=[amina.pk]) in page and "Amina Haddad" in page and "Bo Li" in page
    assert "$7.00" not in page
    assert "overspend approved" in page


def test_the_grant_page_runs_a_constant_number_of_queries(as_user, agency, caseworker, grant, django_assert_max_num_queries):
    user = as_user(caseworker)
    url = reverse("casework:grant_detail", args=[grant.pk])
    record(agency, a_client(agency), caseworker, amount="1.00", grant=grant)
    user.get(url)
    with django_assert_max_num_queries(25) as few:
        user.get(url)
    for n in range(6):
        record(agency, a_client(agency, f"Client{n}"), caseworker, amount="1.00", grant=grant)
    with django_assert_max_num_queries(len(few.captured_queries)):
        user.get(url)


def test_without_clients_view_the_grant_page_shows_client_numbers_not_names(as_user, agency, amina, grant):
    role = make_role(agency, "Grant officer", ["casework.view"])
    officer = make_member(agency, "Caseworker")
    officer.role = role
    officer.save(update_fields=["role"])
    record(agency, amina, None, amount="10.00", grant=grant)
    page = as_user(officer.user).get(reverse("casework:grant_detail", args=[grant.pk])).content.decode()
    assert "Amina" not in page and f"Client {amina.client_number}" in page
    assert reverse("clients:detail", args=[amina.pk]) not in page


@pytest.mark.parametrize("name", ["grant_detail", "grant_edit"])
def test_another_agencys_grant_is_a_404_and_editing_needs_configure(as_user, agency, other_agency, admin, caseworker, name):
    turn_on_grants(other_agency)
    turn_on_grants(agency)
    theirs = make_grant(other_agency, "Their fund")
    assert as_user(admin).get(reverse(f"casework:{name}", args=[theirs.pk])).status_code == 404
    ours = make_grant(agency)
    expected = 200 if name == "grant_detail" else 403
    assert as_user(caseworker).get(reverse(f"casework:{name}", args=[ours.pk])).status_code == expected
