"""Importing an agency's existing clients from its CSV or XLSX template.

Three steps, each run inline for a small file and as a background task (clients/tasks.py) for a
large one:

1. ``create_import`` reads the upload (type checked by content, size and row count limited, the
   header matched against ``COLUMNS``) and stores its rows on a ``ClientImport``.
2. ``validate_import`` cleans every row (an error names the spreadsheet row and the column) and
   flags likely duplicates, within the file and against the agency's clients, in bulk: a few
   statements per file, never one per row. Errors block the import; duplicates are warnings the
   user may skip.
3. ``start_import`` / ``import_clients`` write every client of the file in one transaction, or
   none: client numbers as one block, INSERTs of whole columns in batches (on PostgreSQL sent in
   pipeline mode, each built while the server writes the last), one audit event for the import
   and a create event per client. A failure rolls everything back and leaves the import "failed"
   with the reason.

The rows are kept on the import only until it is done or cancelled (they are the file's personal
data); counts, errors and duplicates stay as the history.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from operator import attrgetter
from typing import Any

import phonenumbers
from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connections, models, router, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload import rawrows
from caseload.audit.actions import REDACTED, SENSITIVE_FIELDS, Action, record
from caseload.audit.context import client_ip
from caseload.audit.models import AuditEvent
from caseload.bulk import gc_paused
from caseload.clients import matching
from caseload.clients.actions import (
    clean_phone,
    insert_search_keys,
    next_client_number,
    pipelined,
    refresh_search_fields,
    unnest_insert,
)
from caseload.clients.models import Client, ClientImport, ClientPhone, ContactMethod, ImmigrationStatus, ReferralSource
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope, all_agencies

logger = logging.getLogger(__name__)

Status = ClientImport.Status

# Limits of one file: bigger files are split by the agency (the message says so).
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 100
# Rows read, blank ones included, before a file is refused (a workbook of a million empty rows).
MAX_SCANNED_ROWS = 5 * MAX_ROWS
# Files with more rows than this are checked and imported by a background task, with progress.
INLINE_ROWS = 500
# How many rows the preview shows as they will be imported.
PREVIEW_ROWS = 20
# Rows between two progress updates of a background run.
PROGRESS_EVERY = 500
BATCH_SIZE = 1000
# Rows per INSERT on PostgreSQL (arrays bound in binary: memory, not statement size, is the limit).
PG_BATCH_SIZE = 5000
# Same date of birth with more clients than this: compare folded names exactly instead of fuzzily
# (placeholder dates such as 1900-01-01 would otherwise make the check quadratic).
FUZZY_DOB_LIMIT = 100
# The longest general notes a row may hold (the field itself has no limit).
MAX_NOTES = 10_000
# The most existing clients one row is reported as a likely duplicate of.
MATCHES_PER_ROW = 5
# Values longer than this are cut in the error report.
SHOWN_VALUE = 80

DATE_FORMAT_HELP = gettext_lazy("YYYY-MM-DD, for example 1985-03-12 (or a date cell in Excel).")
YES_NO_HELP = gettext_lazy("yes or no (blank is no).")


# --- The column map ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportColumn:
    """One column of the template. ``key`` is its header; ``aliases`` are other headers read as it
    (besides the field's English and French labels), compared without case, accents, spaces or
    punctuation."""

    key: str
    help: Promise | None
    example: str
    aliases: tuple[str, ...] = ()
    required_header: bool = False
    label_text: Promise | None = None
    choices: Any = None

    @property
    def help_text(self) -> str:
        if self.choices is not None:
            return _("One of: %(codes)s (or the label shown in Caseload).") % {"codes": ", ".join(self.choices.values)}
        return str(self.help)

    @property
    def label(self) -> str:
        label = str(self.label_text if self.label_text is not None else Client._meta.get_field(self.key).verbose_name)
        return label[:1].upper() + label[1:]


COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn(
        "given_name",
        gettext_lazy("Given (first) name. Each row needs a given name or a family name."),
        "Amina",
        ("first name", "firstname", "first", "given", "prenom"),
        required_header=True,
    ),
    ImportColumn(
        "family_name",
        gettext_lazy("Family (last) name."),
        "Haddad",
        ("last name", "lastname", "surname", "last", "nom", "nom de famille"),
        required_header=True,
    ),
    ImportColumn(
        "preferred_name",
        gettext_lazy("The name the client goes by, if different."),
        "Mina",
        ("nickname", "nom prefere", "nom usuel"),
    ),
    ImportColumn(
        "date_of_birth", DATE_FORMAT_HELP, "1985-03-12", ("dob", "birth date", "birthdate", "born", "date de naissance")
    ),
    ImportColumn("gender", gettext_lazy("As the client describes it."), "Woman", ("sex", "genre", "sexe")),
    ImportColumn(
        "email",
        gettext_lazy("An email address."),
        "amina.haddad@example.org",
        ("e-mail", "email address", "courriel", "adresse courriel"),
    ),
    ImportColumn(
        "phone",
        gettext_lazy("Main phone, in any format; numbers without a country code are read as Canadian."),
        "416-555-0123",
        ("phone number", "telephone", "tel", "mobile", "cell", "cell phone"),
    ),
    ImportColumn(
        "other_phone",
        gettext_lazy("A second phone number."),
        "",
        ("second phone", "home phone", "alternate phone", "autre telephone"),
        label_text=gettext_lazy("Other phone"),
    ),
    ImportColumn("street_address", gettext_lazy("Street and unit."), "123 Main Street, Apt 4", ("address", "street", "adresse")),
    ImportColumn("city", gettext_lazy("City or town."), "Toronto", ("town", "ville")),
    ImportColumn(
        "province", gettext_lazy("Province or territory."), "ON", ("province or territory", "state", "province ou territoire")
    ),
    ImportColumn(
        "postal_code", gettext_lazy("Postal code."), "M5V 2T6", ("postal", "postcode", "zip", "zip code", "code postal")
    ),
    ImportColumn(
        "preferred_language",
        gettext_lazy("A language code such as en, fr, ar, so (or the language's English name)."),
        "ar",
        ("language", "langue", "langue preferee"),
    ),
    ImportColumn(
        "spoken_languages",
        gettext_lazy("Language codes or names, separated by semicolons."),
        "ar; en",
        ("languages", "languages spoken", "other languages", "langues parlees"),
    ),
    ImportColumn(
        "immigration_status",
        None,
        ImmigrationStatus.PERMANENT_RESIDENT,
        ("status in canada", "statut d immigration"),
        choices=ImmigrationStatus,
    ),
    ImportColumn("arrival_date", DATE_FORMAT_HELP, "2023-06-01", ("date of arrival", "arrival", "date d arrivee")),
    ImportColumn(
        "preferred_contact_method",
        None,
        ContactMethod.EMAIL,
        ("contact method", "contact by", "mode de contact"),
        choices=ContactMethod,
    ),
    ImportColumn("consent_email", YES_NO_HELP, "yes", ("email consent", "agrees to email", "consentement courriel")),
    ImportColumn("consent_sms", YES_NO_HELP, "no", ("sms consent", "text consent", "agrees to sms", "consentement texto")),
    ImportColumn(
        "emergency_contact_name", gettext_lazy("Name of the emergency contact."), "", ("emergency contact", "contact d urgence")
    ),
    ImportColumn("emergency_contact_phone", gettext_lazy("Phone of the emergency contact."), "", ("emergency phone",)),
    ImportColumn(
        "emergency_contact_relationship",
        gettext_lazy("For example: sister, friend."),
        "",
        ("emergency relationship", "relationship"),
    ),
    ImportColumn(
        "referral_source",
        None,
        ReferralSource.COMMUNITY,
        ("referred from", "source", "source de reference"),
        choices=ReferralSource,
    ),
    ImportColumn(
        "referral_source_detail",
        gettext_lazy("Who referred the client (organisation or person)."),
        "",
        ("referred by", "referrer", "refere par"),
    ),
    ImportColumn(
        "general_notes", gettext_lazy("Anything else staff should know."), "", ("notes", "note", "comments", "remarques")
    ),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)
_TEXT_FIELDS = (
    "given_name",
    "family_name",
    "preferred_name",
    "gender",
    "street_address",
    "city",
    "province",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "referral_source_detail",
    "general_notes",
)
_CHOICES = {"immigration_status": ImmigrationStatus, "preferred_contact_method": ContactMethod, "referral_source": ReferralSource}
_YES = {"yes", "y", "true", "1", "x", "oui", "o", "vrai"}
_NO = {"no", "n", "false", "0", "non", "faux", ""}
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})?$")
_CANADIAN_POSTAL = re.compile(r"^([A-Z]\d[A-Z])\s*(\d[A-Z]\d)$")
_LIST_SEPARATORS = re.compile(r"[;,/|]")
# A North American number as written most often: area code (never 0 or 1: no prefix to strip), exchange, line.
_NORTH_AMERICAN = re.compile(r"(?:\(([2-9]\d\d)\)|([2-9]\d\d))[ .-]?(\d{3})[ .-]?(\d{4})")
# YYYY-MM-DD, or what a date cell of a spreadsheet reads as (the time is midnight).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}( 00:00:00)?$")


def _key(text: Any) -> str:
    """A header or a choice as compared: folded, letters and digits only ("Date of birth" -> "dateofbirth")."""
    return re.sub(r"[^0-9a-z]+", "", matching.fold(str(text)))


def _labels(value: Any) -> list[str]:
    """``value`` (a lazy label) in English and in French."""
    texts = []
    for language in ("en", "fr"):
        with translation.override(language):
            texts.append(str(value))
    return texts


def header_map() -> dict[str, str]:
    """Every header spelling the import reads -> the column key."""
    mapping: dict[str, str] = {}
    for column in COLUMNS:
        spellings = [column.key, *column.aliases]
        label = column.label_text if column.label_text is not None else Client._meta.get_field(column.key).verbose_name
        spellings += _labels(label)
        for spelling in spellings:
            mapping.setdefault(_key(spelling), column.key)
    return mapping


def _choice_map(choices: type) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for value, label in choices.choices:
        for spelling in (value, *_labels(label)):
            mapping.setdefault(_key(spelling), value)
    return mapping


def _language_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for code, info in LANG_INFO.items():
        if "name" not in info:
            continue
        for spelling in (info["name"], info.get("name_local", "")):
            if spelling:
                mapping.setdefault(_key(spelling), code)
    return mapping


# --- Reading the file --------------------------------------------------------------------------


class ImportFileError(ValidationError):
    """The whole file is refused (wrong type, too large, no header, ...); raised on the ``file`` field."""

    def __init__(self, message: str) -> None:
        super().__init__({"file": [message]})


@dataclass
class ParsedFile:
    rows: list[dict[str, str]]
    ignored_columns: list[str] = field(default_factory=list)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decode_text(data: bytes) -> str:
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encodings = ["utf-16"] if utf16 else ["utf-8-sig", "cp1252"]
    if b"\x00" in data and not utf16:
        raise ImportFileError(_("This is not a CSV or Excel (.xlsx) file. Download the template and save it as CSV or .xlsx."))
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Text has few control characters; a binary file decoded as cp1252 has many.
        controls = sum(1 for char in text[:20000] if ord(char) < 32 and char not in "\t\r\n")
        if controls:
            break
        return text
    raise ImportFileError(_("This is not a CSV or Excel (.xlsx) file. Download the template and save it as CSV or .xlsx."))


def _csv_records(data: bytes) -> Iterator[list[Any]]:
    text = _decode_text(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", ";", "\t"], key=first_line.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as error:
        raise ImportFileError(
            _("The CSV file could not be read (%(problem)s). Save it again from your spreadsheet as CSV.") % {"problem": error}
        ) from None


def _xlsx_records(data: bytes) -> Iterator[list[Any]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise ImportFileError(_("This zip file is not an Excel workbook. Upload the template as .xlsx or CSV."))
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(
            _("The Excel file could not be read. Open it in your spreadsheet, save it again as .xlsx, and upload it.")
        ) from None
    try:
        sheet = workbook["Clients"] if "Clients" in workbook.sheetnames else workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield list(values)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(
            _("The Excel file could not be read. Open it in your spreadsheet, save it again as .xlsx, and upload it.")
        ) from None
    finally:
        workbook.close()


def _records(data: bytes) -> Iterator[list[Any]]:
    """The file's rows as lists of cell values, by what the bytes are (never by the file name)."""
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_records(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(_("Old Excel files (.xls) cannot be read. Save the file as .xlsx or CSV and upload it again."))
    if data.startswith(b"%PDF"):
        raise ImportFileError(_("This is a PDF, not a spreadsheet. Upload the template as CSV or Excel (.xlsx)."))
    return _csv_records(data)


def read_upload(upload: Any) -> ParsedFile:
    """The rows of an uploaded CSV or XLSX file, each ``{column key: text, "_row": row number}``.

    Row numbers are the spreadsheet's: the header is row 1. Blank rows are skipped (their numbers
    too). Raises ImportFileError with a message for the user when the file cannot be imported at all.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(limit)d MB. Split it into smaller files and import each.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    data = upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            _("The file is larger than %(limit)d MB. Split it into smaller files and import each.")
            % {"limit": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    return parse_records(_records(data))


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def parse_records(records: Iterable[list[Any]]) -> ParsedFile:
    records = iter(records)
    header = next(records, None)
    if header is None or not any(_cell_text(cell) for cell in header):
        raise ImportFileError(
            _("The first row must hold the column names of the template (given_name, family_name, ...); it is empty.")
        )
    known = header_map()
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header[:MAX_COLUMNS]):
        title = _cell_text(cell)
        if not title:
            continue
        key = known.get(_key(title))
        if key is None:
            ignored.append(title)
            continue
        if key in seen:
            raise ImportFileError(
                _("Columns %(first)s and %(second)s are both read as %(key)s. Keep one of them.")
                % {"first": f"“{seen[key]}”", "second": f"“{title}” ({_column_letter(index)})", "key": key}
            )
        seen[key] = title
        columns[index] = key
    missing = [column.key for column in COLUMNS if column.required_header and column.key not in seen]
    if missing:
        raise ImportFileError(
            _(
                "The first row has no %(columns)s column. It must hold the column names of the template (download it on this page)."
            )
            % {"columns": ", ".join(missing)}
        )
    rows: list[dict[str, str]] = []
    for number, cells in enumerate(records, start=2):
        if number > MAX_SCANNED_ROWS:
            raise ImportFileError(
                _("The file has more than %(limit)s clients. Split it into smaller files and import each.") % {"limit": f"{MAX_ROWS:,}"}
            )
        values = {key: _cell_text(cells[index]) if index < len(cells) else "" for index, key in columns.items()}
        if not any(values.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(
                _("The file has more than %(limit)s clients. Split it into smaller files and import each.")
                % {"limit": f"{MAX_ROWS:,}"}
            )
        values["_row"] = number  # type: ignore[assignment]
        rows.append(values)
    if not rows:
        raise ImportFileError(_("The file has column names but no clients: add one client per row under the header."))
    return ParsedFile(rows=rows, ignored_columns=ignored)


# --- Cleaning one row --------------------------------------------------------------------------


@dataclass
class CleanRow:
    row: int
    data: dict[str, Any]
    other_phone: str
    errors: list[dict[str, Any]]


class RowCleaner:
    """Cleans rows into register_client data; built once per file (the lookup tables)."""

    def __init__(self, today: date | None = None) -> None:
        self.today = today or timezone.localdate()
        self.choices = {name: _choice_map(choices) for name, choices in _CHOICES.items()}
        self.languages = _language_map()
        self.max_lengths = {
            name: Client._meta.get_field(name).max_length or MAX_NOTES for name in (*_TEXT_FIELDS, "email", "postal_code")
        }
        # Each phone of the file read once (an agency's own number, a shelter's, repeat down a file).
        self.phones: dict[str, str | None] = {}

    def clean(self, raw: dict[str, Any]) -> CleanRow:
        row = raw["_row"]
        errors: list[dict[str, Any]] = []

        def error(column: str, message: str) -> None:
            value = str(raw.get(column, ""))
            errors.append(
                {
                    "row": row,
                    "field": column,
                    "message": message,
                    "value": value if len(value) <= SHOWN_VALUE else value[:SHOWN_VALUE] + "…",
                }
            )

        data: dict[str, Any] = {"is_anonymous": False}
        for name in _TEXT_FIELDS:
            value = raw.get(name, "")
            if len(value) > self.max_lengths[name]:
                error(
                    name,
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": self.max_lengths[name], "count": len(value)},
                )
            data[name] = value
        if not data["given_name"] and not data["family_name"]:
            error("given_name", _("Each client needs a given name or a family name."))

        email = raw.get("email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                error("email", _("Enter a valid email address."))
            if len(email) > self.max_lengths["email"]:
                error(
                    "email",
                    _("At most %(limit)d characters (this has %(count)d).")
                    % {"limit": self.max_lengths["email"], "count": len(email)},
                )
        data["email"] = email

        for name in ("phone", "emergency_contact_phone"):
            data[name] = self._phone(raw.get(name, ""), name, error)
        other_phone = self._phone(raw.get("other_phone", ""), "other_phone", error)

        # The rules of register_client (actions._clean_profile), with its messages.
        born = self._date(raw.get("date_of_birth", ""), "date_of_birth", error)
        if born and born > self.today:
            error("date_of_birth", _("The date of birth cannot be in the future."))
            born = None
        elif born and born.year < self.today.year - 130:
            error("date_of_birth", _("Enter a date of birth in the last 130 years."))
            born = None
        arrived = self._date(raw.get("arrival_date", ""), "arrival_date", error)
        if arrived and arrived > self.today:
            error("arrival_date", _("The arrival date cannot be in the future."))
            arrived = None
        elif arrived and born and arrived < born:
            error("arrival_date", _("The arrival date cannot be before the date of birth."))
            arrived = None
        data["date_of_birth"], data["arrival_date"] = born, arrived

        postal = raw.get("postal_code", "").upper()
        canadian = _CANADIAN_POSTAL.match(postal)
        data["postal_code"] = f"{canadian.group(1)} {canadian.group(2)}" if canadian else postal
        if len(data["postal_code"]) > self.max_lengths["postal_code"]:
            error(
                "postal_code",
                _("At most %(limit)d characters (this has %(count)d).")
                % {"limit": self.max_lengths["postal_code"], "count": len(postal)},
            )

        for name, mapping in self.choices.items():
            value = raw.get(name, "")
            data[name] = ""
            if value:
                chosen = mapping.get(_key(value))
                if chosen is None:
                    error(name, _("Not one of the allowed values: %(values)s.") % {"values": ", ".join(_CHOICES[name].values)})
                else:
                    data[name] = chosen

        for name in ("consent_email", "consent_sms"):
            value = raw.get(name, "").strip().casefold()
            if value in _YES:
                data[name] = True
            elif value in _NO:
                data[name] = False
            else:
                data[name] = False
                error(name, _("Enter yes or no."))
        if data["consent_email"] and not data["email"]:
            error("consent_email", _("Add an email address to contact the client by email."))
        if data["consent_sms"] and not data["phone"]:
            error("consent_sms", _("Add a phone number to contact the client by text message."))

        data["preferred_language"] = ""
        language = raw.get("preferred_language", "")
        if language:
            code = self._language(language)
            if code is None:
                error("preferred_language", _("Enter a language code such as en, fr or ar, or the language's English name."))
            else:
                data["preferred_language"] = code
        spoken = []
        for part in _LIST_SEPARATORS.split(raw.get("spoken_languages", "")):
            if part.strip():
                code = self._language(part)
                if code is None:
                    error("spoken_languages", _("“%(language)s” is not a language code or name.") % {"language": part.strip()})
                elif code not in spoken:
                    spoken.append(code)
        data["spoken_languages"] = spoken
        return CleanRow(row=row, data=data, other_phone=other_phone, errors=errors)

    def _phone(self, value: str, column: str, error: Callable[[str, str], None]) -> str:
        if value not in self.phones:
            self.phones[value] = phone_of(value)
        phone = self.phones[value]
        if phone is None:
            error(column, _("Enter a valid phone number, for example 416-555-0123 or +44 20 7946 0958."))
            return ""
        return phone

    def _date(self, value: str, column: str, error: Callable[[str, str], None]) -> date | None:
        if not value:
            return None
        try:
            parsed = date.fromisoformat(value[:10]) if _ISO_DATE.match(value) else None
        except ValueError:
            parsed = None
        if parsed is None:
            error(column, _("Write dates as YYYY-MM-DD, for example 1985-03-12."))
        return parsed

    def _language(self, value: str) -> str | None:
        text = value.strip()
        lowered = text.casefold().replace("_", "-")
        if _LANGUAGE_CODE.match(lowered):
            return lowered
        return self.languages.get(_key(text))


def phone_of(value: str) -> str | None:
    """What clean_phone makes of a cell: its E.164 form ("" for a blank cell), or None when it is not a
    valid phone number.

    Ten digits written as North American numbers mostly are ("416-555-0123", "(416) 555 0123") are read
    straight into the PhoneNumber that ``phonenumbers.parse`` would make of them, after its few dozen
    regular expressions (a fifth of checking a file), and checked by phonenumbers all the same; a number
    not valid in Canada, and anything else, goes to clean_phone.
    """
    plain = _NORTH_AMERICAN.fullmatch(value)
    if plain:
        digits = (plain[1] or plain[2]) + plain[3] + plain[4]
        if phonenumbers.is_valid_number_for_region(phonenumbers.PhoneNumber(country_code=1, national_number=int(digits)), "CA"):
            return "+1" + digits
    try:
        return clean_phone(value)
    except ValidationError:
        return None


# --- Duplicates --------------------------------------------------------------------------------

# Stored reason codes (ClientImport.duplicates) -> what the preview says.
REASONS = {"dob_name": matching.REASON_SAME_DOB, "phone": matching.REASON_SAME_PHONE, "email": matching.REASON_SAME_EMAIL}
REASON_LABELS = {
    "dob_name": gettext_lazy("same date of birth and similar name"),
    "phone": matching.REASON_SAME_PHONE,
    "email": matching.REASON_SAME_EMAIL,
}


@dataclass
class _Person:
    """What the duplicate check compares of a row or an existing client."""

    ref: int  # the row number, or the client's pk
    tokens: list[str]
    folded_name: str
    dob: date | None
    phones: set[str]
    email: str


def _person(ref: int, tokens: list[str], dob: date | None, phones: Iterable[str], email_folded: str) -> _Person:
    """A row or a client as the rules compare it, from its name's tokens and its folded email."""
    return _Person(ref, tokens, " ".join(sorted(tokens)), dob, {p for p in phones if p}, email_folded)


def _row_person(clean: CleanRow) -> _Person:
    """A cleaned row of the file as the duplicate rules compare it."""
    data = clean.data
    return _person(
        clean.row,
        matching.name_tokens(data["given_name"], data["family_name"], data["preferred_name"]),
        data["date_of_birth"],
        [data["phone"], clean.other_phone],
        matching.fold_email(data["email"]),
    )


def _similar_names(probe: _Person, candidates: list[_Person]) -> list[_Person]:
    """The candidates whose name is similar to the probe's (matching.name_similarity at least SIMILAR_NAME),
    compared all at once (matching.name_similarities)."""
    similarities = matching.name_similarities(probe.tokens, [candidate.tokens for candidate in candidates])
    return [candidate for candidate, value in zip(candidates, similarities, strict=True) if value >= matching.SIMILAR_NAME]


class _Index:
    """People by phone, email and date of birth, for the three duplicate rules.

    Each key keeps at most ``per_key`` people, so a value shared by thousands of rows (an agency's
    own phone number used as a placeholder) costs no more than a handful: the file's index keeps
    only the first row of each value, the earliest row a later one repeats.
    """

    def __init__(self, per_key: int) -> None:
        self.per_key = per_key
        self.by_phone: dict[str, list[_Person]] = defaultdict(list)
        self.by_email: dict[str, list[_Person]] = defaultdict(list)
        self.by_dob: dict[date, list[_Person]] = defaultdict(list)
        self.dob_count: dict[date, int] = defaultdict(int)
        self.by_dob_name: dict[tuple[date, str], list[_Person]] = defaultdict(list)

    def _keep(self, bucket: list[_Person], person: _Person, limit: int | None = None) -> None:
        if len(bucket) < (limit or self.per_key):
            bucket.append(person)

    def add(self, person: _Person) -> None:
        for phone in person.phones:
            self._keep(self.by_phone[phone], person)
        if person.email:
            self._keep(self.by_email[person.email], person)
        if person.dob:
            self.dob_count[person.dob] += 1
            self._keep(self.by_dob[person.dob], person, FUZZY_DOB_LIMIT)
            self._keep(self.by_dob_name[(person.dob, person.folded_name)], person)

    def matches(self, probe: _Person) -> dict[int, list[str]]:
        """ref -> reason codes, in the order of REASONS."""
        found: dict[int, list[str]] = defaultdict(list)
        if probe.dob:
            if self.dob_count.get(probe.dob, 0) <= FUZZY_DOB_LIMIT:
                alike = _similar_names(probe, self.by_dob.get(probe.dob, []))
            else:
                alike = self.by_dob_name.get((probe.dob, probe.folded_name), []) if probe.tokens else []
            for candidate in alike:
                found[candidate.ref].append("dob_name")
        for phone in probe.phones:
            for candidate in self.by_phone.get(phone, []):
                if "phone" not in found[candidate.ref]:
                    found[candidate.ref].append("phone")
        if probe.email:
            for candidate in self.by_email.get(probe.email, []):
                found[candidate.ref].append("email")
        return {ref: reasons for ref, reasons in found.items() if reasons}


def _chunks(values: Iterable[Any], size: int = 500) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _in_list_size() -> int:
    """Values per ``__in`` list: SQLite counts its parameters (999 at most in older builds)."""
    return 5000 if connections[router.db_for_read(Client)].vendor == "postgresql" else 500


def _one_of(vendor: str, column: str, values: list[Any]) -> tuple[str, Any]:
    """SQL testing that ``column`` is one of ``values``, and its one parameter, however many the values:
    an array on PostgreSQL, a JSON list read by json_each elsewhere (SQLite takes 999 parameters at most
    in older builds; dates go as the ISO text it stores them as)."""
    if vendor == "postgresql":
        return f"{column} = ANY(%s)", list(values)
    return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(values, default=str)  # noqa: S608 (a quoted column)


def _existing_clients(agency: Agency, people: list[_Person]) -> _Index:
    """The agency's named clients sharing a phone, an email or a date of birth with the file, indexed.

    Two statements whatever the size of the file, written by hand and read through the driver's cursor:
    the additional phones (ClientPhone) that are the file's phones, then the clients holding one of its
    phones, emails or dates of birth, or one of those additional phones, each list one parameter
    (_one_of). ``__in`` lists of 5,000 values at a time took about twice as long: the ORM prepared each
    value and went through the rows one by one, and each list of phones or emails was a scan of every
    client.

    Only what the rules compare is read, from the stored search columns (the folded name is already
    its tokens, the email already folded): a file of 10,000 rows meets tens of thousands of clients
    born the same days, and folding each of their names again was most of the check.
    """
    phones = sorted({phone for person in people for phone in person.phones})
    emails = sorted({person.email for person in people if person.email})
    dobs = sorted({person.dob for person in people if person.dob})
    alias = router.db_for_read(Client)
    connection = connections[alias]
    client, other = rawrows.Quoted(Client, alias), rawrows.Quoted(ClientPhone, alias)
    # Clients holding one of the file's phones as an additional number, and which.
    other_phones: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        held, numbers = _one_of(connection.vendor, other["number"], phones)
        # Identifiers come from the models, quoted; every value is a parameter.
        cursor.execute(
            f"SELECT {other['client']}, {other['number']} FROM {other.table} WHERE {other['agency']} = %s AND {held}",  # noqa: S608
            [agency.pk, numbers],
        )
        for client_id, number in cursor.fetchall():
            other_phones[client_id].append(number)
        lists = {"phone": phones, "email_folded": emails, "date_of_birth": dobs, "pk": sorted(other_phones)}
        shared = [_one_of(connection.vendor, client[name], values) for name, values in lists.items()]
        cursor.execute(
            f"SELECT {client['pk']}, {client['date_of_birth']}, {client['name_folded']}, {client['phone']}, "  # noqa: S608
            f"{client['email_folded']} FROM {client.table} WHERE {client['agency']} = %s AND {client['is_anonymous']} = %s "
            f"AND {client['status']} <> %s AND ({' OR '.join(sql for sql, _values in shared)})",
            [agency.pk, False, Client.Status.MERGED.value, *(values for _sql, values in shared)],
        )
        found = sorted(cursor.fetchall())  # by client: the buckets keep the first few
    index = _Index(per_key=MATCHES_PER_ROW * 4)
    for pk, born, folded, phone, email in found:
        index.add(_person(pk, folded.split(), born, (phone, *other_phones[pk]), email))
    return index


def find_duplicates(agency: Agency, rows: list[CleanRow]) -> list[dict[str, Any]]:
    """Likely duplicates of each row: earlier rows of the file, and the agency's clients.

    The rules of queries.likely_duplicates (matching.is_likely_duplicate): the same date of birth and
    a similar name, the same phone, or the same email. Entries: ``{"row", "reasons", "client",
    "client_number", "name"}`` for an existing client, ``{"row", "reasons", "same_as_row"}`` for an
    earlier row.
    """
    people = [_row_person(clean) for clean in rows]
    existing = _existing_clients(agency, people)
    in_file = _Index(per_key=1)
    duplicates: list[dict[str, Any]] = []
    for person in people:
        matches = sorted(existing.matches(person).items(), key=lambda item: (-len(item[1]), item[0]))
        for pk, reasons in sorted(matches[:MATCHES_PER_ROW]):
            duplicates.append({"row": person.ref, "reasons": reasons, "client": pk})
        earlier = in_file.matches(person)
        if earlier:
            first = min(earlier)
            duplicates.append({"row": person.ref, "reasons": earlier[first], "same_as_row": first})
        in_file.add(person)
    # What the preview shows of each client found: read for those only.
    named = {entry["client"] for entry in duplicates if "client" in entry}
    shown: dict[int, tuple[int, str, str]] = {}
    clients = Client.objects.for_agency(agency)
    for chunk in _chunks(sorted(named), _in_list_size()):
        shown.update((row[0], row[1:]) for row in clients.filter(pk__in=chunk).values_list("pk", "client_number", "given_name", "family_name"))
    for entry in duplicates:
        if "client" in entry:
            number, given, family = shown[entry["client"]]
            entry["client_number"] = number
            entry["name"] = " ".join(part for part in (given, family) if part)
    return duplicates


# --- The steps ---------------------------------------------------------------------------------


def _progress(client_import: ClientImport, done: int) -> None:
    client_import.processed_rows = done
    ClientImport.objects.for_agency(client_import.agency).filter(pk=client_import.pk).update(
        processed_rows=done, heartbeat_at=timezone.now()
    )


def _beat(client_import: ClientImport, status: str) -> bool:
    """A run starts: show it is alive. False when the import is no longer ``status`` (cancelled,
    or failed by recover_stalled_imports while the task waited for a worker): leave it alone."""
    return bool(
        ClientImport.objects.for_agency(client_import.agency)
        .filter(pk=client_import.pk, status=status)
        .update(heartbeat_at=timezone.now())
    )


def _language() -> str:
    return translation.get_language() or "en"


def create_import(*, agency: Agency, actor: Any, upload: Any) -> tuple[ClientImport, ParsedFile]:
    """Read the uploaded file into a new import and check it: now for a small file, in the background
    for a large one. Raises ValidationError on ``file`` when the file cannot be imported at all."""
    parsed = read_upload(upload)
    name = (getattr(upload, "name", "") or "clients")[:255]
    with transaction.atomic():
        client_import = ClientImport.objects.create(
            agency=agency,
            file_name=name,
            status=Status.VALIDATING,
            total_rows=len(parsed.rows),
            rows=parsed.rows,
            heartbeat_at=timezone.now(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record(
            agency=agency,
            actor=actor,
            action=Action.CREATE,
            obj=client_import,
            object_repr=name,
            changes={"file_name": [None, name], "total_rows": [None, len(parsed.rows)]},
        )
        if len(parsed.rows) > INLINE_ROWS:
            transaction.on_commit(partial(_enqueue_validation, client_import.pk, agency.pk, _language()), robust=True)
    if len(parsed.rows) <= INLINE_ROWS:
        validate_import(client_import)
    return client_import, parsed


def _enqueue_validation(import_id: int, agency_id: int, language: str) -> None:
    from caseload.clients.tasks import validate_client_import

    validate_client_import.enqueue(import_id, agency_id, language)


def clean_rows(
    client_import: ClientImport, on_progress: Callable[[int], None] | None = None
) -> tuple[list[CleanRow], list[dict[str, Any]]]:
    """Every row of the import cleaned (rows a check already cleaned are read back as they are)."""
    cleaner: RowCleaner | None = None
    cleaned, errors = [], []
    for done, row in enumerate(client_import.rows, start=1):
        if row.get("_clean"):
            clean = _loaded(row)
        else:
            cleaner = cleaner or RowCleaner()
            clean = cleaner.clean(row)
        cleaned.append(clean)
        errors.extend(clean.errors)
        if on_progress and done % PROGRESS_EVERY == 0:
            on_progress(done)
    return cleaned, errors


# A checked file's rows are stored cleaned, so the import does not clean them again; values equal
# to the field's default are left out of the JSON.
_CLEAN_DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(_TEXT_FIELDS, ""),
    **dict.fromkeys(("email", "phone", "emergency_contact_phone", "postal_code", "preferred_language", *_CHOICES), ""),
    "date_of_birth": None,
    "arrival_date": None,
    "consent_email": False,
    "consent_sms": False,
    "is_anonymous": False,
}
_DATE_FIELDS = ("date_of_birth", "arrival_date")


def _stored(clean: CleanRow) -> dict[str, Any]:
    row: dict[str, Any] = {"_row": clean.row, "_clean": True}
    if clean.other_phone:
        row["_other_phone"] = clean.other_phone
    for name, value in clean.data.items():
        if name == "spoken_languages":
            if value:
                row[name] = value
        elif value != _CLEAN_DEFAULTS[name]:
            row[name] = value.isoformat() if name in _DATE_FIELDS else value
    return row


def _loaded(row: dict[str, Any]) -> CleanRow:
    data = {**_CLEAN_DEFAULTS, "spoken_languages": []}
    data.update((name, value) for name, value in row.items() if not name.startswith("_"))
    for name in _DATE_FIELDS:
        if data[name]:
            data[name] = date.fromisoformat(data[name])
    return CleanRow(row=row["_row"], data=data, other_phone=row.get("_other_phone", ""), errors=[])


@gc_paused()
def validate_import(client_import: ClientImport) -> ClientImport:
    """Check every row and look for duplicates; the import becomes ``ready`` or ``invalid``.

    Does nothing to an import no longer being checked (cancelled meanwhile)."""
    if client_import.status != Status.VALIDATING:
        return client_import
    if not _beat(client_import, Status.VALIDATING):
        client_import.refresh_from_db()
        return client_import
    cleaned, errors = clean_rows(client_import, partial(_progress, client_import))
    duplicates = find_duplicates(client_import.agency, [clean for clean in cleaned if not clean.errors])
    client_import.status = Status.INVALID if errors else Status.READY
    client_import.errors = errors
    client_import.duplicates = duplicates
    client_import.processed_rows = client_import.total_rows
    if not errors:
        client_import.rows = [_stored(clean) for clean in cleaned]
    ClientImport.objects.for_agency(client_import.agency).filter(pk=client_import.pk, status=Status.VALIDATING).update(
        status=client_import.status,
        errors=errors,
        duplicates=duplicates,
        processed_rows=client_import.total_rows,
        rows=client_import.rows,
        heartbeat_at=timezone.now(),
    )
    return client_import


def preview_rows(client_import: ClientImport, limit: int = PREVIEW_ROWS) -> list[CleanRow]:
    """The first rows of the file, cleaned as they will be imported."""
    cleaner = RowCleaner()
    return [_loaded(row) if row.get("_clean") else cleaner.clean(row) for row in client_import.rows[:limit]]


def skipped_rows(client_import: ClientImport) -> set[int]:
    """The rows flagged as duplicates: of an agency client, or of an earlier row (the first is kept)."""
    return {entry["row"] for entry in client_import.duplicates}


def start_import(client_import: ClientImport, actor: Any, *, skip_duplicates: bool) -> ClientImport:
    """Run a ready (or failed) import: now for a small file, as a background task for a large one."""
    agency = client_import.agency
    before = client_import.status
    claimed = (
        ClientImport.objects.for_agency(agency)
        .filter(pk=client_import.pk, status__in=[Status.READY, Status.FAILED])
        .update(status=Status.IMPORTING, processed_rows=0, failure="", heartbeat_at=timezone.now())
    )
    if not claimed:
        client_import.refresh_from_db()
        raise ValidationError(
            _("This import cannot be run: it is %(status)s.") % {"status": client_import.get_status_display().lower()}
        )
    # All but the rows (megabytes of JSON for a large file), which the run reads where it happens.
    client_import.refresh_from_db(fields=[field.attname for field in ClientImport._meta.concrete_fields if field.name != "rows"])
    record(
        agency=agency,
        actor=actor,
        action=Action.CHANGE,
        obj=client_import,
        changes={"status": [before, Status.IMPORTING], "skip_duplicates": [None, skip_duplicates]},
    )
    if client_import.total_rows > INLINE_ROWS:
        actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        transaction.on_commit(
            partial(_enqueue_import, client_import.pk, agency.pk, actor_id, skip_duplicates, _language()), robust=True
        )
        return client_import
    client_import.refresh_from_db(fields=["rows"])
    return import_clients(client_import, actor, skip_duplicates=skip_duplicates)


def _enqueue_import(import_id: int, agency_id: int, actor_id: int | None, skip_duplicates: bool, language: str) -> None:
    from caseload.clients.tasks import run_client_import

    run_client_import.enqueue(import_id, agency_id, actor_id, skip_duplicates, language)


def _insert(model: type[models.Model], objs: list[models.Model], cursor: Any = None) -> None:
    """INSERT new rows as fast as the database allows.

    PostgreSQL: one array per column bound in binary (actions.unnest_insert; ``bulk_create`` quotes
    every element of its arrays in Python), through ``cursor`` when given (actions.pipelined); the
    primary keys are written when the objects have them (_reserve_ids), else read back by the caller.
    SQLite allows only a few dozen wide rows per statement, so ``bulk_create`` compiles SQL hundreds
    of times; there one statement is prepared and executed for every row (``executemany``), several
    times faster. Values go through each field's ``pre_save`` and ``get_db_prep_save`` either way.
    """
    connection = connections[router.db_for_write(model)]
    with_pk = bool(objs) and objs[0].pk is not None
    fields = [field for field in model._meta.concrete_fields if with_pk or not field.primary_key]
    if connection.vendor == "postgresql":
        for batch in _chunks(objs, PG_BATCH_SIZE):
            unnest_insert(connection, model, fields, [_column(field, batch, connection) for field in fields], cursor=cursor)
        return
    if connection.vendor != "sqlite":
        model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
        return
    quote = connection.ops.quote_name
    # Table and column names come from the model, quoted; every value is a parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields), ", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as sqlite_cursor:
        for batch in _chunks(objs, BATCH_SIZE):
            sqlite_cursor.executemany(sql, list(zip(*(_column(field, batch, connection) for field in fields), strict=True)))


def _reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """PostgreSQL: ``count`` new primary keys of ``model``, taken from its sequence in one statement, so
    the rows that refer to the new rows are built (and sent) without waiting for them to be written.
    None elsewhere: the caller reads the keys back after the insert."""
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql" or not count:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


# Fields whose pre_save reads the attribute and whose get_db_prep_save gives back any str or None as it is.
_PASS_THROUGH_TEXT = (models.CharField, models.TextField, models.EmailField)
# Fields whose get_db_prep_save depends on the value alone, and whose pre_save reads the attribute (unless
# they stamp the time: auto_now, auto_now_add); with _SHARED_TYPES values, each value is prepared once.
_VALUE_ONLY = (
    models.BooleanField,
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.DateField,
    models.DateTimeField,
    models.GenericIPAddressField,
    models.ForeignKey,
    models.OneToOneField,
)
_SHARED_TYPES = (type(None), bool, int, str, date, datetime)


def _column(field: models.Field, objs: list[models.Model], connection) -> list[Any]:
    """One column of ``objs`` ready for the database: each value through the field's ``pre_save`` and
    ``get_db_prep_save``, except text already str or None, which those would hand back unchanged
    (two calls a cell were a sixth of a large import's time), and values that repeat down the column
    (the agency, the creator, the import, dates, flags), prepared once each."""
    kind = type(field)
    if kind in _PASS_THROUGH_TEXT:
        values = [getattr(obj, field.attname) for obj in objs]
        if all(value is None or type(value) is str for value in values):
            return values
    elif kind in _VALUE_ONLY and not getattr(field, "auto_now", False) and not getattr(field, "auto_now_add", False):
        values = [getattr(obj, field.attname) for obj in objs]
        if all(type(value) in _SHARED_TYPES for value in values):
            # By type too: 1 and True are equal keys, but not the same value for the database.
            prepared: dict[tuple[type, Any], Any] = {}
            for value in values:
                if (type(value), value) not in prepared:
                    prepared[type(value), value] = field.get_db_prep_save(value, connection)
            return [prepared[type(value), value] for value in values]
    return [field.get_db_prep_save(field.pre_save(obj, True), connection) for obj in objs]


# What record_create stores of a new client (its diff from nothing), read straight off the instance, in
# diff's order, with diff's redaction: (name, attname, sensitive).
_AUDITED_FIELDS = sorted(
    (field.name, field.attname, field.name in SENSITIVE_FIELDS) for field in Client._meta.concrete_fields if field.name != "agency"
)


def _created_changes(client: Client) -> dict[str, list[Any]]:
    """``diff({}, values)`` of a new client, without building the values first: every field holding a
    value (not None) as ``[None, value]``, dates as ISO text, sensitive ones redacted."""
    changes = {}
    for (name, _attname, sensitive), value in zip(_AUDITED_FIELDS, _audited_values(client), strict=True):
        if value is None:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        changes[name] = [REDACTED, REDACTED] if sensitive else [None, value]
    return changes


# The values of _AUDITED_FIELDS of a client, read in one call.
_audited_values = attrgetter(*(attname for _name, attname, _sensitive in _AUDITED_FIELDS))


def _create_events(agency: Agency, actor: Any, prepared: list[tuple[Client, str]]) -> list[AuditEvent]:
    """The create event of each client (with its other phone), as register_client writes it, for one bulk insert."""
    actor = actor if getattr(actor, "is_authenticated", False) else None
    new_event = _maker(
        AuditEvent,
        agency_id=agency.pk,
        actor_id=actor.pk if actor else None,
        actor_label=actor.email if actor else "",
        action=Action.CREATE,
        object_type=Client._meta.label_lower,
        ip_address=client_ip.get(),
    )
    return [
        new_event(
            {
                "object_id": str(client.pk),
                "object_repr": str(client)[:200],
                "client_id": client.pk,
                "changes": {**_created_changes(client), **({"phones": [None, [other]]} if other else {})},
            }
        )
        for client, other in prepared
    ]


def _write_clients(client_import: ClientImport, actor: Any, prepared: list[tuple[Client, str]]) -> None:
    """INSERT the new clients (numbered), their search keys and their create events.

    PostgreSQL: the clients' ids taken from the sequence first, all three sent in pipeline mode
    (actions.pipelined): while the server writes one batch, Python builds the next (the search keys,
    the events), instead of each waiting for the other (a 10,000-client import spent about as long
    building as the server spent writing). SQLite: one after the other, the ids read back by client
    number.
    """
    agency = client_import.agency
    clients = [client for client, _other in prepared]
    ids = _reserve_ids(Client, len(clients))
    if ids is None:
        _insert(Client, clients)
        pks = dict(Client.objects.for_agency(agency).filter(source_import=client_import).values_list("client_number", "pk"))
        for client in clients:
            client.pk = pks[client.client_number]
            client._state.adding = False
        insert_search_keys(clients)
        _insert(AuditEvent, _create_events(agency, actor, prepared))
        return
    for client, pk in zip(clients, ids, strict=True):
        client.pk = pk
        client._state.adding = False
    connection = connections[router.db_for_write(Client)]
    with pipelined(connection) as cursor:
        _insert(Client, clients, cursor)
        insert_search_keys(clients, cursor)
        for batch in _chunks(prepared, EVENT_BATCH):
            _insert(AuditEvent, _create_events(agency, actor, batch), cursor)


# Create events built and sent at a time on PostgreSQL (the first is sent while the next is built).
EVENT_BATCH = 2000


def _maker(model: type[models.Model], **fixed: Any) -> Callable[[dict[str, Any]], Any]:
    """What makes a new ``model`` of ``data`` (a client of a cleaned row, an event of its own values):
    ``model(**fixed, **data)``, with every field given by position instead (Model.__init__'s fast path:
    by keyword it looks each of a client's forty fields up among the keywords and their defaults, a
    sixth of an import's Python). ``fixed`` and ``data`` name fields by their column's attribute
    (``agency_id``). Fields in neither get their default, a callable one called for each instance; data
    with a key that is not a field's attribute goes by keyword, which says what is wrong."""
    fields = model._meta.concrete_fields
    attnames = [field.attname for field in fields]
    fresh = {field.attname for field in fields if field.has_default() and callable(field.default)}
    defaults = {field.attname: field.get_default() for field in fields if field.attname not in fresh}
    made_fresh = [(field.attname, field.get_default) for field in fields if field.attname in fresh]

    def make(data: dict[str, Any]) -> models.Model:
        values = {**defaults, **fixed, **data}
        for attname, default in made_fresh:
            if attname not in values:
                values[attname] = default()
        if len(values) != len(attnames):
            return model(**fixed, **data)
        return model(*[values[attname] for attname in attnames])

    return make


@gc_paused()
def import_clients(client_import: ClientImport, actor: Any, *, skip_duplicates: bool) -> ClientImport:
    """Create every client of a claimed (``importing``) import in one transaction, or none.

    Rows flagged as duplicates are left out when ``skip_duplicates``. Any failure rolls the whole
    file back and leaves the import ``failed`` with the reason.
    """
    agency = client_import.agency
    if client_import.status != Status.IMPORTING:
        return client_import
    if not _beat(client_import, Status.IMPORTING):
        client_import.refresh_from_db()
        return client_import
    try:
        cleaned, errors = clean_rows(client_import)
        if errors:
            raise ValidationError(
                _("%(count)d rows have errors; fix them and upload the file again.") % {"count": len({e["row"] for e in errors})}
            )
        skip = skipped_rows(client_import) if skip_duplicates else set()
        creator = actor if getattr(actor, "is_authenticated", False) else None
        # By id: assigning the instances would check each relation's database for every row.
        new_client = _maker(
            Client, agency_id=agency.pk, created_by_id=creator.pk if creator else None, source_import_id=client_import.pk
        )
        prepared: list[tuple[Client, str]] = []
        for done, clean in enumerate(cleaned, start=1):
            if clean.row not in skip:
                client = new_client(clean.data)
                refresh_search_fields(client)
                prepared.append((client, clean.other_phone))
            if done % PROGRESS_EVERY == 0:
                _progress(client_import, done)
        with transaction.atomic():
            number = next_client_number(agency)
            for offset, (client, _other) in enumerate(prepared):
                client.client_number = number + offset
            _write_clients(client_import, actor, prepared)
            phones = [
                ClientPhone(agency=agency, client=client, number=other, kind=ClientPhone.Kind.OTHER)
                for client, other in prepared
                if other
            ]
            ClientPhone.objects.bulk_create(phones, batch_size=BATCH_SIZE)
            finished = timezone.now()
            changes = {
                "status": [Status.IMPORTING, Status.DONE],
                "imported_count": [0, len(prepared)],
                "skipped_rows": [None, len(cleaned) - len(prepared)],
            }
            finished_here = (
                ClientImport.objects.for_agency(agency)
                .filter(pk=client_import.pk, status=Status.IMPORTING)
                .update(
                    status=Status.DONE,
                    imported_count=len(prepared),
                    processed_rows=client_import.total_rows,
                    finished_at=finished,
                    rows=[],
                    heartbeat_at=finished,
                )
            )
            if not finished_here:
                raise ValidationError(_("The import was stopped before it finished."))
            record(agency=agency, actor=actor, action=Action.CHANGE, obj=client_import, changes=changes)
    except Exception as error:
        logger.exception("Client import %s failed", client_import.pk)
        failure = (
            " ".join(error.messages)
            if isinstance(error, ValidationError)
            else _("The import stopped on an unexpected error (%(error)s).") % {"error": f"{type(error).__name__}: {error}"[:500]}
        )
        # Only an import still running here: one recover_stalled_imports failed and a retry finished
        # meanwhile stays done.
        failed_here = (
            ClientImport.objects.for_agency(agency)
            .filter(pk=client_import.pk, status=Status.IMPORTING)
            .update(status=Status.FAILED, failure=failure, finished_at=timezone.now(), heartbeat_at=timezone.now())
        )
        if failed_here:
            record(
                agency=agency,
                actor=actor,
                action=Action.CHANGE,
                obj=client_import,
                changes={"status": [Status.IMPORTING, Status.FAILED]},
            )
    client_import.refresh_from_db()
    return client_import


CANCELLABLE = (Status.VALIDATING, Status.INVALID, Status.READY, Status.FAILED)


def cancel_import(client_import: ClientImport, actor: Any) -> ClientImport:
    """Drop an import that has not run; its rows (the file's personal data) are deleted."""
    before = client_import.status
    cancelled = (
        ClientImport.objects.for_agency(client_import.agency)
        .filter(pk=client_import.pk, status__in=CANCELLABLE)
        .update(status=Status.CANCELLED, rows=[], finished_at=timezone.now(), heartbeat_at=timezone.now())
    )
    client_import.refresh_from_db()
    if not cancelled:
        raise ValidationError(
            _("This import cannot be cancelled: it is %(status)s.") % {"status": client_import.get_status_display().lower()}
        )
    record(
        agency=client_import.agency,
        actor=actor,
        action=Action.CHANGE,
        obj=client_import,
        changes={"status": [before, Status.CANCELLED]},
    )
    return client_import


# --- Runs whose worker died --------------------------------------------------------------------

RUNNING = (Status.VALIDATING, Status.IMPORTING)
# A stopped check cannot be trusted to have found every duplicate: the import is closed as "has
# errors" (it offers an upload of the file again and cancelling); a stopped import keeps its checked
# rows and is "failed", which offers running it again.
STALLED = {
    Status.VALIDATING: (
        Status.INVALID,
        gettext_lazy("The background worker stopped before the check finished; nothing was written. Upload the file again."),
    ),
    Status.IMPORTING: (
        Status.FAILED,
        gettext_lazy("The background worker stopped before the import finished; nothing was written. Run it again."),
    ),
}


def _silent_since(cutoff: datetime) -> models.Q:
    return models.Q(heartbeat_at__lt=cutoff) | models.Q(heartbeat_at__isnull=True, created_at__lt=cutoff)


def recover_stalled_imports(now: datetime | None = None) -> int:
    """Close every check or import, of every agency, whose run has shown no sign of life for
    ``CLIENT_IMPORT_STALL_SECONDS`` (its worker died): a check becomes ``invalid``, an import
    ``failed``, with the reason, audited in the import's agency with no actor. Nothing of a dead run
    was written (one transaction), so the import can be run, or the file uploaded, again.

    A system job (clients.recover_stalled_imports, every 5 minutes). Returns how many were closed.
    A run still alive that is closed anyway finds its import no longer running and writes nothing.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.CLIENT_IMPORT_STALL_SECONDS)
    with all_agencies():
        stalled = list(
            ClientImport.objects.filter(status__in=RUNNING)
            .filter(_silent_since(cutoff))
            .select_related("agency", "created_by")
            .defer("rows", "errors", "duplicates")
            .order_by("pk")
        )
    recovered = 0
    for client_import in stalled:
        agency, before = client_import.agency, client_import.status
        status, reason = STALLED[before]
        language = getattr(client_import.created_by, "preferred_language", "") or settings.LANGUAGE_CODE
        try:
            with agency_scope(agency), translation.override(language), transaction.atomic():
                failure = str(reason)
                changes: dict[str, Any] = {"status": status, "failure": failure, "finished_at": now, "heartbeat_at": now}
                if before == Status.VALIDATING:
                    # The file must be uploaded again: its unchecked rows (personal data) go now.
                    changes["rows"] = []
                closed = (
                    ClientImport.objects.for_agency(agency)
                    .filter(pk=client_import.pk, status=before)
                    .filter(_silent_since(cutoff))
                    .update(**changes)
                )
                if not closed:
                    continue
                record(
                    agency=agency,
                    actor=None,
                    action=Action.CHANGE,
                    obj=client_import,
                    object_repr=client_import.file_name,
                    changes={"status": [before, status], "failure": [client_import.failure, failure]},
                )
        except Exception:
            logger.exception("Stalled client import %s could not be closed", client_import.pk)
            continue
        recovered += 1
        logger.warning("Client import %s of agency %s stalled while %s and was closed", client_import.pk, agency.pk, before)
    return recovered


# --- The template ------------------------------------------------------------------------------


def template_csv() -> bytes:
    """The CSV template: the header row (UTF-8 with a byte-order mark, so Excel reads accents)."""
    out = io.StringIO()
    csv.writer(out).writerow(COLUMN_KEYS)
    return codecs.BOM_UTF8 + out.getvalue().encode()


def template_xlsx() -> bytes:
    """The Excel template: a Clients sheet (header, help on each header cell, lists for the coded
    columns) and an Instructions sheet describing every column."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Clients"
    sheet.append(list(COLUMN_KEYS))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF7")
    last_row = MAX_ROWS + 1
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = bold, fill
        cell.comment = Comment(f"{column.label}: {column.help_text}", "Caseload")
        sheet.column_dimensions[letter].width = max(14, len(column.key) + 4)
        if column.key in ("phone", "other_phone", "emergency_contact_phone", "postal_code"):
            # Text cells keep a leading + or 0 of a phone number.
            sheet.column_dimensions[letter].number_format = "@"
        allowed = None
        if column.choices is not None:
            allowed = ",".join(column.choices.values)
        elif column.key in ("consent_email", "consent_sms"):
            allowed = "yes,no"
        if allowed:
            validation = DataValidation(type="list", formula1=f'"{allowed}"', allow_blank=True, errorStyle="warning")
            validation.error = column.help_text
            sheet.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}{last_row}")
    help_sheet = workbook.create_sheet("Instructions")
    help_sheet.append([_("Column"), _("What it holds"), _("Format"), _("Example")])
    for cell in help_sheet[1]:
        cell.font, cell.fill = bold, fill
    for column in COLUMNS:
        help_sheet.append([column.key, column.label, column.help_text, column.example])
    help_sheet.append([])
    notes = [
        _("One client per row on the Clients sheet, from row 2. Keep the first row as it is."),
        _("Dates: %(format)s") % {"format": DATE_FORMAT_HELP},
        _("Each row needs a given name or a family name; every other column may be left blank."),
        _("At most %(rows)s clients and %(size)d MB per file.")
        % {"rows": f"{MAX_ROWS:,}", "size": MAX_FILE_BYTES // (1024 * 1024)},
    ]
    for note in notes:
        help_sheet.append([note])
    for letter, width in zip("ABCD", (30, 34, 70, 28), strict=True):
        help_sheet.column_dimensions[letter].width = width
    for row in help_sheet.iter_rows(min_row=2, max_row=len(COLUMNS) + 1):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
