"""API for tasks: /api/v1/tasks/ (list, create, read, change, delete) and its complete, reopen
and cancel actions.

Reading needs ``casework.view``, writing ``casework.change``. Tasks are the request's agency's
only (404 outside it); a task about no client is seen only by the people it concerns (see
``tasks.visible_tasks_q``). Writes call the actions of ``caseload.casework.tasks`` (audited);
their validation errors answer 400 naming the field. Delete is a soft delete.
"""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyModelViewSet, run_action
from caseload.casework import tasks as actions
from caseload.casework.api_common import ID_FILTER_ERRORS, declare_errors
from caseload.casework.models import Task
from caseload.clients.models import Client
from caseload.tenancy.models import Membership, Program

TEXT_CODES = ("null_characters_not_allowed", "surrogate_characters_not_allowed")
STATUS_FILTERS = [("active", "To do or in progress"), *Task.Status.choices]


class TaskSerializer(serializers.ModelSerializer):
    client = AgencyRelatedField(
        Client,
        required=False,
        allow_null=True,
        help_text="The client the task is about (id); set on creation only. Null: about no client.",
    )
    assigned_to = AgencyRelatedField(
        Membership,
        required=False,
        allow_null=True,
        help_text="The staff member who does it (membership id, active). Omitted or null on creation: you; null with for_client: the client.",
    )
    program = AgencyRelatedField(Program, required=False, allow_null=True, help_text="A program of your agency (id).")
    remind_days_before = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=actions.MAX_REMIND_DAYS,
        help_text="Email the assignee this many days before the due date (null: no reminder). Default 1.",
    )
    is_overdue = serializers.SerializerMethodField(help_text="Open, and its due date has passed (in the agency's time zone).")

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "client",
            "program",
            "due_on",
            "priority",
            "status",
            "assigned_to",
            "for_client",
            "remind_days_before",
            "reminder_sent_at",
            "is_overdue",
            "completed_at",
            "completed_by",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "reminder_sent_at",
            "completed_at",
            "completed_by",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"title": {"max_length": 200}, "description": {"max_length": 5000}}

    def get_is_overdue(self, task: Task) -> bool:
        today = self.context.get("today") or actions.agency_today(task.agency)
        return task.is_open and task.due_on is not None and task.due_on < today

    def create(self, validated_data):
        request = self.context["request"]
        client = validated_data.pop("client", None)
        return run_action(actions.create_task, request.agency, request.user, validated_data, client=client)

    def update(self, instance, validated_data):
        client = validated_data.pop("client", instance.client)
        if client != instance.client:
            raise serializers.ValidationError(
                {"client": [_("A task's client cannot be changed: create a new task.")]}, code="invalid"
            )
        return run_action(actions.update_task, instance, self.context["request"].user, validated_data)


class TaskFilterSerializer(serializers.Serializer):
    assigned_to = serializers.CharField(
        required=False, max_length=20, help_text='Only tasks assigned to this staff member (membership id), or "me".'
    )
    client = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Only tasks about this client (id)."
    )
    status = serializers.ChoiceField(choices=STATUS_FILTERS, required=False, help_text="active: to do or in progress.")
    due_after = serializers.DateField(required=False, help_text="Due on or after this date.")
    due_before = serializers.DateField(required=False, help_text="Due on or before this date.")
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only open tasks past their due date."
    )

    def validate_assigned_to(self, value: str) -> Membership:
        request = self.context["request"]
        if value == "me":
            return request.membership
        found = None
        if value.isdigit():
            found = Membership.objects.for_agency(request.agency).filter(pk=int(value)).first()
        if found is None:
            raise serializers.ValidationError(
                _('No staff member of your agency has this id (or use "me").'), code="does_not_exist"
            )
        return found

    def validate(self, attrs):
        low, high = attrs.get("due_after"), attrs.get("due_before")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"due_before": [_("This date is before due_after.")]}, code="invalid")
        return attrs

    def apply(self, tasks: QuerySet[Task], today: date) -> QuerySet[Task]:
        data = self.validated_data
        if "assigned_to" in data:
            tasks = tasks.filter(assigned_to=data["assigned_to"])
        if "client" in data:
            tasks = tasks.filter(client_id=data["client"])
        status = data.get("status")
        if status == "active":
            tasks = tasks.filter(status__in=actions.OPEN_STATUSES)
        elif status:
            tasks = tasks.filter(status=status)
        if "due_after" in data:
            tasks = tasks.filter(due_on__gte=data["due_after"])
        if "due_before" in data:
            tasks = tasks.filter(due_on__lte=data["due_before"])
        if data.get("overdue") is True:
            tasks = tasks.filter(status__in=actions.OPEN_STATUSES, due_on__lt=today)
        elif data.get("overdue") is False:
            tasks = tasks.exclude(status__in=actions.OPEN_STATUSES, due_on__lt=today)
        return tasks


def task_errors(viewset):
    """Declare in the schema the errors the task actions name (drf-standardized-errors)."""
    fields = ("title", "description", "due_on", "priority", "assigned_to", "for_client", "remind_days_before", "program")
    viewset = declare_errors(viewset, (*fields, "client", "task"))
    return declare_errors(viewset, ("status", "task"), actions=["complete", "reopen", "cancel", "destroy"])


@extend_validation_errors(["invalid", "max_length", "does_not_exist", *TEXT_CODES], field_name="assigned_to", actions=["list"])
@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="due_after", actions=["list"])
@extend_validation_errors(["invalid", "datetime"], field_name="due_before", actions=["list"])
@extend_validation_errors(["invalid"], field_name="overdue", actions=["list"])
@extend_schema_view(
    list=extend_schema(
        summary="List tasks (casework.view)",
        description="Overdue first (oldest first), then due today, upcoming, and undated last. "
        "`assigned_to=me` gives your own; `overdue=true` the open ones past their due date.",
        parameters=[TaskFilterSerializer],
    ),
    retrieve=extend_schema(summary="One task (casework.view)"),
    create=extend_schema(
        summary="Create a task (casework.change)",
        description="For yourself (no `assigned_to`), another active staff member, or the client (`for_client: true`, "
        "the client needs a portal account, where they see it).",
    ),
    update=extend_schema(summary="Change a task (casework.change)"),
    partial_update=extend_schema(summary="Change some of a task's fields (casework.change)"),
    destroy=extend_schema(summary="Delete a task (casework.change; kept for the audit trail)"),
)
@task_errors
class TaskViewSet(AgencyModelViewSet):
    """The agency's tasks: for staff members or for clients, with due dates and email reminders."""

    model = Task
    serializer_class = TaskSerializer
    permission_classes = [HasAgencyPerm(view="casework.view", manage="casework.change")]
    delete_action = staticmethod(actions.delete_task)

    def get_queryset(self) -> QuerySet[Task]:
        return (
            super()
            .get_queryset()
            .filter(deleted_at__isnull=True)
            .filter(actions.visible_tasks_q(self.request.membership))
            .select_related("agency", *actions.RELATED)
        )

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self.request, "agency", None) is not None:
            context["today"] = actions.agency_today(self.request.agency)
        return context

    def list(self, request, *args, **kwargs):
        filters = TaskFilterSerializer(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        today = actions.agency_today(request.agency)
        tasks = filters.apply(self.get_queryset(), today).order_by(*actions.due_order(today))
        page = self.paginate_queryset(tasks)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _run(self, function) -> Response:
        task = run_action(function, self.get_object(), self.request.user)
        task = self.get_queryset().get(pk=task.pk)
        return Response(self.get_serializer(task).data)

    @extend_schema(
        summary="Mark a task done (casework.change)",
        description="Done twice is done once; a cancelled task is a 400.",
        request=None,
        responses={200: TaskSerializer},
    )
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._run(actions.complete_task)

    @extend_schema(summary="Reopen a done or cancelled task (casework.change)", request=None, responses={200: TaskSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._run(actions.reopen_task)

    @extend_schema(
        summary="Cancel a task (casework.change)",
        description="A done task is a 400 (reopen it first).",
        request=None,
        responses={200: TaskSerializer},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._run(actions.cancel_task)
