"""The import pages: history, upload with the template, the preview, progress and the result.

Every page needs ``clients.import``; an import of another agency answers 404. The work is done
by caseload.clients.importing (inline for a small file, by a task for a large one).
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import HttpResponseClientRefresh

from caseload.clients import importing
from caseload.clients.models import ClientImport
from caseload.clients.profile_forms import language_label
from caseload.clients.views import display_phone
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.web.tables import Column, Table, table_response

CLIENTS_IMPORT = "clients.import"
Status = ClientImport.Status
# The preview lists this many errors and duplicates; the downloadable report has them all.
SHOWN_PROBLEMS = 500
RUNNING = (Status.VALIDATING, Status.IMPORTING)
STATUS_BADGES = {
    Status.VALIDATING: "badge-info",
    Status.IMPORTING: "badge-info",
    Status.INVALID: "badge-danger",
    Status.READY: "badge-warning",
    Status.DONE: "badge-success",
    Status.FAILED: "badge-danger",
    Status.CANCELLED: "badge-neutral",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = {"size": importing.MAX_FILE_BYTES // (1024 * 1024), "rows": _number(importing.MAX_ROWS)}
        self.fields["file"].help_text = (
            _("The template filled in, saved as CSV or Excel (.xlsx): at most %(size)d MB and %(rows)s clients.") % limits
        )


# A cell a spreadsheet would run as a formula starts with one of these: the report prefixes it with a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def status_badge(client_import: ClientImport) -> str:
    # A check the worker never finished is refused like a file with errors, but has none to show.
    stopped = client_import.status == Status.INVALID and client_import.failure
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_BADGES.get(client_import.status, "badge-neutral"),
        _("Stopped") if stopped else client_import.get_status_display(),
    )


def _number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def _when(request: HttpRequest, value: Any) -> str | None:
    if value is None:
        return None
    return formats.date_format(timezone.localtime(value, zoneinfo.ZoneInfo(request.agency.time_zone)), "SHORT_DATETIME_FORMAT")


@require_safe
@perm_required(CLIENTS_IMPORT)
def import_list(request: HttpRequest) -> HttpResponse:
    imports = ClientImport.objects.for_agency(request.agency).select_related("created_by").defer("rows", "errors", "duplicates")
    table = Table(
        request,
        imports,
        columns=[
            Column("file_name", _("File"), sort="file_name", link=lambda i: reverse("clients:import_detail", args=[i.pk])),
            Column("created_at", _("Uploaded"), sort="created_at", value=lambda i: _when(request, i.created_at)),
            Column("created_by", _("By"), value=lambda i: i.created_by.get_full_name() if i.created_by else None),
            Column("status", _("Status"), sort="status", value=status_badge),
            Column("total_rows", _("Rows"), sort="total_rows", numeric=True, value=lambda i: _number(i.total_rows)),
            Column(
                "imported_count",
                _("Imported"),
                sort="imported_count",
                numeric=True,
                value=lambda i: _number(i.imported_count) if i.status == Status.DONE else None,
            ),
        ],
        default_sort="-created_at",
        caption=_("Client imports"),
        empty_title=_("No imports yet"),
        empty_text=_("Download the template, fill in your existing clients and upload it to import them all at once."),
        empty_icon="file-text",
    )
    return table_response(request, "clients/import_list.html", {"table": table}, table)


@perm_required(CLIENTS_IMPORT)
def import_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            client_import, parsed = importing.create_import(
                agency=request.agency, actor=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            if parsed.ignored_columns:
                messages.warning(
                    request,
                    _("These columns are not in the template and were left out: %(columns)s.")
                    % {"columns": ", ".join(parsed.ignored_columns)},
                )
            return redirect("clients:import_detail", pk=client_import.pk)
    return render(
        request,
        "clients/import_upload.html",
        {"form": form, "columns": importing.COLUMNS, "max_rows": importing.MAX_ROWS, "inline_rows": importing.INLINE_ROWS},
        status=400 if form.errors else 200,
    )


@require_safe
@perm_required(CLIENTS_IMPORT)
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """The empty template (``kind`` csv or xlsx, fixed by the URL)."""
    if kind == "xlsx":
        response = HttpResponse(
            importing.template_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    else:
        response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="caseload-clients-template.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@dataclass
class PreviewRow:
    row: int
    name: str
    born: str
    phone: str
    email: str
    language: str
    status: str
    duplicate: bool


@dataclass
class Problem:
    row: int
    column: str
    key: str
    value: str
    message: str


@dataclass
class Duplicate:
    row: int
    name: str
    url: str
    other: str
    reasons: list[str]


def _column_labels() -> dict[str, str]:
    return {column.key: column.label for column in importing.COLUMNS}


def _preview(client_import: ClientImport) -> list[PreviewRow]:
    flagged = importing.skipped_rows(client_import)
    rows = []
    for clean in importing.preview_rows(client_import):
        data = clean.data
        rows.append(
            PreviewRow(
                row=clean.row,
                name=" ".join(part for part in (data["given_name"], data["family_name"]) if part),
                born=data["date_of_birth"].isoformat() if data["date_of_birth"] else "",
                phone=display_phone(data["phone"]),
                email=data["email"],
                language=language_label(data["preferred_language"]),
                status=str(dict(importing.ImmigrationStatus.choices).get(data["immigration_status"], "")),
                duplicate=clean.row in flagged,
            )
        )
    return rows


def _row_names(client_import: ClientImport) -> dict[int, str]:
    return {
        raw["_row"]: " ".join(part for part in (raw.get("given_name", ""), raw.get("family_name", "")) if part)
        for raw in client_import.rows
    }


def _duplicates(client_import: ClientImport, limit: int | None = SHOWN_PROBLEMS) -> list[Duplicate]:
    names = _row_names(client_import)
    entries = client_import.duplicates if limit is None else client_import.duplicates[:limit]
    found = []
    for entry in entries:
        if "client" in entry:
            other = _("%(name)s (client %(number)s)") % {"name": entry["name"], "number": entry["client_number"]}
            url = reverse("clients:detail", args=[entry["client"]])
        else:
            other = _("Row %(row)s of this file") % {"row": entry["same_as_row"]}
            url = ""
        reasons = [str(importing.REASON_LABELS.get(code, code)) for code in entry["reasons"]]
        found.append(Duplicate(row=entry["row"], name=names.get(entry["row"], ""), url=url, other=other, reasons=reasons))
    return found


def _problems(client_import: ClientImport, limit: int | None = SHOWN_PROBLEMS) -> list[Problem]:
    labels = _column_labels()
    entries = client_import.errors if limit is None else client_import.errors[:limit]
    return [
        Problem(
            row=e["row"],
            column=labels.get(e["field"], e["field"]),
            key=e["field"],
            value=e.get("value", ""),
            message=e["message"],
        )
        for e in entries
    ]


def _percent(client_import: ClientImport) -> int:
    if not client_import.total_rows:
        return 0
    return min(100, round(100 * client_import.processed_rows / client_import.total_rows))


@require_safe
@perm_required(CLIENTS_IMPORT)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client_import = get_for_agency(request, ClientImport, pk=pk)
    running = client_import.status in RUNNING
    if request.htmx and request.GET.get("poll"):
        # The progress fragment polls until the run ends, then the whole page shows the result.
        if not running:
            return HttpResponseClientRefresh()
        return render(
            request,
            "clients/import_detail.html#progress",
            {"client_import": client_import, "running": running, "percent": _percent(client_import)},
        )
    context: dict[str, Any] = {
        "client_import": client_import,
        "running": running,
        "percent": _percent(client_import),
        "badge": status_badge(client_import),
        "uploaded": _when(request, client_import.created_at),
        "finished": _when(request, client_import.finished_at),
        "error_rows": len({e["row"] for e in client_import.errors}),
        "duplicate_rows": len(importing.skipped_rows(client_import)),
        "new_clients": client_import.total_rows - len(importing.skipped_rows(client_import)),
        "shown_problems": SHOWN_PROBLEMS,
        "cancellable": client_import.status in importing.CANCELLABLE,
        "skipped": client_import.total_rows - client_import.imported_count if client_import.status == Status.DONE else 0,
    }
    if client_import.status == Status.INVALID:
        context["problems"] = _problems(client_import)
    if client_import.status in (Status.INVALID, Status.READY, Status.FAILED):
        context["duplicates"] = _duplicates(client_import)
    if client_import.status in (Status.READY, Status.FAILED):
        context["preview"] = _preview(client_import)
        context["preview_limit"] = importing.PREVIEW_ROWS
    return render(request, "clients/import_detail.html", context)


@require_POST
@perm_required(CLIENTS_IMPORT)
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    client_import = get_for_agency(request, ClientImport, pk=pk)
    try:
        client_import = importing.start_import(
            client_import, request.user, skip_duplicates=request.POST.get("skip_duplicates") == "on"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if client_import.status == Status.DONE:
            messages.success(request, _("%(count)s clients imported.") % {"count": f"{client_import.imported_count:,}"})
    return redirect("clients:import_detail", pk=client_import.pk)


@require_POST
@perm_required(CLIENTS_IMPORT)
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    client_import = get_for_agency(request, ClientImport, pk=pk)
    try:
        importing.cancel_import(client_import, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("clients:import_detail", pk=client_import.pk)
    messages.success(request, _("Import cancelled; nothing was imported."))
    return redirect("clients:import_list")


@require_safe
@perm_required(CLIENTS_IMPORT)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    """Every error and duplicate of the file as CSV, to fix the spreadsheet row by row."""
    client_import = get_for_agency(request, ClientImport, pk=pk)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem")])
    for problem in _problems(client_import, limit=None):
        writer.writerow([problem.row, problem.column, _safe(problem.value), problem.message])
    for duplicate in _duplicates(client_import, limit=None):
        writer.writerow(
            [
                duplicate.row,
                "",
                _safe(duplicate.name),
                _("Possible duplicate of %(other)s: %(reasons)s")
                % {"other": duplicate.other, "reasons": ", ".join(duplicate.reasons)},
            ]
        )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="client-import-{client_import.pk}-report.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
