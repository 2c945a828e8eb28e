"""/api/v1/sessions/: list with filters, read, record, change and delete sessions, and their attendees."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.delivery.models import Attendee, Session
from caseload.delivery.tests.helpers import DAY, direct_session, fill, group_session, register, team
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/sessions/"


@pytest.fixture
def t(agency):
    return team(agency)


def detail(session) -> str:
    return f"{URL}{session.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


class TestReading:
    def test_it_lists_the_sessions_of_ones_programs_with_their_fields(self, api, t):
        session = direct_session(t, duration_minutes=45, location="Office 2")

        [row] = api.as_user(t.colleague.user).get(URL).json()["results"]

        assert row["id"] == session.pk and row["client"] == t.client.pk and row["program"] == t.program.pk
        assert (row["session_type"], row["date"], row["duration_minutes"], row["location"]) == (
            "direct",
            DAY.isoformat(),
            45,
            "Office 2",
        )
        assert row["staff"] == t.writer.pk and row["attendees"] == [] and row["anonymous_attendees"] == 0

    def test_a_caseworker_outside_the_program_sees_nothing(self, api, t):
        session = direct_session(t)
        api.as_user(t.stranger.user)

        assert ids(api.get(URL)) == []
        assert api.get(detail(session)).status_code == 404

    def test_a_manager_with_all_programs_sees_every_program(self, api, t):
        session = direct_session(t)
        assert ids(api.as_user(t.boss.user).get(URL)) == [session.pk]

    def test_another_agencys_session_is_not_found(self, api, t, outsider):
        session = direct_session(t)
        assert api.as_user(outsider).get(detail(session)).status_code == 404
        assert ids(api.get(URL)) == []

    def test_it_filters_by_client_program_type_and_dates(self, api, t):
        other_client = register(t.agency, given_name="Omar", family_name="Haddad")
        a = direct_session(t)
        b = group_session(t, date=DAY.replace(day=20))
        api.as_user(t.boss.user)

        assert ids(api.get(URL, {"client": t.client.pk})) == [a.pk]
        assert ids(api.get(URL, {"client": other_client.pk})) == []
        assert set(ids(api.get(URL, {"program": t.program.pk}))) == {a.pk, b.pk}
        assert ids(api.get(URL, {"session_type": "io_group"})) == [b.pk]
        assert ids(api.get(URL, {"date_from": "2026-03-15"})) == [b.pk]
        assert ids(api.get(URL, {"date_to": "2026-03-15"})) == [a.pk]

    def test_a_bad_filter_is_a_400_naming_it(self, api, t):
        response = api.as_user(t.writer.user).get(URL, {"session_type": "party", "date_from": "soon", "client": "x"})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"session_type", "date_from", "client"}

    def test_a_member_without_delivery_view_is_refused(self, api, t):
        desk = make_member(t.agency, "Front desk")
        assert api.as_user(desk.user).get(URL).status_code == 403


class TestWriting:
    def test_it_records_a_one_on_one_session(self, api, t):
        response = api.as_user(t.writer.user).post(
            URL,
            {"session_type": "direct", "client": t.client.pk, "program": t.program.pk, "date": "2026-03-11", "mode": "phone"},
        )

        assert response.status_code == 201, response.content
        session = Session.objects.for_agency(t.agency).get(pk=response.json()["id"])
        assert (session.client, session.program, session.mode, session.staff) == (t.client, t.program, "phone", t.writer)

    def test_a_program_one_does_not_belong_to_is_a_400_naming_program(self, api, t):
        response = api.as_user(t.writer.user).post(
            URL, {"session_type": "direct", "client": t.client.pk, "program": t.other_program.pk}
        )
        assert response.status_code == 400
        assert set(errors_of(response)) == {"program"}

    def test_a_one_on_one_session_without_a_client_is_a_400_naming_client(self, api, t):
        response = api.as_user(t.writer.user).post(URL, {"session_type": "direct", "program": t.program.pk})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"client"}

    def test_another_agencys_client_does_not_exist(self, api, t, other_agency):
        stranger_client = register(other_agency, given_name="Lea", family_name="Roy")
        response = api.as_user(t.writer.user).post(
            URL, {"session_type": "direct", "client": stranger_client.pk, "program": t.program.pk}
        )
        assert response.status_code == 400
        assert errors_of(response) == {"client": ["does_not_exist"]}

    def test_it_changes_a_session_but_not_its_type(self, api, t):
        session = direct_session(t)
        api.as_user(t.writer.user)

        response = api.patch(detail(session), {"title": "Housing", "duration_minutes": 30})
        assert response.status_code == 200, response.content
        assert (response.json()["title"], response.json()["duration_minutes"]) == ("Housing", 30)

        response = api.patch(detail(session), {"session_type": "finance"})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"session_type"}

    def test_a_duration_beyond_a_day_is_a_400_naming_it(self, api, t):
        session = direct_session(t)
        response = api.as_user(t.writer.user).patch(detail(session), {"duration_minutes": 2000})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"duration_minutes"}

    def test_deleting_a_session_deletes_its_records_too(self, api, t):
        session = direct_session(t)
        fill(session, t.writer.user)
        api.as_user(t.writer.user)

        assert api.delete(detail(session)).status_code == 204
        assert api.get(detail(session)).status_code == 404
        assert api.get("/api/v1/service-records/").json()["results"] == []

    def test_a_member_without_delivery_change_cannot_write(self, api, t):
        auditor = make_member(t.agency, "Read-only auditor")
        session = direct_session(t)
        api.as_user(auditor.user)
        assert api.get(detail(session)).status_code == 200
        assert api.patch(detail(session), {"title": "x"}).status_code == 403
        assert api.delete(detail(session)).status_code == 403

    def test_a_retried_post_with_the_same_idempotency_key_records_one_session(self, api, t):
        api.as_user(t.writer.user)
        body = {"session_type": "direct", "client": t.client.pk, "program": t.program.pk}
        first = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="session-1")
        second = api.post(URL, body, HTTP_IDEMPOTENCY_KEY="session-1")

        assert first.status_code == second.status_code == 201
        assert second["Idempotent-Replayed"] == "true" and second.json()["id"] == first.json()["id"]
        assert Session.objects.for_agency(t.agency).count() == 1


class TestAttendees:
    def test_it_adds_and_removes_named_attendees_of_a_group_session(self, api, t):
        session = group_session(t)
        omar = register(t.agency, given_name="Omar", family_name="Haddad")
        api.as_user(t.writer.user)

        response = api.post(f"{detail(session)}attendees/", {"clients": [t.client.pk, omar.pk]})
        assert response.status_code == 200, response.content
        assert sorted(response.json()["attendees"]) == sorted([t.client.pk, omar.pk])

        assert api.delete(f"{detail(session)}attendees/{omar.pk}/").status_code == 204
        assert list(Attendee.objects.for_agency(t.agency).values_list("client_id", flat=True)) == [t.client.pk]
        assert api.delete(f"{detail(session)}attendees/{omar.pk}/").status_code == 404

    def test_a_one_on_one_session_has_no_attendees(self, api, t):
        session = direct_session(t)
        response = api.as_user(t.writer.user).post(f"{detail(session)}attendees/", {"clients": [t.client.pk]})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"client"}

    def test_an_empty_or_foreign_list_is_a_400_naming_clients(self, api, t, other_agency):
        session = group_session(t)
        foreign = register(other_agency, given_name="Lea", family_name="Roy")
        api.as_user(t.writer.user)
        for body in ({"clients": []}, {"clients": [foreign.pk]}, {}):
            response = api.post(f"{detail(session)}attendees/", body)
            assert response.status_code == 400
            assert set(errors_of(response)) == {"clients"}

    def test_an_attendee_with_forms_is_not_removed(self, api, t):
        session = group_session(t)
        api.as_user(t.writer.user).post(f"{detail(session)}attendees/", {"clients": [t.client.pk]})
        fill(session, t.writer.user, "group_attendee", {}, client=t.client)

        response = api.delete(f"{detail(session)}attendees/{t.client.pk}/")
        assert response.status_code == 400
        assert set(errors_of(response)) == {"client"}

    def test_another_programs_session_is_not_found(self, api, t):
        session = group_session(t)
        response = api.as_user(t.stranger.user).post(f"{detail(session)}attendees/", {"clients": [t.client.pk]})
        assert response.status_code == 404
