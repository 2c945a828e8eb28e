"""The Case notes tab: the list and its filters, writing, editing, deleting, a note's history; who sees what."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from caseload.casework.models import CaseNote, NoteRevision
from caseload.casework.tests import note_helpers
from caseload.casework.tests.note_helpers import CONTACT_DAY, SECRET, events, fresh, register, write_note
from caseload.clients.merging import merge_clients
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


def notes_url(client) -> str:
    return reverse("casework:notes", args=[client.pk])


def all_notes(agency) -> list[CaseNote]:
    with agency_scope(agency):
        return list(CaseNote.objects.for_agency(agency).order_by("pk"))


def form_data(**data) -> dict:
    return {
        "note_type": "contact",
        "contact_date": CONTACT_DAY.isoformat(),
        "body": "Called about the workshop.",
        "save": "final",
        **data,
    }


class TestTheTab:
    def test_it_lists_the_notes_newest_first_with_their_details(self, client, agency, amina, writer):
        program = make_program(agency, "Job Search Workshop")
        write_note(amina, writer.user, body="Older note", contact_date=CONTACT_DAY - timedelta(days=3))
        write_note(
            amina, writer.user, body="- first\n- [job bank](https://www.jobbank.gc.ca)", program=program, note_type="progress"
        )
        write_note(amina, writer.user, body="Half done", status="draft")

        client.force_login(writer.user)
        response = client.get(notes_url(amina))

        html = response.content.decode()
        assert response.status_code == 200
        assert html.index("Half done") < html.index("job bank") < html.index("Older note")
        assert '<a href="https://www.jobbank.gc.ca" rel="noopener noreferrer nofollow">job bank</a>' in html
        assert "Job Search Workshop" in html and "Progress" in html
        assert "Draft: to complete" in html
        assert 'aria-current="page"' in html and "New note" in html
        assert writer.user.get_full_name() in html

    def test_opening_the_tab_is_audited(self, client, agency, amina, writer):
        client.force_login(writer.user)
        client.get(notes_url(amina))
        [event] = events(agency, action="view", client_id=amina.pk)
        assert event.actor == writer.user

    def test_it_filters_by_type_program_and_author(self, client, agency, amina, writer):
        program = make_program(agency, "LINC")
        other = make_member(agency, "Caseworker")
        write_note(amina, writer.user, body="Contact by the writer")
        write_note(amina, other.user, body="Assessment by another", note_type="assessment", program=program)

        client.force_login(writer.user)
        by_type = client.get(notes_url(amina), {"type": "assessment"}).content.decode()
        by_program = client.get(notes_url(amina), {"program": program.pk}).content.decode()
        by_author = client.get(notes_url(amina), {"author": writer.pk}).content.decode()

        assert "Assessment by another" in by_type and "Contact by the writer" not in by_type
        assert "Assessment by another" in by_program and "Contact by the writer" not in by_program
        assert "Contact by the writer" in by_author and "Assessment by another" not in by_author

    def test_a_bad_filter_is_named_and_not_applied(self, client, amina, writer):
        write_note(amina, writer.user, body="Still listed")
        client.force_login(writer.user)
        response = client.get(notes_url(amina), {"type": "gossip", "program": "abc"})
        html = response.content.decode()
        assert response.status_code == 200
        assert "Still listed" in html
        assert 'id="id_type_error"' in html and 'id="id_program_error"' in html

    def test_it_pages_the_notes(self, client, amina, writer):
        for n in range(23):
            write_note(amina, writer.user, body=f"Note number {n:02d}")
        client.force_login(writer.user)
        first = client.get(notes_url(amina)).content.decode()
        second = client.get(notes_url(amina), {"page": 2}).content.decode()
        assert first.count('class="card note') == 20 and second.count('class="card note') == 3
        assert "21–23 of 23" in second

    def test_the_tab_runs_the_same_queries_for_few_or_many_notes(self, client, agency, amina, writer):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        program = make_program(agency, "LINC")
        client.force_login(writer.user)

        def queries() -> int:
            with CaptureQueriesContext(connection) as captured:
                assert client.get(notes_url(amina)).status_code == 200
            return len(captured)

        write_note(amina, writer.user, program=program)
        few = queries()
        for n in range(8):
            write_note(amina, make_member(agency, "Caseworker").user, body=f"Note {n}", program=program)
        assert queries() == few

    def test_deleted_notes_are_not_listed(self, client, amina, writer):
        note = write_note(amina, writer.user, body="Gone soon")
        client.force_login(writer.user)
        client.post(reverse("casework:note_delete", args=[note.pk]))
        assert "Gone soon" not in client.get(notes_url(amina)).content.decode()

    def test_an_auditor_reads_without_write_buttons(self, client, amina, writer, auditor):
        write_note(amina, writer.user, body="Readable")
        client.force_login(auditor)
        html = client.get(notes_url(amina)).content.decode()
        assert "Readable" in html and "New note" not in html and ">Edit<" not in html

    def test_front_desk_gets_403_and_another_agency_404(self, client, agency, amina, outsider):
        client.force_login(make_member(agency, "Front desk").user)
        assert client.get(notes_url(amina)).status_code == 403
        client.force_login(outsider)
        assert client.get(notes_url(amina)).status_code == 404


class TestPrivateNotes:
    def test_another_caseworker_sees_no_trace_of_a_private_note(self, client, agency, amina, private_note):
        client.force_login(make_member(agency, "Caseworker").user)
        html = client.get(notes_url(amina)).content.decode()
        assert SECRET not in html and "Private" not in html
        for name in ("casework:note_edit", "casework:note_delete", "casework:note_history"):
            assert client.get(reverse(name, args=[private_note.pk])).status_code == 404
        assert client.post(reverse("casework:note_delete", args=[private_note.pk])).status_code == 404
        assert fresh(private_note).deleted_at is None

    def test_the_authors_manager_reads_it_but_may_not_change_it(self, client, amina, boss, private_note):
        client.force_login(boss.user)
        html = client.get(notes_url(amina)).content.decode()
        assert SECRET in html and "Private" in html
        assert reverse("casework:note_edit", args=[private_note.pk]) not in html
        assert client.get(reverse("casework:note_history", args=[private_note.pk])).status_code == 200
        assert client.get(reverse("casework:note_edit", args=[private_note.pk])).status_code == 403
        assert client.post(reverse("casework:note_delete", args=[private_note.pk])).status_code == 403

    def test_an_administrator_who_is_not_the_manager_does_not_see_it(self, client, amina, admin, private_note):
        client.force_login(admin)
        assert SECRET not in client.get(notes_url(amina)).content.decode()
        assert client.get(reverse("casework:note_edit", args=[private_note.pk])).status_code == 404

    def test_the_author_sees_edits_and_deletes_it(self, client, amina, writer, private_note):
        client.force_login(writer.user)
        assert SECRET in client.get(notes_url(amina)).content.decode()
        assert client.get(reverse("casework:note_edit", args=[private_note.pk])).status_code == 200


class TestWriting:
    def test_it_writes_a_note(self, client, agency, amina, writer):
        program = make_program(agency, "Job Search Workshop")
        client.force_login(writer.user)

        response = client.post(
            reverse("casework:note_new", args=[amina.pk]), form_data(program=program.pk, is_private="on", body=SECRET)
        )

        assert response.status_code == 302 and response["Location"] == notes_url(amina)
        [note] = all_notes(agency)
        assert (note.client, note.author, note.program, note.is_private, note.status, note.body) == (
            amina,
            writer,
            program,
            True,
            "final",
            SECRET,
        )
        [event] = events(agency, action="create", object_type="casework.casenote")
        assert "relapse" not in json.dumps(event.changes)

    def test_save_as_draft_keeps_it_a_draft(self, client, agency, amina, writer):
        client.force_login(writer.user)
        client.post(reverse("casework:note_new", args=[amina.pk]), form_data(save="draft"))
        [note] = all_notes(agency)
        assert note.status == "draft"

    def test_the_form_offers_the_agencys_active_programs_and_the_privacy_help(self, client, agency, other_agency, amina, writer):
        make_program(agency, "Job Search Workshop")
        make_program(agency, "Old Program", is_active=False)
        make_program(other_agency, "Elsewhere")
        client.force_login(writer.user)
        html = client.get(reverse("casework:note_new", args=[amina.pk])).content.decode()
        assert "Job Search Workshop" in html and "Old Program" not in html and "Elsewhere" not in html
        assert "Only you and your manager will see this note." in html
        assert "Save as draft" in html and 'type="file"' in html and "multiple" in html

    def test_bad_input_names_the_field_and_writes_nothing(self, client, agency, other_agency, amina, writer):
        elsewhere = make_program(other_agency, "Elsewhere")
        tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
        client.force_login(writer.user)

        response = client.post(
            reverse("casework:note_new", args=[amina.pk]),
            form_data(body="", note_type="gossip", contact_date="not a date", program=elsewhere.pk),
        )
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert {"body", "note_type", "contact_date", "program"} <= set(errors)

        future = client.post(reverse("casework:note_new", args=[amina.pk]), form_data(contact_date=tomorrow))
        assert future.status_code == 400 and "contact_date" in future.context["form"].errors
        assert all_notes(agency) == []

    def test_a_merged_profile_refuses_new_notes(self, client, agency, amina, writer):
        twin = register(agency, given_name="Amina", family_name="Hadad")
        with agency_scope(agency):
            merge_clients(amina, twin, None, "Same person")
        client.force_login(writer.user)

        assert client.get(notes_url(twin)).status_code == 200
        assert "New note" not in client.get(notes_url(twin)).content.decode()
        response = client.post(reverse("casework:note_new", args=[twin.pk]), form_data())
        assert response.status_code == 302 and response["Location"] == notes_url(twin)
        assert all_notes(agency) == []

    def test_front_desk_gets_403_the_auditor_too_and_another_agency_404(self, client, agency, amina, auditor, outsider):
        url = reverse("casework:note_new", args=[amina.pk])
        client.force_login(make_member(agency, "Front desk").user)
        assert client.post(url, form_data()).status_code == 403
        client.force_login(auditor)
        assert client.post(url, form_data()).status_code == 403
        client.force_login(outsider)
        assert client.post(url, form_data()).status_code == 404
        assert all_notes(agency) == []


class TestEditing:
    def test_a_colleague_edits_an_open_note_and_the_history_shows_who_and_what(self, client, agency, amina, writer):
        note = write_note(amina, writer.user, body="First version.")
        colleague = make_member(agency, "Caseworker", email="colleague@example.org")
        client.force_login(colleague.user)

        page = client.get(reverse("casework:note_edit", args=[note.pk]))
        assert page.status_code == 200 and "First version." in page.content.decode()
        assert "is_private" not in page.context["form"].fields  # only the author decides
        response = client.post(
            reverse("casework:note_edit", args=[note.pk]), form_data(body="Second version.", note_type="progress")
        )

        assert response.status_code == 302
        note = fresh(note)
        assert (note.body, note.note_type, note.updated_by) == ("Second version.", "progress", colleague.user)
        history = client.get(reverse("casework:note_history", args=[note.pk])).content.decode()
        assert colleague.user.get_full_name() in history
        assert "First version." in history and "Second version." in history
        assert "Contact" in history and "Progress" in history

    def test_an_edit_can_complete_a_draft(self, client, amina, writer):
        note = write_note(amina, writer.user, status="draft")
        client.force_login(writer.user)
        client.post(reverse("casework:note_edit", args=[note.pk]), form_data(save="final"))
        assert fresh(note).status == "final"

    def test_bad_input_on_edit_names_the_field_and_changes_nothing(self, client, agency, amina, writer):
        note = write_note(amina, writer.user, body="Unchanged")
        client.force_login(writer.user)
        response = client.post(reverse("casework:note_edit", args=[note.pk]), form_data(body="   "))
        assert response.status_code == 400 and "body" in response.context["form"].errors
        assert fresh(note).body == "Unchanged"
        with agency_scope(agency):
            assert not NoteRevision.objects.for_agency(agency).exists()

    def test_front_desk_gets_403_and_another_agency_404(self, client, agency, amina, writer, outsider):
        note = write_note(amina, writer.user)
        url = reverse("casework:note_edit", args=[note.pk])
        client.force_login(make_member(agency, "Front desk").user)
        assert client.get(url).status_code == 403
        client.force_login(outsider)
        assert client.get(url).status_code == 404
        assert client.get(reverse("casework:note_history", args=[note.pk])).status_code == 404


class TestDeleting:
    def test_it_asks_then_deletes_softly(self, client, agency, amina, writer):
        note = write_note(amina, writer.user, body=SECRET)
        client.force_login(writer.user)
        url = reverse("casework:note_delete", args=[note.pk])

        page = client.get(url)
        assert page.status_code == 200 and "Delete this note?" in page.content.decode()
        assert fresh(note).deleted_at is None

        response = client.post(url)
        assert response.status_code == 302 and response["Location"] == notes_url(amina)
        assert fresh(note).deleted_at is not None
        [event] = events(agency, action="delete", object_type="casework.casenote")
        assert event.actor == writer.user and "relapse" not in json.dumps(event.changes)
        assert client.get(url).status_code == 404

    def test_front_desk_gets_403_and_another_agency_404(self, client, agency, amina, writer, outsider):
        note = write_note(amina, writer.user)
        url = reverse("casework:note_delete", args=[note.pk])
        client.force_login(make_member(agency, "Front desk").user)
        assert client.post(url).status_code == 403
        client.force_login(outsider)
        assert client.post(url).status_code == 404
        assert fresh(note).deleted_at is None
