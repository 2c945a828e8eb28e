"""An agency that requires two-factor authentication cannot be entered without it; idle sessions expire."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from caseload.accounts import two_factor

# Pages an unverified user may still reach: their own account pages (set-up, code, log-out,
# password), the language switch, and the agency switcher (to go to an agency that does not
# require 2FA). Other views opt out with ``two_factor_exempt``.
EXEMPT_NAMESPACES = {"accounts"}
EXEMPT_VIEW_NAMES = {"set_language", "web:switch_agency"}


def two_factor_exempt(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let a view be reached before an agency's 2FA requirement is met (it must show no agency data)."""
    view.two_factor_exempt = True  # type: ignore[attr-defined]
    return view


class TwoFactorRequiredMiddleware:
    """A logged-in session whose current agency requires 2FA must be verified by a code.

    Without an authenticator app the user is sent to set one up; with one, to the code step.
    Runs after CurrentAgencyMiddleware (request.agency) and OTPMiddleware (is_verified). API
    requests carrying a token are exempt: the token endpoint asked for the code already.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any) -> HttpResponse | None:
        if not needs_verification(request) or _is_exempt(request, view_func):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {
                    "type": "client_error",
                    "errors": [
                        {
                            "code": "two_factor_required",
                            "detail": _("This agency requires two-factor authentication. Verify your session in the browser first."),
                            "attr": None,
                        }
                    ],
                },
                status=403,
            )
        target = "accounts:login_verify" if two_factor.has_totp_device(request.user) else "accounts:totp_setup"
        url = reverse(target)
        if request.method == "GET" and not getattr(request, "htmx", False):
            url = f"{url}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(url)
        return redirect(url)


def needs_verification(request: HttpRequest) -> bool:
    if getattr(request, "auth_token", None) is not None:
        return False
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    agency = getattr(request, "agency", None)
    if agency is None or not agency.require_two_factor:
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (callable(is_verified) and is_verified())


def _is_exempt(request: HttpRequest, view_func: Callable[..., Any]) -> bool:
    if getattr(view_func, "two_factor_exempt", False):
        return True
    match = request.resolver_match
    if match is None:
        return False
    return bool(set(match.namespaces) & EXEMPT_NAMESPACES) or match.view_name in EXEMPT_VIEW_NAMES


class SessionRefreshMiddleware:
    """Sessions expire after SESSION_COOKIE_AGE seconds without a request, written at most once a minute.

    Instead of saving the session on every request (SESSION_SAVE_EVERY_REQUEST), a session whose
    row was last written SESSION_REFRESH_SECONDS ago or more is marked modified, so
    SessionMiddleware saves it and its expiry moves a whole idle timeout ahead. An idle session
    still ends on time (at most SESSION_REFRESH_SECONDS early). Sits right after
    SessionMiddleware; needs the session store of caseload.accounts.sessions (``stored_expiry``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        stored = getattr(session, "stored_expiry", None)
        if stored is not None and not session.modified:
            written_ago = settings.SESSION_COOKIE_AGE - (stored - timezone.now()).total_seconds()
            if written_ago >= settings.SESSION_REFRESH_SECONDS:
                session.modified = True
        return response
