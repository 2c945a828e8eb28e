"""The supportive services actions: record, change, delete; grants, their spending and the overspend rule; service types."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import translation

from caseload.audit.actions import REDACTED
from caseload.audit.models import AuditEvent
from caseload.casework import services
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.tests.service_helpers import END, START, a_client, fresh, make_grant, record, service_type, turn_on_grants
from caseload.clients.models import Client
from caseload.tenancy.scoping import agency_scope, all_agencies
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_agency, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency):
    return a_client(agency)


@pytest.fixture
def grant(agency):
    turn_on_grants(agency)
    return make_grant(agency, budget="500.00")


def events_about(agency, row, action=None):
    with agency_scope(agency):
        events = AuditEvent.objects.for_agency(agency).filter(object_type=row._meta.label_lower, object_id=str(row.pk))
        if action:
            events = events.filter(action=action)
        return list(events)


def refusal(error: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return error.value.message_dict


# --- Recording, changing, deleting --------------------------------------------------------------


def test_it_records_a_service_by_the_actor_with_the_audit_event_and_the_justification_redacted(agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="45.50", vendor="TTC", justification="Cannot afford the bus to interviews")
    assert (service.amount, service.vendor, service.author.user) == (Decimal("45.50"), "TTC", caseworker)
    [event] = events_about(agency, service, AuditEvent.Action.CREATE)
    assert event.client_id == amina.pk and event.actor == caseworker
    assert event.changes["justification"] == [REDACTED, REDACTED]
    assert "Cannot afford" not in str(event.changes)
    assert event.changes["vendor"] == [None, "TTC"]


def test_the_date_defaults_to_the_agencys_today(agency, caseworker, amina):
    with agency_scope(agency):
        service = services.record_service(amina, caseworker, {"service_type": service_type(agency)})
    assert service.date == services.agency_today(agency)
    assert service.amount is None


def test_it_changes_a_service_and_audits_what_changed_without_the_text(agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="20.00", justification="First reason")
    with agency_scope(agency):
        services.update_service(
            service, caseworker, {"amount": Decimal("25.00"), "justification": "Second reason", "vendor": "Presto"}
        )
    service = fresh(agency, service)
    assert (service.amount, service.justification, service.updated_by) == (Decimal("25.00"), "Second reason", caseworker)
    [event] = events_about(agency, service, AuditEvent.Action.CHANGE)
    assert event.changes["amount"] == ["20.00", "25.00"]
    assert event.changes["justification"] == [REDACTED, REDACTED]
    assert "reason" not in str(event.changes)


def test_delete_is_soft_audited_and_gives_the_amount_back_to_the_grant(agency, caseworker, amina, grant):
    service = record(agency, amina, caseworker, amount="120.00", grant=grant, justification="Private matter")
    with agency_scope(agency):
        assert services.grant_totals(grant).spent == Decimal("120.00")
        services.delete_service(service, caseworker)
        assert services.grant_totals(fresh(agency, grant)).spent == Decimal("0.00")
        assert not services.services_of(amina, None).exists()
        assert SupportiveService.objects.for_agency(agency).filter(pk=service.pk, deleted_at__isnull=False).exists()
    [event] = events_about(agency, service, AuditEvent.Action.DELETE)
    assert event.client_id == amina.pk and "Private matter" not in str(event.changes)


def test_a_merged_profile_is_read_only(agency, caseworker, amina):
    service = record(agency, amina, caseworker, amount="10.00")
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=amina.pk).update(status=Client.Status.MERGED)
    amina.status = Client.Status.MERGED
    service.client = amina
    with pytest.raises(ValidationError):
        record(agency, amina, caseworker)
    with agency_scope(agency), pytest.raises(ValidationError):
        services.update_service(service, caseworker, {"amount": Decimal("1.00")})
    with agency_scope(agency), pytest.raises(ValidationError):
        services.delete_service(service, caseworker)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": Decimal("-5")}, "amount"),
        ({"amount": Decimal("123456789.00")}, "amount"),
        ({"vendor": "x" * 201}, "vendor"),
        ({"service_type": None}, "service_type"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(agency, caseworker, amina, data, field):
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, **data)
    assert field in refusal(refused)
    with agency_scope(agency):
        assert not SupportiveService.objects.for_agency(agency).exists()


def test_another_agencys_service_type_or_program_is_refused_naming_the_field(agency, other_agency, caseworker, amina):
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, service_type=service_type(other_agency))
    assert set(refusal(refused)) == {"service_type"}
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, program=make_program(other_agency, "Their program"))
    assert set(refusal(refused)) == {"program"}


# --- Grants: the rules a service drawn on one follows -------------------------------------------


def test_a_grant_of_another_agency_is_refused_naming_the_field(agency, other_agency, caseworker, amina, grant):
    turn_on_grants(other_agency)
    theirs = make_grant(other_agency, "Their fund")
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, amount="10.00", grant=theirs)
    assert set(refusal(refused)) == {"grant"}


def test_a_date_outside_the_grants_period_is_refused(agency, caseworker, amina, grant):
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, amount="10.00", grant=grant, date=date(2027, 1, 1))
    assert set(refusal(refused)) == {"date"}
    assert "must fall within" in refusal(refused)["date"][0]
    # The first and last days are inside.
    assert record(agency, amina, caseworker, amount="1.00", grant=grant, date=START).grant == grant
    assert record(agency, amina, caseworker, amount="1.00", grant=grant, date=END).grant == grant


def test_an_inactive_grant_is_refused_for_new_services(agency, caseworker, amina, grant):
    with agency_scope(agency):
        services.update_grant(grant, None, {"is_active": False})
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, amount="10.00", grant=grant)
    assert set(refusal(refused)) == {"grant"}


def test_a_grant_needs_grants_management(agency, caseworker, amina, grant):
    agency.grants_management = False
    agency.save(update_fields=["grants_management"])
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, amount="10.00", grant=grant)
    assert "turned off" in refusal(refused)["grant"][0]


def test_a_service_drawn_on_a_grant_needs_an_amount(agency, caseworker, amina, grant):
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, grant=grant)
    assert set(refusal(refused)) == {"amount"}


def test_spent_and_remaining_count_only_the_services_not_deleted(agency, caseworker, amina, grant):
    record(agency, amina, caseworker, amount="100.00", grant=grant)
    record(agency, a_client(agency, "Bo"), caseworker, amount="50.25", grant=grant)
    deleted = record(agency, amina, caseworker, amount="70.00", grant=grant)
    record(agency, amina, caseworker, amount="999.00")  # on no grant
    with agency_scope(agency):
        services.delete_service(deleted, caseworker)
        totals = services.grant_totals(fresh(agency, grant))
        assert (totals.budget, totals.spent, totals.remaining, totals.percent) == (
            Decimal("500.00"),
            Decimal("150.25"),
            Decimal("349.75"),
            30,
        )
        assert services.spent_by_grant(agency) == {grant.pk: Decimal("150.25")}
        assert services.grants_with_spending(agency).get(pk=grant.pk).spent == Decimal("150.25")


def test_spending_of_every_grant_is_one_query(agency, caseworker, amina, grant, django_assert_num_queries):
    second = make_grant(agency, "Childcare fund")
    record(agency, amina, caseworker, amount="10.00", grant=grant)
    record(agency, amina, caseworker, amount="20.00", grant=second)
    with agency_scope(agency), django_assert_num_queries(1):
        assert services.spent_by_grant(agency) == {grant.pk: Decimal("10.00"), second.pk: Decimal("20.00")}


def test_an_overspend_is_refused_for_a_caseworker_saying_what_remains(agency, caseworker, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, amount="60.00", grant=grant, approve_overspend=True)
    [message] = refusal(refused)["amount"]
    assert "$50.00" in message and "manager" in message
    assert refused.value.error_dict["amount"][0].code == "overspend"
    with agency_scope(agency):
        assert services.grant_totals(grant).spent == Decimal("450.00")


def test_spending_the_budget_exactly_is_not_an_overspend(agency, caseworker, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    service = record(agency, amina, caseworker, amount="50.00", grant=grant)
    assert service.overspend_approved_by is None


def test_a_manager_records_an_overspend_only_by_approving_it(agency, caseworker, manager, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, manager, amount="60.00", grant=grant)
    assert "approve the overspend" in refusal(refused)["amount"][0]
    service = record(agency, amina, manager, amount="60.00", grant=grant, approve_overspend=True)
    assert service.overspend_approved_by == manager
    with agency_scope(agency):
        totals = services.grant_totals(grant)
    assert (totals.spent, totals.remaining, totals.overspent, totals.percent) == (Decimal("510.00"), Decimal("-10.00"), True, 100)
    [event] = events_about(agency, service, AuditEvent.Action.CREATE)
    assert event.changes["overspend_approved_by"] == [None, manager.pk]


def test_editing_an_approved_overspend_keeps_the_approval_unless_the_amount_grows(agency, caseworker, manager, amina, grant):
    record(agency, amina, caseworker, amount="450.00", grant=grant)
    service = record(agency, amina, manager, amount="60.00", grant=grant, approve_overspend=True)
    with agency_scope(agency):
        services.update_service(service, caseworker, {"vendor": "Presto", "amount": Decimal("55.00")})
        assert fresh(agency, service).overspend_approved_by == manager
        with pytest.raises(ValidationError) as refused:
            services.update_service(service, caseworker, {"amount": Decimal("80.00")})
    assert set(refusal(refused)) == {"amount"}


def test_an_edit_counts_the_service_itself_once(agency, caseworker, amina, grant):
    service = record(agency, amina, caseworker, amount="500.00", grant=grant)
    with agency_scope(agency):
        services.update_service(service, caseworker, {"vendor": "Presto"})
        services.update_service(service, caseworker, {"amount": Decimal("400.00")})
        assert services.grant_totals(grant).spent == Decimal("400.00")


def test_the_grant_row_is_locked_before_its_spending_is_summed(agency, caseworker, amina, grant, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with agency_scope(agency), CaptureQueriesContext(connection) as queries:
        services.record_service(
            amina, caseworker, {"service_type": service_type(agency), "date": START, "amount": Decimal("5"), "grant": grant}
        )
    sql = [query["sql"] for query in queries.captured_queries]
    locking = [
        i
        for i, text in enumerate(sql)
        if '"casework_grant"' in text and (connection.vendor != "postgresql" or "FOR UPDATE" in text)
    ]
    summing = [i for i, text in enumerate(sql) if "SUM(" in text and '"casework_supportiveservice"' in text]
    assert locking and summing and locking[-1] < summing[0]


# --- Grants themselves --------------------------------------------------------------------------


def test_a_grant_is_created_and_changed_with_audit_events(agency, admin):
    grant = make_grant(agency, "Tools fund", "800.00")
    with agency_scope(agency):
        services.update_grant(grant, admin, {"budget": Decimal("900.00"), "notes": "Top-up in June"})
    assert fresh(agency, grant).budget == Decimal("900.00")
    [change] = events_about(agency, grant, AuditEvent.Action.CHANGE)
    assert change.changes["budget"] == ["800.00", "900.00"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"ends_on": date(2025, 12, 31)}, "ends_on"),
        ({"name": "bus FUND"}, "name"),
        ({"budget": Decimal("-1")}, "budget"),
    ],
)
def test_a_bad_grant_is_refused_naming_the_field(agency, data, field):
    make_grant(agency, "Bus fund")
    with pytest.raises(ValidationError) as refused:
        make_grant(agency, **{"name": "Other fund", **data})
    assert field in refusal(refused)


def test_a_funder_of_another_agency_is_refused(agency, other_agency):
    from caseload.tenancy.tests.helpers import make_funder

    theirs = make_funder(other_agency, "Their funder")
    with agency_scope(agency), pytest.raises(ValidationError) as refused:
        services.create_grant(
            agency, None, {"name": "Fund", "funder": theirs, "budget": Decimal("1"), "starts_on": START, "ends_on": END}
        )
    assert set(refusal(refused)) == {"funder"}


def test_a_grants_budget_and_period_cannot_leave_out_what_is_already_spent(agency, caseworker, amina, grant):
    record(agency, amina, caseworker, amount="300.00", grant=grant, date=date(2026, 6, 1))
    with agency_scope(agency):
        with pytest.raises(ValidationError) as refused:
            services.update_grant(grant, None, {"budget": Decimal("299.99")})
        assert "$300.00" in refusal(refused)["budget"][0]
        with pytest.raises(ValidationError) as refused:
            services.update_grant(grant, None, {"ends_on": date(2026, 5, 31)})
        assert set(refusal(refused)) == {"ends_on"}
        with pytest.raises(ValidationError) as refused:
            services.update_grant(grant, None, {"starts_on": date(2026, 6, 2), "ends_on": END})
        assert set(refusal(refused)) == {"starts_on"}
        services.update_grant(grant, None, {"budget": Decimal("300.00")})
    assert fresh(agency, grant).budget == Decimal("300.00")


# --- Service types ------------------------------------------------------------------------------


def test_a_new_agency_starts_with_the_default_service_types():
    agency = make_agency("Eastside Agency")
    with agency_scope(agency):
        names = set(SupportServiceType.objects.for_agency(agency).values_list("name", flat=True))
    assert names == set(services.DEFAULT_SERVICE_TYPES)
    assert len(names) == 10


def test_seeding_again_adds_only_what_is_missing(agency):
    with agency_scope(agency):
        SupportServiceType.objects.for_agency(agency).filter(name="Food").delete()
        services.update_service_type(
            SupportServiceType.objects.for_agency(agency).get(name="Other"), None, {"name": "Miscellaneous"}
        )
        added = services.seed_service_types(agency)
        assert [t.name for t in added] == ["Food", "Other"]
        assert services.seed_service_types(agency) == []


def test_the_data_migration_seeds_agencies_that_have_no_service_types(agency, other_agency):
    with agency_scope(agency):
        SupportServiceType.objects.for_agency(agency).all().delete()
    with agency_scope(other_agency):
        SupportServiceType.objects.for_agency(other_agency).exclude(name="Food").delete()
    migration = importlib.import_module("caseload.casework.migrations.0002_default_service_types")
    with all_agencies():
        migration.seed(apps, None)
    with agency_scope(agency):
        assert SupportServiceType.objects.for_agency(agency).count() == 10
    with agency_scope(other_agency):
        assert list(SupportServiceType.objects.for_agency(other_agency).values_list("name", flat=True)) == ["Food"]


def test_the_seeded_names_follow_the_agencys_first_language(settings):
    agency = make_agency("Centre de l'Est", languages=["fr", "en"])
    with translation.override("fr"):
        expected = {translation.gettext(name) for name in services.DEFAULT_SERVICE_TYPES}
    with agency_scope(agency):
        names = set(SupportServiceType.objects.for_agency(agency).values_list("name", flat=True))
    assert names == expected
    assert "Autre" in names  # French already has this word


def test_a_service_type_is_added_renamed_and_names_stay_unique(agency, admin):
    with agency_scope(agency):
        bikes = services.create_service_type(agency, admin, {"name": "  Bicycle repair "})
        assert bikes.name == "Bicycle repair"
        with pytest.raises(ValidationError) as refused:
            services.create_service_type(agency, admin, {"name": "childcare"})
        assert set(refusal(refused)) == {"name"}
        services.update_service_type(bikes, admin, {"name": "Bike repair"})
    assert fresh(agency, bikes).name == "Bike repair"
    assert [e.action for e in events_about(agency, bikes)] == [AuditEvent.Action.CHANGE, AuditEvent.Action.CREATE]


def test_a_service_type_in_use_is_deactivated_not_deleted(agency, admin, caseworker, amina):
    service = record(agency, amina, caseworker, type_name="Childcare", amount="30.00")
    childcare, food = service_type(agency, "Childcare"), service_type(agency, "Food")
    with agency_scope(agency):
        assert services.remove_service_type(childcare, admin) is False
        assert services.remove_service_type(food, admin) is True
        assert not SupportServiceType.objects.for_agency(agency).filter(name="Food").exists()
    assert fresh(agency, childcare).is_active is False
    # No longer offered for new services; a service that already has it keeps it through edits.
    with pytest.raises(ValidationError) as refused:
        record(agency, amina, caseworker, type_name="Childcare")
    assert set(refusal(refused)) == {"service_type"}
    with agency_scope(agency):
        services.update_service(service, caseworker, {"vendor": "YMCA daycare"})
    assert fresh(agency, service).vendor == "YMCA daycare"


def test_money_is_written_the_way_the_language_writes_it():
    with translation.override("en"):
        assert services.money(Decimal("1234.5")) == "$1,234.50"
        assert services.money(Decimal("-10")) == "-$10.00"
    with translation.override("fr"):
        assert services.money(Decimal("1234.5")) == "1\xa0234,50\xa0$"
    assert services.money(None) == ""


def test_the_actions_do_not_cross_agencies(agency, other_agency, caseworker):
    """A caseworker of one agency is nobody in another: no author, no approval."""
    theirs = a_client(other_agency)
    service = record(other_agency, theirs, caseworker, amount="5.00")
    assert service.author is None
    assert not services.may_approve_overspend(other_agency, make_member(agency, "Manager").user)
    with agency_scope(other_agency):
        assert Grant.objects.for_agency(other_agency).count() == 0
