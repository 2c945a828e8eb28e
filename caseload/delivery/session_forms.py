"""The session form: when, where, who, which program and funders (parsed here, saved by ``sessions``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.casework.records import agency_today
from caseload.delivery.models import GROUP_TYPES, Session, SessionType
from caseload.delivery.visibility import program_ids, sees_all_programs
from caseload.tenancy.models import Agency, Funder, Membership, Program

DIRECT_TYPES = [SessionType.DIRECT, SessionType.JOB_DEVELOPMENT, SessionType.FINANCE]
# Language-training sessions are made with their course (the Courses pages).
GROUP_SESSION_TYPES = [SessionType.IO_GROUP, SessionType.CC_GROUP, SessionType.EMPLOYMENT_GROUP]


class StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        return obj.user.full_name or obj.user.email


class SessionForm(forms.Form):
    session_type = forms.ChoiceField(label=_("Type of session"))
    title = forms.CharField(label=_("Activity or topic"), max_length=200, required=False)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Start time"), required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    duration_minutes = forms.IntegerField(label=_("Duration (minutes)"), required=False, min_value=1, max_value=24 * 60)
    mode = forms.ChoiceField(label=_("How"), choices=Session.Mode.choices, initial=Session.Mode.IN_PERSON)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    funders = forms.ModelMultipleChoiceField(
        label=_("Funders"),
        queryset=Funder.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty to use the program's funders."),
    )
    staff = StaffChoice(label=_("Staff"), queryset=Membership.objects.none(), required=False, help_text=_("Default: you."))
    anonymous_attendees = forms.IntegerField(
        label=_("Anonymous attendees"),
        min_value=0,
        required=False,
        initial=0,
        help_text=_("People who attended without being registered as clients."),
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        membership: Membership | None,
        group: bool,
        session: Session | None = None,
        **kwargs: Any,
    ):
        if session is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{
                    name: getattr(session, name)
                    for name in [
                        "session_type",
                        "title",
                        "date",
                        "start_time",
                        "duration_minutes",
                        "mode",
                        "location",
                        "program",
                        "staff",
                        "anonymous_attendees",
                    ]
                },
                "funders": list(session.funders.all()),
            }
        super().__init__(*args, **kwargs)
        if session is None:
            self.fields["date"].initial = agency_today(agency)
        types = GROUP_SESSION_TYPES if group else DIRECT_TYPES
        if session is not None:
            types = [SessionType(session.session_type)]
            self.fields["session_type"].disabled = True
        self.fields["session_type"].choices = [(t.value, t.label) for t in types]
        programs = Program.objects.for_agency(agency).filter(is_active=True)
        if not sees_all_programs(membership):
            programs = programs.filter(pk__in=program_ids(membership))
        self.fields["program"].queryset = programs.order_by("name")
        if len(programs) == 1 and session is None:
            self.fields["program"].initial = programs[0]
        self.fields["funders"].queryset = Funder.objects.for_agency(agency).order_by("name")
        self.fields["staff"].queryset = (
            Membership.objects.for_agency(agency).filter(is_active=True).select_related("user").order_by("user__full_name")
        )
        if not group:
            del self.fields["title"]
            del self.fields["anonymous_attendees"]

    def session_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if self.fields["session_type"].disabled:
            data.pop("session_type")
        if data.get("anonymous_attendees") is None and "anonymous_attendees" in self.fields:
            data["anonymous_attendees"] = 0
        data["funders"] = list(data.get("funders") or [])
        return data


def is_group_type(session_type: str) -> bool:
    return session_type in GROUP_TYPES
