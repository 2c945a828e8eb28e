"""/api/v1/communications/ and /api/v1/notifications/: the same rules as the pages."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.casework import communications
from caseload.casework.models import Communication
from caseload.casework.tests.comm_helpers import days, fresh, in_scope, portal_client, record, register, remind, today
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/communications/"
LOG = "/api/v1/notifications/"


def count(agency) -> int:
    return in_scope(agency, lambda: Communication.objects.for_agency(agency).count())


def test_it_lists_the_agencys_communications_with_filters(api, agency, other_agency, caseworker):
    amina, bo = portal_client(agency), register(agency, given_name="Bo")
    call = record(amina, subject="Call", date=days(agency, -5))
    reminder = remind(amina, date=days(agency, 2))
    letter = record(bo, kind="letter", subject="Letter")
    record(register(other_agency), subject="Theirs")
    caller = api.as_user(caseworker)

    assert [row["id"] for row in caller.get(URL).json()["results"]] == [reminder.pk, letter.pk, call.pk]
    assert [row["id"] for row in caller.get(URL, {"client": amina.pk}).json()["results"]] == [reminder.pk, call.pk]
    assert [row["id"] for row in caller.get(URL, {"kind": "reminder", "status": "scheduled"}).json()["results"]] == [reminder.pk]
    window = {"date_from": days(agency, -6).isoformat(), "date_to": days(agency, -1).isoformat()}
    assert [row["id"] for row in caller.get(URL, window).json()["results"]] == [call.pk]


@pytest.mark.parametrize("params", [{"kind": "pigeon"}, {"status": "lost"}, {"date_from": "yesterday"}, {"client": "x"}])
def test_a_bad_filter_is_a_400_naming_it(api, agency, caseworker, params):
    response = api.as_user(caseworker).get(URL, params)
    assert response.status_code == 400 and list(errors_of(response)) == list(params)


def test_it_records_a_contact(api, agency, caseworker):
    amina = register(agency)
    response = api.as_user(caseworker).post(URL, {"client": amina.pk, "kind": "email", "subject": "Sent the form"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["status"], body["date"], body["direction"]) == (
        "email",
        "recorded",
        today(agency).isoformat(),
        "outgoing",
    )


def test_a_reminder_to_a_client_without_a_portal_account_is_a_400_naming_kind(api, agency, caseworker):
    amina = register(agency, email="amina@example.org")
    data = {"client": amina.pk, "kind": "reminder", "subject": "Workshop", "body": "Tomorrow at 10."}
    response = api.as_user(caseworker).post(URL, data, format="json")
    assert response.status_code == 400 and list(errors_of(response)) == ["kind"]
    assert "no portal account" in response.json()["errors"][0]["detail"]
    assert count(agency) == 0


def test_a_reminder_is_scheduled_for_a_client_who_logged_in(api, agency, caseworker):
    amina = portal_client(agency)
    data = {
        "client": amina.pk,
        "kind": "reminder",
        "subject": "Workshop",
        "body": "Tomorrow at 10.",
        "date": days(agency, 1).isoformat(),
    }
    response = api.as_user(caseworker).post(URL, data, format="json")
    assert response.status_code == 201 and (response.json()["status"], response.json()["channel"]) == ("scheduled", "email")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "pigeon"}, "kind"),
        ({"date": "soon"}, "date"),
        ({"subject": "", "body": ""}, "subject"),
        ({"program": 999999}, "program"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, agency, caseworker, data, field):
    amina = register(agency)
    response = api.as_user(caseworker).post(URL, {"client": amina.pk, "kind": "phone", "subject": "Call", **data}, format="json")
    assert response.status_code == 400 and field in errors_of(response)
    assert count(agency) == 0


def test_another_agencys_client_cannot_be_written_to_or_read(api, agency, other_agency, caseworker):
    theirs = register(other_agency)
    response = api.as_user(caseworker).post(URL, {"client": theirs.pk, "kind": "phone", "subject": "Call"}, format="json")
    assert response.status_code == 400 and list(errors_of(response)) == ["client"]
    their_call = record(theirs)
    assert api.as_user(caseworker).get(f"{URL}{their_call.pk}/").status_code == 404
    assert api.as_user(caseworker).patch(f"{URL}{their_call.pk}/", {"subject": "Mine"}, format="json").status_code == 404


def test_it_changes_a_communication_but_not_a_sent_reminder(api, agency, caseworker):
    amina = portal_client(agency)
    call, reminder = record(amina), remind(amina)
    communications.send_due_reminders()
    caller = api.as_user(caseworker)
    assert caller.patch(f"{URL}{call.pk}/", {"subject": "Called back"}, format="json").status_code == 200
    assert fresh(call).subject == "Called back"
    assert caller.patch(f"{URL}{reminder.pk}/", {"subject": "Changed"}, format="json").status_code == 400
    assert fresh(reminder).subject == "Workshop tomorrow"
    assert caller.put(f"{URL}{call.pk}/", {"subject": "x"}, format="json").status_code == 405


def test_deleting_a_scheduled_reminder_cancels_it(api, agency, caseworker):
    reminder = remind(portal_client(agency), date=days(agency, 1))
    assert api.as_user(caseworker).delete(f"{URL}{reminder.pk}/").status_code == 204
    assert fresh(reminder).status == "cancelled"
    assert api.as_user(caseworker).get(f"{URL}{reminder.pk}/").status_code == 404


def test_reading_needs_casework_view_and_writing_casework_change(api, agency, auditor):
    amina = register(agency)
    call = record(amina)
    assert api.as_user(auditor).get(URL).status_code == 200
    assert api.as_user(auditor).post(URL, {"client": amina.pk, "kind": "phone", "subject": "x"}, format="json").status_code == 403
    assert api.as_user(auditor).delete(f"{URL}{call.pk}/").status_code == 403
    front_desk = make_member(agency, "Front desk").user
    assert api.as_user(front_desk).get(URL).status_code == 403


class TestNotifications:
    def test_it_lists_a_clients_messages_without_their_text(self, api, agency, caseworker):
        amina, bo = portal_client(agency), portal_client(agency, email="bo@example.org", given_name="Bo")
        remind(amina, body="Secret-ish details of the visit")
        remind(bo)
        communications.send_due_reminders()
        response = api.as_user(caseworker).get(LOG, {"client": amina.pk})
        assert response.status_code == 200
        rows = response.json()["results"]
        assert [(row["kind"], row["client"]) for row in rows] == [("reminder", amina.pk), ("portal_invitation", amina.pk)]
        assert rows[0]["delivered"] is False and "body" not in rows[0]
        assert "Secret-ish" not in response.content.decode()

    def test_the_client_is_required(self, api, agency, caseworker):
        response = api.as_user(caseworker).get(LOG)
        assert response.status_code == 400 and list(errors_of(response)) == ["client"]

    def test_another_agencys_client_has_no_messages_here(self, api, agency, other_agency, caseworker):
        theirs = portal_client(other_agency)
        assert api.as_user(caseworker).get(LOG, {"client": theirs.pk}).json()["results"] == []

    def test_it_needs_casework_view(self, api, agency):
        front_desk = make_member(agency, "Front desk").user
        assert api.as_user(front_desk).get(LOG, {"client": register(agency).pk}).status_code == 403
