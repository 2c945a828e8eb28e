"""The API of the profile's Actions menu: /api/v1/clients/<id>/<action>/ (the base of api.ClientViewSet).

Each action has the permission its menu entry has (staff: ``clients.assign``, safety flag:
``clients.flag``, CaMS: ``clients.link``, portal account: ``clients.portal``, enrolments:
``clients.change``); reading the client's staff, flags and enrolments needs ``clients.view``. Bad
input answers 400 naming the field; an action that does not apply to the client as they are now
(no flag to remove, an invitation after the first log-in) answers 409. Nothing here is for the
client portal: safety flags are staff-only and never reach a client-facing serializer.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.schema import ConflictErrorResponseSerializer
from caseload.api.viewsets import AgencyCreateUpdateViewSet, run_action
from caseload.clients import actions
from caseload.clients.menu import ARCHIVE, ASSIGN, CHANGE, FLAG, LINK, PORTAL, assignments_of, enrolments_of
from caseload.clients.models import Assignment, Client, Enrolment, SafetyFlag
from caseload.tenancy.models import Membership, Program

VIEW = "clients.view"


class NotApplicableError(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("This action does not apply to the client now.")
    default_code = "not_applicable"


def perform(function, *args, **kwargs):
    """Run an action: its validation errors are a 400 naming the field, NotApplicable a 409."""
    try:
        return run_action(function, *args, **kwargs)
    except actions.NotApplicable as refusal:
        raise NotApplicableError(str(refusal))


# --- Serializers -------------------------------------------------------------------------------


class AssignmentSerializer(serializers.ModelSerializer):
    staff = serializers.IntegerField(
        source="staff_id", read_only=True, help_text="The staff member's membership id (see /api/v1/staff/)."
    )
    staff_name = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["id", "staff", "staff_name", "is_primary", "assigned_at"]
        read_only_fields = fields

    def get_staff_name(self, assignment: Assignment) -> str:
        return actions.staff_name(assignment.staff)


class AssignSerializer(serializers.Serializer):
    staff = AgencyRelatedField(Membership, help_text="The staff member to assign (membership id, active, of your agency).")
    is_primary = serializers.BooleanField(
        default=False, help_text="Make them the primary staff member (the one before is demoted)."
    )
    replaces = AgencyRelatedField(
        Membership,
        required=False,
        allow_null=True,
        default=None,
        help_text="Reassign: the assigned staff member this one takes over from.",
    )


class UnassignSerializer(serializers.Serializer):
    staff = AgencyRelatedField(Membership, help_text="The assigned staff member to take off the client (membership id).")


class SafetyFlagSerializer(serializers.ModelSerializer):
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = SafetyFlag
        fields = ["id", "reason", "is_active", "raised_by", "raised_at", "removed_by", "removed_at", "removal_reason"]
        read_only_fields = fields

    def get_is_active(self, flag: SafetyFlag) -> bool:
        return flag.removed_at is None


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why (required).")


class CamsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["cams_number", "cams_linked_by", "cams_linked_at"]
        read_only_fields = fields


class CamsLinkSerializer(serializers.Serializer):
    cams_number = serializers.CharField(max_length=40, help_text="The client's CaMS reference number: 6 to 12 digits.")


class PortalAccountSerializer(serializers.Serializer):
    email = serializers.EmailField(
        source="portal_user.email", read_only=True, allow_null=True, help_text="The portal account's email (null without one)."
    )
    has_logged_in = serializers.SerializerMethodField()
    last_login = serializers.DateTimeField(source="portal_user.last_login", read_only=True, allow_null=True)

    def get_has_logged_in(self, client: Client) -> bool:
        return client.portal_user is not None and client.portal_user.last_login is not None


class EnrolmentSerializer(serializers.ModelSerializer):
    program_name = serializers.CharField(source="program.name", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "program", "program_name", "start_date", "end_date"]
        read_only_fields = fields


class EnrolSerializer(serializers.Serializer):
    program = AgencyRelatedField(Program, help_text="One of your agency's active programs (id).")
    start_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="Default: today.")


class EndEnrolmentSerializer(serializers.Serializer):
    enrolment = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The client's open enrolment (id).")
    end_date = serializers.DateField(required=False, allow_null=True, default=None, help_text="Default: today.")


def conflict(response):
    return {**response, 409: ConflictErrorResponseSerializer}


# --- The actions -------------------------------------------------------------------------------


@extend_validation_errors(["invalid"], field_name="staff", actions=["assignments", "unassign"])
@extend_validation_errors(["invalid"], field_name="replaces", actions=["assignments"])
@extend_validation_errors(["invalid"], field_name="reason", actions=["flag", "unflag"])
@extend_validation_errors(["invalid"], field_name="cams_number", actions=["link_cams"])
@extend_validation_errors(["invalid"], field_name="email", actions=["portal_invite"])
@extend_validation_errors(["invalid"], field_name="program", actions=["enrolments"])
@extend_validation_errors(["invalid", "does_not_exist"], field_name="enrolment", actions=["end_enrolment"])
@extend_validation_errors(["invalid"], field_name="end_date", actions=["end_enrolment"])
class ClientActionsViewSet(AgencyCreateUpdateViewSet):
    # The Actions menu of a client, as API actions (ClientViewSet inherits them).

    def _client(self) -> Client:
        return self.get_object()

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _out(self, serializer_class, instance, code=status.HTTP_200_OK, many=False) -> Response:
        return Response(serializer_class(instance, many=many, context=self.get_serializer_context()).data, status=code)

    # Staff

    @extend_schema(
        methods=["GET"],
        summary="The client's staff, primary first (clients.view)",
        request=None,
        responses={200: AssignmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Assign or reassign a staff member (clients.assign)",
        description="Several staff per client, one primary. `is_primary` demotes the primary before; the first staff member "
        "assigned is primary. With `replaces`, that staff member comes off in the same step (and passes on being primary).",
        request=AssignSerializer,
        responses={201: AssignmentSerializer},
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[HasAgencyPerm(view=VIEW, manage=ASSIGN)])
    def assignments(self, request, pk=None):
        client = self._client()
        if request.method == "GET":
            return self._out(AssignmentSerializer, assignments_of(client), many=True)
        data = self._input(AssignSerializer)
        assignment = perform(
            actions.assign_staff, client, request.user, data["staff"], primary=data["is_primary"], replaces=data["replaces"]
        )
        return self._out(AssignmentSerializer, assignment, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Take a staff member off the client (clients.assign)",
        description="When the primary staff member is removed, whoever was assigned longest becomes primary. Answers the staff left.",
        request=UnassignSerializer,
        responses={200: AssignmentSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], permission_classes=[HasAgencyPerm(view=VIEW, manage=ASSIGN)])
    def unassign(self, request, pk=None):
        client = self._client()
        data = self._input(UnassignSerializer)
        perform(actions.unassign_staff, client, request.user, data["staff"])
        return self._out(AssignmentSerializer, assignments_of(client), many=True)

    # Safety flag

    @extend_schema(
        summary="The client's safety flags, the active one first, with removed ones (clients.view)",
        request=None,
        responses={200: SafetyFlagSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], url_path="safety-flags", permission_classes=[HasAgencyPerm(view=VIEW)])
    def safety_flags(self, request, pk=None):
        client = self._client()
        flags = SafetyFlag.objects.for_agency(request.agency).filter(client=client).order_by("-raised_at", "-pk")
        return self._out(SafetyFlagSerializer, flags, many=True)

    @extend_schema(
        summary="Add a safety flag (clients.flag)",
        description="Staff see the reason on every page about the client; the client never does. 409 when the client is already flagged.",
        request=ReasonSerializer,
        responses=conflict({201: SafetyFlagSerializer}),
    )
    @action(detail=True, methods=["post"], permission_classes=[HasAgencyPerm(view=VIEW, manage=FLAG)])
    def flag(self, request, pk=None):
        client = self._client()
        flag = perform(actions.flag_client, client, request.user, self._input(ReasonSerializer)["reason"])
        return self._out(SafetyFlagSerializer, flag, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Remove the safety flag, saying why (clients.flag)",
        description="The flag stays in the history with the reason for removing it. 409 when the client has no flag.",
        request=ReasonSerializer,
        responses=conflict({200: SafetyFlagSerializer}),
    )
    @action(detail=True, methods=["post"], permission_classes=[HasAgencyPerm(view=VIEW, manage=FLAG)])
    def unflag(self, request, pk=None):
        client = self._client()
        flag = perform(actions.unflag_client, client, request.user, self._input(ReasonSerializer)["reason"])
        return self._out(SafetyFlagSerializer, flag)

    # CaMS

    @extend_schema(
        summary="Link the client to their CaMS record (clients.link)",
        description="The number is 6 to 12 digits and unique in the agency. 409 when the client is already linked (unlink first).",
        request=CamsLinkSerializer,
        responses=conflict({200: CamsSerializer}),
    )
    @action(detail=True, methods=["post"], url_path="link-cams", permission_classes=[HasAgencyPerm(view=VIEW, manage=LINK)])
    def link_cams(self, request, pk=None):
        client = perform(actions.link_cams, self._client(), request.user, self._input(CamsLinkSerializer)["cams_number"])
        return self._out(CamsSerializer, client)

    @extend_schema(summary="Unlink the client from CaMS (clients.link)", request=None, responses=conflict({200: CamsSerializer}))
    @action(detail=True, methods=["post"], url_path="unlink-cams", permission_classes=[HasAgencyPerm(view=VIEW, manage=LINK)])
    def unlink_cams(self, request, pk=None):
        return self._out(CamsSerializer, perform(actions.unlink_cams, self._client(), request.user))

    # Portal account

    @extend_schema(
        summary="Invite the client to the portal (clients.portal)",
        description="Opens a portal account for the client's email and emails an invitation (through the outbox). "
        "400 naming `email` when the client has no email or an account with it exists; 409 when the client already has an account.",
        request=None,
        responses=conflict({201: PortalAccountSerializer}),
    )
    @action(detail=True, methods=["post"], url_path="portal-invite", permission_classes=[HasAgencyPerm(view=VIEW, manage=PORTAL)])
    def portal_invite(self, request, pk=None):
        client = self._client()
        perform(actions.invite_to_portal, client, request.user)
        return self._out(PortalAccountSerializer, client, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Send the portal invitation again (clients.portal)",
        description="Only until the client first logs in: 409 after that (send a password reset), or without a portal account.",
        request=None,
        responses=conflict({200: PortalAccountSerializer}),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="portal-resend-invite",
        permission_classes=[HasAgencyPerm(view=VIEW, manage=PORTAL)],
    )
    def portal_resend_invite(self, request, pk=None):
        client = self._client()
        perform(actions.resend_portal_invitation, client, request.user)
        return self._out(PortalAccountSerializer, client)

    @extend_schema(
        summary="Email the client a password reset link (clients.portal)",
        description="409 when the client has no portal account.",
        request=None,
        responses=conflict({200: PortalAccountSerializer}),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="portal-password-reset",
        permission_classes=[HasAgencyPerm(view=VIEW, manage=PORTAL)],
    )
    def portal_password_reset(self, request, pk=None):
        client = self._client()
        perform(actions.send_portal_password_reset, client, request.user)
        return self._out(PortalAccountSerializer, client)

    # Enrolments

    @extend_schema(
        methods=["GET"],
        summary="The client's enrolments, open ones first (clients.view)",
        request=None,
        responses={200: EnrolmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Enrol the client in a program (clients.change)",
        description="One open enrolment per program.",
        request=EnrolSerializer,
        responses={201: EnrolmentSerializer},
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[HasAgencyPerm(view=VIEW, manage=CHANGE)])
    def enrolments(self, request, pk=None):
        client = self._client()
        if request.method == "GET":
            return self._out(EnrolmentSerializer, enrolments_of(client), many=True)
        data = self._input(EnrolSerializer)
        enrolment = perform(actions.enrol_client, client, request.user, data["program"], data["start_date"])
        return self._out(EnrolmentSerializer, enrolment, status.HTTP_201_CREATED)

    @extend_schema(
        summary="End one of the client's enrolments (clients.change)",
        description="409 when the enrolment has already ended.",
        request=EndEnrolmentSerializer,
        responses=conflict({200: EnrolmentSerializer}),
    )
    @action(detail=True, methods=["post"], url_path="end-enrolment", permission_classes=[HasAgencyPerm(view=VIEW, manage=CHANGE)])
    def end_enrolment(self, request, pk=None):
        client = self._client()
        data = self._input(EndEnrolmentSerializer)
        enrolment = (
            Enrolment.objects.for_agency(request.agency)
            .filter(client=client, pk=data["enrolment"])
            .select_related("program")
            .first()
        )
        if enrolment is None:
            detail = serializers.ErrorDetail(_("This client has no enrolment with this id."), code="does_not_exist")
            raise serializers.ValidationError({"enrolment": [detail]})
        return self._out(EnrolmentSerializer, perform(actions.end_enrolment, enrolment, request.user, data["end_date"]))


ARCHIVE_PERMISSIONS = [HasAgencyPerm(view=VIEW, manage=ARCHIVE)]
