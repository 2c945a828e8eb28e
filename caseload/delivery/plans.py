"""Settlement plans: a client's goals, and the follow-ups that track them over time.

Every change goes through these actions: one transaction each, audited with the client's id.
The plan's title and summary, a goal's description and a follow-up's note and next step are
free text: they never enter the audit log (that they changed does). A completed or closed plan
is read-only until it is reopened; a merged client's plans are read-only for good.

Who sees a plan (``plans_for``): a plan with a program follows the programs rule of
``visibility.py`` (members of the program, those holding ``delivery.all_programs``, its author and
the author's manager); a plan without a program is seen by every member holding ``delivery.view``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import REDACTED, Action, diff, record, snapshot
from caseload.casework.records import agency_today, membership_of
from caseload.clients.models import Client
from caseload.delivery.models import PlanFollowUp, PlanGoal, SettlementPlan
from caseload.delivery.visibility import program_ids, programs_of, sees_all_programs
from caseload.tenancy.models import Agency, Membership, Program

VIEW = "delivery.view"
CHANGE = "delivery.change"

PLAN_FIELDS = ("title", "program", "summary", "started_on", "shared_with_client")
GOAL_FIELDS = ("area", "description", "target_date", "status")
FOLLOW_UP_FIELDS = ("date", "goal", "note", "goal_status", "next_step", "next_date")
# Free text: kept out of the audit log (its change is recorded, not its words).
FREE_TEXT = frozenset({"title", "summary", "description", "note", "next_step"})
OPEN_GOAL_STATUSES = (PlanGoal.Status.NOT_STARTED, PlanGoal.Status.IN_PROGRESS)
CLOSING_STATUSES = (SettlementPlan.Status.COMPLETED, SettlementPlan.Status.CLOSED)
MAX_GOALS = 20


# --- Who sees which plan -------------------------------------------------------------------------


def _may_view(membership: Membership | None) -> bool:
    return membership is not None and membership.has_perm(VIEW)


def plans_for(agency: Agency, membership: Membership | None) -> QuerySet[SettlementPlan]:
    """The agency's settlement plans ``membership`` may see (never deleted ones)."""
    rows = SettlementPlan.objects.for_agency(agency).filter(deleted_at__isnull=True)
    if not _may_view(membership):
        return rows.none()
    if sees_all_programs(membership):
        return rows
    return rows.filter(
        Q(program__isnull=True) | Q(program__in=programs_of(membership)) | Q(author=membership) | Q(author__manager=membership)
    )


def may_see_plan(plan: SettlementPlan, membership: Membership | None) -> bool:
    """``plans_for``'s rule for one plan already loaded."""
    if plan.deleted_at is not None or not _may_view(membership):
        return False
    if plan.program_id is None or sees_all_programs(membership) or plan.program_id in program_ids(membership):
        return True
    author = plan.author
    return author is not None and (author.pk == membership.pk or author.manager_id == membership.pk)


# --- Reading a plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a plan's goals stand. Discontinued goals do not count towards ``total``."""

    not_started: int
    in_progress: int
    achieved: int
    discontinued: int

    @property
    def total(self) -> int:
        return self.not_started + self.in_progress + self.achieved

    @property
    def percent(self) -> int:
        return round(self.achieved * 100 / self.total) if self.total else 0


def progress_of(goals: list[PlanGoal]) -> Progress:
    counts = dict.fromkeys(PlanGoal.Status.values, 0)
    for goal in goals:
        counts[goal.status] = counts.get(goal.status, 0) + 1
    return Progress(
        not_started=counts[PlanGoal.Status.NOT_STARTED],
        in_progress=counts[PlanGoal.Status.IN_PROGRESS],
        achieved=counts[PlanGoal.Status.ACHIEVED],
        discontinued=counts[PlanGoal.Status.DISCONTINUED],
    )


def with_summary(plans: QuerySet[SettlementPlan]) -> QuerySet[SettlementPlan]:
    """Annotate each plan with ``goals_total`` (discontinued aside), ``goals_achieved``,
    ``last_follow_up`` (date) and ``next_follow_up`` (the next date the latest follow-up set)."""
    latest_next = (
        PlanFollowUp.objects.filter(plan=OuterRef("pk"), next_date__isnull=False)
        .order_by("-date", "-created_at", "-pk")
        .values("next_date")[:1]
    )
    return plans.annotate(
        goals_total=Count("goals", filter=~Q(goals__status=PlanGoal.Status.DISCONTINUED), distinct=True),
        goals_achieved=Count("goals", filter=Q(goals__status=PlanGoal.Status.ACHIEVED), distinct=True),
        last_follow_up=Max("follow_ups__date"),
        next_follow_up=Subquery(latest_next, output_field=models.DateField()),
    )


def is_overdue(goal: PlanGoal, today: datetime.date) -> bool:
    """An open goal whose target date has passed."""
    return goal.status in OPEN_GOAL_STATUSES and goal.target_date is not None and goal.target_date < today


# --- Auditing without free text ------------------------------------------------------------------


def _label(obj: models.Model) -> str:
    return f"{obj._meta.verbose_name} #{obj.pk}"


def _redact(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: ([REDACTED, REDACTED] if name in FREE_TEXT else values) for name, values in changes.items()}


def _audit_create(obj: models.Model, actor, client_id: int) -> None:
    after = snapshot(obj)
    after.pop("agency", None)
    record(
        agency=obj.agency,
        actor=actor,
        action=Action.CREATE,
        obj=obj,
        changes=_redact(diff({}, after)),
        client_id=client_id,
        object_repr=_label(obj),
    )


def _audit_change(obj: models.Model, actor, before: dict[str, Any], client_id: int) -> None:
    changes = diff(before, snapshot(obj, before.keys()))
    if changes:
        record(
            agency=obj.agency,
            actor=actor,
            action=Action.CHANGE,
            obj=obj,
            changes=_redact(changes),
            client_id=client_id,
            object_repr=_label(obj),
        )


def _audit_delete(obj: models.Model, actor, client_id: int) -> None:
    before = snapshot(obj)
    before.pop("agency", None)
    record(
        agency=obj.agency,
        actor=actor,
        action=Action.DELETE,
        obj=obj,
        changes=_redact(diff(before, {})),
        client_id=client_id,
        object_repr=_label(obj),
    )


# --- Rules ---------------------------------------------------------------------------------------


def _check_client(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError(_("This profile was merged into another one: its records are read-only."), code="merged")


def _check_open(plan: SettlementPlan) -> None:
    if plan.status != SettlementPlan.Status.ACTIVE:
        raise ValidationError(
            {
                "status": ValidationError(
                    _("This plan is %(status)s: reopen it to change it.") % {"status": plan.get_status_display().lower()},
                    code="closed",
                )
            }
        )


def _apply(instance: models.Model, data: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            if value is None and name in {"summary", "next_step", "goal_status"}:
                value = ""
            setattr(instance, name, value)


def _check_program(agency: Agency, plan: SettlementPlan, previous: int | None) -> None:
    program: Program | None = plan.program
    if program is None:
        return
    if program.agency_id != agency.pk:
        raise ValidationError({"program": _("Choose one of your agency's programs.")})
    if not program.is_active and program.pk != previous:
        raise ValidationError({"program": _("This program is no longer active.")})


def _save_plan(plan: SettlementPlan, data: dict[str, Any], previous_program: int | None) -> None:
    agency = plan.agency
    _apply(plan, data, PLAN_FIELDS)
    plan.summary = plan.summary or ""
    if plan.started_on is None:
        plan.started_on = agency_today(agency)
    errors: dict[str, str] = {}
    if not (plan.title or "").strip():
        errors["title"] = _("Give the plan a title.")
    if plan.started_on > agency_today(agency):
        errors["started_on"] = _("A plan cannot start in the future.")
    if errors:
        raise ValidationError(errors)
    _check_program(agency, plan, previous_program)
    plan.full_clean(exclude=["client", "author", "updated_by", "deleted_by", "program"])


def _clean_goal(goal: PlanGoal, data: dict[str, Any], today: datetime.date) -> None:
    """Apply ``data`` to the goal; ``achieved`` sets ``achieved_on`` (given, or today), other statuses clear it."""
    _apply(goal, data, GOAL_FIELDS)
    if not (goal.description or "").strip():
        raise ValidationError({"description": _("Describe the goal.")})
    _set_status(goal, goal.status, data.get("achieved_on"), today)
    goal.full_clean(exclude=["plan"])


def _set_status(goal: PlanGoal, status: str, achieved_on: datetime.date | None, today: datetime.date) -> None:
    if status not in PlanGoal.Status.values:
        raise ValidationError({"status": _("Choose a status.")})
    goal.status = status
    if status == PlanGoal.Status.ACHIEVED:
        if achieved_on is not None and achieved_on > today:
            raise ValidationError({"achieved_on": _("A goal cannot be achieved in the future.")})
        goal.achieved_on = achieved_on or goal.achieved_on or today
    else:
        goal.achieved_on = None


def _touch(plan: SettlementPlan, actor) -> None:
    plan.updated_at = timezone.now()
    plan.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    plan.save(update_fields=["updated_at", "updated_by"])


def _locked(plan: SettlementPlan) -> SettlementPlan:
    """The plan as it is now, locked for the transaction (two writers wait for each other)."""
    agency = plan.agency
    fresh = SettlementPlan.objects.for_agency(agency).select_for_update().get(pk=plan.pk)
    fresh.agency = agency
    plan.status, plan.closed_on = fresh.status, fresh.closed_on
    return plan


# --- Plans ---------------------------------------------------------------------------------------


@transaction.atomic
def create_plan(client: Client, actor, data: dict[str, Any], goals: list[dict[str, Any]] | None = None) -> SettlementPlan:
    """A new active plan for the client. ``data``: title, program, summary, started_on,
    shared_with_client. ``goals``: dicts of area, description, target_date (status optional)."""
    _check_client(client)
    goals = list(goals or [])
    if len(goals) > MAX_GOALS:
        raise ValidationError({"goals": _("A plan holds at most %(max)s goals.") % {"max": MAX_GOALS}})
    agency = client.agency
    plan = SettlementPlan(agency=agency, client=client, author=membership_of(agency, actor))
    _save_plan(plan, data, previous_program=None)
    plan.save()
    _audit_create(plan, actor, client.pk)
    today = agency_today(agency)
    for position, goal_data in enumerate(goals, start=1):
        goal = PlanGoal(agency=agency, plan=plan, position=position)
        try:
            _clean_goal(goal, goal_data, today)
        except ValidationError as error:
            raise ValidationError({"goals": _goal_message(position, error)}) from error
        goal.save()
        _audit_create(goal, actor, client.pk)
    return plan


def _goal_message(position: int, error: ValidationError) -> str:
    messages = [
        str(message) for messages in getattr(error, "message_dict", {"": error.messages}).values() for message in messages
    ]
    return _("Goal %(number)s: %(problem)s") % {"number": position, "problem": " ".join(messages)}


@transaction.atomic
def update_plan(plan: SettlementPlan, actor, data: dict[str, Any]) -> SettlementPlan:
    """Change an active plan's title, program, summary, start date or shared flag."""
    _check_client(plan.client)
    _check_open(_locked(plan))
    before = snapshot(plan, PLAN_FIELDS)
    _save_plan(plan, data, previous_program=before["program"])
    plan.save()
    _touch(plan, actor)
    _audit_change(plan, actor, before, plan.client_id)
    return plan


@transaction.atomic
def close_plan(plan: SettlementPlan, actor, status: str, closed_on: datetime.date | None = None) -> SettlementPlan:
    """Mark an active plan completed or closed, on ``closed_on`` (default today)."""
    _check_client(plan.client)
    _check_open(_locked(plan))
    if status not in CLOSING_STATUSES:
        raise ValidationError({"status": _("Choose completed or closed.")})
    today = agency_today(plan.agency)
    closed_on = closed_on or today
    if closed_on > today:
        raise ValidationError({"closed_on": _("A plan cannot be closed in the future.")})
    if closed_on < plan.started_on:
        raise ValidationError({"closed_on": _("A plan cannot be closed before it started.")})
    before = snapshot(plan, ["status", "closed_on"])
    plan.status, plan.closed_on = status, closed_on
    plan.save(update_fields=["status", "closed_on"])
    _touch(plan, actor)
    _audit_change(plan, actor, before, plan.client_id)
    return plan


@transaction.atomic
def reopen_plan(plan: SettlementPlan, actor) -> SettlementPlan:
    """Make a completed or closed plan active again."""
    _check_client(plan.client)
    _locked(plan)
    if plan.status == SettlementPlan.Status.ACTIVE:
        raise ValidationError({"status": _("This plan is already active.")})
    before = snapshot(plan, ["status", "closed_on"])
    plan.status, plan.closed_on = SettlementPlan.Status.ACTIVE, None
    plan.save(update_fields=["status", "closed_on"])
    _touch(plan, actor)
    _audit_change(plan, actor, before, plan.client_id)
    return plan


@transaction.atomic
def delete_plan(plan: SettlementPlan, actor) -> None:
    """Soft-delete a plan (whatever its status): it leaves every list; the audit log keeps it."""
    _check_client(plan.client)
    plan.deleted_at = timezone.now()
    plan.deleted_by = actor if getattr(actor, "is_authenticated", False) else None
    plan.save(update_fields=["deleted_at", "deleted_by"])
    _audit_delete(plan, actor, plan.client_id)


# --- Goals ---------------------------------------------------------------------------------------


@transaction.atomic
def add_goal(plan: SettlementPlan, actor, data: dict[str, Any]) -> PlanGoal:
    """A new goal at the end of an active plan: area, description, target_date (status optional)."""
    _check_client(plan.client)
    _check_open(_locked(plan))
    agency = plan.agency
    goals = PlanGoal.objects.for_agency(agency).filter(plan=plan)
    if goals.count() >= MAX_GOALS:
        raise ValidationError({"description": _("A plan holds at most %(max)s goals.") % {"max": MAX_GOALS}})
    position = (goals.aggregate(last=Max("position"))["last"] or 0) + 1
    goal = PlanGoal(agency=agency, plan=plan, position=position)
    _clean_goal(goal, data, agency_today(agency))
    goal.save()
    _touch(plan, actor)
    _audit_create(goal, actor, plan.client_id)
    return goal


@transaction.atomic
def update_goal(goal: PlanGoal, actor, data: dict[str, Any]) -> PlanGoal:
    """Change a goal of an active plan. Status ``achieved`` sets ``achieved_on`` (given, or today);
    any other status clears it."""
    plan = goal.plan
    _check_client(plan.client)
    _check_open(_locked(plan))
    before = snapshot(goal, [*GOAL_FIELDS, "achieved_on"])
    _clean_goal(goal, data, agency_today(plan.agency))
    goal.save()
    _touch(plan, actor)
    _audit_change(goal, actor, before, plan.client_id)
    return goal


@transaction.atomic
def remove_goal(goal: PlanGoal, actor) -> None:
    """Remove a goal from an active plan (its follow-ups stay, about no goal)."""
    plan = goal.plan
    _check_client(plan.client)
    _check_open(_locked(plan))
    _audit_delete(goal, actor, plan.client_id)
    goal.delete()
    _touch(plan, actor)


# --- Follow-ups ----------------------------------------------------------------------------------


@transaction.atomic
def add_follow_up(plan: SettlementPlan, actor, data: dict[str, Any]) -> PlanFollowUp:
    """Record a follow-up on an active plan: date (default today), goal, note, goal_status (the
    goal's status now: it becomes the goal's status), next_step, next_date."""
    _check_client(plan.client)
    _check_open(_locked(plan))
    agency = plan.agency
    today = agency_today(agency)
    follow_up = PlanFollowUp(agency=agency, plan=plan, author=membership_of(agency, actor))
    _apply(follow_up, data, FOLLOW_UP_FIELDS)
    follow_up.date = follow_up.date or today
    follow_up.next_step = follow_up.next_step or ""
    follow_up.goal_status = follow_up.goal_status or ""
    errors: dict[str, str] = {}
    goal = follow_up.goal
    if goal is not None and (goal.plan_id != plan.pk or goal.agency_id != agency.pk):
        errors["goal"] = _("Choose one of this plan's goals.")
    if not (follow_up.note or "").strip():
        errors["note"] = _("Say what happened.")
    if follow_up.goal_status and goal is None:
        errors["goal_status"] = _("Choose the goal whose status this is.")
    elif follow_up.goal_status and follow_up.goal_status not in PlanGoal.Status.values:
        errors["goal_status"] = _("Choose a status.")
    if follow_up.date > today:
        errors["date"] = _("A follow-up cannot be dated in the future.")
    elif follow_up.date < plan.started_on:
        errors["date"] = _("This date is before the plan started.")
    if follow_up.next_date is not None and follow_up.next_date < follow_up.date:
        errors["next_date"] = _("The next follow-up cannot be before this one.")
    if errors:
        raise ValidationError(errors)
    follow_up.full_clean(exclude=["plan", "goal", "author"])
    follow_up.save()
    _audit_create(follow_up, actor, plan.client_id)
    if goal is not None and follow_up.goal_status and follow_up.goal_status != goal.status:
        before = snapshot(goal, ["status", "achieved_on"])
        achieved_on = follow_up.date if follow_up.goal_status == PlanGoal.Status.ACHIEVED else None
        _set_status(goal, follow_up.goal_status, achieved_on, today)
        goal.save(update_fields=["status", "achieved_on"])
        _audit_change(goal, actor, before, plan.client_id)
    _touch(plan, actor)
    return follow_up


@transaction.atomic
def edit_plan(
    plan: SettlementPlan,
    actor,
    data: dict[str, Any],
    *,
    goals: dict[int, dict[str, Any]] | None = None,
    removed: list[int] | None = None,
    new_goals: list[dict[str, Any]] | None = None,
) -> SettlementPlan:
    """The plan page's edit form in one go: the plan's fields, changes to its goals (``{goal id:
    data}``), goals removed (ids) and new goals, all or nothing. A goal's error names ``goals``."""
    update_plan(plan, actor, data)
    rows = {goal.pk: goal for goal in PlanGoal.objects.for_agency(plan.agency).filter(plan=plan)}
    for goal in rows.values():
        goal.plan = plan
    for number, (pk, goal_data) in enumerate((goals or {}).items(), start=1):
        if pk not in rows:
            raise ValidationError({"goals": _("Choose one of this plan's goals.")})
        try:
            update_goal(rows[pk], actor, goal_data)
        except ValidationError as error:
            raise ValidationError({"goals": _goal_message(number, error)}) from error
    for pk in removed or []:
        if pk in rows:
            remove_goal(rows[pk], actor)
    for number, goal_data in enumerate(new_goals or [], start=len(goals or {}) + 1):
        try:
            add_goal(plan, actor, goal_data)
        except ValidationError as error:
            raise ValidationError({"goals": _goal_message(number, error)}) from error
    return plan
