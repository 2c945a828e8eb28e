"""Referring a client to another agency on Caseload (accepted or declined there) or to an outside organisation."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients import referrals
from caseload.clients.models import Client, IncomingReferral, Referral, ReferralStatus
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member


@pytest.fixture
def amina(agency, register):
    return register(
        agency,
        given_name="Amina",
        family_name="Haddad",
        date_of_birth=datetime.date(1985, 3, 12),
        email="amina@example.org",
        general_notes="Private note",
    )


@pytest.fixture
def receiver(other_agency):
    """A caseworker of the other agency, who answers referrals there."""
    return make_member(other_agency, "Caseworker").user


def refer(client, actor, to_agency, **extra):
    with agency_scope(client.agency):
        return referrals.refer_to_agency(
            client, actor, to_agency=to_agency, service="Job search", reason="Looking for work", client_consent=True, **extra
        )


def incoming_of(agency, referral) -> IncomingReferral:
    with agency_scope(agency):
        return IncomingReferral.objects.for_agency(agency).get(source_referral_id=referral.pk)


def test_it_needs_the_clients_consent_and_writes_nothing_without_it(agency, other_agency, amina, caseworker):
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        referrals.refer_to_agency(amina, caseworker, to_agency=other_agency, reason="Work", client_consent=False)
    assert "client_consent" in error.value.message_dict
    with agency_scope(agency):
        assert not Referral.objects.for_agency(agency).exists()
    with agency_scope(other_agency):
        assert not IncomingReferral.objects.for_agency(other_agency).exists()


def test_a_client_cannot_be_referred_to_their_own_agency(agency, amina, caseworker):
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        referrals.refer_to_agency(amina, caseworker, to_agency=agency, reason="Work", client_consent=True)
    assert "to_agency" in error.value.message_dict
    assert agency not in referrals.referral_agencies(agency)


def test_a_referral_writes_both_sides_with_only_a_summary_for_the_receiver_and_audits_both(
    agency, other_agency, amina, caseworker
):
    referral = refer(amina, caseworker, other_agency)
    assert (
        referral.status == ReferralStatus.PENDING and referral.consent_recorded_by == caseworker and referral.consent_recorded_at
    )
    incoming = incoming_of(other_agency, referral)
    assert (incoming.client_summary, incoming.from_agency, incoming.client) == ("Amina H.", agency, None)
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="clients.referral", client_id=amina.pk, action="create")
            .exists()
        )
    with agency_scope(other_agency):
        assert (
            AuditEvent.objects.for_agency(other_agency).filter(object_type="clients.incomingreferral", action="create").exists()
        )


def test_the_receiver_cannot_reach_the_client_before_accepting_and_can_after(
    agency, other_agency, amina, caseworker, receiver, api, as_user
):
    referral = refer(amina, caseworker, other_agency)
    incoming = incoming_of(other_agency, referral)
    api.as_user(receiver)
    assert api.get(f"/api/v1/clients/{amina.pk}/").status_code == 404
    assert api.get("/api/v1/clients/").json()["results"] == []
    seen = api.get("/api/v1/incoming-referrals/").json()["results"]
    assert [row["client_summary"] for row in seen] == ["Amina H."]
    assert "Haddad" not in str(seen) and "amina@example.org" not in str(seen)
    page = as_user(receiver).get(reverse("clients:incoming_referrals"))
    assert "Amina H." in page.content.decode() and "Haddad" not in page.content.decode()
    assert as_user(receiver).get(reverse("clients:detail", args=[amina.pk])).status_code == 404

    response = api.post(f"/api/v1/incoming-referrals/{incoming.pk}/accept/", {"note": "Welcome"}, format="json")
    assert response.status_code == 200, response.content
    copy_id = response.json()["client"]
    assert copy_id and copy_id != amina.pk
    copy = api.get(f"/api/v1/clients/{copy_id}/").json()
    assert (copy["given_name"], copy["family_name"], copy["email"]) == ("Amina", "Haddad", "amina@example.org")
    # Still never the sender's own row.
    assert api.get(f"/api/v1/clients/{amina.pk}/").status_code == 404
    with agency_scope(other_agency):
        received = Client.objects.for_agency(other_agency).get(pk=copy_id)
        assert received.general_notes == "" and received.referral_source == "other_agency"
        event = AuditEvent.objects.for_agency(other_agency).get(object_type="clients.incomingreferral", action="change")
        assert event.changes["client_consent"][1]["consent_recorded_by"] == caseworker.email
    with agency_scope(agency):
        referral.refresh_from_db()
        assert referral.status == ReferralStatus.ACCEPTED and referral.responded_at and referral.response_note == "Welcome"


def test_the_clients_list_counts_the_referrals_waiting(other_agency, amina, caseworker, receiver, as_user):
    refer(amina, caseworker, other_agency)
    page = as_user(receiver).get(reverse("clients:list")).content.decode()
    assert reverse("clients:incoming_referrals") in page
    assert '<span class="visually-hidden">waiting: </span>1</span>' in page


def test_accepting_through_the_page_opens_the_new_profile(other_agency, amina, caseworker, receiver, as_user):
    incoming = incoming_of(other_agency, refer(amina, caseworker, other_agency))
    client = as_user(receiver)
    assert client.get(reverse("clients:incoming_accept", args=[incoming.pk])).status_code == 200
    response = client.post(reverse("clients:incoming_accept", args=[incoming.pk]), {"note": ""})
    assert response.status_code == 302
    opened = client.get(response["Location"])
    assert opened.status_code == 200 and "Haddad" in opened.content.decode()
    assert "Referred by" in opened.content.decode()


def test_declining_needs_a_note_and_tells_the_sender(agency, other_agency, amina, caseworker, receiver, as_user):
    referral = refer(amina, caseworker, other_agency)
    incoming = incoming_of(other_agency, referral)
    client = as_user(receiver)
    empty = client.post(reverse("clients:incoming_decline", args=[incoming.pk]), {"note": ""})
    assert empty.status_code == 400 and "Say why" in empty.content.decode()
    assert client.post(reverse("clients:incoming_decline", args=[incoming.pk]), {"note": "No places left"}).status_code == 302
    incoming = incoming_of(other_agency, referral)
    assert incoming.status == ReferralStatus.DECLINED and incoming.client is None
    with agency_scope(agency):
        referral.refresh_from_db()
        assert (referral.status, referral.response_note) == (ReferralStatus.DECLINED, "No places left")
    with agency_scope(other_agency):
        assert not Client.objects.for_agency(other_agency).exists()


def test_the_sender_withdraws_a_pending_referral_and_it_can_no_longer_be_accepted(
    agency, other_agency, amina, caseworker, receiver, as_user
):
    referral = refer(amina, caseworker, other_agency)
    client = as_user(caseworker)
    detail = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert reverse("clients:referral_withdraw", args=[referral.pk]) in detail
    assert client.post(reverse("clients:referral_withdraw", args=[referral.pk])).status_code == 302
    incoming = incoming_of(other_agency, referral)
    assert incoming.status == ReferralStatus.WITHDRAWN
    with agency_scope(other_agency), pytest.raises(ValidationError):
        referrals.accept_referral(incoming, receiver)
    again = client.post(reverse("clients:referral_withdraw", args=[referral.pk]))
    assert again.status_code == 400


def test_referring_through_the_page(agency, other_agency, amina, caseworker, as_user):
    client = as_user(caseworker)
    url = reverse("clients:refer", args=[amina.pk])
    page = client.get(url).content.decode()
    assert other_agency.name in page and f'value="{agency.pk}"' not in page
    refused = client.post(url, {"to_agency": other_agency.pk, "reason": "Work"})
    assert refused.status_code == 400 and "agree to share" in refused.content.decode()
    assert client.post(url, {"to_agency": other_agency.pk, "reason": "Work", "client_consent": "on"}).status_code == 302
    with agency_scope(agency):
        assert Referral.objects.for_agency(agency).get().to_agency == other_agency


def test_an_outside_referral_is_recorded(agency, amina, caseworker, as_user):
    client = as_user(caseworker)
    url = reverse("clients:refer_outside", args=[amina.pk])
    missing = client.post(url, {"organisation": "", "reason": "Groceries", "client_consent": "on"})
    assert missing.status_code == 400
    response = client.post(
        url,
        {"organisation": "Daily Bread Food Bank", "contact": "intake@example.org", "reason": "Groceries", "client_consent": "on"},
    )
    assert response.status_code == 302
    with agency_scope(agency):
        referral = Referral.objects.for_agency(agency).get()
    assert (referral.kind, referral.status, referral.organisation) == ("external", "recorded", "Daily Bread Food Bank")
    assert "Daily Bread Food Bank" in client.get(reverse("clients:detail", args=[amina.pk])).content.decode()


@pytest.mark.parametrize("role", ["Front desk", "Read-only auditor"])
def test_roles_without_the_referral_permission_get_no_entry_and_a_403(agency, amina, role, as_user, other_agency):
    user = make_member(agency, role).user
    client = as_user(user)
    detail = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert reverse("clients:refer", args=[amina.pk]) not in detail
    assert client.get(reverse("clients:refer", args=[amina.pk])).status_code == 403
    assert client.post(reverse("clients:refer_outside", args=[amina.pk]), {}).status_code == 403
    assert client.get(reverse("clients:incoming_referrals")).status_code == 403


@pytest.mark.parametrize("role", ["Administrator", "Manager", "Caseworker"])
def test_roles_with_the_referral_permission_see_the_menu_entries(agency, amina, role, as_user):
    detail = as_user(make_member(agency, role).user).get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert reverse("clients:refer", args=[amina.pk]) in detail and reverse("clients:refer_outside", args=[amina.pk]) in detail


def test_another_agency_cannot_refer_or_answer_what_is_not_theirs(
    agency, other_agency, amina, caseworker, outsider, as_user, api
):
    referral = refer(amina, caseworker, other_agency)
    client = as_user(outsider)
    assert client.get(reverse("clients:refer", args=[amina.pk])).status_code == 404
    assert client.post(reverse("clients:referral_withdraw", args=[referral.pk])).status_code == 404
    # The sender cannot answer the receiver's incoming referral.
    incoming = incoming_of(other_agency, referral)
    assert as_user(caseworker).post(reverse("clients:incoming_accept", args=[incoming.pk])).status_code == 404
    assert api.as_user(caseworker).post(f"/api/v1/incoming-referrals/{incoming.pk}/accept/").status_code == 404


def test_the_api_refers_and_names_the_missing_consent(agency, other_agency, amina, caseworker, api):
    api.as_user(caseworker)
    url = f"/api/v1/clients/{amina.pk}/refer/"
    refused = api.post(url, {"kind": "agency", "to_agency": other_agency.pk, "reason": "Work"}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["attr"] == "client_consent"
    done = api.post(
        url, {"kind": "agency", "to_agency": other_agency.pk, "reason": "Work", "client_consent": True}, format="json"
    )
    assert done.status_code == 201 and done.json()["status"] == "pending"
    outside = api.post(
        url, {"kind": "external", "organisation": "Food bank", "reason": "Food", "client_consent": True}, format="json"
    )
    assert outside.status_code == 201 and outside.json()["status"] == "recorded"
    assert {row["kind"] for row in api.get("/api/v1/referrals/").json()["results"]} == {"agency", "external"}
    assert api.post(f"/api/v1/referrals/{done.json()['id']}/withdraw/").status_code == 200


def test_the_api_decline_needs_a_note(other_agency, amina, caseworker, receiver, api):
    incoming = incoming_of(other_agency, refer(amina, caseworker, other_agency))
    api.as_user(receiver)
    refused = api.post(f"/api/v1/incoming-referrals/{incoming.pk}/decline/", {}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["attr"] == "note"
    assert (
        api.post(f"/api/v1/incoming-referrals/{incoming.pk}/decline/", {"note": "Full"}, format="json").json()["status"]
        == "declined"
    )


def test_the_api_refuses_referring_to_a_front_desk_worker(agency, amina, api):
    front_desk = make_member(agency, "Front desk").user
    response = api.as_user(front_desk).post(
        f"/api/v1/clients/{amina.pk}/refer/",
        {"kind": "external", "organisation": "X", "reason": "Y", "client_consent": True},
        format="json",
    )
    assert response.status_code == 403


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security is PostgreSQL's")
def test_row_level_security_keeps_the_senders_client_from_the_receiver_until_the_copy_is_made(
    agency, other_agency, amina, caseworker, receiver
):
    incoming = incoming_of(other_agency, refer(amina, caseworker, other_agency))

    def visible_clients(as_agency) -> set[int]:
        with agency_scope(as_agency), connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute(
                    "DO $$ BEGIN CREATE ROLE caseload_rls_probe NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
                )
                cursor.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO caseload_rls_probe")
                cursor.execute("SET ROLE caseload_rls_probe")
            cursor.execute("SELECT id FROM clients_client")
            ids = {row[0] for row in cursor.fetchall()}
            cursor.execute("RESET ROLE")
        return ids

    assert amina.pk not in visible_clients(other_agency)
    with agency_scope(other_agency):
        copy = referrals.accept_referral(incoming, receiver)
    assert visible_clients(other_agency) == {copy.pk}
    assert copy.pk not in visible_clients(agency)
