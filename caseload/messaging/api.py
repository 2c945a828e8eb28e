"""API for the outbox: read-only, for members whose role holds ``messages.view``.

Message bodies stay out of the API: they can carry what a caseworker wrote to a client.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers

from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyReadOnlyViewSet
from caseload.messaging.models import OutboundMessage


class OutboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "uuid",
            "channel",
            "to",
            "subject",
            "kind",
            "status",
            "attempts",
            "next_attempt_at",
            "sent_at",
            "last_error",
            "created_at",
        ]
        read_only_fields = fields


class OutboundMessageFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OutboundMessage.Status.choices, required=False)
    channel = serializers.ChoiceField(choices=OutboundMessage.Channel.choices, required=False)


@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="channel", actions=["list"])
@extend_schema_view(
    list=extend_schema(summary="The outbox (messages.view)", parameters=[OutboundMessageFilterSerializer]),
    retrieve=extend_schema(summary="One outbound message (messages.view)"),
)
class OutboundMessageViewSet(AgencyReadOnlyViewSet):
    """The agency's outbox: every email and SMS and its delivery status (bodies are not shown).
    Needs `messages.view`."""

    model = OutboundMessage
    serializer_class = OutboundMessageSerializer
    permission_classes = [HasAgencyPerm(view="messages.view")]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action != "list":
            return queryset
        filters = OutboundMessageFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return queryset.filter(**filters.validated_data)
