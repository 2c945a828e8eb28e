"""Who is logging in: the password, then the second factor, for the pages and for the API's tokens.

django-axes counts every failure against the email address and locks the account at
AXES_FAILURE_LIMIT: wrong passwords through ``django.contrib.auth.authenticate`` (its backend),
wrong two-factor codes by reporting them to axes here. Offices share one IP address, so the lock
is on the account, never on the address.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from rest_framework import exceptions

from caseload.accounts import actions, two_factor
from caseload.accounts.models import User
from caseload.tenancy.middleware import active_memberships

PENDING_SESSION_KEY = "accounts_pending_login"
# How long the code step waits after a right password before the log-in starts over.
PENDING_SECONDS = 5 * 60

STEP_PASSWORD = "password"
STEP_CODE = "two-factor code"
STEP_LOCKED = "refused: account locked"
STEP_REAUTH = "confirming identity"


@dataclass(frozen=True)
class Attempt:
    user: User | None = None
    device: Device | None = None
    locked: bool = False


def django_request(request) -> HttpRequest:
    """The Django request under a DRF one: axes flags the request the middleware will see."""
    return getattr(request, "_request", request)


def normalize_email(email: str) -> str:
    # Axes keys failures on this string: "Ann@X.org" and "ann@x.org" must count as one account.
    return (email or "").strip().lower()


def _credentials(email: str) -> dict[str, str]:
    return {settings.AXES_USERNAME_FORM_FIELD: normalize_email(email)}


def check_password(request, email: str, password: str) -> Attempt:
    """The user whose email and password these are; a failure is counted, audited and may lock."""
    request = django_request(request)
    email = normalize_email(email)
    was_locked = AxesProxyHandler.is_locked(request, _credentials(email))
    user = authenticate(request=request, username=email, password=password)
    if user is not None:
        return Attempt(user=user)
    locked = bool(getattr(request, "axes_locked_out", False))
    actions.record_failed_login(email=email, step=STEP_LOCKED if was_locked else STEP_PASSWORD, locked=locked and not was_locked)
    return Attempt(locked=locked)


def _count_failure(request: HttpRequest, user: User, step: str) -> bool:
    """Report a failed second step to axes like a wrong password; True when it locked the account."""
    AxesProxyHandler.user_login_failed(sender=check_code, credentials=_credentials(user.email), request=request)
    locked = bool(getattr(request, "axes_locked_out", False))
    actions.record_failed_login(email=user.email, user=user, step=step, locked=locked)
    return locked


def _refuse_if_locked(request: HttpRequest, user: User) -> bool:
    if not AxesProxyHandler.is_locked(request, _credentials(user.email)):
        return False
    request.axes_locked_out = True
    request.axes_credentials = _credentials(user.email)
    actions.record_failed_login(email=user.email, user=user, step=STEP_LOCKED, locked=False)
    return True


def check_code(request, user: User, code: str) -> Attempt:
    """The device that accepts this TOTP or backup code; a wrong code counts towards the lockout."""
    request = django_request(request)
    if _refuse_if_locked(request, user):
        return Attempt(user=user, locked=True)
    device = two_factor.match_code(user, code)
    if device is not None:
        return Attempt(user=user, device=device)
    return Attempt(user=user, locked=_count_failure(request, user, STEP_CODE))


def confirm_identity(request, user: User, *, password: str = "", code: str = "") -> Attempt:
    """A logged-in user proves it is still them (a current code, or their password) before a risky change."""
    request = django_request(request)
    if _refuse_if_locked(request, user):
        return Attempt(user=user, locked=True)
    if code and two_factor.match_code(user, code) is not None:
        return Attempt(user=user)
    if password and user.check_password(password):
        return Attempt(user=user)
    return Attempt(locked=_count_failure(request, user, STEP_REAUTH))


def count_reauth_failure(request, user: User) -> bool:
    """A wrong current password on the password change page; True when it locked the account."""
    return _count_failure(django_request(request), user, STEP_REAUTH)


def lockout_minutes_left(email: str | None) -> int:
    """Whole minutes until the account's lock lifts (the lock runs from the latest failure)."""
    cool_off = get_cool_off()
    total = cool_off.total_seconds() if cool_off else 0
    latest = None
    if email:
        latest = (
            AccessAttempt.objects.filter(username=normalize_email(email)).order_by("-attempt_time").values_list("attempt_time", flat=True).first()
        )
    remaining = total if latest is None else total - (timezone.now() - latest).total_seconds()
    return max(1, math.ceil(min(max(remaining, 0), total) / 60)) if total else 0


def two_factor_required(user: User) -> bool:
    """A user with an authenticator app always uses it; staff of an agency that requires 2FA must have one."""
    if two_factor.has_totp_device(user):
        return True
    return any(membership.agency.require_two_factor for membership in active_memberships(user))


# --- The log-in in progress between the password and the code -------------------------------


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    next_url: str


def begin_pending_login(request: HttpRequest, user: User, next_url: str) -> None:
    """Remember who gave the right password; they are not logged in until their code checks out."""
    request.session[PENDING_SESSION_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "next": next_url,
        "expires": int(time.time()) + PENDING_SECONDS,
    }


def pending_login(request: HttpRequest) -> PendingLogin | None:
    data = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    if data.get("expires", 0) < time.time():
        end_pending_login(request)
        return None
    user = User.objects.filter(pk=data.get("user_id"), is_active=True).first()
    if user is None or data.get("backend") not in settings.AUTHENTICATION_BACKENDS:
        end_pending_login(request)
        return None
    return PendingLogin(user=user, backend=data["backend"], next_url=data.get("next", ""))


def end_pending_login(request: HttpRequest) -> None:
    request.session.pop(PENDING_SESSION_KEY, None)


# --- The API's token log-in ---------------------------------------------------------------


class LockedOut(exceptions.PermissionDenied):
    default_detail = _("This account is locked after too many failed log-in attempts. Try again later or ask your administrator.")
    default_code = "locked_out"


def _invalid(field: str, message, code: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [exceptions.ErrorDetail(str(message), code=code)]})


def authenticate_for_token(request, email: str, password: str, otp_code: str | None) -> User:
    """The user a new API token may be issued to, or an error naming the field.

    Raises ``rest_framework.exceptions.ValidationError`` on ``non_field_errors`` (wrong email or
    password) or ``otp_code`` (a code is needed, is wrong, or 2FA must first be set up in the
    browser), and ``LockedOut`` (403) once the account is locked. Failures count towards the
    lockout exactly as on the log-in page.
    """
    attempt = check_password(request, email, password)
    if attempt.locked:
        raise LockedOut
    if attempt.user is None:
        raise _invalid("non_field_errors", _("The email address or password is not correct."), "invalid_credentials")
    user = attempt.user
    method = actions.METHOD_API
    if two_factor_required(user):
        if not two_factor.has_totp_device(user):
            raise _invalid(
                "otp_code",
                _("Your agency requires two-factor authentication. Set it up on the Security page in your browser first."),
                "two_factor_setup_required",
            )
        if not (otp_code or "").strip():
            raise _invalid("otp_code", _("Enter the code from your authenticator app."), "required")
        attempt = check_code(request, user, otp_code or "")
        if attempt.locked:
            raise LockedOut
        if attempt.device is None:
            raise _invalid("otp_code", _("This code is not valid."), "invalid")
        method = actions.METHOD_API_2FA
    actions.forget_failures(user)
    actions.record_login(user=user, method=method)
    return user
