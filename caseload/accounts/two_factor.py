"""Two-factor devices (django-otp): the authenticator app (TOTP) and one-time backup codes.

Reads and checks only; creating and removing devices is in ``actions``.
"""

from __future__ import annotations

import re
from base64 import b32encode
from binascii import unhexlify

import segno
from django_otp import verify_token
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

BACKUP_CODE_COUNT = 10
TOTP_DIGITS = 6
_SEPARATORS = re.compile(r"[\s-]+")


def totp_device(user) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they set one up."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("-id").first()


def has_totp_device(user) -> bool:
    return totp_device(user) is not None


def backup_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalize_code(code: str) -> str:
    """People type codes with spaces or dashes ("123 456", "abcd-efgh"); backup codes are lower case."""
    return _SEPARATORS.sub("", code or "").lower()


def match_code(user, code: str) -> Device | None:
    """The device that accepts ``code`` (a six-digit TOTP code or a backup code), or None.

    Each device throttles its own failures (django-otp), and a TOTP code is accepted once only.
    A backup code is used up by a match.
    """
    code = normalize_code(code)
    if not code:
        return None
    if code.isdigit() and len(code) == TOTP_DIGITS:
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True)
    else:
        devices = StaticDevice.objects.devices_for_user(user, confirmed=True)
    for device in devices:
        verified = verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified
    return None


def new_totp_key() -> str:
    """A new hex secret, kept in the session until the user proves their app has it."""
    return TOTPDevice._meta.get_field("key").get_default()


def check_totp_key(key: str, code: str) -> int | None:
    """The time step ``code`` matches for the secret ``key`` (one step of clock drift either way), or None."""
    code = normalize_code(code)
    if not (code.isdigit() and len(code) == TOTP_DIGITS):
        return None
    totp = TOTP(unhexlify(key.encode()), digits=TOTP_DIGITS)
    if totp.verify(int(code), tolerance=1):
        return totp.t()
    return None


def provisioning_uri(user, key: str) -> str:
    return TOTPDevice(user=user, key=key, digits=TOTP_DIGITS).config_url


def qr_code_svg(user, key: str, title: str) -> str:
    """The set-up QR code as inline SVG: no image request and no third-party service see the secret."""
    return segno.make(provisioning_uri(user, key), error="m").svg_inline(
        scale=5, border=2, title=title, svgclass="qr-code", omitsize=False
    )


def secret_for_display(key: str) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    text = b32encode(unhexlify(key.encode())).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def new_backup_codes() -> list[str]:
    return [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]

