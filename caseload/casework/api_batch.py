"""API for batch actions, saved client lists and the standard casework exports.

- ``/api/v1/batches/``: list and read batches; ``POST`` runs one (``casework.batch``): the same
  note, communication, task or supportive service for every client given, all or nothing. A 400
  names the field and the clients; nothing is written then. Ids that are not clients of the
  agency are left out (``ignored_clients`` says how many), never written.
- ``/api/v1/client-lists/``: the saved lists the caller sees (their own and the shared ones; a
  private list of someone else is a 404), create, rename/share, delete, and
  ``.../<id>/clients/``, ``.../<id>/add-clients/``, ``.../<id>/remove-clients/`` (``casework.batch``).
- ``/api/v1/exports/``: the reports; ``/api/v1/exports/<report>.<csv|xlsx>/?date_from=&date_to=&program=``
  downloads one (``casework.export``), under the private rule, audited like the page's.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.fields import get_error_detail
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyModelViewSet, AgencyScopedMixin, run_action
from caseload.casework import lists as list_actions
from caseload.casework.api_common import MAX_ID
from caseload.casework.batch import clients_of, run_batch
from caseload.casework.communications import agency_today
from caseload.casework.exports import FORMATS, REPORTS, Export, respond
from caseload.casework.models import BatchAction, CaseNote, ClientList, Communication, Grant, SupportServiceType, Task
from caseload.casework.selection import agency_clients, list_clients, visible_lists
from caseload.clients.models import Client
from caseload.tenancy.models import Membership, Program

BATCH = HasAgencyPerm(view="casework.batch", manage="casework.batch")
TEXT_CODES = ["null_characters_not_allowed", "surrogate_characters_not_allowed"]


def _max_clients() -> int:
    return settings.CASEWORK_BATCH_MAX_CLIENTS


class ClientIdsField(serializers.ListField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("child", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        kwargs.setdefault("allow_empty", False)
        kwargs.setdefault("max_length", settings.CASEWORK_BATCH_MAX_CLIENTS)
        super().__init__(**kwargs)


# --- Batches -------------------------------------------------------------------------------------


class NoteData(serializers.Serializer):
    note_type = serializers.ChoiceField(choices=CaseNote.Type.choices, default=CaseNote.Type.GENERAL)
    program = AgencyRelatedField(Program, required=False, allow_null=True, default=None)
    contact_date = serializers.DateField(required=False, help_text="Default: today.")
    body = serializers.CharField(max_length=50_000, help_text="Markdown; the same note on every client's case.")
    is_private = serializers.BooleanField(
        required=False, default=False, help_text="Every note private: seen by you and your manager only."
    )
    status = serializers.ChoiceField(choices=CaseNote.Status.choices, default=CaseNote.Status.FINAL)


class CommunicationData(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Communication.Kind.choices,
        help_text="reminder: sent to each client (who needs a portal account they have logged in to).",
    )
    direction = serializers.ChoiceField(choices=Communication.Direction.choices, default=Communication.Direction.OUTGOING)
    date = serializers.DateField(required=False, help_text="Default: today. For a reminder, the day it is sent.")
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    program = AgencyRelatedField(Program, required=False, allow_null=True, default=None)


class TaskData(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(choices=Task.Priority.choices, default=Task.Priority.NORMAL)
    assigned_to = AgencyRelatedField(
        Membership,
        required=False,
        allow_null=True,
        default=None,
        help_text="A staff member (membership id); null: you (or, with for_client, each client).",
    )
    for_client = serializers.BooleanField(required=False, default=False, help_text="Each client's own task, in their portal.")
    remind_days_before = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=60, default=1)
    program = AgencyRelatedField(Program, required=False, allow_null=True, default=None)


class ServiceData(serializers.Serializer):
    service_type = AgencyRelatedField(SupportServiceType)
    date = serializers.DateField(required=False, help_text="Default: today.")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True, default=None)
    vendor = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    justification = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    grant = AgencyRelatedField(Grant, required=False, allow_null=True, default=None)
    program = AgencyRelatedField(Program, required=False, allow_null=True, default=None)
    approve_overspend = serializers.BooleanField(
        required=False, default=False, help_text="A manager's approval of spending past the grant's budget."
    )


DATA_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    BatchAction.Kind.NOTE: NoteData,
    BatchAction.Kind.COMMUNICATION: CommunicationData,
    BatchAction.Kind.TASK: TaskData,
    BatchAction.Kind.SERVICE: ServiceData,
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="BatchData", serializers=list(DATA_SERIALIZERS.values()), resource_type_field_name=None, many=False
    )
)
class BatchDataField(serializers.DictField):
    pass


class BatchCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BatchAction.Kind.choices)
    clients = ClientIdsField(help_text="The clients (ids), at most CASEWORK_BATCH_MAX_CLIENTS (2,000 by default).")
    data = BatchDataField(help_text="The record to create for each client: the fields of the kind's record.")
    source = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the clients came from (a note for the summary).",
    )

    def validate(self, attrs):
        form = DATA_SERIALIZERS[attrs["kind"]](data=attrs["data"], context=self.context)
        if not form.is_valid():
            raise serializers.ValidationError({"data": form.errors})
        values = dict(form.validated_data)
        today = agency_today(self.context["request"].agency)
        for name in ("contact_date", "date"):
            if name in form.fields and values.get(name) is None:
                values[name] = today
        attrs["data"] = values
        return attrs


class BatchSerializer(serializers.ModelSerializer):
    created_by_name = serializers.SerializerMethodField()

    class Meta:
        model = BatchAction
        fields = ["id", "kind", "client_count", "source", "created_by", "created_by_name", "created_at"]
        read_only_fields = fields

    def get_created_by_name(self, batch: BatchAction) -> str:
        member = batch.created_by
        return (member.user.full_name or member.user.email) if member is not None else ""


class BatchDetailSerializer(BatchSerializer):
    clients = serializers.SerializerMethodField(help_text="The clients the batch made records for (ids).")
    ignored_clients = serializers.SerializerMethodField(help_text="Ids given that are not clients of your agency: left out.")

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "clients", "ignored_clients"]
        read_only_fields = fields

    def get_clients(self, batch: BatchAction) -> list[int]:
        return list(clients_of(batch).order_by("pk").values_list("pk", flat=True))

    def get_ignored_clients(self, batch: BatchAction) -> int:
        return self.context.get("ignored", 0)


def _data_field_errors(viewset):
    codes = [
        "invalid",
        "required",
        "null",
        "blank",
        "does_not_exist",
        "incorrect_type",
        "invalid_choice",
        "max_length",
        "min_value",
        "max_value",
        "max_digits",
        "max_decimal_places",
        "max_whole_digits",
        "max_string_length",
        "date",
        "datetime",
        "overspend",
        *TEXT_CODES,
    ]
    names = sorted({name for serializer in DATA_SERIALIZERS.values() for name in serializer().fields} | {"client", "kind"})
    for name in names:
        viewset = extend_validation_errors(codes, field_name=f"data.{name}", actions=["create"])(viewset)
    viewset = extend_validation_errors(["invalid", "not_a_dict", "required", "null"], field_name="data", actions=["create"])(
        viewset
    )
    return extend_validation_errors(["invalid", "max_length", "min_length", "empty"], field_name="clients", actions=["create"])(
        viewset
    )


def _batch_error(error: DjangoValidationError) -> serializers.ValidationError:
    """A batch's failure as a 400: ``clients`` and ``kind`` as they are, the record's fields under ``data``."""
    detail = get_error_detail(error)
    if not isinstance(detail, dict):
        return serializers.ValidationError({"clients": detail})
    top, data = {}, {}
    for field, messages in detail.items():
        if field in ("clients", NON_FIELD_ERRORS):
            top.setdefault("clients", []).extend(messages)
        else:
            data[field] = messages
    if data:
        top["data"] = data
    return serializers.ValidationError(top)


@_data_field_errors
@extend_schema_view(
    list=extend_schema(summary="List batch actions, newest first (casework.batch)"),
    retrieve=extend_schema(summary="One batch action and its clients (casework.batch)"),
    create=extend_schema(
        summary="Run a batch action (casework.batch)",
        description="Creates the same case note, communication, task or supportive service for every client given, "
        "in one transaction. If any client cannot have it, nothing is written: the 400 names the field (under `data`) "
        "and the clients. Ids that are not clients of your agency are left out and counted in `ignored_clients`; merged "
        "profiles are refused by name.",
        request=BatchCreateSerializer,
        responses={201: BatchDetailSerializer},
    ),
)
class BatchViewSet(
    AgencyScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Batch actions of the agency: what was created, for how many clients, by whom."""

    model = BatchAction
    permission_classes = [BATCH]
    # JSON only: a form-encoded list of 2,000 ids would pass Django's limit on the number of fields.
    parser_classes = [JSONParser]
    select_related = ("created_by__user",)

    def get_serializer_class(self):
        if self.action == "create":
            return BatchCreateSerializer
        if self.action == "retrieve":
            return BatchDetailSerializer
        return BatchSerializer

    def get_queryset(self):
        return super().get_queryset().filter(agency=self.request.agency).order_by("-created_at", "-pk")

    def create(self, request, *args, **kwargs):
        serializer = BatchCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        clients, ignored = agency_clients(request.agency, data["clients"])
        if not clients:
            raise serializers.ValidationError({"clients": [_("None of these ids is a client of your agency.")]})
        try:
            batch = run_batch(request.agency, request.user, data["kind"], clients, data["data"], source=data["source"])
        except DjangoValidationError as error:
            raise _batch_error(error) from None
        output = BatchDetailSerializer(batch, context={**self.get_serializer_context(), "ignored": ignored})
        return Response(output.data, status=status.HTTP_201_CREATED)


# --- Saved client lists --------------------------------------------------------------------------


class SavedListSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()
    client_count = serializers.IntegerField(source="size", read_only=True, default=0)
    clients = ClientIdsField(write_only=True, required=False, help_text="Clients to put on a new list (ids).")

    class Meta:
        model = ClientList
        fields = ["id", "name", "is_shared", "owner", "owner_name", "client_count", "created_at", "clients"]
        read_only_fields = ["owner", "created_at"]

    def get_owner_name(self, client_list: ClientList) -> str:
        owner = client_list.owner
        return (owner.user.full_name or owner.user.email) if owner is not None else ""

    def create(self, validated_data):
        request = self.context["request"]
        clients = validated_data.pop("clients", [])
        return run_action(list_actions.create_list, request.agency, request.user, validated_data, clients=clients)

    def update(self, instance, validated_data):
        validated_data.pop("clients", None)
        return run_action(list_actions.update_list, instance, self.context["request"].user, validated_data)


class ListClientsSerializer(serializers.Serializer):
    clients = ClientIdsField(help_text="Client ids; those not of your agency are left out.")


class ListChangeSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="How many clients were added (or taken off).")
    ignored_clients = serializers.IntegerField(help_text="Ids that are not clients of your agency: left out.")
    client_count = serializers.IntegerField(help_text="How many clients the list holds now.")


class ListClientSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = Client
        fields = ["id", "client_number", "name", "status"]
        read_only_fields = fields

    def get_name(self, client: Client) -> str:
        return str(client)


@extend_validation_errors(["invalid"], field_name="name", actions=["create", "update", "partial_update"])
@extend_validation_errors(["invalid"], field_name="clients", actions=["create", "add_clients", "remove_clients"])
@extend_schema_view(
    list=extend_schema(summary="Your saved client lists and the shared ones (casework.batch)"),
    retrieve=extend_schema(summary="One saved list (casework.batch)"),
    create=extend_schema(summary="Make a saved list, optionally with clients (casework.batch)"),
    update=extend_schema(summary="Rename or share a list (its owner; an administrator for a shared list)"),
    partial_update=extend_schema(summary="Rename or share a list (its owner; an administrator for a shared list)"),
    destroy=extend_schema(summary="Delete a list; its clients are unchanged (its owner; an administrator for a shared list)"),
)
class ClientListViewSet(AgencyModelViewSet):
    """Saved client lists: a private list is its owner's only (404 for others); a shared one is the agency's."""

    model = ClientList
    serializer_class = SavedListSerializer
    permission_classes = [BATCH]
    parser_classes = [JSONParser]
    delete_action = staticmethod(list_actions.delete_list)

    def get_queryset(self):
        return (
            visible_lists(self.request.agency, self.request.membership)
            .select_related("owner__user")
            .annotate(size=Count("entries"))
            .order_by("name", "pk")
        )

    def _check_manage(self, client_list: ClientList) -> None:
        if not list_actions.may_manage(client_list, self.request.membership):
            raise exceptions.PermissionDenied(_("Only the list's owner can rename, share or delete it."))

    def perform_update(self, serializer):
        self._check_manage(serializer.instance)
        serializer.save()

    def perform_destroy(self, instance):
        self._check_manage(instance)
        super().perform_destroy(instance)

    def _change(self, function) -> Response:
        client_list = self.get_object()
        serializer = ListClientsSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["clients"]
        found, ignored = agency_clients(self.request.agency, ids)
        try:
            changed = run_action(function, client_list, self.request.user, found)
        except DjangoPermissionDenied as denied:
            raise exceptions.PermissionDenied(str(denied)) from None
        count = list_clients(client_list).count()
        return Response(ListChangeSerializer({"changed": changed, "ignored_clients": ignored, "client_count": count}).data)

    @extend_schema(summary="The clients on the list (casework.batch)", responses={200: ListClientSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def clients(self, request, pk=None):
        client_list = self.get_object()
        page = self.paginate_queryset(list_clients(client_list).order_by("family_name", "given_name", "pk"))
        return self.get_paginated_response(ListClientSerializer(page, many=True).data)

    @extend_schema(
        summary="Add clients to the list (casework.batch)", request=ListClientsSerializer, responses={200: ListChangeSerializer}
    )
    @action(detail=True, methods=["post"], url_path="add-clients")
    def add_clients(self, request, pk=None):
        return self._change(list_actions.add_clients)

    @extend_schema(
        summary="Take clients off the list (casework.batch)", request=ListClientsSerializer, responses={200: ListChangeSerializer}
    )
    @action(detail=True, methods=["post"], url_path="remove-clients")
    def remove_clients(self, request, pk=None):
        return self._change(list_actions.remove_clients)


# --- Exports -------------------------------------------------------------------------------------


class AnyContent(DefaultContentNegotiation):
    """A file download answers whatever the client accepts (JSON for errors)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except exceptions.NotAcceptable:
            return renderers[0], renderers[0].media_type


class ExportQuerySerializer(serializers.Serializer):
    date_from = serializers.DateField(help_text="The first day (YYYY-MM-DD), included.")
    date_to = serializers.DateField(help_text="The last day (YYYY-MM-DD), included.")
    program = AgencyRelatedField(
        Program, required=False, allow_null=True, default=None, help_text="Only this program's records (id)."
    )

    def validate(self, attrs):
        if attrs["date_to"] < attrs["date_from"]:
            raise serializers.ValidationError({"date_to": [_("The last day is before the first day.")]}, code="invalid")
        return attrs


class ExportReportSerializer(serializers.Serializer):
    report = serializers.CharField()
    title = serializers.CharField()
    csv_url = serializers.CharField()
    xlsx_url = serializers.CharField()


FILES = [f"{key}.{extension}" for key in REPORTS for extension in FORMATS]


@extend_validation_errors(["invalid", "datetime", "required", "null", "date"], field_name="date_from", actions=["retrieve"])
@extend_validation_errors(["invalid", "datetime", "required", "null", "date"], field_name="date_to", actions=["retrieve"])
@extend_validation_errors(["invalid", "does_not_exist", "incorrect_type"], field_name="program", actions=["retrieve"])
class ExportViewSet(viewsets.ViewSet):
    """The standard casework exports, as files: what you may see only (the private rule applies), audited."""

    permission_classes = [HasAgencyPerm(view="casework.export")]
    content_negotiation_class = AnyContent
    lookup_field = "report"
    lookup_value_converter = "str"

    @extend_schema(
        summary="The export reports and their file URLs (casework.export)", responses={200: ExportReportSerializer(many=True)}
    )
    def list(self, request):
        rows = [
            {
                "report": key,
                "title": str(report.title),
                "csv_url": reverse("api:export-detail", args=[f"{key}.csv"]),
                "xlsx_url": reverse("api:export-detail", args=[f"{key}.xlsx"]),
            }
            for key, report in REPORTS.items()
        ]
        return Response(ExportReportSerializer(rows, many=True).data)

    @extend_schema(
        summary="Download an export (casework.export)",
        description="`report` is one of "
        + ", ".join(f"`{name}`" for name in FILES)
        + ". CSV is streamed; the export is written to the audit log.",
        parameters=[
            OpenApiParameter("report", OpenApiTypes.STR, OpenApiParameter.PATH, enum=FILES),
            ExportQuerySerializer,
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file."),
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The Excel file."
            ),
        },
    )
    def retrieve(self, request, report=None):
        key, _dot, extension = (report or "").rpartition(".")
        if key not in REPORTS or extension not in FORMATS:
            raise exceptions.NotFound(_("No such export."))
        query = ExportQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        values = query.validated_data
        export = Export(
            report=REPORTS[key],
            agency=request.agency,
            membership=request.membership,
            start=values["date_from"],
            end=values["date_to"],
            program=values["program"],
        )
        return respond(export, request.user, extension)
