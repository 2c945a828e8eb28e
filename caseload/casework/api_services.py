"""API for supportive services, the agency's service types and its grants.

/api/v1/supportive-services/: list (filter by client, date range, grant, service type), retrieve,
create, change, delete (soft). Reading needs ``casework.view``, writing ``casework.change``;
writes call ``caseload.casework.services``: a grant of another agency, a date outside the
grant's period or an overspend without a manager's approval is a 400 naming the field.
/api/v1/service-types/ and /api/v1/grants/: read with ``casework.view``, write with
``casework.configure``. A grant shows what is spent and what remains.
"""

from __future__ import annotations

from functools import partial

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import WRITES, ActionSerializer, AgencyCreateUpdateViewSet, AgencyModelViewSet, run_action
from caseload.casework import services
from caseload.casework.api_common import ID_FILTER_ERRORS, MAX_ID, declare_errors
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.tenancy.models import Funder, Program

VIEW, CHANGE, CONFIGURE = "casework.view", "casework.change", "casework.configure"
MONEY = {"max_digits": 10, "decimal_places": 2, "coerce_to_string": True}

# --- Supportive services -------------------------------------------------------------------------


class SupportiveServiceSerializer(ActionSerializer):
    client = AgencyRelatedField(Client, help_text="The client (id); set on creation, it cannot change.")
    service_type = AgencyRelatedField(SupportServiceType, help_text="One of your agency's active service types (id).")
    date = serializers.DateField(
        required=False, help_text="The day the service was given (default today). Within the grant's period when drawn on one."
    )
    amount = serializers.DecimalField(
        **MONEY,
        min_value=0,
        required=False,
        allow_null=True,
        help_text='In dollars, e.g. "45.50". Required when drawn on a grant.',
    )
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True)
    justification = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, help_text="Why the client needed it (internal)."
    )
    grant = AgencyRelatedField(
        Grant,
        required=False,
        allow_null=True,
        help_text="One of your agency's active grants (id), when grants management is on; the amount is drawn on it.",
    )
    program = AgencyRelatedField(
        Program, required=False, allow_null=True, help_text="One of your agency's programs (id), or null."
    )
    approve_overspend = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text="A manager's approval (casework.approve_overspend) of an amount that takes the grant beyond its budget. "
        "Without it such an amount is a 400 naming `amount`.",
    )
    overspend_approved_by = serializers.IntegerField(
        source="overspend_approved_by_id",
        read_only=True,
        allow_null=True,
        help_text="The user who approved an overspend (user id), or null.",
    )
    author = serializers.IntegerField(
        source="author_id", read_only=True, allow_null=True, help_text="The staff member who recorded it (membership id)."
    )

    class Meta:
        model = SupportiveService
        fields = [
            "id",
            "client",
            "service_type",
            "date",
            "amount",
            "vendor",
            "justification",
            "grant",
            "program",
            "approve_overspend",
            "overspend_approved_by",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def create(self, validated_data):
        data = dict(validated_data)
        client = data.pop("client")
        return run_action(services.record_service, client, self.actor, data)

    def update(self, instance, validated_data):
        data = dict(validated_data)
        client = data.pop("client", instance.client)
        if client.pk != instance.client_id:
            raise serializers.ValidationError({"client": [_("A service cannot move to another client.")]}, code="invalid")
        return run_action(services.update_service, instance, self.actor, data)


class ServiceFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's services (id)."
    )
    grant = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only services drawn on this grant (id)."
    )
    service_type = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only services of this type (id)."
    )
    date_from = serializers.DateField(required=False, help_text="On or after this date (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="On or before this date (YYYY-MM-DD).")

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": _("The end of the range is before its start.")}, code="invalid")
        return attrs

    def filters(self) -> dict:
        data = self.validated_data
        lookups = {"client_id": data.get("client"), "grant_id": data.get("grant"), "service_type_id": data.get("service_type")}
        lookups |= {"date__gte": data.get("date_from"), "date__lte": data.get("date_to")}
        return {key: value for key, value in lookups.items() if value is not None}


def service_errors(viewset):
    """The errors the actions name beyond the serializer's own (drf-standardized-errors schema)."""
    viewset = declare_errors(viewset, ("client", "service_type", "date", "amount", "vendor", "justification", "grant", "program"))
    return extend_validation_errors(["overspend"], field_name="amount", actions=WRITES)(viewset)


@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_validation_errors(ID_FILTER_ERRORS, field_name="grant", actions=["list"])
@extend_validation_errors(ID_FILTER_ERRORS, field_name="service_type", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="date_from", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="date_to", actions=["list"])
@extend_schema_view(
    list=extend_schema(summary="Supportive services (casework.view)", parameters=[ServiceFilterSerializer]),
    retrieve=extend_schema(summary="One supportive service (casework.view)"),
    create=extend_schema(summary="Record a supportive service (casework.change)"),
    update=extend_schema(summary="Change a supportive service (casework.change)"),
    partial_update=extend_schema(summary="Change some fields of a supportive service (casework.change)"),
    destroy=extend_schema(
        summary="Delete a supportive service (casework.change; kept for the audit log, its amount returns to its grant)"
    ),
)
@service_errors
class SupportiveServiceViewSet(AgencyModelViewSet):
    """Supportive services given to the agency's clients, newest first.
    Reading needs `casework.view`, writing `casework.change`."""

    model = SupportiveService
    serializer_class = SupportiveServiceSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    delete_action = staticmethod(services.delete_service)

    def get_queryset(self):
        queryset = visible(super().get_queryset(), self.request.membership).select_related("client")
        if self.action == "list":
            filters = ServiceFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            queryset = queryset.filter(**filters.filters())
        return queryset.order_by("-date", "-created_at", "-pk")


# --- Service types -------------------------------------------------------------------------------


class ServiceTypeSerializer(ActionSerializer):
    name = serializers.CharField(max_length=120)
    is_active = serializers.BooleanField(
        required=False, default=True, help_text="Inactive types are not offered for new services."
    )

    class Meta:
        model = SupportServiceType
        fields = ["id", "name", "is_active"]

    def create(self, validated_data):
        return run_action(services.create_service_type, self.agency, self.actor, validated_data)

    def update(self, instance, validated_data):
        return run_action(services.update_service_type, instance, self.actor, validated_data)


@extend_validation_errors(["invalid", "unique", "required"], field_name="name", actions=WRITES)
@extend_schema_view(
    list=extend_schema(summary="The agency's supportive service types (casework.view)"),
    retrieve=extend_schema(summary="One service type (casework.view)"),
    create=extend_schema(summary="Add a service type (casework.configure)"),
    update=extend_schema(summary="Rename, deactivate or reactivate a service type (casework.configure)"),
    partial_update=extend_schema(summary="Rename, deactivate or reactivate a service type (casework.configure)"),
    destroy=extend_schema(
        summary="Delete a service type no service uses; one in use is deactivated instead (casework.configure)",
        responses={204: OpenApiResponse(description="Deleted."), 200: ServiceTypeSerializer},
    ),
)
class ServiceTypeViewSet(AgencyModelViewSet):
    """The supportive services staff choose from. Reading needs `casework.view`, changing them
    `casework.configure`. A type already used by services is deactivated, never deleted."""

    model = SupportServiceType
    serializer_class = ServiceTypeSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CONFIGURE)]

    def get_queryset(self):
        return super().get_queryset().order_by("name", "pk")

    def destroy(self, request, *args, **kwargs):
        service_type = self.get_object()
        if run_action(services.remove_service_type, service_type, request.user):
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(service_type).data, status=status.HTTP_200_OK)


# --- Grants --------------------------------------------------------------------------------------


class GrantSerializer(ActionSerializer):
    funder = AgencyRelatedField(Funder, help_text="One of your agency's funders (id).")
    budget = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, coerce_to_string=True, help_text="In dollars."
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(help_text="Services drawn on the grant are dated within starts_on to ends_on.")
    spent = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="The amounts of the services drawn on it."
    )
    remaining = serializers.SerializerMethodField(help_text="Budget minus spent (negative after an approved overspend).")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)

    class Meta:
        model = Grant
        fields = [
            "id",
            "name",
            "funder",
            "budget",
            "starts_on",
            "ends_on",
            "is_active",
            "notes",
            "spent",
            "remaining",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_remaining(self, grant: Grant) -> str:
        return f"{services.grant_totals(grant).remaining:.2f}"

    def to_representation(self, grant: Grant):
        if getattr(grant, "spent", None) is None:
            grant.spent = services.grant_totals(grant).spent
        return super().to_representation(grant)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        starts = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": [_("The grant cannot end before it starts.")]}, code="invalid")
        return attrs

    def create(self, validated_data):
        return run_action(services.create_grant, self.agency, self.actor, validated_data)

    def update(self, instance, validated_data):
        grant = run_action(services.update_grant, instance, self.actor, validated_data)
        grant.spent = None
        return grant


@extend_validation_errors(["invalid", "unique"], field_name="name", actions=WRITES)
@extend_schema_view(
    list=extend_schema(summary="The agency's grants, with spent and remaining (casework.view)"),
    retrieve=extend_schema(summary="One grant, with spent and remaining (casework.view)"),
    create=extend_schema(summary="Create a grant (casework.configure)"),
    update=extend_schema(summary="Change a grant (casework.configure)"),
    partial_update=extend_schema(summary="Change some fields of a grant (casework.configure)"),
)
@partial(declare_errors, names=("funder", "budget", "starts_on", "ends_on"))
class GrantViewSet(AgencyCreateUpdateViewSet):
    """Funders' grants that supportive services draw on. Reading needs `casework.view`, changing
    them `casework.configure`. Grants are deactivated, never deleted."""

    model = Grant
    serializer_class = GrantSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CONFIGURE)]

    def get_queryset(self):
        return services.grants_with_spending(self.request.agency).order_by("-starts_on", "name", "pk")
