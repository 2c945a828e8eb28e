"""The batches API (/api/v1/batches/): run one, all or nothing; list and read them."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.casework.batch import run_batch
from caseload.casework.models import BatchAction, CaseNote, Task
from caseload.casework.tests.batch_helpers import a_client, a_program, count, in_scope, many_clients, merge, note_data
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/batches/"
NOTE = {"note_type": "contact", "contact_date": "2026-03-02", "body": "Invited to the job fair."}


class TestRunning:
    def test_it_creates_the_note_for_every_client_and_answers_the_summary(self, api, caseworker, agency):
        clients = many_clients(agency, 50)
        response = api.as_user(caseworker).post(
            URL, {"kind": "note", "clients": [c.pk for c in clients], "data": NOTE, "source": "API"}, format="json"
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["kind"] == "note" and body["client_count"] == 50 and body["source"] == "API"
        assert sorted(body["clients"]) == sorted(c.pk for c in clients)
        assert body["ignored_clients"] == 0 and body["created_by_name"] == caseworker.full_name
        assert count(agency, CaseNote, batch_id=body["id"]) == 50

    def test_another_agencys_ids_are_counted_and_never_written(self, api, caseworker, agency, other_agency):
        mine, theirs = a_client(agency), a_client(other_agency)
        body = (
            api.as_user(caseworker)
            .post(URL, {"kind": "note", "clients": [mine.pk, theirs.pk], "data": NOTE}, format="json")
            .json()
        )
        assert body["clients"] == [mine.pk] and body["ignored_clients"] == 1
        assert count(other_agency, CaseNote) == 0

    def test_only_another_agencys_ids_is_a_400(self, api, caseworker, other_agency):
        response = api.as_user(caseworker).post(
            URL, {"kind": "note", "clients": [a_client(other_agency).pk], "data": NOTE}, format="json"
        )
        assert response.status_code == 400 and "clients" in errors_of(response)
        assert count(other_agency, CaseNote) == 0

    def test_a_failing_client_is_a_400_naming_the_field_and_client_and_nothing_is_written(self, api, caseworker, agency):
        ready = a_client(agency, email="amina@example.org")
        no_portal = a_client(agency, "Marc", "Tremblay")
        data = {"title": "Bring your resume", "for_client": True}
        from caseload.clients.actions import invite_to_portal

        in_scope(agency, invite_to_portal, ready, None)
        response = api.as_user(caseworker).post(
            URL, {"kind": "task", "clients": [ready.pk, no_portal.pk], "data": data}, format="json"
        )
        assert response.status_code == 400
        [error] = response.json()["errors"]
        assert error["attr"] == "data.for_client"
        assert (
            f"Marc Tremblay (#{no_portal.client_number})" in error["detail"] and f"#{ready.client_number}" not in error["detail"]
        )
        assert count(agency, Task) == 0 and count(agency, BatchAction) == 0

    def test_merged_profiles_are_a_400_on_clients(self, api, caseworker, agency):
        amina, double = a_client(agency), a_client(agency, "Amina", "Hadad")
        merge(amina, double)
        response = api.as_user(caseworker).post(
            URL, {"kind": "note", "clients": [amina.pk, double.pk], "data": NOTE}, format="json"
        )
        assert response.status_code == 400 and errors_of(response) == {"clients": ["invalid"]}
        assert count(agency, CaseNote) == 0

    def test_the_data_is_validated_for_its_kind(self, api, caseworker, agency, other_agency):
        web = api.as_user(caseworker)
        client = a_client(agency)
        assert "data.body" in errors_of(
            web.post(URL, {"kind": "note", "clients": [client.pk], "data": {"note_type": "contact"}}, format="json")
        )
        foreign = a_program(other_agency)
        assert "data.program" in errors_of(
            web.post(URL, {"kind": "note", "clients": [client.pk], "data": {**NOTE, "program": foreign.pk}}, format="json")
        )
        assert "kind" in errors_of(web.post(URL, {"kind": "referral", "clients": [client.pk], "data": NOTE}, format="json"))
        assert "clients" in errors_of(web.post(URL, {"kind": "note", "clients": [], "data": NOTE}, format="json"))
        assert count(agency, CaseNote) == 0

    def test_more_than_the_limit_is_a_400(self, api, caseworker, agency, settings):
        settings.CASEWORK_BATCH_MAX_CLIENTS = 2
        clients = many_clients(agency, 3)
        response = api.as_user(caseworker).post(
            URL, {"kind": "note", "clients": [c.pk for c in clients], "data": NOTE}, format="json"
        )
        assert response.status_code == 400 and "clients" in errors_of(response)
        assert count(agency, CaseNote) == 0

    def test_a_retry_with_the_same_idempotency_key_runs_once(self, api, caseworker, agency):
        client = a_client(agency)
        web = api.as_user(caseworker)
        payload = {"kind": "note", "clients": [client.pk], "data": NOTE}
        first = web.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
        second = web.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
        assert first.json()["id"] == second.json()["id"]
        assert count(agency, BatchAction) == 1


class TestReading:
    def test_it_lists_and_reads_the_agencys_batches(self, api, caseworker, agency, outsider):
        client = a_client(agency)
        batch = in_scope(agency, run_batch, agency, caseworker, "note", [client], note_data())
        web = api.as_user(caseworker)
        assert [row["id"] for row in web.get(URL).json()["results"]] == [batch.pk]
        assert web.get(f"{URL}{batch.pk}/").json()["clients"] == [client.pk]
        other = api.as_user(outsider)
        assert other.get(f"{URL}{batch.pk}/").status_code == 404
        assert other.get(URL).json()["results"] == []

    @pytest.mark.parametrize("role", ["Front desk", "Read-only auditor"])
    def test_a_role_without_casework_batch_is_refused(self, api, agency, caseworker, role):
        client = a_client(agency)
        batch = in_scope(agency, run_batch, agency, caseworker, "note", [client], note_data())
        web = api.as_user(make_member(agency, role).user)
        assert web.get(URL).status_code == 403
        assert web.get(f"{URL}{batch.pk}/").status_code == 403
        assert web.post(URL, {"kind": "note", "clients": [client.pk], "data": NOTE}, format="json").status_code == 403
        assert count(agency, CaseNote) == 1
