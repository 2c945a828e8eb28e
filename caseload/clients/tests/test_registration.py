"""Registering a client on the web: the privacy statement first, then a named or anonymous profile,
the duplicate warning, and every bad input named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients.actions import publish_privacy_statement
from caseload.clients.models import Client, ClientPhone, PrivacyConsent
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/clients/new/"


@pytest.fixture
def statement(agency):
    with agency_scope(agency):
        return publish_privacy_statement(
            agency=agency,
            actor=None,
            version="2026-1",
            text="We keep your information safe.",
            text_fr="Nous protégeons vos renseignements.",
        )


@pytest.fixture
def front_desk(agency):
    return make_member(agency, "Front desk").user


def consent_params(statement, decision="accepted", method="in_person"):
    params = {"consent-decision": decision, "consent-method": method}
    if statement is not None:
        params["consent-statement"] = statement.pk
    return params


def clients_of(agency):
    with agency_scope(agency):
        return list(Client.objects.for_agency(agency).order_by("pk"))


def consents_of(agency):
    with agency_scope(agency):
        return list(PrivacyConsent.objects.for_agency(agency).select_related("statement", "recorded_by").order_by("pk"))


NAMED = {
    "given_name": "Amina",
    "family_name": "Haddad",
    "preferred_name": "Mina",
    "date_of_birth": "1990-05-01",
    "gender": "Woman",
    "email": "amina@example.org",
    "phone": "(613) 555-0142",
    "street_address": "12 Rideau St",
    "city": "Ottawa",
    "province": "ON",
    "postal_code": "k1n5w8",
    "preferred_language": "ar",
    "spoken_languages": ["ar", "fr"],
    "immigration_status": "permanent_resident",
    "arrival_date": "2019-08-15",
    "preferred_contact_method": "sms",
    "consent_sms": "on",
    "emergency_contact_name": "Omar Haddad",
    "emergency_contact_phone": "613 555 0199",
    "emergency_contact_relationship": "Brother",
    "referral_source": "community",
    "referral_source_detail": "Mosque outreach",
    "general_notes": "Prefers morning appointments.",
    "phones-TOTAL_FORMS": "2",
    "phones-INITIAL_FORMS": "0",
    "phones-MIN_NUM_FORMS": "0",
    "phones-MAX_NUM_FORMS": "10",
    "phones-0-number": "416.555.0123",
    "phones-0-kind": "work",
    "phones-1-number": "",
    "phones-1-kind": "mobile",
}


class TestStepOne:
    def test_it_shows_the_current_statement_and_asks_for_the_answer(self, client, caseworker, statement):
        client.force_login(caseworker)
        html = client.get(URL).content.decode()
        assert "We keep your information safe." in html
        assert "Version 2026-1" in html
        assert 'name="consent-decision"' in html
        assert 'name="consent-method"' in html

    def test_it_shows_the_french_text_to_a_reader_in_french(self, client, caseworker, statement):
        client.force_login(caseworker)
        html = client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
        assert "Nous protégeons vos renseignements." in html

    def test_the_newest_version_is_the_one_shown(self, client, agency, caseworker, statement):
        with agency_scope(agency):
            publish_privacy_statement(agency=agency, actor=None, version="2026-2", text="The second version.")
        client.force_login(caseworker)
        html = client.get(URL).content.decode()
        assert "The second version." in html
        assert "We keep your information safe." not in html

    def test_an_answer_opens_the_named_form(self, client, caseworker, statement):
        client.force_login(caseworker)
        html = client.get(URL, consent_params(statement)).content.decode()
        assert 'name="given_name"' in html
        assert 'name="phones-0-number"' in html
        assert "The client accepts privacy statement 2026-1 (in person)" in html

    def test_declining_opens_the_anonymous_form_without_identifying_fields(self, client, caseworker, statement):
        client.force_login(caseworker)
        html = client.get(URL, consent_params(statement, "declined")).content.decode()
        assert 'name="age_range"' in html
        assert 'name="immigration_status"' in html
        for identifying in ("given_name", "family_name", "date_of_birth", "email", "phone", "street_address", "phones-0-number"):
            assert f'name="{identifying}"' not in html

    def test_a_missing_answer_is_named(self, client, caseworker, statement):
        client.force_login(caseworker)
        response = client.get(URL, {"consent-statement": statement.pk, "consent-decision": "maybe"})
        assert response.status_code == 400
        assert "Does the client accept the privacy statement?: Select a valid choice." in response.content.decode()


class TestNamedRegistration:
    def test_it_registers_the_full_profile_with_consent_phones_and_audit(self, client, agency, caseworker, statement):
        client.force_login(caseworker)
        response = client.post(URL + "?", {**consent_params(statement, method="written"), **NAMED})

        (registered,) = clients_of(agency)
        assert response.status_code == 302
        assert response["Location"] == reverse("clients:detail", args=[registered.pk])
        assert (registered.given_name, registered.family_name, registered.preferred_name) == ("Amina", "Haddad", "Mina")
        assert registered.date_of_birth == date(1990, 5, 1)
        assert registered.phone == "+16135550142"
        assert registered.emergency_contact_phone == "+16135550199"
        assert registered.postal_code == "K1N 5W8"
        assert registered.spoken_languages == ["ar", "fr"]
        assert registered.consent_sms is True and registered.consent_email is False
        assert registered.referral_source == "community"
        assert registered.is_anonymous is False
        assert registered.created_by == caseworker
        with agency_scope(agency):
            assert [(p.number, p.kind) for p in ClientPhone.objects.for_agency(agency)] == [("+14165550123", "work")]
        (consent,) = consents_of(agency)
        assert (consent.client_id, consent.statement, consent.accepted, consent.method) == (
            registered.pk,
            statement,
            True,
            "written",
        )
        assert consent.recorded_by == caseworker
        assert consent.recorded_at is not None
        with agency_scope(agency):
            created = AuditEvent.objects.for_agency(agency).filter(action=AuditEvent.Action.CREATE, client_id=registered.pk)
            types = sorted(event.object_type for event in created)
            client_event = created.get(object_type="clients.client")
        assert types == ["clients.client", "clients.privacyconsent"]
        assert client_event.changes["phones"] == [None, ["+14165550123"]]
        assert client_event.changes["general_notes"] == ["[redacted]", "[redacted]"]

    def test_the_new_profile_greets_with_a_success_message(self, client, caseworker, statement):
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(statement), "given_name": "Wei", "family_name": "Tanaka"}, follow=True)
        assert "Wei Tanaka is registered as client 1." in response.content.decode()

    def test_only_a_name_is_needed(self, client, agency, caseworker, statement):
        client.force_login(caseworker)
        assert client.post(URL, {**consent_params(statement), "family_name": "Tanaka"}).status_code == 302
        (registered,) = clients_of(agency)
        assert registered.family_name == "Tanaka"


class TestBadInput:
    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"given_name": "", "family_name": ""}, "Given name: Enter a given name or a family name."),
            ({"phone": "12"}, "Main phone: Enter a valid phone number."),
            ({"emergency_contact_phone": "call me"}, "Emergency contact phone: Enter a valid phone number."),
            ({"phones-0-number": "555"}, "Other phones (1): Enter a valid phone number."),
            ({"email": "not-an-email"}, "Email: Enter a valid email address."),
            (
                {"date_of_birth": (date.today() + timedelta(days=2)).isoformat()},
                "Date of birth: The date of birth cannot be in the future.",
            ),
            ({"date_of_birth": "31/31/1990"}, "Date of birth: Enter a valid date."),
            ({"arrival_date": "1980-01-01"}, "Arrival date in Canada: The arrival date cannot be before the date of birth."),
            ({"postal_code": "90210"}, "Postal code: Enter a Canadian postal code, like K1A 0B1."),
            ({"province": "XX"}, "Province or territory: Select a valid choice."),
            ({"preferred_language": "klingon"}, "Preferred language: Select a valid choice."),
            ({"referral_source": "psychic"}, "Referral source: Select a valid choice."),
            (
                {"consent_email": "on", "email": ""},
                "Agrees to be contacted by email: Add an email address to contact the client by email.",
            ),
        ],
    )
    def test_each_bad_field_is_named_and_nothing_is_written(self, client, agency, caseworker, statement, changes, message):
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(statement), **NAMED, **changes})
        assert response.status_code == 400
        assert message in response.content.decode()
        assert clients_of(agency) == []
        assert consents_of(agency) == []

    def test_a_statement_published_meanwhile_sends_the_worker_back_to_step_one(self, client, agency, caseworker, statement):
        with agency_scope(agency):
            publish_privacy_statement(agency=agency, actor=None, version="2026-2", text="Newer.")
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(statement), "given_name": "Wei"})
        assert response.status_code == 302
        assert response["Location"] == URL
        assert clients_of(agency) == []


class TestAnonymousRegistration:
    def test_it_keeps_only_what_reporting_needs_and_records_the_refusal(self, client, agency, caseworker, statement):
        client.force_login(caseworker)
        data = {"age_range": "25-34", "gender": "Woman", "preferred_language": "so", "immigration_status": "refugee_claimant"}
        response = client.post(URL, {**consent_params(statement, "declined", "phone"), **data})

        (registered,) = clients_of(agency)
        assert response.status_code == 302
        assert registered.is_anonymous is True
        assert (registered.age_range, registered.preferred_language, registered.immigration_status) == (
            "25-34",
            "so",
            "refugee_claimant",
        )
        assert (registered.given_name, registered.family_name, registered.email, registered.phone) == ("", "", "", "")
        (consent,) = consents_of(agency)
        assert (consent.accepted, consent.method, consent.statement) == (False, "phone", statement)

    def test_the_message_says_anonymous_without_a_name(self, client, caseworker, statement):
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(statement, "declined"), "age_range": "25-34"}, follow=True)
        assert "An anonymous client is registered as client 1." in response.content.decode()

    def test_identifying_fields_posted_anyway_are_ignored(self, client, agency, caseworker, statement):
        client.force_login(caseworker)
        client.post(
            URL, {**consent_params(statement, "declined"), "given_name": "Sneaky", "email": "x@example.org", "age_range": "15-24"}
        )
        (registered,) = clients_of(agency)
        assert (registered.given_name, registered.email, registered.is_anonymous) == ("", "", True)

    def test_anonymous_clients_are_never_checked_for_duplicates(self, client, agency, caseworker, statement, register):
        with agency_scope(agency):
            register(agency, is_anonymous=True, age_range="25-34")
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(statement, "declined"), "age_range": "25-34"})
        assert response.status_code == 302
        assert len(clients_of(agency)) == 2


class TestWithoutAStatement:
    def test_it_says_so_and_still_registers_without_consent(self, client, agency, caseworker):
        client.force_login(caseworker)
        html = client.get(URL).content.decode()
        assert "Your agency has not published a privacy statement yet." in html
        assert "Ask an agency administrator to publish one." in html
        assert reverse("tenancy:privacy_statements") not in html

        response = client.post(URL, {"consent-decision": "accepted", "given_name": "Wei", "family_name": "Tanaka"})
        assert response.status_code == 302
        assert [c.given_name for c in clients_of(agency)] == ["Wei"]
        assert consents_of(agency) == []

    def test_an_administrator_gets_a_link_to_publish_one(self, client, admin):
        client.force_login(admin)
        html = client.get(URL).content.decode()
        assert reverse("tenancy:privacy_statements") in html


class TestDuplicateWarning:
    @pytest.fixture
    def existing(self, agency, register):
        return register(agency, given_name="Amina", family_name="Haddad", date_of_birth=date(1990, 5, 1), phone="613-555-0142")

    def test_a_likely_duplicate_is_shown_and_nothing_is_saved(self, client, agency, caseworker, statement, existing):
        client.force_login(caseworker)
        response = client.post(
            URL, {**consent_params(statement), "given_name": "Aminah", "family_name": "Hadad", "date_of_birth": "1990-05-01"}
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert "This person may already be registered" in html
        assert "Amina Haddad" in html
        assert reverse("clients:detail", args=[existing.pk]) in html
        assert "Open this profile" in html
        assert ">same date of birth<" in html
        assert "%</strong>" in html
        assert 'name="confirm_new"' in html
        assert 'value="Aminah"' in html
        assert len(clients_of(agency)) == 1
        assert consents_of(agency) == []

    def test_confirming_registers_a_new_client_anyway(self, client, agency, caseworker, statement, existing):
        client.force_login(caseworker)
        data = {
            **consent_params(statement),
            "given_name": "Aminah",
            "family_name": "Hadad",
            "date_of_birth": "1990-05-01",
            "confirm_new": "1",
        }
        response = client.post(URL, data)
        assert response.status_code == 302
        assert [c.given_name for c in clients_of(agency)] == ["Amina", "Aminah"]
        assert len(consents_of(agency)) == 1

    def test_the_same_phone_in_another_format_is_a_duplicate(self, client, caseworker, statement, existing):
        client.force_login(caseworker)
        html = client.post(
            URL, {**consent_params(statement), "given_name": "Someone", "phone": "+1 613 555 0142"}
        ).content.decode()
        assert ">same phone<" in html

    def test_another_agencys_client_is_never_a_duplicate(self, client, agency, other_agency, caseworker, statement, register):
        register(other_agency, given_name="Amina", family_name="Haddad", date_of_birth=date(1990, 5, 1))
        client.force_login(caseworker)
        response = client.post(
            URL, {**consent_params(statement), "given_name": "Amina", "family_name": "Haddad", "date_of_birth": "1990-05-01"}
        )
        assert response.status_code == 302


class TestPermissions:
    def test_front_desk_can_register(self, client, agency, front_desk, statement):
        client.force_login(front_desk)
        assert "Register client" in client.get(reverse("clients:list")).content.decode()
        assert client.post(URL, {**consent_params(statement), "given_name": "Wei"}).status_code == 302
        assert len(clients_of(agency)) == 1

    def test_the_auditor_has_no_button_and_gets_403(self, client, agency, auditor, statement):
        client.force_login(auditor)
        assert URL not in client.get(reverse("clients:list")).content.decode()
        assert client.get(URL).status_code == 403
        assert client.get(URL, consent_params(statement)).status_code == 403
        assert client.post(URL, {**consent_params(statement), "given_name": "Wei"}).status_code == 403
        assert clients_of(agency) == []

    def test_it_needs_a_login(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    def test_another_agencys_statement_cannot_be_answered(self, client, agency, other_agency, caseworker, statement):
        with agency_scope(other_agency):
            theirs = publish_privacy_statement(agency=other_agency, actor=None, version="X", text="Theirs.")
        client.force_login(caseworker)
        response = client.post(URL, {**consent_params(theirs), "given_name": "Wei"})
        assert response.status_code == 302
        assert clients_of(agency) == []
        assert consents_of(other_agency) == []
