"""API for case notes: ``/api/v1/case-notes/``.

Reading needs ``casework.view``, writing ``casework.change``. Every note is read through
``records.visible``: a deleted note, and a private note of someone the caller does not manage,
answer 404 as if they did not exist. Writes call ``caseload.casework.notes`` (audited); a private
note is changed or deleted by its author only (403 for their manager, who may read it). Files are
attached on the Case notes tab; here they are listed with their download URL.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import ActionSerializer, AgencyModelViewSet, run_action
from caseload.audit.actions import Action, record
from caseload.casework import notes
from caseload.casework.api_common import MAX_ID
from caseload.casework.markdown import render_markdown
from caseload.casework.models import CaseNote, NoteAttachment
from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.tenancy.models import Program

WRITES = ["create", "partial_update"]
TEXT_CODES = ["null_characters_not_allowed", "surrogate_characters_not_allowed"]


class NoteAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    download_url = serializers.SerializerMethodField(help_text="Where the file downloads (same permissions as the note).")

    class Meta:
        model = NoteAttachment
        fields = ["id", "name", "content_type", "size", "uploaded_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, attachment: NoteAttachment) -> str:
        url = reverse("casework:attachment_download", args=[attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class CaseNoteSerializer(ActionSerializer):
    client = AgencyRelatedField(Client, help_text="The client the note is about (set when the note is written).")
    program = AgencyRelatedField(Program, required=False, allow_null=True)
    body = serializers.CharField(max_length=notes.MAX_BODY_LENGTH, help_text="Markdown.")
    body_html = serializers.SerializerMethodField(help_text="The body rendered from Markdown and sanitised.")
    is_private = serializers.BooleanField(
        required=False, default=False, help_text="Seen only by the author and the author's manager; only the author changes it."
    )
    author = serializers.PrimaryKeyRelatedField(read_only=True, help_text="The staff member (membership id) who wrote it.")
    author_name = serializers.SerializerMethodField()
    attachments = NoteAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = CaseNote
        fields = [
            "id",
            "client",
            "note_type",
            "program",
            "contact_date",
            "body",
            "body_html",
            "is_private",
            "status",
            "author",
            "author_name",
            "created_at",
            "updated_at",
            "attachments",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_body_html(self, note: CaseNote) -> str:
        return render_markdown(note.body)

    def get_author_name(self, note: CaseNote) -> str:
        if note.author is None:
            return ""
        return note.author.user.get_full_name() or note.author.user.email

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if self.instance is not None and "client" in attrs and attrs.pop("client") != self.instance.client:
            raise serializers.ValidationError({"client": [_("A note stays on the client it was written about.")]}, code="invalid")
        return attrs

    def create(self, validated_data):
        client = validated_data.pop("client")
        return run_action(notes.create_note, client, self.actor, validated_data)

    def update(self, instance, validated_data):
        return run_action(notes.update_note, instance, self.actor, validated_data)


class CaseNoteFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's notes (id).")
    program = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only notes of this program (id)."
    )
    note_type = serializers.ChoiceField(choices=CaseNote.Type.choices, required=False)
    status = serializers.ChoiceField(choices=CaseNote.Status.choices, required=False)
    date_from = serializers.DateField(required=False, help_text="Contact on or after this day (YYYY-MM-DD).")
    date_to = serializers.DateField(required=False, help_text="Contact on or before this day (YYYY-MM-DD).")

    def validate(self, attrs):
        if "date_from" in attrs and "date_to" in attrs and attrs["date_from"] > attrs["date_to"]:
            raise serializers.ValidationError({"date_to": [_("The last day is before the first day.")]}, code="invalid")
        return attrs

    def apply(self, queryset):
        data = self.validated_data
        lookups = {
            "client_id": data.get("client"),
            "program_id": data.get("program"),
            "note_type": data.get("note_type"),
            "status": data.get("status"),
            "contact_date__gte": data.get("date_from"),
            "contact_date__lte": data.get("date_to"),
        }
        return queryset.filter(**{key: value for key, value in lookups.items() if value is not None})


FILTER_ERROR_CODES = {
    "client": ["invalid", "max_string_length", "min_value", "max_value"],
    "program": ["invalid", "max_string_length", "min_value", "max_value"],
    "note_type": ["invalid_choice"],
    "status": ["invalid_choice"],
    "date_from": ["invalid", "datetime"],
    "date_to": ["invalid", "datetime"],
}
WRITE_ERROR_CODES = {
    "client": ["required", "null", "does_not_exist", "incorrect_type", "invalid"],
    "program": ["does_not_exist", "incorrect_type", "invalid"],
    "note_type": ["invalid_choice", "invalid"],
    "contact_date": ["invalid", "datetime", "null", "invalid"],
    "body": ["required", "blank", "null", "max_length", "invalid", *TEXT_CODES],
    "is_private": ["invalid", "null"],
    "status": ["invalid_choice", "invalid", "null"],
    "note": ["invalid"],
}


def _documented_errors(viewset):
    for name, codes in FILTER_ERROR_CODES.items():
        viewset = extend_validation_errors(codes, field_name=name, actions=["list"])(viewset)
    for name, codes in WRITE_ERROR_CODES.items():
        viewset = extend_validation_errors(sorted(set(codes)), field_name=name, actions=WRITES)(viewset)
    return viewset


@_documented_errors
@extend_schema_view(
    list=extend_schema(summary="List case notes (casework.view)", parameters=[CaseNoteFilterSerializer]),
    retrieve=extend_schema(summary="One case note (casework.view; the reading is audited)"),
    create=extend_schema(summary="Write a case note (casework.change)"),
    partial_update=extend_schema(summary="Change a case note (casework.change; a private note: its author only)"),
    destroy=extend_schema(summary="Delete a case note (casework.change; a private note: its author only)"),
)
class CaseNoteViewSet(AgencyModelViewSet):
    """Case notes on the agency's clients, newest contact first. Private notes of others (unless you
    manage their author) and deleted notes are not found. Reading needs `casework.view`, writing
    `casework.change`."""

    model = CaseNote
    serializer_class = CaseNoteSerializer
    permission_classes = [HasAgencyPerm(view="casework.view", manage="casework.change")]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    select_related = ("author__user",)
    prefetch_related = ("attachments",)
    delete_action = staticmethod(notes.delete_note)

    def get_queryset(self):
        queryset = visible(super().get_queryset(), self.request.membership).order_by("-contact_date", "-created_at", "-pk")
        if self.action != "list":
            return queryset
        filters = CaseNoteFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return filters.apply(queryset)

    def retrieve(self, request, *args, **kwargs):
        note = self.get_object()
        record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=note, client_id=note.client_id)
        return Response(self.get_serializer(note).data)
