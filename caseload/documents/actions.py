"""Writes on the client's document archive: upload, change, delete (softly), attach and detach.

Every action runs in one transaction and writes its audit event with the file's name and type,
never its contents or description (``description`` is shown as changed, its text redacted).
Files are checked by their content (``caseload.casework.notes.check_upload``) and limited to
``DOCUMENTS_MAX_BYTES``; the stored file has a generated name.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import REDACTED, Action, record
from caseload.casework.notes import check_upload
from caseload.clients.models import Client
from caseload.documents.models import Document, DocumentLink, DocumentType

MAX_DESCRIPTION = 300


def _actor_user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def check_file(uploaded) -> tuple[str, str]:
    """``(content type, clean name)`` of an acceptable file; a ValidationError on ``file`` naming it otherwise."""
    if uploaded is None:
        raise ValidationError({"file": _("Choose a file to upload.")})
    return check_upload(
        uploaded,
        field="file",
        limit=settings.DOCUMENTS_MAX_BYTES,
        refusal=_("“%(name)s” is not a file type the document archive takes. Upload %(types)s files."),
    )


def _check_client(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError({"client": _("This profile was merged into another one: file documents on the kept profile.")})


def _check_type(agency, document_type: Any, current: DocumentType | None = None) -> DocumentType:
    if not isinstance(document_type, DocumentType) or document_type.agency_id != agency.pk:
        raise ValidationError({"document_type": _("Choose one of your agency's document types.")})
    if not document_type.is_active and (current is None or current.pk != document_type.pk):
        raise ValidationError({"document_type": _("This document type is no longer offered.")})
    return document_type


def _clean_description(value: Any) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    if not isinstance(value, str) or "\x00" in value:
        raise ValidationError({"description": _("Enter a plain description.")})
    if len(value) > MAX_DESCRIPTION:
        raise ValidationError({"description": _("A description can hold at most %(max)s characters.") % {"max": MAX_DESCRIPTION}})
    return value


def _facts(document: Document) -> dict[str, Any]:
    return {
        "client": document.client_id,
        "document_type": document.document_type_id,
        "original_name": document.original_name,
        "content_type": document.content_type,
        "size": document.size,
        "from_portal": document.from_portal,
    }


# --- Documents -----------------------------------------------------------------------------------


@transaction.atomic
def upload_document(
    client: Client, actor, uploaded, document_type: DocumentType, *, description: str = "", from_portal: bool = False
) -> Document:
    """File ``uploaded`` in ``client``'s archive under ``document_type`` (one of the agency's, offered).

    A ValidationError names the field: ``file`` (empty, too large, a type not taken — the message
    names the file), ``document_type``, ``description`` or ``client`` (a merged profile).
    """
    agency = client.agency
    _check_client(client)
    _check_type(agency, document_type)
    description = _clean_description(description)
    content_type, name = check_file(uploaded)
    document = Document(
        agency=agency,
        client=client,
        document_type=document_type,
        original_name=name,
        content_type=content_type,
        size=uploaded.size,
        description=description,
        uploaded_by=_actor_user(actor),
        from_portal=from_portal,
    )
    document.file.save(name, uploaded, save=False)
    try:
        document.save()
        changes = {key: [None, value] for key, value in _facts(document).items()}
        if description:
            changes["description"] = [None, REDACTED]
        record(agency=agency, actor=actor, action=Action.CREATE, obj=document, changes=changes, client_id=client.pk)
    except BaseException:
        document.file.storage.delete(document.file.name)
        raise
    return document


def upload_from_form(client: Client, actor, data: dict[str, Any], *, from_portal: bool = False) -> Document:
    """``upload_document`` with an UploadForm's cleaned data (the Files tab and the portal)."""
    return upload_document(
        client, actor, data["file"], data["document_type"], description=data["description"], from_portal=from_portal
    )


@transaction.atomic
def update_document(document: Document, actor, data: dict[str, Any]) -> Document:
    """Change a document's type and/or description (``data`` keys ``document_type``, ``description``)."""
    if document.deleted_at is not None:
        raise ValidationError({"document": _("This document was deleted.")})
    changes: dict[str, list[Any]] = {}
    if "document_type" in data:
        current = document.document_type if document.document_type_id else None
        new_type = _check_type(document.agency, data["document_type"], current)
        if new_type.pk != document.document_type_id:
            changes["document_type"] = [document.document_type_id, new_type.pk]
            document.document_type = new_type
    if "description" in data:
        description = _clean_description(data["description"])
        if description != document.description:
            changes["description"] = [REDACTED, REDACTED]
            document.description = description
    if changes:
        document.save(update_fields=["document_type", "description"])
        record(
            agency=document.agency,
            actor=actor,
            action=Action.CHANGE,
            obj=document,
            changes=changes,
            client_id=document.client_id,
        )
    return document


@transaction.atomic
def delete_document(document: Document, actor) -> None:
    """Delete a document softly: it leaves the archive and every record it was attached to; the file stays for the audit trail."""
    if document.deleted_at is not None:
        return
    document.deleted_at = timezone.now()
    document.deleted_by = _actor_user(actor)
    document.save(update_fields=["deleted_at", "deleted_by"])
    changes = {key: [value, None] for key, value in _facts(document).items()}
    record(agency=document.agency, actor=actor, action=Action.DELETE, obj=document, changes=changes, client_id=document.client_id)


def documents_of(client: Client) -> models.QuerySet[Document]:
    """The client's documents in the archive (deleted ones aside), newest first."""
    return (
        Document.objects.for_agency(client.agency)
        .filter(client=client, deleted_at__isnull=True)
        .select_related("document_type", "uploaded_by")
        .order_by("-uploaded_at", "-pk")
    )


# --- Attaching to other records ------------------------------------------------------------------


def _target_client_id(target: models.Model) -> int | None:
    if isinstance(target, Client):
        return target.pk
    return getattr(target, "client_id", None)


def _check_unlocked(target: models.Model) -> None:
    """A record locked against change (a checkpoint submitted to government) takes no attach or detach."""
    if getattr(target, "is_locked", False):
        raise ValidationError(_("This checkpoint was submitted; correct it to make a new version."), code="submitted")


def _check_target(document: Document, target: models.Model) -> None:
    if target is None or target.pk is None or getattr(target, "agency_id", None) != document.agency_id:
        raise ValidationError({"target": _("This record is not one of your agency's.")})
    _check_unlocked(target)
    client_id = _target_client_id(target)
    if client_id is not None and client_id != document.client_id:
        raise ValidationError({"document": _("“%(name)s” belongs to another client.") % {"name": document.original_name}})


def links_to(target: models.Model) -> models.QuerySet[DocumentLink]:
    """The links of documents (not deleted) attached to ``target``, oldest first."""
    return (
        DocumentLink.objects.for_agency(target.agency)
        .filter(target_type=ContentType.objects.get_for_model(target), target_id=target.pk, document__deleted_at__isnull=True)
        .select_related("document", "document__document_type")
        .order_by("linked_at", "pk")
    )


def attached_to(target: models.Model) -> list[Document]:
    """The documents (not deleted) attached to ``target``, in the order they were attached."""
    return [link.document for link in links_to(target)]


@transaction.atomic
def attach(document: Document, target: models.Model, actor) -> DocumentLink:
    """Attach ``document`` to ``target`` (a record of the same agency and, when it has one, the same client).

    Attaching a document already attached returns the existing link."""
    if document.deleted_at is not None:
        raise ValidationError({"document": _("This document was deleted.")})
    _check_target(document, target)
    target_type = ContentType.objects.get_for_model(target)
    existing = (
        DocumentLink.objects.for_agency(document.agency)
        .filter(document=document, target_type=target_type, target_id=target.pk)
        .first()
    )
    if existing is not None:
        return existing
    link = DocumentLink.objects.create(
        agency_id=document.agency_id,
        document=document,
        target_type=target_type,
        target_id=target.pk,
        linked_by=_actor_user(actor),
    )
    record(
        agency=document.agency,
        actor=actor,
        action=Action.CREATE,
        obj=link,
        object_repr=document.original_name,
        changes={"document": [None, document.pk], "target_type": [None, target_type.model], "target_id": [None, target.pk]},
        client_id=document.client_id,
    )
    return link


@transaction.atomic
def detach(link: DocumentLink, actor) -> None:
    """Take a document off a record (the document stays in the archive)."""
    document = link.document
    model = link.target_type.model_class()
    if model is not None and hasattr(model, "is_locked"):
        target = model.objects.for_agency(document.agency).filter(pk=link.target_id).first()
        if target is not None:
            _check_unlocked(target)
    record(
        agency=document.agency,
        actor=actor,
        action=Action.DELETE,
        obj=link,
        object_repr=document.original_name,
        changes={
            "document": [document.pk, None],
            "target_type": [link.target_type.model, None],
            "target_id": [link.target_id, None],
        },
        client_id=document.client_id,
    )
    link.delete()


@transaction.atomic
def attach_upload(
    target: models.Model, client: Client, actor, uploaded, document_type: DocumentType, *, description: str = ""
) -> DocumentLink:
    """Upload a new document into ``client``'s archive and attach it to ``target``, all or nothing."""
    stored: Document | None = None
    try:
        stored = upload_document(client, actor, uploaded, document_type, description=description)
        return attach(stored, target, actor)
    except BaseException:
        if stored is not None:
            stored.file.storage.delete(stored.file.name)
        raise
