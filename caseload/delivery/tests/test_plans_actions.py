"""Settlement plan actions (status rules, achieved dates, closed plans, audit) and who sees which plan."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.actions import REDACTED
from caseload.audit.models import AuditEvent
from caseload.casework.records import agency_today
from caseload.clients.models import Client
from caseload.delivery import plans
from caseload.delivery.models import PlanGoal, SettlementPlan
from caseload.delivery.tests.plan_helpers import (
    START,
    a_client,
    follow_ups_of,
    fresh,
    goals_of,
    make_plan,
    member_in,
    membership,
)
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Creating and changing plans --------------------------------------------------------------------


def test_it_creates_an_active_plan_with_its_goals_in_order(agency, caseworker):
    plan = make_plan(agency, actor=caseworker)
    assert plan.status == SettlementPlan.Status.ACTIVE
    assert plan.author == membership(caseworker, agency)
    goals = goals_of(plan)
    assert [g.description for g in goals] == ["Find a two-bedroom apartment", "Reach CLB 5 in listening"]
    assert [g.position for g in goals] == [1, 2]
    assert all(g.status == PlanGoal.Status.NOT_STARTED for g in goals)


def test_it_keeps_free_text_out_of_the_audit_log(agency, caseworker):
    plan = make_plan(agency, actor=caseworker, summary="Fled violence; lives with her cousin")
    with agency_scope(agency):
        events = list(AuditEvent.objects.for_agency(agency).filter(object_type__startswith="delivery."))
    assert {e.object_type for e in events} == {"delivery.settlementplan", "delivery.plangoal"}
    assert all(e.client_id == plan.client_id for e in events)
    dumped = repr([(e.object_repr, e.changes) for e in events])
    assert "Fled violence" not in dumped and "Settling in Toronto" not in dumped and "apartment" not in dumped
    created = next(e for e in events if e.object_type == "delivery.settlementplan")
    assert created.changes["summary"] == [REDACTED, REDACTED]


def test_it_names_the_title_when_it_is_missing(agency):
    client = a_client(agency)
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.create_plan(client, None, {"title": "  "})
    assert "title" in errors_of(excinfo)


def test_it_names_the_goal_that_is_wrong(agency):
    with pytest.raises(ValidationError) as excinfo:
        make_plan(agency, goals=[{"description": "Open a bank account"}, {"description": ""}])
    assert "Goal 2" in errors_of(excinfo)["goals"][0]


def test_it_refuses_another_agencys_program(agency, other_agency):
    program = make_program(other_agency, "Elsewhere")
    with pytest.raises(ValidationError) as excinfo:
        make_plan(agency, program=program)
    assert "program" in errors_of(excinfo)


def test_it_refuses_a_plan_starting_in_the_future(agency):
    with pytest.raises(ValidationError) as excinfo:
        make_plan(agency, started_on=agency_today(agency) + timedelta(days=2))
    assert "started_on" in errors_of(excinfo)


def test_it_refuses_writes_on_a_merged_profile(agency):
    plan = make_plan(agency)
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=plan.client_id).update(status=Client.Status.MERGED)
        plan = fresh(plan)
        with pytest.raises(ValidationError):
            plans.update_plan(plan, None, {"title": "New"})
        with pytest.raises(ValidationError):
            plans.create_plan(plan.client, None, {"title": "Another"})


# --- Goals ----------------------------------------------------------------------------------------


def test_achieving_a_goal_sets_the_day_and_changing_it_back_clears_it(agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    with agency_scope(agency):
        plans.update_goal(goal, caseworker, {"status": "achieved"})
        assert goal.achieved_on == agency_today(agency)
        plans.update_goal(goal, caseworker, {"status": "achieved", "achieved_on": date(2026, 2, 1)})
        assert goal.achieved_on == date(2026, 2, 1)
        plans.update_goal(goal, caseworker, {"status": "in_progress"})
    assert goals_of(plan)[0].achieved_on is None


def test_a_goal_cannot_be_achieved_in_the_future(agency):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.update_goal(goal, None, {"status": "achieved", "achieved_on": agency_today(agency) + timedelta(days=1)})
    assert "achieved_on" in errors_of(excinfo)


def test_it_adds_a_goal_at_the_end_and_removes_one(agency):
    plan = make_plan(agency)
    with agency_scope(agency):
        goal = plans.add_goal(plan, None, {"area": "employment", "description": "Get a first job in Canada"})
        assert goal.position == 3
        plans.remove_goal(goals_of(plan)[0], None)
    assert [g.description for g in goals_of(plan)] == ["Reach CLB 5 in listening", "Get a first job in Canada"]


# --- Follow-ups -----------------------------------------------------------------------------------


def test_a_follow_up_sets_its_goals_status_and_achieved_day(agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    day = START + timedelta(days=10)
    with agency_scope(agency):
        plans.add_follow_up(plan, caseworker, {"date": day, "goal": goal, "note": "Signed the lease", "goal_status": "achieved"})
    goal = goals_of(plan)[0]
    assert goal.status == PlanGoal.Status.ACHIEVED and goal.achieved_on == day
    follow_up = follow_ups_of(plan)[0]
    assert follow_up.author == membership(caseworker, agency)


def test_a_follow_up_without_a_status_leaves_the_goal_alone(agency):
    plan = make_plan(agency)
    goal = goals_of(plan)[1]
    with agency_scope(agency):
        plans.add_follow_up(plan, None, {"date": START, "goal": goal, "note": "Waiting for the CLB test date"})
    assert goals_of(plan)[1].status == PlanGoal.Status.NOT_STARTED


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"note": ""}, "note"),
        ({"goal_status": "achieved"}, "goal_status"),
        ({"date": date(2025, 1, 1)}, "date"),
        ({"next_date": date(2026, 1, 6)}, "next_date"),
    ],
)
def test_a_bad_follow_up_names_the_field(agency, data, field):
    plan = make_plan(agency)
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.add_follow_up(plan, None, {"date": date(2026, 1, 10), "note": "Called", **data})
    assert field in errors_of(excinfo)


def test_a_follow_up_cannot_name_another_plans_goal(agency):
    plan, other = make_plan(agency), make_plan(agency)
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.add_follow_up(plan, None, {"date": START, "goal": goals_of(other)[0], "note": "Called"})
    assert "goal" in errors_of(excinfo)


# --- Closing and reopening ----------------------------------------------------------------------------


def test_a_closed_plan_refuses_changes_until_it_is_reopened(agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    with agency_scope(agency):
        plans.close_plan(plan, caseworker, "completed", date(2026, 2, 1))
        assert fresh(plan).status == "completed" and fresh(plan).closed_on == date(2026, 2, 1)
        refused = [
            lambda: plans.update_plan(plan, caseworker, {"title": "New"}),
            lambda: plans.add_goal(plan, caseworker, {"description": "More"}),
            lambda: plans.update_goal(goal, caseworker, {"status": "achieved"}),
            lambda: plans.add_follow_up(plan, caseworker, {"date": START, "note": "Called"}),
            lambda: plans.close_plan(plan, caseworker, "closed"),
        ]
        for attempt in refused:
            with pytest.raises(ValidationError) as excinfo:
                attempt()
            assert "reopen" in errors_of(excinfo)["status"][0]
        plans.reopen_plan(plan, caseworker)
        assert fresh(plan).status == "active" and fresh(plan).closed_on is None
        plans.update_plan(plan, caseworker, {"title": "New"})
    assert fresh(plan).title == "New"


@pytest.mark.parametrize(
    ("status", "closed_on", "field"),
    [("active", None, "status"), ("completed", date(2025, 12, 1), "closed_on"), ("closed", date(2100, 1, 1), "closed_on")],
)
def test_closing_names_the_wrong_field(agency, status, closed_on, field):
    plan = make_plan(agency)
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.close_plan(plan, None, status, closed_on)
    assert field in errors_of(excinfo)


def test_reopening_an_active_plan_names_the_status(agency):
    plan = make_plan(agency)
    with agency_scope(agency), pytest.raises(ValidationError) as excinfo:
        plans.reopen_plan(plan, None)
    assert "status" in errors_of(excinfo)


def test_a_deleted_plan_leaves_every_list(agency, admin):
    plan = make_plan(agency)
    with agency_scope(agency):
        plans.delete_plan(plan, admin)
        assert not plans.plans_for(agency, membership(admin, agency)).filter(pk=plan.pk).exists()
        assert SettlementPlan.objects.for_agency(agency).get(pk=plan.pk).deleted_at is not None


# --- Who sees which plan ----------------------------------------------------------------------------


def visible(agency, user) -> set[int]:
    with agency_scope(agency):
        return set(plans.plans_for(agency, membership(user, agency)).values_list("pk", flat=True))


def test_a_plan_without_a_program_is_seen_by_everyone_with_delivery_view(agency, caseworker, auditor):
    plan = make_plan(agency)
    front_desk = make_member(agency, "Front desk").user
    assert plan.pk in visible(agency, caseworker)
    assert plan.pk in visible(agency, auditor)
    assert plan.pk not in visible(agency, front_desk)


def test_a_programs_plan_is_seen_by_its_members_all_programs_and_its_author(agency, manager, auditor):
    housing, language = make_program(agency, "Housing"), make_program(agency, "Language")
    author = member_in(agency, housing)
    plan = make_plan(agency, actor=author.user, program=housing)
    colleague = member_in(agency, housing).user
    stranger = member_in(agency, language).user
    assert plan.pk in visible(agency, colleague)
    assert plan.pk not in visible(agency, stranger)
    assert plan.pk in visible(agency, manager)  # delivery.all_programs
    assert plan.pk in visible(agency, auditor)
    # The author and their manager still see it after the author leaves the program.
    boss = member_in(agency, language)
    with agency_scope(agency):
        author.programs.clear()
        author.manager = boss
        author.save(update_fields=["manager"])
    assert plan.pk in visible(agency, author.user)
    assert plan.pk in visible(agency, boss.user)
    with agency_scope(agency):
        loaded = SettlementPlan.objects.for_agency(agency).select_related("author").get(pk=plan.pk)
        assert plans.may_see_plan(loaded, membership(boss.user, agency))
        assert not plans.may_see_plan(loaded, membership(stranger, agency))


def test_no_plan_of_another_agency_is_ever_listed(agency, other_agency, outsider):
    make_plan(agency)
    assert visible(other_agency, outsider) == set()


def test_the_progress_counts_leave_out_discontinued_goals(agency):
    plan = make_plan(
        agency,
        goals=[
            {"description": "a", "status": "achieved"},
            {"description": "b", "status": "in_progress"},
            {"description": "c", "status": "discontinued"},
            {"description": "d"},
        ],
    )
    progress = plans.progress_of(goals_of(plan))
    assert (progress.achieved, progress.total, progress.percent, progress.discontinued) == (1, 3, 33, 1)
    with agency_scope(agency):
        row = plans.with_summary(SettlementPlan.objects.for_agency(agency).filter(pk=plan.pk)).get()
    assert (row.goals_achieved, row.goals_total) == (1, 3)
