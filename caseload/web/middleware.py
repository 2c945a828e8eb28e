from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """A database restart costs a few 503s that clients retry, never a 500 or a lost write."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("Database unavailable: %s", type(exception).__name__)
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                {"type": "server_error", "errors": [{"code": "database_unavailable", "detail": "The database is unavailable; retry shortly.", "attr": None}]},
                status=503,
            )
        else:
            response = HttpResponse(render_to_string("web/503.html", request=None), status=503)
        response["Retry-After"] = "5"
        return response
