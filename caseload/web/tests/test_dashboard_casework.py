"""The dashboard's casework sections: each shows the right rows to the right person, in constant queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from caseload.audit.actions import Action, record
from caseload.casework.tests import history_helpers as make
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

HOME = "/"


def today() -> dt.date:
    return timezone.localdate(timezone=make.TORONTO)


def days(n: int) -> dt.date:
    return today() + dt.timedelta(days=n)


@pytest.fixture
def worker(agency):
    return make_member(agency, "Caseworker")


@pytest.fixture
def colleague(agency):
    return make_member(agency, "Caseworker")


@pytest.fixture
def person(agency):
    return make.a_client(agency, "Amina", "Haddad")


def dashboard(client, member):
    client.force_login(member.user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response


def test_tasks_due_come_overdue_first_then_today_then_this_week(client, agency, person, worker, colleague):
    this_week = make.task(agency, worker, client=person, title="Book the interpreter", due_on=days(3))
    today_task = make.task(agency, worker, client=person, title="Send the letter", due_on=days(0))
    overdue = make.task(agency, worker, title="File the report", due_on=days(-2))
    urgent_today = make.task(agency, worker, client=person, title="Call the landlord", due_on=days(0), priority="urgent")
    make.task(agency, worker, client=person, title="Too far ahead", due_on=days(8))
    make.task(agency, worker, client=person, title="Already done", due_on=days(-1), status="done")
    make.task(agency, worker, client=person, title="Deleted one", due_on=days(-1), deleted_at=timezone.now())
    make.task(agency, colleague, client=person, title="Someone else's", due_on=days(-1))
    make.task(agency, worker, client=person, title="No due date")
    response = dashboard(client, worker)
    section = response.context["work"].tasks
    assert [task.pk for task in section.rows] == [overdue.pk, urgent_today.pk, today_task.pk, this_week.pk]
    assert section.count == 4
    assert section.extra == {"overdue": 1, "today": 2, "upcoming": 1, "hidden": 0}
    html = response.content.decode()
    assert "Overdue by 2 days" in html and "Due today" in html
    assert "Someone else" not in html and "Too far ahead" not in html
    assert reverse("casework:my_tasks") in html


def test_only_the_first_five_tasks_show_but_all_are_counted(client, agency, worker):
    for n in range(8):
        make.task(agency, worker, title=f"Task {n}", due_on=days(-n))
    response = dashboard(client, worker)
    section, html = response.context["work"].tasks, response.content.decode()
    assert len(section.rows) == 5
    assert section.count == 8
    assert section.extra["overdue"] == 7
    assert "and 3 more due this week" in html


def test_notes_in_draft_are_the_members_own(client, agency, person, worker, colleague):
    mine = make.note(person, worker, days(-1), status="draft", note_type="progress")
    make.note(person, worker, days(-1), status="final")
    make.note(person, worker, days(-1), status="draft", deleted_at=timezone.now())
    make.note(person, colleague, days(-1), status="draft", body="Colleague's draft", is_private=True)
    response = dashboard(client, worker)
    section = response.context["work"].drafts
    assert section.count == 1
    assert [(draft.title, draft.client.pk) for draft in section.rows] == [("Progress", person.pk)]
    assert reverse("casework:note_edit", args=[mine.pk]) in response.content.decode()


def test_reminders_today_are_those_to_my_clients_or_written_by_me(client, agency, worker, colleague):
    mine = make.a_client(agency, "Bao", "Nguyen")
    theirs = make.a_client(agency, "Chloé", "Tremblay")
    with agency_scope(agency):
        make.assignment(mine, worker, timezone.now())
    to_my_client = make.communication(mine, colleague, today(), kind="reminder", subject="Workshop tomorrow", status="scheduled")
    written_by_me = make.communication(theirs, worker, today(), kind="reminder", subject="Bring your ID", status="sent")
    make.communication(theirs, colleague, today(), kind="reminder", subject="Not mine", status="scheduled")
    make.communication(mine, worker, days(1), kind="reminder", subject="Tomorrow's", status="scheduled")
    make.communication(mine, worker, today(), kind="reminder", subject="Called off", status="cancelled")
    make.communication(mine, worker, today(), kind="phone", subject="A phone call")
    response = dashboard(client, worker)
    section = response.context["work"].reminders
    assert {reminder.pk for reminder in section.rows} == {to_my_client.pk, written_by_me.pk}
    assert section.count == 2
    html = response.content.decode()
    assert "Workshop tomorrow" in html and "Bring your ID" in html and "Not mine" not in html


def test_referrals_awaiting_an_answer_are_the_ones_i_sent(client, agency, person, worker, colleague):
    program = make.a_program(agency, "Language Training")
    waiting = make.service_referral(person, worker, days(-4), to_program=program)
    make.service_referral(person, worker, days(-3), to_program=program, status="accepted")
    make.service_referral(person, colleague, days(-3), to_program=program)
    make.service_referral(person, worker, days(-3), to_program=program, deleted_at=timezone.now())
    response = dashboard(client, worker)
    section = response.context["work"].referrals
    assert [referral.pk for referral in section.rows] == [waiting.pk]
    html = response.content.decode()
    assert "To Language Training" in html and "Waiting 4 days" in html
    assert reverse("casework:referral_detail", args=[waiting.pk]) in html


def test_incoming_referrals_from_other_agencies_show_to_those_who_answer_them(client, agency, other_agency, worker):
    from caseload.clients.referrals import refer_to_agency

    stranger = make.a_client(other_agency, "Dara", "Osei")
    with agency_scope(other_agency):
        refer_to_agency(stranger, None, to_agency=agency, reason="Needs housing help", client_consent=True)
    assert dashboard(client, worker).context["work"].referrals.extra["incoming"] == 1
    assert "1 referral from another agency to answer" in dashboard(client, worker).content.decode()
    auditor = make_member(agency, "Read-only auditor")
    assert dashboard(client, auditor).context["work"].referrals.extra["incoming"] is None


def test_recent_clients_are_the_ones_i_worked_on_latest_first(client, agency, worker, colleague):
    first, second, third = (make.a_client(agency, name, "Example") for name in ("First", "Second", "Third"))
    with agency_scope(agency):
        note = make.note(first, worker, days(0))
        record(agency=agency, actor=worker.user, action=Action.CREATE, obj=note, client_id=first.pk)
        record(agency=agency, actor=worker.user, action=Action.VIEW, obj=second, client_id=second.pk)
        record(agency=agency, actor=colleague.user, action=Action.VIEW, obj=third, client_id=third.pk)
        record(agency=agency, actor=worker.user, action=Action.VIEW, obj=first, client_id=first.pk)
    response = dashboard(client, worker)
    # The client last opened comes first, with what the member last did for them.
    section = response.context["work"].recent
    assert [(row.client.pk, row.what) for row in section.rows] == [
        (first.pk, "Wrote a case note"),
        (second.pk, "Opened the record"),
    ]
    assert section.count == 2
    assert "Third Example" not in response.content.decode()


def test_opening_a_profile_puts_the_client_on_my_dashboard(client, agency, person, worker):
    client.force_login(worker.user)
    client.get(reverse("clients:detail", args=[person.pk]))
    rows = client.get(HOME).context["work"].recent.rows
    assert [row.client.pk for row in rows] == [person.pk]


def test_a_new_caseworker_sees_friendly_empty_sections(client, worker):
    html = dashboard(client, worker).content.decode()
    for text in (
        "My work today",
        "Nothing due this week",
        "No reminders today",
        "No clients yet",
        "No drafts",
        "No referrals waiting",
    ):
        assert text in html, text


def test_a_member_without_casework_sees_no_casework_sections(client, agency, person):
    front_desk = make_member(agency, "Front desk")
    work = dashboard(client, front_desk).context["work"]
    assert work.tasks is None and work.drafts is None and work.reminders is None and work.referrals is None
    assert work.recent is not None  # they do open clients' profiles


# --- The pages behind "see all" ----------------------------------------------------------------


def test_my_drafts_lists_every_draft_of_mine(client, agency, person, worker, colleague):
    for n in range(7):
        make.note(person, worker, days(-n), status="draft")
    make.note(person, colleague, days(0), status="draft")
    client.force_login(worker.user)
    response = client.get(reverse("web:drafts"))
    assert response.status_code == 200
    assert response.context["count"] == 7 and len(response.context["rows"]) == 7


def test_todays_reminders_page_lists_them_all(client, agency, person, worker):
    for n in range(7):
        make.communication(person, worker, today(), kind="reminder", subject=f"Reminder {n}", status="scheduled")
    client.force_login(worker.user)
    response = client.get(reverse("web:reminders"))
    assert response.status_code == 200
    html = response.content.decode()
    assert all(f"Reminder {n}" in html for n in range(7))


@pytest.mark.parametrize("name", ["web:drafts", "web:reminders"])
def test_the_see_all_pages_need_casework_view(client, agency, name):
    client.force_login(make_member(agency, "Front desk").user)
    assert client.get(reverse(name)).status_code == 403


# --- Constant queries ----------------------------------------------------------------------------


def records_of_each_kind(agency, worker, n):
    program = make.a_program(agency, f"Program {n}")
    for i in range(n):
        person = make.a_client(agency, f"Client{i}", f"Batch{n}")
        with agency_scope(agency):
            make.assignment(person, worker, timezone.now())
            record(agency=agency, actor=worker.user, action=Action.VIEW, obj=person, client_id=person.pk)
        make.task(agency, worker, client=person, due_on=days(i % 9 - 3))
        make.note(person, worker, days(-1), status="draft")
        make.communication(person, worker, today(), kind="reminder", status="scheduled")
        make.service_referral(person, worker, days(-2), to_program=program)


def test_the_dashboard_runs_the_same_queries_for_2_records_of_each_kind_as_for_100(
    client, agency, worker, django_assert_max_num_queries
):
    client.force_login(worker.user)
    records_of_each_kind(agency, worker, 2)
    client.get(HOME)  # warm the caches
    with CaptureQueriesContext(connection) as few:
        client.get(HOME)
    records_of_each_kind(agency, worker, 98)
    with CaptureQueriesContext(connection) as many:
        response = client.get(HOME)
    assert len(many) == len(few)
    work = response.context["work"]
    assert work.tasks.count > 50 and work.drafts.count == 100 and work.reminders.count == 100 and work.referrals.count == 100
    # The budget: at most 15 queries for the dashboard, on top of the request's own 3
    # (session, user, memberships).
    with django_assert_max_num_queries(3 + 15):
        client.get(HOME)
