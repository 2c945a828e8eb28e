"""API for the outbox: read-only, for members whose role holds ``messages.view``; and for the
agency's message templates (``messages.templates``: read, and change subject and body).

Message bodies stay out of the outbox API: they can carry what a caseworker wrote to a client.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import mixins, serializers, viewsets

from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import ActionSerializer, AgencyReadOnlyViewSet, AgencyScopedMixin, run_action
from caseload.messaging import template_actions
from caseload.messaging.models import MessageTemplate, OutboundMessage

TEMPLATES = "messages.templates"


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


class MessageTemplateSerializer(ActionSerializer):
    """A template's wording; only ``subject`` and ``body`` change, checked like on the page."""

    subject = serializers.CharField(max_length=250, required=False, allow_blank=True, trim_whitespace=True)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    class Meta:
        model = MessageTemplate
        fields = ["id", "purpose", "channel", "language", "subject", "body", "updated_at"]
        read_only_fields = ["id", "purpose", "channel", "language", "updated_at"]

    def update(self, instance, validated_data):
        return run_action(template_actions.update_template, instance, self.actor, validated_data)


@extend_validation_errors(["invalid", "max_length"], field_name="subject", actions=["partial_update"])
@extend_validation_errors(["invalid"], field_name="body", actions=["partial_update"])
@extend_schema_view(
    list=extend_schema(summary="The agency's message templates (messages.templates)"),
    retrieve=extend_schema(summary="One message template (messages.templates)"),
    partial_update=extend_schema(
        summary="Change a template's subject or body (messages.templates)",
        description="Placeholders are checked: only {preferred_name}, {checkpoint}, {due_date}, {link} and {agency}; "
        "a survey message must contain {link}; an email needs a subject and an SMS has none. "
        "A refusal is a 400 naming the field.",
    ),
)
class MessageTemplateViewSet(
    AgencyScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """The wording of the messages the agency sends clients, per purpose, channel and language.
    Needs `messages.templates` to read and to change."""

    model = MessageTemplate
    serializer_class = MessageTemplateSerializer
    permission_classes = [HasAgencyPerm(view=TEMPLATES, manage=TEMPLATES)]
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().order_by("purpose", "channel", "language", "pk")
