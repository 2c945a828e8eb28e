"""API for the client registry: search, register (with the duplicate check), change, archive.

Reading needs ``clients.view``; writing needs ``clients.change``. Opening one client's record is
audited (a VIEW event); lists and searches are not.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from drf_standardized_errors.openapi_serializers import ClientErrorEnum
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.response import Response

from caseload.api.permissions import HasAgencyPerm
from caseload.api.schema import ErrorSerializer
from caseload.api.viewsets import WRITES, ActionSerializer, run_action
from caseload.audit.actions import Action, record
from caseload.clients import actions
from caseload.clients.api_actions import ARCHIVE_PERMISSIONS, ClientActionsViewSet
from caseload.clients.models import Client, ClientPhone, PrivacyConsent
from caseload.clients.queries import (
    LISTED_STATUSES,
    MAX_AGE,
    ClientMatch,
    current_privacy_statement,
    filter_clients,
    is_language_code,
    likely_duplicates,
    search_clients,
)
from caseload.clients.refmerge_api import ReferMergeActions, refer_merge_errors
from caseload.tenancy.models import Membership, Program

# The most search results a list with ``q`` ranks (then pages through).
SEARCH_LIMIT = 200


class MatchSerializer(serializers.Serializer):
    score = serializers.FloatField(read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)


class ClientPhoneSerializer(serializers.ModelSerializer):
    number = serializers.CharField(max_length=40, help_text="Any format on input (national numbers read as Canadian); E.164 on output.")

    class Meta:
        model = ClientPhone
        fields = ["number", "kind"]

    def validate_number(self, value: str) -> str:
        try:
            number = actions.clean_phone(value, "number")
        except DjangoValidationError as error:
            raise serializers.ValidationError(get_error_detail(error)["number"], code="invalid")
        if not number:
            raise serializers.ValidationError(_("Enter a valid phone number."), code="invalid")
        return number


class ConsentSummarySerializer(serializers.ModelSerializer):
    version = serializers.CharField(source="statement.version", help_text="The privacy statement version the client answered.")
    recorded_by = serializers.EmailField(source="recorded_by.email", allow_null=True, default=None)

    class Meta:
        model = PrivacyConsent
        fields = ["version", "accepted", "method", "recorded_by", "recorded_at"]
        read_only_fields = fields


class PrivacyConsentInputSerializer(serializers.Serializer):
    accepted = serializers.BooleanField(help_text="Whether the client accepts the agency's current privacy statement.")
    method = serializers.ChoiceField(choices=PrivacyConsent.Method.choices, default=PrivacyConsent.Method.IN_PERSON)


def profile_errors(viewset):
    """Declare in the schema the errors the registration and profile actions name (drf-standardized-errors)."""
    identifying = [name for name in actions.EDITABLE_FIELDS if name not in actions.ANONYMOUS_FIELDS]
    checked = ["date_of_birth", "arrival_date", "emergency_contact_phone", "phones", "consent_email", "consent_sms", "spoken_languages", "is_anonymous"]
    for name in dict.fromkeys([*identifying, *checked]):
        viewset = extend_validation_errors(["invalid"], field_name=name, actions=WRITES)(viewset)
    viewset = extend_validation_errors(["required"], field_name="given_name", actions=WRITES)(viewset)
    return extend_validation_errors(["invalid"], field_name="privacy_consent", actions=["create"])(viewset)


class ClientSerializer(ActionSerializer):
    phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any format on input (national numbers read as Canadian); E.164 on output."
    )
    emergency_contact_phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text="Any format on input (national numbers read as Canadian); E.164 on output."
    )
    spoken_languages = serializers.ListField(
        child=serializers.CharField(max_length=10), required=False, max_length=30, help_text="Language codes, such as fr or ar."
    )
    phones = ClientPhoneSerializer(many=True, required=False, help_text="Phone numbers beyond the main one; sending the list replaces them.")
    privacy_consent = serializers.SerializerMethodField(help_text="The client's latest answer to the privacy statement (null when none is recorded).")

    class Meta:
        model = Client
        # has_safety_flag and cams_number are staff-only (this API needs clients.view); they change through their actions.
        fields = ["id", "client_number", *actions.EDITABLE_FIELDS, "phones", "privacy_consent", "status", "has_safety_flag", "cams_number", "created_at"]
        read_only_fields = ["client_number", "status", "has_safety_flag", "cams_number", "created_at"]

    def validate_phone(self, value: str) -> str:
        try:
            return actions.clean_phone(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(get_error_detail(error)["phone"], code="invalid")

    def validate_emergency_contact_phone(self, value: str) -> str:
        try:
            return actions.clean_phone(value, "emergency_contact_phone")
        except DjangoValidationError as error:
            raise serializers.ValidationError(get_error_detail(error)["emergency_contact_phone"], code="invalid")

    @extend_schema_field(ConsentSummarySerializer(allow_null=True))
    def get_privacy_consent(self, client: Client):
        latest = max(client.consents.all(), key=lambda consent: (consent.recorded_at, consent.pk), default=None)
        return ConsentSummarySerializer(latest).data if latest is not None else None

    def update(self, instance, validated_data):
        phones = validated_data.pop("phones", None)
        return run_action(actions.update_client, instance, self.actor, validated_data, phones=phones)


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
    # On registration ``privacy_consent`` is the client's answer; the response holds the recorded summary.
    privacy_consent = PrivacyConsentInputSerializer(  # type: ignore[assignment]
        write_only=True,
        required=False,
        help_text="The client's answer to the agency's current privacy statement. A client who does not accept can only be registered "
        "anonymously (`is_anonymous: true`, no identifying fields).",
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


# What DRF answers for characters a text query parameter may not hold.
TEXT_CODES = ("null_characters_not_allowed", "surrogate_characters_not_allowed")


class ClientFilterSerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Name (misspellings too), date of birth (YYYY-MM-DD), email, phone or client number."
    )
    status = serializers.ChoiceField(choices=[(s.value, s.label) for s in LISTED_STATUSES], required=False, default=Client.Status.ACTIVE)
    program = serializers.IntegerField(required=False, min_value=1, help_text="Only clients with an open enrolment in this program (id).")
    staff = serializers.CharField(required=False, max_length=20, help_text='Only clients assigned to this staff member (membership id), or "me".')
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="true: only clients with a safety flag; false: only those without.")
    language = serializers.CharField(
        required=False, allow_blank=True, max_length=20, help_text="A language code: the preferred language or one of the spoken languages."
    )
    min_age = serializers.IntegerField(required=False, min_value=0, max_value=MAX_AGE, help_text="Age in whole years, at least (age range for anonymous clients).")
    max_age = serializers.IntegerField(required=False, min_value=0, max_value=MAX_AGE, help_text="Age in whole years, at most.")

    def validate_program(self, value: int):
        agency = self.context["request"].agency
        program = Program.objects.for_agency(agency).filter(agency=agency, pk=value).first()
        if program is None:
            raise serializers.ValidationError(_("No program of your agency has this id."), code="does_not_exist")
        return program

    def validate_staff(self, value: str):
        request = self.context["request"]
        if value == "me":
            return request.membership
        membership = None
        if value.isdigit():
            membership = Membership.objects.for_agency(request.agency).filter(agency=request.agency, pk=int(value)).first()
        if membership is None:
            raise serializers.ValidationError(_('No staff member of your agency has this id (or use "me").'), code="does_not_exist")
        return membership

    def validate_language(self, value: str) -> str:
        code = value.strip().lower()
        if code and not is_language_code(code):
            raise serializers.ValidationError(_("Give a language code such as fr or ar."), code="invalid")
        return code

    def validate(self, attrs):
        low, high = attrs.get("min_age"), attrs.get("max_age")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"max_age": _("The highest age is below the lowest.")}, code="invalid")
        return attrs

    def filters(self) -> dict:
        """The keyword arguments of queries.filter_clients."""
        data = self.validated_data
        return {key: data.get(key) for key in ("status", "program", "staff", "flagged", "min_age", "max_age")} | {"language": data.get("language", "")}


@extend_validation_errors(["invalid"], field_name="phone", actions=WRITES)
@extend_validation_errors(["invalid", "max_length", *TEXT_CODES], field_name="q", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_validation_errors(["invalid", "min_value", "max_value", "max_string_length", "does_not_exist"], field_name="program", actions=["list"])
@extend_validation_errors(["invalid", "max_length", "does_not_exist", *TEXT_CODES], field_name="staff", actions=["list"])
@extend_validation_errors(["invalid"], field_name="flagged", actions=["list"])
@extend_validation_errors(["invalid", "max_length", *TEXT_CODES], field_name="language", actions=["list"])
@extend_validation_errors(["invalid", "min_value", "max_value", "max_string_length"], field_name="min_age", actions=["list"])
@extend_validation_errors(["invalid", "min_value", "max_value", "max_string_length"], field_name="max_age", actions=["list"])
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
    archive=extend_schema(summary="Archive a client (clients.archive)", request=None, responses={200: ClientSerializer}),
    unarchive=extend_schema(summary="Bring an archived client back (clients.archive)", request=None, responses={200: ClientSerializer}),
)
@refer_merge_errors
@profile_errors
class ClientViewSet(ReferMergeActions, ClientActionsViewSet):
    """The agency's clients. Reading needs `clients.view`, registering and changing `clients.change`.
    Clients are archived, never deleted."""

    model = Client
    serializer_class = ClientSerializer
    permission_classes = [HasAgencyPerm(view="clients.view", manage="clients.change")]
    prefetch_related = ("phones", "consents__statement", "consents__recorded_by")

    def get_serializer_class(self):
        if self.action == "list":
            return ClientListSerializer
        if self.action == "create":
            return ClientCreateSerializer
        return ClientSerializer

    def list(self, request, *args, **kwargs):
        filters = ClientFilterSerializer(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        clients = filter_clients(self.get_queryset(), agency=request.agency, **filters.filters())
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
        phones = data.pop("phones", [])
        answer = data.pop("privacy_consent", None)
        consent = None
        if answer is not None:
            statement = current_privacy_statement(request.agency)
            if statement is None:
                raise serializers.ValidationError(
                    {"privacy_consent": [_("Your agency has not published a privacy statement: no answer can be recorded.")]}, code="invalid"
                )
            consent = {"statement": statement, **answer}
        duplicates = likely_duplicates(request.agency, data) if not data.get("is_anonymous") else []
        found = DuplicateSerializer(duplicates, many=True).data
        if duplicates and not confirmed:
            error = {"code": "likely_duplicate", "detail": _("This person may already be registered."), "attr": None}
            return Response({"type": "client_error", "errors": [error], "likely_duplicates": found}, status=status.HTTP_409_CONFLICT)
        client = run_action(actions.register_client, agency=request.agency, actor=request.user, data=data, phones=phones, consent=consent)
        body = ClientSerializer(client, context=self.get_serializer_context()).data
        return Response({**body, "likely_duplicates": found}, status=status.HTTP_201_CREATED)

    def _change_status(self, change) -> Response:
        client = run_action(change, self.get_object(), self.request.user)
        return Response(ClientSerializer(client, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], permission_classes=ARCHIVE_PERMISSIONS)
    def archive(self, request, pk=None):
        return self._change_status(actions.archive_client)

    @action(detail=True, methods=["post"], permission_classes=ARCHIVE_PERMISSIONS)
    def unarchive(self, request, pk=None):
        return self._change_status(actions.unarchive_client)
