"""How views reach agency rows and check permissions: 404 outside the agency, 403 inside it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse

M = TypeVar("M", bound=models.Model)


def has_perm(request: HttpRequest, code: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and membership.has_perm(code)


def check_perm(request: HttpRequest, code: str) -> None:
    if not has_perm(request, code):
        raise PermissionDenied


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Logged in and a member of an agency (the request then runs in that agency's scope)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request, "membership", None) is None:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def perm_required(code: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A member whose role holds ``code``; 403 for other members."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @member_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            check_perm(request, code)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def get_for_agency(request: HttpRequest, model: type[M] | models.QuerySet, **lookup: Any) -> M:
    """The object of the request's agency matching ``lookup``, or 404 (never 403: no existence leak)."""
    queryset = model.objects.for_agency(request.agency) if isinstance(model, type) else model.filter(agency=request.agency)
    try:
        found = queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if getattr(found, "agency_id", None) == request.agency.pk:
        found.agency = request.agency  # already loaded: spare each caller a query for it
    return found
