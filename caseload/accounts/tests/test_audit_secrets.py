"""No audit row ever holds a password, a two-factor code, a backup code or an emailed link."""

import json
import re

import pytest
from django.test import Client
from django_otp.oath import totp

from caseload.accounts import actions
from caseload.accounts.tests.helpers import VERIFY_URL, add_totp_device, code_for, events, post_login, wrong_code_for
from caseload.accounts.views import TOTP_SETUP_SESSION_KEY
from caseload.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase here"


def test_no_audit_row_holds_a_password_a_code_or_a_link(client, agency, admin, caseworker):
    secrets = [TEST_PASSWORD, NEW_PASSWORD, "wrong password attempt"]
    # Wrong and right passwords, up to a lockout.
    for _attempt in range(6):
        post_login(Client(), caseworker.email, "wrong password attempt")
    post_login(Client(), caseworker.email, TEST_PASSWORD)
    post_login(Client(), "nobody@example.org", TEST_PASSWORD)
    post_login(Client(), admin.email, TEST_PASSWORD)
    # Two-factor set-up, codes, backup codes.
    client.force_login(admin)
    client.get("/accounts/security/two-factor/set-up/")
    key = client.session[TOTP_SETUP_SESSION_KEY]
    setup = f"{totp(bytes.fromhex(key)):06d}"
    backup = client.post("/accounts/security/two-factor/set-up/", {"otp_code": setup}).context["codes"]
    secrets += [key, setup, *backup]
    device = add_totp_device(admin)
    login = Client()
    post_login(login, admin.email)
    wrong = wrong_code_for(device)
    login.post(VERIFY_URL, {"otp_code": wrong})
    secrets.append(wrong)
    # Password change, reset and invitation links.
    client.post(
        "/accounts/security/password/", {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    message = actions.send_password_reset(user=admin, actor=None, agency=agency)
    invitation = actions.send_portal_invitation(user=caseworker, actor=admin, agency=agency)
    for sent in (message, invitation):
        secrets.append(re.search(r"/accounts/\S+/(\S+)/", sent.body).group(1))
    secrets.append(code_for(device))

    rows = events()
    assert {"login_failed", "lockout", "login", "two_factor", "password_change", "password_reset", "send"} <= {e.action for e in rows}
    dumped = json.dumps([[e.changes, e.object_repr, e.actor_label] for e in rows], ensure_ascii=False)
    for secret in secrets:
        assert secret not in dumped
