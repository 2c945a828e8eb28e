"""The task actions: for oneself, another staff member or the client; done, reopened, cancelled, deleted; audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

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
    with_portal,
)
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


def events(task: Task, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.for_agency(task.agency)
        .filter(object_type="casework.task", object_id=str(task.pk), action=action)
        .order_by("pk")
    )


def test_it_creates_a_task_for_the_actor_by_default(agency, caseworker, amina):
    task = make_task(
        agency, caseworker, amina, description="Ask about the forklift licence", due_on=days(agency, 3), priority="high"
    )

    me = member_of(agency, caseworker)
    assert (task.assigned_to, task.created_by, task.client, task.for_client) == (me, me, amina, False)
    assert (task.status, task.priority, task.remind_days_before) == ("open", "high", 1)
    [created] = events(task, AuditEvent.Action.CREATE)
    assert created.client_id == amina.pk
    assert created.changes["title"] == [None, "Call the employer"]
    # The description may say anything about the client: its value never reaches the audit log.
    assert created.changes["description"] == ["[redacted]", "[redacted]"]


def test_it_creates_a_task_for_another_staff_member(agency, caseworker, colleague, amina):
    task = make_task(agency, caseworker, amina, assigned_to=colleague)
    assert task.assigned_to == colleague
    assert task.created_by == member_of(agency, caseworker)


def test_it_creates_a_task_about_no_client(agency, caseworker):
    task = make_task(agency, caseworker, title="Renew my first-aid certificate")
    assert task.client is None and task.assigned_to == member_of(agency, caseworker)


def test_a_task_for_the_client_goes_to_the_client_not_to_staff(agency, caseworker, amina_portal):
    task = make_task(agency, caseworker, amina_portal, for_client=True)
    assert task.for_client is True and task.assigned_to is None


def test_a_task_for_the_client_needs_a_portal_account(agency, caseworker, amina):
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina, for_client=True)
    assert "portal account" in refused.value.message_dict["for_client"][0]
    assert not Task.objects.for_agency(agency).exists()


def test_a_task_for_the_client_needs_a_client(agency, caseworker):
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, None, for_client=True)
    assert "for_client" in refused.value.message_dict


def test_a_task_for_the_client_is_not_also_assigned_to_staff(agency, caseworker, colleague, amina_portal):
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina_portal, for_client=True, assigned_to=colleague)
    assert "assigned_to" in refused.value.message_dict


def test_another_agencys_staff_member_is_refused_naming_the_field(agency, other_agency, caseworker, amina):
    stranger = make_member(other_agency, "Caseworker")
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina, assigned_to=stranger)
    assert list(refused.value.message_dict) == ["assigned_to"]
    assert not Task.objects.for_agency(agency).exists()


def test_a_staff_member_who_left_is_refused(agency, caseworker, colleague, amina):
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina, assigned_to=colleague)
    assert "assigned_to" in refused.value.message_dict


def test_another_agencys_program_or_client_is_refused(agency, other_agency, caseworker, amina):
    theirs = make_program(other_agency, "Their program")
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina, program=theirs)
    assert "program" in refused.value.message_dict
    oscar = register(other_agency, given_name="Oscar")
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, oscar)
    assert "client" in refused.value.message_dict


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"priority": "someday"}, "priority"),
        ({"remind_days_before": -1}, "remind_days_before"),
        ({"remind_days_before": 400}, "remind_days_before"),
        ({"due_on": "2026-13-01"}, "due_on"),
    ],
)
def test_bad_input_is_refused_naming_the_field(agency, caseworker, amina, data, field):
    with pytest.raises(ValidationError) as refused:
        make_task(agency, caseworker, amina, **data)
    assert field in refused.value.message_dict


def test_it_completes_and_reopens_a_task_with_audit_events(agency, caseworker, amina):
    task = make_task(agency, caseworker, amina)

    done = actions.complete_task(task, caseworker)
    assert (done.status, done.completed_by) == ("done", caseworker)
    assert done.completed_at is not None
    assert actions.complete_task(done, caseworker).completed_at == done.completed_at  # done twice is done once

    reopened = actions.reopen_task(done, caseworker)
    assert (reopened.status, reopened.completed_at, reopened.completed_by) == ("open", None, None)
    changes = [event.changes["status"] for event in events(task, AuditEvent.Action.CHANGE)]
    assert changes == [["open", "done"], ["done", "open"]]


def test_a_cancelled_task_must_be_reopened_before_it_is_done(agency, caseworker, amina):
    task = actions.cancel_task(make_task(agency, caseworker, amina), caseworker)
    assert task.status == "cancelled"
    with pytest.raises(ValidationError) as refused:
        actions.complete_task(task, caseworker)
    assert "status" in refused.value.message_dict
    assert actions.complete_task(actions.reopen_task(task, caseworker), caseworker).status == "done"


def test_the_client_completes_their_own_task_but_not_a_staff_task(agency, caseworker, amina_portal):
    theirs = make_task(agency, caseworker, amina_portal, for_client=True)
    staff_only = make_task(agency, caseworker, amina_portal)

    done = actions.complete_task(theirs, amina_portal.portal_user)
    assert (done.status, done.completed_by) == ("done", amina_portal.portal_user)
    with pytest.raises(PermissionDenied):
        actions.complete_task(staff_only, amina_portal.portal_user)
    assert fresh(staff_only).status == "open"


def test_another_client_cannot_complete_the_task(agency, caseworker, amina_portal):
    task = make_task(agency, caseworker, amina_portal, for_client=True)
    other = with_portal(register(agency, given_name="Bo", email="bo@example.org"))
    with pytest.raises(PermissionDenied):
        actions.complete_task(task, other.portal_user)


def test_an_update_changes_fields_and_rearms_the_reminder(agency, caseworker, colleague, amina):
    task = make_task(agency, caseworker, amina, due_on=days(agency, 1), description="Old details")
    Task.objects.for_agency(agency).filter(pk=task.pk).update(reminder_sent_at="2026-01-01T00:00:00Z")

    with agency_scope(agency):
        changed = actions.update_task(
            fresh(task), caseworker, {"due_on": days(agency, 5), "assigned_to": colleague, "description": "New"}
        )

    assert (changed.due_on, changed.assigned_to, changed.title) == (days(agency, 5), colleague, "Call the employer")
    assert changed.reminder_sent_at is None and changed.updated_at is not None
    [event] = events(task, AuditEvent.Action.CHANGE)
    assert event.changes["assigned_to"] == [member_of(agency, caseworker).pk, colleague.pk]
    assert event.changes["description"] == ["[redacted]", "[redacted]"]


def test_a_title_change_keeps_an_assignee_who_has_left(agency, caseworker, colleague, amina):
    task = make_task(agency, caseworker, amina, assigned_to=colleague)
    colleague.is_active = False
    colleague.save(update_fields=["is_active"])
    changed = actions.update_task(task, caseworker, {"title": "Call the employer again"})
    assert (changed.title, changed.assigned_to) == ("Call the employer again", colleague)


def test_delete_is_soft_and_audited(agency, caseworker, amina):
    task = make_task(agency, caseworker, amina)
    actions.delete_task(task, caseworker)

    row = fresh(task)
    assert row.deleted_at is not None and row.deleted_by == caseworker
    [deleted] = events(task, AuditEvent.Action.DELETE)
    assert deleted.client_id == amina.pk
    with pytest.raises(ValidationError):
        actions.complete_task(row, caseworker)


def test_a_task_about_no_client_is_seen_by_the_people_it_concerns_only(agency, caseworker, colleague):
    mine = make_task(agency, caseworker, title="Private errand")
    boss = make_member(agency, "Manager")
    me = member_of(agency, caseworker)
    me.manager = boss
    me.save(update_fields=["manager"])
    mine = fresh(mine)

    assert actions.may_see_task(mine, me)
    assert actions.may_see_task(mine, boss)
    assert not actions.may_see_task(mine, colleague)
    visible = Task.objects.for_agency(agency).filter(actions.visible_tasks_q(colleague))
    assert not visible.exists()
