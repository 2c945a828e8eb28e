"""/api/v1/case-notes/: list with filters, read, write, change and delete notes under the private rule."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.api.tests.helpers import errors_of
from caseload.casework import notes
from caseload.casework.models import CaseNote
from caseload.casework.tests import note_helpers
from caseload.casework.tests.note_helpers import CONTACT_DAY, SECRET, events, fresh, register, upload, write_note
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

# The shared fixtures, bound here so pytest finds them.
amina, boss, writer, private_note, media = (
    note_helpers.amina,
    note_helpers.boss,
    note_helpers.writer,
    note_helpers.private_note,
    note_helpers.media,
)

URL = "/api/v1/case-notes/"


def detail(note) -> str:
    return f"{URL}{note.pk}/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


class TestReading:
    def test_it_lists_notes_with_the_rendered_body_and_files(self, api, amina, writer):
        note = write_note(amina, writer.user, body="**Next**: [job bank](https://www.jobbank.gc.ca) <script>x</script>")
        with agency_scope(note.agency):
            notes.add_attachment(note, writer.user, upload())

        [row] = api.as_user(writer.user).get(URL).json()["results"]

        assert row["id"] == note.pk and row["client"] == amina.pk and row["author"] == writer.pk
        assert row["body_html"].startswith("<p><strong>Next</strong>")
        assert 'rel="noopener noreferrer nofollow"' in row["body_html"] and "<script" not in row["body_html"]
        [file] = row["attachments"]
        assert (file["name"], file["content_type"], file["size"]) == ("letter.pdf", "application/pdf", len(note_helpers.PDF))
        assert file["download_url"].endswith(f"/attachments/{file['id']}/")

    def test_it_filters_by_client_program_type_status_and_dates(self, api, agency, amina, writer):
        program = make_program(agency, "LINC")
        other = register(agency, given_name="Omar", family_name="Haddad")
        a = write_note(amina, writer.user, note_type="progress", program=program, contact_date=CONTACT_DAY)
        b = write_note(amina, writer.user, status="draft", contact_date=CONTACT_DAY - timedelta(days=10))
        c = write_note(other, writer.user)
        api.as_user(writer.user)

        assert set(ids(api.get(URL, {"client": amina.pk}))) == {a.pk, b.pk}
        assert ids(api.get(URL, {"program": program.pk})) == [a.pk]
        assert ids(api.get(URL, {"note_type": "progress"})) == [a.pk]
        assert ids(api.get(URL, {"status": "draft"})) == [b.pk]
        assert set(ids(api.get(URL, {"date_from": (CONTACT_DAY - timedelta(days=1)).isoformat()}))) == {a.pk, c.pk}
        assert ids(api.get(URL, {"date_to": (CONTACT_DAY - timedelta(days=1)).isoformat()})) == [b.pk]

    def test_a_bad_filter_is_a_400_naming_it(self, api, writer):
        response = api.as_user(writer.user).get(URL, {"status": "maybe", "date_from": "soon"})
        assert response.status_code == 400
        assert set(errors_of(response)) == {"status", "date_from"}

    def test_reading_one_is_audited(self, api, agency, amina, writer):
        note = write_note(amina, writer.user)
        assert api.as_user(writer.user).get(detail(note)).status_code == 200
        [event] = events(agency, action="view", object_type="casework.casenote")
        assert event.object_id == str(note.pk)

    def test_front_desk_gets_403_and_another_agency_404(self, api, agency, amina, writer, outsider):
        note = write_note(amina, writer.user)
        front = make_member(agency, "Front desk").user
        assert api.as_user(front).get(URL).status_code == 403
        assert api.as_user(outsider).get(detail(note)).status_code == 404
        assert ids(api.get(URL)) == []


class TestPrivateNotes:
    def test_another_caseworker_and_an_administrator_never_find_it(self, api, agency, admin, private_note):
        for user in (make_member(agency, "Caseworker").user, admin):
            api.as_user(user)
            assert private_note.pk not in ids(api.get(URL))
            assert api.get(detail(private_note)).status_code == 404
            assert api.patch(detail(private_note), {"body": "x"}).status_code == 404
            assert api.delete(detail(private_note)).status_code == 404
        assert fresh(private_note).body == SECRET and fresh(private_note).deleted_at is None

    def test_the_authors_manager_reads_it_but_may_not_change_it(self, api, boss, private_note):
        api.as_user(boss.user)
        assert private_note.pk in ids(api.get(URL))
        assert api.get(detail(private_note)).json()["body"] == SECRET
        assert api.patch(detail(private_note), {"body": "Rewritten"}).status_code == 403
        assert api.delete(detail(private_note)).status_code == 403
        assert fresh(private_note).body == SECRET and fresh(private_note).deleted_at is None


class TestWriting:
    def test_it_writes_a_note_and_audits_it_without_its_text(self, api, agency, amina, writer):
        program = make_program(agency, "LINC")
        response = api.as_user(writer.user).post(
            URL,
            {
                "client": amina.pk,
                "note_type": "assessment",
                "program": program.pk,
                "contact_date": CONTACT_DAY.isoformat(),
                "body": SECRET,
                "is_private": True,
            },
        )
        assert response.status_code == 201, response.content
        note = fresh(CaseNote(pk=response.json()["id"], agency=agency))
        assert (note.author, note.program, note.is_private, note.status, note.body) == (writer, program, True, "final", SECRET)
        [event] = events(agency, action="create", object_type="casework.casenote")
        assert "relapse" not in json.dumps(event.changes)

    def test_bad_input_is_a_400_naming_each_field_and_writes_nothing(self, api, agency, other_agency, amina, writer):
        elsewhere = make_program(other_agency, "Elsewhere")
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        api.as_user(writer.user)

        first = api.post(URL, {"client": amina.pk, "note_type": "gossip", "program": elsewhere.pk, "body": ""})
        assert first.status_code == 400
        assert {"note_type", "program", "body"} <= set(errors_of(first))
        future = api.post(URL, {"client": amina.pk, "contact_date": tomorrow, "body": "Soon"})
        assert future.status_code == 400 and set(errors_of(future)) == {"contact_date"}
        other_client = register(other_agency, given_name="Zed", family_name="Other")
        elsewhere_client = api.post(URL, {"client": other_client.pk, "body": "Hello"})
        assert elsewhere_client.status_code == 400 and set(errors_of(elsewhere_client)) == {"client"}
        with agency_scope(agency):
            assert not CaseNote.objects.for_agency(agency).exists()

    def test_it_changes_some_fields_keeping_the_history(self, api, agency, amina, writer):
        note = write_note(amina, writer.user, body="First version.", status="draft")
        response = api.as_user(writer.user).patch(detail(note), {"body": "Second version.", "status": "final"})
        assert response.status_code == 200, response.content
        assert response.json()["body_html"] == "<p>Second version.</p>"
        note = fresh(note)
        assert (note.body, note.status) == ("Second version.", "final")
        with agency_scope(agency):
            [revision] = note.revisions.all()
        assert revision.before == {"body": "First version.", "status": "draft"}

    def test_a_note_cannot_move_to_another_client(self, api, agency, amina, writer):
        note = write_note(amina, writer.user)
        other = register(agency, given_name="Omar", family_name="Haddad")
        response = api.as_user(writer.user).patch(detail(note), {"client": other.pk})
        assert response.status_code == 400 and set(errors_of(response)) == {"client"}
        assert fresh(note).client == amina

    def test_put_is_not_offered(self, api, amina, writer):
        note = write_note(amina, writer.user)
        assert api.as_user(writer.user).put(detail(note), {"body": "x"}).status_code == 405

    def test_delete_is_soft_and_audited(self, api, agency, amina, writer):
        note = write_note(amina, writer.user)
        api.as_user(writer.user)
        assert api.delete(detail(note)).status_code == 204
        assert fresh(note).deleted_at is not None
        assert api.get(detail(note)).status_code == 404
        assert events(agency, action="delete", object_type="casework.casenote")

    def test_the_auditor_reads_but_may_not_write(self, api, amina, writer, auditor):
        note = write_note(amina, writer.user)
        api.as_user(auditor)
        assert api.get(detail(note)).status_code == 200
        assert api.post(URL, {"client": amina.pk, "body": "x"}).status_code == 403
        assert api.patch(detail(note), {"body": "x"}).status_code == 403
        assert api.delete(detail(note)).status_code == 403
