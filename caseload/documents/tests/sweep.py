"""The document archive's entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

URLs take one ``pk``: a client's (``/clients/<pk>/files/``), a document's, a Document Type's or
a service record's (the attach picker's ``/service-forms/<pk>/files/``). The API viewsets find
their rows through ``MODEL_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.casework.tests.sweep import a_note
from caseload.delivery.tests.sweep import a_client, a_service_record
from caseload.tenancy.models import Agency


def a_document(agency: Agency) -> models.Model:
    """A PDF in a new client's archive (stored under MEDIA_ROOT)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseload.documents.actions import upload_document
    from caseload.documents.models import DocumentType
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        resume = DocumentType.objects.for_agency(agency).filter(is_active=True).first()
        return upload_document(client, None, SimpleUploadedFile("resume.pdf", b"%PDF-1.4\n%%EOF\n"), resume)


def a_document_type(agency: Agency) -> models.Model:
    from caseload.documents.models import DocumentType
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return DocumentType.objects.for_agency(agency).first()


def _model_factories() -> dict[type[models.Model], Callable[[Agency], models.Model]]:
    from caseload.documents.models import Document, DocumentType

    return {Document: a_document, DocumentType: a_document_type}


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {**_model_factories()}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    # The Files tab and a document's pages (views.py)
    "documents:client_files": a_client,
    "documents:document_edit": a_document,
    "documents:document_delete": a_document,
    "documents:download": a_document,
    "documents:type_edit": a_document_type,
    # The attach picker (attach_views.py)
    "documents:service_record_files": a_service_record,
    "documents:note_files": a_note,
    # API (api.py)
    "api:document-detail": a_document,
    "api:document-type-detail": a_document_type,
}

SKIPPED: dict[str, str] = {}
