from __future__ import annotations

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from caseload.audit.models import AuditEvent
from caseload.tenancy.scoping import all_agencies
from caseload.testing.factories import TEST_PASSWORD

LOGIN_URL = "/accounts/login/"
VERIFY_URL = "/accounts/login/verify/"
SECURITY_URL = "/accounts/security/"


def add_totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


def wrong_code_for(device: TOTPDevice) -> str:
    # Never one of the codes accepted with a step of clock drift either way.
    accepted = {totp(device.bin_key, drift=d) for d in (-1, 0, 1)}
    return next(f"{n:06d}" for n in range(1000000) if n not in accepted)


def post_login(client, email: str, password: str = TEST_PASSWORD, **extra):
    return client.post(LOGIN_URL, {"email": email, "password": password, **extra})


def events(**lookup) -> list[AuditEvent]:
    with all_agencies():
        return list(AuditEvent.objects.filter(**lookup).order_by("id"))
