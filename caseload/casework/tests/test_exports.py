"""The standard casework exports: CSV (streamed) and XLSX, on the page and in the API, under the private rule."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from caseload.audit.models import AuditEvent
from caseload.casework import communications, notes, services
from caseload.casework.exports import last_month
from caseload.casework.models import SupportServiceType
from caseload.casework.tests.batch_helpers import a_client, a_program, in_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

PAGE = reverse("casework:exports")
DOWNLOAD = reverse("casework:export_download")
RANGE = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


def content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content(response).decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(content(response)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def team(agency):
    """A manager, the caseworker they manage, and a caseworker managed by no one."""
    boss = make_member(agency, "Manager")
    worker = make_member(agency, "Caseworker", manager=boss)
    other = make_member(agency, "Caseworker")
    return {"manager": boss.user, "worker": worker.user, "other": other.user}


@pytest.fixture
def records(agency, team):
    youth = a_program(agency)
    amina = a_client(agency)
    marc = a_client(agency, "Marc", "Tremblay")

    def note(client, actor, body, **data):
        values = {"note_type": "contact", "contact_date": date(2026, 3, 10), "body": body, **data}
        return in_scope(agency, notes.create_note, client, actor, values)

    open_note = note(amina, team["other"], "Called about the job fair.", program=youth)
    note(amina, team["worker"], "Disclosed a private matter.", is_private=True)
    note(marc, team["other"], '=HYPERLINK("http://evil.example")')
    note(marc, team["other"], "In February.", contact_date=date(2026, 2, 27))
    deleted = note(marc, team["other"], "Deleted later.")
    in_scope(agency, notes.delete_note, deleted, team["other"])
    in_scope(
        agency,
        communications.record_communication,
        amina,
        team["other"],
        {"kind": "phone", "date": date(2026, 3, 3), "subject": "+1 call back", "program": youth},
    )
    bus = in_scope(agency, lambda: SupportServiceType.objects.for_agency(agency).get(name="Transportation"))
    in_scope(
        agency,
        services.record_service,
        marc,
        team["other"],
        {
            "service_type": bus,
            "date": date(2026, 3, 4),
            "amount": Decimal("42.50"),
            "vendor": "@Transit",
            "justification": "Interview",
        },
    )
    return {"youth": youth, "amina": amina, "marc": marc, "open_note": open_note}


class TestThePage:
    def test_it_offers_the_three_reports_and_last_month_by_default(self, as_user, team, agency):
        page = as_user(team["manager"]).get(PAGE).content.decode()
        assert (
            "Participant case notes" in page
            and "Participant case communications" in page
            and "Participant supportive services" in page
        )
        start, end = last_month(communications.agency_today(agency))
        assert f'value="{start.isoformat()}"' in page and f'value="{end.isoformat()}"' in page
        assert f'action="{DOWNLOAD}"' in page

    def test_the_last_month_is_the_whole_calendar_month_before(self):
        assert last_month(date(2026, 3, 15)) == (date(2026, 2, 1), date(2026, 2, 28))
        assert last_month(date(2026, 1, 1)) == (date(2025, 12, 1), date(2025, 12, 31))

    def test_a_bad_range_is_a_form_error_and_nothing_is_exported(self, as_user, team, agency):
        response = as_user(team["manager"]).get(
            DOWNLOAD, {"report": "case-notes", "date_from": "2026-03-31", "date_to": "2026-03-01", "file_format": "csv"}
        )
        assert response.status_code == 400 and "before its start" in response.content.decode()
        response = as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", "file_format": "csv"})
        assert response.status_code == 400
        assert not in_scope(agency, AuditEvent.objects.for_agency(agency).filter(action="export").exists)

    def test_a_program_of_another_agency_is_a_form_error(self, as_user, team, other_agency):
        foreign = a_program(other_agency)
        response = as_user(team["manager"]).get(
            DOWNLOAD, {"report": "case-notes", **RANGE, "program": foreign.pk, "file_format": "csv"}
        )
        assert response.status_code == 400

    @pytest.mark.parametrize("role", ["Caseworker", "Read-only auditor", "Front desk"])
    def test_a_role_without_casework_export_is_refused(self, as_user, agency, role):
        web = as_user(make_member(agency, role).user)
        assert web.get(PAGE).status_code == 403
        assert web.get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}).status_code == 403

    def test_another_agency_exports_none_of_ours(self, as_user, outsider, records):
        rows = csv_rows(as_user(outsider).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        assert rows[1:] == []


class TestTheCsv:
    def test_it_is_streamed_with_a_dated_filename(self, as_user, team, records):
        response = as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"})
        assert response.status_code == 200 and response.streaming
        assert response["Content-Type"].startswith("text/csv")
        assert 'filename="case-notes-2026-03-01-to-2026-03-31.csv"' in response["Content-Disposition"]

    def test_the_private_note_is_there_for_the_authors_manager_only(self, as_user, team, records, admin):
        for_manager = [
            row[-1]
            for row in csv_rows(as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        ]
        assert "Disclosed a private matter." in for_manager
        for_admin = [
            row[-1] for row in csv_rows(as_user(admin).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        ]
        assert "Disclosed a private matter." not in for_admin
        assert "Called about the job fair." in for_admin

    def test_rows_are_the_range_without_deleted_notes_and_with_every_column(self, as_user, team, records):
        header, *rows = csv_rows(as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        assert header == ["Client number", "Client name", "Date of contact", "Type", "Program", "Recorded by", "Status", "Note"]
        bodies = [row[-1] for row in rows]
        assert "In February." not in bodies and "Deleted later." not in bodies
        first = next(row for row in rows if row[-1] == "Called about the job fair.")
        other = in_scope(records["amina"].agency, lambda: team["other"].full_name)
        assert first == [
            str(records["amina"].client_number),
            "Amina Haddad",
            "2026-03-10",
            "Contact",
            "Youth Job Connection",
            other,
            "Final",
            "Called about the job fair.",
        ]

    def test_headers_and_choice_labels_are_in_the_language_of_the_request(self, as_user, team, records):
        web = as_user(team["manager"])
        french = csv_rows(web.get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}, HTTP_ACCEPT_LANGUAGE="fr"))
        row = next(row for row in french[1:] if row[-1] == "Called about the job fair.")
        assert french[0][3] == "Type" and row[3] == "Coordonnées" and row[6] == "Définitive"
        # The labels are translated per export, never kept from an earlier one in another language.
        english = csv_rows(web.get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}, HTTP_ACCEPT_LANGUAGE="en"))
        row = next(row for row in english[1:] if row[-1] == "Called about the job fair.")
        assert (row[3], row[6]) == ("Contact", "Final")

    def test_an_empty_cell_is_empty_and_a_date_is_iso(self, as_user, team, records):
        rows = csv_rows(as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        private = next(row for row in rows[1:] if row[-1] == "Disclosed a private matter.")
        assert private[2] == "2026-03-10" and private[4] == ""

    def test_the_program_filter_keeps_that_programs_rows(self, as_user, team, records):
        rows = csv_rows(
            as_user(team["manager"]).get(
                DOWNLOAD, {"report": "case-notes", **RANGE, "program": records["youth"].pk, "file_format": "csv"}
            )
        )
        assert [row[-1] for row in rows[1:]] == ["Called about the job fair."]

    def test_formulas_are_defused(self, as_user, team, records):
        rows = csv_rows(as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"}))
        assert '\'=HYPERLINK("http://evil.example")' in [row[-1] for row in rows]
        communication = csv_rows(
            as_user(team["manager"]).get(DOWNLOAD, {"report": "communications", **RANGE, "file_format": "csv"})
        )
        assert communication[1][-2] == "'+1 call back"
        service = csv_rows(
            as_user(team["manager"]).get(DOWNLOAD, {"report": "supportive-services", **RANGE, "file_format": "csv"})
        )
        assert service[0][-4:] == ["Amount", "Vendor", "Grant", "Justification"]
        assert service[1][-4:] == ["42.5", "'@Transit", "", "Interview"]

    def test_the_export_is_audited_with_its_range_and_count_but_no_contents(self, as_user, team, records, agency):
        as_user(team["manager"]).get(
            DOWNLOAD, {"report": "case-notes", **RANGE, "program": records["youth"].pk, "file_format": "csv"}
        )
        event = in_scope(agency, AuditEvent.objects.for_agency(agency).get, action="export")
        assert event.actor == team["manager"]
        assert event.changes == {
            "report": "case-notes",
            "from": "2026-03-01",
            "to": "2026-03-31",
            "program": records["youth"].pk,
            "format": "csv",
            "rows": 1,
        }
        assert "job fair" not in str(event.changes) + event.object_repr

    def test_one_query_reads_the_rows_whatever_their_number(self, as_user, team, records, agency, django_assert_max_num_queries):
        for n in range(30):
            in_scope(
                agency,
                notes.create_note,
                records["marc"],
                team["other"],
                {"contact_date": date(2026, 3, 20), "body": f"Note {n}"},
            )
        web = as_user(team["manager"])
        response = web.get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "csv"})
        with django_assert_max_num_queries(3):  # the rows (and, on PostgreSQL, the agency scope's setting and its restoring)
            lines = content(response).decode("utf-8-sig").splitlines()
        assert len(lines) == 1 + 3 + 30  # the header, the three notes of the fixture in March, and these


class TestTheXlsx:
    def test_it_holds_the_same_rows_under_the_same_rule(self, as_user, team, records, admin):
        response = as_user(team["manager"]).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "xlsx"})
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert "case-notes-2026-03-01-to-2026-03-31.xlsx" in response["Content-Disposition"]
        rows = xlsx_rows(response)
        assert rows[0][0] == "Client number"
        assert "Disclosed a private matter." in [row[-1] for row in rows]
        assert '\'=HYPERLINK("http://evil.example")' in [row[-1] for row in rows]
        for_admin = [
            row[-1] for row in xlsx_rows(as_user(admin).get(DOWNLOAD, {"report": "case-notes", **RANGE, "file_format": "xlsx"}))
        ]
        assert "Disclosed a private matter." not in for_admin

    def test_services_keep_amounts_as_numbers(self, as_user, team, records):
        rows = xlsx_rows(
            as_user(team["manager"]).get(DOWNLOAD, {"report": "supportive-services", **RANGE, "file_format": "xlsx"})
        )
        assert rows[1][-4] == 42.5


class TestTheApi:
    def test_it_lists_the_reports(self, api, team):
        body = api.as_user(team["manager"]).get("/api/v1/exports/").json()
        assert [row["report"] for row in body] == ["case-notes", "communications", "supportive-services"]
        assert body[0]["csv_url"] == "/api/v1/exports/case-notes.csv/"

    def test_the_private_note_is_absent_for_others_and_present_for_the_manager(self, api, team, records, admin):
        url = "/api/v1/exports/case-notes.csv/"
        response = api.as_user(team["manager"]).get(url, RANGE)
        assert response.status_code == 200 and response.streaming
        assert "Disclosed a private matter." in [row[-1] for row in csv_rows(response)]
        response = api.as_user(admin).get(url, RANGE, HTTP_ACCEPT="text/csv")
        assert response.status_code == 200
        assert "Disclosed a private matter." not in [row[-1] for row in csv_rows(response)]

    def test_xlsx_and_the_program_filter(self, api, team, records):
        response = api.as_user(team["manager"]).get(
            "/api/v1/exports/communications.xlsx/", {**RANGE, "program": records["youth"].pk}
        )
        rows = xlsx_rows(response)
        assert len(rows) == 2 and rows[1][-2] == "'+1 call back"

    def test_bad_input_is_a_400_naming_the_field(self, api, team, other_agency):
        from caseload.api.tests.helpers import errors_of

        web = api.as_user(team["manager"])
        assert "date_from" in errors_of(web.get("/api/v1/exports/case-notes.csv/", {"date_to": "2026-03-01"}))
        assert "date_to" in errors_of(
            web.get("/api/v1/exports/case-notes.csv/", {"date_from": "2026-03-02", "date_to": "2026-03-01"})
        )
        assert "program" in errors_of(
            web.get("/api/v1/exports/case-notes.csv/", {**RANGE, "program": a_program(other_agency).pk})
        )

    def test_an_unknown_report_is_a_404(self, api, team):
        web = api.as_user(team["manager"])
        assert web.get("/api/v1/exports/passwords.csv/", RANGE).status_code == 404
        assert web.get("/api/v1/exports/case-notes.pdf/", RANGE).status_code == 404

    def test_it_is_audited(self, api, team, records, agency):
        api.as_user(team["manager"]).get("/api/v1/exports/supportive-services.csv/", RANGE)
        event = in_scope(agency, AuditEvent.objects.for_agency(agency).get, action="export")
        assert event.changes["report"] == "supportive-services" and event.changes["rows"] == 1

    def test_a_role_without_casework_export_is_refused(self, api, agency):
        web = api.as_user(make_member(agency, "Caseworker").user)
        assert web.get("/api/v1/exports/").status_code == 403
        assert web.get("/api/v1/exports/case-notes.csv/", RANGE).status_code == 403
