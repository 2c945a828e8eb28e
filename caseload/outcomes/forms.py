"""The forms of the Outcomes pages: placing a client, and a program's follow-up schedule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.outcomes.models import EmploymentStatus, Placement
from caseload.tenancy.models import Program


class PlacementForm(forms.Form):
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    exit_date = forms.DateField(label=_("Exit date"), widget=forms.DateInput(attrs={"type": "date"}))
    exit_reason = forms.ChoiceField(label=_("Reason for exit"), choices=Placement.ExitReason.choices)
    employment_status = forms.ChoiceField(label=_("Employment status at exit"), choices=EmploymentStatus.choices)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)

    def __init__(self, *args, agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(is_active=True).order_by("name")


class ScheduleForm(forms.Form):
    months = forms.CharField(
        label=_("Checkpoints (months after exit)"),
        help_text=_("Whole months between 1 and 36, ascending, separated by commas: for example 1, 3, 6, 12."),
        max_length=200,
    )
    survey_key = forms.ChoiceField(label=_("Survey form"))
    reminder_after_days = forms.IntegerField(label=_("Remind after (days)"), min_value=1, max_value=90)
    link_valid_days = forms.IntegerField(label=_("Survey link valid for (days)"), min_value=1, max_value=120)

    def __init__(self, *args, survey_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey_key"].choices = survey_choices
