import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseload.accounts import auth
from caseload.accounts.tests.helpers import (
    SECURITY_URL,
    VERIFY_URL,
    add_totp_device,
    code_for,
    events,
    post_login,
    wrong_code_for,
)
from caseload.accounts.views import TOTP_SETUP_SESSION_KEY
from caseload.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

SETUP_URL = "/accounts/security/two-factor/set-up/"
DISABLE_URL = "/accounts/security/two-factor/turn-off/"
BACKUP_URL = "/accounts/security/two-factor/backup-codes/"


def setup_code(client) -> str:
    key = client.session[TOTP_SETUP_SESSION_KEY]
    return f"{totp(bytes.fromhex(key)):06d}"


class TestSetUp:
    def test_it_shows_a_qr_code_and_the_secret(self, client, agency, caseworker):
        client.force_login(caseworker)
        page = client.get(SETUP_URL).content.decode()
        assert '<svg' in page and 'class="qr-code"' in page
        assert 'https://' not in re.search(r"<svg.*?</svg>", page, re.S).group(0).replace("http://www.w3.org", "")
        secret = re.search(r'<code class="secret"[^>]*>([A-Z2-7 ]+)</code>', page).group(1)
        assert len(secret.replace(" ", "")) == 32

    def test_the_secret_stays_the_same_until_confirmed(self, client, agency, caseworker):
        client.force_login(caseworker)
        client.get(SETUP_URL)
        key = client.session[TOTP_SETUP_SESSION_KEY]
        client.get(SETUP_URL)
        assert client.session[TOTP_SETUP_SESSION_KEY] == key
        assert not TOTPDevice.objects.filter(user=caseworker).exists()

    def test_a_wrong_code_does_not_turn_it_on(self, client, agency, caseworker):
        client.force_login(caseworker)
        client.get(SETUP_URL)
        response = client.post(SETUP_URL, {"otp_code": "000000" if setup_code(client) != "000000" else "111111"})
        assert response.status_code == 200
        assert "otp_code" in response.context["form"].errors
        assert not TOTPDevice.objects.filter(user=caseworker).exists()

    def test_the_right_code_turns_it_on_and_shows_ten_backup_codes_once(self, client, agency, caseworker):
        client.force_login(caseworker)
        client.get(SETUP_URL)
        response = client.post(SETUP_URL, {"otp_code": setup_code(client)})
        assert response.status_code == 200
        codes = response.context["codes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        for code in codes:
            assert code in response.content.decode()
        device = TOTPDevice.objects.get(user=caseworker)
        assert device.confirmed
        assert StaticToken.objects.filter(device__user=caseworker).count() == 10
        assert TOTP_SETUP_SESSION_KEY not in client.session
        # This session is verified by the code it just gave.
        assert client.get(SECURITY_URL).context["is_verified"] is True
        [event] = events(action="two_factor")
        assert event.changes == {"two_factor": [False, True], "backup_codes": [0, 10]}
        assert all(code not in str(event.changes) for code in codes)

    def test_a_user_with_two_factor_is_sent_back_to_the_security_page(self, client, agency, caseworker):
        add_totp_device(caseworker)
        client.force_login(caseworker)
        assert client.get(SETUP_URL)["Location"] == SECURITY_URL

    def test_it_needs_a_log_in(self, client):
        assert client.get(SETUP_URL)["Location"].startswith("/accounts/login/?next=")


class TestLogIn:
    def test_it_asks_for_a_code_before_logging_in(self, client, agency, caseworker):
        add_totp_device(caseworker)
        response = post_login(client, caseworker.email)
        assert response["Location"] == VERIFY_URL
        assert "_auth_user_id" not in client.session
        assert client.get(SECURITY_URL).status_code == 302
        assert not events(action="login")

    def test_the_right_code_logs_in_a_verified_session(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        post_login(client, caseworker.email, next="/accounts/security/")
        response = client.post(VERIFY_URL, {"otp_code": code_for(device)})
        assert response["Location"] == "/accounts/security/"
        assert int(client.session["_auth_user_id"]) == caseworker.pk
        assert client.get(SECURITY_URL).context["is_verified"] is True
        assert events(action="login")[0].changes == {"method": "password and two-factor code"}

    def test_a_code_is_accepted_once(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        code = code_for(device)
        post_login(client, caseworker.email)
        client.post(VERIFY_URL, {"otp_code": code})
        client.post("/accounts/logout/")
        post_login(client, caseworker.email)
        response = client.post(VERIFY_URL, {"otp_code": code})
        assert response.status_code == 200
        assert "otp_code" in response.context["form"].errors

    def test_a_wrong_code_is_a_form_error_naming_the_field(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        post_login(client, caseworker.email)
        response = client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)})
        assert response.status_code == 200
        assert response.context["form"].errors["otp_code"]
        assert "_auth_user_id" not in client.session
        assert events(action="login_failed")[-1].changes == {"step": "two-factor code"}

    def test_a_backup_code_works_once(self, client, agency, caseworker):
        add_totp_device(caseworker)
        client.force_login(caseworker)
        [code, *_rest] = _backup_codes(caseworker)
        client.logout()
        post_login(client, caseworker.email)
        assert client.post(VERIFY_URL, {"otp_code": code.upper()})["Location"] == "/"
        client.post("/accounts/logout/")
        post_login(client, caseworker.email)
        assert client.post(VERIFY_URL, {"otp_code": code}).status_code == 200
        assert "_auth_user_id" not in client.session

    def test_six_wrong_codes_lock_the_account(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        post_login(client, caseworker.email)
        for _attempt in range(5):
            assert client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)}).status_code == 200
        assert client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)}).status_code == 403
        assert events(action="lockout")
        # Locked: even the right password and code get nowhere now.
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
        assert post_login(client, caseworker.email).status_code == 403

    def test_wrong_passwords_and_wrong_codes_add_up(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        for _attempt in range(3):
            post_login(client, caseworker.email, "not the password")
        post_login(client, caseworker.email)
        for _attempt in range(2):
            assert client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)}).status_code == 200
        assert client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)}).status_code == 403

    def test_the_code_step_expires(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        post_login(client, caseworker.email)
        session = client.session
        session[auth.PENDING_SESSION_KEY]["expires"] = int(timezone.now().timestamp()) - 1
        session.save()
        assert client.post(VERIFY_URL, {"otp_code": code_for(device)})["Location"] == "/accounts/login/"
        assert "_auth_user_id" not in client.session

    def test_the_code_page_without_a_password_first_goes_to_log_in(self, client, agency):
        assert client.get(VERIFY_URL)["Location"] == "/accounts/login/"


def _backup_codes(user) -> list[str]:
    from caseload.accounts import actions

    return actions.regenerate_backup_codes(user=user, actor=user)


class TestTurningOff:
    def test_it_needs_a_current_code_or_the_password(self, client, agency, caseworker):
        add_totp_device(caseworker)
        client.force_login(caseworker)
        response = client.post(DISABLE_URL, {})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()
        response = client.post(DISABLE_URL, {"password": "not the password"})
        assert response.context["form"].non_field_errors() == ["That code or password is not correct."]
        assert TOTPDevice.objects.filter(user=caseworker).exists()

    def test_the_password_turns_it_off(self, client, agency, caseworker):
        add_totp_device(caseworker)
        _backup_codes(caseworker)
        client.force_login(caseworker)
        assert client.post(DISABLE_URL, {"password": TEST_PASSWORD})["Location"] == SECURITY_URL
        assert not TOTPDevice.objects.filter(user=caseworker).exists()
        assert not StaticToken.objects.filter(device__user=caseworker).exists()
        assert events(action="two_factor")[-1].changes == {"two_factor": [True, False], "backup_codes": [10, 0]}

    def test_a_current_code_turns_it_off(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        client.force_login(caseworker)
        assert client.post(DISABLE_URL, {"otp_code": code_for(device)})["Location"] == SECURITY_URL
        assert not TOTPDevice.objects.filter(user=caseworker).exists()


class TestBackupCodes:
    def test_new_codes_replace_the_old_ones(self, client, agency, caseworker):
        device = add_totp_device(caseworker)
        old = _backup_codes(caseworker)
        post_login(client, caseworker.email)
        client.post(VERIFY_URL, {"otp_code": code_for(device)})
        new = client.post(BACKUP_URL).context["codes"]
        assert len(new) == 10
        assert set(StaticToken.objects.filter(device__user=caseworker).values_list("token", flat=True)) == set(new)
        assert not set(old) & set(new)

    def test_an_unverified_session_must_give_a_code_first(self, client, agency, caseworker):
        add_totp_device(caseworker)
        client.force_login(caseworker)
        assert client.post(BACKUP_URL)["Location"].startswith(VERIFY_URL)

    def test_a_get_is_refused(self, client, agency, caseworker):
        client.force_login(caseworker)
        assert client.get(BACKUP_URL).status_code == 405


def test_the_security_page_shows_the_state(client, agency, caseworker):
    client.force_login(caseworker)
    response = client.get(SECURITY_URL)
    assert response.status_code == 200
    assert response.context["has_totp"] is False
    add_totp_device(caseworker)
    assert client.get(SECURITY_URL).context["has_totp"] is True


def test_a_throttled_device_refuses_even_the_right_code(client, agency, caseworker):
    device = add_totp_device(caseworker)
    post_login(client, caseworker.email)
    client.post(VERIFY_URL, {"otp_code": wrong_code_for(device)})
    assert client.post(VERIFY_URL, {"otp_code": code_for(device)}).status_code == 200
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=timezone.now() - timedelta(seconds=5))
    assert client.post(VERIFY_URL, {"otp_code": code_for(device)}).status_code == 302
