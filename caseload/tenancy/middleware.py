from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from django.db import router
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from caseload import rawrows
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope

SESSION_KEY = "caseload_agency_id"
AGENCY_HEADER = "HTTP_X_AGENCY"


def active_memberships(user) -> list[Membership]:
    """The user's active memberships with their agency and role, by agency name (read once per request).

    Read on every request: the statement is compiled once per connection (rawrows.Template), the user's id
    its one hole."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_caseload_memberships", None)
    if cached is None:
        alias = router.db_for_read(Membership)
        template = rawrows.template(alias, "active_memberships", [_USER], partial(_memberships, alias))
        cached = template.rows({_USER: ("%s", [user.pk])})
        user._caseload_memberships = cached
    return cached


_USER = "caseload_membership_user"


def _memberships(alias: str) -> QuerySet:
    return (
        Membership.objects.db_manager(alias)
        .with_scopes_disabled()
        .filter(user_id__in=rawrows.hole(_USER), is_active=True)
        .select_related("agency", "role")
        .order_by("agency__name")
    )


def choose_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The agency asked for (X-Agency header for the API, else the session), else the first."""
    if not memberships:
        return None
    wanted = request.META.get(AGENCY_HEADER) or request.session.get(SESSION_KEY)
    if wanted is not None:
        for membership in memberships:
            if str(membership.agency_id) == str(wanted) or membership.agency.slug == str(wanted):
                return membership
    return memberships[0]


class CurrentAgencyMiddleware:
    """Sets request.agency and request.membership, and runs the view inside that agency's scope."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from caseload.api.authentication import authenticate_token_header

        authenticate_token_header(request)
        request.memberships = active_memberships(request.user)
        request.membership = choose_membership(request, request.memberships)
        request.agency = request.membership.agency if request.membership else None
        if request.agency is None:
            return self.get_response(request)
        with agency_scope(request.agency):
            response = self.get_response(request)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _scoped_stream(request.agency, response.streaming_content)
        return response


def _scoped_stream(agency, content: Iterator[bytes]) -> Iterator[bytes]:
    # A streamed export is read after the view returns: keep it inside the agency's scope.
    with agency_scope(agency):
        yield from content
