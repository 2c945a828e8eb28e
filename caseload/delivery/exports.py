"""The service-record export: one form's records, with the agency's own questions, as a spreadsheet.

The columns are the record (id, session date and type, program, client, status, author) then the
export columns of the form's CURRENT version and the agency's current questions on it
(``engine.columns``). A record answered under an older version is flattened under those columns
(``engine.flatten``): a question it did not have is empty, an answer to a question since dropped
is left out. Records are read through ``visibility.records_for``, so another program's records
(without ``delivery.all_programs``) and the private records of others are never in the file.

The file itself is made by the casework export machinery (``caseload.casework.exports``): CSV
streamed in pieces, XLSX written row by row, formula guard, EXPORT audit event (form, range,
program, format, row count — never answers). ``RecordExport`` has the shape it reads.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.http import HttpResponse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from caseload.audit.actions import Action, record
from caseload.casework import exports as casework_exports
from caseload.casework.exports import CHUNK, safe
from caseload.delivery.models import ServiceRecord, SessionType
from caseload.delivery.visibility import records_for
from caseload.formbuilder import engine, loading
from caseload.tenancy.models import Agency, Membership, Program

REPORT_KEY = "service-records"
FORMATS = casework_exports.FORMATS

# The record's own columns: heading, and the values_list paths the cell is made from.
RECORD_PATHS = (
    "pk",
    "session__date",
    "session__session_type",
    "program__name",
    "client__client_number",
    "client__given_name",
    "client__family_name",
    "client__is_anonymous",
    "status",
    "author__user__full_name",
    "author__user__email",
    "answers",
)
SESSION_TYPES = dict(SessionType.choices)
STATUSES = dict(ServiceRecord.Status.choices)


def record_headers() -> list[str]:
    return [
        str(_("Record")),
        str(_("Session date")),
        str(_("Session type")),
        str(_("Program")),
        str(_("Client number")),
        str(_("Client name")),
        str(_("Status")),
        str(_("Recorded by")),
    ]


def _client_name(given: str | None, family: str | None, anonymous: bool | None, number: int | None) -> str:
    if number is None:  # a form about the whole group
        return ""
    return casework_exports._name(given or "", family or "", bool(anonymous), number)


@dataclass(frozen=True)
class FormReport:
    """What the casework file writers read of a report: its key and title (the sheet's name)."""

    key: str
    title: str


@dataclass
class RecordExport:
    """One export asked for: a form's records the member may see, over a range of session dates, for a program."""

    agency: Agency
    membership: Membership | None
    form_key: str
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    program: Program | None = None
    language: str | None = None
    _spec: dict | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.language = self.language or get_language()

    @property
    def spec(self) -> dict:
        """The current form version with the agency's current questions (``FormDefinition.DoesNotExist`` if unknown)."""
        if self._spec is None:
            _definition, _extension, self._spec = loading.form_spec(self.agency, self.form_key)
        return self._spec

    @property
    def report(self) -> FormReport:
        definition = loading.current_definition(self.form_key)
        title = definition.name if definition is not None else self.form_key
        return FormReport(key=REPORT_KEY, title=title)

    def queryset(self) -> models.QuerySet[ServiceRecord]:
        rows = records_for(self.agency, self.membership).filter(definition__key=self.form_key)
        if self.date_from is not None:
            rows = rows.filter(session__date__gte=self.date_from)
        if self.date_to is not None:
            rows = rows.filter(session__date__lte=self.date_to)
        if self.program is not None:
            rows = rows.filter(program=self.program)
        return rows.order_by("session__date", "pk")

    def columns(self) -> list[tuple[str, str]]:
        return engine.columns(self.spec, self.language)

    def headers(self) -> list[str]:
        return [*record_headers(), *(str(heading) for _key, heading in self.columns())]

    def rows(self) -> Iterator[list[Any]]:
        """The data rows (no header), one query read in chunks; every text cell formula-guarded."""
        spec, keys = self.spec, [key for key, _heading in self.columns()]
        # The labels in the active language, translated once per export (not once per cell).
        session_types = {value: str(label) for value, label in SESSION_TYPES.items()}
        statuses = {value: str(label) for value, label in STATUSES.items()}
        for values in self.queryset().values_list(*RECORD_PATHS).iterator(chunk_size=CHUNK):
            pk, date, session_type, program, number, given, family, anonymous, status, full_name, email, answers = values
            answered = engine.flatten(spec, answers, self.language)
            cells = [
                pk,
                date,
                session_types.get(session_type, session_type),
                program or "",
                number if number is not None else "",
                _client_name(given, family, anonymous, number),
                statuses.get(status, status),
                full_name or email or "",
                *(answered.get(key, "") for key in keys),
            ]
            yield [safe(cell) for cell in cells]

    def filename(self, extension: str) -> str:
        parts = [REPORT_KEY, self.form_key.replace("_", "-")]
        if self.date_from is not None:
            parts.append(f"from-{self.date_from.isoformat()}")
        if self.date_to is not None:
            parts.append(f"to-{self.date_to.isoformat()}")
        return "-".join(parts) + f".{extension}"

    def audit(self, actor, file_format: str) -> int:
        """Write the EXPORT event (form, range, program, format, row count: no answers); returns the row count."""
        count = self.queryset().count()
        record(
            agency=self.agency,
            actor=actor,
            action=Action.EXPORT,
            object_type=ServiceRecord._meta.label_lower,
            object_repr=f"Export: {REPORT_KEY} {self.form_key} ({file_format})",
            changes={
                "report": REPORT_KEY,
                "form": self.form_key,
                "from": self.date_from.isoformat() if self.date_from else None,
                "to": self.date_to.isoformat() if self.date_to else None,
                "program": self.program.pk if self.program is not None else None,
                "format": file_format,
                "rows": count,
            },
        )
        return count


def service_record_rows(
    agency: Agency,
    membership: Membership | None,
    form_key: str,
    *,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    program: Program | None = None,
) -> Iterator[list[Any]]:
    """The export as rows, header first, streamed from one query (not audited: ``respond`` is)."""
    export = RecordExport(agency, membership, form_key, date_from=date_from, date_to=date_to, program=program)
    yield export.headers()
    yield from export.rows()


def respond(export: RecordExport, actor, file_format: str = "csv") -> HttpResponse:
    """Audit the export, then answer the file (CSV streamed, XLSX from a temporary file)."""
    return casework_exports.respond(export, actor, file_format)
