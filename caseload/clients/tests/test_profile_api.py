"""The client API's full profile: new fields, extra phones, the privacy consent on registration."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.clients.actions import publish_privacy_statement
from caseload.clients.models import Client, ClientPhone, PrivacyConsent
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/clients/"


@pytest.fixture
def statement(agency):
    with agency_scope(agency):
        return publish_privacy_statement(agency=agency, actor=None, version="2026-1", text="We keep it safe.")


def clients_of(agency):
    with agency_scope(agency):
        return list(Client.objects.for_agency(agency).order_by("pk"))


def consents_of(agency):
    with agency_scope(agency):
        return list(PrivacyConsent.objects.for_agency(agency).order_by("pk"))


PROFILE = {
    "given_name": "Amina",
    "family_name": "Haddad",
    "date_of_birth": "1990-05-01",
    "street_address": "12 Rideau St",
    "city": "Ottawa",
    "province": "ON",
    "postal_code": "K1N 5W8",
    "spoken_languages": ["ar", "fr"],
    "immigration_status": "permanent_resident",
    "arrival_date": "2019-08-15",
    "preferred_contact_method": "email",
    "email": "amina@example.org",
    "consent_email": True,
    "emergency_contact_name": "Omar Haddad",
    "emergency_contact_phone": "613 555 0199",
    "emergency_contact_relationship": "Brother",
    "referral_source": "community",
    "referral_source_detail": "Mosque outreach",
    "general_notes": "Prefers mornings.",
    "phones": [{"number": "(416) 555-0123", "kind": "work"}],
}


class TestCreate:
    def test_it_registers_the_full_profile_with_phones_and_consent(self, api, agency, caseworker, statement):
        response = api.as_user(caseworker).post(
            URL, {**PROFILE, "privacy_consent": {"accepted": True, "method": "written"}}, format="json"
        )

        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["emergency_contact_phone"] == "+16135550199"
        assert body["phones"] == [{"number": "+14165550123", "kind": "work"}]
        assert body["spoken_languages"] == ["ar", "fr"]
        assert body["privacy_consent"]["version"] == "2026-1"
        assert body["privacy_consent"]["accepted"] is True
        assert body["privacy_consent"]["method"] == "written"
        assert body["privacy_consent"]["recorded_by"] == caseworker.email
        (client,) = clients_of(agency)
        assert (client.city, client.arrival_date.isoformat(), client.consent_email) == ("Ottawa", "2019-08-15", True)
        (consent,) = consents_of(agency)
        assert (consent.statement_id, consent.accepted, consent.recorded_by) == (statement.pk, True, caseworker)

    def test_a_client_who_declines_is_registered_anonymously(self, api, agency, caseworker, statement):
        response = api.as_user(caseworker).post(
            URL, {"is_anonymous": True, "age_range": "25-34", "privacy_consent": {"accepted": False}}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["privacy_consent"]["accepted"] is False
        (client,) = clients_of(agency)
        assert client.is_anonymous is True

    def test_a_declining_named_client_is_a_400_and_writes_nothing(self, api, agency, caseworker, statement):
        response = api.as_user(caseworker).post(URL, {"given_name": "Wei", "privacy_consent": {"accepted": False}}, format="json")
        assert response.status_code == 400
        assert errors_of(response) == {"is_anonymous": ["invalid"]}
        assert clients_of(agency) == [] and consents_of(agency) == []

    def test_an_anonymous_client_with_identifying_fields_is_a_400_naming_them(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(
            URL, {"is_anonymous": True, "family_name": "Haddad", "email": "a@example.org"}, format="json"
        )
        assert response.status_code == 400
        assert errors_of(response) == {"email": ["invalid"], "family_name": ["invalid"]}
        assert clients_of(agency) == []

    def test_consent_without_a_statement_is_a_400(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(URL, {"given_name": "Wei", "privacy_consent": {"accepted": True}}, format="json")
        assert response.status_code == 400
        assert errors_of(response) == {"privacy_consent": ["invalid"]}
        assert clients_of(agency) == []

    def test_no_name_is_a_400_naming_the_given_name(self, api, agency, caseworker):
        response = api.as_user(caseworker).post(URL, {"email": "wei@example.org"}, format="json")
        assert response.status_code == 400
        assert errors_of(response) == {"given_name": ["required"]}

    @pytest.mark.parametrize(
        ("data", "attr"),
        [
            ({"emergency_contact_phone": "call me"}, "emergency_contact_phone"),
            ({"phones": [{"number": "12", "kind": "home"}]}, "phones.0.number"),
            ({"phones": [{"number": "613 555 0142", "kind": "pager"}]}, "phones.0.kind"),
            ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
            ({"arrival_date": "1980-01-01", "date_of_birth": "1990-01-01"}, "arrival_date"),
            ({"province": "x" * 61}, "province"),
            ({"immigration_status": "alien"}, "immigration_status"),
            ({"consent_sms": True}, "consent_sms"),
        ],
    )
    def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(self, api, agency, caseworker, data, attr):
        response = api.as_user(caseworker).post(URL, {"given_name": "Wei", **data}, format="json")
        assert response.status_code == 400
        assert attr in errors_of(response)
        assert clients_of(agency) == []

    def test_the_duplicate_conflict_still_holds(self, api, agency, caseworker, register):
        register(agency, given_name="Amina", family_name="Haddad", phone="416 555 0123")
        response = api.as_user(caseworker).post(URL, {"given_name": "Someone", "phone": "+1 416 555 0123"}, format="json")
        assert response.status_code == 409
        assert len(clients_of(agency)) == 1


class TestUpdate:
    def test_it_changes_the_new_fields_and_replaces_the_phones(self, api, agency, caseworker, register):
        client = register(agency, given_name="Amina", family_name="Haddad")
        session = api.as_user(caseworker)
        response = session.patch(
            f"{URL}{client.pk}/", {"city": "Gatineau", "phones": [{"number": "819-555-0100", "kind": "home"}]}, format="json"
        )
        assert response.status_code == 200
        assert response.json()["phones"] == [{"number": "+18195550100", "kind": "home"}]
        assert response.json()["privacy_consent"] is None
        with agency_scope(agency):
            assert [p.number for p in ClientPhone.objects.for_agency(agency)] == ["+18195550100"]
        assert session.patch(f"{URL}{client.pk}/", {"city": "Hull"}, format="json").json()["phones"] == [
            {"number": "+18195550100", "kind": "home"}
        ]

    def test_bad_dates_are_a_400_and_change_nothing(self, api, agency, caseworker, register):
        client = register(agency, given_name="Amina", date_of_birth="1990-01-01")
        response = api.as_user(caseworker).patch(f"{URL}{client.pk}/", {"arrival_date": "1985-01-01", "city": "X"}, format="json")
        assert response.status_code == 400
        assert errors_of(response) == {"arrival_date": ["invalid"]}
        (unchanged,) = clients_of(agency)
        assert unchanged.city == ""

    def test_privacy_consent_is_read_only_on_update(self, api, agency, caseworker, register):
        client = register(agency, given_name="Amina")
        response = api.as_user(caseworker).patch(f"{URL}{client.pk}/", {"privacy_consent": {"accepted": True}}, format="json")
        assert response.status_code == 200
        assert consents_of(agency) == []

    def test_another_agencys_client_is_a_404(self, api, other_agency, caseworker, register):
        theirs = register(other_agency, given_name="Amina")
        assert api.as_user(caseworker).patch(f"{URL}{theirs.pk}/", {"city": "X"}, format="json").status_code == 404


def test_the_schema_describes_the_new_fields(api, caseworker):
    components = api.as_user(caseworker).get("/api/schema/?format=json").json()["components"]["schemas"]
    answer = components["ClientCreateRequest"]["properties"]["privacy_consent"]
    assert answer["allOf"][0]["$ref"].endswith("/PrivacyConsentInputRequest") and answer["writeOnly"] is True
    summary = components["Client"]["properties"]["privacy_consent"]
    assert summary["allOf"][0]["$ref"].endswith("/ConsentSummary") and summary["readOnly"] is True
    assert components["Client"]["properties"]["phones"]["items"]["$ref"].endswith("/ClientPhone")
    assert {"emergency_contact_phone", "arrival_date", "general_notes", "referral_source"} <= set(
        components["Client"]["properties"]
    )
