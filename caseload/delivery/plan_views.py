"""The client's Settlement plans tab, a plan's progress page, and writing plans, goals and follow-ups.

Thin views: reading needs ``delivery.view``, writing ``delivery.change`` (403 otherwise); clients
and plans come from the request's agency only (404 outside it), and plans are read through
``plans.plans_for`` — a plan of a program the reader may not see is a 404, like one that does
not exist. Writes call ``caseload.delivery.plans`` (one transaction, audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caseload.audit.actions import Action, record
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.casework.records import agency_today
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.delivery import plans
from caseload.delivery.models import PlanFollowUp, PlanGoal, SettlementPlan
from caseload.delivery.plan_forms import ClosePlanForm, FollowUpForm, GoalRowForm, PlanForm, goal_rows
from caseload.delivery.plans import CHANGE, VIEW
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors

TAB = "plans"
TAB_URL = "delivery:plans"
STATUS_BADGES = {
    SettlementPlan.Status.ACTIVE: "badge-info",
    SettlementPlan.Status.COMPLETED: "badge-success",
    SettlementPlan.Status.CLOSED: "badge-neutral",
}
GOAL_BADGES = {
    PlanGoal.Status.NOT_STARTED: "badge-neutral",
    PlanGoal.Status.IN_PROGRESS: "badge-info",
    PlanGoal.Status.ACHIEVED: "badge-success",
    PlanGoal.Status.DISCONTINUED: "badge-outline",
}
# How far along a goal's bar is, by its status.
GOAL_STEPS = {
    PlanGoal.Status.NOT_STARTED: 0,
    PlanGoal.Status.IN_PROGRESS: 50,
    PlanGoal.Status.ACHIEVED: 100,
    PlanGoal.Status.DISCONTINUED: 0,
}


def get_plan(request: HttpRequest, pk: int) -> SettlementPlan:
    """A plan the member may see, or 404 (another agency's, a deleted one and another program's alike)."""
    rows = plans.plans_for(request.agency, request.membership).select_related("client", "program", "author__user")
    plan = get_for_agency(request, rows, pk=pk)
    plan.client.agency = request.agency
    return plan


def _writable(request: HttpRequest, client: Client) -> bool:
    return has_perm(request, CHANGE) and not is_merged(client)


def _refused(request: HttpRequest, plan: SettlementPlan) -> HttpResponse | None:
    """A merged profile's plans are read-only; a closed plan must be reopened first."""
    if is_merged(plan.client):
        messages.info(request, _("This profile was merged into another one: its plans are read-only."))
        return redirect("delivery:plan_detail", pk=plan.pk)
    if plan.status != SettlementPlan.Status.ACTIVE:
        messages.info(
            request, _("This plan is %(status)s: reopen it to change it.") % {"status": plan.get_status_display().lower()}
        )
        return redirect("delivery:plan_detail", pk=plan.pk)
    return None


def _view_event(request: HttpRequest, client: Client, obj, label: str) -> None:
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=obj, client_id=client.pk, object_repr=label)


def _goal_forms_valid(rows: list[GoalRowForm]) -> bool:
    valid = [row.is_valid() for row in rows]  # every row validated, so each shows its errors
    return all(valid)


def _goal_errors(form: PlanForm, rows: list[GoalRowForm]) -> None:
    """Name the goal rows' errors in the plan form's summary (the rows show theirs too)."""
    for number, row in enumerate(rows, start=1):
        for name, errors in row.errors.items():
            label = row.fields[name].label if name in row.fields else ""
            form.add_error(
                None, _("Goal %(number)s: %(problem)s") % {"number": number, "problem": f"{label}: {' '.join(errors)}"}
            )


# --- The tab -------------------------------------------------------------------------------------


@perm_required(VIEW)
def plan_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    rows = plans.with_summary(
        plans.plans_for(request.agency, request.membership).filter(client=client).select_related("program", "author__user")
    ).order_by("-started_on", "-pk")
    items = []
    for plan in rows:
        total, achieved = plan.goals_total, plan.goals_achieved
        items.append(
            {
                "plan": plan,
                "badge": STATUS_BADGES.get(plan.status, "badge-neutral"),
                "percent": round(achieved * 100 / total) if total else 0,
                "url": reverse("delivery:plan_detail", args=[plan.pk]),
            }
        )
    _view_event(request, client, client, _("Settlement plans"))
    context: dict[str, Any] = {
        **client_frame(request, client, active=TAB),
        "items": items,
        "today": agency_today(request.agency),
        "new_url": reverse("delivery:plan_new", args=[client.pk]) if _writable(request, client) else None,
    }
    return render(request, "delivery/plans/list.html", context)


# --- A plan's progress -------------------------------------------------------------------------


@perm_required(VIEW)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    client = plan.client
    goals = list(PlanGoal.objects.for_agency(request.agency).filter(plan=plan).order_by("position", "pk"))
    follow_ups = list(
        PlanFollowUp.objects.for_agency(request.agency)
        .filter(plan=plan)
        .select_related("author__user")
        .order_by("-date", "-created_at", "-pk")
    )
    today = agency_today(request.agency)
    by_goal: dict[int | None, list[PlanFollowUp]] = {}
    for follow_up in follow_ups:
        follow_up.author_name = _staff_name(follow_up.author)
        by_goal.setdefault(follow_up.goal_id, []).append(follow_up)
    goal_items = [
        {
            "goal": goal,
            "badge": GOAL_BADGES.get(goal.status, "badge-neutral"),
            "step": GOAL_STEPS.get(goal.status, 0),
            "overdue": plan.status == SettlementPlan.Status.ACTIVE and plans.is_overdue(goal, today),
            "follow_ups": by_goal.get(goal.pk, []),
        }
        for goal in goals
    ]
    progress = plans.progress_of(goals)
    writable = _writable(request, client)
    active = plan.status == SettlementPlan.Status.ACTIVE
    latest_next = next((f.next_date for f in follow_ups if f.next_date), None)
    _view_event(request, client, plan, plans._label(plan))
    context: dict[str, Any] = {
        **client_frame(request, client, active=TAB),
        "plan": plan,
        "badge": STATUS_BADGES.get(plan.status, "badge-neutral"),
        "author_name": _staff_name(plan.author),
        "goal_items": goal_items,
        "general_follow_ups": by_goal.get(None, []),
        "follow_up_count": len(follow_ups),
        "last_follow_up": follow_ups[0] if follow_ups else None,
        "next_follow_up": latest_next,
        "next_overdue": active and latest_next is not None and latest_next < today,
        "overdue_count": sum(1 for item in goal_items if item["overdue"]),
        "progress": progress,
        "today": today,
        "writable": writable,
        "active": active,
        "follow_up_form": FollowUpForm(plan=plan, initial={"date": today}) if writable and active else None,
        "back_url": reverse(TAB_URL, args=[client.pk]),
    }
    return render(request, "delivery/plans/detail.html", context)


def _staff_name(membership) -> str:
    if membership is None:
        return ""
    user = membership.user
    return user.get_full_name() or user.email


# --- Writing plans -------------------------------------------------------------------------------


def _plan_form_page(
    request: HttpRequest, client: Client, form: PlanForm, rows: list[GoalRowForm], *, plan: SettlementPlan | None, status: int
) -> HttpResponse:
    new_rows = [row for row in rows if not row.existing]
    context: dict[str, Any] = {
        **client_frame(request, client, active=TAB),
        "form": form,
        "existing_rows": [row for row in rows if row.existing],
        "new_rows": new_rows,
        "new_count": len(new_rows),
        "may_add": len(rows) < plans.MAX_GOALS,
        "plan": plan,
        "title": _("Edit the plan") if plan else _("New settlement plan"),
        "cancel_url": reverse("delivery:plan_detail", args=[plan.pk]) if plan else reverse(TAB_URL, args=[client.pk]),
    }
    return render(request, "delivery/plans/form.html", context, status=status)


@perm_required(CHANGE)
def plan_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if is_merged(client):
        return refuse_merged(
            request, client, _("This profile was merged into another one: write plans on the kept profile."), TAB_URL
        )
    posted = request.method == "POST"
    data = request.POST if posted else None
    form = PlanForm(data, agency=request.agency, initial={"started_on": agency_today(request.agency)})
    rows = goal_rows(data)
    if posted and "more" not in request.POST:
        plan_ok, goals_ok = form.is_valid(), _goal_forms_valid(rows)
        if plan_ok and goals_ok:
            goals = [row.goal_data() for row in rows if not row.is_blank]
            try:
                plan = plans.create_plan(client, request.user, form.cleaned_data, goals=goals)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("The plan is saved."))
                return redirect("delivery:plan_detail", pk=plan.pk)
        elif not goals_ok:
            _goal_errors(form, rows)
        return _plan_form_page(request, client, form, rows, plan=None, status=400)
    return _plan_form_page(request, client, form, rows, plan=None, status=200)


@perm_required(CHANGE)
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    if refused := _refused(request, plan):
        return refused
    posted = request.method == "POST"
    data = request.POST if posted else None
    goals = list(PlanGoal.objects.for_agency(request.agency).filter(plan=plan).order_by("position", "pk"))
    form = PlanForm(data, instance=plan, agency=request.agency)
    rows = goal_rows(data, goals)
    if posted and "more" not in request.POST:
        plan_ok, goals_ok = form.is_valid(), _goal_forms_valid(rows)
        if plan_ok and goals_ok:
            changed: dict[int, dict[str, Any]] = {}
            removed: list[int] = []
            for goal, row in zip(goals, rows, strict=False):
                if row.cleaned_data.get("remove"):
                    removed.append(goal.pk)
                else:
                    changed[goal.pk] = row.goal_data()
            new = [row.goal_data() for row in rows[len(goals) :] if not row.is_blank]
            fields = {name: form.cleaned_data[name] for name in plans.PLAN_FIELDS}
            try:
                plans.edit_plan(get_plan(request, pk), request.user, fields, goals=changed, removed=removed, new_goals=new)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("The plan is saved."))
                return redirect("delivery:plan_detail", pk=plan.pk)
        elif not goals_ok:
            _goal_errors(form, rows)
        return _plan_form_page(request, plan.client, form, rows, plan=plan, status=400)
    return _plan_form_page(request, plan.client, form, rows, plan=plan, status=200)


@perm_required(CHANGE)
def plan_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    if refused := _refused(request, plan):
        return refused
    posted = request.method == "POST"
    form = FollowUpForm(request.POST if posted else None, plan=plan, initial={"date": agency_today(request.agency)})
    if posted and form.is_valid():
        try:
            plans.add_follow_up(plan, request.user, form.follow_up_data())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The follow-up is saved."))
            return redirect("delivery:plan_detail", pk=plan.pk)
    context = {
        **client_frame(request, plan.client, active=TAB),
        "plan": plan,
        "form": form,
        "cancel_url": reverse("delivery:plan_detail", args=[plan.pk]),
    }
    return render(request, "delivery/plans/follow_up.html", context, status=400 if posted else 200)


@perm_required(CHANGE)
def plan_close(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    if refused := _refused(request, plan):
        return refused
    posted = request.method == "POST"
    form = ClosePlanForm(request.POST if posted else None)
    if posted and form.is_valid():
        try:
            plans.close_plan(plan, request.user, form.cleaned_data["status"], form.cleaned_data["closed_on"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The plan is %(status)s.") % {"status": plan.get_status_display().lower()})
            return redirect("delivery:plan_detail", pk=plan.pk)
    context = {
        **client_frame(request, plan.client, active=TAB),
        "plan": plan,
        "form": form,
        "cancel_url": reverse("delivery:plan_detail", args=[plan.pk]),
    }
    return render(request, "delivery/plans/close.html", context, status=400 if posted else 200)


@require_POST
@perm_required(CHANGE)
def plan_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    try:
        plans.reopen_plan(plan, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The plan is active again."))
    return redirect("delivery:plan_detail", pk=plan.pk)


@perm_required(CHANGE)
def plan_delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_plan(request, pk)
    if is_merged(plan.client):
        return _refused(request, plan)
    if request.method == "POST":
        plans.delete_plan(plan, request.user)
        messages.success(request, _("The plan is deleted."))
        return redirect(TAB_URL, pk=plan.client_id)
    context = {
        **client_frame(request, plan.client, active=TAB),
        "plan": plan,
        "cancel_url": reverse("delivery:plan_detail", args=[plan.pk]),
    }
    return render(request, "delivery/plans/delete.html", context)


urlpatterns = [
    path("clients/<int:pk>/plans/", plan_list, name="plans"),
    path("clients/<int:pk>/plans/new/", plan_new, name="plan_new"),
    path("plans/<int:pk>/", plan_detail, name="plan_detail"),
    path("plans/<int:pk>/edit/", plan_edit, name="plan_edit"),
    path("plans/<int:pk>/follow-up/", plan_follow_up, name="plan_follow_up"),
    path("plans/<int:pk>/close/", plan_close, name="plan_close"),
    path("plans/<int:pk>/reopen/", plan_reopen, name="plan_reopen"),
    path("plans/<int:pk>/delete/", plan_delete, name="plan_delete"),
]
