"""The client's full profile: the Overview tab, the ribbon, the edit page and consent recorded later."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from caseload.accounts.models import User
from caseload.audit.actions import Action, record
from caseload.audit.models import AuditEvent
from caseload.clients.actions import publish_privacy_statement, record_consent, register_client, set_phones, update_client
from caseload.clients.models import Assignment, Client, PrivacyConsent, Referral, SafetyFlag
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def statement(agency):
    with agency_scope(agency):
        return publish_privacy_statement(agency=agency, actor=None, version="v1", text="We keep your information safe.")


@pytest.fixture
def amina(agency, caseworker, statement):
    with agency_scope(agency):
        return register_client(
            agency=agency,
            actor=caseworker,
            data={
                "given_name": "Amina",
                "family_name": "Haddad",
                "date_of_birth": date(1990, 5, 1),
                "email": "amina@example.org",
                "phone": "613-555-0142",
                "city": "Ottawa",
                "province": "ON",
                "spoken_languages": ["ar", "so"],
                "emergency_contact_name": "Omar Haddad",
                "emergency_contact_phone": "613 555 0199",
                "referral_source": "community",
                "referral_source_detail": "Mosque outreach",
                "general_notes": "Prefers mornings.",
            },
            phones=[{"number": "416 555 0123", "kind": "work"}],
            consent={"statement": statement, "accepted": True, "method": "written"},
        )


def detail(client, who):
    return client.get(reverse("clients:detail", args=[who.pk])).content.decode()


def events(agency, **filters):
    with agency_scope(agency):
        return list(AuditEvent.objects.for_agency(agency).filter(**filters).order_by("pk"))


class TestOverview:
    def test_it_groups_the_key_details_with_phones_shown_nationally(self, client, caseworker, amina):
        client.force_login(caseworker)
        html = detail(client, amina)
        for text in ("Identity", "Contact", "Languages and immigration", "Contact preferences", "Emergency contact"):
            assert f">{text}</h3>" in html
        assert "(613) 555-0142" in html
        assert "Phone (Work)" in html and "(416) 555-0123" in html
        assert "(613) 555-0199" in html
        assert "Arabic, Somali" in html
        assert "Ottawa, Ontario" in html

    def test_it_shows_referral_information_and_the_referrals(self, client, agency, caseworker, amina):
        with agency_scope(agency):
            Referral.objects.create(
                agency=agency,
                client=amina,
                kind=Referral.Kind.EXTERNAL,
                organisation="Ottawa Food Bank",
                service="Food",
                reason="Needs food",
                status="recorded",
            )
        client.force_login(caseworker)
        html = detail(client, amina)
        assert "Community organisation" in html
        assert "Mosque outreach" in html
        assert "Ottawa Food Bank" in html

    def test_it_shows_the_consent_who_and_when(self, client, caseworker, amina):
        client.force_login(caseworker)
        html = detail(client, amina)
        consent = html[html.index("Privacy consent") :]
        assert ">Accepted<" in consent
        assert "<dd>v1</dd>" in consent
        assert "(signed form)" in consent
        assert caseworker.get_full_name() in consent

    def test_a_newer_statement_asks_for_a_new_answer(self, client, agency, caseworker, amina):
        with agency_scope(agency):
            publish_privacy_statement(agency=agency, actor=None, version="v2", text="Second.")
        client.force_login(caseworker)
        assert "Version v2 is now in use: ask the client about it." in detail(client, amina)

    def test_portal_activity_says_when_there_is_no_account(self, client, caseworker, amina):
        client.force_login(caseworker)
        assert "No portal account" in detail(client, amina)

    def test_portal_activity_lists_the_last_log_in_and_what_the_client_did(self, client, agency, caseworker, amina):
        portal = User.objects.create_user(email="amina.portal@example.org", password="x" * 16, full_name="Amina Haddad")
        portal.last_login = timezone.now()
        portal.save()
        with agency_scope(agency):
            Client.objects.for_agency(agency).filter(pk=amina.pk).update(portal_user=portal)
            record(agency=agency, actor=portal, action=Action.VIEW, object_type="portal.resume", object_repr="My resume")
        client.force_login(caseworker)
        html = detail(client, amina)
        assert "amina.portal@example.org" in html
        assert "My resume" in html
        assert "Never logged in" not in html

    def test_general_notes_are_shown(self, client, caseworker, amina):
        client.force_login(caseworker)
        assert "Prefers mornings." in detail(client, amina)

    def test_still_missing_covers_the_full_profile(self, client, caseworker, amina):
        client.force_login(caseworker)
        html = detail(client, amina)
        missing = html[html.index("Still missing") : html.index("Privacy consent")]
        for label in (
            "Gender",
            "Address",  # the city is known; the street and postal code are not: one item for the address
            "Preferred language",
            "Immigration status",
            "Preferred contact method",
        ):
            assert f"<span>{label}</span>" in missing
        for label in ("Email", "City", "Street address", "Postal code", "Emergency contact", "Referral source"):
            assert f"<span>{label}</span>" not in missing
        assert "Acceptance of the privacy statement" not in missing

    def test_an_anonymous_client_misses_only_the_reporting_fields(self, client, agency, caseworker, register):
        anonymous = register(agency, is_anonymous=True, age_range="25-34")
        client.force_login(caseworker)
        html = detail(client, anonymous)
        missing = html[html.index("Still missing") : html.index("Privacy consent")]
        assert "<span>Gender</span>" in missing and "<span>Immigration status</span>" in missing
        assert "Email" not in missing and "Date of birth" not in missing and "Age range" not in missing
        assert "Anonymous client" in html

    def test_the_edit_link_shows_only_to_roles_that_may_change(self, client, caseworker, auditor, amina):
        edit = reverse("clients:edit", args=[amina.pk])
        client.force_login(caseworker)
        assert edit in detail(client, amina)
        client.force_login(auditor)
        html = detail(client, amina)
        assert edit not in html
        assert reverse("clients:consent", args=[amina.pk]) not in html


class TestRibbon:
    def test_it_shows_name_birth_and_age_email_phone_status(self, client, caseworker, amina):
        client.force_login(caseworker)
        html = detail(client, amina)
        ribbon = html[html.index("client-ribbon") : html.index("client-ribbon") + 6000]
        assert "Amina Haddad" in ribbon
        assert "(age " in ribbon
        assert "amina@example.org" in ribbon
        assert "(613) 555-0142" in ribbon
        assert ">Active<" in ribbon

    def test_it_shows_the_safety_flag_badge_and_the_assigned_staff_primary_first(
        self, client, agency, caseworker, manager, amina
    ):
        with agency_scope(agency):
            SafetyFlag.objects.create(agency=agency, client=amina, reason="Aggressive relative")
            Client.objects.for_agency(agency).filter(pk=amina.pk).update(has_safety_flag=True)
            worker = Membership.objects.for_agency(agency).get(user=caseworker)
            boss = Membership.objects.for_agency(agency).get(user=manager)
            Assignment.objects.create(agency=agency, client=amina, staff=worker, is_primary=False)
            Assignment.objects.create(agency=agency, client=amina, staff=boss, is_primary=True)
        client.force_login(caseworker)
        html = detail(client, amina)
        assert "client-flag-badge" in html
        staff = html[html.index("Assigned staff") :]
        assert staff.index(manager.get_full_name()) < staff.index(caseworker.get_full_name())
        assert ">primary<" in staff

    def test_nobody_assigned_says_so(self, client, caseworker, amina):
        client.force_login(caseworker)
        assert "Nobody yet" in detail(client, amina)


class TestEditPage:
    def form_data(self, who, **changes):
        data = {
            "given_name": who.given_name,
            "family_name": who.family_name,
            "date_of_birth": who.date_of_birth.isoformat() if who.date_of_birth else "",
            "email": who.email,
            "phone": who.phone,
            "emergency_contact_phone": who.emergency_contact_phone,
            "phones-TOTAL_FORMS": "3",
            "phones-INITIAL_FORMS": "1",
            "phones-MIN_NUM_FORMS": "0",
            "phones-MAX_NUM_FORMS": "10",
            "phones-0-number": "+14165550123",
            "phones-0-kind": "work",
            "phones-1-number": "",
            "phones-1-kind": "mobile",
            "phones-2-number": "",
            "phones-2-kind": "mobile",
        }
        return {**data, **changes}

    def test_it_shows_the_current_details_with_phones_read_nationally(self, client, caseworker, amina):
        client.force_login(caseworker)
        html = client.get(reverse("clients:edit", args=[amina.pk])).content.decode()
        assert 'value="Amina"' in html
        assert 'value="(416) 555-0123"' in html
        assert 'value="(613) 555-0142"' in html
        assert 'value="1990-05-01"' in html

    def test_a_change_saves_audits_and_replaces_the_phones(self, client, agency, caseworker, amina):
        client.force_login(caseworker)
        data = self.form_data(
            amina,
            city="Gatineau",
            province="QC",
            **{"phones-0-number": "", "phones-1-number": "819 555 0100", "phones-1-kind": "home"},
        )
        response = client.post(reverse("clients:edit", args=[amina.pk]), data)
        assert response.status_code == 302
        amina.refresh_from_db()
        assert (amina.city, amina.province) == ("Gatineau", "QC")
        with agency_scope(agency):
            assert [(p.number, p.kind) for p in amina.phones.all()] == [("+18195550100", "home")]
        changes = [event.changes for event in events(agency, action=AuditEvent.Action.CHANGE, client_id=amina.pk)]
        assert {"city": ["Ottawa", "Gatineau"], "province": ["ON", "QC"]}.items() <= changes[0].items()
        assert changes[1] == {"phones": [["+14165550123"], ["+18195550100"]]}

    def test_bad_input_is_named_and_changes_nothing(self, client, agency, caseworker, amina):
        client.force_login(caseworker)
        response = client.post(
            reverse("clients:edit", args=[amina.pk]), self.form_data(amina, email="nope", **{"phones-1-number": "12"})
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "Email: Enter a valid email address." in html
        assert "Other phones (2): Enter a valid phone number." in html
        amina.refresh_from_db()
        assert amina.email == "amina@example.org"
        assert events(agency, action=AuditEvent.Action.CHANGE, client_id=amina.pk) == []

    def test_an_anonymous_client_gets_the_anonymous_form(self, client, agency, caseworker, register):
        anonymous = register(agency, is_anonymous=True)
        client.force_login(caseworker)
        html = client.get(reverse("clients:edit", args=[anonymous.pk])).content.decode()
        assert 'name="age_range"' in html
        assert 'name="given_name"' not in html
        response = client.post(reverse("clients:edit", args=[anonymous.pk]), {"age_range": "45-54", "given_name": "Sneaky"})
        assert response.status_code == 302
        anonymous.refresh_from_db()
        assert (anonymous.age_range, anonymous.given_name) == ("45-54", "")

    def test_the_auditor_gets_403_and_the_outsider_404(self, client, agency, auditor, outsider, amina):
        url = reverse("clients:edit", args=[amina.pk])
        client.force_login(auditor)
        assert client.get(url).status_code == 403
        assert client.post(url, self.form_data(amina, city="X")).status_code == 403
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.post(url, self.form_data(amina, city="X")).status_code == 404
        amina.refresh_from_db()
        assert amina.city == "Ottawa"


class TestRecordConsentLater:
    def test_an_anonymous_client_who_accepts_becomes_named(self, client, agency, caseworker, statement, register):
        anonymous = register(agency, is_anonymous=True)
        client.force_login(caseworker)
        url = reverse("clients:consent", args=[anonymous.pk])
        assert "We keep your information safe." in client.get(url).content.decode()
        response = client.post(url, {"accepted": "yes", "method": "phone"})
        assert response.status_code == 302
        assert response["Location"] == reverse("clients:edit", args=[anonymous.pk])
        anonymous.refresh_from_db()
        assert anonymous.is_anonymous is False
        with agency_scope(agency):
            (consent,) = anonymous.consents.all()
        assert (consent.accepted, consent.method, consent.statement, consent.recorded_by) == (
            True,
            "phone",
            statement,
            caseworker,
        )

    def test_a_refusal_is_recorded_and_the_client_stays_as_is(self, client, agency, caseworker, amina):
        client.force_login(caseworker)
        response = client.post(reverse("clients:consent", args=[amina.pk]), {"accepted": "no", "method": "in_person"})
        assert response.status_code == 302
        with agency_scope(agency):
            assert [c.accepted for c in amina.consents.order_by("pk")] == [True, False]
        assert "Declined" in detail(client, amina)

    def test_a_missing_answer_is_named(self, client, agency, caseworker, amina):
        client.force_login(caseworker)
        response = client.post(reverse("clients:consent", args=[amina.pk]), {"method": "in_person"})
        assert response.status_code == 400
        assert "Does the client accept the privacy statement?: This field is required." in response.content.decode()
        with agency_scope(agency):
            assert amina.consents.count() == 1

    def test_without_a_statement_there_is_nothing_to_record(self, client, agency, caseworker, register):
        someone = register(agency, given_name="Wei")
        client.force_login(caseworker)
        html = client.get(reverse("clients:consent", args=[someone.pk])).content.decode()
        assert "Your agency has not published a privacy statement yet." in html
        client.post(reverse("clients:consent", args=[someone.pk]), {"accepted": "yes", "method": "in_person"})
        with agency_scope(agency):
            assert someone.consents.count() == 0

    def test_the_auditor_gets_403_and_the_outsider_404(self, client, agency, auditor, outsider, amina):
        url = reverse("clients:consent", args=[amina.pk])
        client.force_login(auditor)
        assert client.post(url, {"accepted": "no", "method": "in_person"}).status_code == 403
        client.force_login(outsider)
        assert client.post(url, {"accepted": "no", "method": "in_person"}).status_code == 404
        with agency_scope(agency):
            assert amina.consents.count() == 1


class TestActions:
    def test_an_anonymous_client_refuses_identifying_fields(self, agency):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            register_client(
                agency=agency, actor=None, data={"is_anonymous": True, "family_name": "Haddad", "email": "a@example.org"}
            )
        assert set(refused.value.message_dict) == {"family_name", "email"}
        with agency_scope(agency):
            assert not Client.objects.for_agency(agency).exists()

    def test_an_anonymous_client_has_no_phones(self, agency):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            register_client(
                agency=agency, actor=None, data={"is_anonymous": True}, phones=[{"number": "613 555 0142", "kind": "home"}]
            )
        assert set(refused.value.message_dict) == {"phones"}

    def test_a_named_client_needs_a_name(self, agency):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            register_client(agency=agency, actor=None, data={"email": "a@example.org"})
        assert set(refused.value.message_dict) == {"given_name"}

    def test_a_client_who_declines_can_only_be_anonymous(self, agency, statement):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            register_client(
                agency=agency,
                actor=None,
                data={"given_name": "Wei"},
                consent={"statement": statement, "accepted": False, "method": "in_person"},
            )
        assert set(refused.value.message_dict) == {"is_anonymous"}
        with agency_scope(agency):
            assert not Client.objects.for_agency(agency).exists()
            assert not PrivacyConsent.objects.for_agency(agency).exists()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth"),
            ({"date_of_birth": date(1990, 1, 1), "arrival_date": date(1989, 1, 1)}, "arrival_date"),
            ({"arrival_date": date(2999, 1, 1)}, "arrival_date"),
            ({"emergency_contact_phone": "nope"}, "emergency_contact_phone"),
            ({"consent_sms": True}, "consent_sms"),
            ({"spoken_languages": "fr"}, "spoken_languages"),
        ],
    )
    def test_bad_profile_values_are_refused_naming_the_field(self, agency, data, field):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            register_client(agency=agency, actor=None, data={"given_name": "Wei", **data})
        assert field in refused.value.message_dict

    def test_consent_to_another_agencys_statement_is_refused(self, agency, other_agency, register):
        someone = register(agency, given_name="Wei")
        with agency_scope(other_agency):
            theirs = publish_privacy_statement(agency=other_agency, actor=None, version="v1", text="Theirs")
        with agency_scope(agency), pytest.raises(ValidationError):
            record_consent(someone, None, theirs, True, "in_person")

    def test_a_named_client_cannot_be_made_anonymous_with_identifying_fields_left(self, agency, register):
        someone = register(agency, given_name="Wei", email="wei@example.org")
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            update_client(someone, None, {"is_anonymous": True})
        assert {"given_name", "email"} <= set(refused.value.message_dict)

    def test_a_declined_client_cannot_be_named_by_an_edit(self, agency, statement):
        with agency_scope(agency):
            anonymous = register_client(
                agency=agency,
                actor=None,
                data={"is_anonymous": True},
                consent={"statement": statement, "accepted": False, "method": "in_person"},
            )
            with pytest.raises(ValidationError) as refused:
                update_client(anonymous, None, {"is_anonymous": False, "given_name": "Wei"})
        assert set(refused.value.message_dict) == {"is_anonymous"}

    def test_unchanged_phones_write_no_event(self, agency, amina):
        with agency_scope(agency):
            before = len(events(agency, action=AuditEvent.Action.CHANGE))
            set_phones(amina, None, [{"number": "+1 416 555 0123", "kind": "work"}])
            assert len(events(agency, action=AuditEvent.Action.CHANGE)) == before

    def test_the_privacy_statement_versions_are_unique_per_agency(self, agency, other_agency, statement):
        with agency_scope(agency), pytest.raises(ValidationError) as refused:
            publish_privacy_statement(agency=agency, actor=None, version="V1", text="Again")
        assert set(refused.value.message_dict) == {"version"}
        with agency_scope(other_agency):
            assert publish_privacy_statement(agency=other_agency, actor=None, version="v1", text="Theirs").version == "v1"


def test_front_desk_can_edit_and_record_consent(client, agency, amina):
    desk = make_member(agency, "Front desk").user
    client.force_login(desk)
    assert client.get(reverse("clients:edit", args=[amina.pk])).status_code == 200
    assert client.get(reverse("clients:consent", args=[amina.pk])).status_code == 200
