"""A database restart costs a few 503s that clients retry, never a 500 or a lost write."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"type": "server_error", "errors": [{"code": "database_unavailable", "detail": "The database is unavailable; retry shortly.", "attr": None}]},
            status=503,
        )
    else:
        response = HttpResponse(render_to_string("web/503.html", request=None), status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a database outage (raised in a view or in a middleware) answers 503, not 500."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_ERRORS):
        logger.warning("Database unavailable: %s", type(error).__name__)
        return database_unavailable(request)
    return django_server_error(request)


class DatabaseUnavailableMiddleware:
    """Answers 503 for a database error raised by a view (handler500 covers the middlewares)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning("Database unavailable: %s", type(exception).__name__)
        return database_unavailable(request)
