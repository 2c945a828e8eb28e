"""Checkpoint dates are calendar months after the exit date, and programs set their own schedule."""

from __future__ import annotations

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from caseload.outcomes import actions
from caseload.outcomes.models import Checkpoint, FollowUpSchedule
from caseload.outcomes.schedule import checkpoint_dates
from caseload.outcomes.tests.helpers import a_client, a_placement
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program


@given(
    st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2090, 12, 31)),
    st.sampled_from([[1, 3, 6, 12], [2, 24, 36], [1]]),
)
def test_each_checkpoint_falls_its_months_after_the_exit_on_the_right_calendar_day(exit_date, months):
    for m, due in checkpoint_dates(exit_date, months):
        assert due == exit_date + relativedelta(months=m)
        target_month = (exit_date.month - 1 + m) % 12 + 1
        assert due.month == target_month
        # The same day of the month, or the last day of a shorter month.
        last_day = ((due.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)).day
        assert due.day == min(exit_date.day, last_day)


@given(st.integers(min_value=1990, max_value=2090))
def test_an_exit_on_31_january_gives_the_end_of_february_30_april_31_july_and_31_january(year):
    got = dict(checkpoint_dates(datetime.date(year, 1, 31), [1, 3, 6, 12]))
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    assert got == {
        1: datetime.date(year, 2, 29 if leap else 28),
        3: datetime.date(year, 4, 30),
        6: datetime.date(year, 7, 31),
        12: datetime.date(year + 1, 1, 31),
    }


@pytest.mark.django_db
@settings(max_examples=15, deadline=None)
@given(exit_date=st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2026, 1, 31)))
def test_placing_a_client_creates_the_checkpoints_on_those_days(exit_date):
    from caseload.testing.factories import make_agency

    agency = make_agency()
    placement = a_placement(agency, exit_date=exit_date)
    with agency_scope(agency):
        rows = list(Checkpoint.objects.for_agency(agency).filter(placement=placement).order_by("months"))
    assert [(row.months, row.due_on) for row in rows] == [(m, exit_date + relativedelta(months=m)) for m in [1, 3, 6, 12]]
    assert {row.survey.key for row in rows} == {"outcome_survey"}


def test_a_program_schedule_sets_the_months_and_survey(agency, admin):
    with agency_scope(agency):
        program = make_program(agency, "Youth Job Connection")
        actions.set_schedule(
            program, admin, {"months": "2, 6", "survey_key": "outcome_survey", "reminder_after_days": 5, "link_valid_days": 14}
        )
        plan = FollowUpSchedule.objects.for_agency(agency).get(program=program)
    assert (plan.months, plan.reminder_after_days, plan.link_valid_days) == ([2, 6], 5, 14)
    placement = a_placement(agency, program=program, exit_date=datetime.date(2026, 3, 31))
    with agency_scope(agency):
        assert list(placement.checkpoints.values_list("months", "due_on")) == [
            (2, datetime.date(2026, 5, 31)),
            (6, datetime.date(2026, 9, 30)),
        ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"months": [3, 1]}, "months"),
        ({"months": [1, 1]}, "months"),
        ({"months": [0, 3]}, "months"),
        ({"months": [1, 37]}, "months"),
        ({"months": ["x"]}, "months"),
        ({"months": []}, "months"),
        ({"months": [True]}, "months"),
        ({"survey_key": "no_such_form"}, "survey_key"),
        ({"reminder_after_days": 0}, "reminder_after_days"),
        ({"link_valid_days": "many"}, "link_valid_days"),
    ],
)
def test_a_bad_schedule_is_refused_naming_the_field(agency, admin, data, field):
    with agency_scope(agency):
        program = make_program(agency, "Youth Job Connection")
        with pytest.raises(ValidationError) as refused:
            actions.set_schedule(program, admin, data)
    assert field in refused.value.message_dict


def test_placement_refuses_a_second_active_placement_in_the_same_program(agency, caseworker):
    client = a_client(agency)
    first = a_placement(agency, client)
    with pytest.raises(ValidationError) as refused:
        a_placement(agency, client, program=first.program)
    assert "program" in refused.value.message_dict
    with agency_scope(agency):
        actions.cancel_placement(first, caseworker)
        assert not Checkpoint.objects.for_agency(agency).filter(placement=first).exists()
    again = a_placement(agency, client, program=first.program)
    with agency_scope(agency):
        assert again.checkpoints.count() == 4


def test_placement_refuses_a_future_exit_date_and_bad_choices(agency):
    client = a_client(agency)
    with pytest.raises(ValidationError) as refused:
        a_placement(agency, client, exit_date=datetime.date.today() + datetime.timedelta(days=3))
    assert "exit_date" in refused.value.message_dict
    for field in ("exit_reason", "employment_status"):
        with pytest.raises(ValidationError) as refused:
            a_placement(agency, client, **{field: "nonsense"})
        assert field in refused.value.message_dict


def test_placement_refuses_a_merged_profile(agency):
    from caseload.clients.models import Client

    client = a_client(agency)
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=client.pk).update(status=Client.Status.MERGED)
        client.refresh_from_db()
    with pytest.raises(ValidationError):
        a_placement(agency, client)


def test_placement_refuses_another_agencys_program(agency, other_agency):
    with agency_scope(other_agency):
        theirs = make_program(other_agency, "Theirs")
    with pytest.raises(ValidationError) as refused:
        a_placement(agency, program=theirs)
    assert "program" in refused.value.message_dict
