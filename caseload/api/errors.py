"""How the API turns exceptions into its JSON errors (drf-standardized-errors, plus one case).

A database that is restarting or unreachable answers 503 with ``Retry-After``, like the pages do
(caseload/web/middleware.py): the client retries, and nothing was written.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from drf_standardized_errors.handler import ExceptionHandler as StandardizedExceptionHandler
from rest_framework import exceptions, status

RETRY_AFTER_SECONDS = 5


class DatabaseUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("The database is unavailable; retry shortly.")
    default_code = "database_unavailable"


class ExceptionHandler(StandardizedExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, OperationalError | InterfaceError):
            return DatabaseUnavailable()
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict:
        headers = super().get_headers(exc)
        if isinstance(exc, DatabaseUnavailable):
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return headers
