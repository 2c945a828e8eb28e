import datetime

import pytest
from django.utils import timezone

from caseload.audit.actions import Action, record
from caseload.audit.models import AuditEvent
from caseload.audit.queries import change_lines, filter_events, object_type_choices, object_type_label
from caseload.tenancy.scoping import agency_scope


@pytest.fixture(autouse=True)
def empty_logs(agency, other_agency):
    """Start from empty logs (making the agencies wrote their creation events)."""
    for each in (agency, other_agency):
        AuditEvent.objects.for_agency(each).delete()


def event(agency, actor=None, action=Action.CHANGE, at=None, **extra):
    with agency_scope(agency):
        written = record(agency=agency, actor=actor, action=action, **extra)
    if at is not None:
        AuditEvent.objects.for_agency(agency).filter(pk=written.pk).update(created_at=at)
    return written


def test_it_filters_by_actor_client_action_and_object_type(agency, admin, caseworker):
    mine = event(agency, admin, Action.VIEW, client_id=7, object_type="clients.client", object_id="7")
    event(agency, caseworker, Action.VIEW, client_id=7, object_type="clients.client", object_id="7")
    event(agency, admin, Action.CHANGE, client_id=8, object_type="clients.client", object_id="8")
    event(agency, admin, Action.VIEW, client_id=7, object_type="casework.note", object_id="1")
    found = filter_events(agency, {"actor": admin, "client": 7, "action": "view", "object_type": "clients.client"})
    assert list(found) == [mine]


def test_dates_are_the_agencys_days_and_both_ends_count(agency):
    toronto = datetime.timezone(datetime.timedelta(hours=-5))
    late_on_the_first = event(agency, at=datetime.datetime(2026, 3, 1, 23, 30, tzinfo=toronto))
    early_on_the_second = event(agency, at=datetime.datetime(2026, 3, 2, 0, 10, tzinfo=toronto))
    on_the_third = event(agency, at=datetime.datetime(2026, 3, 3, 12, 0, tzinfo=toronto))
    first = datetime.date(2026, 3, 1)
    assert list(filter_events(agency, {"date_from": first, "date_to": first})) == [late_on_the_first]
    assert list(filter_events(agency, {"date_from": datetime.date(2026, 3, 2)})) == [on_the_third, early_on_the_second]
    assert list(filter_events(agency, {"date_to": datetime.date(2026, 3, 2)})) == [early_on_the_second, late_on_the_first]


def test_the_far_ends_of_the_calendar_are_not_an_error(agency):
    written = event(agency)
    assert list(filter_events(agency, {"date_from": datetime.date.min, "date_to": datetime.date.max})) == [written]
    assert list(filter_events(agency, {"date_from": datetime.date.max})) == []


def test_it_never_returns_another_agencys_events(agency, other_agency):
    event(other_agency)
    assert list(filter_events(agency, {})) == []


def test_newest_events_come_first(agency):
    now = timezone.now()
    old = event(agency, at=now - datetime.timedelta(days=2))
    new = event(agency, at=now)
    assert list(filter_events(agency, {})) == [new, old]


def test_object_types_are_named_and_offered_only_when_present(agency, other_agency):
    event(agency, object_type="tenancy.program", object_id="1")
    event(other_agency, object_type="tenancy.funder", object_id="1")
    assert object_type_label("tenancy.program") == "Program"
    assert object_type_label("gone.thing") == "gone.thing"
    assert object_type_choices(agency) == [("tenancy.program", "Program")]


def test_changes_read_as_old_to_new():
    lines = list(change_lines({"name": ["Old", "New"], "is_active": [True, False], "filters": {"action": "view"}}))
    assert lines == [("name", "Old", "New"), ("is_active", "✓", "✗"), ("filters", None, "{action: view}")]


def test_a_creation_shows_its_values_and_a_deletion_what_was_lost_without_noise():
    created = {"id": [None, 3], "name": [None, "Youth"], "code": [None, ""], "funders": [None, []], "is_active": [None, True]}
    assert list(change_lines(created, action="create")) == [("name", None, "Youth"), ("is_active", None, "✓")]
    deleted = {"id": [3, None], "name": ["Youth", None], "code": ["", None]}
    assert list(change_lines(deleted, action="delete")) == [("name", "Youth", None)]


def test_a_change_from_or_to_nothing_shows_both_sides():
    assert list(change_lines({"manager": [None, 2], "title": ["Intake", ""]}, action="change")) == [
        ("manager", "∅", "2"),
        ("title", "Intake", "∅"),
    ]
