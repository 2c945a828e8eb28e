"""The Files tab, the download, the attach picker on a service record, and the Document Types pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.delivery.tests.sweep import a_service_record
from caseload.documents import actions
from caseload.documents.models import Document, DocumentType
from caseload.documents.tests.helpers import EXE, doc_type, pdf, upload
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_role

pytestmark = pytest.mark.django_db


def download_url(document) -> str:
    return reverse("documents:download", args=[document.pk])


@pytest.fixture
def no_documents(agency):
    role = make_role(agency, "Greeter (no files)", permissions=("clients.view",))
    return _member_with(agency, role)


def _member_with(agency, role):
    from caseload.tenancy import actions as tenancy_actions
    from caseload.testing.factories import UserFactory

    user = UserFactory()
    with agency_scope(agency):
        return tenancy_actions.add_staff_member(
            agency=agency, actor=None, email=user.email, full_name=user.full_name, role=role
        ).user


class TestDownload:
    def test_a_caseworker_of_the_agency_downloads_it_as_an_attachment(self, as_user, agency, amina, caseworker):
        document = upload(amina, caseworker)
        response = as_user(caseworker).get(download_url(document))
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        assert response["Content-Disposition"].startswith("attachment") and "resume.pdf" in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
        assert AuditEvent.objects.for_agency(agency).filter(action="view", object_type="documents.document").count() == 1

    def test_another_agencys_admin_gets_a_404(self, as_user, amina, outsider):
        assert as_user(outsider).get(download_url(upload(amina))).status_code == 404

    def test_a_member_without_documents_view_gets_a_403(self, as_user, amina, no_documents):
        assert as_user(no_documents).get(download_url(upload(amina))).status_code == 403

    def test_a_deleted_document_is_a_404(self, as_user, agency, amina, caseworker):
        document = upload(amina)
        with agency_scope(agency):
            actions.delete_document(document, None)
        assert as_user(caseworker).get(download_url(document)).status_code == 404


class TestFilesTab:
    def test_it_lists_files_by_type_with_who_uploaded_them(self, as_user, agency, amina, caseworker):
        upload(amina, caseworker, name="cv.pdf")
        upload(amina, None, name="from-home.pdf", type_name="Pay stub", from_portal=True)
        html = as_user(caseworker).get(reverse("documents:client_files", args=[amina.pk])).content.decode()
        assert "cv.pdf" in html and "from-home.pdf" in html and "Pay stub" in html
        assert "uploaded by the client" in html and f'href="/clients/{amina.pk}/files/"' in html

    def test_the_filter_keeps_one_type(self, as_user, agency, amina, caseworker):
        upload(amina, name="cv.pdf")
        upload(amina, name="stub.pdf", type_name="Pay stub")
        url = reverse("documents:client_files", args=[amina.pk]) + f"?type={doc_type(agency, 'Pay stub').pk}"
        html = as_user(caseworker).get(url).content.decode()
        assert "stub.pdf" in html and "cv.pdf" not in html

    def test_uploading_files_it_and_a_bad_file_is_a_named_error(self, as_user, agency, amina, caseworker):
        web = as_user(caseworker)
        url = reverse("documents:client_files", args=[amina.pk])
        response = web.post(url, {"file": pdf("letter.pdf"), "document_type": doc_type(agency).pk, "description": "Signed"})
        assert response.status_code == 302
        response = web.post(url, {"file": pdf("virus.pdf", EXE), "document_type": doc_type(agency).pk})
        assert response.status_code == 400 and "“virus.pdf” is not a file type" in response.content.decode()
        with agency_scope(agency):
            assert list(Document.objects.for_agency(agency).values_list("original_name", flat=True)) == ["letter.pdf"]

    def test_an_auditor_reads_but_cannot_upload(self, as_user, agency, amina, auditor):
        web = as_user(auditor)
        url = reverse("documents:client_files", args=[amina.pk])
        assert web.get(url).status_code == 200
        assert web.post(url, {"file": pdf(), "document_type": doc_type(agency).pk}).status_code == 403

    def test_edit_and_delete_with_confirmation(self, as_user, agency, amina, caseworker):
        document = upload(amina)
        web = as_user(caseworker)
        edit = reverse("documents:document_edit", args=[document.pk])
        assert web.post(edit, {"document_type": doc_type(agency, "Other").pk, "description": "Old CV"}).status_code == 302
        delete = reverse("documents:document_delete", args=[document.pk])
        assert "Delete “resume.pdf”?" in web.get(delete).content.decode()
        assert web.post(delete).status_code == 302
        document.refresh_from_db()
        assert document.document_type.name == "Other" and document.deleted_at is not None

    def test_another_agencys_document_is_a_404_to_edit(self, as_user, amina, outsider):
        assert as_user(outsider).get(reverse("documents:document_edit", args=[upload(amina).pk])).status_code == 404


class TestPicker:
    def test_the_record_page_shows_the_card_and_uploads_a_new_file(self, as_user, agency, manager):
        record = a_service_record(agency)
        web = as_user(manager)
        page = web.get(reverse("delivery:record_detail", args=[record.pk])).content.decode()
        assert "Attached files" in page and "Upload new file" in page
        url = reverse("documents:service_record_files", args=[record.pk])
        data = {"picker-action": "upload", "picker-file": pdf("plan.pdf"), "picker-document_type": doc_type(agency).pk}
        assert web.post(url, data).status_code == 302
        with agency_scope(agency):
            assert [d.original_name for d in actions.attached_to(record)] == ["plan.pdf"]

    def test_it_picks_an_existing_file_and_detaches_it(self, as_user, agency, manager):
        record = a_service_record(agency)
        document = upload(record.client)
        web = as_user(manager)
        url = reverse("documents:service_record_files", args=[record.pk])
        assert "resume.pdf (Resume)" in web.get(reverse("delivery:record_detail", args=[record.pk])).content.decode()
        web.post(url, {"picker-action": "pick", "picker-document": document.pk})
        with agency_scope(agency):
            link = actions.links_to(record).get()
        html = web.get(reverse("documents:client_files", args=[record.client.pk])).content.decode()
        assert "Service form" in html or "service record" in html.lower()
        web.post(url, {"picker-action": "detach", "picker-link": link.pk})
        with agency_scope(agency):
            assert actions.attached_to(record) == []

    def test_another_clients_file_is_refused(self, as_user, agency, amina, manager):
        record = a_service_record(agency)
        web = as_user(manager)
        url = reverse("documents:service_record_files", args=[record.pk])
        response = web.post(url, {"picker-action": "pick", "picker-document": upload(amina).pk}, follow=True)
        assert "belongs to another client" in response.content.decode()
        with agency_scope(agency):
            assert actions.attached_to(record) == []

    def test_without_documents_view_there_is_no_card_and_posting_is_a_403(self, as_user, agency):
        record = a_service_record(agency)
        role = make_role(agency, "Records only", permissions=("clients.view", "delivery.view", "delivery.all_programs"))
        web = as_user(_member_with(agency, role))
        assert "Attached files" not in web.get(reverse("delivery:record_detail", args=[record.pk])).content.decode()
        url = reverse("documents:service_record_files", args=[record.pk])
        assert web.post(url, {"picker-action": "pick"}).status_code == 403


class TestDocumentTypesAdmin:
    def test_a_caseworker_gets_a_403(self, as_user, caseworker):
        assert as_user(caseworker).get(reverse("documents:types")).status_code == 403

    def test_an_administrator_adds_renames_and_deactivates(self, as_user, agency, admin):
        web = as_user(admin)
        assert "Document types" in web.get(reverse("documents:types")).content.decode()
        assert web.post(reverse("documents:types"), {"name": "Work permit"}).status_code == 302
        assert web.post(reverse("documents:types"), {"name": "Work permit"}).status_code == 400
        with agency_scope(agency):
            added = DocumentType.objects.for_agency(agency).get(name="Work permit")
        edit = reverse("documents:type_edit", args=[added.pk])
        assert web.post(edit, {"name": "Open work permit", "name_fr": ""}).status_code == 302
        added.refresh_from_db()
        assert added.name == "Open work permit" and not added.is_active

    def test_another_agencys_type_is_a_404(self, as_user, agency, outsider):
        assert as_user(outsider).get(reverse("documents:type_edit", args=[doc_type(agency).pk])).status_code == 404


class TestNotePicker:
    """A case note takes files from the client's archive too (picked on the note's edit page)."""

    def test_a_file_from_the_archive_is_attached_to_a_note(self, as_user, agency):
        from caseload.casework.notes import create_note
        from caseload.testing.factories import make_member

        writer = make_member(agency, "Caseworker")
        with agency_scope(agency):
            from caseload.casework.tests.sweep import a_client

            person = a_client(agency)
            note = create_note(person, writer.user, {"body": "Brought the pay stub."})
        document = upload(person, type_name="Pay stub", name="pay-stub.pdf")
        web = as_user(writer.user)
        assert "pay-stub.pdf (Pay stub)" in web.get(reverse("casework:note_edit", args=[note.pk])).content.decode()
        web.post(reverse("documents:note_files", args=[note.pk]), {"picker-action": "pick", "picker-document": document.pk})
        with agency_scope(agency):
            assert actions.attached_to(note) == [document]

    def test_a_private_note_takes_files_from_its_author_only(self, as_user, agency):
        from caseload.casework.notes import create_note
        from caseload.testing.factories import make_member

        boss = make_member(agency, "Manager")
        writer = make_member(agency, "Caseworker", manager=boss)
        colleague = make_member(agency, "Caseworker")
        with agency_scope(agency):
            from caseload.casework.tests.sweep import a_client

            person = a_client(agency)
            note = create_note(person, writer.user, {"body": "Private matter.", "is_private": True})
        document = upload(person)
        url = reverse("documents:note_files", args=[note.pk])
        pick = {"picker-action": "pick", "picker-document": document.pk}
        assert as_user(colleague.user).post(url, pick).status_code == 404
        assert as_user(boss.user).post(url, pick).status_code == 403
        with agency_scope(agency):
            assert actions.attached_to(note) == []
