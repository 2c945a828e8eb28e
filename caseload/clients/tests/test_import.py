"""Importing existing clients: the template, checking every row, duplicates, the preview, the
all-or-nothing import, large files in the background, and who may do it."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients import importing
from caseload.clients.models import Client, ClientImport, ClientPhone
from caseload.clients.tasks import run_client_import, validate_client_import
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = ["given_name", "family_name", "date_of_birth", "email", "phone", "immigration_status", "consent_email"]


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings):
    settings.TASKS = IMMEDIATE_TASKS


def csv_upload(rows, header=HEADER, name="clients.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_upload(rows, header=HEADER, name="clients.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return SimpleUploadedFile(name, out.getvalue(), content_type=XLSX)


def post_file(client, upload, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("clients:import_upload"), {"file": upload})


def confirm(client, client_import, django_capture_on_commit_callbacks, skip_duplicates=True):
    data = {"skip_duplicates": "on"} if skip_duplicates else {}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("clients:import_confirm", args=[client_import.pk]), data)


def latest_import(agency) -> ClientImport:
    with agency_scope(agency):
        return ClientImport.objects.for_agency(agency).latest("pk")


def clients_of(agency):
    with agency_scope(agency):
        return list(Client.objects.for_agency(agency).order_by("client_number"))


GOOD_ROWS = [
    ["Amina", "Haddad", "1985-03-12", "amina@example.org", "416-555-0123", "permanent_resident", "yes"],
    ["François", "Côté", "1979-11-02", "", "(613) 555 0142", "Canadian citizen", "no"],
    ["Nguyễn", "Văn An", "", "an.nguyen@example.net", "", "", ""],
]


# --- The template round trip -------------------------------------------------------------------


def test_it_downloads_the_csv_template_and_imports_it_filled_in(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    response = client.get(reverse("clients:import_template_csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == list(importing.COLUMN_KEYS)

    filled = dict.fromkeys(header, "")
    filled.update(
        given_name="Amina", family_name="Haddad", date_of_birth="1985-03-12", phone="416-555-0123", other_phone="+44 20 7946 0958"
    )
    filled.update(
        spoken_languages="ar; French", preferred_contact_method="Text message (SMS)", consent_sms="Yes", postal_code="m5v2t6"
    )
    upload = csv_upload([list(filled.values())], header=header)
    response = post_file(client, upload, django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:import_detail", args=[client_import.pk])
    assert client_import.status == ClientImport.Status.READY

    confirm(client, client_import, django_capture_on_commit_callbacks)

    [amina] = clients_of(agency)
    assert (amina.given_name, amina.family_name, amina.date_of_birth) == ("Amina", "Haddad", date(1985, 3, 12))
    assert amina.phone == "+14165550123"
    assert amina.spoken_languages == ["ar", "fr"]
    assert amina.preferred_contact_method == "sms"
    assert amina.consent_sms is True and amina.consent_email is False
    assert amina.postal_code == "M5V 2T6"
    assert amina.source_import_id == client_import.pk
    assert amina.name_folded == "amina haddad"
    with agency_scope(agency):
        assert list(ClientPhone.objects.for_agency(agency).values_list("client_id", "number")) == [(amina.pk, "+442079460958")]
        event = AuditEvent.objects.for_agency(agency).get(object_type="clients.client", client_id=amina.pk)
        assert event.changes["phones"] == [None, ["+442079460958"]]


def test_it_downloads_the_xlsx_template_and_imports_it_filled_in(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    response = client.get(reverse("clients:import_template_xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Clients", "Instructions"]
    sheet = workbook["Clients"]
    header = [cell.value for cell in sheet[1]]
    assert header == list(importing.COLUMN_KEYS)

    # Excel turns a typed date into a date cell and a phone typed as a number into a number.
    values = {
        "given_name": "Siobhán",
        "family_name": "O'Connor",
        "date_of_birth": date(1990, 7, 1),
        "phone": 4165550199,
        "immigration_status": "refugee_claimant",
    }
    for key, value in values.items():
        sheet.cell(row=2, column=header.index(key) + 1, value=value)
    sheet.cell(row=3, column=1, value="Zoë")
    sheet.cell(row=3, column=2, value="D'Souza")
    out = io.BytesIO()
    workbook.save(out)
    post_file(client, SimpleUploadedFile("filled.xlsx", out.getvalue(), content_type=XLSX), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    assert client_import.status == ClientImport.Status.READY, client_import.errors

    confirm(client, client_import, django_capture_on_commit_callbacks)

    siobhan, zoe = clients_of(agency)
    assert (siobhan.given_name, siobhan.date_of_birth, siobhan.phone, siobhan.immigration_status) == (
        "Siobhán",
        date(1990, 7, 1),
        "+14165550199",
        "refugee_claimant",
    )
    assert (zoe.given_name, zoe.family_name) == ("Zoë", "D'Souza")
    assert zoe.client_number == siobhan.client_number + 1


@pytest.mark.parametrize("make_upload", [csv_upload, xlsx_upload], ids=["csv", "xlsx"])
def test_csv_and_xlsx_files_import_alike(client, admin, agency, make_upload, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, make_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    confirm(client, client_import, django_capture_on_commit_callbacks)

    imported = clients_of(agency)
    assert [(c.given_name, c.family_name, c.email, c.phone, c.immigration_status, c.consent_email) for c in imported] == [
        ("Amina", "Haddad", "amina@example.org", "+14165550123", "permanent_resident", True),
        ("François", "Côté", "", "+16135550142", "citizen", False),
        ("Nguyễn", "Văn An", "an.nguyen@example.net", "", "", False),
    ]
    client_import.refresh_from_db()
    assert (client_import.status, client_import.imported_count, client_import.rows) == (ClientImport.Status.DONE, 3, [])


def test_headers_are_read_without_case_accents_or_spaces_and_in_french(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    header = ["  PRÉNOM ", "Nom de famille", "Date de naissance", "E-mail", "Phone Number", "Shoe size"]
    rows = [["Amina", "Haddad", "1985-03-12", "a@example.org", "4165550123", "42"]]
    response = post_file(client, csv_upload(rows, header=header), django_capture_on_commit_callbacks)
    assert latest_import(agency).status == ClientImport.Status.READY
    assert importing.read_upload(csv_upload(rows, header=header)).rows == [
        {
            "given_name": "Amina",
            "family_name": "Haddad",
            "date_of_birth": "1985-03-12",
            "email": "a@example.org",
            "phone": "4165550123",
            "_row": 2,
        }
    ]
    page = client.get(response["Location"]).content.decode()
    assert "Shoe size" in page  # the column left out is named


def test_a_semicolon_separated_csv_from_a_french_excel_is_read(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    data = "given_name;family_name;date_of_birth\r\nChloé;Dubois;1991-01-31\r\n".encode("cp1252")
    post_file(client, SimpleUploadedFile("clients.csv", data), django_capture_on_commit_callbacks)
    confirm(client, latest_import(agency), django_capture_on_commit_callbacks)
    [chloe] = clients_of(agency)
    assert (chloe.given_name, chloe.family_name, chloe.date_of_birth) == ("Chloé", "Dubois", date(1991, 1, 31))


def test_a_utf16_csv_is_read():
    data = "given_name\tfamily_name\r\nОлена\tШевченко\r\n".encode("utf-16")
    assert importing.read_upload(SimpleUploadedFile("clients.txt", data)).rows == [
        {"given_name": "Олена", "family_name": "Шевченко", "_row": 2}
    ]


# --- Bad rows ----------------------------------------------------------------------------------

BAD_ROWS = [
    ["Amina", "Haddad", "1985-03-12", "amina@example.org", "416-555-0123", "permanent_resident", "yes"],  # row 2: fine
    ["Bob", "Brown", "12/03/1985", "bob@", "555", "", "yes"],  # row 3: date, email, phone
    ["", "", "1970-01-01", "", "", "", ""],  # row 4: no name
    [],  # row 5: blank, skipped
    ["Carl", "Chen", "2999-01-01", "", "", "martian", "maybe"],  # row 6: future date, status, consent
]


@pytest.mark.parametrize("make_upload", [csv_upload, xlsx_upload], ids=["csv", "xlsx"])
def test_a_file_with_bad_rows_writes_nothing_and_reports_each_bad_row_and_field(
    client, admin, agency, make_upload, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, make_upload(BAD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    assert client_import.status == ClientImport.Status.INVALID
    assert [(error["row"], error["field"]) for error in client_import.errors] == [
        (3, "email"),
        (3, "phone"),
        (3, "date_of_birth"),
        (4, "given_name"),
        (6, "date_of_birth"),
        (6, "immigration_status"),
        (6, "consent_email"),
    ]
    messages = {(error["row"], error["field"]): error["message"] for error in client_import.errors}
    assert messages[(3, "date_of_birth")] == "Write dates as YYYY-MM-DD, for example 1985-03-12."
    assert messages[(4, "given_name")] == "Each client needs a given name or a family name."
    assert "permanent_resident" in messages[(6, "immigration_status")]

    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "3 rows have errors, so nothing can be imported yet." in page
    assert "12/03/1985" in page and "Enter a valid email address." in page and "Enter yes or no." in page
    assert reverse("clients:import_confirm", args=[client_import.pk]) not in page

    response = confirm(client, client_import, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert clients_of(agency) == []
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.INVALID

    report = client.get(reverse("clients:import_report", args=[client_import.pk]))
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert lines[0] == ["Row", "Column", "Value", "Problem"]
    assert ["3", "Email", "bob@", "Enter a valid email address."] in lines
    assert len(lines) == 1 + 7


def test_the_report_keeps_a_spreadsheet_from_running_a_value_as_a_formula(
    client, admin, agency, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload([["Eve", "Evans", "", "=HYPERLINK(1)", "", "", ""]]), django_capture_on_commit_callbacks)
    report = client.get(reverse("clients:import_report", args=[latest_import(agency).pk])).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in report


def test_a_value_too_long_for_its_field_is_an_error(agency):
    cleaner = importing.RowCleaner()
    clean = cleaner.clean({"_row": 7, "given_name": "A" * 121, "family_name": "B"})
    assert [(e["row"], e["field"], e["message"]) for e in clean.errors] == [
        (7, "given_name", "At most 120 characters (this has 121).")
    ]


def test_an_arrival_before_the_birth_is_an_error():
    clean = importing.RowCleaner().clean(
        {"_row": 2, "given_name": "A", "date_of_birth": "1990-01-01", "arrival_date": "1980-01-01"}
    )
    assert [e["message"] for e in clean.errors] == ["The arrival date cannot be before the date of birth."]


# --- Whole files refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"%PDF-1.7 binary", "This is a PDF, not a spreadsheet."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This is not a CSV or Excel (.xlsx) file."),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old excel", "Old Excel files (.xls) cannot be read."),
        (b"PK\x03\x04 not really a zip", "The Excel file could not be read."),
        (b"", "The submitted file is empty."),
        (b"  \n\n", "The file is empty."),
        (b"name,age\nAmina Haddad,40\n", "The first row has no given_name, family_name column."),
        (b"given_name,family_name\n\n,\n", "The file has column names but no clients"),
        (b"given_name,family_name,Prenom\nA,B,C\n", "are both read as given_name"),
    ],
    ids=["pdf", "png", "xls", "broken-zip", "zero-bytes", "blank", "missing-header", "header-only", "same-column-twice"],
)
def test_a_file_that_cannot_be_imported_is_refused_with_a_clear_message(
    client, admin, agency, content, message, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    response = post_file(
        client, SimpleUploadedFile("clients.csv", content, content_type="text/csv"), django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    with agency_scope(agency):
        assert not ClientImport.objects.for_agency(agency).exists()


def test_a_zip_that_is_not_a_workbook_is_refused(client, admin, agency, django_capture_on_commit_callbacks):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    client.force_login(admin)
    response = post_file(client, SimpleUploadedFile("clients.xlsx", out.getvalue()), django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "This zip file is not an Excel workbook." in response.content.decode()


def test_a_file_over_the_size_limit_is_refused(client, admin, agency, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(importing, "MAX_FILE_BYTES", 1024 * 1024)
    client.force_login(admin)
    big = b"given_name,family_name\n" + b"Amina,Haddad\n" * 90_000
    response = post_file(client, SimpleUploadedFile("clients.csv", big), django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert "The file is larger than 1 MB." in response.content.decode()


def test_a_file_over_the_row_limit_is_refused(client, admin, agency, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    client.force_login(admin)
    response = post_file(
        client, csv_upload([["A", "B"]] * 4, header=["given_name", "family_name"]), django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert "The file has more than 3 clients." in response.content.decode()


# --- Duplicates --------------------------------------------------------------------------------


def test_duplicates_within_the_file_are_flagged_against_the_earlier_row(
    client, admin, agency, django_capture_on_commit_callbacks
):
    rows = [
        ["Amina", "Haddad", "1985-03-12", "amina@example.org", "416-555-0123", "", ""],  # row 2
        ["Amina", "Hadad", "1985-03-12", "", "", "", ""],  # row 3: same birth date, name with a typo
        ["Someone", "Else", "", "", "(416) 555-0123", "", ""],  # row 4: same phone, other format
        ["Other", "Person", "", "AMINA@example.org", "", "", ""],  # row 5: same email, other case
        ["Amina", "Haddad", "1999-01-01", "", "", "", ""],  # row 6: same name, other birth date: not a duplicate
    ]
    client.force_login(admin)
    post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    assert client_import.status == ClientImport.Status.READY
    assert client_import.duplicates == [
        {"row": 3, "reasons": ["dob_name"], "same_as_row": 2},
        {"row": 4, "reasons": ["phone"], "same_as_row": 2},
        {"row": 5, "reasons": ["email"], "same_as_row": 2},
    ]
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "Row 2 of this file" in page
    assert "same date of birth and similar name" in page


def test_duplicates_of_the_agencys_clients_are_flagged_with_a_link_and_never_the_other_agencys(
    client, admin, agency, other_agency, register, django_capture_on_commit_callbacks
):
    existing = register(
        agency,
        given_name="François",
        family_name="Lefèvre",
        date_of_birth="1985-03-12",
        email="F.Lefevre@example.org",
        phone="613-555-0142",
    )
    register(other_agency, given_name="Oscar", family_name="Outsider", phone="416-555-0199", email="oscar@example.org")
    rows = [
        ["Francois", "Lefevre", "1985-03-12", "", "", "", ""],  # row 2: no accents, same birth date
        ["Frank", "Other", "", "", "+1 613 555 0142", "", ""],  # row 3: same phone
        ["Fran", "Lef", "", "f.lefevre@EXAMPLE.org", "", "", ""],  # row 4: same email
        ["Oscar", "Outsider", "", "oscar@example.org", "416-555-0199", "", ""],  # row 5: the other agency's client
    ]
    client.force_login(admin)
    post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    assert [(d["row"], d["client"], d["reasons"]) for d in client_import.duplicates] == [
        (2, existing.pk, ["dob_name"]),
        (3, existing.pk, ["phone"]),
        (4, existing.pk, ["email"]),
    ]
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert reverse("clients:detail", args=[existing.pk]) in page
    assert f"François Lefèvre (client {existing.client_number})" in page


def test_a_second_phone_of_an_existing_client_is_a_duplicate_too(agency, register):
    existing = register(agency, given_name="Amina", family_name="Haddad")
    with agency_scope(agency):
        ClientPhone.objects.create(agency=agency, client=existing, number="+14165550123")
        rows = [importing.RowCleaner().clean({"_row": 2, "given_name": "X", "other_phone": "416 555 0123"})]
        assert importing.find_duplicates(agency, rows) == [
            {
                "row": 2,
                "reasons": ["phone"],
                "client": existing.pk,
                "client_number": existing.client_number,
                "name": "Amina Haddad",
            }
        ]


def test_many_clients_sharing_a_placeholder_birth_date_are_compared_by_exact_name(agency, monkeypatch):
    monkeypatch.setattr(importing, "FUZZY_DOB_LIMIT", 2)
    cleaner = importing.RowCleaner()
    rows = [
        cleaner.clean({"_row": n, "given_name": name, "family_name": "Smith", "date_of_birth": "1900-01-01"})
        for n, name in enumerate(["Ann", "Bob", "Cy", "Anne", "Bob"], start=2)
    ]
    with agency_scope(agency):
        duplicates = importing.find_duplicates(agency, rows)
    assert duplicates == [{"row": 6, "reasons": ["dob_name"], "same_as_row": 3}]


def test_flagged_duplicates_are_skipped_when_asked_and_imported_otherwise(
    client, admin, agency, register, django_capture_on_commit_callbacks
):
    register(agency, given_name="Amina", family_name="Haddad", phone="416-555-0123")
    rows = [
        ["Amina", "Haddad", "", "", "416-555-0123", "", ""],  # duplicate of the existing client
        ["Bo", "Li", "", "bo@example.org", "", "", ""],
        ["Bo", "Lee", "", "bo@example.org", "", "", ""],  # duplicate of row 3
    ]
    client.force_login(admin)
    post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    first = latest_import(agency)
    page = client.get(reverse("clients:import_detail", args=[first.pk])).content.decode()
    assert "Skip the 2 rows flagged as likely duplicates" in page

    confirm(client, first, django_capture_on_commit_callbacks, skip_duplicates=True)
    first.refresh_from_db()
    assert first.imported_count == 1
    assert [c.family_name for c in clients_of(agency)] == ["Haddad", "Li"]

    post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    second = latest_import(agency)
    confirm(client, second, django_capture_on_commit_callbacks, skip_duplicates=False)
    second.refresh_from_db()
    assert second.imported_count == 3
    assert len(clients_of(agency)) == 5


# --- The import itself -------------------------------------------------------------------------


def test_the_import_is_audited_once_for_the_file_and_once_per_client(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    confirm(client, client_import, django_capture_on_commit_callbacks)

    imported = clients_of(agency)
    with agency_scope(agency):
        creates = AuditEvent.objects.for_agency(agency).filter(object_type="clients.client", action="create")
        assert sorted(creates.values_list("client_id", flat=True)) == [c.pk for c in imported]
        event = creates.get(client_id=imported[0].pk)
        assert event.actor == admin
        assert event.changes["given_name"] == [None, "Amina"]
        assert event.changes["source_import"] == [None, client_import.pk]
        assert "phones" not in event.changes
        done = (
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="clients.clientimport", object_id=str(client_import.pk))
            .order_by("pk")
        )
        assert [e.changes.get("status") for e in done] == [None, ["ready", "importing"], ["importing", "done"]]
        assert done.last().changes["imported_count"] == [0, 3]


def test_client_numbers_continue_after_the_agencys_last_one(client, admin, agency, register, django_capture_on_commit_callbacks):
    register(agency, given_name="First", family_name="Client")
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    confirm(client, latest_import(agency), django_capture_on_commit_callbacks)
    assert [c.client_number for c in clients_of(agency)] == [1, 2, 3, 4]


def test_a_failure_during_the_import_rolls_back_every_client_and_says_why(
    client, admin, agency, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ClientPhone.objects, "bulk_create", broken)
    confirm(client, client_import, django_capture_on_commit_callbacks)

    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.FAILED
    assert "disk full" in client_import.failure
    assert clients_of(agency) == []
    with agency_scope(agency):
        assert not AuditEvent.objects.for_agency(agency).filter(object_type="clients.client").exists()
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "The import failed and nothing was imported." in page

    monkeypatch.undo()
    confirm(client, client_import, django_capture_on_commit_callbacks)
    client_import.refresh_from_db()
    assert (client_import.status, len(clients_of(agency))) == (ClientImport.Status.DONE, 3)


def test_an_import_runs_only_once(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    confirm(client, client_import, django_capture_on_commit_callbacks)
    response = confirm(client, client_import, django_capture_on_commit_callbacks)
    assert len(clients_of(agency)) == 3
    assert "This import cannot be run: it is imported." in client.get(response["Location"]).content.decode()


def test_a_ready_import_can_be_cancelled_and_its_rows_are_dropped(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)

    response = client.post(reverse("clients:import_cancel", args=[client_import.pk]))

    assert response.status_code == 302
    client_import.refresh_from_db()
    assert (client_import.status, client_import.rows) == (ClientImport.Status.CANCELLED, [])
    confirm(client, client_import, django_capture_on_commit_callbacks)
    assert clients_of(agency) == []
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="clients.clientimport", changes__status=["ready", "cancelled"])
            .exists()
        )


def test_a_finished_import_cannot_be_cancelled(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    confirm(client, client_import, django_capture_on_commit_callbacks)

    response = client.post(reverse("clients:import_cancel", args=[client_import.pk]), follow=True)

    assert "This import cannot be cancelled: it is imported." in response.content.decode()
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.DONE


def test_the_preview_shows_the_first_rows_as_they_will_be_imported(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    rows = [
        [f"Given{n}", f"Family{n}", f"1985-03-{n + 1:02d}", "", f"41655501{n:02d}", "permanent_resident", ""] for n in range(30)
    ]
    response = post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    page = client.get(response["Location"]).content.decode()

    assert "Given19 Family19" in page and "Given20 Family20" not in page
    assert "(416) 555-0119" in page and "1985-03-20" in page
    assert "Permanent resident" in page


# --- Large files in the background -------------------------------------------------------------


def test_a_large_file_is_checked_and_imported_by_background_tasks_with_progress(
    client, admin, agency, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    settings.TASKS = DUMMY_TASKS
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 200)
    rows = [[f"Given{n}", f"Family{n}", "", f"c{n}@example.org", "", "", ""] for n in range(importing.INLINE_ROWS + 100)]
    client.force_login(admin)
    response = post_file(client, csv_upload(rows), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    assert client_import.status == ClientImport.Status.VALIDATING

    # Until a worker runs the task, the page shows progress, polls with htmx and refreshes without JavaScript.
    page = client.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert '<noscript><meta http-equiv="refresh"' in page
    assert "0 of 600 rows" in page
    fragment = client.get(response["Location"], {"poll": 1}, headers={"HX-Request": "true"})
    assert 'id="import-progress"' in fragment.content.decode() and "<html" not in fragment.content.decode()

    [queued] = default_task_backend.results
    assert queued.task.func is validate_client_import.func
    seen = []
    original = importing._progress
    monkeypatch.setattr(importing, "_progress", lambda ci, done: (seen.append(done), original(ci, done)))
    assert validate_client_import.call(*queued.args) == ClientImport.Status.READY
    assert seen == [200, 400, 600]

    # The poll sees the end and asks htmx to reload the whole page.
    assert client.get(response["Location"], {"poll": 1}, headers={"HX-Request": "true"})["HX-Refresh"] == "true"

    confirm(client, client_import, django_capture_on_commit_callbacks)
    client_import.refresh_from_db()
    assert client_import.status == ClientImport.Status.IMPORTING
    assert "Importing the clients…" in client.get(response["Location"]).content.decode()
    assert clients_of(agency) == []

    queued = default_task_backend.results[-1]
    seen.clear()
    assert run_client_import.call(*queued.args) == ClientImport.Status.DONE
    assert seen == [200, 400, 600]
    assert len(clients_of(agency)) == 600
    assert clients_of(agency)[0].created_by == admin


def test_a_cancelled_import_is_left_alone_by_a_late_task(agency, admin, settings):
    settings.TASKS = DUMMY_TASKS
    rows = [[f"G{n}", f"F{n}"] for n in range(importing.INLINE_ROWS + 1)]
    with agency_scope(agency):
        client_import, _parsed = importing.create_import(
            agency=agency, actor=admin, upload=csv_upload(rows, header=["given_name", "family_name"])
        )
        importing.cancel_import(client_import, admin)
    assert validate_client_import.call(client_import.pk, agency.pk, "en") == ClientImport.Status.CANCELLED


def generated_rows(count: int) -> list[list[str]]:
    """``count`` different people: no two share a name, a birth date, a phone or an email."""
    given = [f"Given{chr(65 + n // 26)}{chr(97 + n % 26)}" for n in range(100)]
    family = [f"Family{chr(65 + n // 26)}{chr(97 + n % 26)}" for n in range(100)]
    born = date(1950, 1, 1)
    return [
        [
            given[n % 100],
            family[n // 100],
            (born + timedelta(days=n)).isoformat(),
            f"client{n}@example.org",
            f"416-{200 + n // 10000}-{n % 10000:04d}",
            ["citizen", "Permanent resident", "refugee_claimant", ""][n % 4],
            ["yes", "no", ""][n % 3],
        ]
        for n in range(count)
    ]


def test_a_good_file_of_10000_rows_imports_completely(client, admin, agency, register, django_capture_on_commit_callbacks):
    register(agency, given_name="Already", family_name="Here")
    client.force_login(admin)
    started = time.perf_counter()
    post_file(client, csv_upload(generated_rows(10_000)), django_capture_on_commit_callbacks)
    client_import = latest_import(agency)
    assert (client_import.status, client_import.errors, client_import.duplicates) == (ClientImport.Status.READY, [], [])

    confirm(client, client_import, django_capture_on_commit_callbacks)
    elapsed = time.perf_counter() - started

    client_import.refresh_from_db()
    assert (client_import.status, client_import.imported_count, client_import.processed_rows) == (
        ClientImport.Status.DONE,
        10_000,
        10_000,
    )
    with agency_scope(agency):
        imported = Client.objects.for_agency(agency).filter(source_import=client_import)
        assert imported.count() == 10_000
        numbers = sorted(imported.values_list("client_number", flat=True))
        assert numbers == list(range(2, 10_002))
        assert imported.filter(phone="+14162009999", email="client9999@example.org").exists()
        assert not imported.filter(name_folded="").exists()
        # One create event per client: the 10,000 imported and the one registered before.
        assert AuditEvent.objects.for_agency(agency).filter(object_type="clients.client", action="create").count() == 10_001
    print(f"10,000 rows checked and imported in {elapsed:.1f} s")


# --- Who may import ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["Administrator", "Manager"])
def test_roles_with_the_permission_see_the_button_and_the_pages(client, agency, role):
    client.force_login(make_member(agency, role).user)
    assert reverse("clients:import_list") in client.get(reverse("clients:list")).content.decode()
    assert client.get(reverse("clients:import_list")).status_code == 200
    assert client.get(reverse("clients:import_upload")).status_code == 200


@pytest.mark.parametrize("role", ["Caseworker", "Front desk", "Read-only auditor"])
def test_roles_without_the_permission_get_no_button_and_403(client, agency, role, django_capture_on_commit_callbacks):
    with agency_scope(agency):
        client_import, _parsed = importing.create_import(agency=agency, actor=None, upload=csv_upload(GOOD_ROWS))
    client.force_login(make_member(agency, role).user)

    assert "Import clients" not in client.get(reverse("clients:list")).content.decode()
    for name in ("import_list", "import_upload", "import_template_csv", "import_template_xlsx"):
        assert client.get(reverse(f"clients:{name}")).status_code == 403, name
    for name in ("import_detail", "import_report"):
        assert client.get(reverse(f"clients:{name}", args=[client_import.pk])).status_code == 403, name
    assert post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks).status_code == 403
    assert confirm(client, client_import, django_capture_on_commit_callbacks).status_code == 403
    assert client.post(reverse("clients:import_cancel", args=[client_import.pk])).status_code == 403
    assert clients_of(agency) == []


def test_another_agencys_import_is_not_found(client, agency, outsider, django_capture_on_commit_callbacks):
    with agency_scope(agency):
        client_import, _parsed = importing.create_import(agency=agency, actor=None, upload=csv_upload(GOOD_ROWS))
    client.force_login(outsider)

    for name in ("import_detail", "import_report"):
        assert client.get(reverse(f"clients:{name}", args=[client_import.pk])).status_code == 404
    assert confirm(client, client_import, django_capture_on_commit_callbacks).status_code == 404
    assert client.post(reverse("clients:import_cancel", args=[client_import.pk])).status_code == 404
    assert "clients.csv" not in client.get(reverse("clients:import_list")).content.decode()
    assert clients_of(agency) == []


def test_the_history_lists_who_imported_which_file(client, admin, agency, django_capture_on_commit_callbacks):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS, name="old-system.csv"), django_capture_on_commit_callbacks)
    confirm(client, latest_import(agency), django_capture_on_commit_callbacks)

    page = client.get(reverse("clients:import_list")).content.decode()

    assert "old-system.csv" in page
    assert admin.get_full_name() in page
    assert "Imported" in page


def test_the_bulk_written_create_events_say_what_record_create_says(agency, register):
    client = register(
        agency,
        given_name="Amina",
        family_name="Haddad",
        date_of_birth="1985-03-12",
        phone="4165550123",
        spoken_languages=["ar", "en"],
        consent_sms=True,
    )
    with agency_scope(agency):
        event = AuditEvent.objects.for_agency(agency).get(object_type="clients.client", action="create", client_id=client.pk)
        client.refresh_from_db()
    assert importing._created_changes(client) == event.changes
