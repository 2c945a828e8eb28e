"""API for a client's history: ``GET /api/v1/clients/{id}/history/``.

The same feed as the History tab (``caseload.casework.history``): newest first, the private rule
applied, filtered by ``kind`` (repeat it, or separate kinds with commas), ``program`` and
``staff`` (ids), and paged by a cursor: follow ``next`` until it is null. Needs
``casework.view``; another agency's client is a 404. Reading the first page is audited (a VIEW
event on the client), like opening the tab.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from caseload.api.permissions import HasAgencyPerm
from caseload.audit.actions import Action, record
from caseload.casework import history
from caseload.clients.models import Client
from caseload.tenancy.access import get_for_agency
from caseload.tenancy.models import Membership, Program


class HistoryQuerySerializer(serializers.Serializer):
    kind = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=40)
    program = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    staff = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    cursor = serializers.CharField(required=False, max_length=100)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=history.MAX_PAGE_SIZE, default=history.PAGE_SIZE)

    def validate_kind(self, value: list[str]) -> list[str]:
        allowed = {kind.key for kind in self.context["kinds"]}
        kinds = [part.strip() for item in value for part in item.split(",") if part.strip()]
        unknown = [kind for kind in kinds if kind not in allowed]
        if unknown:
            raise serializers.ValidationError(
                _("Unknown kind: %(kinds)s. Use one of: %(allowed)s.")
                % {"kinds": ", ".join(unknown), "allowed": ", ".join(sorted(allowed))},
                code="invalid_choice",
            )
        return kinds

    def validate_program(self, value: int) -> Program:
        found = Program.objects.for_agency(self.context["agency"]).filter(pk=value).first()
        if found is None:
            raise serializers.ValidationError(_("No program of your agency has this id."), code="does_not_exist")
        return found

    def validate_staff(self, value: int) -> Membership:
        found = Membership.objects.for_agency(self.context["agency"]).filter(pk=value).first()
        if found is None:
            raise serializers.ValidationError(_("No staff member of your agency has this id."), code="does_not_exist")
        return found

    def validate_cursor(self, value: str) -> history.Cursor:
        try:
            return history.Cursor.parse(value)
        except ValueError:
            raise serializers.ValidationError(_("Not a cursor this endpoint gave; start again without it."), code="invalid")


class BadgeSerializer(serializers.Serializer):
    label = serializers.CharField()
    tone = serializers.CharField(help_text="success, warning, danger, info, accent, neutral or outline.")


class HistoryEntrySerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text="The filter group: notes, communications, tasks, referrals, services, programs, staff, safety, ..."
    )
    source = serializers.CharField(
        help_text="What the entry is: note, communication, task, task_done, service_referral, agency_referral, ..."
    )
    id = serializers.IntegerField(help_text="The id of the record (of the source's kind).")
    date = serializers.DateField(help_text="The day it happened, in the agency's time zone.")
    at = serializers.DateTimeField(allow_null=True, help_text="When it happened, for the records that hold a time.")
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    staff = serializers.CharField(allow_blank=True, help_text="Who did it (empty for the system).")
    program = serializers.CharField(allow_blank=True)
    badges = BadgeSerializer(many=True)
    url = serializers.CharField(allow_blank=True, help_text="The page showing it.")


class HistoryPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null at the end.")
    next_cursor = serializers.CharField(allow_null=True)
    results = HistoryEntrySerializer(many=True)


def entry_data(entry: history.Entry, request) -> dict:
    return {
        "kind": entry.source.kind,
        "source": entry.source.key,
        "id": entry.row.pk,
        "date": entry.day,
        "at": entry.at,
        "title": entry.shown.title,
        "summary": entry.shown.summary,
        "staff": entry.who,
        "program": entry.program,
        "badges": [{"label": str(label), "tone": tone} for label, tone in entry.shown.badges],
        "url": request.build_absolute_uri(entry.shown.url) if entry.shown.url else "",
    }


@extend_validation_errors(
    ["invalid_choice", "does_not_exist", "invalid", "max_value", "min_value", "max_length"], field_name="kind", methods=["get"]
)
class ClientHistoryView(APIView):
    """Everything done with one client, newest first: notes, communications, tasks, referrals,
    supportive services, programs, staff assignments and safety flags (never their reason)."""

    permission_classes = [HasAgencyPerm(view="casework.view")]

    @extend_schema(
        summary="A client's history",
        operation_id="clients_history",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The client's id."),
            OpenApiParameter(
                "kind", OpenApiTypes.STR, many=True, description="Only these kinds (repeat, or separate with commas)."
            ),
            OpenApiParameter("program", OpenApiTypes.INT, description="Only the entries of this program."),
            OpenApiParameter("staff", OpenApiTypes.INT, description="Only the entries by this staff member (membership id)."),
            OpenApiParameter(
                "cursor", OpenApiTypes.STR, description="Where the page starts: the `next_cursor` of the page before."
            ),
            OpenApiParameter("page_size", OpenApiTypes.INT, description=f"Entries per page (at most {history.MAX_PAGE_SIZE})."),
        ],
        responses={200: HistoryPageSerializer},
    )
    def get(self, request, pk: int):
        client = get_for_agency(request._request, Client, pk=pk)
        membership = request._request.membership
        kinds = history.kinds_for(membership.has_perm)
        data = {
            key: request.query_params.getlist(key) if key == "kind" else request.query_params.get(key)
            for key in HistoryQuerySerializer().fields
        }
        data = {key: value for key, value in data.items() if value not in (None, [], "")}
        query = HistoryQuerySerializer(data=data, context={"agency": request.agency, "kinds": kinds})
        query.is_valid(raise_exception=True)
        options = query.validated_data
        cursor = options.get("cursor")
        page = history.client_history(
            client,
            membership,
            agency=request.agency,
            can=membership.has_perm,
            kinds=options.get("kind"),
            program=options.get("program"),
            staff=options.get("staff"),
            cursor=cursor,
            page_size=options["page_size"],
        )
        if cursor is None:
            record(
                agency=request.agency,
                actor=request.user,
                action=Action.VIEW,
                obj=client,
                client_id=client.pk,
                object_repr=f"{client} (history)",
            )
        next_url = None
        if page.next_cursor is not None:
            params = request.query_params.copy()
            params["cursor"] = str(page.next_cursor)
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response(
            {
                "next": next_url,
                "next_cursor": str(page.next_cursor) if page.next_cursor else None,
                "results": HistoryEntrySerializer([entry_data(entry, request) for entry in page.entries], many=True).data,
            }
        )
