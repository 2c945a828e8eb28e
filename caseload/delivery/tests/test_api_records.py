"""/api/v1/service-records/ and /api/v1/form-definitions/: forms filled in during sessions, under
the programs rule and the private rule, with answers validated by the form engine."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.delivery.models import ServiceRecord
from caseload.delivery.tests.helpers import direct_session, fill, group_session, team
from caseload.formbuilder import questions
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

URL = "/api/v1/service-records/"
ANSWERS = {"service_date": "2026-03-10", "service_provided": "information", "topic": "Housing"}


@pytest.fixture
def t(agency):
    assert FormDefinition.objects.filter(key="non_specified").exists()  # loaded after migrate
    return team(agency)


def detail(row) -> str:
    return f"{URL}{row.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def fresh(row) -> ServiceRecord:
    return ServiceRecord.objects.for_agency(row.agency).get(pk=row.pk)


class TestFormDefinitions:
    def test_it_lists_each_forms_current_version(self, api, t):
        rows = api.as_user(t.writer.user).get("/api/v1/form-definitions/", {"page_size": 100}).json()["results"]
        [row] = [r for r in rows if r["key"] == "non_specified"]
        assert (row["name_en"], row["scope"], row["field_count"]) == ("Non-Specified", "client", 6)
        assert len({r["key"] for r in rows}) == len(rows)

    def test_one_definition_holds_the_whole_json_and_the_agencys_questions(self, api, t):
        with agency_scope(t.agency):
            questions.add_question(
                t.agency,
                None,
                "non_specified",
                {"type": "yesno", "label": {"en": "Bus pass given", "fr": "Laissez-passer remis"}},
            )
        definition = FormDefinition.objects.filter(key="non_specified").order_by("-version").first()

        body = api.as_user(t.writer.user).get(f"/api/v1/form-definitions/{definition.pk}/").json()

        assert body["definition"]["key"] == "non_specified" and body["definition"]["fields"][0]["key"] == "service_date"
        [question] = body["agency_fields"]
        assert question["label"] == {"en": "Bus pass given", "fr": "Laissez-passer remis"} and body["agency_fields_version"] == 1

    def test_it_filters_by_key(self, api, t):
        rows = api.as_user(t.writer.user).get("/api/v1/form-definitions/", {"key": "employment", "all_versions": "true"}).json()
        assert {row["key"] for row in rows["results"]} == {"employment"}
        assert api.get("/api/v1/form-definitions/", {"key": "Not a key!"}).status_code == 400


class TestReading:
    def test_it_lists_records_with_their_answers_for_reading(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS, status="completed")

        [body] = api.as_user(t.colleague.user).get(URL).json()["results"]

        assert body["id"] == row.pk and body["form"] == "non_specified" and body["form_version"] == 1
        assert body["answers"] == ANSWERS and body["status"] == "completed" and body["author"] == t.writer.pk
        shown = {item["key"]: item for item in body["answers_display"]}
        assert shown["service_provided"]["label"] == "Service provided" and shown["service_provided"]["text"] == "Information"

    def test_it_filters_by_client_session_form_status_and_program(self, api, t):
        session = direct_session(t)
        a = fill(session, t.writer.user, answers=ANSWERS, status="completed")
        b = fill(direct_session(t), t.writer.user, "needs_assessment", {})
        api.as_user(t.writer.user)

        assert set(ids(api.get(URL, {"client": t.client.pk}))) == {a.pk, b.pk}
        assert ids(api.get(URL, {"session": session.pk})) == [a.pk]
        assert ids(api.get(URL, {"form": "needs_assessment"})) == [b.pk]
        assert ids(api.get(URL, {"status": "draft"})) == [b.pk]
        assert ids(api.get(URL, {"program": t.other_program.pk})) == []

    def test_a_caseworker_outside_the_program_sees_nothing(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        api.as_user(t.stranger.user)
        assert ids(api.get(URL)) == []
        assert api.get(detail(row)).status_code == 404

    def test_another_agencys_record_is_not_found(self, api, t, outsider):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        api.as_user(outsider)
        assert api.get(detail(row)).status_code == 404
        assert api.patch(detail(row), {"status": "completed"}).status_code == 404

    def test_a_colleagues_private_record_is_not_found_but_the_authors_manager_reads_it(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS, is_private=True)

        api.as_user(t.colleague.user)
        assert api.get(detail(row)).status_code == 404
        assert ids(api.get(URL)) == []

        api.as_user(t.boss.user)
        assert api.get(detail(row)).status_code == 200
        # The manager reads it; only its author changes it.
        assert api.patch(detail(row), {"answers": {**ANSWERS, "topic": "Rent"}}).status_code == 403
        assert api.delete(detail(row)).status_code == 403
        assert fresh(row).answers == ANSWERS and fresh(row).deleted_at is None

    def test_reading_one_is_audited(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        assert api.as_user(t.colleague.user).get(detail(row)).status_code == 200
        assert AuditEvent.objects.for_agency(t.agency).filter(action="view", object_id=str(row.pk)).exists()


class TestWriting:
    def test_it_fills_in_a_form_in_a_session(self, api, t):
        session = direct_session(t)
        response = api.as_user(t.writer.user).post(
            URL, {"session": session.pk, "form": "non_specified", "answers": ANSWERS, "status": "completed"}
        )

        assert response.status_code == 201, response.content
        row = ServiceRecord.objects.for_agency(t.agency).get(pk=response.json()["id"])
        assert (row.client, row.author, row.status, row.answers) == (t.client, t.writer, "completed", ANSWERS)
        assert row.completed_at is not None

    @pytest.mark.parametrize(
        "answers, status, path",
        [
            ({**ANSWERS, "time_spent_minutes": "a while"}, "draft", "answers.time_spent_minutes"),
            ({"service_provided": "information"}, "completed", "answers.service_date"),
            ({**ANSWERS, "service_provided": "teleportation"}, "completed", "answers.service_provided"),
        ],
        ids=["wrong type", "missing required on completion", "outside the code list"],
    )
    def test_a_refused_answer_is_a_400_naming_it(self, api, t, answers, status, path):
        session = direct_session(t)
        response = api.as_user(t.writer.user).post(
            URL, {"session": session.pk, "form": "non_specified", "answers": answers, "status": status}
        )
        assert response.status_code == 400
        assert path in errors_of(response), response.json()
        assert not ServiceRecord.objects.for_agency(t.agency).exists()

    def test_a_draft_may_leave_required_questions_unanswered(self, api, t):
        session = direct_session(t)
        response = api.as_user(t.writer.user).post(URL, {"session": session.pk, "form": "non_specified", "answers": {}})
        assert response.status_code == 201 and response.json()["status"] == "draft"

    def test_an_unknown_form_or_one_not_of_the_session_is_a_400_naming_form(self, api, t):
        session = direct_session(t)
        api.as_user(t.writer.user)
        for key in ("no_such_form", "lt_open"):
            response = api.post(URL, {"session": session.pk, "form": key, "answers": {}})
            assert response.status_code == 400
            assert set(errors_of(response)) == {"form"}

    def test_a_session_of_another_program_does_not_exist(self, api, t):
        session = direct_session(t)
        response = api.as_user(t.stranger.user).post(URL, {"session": session.pk, "form": "non_specified", "answers": {}})
        assert response.status_code == 400
        assert errors_of(response) == {"session": ["does_not_exist"]}

    def test_a_group_form_has_no_client(self, api, t):
        session = group_session(t)
        response = api.as_user(t.writer.user).post(
            URL, {"session": session.pk, "form": "io_group_activity", "client": t.client.pk, "answers": {}}
        )
        assert response.status_code == 400
        assert set(errors_of(response)) == {"client"}

    def test_it_changes_answers_and_completes_a_draft(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers={"topic": "Housing"})
        api.as_user(t.writer.user)

        response = api.patch(detail(row), {"answers": {**ANSWERS, "topic": "Rent"}, "status": "completed"})
        assert response.status_code == 200, response.content
        assert fresh(row).answers["topic"] == "Rent" and fresh(row).status == "completed"

        response = api.patch(detail(row), {"status": "draft"})
        assert response.status_code == 400 and set(errors_of(response)) == {"status"}

    def test_a_change_validates_under_the_records_own_version(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS, status="completed")
        response = api.as_user(t.writer.user).patch(detail(row), {"answers": {**ANSWERS, "service_date": "2999-01-01"}})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"answers.service_date"}

    def test_the_session_client_and_form_are_set_once(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        response = api.as_user(t.writer.user).patch(detail(row), {"form": "employment", "session": direct_session(t).pk})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"form", "session"}

    def test_only_the_author_makes_a_record_private(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        response = api.as_user(t.colleague.user).patch(detail(row), {"is_private": True})
        assert response.status_code == 400 and set(errors_of(response)) == {"is_private"}
        assert api.as_user(t.writer.user).patch(detail(row), {"is_private": True}).status_code == 200
        assert fresh(row).is_private

    def test_deleting_a_record_keeps_it_for_the_audit_log(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        api.as_user(t.writer.user)
        assert api.delete(detail(row)).status_code == 204
        assert api.get(detail(row)).status_code == 404
        assert fresh(row).deleted_at is not None

    def test_answers_never_enter_the_audit_log(self, api, t):
        row = fill(direct_session(t), t.writer.user, answers=ANSWERS)
        api.as_user(t.writer.user).patch(detail(row), {"answers": {**ANSWERS, "topic": "Secret eviction"}})
        assert not any("Secret eviction" in str(event.changes) for event in AuditEvent.objects.for_agency(t.agency))


def test_the_schema_documents_an_answer_error_by_its_path(client):
    import re

    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    for operation in ("ServiceRecordsCreate", "ServiceRecordsPartialUpdate"):
        attr = schemas[f"{operation}AnswersPATHErrorComponent"]["properties"]["attr"]
        assert re.match(attr["pattern"], "answers.time_spent_minutes")
        assert re.match(attr["pattern"], "answers.presenters.1.name")
