"""API for the client registry: search, register (with the duplicate check), change, archive.

Reading needs ``clients.view``; writing needs ``clients.change``. Opening one client's record is
audited (a VIEW event); lists and searches are not.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.response import Response

from caseload.api.permissions import HasAgencyPerm
from caseload.api.schema import ErrorSerializer
from caseload.api.viewsets import WRITES, ActionSerializer, AgencyCreateUpdateViewSet, run_action
from caseload.audit.actions import Action, record
from caseload.clients import actions
from caseload.clients.models import Client
from caseload.clients.queries import ClientMatch, likely_duplicates, search_clients

# The most search results a list with ``q`` ranks (then pages through).
SEARCH_LIMIT = 200


class MatchSerializer(serializers.Serializer):
    score = serializers.FloatField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class ClientSerializer(ActionSerializer):
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any format on input (national numbers read as Canadian); E.164 on output."
    )

    class Meta:
        model = Client
        fields = ["id", "client_number", *actions.EDITABLE_FIELDS, "status", "created_at"]
        read_only_fields = ["client_number", "status", "created_at"]

    def validate_phone(self, value: str) -> str:
        try:
            return actions.clean_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(get_error_detail(error)["phone"], code="invalid")

    def update(self, instance, validated_data):
        return run_action(actions.update_client, instance, self.actor, validated_data)


class ClientListSerializer(ClientSerializer):
    match = MatchSerializer(read_only=True, allow_null=True, help_text="Why the client matched `q` (null without `q`).")

    class Meta(ClientSerializer.Meta):
        fields = [*ClientSerializer.Meta.fields, "match"]


class DuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="client.pk")
    client_number = serializers.IntegerField(source="client.client_number")
    name = serializers.CharField(source="client")
    score = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class ClientCreateSerializer(ClientSerializer):
    confirm_new = serializers.BooleanField(
        write_only=True, required=False, default=False, help_text="Register even though likely duplicates exist (after showing them)."
    )

    class Meta(ClientSerializer.Meta):
        fields = [*ClientSerializer.Meta.fields, "confirm_new"]


class ClientCreatedSerializer(ClientSerializer):
    likely_duplicates = DuplicateSerializer(many=True, read_only=True, help_text="Clients this one probably duplicates, found before it was saved.")

    class Meta(ClientSerializer.Meta):
        fields = [*ClientSerializer.Meta.fields, "likely_duplicates"]


class DuplicatesConflictSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ErrorSerializer(many=True)
    likely_duplicates = DuplicateSerializer(many=True)

    class Meta:
        ref_name = "ClientDuplicatesConflict"


class ClientFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Name (misspellings too), date of birth (YYYY-MM-DD), email, phone or client number."
    )
    status = serializers.ChoiceField(choices=Client.Status.choices, required=False, default=Client.Status.ACTIVE)


@extend_validation_errors(["invalid"], field_name="phone", actions=WRITES)
@extend_validation_errors(["invalid", "max_length"], field_name="q", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_schema_view(
    list=extend_schema(
        summary="List or search clients (clients.view)",
        description="Without `q`: the clients by name. With `q`: best matches first, each with `match` saying why.",
        parameters=[ClientFilterSerializer],
    ),
    retrieve=extend_schema(summary="One client (clients.view; the reading is audited)"),
    create=extend_schema(
        summary="Register a client (clients.change)",
        description="When the details look like clients already registered, answers 409 with them in `likely_duplicates` "
        'and registers nothing; send again with `"confirm_new": true` to register anyway.',
        request=ClientCreateSerializer,
        responses={201: ClientCreatedSerializer, 409: DuplicatesConflictSerializer},
    ),
    update=extend_schema(summary="Change a client's details (clients.change)"),
    partial_update=extend_schema(summary="Change some of a client's details (clients.change)"),
    archive=extend_schema(summary="Archive a client (clients.change)", request=None, responses={200: ClientSerializer}),
    unarchive=extend_schema(summary="Bring an archived client back (clients.change)", request=None, responses={200: ClientSerializer}),
)
class ClientViewSet(AgencyCreateUpdateViewSet):
    """The agency's clients. Reading needs `clients.view`, registering and changing `clients.change`.
    Clients are archived, never deleted."""

    model = Client
    serializer_class = ClientSerializer
    permission_classes = [HasAgencyPerm(view="clients.view", manage="clients.change")]

    def get_serializer_class(self):
        if self.action == "list":
            return ClientListSerializer
        if self.action == "create":
            return ClientCreateSerializer
        return ClientSerializer

    def list(self, request, *args, **kwargs):
        filters = ClientFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        clients = self.get_queryset().filter(status=filters.validated_data["status"])
        text = filters.validated_data.get("q", "").strip()
        if text:
            matches: list[ClientMatch] = search_clients(request.agency, text, limit=SEARCH_LIMIT, base=clients)
            for found in matches:
                found.client.match = found
            rows = [found.client for found in matches]
        else:
            rows = clients.order_by("family_name", "given_name", "pk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        client = self.get_object()
        record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=client, client_id=client.pk)
        return Response(self.get_serializer(client).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        confirmed = data.pop("confirm_new", False)
        duplicates = likely_duplicates(request.agency, data)
        found = DuplicateSerializer(duplicates, many=True).data
        if duplicates and not confirmed:
            error = {"code": "likely_duplicate", "detail": _("This person may already be registered."), "attr": None}
            return Response({"type": "client_error", "errors": [error], "likely_duplicates": found}, status=status.HTTP_409_CONFLICT)
        client = run_action(actions.register_client, agency=request.agency, actor=request.user, data=data)
        body = ClientSerializer(client, context=self.get_serializer_context()).data
        return Response({**body, "likely_duplicates": found}, status=status.HTTP_201_CREATED)

    def _change_status(self, change) -> Response:
        client = run_action(change, self.get_object(), self.request.user)
        return Response(ClientSerializer(client, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._change_status(actions.archive_client)

    @action(detail=True, methods=["post"])
    def unarchive(self, request, pk=None):
        return self._change_status(actions.unarchive_client)
