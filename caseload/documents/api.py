"""API for the client's document archive and the agency's Document Types.

/api/v1/documents/: list (``?client=`` id), retrieve (with its download URL), upload (multipart:
``client``, ``document_type``, ``file``, ``description``), change ``document_type`` /
``description``, delete (soft). Reading needs ``documents.view``, writing ``documents.change``;
a refused file is a 400 naming ``file``. /api/v1/document-types/: the agency's types (documents.view).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import WRITES, ActionSerializer, AgencyModelViewSet, AgencyReadOnlyViewSet, run_action
from caseload.casework.api_common import ID_FILTER_ERRORS, MAX_ID, declare_errors
from caseload.clients.models import Client
from caseload.documents import actions
from caseload.documents.models import Document, DocumentType

VIEW, CHANGE = "documents.view", "documents.change"


class DocumentSerializer(ActionSerializer):
    client = AgencyRelatedField(Client, help_text="The client (id); set on upload, it cannot change.")
    document_type = AgencyRelatedField(DocumentType, help_text="One of your agency's offered document types (id).")
    file = serializers.FileField(write_only=True, required=False, help_text="The file (multipart), on upload only.")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)
    uploaded_by = serializers.IntegerField(source="uploaded_by_id", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "client",
            "document_type",
            "file",
            "original_name",
            "content_type",
            "size",
            "description",
            "from_portal",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = ["original_name", "content_type", "size", "from_portal", "uploaded_at"]

    def get_download_url(self, document: Document) -> str:
        url = reverse("documents:download", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    def create(self, validated_data):
        uploaded = validated_data.get("file")
        if uploaded is None:
            raise serializers.ValidationError({"file": [_("Choose a file to upload.")]}, code="required")
        return run_action(
            actions.upload_document,
            validated_data["client"],
            self.actor,
            uploaded,
            validated_data["document_type"],
            description=validated_data.get("description", ""),
        )

    def update(self, instance, validated_data):
        if "client" in validated_data and validated_data["client"].pk != instance.client_id:
            raise serializers.ValidationError({"client": [_("A document cannot move to another client.")]}, code="invalid")
        if "file" in validated_data:
            raise serializers.ValidationError(
                {"file": [_("Upload a new document instead of replacing the file.")]}, code="invalid"
            )
        data = {key: validated_data[key] for key in ("document_type", "description") if key in validated_data}
        return run_action(actions.update_document, instance, self.actor, data)


class DocumentFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's documents (id)."
    )


def document_errors(viewset):
    """The errors the actions name beyond the serializer's own (drf-standardized-errors schema)."""
    viewset = declare_errors(viewset, ("client", "document_type", "description", "document"))
    return declare_errors(viewset, ("file",), codes=("invalid", "required"), actions=WRITES)


@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_schema_view(
    list=extend_schema(summary="Documents (documents.view)", parameters=[DocumentFilterSerializer]),
    retrieve=extend_schema(summary="One document, with its download URL (documents.view)"),
    create=extend_schema(summary="Upload a document (documents.change; multipart)"),
    update=extend_schema(summary="Change a document's type and description (documents.change)"),
    partial_update=extend_schema(summary="Change a document's type or description (documents.change)"),
    destroy=extend_schema(summary="Delete a document (documents.change; kept for the audit log)"),
)
@document_errors
class DocumentViewSet(AgencyModelViewSet):
    """Documents in the agency's clients' archives, newest first.
    Reading needs `documents.view`, writing `documents.change`."""

    model = Document
    serializer_class = DocumentSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    delete_action = staticmethod(actions.delete_document)

    def get_queryset(self):
        queryset = super().get_queryset().filter(deleted_at__isnull=True).select_related("client", "document_type")
        if self.action == "list":
            filters = DocumentFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if filters.validated_data.get("client"):
                queryset = queryset.filter(client_id=filters.validated_data["client"])
        return queryset.order_by("-uploaded_at", "-pk")


class DocumentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentType
        fields = ["id", "name", "name_fr", "is_active", "position"]


@extend_schema_view(
    list=extend_schema(summary="Document types (documents.view)"),
    retrieve=extend_schema(summary="One document type (documents.view)"),
)
class DocumentTypeViewSet(AgencyReadOnlyViewSet):
    """The agency's Document Types (configured on the Administration pages)."""

    model = DocumentType
    serializer_class = DocumentTypeSerializer
    permission_classes = [HasAgencyPerm(view=VIEW)]
