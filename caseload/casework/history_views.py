"""The History tab of a client's profile: everything done with the client, newest first.

One view serves the page and its two htmx fragments: the results (when a filter changes) and
the next page of entries ("Older entries"). Without JavaScript the filters are a GET form and
"Older entries" is a link; both keep working.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.vary import vary_on_headers

from caseload.audit.actions import Action, record
from caseload.casework import history
from caseload.clients.filters import staff_label
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.tenancy.models import Membership, Program

TEMPLATE = "casework/history.html"


def staff_choice_label(membership: Membership) -> str:
    label = staff_label(membership)
    return label if membership.is_active else _("%(name)s (former staff)") % {"name": label}


class HistoryFilterForm(forms.Form):
    """The feed's filters; each invalid value is named and ignored, the valid ones still apply."""

    kind = forms.MultipleChoiceField(label=gettext_lazy("Show"), required=False, widget=forms.CheckboxSelectMultiple)
    program = forms.ChoiceField(label=gettext_lazy("Program"), required=False)
    staff = forms.ChoiceField(label=gettext_lazy("Staff member"), required=False)
    cursor = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)

    def __init__(self, data, *, agency, kinds: list[history.Kind]) -> None:
        super().__init__(data)
        self.kinds = kinds
        self.fields["kind"].choices = [(kind.key, kind.label) for kind in kinds]
        self.programs = {str(p.pk): p for p in Program.objects.for_agency(agency).order_by("-is_active", "name")}
        self.staff_members = {
            str(m.pk): m
            for m in Membership.objects.for_agency(agency)
            .select_related("user")
            .order_by("-is_active", "user__full_name", "user__email")
        }
        self.fields["program"].choices = [("", _("All programs")), *((pk, p.name) for pk, p in self.programs.items())]
        self.fields["staff"].choices = [("", _("Anyone")), *((pk, staff_choice_label(m)) for pk, m in self.staff_members.items())]

    def clean_program(self) -> Program | None:
        return self.programs.get(self.cleaned_data["program"])

    def clean_staff(self) -> Membership | None:
        return self.staff_members.get(self.cleaned_data["staff"])

    def clean_cursor(self) -> history.Cursor | None:
        value = self.cleaned_data["cursor"]
        if not value:
            return None
        try:
            return history.Cursor.parse(value)
        except ValueError:
            raise forms.ValidationError(
                _("This link to older entries is not valid any more; here are the newest ones."), code="invalid"
            )

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None


@dataclass
class DayGroup:
    day: dt.date
    label: str
    entries: list[history.Entry]
    continued: bool = False


def day_label(day: dt.date, today: dt.date) -> str:
    if day == today:
        return _("Today")
    if day == today - dt.timedelta(days=1):
        return _("Yesterday")
    if day.year == today.year:
        return formats.date_format(day, _("l, F j"))
    return formats.date_format(day, _("l, F j, Y"))


def group_by_day(entries: list[history.Entry], today: dt.date, *, continues: dt.date | None = None) -> list[DayGroup]:
    groups: list[DayGroup] = []
    for entry in entries:
        if not groups or groups[-1].day != entry.day:
            groups.append(DayGroup(entry.day, day_label(entry.day, today), [], continued=not groups and entry.day == continues))
        groups[-1].entries.append(entry)
    return groups


def _url(request: HttpRequest, **changes: str | None) -> str:
    query = request.GET.copy()
    for name, value in changes.items():
        query.pop(name, None)
        if value:
            query[name] = value
    encoded = query.urlencode()
    return f"{request.path}?{encoded}" if encoded else request.path


@vary_on_headers("HX-Request", "HX-Target")
@perm_required("casework.view")
def client_history(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_for_agency(request, Client, pk=pk)
    membership = request.membership
    kinds = history.kinds_for(membership.has_perm)
    form = HistoryFilterForm(request.GET, agency=request.agency, kinds=kinds)
    form.is_valid()
    cursor = form.value("cursor")
    chosen = form.value("kind") or []
    page = history.client_history(
        client,
        membership,
        agency=request.agency,
        can=membership.has_perm,
        kinds=chosen,
        program=form.value("program"),
        staff=form.value("staff"),
        cursor=cursor,
    )
    today = timezone.localtime(timezone=history.agency_zone(request.agency)).date()
    target = request.htmx.target if request.htmx else None
    continued_day = cursor.day if cursor is not None and target == "history-more" else None
    filtered = bool(chosen or form.value("program") or form.value("staff"))
    context: dict[str, Any] = {
        "form": form,
        "kinds": [
            {"key": kind.key, "label": kind.label, "icon": kind.icon, "checked": not chosen or kind.key in chosen}
            for kind in kinds
        ],
        "groups": group_by_day(page.entries, today, continues=continued_day),
        "next_url": _url(request, cursor=str(page.next_cursor)) if page.next_cursor else "",
        "newest_url": _url(request, cursor=None) if cursor is not None else "",
        "clear_url": request.path,
        "filtered": filtered,
        "time_zone": history.agency_zone(request.agency),
    }
    if target == "history-more":
        return render(request, f"{TEMPLATE}#page", context)
    if target == "history-results":
        return render(request, f"{TEMPLATE}#results", context)
    if cursor is None:
        # Reading a client's record is audited; the older pages of the same reading are not.
        record(
            agency=request.agency,
            actor=request.user,
            action=Action.VIEW,
            obj=client,
            client_id=client.pk,
            object_repr=f"{client} (history)",
        )
    return render(request, TEMPLATE, {**client_frame(request, client, "history"), **context})


urlpatterns: list[URLPattern] = [
    path("clients/<int:pk>/history/", client_history, name="history"),
]
