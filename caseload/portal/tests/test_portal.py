"""The client portal: a client's own open tasks and sent reminders, nothing internal, nobody else's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.casework import communications
from caseload.casework.models import Task
from caseload.casework.tasks import create_task
from caseload.casework.tests.comm_helpers import days, in_scope, invite, portal_client, record, register, remind
from caseload.clients import actions as client_actions
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

HOME = "/portal/"


def task_for(client, title: str, **data) -> Task:
    with agency_scope(client.agency):
        return create_task(client.agency, None, {"title": title, "for_client": True, **data}, client=client)


@pytest.fixture
def amina(agency):
    return portal_client(agency)


@pytest.fixture
def bo(agency):
    return portal_client(agency, email="bo@example.org", given_name="Bo")


def test_a_client_logging_in_lands_in_the_portal(client, amina):
    client.force_login(amina.portal_user)
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302 and response["Location"] == HOME


def test_staff_keep_their_dashboard(client, caseworker):
    client.force_login(caseworker)
    assert client.get(reverse("web:dashboard")).status_code == 200


def test_the_portal_shows_the_clients_open_tasks_and_sent_reminders(client, agency, amina, caseworker):
    task_for(amina, "Bring your resume", description="A printed copy", due_on=days(agency, 3))
    done = task_for(amina, "Already done")
    in_scope(agency, lambda: Task.objects.for_agency(agency).filter(pk=done.pk).update(status="done"))
    remind(amina, caseworker, subject="Workshop tomorrow", body="At 10:00, room 2.")
    remind(amina, caseworker, subject="Next week's interview", date=days(agency, 5))  # not sent yet
    communications.send_due_reminders()

    client.force_login(amina.portal_user)
    html = client.get(HOME).content.decode()

    assert "Bring your resume" in html and "A printed copy" in html
    assert "Workshop tomorrow" in html and "At 10:00, room 2." in html
    assert "Already done" not in html and "Next week&#x27;s interview" not in html and "Next week's interview" not in html


def test_nothing_internal_reaches_the_portal(client, agency, amina, caseworker):
    record(amina, caseworker, kind="phone", subject="Internal call", body="Seemed stressed about rent.")
    with agency_scope(agency):
        client_actions.flag_client(amina, None, "Meet with two staff present.")
        create_task(agency, caseworker, {"title": "Staff-only follow-up"}, client=amina)
    client.force_login(amina.portal_user)
    html = client.get(HOME).content.decode()
    for internal in ("Internal call", "Seemed stressed", "two staff present", "Staff-only follow-up", caseworker.full_name):
        assert internal not in html


def test_another_clients_tasks_and_reminders_never_show(client, agency, amina, bo):
    task_for(bo, "Bo's task")
    remind(bo, subject="For Bo only")
    communications.send_due_reminders()
    client.force_login(amina.portal_user)
    html = client.get(HOME).content.decode()
    assert "For Bo only" not in html and "Bo&#x27;s task" not in html


def test_a_client_marks_their_task_done(client, agency, amina):
    task = task_for(amina, "Bring your resume")
    client.force_login(amina.portal_user)
    response = client.post(reverse("portal:task_done", args=[task.pk]), follow=True)
    assert response.status_code == 200 and "is marked done" in response.content.decode()
    with agency_scope(agency):
        task.refresh_from_db()
        assert (task.status, task.completed_by) == ("done", amina.portal_user)
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(action="change", object_type="casework.task", actor=amina.portal_user)
            .exists()
        )
    assert "Bring your resume" not in client.get(HOME).content.decode()


def test_a_client_cannot_complete_another_clients_task_nor_a_staff_task(client, agency, amina, bo, caseworker):
    theirs = task_for(bo, "Bo's task")
    with agency_scope(agency):
        staff_task = create_task(agency, caseworker, {"title": "Staff task"}, client=amina)
    client.force_login(amina.portal_user)
    for task in (theirs, staff_task):
        assert client.post(reverse("portal:task_done", args=[task.pk])).status_code == 404
        with agency_scope(agency):
            task.refresh_from_db()
        assert task.status == "open"


def test_another_agencys_task_is_a_404(client, other_agency, amina):
    theirs = task_for(portal_client(other_agency, email="zoe@example.org"), "Their task")
    client.force_login(amina.portal_user)
    assert client.post(reverse("portal:task_done", args=[theirs.pk])).status_code == 404


def test_marking_done_needs_a_post(client, amina):
    task = task_for(amina, "Bring your resume")
    client.force_login(amina.portal_user)
    assert client.get(reverse("portal:task_done", args=[task.pk])).status_code == 405


def test_a_portal_user_never_reaches_staff_pages(client, agency, amina):
    client.force_login(amina.portal_user)
    pages = [
        reverse("clients:list"),
        reverse("clients:detail", args=[amina.pk]),
        reverse("casework:communications", args=[amina.pk]),
        reverse("casework:notifications", args=[amina.pk]),
        reverse("casework:notes", args=[amina.pk]),
        reverse("messaging:outbox"),
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert client.get("/api/v1/communications/").status_code == 403


def test_staff_get_a_404_in_the_portal(client, agency, caseworker):
    client.force_login(caseworker)
    assert client.get(HOME).status_code == 404


def test_the_portal_needs_a_log_in(client):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_an_account_that_is_not_a_client_gets_a_404(client):
    from caseload.testing.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(HOME).status_code == 404


def test_the_portal_speaks_french(client, amina):
    client.force_login(amina.portal_user)
    html = client.get(HOME, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert 'lang="fr"' in html


def test_a_client_who_never_logged_in_is_not_offered_reminders_until_then(agency):
    # The portal account counts as used once its owner logged in (force_login sets last_login).
    amina = invite(register(agency, email="amina@example.org"))
    assert communications.reminder_refusal(amina) is not None
    make_member(agency)  # unrelated staff do not change it
    amina.portal_user.last_login = amina.portal_user.date_joined
    amina.portal_user.save(update_fields=["last_login"])
    assert communications.reminder_refusal(amina) is None
