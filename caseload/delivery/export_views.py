"""The service-form export page and its download (``delivery.export``).

A plain GET form: choose the form, a range of session dates (last month by default), a program if
you want one, and CSV or Excel. The file holds the form's current questions and the agency's own
questions on it, and only the records the member may see (``exports.RecordExport`` reads through
``visibility.records_for``); the export is audited before a byte is sent.
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

from caseload.casework.exports import last_month
from caseload.casework.records import agency_today
from caseload.delivery import catalogue
from caseload.delivery.exports import RecordExport, respond
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.access import perm_required
from caseload.tenancy.models import Agency, Program

EXPORT = "delivery.export"
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A range longer than this is surely a typing mistake (and a very large file).
MAX_RANGE_DAYS = 366 * 10


def form_choices() -> list[tuple[str, str]]:
    """The standard forms (catalogue order), then any other loaded form, by their current names."""
    names: dict[str, str] = {}
    for definition in FormDefinition.objects.order_by("key", "-version"):
        names.setdefault(definition.key, definition.name)
    ordered = [key for key in catalogue.STANDARD_FORMS if key in names]
    ordered += sorted(key for key in names if key not in ordered)
    return [(key, names[key]) for key in ordered]


class RecordExportForm(forms.Form):
    form = forms.ChoiceField(label=gettext_lazy("Form"))
    date_from = forms.DateField(label=gettext_lazy("Sessions from"), widget=DATE_WIDGET)
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
        self.fields["form"].choices = form_choices()
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(agency=agency).order_by("-is_active", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end of the range is before its start."))
            elif (end - start).days > MAX_RANGE_DAYS:
                self.add_error("date_to", _("Choose a range of at most ten years."))
        return data

    def export(self, request: HttpRequest) -> RecordExport:
        data = self.cleaned_data
        return RecordExport(
            agency=request.agency,
            membership=request.membership,
            form_key=data["form"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            program=data["program"],
        )


def _initial(agency: Agency) -> dict[str, Any]:
    start, end = last_month(agency_today(agency))
    return {"date_from": start, "date_to": end, "file_format": "csv"}


@require_safe
@perm_required(EXPORT)
def record_export(request: HttpRequest) -> HttpResponse:
    form = RecordExportForm(initial=_initial(request.agency), agency=request.agency)
    return render(request, "delivery/record_export.html", {"form": form})


@require_safe
@perm_required(EXPORT)
def record_export_download(request: HttpRequest) -> HttpResponse:
    form = RecordExportForm(request.GET, agency=request.agency)
    if not form.is_valid():
        return render(request, "delivery/record_export.html", {"form": form}, status=400)
    return respond(form.export(request), request.user, form.cleaned_data["file_format"])


urlpatterns = [
    path("service-forms/export/", record_export, name="record_export"),
    path("service-forms/export/download/", record_export_download, name="record_export_download"),
]
