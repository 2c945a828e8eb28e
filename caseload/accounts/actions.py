"""Every change to an account: log-in and log-out, passwords, two-factor devices, account emails.

Each is audited. Account events are recorded under the agency in scope when there is one (so
row-level security accepts them), else under the user's first agency; a failed log-in has no
agency. No event ever holds a password, a code, a token or a link.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from caseload.accounts import two_factor
from caseload.accounts.models import User, new_session_salt
from caseload.audit.actions import record
from caseload.audit.models import AuditEvent
from caseload.tenancy.middleware import active_memberships
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import current_agency

Action = AuditEvent.Action

# How a log-in was made, as the audit log records it.
METHOD_PASSWORD = "password"
METHOD_PASSWORD_2FA = "password and two-factor code"
METHOD_API = "API token"
METHOD_API_2FA = "API token with two-factor code"
METHOD_INVITATION = "portal invitation"

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def first_agency(user: User) -> Agency | None:
    memberships = active_memberships(user)
    return memberships[0].agency if memberships else None


def portal_client_of(user: User):
    """The client whose portal account ``user`` is (None for staff)."""
    from caseload.clients.models import Client

    try:
        return user.client_profile
    except Client.DoesNotExist:
        return None


def _account_agency(user: User) -> Agency | None:
    return current_agency() or first_agency(user)


# --- Logging in and out --------------------------------------------------------------------


def record_login(*, user: User, method: str) -> None:
    record(agency=_account_agency(user), actor=user, action=Action.LOGIN, obj=user, changes={"method": method})


@transaction.atomic
def record_failed_login(*, email: str, step: str, locked: bool, user: User | None = None) -> None:
    """A refused log-in: LOGIN_FAILED (the account as object when the email exists), and LOCKOUT
    when this failure locked the account. The password is never passed here."""
    if user is None:
        user = User.objects.filter(email__iexact=email).first()
    target = {"obj": user} if user else {"object_type": User._meta.label_lower, "object_repr": email[:200]}
    agency = current_agency()
    record(agency=agency, actor=None, action=Action.LOGIN_FAILED, changes={"step": step}, **target)
    if locked:
        record(
            agency=agency or (first_agency(user) if user else None),
            actor=None,
            action=Action.LOCKOUT,
            changes={"failures": settings.AXES_FAILURE_LIMIT},
            **target,
        )


@transaction.atomic
def log_in(request: HttpRequest, user: User, *, backend: str, device: Device | None = None, method: str = "") -> None:
    """Start the user's session (verified by ``device`` when they gave a two-factor code)."""
    login(request, user, backend=backend)
    if device is not None:
        otp_login(request, device)
    record_login(user=user, method=method or (METHOD_PASSWORD_2FA if device else METHOD_PASSWORD))


@transaction.atomic
def log_out(request: HttpRequest) -> None:
    user = request.user
    if user.is_authenticated:
        record(agency=_account_agency(user), actor=user, action=Action.LOGOUT, obj=user)
    logout(request)


@transaction.atomic
def log_out_everywhere(user: User, actor: User | None, *, agency: Agency | None = None) -> int:
    """End every session of the user and revoke their API tokens; returns how many tokens went.

    A new session salt changes the session hash, so every session made before is refused at its
    next request. The caller keeps its own session with ``update_session_auth_hash``.
    """
    user.session_salt = new_session_salt()
    user.save(update_fields=["session_salt"])
    tokens, _ = AuthToken.objects.filter(user=user).delete()
    record(
        agency=agency or _account_agency(user),
        actor=actor,
        action=Action.LOGOUT_EVERYWHERE,
        obj=user,
        changes={"api_tokens": [tokens, 0]},
    )
    return tokens


# --- Passwords -----------------------------------------------------------------------------


@transaction.atomic
def change_password(*, user: User, actor: User | None, password: str, method: str = "") -> None:
    """Set a new password (already validated by the form). Other sessions end with the old hash."""
    user.set_password(password)
    user.save(update_fields=["password"])
    record(
        agency=_account_agency(user),
        actor=actor,
        action=Action.PASSWORD_CHANGE,
        obj=user,
        changes={"method": method} if method else {},
    )


def forget_failures(user: User) -> None:
    """A completed log-in, or a new password set from an emailed link, clears the account's failures."""
    AxesProxyHandler.reset_attempts(username=user.email.lower())


def set_password_from_link(*, user: User, password: str, method: str) -> None:
    """A password chosen from an emailed link (reset or invitation); the account's lockout ends."""
    change_password(user=user, actor=user, password=password, method=method)
    forget_failures(user)


def _account_link(user: User, url_name: str) -> str:
    uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return settings.SITE_URL + reverse(url_name, kwargs={"uidb64": uidb64, "token": token})


def _render_email(user: User, name: str, context: dict) -> tuple[str, str]:
    """Subject and body of an account email, in the user's language (links built from SITE_URL,
    never from the request's Host header)."""
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        context = {"user": user, "site_url": settings.SITE_URL, **context}
        subject = render_to_string(f"accounts/email/{name}_subject.txt", context)
        body = render_to_string(f"accounts/email/{name}_body.txt", context)
    return " ".join(subject.split()), body


@transaction.atomic
def send_password_reset(*, user: User, actor: User | None, agency: Agency | None, client=None):
    """Queue a password reset email (through the outbox) with a one-use link; returns the message.

    ``client``: the client whose portal account it is (found from the account when not given), so
    the email shows in that client's notification log."""
    from caseload.messaging.actions import queue_email

    if client is None:
        found = portal_client_of(user)
        if found is not None and (agency is None or found.agency_id == agency.pk):
            client = found
    if agency is None and client is not None:
        agency = client.agency

    subject, body = _render_email(
        user,
        "password_reset",
        {"url": _account_link(user, "accounts:password_reset_confirm"), "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
    )
    message = queue_email(
        agency=agency, to=user.email, subject=subject, body=body, kind="password_reset", actor=actor, recipient_user=user, client=client
    )
    record(agency=agency, actor=actor, action=Action.PASSWORD_RESET, obj=user)
    return message


@transaction.atomic
def send_portal_invitation(*, user: User, actor: User | None, agency: Agency | None, client=None):
    """Queue an invitation email whose link lets the user choose a password and log in
    (``client``: the client it invites to the portal, for their notification log)."""
    from caseload.messaging.actions import queue_email

    subject, body = _render_email(
        user,
        "invitation",
        {
            "url": _account_link(user, "accounts:invitation"),
            "agency": agency,
            "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        },
    )
    message = queue_email(
        agency=agency, to=user.email, subject=subject, body=body, kind="portal_invitation", actor=actor, recipient_user=user, client=client
    )
    record(agency=agency, actor=actor, action=Action.SEND, obj=user, changes={"kind": "portal_invitation"})
    return message


# --- Two-factor ----------------------------------------------------------------------------


def _replace_backup_codes(user: User) -> tuple[int, list[str]]:
    before = two_factor.backup_codes_left(user)
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Backup codes", confirmed=True)
    codes = two_factor.new_backup_codes()
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return before, codes


@transaction.atomic
def enable_two_factor(*, user: User, key: str, time_step: int) -> tuple[TOTPDevice, list[str]]:
    """Save the authenticator app the user just proved (with a code at ``time_step``) and new backup
    codes, replacing any earlier ones. Returns the device and the codes, shown to the user once."""
    had_device = two_factor.has_totp_device(user)
    TOTPDevice.objects.filter(user=user).delete()
    device = TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=key, digits=two_factor.TOTP_DIGITS, confirmed=True, last_t=time_step
    )
    before, codes = _replace_backup_codes(user)
    record(
        agency=_account_agency(user),
        actor=user,
        action=Action.TWO_FACTOR,
        obj=user,
        changes={"two_factor": [had_device, True], "backup_codes": [before, len(codes)]},
    )
    return device, codes


@transaction.atomic
def disable_two_factor(*, user: User, actor: User | None) -> None:
    before = two_factor.backup_codes_left(user)
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    record(
        agency=_account_agency(user),
        actor=actor,
        action=Action.TWO_FACTOR,
        obj=user,
        changes={"two_factor": [True, False], "backup_codes": [before, 0]},
    )


@transaction.atomic
def regenerate_backup_codes(*, user: User, actor: User | None) -> list[str]:
    """Ten new backup codes; the old ones stop working. The page shows them once."""
    before, codes = _replace_backup_codes(user)
    record(agency=_account_agency(user), actor=actor, action=Action.TWO_FACTOR, obj=user, changes={"backup_codes": [before, len(codes)]})
    return codes
