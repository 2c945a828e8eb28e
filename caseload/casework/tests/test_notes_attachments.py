"""Files on case notes: checked by content and size, stored under generated names, downloaded only by
those who may read the note, as attachments with nosniff, and audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.casework import notes
from caseload.casework.models import CaseNote, NoteAttachment
from caseload.casework.tests import note_helpers
from caseload.casework.tests.note_helpers import EXE, PDF, PNG, docx, events, upload, write_note
from caseload.tenancy.scoping import agency_scope
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


def form_data(**data) -> dict:
    return {
        "note_type": "contact",
        "contact_date": "2026-02-03",
        "body": "Letter from the employer attached.",
        "save": "final",
        **data,
    }


def attachments(agency) -> list[NoteAttachment]:
    with agency_scope(agency):
        return list(NoteAttachment.objects.for_agency(agency).order_by("pk"))


def stored_files(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def attach(note, actor, file):
    with agency_scope(note.agency):
        return notes.add_attachment(note, actor, file)


class TestChecking:
    @pytest.mark.parametrize(
        ("name", "content", "mime"),
        [
            ("letter.pdf", PDF, "application/pdf"),
            ("photo.png", PNG, "image/png"),
            ("resume.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ],
    )
    def test_it_accepts_the_allowed_types_by_content(self, amina, writer, media, name, content, mime):
        note = write_note(amina, writer.user)
        attachment = attach(note, writer.user, upload(name, content))
        assert (attachment.original_name, attachment.content_type, attachment.size) == (name, mime, len(content))
        # Stored under a generated name, never the uploaded one.
        assert name not in attachment.file.name and attachment.file.name.startswith(f"casework/{note.agency_id}/")
        assert Path(attachment.file.path).read_bytes() == content

    def test_a_name_that_lies_about_the_content_gets_the_right_extension(self, amina, writer):
        note = write_note(amina, writer.user)
        assert attach(note, writer.user, upload("scan.pdf", PNG)).original_name == "scan.pdf.png"

    @pytest.mark.parametrize(
        ("name", "content"),
        [("invoice.pdf", EXE), ("notes.txt", b"just some text"), ("page.html", b"<html><script>alert(1)</script></html>")],
    )
    def test_it_refuses_other_content_whatever_the_name(self, agency, amina, writer, media, name, content):
        note = write_note(amina, writer.user)
        with pytest.raises(ValidationError) as refused:
            attach(note, writer.user, upload(name, content))
        assert "attachments" in refused.value.message_dict
        assert attachments(agency) == [] and stored_files(media) == []

    def test_it_refuses_a_file_over_the_limit(self, settings, agency, amina, writer, media):
        settings.CASEWORK_ATTACHMENT_MAX_BYTES = 1024
        note = write_note(amina, writer.user)
        with pytest.raises(ValidationError) as refused:
            attach(note, writer.user, upload("big.pdf", PDF + b"0" * 2048))
        assert "at most 1.0\xa0KB" in refused.value.message_dict["attachments"][0]
        assert attachments(agency) == [] and stored_files(media) == []

    def test_the_manager_may_not_attach_to_a_private_note_of_their_report(self, amina, boss, private_note):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            attach(private_note, boss.user, upload())

    def test_uploading_is_audited_by_name_and_size(self, agency, amina, writer):
        note = write_note(amina, writer.user)
        attachment = attach(note, writer.user, upload())
        [event] = events(agency, action="create", object_type="casework.noteattachment")
        assert event.client_id == amina.pk and event.changes["original_name"] == [None, "letter.pdf"]
        assert event.object_id == str(attachment.pk)


class TestTheForm:
    def test_a_note_and_its_files_are_saved_together(self, client, agency, amina, writer):
        client.force_login(writer.user)
        response = client.post(
            reverse("casework:note_new", args=[amina.pk]),
            {**form_data(), "attachments": [upload("letter.pdf"), upload("photo.png", PNG, "image/png")]},
        )
        assert response.status_code == 302
        assert [a.original_name for a in attachments(agency)] == ["letter.pdf", "photo.png"]
        html = client.get(reverse("casework:notes", args=[amina.pk])).content.decode()
        assert "letter.pdf" in html and "photo.png" in html
        assert reverse("casework:attachment_download", args=[attachments(agency)[0].pk]) in html

    def test_an_executable_renamed_pdf_is_a_form_error_and_nothing_is_saved(self, client, agency, amina, writer, media):
        client.force_login(writer.user)
        response = client.post(
            reverse("casework:note_new", args=[amina.pk]),
            {**form_data(), "attachments": [upload("letter.pdf"), upload("invoice.pdf", EXE)]},
        )
        assert response.status_code == 400
        [error] = response.context["form"].errors["attachments"]
        assert "invoice.pdf" in error and "not a file type" in error
        assert "Attach files: " in response.content.decode()  # the error summary names the field
        with agency_scope(agency):
            assert not CaseNote.objects.for_agency(agency).exists()
        assert attachments(agency) == [] and stored_files(media) == []

    def test_a_file_over_the_limit_is_a_form_error(self, client, settings, agency, amina, writer):
        settings.CASEWORK_ATTACHMENT_MAX_BYTES = 1024
        client.force_login(writer.user)
        response = client.post(
            reverse("casework:note_new", args=[amina.pk]), {**form_data(), "attachments": [upload("big.pdf", PDF + b"0" * 4096)]}
        )
        assert response.status_code == 400
        assert "a file can be at most 1.0\xa0KB" in response.context["form"].errors["attachments"][0]
        with agency_scope(agency):
            assert not CaseNote.objects.for_agency(agency).exists()

    def test_an_edit_removes_and_adds_files(self, client, agency, amina, writer, media, django_capture_on_commit_callbacks):
        note = write_note(amina, writer.user)
        first = attach(note, writer.user, upload("old.pdf"))
        first_path = Path(first.file.path)
        client.force_login(writer.user)

        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("casework:note_edit", args=[note.pk]),
                {**form_data(body=note.body, note_type=note.note_type), "remove": [first.pk], "attachments": [upload("new.pdf")]},
            )

        assert response.status_code == 302
        assert [a.original_name for a in attachments(agency)] == ["new.pdf"]
        assert not first_path.exists()
        assert events(agency, action="delete", object_type="casework.noteattachment")


class TestDownloading:
    def test_it_downloads_as_an_attachment_with_nosniff_and_is_audited(self, client, agency, amina, writer):
        attachment = attach(write_note(amina, writer.user), writer.user, upload("lettre d’emploi.pdf"))
        reader = make_member(agency, "Read-only auditor").user
        client.force_login(reader)

        response = client.get(reverse("casework:attachment_download", args=[attachment.pk]))

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert "filename*=utf-8''lettre%20d%E2%80%99emploi.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
        [event] = events(agency, action="view", object_type="casework.noteattachment")
        assert event.actor == reader and event.client_id == amina.pk

    def test_another_agency_gets_404(self, client, amina, writer, outsider):
        attachment = attach(write_note(amina, writer.user), writer.user, upload())
        client.force_login(outsider)
        assert client.get(reverse("casework:attachment_download", args=[attachment.pk])).status_code == 404

    def test_a_private_notes_file_is_404_for_who_may_not_see_the_note(
        self, client, agency, amina, writer, boss, admin, private_note
    ):
        attachment = attach(private_note, writer.user, upload())
        url = reverse("casework:attachment_download", args=[attachment.pk])
        client.force_login(make_member(agency, "Caseworker").user)
        assert client.get(url).status_code == 404
        client.force_login(admin)
        assert client.get(url).status_code == 404
        client.force_login(boss.user)
        assert client.get(url).status_code == 200
        client.force_login(writer.user)
        assert client.get(url).status_code == 200

    def test_a_deleted_notes_file_is_gone(self, client, agency, amina, writer):
        note = write_note(amina, writer.user)
        attachment = attach(note, writer.user, upload())
        with agency_scope(agency):
            notes.delete_note(note, writer.user)
        client.force_login(writer.user)
        assert client.get(reverse("casework:attachment_download", args=[attachment.pk])).status_code == 404

    def test_front_desk_gets_403(self, client, agency, amina, writer):
        attachment = attach(write_note(amina, writer.user), writer.user, upload())
        client.force_login(make_member(agency, "Front desk").user)
        assert client.get(reverse("casework:attachment_download", args=[attachment.pk])).status_code == 403

    def test_a_file_missing_from_storage_is_404_not_500(self, client, amina, writer):
        attachment = attach(write_note(amina, writer.user), writer.user, upload())
        Path(attachment.file.path).unlink()
        client.force_login(writer.user)
        assert client.get(reverse("casework:attachment_download", args=[attachment.pk])).status_code == 404
