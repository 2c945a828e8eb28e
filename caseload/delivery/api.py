"""API for service delivery: form definitions, sessions and service records.

/api/v1/form-definitions/: the form definitions (read with ``delivery.view``): the current version
of each form by default; one definition gives its whole JSON and the caller's agency questions.
/api/v1/sessions/: sessions (read ``delivery.view``, write ``delivery.change``), with their named
attendees (POST/DELETE ``sessions/{id}/attendees/``).
/api/v1/service-records/: service records, the answers to a form given in a session (read
``delivery.view``, write ``delivery.change``); ``service-records/export/?form=KEY`` is the CSV
export (``delivery.export``).

Every read goes through ``visibility.sessions_for`` / ``records_for``: another program's session
(without ``delivery.all_programs``) and a private record of someone the caller does not manage
answer 404. A manager reads a private record of their report but only its author changes it
(403). Writes call ``caseload.delivery.sessions`` / ``records``; answers are validated by the form
engine, and a refused answer is a 400 whose ``attr`` is ``answers.<field path>``.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import ActionSerializer, AgencyModelViewSet, run_action
from caseload.audit.actions import Action, record
from caseload.casework.api_batch import AnyContent
from caseload.casework.api_common import ID_FILTER_ERRORS, MAX_ID
from caseload.clients.models import Client
from caseload.delivery import exports, records, sessions
from caseload.delivery.models import Attendee, ServiceRecord, Session, SessionType
from caseload.delivery.visibility import may_change_record, records_for, sessions_for
from caseload.formbuilder import engine, loading
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.models import Funder, Membership, Program

VIEW, CHANGE, EXPORT = "delivery.view", "delivery.change", "delivery.export"
WRITES = ["create", "partial_update"]
TEXT_CODES = ["null_characters_not_allowed", "surrogate_characters_not_allowed"]
KEY_PATTERN = r"^[a-z0-9_]{1,60}$"


def _documented(filter_codes: dict[str, list[str]], write_codes: dict[str, list[str]], writes=WRITES):
    """Declare in the schema the errors each filter (list) and each written field (writes) may name."""

    def decorate(viewset):
        for name, codes in filter_codes.items():
            viewset = extend_validation_errors(codes, field_name=name, actions=["list"])(viewset)
        for name, codes in write_codes.items():
            viewset = extend_validation_errors(sorted(set(codes)), field_name=name, actions=writes)(viewset)
        return viewset

    return decorate


# --- Form definitions ----------------------------------------------------------------------------


class FormDefinitionSerializer(serializers.ModelSerializer):
    field_count = serializers.SerializerMethodField(help_text="How many top-level fields the definition has.")

    class Meta:
        model = FormDefinition
        fields = ["id", "key", "version", "name_en", "name_fr", "scope", "is_standard", "field_count", "loaded_at"]
        read_only_fields = fields

    def get_field_count(self, definition: FormDefinition) -> int:
        return len(definition.fields)


class FormDefinitionDetailSerializer(FormDefinitionSerializer):
    definition = serializers.SerializerMethodField(help_text="The whole definition, in the file format of docs/forms.md.")
    agency_fields = serializers.SerializerMethodField(
        help_text="Your agency's own questions on this form (current version), appended after its fields."
    )
    agency_fields_version = serializers.SerializerMethodField(
        help_text="The version of your agency's questions on this form, or null when it has none."
    )

    class Meta(FormDefinitionSerializer.Meta):
        fields = [*FormDefinitionSerializer.Meta.fields, "definition", "agency_fields", "agency_fields_version"]
        read_only_fields = fields

    def _extension(self, definition: FormDefinition):
        cache = self.context.setdefault("_extensions", {})
        if definition.key not in cache:
            cache[definition.key] = loading.current_extension(self.context["request"].agency, definition.key)
        return cache[definition.key]

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_definition(self, definition: FormDefinition) -> dict:
        return loading.export_definition(definition)

    @extend_schema_field({"type": "array", "items": {"type": "object", "additionalProperties": True}})
    def get_agency_fields(self, definition: FormDefinition) -> list:
        extension = self._extension(definition)
        return list(extension.fields) if extension is not None else []

    def get_agency_fields_version(self, definition: FormDefinition) -> int | None:
        extension = self._extension(definition)
        return extension.version if extension is not None else None


class FormDefinitionFilterSerializer(serializers.Serializer):
    key = serializers.RegexField(KEY_PATTERN, required=False, help_text="Only this form (its key, e.g. `needs_assessment`).")
    all_versions = serializers.BooleanField(
        required=False, default=False, help_text="Every loaded version, not only each form's current one."
    )


@extend_validation_errors(["invalid"], field_name="key", actions=["list"])
@extend_validation_errors(["invalid", "null"], field_name="all_versions", actions=["list"])
@extend_schema_view(
    list=extend_schema(
        summary="The form definitions: each form's current version (delivery.view)", parameters=[FormDefinitionFilterSerializer]
    ),
    retrieve=extend_schema(summary="One form definition, whole, with your agency's questions on it (delivery.view)"),
)
class FormDefinitionViewSet(viewsets.ReadOnlyModelViewSet):
    """The service forms (standard definitions shared by every agency), newest version first.
    Reading needs `delivery.view`. A definition version never changes once loaded."""

    permission_classes = [HasAgencyPerm(view=VIEW)]
    lookup_value_converter = "int"

    def get_serializer_class(self):
        return FormDefinitionDetailSerializer if self.action == "retrieve" else FormDefinitionSerializer

    def get_queryset(self):
        queryset = FormDefinition.objects.all().order_by("key", "-version")
        if self.action != "list":
            return queryset
        filters = FormDefinitionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if filters.validated_data.get("key"):
            queryset = queryset.filter(key=filters.validated_data["key"])
        if not filters.validated_data.get("all_versions"):
            newest = FormDefinition.objects.filter(key=OuterRef("key")).order_by("-version").values("version")[:1]
            queryset = queryset.filter(version=Subquery(newest))
        return queryset


# --- Sessions ------------------------------------------------------------------------------------


class SessionSerializer(ActionSerializer):
    session_type = serializers.ChoiceField(
        choices=SessionType.choices, help_text="Set on creation; a session's type cannot change."
    )
    client = AgencyRelatedField(
        Client,
        required=False,
        allow_null=True,
        help_text="The client of a one-on-one session (id; set on creation). A group session has none: "
        "add its attendees with POST sessions/{id}/attendees/.",
    )
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    date = serializers.DateField(required=False, help_text="The day of the session (default today).")
    start_time = serializers.TimeField(required=False, allow_null=True)
    duration_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=24 * 60)
    mode = serializers.ChoiceField(choices=Session.Mode.choices, required=False)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True)
    staff = AgencyRelatedField(
        Membership, required=False, allow_null=True, help_text="Who gave the service (membership id; default you)."
    )
    program = AgencyRelatedField(Program, help_text="One of your programs (id); any program with delivery.all_programs.")
    funders = AgencyRelatedField(
        Funder, many=True, required=False, help_text="Funder ids (default the program's funders on creation)."
    )
    anonymous_attendees = serializers.IntegerField(
        required=False, min_value=0, max_value=100000, help_text="People who attended without being registered (group sessions)."
    )
    attendees = serializers.SerializerMethodField(help_text="The named attendees' client ids (group sessions).")

    class Meta:
        model = Session
        fields = [
            "id",
            "session_type",
            "client",
            "title",
            "date",
            "start_time",
            "duration_minutes",
            "mode",
            "location",
            "staff",
            "program",
            "funders",
            "anonymous_attendees",
            "attendees",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_attendees(self, session: Session) -> list[int]:
        prefetched = getattr(session, "_prefetched_objects_cache", {}).get("attendees")
        if prefetched is not None:
            return [attendee.client_id for attendee in prefetched]
        return list(Attendee.objects.for_agency(session.agency).filter(session=session).values_list("client_id", flat=True))

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "client" in attrs and attrs.pop("client") != self.instance.client:
            raise serializers.ValidationError(
                {"client": [_("A session stays with the client it was recorded for.")]}, code="invalid"
            )
        return attrs

    def create(self, validated_data):
        data = dict(validated_data)
        client = data.pop("client", None)
        return run_action(sessions.create_session, self.agency, self.actor, data, client=client)

    def update(self, instance, validated_data):
        return run_action(sessions.update_session, instance, self.actor, dict(validated_data))


class AttendeesSerializer(serializers.Serializer):
    clients = AgencyRelatedField(Client, many=True, allow_empty=False, help_text="The clients to add (ids).")


class SessionFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's sessions (id)."
    )
    program = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this program's (id).")
    session_type = serializers.ChoiceField(choices=SessionType.choices, required=False)
    date_from = serializers.DateField(required=False, help_text="On or after this day (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="On or before this day (YYYY-MM-DD).")

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The last day is before the first day.")]}, code="invalid")
        return attrs

    def apply(self, queryset):
        data = self.validated_data
        lookups = {
            "client_id": data.get("client"),
            "program_id": data.get("program"),
            "session_type": data.get("session_type"),
            "date__gte": data.get("date_from"),
            "date__lte": data.get("date_to"),
        }
        return queryset.filter(**{key: value for key, value in lookups.items() if value is not None})


SESSION_FILTER_ERRORS = {
    "client": ID_FILTER_ERRORS,
    "program": ID_FILTER_ERRORS,
    "session_type": ["invalid_choice"],
    "date_from": ["invalid", "datetime"],
    "date_to": ["invalid", "datetime"],
}
# What the serializer and ``sessions`` may name on a write.
SESSION_WRITE_ERRORS = {
    "session_type": ["required", "invalid_choice", "null", "invalid"],
    "client": ["does_not_exist", "incorrect_type", "invalid"],
    "title": ["max_length", "null", "invalid", *TEXT_CODES],
    "date": ["invalid", "datetime", "null"],
    "start_time": ["invalid", "date"],
    "duration_minutes": ["invalid", "min_value", "max_value", "max_string_length"],
    "mode": ["invalid_choice", "null", "invalid"],
    "location": ["max_length", "null", "invalid", *TEXT_CODES],
    "staff": ["does_not_exist", "incorrect_type", "invalid"],
    "program": ["required", "null", "does_not_exist", "incorrect_type", "invalid"],
    "funders": ["does_not_exist", "incorrect_type", "not_a_list", "null", "invalid"],
    "anonymous_attendees": ["invalid", "null", "min_value", "max_value", "max_string_length"],
    "session": ["invalid"],
}


@_documented(SESSION_FILTER_ERRORS, SESSION_WRITE_ERRORS, writes=["create", "partial_update", "update"])
@extend_validation_errors(
    ["does_not_exist", "incorrect_type", "not_a_list", "empty", "null", "required", "invalid"],
    field_name="clients",
    actions=["attendees"],
)
@extend_validation_errors(["invalid"], field_name="client", actions=["attendees", "remove_attendee"])
@extend_schema_view(
    list=extend_schema(summary="Sessions (delivery.view)", parameters=[SessionFilterSerializer]),
    retrieve=extend_schema(summary="One session (delivery.view)"),
    create=extend_schema(summary="Record a session (delivery.change)"),
    update=extend_schema(summary="Change a session (delivery.change)"),
    partial_update=extend_schema(summary="Change some fields of a session (delivery.change)"),
    destroy=extend_schema(summary="Delete a session and its service records (delivery.change; kept for the audit log)"),
)
class SessionViewSet(AgencyModelViewSet):
    """Sessions of the programs you belong to (every program with `delivery.all_programs`), newest
    first. Reading needs `delivery.view`, writing `delivery.change`."""

    model = Session
    serializer_class = SessionSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    delete_action = staticmethod(sessions.delete_session)

    def get_queryset(self):
        queryset = sessions_for(self.request.agency, self.request.membership).prefetch_related("funders", "attendees")
        queryset = queryset.order_by("-date", "-start_time", "-pk")
        if self.action != "list":
            return queryset
        filters = SessionFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filters.apply(queryset)

    def perform_destroy(self, instance):
        run_action(sessions.delete_session, instance, self.request.user)

    def _fresh(self, session: Session) -> dict:
        session = self.get_queryset().get(pk=session.pk)
        return self.get_serializer(session).data

    @extend_schema(
        summary="Add named attendees to a group session (delivery.change)",
        request=AttendeesSerializer,
        responses={200: SessionSerializer},
    )
    @action(detail=True, methods=["post"], url_path="attendees")
    def attendees(self, request, pk=None):
        session = self.get_object()
        body = AttendeesSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        run_action(sessions.add_attendees, session, request.user, body.validated_data["clients"])
        return Response(self._fresh(session))

    @extend_schema(
        summary="Take a named attendee off a group session (delivery.change)",
        parameters=[
            OpenApiParameter("client_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The attendee's client id.")
        ],
        request=None,
        responses={204: OpenApiResponse(description="Taken off.")},
    )
    @action(detail=True, methods=["delete"], url_path="attendees/<int:client_id>")
    def remove_attendee(self, request, pk=None, client_id=None):
        session = self.get_object()
        attendee = get_object_or_404(Attendee.objects.for_agency(request.agency), session=session, client_id=client_id)
        attendee.agency = request.agency
        run_action(sessions.remove_attendee, attendee, request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Service records -----------------------------------------------------------------------------


class VisibleSessionField(AgencyRelatedField):
    """A session the caller may see (another program's is "does not exist")."""

    def get_queryset(self):
        request = self.context["request"]
        return sessions_for(request.agency, request.membership)


ANSWER_ROW_SCHEMA = {
    "type": "object",
    "properties": {
        "key": {"type": "string", "nullable": True},
        "type": {"type": "string", "nullable": True},
        "label": {"type": "string"},
        "help": {"type": "string"},
        "value": {"nullable": True, "description": "The stored answer, as in `answers`."},
        "answered": {"type": "boolean"},
        "text": {"type": "string", "description": "The answer in words, in the request's language."},
        "items": {
            "type": "array",
            "items": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "description": "A group question's items: one list of rows per item.",
        },
    },
    "required": ["key", "type", "label", "help", "value", "answered", "text"],
}


class ServiceRecordSerializer(ActionSerializer):
    session = VisibleSessionField(Session, help_text="The session the form was filled in (id); set on creation.")
    client = AgencyRelatedField(
        Client,
        required=False,
        allow_null=True,
        help_text="Who the form is about: a one-on-one session's client (the default) or a named attendee of a group "
        "session; null for a form about the whole group. Set on creation.",
    )
    form = serializers.RegexField(
        KEY_PATTERN, source="definition.key", help_text="The form's key (see /api/v1/form-definitions/); set on creation."
    )
    form_version = serializers.IntegerField(
        source="definition.version", read_only=True, help_text="The form version the record is answered under."
    )
    agency_fields_version = serializers.IntegerField(
        source="extension.version",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The version of your agency's questions the record is answered under, or null.",
    )
    answers = serializers.DictField(
        required=False,
        help_text="The answers, by field key (docs/forms.md). On a change, the whole set: answers left out are removed. "
        "A refused answer is a 400 naming `answers.<field path>`.",
    )
    status = serializers.ChoiceField(
        choices=ServiceRecord.Status.choices,
        required=False,
        help_text="`draft` may leave required questions unanswered; `completed` must answer them and cannot go back.",
    )
    is_private = serializers.BooleanField(
        required=False, help_text="Seen only by the author and the author's manager; only the author changes it."
    )
    program = serializers.IntegerField(source="program_id", read_only=True, help_text="The session's program (id).")
    author = serializers.IntegerField(
        source="author_id", read_only=True, allow_null=True, help_text="Who recorded it (membership id)."
    )
    answers_display = serializers.SerializerMethodField(
        help_text="The answers for reading: one row per field in order, labels and answers in the request's language."
    )

    class Meta:
        model = ServiceRecord
        fields = [
            "id",
            "session",
            "client",
            "form",
            "form_version",
            "agency_fields_version",
            "answers",
            "status",
            "is_private",
            "program",
            "author",
            "created_at",
            "updated_at",
            "completed_at",
            "answers_display",
        ]
        read_only_fields = ["created_at", "updated_at", "completed_at"]

    @extend_schema_field({"type": "array", "items": ANSWER_ROW_SCHEMA})
    def get_answers_display(self, row: ServiceRecord) -> list:
        spec = loading.record_spec(row.definition, row.extension)
        return engine.display(spec, row.answers, get_language())

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is None:
            return attrs
        row = self.instance
        errors = {}
        if "session" in attrs and attrs.pop("session").pk != row.session_id:
            errors["session"] = [_("A form stays in the session it was filled in.")]
        if "client" in attrs and getattr(attrs.pop("client"), "pk", None) != row.client_id:
            errors["client"] = [_("A form stays with the client it was filled in for.")]
        definition = attrs.pop("definition", None)
        if definition is not None and definition.get("key") != row.definition.key:
            errors["form"] = [_("A form cannot become another form; create a new one.")]
        if errors:
            raise serializers.ValidationError(errors, code="invalid")
        return attrs

    def create(self, validated_data):
        data = dict(validated_data)
        return run_action(
            records.create_record,
            data["session"],
            self.actor,
            data["definition"]["key"],
            data.get("answers", {}),
            client=data.get("client"),
            status=data.get("status", ServiceRecord.Status.DRAFT),
            is_private=data.get("is_private", False),
        )

    def update(self, instance, validated_data):
        return run_action(
            records.update_record,
            instance,
            self.actor,
            validated_data.get("answers"),
            status=validated_data.get("status"),
            is_private=validated_data.get("is_private"),
        )


class RecordFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's records (id).")
    session = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this session's (id).")
    program = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this program's (id).")
    form = serializers.RegexField(KEY_PATTERN, required=False, help_text="Only this form's records (its key).")
    status = serializers.ChoiceField(choices=ServiceRecord.Status.choices, required=False)

    def apply(self, queryset):
        data = self.validated_data
        lookups = {
            "client_id": data.get("client"),
            "session_id": data.get("session"),
            "program_id": data.get("program"),
            "definition__key": data.get("form"),
            "status": data.get("status"),
        }
        return queryset.filter(**{key: value for key, value in lookups.items() if value is not None})


class RecordExportQuerySerializer(serializers.Serializer):
    form = serializers.RegexField(KEY_PATTERN, help_text="The form to export (its key).")
    date_from = serializers.DateField(required=False, help_text="Sessions on or after this day (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Sessions on or before this day (YYYY-MM-DD).")
    program = AgencyRelatedField(
        Program, required=False, allow_null=True, default=None, help_text="Only this program's records (id)."
    )

    def validate(self, attrs):
        if attrs.get("date_from") and attrs.get("date_to") and attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": [_("The last day is before the first day.")]}, code="invalid")
        if loading.current_definition(attrs["form"]) is None:
            raise serializers.ValidationError({"form": [_("There is no such form.")]}, code="invalid")
        return attrs


RECORD_FILTER_ERRORS = {
    "client": ID_FILTER_ERRORS,
    "session": ID_FILTER_ERRORS,
    "program": ID_FILTER_ERRORS,
    "form": ["invalid"],
    "status": ["invalid_choice"],
}
RECORD_WRITE_ERRORS = {
    "session": ["required", "null", "does_not_exist", "incorrect_type", "invalid"],
    "client": ["does_not_exist", "incorrect_type", "invalid"],
    "form": ["required", "null", "blank", "invalid", *TEXT_CODES],
    "answers": ["not_a_dict", "null", "invalid"],
    # A refused answer names its path in the answers (see caseload/api/schema.py).
    "answers.PATH": ["invalid"],
    "status": ["invalid_choice", "null", "invalid"],
    "is_private": ["invalid", "null"],
    "record": ["invalid"],
}


@_documented(RECORD_FILTER_ERRORS, RECORD_WRITE_ERRORS)
@extend_validation_errors(["required", "invalid", "null", "blank", *TEXT_CODES], field_name="form", actions=["export"])
@extend_validation_errors(["invalid", "datetime", "null", "date"], field_name="date_from", actions=["export"])
@extend_validation_errors(["invalid", "datetime", "null", "date"], field_name="date_to", actions=["export"])
@extend_validation_errors(["invalid", "does_not_exist", "incorrect_type"], field_name="program", actions=["export"])
@extend_schema_view(
    list=extend_schema(summary="Service records (delivery.view)", parameters=[RecordFilterSerializer]),
    retrieve=extend_schema(summary="One service record (delivery.view; the reading is audited)"),
    create=extend_schema(summary="Fill in a form in a session (delivery.change)"),
    partial_update=extend_schema(
        summary="Change a service record's answers, complete it, or mark it private (delivery.change; a private record: its author only)"
    ),
    destroy=extend_schema(
        summary="Delete a service record (delivery.change; a private record: its author only; kept for the audit log)"
    ),
)
class ServiceRecordViewSet(AgencyModelViewSet):
    """Service records (forms filled in during sessions) of the programs you belong to, newest
    first. Private records of others (unless you manage their author) and deleted records are not
    found. Reading needs `delivery.view`, writing `delivery.change`. Answers are validated against
    the form version the record was answered under; a refused answer is a 400 whose `attr` is
    `answers.<field path>`."""

    model = ServiceRecord
    serializer_class = ServiceRecordSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    delete_action = staticmethod(records.delete_record)

    def get_queryset(self):
        queryset = records_for(self.request.agency, self.request.membership).select_related(
            "definition", "extension", "author", "session"
        )
        queryset = queryset.order_by("-created_at", "-pk")
        if self.action != "list":
            return queryset
        filters = RecordFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filters.apply(queryset)

    def get_object(self):
        row = super().get_object()
        row.agency = self.request.agency
        row.session.agency = self.request.agency
        if self.action in ("partial_update", "destroy") and not may_change_record(row, self.request.membership):
            raise exceptions.PermissionDenied(_("Only its author can change a private form."))
        return row

    def retrieve(self, request, *args, **kwargs):
        row = self.get_object()
        if row.client_id:
            record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=row, client_id=row.client_id)
        return Response(self.get_serializer(row).data)

    def perform_destroy(self, instance):
        run_action(records.delete_record, instance, self.request.user)

    @extend_schema(
        summary="Export a form's service records as CSV, with your agency's questions (delivery.export)",
        description="One row per record you may see (private records of others are left out), the form's current "
        "columns then your agency's questions. Streamed; the export is written to the audit log.",
        parameters=[RecordExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file."),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="export",
        permission_classes=[HasAgencyPerm(view=EXPORT)],
        content_negotiation_class=AnyContent,
        pagination_class=None,
    )
    def export(self, request):
        query = RecordExportQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        values = query.validated_data
        export = exports.RecordExport(
            agency=request.agency,
            membership=request.membership,
            form_key=values["form"],
            date_from=values.get("date_from"),
            date_to=values.get("date_to"),
            program=values.get("program"),
        )
        return exports.respond(export, request.user, "csv")
