"""API of Outcomes.

/api/v1/outcome-placements/: place a client into Outcomes (POST), list and read placements, and
``POST {id}/cancel/`` (read ``outcomes.view``, write ``outcomes.change``).
/api/v1/checkpoints/: list (filters ``client``, ``status``, ``due_from``, ``due_to``) and read
checkpoints; ``POST {id}/answers/`` (the answers, validated by the form engine; a refused answer is
a 400 whose ``attr`` is ``answers.<field>``), ``POST {id}/milestone/``, ``POST {id}/correct/``
(``outcomes.change``) and ``POST {id}/submit/`` (``outcomes.submit``).

A submitted checkpoint refuses every write with a 409 (the codebase's answer for an action that
does not apply to the object as it is now); ``correct`` makes the version to change.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from caseload.api.fields import AgencyRelatedField
from caseload.api.permissions import HasAgencyPerm
from caseload.api.viewsets import AgencyScopedMixin, run_action
from caseload.casework.api_common import declare_errors
from caseload.clients.models import Client
from caseload.formbuilder import engine
from caseload.outcomes import actions
from caseload.outcomes.models import Checkpoint, EmploymentStatus, Placement, Submission
from caseload.tenancy.models import Program

VIEW, CHANGE, SUBMIT = "outcomes.view", "outcomes.change", "outcomes.submit"


class Locked(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = actions.LOCKED
    default_code = "submitted"


def perform(function, *args, **kwargs):
    """Run an action: a write on a submitted checkpoint is a 409, other refusals a 400 naming the field."""
    try:
        return run_action(function, *args, **kwargs)
    except serializers.ValidationError as error:
        codes = error.get_codes()
        flat = (
            codes
            if isinstance(codes, list)
            else [c for value in codes.values() for c in (value if isinstance(value, list) else [value])]
        )
        if "submitted" in flat:
            raise Locked from None
        raise
    except engine.AnswerErrors as refused:
        raise serializers.ValidationError({f"answers.{path}": [message] for path, message in refused.errors.items()}) from None


# --- Serializers ---------------------------------------------------------------------------------


class SubmissionSerializer(serializers.ModelSerializer):
    submitted_by = serializers.EmailField(source="submitted_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Submission
        fields = ["id", "adapter", "format_version", "payload", "submitted_by", "submitted_at", "reference"]
        read_only_fields = fields


class CheckpointSerializer(serializers.ModelSerializer):
    survey = serializers.CharField(source="survey.key", read_only=True, help_text="The key of the survey form.")
    survey_version = serializers.IntegerField(source="survey.version", read_only=True)
    submission = serializers.SerializerMethodField()

    class Meta:
        model = Checkpoint
        fields = [
            "id",
            "placement",
            "client",
            "program",
            "months",
            "due_on",
            "status",
            "survey",
            "survey_version",
            "answers",
            "answered_at",
            "answered_by_client",
            "milestone_achieved",
            "reviewed_at",
            "version",
            "supersedes",
            "submission",
        ]
        read_only_fields = fields

    def get_submission(self, checkpoint: Checkpoint) -> dict | None:
        if checkpoint.status != Checkpoint.Status.SUBMITTED:
            return None
        found = (
            Submission.objects.for_agency(checkpoint.agency).filter(checkpoint=checkpoint).select_related("submitted_by").first()
        )
        return SubmissionSerializer(found).data if found else None


class PlacementSerializer(serializers.ModelSerializer):
    client = AgencyRelatedField(Client, help_text="The client (id, of your agency).")
    program = AgencyRelatedField(Program, help_text="The program the client leaves (id, of your agency).")
    exit_reason = serializers.ChoiceField(choices=Placement.ExitReason.choices)
    employment_status = serializers.ChoiceField(choices=EmploymentStatus.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    checkpoints = serializers.SerializerMethodField()

    class Meta:
        model = Placement
        fields = [
            "id",
            "client",
            "program",
            "exit_date",
            "exit_reason",
            "employment_status",
            "notes",
            "placed_at",
            "cancelled_at",
            "checkpoints",
        ]
        read_only_fields = ["id", "placed_at", "cancelled_at", "checkpoints"]

    def get_checkpoints(self, placement: Placement) -> list[int]:
        return [row.pk for row in placement.checkpoints.all()]

    def create(self, validated_data):
        client = validated_data.pop("client")
        return perform(actions.place_into_outcomes, client, self.context["request"].user, validated_data)


class AnswersSerializer(serializers.Serializer):
    answers = serializers.DictField(help_text="The whole response: field key → answer (see the survey's form definition).")
    on_behalf = serializers.BooleanField(default=False, help_text="Entered on the client's behalf (a phone follow-up).")


class MilestoneSerializer(serializers.Serializer):
    achieved = serializers.BooleanField()


# --- Viewsets ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List outcome placements (outcomes.view)", parameters=[OpenApiParameter("client", int)]),
    retrieve=extend_schema(summary="Read an outcome placement (outcomes.view)"),
    create=extend_schema(summary="Place a client into Outcomes: the program's checkpoints are created (outcomes.change)"),
)
class PlacementViewSet(
    AgencyScopedMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    model = Placement
    serializer_class = PlacementSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    prefetch_related = ("checkpoints",)

    def get_queryset(self):
        rows = super().get_queryset().order_by("-placed_at", "-pk")
        client = self.request.query_params.get("client")
        if client:
            if not client.isdigit():
                raise serializers.ValidationError({"client": ["Enter a client id."]})
            rows = rows.filter(client_id=int(client))
        return rows

    @extend_schema(
        summary="Cancel a placement made in error (outcomes.change)", request=None, responses={200: PlacementSerializer}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        placement = perform(actions.cancel_placement, self.get_object(), request.user)
        return Response(self.get_serializer(placement).data)


@extend_schema_view(
    list=extend_schema(
        summary="List checkpoints (outcomes.view)",
        parameters=[
            OpenApiParameter("client", int),
            OpenApiParameter("status", str, enum=Checkpoint.Status.values),
            OpenApiParameter("due_from", str, description="YYYY-MM-DD"),
            OpenApiParameter("due_to", str, description="YYYY-MM-DD"),
        ],
    ),
    retrieve=extend_schema(summary="Read a checkpoint, with its submission when submitted (outcomes.view)"),
)
class CheckpointViewSet(AgencyScopedMixin, viewsets.ReadOnlyModelViewSet):
    model = Checkpoint
    serializer_class = CheckpointSerializer
    permission_classes = [HasAgencyPerm(view=VIEW, manage=CHANGE)]
    select_related = ("survey", "agency")

    def get_queryset(self):
        import datetime

        rows = super().get_queryset().order_by("due_on", "months", "version", "pk")
        if self.action != "list":
            return rows
        params = self.request.query_params
        errors = {}
        if client := params.get("client"):
            if client.isdigit():
                rows = rows.filter(client_id=int(client))
            else:
                errors["client"] = ["Enter a client id."]
        if wanted := params.get("status"):
            if wanted in Checkpoint.Status.values:
                rows = rows.filter(status=wanted)
            else:
                errors["status"] = ["Choose one of: " + ", ".join(Checkpoint.Status.values)]
        for name, lookup in (("due_from", "due_on__gte"), ("due_to", "due_on__lte")):
            if value := params.get(name):
                try:
                    rows = rows.filter(**{lookup: datetime.date.fromisoformat(value)})
                except ValueError:
                    errors[name] = ["Enter a date as YYYY-MM-DD."]
        if errors:
            raise serializers.ValidationError(errors)
        return rows

    def _done(self, checkpoint: Checkpoint) -> Response:
        checkpoint.refresh_from_db()
        return Response(CheckpointSerializer(checkpoint, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Save the answers: correct, complete or enter them on the client's behalf (outcomes.change)",
        request=AnswersSerializer,
        responses={200: CheckpointSerializer},
    )
    @action(detail=True, methods=["post"])
    def answers(self, request, pk=None):
        checkpoint = self.get_object()
        data = AnswersSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        perform(
            actions.save_answers,
            checkpoint,
            request.user,
            data.validated_data["answers"],
            on_behalf=data.validated_data["on_behalf"],
        )
        return self._done(checkpoint)

    @extend_schema(
        summary="Tick or untick Milestone achieved (outcomes.change)",
        request=MilestoneSerializer,
        responses={200: CheckpointSerializer},
    )
    @action(detail=True, methods=["post"])
    def milestone(self, request, pk=None):
        checkpoint = self.get_object()
        data = MilestoneSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        perform(actions.set_milestone, checkpoint, request.user, data.validated_data["achieved"])
        return self._done(checkpoint)

    @extend_schema(
        summary="Submit to government (CaMS): locks the checkpoint (outcomes.submit)",
        request=None,
        responses={200: CheckpointSerializer},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        if not request._request.membership.has_perm(SUBMIT):
            raise exceptions.PermissionDenied
        checkpoint = self.get_object()
        perform(actions.submit, checkpoint, request.user)
        return self._done(checkpoint)

    @extend_schema(
        summary="Correct a submitted checkpoint: a new version (outcomes.change)",
        request=None,
        responses={201: CheckpointSerializer},
    )
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        new = perform(actions.correct, self.get_object(), request.user)
        return Response(CheckpointSerializer(new, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)


# The errors each filter and each written field may name, for the OpenAPI schema.
SURVEY_KEYS = [
    "employment_status",
    "employer",
    "job_title",
    "noc",
    "start_date",
    "hours_per_week",
    "hourly_wage",
    "related_to_training",
    "training_program",
    "institution",
    "barriers",
    "would_like_help",
    "satisfaction",
    "comments",
]
ANSWER_CODES = ["invalid", "required", "null", "not_a_dict", "empty", "incorrect_type", "max_length", "min_value", "max_value"]
CheckpointViewSet = declare_errors(CheckpointViewSet, ["client", "status", "due_from", "due_to"], actions=["list"])
CheckpointViewSet = declare_errors(
    CheckpointViewSet,
    ["answers", "on_behalf", "non_field_errors", *(f"answers.{key}" for key in SURVEY_KEYS)],
    ANSWER_CODES,
    actions=["answers"],
)
CheckpointViewSet = declare_errors(CheckpointViewSet, ["achieved"], ["invalid", "required", "null"], actions=["milestone"])
CheckpointViewSet = declare_errors(
    CheckpointViewSet, ["non_field_errors"], ["invalid", "not_ready"], actions=["submit", "correct"]
)
PlacementViewSet = declare_errors(PlacementViewSet, ["client"], actions=["list"])
PlacementViewSet = declare_errors(
    PlacementViewSet,
    ["client", "program", "exit_date", "exit_reason", "employment_status", "notes", "non_field_errors"],
    [
        "invalid",
        "required",
        "null",
        "does_not_exist",
        "incorrect_type",
        "invalid_choice",
        "blank",
        "max_length",
        "null_characters_not_allowed",
        "surrogate_characters_not_allowed",
        "future",
        "placed",
        "merged",
        "datetime",
    ],
    actions=["create"],
)
PlacementViewSet = declare_errors(PlacementViewSet, ["non_field_errors"], ["invalid", "cancelled"], actions=["cancel"])
