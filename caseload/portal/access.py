"""Who the portal is for: a logged-in client (``Client.portal_user``) who is not staff.

A portal request runs in no agency of its own (the user has no membership); every portal view
runs inside ``agency_scope(client.agency)`` and reads only rows of that one client. Staff — any
user with an active membership — get a 404 here, and clients get a 403 on staff pages (no
membership, so no permission).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from caseload.clients.models import Client
from caseload.tenancy.scoping import agency_scope


def portal_client(user) -> Client | None:
    """The client whose portal account ``user`` is, or None (staff, anonymous, a deactivated account)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        client = user.client_profile
    except Client.DoesNotExist:
        return None
    return client


def is_portal_user(request: HttpRequest) -> bool:
    return not getattr(request, "memberships", None) and portal_client(request.user) is not None


def portal_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log-in required; a client (never staff) only; the view gets ``client`` and runs in its agency's scope."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "membership", None) is not None or getattr(request, "memberships", None):
            raise Http404
        client = portal_client(request.user)
        if client is None:
            raise Http404
        with agency_scope(client.agency):
            return view(request, client, *args, **kwargs)

    return wrapper
