"""Token authentication for field apps: ``Authorization: Token <token>`` (django-rest-knox).

The token is resolved once, in the agency middleware, so that the request runs in the right
agency's scope before any view code; the DRF class below then hands DRF that same user.
"""

from __future__ import annotations

from django.http import HttpRequest
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

PREFIX = "Token "


def authenticate_token_header(request: HttpRequest) -> None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    request.token_error = None
    if not header.startswith(PREFIX):
        return
    try:
        user, token = KnoxTokenAuthentication().authenticate_credentials(header[len(PREFIX):].strip().encode())
    except exceptions.AuthenticationFailed as error:
        request.token_error = error
        return
    request.user = user
    request._cached_user = user
    request.auth_token = token


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if getattr(django_request, "token_error", None) is not None:
            raise django_request.token_error
        token = getattr(django_request, "auth_token", None)
        if token is None:
            return None
        return django_request.user, token
