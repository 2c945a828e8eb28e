"""What the case note tests share: a client, an author with a manager, files, and a note maker.

Import the fixtures you use into the test module (``from caseload.casework.tests.note_helpers import ...``).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caseload.audit.models import AuditEvent
from caseload.casework import notes
from caseload.casework.models import CaseNote
from caseload.clients import actions as client_actions
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

CONTACT_DAY = date(2026, 2, 3)
SECRET = "Disclosed a relapse; wants to keep it from her sister."

# The smallest files each checker recognises by content.
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200 + b"This program cannot be run in DOS mode."


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(name: str = "letter.pdf", content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def register(agency, **data):
    with agency_scope(agency):
        return client_actions.register_client(agency=agency, actor=None, data=data)


def write_note(client, actor, **data) -> CaseNote:
    data = {"note_type": "contact", "contact_date": CONTACT_DAY, "body": "Called about the workshop.", **data}
    with agency_scope(client.agency):
        return notes.create_note(client, actor, data)


def fresh(note: CaseNote) -> CaseNote:
    return CaseNote.objects.for_agency(note.agency).get(pk=note.pk)


def events(agency, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_agency(agency).filter(**filters).order_by("pk"))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to a temporary folder, never the project's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def amina(agency):
    return register(agency, given_name="Amina", family_name="Haddad", email="amina@example.org")


@pytest.fixture
def boss(agency) -> Membership:
    """A manager, who manages ``writer``."""
    return make_member(agency, "Manager")


@pytest.fixture
def writer(agency, boss) -> Membership:
    """A caseworker whose manager is ``boss``."""
    member = make_member(agency, "Caseworker")
    member.manager = boss
    member.save(update_fields=["manager"])
    return member


@pytest.fixture
def private_note(amina, writer) -> CaseNote:
    return write_note(amina, writer.user, body=SECRET, is_private=True)
