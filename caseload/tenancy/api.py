"""API for agencies, programs, funders, roles and staff (memberships)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import WRITES, ActionSerializer, AgencyCreateUpdateViewSet, AgencyModelViewSet, run_action
from caseload.tenancy import actions
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import PERMISSIONS

# --- Agencies --------------------------------------------------------------------------------


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["id", "name", "slug", "time_zone", "languages", "require_two_factor"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="The agencies you are a member of"),
    retrieve=extend_schema(summary="One of your agencies"),
)
class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    """The agencies you are an active member of. Use one's id or slug in the `X-Agency` header."""

    serializer_class = AgencySerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Agency.objects.filter(pk__in=[m.agency_id for m in self.request.memberships]).order_by("name")


# --- Programs and funders --------------------------------------------------------------------


class AgencyObjectSerializer(ActionSerializer):
    """A program, funder or role: created and changed through the tenancy actions, which audit."""

    def create(self, validated_data):
        return run_action(actions.create_object, self.Meta.model, agency=self.agency, actor=self.actor, data=validated_data)

    def update(self, instance, validated_data):
        return run_action(actions.update_object, instance, actor=self.actor, data=validated_data)


class ProgramSerializer(AgencyObjectSerializer):
    funders = AgencyRelatedField(Funder, many=True, required=False)
    unique_in_agency = {"name": _("A program with this name already exists.")}

    class Meta:
        model = Program
        fields = ["id", "name", "code", "description", "is_active", "funders"]


@extend_validation_errors(["unique"], field_name="name", actions=WRITES)
@extend_schema_view(
    list=extend_schema(summary="List programs"),
    retrieve=extend_schema(summary="One program"),
    create=extend_schema(summary="Create a program (agency.manage)"),
    update=extend_schema(summary="Change a program (agency.manage)"),
    partial_update=extend_schema(summary="Change some fields of a program (agency.manage)"),
    destroy=extend_schema(summary="Delete a program no staff member is assigned to (agency.manage)"),
)
class ProgramViewSet(AgencyModelViewSet):
    """The agency's programs. Any member reads them; changing them needs `agency.manage`."""

    model = Program
    serializer_class = ProgramSerializer
    permission_classes = [HasAgencyPerm(manage="agency.manage")]
    prefetch_related = ("funders",)
    delete_action = staticmethod(actions.delete_object)


class FunderSerializer(AgencyObjectSerializer):
    programs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    unique_in_agency = {"name": _("A funder with this name already exists.")}

    class Meta:
        model = Funder
        fields = ["id", "name", "code", "contact_email", "is_active", "programs"]


@extend_validation_errors(["unique"], field_name="name", actions=WRITES)
@extend_schema_view(
    list=extend_schema(summary="List funders"),
    retrieve=extend_schema(summary="One funder"),
    create=extend_schema(summary="Create a funder (agency.manage)"),
    update=extend_schema(summary="Change a funder (agency.manage)"),
    partial_update=extend_schema(summary="Change some fields of a funder (agency.manage)"),
    destroy=extend_schema(summary="Delete a funder (agency.manage)"),
)
class FunderViewSet(AgencyModelViewSet):
    """The agency's funders. Any member reads them; changing them needs `agency.manage`."""

    model = Funder
    serializer_class = FunderSerializer
    permission_classes = [HasAgencyPerm(manage="agency.manage")]
    prefetch_related = ("programs",)
    delete_action = staticmethod(actions.delete_object)


# --- Roles -----------------------------------------------------------------------------------


class PermissionCodesField(serializers.MultipleChoiceField):
    """A list of permission codes; an unknown one is an error on the field itself (not on an index)."""

    def to_internal_value(self, data):
        return sorted(super().to_internal_value(data))

    def to_representation(self, value):
        return sorted(value)


class RoleSerializer(AgencyObjectSerializer):
    permissions = PermissionCodesField(choices=sorted(PERMISSIONS.items()), required=False, help_text="Permission codes the role holds.")
    unique_in_agency = {"name": _("A role with this name already exists.")}

    class Meta:
        model = Role
        fields = ["id", "name", "permissions", "is_seeded"]
        read_only_fields = ["is_seeded"]


@extend_validation_errors(["unique"], field_name="name", actions=WRITES)
@extend_validation_errors(["invalid"], field_name="permissions", actions=["update", "partial_update"])
@extend_schema_view(
    list=extend_schema(summary="List roles (staff.manage)"),
    retrieve=extend_schema(summary="One role (staff.manage)"),
    create=extend_schema(summary="Create a role (staff.manage)"),
    update=extend_schema(summary="Change a role (staff.manage)"),
    partial_update=extend_schema(summary="Change some fields of a role (staff.manage)"),
    destroy=extend_schema(summary="Delete a role of the agency's making that no staff member holds (staff.manage)"),
)
class RoleViewSet(AgencyModelViewSet):
    """The agency's roles: named sets of permission codes. Needs `staff.manage`.
    The agency always keeps an active member who may manage staff."""

    model = Role
    serializer_class = RoleSerializer
    permission_classes = [HasAgencyPerm(view="staff.manage", manage="staff.manage")]
    delete_action = staticmethod(actions.delete_object)


# --- Staff -----------------------------------------------------------------------------------


class StaffUserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    full_name = serializers.CharField(read_only=True)


class StaffSerializer(ActionSerializer):
    user = StaffUserSerializer(read_only=True)
    role = AgencyRelatedField(Role)
    programs = AgencyRelatedField(Program, many=True, required=False)
    manager = AgencyRelatedField(Membership, allow_null=True, required=False)

    class Meta:
        model = Membership
        fields = ["id", "user", "role", "programs", "manager", "title", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def update(self, instance, validated_data):
        return run_action(actions.update_object, instance, actor=self.actor, data=validated_data)


class StaffCreateSerializer(ActionSerializer):
    """A new staff member, emailed an invitation to set their password; someone who already has an
    account (staff of another agency) keeps it and just joins this agency."""

    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200, required=False, default="")
    role = AgencyRelatedField(Role)
    programs = AgencyRelatedField(Program, many=True, required=False, default=list)
    manager = AgencyRelatedField(Membership, allow_null=True, required=False, default=None)

    class Meta:
        model = Membership
        fields = ["email", "full_name", "role", "programs", "manager", "title"]

    def validate_email(self, value: str) -> str:
        value = value.strip().lower()
        if Membership.objects.for_agency(self.agency).filter(user__email__iexact=value).exists():
            raise serializers.ValidationError(_("This person is already a staff member of this agency."), code="unique")
        return value

    def create(self, validated_data):
        return run_action(actions.invite_staff_member, agency=self.agency, actor=self.actor, **validated_data)


@extend_validation_errors(["unique"], field_name="email", actions=["create"])
@extend_validation_errors(["invalid"], field_name="role", actions=WRITES)
@extend_validation_errors(["invalid"], field_name="manager", actions=WRITES)
@extend_validation_errors(["invalid"], field_name="programs", actions=WRITES)
@extend_validation_errors(["invalid"], field_name="is_active", actions=["update", "partial_update"])
@extend_schema_view(
    list=extend_schema(summary="List staff (staff.manage)"),
    retrieve=extend_schema(summary="One staff member (staff.manage)"),
    create=extend_schema(summary="Add a staff member (staff.manage)", request=StaffCreateSerializer, responses={201: StaffSerializer}),
    update=extend_schema(summary="Change a staff member's role, programs, manager, title or status (staff.manage)"),
    partial_update=extend_schema(summary="Change some of a staff member's fields (staff.manage)"),
)
class StaffViewSet(AgencyCreateUpdateViewSet):
    """The agency's staff (memberships). Needs `staff.manage`. Staff are deactivated
    (`is_active: false`), never deleted; a new staff member is emailed an invitation."""

    model = Membership
    serializer_class = StaffSerializer
    permission_classes = [HasAgencyPerm(view="staff.manage", manage="staff.manage")]
    select_related = ("user", "role", "manager")
    prefetch_related = ("programs",)

    def get_serializer_class(self):
        return StaffCreateSerializer if self.action == "create" else StaffSerializer

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = serializer.save()
        data = StaffSerializer(membership, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)
