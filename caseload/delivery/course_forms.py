"""The course form (new and edit course pages), and the enrolment form's client picker.

The form only parses what was typed; ``courses.create_course`` / ``update_course`` check the rules
(unique code, ordered dates, capacity, CLB levels) and their errors come back on these fields.
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.delivery import courses
from caseload.delivery.models import Course
from caseload.delivery.visibility import program_ids, sees_all_programs
from caseload.tenancy.models import Agency, Funder, Membership, Program

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
SKILL_LABELS = {
    "listening": _("Listening"),
    "speaking": _("Speaking"),
    "reading": _("Reading"),
    "writing": _("Writing"),
}
CLB_CHOICES = [("", "—"), *[(str(level), str(level)) for level in range(1, 13)]]
# Action error names -> this form's fields.
RENAMED = {
    **{f"clb_levels.{skill}": f"clb_{skill}_min" for skill in courses.SKILLS},
    "staff": "teacher",
    "date": "start_date",
    "title": "name",
}


class CourseForm(forms.Form):
    code = forms.CharField(label=_("Course code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    language = forms.ChoiceField(label=_("Language taught"), choices=Course.Language.choices, initial=Course.Language.ENGLISH)
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    funders = forms.ModelMultipleChoiceField(
        label=_("Funders"),
        queryset=Funder.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Left empty: the program's funders."),
    )
    teacher = forms.ModelChoiceField(label=_("Teacher"), queryset=Membership.objects.none(), required=False)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    start_date = forms.DateField(label=_("First class"), widget=forms.DateInput(attrs={"type": "date"}))
    end_date = forms.DateField(label=_("Last class"), widget=forms.DateInput(attrs={"type": "date"}))
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Class days"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    start_time = forms.TimeField(label=_("Class starts"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(label=_("Class ends"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=1000, help_text=_("Places in the course."))

    def __init__(self, *args: Any, agency: Agency, membership: Membership | None, course: Course | None = None, **kwargs: Any):
        if course is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_of(course)
        super().__init__(*args, **kwargs)
        programs = Program.objects.for_agency(agency).filter(is_active=True)
        if not sees_all_programs(membership):
            allowed = program_ids(membership)
            if course is not None:
                allowed = [*allowed, course.session.program_id]
            programs = programs.filter(pk__in=allowed)
        self.fields["program"].queryset = programs.order_by("name")
        self.fields["funders"].queryset = Funder.objects.for_agency(agency).filter(is_active=True).order_by("name")
        self.fields["teacher"].queryset = (
            Membership.objects.for_agency(agency).filter(is_active=True).select_related("user").order_by("user__full_name")
        )
        self.fields["teacher"].label_from_instance = lambda member: member.user.get_full_name() or member.user.email
        for skill, label in SKILL_LABELS.items():
            self.fields[f"clb_{skill}_min"] = forms.TypedChoiceField(
                label=_("%(skill)s: lowest CLB level") % {"skill": label},
                choices=CLB_CHOICES,
                coerce=int,
                required=False,
                empty_value=None,
            )
            self.fields[f"clb_{skill}_max"] = forms.TypedChoiceField(
                label=_("%(skill)s: highest CLB level") % {"skill": label},
                choices=CLB_CHOICES,
                coerce=int,
                required=False,
                empty_value=None,
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for skill in courses.SKILLS:
            low, high = data.get(f"clb_{skill}_min"), data.get(f"clb_{skill}_max")
            if (low is None) != (high is None):
                self.add_error(f"clb_{skill}_min", _("Give both the lowest and the highest level, or neither."))
        return data

    def course_data(self) -> dict[str, Any]:
        """The cleaned fields as ``courses.create_course`` takes them."""
        data = dict(self.cleaned_data)
        levels = {}
        for skill in courses.SKILLS:
            low, high = data.pop(f"clb_{skill}_min", None), data.pop(f"clb_{skill}_max", None)
            if low is not None and high is not None:
                levels[skill] = [low, high]
        data["clb_levels"] = levels
        data["funders"] = list(data.get("funders") or [])
        return data

    def clb_fields(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(label, self[f"clb_{skill}_min"], self[f"clb_{skill}_max"]) for skill, label in SKILL_LABELS.items()]

    def main_fields(self) -> list[forms.BoundField]:
        return [field for field in self.visible_fields() if not field.name.startswith("clb_")]


def initial_of(course: Course) -> dict[str, Any]:
    session = course.session
    initial: dict[str, Any] = {name: getattr(course, name) for name in courses.COURSE_FIELDS if name != "clb_levels"}
    initial.update(program=session.program, funders=list(session.funders.all()), location=session.location)
    for skill, (low, high) in (course.clb_levels or {}).items():
        initial[f"clb_{skill}_min"], initial[f"clb_{skill}_max"] = str(low), str(high)
    return initial


class EnrolForm(forms.Form):
    clients = forms.TypedMultipleChoiceField(label=_("Clients"), coerce=int, choices=[], widget=forms.CheckboxSelectMultiple)
    first_class = forms.DateField(
        label=_("First class"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Left empty: the next class."),
    )

    def __init__(self, *args: Any, choices: list[tuple[int, str]], first_class: datetime.date | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["clients"].choices = choices
        if first_class:
            self.fields["first_class"].initial = first_class
