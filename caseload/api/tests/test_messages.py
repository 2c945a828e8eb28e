import pytest

from caseload.api.tests.helpers import errors_of
from caseload.messaging.actions import queue_email, queue_sms
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/messages/"


def email(agency, to="ana@example.org", body="Your appointment is on Tuesday."):
    with agency_scope(agency):
        return queue_email(agency=agency, to=to, subject="Appointment", body=body)


@pytest.mark.django_db
class TestMessages:
    def test_it_lists_only_the_agencys_messages_without_their_bodies(self, api, agency, other_agency, caseworker):
        ours = email(agency)
        theirs = email(other_agency, to="theirs@example.org")
        response = api.as_user(caseworker).get(URL)
        assert response.status_code == 200
        results = response.json()["results"]
        assert [m["id"] for m in results] == [ours.pk]
        assert theirs.pk not in {m["id"] for m in results}
        assert "Tuesday" not in response.content.decode()
        assert results[0]["status"] == "queued"

    def test_it_answers_404_for_another_agencys_message(self, api, agency, other_agency, caseworker):
        theirs = email(other_agency)
        assert api.as_user(caseworker).get(f"{URL}{theirs.pk}/").status_code == 404

    def test_it_needs_messages_view(self, api, agency, db):
        from caseload.testing.factories import make_member

        front_desk = make_member(agency, "Front desk").user
        assert api.as_user(front_desk).get(URL).status_code == 403

    def test_it_is_read_only(self, api, agency, admin, auditor):
        message = email(agency)
        for user in (admin, auditor):
            client = api.as_user(user)
            assert client.post(URL, {"to": "x@example.org"}).status_code == 405
            assert client.delete(f"{URL}{message.pk}/").status_code == 405

    def test_it_filters_by_channel_and_status(self, api, agency, caseworker):
        mail = email(agency)
        with agency_scope(agency):
            text = queue_sms(agency=agency, to="+15145550123", body="Reminder")
        client = api.as_user(caseworker)
        assert [m["id"] for m in client.get(URL, {"channel": "sms"}).json()["results"]] == [text.pk]
        assert {m["id"] for m in client.get(URL, {"status": "queued"}).json()["results"]} == {mail.pk, text.pk}
        assert client.get(URL, {"status": "sent"}).json()["results"] == []

    def test_an_unknown_filter_value_is_a_400_naming_the_parameter(self, api, agency, caseworker):
        response = api.as_user(caseworker).get(URL, {"status": "lost"})
        assert response.status_code == 400
        assert errors_of(response) == {"status": ["invalid_choice"]}
