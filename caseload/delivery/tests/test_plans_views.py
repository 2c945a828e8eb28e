"""The Settlement plans tab, a plan's progress page, and the plan, follow-up and close forms."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from caseload.casework.records import agency_today
from caseload.clients.models import Client
from caseload.delivery import plans
from caseload.delivery.models import PlanGoal, SettlementPlan
from caseload.delivery.tests.plan_helpers import START, a_client, follow_ups_of, fresh, goals_of, make_plan, member_in
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


def plans_of(agency, client) -> list[SettlementPlan]:
    with agency_scope(agency):
        return list(SettlementPlan.objects.for_agency(agency).filter(client=client, deleted_at__isnull=True))


def new_plan_data(**data):
    return {
        "title": "Settling in Toronto",
        "program": "",
        "summary": "Arrived in January with two children.",
        "started_on": "2026-01-05",
        "new_goals": "2",
        "new-0-area": "housing",
        "new-0-description": "Find a two-bedroom apartment",
        "new-0-target_date": "2026-03-01",
        "new-1-area": "other",
        "new-1-description": "",
        "new-1-target_date": "",
        **data,
    }


# --- The tab --------------------------------------------------------------------------------------------


def test_the_profile_shows_the_settlement_plans_tab(as_user, agency, caseworker):
    client = a_client(agency)
    page = as_user(caseworker).get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert reverse("delivery:plans", args=[client.pk]) in page


def test_the_tab_lists_plans_with_goals_achieved_and_follow_up_dates(as_user, agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    with agency_scope(agency):
        plans.add_follow_up(
            plan,
            None,
            {"date": date(2026, 1, 20), "goal": goal, "note": "Lease", "goal_status": "achieved", "next_date": date(2026, 2, 3)},
        )
    response = as_user(caseworker).get(reverse("delivery:plans", args=[plan.client_id]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Settling in Toronto" in page and "1/2" in page
    assert "01/20/2026" in page and "02/03/2026" in page
    assert reverse("delivery:plan_detail", args=[plan.pk]) in page
    assert reverse("delivery:plan_new", args=[plan.client_id]) in page


def test_the_tab_is_403_without_delivery_view_and_404_in_another_agency(as_user, agency, outsider):
    client = a_client(agency)
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(reverse("delivery:plans", args=[client.pk])).status_code == 403
    assert as_user(outsider).get(reverse("delivery:plans", args=[client.pk])).status_code == 404


def test_an_auditor_reads_but_is_offered_no_writing(as_user, agency, auditor):
    plan = make_plan(agency)
    page = as_user(auditor).get(reverse("delivery:plans", args=[plan.client_id])).content.decode()
    assert reverse("delivery:plan_new", args=[plan.client_id]) not in page
    detail = as_user(auditor).get(reverse("delivery:plan_detail", args=[plan.pk])).content.decode()
    assert reverse("delivery:plan_follow_up", args=[plan.pk]) not in detail
    assert as_user(auditor).get(reverse("delivery:plan_new", args=[plan.client_id])).status_code == 403


# --- New plan ----------------------------------------------------------------------------------------------


def test_it_creates_a_plan_with_its_goal_rows_ignoring_blank_ones(as_user, agency, caseworker):
    client = a_client(agency)
    response = as_user(caseworker).post(reverse("delivery:plan_new", args=[client.pk]), new_plan_data())
    [plan] = plans_of(agency, client)
    assert response.status_code == 302 and response["Location"] == reverse("delivery:plan_detail", args=[plan.pk])
    assert [g.description for g in goals_of(plan)] == ["Find a two-bedroom apartment"]


def test_add_another_goal_shows_one_more_row_without_saving(as_user, agency, caseworker):
    client = a_client(agency)
    response = as_user(caseworker).post(reverse("delivery:plan_new", args=[client.pk]), new_plan_data(more="1"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="new-2-description"' in page and 'name="new-3-description"' not in page
    assert 'value="Find a two-bedroom apartment"' in page
    assert plans_of(agency, client) == []


def test_a_plan_without_a_title_gets_a_named_error(as_user, agency, caseworker):
    client = a_client(agency)
    response = as_user(caseworker).post(reverse("delivery:plan_new", args=[client.pk]), new_plan_data(title=""))
    assert response.status_code == 400
    assert 'href="#id_title"' in response.content.decode()
    assert plans_of(agency, client) == []


def test_a_bad_goal_date_names_the_goal(as_user, agency, caseworker):
    client = a_client(agency)
    response = as_user(caseworker).post(
        reverse("delivery:plan_new", args=[client.pk]), new_plan_data(**{"new-0-target_date": "soon"})
    )
    assert response.status_code == 400
    assert "Goal 1: Target date" in response.content.decode()


def test_another_agencys_program_is_an_invalid_choice(as_user, agency, other_agency, caseworker):
    client = a_client(agency)
    program = make_program(other_agency, "Elsewhere")
    response = as_user(caseworker).post(reverse("delivery:plan_new", args=[client.pk]), new_plan_data(program=str(program.pk)))
    assert response.status_code == 400
    assert 'href="#id_program"' in response.content.decode()


def test_a_merged_profile_takes_no_new_plan(as_user, agency, caseworker):
    client = a_client(agency)
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=client.pk).update(status=Client.Status.MERGED)
    response = as_user(caseworker).post(reverse("delivery:plan_new", args=[client.pk]), new_plan_data())
    assert response.status_code == 302
    assert plans_of(agency, client) == []


# --- The progress page --------------------------------------------------------------------------------------


def test_the_plan_page_shows_progress_goals_follow_ups_and_overdue_targets(as_user, agency, caseworker):
    plan = make_plan(agency)
    housing, language = goals_of(plan)
    with agency_scope(agency):
        plans.add_follow_up(
            plan, None, {"date": START, "goal": language, "note": "Booked the CLB test", "goal_status": "achieved"}
        )
        plans.add_follow_up(plan, None, {"date": START, "note": "Whole-plan check-in", "next_step": "Call the landlord"})
    response = as_user(caseworker).get(reverse("delivery:plan_detail", args=[plan.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "50%" in page and "Booked the CLB test" in page and "Whole-plan check-in" in page and "Call the landlord" in page
    # The housing goal's target (2026-03-01) has passed by the agency's today in these tests' runs.
    if housing.target_date < agency_today(agency):
        assert "is-overdue" in page and "past its target date" in page
    assert reverse("delivery:plan_follow_up", args=[plan.pk]) in page


def test_the_plan_page_is_404_for_another_program_and_another_agency(as_user, agency, outsider):
    housing, language = make_program(agency, "Housing"), make_program(agency, "Language")
    plan = make_plan(agency, program=housing)
    stranger = member_in(agency, language).user
    assert as_user(stranger).get(reverse("delivery:plan_detail", args=[plan.pk])).status_code == 404
    assert as_user(outsider).get(reverse("delivery:plan_detail", args=[plan.pk])).status_code == 404
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(reverse("delivery:plan_detail", args=[plan.pk])).status_code == 403


# --- Follow-ups, editing, closing -----------------------------------------------------------------------------


def test_a_follow_up_from_the_plan_page_moves_the_goal(as_user, agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[0]
    data = {
        "date": "2026-01-10",
        "goal": str(goal.pk),
        "note": "Viewed three apartments",
        "goal_status": "in_progress",
        "next_step": "",
        "next_date": "2026-01-24",
    }
    response = as_user(caseworker).post(reverse("delivery:plan_follow_up", args=[plan.pk]), data)
    assert response.status_code == 302
    assert goals_of(plan)[0].status == PlanGoal.Status.IN_PROGRESS
    assert follow_ups_of(plan)[0].next_date == date(2026, 1, 24)


def test_a_follow_up_without_a_note_gets_a_named_error(as_user, agency, caseworker):
    plan = make_plan(agency)
    response = as_user(caseworker).post(reverse("delivery:plan_follow_up", args=[plan.pk]), {"date": "2026-01-10", "note": ""})
    assert response.status_code == 400
    assert 'href="#id_note"' in response.content.decode()


def test_a_follow_up_with_a_status_but_no_goal_names_the_status(as_user, agency, caseworker):
    plan = make_plan(agency)
    response = as_user(caseworker).post(
        reverse("delivery:plan_follow_up", args=[plan.pk]), {"date": "2026-01-10", "note": "Called", "goal_status": "achieved"}
    )
    assert response.status_code == 400
    assert 'href="#id_goal_status"' in response.content.decode()


def test_editing_changes_the_plan_its_goals_and_adds_one(as_user, agency, caseworker):
    plan = make_plan(agency)
    housing, language = goals_of(plan)
    url = reverse("delivery:plan_edit", args=[plan.pk])
    assert as_user(caseworker).get(url).status_code == 200
    data = {
        "title": "Settling in Hamilton",
        "program": "",
        "summary": "",
        "started_on": "2026-01-05",
        f"goal-{housing.pk}-area": "housing",
        f"goal-{housing.pk}-description": "Find a three-bedroom apartment",
        f"goal-{housing.pk}-target_date": "2026-04-01",
        f"goal-{housing.pk}-status": "achieved",
        f"goal-{language.pk}-area": "language",
        f"goal-{language.pk}-description": "Reach CLB 5 in listening",
        f"goal-{language.pk}-status": "not_started",
        f"goal-{language.pk}-remove": "on",
        "new_goals": "1",
        "new-0-area": "employment",
        "new-0-description": "Get a first job",
    }
    response = as_user(caseworker).post(url, data)
    assert response.status_code == 302
    assert fresh(plan).title == "Settling in Hamilton"
    goals = goals_of(plan)
    assert [(g.description, g.status) for g in goals] == [
        ("Find a three-bedroom apartment", "achieved"),
        ("Get a first job", "not_started"),
    ]
    assert goals[0].achieved_on == agency_today(agency)


def test_closing_and_reopening_from_the_pages(as_user, agency, caseworker):
    plan = make_plan(agency)
    browser = as_user(caseworker)
    assert browser.post(reverse("delivery:plan_close", args=[plan.pk]), {"status": "sideways"}).status_code == 400
    response = browser.post(reverse("delivery:plan_close", args=[plan.pk]), {"status": "completed", "closed_on": "2026-02-01"})
    assert response.status_code == 302 and fresh(plan).status == "completed"
    # A closed plan's forms send back to the plan, saying why.
    response = browser.get(reverse("delivery:plan_edit", args=[plan.pk]))
    assert response.status_code == 302
    response = browser.post(reverse("delivery:plan_follow_up", args=[plan.pk]), {"date": "2026-01-10", "note": "Called"})
    assert response.status_code == 302 and follow_ups_of(plan) == []
    assert "Reopen plan" in browser.get(reverse("delivery:plan_detail", args=[plan.pk])).content.decode()
    assert browser.get(reverse("delivery:plan_reopen", args=[plan.pk])).status_code == 405
    assert browser.post(reverse("delivery:plan_reopen", args=[plan.pk])).status_code == 302
    assert fresh(plan).status == "active"


def test_a_closing_date_before_the_start_is_named(as_user, agency, caseworker):
    plan = make_plan(agency)
    response = as_user(caseworker).post(
        reverse("delivery:plan_close", args=[plan.pk]), {"status": "closed", "closed_on": "2025-01-01"}
    )
    assert response.status_code == 400
    assert 'href="#id_closed_on"' in response.content.decode()


def test_deleting_a_plan(as_user, agency, caseworker, auditor):
    plan = make_plan(agency)
    assert as_user(auditor).post(reverse("delivery:plan_delete", args=[plan.pk])).status_code == 403
    browser = as_user(caseworker)
    assert browser.get(reverse("delivery:plan_delete", args=[plan.pk])).status_code == 200
    response = browser.post(reverse("delivery:plan_delete", args=[plan.pk]))
    assert response["Location"] == reverse("delivery:plans", args=[plan.client_id])
    assert browser.get(reverse("delivery:plan_detail", args=[plan.pk])).status_code == 404


def test_writing_is_403_without_delivery_change_and_404_in_another_agency(as_user, agency, auditor, outsider):
    plan = make_plan(agency)
    for name in ("plan_edit", "plan_follow_up", "plan_close", "plan_delete"):
        assert as_user(auditor).get(reverse(f"delivery:{name}", args=[plan.pk])).status_code == 403
        assert as_user(outsider).get(reverse(f"delivery:{name}", args=[plan.pk])).status_code == 404
    assert as_user(outsider).post(reverse("delivery:plan_reopen", args=[plan.pk])).status_code == 404
