import re

import pytest
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from caseload.accounts import actions
from caseload.accounts.models import User
from caseload.accounts.tests.helpers import SECURITY_URL, add_totp_device, events, post_login
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import agency_scope, all_agencies
from caseload.testing.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

CHANGE_URL = "/accounts/security/password/"
RESET_URL = "/accounts/password-reset/"
NEW_PASSWORD = "a long new passphrase for tests"


def outbox(**lookup) -> list[OutboundMessage]:
    with all_agencies():
        return list(OutboundMessage.objects.filter(**lookup).order_by("id"))


def link_path(message: OutboundMessage) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


class TestChange:
    def test_it_changes_the_password_and_keeps_this_session(self, client, agency, caseworker):
        client.force_login(caseworker)
        response = client.post(
            CHANGE_URL, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        )
        assert response["Location"] == SECURITY_URL
        caseworker.refresh_from_db()
        assert caseworker.check_password(NEW_PASSWORD)
        assert client.get(SECURITY_URL).status_code == 200
        [event] = events(action="password_change")
        assert event.actor == caseworker and event.agency == agency

    def test_it_logs_out_the_other_sessions(self, client, django_user_model, agency, caseworker):
        from django.test import Client

        other = Client()
        other.force_login(caseworker)
        client.force_login(caseworker)
        client.post(CHANGE_URL, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert other.get(SECURITY_URL).status_code == 302

    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("short pass1", "This password is too short. It must contain at least 12 characters."),
            ("password1234", "This password is too common."),
        ],
    )
    def test_the_password_rules_name_the_field(self, client, agency, caseworker, password, message):
        assert len("short pass1") == 11
        client.force_login(caseworker)
        response = client.post(CHANGE_URL, {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password})
        assert response.status_code == 200
        assert message in response.context["form"].errors["new_password2"]
        caseworker.refresh_from_db()
        assert caseworker.check_password(TEST_PASSWORD)
        assert not events(action="password_change")

    def test_a_wrong_current_password_is_refused_and_counted(self, client, agency, caseworker):
        client.force_login(caseworker)
        response = client.post(CHANGE_URL, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 200
        assert response.context["form"].errors["old_password"]
        assert events(action="login_failed")[-1].changes == {"step": "confirming identity"}


class TestReset:
    def test_it_queues_an_email_through_the_outbox(self, client, agency, caseworker):
        response = client.post(RESET_URL, {"email": caseworker.email.upper()})
        assert response["Location"] == "/accounts/password-reset/sent/"
        with agency_scope(agency):
            [message] = OutboundMessage.objects.for_agency(agency).filter(kind="password_reset")
        assert message.to == caseworker.email
        assert message.recipient_user == caseworker
        assert message.sensitive
        assert "/accounts/password-reset/" in message.body
        [event] = events(action="password_reset")
        assert event.object_id == str(caseworker.pk)
        assert event.agency == agency

    def test_an_unknown_email_gets_the_same_answer_and_no_email(self, client, agency, caseworker):
        known = client.post(RESET_URL, {"email": caseworker.email})
        unknown = client.post(RESET_URL, {"email": "nobody@example.org"})
        assert unknown.status_code == known.status_code == 302
        assert unknown["Location"] == known["Location"]
        assert len(outbox(kind="password_reset")) == 1

    def test_a_user_of_no_agency_gets_a_system_email(self, client, db):
        user = UserFactory()
        client.post(RESET_URL, {"email": user.email})
        [message] = outbox(kind="password_reset")
        assert message.agency is None

    def test_a_bad_email_is_a_form_error(self, client, db):
        response = client.post(RESET_URL, {"email": "not an email"})
        assert response.status_code == 200
        assert response.context["form"].errors["email"]

    def test_the_link_sets_a_new_password_once(self, client, agency, caseworker):
        client.post(RESET_URL, {"email": caseworker.email})
        path = link_path(outbox(kind="password_reset")[0])
        form_page = client.get(path)
        assert form_page.status_code == 302
        set_password = form_page["Location"]
        assert client.get(set_password).context["validlink"] is True
        response = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response["Location"] == "/accounts/password-reset/complete/"
        caseworker.refresh_from_db()
        assert caseworker.check_password(NEW_PASSWORD)
        assert events(action="password_change")[-1].changes == {"method": "password reset"}
        # The link is used up.
        assert client.get(path).context["validlink"] is False

    def test_the_new_password_must_follow_the_rules(self, client, agency, caseworker):
        client.post(RESET_URL, {"email": caseworker.email})
        set_password = client.get(link_path(outbox(kind="password_reset")[0]))["Location"]
        response = client.post(set_password, {"new_password1": "short pass1", "new_password2": "short pass1"})
        assert "new_password2" in response.context["form"].errors
        caseworker.refresh_from_db()
        assert caseworker.check_password(TEST_PASSWORD)

    def test_a_reset_unlocks_a_locked_account(self, client, agency, caseworker):
        for _attempt in range(6):
            post_login(client, caseworker.email, "not the password")
        assert post_login(client, caseworker.email).status_code == 403
        client.post(RESET_URL, {"email": caseworker.email})
        set_password = client.get(link_path(outbox(kind="password_reset")[0]))["Location"]
        client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert post_login(client, caseworker.email, NEW_PASSWORD).status_code == 302

    def test_a_reset_does_not_skip_two_factor(self, client, agency, caseworker):
        add_totp_device(caseworker)
        client.post(RESET_URL, {"email": caseworker.email})
        set_password = client.get(link_path(outbox(kind="password_reset")[0]))["Location"]
        client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert "_auth_user_id" not in client.session
        assert post_login(client, caseworker.email, NEW_PASSWORD)["Location"] == "/accounts/login/verify/"

    def test_a_forged_link_is_refused(self, client, agency, caseworker):
        uid = urlsafe_base64_encode(force_bytes(caseworker.pk))
        response = client.get(f"/accounts/password-reset/{uid}/forged-token/")
        assert response.status_code == 200
        assert response.context["validlink"] is False


class TestStaffActions:
    def test_send_password_reset_queues_an_email_under_the_agency(self, agency, admin, caseworker):
        with agency_scope(agency):
            message = actions.send_password_reset(user=caseworker, actor=admin, agency=agency)
            assert list(OutboundMessage.objects.for_agency(agency).filter(kind="password_reset")) == [message]
        assert message.created_by == admin
        [event] = events(action="password_reset")
        assert event.actor == admin and event.agency == agency and event.object_id == str(caseworker.pk)

    def test_the_email_is_in_the_users_language(self, agency, admin):
        user = UserFactory(preferred_language="fr")
        message = actions.send_password_reset(user=user, actor=admin, agency=agency)
        with translation.override("fr"):
            expected = gettext("Reset your Caseload password")
        assert message.subject == expected

    def test_send_portal_invitation_queues_an_email_with_a_set_password_link(self, client, agency, admin):
        user = User.objects.create_user(email="newclient@example.org", full_name="D'Arcy Nguyễn")
        assert not user.has_usable_password()
        message = actions.send_portal_invitation(user=user, actor=admin, agency=agency)
        assert message.kind == "portal_invitation"
        assert message.agency == agency
        assert agency.name in message.subject
        assert "Hello D'Arcy," in message.body
        [event] = events(action="send", object_id=str(user.pk))
        assert event.actor == admin and event.changes == {"kind": "portal_invitation"}
        assert "/accounts/invitation/" in link_path(message)

    def test_the_invitation_link_sets_a_password_and_logs_in(self, client, agency, admin):
        user = User.objects.create_user(email="newclient@example.org")
        message = actions.send_portal_invitation(user=user, actor=admin, agency=agency)
        set_password = client.get(link_path(message))["Location"]
        page = client.get(set_password)
        assert page.context["validlink"] is True
        assert user.email in page.content.decode()
        response = client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert response.status_code == 302
        assert int(client.session["_auth_user_id"]) == user.pk
        user.refresh_from_db()
        assert user.check_password(NEW_PASSWORD)
        assert events(action="login", actor=user)[-1].changes == {"method": "portal invitation"}
        # Used once.
        client.post("/accounts/logout/")
        assert client.get(link_path(message)).context["validlink"] is False

    def test_an_invitation_refuses_a_weak_password(self, client, agency, admin):
        user = User.objects.create_user(email="newclient@example.org")
        set_password = client.get(link_path(actions.send_portal_invitation(user=user, actor=admin, agency=agency)))["Location"]
        response = client.post(set_password, {"new_password1": "password1234", "new_password2": "password1234"})
        assert "new_password2" in response.context["form"].errors
        assert "_auth_user_id" not in client.session
