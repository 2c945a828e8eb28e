"""API endpoints that are not a model's: the token log-in, who am I, and the JSON 404."""

from __future__ import annotations

from typing import ClassVar

from django.http import HttpRequest, JsonResponse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from knox.models import AuthToken
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from caseload.accounts.auth import authenticate_for_token
from caseload.api.authentication import TokenAuthentication
from caseload.tenancy.permissions import agency_perms


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    otp_code = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="The authenticator app's code (or a backup code) when two-factor is on."
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")
    expiry = serializers.DateTimeField(allow_null=True, help_text="When the token stops working unless used (each use extends it).")


class LockedOutErrorSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[("locked_out", "locked_out")])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class LockedOutErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = LockedOutErrorSerializer(many=True)

    class Meta:
        ref_name = "ErrorResponseLockedOut"


@extend_validation_errors(["invalid_credentials"], field_name="non_field_errors", methods=["post"])
@extend_validation_errors(["two_factor_setup_required", "required", "invalid"], field_name="otp_code", methods=["post"])
class TokenView(APIView):
    """`POST` trades an email, password and (when two-factor is on) the authenticator code for an
    API token; `DELETE` revokes the token the request is made with.

    Failures count towards the account lockout like on the log-in page (403 ``locked_out``), and
    the endpoint is throttled per client address. It ignores ``Idempotency-Key``: its answer holds
    a secret, which is never stored to be replayed; ask for a new token instead.
    """

    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    agency_header = False
    # Never store or replay the answer: it holds the secret token (see caseload/api/idempotency.py).
    idempotent = False

    def initialize_request(self, request, *args, **kwargs):
        self._method = request.method
        return super().initialize_request(request, *args, **kwargs)

    def get_authenticators(self):
        # Logging in must work even when the client still sends an old, expired token.
        method = getattr(self, "_method", None) or getattr(getattr(self, "request", None), "method", None)
        return [] if method == "POST" else [TokenAuthentication()]

    def get_permissions(self):
        if self.request.method == "DELETE":
            return [permissions.IsAuthenticated()]
        return super().get_permissions()

    @extend_schema(
        summary="Get an API token",
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, 403: LockedOutErrorResponseSerializer},
        auth=[],
    )
    def post(self, request):
        form = TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        user = authenticate_for_token(request._request, data["email"], data["password"], data.get("otp_code", ""))
        instance, token = AuthToken.objects.create(user)
        return Response({"token": token, "expiry": instance.expiry}, status=status.HTTP_200_OK)

    @extend_schema(summary="Revoke the token this request is made with", request=None, responses={204: None})
    def delete(self, request):
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgencySummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    time_zone = serializers.CharField()


class MeMembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    agency = AgencySummarySerializer()
    role = inline_serializer("MeRole", {"id": serializers.IntegerField(), "name": serializers.CharField()})
    title = serializers.CharField()


class MeSerializer(serializers.Serializer):
    user = inline_serializer(
        "MeUser",
        {
            "id": serializers.IntegerField(),
            "email": serializers.EmailField(),
            "full_name": serializers.CharField(),
            "preferred_language": serializers.CharField(),
        },
    )
    agency = AgencySummarySerializer(allow_null=True, help_text="The agency this request acts in (see the X-Agency header).")
    membership = MeMembershipSerializer(allow_null=True, help_text="Your membership in that agency.")
    memberships = MeMembershipSerializer(many=True, help_text="Every agency you are an active member of.")
    permissions = serializers.ListField(child=serializers.CharField(), help_text="Permission codes you hold in that agency.")


class MeView(APIView):
    """The authenticated user, the agency this request acts in, and their permissions there."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(summary="Who you are, and what you may do in the current agency", responses={200: MeSerializer})
    def get(self, request):
        user = request.user
        membership = request.membership
        data = {
            "user": {"id": user.pk, "email": user.email, "full_name": user.full_name, "preferred_language": user.preferred_language},
            "agency": membership.agency if membership else None,
            "membership": membership,
            "memberships": request.memberships,
            "permissions": sorted(agency_perms(membership)),
        }
        return Response(MeSerializer(data).data)


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any /api/ address that is not an endpoint: a JSON 404 like every other API error."""
    return JsonResponse({"type": "client_error", "errors": [{"code": "not_found", "detail": _("Not found."), "attr": None}]}, status=404)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated once per language and version in each process.

    It is the same for every visitor (the endpoints are public in it, none of an agency's data is) and
    for every request of a deploy, and generating it takes seconds of CPU: served from memory after
    the first time, an anonymous visitor cannot keep a worker busy with it.
    """

    _schemas: ClassVar[dict[tuple[str | None, str | None], dict]] = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (get_language(), version)
        schema = self._schemas.get(key)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = self._schemas[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=schema, headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'}
        )
