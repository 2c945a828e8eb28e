"""The client's portal account from the profile: invite, resend the invite until the first log-in,
send a password reset; every email through the outbox."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from caseload.accounts.models import User
from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.tests.action_helpers import events_of, fresh, in_scope, outbox
from caseload.testing.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad", email="Amina@Example.org", preferred_language="fr")


def invite(client, actor=None):
    return in_scope(client, actions.invite_to_portal, client, actor)


def log_in_once(user):
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])


class TestInvite:
    def test_it_opens_an_account_without_a_password_links_it_and_queues_the_invitation(self, agency, amina, caseworker):
        user = invite(amina, caseworker)
        assert fresh(amina).portal_user == user
        assert user.email == "amina@example.org" and not user.has_usable_password()
        assert user.preferred_language == "fr" and user.full_name == "Amina Haddad"
        assert not in_scope(amina, lambda: user.memberships.exists())  # a client, not staff
        (message,) = outbox(agency, kind="portal_invitation")
        assert message.to == "amina@example.org" and message.recipient_user == user
        sent = events_of(amina, action=AuditEvent.Action.SEND)
        assert [(e.actor, e.changes) for e in sent] == [(caseworker, {"kind": "portal_invitation"})]
        assert events_of(amina, action=AuditEvent.Action.CHANGE)[0].changes == {"portal_user": [None, user.pk]}

    def test_a_client_without_email_cannot_be_invited(self, agency, register):
        wei = register(agency, given_name="Wei", family_name="Tanaka")
        with pytest.raises(ValidationError) as refused:
            invite(wei)
        assert list(refused.value.message_dict) == ["email"]
        assert fresh(wei).portal_user is None and outbox(agency) == []

    def test_an_email_that_already_has_an_account_is_refused_clearly(self, agency, amina):
        UserFactory(email="amina@example.org")
        with pytest.raises(ValidationError) as refused:
            invite(amina)
        assert "already exists" in refused.value.message_dict["email"][0]
        assert fresh(amina).portal_user is None and outbox(agency) == []
        assert User.objects.filter(email__iexact="amina@example.org").count() == 1

    def test_a_client_with_an_account_is_not_invited_again(self, amina):
        invite(amina)
        with pytest.raises(actions.NotApplicable):
            invite(amina)


class TestResendAndReset:
    def test_the_invite_can_be_resent_until_the_first_log_in(self, agency, amina):
        user = invite(amina)
        in_scope(amina, actions.resend_portal_invitation, amina, None)
        assert len(outbox(agency, kind="portal_invitation")) == 2
        log_in_once(user)
        with pytest.raises(actions.NotApplicable) as refused:
            in_scope(amina, actions.resend_portal_invitation, fresh(amina), None)
        assert "password reset" in str(refused.value)
        assert len(outbox(agency, kind="portal_invitation")) == 2

    def test_no_account_no_resend_no_reset(self, agency, amina):
        for action in (actions.resend_portal_invitation, actions.send_portal_password_reset):
            with pytest.raises(actions.NotApplicable):
                in_scope(amina, action, amina, None)
        assert outbox(agency) == []

    def test_a_password_reset_goes_through_the_outbox_and_is_audited_on_the_client(self, agency, amina, caseworker):
        user = invite(amina)
        log_in_once(user)
        in_scope(amina, actions.send_portal_password_reset, fresh(amina), caseworker)
        (message,) = outbox(agency, kind="password_reset")
        assert message.to == user.email
        assert events_of(amina, action=AuditEvent.Action.SEND)[-1].changes == {"kind": "password_reset"}


class TestPages:
    def test_the_invite_action_is_absent_after_the_first_log_in(self, client, amina, caseworker):
        user = invite(amina)
        client.force_login(caseworker)
        resend = reverse("clients:portal_resend", args=[amina.pk])
        reset = reverse("clients:portal_reset", args=[amina.pk])
        before = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
        assert resend in before and reset in before
        assert reverse("clients:portal_invite", args=[amina.pk]) not in before

        log_in_once(user)
        after = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
        assert resend not in after and reset in after
        response = client.post(resend, follow=True)
        assert response.redirect_chain[-1][0] == reverse("clients:detail", args=[amina.pk])
        assert len(outbox(amina.agency, kind="portal_invitation")) == 1

    def test_no_invite_entry_for_a_client_without_email(self, client, agency, register, caseworker):
        wei = register(agency, given_name="Wei", family_name="Tanaka")
        client.force_login(caseworker)
        assert (
            reverse("clients:portal_invite", args=[wei.pk])
            not in client.get(reverse("clients:detail", args=[wei.pk])).content.decode()
        )

    def test_an_existing_account_is_a_clear_error_and_nothing_is_written(self, client, agency, amina, caseworker):
        UserFactory(email="amina@example.org")
        client.force_login(caseworker)
        response = client.post(reverse("clients:portal_invite", args=[amina.pk]))
        assert response.status_code == 400
        assert "An account with this email address already exists." in response.content.decode()
        assert fresh(amina).portal_user is None and outbox(agency) == []

    def test_invite_from_the_menu_says_where_it_went(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:portal_invite", args=[amina.pk]), follow=True)
        assert "Portal invitation sent to amina@example.org." in response.content.decode()


class TestAPI:
    URL = "/api/v1/clients/{}/{}"

    def test_invite_resend_and_reset(self, api, agency, amina, caseworker):
        session = api.as_user(caseworker)
        invited = session.post(self.URL.format(amina.pk, "portal-invite/"))
        assert invited.status_code == 201
        assert invited.json() == {"email": "amina@example.org", "has_logged_in": False, "last_login": None}
        assert session.post(self.URL.format(amina.pk, "portal-invite/")).status_code == 409
        assert session.post(self.URL.format(amina.pk, "portal-resend-invite/")).status_code == 200
        log_in_once(fresh(amina).portal_user)
        refused = session.post(self.URL.format(amina.pk, "portal-resend-invite/"))
        assert refused.status_code == 409 and errors_of(refused) == {None: ["not_applicable"]}
        reset = session.post(self.URL.format(amina.pk, "portal-password-reset/"))
        assert reset.status_code == 200 and reset.json()["has_logged_in"] is True
        assert len(outbox(agency, kind="portal_invitation")) == 2
        assert len(outbox(agency, kind="password_reset")) == 1

    def test_without_email_or_account_it_is_a_400_or_409_never_a_500(self, api, agency, register, caseworker):
        wei = register(agency, given_name="Wei", family_name="Tanaka")
        session = api.as_user(caseworker)
        no_email = session.post(self.URL.format(wei.pk, "portal-invite/"))
        assert no_email.status_code == 400 and errors_of(no_email) == {"email": ["invalid"]}
        assert session.post(self.URL.format(wei.pk, "portal-resend-invite/")).status_code == 409
        assert session.post(self.URL.format(wei.pk, "portal-password-reset/")).status_code == 409
        assert outbox(agency) == []

    @pytest.mark.parametrize(
        ("role", "allowed"),
        [("Administrator", True), ("Manager", True), ("Caseworker", True), ("Front desk", True), ("Read-only auditor", False)],
    )
    def test_it_needs_clients_portal(self, api, agency, amina, role, allowed):
        session = api.as_user(make_member(agency, role).user)
        assert session.post(self.URL.format(amina.pk, "portal-invite/")).status_code == (201 if allowed else 403)
        assert (fresh(amina).portal_user is not None) is allowed

    def test_another_agency_gets_404(self, api, amina, outsider):
        session = api.as_user(outsider)
        for path in ("portal-invite/", "portal-resend-invite/", "portal-password-reset/"):
            assert session.post(self.URL.format(amina.pk, path)).status_code == 404
        assert fresh(amina).portal_user is None
