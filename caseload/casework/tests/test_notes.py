"""The case note actions: write, edit with history, delete softly, the private rule, and safe Markdown."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from caseload.casework import notes
from caseload.casework.markdown import render_markdown
from caseload.casework.models import CaseNote, NoteRevision
from caseload.casework.records import visible
from caseload.casework.tests import note_helpers
from caseload.casework.tests.note_helpers import CONTACT_DAY, SECRET, events, fresh, register, write_note
from caseload.clients.merging import merge_clients
from caseload.tenancy.models import Membership
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


def change(note, actor, **data):
    with agency_scope(note.agency):
        return notes.update_note(note, actor, data)


class TestWriting:
    def test_it_writes_a_note_by_the_actor_and_audits_it_without_its_text(self, agency, amina, writer):
        program = make_program(agency, "Job Search Workshop")

        note = write_note(amina, writer.user, body=SECRET, program=program, note_type="progress", status="draft")

        assert (note.author, note.client, note.program, note.note_type, note.status) == (
            writer,
            amina,
            program,
            "progress",
            "draft",
        )
        assert note.contact_date == CONTACT_DAY and note.body == SECRET and not note.is_private
        [event] = events(agency, object_type="casework.casenote", object_id=str(note.pk), action="create")
        assert event.client_id == amina.pk and event.actor == writer.user
        assert event.changes["body"] == ["[redacted]", "[redacted]"]
        assert "relapse" not in json.dumps(event.changes) and "relapse" not in event.object_repr

    def test_the_system_writes_notes_without_an_author_but_no_private_ones(self, amina):
        assert write_note(amina, None).author is None
        with pytest.raises(ValidationError) as refused:
            write_note(amina, None, is_private=True)
        assert "is_private" in refused.value.message_dict

    def test_bad_input_names_each_field_and_writes_nothing(self, agency, other_agency, amina, writer):
        elsewhere = make_program(other_agency, "Elsewhere")
        tomorrow = timezone.localdate() + timedelta(days=1)

        with pytest.raises(ValidationError) as refused:
            write_note(
                amina, writer.user, note_type="gossip", program=elsewhere, contact_date=tomorrow, body="  ", status="maybe"
            )

        assert set(refused.value.message_dict) == {"note_type", "program", "contact_date", "body", "status"}
        with agency_scope(agency):
            assert not CaseNote.objects.for_agency(agency).exists()

    def test_an_ended_program_is_refused_for_a_new_note(self, agency, amina, writer):
        ended = make_program(agency, "Ended", is_active=False)
        with pytest.raises(ValidationError) as refused:
            write_note(amina, writer.user, program=ended)
        assert "program" in refused.value.message_dict

    def test_a_merged_profile_takes_no_new_notes(self, agency, amina, writer):
        twin = register(agency, given_name="Amina", family_name="Hadad")
        with agency_scope(agency):
            merge_clients(amina, twin, None, "Same person")
        twin.refresh_from_db()

        with pytest.raises(ValidationError) as refused:
            write_note(twin, writer.user)
        assert "client" in refused.value.message_dict


class TestEditing:
    def test_an_edit_keeps_the_earlier_values_and_audits_the_changed_fields_only(self, agency, amina, writer):
        note = write_note(amina, writer.user, body="First version.")
        colleague = make_member(agency, "Caseworker").user

        change(note, colleague, body=SECRET, note_type="assessment", contact_date=CONTACT_DAY)

        note = fresh(note)
        assert (note.body, note.note_type, note.updated_by) == (SECRET, "assessment", colleague)
        assert note.updated_at is not None
        with agency_scope(agency):
            [revision] = NoteRevision.objects.for_agency(agency).filter(note=note)
        assert revision.edited_by == colleague
        assert revision.before == {"body": "First version.", "note_type": "contact"}
        assert revision.after == {"body": SECRET, "note_type": "assessment"}
        [event] = events(agency, object_type="casework.casenote", object_id=str(note.pk), action="change")
        assert set(event.changes) == {"body", "note_type"}
        assert event.changes["body"] == ["[redacted]", "[redacted]"]
        assert "First version" not in json.dumps(event.changes) and "relapse" not in json.dumps(event.changes)

    def test_an_edit_that_changes_nothing_writes_nothing(self, agency, amina, writer):
        note = write_note(amina, writer.user)
        change(note, writer.user, body=note.body, note_type=note.note_type)
        with agency_scope(agency):
            assert not NoteRevision.objects.for_agency(agency).exists()
        assert not events(agency, object_type="casework.casenote", action="change")
        assert fresh(note).updated_at is None

    def test_completing_a_draft_is_an_edit(self, agency, amina, writer):
        note = write_note(amina, writer.user, status="draft")
        change(note, writer.user, status="final")
        assert fresh(note).status == "final"
        [event] = events(agency, object_type="casework.casenote", action="change")
        assert event.changes == {"status": ["draft", "final"]}

    def test_only_the_author_changes_a_private_note_even_their_manager_only_reads_it(
        self, agency, amina, writer, boss, private_note
    ):
        with pytest.raises(PermissionDenied):
            change(private_note, boss.user, body="Rewritten by the manager")
        with pytest.raises(PermissionDenied), agency_scope(agency):
            notes.delete_note(private_note, boss.user)

        change(private_note, writer.user, body="Rewritten by the author")
        assert fresh(private_note).body == "Rewritten by the author"

    def test_only_the_author_makes_a_note_private_or_open(self, agency, amina, writer):
        note = write_note(amina, writer.user)
        colleague = make_member(agency, "Caseworker").user
        with pytest.raises(ValidationError) as refused:
            change(note, colleague, is_private=True)
        assert "is_private" in refused.value.message_dict

        change(note, writer.user, is_private=True)
        assert fresh(note).is_private


class TestDeleting:
    def test_it_deletes_softly_and_an_administrator_sees_the_event(self, agency, amina, writer):
        note = write_note(amina, writer.user, body=SECRET)
        with agency_scope(agency):
            notes.delete_note(note, writer.user)
            assert not visible(CaseNote.objects.for_agency(agency), writer).exists()
        note = fresh(note)
        assert note.deleted_at is not None and note.deleted_by == writer.user
        [event] = events(agency, object_type="casework.casenote", object_id=str(note.pk), action="delete")
        assert event.actor == writer.user and event.client_id == amina.pk
        assert "relapse" not in json.dumps(event.changes)


class TestPrivateRule:
    def test_a_private_note_is_seen_by_its_author_and_their_manager_only(self, agency, amina, writer, boss, private_note):
        colleague = make_member(agency, "Caseworker")
        administrator = make_member(agency, "Administrator")
        with agency_scope(agency):
            seen_by = {
                member.pk
                for member in Membership.objects.for_agency(agency)
                if visible(CaseNote.objects.for_agency(agency), member).filter(pk=private_note.pk).exists()
            }
        assert seen_by == {writer.pk, boss.pk}
        assert colleague.pk not in seen_by and administrator.pk not in seen_by


def tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every tag of ``html`` with its attributes, as a browser's parser reads them."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Parser().feed(html)
    return found


class TestMarkdown:
    def test_it_renders_lists_emphasis_and_safe_links(self):
        html = render_markdown("**Next steps**\n\n- call *Monday*\n- [job bank](https://www.jobbank.gc.ca)")
        assert "<strong>Next steps</strong>" in html
        assert "<li>call <em>Monday</em></li>" in html
        assert '<a href="https://www.jobbank.gc.ca" rel="noopener noreferrer nofollow">job bank</a>' in html

    @pytest.mark.parametrize(
        "text",
        [
            "<script>alert(1)</script>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            '<a href="javascript:alert(1)">click</a>',
            '<img src=x onerror="alert(1)">',
            "[data](data:text/html;base64,PHNjcmlwdD4=)",
            '<iframe src="https://evil.example"></iframe>',
        ],
    )
    def test_it_leaves_no_script_no_javascript_link_and_no_raw_html(self, text):
        found = tags(render_markdown(text))
        assert {tag for tag, _attrs in found} <= {"p", "a"}
        for _tag, attrs in found:
            assert not any(name.startswith("on") for name, _value in attrs)
            assert not any((value or "").lower().startswith(("javascript", "data")) for _name, value in attrs)

    def test_raw_html_shows_as_text(self):
        assert render_markdown("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"

    def test_headings_move_below_the_pages_own(self):
        assert render_markdown("# Summary") == "<h4>Summary</h4>"
