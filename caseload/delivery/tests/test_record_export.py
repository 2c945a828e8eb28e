"""The service-record export: a form's records with the agency's own questions, as CSV (page and API)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest

from caseload.audit.models import AuditEvent
from caseload.delivery.exports import service_record_rows
from caseload.delivery.tests.helpers import direct_session, fill, team
from caseload.formbuilder import questions
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

ANSWERS = {"service_date": "2026-03-10", "service_provided": "information", "topic": "Housing"}
HEAD = ["Record", "Session date", "Session type", "Program", "Client number", "Client name", "Status", "Recorded by"]


@pytest.fixture
def t(agency):
    assert FormDefinition.objects.filter(key="non_specified").exists()
    return team(agency)


def bus_pass_question(agency) -> str:
    """The agency asks its own question on the Non-Specified form; returns its key."""
    with agency_scope(agency):
        extension = questions.add_question(
            agency, None, "non_specified", {"type": "yesno", "label": {"en": "Bus pass given", "fr": "Laissez-passer remis"}}
        )
    return extension.fields[-1]["key"]


def table(rows) -> list[dict[str, str]]:
    header, *body = list(rows)
    return [dict(zip(header, row, strict=True)) for row in body]


def exported(agency, membership, form_key="non_specified", **options) -> list[list]:
    """The export's rows, header first, read in the agency's scope (as a request runs)."""
    with agency_scope(agency):
        return list(service_record_rows(agency, membership, form_key, **options))


def read_csv(response) -> list[dict[str, str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


class TestRows:
    def test_it_has_the_record_columns_then_the_forms_then_the_agencys_questions(self, t):
        old = fill(direct_session(t), t.writer.user, answers=ANSWERS, status="completed")
        key = bus_pass_question(t.agency)
        new = fill(direct_session(t), t.writer.user, answers={**ANSWERS, key: True}, status="completed")

        header, *body = exported(t.agency, t.boss, "non_specified")

        assert header[: len(HEAD)] == HEAD
        assert header[len(HEAD) :] == [
            "Date of service",
            "Service provided",
            "Other service",
            "Topic",
            "Time spent (minutes)",
            "Notes",
            "Bus pass given",
        ]
        rows = table([header, *body])
        assert [row["Record"] for row in rows] == [old.pk, new.pk]
        # The older record, answered before the question existed, leaves it empty.
        assert (rows[0]["Bus pass given"], rows[1]["Bus pass given"]) == ("", "Yes")
        assert rows[1]["Service provided"] == "Information" and rows[1]["Client name"] == "Amina Haddad"
        assert rows[1]["Status"] == "Completed" and rows[1]["Program"] == "Settlement Services"

    def test_a_colleagues_private_record_is_never_exported(self, t):
        private = fill(direct_session(t), t.writer.user, answers=ANSWERS, is_private=True)
        admin = make_member(t.agency, "Administrator")

        assert [row["Record"] for row in table(exported(t.agency, admin, "non_specified"))] == []
        # The author's manager sees it, in the file as on the page.
        assert [row["Record"] for row in table(exported(t.agency, t.boss, "non_specified"))] == [private.pk]

    def test_a_caseworker_outside_the_program_exports_nothing(self, t):
        fill(direct_session(t), t.writer.user, answers=ANSWERS)
        assert table(exported(t.agency, t.stranger, "non_specified")) == []

    def test_it_filters_by_session_dates_and_program(self, t):
        fill(direct_session(t), t.writer.user, answers=ANSWERS)
        assert table(exported(t.agency, t.boss, "non_specified", date_from=datetime.date(2026, 4, 1))) == []
        assert table(exported(t.agency, t.boss, "non_specified", program=t.other_program)) == []
        assert len(table(exported(t.agency, t.boss, "non_specified", date_to=datetime.date(2026, 3, 31)))) == 1

    def test_a_cell_a_spreadsheet_would_run_is_guarded(self, t):
        fill(direct_session(t), t.writer.user, answers={**ANSWERS, "topic": "=HYPERLINK(1)"})
        [row] = table(exported(t.agency, t.boss, "non_specified"))
        assert row["Topic"] == "'=HYPERLINK(1)"


class TestPage:
    def test_the_page_offers_the_forms(self, as_user, t):
        response = as_user(t.boss.user).get("/service-forms/export/")
        assert response.status_code == 200
        assert "Non-Specified" in response.content.decode()

    def test_the_download_is_a_csv_with_the_agencys_question_and_is_audited(self, as_user, t):
        key = bus_pass_question(t.agency)
        fill(direct_session(t), t.writer.user, answers={**ANSWERS, key: True}, status="completed")

        response = as_user(t.boss.user).get(
            "/service-forms/export/download/",
            {"form": "non_specified", "date_from": "2026-03-01", "date_to": "2026-03-31", "file_format": "csv"},
        )

        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        [row] = read_csv(response)
        assert row["Bus pass given"] == "Yes"
        event = AuditEvent.objects.for_agency(t.agency).get(action="export")
        assert event.changes["form"] == "non_specified" and event.changes["rows"] == 1
        assert "Housing" not in str(event.changes)

    def test_the_excel_download_works_too(self, as_user, t):
        fill(direct_session(t), t.writer.user, answers=ANSWERS)
        response = as_user(t.boss.user).get(
            "/service-forms/export/download/",
            {"form": "non_specified", "date_from": "2026-03-01", "date_to": "2026-03-31", "file_format": "xlsx"},
        )
        assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")

    def test_a_bad_range_is_a_400(self, as_user, t):
        response = as_user(t.boss.user).get(
            "/service-forms/export/download/",
            {"form": "non_specified", "date_from": "2026-03-31", "date_to": "2026-03-01", "file_format": "csv"},
        )
        assert response.status_code == 400

    def test_a_caseworker_without_delivery_export_is_refused(self, as_user, t):
        assert as_user(t.writer.user).get("/service-forms/export/").status_code == 403


class TestApi:
    def test_the_api_gives_the_same_csv(self, api, t):
        key = bus_pass_question(t.agency)
        fill(direct_session(t), t.writer.user, answers={**ANSWERS, key: False})

        response = api.as_user(t.boss.user).get("/api/v1/service-records/export/", {"form": "non_specified"})

        assert response.status_code == 200, response.content
        [row] = read_csv(response)
        assert row["Bus pass given"] == "No" and row["Topic"] == "Housing"

    def test_an_unknown_form_is_a_400_naming_it(self, api, t):
        response = api.as_user(t.boss.user).get("/api/v1/service-records/export/", {"form": "no_such_form"})
        assert response.status_code == 400
        assert {error["attr"] for error in response.json()["errors"]} == {"form"}

    def test_a_caseworker_without_delivery_export_is_refused(self, api, t):
        response = api.as_user(t.writer.user).get("/api/v1/service-records/export/", {"form": "non_specified"})
        assert response.status_code == 403
