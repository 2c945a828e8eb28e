"""API for communications and reminders, and each client's notification log.

/api/v1/communications/: list (filter by client, kind, status, date range), retrieve, create,
partial update, delete. Reading needs ``casework.view``, writing ``casework.change``; writes call
``caseload.casework.communications`` — a reminder for a client who cannot receive one is a 400
naming ``kind``. /api/v1/notifications/?client=<id>: the messages sent to one client (read-only;
no message text: it can carry a sign-in link).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, viewsets

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import ActionSerializer, AgencyModelViewSet, AgencyScopedMixin, run_action
from caseload.casework import communications
from caseload.casework.api_common import ID_FILTER_ERRORS, declare_errors
from caseload.casework.models import Communication
from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Program

VIEW, CHANGE = "casework.view", "casework.change"
TEXT_CODES = ("null_characters_not_allowed", "surrogate_characters_not_allowed")


class CommunicationSerializer(ActionSerializer):
    client = AgencyRelatedField(Client, help_text="The client (id); set on creation, it cannot change.")
    program = AgencyRelatedField(
        Program, required=False, allow_null=True, help_text="One of your agency's programs (id), or null."
    )
    kind = serializers.ChoiceField(
        choices=Communication.Kind.choices,
        help_text="`reminder` is the one kind the client receives: only for a client who has logged in to their portal account.",
    )
    direction = serializers.ChoiceField(
        choices=Communication.Direction.choices, required=False, help_text="A reminder is always outgoing."
    )
    date = serializers.DateField(
        required=False, help_text="The day of the contact (default today); for a reminder, the send date (today or later)."
    )
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    author = serializers.IntegerField(
        source="author_id", read_only=True, allow_null=True, help_text="The staff member who recorded it (membership id)."
    )
    message = serializers.IntegerField(
        source="message_id", read_only=True, allow_null=True, help_text="The outbox message a sent reminder went out as."
    )

    class Meta:
        model = Communication
        fields = [
            "id",
            "client",
            "kind",
            "direction",
            "date",
            "subject",
            "body",
            "program",
            "status",
            "channel",
            "sent_at",
            "message",
            "failure_reason",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "channel", "sent_at", "failure_reason", "created_at", "updated_at"]

    def create(self, validated_data):
        data = dict(validated_data)
        client = data.pop("client")
        data.setdefault("date", communications.agency_today(self.agency))
        return run_action(communications.record_communication, client, self.actor, data)

    def update(self, instance, validated_data):
        data = dict(validated_data)
        client = data.pop("client", instance.client)
        if client.pk != instance.client_id:
            raise serializers.ValidationError({"client": [_("A communication cannot move to another client.")]}, code="invalid")
        return run_action(communications.update_communication, instance, self.actor, data)


class CommunicationFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only this client's communications (id)."
    )
    kind = serializers.ChoiceField(choices=Communication.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Communication.Status.choices, required=False)
    date_from = serializers.DateField(required=False, help_text="On or after this date (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="On or before this date (YYYY-MM-DD).")

    def filters(self) -> dict:
        data = self.validated_data
        lookups = {"client_id": data.get("client"), "kind": data.get("kind"), "status": data.get("status")}
        lookups |= {"date__gte": data.get("date_from"), "date__lte": data.get("date_to")}
        return {key: value for key, value in lookups.items() if value is not None}


def communication_errors(viewset):
    """The errors the actions name beyond the serializer's own (drf-standardized-errors schema)."""
    return declare_errors(viewset, ("kind", "direction", "date", "subject", "body", "program", "client"))


@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="kind", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="date_from", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="date_to", actions=["list"])
@extend_schema_view(
    list=extend_schema(summary="Communications and reminders (casework.view)", parameters=[CommunicationFilterSerializer]),
    retrieve=extend_schema(summary="One communication (casework.view)"),
    create=extend_schema(summary="Record a communication or schedule a reminder (casework.change)"),
    partial_update=extend_schema(summary="Change a communication (casework.change; a sent reminder cannot change)"),
    destroy=extend_schema(
        summary="Delete a communication (casework.change; a scheduled reminder is cancelled, a sent one is not pulled back)"
    ),
)
@communication_errors
class CommunicationViewSet(AgencyModelViewSet):
    """Contacts with the agency's clients, newest first, and the reminders the clients receive.
    Reading needs `casework.view`, writing `casework.change`."""

    model = Communication
    serializer_class = CommunicationSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_action = staticmethod(communications.delete_communication)

    def get_queryset(self):
        queryset = visible(super().get_queryset(), self.request.membership).select_related("client", "client__portal_user")
        if self.action == "list":
            filters = CommunicationFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            queryset = queryset.filter(**filters.filters())
        return queryset.order_by("-date", "-created_at", "-pk")


class NotificationSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", read_only=True)
    delivered = serializers.SerializerMethodField(help_text="The provider confirmed delivery.")

    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "client",
            "channel",
            "to",
            "subject",
            "kind",
            "status",
            "sent_at",
            "delivered",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_delivered(self, message: OutboundMessage) -> bool:
        return message.delivered_at is not None


class NotificationFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The client (id) whose notification log to read."
    )


@extend_validation_errors(
    ["required", "invalid", "min_value", "max_value", "max_string_length"], field_name="client", actions=["list"]
)
@extend_schema_view(
    list=extend_schema(summary="A client's notification log (casework.view)", parameters=[NotificationFilterSerializer])
)
class NotificationViewSet(AgencyScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every email and text message sent to one client, newest first (no message text).
    Needs `casework.view`."""

    model = OutboundMessage
    serializer_class = NotificationSerializer
    permission_classes = [HasAgencyPerm(view=VIEW)]

    def get_queryset(self):
        queryset = super().get_queryset()
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return queryset.none()
        filters = NotificationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return queryset.filter(client_id=filters.validated_data["client"], client__isnull=False).order_by("-created_at", "-pk")
