"""/api/v1/tasks/: list with filters, create, change, complete, reopen, cancel and delete."""

from __future__ import annotations

import pytest

from caseload.audit.models import AuditEvent
from caseload.casework import tasks as actions
from caseload.casework.models import Task
from caseload.casework.tests.task_helpers import (  # noqa: F401 (fixtures)
    amina_fixture,
    amina_portal_fixture,
    colleague_fixture,
    days,
    fresh,
    make_task,
    member_of,
    register,
)
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/tasks/"


def detail(task: Task, suffix: str = "") -> str:
    return f"{URL}{task.pk}/{suffix}"


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_it_creates_a_task_for_the_caller_by_default(api, agency, caseworker, amina):
    response = api.as_user(caseworker).post(
        URL, {"title": "Call the employer", "client": amina.pk, "due_on": "2026-05-01", "priority": "high"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    me = member_of(agency, caseworker)
    assert (body["assigned_to"], body["created_by"], body["client"], body["status"], body["remind_days_before"]) == (
        me.pk,
        me.pk,
        amina.pk,
        "open",
        1,
    )
    assert (
        AuditEvent.objects.for_agency(agency).filter(object_type="casework.task", action="create", client_id=amina.pk).count()
        == 1
    )


def test_it_creates_a_task_for_another_staff_member_or_the_client(api, agency, caseworker, colleague, amina_portal):
    page = api.as_user(caseworker)
    response = page.post(URL, {"title": "For a colleague", "client": amina_portal.pk, "assigned_to": colleague.pk}, format="json")
    assert response.status_code == 201 and response.json()["assigned_to"] == colleague.pk
    response = page.post(URL, {"title": "Upload your ID", "client": amina_portal.pk, "for_client": True}, format="json")
    assert response.status_code == 201
    assert (response.json()["for_client"], response.json()["assigned_to"]) == (True, None)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "priority": "someday"}, "priority"),
        ({"title": "x", "due_on": "soon"}, "due_on"),
        ({"title": "x", "remind_days_before": 99}, "remind_days_before"),
        ({"title": "x", "for_client": True}, "for_client"),
        ({"title": "x", "client": 999999}, "client"),
    ],
)
def test_bad_input_answers_400_naming_the_field(api, agency, caseworker, data, field):
    response = api.as_user(caseworker).post(URL, data, format="json")
    assert response.status_code == 400
    assert field in {error["attr"] for error in response.json()["errors"]}
    assert not Task.objects.for_agency(agency).exists()


def test_a_client_task_without_a_portal_account_is_a_400(api, agency, caseworker, amina):
    response = api.as_user(caseworker).post(URL, {"title": "x", "client": amina.pk, "for_client": True}, format="json")
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == ["for_client"]


def test_another_agencys_staff_member_or_client_does_not_exist(api, agency, other_agency, caseworker, amina):
    stranger = make_member(other_agency, "Caseworker")
    oscar = register(other_agency, given_name="Oscar")
    page = api.as_user(caseworker)
    response = page.post(URL, {"title": "x", "client": amina.pk, "assigned_to": stranger.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "assigned_to"
    response = page.post(URL, {"title": "x", "client": oscar.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "client"
    assert not Task.objects.for_agency(agency).exists()


def test_the_list_puts_overdue_first_and_filters(api, agency, caseworker, colleague, amina):
    bo = register(agency, given_name="Bo")
    make_task(agency, caseworker, amina, title="Later", due_on=days(agency, 5))
    make_task(agency, caseworker, amina, title="Overdue", due_on=days(agency, -2))
    make_task(agency, caseworker, bo, title="Today", due_on=days(agency, 0))
    make_task(agency, caseworker, amina, title="Colleague's", assigned_to=colleague, due_on=days(agency, 1))
    done = make_task(agency, caseworker, amina, title="Done", due_on=days(agency, -5))
    actions.complete_task(done, caseworker)

    page = api.as_user(caseworker)
    assert titles(page.get(URL, {"assigned_to": "me", "status": "active"})) == ["Overdue", "Today", "Later"]
    assert titles(page.get(URL, {"assigned_to": colleague.pk})) == ["Colleague's"]
    assert titles(page.get(URL, {"client": bo.pk})) == ["Today"]
    assert titles(page.get(URL, {"status": "done"})) == ["Done"]
    assert titles(page.get(URL, {"overdue": "true"})) == ["Overdue"]
    due = page.get(URL, {"due_after": days(agency, 0).isoformat(), "due_before": days(agency, 1).isoformat()})
    assert titles(due) == ["Today", "Colleague's"]
    overdue = page.get(URL, {"overdue": "true"}).json()["results"][0]
    assert overdue["is_overdue"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"assigned_to": "someone"}, "assigned_to"),
        ({"status": "lost"}, "status"),
        ({"due_after": "yesterday"}, "due_after"),
        ({"due_after": "2026-05-02", "due_before": "2026-05-01"}, "due_before"),
    ],
)
def test_bad_filters_answer_400_naming_the_field(api, caseworker, params, field):
    response = api.as_user(caseworker).get(URL, params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field


def test_it_changes_completes_reopens_cancels_and_deletes(api, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina, title="Old")
    page = api.as_user(caseworker)

    response = page.patch(detail(task), {"title": "New", "priority": "urgent"}, format="json")
    assert response.status_code == 200 and (response.json()["title"], response.json()["priority"]) == ("New", "urgent")
    response = page.post(detail(task, "complete/"))
    assert response.status_code == 200 and response.json()["status"] == "done" and response.json()["completed_at"]
    assert page.post(detail(task, "cancel/")).status_code == 400  # reopen first
    assert page.post(detail(task, "reopen/")).json()["status"] == "open"
    assert page.post(detail(task, "cancel/")).json()["status"] == "cancelled"
    assert page.delete(detail(task)).status_code == 204
    assert fresh(task).deleted_at is not None
    assert page.get(detail(task)).status_code == 404


def test_a_tasks_client_cannot_be_changed(api, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    bo = register(agency, given_name="Bo")
    response = api.as_user(caseworker).patch(detail(task), {"client": bo.pk}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "client"
    assert fresh(task).client == amina


def test_reading_needs_casework_view_and_writing_casework_change(api, agency, auditor, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    front_desk = make_member(agency, "Front desk").user
    assert api.as_user(front_desk).get(URL).status_code == 403
    reader = api.as_user(auditor)
    assert reader.get(detail(task)).status_code == 200
    assert reader.post(URL, {"title": "x"}, format="json").status_code == 403
    assert reader.patch(detail(task), {"title": "x"}, format="json").status_code == 403
    assert reader.post(detail(task, "complete/")).status_code == 403
    assert reader.delete(detail(task)).status_code == 403
    assert fresh(task).status == "open" and fresh(task).deleted_at is None


def test_another_agencys_task_is_a_404(api, agency, caseworker, outsider, amina):
    task = make_task(agency, caseworker, amina)
    page = api.as_user(outsider)
    assert page.get(detail(task)).status_code == 404
    assert page.patch(detail(task), {"title": "x"}, format="json").status_code == 404
    assert page.post(detail(task, "complete/")).status_code == 404
    assert page.delete(detail(task)).status_code == 404
    assert page.get(URL).json()["results"] == []
    assert fresh(task).status == "open"


def test_a_colleagues_task_about_no_client_is_not_listed(api, agency, caseworker, colleague):
    task = make_task(agency, colleague.user, title="Their errand")
    page = api.as_user(caseworker)
    assert page.get(URL).json()["results"] == []
    assert page.get(detail(task)).status_code == 404
