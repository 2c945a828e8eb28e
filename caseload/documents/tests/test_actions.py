"""The document archive's actions: content-checked uploads, the agency's types, attaching and detaching."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from caseload.audit.models import AuditEvent
from caseload.casework.notes import check_upload
from caseload.casework.tests.comm_helpers import register
from caseload.clients.models import Client
from caseload.delivery.tests.sweep import a_service_record
from caseload.documents import actions, types
from caseload.documents.models import Document, DocumentType
from caseload.documents.tests.helpers import EXE, doc_type, pdf, upload
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


def refusal(function, *args, **kwargs) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        function(*args, **kwargs)
    return caught.value.message_dict


def test_a_pdf_is_filed_with_its_type_and_audited_by_name_only(agency, amina, caseworker):
    document = upload(amina, caseworker, description="Updated in March")
    assert (document.original_name, document.content_type, document.document_type.name) == (
        "resume.pdf",
        "application/pdf",
        "Resume",
    )
    assert document.uploaded_by == caseworker and not document.from_portal
    event = AuditEvent.objects.for_agency(agency).get(object_type="documents.document", action="create")
    assert event.object_repr == "resume.pdf" and event.client_id == amina.pk
    assert "Updated in March" not in str(event.changes)


def test_an_executable_renamed_pdf_is_refused_with_a_message_naming_it(agency, amina):
    with agency_scope(agency):
        errors = refusal(actions.upload_document, amina, None, pdf("invoice.pdf", EXE), doc_type(agency))
        assert not Document.objects.for_agency(agency).exists()
    assert "“invoice.pdf” is not a file type the document archive takes" in errors["file"][0]


def test_a_file_over_the_limit_is_refused(agency, amina, settings):
    settings.DOCUMENTS_MAX_BYTES = 20
    with agency_scope(agency):
        errors = refusal(actions.upload_document, amina, None, pdf("big.pdf"), doc_type(agency))
    assert "“big.pdf” is" in errors["file"][0] and "at most 20" in errors["file"][0]


def test_check_upload_keeps_its_case_note_wording_by_default():
    with pytest.raises(ValidationError) as caught:
        check_upload(SimpleUploadedFile("a.pdf", EXE))
    assert "notes can hold" in caught.value.message_dict["attachments"][0]


def test_the_type_must_be_the_agencys_and_offered(agency, other_agency, amina):
    with agency_scope(other_agency):
        foreign = DocumentType.objects.for_agency(other_agency).get(name="Resume")
    with agency_scope(agency):
        assert "document_type" in refusal(actions.upload_document, amina, None, pdf(), foreign)
        retired = types.deactivate_document_type(doc_type(agency, "Receipt"), None)
        assert "no longer offered" in refusal(actions.upload_document, amina, None, pdf(), retired)["document_type"][0]


def test_a_merged_profile_takes_no_document(agency, amina):
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=amina.pk).update(status=Client.Status.MERGED)
        amina.refresh_from_db()
        assert "client" in refusal(actions.upload_document, amina, None, pdf(), doc_type(agency))


def test_update_changes_type_and_description_and_delete_is_soft(agency, amina):
    document = upload(amina)
    with agency_scope(agency):
        actions.update_document(document, None, {"document_type": doc_type(agency, "Cover letter"), "description": "New"})
        actions.delete_document(document, None)
        document.refresh_from_db()
        assert document.document_type.name == "Cover letter" and document.description == "New"
        assert document.deleted_at is not None and not actions.documents_of(amina).exists()
        change = AuditEvent.objects.for_agency(agency).get(object_type="documents.document", action="change")
    assert change.changes["description"] == ["[redacted]", "[redacted]"]


def test_attach_and_detach_a_document_on_a_record_of_the_same_client(agency):
    record = a_service_record(agency)
    document = upload(record.client)
    with agency_scope(agency):
        link = actions.attach(document, record, None)
        assert actions.attach(document, record, None) == link  # once only
        assert actions.attached_to(record) == [document]
        actions.detach(link, None)
        assert actions.attached_to(record) == []


def test_another_clients_document_cannot_be_attached(agency):
    record = a_service_record(agency)
    other = upload(register(agency, given_name="Bo"))
    with agency_scope(agency):
        assert "another client" in refusal(actions.attach, other, record, None)["document"][0]


def test_attach_upload_stores_and_attaches_or_nothing(agency):
    record = a_service_record(agency)
    with agency_scope(agency):
        link = actions.attach_upload(record, record.client, None, pdf("stub.pdf"), doc_type(agency, "Pay stub"))
        assert actions.attached_to(record) == [link.document]
        refusal(actions.attach_upload, record, record.client, None, pdf("x.pdf", EXE), doc_type(agency))
        assert Document.objects.for_agency(agency).count() == 1


def test_document_types_are_added_renamed_and_deactivated(agency):
    with agency_scope(agency):
        added = types.create_document_type(agency, None, {"name": "Work permit", "name_fr": "Permis de travail"})
        assert "already has" in refusal(types.create_document_type, agency, None, {"name": "work permit"})["name"][0]
        types.update_document_type(added, None, {"name": "Work permit (open)"})
        types.deactivate_document_type(added, None)
        added.refresh_from_db()
        assert added.name == "Work permit (open)" and not added.is_active
        assert added not in types.offered_types(agency)
