"""/api/v1/settlement-plans/: plans with their goals and follow-ups, through the actions."""

from __future__ import annotations

import pytest

from caseload.delivery.models import PlanGoal
from caseload.delivery.tests.plan_helpers import a_client, follow_ups_of, fresh, goals_of, make_plan, member_in
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/settlement-plans/"


def test_it_lists_the_plans_the_member_sees_with_progress(api, agency, caseworker):
    plan = make_plan(agency)
    make_plan(agency, program=make_program(agency, "Hidden program"))
    response = api.as_user(caseworker).get(URL)
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row["id"] == plan.pk and row["status"] == "active"
    assert [g["description"] for g in row["goals"]] == ["Find a two-bedroom apartment", "Reach CLB 5 in listening"]
    assert row["progress"] == {"not_started": 2, "in_progress": 0, "achieved": 0, "discontinued": 0, "total": 2, "percent": 0}


def test_it_filters_by_client(api, agency, caseworker):
    plan = make_plan(agency)
    make_plan(agency)
    rows = api.as_user(caseworker).get(URL, {"client": plan.client_id}).json()["results"]
    assert [r["id"] for r in rows] == [plan.pk]
    assert api.as_user(caseworker).get(URL, {"client": "x"}).status_code == 400


def test_it_creates_a_plan_with_goals(api, agency, caseworker):
    client = a_client(agency)
    body = {
        "client": client.pk,
        "title": "Settling in",
        "started_on": "2026-01-05",
        "goals": [{"area": "housing", "description": "Find an apartment", "target_date": "2026-03-01"}],
    }
    response = api.as_user(caseworker).post(URL, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["goals"][0]["description"] == "Find an apartment"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"started_on": "2100-01-01"}, "started_on"),
        ({"goals": [{"description": "x", "area": "space"}]}, "goals"),
        ({"goals": [{"description": ""}]}, "goals"),
    ],
)
def test_a_bad_plan_is_a_400_naming_the_field(api, agency, caseworker, body, field):
    client = a_client(agency)
    response = api.as_user(caseworker).post(URL, {"client": client.pk, "title": "Plan", **body}, format="json")
    assert response.status_code == 400
    assert field in str(response.json())


def test_another_agencys_client_or_program_does_not_exist(api, agency, other_agency, caseworker):
    theirs = a_client(other_agency)
    response = api.as_user(caseworker).post(URL, {"client": theirs.pk, "title": "Plan"}, format="json")
    assert response.status_code == 400 and "client" in str(response.json())
    program = make_program(other_agency, "Elsewhere")
    response = api.as_user(caseworker).post(
        URL, {"client": a_client(agency).pk, "title": "Plan", "program": program.pk}, format="json"
    )
    assert response.status_code == 400 and "program" in str(response.json())


def test_another_agencys_plan_is_a_404(api, agency, outsider):
    plan = make_plan(agency)
    member = api.as_user(outsider)
    for url in (f"{URL}{plan.pk}/", f"{URL}{plan.pk}/goals/", f"{URL}{plan.pk}/follow-ups/"):
        assert member.get(url).status_code == 404
    assert member.post(f"{URL}{plan.pk}/follow-ups/", {"note": "x"}, format="json").status_code == 404
    assert member.patch(f"{URL}{plan.pk}/", {"title": "x"}, format="json").status_code == 404


def test_another_programs_plan_is_a_404(api, agency):
    plan = make_plan(agency, program=make_program(agency, "Housing"))
    stranger = member_in(agency, make_program(agency, "Language")).user
    assert api.as_user(stranger).get(f"{URL}{plan.pk}/").status_code == 404


def test_permissions_403(api, agency, auditor):
    plan = make_plan(agency)
    front_desk = make_member(agency, "Front desk").user
    assert api.as_user(front_desk).get(URL).status_code == 403
    assert api.as_user(auditor).get(URL).status_code == 200
    assert api.as_user(auditor).post(f"{URL}{plan.pk}/follow-ups/", {"note": "x"}, format="json").status_code == 403


def test_goals_are_added_changed_and_removed(api, agency, caseworker):
    plan = make_plan(agency)
    member = api.as_user(caseworker)
    response = member.post(f"{URL}{plan.pk}/goals/", {"area": "employment", "description": "First job"}, format="json")
    assert response.status_code == 201 and response.json()["position"] == 3
    goal = goals_of(plan)[0]
    response = member.patch(f"{URL}{plan.pk}/goals/{goal.pk}/", {"status": "achieved"}, format="json")
    assert response.status_code == 200 and response.json()["achieved_on"]
    assert member.patch(f"{URL}{plan.pk}/goals/{goal.pk}/", {"status": "won"}, format="json").status_code == 400
    assert member.delete(f"{URL}{plan.pk}/goals/{goal.pk}/").status_code == 204
    assert len(goals_of(plan)) == 2
    other = goals_of(make_plan(agency))[0]
    assert member.get(f"{URL}{plan.pk}/goals/{other.pk}/").status_code == 404


def test_follow_ups_are_listed_and_created(api, agency, caseworker):
    plan = make_plan(agency)
    goal = goals_of(plan)[1]
    member = api.as_user(caseworker)
    body = {"date": "2026-01-20", "goal": goal.pk, "note": "Passed CLB 5", "goal_status": "achieved"}
    response = member.post(f"{URL}{plan.pk}/follow-ups/", body, format="json")
    assert response.status_code == 201, response.json()
    assert goals_of(plan)[1].status == PlanGoal.Status.ACHIEVED
    rows = member.get(f"{URL}{plan.pk}/follow-ups/").json()["results"]
    assert [r["note"] for r in rows] == ["Passed CLB 5"]
    response = member.post(
        f"{URL}{plan.pk}/follow-ups/", {"date": "2026-01-20", "note": "x", "goal_status": "achieved"}, format="json"
    )
    assert response.status_code == 400 and "goal_status" in response.json()["errors"][0]["attr"]


def test_closing_refuses_changes_until_reopened(api, agency, caseworker):
    plan = make_plan(agency)
    member = api.as_user(caseworker)
    assert member.post(f"{URL}{plan.pk}/close/", {"status": "open"}, format="json").status_code == 400
    response = member.post(f"{URL}{plan.pk}/close/", {"status": "completed", "closed_on": "2026-02-01"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "completed"
    response = member.patch(f"{URL}{plan.pk}/", {"title": "New"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "status"
    response = member.post(f"{URL}{plan.pk}/follow-ups/", {"date": "2026-01-20", "note": "x"}, format="json")
    assert response.status_code == 400
    assert member.post(f"{URL}{plan.pk}/reopen/").status_code == 200
    assert member.patch(f"{URL}{plan.pk}/", {"title": "New"}, format="json").status_code == 200
    assert fresh(plan).title == "New"
    assert follow_ups_of(plan) == []


def test_delete_is_a_soft_delete(api, agency, caseworker):
    plan = make_plan(agency)
    assert api.as_user(caseworker).delete(f"{URL}{plan.pk}/").status_code == 204
    assert fresh(plan).deleted_at is not None
    assert api.as_user(caseworker).get(f"{URL}{plan.pk}/").status_code == 404
