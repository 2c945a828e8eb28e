"""API for settlement plans: /api/v1/settlement-plans/ (list, create, read, change, delete), its
close and reopen actions, its goals (/goals/, /goals/<goal id>/) and its follow-ups (/follow-ups/).

Reading needs ``delivery.view``, writing ``delivery.change``. Plans are the request's agency's only
(404 outside it) and those ``plans.plans_for`` lets the member see (a plan of another program is
a 404 too). Writes call the actions of ``caseload.delivery.plans`` (audited); their validation
errors answer 400 naming the field. Delete is a soft delete.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from drf_standardized_errors.openapi_validation_errors import extend_validation_errors
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyModelViewSet, run_action
from caseload.casework.api_common import ID_FILTER_ERRORS, MAX_ID, declare_errors
from caseload.clients.models import Client
from caseload.delivery import plans
from caseload.delivery.models import PlanFollowUp, PlanGoal, SettlementPlan
from caseload.tenancy.models import Program


class PlanGoalSerializer(serializers.ModelSerializer):
    achieved_on = serializers.DateField(
        required=False, allow_null=True, help_text="Set when the status becomes achieved (default: today); cleared otherwise."
    )

    class Meta:
        model = PlanGoal
        fields = ["id", "area", "description", "target_date", "status", "achieved_on", "position"]
        read_only_fields = ["position"]
        extra_kwargs = {"description": {"max_length": 300}}


class PlanFollowUpSerializer(serializers.ModelSerializer):
    goal = AgencyRelatedField(
        PlanGoal, required=False, allow_null=True, help_text="A goal of this plan (id); null: the plan as a whole."
    )
    goal_status = serializers.ChoiceField(
        choices=PlanGoal.Status.choices,
        required=False,
        allow_blank=True,
        help_text="Where the goal stands now: it becomes the goal's status (achieved sets its achieved_on).",
    )

    class Meta:
        model = PlanFollowUp
        fields = ["id", "date", "goal", "note", "goal_status", "next_step", "next_date", "author", "created_at"]
        read_only_fields = ["author", "created_at"]
        extra_kwargs = {"note": {"max_length": 5000}, "next_step": {"max_length": 300}}


class ProgressSerializer(serializers.Serializer):
    not_started = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    achieved = serializers.IntegerField()
    discontinued = serializers.IntegerField()
    total = serializers.IntegerField(help_text="Goals that count: discontinued ones aside.")
    percent = serializers.IntegerField(help_text="Achieved goals, in percent of total.")


class SettlementPlanSerializer(serializers.ModelSerializer):
    client = AgencyRelatedField(Client, help_text="The client (id); set on creation only.")
    program = AgencyRelatedField(
        Program,
        required=False,
        allow_null=True,
        help_text="A program of your agency (id); null: seen by everyone with delivery.view.",
    )
    goals = PlanGoalSerializer(
        many=True, required=False, help_text="On creation: the plan's first goals. Change them through /goals/."
    )
    progress = serializers.SerializerMethodField()

    class Meta:
        model = SettlementPlan
        fields = [
            "id",
            "client",
            "program",
            "title",
            "summary",
            "status",
            "started_on",
            "closed_on",
            "shared_with_client",
            "author",
            "goals",
            "progress",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "closed_on", "author", "created_at", "updated_at"]
        extra_kwargs = {"title": {"max_length": 200}, "summary": {"max_length": 5000}}

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, plan: SettlementPlan) -> dict:
        progress = plans.progress_of(list(plan.goals.all()))
        return {**progress.__dict__, "total": progress.total, "percent": progress.percent}

    def create(self, validated_data):
        request = self.context["request"]
        client = validated_data.pop("client")
        goals = validated_data.pop("goals", [])
        return run_action(plans.create_plan, client, request.user, validated_data, goals=goals)

    def update(self, instance, validated_data):
        if validated_data.pop("client", instance.client) != instance.client:
            raise serializers.ValidationError({"client": [_("A plan's client cannot be changed: create a new plan.")]})
        if "goals" in validated_data:
            raise serializers.ValidationError({"goals": [_("Change a plan's goals through its goals endpoint.")]})
        return run_action(plans.update_plan, instance, self.context["request"].user, validated_data)


CLOSING_CHOICES = [(value, label) for value, label in SettlementPlan.Status.choices if value in plans.CLOSING_STATUSES]


class ClosePlanSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CLOSING_CHOICES)
    closed_on = serializers.DateField(required=False, allow_null=True, help_text="Default: today.")


class PlanFilterSerializer(serializers.Serializer):
    client = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID, help_text="Only this client's plans (id).")
    status = serializers.ChoiceField(choices=SettlementPlan.Status.choices, required=False)


PLAN_FIELDS = ("client", "program", "title", "summary", "started_on", "shared_with_client", "goals", "status")


def plan_errors(viewset):
    viewset = declare_errors(viewset, PLAN_FIELDS)
    viewset = declare_errors(viewset, ("status", "closed_on"), actions=["close", "reopen"])
    viewset = declare_errors(viewset, ("area", "description", "target_date", "status", "achieved_on"), actions=["goals", "goal"])
    return declare_errors(
        viewset, ("date", "goal", "note", "goal_status", "next_step", "next_date", "status"), actions=["follow_ups"]
    )


@extend_validation_errors(ID_FILTER_ERRORS, field_name="client", actions=["list"])
@extend_validation_errors(["invalid_choice"], field_name="status", actions=["list"])
@extend_schema_view(
    list=extend_schema(summary="List settlement plans (delivery.view)", parameters=[PlanFilterSerializer]),
    retrieve=extend_schema(summary="One settlement plan with its goals and progress (delivery.view)"),
    create=extend_schema(summary="Create a settlement plan, with its first goals (delivery.change)"),
    update=extend_schema(summary="Change a settlement plan (delivery.change; an active plan only)"),
    partial_update=extend_schema(summary="Change some of a settlement plan's fields (delivery.change; an active plan only)"),
    destroy=extend_schema(summary="Delete a settlement plan (delivery.change; kept for the audit trail)"),
)
@plan_errors
class SettlementPlanViewSet(AgencyModelViewSet):
    """Clients' settlement plans: goals, their status, and the follow-ups that track them."""

    model = SettlementPlan
    serializer_class = SettlementPlanSerializer
    permission_classes = [HasAgencyPerm(view=plans.VIEW, manage=plans.CHANGE)]
    delete_action = staticmethod(plans.delete_plan)

    def get_queryset(self) -> QuerySet[SettlementPlan]:
        return (
            plans.plans_for(self.request.agency, self.request.membership)
            .select_related("agency", "client", "program")
            .prefetch_related("goals")
            .order_by("-started_on", "-pk")
        )

    def list(self, request, *args, **kwargs):
        filters = PlanFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        rows = self.get_queryset()
        if "client" in filters.validated_data:
            rows = rows.filter(client_id=filters.validated_data["client"])
        if "status" in filters.validated_data:
            rows = rows.filter(status=filters.validated_data["status"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _plan(self) -> SettlementPlan:
        plan = self.get_object()
        plan.client.agency = self.request.agency
        return plan

    def _fresh(self, plan: SettlementPlan) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=plan.pk)).data)

    @extend_schema(
        summary="Close a plan as completed or closed (delivery.change)",
        request=ClosePlanSerializer,
        responses={200: SettlementPlanSerializer},
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        plan = self._plan()
        body = ClosePlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run_action(plans.close_plan, plan, request.user, body.validated_data["status"], body.validated_data.get("closed_on"))
        return self._fresh(plan)

    @extend_schema(
        summary="Reopen a completed or closed plan (delivery.change)", request=None, responses={200: SettlementPlanSerializer}
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        plan = self._plan()
        run_action(plans.reopen_plan, plan, request.user)
        return self._fresh(plan)

    @extend_schema(
        methods=["GET"], summary="A plan's goals (delivery.view)", request=None, responses={200: PlanGoalSerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a goal to an active plan (delivery.change)",
        request=PlanGoalSerializer,
        responses={201: PlanGoalSerializer},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=PlanGoalSerializer, pagination_class=None)
    def goals(self, request, pk=None):
        plan = self._plan()
        if request.method == "GET":
            rows = PlanGoal.objects.for_agency(request.agency).filter(plan=plan).order_by("position", "pk")
            return Response(PlanGoalSerializer(rows, many=True).data)
        body = PlanGoalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        goal = run_action(plans.add_goal, plan, request.user, body.validated_data)
        return Response(PlanGoalSerializer(goal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"], summary="One goal of a plan (delivery.view)", request=None, responses={200: PlanGoalSerializer}
    )
    @extend_schema(
        methods=["PUT", "PATCH"],
        summary="Change a goal of an active plan (delivery.change)",
        request=PlanGoalSerializer,
        responses={200: PlanGoalSerializer},
    )
    @extend_schema(
        methods=["DELETE"], summary="Remove a goal from an active plan (delivery.change)", request=None, responses={204: None}
    )
    @action(
        detail=True,
        methods=["get", "put", "patch", "delete"],
        url_path="goals/<int:goal_pk>",
        url_name="goal",
        serializer_class=PlanGoalSerializer,
    )
    def goal(self, request, pk=None, goal_pk=None):
        plan = self._plan()
        goal = PlanGoal.objects.for_agency(request.agency).filter(plan=plan, pk=goal_pk).first()
        if goal is None:
            raise Http404
        goal.plan = plan
        if request.method == "GET":
            return Response(PlanGoalSerializer(goal).data)
        if request.method == "DELETE":
            run_action(plans.remove_goal, goal, request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = PlanGoalSerializer(goal, data=request.data, partial=request.method == "PATCH")
        body.is_valid(raise_exception=True)
        run_action(plans.update_goal, goal, request.user, body.validated_data)
        return Response(PlanGoalSerializer(goal).data)

    @extend_schema(
        methods=["GET"],
        summary="A plan's follow-ups, newest first (delivery.view)",
        request=None,
        responses={200: PlanFollowUpSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record a follow-up on an active plan (delivery.change)",
        request=PlanFollowUpSerializer,
        responses={201: PlanFollowUpSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="follow-ups",
        url_name="follow-ups",
        serializer_class=PlanFollowUpSerializer,
    )
    def follow_ups(self, request, pk=None):
        plan = self._plan()
        if request.method == "GET":
            rows = PlanFollowUp.objects.for_agency(request.agency).filter(plan=plan).order_by("-date", "-created_at", "-pk")
            page = self.paginate_queryset(rows)
            return self.get_paginated_response(PlanFollowUpSerializer(page, many=True).data)
        body = PlanFollowUpSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        follow_up = run_action(plans.add_follow_up, plan, request.user, body.validated_data)
        return Response(
            PlanFollowUpSerializer(follow_up, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )
