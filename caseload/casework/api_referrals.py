"""API for service referrals and the referral directory.

- ``/api/v1/service-referrals/``: list (filters ``client``, ``status``), create, read, change,
  delete (a soft delete), and the ``respond``, ``close`` and ``cancel`` actions. Reading needs
  ``casework.view``, writing ``casework.change``. (``/api/v1/referrals/`` is another thing: referrals
  between agencies, ``caseload.clients``.)
- ``/api/v1/directory/organisations/``, ``/services/``, ``/locations/``, ``/contacts/``: the
  directory, read with ``casework.view``, written with ``casework.configure``; DELETE deactivates.

Everything is the request's agency's only (404 outside it); writes call the actions of
``caseload.casework.referrals`` and ``caseload.casework.directory`` (audited), whose validation
errors answer 400 naming the field.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import ActionSerializer, AgencyModelViewSet, run_action
from caseload.casework import directory, referrals
from caseload.casework.api_common import ID_FILTER_ERRORS, declare_errors
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService, ServiceReferral
from caseload.clients.models import Client
from caseload.tenancy.models import Program

Status = ServiceReferral.Status
STATUS_FILTERS = [("open", "Sent or accepted"), ("closed", "Declined, completed, no-show or cancelled"), *Status.choices]
REFERRAL_PERMS = HasAgencyPerm(view="casework.view", manage="casework.change")
DIRECTORY_PERMS = HasAgencyPerm(view="casework.view", manage="casework.configure")


# --- Service referrals ---------------------------------------------------------------------------


class ServiceReferralSerializer(ActionSerializer):
    client = AgencyRelatedField(Client, help_text="The client referred (id); set on creation only.")
    to_program = AgencyRelatedField(
        Program, required=False, allow_null=True, help_text="kind internal: the program of your agency (id)."
    )
    service = AgencyRelatedField(
        DirectoryService, required=False, allow_null=True, help_text="kind external: the directory service (id)."
    )
    location = AgencyRelatedField(
        DirectoryLocation, required=False, allow_null=True, help_text="A location of the service's organisation (id)."
    )
    contact = AgencyRelatedField(
        DirectoryContact, required=False, allow_null=True, help_text="A contact of the service's organisation (id)."
    )
    program = AgencyRelatedField(Program, required=False, allow_null=True, help_text="The referring program (id).")
    referred_on = serializers.DateField(required=False, help_text="Default: today (in the agency's time zone).")
    follow_up_on = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="The day the referring staff member (and, with remind_client, the client) is reminded.",
    )
    remind_client = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Remind the client on the follow-up day too; only if they agreed to be contacted by email or SMS.",
    )
    reason = serializers.CharField(max_length=referrals.MAX_TEXT, help_text="Why the client is referred.")
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=referrals.MAX_TEXT,
        help_text="What came of it: set by respond/close/cancel, changeable once closed.",
    )
    author = serializers.IntegerField(
        source="author_id", read_only=True, allow_null=True, help_text="The referring staff member (membership id)."
    )

    class Meta:
        model = ServiceReferral
        fields = [
            "id",
            "client",
            "kind",
            "to_program",
            "service",
            "location",
            "contact",
            "referred_on",
            "reason",
            "status",
            "follow_up_on",
            "remind_client",
            "program",
            "outcome",
            "responded_at",
            "closed_at",
            "staff_reminder_sent_at",
            "client_reminder_sent_at",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "responded_at",
            "closed_at",
            "staff_reminder_sent_at",
            "client_reminder_sent_at",
            "created_at",
            "updated_at",
        ]

    def create(self, validated_data):
        client = validated_data.pop("client")
        if validated_data.pop("outcome", ""):
            raise serializers.ValidationError(
                {"outcome": ["The outcome is recorded when the referral is closed."]}, code="invalid"
            )
        return run_action(referrals.create_referral, client, self.actor, validated_data)

    def update(self, instance, validated_data):
        client = validated_data.pop("client", instance.client)
        if client != instance.client:
            raise serializers.ValidationError(
                {"client": ["A referral's client cannot be changed: make a new referral."]}, code="invalid"
            )
        return run_action(referrals.update_referral, instance, self.actor, validated_data)


class ReferralFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only this client's referrals (id)."
    )
    status = serializers.ChoiceField(
        choices=STATUS_FILTERS, required=False, help_text="open: sent or accepted; closed: the others."
    )


class RespondSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Status.ACCEPTED, Status.DECLINED], help_text="The service's answer.")
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=referrals.MAX_TEXT,
        help_text="What they said; kept as the outcome.",
    )


class CloseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[Status.COMPLETED, Status.NO_SHOW])
    outcome = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=referrals.MAX_TEXT,
        help_text="What came of it; required for completed.",
    )


class CancelSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=referrals.MAX_TEXT, help_text="Why (optional)."
    )


def referral_errors(viewset):
    """Declare in the schema the errors the referral actions name (drf-standardized-errors)."""
    viewset = declare_errors(viewset, (*referrals.DATA_FIELDS, "outcome", "client", "status"))
    viewset = declare_errors(viewset, ("status", "outcome", "note", "non_field_errors"), actions=["respond", "close", "cancel"])
    viewset = extend_validation_errors(["invalid"], field_name="status", actions=["destroy"])(viewset)
    return viewset


@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_schema_view(
    list=extend_schema(
        summary="List service referrals (casework.view)", description="Newest first.", parameters=[ReferralFilterSerializer]
    ),
    retrieve=extend_schema(summary="One service referral (casework.view)"),
    create=extend_schema(
        summary="Refer a client to a program or a directory service (casework.change)",
        description="kind internal needs `to_program`; kind external needs `service` (and optionally a `location` and a `contact` "
        "of its organisation). Nothing is sent to the service.",
    ),
    update=extend_schema(summary="Change a referral (casework.change)"),
    partial_update=extend_schema(summary="Change some of a referral's fields (casework.change)"),
    destroy=extend_schema(summary="Delete a referral (casework.change; kept for the audit trail)"),
)
@referral_errors
class ServiceReferralViewSet(AgencyModelViewSet):
    """Referrals of the agency's clients to its other programs or to services of its directory.
    Status: sent → accepted or declined → completed or no-show; cancelled by the sender."""

    model = ServiceReferral
    serializer_class = ServiceReferralSerializer
    permission_classes = [REFERRAL_PERMS]
    delete_action = staticmethod(referrals.delete_referral)

    def get_queryset(self) -> QuerySet[ServiceReferral]:
        return (
            referrals.referrals_for_agency(self.request.agency, self.request.membership)
            .select_related("agency")
            .order_by("-referred_on", "-pk")
        )

    def list(self, request, *args, **kwargs):
        filters = ReferralFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        data = filters.validated_data
        if "client" in data:
            queryset = queryset.filter(client_id=data["client"])
        wanted = data.get("status")
        if wanted == "open":
            queryset = queryset.filter(status__in=referrals.OPEN_STATUSES)
        elif wanted == "closed":
            queryset = queryset.filter(status__in=referrals.CLOSED_STATUSES)
        elif wanted:
            queryset = queryset.filter(status=wanted)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _step(self, serializer_class, function) -> Response:
        body = serializer_class(data=self.request.data)
        body.is_valid(raise_exception=True)
        referral = run_action(function, self.get_object(), body.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=referral.pk)).data)

    @extend_schema(
        summary="Record the service's answer: accepted or declined (casework.change)",
        request=RespondSerializer,
        responses={200: ServiceReferralSerializer},
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        return self._step(
            RespondSerializer,
            lambda referral, data: referrals.respond_referral(referral, request.user, data["status"], note=data["note"]),
        )

    @extend_schema(
        summary="Close an accepted referral: completed or no-show, with the outcome (casework.change)",
        request=CloseSerializer,
        responses={200: ServiceReferralSerializer},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._step(
            CloseSerializer,
            lambda referral, data: referrals.close_referral(referral, request.user, data["status"], data["outcome"]),
        )

    @extend_schema(
        summary="Cancel an open referral (casework.change)", request=CancelSerializer, responses={200: ServiceReferralSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._step(
            CancelSerializer, lambda referral, data: referrals.cancel_referral(referral, request.user, note=data["note"])
        )


# --- The directory -------------------------------------------------------------------------------


class OrganisationSerializer(ActionSerializer):
    class Meta:
        model = DirectoryOrganisation
        fields = ["id", "name", "description", "email", "website", "phone", "is_active"]

    def create(self, validated_data):
        return run_action(directory.create_organisation, self.agency, self.actor, validated_data)

    def update(self, instance, validated_data):
        return run_action(directory.update_organisation, instance, self.actor, validated_data)


class _OrganisationChildSerializer(ActionSerializer):
    organisation = AgencyRelatedField(DirectoryOrganisation, help_text="The organisation (id); set on creation only.")
    create_action: str = ""
    update_action: str = ""

    def create(self, validated_data):
        organisation = validated_data.pop("organisation")
        return run_action(getattr(directory, self.create_action), organisation, self.actor, validated_data)

    def update(self, instance, validated_data):
        organisation = validated_data.pop("organisation", instance.organisation)
        if organisation != instance.organisation:
            raise serializers.ValidationError({"organisation": ["This cannot be moved to another organisation."]}, code="invalid")
        return run_action(getattr(directory, self.update_action), instance, self.actor, validated_data)


class ServiceSerializer(_OrganisationChildSerializer):
    create_action, update_action = "create_service", "update_service"

    class Meta:
        model = DirectoryService
        fields = ["id", "organisation", "name", "description", "email", "url", "phone", "eligibility", "is_active"]


class LocationSerializer(_OrganisationChildSerializer):
    create_action, update_action = "create_location", "update_location"
    services = AgencyRelatedField(
        DirectoryService, many=True, required=False, help_text="Services of the organisation offered here (ids)."
    )

    class Meta:
        model = DirectoryLocation
        fields = [
            "id",
            "organisation",
            "name",
            "address_1",
            "city",
            "state_province",
            "postal_code",
            "country",
            "services",
            "is_active",
        ]


class ContactSerializer(_OrganisationChildSerializer):
    create_action, update_action = "create_contact", "update_contact"
    service = AgencyRelatedField(
        DirectoryService,
        required=False,
        allow_null=True,
        help_text="The service of the organisation this person answers for (id).",
    )

    class Meta:
        model = DirectoryContact
        fields = ["id", "organisation", "service", "name", "title", "email", "phone", "is_active"]


class OrganisationFilterSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only this organisation's (id)."
    )


def directory_errors(fields: tuple[str, ...]):
    def decorate(viewset):
        viewset = declare_errors(viewset, (*fields, "organisation"))
        return declare_errors(viewset, ("organisation",), ID_FILTER_ERRORS, actions=["list"])

    return decorate


class _DirectoryViewSet(AgencyModelViewSet):
    permission_classes = [DIRECTORY_PERMS]
    deactivate: str = ""

    def get_queryset(self):
        return super().get_queryset().order_by("name", "pk")

    def perform_destroy(self, instance) -> None:
        run_action(getattr(directory, self.deactivate), instance, self.request.user)

    def list(self, request, *args, **kwargs):
        queryset = self.get_queryset()
        if self.model is not DirectoryOrganisation:
            filters = OrganisationFilterSerializer(data=request.query_params)
            filters.is_valid(raise_exception=True)
            if "organisation" in filters.validated_data:
                queryset = queryset.filter(organisation_id=filters.validated_data["organisation"])
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _views(noun: str, plural: str, *, filtered: bool = True):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List the directory's {plural} (casework.view)",
            parameters=[OrganisationFilterSerializer] if filtered else None,
        ),
        retrieve=extend_schema(summary=f"One {noun} of the directory (casework.view)"),
        create=extend_schema(summary=f"Add a {noun} to the directory (casework.configure)"),
        update=extend_schema(summary=f"Change a {noun} (casework.configure)"),
        partial_update=extend_schema(summary=f"Change some of a {noun}'s fields (casework.configure)"),
        destroy=extend_schema(
            summary=f"Deactivate a {noun} (casework.configure)",
            description="Kept for the referrals made to it, no longer offered for new ones (PATCH is_active to bring it back).",
        ),
    )


@_views("organisation", "organisations", filtered=False)
@directory_errors(("name", "email", "website", "phone", "description", "is_active"))
class OrganisationViewSet(_DirectoryViewSet):
    """The organisations of the referral directory (Open Referral HSDS organization)."""

    model = DirectoryOrganisation
    serializer_class = OrganisationSerializer
    deactivate = "deactivate_organisation"


@_views("service", "services")
@directory_errors(("name", "email", "url", "phone", "description", "eligibility", "is_active"))
class ServiceViewSet(_DirectoryViewSet):
    """The services of the directory's organisations (HSDS service)."""

    model = DirectoryService
    serializer_class = ServiceSerializer
    deactivate = "deactivate_service"
    select_related = ("organisation",)


@_views("location", "locations")
@directory_errors(("name", "address_1", "city", "state_province", "postal_code", "country", "services", "is_active"))
class LocationViewSet(_DirectoryViewSet):
    """Where the directory's organisations offer their services (HSDS location, service_at_location)."""

    model = DirectoryLocation
    serializer_class = LocationSerializer
    deactivate = "deactivate_location"
    prefetch_related = ("services",)


@_views("contact", "contacts")
@directory_errors(("name", "title", "email", "phone", "service", "is_active"))
class ContactViewSet(_DirectoryViewSet):
    """People to ask for at the directory's organisations (HSDS contact)."""

    model = DirectoryContact
    serializer_class = ContactSerializer
    deactivate = "deactivate_contact"
