"""API for the audit log: read-only, for members whose role holds ``audit.view``."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers

from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyReadOnlyViewSet
from caseload.audit.models import AuditEvent
from caseload.audit.queries import filter_events

MAX_ID = 2**63 - 1
FIRST_DAY = datetime.date(2, 1, 1)
LAST_DAY = datetime.date(9998, 12, 31)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_label",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "client_id",
            "changes",
            "ip_address",
        ]
        read_only_fields = fields


class AuditEventFilterSerializer(serializers.Serializer):
    """Query parameters of the audit log. Dates are days in the agency's time zone, inclusive."""

    actor = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="User id of the actor.")
    client_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="The client the events concern.")
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices, required=False)
    object_type = serializers.CharField(required=False, max_length=100, help_text='e.g. "tenancy.program".')
    date_from = serializers.DateField(required=False, help_text="First day (YYYY-MM-DD), agency time zone.")
    date_to = serializers.DateField(required=False, help_text="Last day (YYYY-MM-DD), agency time zone.")

    def _validate_day(self, value: datetime.date) -> datetime.date:
        # Midnight of the first and the day after the last day must exist in every time zone.
        if not (FIRST_DAY <= value <= LAST_DAY):
            raise serializers.ValidationError(_("Give a day between years 2 and 9998."), code="invalid")
        return value

    validate_date_from = validate_date_to = _validate_day

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": _("The last day is before the first day.")}, code="invalid")
        return {**attrs, "client": attrs.pop("client_id", None)}


FILTER_ERROR_CODES = {
    "actor": ["invalid", "max_string_length", "min_value", "max_value"],
    "client_id": ["invalid", "max_string_length", "min_value", "max_value"],
    "action": ["invalid_choice"],
    "object_type": ["blank", "max_length", "null_characters_not_allowed", "surrogate_characters_not_allowed"],
    "date_from": ["invalid", "datetime"],
    "date_to": ["invalid", "datetime"],
}


def _with_filter_errors(viewset):
    for field_name, codes in FILTER_ERROR_CODES.items():
        viewset = extend_validation_errors(codes, field_name=field_name, actions=["list"])(viewset)
    return viewset


@_with_filter_errors
@extend_schema_view(
    list=extend_schema(summary="The audit log (audit.view)", parameters=[AuditEventFilterSerializer]),
    retrieve=extend_schema(summary="One audit event (audit.view)"),
)
class AuditEventViewSet(AgencyReadOnlyViewSet):
    """Who saw and changed what in the agency, newest first. Needs `audit.view`."""

    model = AuditEvent
    serializer_class = AuditEventSerializer
    permission_classes = [HasAgencyPerm(view="audit.view")]

    def get_queryset(self):
        if self.action != "list":
            return super().get_queryset()
        filters = AuditEventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filter_events(self.request.agency, filters.validated_data)
