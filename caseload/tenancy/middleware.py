from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope

SESSION_KEY = "caseload_agency_id"
AGENCY_HEADER = "HTTP_X_AGENCY"


def active_memberships(user) -> list[Membership]:
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_caseload_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.with_scopes_disabled()
            .filter(user=user, is_active=True)
            .select_related("agency", "role")
            .order_by("agency__name")
        )
        user._caseload_memberships = cached
    return cached


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
