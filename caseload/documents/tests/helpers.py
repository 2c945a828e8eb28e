"""Test helpers of the document archive: files, types and documents made through the actions."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from caseload.documents import actions
from caseload.documents.models import DocumentType
from caseload.tenancy.scoping import agency_scope

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode."


def pdf(name: str = "resume.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def doc_type(agency, name: str = "Resume") -> DocumentType:
    with agency_scope(agency):
        return DocumentType.objects.for_agency(agency).get(name=name)


def upload(client, actor=None, name: str = "resume.pdf", type_name: str = "Resume", **extra):
    with agency_scope(client.agency):
        return actions.upload_document(client, actor, pdf(name), doc_type(client.agency, type_name), **extra)
