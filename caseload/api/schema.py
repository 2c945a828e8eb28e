"""What the OpenAPI schema says beyond what drf-spectacular infers from the views.

Every operation documents the ``X-Agency`` header (which of the caller's agencies the request
runs in), every write the ``Idempotency-Key`` header and its 422, every delete of an agency object its 409.
"""

from __future__ import annotations

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from rest_framework import serializers

AGENCY_HEADER = OpenApiParameter(
    "X-Agency",
    {"type": "string"},
    OpenApiParameter.HEADER,
    required=False,
    description="The agency the request acts in, by id or short name (slug), for members of several agencies. "
    "Without it (or when it names an agency you are not a member of) the request runs in your first agency; "
    "GET /api/v1/me/ tells which one.",
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[!-~]{1,255}$"},
    OpenApiParameter.HEADER,
    required=False,
    description="A unique value per logical write (1 to 255 visible ASCII characters, e.g. a UUID). Retrying the request with the same key within "
    "24 hours returns the first response again (with the header `Idempotent-Replayed: true`) instead of "
    "writing twice. Reusing a key for a different request answers 422.",
)
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class IdempotencyErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ErrorSerializer(many=True)

    class Meta:
        ref_name = "ErrorResponse422"


class ConflictErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ErrorSerializer(many=True)

    class Meta:
        ref_name = "ErrorResponse409"


class AutoSchema(StandardizedErrorsAutoSchema):
    """Views set ``agency_header = False`` or ``idempotent = False`` to leave a header out."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "agency_header", True):
            parameters.append(AGENCY_HEADER)
        if self.method in UNSAFE_METHODS and getattr(self.view, "idempotent", True):
            parameters.append(IDEMPOTENCY_HEADER)
        return parameters

    def _get_extra_validation_errors(self):
        errors = super()._get_extra_validation_errors()
        if self.method in UNSAFE_METHODS and getattr(self.view, "idempotent", True):
            errors.setdefault("Idempotency-Key", {"invalid"})
        return errors

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction=direction)
        if direction != "response":
            return responses
        if self.method in UNSAFE_METHODS and getattr(self.view, "idempotent", True):
            responses.setdefault("422", self._get_response_for_code(IdempotencyErrorResponseSerializer, "422"))
        if self.method == "DELETE" and hasattr(self.view, "delete_action"):
            responses.setdefault("409", self._get_response_for_code(ConflictErrorResponseSerializer, "409"))
        return responses


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "caseload.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


def list_error_attrs_as_patterns(result, generator, request, public):
    """Post-processing hook: an error in a list item names its index (``phones.0.number``), which
    drf-standardized-errors documents as the single value ``phones.INDEX.number``; document it as
    the pattern it is, so clients and the schema fuzzing read real errors as on-schema."""
    # ``answers.PATH`` stands for any path into a form's answers (``answers.presenters.1.name``).
    for component in result.get("components", {}).get("schemas", {}).values():
        attr = component.get("properties", {}).get("attr") if isinstance(component, dict) else None
        values = attr.get("enum") if isinstance(attr, dict) else None
        if values and any(".INDEX" in value or ".PATH" in value for value in values if isinstance(value, str)):
            patterns = [
                "^" + re.escape(value).replace("INDEX", r"\d+").replace("PATH", r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*") + "$"
                for value in values
            ]
            attr.pop("enum")
            attr["pattern"] = "|".join(patterns) if len(patterns) == 1 else "|".join(f"(?:{p})" for p in patterns)
    return result
