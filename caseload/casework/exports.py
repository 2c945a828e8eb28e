"""The standard casework exports: participant case notes, communications and supportive services.

Each is one query over a date range (and a program, if chosen), read in chunks with
``.iterator()`` and ``values_list`` so memory never grows with the rows: CSV is streamed as it is
read, XLSX is written by openpyxl's write-only workbook into a temporary file. What a member may
not see is never in the file: the private rule (``records.visible``) applies and deleted records
are left out. Every export writes an EXPORT audit event (which report, range, program, format and
row count — never contents). A cell a spreadsheet would run as a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from caseload.audit.actions import Action, record
from caseload.casework.models import CaseNote, Communication, SupportiveService
from caseload.casework.records import visible
from caseload.tenancy.models import Agency, Membership, Program

CHUNK = 2000
# A cell a spreadsheet would run as a formula starts with one of these (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe(value: Any) -> Any:
    """``value`` for a cell: text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Column:
    header: Any
    # The values_list paths this column reads, and how it turns them into the cell (None: the one value as is).
    paths: tuple[str, ...]
    cell: Callable[..., Any] | None = None
    # A choice column's labels, translated once per export (``reader``), not once per cell.
    choices: type[models.TextChoices] | None = None

    def reader(self) -> Callable[..., Any] | None:
        """How this column makes its cell in an export starting now (choice labels in the active language)."""
        if self.choices is not None:
            labels = {value: str(label) for value, label in self.choices.choices}
            return lambda value: labels.get(value, value)
        return self.cell


def _name(given: str, family: str, anonymous: bool, number: int) -> str:
    if anonymous:
        return str(_("Anonymous client %(number)s") % {"number": number})
    return " ".join(part for part in (given, family) if part)


def _staff(full_name: str | None, email: str | None) -> str:
    return full_name or email or ""


def _money(value: Decimal | None) -> Any:
    return value if value is None else float(value)


COMMON_HEAD = (
    Column(_("Client number"), ("client__client_number",)),
    Column(
        _("Client name"),
        ("client__given_name", "client__family_name", "client__is_anonymous", "client__client_number"),
        _name,
    ),
)
COMMON_TAIL = (
    Column(_("Program"), ("program__name",), lambda value: value or ""),
    Column(_("Recorded by"), ("author__user__full_name", "author__user__email"), _staff),
)


@dataclass(frozen=True)
class Report:
    key: str
    title: Any
    description: Any
    model: type[models.Model]
    date_field: str
    columns: tuple[Column, ...]

    @property
    def filename(self) -> str:
        return self.key

    @property
    def paths(self) -> list[str]:
        return [path for column in self.columns for path in column.paths]


def _report(key: str, title, description, model, date_field: str, lead: tuple, rest: tuple) -> Report:
    """A report of the client, ``lead`` columns, program and author, then ``rest``."""
    columns = (*COMMON_HEAD, *lead, *COMMON_TAIL, *rest)
    return Report(key=key, title=title, description=description, model=model, date_field=date_field, columns=columns)


REPORTS: dict[str, Report] = {
    report.key: report
    for report in (
        _report(
            "case-notes",
            _("Participant case notes"),
            _("Every case note in the range: date of contact, type, program, author and the note."),
            CaseNote,
            "contact_date",
            (Column(_("Date of contact"), ("contact_date",)), Column(_("Type"), ("note_type",), choices=CaseNote.Type)),
            (Column(_("Status"), ("status",), choices=CaseNote.Status), Column(_("Note"), ("body",))),
        ),
        _report(
            "communications",
            _("Participant case communications"),
            _("Every communication and reminder in the range: date, type, direction, subject and details."),
            Communication,
            "date",
            (Column(_("Date"), ("date",)), Column(_("Type"), ("kind",), choices=Communication.Kind)),
            (
                Column(_("Direction"), ("direction",), choices=Communication.Direction),
                Column(_("Status"), ("status",), choices=Communication.Status),
                Column(_("Subject"), ("subject",)),
                Column(_("Details"), ("body",)),
            ),
        ),
        _report(
            "supportive-services",
            _("Participant supportive services"),
            _("Every supportive service in the range: date, service, amount, vendor, grant and justification."),
            SupportiveService,
            "date",
            (Column(_("Date"), ("date",)), Column(_("Service"), ("service_type__name",))),
            (
                Column(_("Amount"), ("amount",), _money),
                Column(_("Vendor"), ("vendor",)),
                Column(_("Grant"), ("grant__name",), lambda value: value or ""),
                Column(_("Justification"), ("justification",)),
            ),
        ),
    )
}


@dataclass(frozen=True)
class Export:
    """One export asked for: which report, for whom, over which days, for which program."""

    report: Report
    agency: Agency
    membership: Membership | None
    start: datetime.date
    end: datetime.date
    program: Program | None = None

    def queryset(self) -> models.QuerySet:
        model = self.report.model
        rows = model.objects.for_agency(self.agency).filter(
            agency=self.agency, **{f"{self.report.date_field}__gte": self.start, f"{self.report.date_field}__lte": self.end}
        )
        if self.program is not None:
            rows = rows.filter(program=self.program)
        return visible(rows, self.membership).order_by(self.report.date_field, "client__client_number", "pk")

    def headers(self) -> list[str]:
        return [str(column.header) for column in self.report.columns]

    def rows(self) -> Iterator[list[Any]]:
        """The data rows (no header), one query read in chunks; every text cell formula-guarded."""
        # Where each column's values sit in the fetched tuple and how they become its cell, worked out once.
        plan, at = [], 0
        for column in self.report.columns:
            width = len(column.paths)
            plan.append((at, at + width, column.reader()))
            at += width
        for values in self.queryset().values_list(*self.report.paths).iterator(chunk_size=CHUNK):
            yield [safe(values[start] if cell is None else cell(*values[start:end])) for start, end, cell in plan]

    def filename(self, extension: str) -> str:
        return f"{self.report.filename}-{self.start.isoformat()}-to-{self.end.isoformat()}.{extension}"

    def audit(self, actor, file_format: str) -> int:
        """Write the EXPORT event (what, range, program, format, row count: no contents); returns the row count."""
        count = self.queryset().count()
        record(
            agency=self.agency,
            actor=actor,
            action=Action.EXPORT,
            object_type=self.report.model._meta.label_lower,
            # A record, kept in one language whoever exports.
            object_repr=f"Export: {self.report.key} ({file_format})",
            changes={
                "report": self.report.key,
                "from": self.start.isoformat(),
                "to": self.end.isoformat(),
                "program": self.program.pk if self.program is not None else None,
                "format": file_format,
                "rows": count,
            },
        )
        return count


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


# Rows per piece of the streamed response: large enough that the per-piece cost vanishes, small
# enough that memory stays flat.
CSV_PIECE = 500


def csv_lines(export: Export) -> Iterator[str]:
    """The CSV file in pieces. csv.writer writes None as an empty cell and a date as str() does, in ISO
    form (the exports' cells are text, numbers and dates: no datetimes), so rows go to it as they are."""
    writer = csv.writer(_Echo())
    # The byte order mark lets spreadsheet programs read the file as UTF-8 (accents, other scripts).
    yield "\ufeff" + writer.writerow(export.headers())
    piece = io.StringIO()
    batch = csv.writer(piece)
    rows = export.rows()
    while True:
        batch.writerows(itertools.islice(rows, CSV_PIECE))
        if not piece.tell():
            return
        yield piece.getvalue()
        piece.seek(0)
        piece.truncate()


def csv_response(export: Export) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(export), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export.filename("csv")}"'
    return response


def write_xlsx(export: Export, target) -> None:
    """The export as a workbook written row by row (openpyxl's write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(export.report.title)[:31])
    sheet.append(export.headers())
    for row in export.rows():
        # Control characters a note may hold cannot be written into a workbook's XML.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value for value in row])
    workbook.save(target)


def xlsx_response(export: Export) -> HttpResponse:
    # Deleted when the response is closed (FileResponse closes the file it was given).
    target = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - the response closes it
    try:
        write_xlsx(export, target)
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return FileResponse(target, as_attachment=True, filename=export.filename("xlsx"), content_type=XLSX_TYPE)


def respond(export: Export, actor, file_format: str) -> HttpResponse:
    """Audit the export, then answer the file: CSV streamed, XLSX from a temporary file."""
    export.audit(actor, file_format)
    if file_format == "xlsx":
        return xlsx_response(export)
    return csv_response(export)


def last_month(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last days of the month before ``today``'s."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def report_choices() -> Iterable[tuple[str, Any]]:
    return [(report.key, report.title) for report in REPORTS.values()]
