"""The ``Idempotency-Key`` header on API writes (see caseload/api/idempotency.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from caseload.api import idempotency


class IdempotencyKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def exempt_paths(self) -> frozenset[str]:
        # The token endpoint's answer is a secret: it is never stored, so never replayed.
        return frozenset({reverse("api:auth-token")})

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(idempotency.HEADER)
        if (
            key is None
            or request.method not in idempotency.METHODS
            or not request.path_info.startswith("/api/")
            or request.path in self.exempt_paths
            or not request.user.is_authenticated
        ):
            return self.get_response(request)
        if not idempotency.KEY_PATTERN.fullmatch(key):
            return idempotency.error_response(
                400,
                "invalid",
                _("The Idempotency-Key header must be 1 to %(max)d visible ASCII characters.") % {"max": idempotency.MAX_KEY_LENGTH},
                error_type="validation_error",
            )
        try:
            body = request.body
        except RequestDataTooBig:
            return idempotency.error_response(413, "request_too_large", _("The request body is too large."))
        return idempotency.handle(request, key, body, self.get_response)
