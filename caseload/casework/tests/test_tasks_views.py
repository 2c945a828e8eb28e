"""Task pages: My Tasks (overdue first), the client's Tasks & referrals tab, the form and the buttons."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

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

MY_TASKS = "/tasks/"


def titles(html: str) -> list[str]:
    """The task titles in the order the page shows them."""
    return [title.strip() for title in re.findall(r'<th scope="row" class="task-title-cell">\s*(?:<a [^>]*>)?([^<]+)', html)]


# --- My Tasks -------------------------------------------------------------------------------------


def test_my_tasks_replaces_the_coming_soon_page_in_the_navigation(as_user, caseworker):
    html = as_user(caseworker).get(reverse("casework:my_tasks")).content.decode()
    assert reverse("casework:my_tasks") == MY_TASKS
    assert f'href="{MY_TASKS}" aria-current="page"' in html
    assert "coming soon" not in html.lower()


def test_my_tasks_shows_overdue_first_then_today_upcoming_and_undated(as_user, agency, caseworker, amina):
    make_task(agency, caseworker, amina, title="No date")
    make_task(agency, caseworker, amina, title="Next week", due_on=days(agency, 7))
    make_task(agency, caseworker, amina, title="Today", due_on=days(agency, 0))
    make_task(agency, caseworker, amina, title="Tomorrow", due_on=days(agency, 1))
    make_task(agency, caseworker, amina, title="Long overdue", due_on=days(agency, -10))
    make_task(agency, caseworker, amina, title="Overdue", due_on=days(agency, -1))

    html = as_user(caseworker).get(MY_TASKS).content.decode()

    assert titles(html) == ["Long overdue", "Overdue", "Today", "Tomorrow", "Next week", "No date"]
    assert "Overdue by 10 days" in html and "Overdue by 1 day<" in html
    assert (
        html.index('id="group-overdue"')
        < html.index('id="group-today"')
        < html.index('id="group-upcoming"')
        < html.index('id="group-undated"')
    )
    assert "badge-danger" in html  # the red overdue badge
    assert f'href="{reverse("clients:detail", args=[amina.pk])}"' in html


def test_my_tasks_lists_only_my_open_tasks_by_default(as_user, agency, caseworker, colleague, amina):
    make_task(agency, caseworker, amina, title="Mine")
    make_task(agency, caseworker, amina, title="For my colleague", assigned_to=colleague)
    done = make_task(agency, caseworker, amina, title="Finished")
    actions.complete_task(done, caseworker)
    make_task(agency, colleague.user, amina, title="Theirs")

    page = as_user(caseworker)
    assert titles(page.get(MY_TASKS).content.decode()) == ["Mine"]
    assert titles(page.get(MY_TASKS, {"show": "done"}).content.decode()) == ["Finished"]
    assert titles(page.get(MY_TASKS, {"scope": "by_me"}).content.decode()) == ["For my colleague"]


def test_my_team_is_for_managers_and_shows_their_staffs_tasks(as_user, agency, caseworker, manager, amina):
    me = member_of(agency, caseworker)
    boss = member_of(agency, manager)
    me.manager = boss
    me.save(update_fields=["manager"])
    make_task(agency, caseworker, amina, title="Staff task")

    html = as_user(manager).get(MY_TASKS, {"scope": "team"}).content.decode()
    assert titles(html) == ["Staff task"]
    assert "My team" in html
    # Not a manager: no team tab, and ?scope=team shows their own tasks.
    html = as_user(caseworker).get(MY_TASKS, {"scope": "team"}).content.decode()
    assert "My team" not in html and titles(html) == ["Staff task"]


def test_my_tasks_has_a_friendly_empty_state(as_user, caseworker):
    html = as_user(caseworker).get(MY_TASKS).content.decode()
    assert "Nothing to do" in html


def test_my_tasks_needs_casework_view(as_user, client, agency):
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(MY_TASKS).status_code == 403
    client.logout()
    assert client.get(MY_TASKS).status_code == 302


def test_the_auditor_reads_my_tasks_without_buttons(as_user, agency, auditor, caseworker, amina):
    make_task(agency, caseworker, amina, title="Something", assigned_to=member_of(agency, auditor))
    html = as_user(auditor).get(MY_TASKS).content.decode()
    assert titles(html) == ["Something"]
    assert "Mark done" not in html and "New task" not in html


@pytest.mark.parametrize("count", [5, 50])
def test_my_tasks_runs_a_constant_number_of_queries(as_user, agency, caseworker, amina, count, django_assert_max_num_queries):
    other = register(agency, given_name="Bo")
    for n in range(count):
        make_task(agency, caseworker, amina if n % 2 else other, title=f"Task {n}", due_on=days(agency, n - count // 2))
    page = as_user(caseworker)
    page.get(MY_TASKS)  # warm the session and the caches
    with django_assert_max_num_queries(8):
        html = page.get(MY_TASKS).content.decode()
    assert len(titles(html)) == count


@pytest.mark.parametrize("count", [5, 50])
def test_the_client_tab_runs_a_constant_number_of_queries(
    as_user, agency, caseworker, amina, count, django_assert_max_num_queries
):
    for n in range(count):
        task = make_task(agency, caseworker, amina, title=f"Task {n}", due_on=days(agency, n - count // 2))
        if n % 3 == 0:
            actions.complete_task(task, caseworker)
    page = as_user(caseworker)
    page.get(reverse("casework:client_tasks", args=[amina.pk]))
    with django_assert_max_num_queries(14):
        html = page.get(reverse("casework:client_tasks", args=[amina.pk])).content.decode()
    assert len(titles(html)) == count


# --- Mark done and reopen -------------------------------------------------------------------------


def test_mark_done_without_javascript_redirects_back(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina, due_on=days(agency, -2))
    response = as_user(caseworker).post(reverse("casework:task_complete", args=[task.pk]), {"next": f"{MY_TASKS}?scope=mine"})
    assert response.status_code == 302 and response["Location"] == f"{MY_TASKS}?scope=mine"
    assert fresh(task).status == "done"


def test_mark_done_with_htmx_swaps_the_row(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina, title="Swap me")
    response = as_user(caseworker).post(
        reverse("casework:task_complete", args=[task.pk]), {"next": MY_TASKS, "show_client": "1"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<tr id="task-{task.pk}"')
    assert "Reopen" in html and "Mark done" not in html
    assert 'role="status"' in html and "is done" in html
    assert f'href="{reverse("clients:detail", args=[amina.pk])}"' in html  # the client column kept


def test_reopen_brings_the_task_back(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    actions.complete_task(task, caseworker)
    response = as_user(caseworker).post(reverse("casework:task_reopen", args=[task.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("casework:client_tasks", args=[amina.pk])
    assert fresh(task).status == "open"


def test_the_buttons_are_post_only_and_need_casework_change(as_user, agency, caseworker, auditor, amina):
    task = make_task(agency, caseworker, amina)
    for name in ("task_complete", "task_reopen", "task_cancel"):
        url = reverse(f"casework:{name}", args=[task.pk])
        assert as_user(caseworker).get(url).status_code == 405
        assert as_user(auditor).post(url).status_code == 403
    assert fresh(task).status == "open"


def test_an_unsafe_next_is_ignored(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    response = as_user(caseworker).post(reverse("casework:task_complete", args=[task.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("casework:client_tasks", args=[amina.pk])


def test_another_agencys_task_is_a_404_for_every_page(as_user, agency, caseworker, outsider, amina):
    task = make_task(agency, caseworker, amina)
    page = as_user(outsider)
    for name in ("task_edit", "task_delete"):
        assert page.get(reverse(f"casework:{name}", args=[task.pk])).status_code == 404
    for name in ("task_edit", "task_complete", "task_reopen", "task_cancel", "task_delete"):
        assert page.post(reverse(f"casework:{name}", args=[task.pk]), {"title": "Hijack"}).status_code == 404
    for name in ("client_tasks", "client_task_new"):
        assert page.get(reverse(f"casework:{name}", args=[amina.pk])).status_code == 404
    row = fresh(task)
    assert (row.status, row.title, row.deleted_at) == ("open", "Call the employer", None)


def test_a_colleagues_task_about_no_client_is_a_404(as_user, agency, caseworker, colleague):
    task = make_task(agency, colleague.user, title="My own errand")
    assert as_user(caseworker).get(reverse("casework:task_edit", args=[task.pk])).status_code == 404
    assert as_user(caseworker).post(reverse("casework:task_complete", args=[task.pk])).status_code == 404


# --- The form -------------------------------------------------------------------------------------


def test_it_creates_a_task_from_the_client_tab(as_user, agency, caseworker, colleague, amina):
    url = reverse("casework:client_task_new", args=[amina.pk])
    page = as_user(caseworker)
    html = page.get(url).content.decode()
    assert 'id="client-name"' in html  # in the client's frame
    assert "The client (in their portal)" in html

    response = page.post(
        url,
        {
            "title": "Check the job offer",
            "assigned_to": str(colleague.pk),
            "due_on": "2026-04-01",
            "priority": "high",
            "remind_days_before": "2",
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("casework:client_tasks", args=[amina.pk])
    task = Task.objects.for_agency(agency).get()
    assert (task.client, task.assigned_to, str(task.due_on), task.priority, task.remind_days_before) == (
        amina,
        colleague,
        "2026-04-01",
        "high",
        2,
    )


def test_a_task_for_a_client_without_a_portal_account_is_a_form_error(as_user, agency, caseworker, amina):
    response = as_user(caseworker).post(
        reverse("casework:client_task_new", args=[amina.pk]),
        {"title": "Upload your ID", "assigned_to": "client", "priority": "normal"},
    )
    assert response.status_code == 400
    assert "no portal account" in response.content.decode()
    assert not Task.objects.for_agency(agency).exists()


def test_a_task_for_the_client_with_a_portal_account(as_user, agency, caseworker, amina_portal):
    url = reverse("casework:client_task_new", args=[amina_portal.pk])
    response = as_user(caseworker).post(url, {"title": "Upload your ID", "assigned_to": "client", "priority": "normal"})
    assert response.status_code == 302
    task = Task.objects.for_agency(agency).get()
    assert task.for_client and task.assigned_to is None


def test_another_agencys_staff_member_is_an_invalid_choice(as_user, agency, other_agency, caseworker, amina):
    stranger = make_member(other_agency, "Caseworker")
    response = as_user(caseworker).post(
        reverse("casework:client_task_new", args=[amina.pk]),
        {"title": "x", "assigned_to": str(stranger.pk), "priority": "normal"},
    )
    assert response.status_code == 400
    assert 'id="id_assigned_to_error"' in response.content.decode()
    assert not Task.objects.for_agency(agency).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "due_on": "not a date"}, "due_on"),
        ({"title": "x", "remind_days_before": "-3"}, "remind_days_before"),
        ({"title": "x", "priority": "someday"}, "priority"),
        ({"title": "x", "client_number": "99999"}, "client_number"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(as_user, agency, caseworker, data, field):
    response = as_user(caseworker).post(reverse("casework:task_new"), {"priority": "normal", **data})
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Task.objects.for_agency(agency).exists()


def test_new_task_prefills_the_client_and_finds_clients_by_number(as_user, agency, caseworker, amina):
    page = as_user(caseworker)
    html = page.get(reverse("casework:task_new"), {"client": amina.pk}).content.decode()
    assert f'value="{amina.client_number}"' in html

    response = page.post(
        reverse("casework:task_new"), {"title": "About Amina", "client_number": str(amina.client_number), "priority": "normal"}
    )
    assert response.status_code == 302
    assert Task.objects.for_agency(agency).get().client == amina
    response = page.post(reverse("casework:task_new"), {"title": "About nobody", "priority": "normal"})
    assert response["Location"] == MY_TASKS
    assert Task.objects.for_agency(agency).get(title="About nobody").client is None


def test_another_agencys_client_number_is_not_found(as_user, agency, other_agency, caseworker):
    oscar = register(other_agency, given_name="Oscar")
    oscar.client_number = 4242
    oscar.save(update_fields=["client_number"])
    page = as_user(caseworker)
    response = page.post(reverse("casework:task_new"), {"title": "x", "client_number": "4242", "priority": "normal"})
    assert response.status_code == 400
    html = page.get(reverse("casework:task_new"), {"client": oscar.pk}).content.decode()
    assert 'value="4242"' not in html


def test_editing_a_task(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina, title="Old title")
    url = reverse("casework:task_edit", args=[task.pk])
    page = as_user(caseworker)
    assert 'value="Old title"' in page.get(url).content.decode()
    response = page.post(url, {"title": "New title", "priority": "urgent", "assigned_to": ""})
    assert response.status_code == 302
    assert (fresh(task).title, fresh(task).priority) == ("New title", "urgent")
    assert AuditEvent.objects.for_agency(agency).filter(object_type="casework.task", action="change").exists()


def test_the_form_pages_need_casework_change(as_user, agency, auditor, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    page = as_user(auditor)
    for url in (
        reverse("casework:task_new"),
        reverse("casework:client_task_new", args=[amina.pk]),
        reverse("casework:task_edit", args=[task.pk]),
        reverse("casework:task_delete", args=[task.pk]),
    ):
        assert page.get(url).status_code == 403
        assert page.post(url, {"title": "x", "priority": "normal"}).status_code == 403
    assert Task.objects.for_agency(agency).count() == 1 and fresh(task).deleted_at is None


def test_deleting_a_task_asks_first_then_hides_it(as_user, agency, caseworker, amina):
    task = make_task(agency, caseworker, amina, title="Delete me")
    url = reverse("casework:task_delete", args=[task.pk])
    page = as_user(caseworker)
    assert "Delete this task?" in page.get(url).content.decode()
    assert fresh(task).deleted_at is None
    response = page.post(url)
    assert response["Location"] == reverse("casework:client_tasks", args=[amina.pk])
    assert fresh(task).deleted_at is not None
    assert titles(page.get(response["Location"]).content.decode()) == []
    assert page.get(reverse("casework:task_edit", args=[task.pk])).status_code == 404


# --- The client's tab and the Actions menu --------------------------------------------------------


def test_the_client_tab_lists_the_clients_tasks_and_is_audited(as_user, agency, caseworker, colleague, amina):
    make_task(agency, caseworker, amina, title="Open one", due_on=days(agency, -1))
    done = make_task(agency, colleague.user, amina, title="Done one")
    actions.complete_task(done, colleague.user)
    make_task(agency, caseworker, register(agency, given_name="Bo"), title="Someone else's")

    html = as_user(caseworker).get(reverse("casework:client_tasks", args=[amina.pk])).content.decode()
    assert titles(html) == ["Open one", "Done one"]
    assert "Tasks &amp; referrals" in html and 'aria-current="page"' in html
    assert "Overdue by 1 day" in html
    assert AuditEvent.objects.for_agency(agency).filter(action="view", client_id=amina.pk).exists()


def test_the_client_tab_needs_casework_view(as_user, agency, amina):
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(reverse("casework:client_tasks", args=[amina.pk])).status_code == 403


def test_the_client_tab_includes_the_referrals_section_only_when_its_template_exists(
    as_user, agency, caseworker, amina, monkeypatch
):
    from caseload.casework import task_views

    url = reverse("casework:client_tasks", args=[amina.pk])
    monkeypatch.setattr(task_views, "CLIENT_REFERRALS_TEMPLATE", "casework/no_such_template.html")
    assert as_user(caseworker).get(url).status_code == 200
    monkeypatch.setattr(task_views, "CLIENT_REFERRALS_TEMPLATE", "casework/email/task_reminder_subject.txt")
    response = as_user(caseworker).get(url)
    assert response.context["client_referrals_template"] == "casework/email/task_reminder_subject.txt"


def test_the_actions_menu_offers_create_task_to_those_who_may(as_user, agency, caseworker, auditor, amina):
    from caseload.clients.menu import actions_menu  # noqa: F401  (the entry is built there)

    link = f'href="{reverse("casework:client_task_new", args=[amina.pk])}"'
    assert link in as_user(caseworker).get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert link not in as_user(auditor).get(reverse("clients:detail", args=[amina.pk])).content.decode()
