"""The email reminder before a task's due date: sent once, to the assignee, in their language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.casework import jobs
from caseload.casework import tasks as actions
from caseload.casework.models import Task
from caseload.casework.tests.task_helpers import (  # noqa: F401 (fixtures)
    amina_fixture,
    amina_portal_fixture,
    colleague_fixture,
    fresh,
    make_task,
    member_of,
    register,
)
from caseload.messaging.models import OutboundMessage
from caseload.scheduling.jobs import get_job
from caseload.tenancy.scoping import all_agencies
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


def outbox() -> list[OutboundMessage]:
    with all_agencies():
        return list(OutboundMessage.objects.filter(kind="task_reminder").order_by("pk"))


def test_a_reminder_is_sent_once_on_its_day_to_the_assignee(agency, caseworker, colleague, amina):
    today = actions.agency_today(agency)
    task = make_task(
        agency,
        caseworker,
        amina,
        title="Call the employer",
        due_on=today + timedelta(days=2),
        remind_days_before=2,
        assigned_to=colleague,
    )

    assert actions.send_task_reminders(today - timedelta(days=1)) == {"sent": 0, "skipped": 0}
    assert actions.send_task_reminders(today) == {"sent": 1, "skipped": 0}
    assert actions.send_task_reminders(today) == {"sent": 0, "skipped": 0}

    [message] = outbox()
    assert message.to == "colleague@example.org"
    assert message.recipient_user == colleague.user
    assert message.client is None  # a staff reminder is not in the client's notification log
    assert "Call the employer" in message.subject
    assert f"/tasks/{task.pk}/edit/" in message.body
    assert "Amina" not in message.body  # the email names the client by number only
    assert fresh(task).reminder_sent_at is not None


def test_a_reminder_is_in_the_staff_members_language(agency, amina):
    francophone = make_member(agency, "Caseworker", email="fr@example.org")
    francophone.user.preferred_language = "fr"
    francophone.user.save(update_fields=["preferred_language"])
    today = actions.agency_today(agency)
    make_task(agency, francophone.user, amina, title="Appeler", due_on=today)

    actions.send_task_reminders(today)
    [message] = outbox()
    assert "Appeler" in message.subject
    assert "Bonjour" in message.body


def test_nothing_is_sent_for_done_deleted_undated_or_unreminded_tasks(agency, caseworker, amina):
    today = actions.agency_today(agency)
    done = make_task(agency, caseworker, amina, due_on=today)
    actions.complete_task(done, caseworker)
    deleted = make_task(agency, caseworker, amina, due_on=today)
    actions.delete_task(deleted, caseworker)
    make_task(agency, caseworker, amina)  # no due date
    make_task(agency, caseworker, amina, due_on=today, remind_days_before=None)
    make_task(agency, caseworker, amina, due_on=today - timedelta(days=3))  # already overdue when created

    assert actions.send_task_reminders(today) == {"sent": 0, "skipped": 0}
    assert outbox() == []


def test_a_client_task_reminds_the_client_only_with_consent(agency, caseworker, amina_portal):
    today = actions.agency_today(agency)
    with_consent = make_task(
        agency, caseworker, amina_portal, title="Bring your résumé", due_on=today + timedelta(days=1), for_client=True
    )

    assert actions.send_task_reminders(today) == {"sent": 1, "skipped": 0}
    [message] = outbox()
    assert message.to == "amina@example.org"
    assert message.client == amina_portal  # in the client's notification log
    assert "/tasks/" not in message.body  # no link to the staff pages
    assert "Bonjour Amina" in message.body  # the client's preferred language
    assert fresh(with_consent).reminder_sent_at is not None

    amina_portal.consent_email = False
    amina_portal.save(update_fields=["consent_email"])
    without = make_task(agency, caseworker, amina_portal, due_on=today, for_client=True)
    assert actions.send_task_reminders(today) == {"sent": 0, "skipped": 1}
    assert len(outbox()) == 1
    # Claimed all the same: it is not tried again every 15 minutes.
    assert fresh(without).reminder_sent_at is not None


def test_a_new_due_date_rearms_the_reminder(agency, caseworker, amina):
    today = actions.agency_today(agency)
    task = make_task(agency, caseworker, amina, due_on=today)
    actions.send_task_reminders(today)
    actions.update_task(task, caseworker, {"due_on": today + timedelta(days=1)})
    assert actions.send_task_reminders(today) == {"sent": 1, "skipped": 0}
    assert len(outbox()) == 2


def test_a_claim_taken_by_another_run_sends_nothing(agency, caseworker, amina):
    today = actions.agency_today(agency)
    task = make_task(agency, caseworker, amina, due_on=today)
    # Another run claimed it between this run's read and its UPDATE.
    Task.objects.for_agency(agency).filter(pk=task.pk).update(reminder_sent_at=timezone.now())
    assert actions._send_reminder(fresh(task), today) is None
    assert outbox() == []


def test_reminders_of_every_agency_go_out_in_their_own_scope(agency, other_agency, caseworker, outsider, amina):
    today = actions.agency_today(agency)
    make_task(agency, caseworker, amina, due_on=today)
    oscar = register(other_agency, given_name="Oscar")
    make_task(other_agency, outsider, oscar, due_on=today)

    assert actions.send_task_reminders(today)["sent"] == 2
    assert {(m.agency_id, m.to) for m in outbox()} == {(agency.pk, caseworker.email), (other_agency.pk, outsider.email)}


def test_the_periodic_job_runs_every_15_minutes_and_sends_them(agency, caseworker, amina):
    job = get_job("casework.task_reminders")
    assert job.every == 15 * 60
    assert job.get_task() is jobs.send_task_reminders

    make_task(agency, caseworker, amina, due_on=actions.agency_today(agency))
    assert jobs.send_task_reminders.call()["sent"] == 1
    assert jobs.send_task_reminders.call()["sent"] == 0
    assert member_of(agency, caseworker).user.email == outbox()[0].to
