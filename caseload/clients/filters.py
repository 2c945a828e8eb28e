"""The filters of the clients list page: read from GET parameters, a bad value ignored with a message.

The filtering itself is ``queries.filter_clients`` (shared with the API, whose ClientFilterSerializer
answers 400 instead). Programs and staff are looked up in the request's agency only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.clients.queries import LISTED_STATUSES, MAX_AGE, is_language_code
from caseload.tenancy.models import Membership, Program

ME = "me"
FLAGGED_CHOICES = [("", _("Any")), ("yes", _("Flagged")), ("no", _("Not flagged"))]

# Languages a settlement or employment agency meets most; any other code still filters (and the API takes any).
LANGUAGES = [
    ("am", _("Amharic")),
    ("ar", _("Arabic")),
    ("bn", _("Bengali")),
    ("zh", _("Chinese")),
    ("prs", _("Dari")),
    ("en", _("English")),
    ("fa", _("Farsi")),
    ("fr", _("French")),
    ("de", _("German")),
    ("gu", _("Gujarati")),
    ("hi", _("Hindi")),
    ("it", _("Italian")),
    ("ko", _("Korean")),
    ("ku", _("Kurdish")),
    ("ne", _("Nepali")),
    ("ps", _("Pashto")),
    ("pl", _("Polish")),
    ("pt", _("Portuguese")),
    ("pa", _("Punjabi")),
    ("ro", _("Romanian")),
    ("ru", _("Russian")),
    ("so", _("Somali")),
    ("es", _("Spanish")),
    ("sw", _("Swahili")),
    ("tl", _("Tagalog")),
    ("ta", _("Tamil")),
    ("ti", _("Tigrinya")),
    ("tr", _("Turkish")),
    ("uk", _("Ukrainian")),
    ("ur", _("Urdu")),
    ("vi", _("Vietnamese")),
    ("yo", _("Yoruba")),
]
# The filters folded under "More filters" (status and the search box stay in view).
ADVANCED = ("program", "staff", "flagged", "language", "min_age", "max_age")


def staff_label(membership: Membership) -> str:
    return membership.user.full_name or membership.user.email


class ClientFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[(s.value, s.label) for s in LISTED_STATUSES])
    program = forms.ModelChoiceField(
        label=_("Program"), required=False, queryset=Program.objects.none(), empty_label=_("Any program")
    )
    staff = forms.ChoiceField(label=_("Assigned to"), required=False)
    flagged = forms.ChoiceField(label=_("Safety flag"), required=False, choices=FLAGGED_CHOICES)
    language = forms.CharField(label=_("Language"), required=False, max_length=20)
    min_age = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=MAX_AGE)
    max_age = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=MAX_AGE)

    def __init__(self, data: QueryDict, *, agency, membership: Membership | None) -> None:
        super().__init__(data)
        self.agency, self.membership = agency, membership
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(agency=agency).order_by("-is_active", "name")
        # The agency's staff as the list's choices: their ids and names, not a membership and user built for each of
        # a large agency's hundreds on every search (the one chosen is read in clean_staff).
        staff = (
            Membership.objects.for_agency(agency)
            .filter(agency=agency, is_active=True)
            .order_by("user__full_name", "user__email")
            .values_list("pk", "user__full_name", "user__email")
        )
        choices = [("", _("Anyone"))]
        if membership is not None:
            choices.append((ME, _("Me")))
        choices += [(str(pk), full_name or email) for pk, full_name, email in staff]
        self.fields["staff"].choices = choices
        self.languages = list(LANGUAGES)

    @property
    def program_choices(self) -> list[tuple[int, str]]:
        """The program filter's choices after "Any program": active programs first, then by name."""
        return [(program.pk, program.name) for program in self.fields["program"].queryset]

    def clean_status(self) -> str:
        return self.cleaned_data["status"] or Client.Status.ACTIVE

    def clean_flagged(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["flagged"])

    def clean_staff(self) -> Membership | None:
        value = self.cleaned_data["staff"]
        if value == ME:
            return self.membership
        if not value:
            return None
        # A choice of the list: an active member of the agency.
        members = Membership.objects.for_agency(self.agency).filter(agency=self.agency, is_active=True)
        return members.select_related("user").filter(pk=value).first()

    def clean_language(self) -> str:
        code = self.cleaned_data["language"].strip().lower()
        if code and not is_language_code(code):
            raise forms.ValidationError(_("Choose a language from the list."), code="invalid")
        if code and code not in dict(self.languages):
            self.languages.append((code, code))
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("The highest age is below the lowest."))
        return data

    def values(self) -> dict[str, Any]:
        """The keyword arguments of filter_clients: the valid filters (an invalid one is left off)."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "status": data.get("status") or Client.Status.ACTIVE,
            "program": data.get("program"),
            "staff": data.get("staff"),
            "flagged": data.get("flagged"),
            "language": data.get("language", ""),
            "min_age": data.get("min_age"),
            "max_age": data.get("max_age"),
        }

    def narrows_beyond_status(self) -> bool:
        """Whether a filter other than the status is chosen (name search keeps its fast path without one)."""
        return any(value not in (None, "") for name, value in self.values().items() if name != "status")

    def problems(self) -> list[str]:
        """One sentence per filter ignored because its value was wrong."""
        return [
            f"{self.fields[name].label}: {' '.join(str(e) for e in errors)}"
            for name, errors in self.errors.items()
            if name in self.fields
        ]


@dataclass
class ActiveFilter:
    label: str
    value: str
    clear_url: str


def active_filters(request: HttpRequest, form: ClientFilterForm) -> list[ActiveFilter]:
    """The filters in use, each with a link that drops just it (the search text and other filters stay)."""
    values = form.values()
    shown: list[ActiveFilter] = []

    def clear(*names: str) -> str:
        query = request.GET.copy()
        for name in (*names, "page"):
            query.pop(name, None)
        encoded = query.urlencode()
        return f"?{encoded}" if encoded else "?"

    if values["program"] is not None:
        shown.append(ActiveFilter(str(_("Program")), values["program"].name, clear("program")))
    if values["staff"] is not None:
        who = str(_("Me")) if request.GET.get("staff") == ME else staff_label(values["staff"])
        shown.append(ActiveFilter(str(_("Assigned to")), who, clear("staff")))
    if values["flagged"] is not None:
        shown.append(
            ActiveFilter(str(_("Safety flag")), str(_("Flagged") if values["flagged"] else _("Not flagged")), clear("flagged"))
        )
    if values["language"]:
        shown.append(
            ActiveFilter(
                str(_("Language")), str(dict(form.languages).get(values["language"], values["language"])), clear("language")
            )
        )
    low, high = values["min_age"], values["max_age"]
    if low is not None or high is not None:
        if low is not None and high is not None:
            text = _("%(low)s to %(high)s") % {"low": low, "high": high}
        elif low is not None:
            text = _("%(low)s and over") % {"low": low}
        else:
            text = _("up to %(high)s") % {"high": high}
        shown.append(ActiveFilter(str(_("Age")), str(text), clear("min_age", "max_age")))
    return shown
