"""Forms of the settlement plan pages: a plan, its goal rows, a follow-up, closing a plan.

Every choice comes from the request's agency (a forged primary key of another agency is an
invalid choice naming the field). Forms only parse: the views hand ``cleaned_data`` to the
actions of ``caseload.delivery.plans``, which check the rules and audit.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from caseload.delivery.models import PlanFollowUp, PlanGoal, SettlementPlan
from caseload.delivery.plans import CLOSING_STATUSES, MAX_GOALS
from caseload.tenancy.models import Agency, Program

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
FIRST_GOAL_ROWS = 3


class PlanForm(forms.ModelForm):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none(), required=False)

    class Meta:
        model = SettlementPlan
        fields = ["title", "program", "summary", "started_on", "shared_with_client"]
        widgets = {"started_on": DATE_INPUT, "summary": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "program": _("Staff of this program see the plan. Without a program, everyone who works on service delivery does."),
            "summary": _("The client's situation and what the plan sets out to do."),
            "shared_with_client": _("Tick once the plan is complete and the client has a copy."),
        }

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.program_id if self.instance.pk else None
        condition = Q(is_active=True) | Q(pk=current) if current else Q(is_active=True)
        program = self.fields["program"]
        program.queryset = Program.objects.for_agency(agency).filter(condition).order_by("name")
        program.empty_label = _("No program (everyone in service delivery)")


class GoalRowForm(forms.Form):
    """One goal row of the plan form; a row left without a description is not a goal."""

    goal_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    area = forms.ChoiceField(label=_("Area"), choices=PlanGoal.Area.choices, initial=PlanGoal.Area.OTHER, required=False)
    description = forms.CharField(label=_("Goal"), max_length=300, required=False)
    target_date = forms.DateField(label=_("Target date"), required=False, widget=DATE_INPUT)
    status = forms.ChoiceField(label=_("Status"), choices=PlanGoal.Status.choices, required=False)
    remove = forms.BooleanField(label=_("Remove"), required=False)

    def __init__(self, *args: Any, existing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.existing = existing
        if not existing:
            del self.fields["status"]
            del self.fields["remove"]

    @property
    def is_blank(self) -> bool:
        return not self.existing and not (self.cleaned_data.get("description") or "").strip()

    def goal_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in ("area", "description", "target_date")}
        data["area"] = data["area"] or PlanGoal.Area.OTHER
        if self.existing and self.cleaned_data.get("status"):
            data["status"] = self.cleaned_data["status"]
        return data


def goal_rows(data: Any, goals: list[PlanGoal] | None = None) -> list[GoalRowForm]:
    """The goal rows of a plan form: one per existing goal, then the new rows.

    ``data`` is the POST (or None). The number of new rows comes from the posted ``new_goals``;
    "Add another goal" (``more``) adds one, up to the maximum a plan holds.
    """
    goals = goals or []
    rows = [
        GoalRowForm(
            data,
            prefix=f"goal-{goal.pk}",
            existing=True,
            initial={
                "goal_id": goal.pk,
                "area": goal.area,
                "description": goal.description,
                "target_date": goal.target_date,
                "status": goal.status,
            },
        )
        for goal in goals
    ]
    room = max(MAX_GOALS - len(goals), 0)
    new = FIRST_GOAL_ROWS if not goals else 1
    if data is not None:
        try:
            new = int(data.get("new_goals", new))
        except (TypeError, ValueError):
            new = 1
        if "more" in data:
            new += 1
    new = max(0, min(new, room))
    rows += [GoalRowForm(data, prefix=f"new-{index}") for index in range(new)]
    return rows


class FollowUpForm(forms.ModelForm):
    goal = forms.ModelChoiceField(label=_("Goal"), queryset=PlanGoal.objects.none(), required=False)

    class Meta:
        model = PlanFollowUp
        fields = ["date", "goal", "note", "goal_status", "next_step", "next_date"]
        widgets = {"date": DATE_INPUT, "next_date": DATE_INPUT, "note": forms.Textarea(attrs={"rows": 3})}
        labels = {"note": _("What happened")}

    def __init__(self, *args: Any, plan: SettlementPlan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        goal = self.fields["goal"]
        goal.queryset = PlanGoal.objects.for_agency(plan.agency).filter(plan=plan).order_by("position", "pk")
        goal.empty_label = _("The plan as a whole")
        self.fields["goal_status"].choices = [("", _("Unchanged")), *PlanGoal.Status.choices]

    def follow_up_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ClosePlanForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Outcome"),
        choices=[(value, label) for value, label in SettlementPlan.Status.choices if value in CLOSING_STATUSES],
        widget=forms.RadioSelect,
        initial=SettlementPlan.Status.COMPLETED,
        help_text=_("Completed: the plan's goals were worked through. Closed: the plan ended early."),
    )
    closed_on = forms.DateField(label=_("Date"), required=False, widget=DATE_INPUT, help_text=_("Today if left empty."))
