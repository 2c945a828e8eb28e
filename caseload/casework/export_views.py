"""The standard casework exports page and its download (``casework.export``).

The page is a plain GET form: choose the report, the date range (last month by default), a
program if you want one, and CSV or Excel. The download applies the same private rule as every
page (``exports.Export`` reads through ``records.visible``) and is audited before a byte is sent.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from caseload.casework.communications import agency_today
from caseload.casework.exports import REPORTS, Export, last_month, report_choices, respond
from caseload.tenancy.access import perm_required
from caseload.tenancy.models import Agency, Program

EXPORT = "casework.export"
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A range longer than this is surely a typing mistake (and a very large file).
MAX_RANGE_DAYS = 366 * 10


class ExportForm(forms.Form):
    report = forms.ChoiceField(label=gettext_lazy("Report"), choices=report_choices, widget=forms.RadioSelect)
    date_from = forms.DateField(label=gettext_lazy("From"), widget=DATE_WIDGET)
    date_to = forms.DateField(label=gettext_lazy("To"), widget=DATE_WIDGET, help_text=gettext_lazy("Both days included."))
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"), queryset=Program.objects.none(), required=False, empty_label=gettext_lazy("All programs")
    )
    file_format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("csv", gettext_lazy("CSV")), ("xlsx", gettext_lazy("Excel (.xlsx)"))],
        initial="csv",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(agency=agency).order_by("-is_active", "name")
        self.fields["report"].choices = [(key, report.title) for key, report in REPORTS.items()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end of the range is before its start."))
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("date_to", _("Choose a range of at most ten years."))
        return data

    def export(self, request: HttpRequest) -> Export:
        data = self.cleaned_data
        return Export(
            report=REPORTS[data["report"]],
            agency=request.agency,
            membership=request.membership,
            start=data["date_from"],
            end=data["date_to"],
            program=data["program"],
        )


def _initial(agency: Agency) -> dict[str, Any]:
    start, end = last_month(agency_today(agency))
    return {"report": next(iter(REPORTS)), "date_from": start, "date_to": end, "file_format": "csv"}


@require_safe
@perm_required(EXPORT)
def exports(request: HttpRequest) -> HttpResponse:
    form = ExportForm(initial=_initial(request.agency), agency=request.agency)
    return render(request, "casework/exports.html", {"form": form, "reports": REPORTS.values()})


@require_safe
@perm_required(EXPORT)
def export_download(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.GET, agency=request.agency)
    if not form.is_valid():
        return render(request, "casework/exports.html", {"form": form, "reports": REPORTS.values()}, status=400)
    return respond(form.export(request), request.user, form.cleaned_data["file_format"])


urlpatterns = [
    path("exports/", exports, name="exports"),
    path("exports/download/", export_download, name="export_download"),
]
