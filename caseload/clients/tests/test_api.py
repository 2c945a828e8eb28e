from datetime import date

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.clients.models import Client
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_role
from caseload.testing.factories import make_member

URL = "/api/v1/clients/"

pytestmark = pytest.mark.django_db


def url(client, suffix=""):
    return f"{URL}{client.pk}/{suffix}"


def clients_of(agency):
    with agency_scope(agency):
        return list(Client.objects.for_agency(agency).order_by("pk"))


def events(agency, **filters):
    with agency_scope(agency):
        return list(AuditEvent.objects.for_agency(agency).filter(**filters).order_by("pk"))


class TestTenancy:
    def test_another_agencys_client_is_a_404_to_read_change_and_archive(self, api, register, agency, other_agency, admin):
        theirs = register(other_agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(admin)
        assert session.get(url(theirs)).status_code == 404
        assert session.patch(url(theirs), {"given_name": "Changed"}).status_code == 404
        assert session.put(url(theirs), {"given_name": "Changed"}).status_code == 404
        assert session.post(url(theirs, "archive/")).status_code == 404
        assert session.post(url(theirs, "unarchive/")).status_code == 404
        (unchanged,) = clients_of(other_agency)
        assert (unchanged.given_name, unchanged.status) == ("Amina", Client.Status.ACTIVE)

    def test_the_list_and_the_search_never_show_another_agencys_clients(self, api, register, agency, other_agency, caseworker):
        ours = register(agency, given_name="Amina", family_name="Haddad")
        register(other_agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(caseworker)
        assert [c["id"] for c in session.get(URL).json()["results"]] == [ours.pk]
        assert [c["id"] for c in session.get(URL, {"q": "Amina Haddad"}).json()["results"]] == [ours.pk]


class TestPermissions:
    def test_the_auditor_reads_but_cannot_register_change_or_archive(self, api, register, agency, auditor):
        client = register(agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(auditor)
        assert session.get(URL).status_code == 200
        assert session.get(url(client)).status_code == 200
        assert session.post(URL, {"given_name": "New", "family_name": "Person"}).status_code == 403
        assert session.patch(url(client), {"given_name": "Changed"}).status_code == 403
        assert session.post(url(client, "archive/")).status_code == 403
        (unchanged,) = clients_of(agency)
        assert (unchanged.given_name, unchanged.status) == ("Amina", Client.Status.ACTIVE)

    def test_a_member_without_clients_view_gets_403(self, api, register, agency):
        client = register(agency, given_name="Amina", family_name="Haddad")
        make_role(agency, "Bookkeeper", permissions=["audit.view"])
        session = api.as_user(make_member(agency, "Bookkeeper").user)
        assert session.get(URL).status_code == 403
        assert session.get(url(client)).status_code == 403


class TestList:
    def test_it_lists_active_clients_by_default_and_archived_ones_on_request(self, api, register, agency, manager):
        active = register(agency, given_name="Amina", family_name="Haddad")
        archived = register(agency, given_name="Wei", family_name="Tanaka")
        session = api.as_user(manager)
        assert session.post(url(archived, "archive/")).status_code == 200
        body = session.get(URL).json()
        assert [c["id"] for c in body["results"]] == [active.pk]
        assert body["results"][0]["match"] is None
        assert [c["id"] for c in session.get(URL, {"status": "archived"}).json()["results"]] == [archived.pk]

    def test_a_misspelt_name_finds_the_client_with_why(self, api, register, agency, caseworker):
        muhammad = register(agency, given_name="Muhammad", family_name="Rahman")
        register(agency, given_name="Ingrid", family_name="Lindqvist")
        response = api.as_user(caseworker).get(URL, {"q": "Mohamed Rahman"})
        assert response.status_code == 200
        (found,) = response.json()["results"]
        assert found["id"] == muhammad.pk
        assert found["match"]["score"] > 0
        assert found["match"]["reasons"]

    def test_the_search_pages_too(self, api, register, agency, caseworker):
        for given_name in ("Ana", "Anna", "Anah"):
            register(agency, given_name=given_name, family_name="Silva")
        body = api.as_user(caseworker).get(URL, {"q": "Ana Silva", "page_size": 2}).json()
        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert body["results"][0]["given_name"] == "Ana"

    def test_a_bad_status_is_a_400_naming_it(self, api, agency, caseworker):
        response = api.as_user(caseworker).get(URL, {"status": "deleted"})
        assert response.status_code == 400
        assert errors_of(response) == {"status": ["invalid_choice"]}

    def test_listing_is_not_audited_as_a_reading(self, api, register, agency, caseworker):
        register(agency, given_name="Amina", family_name="Haddad")
        api.as_user(caseworker).get(URL, {"q": "Amina"})
        assert events(agency, action=AuditEvent.Action.VIEW) == []


class TestRetrieve:
    def test_reading_a_client_writes_a_view_event(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad", phone="416 234 5678")
        response = api.as_user(caseworker).get(url(client))
        assert response.status_code == 200
        assert response.json()["phone"] == "+14162345678"
        (event,) = events(agency, action=AuditEvent.Action.VIEW)
        assert (event.client_id, event.actor, event.object_id) == (client.pk, caseworker, str(client.pk))


class TestCreate:
    def test_it_registers_a_client_with_the_phone_in_e164(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(
            URL, {"given_name": "Amina", "family_name": "Haddad", "phone": "(416) 234-5678", "date_of_birth": "1990-05-01"}
        )
        assert response.status_code == 201
        body = response.json()
        (client,) = clients_of(agency)
        assert body["id"] == client.pk
        assert body["client_number"] == client.client_number
        assert body["phone"] == client.phone == "+14162345678"
        assert body["status"] == "active"
        assert body["likely_duplicates"] == []
        assert "confirm_new" not in body

    def test_a_likely_duplicate_is_a_409_with_reasons_until_confirmed(self, api, register, agency, caseworker):
        existing = register(agency, given_name="Amina", family_name="Haddad", date_of_birth=date(1990, 5, 1))
        session = api.as_user(caseworker)
        data = {"given_name": "Aminah", "family_name": "Hadad", "date_of_birth": "1990-05-01"}

        refused = session.post(URL, data)
        assert refused.status_code == 409
        body = refused.json()
        assert errors_of(refused) == {None: ["likely_duplicate"]}
        (duplicate,) = body["likely_duplicates"]
        assert (duplicate["id"], duplicate["client_number"], duplicate["name"]) == (existing.pk, existing.client_number, "Amina Haddad")
        assert "same date of birth" in duplicate["reasons"]
        assert duplicate["score"] > 0
        assert len(clients_of(agency)) == 1

        accepted = session.post(URL, {**data, "confirm_new": True})
        assert accepted.status_code == 201
        assert [d["id"] for d in accepted.json()["likely_duplicates"]] == [existing.pk]
        assert len(clients_of(agency)) == 2

    def test_an_invalid_phone_is_a_400_naming_it_and_writes_nothing(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(URL, {"given_name": "Wei", "family_name": "Tanaka", "phone": "12"})
        assert response.status_code == 400
        assert errors_of(response) == {"phone": ["invalid"]}
        assert clients_of(agency) == []

    def test_a_bad_date_of_birth_is_a_400_naming_it(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(URL, {"given_name": "Wei", "date_of_birth": "yesterday"})
        assert response.status_code == 400
        assert errors_of(response) == {"date_of_birth": ["invalid"]}

    def test_a_retry_with_the_same_idempotency_key_replays_and_registers_once(self, api, agency, caseworker):
        session = api.as_user(caseworker)
        data = {"given_name": "Amina", "family_name": "Haddad"}
        first = session.post(URL, data, HTTP_IDEMPOTENCY_KEY="register-amina")
        second = session.post(URL, data, HTTP_IDEMPOTENCY_KEY="register-amina")
        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second["Idempotent-Replayed"] == "true"
        assert len(clients_of(agency)) == 1


class TestUpdate:
    def test_a_change_is_audited_with_the_fields_that_changed(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad", phone="416 234 5678")
        response = api.as_user(caseworker).patch(url(client), {"family_name": "Haddad-Smith", "phone": "+1 416-234-5678"})
        assert response.status_code == 200
        assert response.json()["family_name"] == "Haddad-Smith"
        (event,) = events(agency, action=AuditEvent.Action.CHANGE)
        assert event.client_id == client.pk
        assert event.changes == {"family_name": ["Haddad", "Haddad-Smith"]}
        (changed,) = clients_of(agency)
        assert "smith" in changed.name_folded

    def test_put_replaces_the_details(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad", gender="F")
        response = api.as_user(caseworker).put(url(client), {"given_name": "Amina", "family_name": "Haddad", "email": "a@example.net"})
        assert response.status_code == 200
        (changed,) = clients_of(agency)
        assert changed.email == "a@example.net"

    def test_an_invalid_phone_is_a_400_naming_it_and_changes_nothing(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad")
        response = api.as_user(caseworker).patch(url(client), {"family_name": "Other", "phone": "not a phone"})
        assert response.status_code == 400
        assert errors_of(response) == {"phone": ["invalid"]}
        (unchanged,) = clients_of(agency)
        assert unchanged.family_name == "Haddad"
        assert events(agency, action=AuditEvent.Action.CHANGE) == []

    def test_read_only_fields_are_ignored(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad")
        api.as_user(caseworker).patch(url(client), {"status": "archived", "client_number": 999})
        (unchanged,) = clients_of(agency)
        assert (unchanged.status, unchanged.client_number) == (Client.Status.ACTIVE, client.client_number)


class TestArchive:
    def test_archiving_and_unarchiving_are_audited(self, api, register, agency, manager):
        client = register(agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(manager)
        archived = session.post(url(client, "archive/"))
        assert archived.status_code == 200
        assert archived.json()["status"] == "archived"
        assert session.post(url(client, "unarchive/")).json()["status"] == "active"
        changes = [event.changes for event in events(agency, action=AuditEvent.Action.CHANGE, client_id=client.pk)]
        assert changes == [{"status": ["active", "archived"]}, {"status": ["archived", "active"]}]

    def test_archiving_needs_clients_archive_not_just_clients_change(self, api, register, agency, caseworker):
        client = register(agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(caseworker)
        assert session.post(url(client, "archive/")).status_code == 403
        assert session.post(url(client, "unarchive/")).status_code == 403
        (unchanged,) = clients_of(agency)
        assert unchanged.status == Client.Status.ACTIVE
