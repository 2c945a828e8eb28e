"""Case notes: write, edit (keeping each earlier version), delete (softly) and attach files.

Who may change a note (views and the API check the role's ``casework.change`` first):

- a private note only by its author — the author's manager may read it, never change it;
- any other note by its author, or by any staff member whose role holds ``casework.change``.

Only the author decides whether their note is private. The audit log records which fields of a
note changed, never its text; the earlier text is kept in ``NoteRevision`` (the note's history).

Attachments are checked by their content (the ``filetype`` library reads the file's signature;
the name proves nothing), limited to ``CASEWORK_ATTACHMENT_MAX_BYTES``, stored under a generated
name and served only by the permission-checked download view.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, record_create, snapshot
from caseload.casework.models import BatchAction, CaseNote, NoteAttachment, NoteRevision
from caseload.casework.records import membership_of, soft_delete
from caseload.clients.models import Client
from caseload.tenancy.models import Membership, Program

# The fields a note's author writes (the rest is bookkeeping).
NOTE_FIELDS = ("note_type", "program", "contact_date", "body", "is_private", "status")
MAX_BODY_LENGTH = 50_000
MAX_ATTACHMENTS = 20
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class FileKind:
    label: str
    extensions: tuple[str, ...]


# What a note may carry, by the type its content shows (MIME type -> what we call it, its extensions).
ALLOWED_TYPES: dict[str, FileKind] = {
    "application/pdf": FileKind("PDF", ("pdf",)),
    "application/msword": FileKind("Word", ("doc",)),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": FileKind("Word", ("docx",)),
    "image/png": FileKind("PNG", ("png",)),
    "image/jpeg": FileKind("JPEG", ("jpg", "jpeg")),
    "image/gif": FileKind("GIF", ("gif",)),
    "image/webp": FileKind("WebP", ("webp",)),
}


def allowed_types_text() -> str:
    return ", ".join(dict.fromkeys(kind.label for kind in ALLOWED_TYPES.values()))


# --- Who may do what -------------------------------------------------------------------------


def may_change(note: CaseNote, membership: Membership | None) -> bool:
    """Whether ``membership`` may edit or delete ``note`` (their role's casework.change is checked apart)."""
    if membership is None or note.deleted_at is not None:
        return False
    if note.is_private:
        return note.author_id is not None and note.author_id == membership.pk
    return True


def _check_may_change(note: CaseNote, actor) -> Membership | None:
    membership = membership_of(note.agency, actor)
    if actor is None and not note.is_private:
        return None  # the system (imports, commands) acts on open notes only
    if not may_change(note, membership):
        raise PermissionDenied(_("Only the author can change a private note."))
    return membership


# --- Validation ------------------------------------------------------------------------------


def _clean(client: Client, data: dict[str, Any], *, note: CaseNote | None, author: Membership | None) -> dict[str, Any]:
    """The note fields of ``data``, checked: a ValidationError names every field that is wrong."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in NOTE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "note_type":
            if value not in CaseNote.Type.values:
                fail(name, _("Choose a type of note."))
        elif name == "status":
            if value not in CaseNote.Status.values:
                fail(name, _("Choose draft or final."))
        elif name == "program":
            if value is not None:
                if not isinstance(value, Program) or value.agency_id != client.agency_id:
                    fail(name, _("Choose one of your agency's programs."))
                elif not value.is_active and (note is None or note.program_id != value.pk):
                    fail(name, _("This program is no longer active."))
        elif name == "contact_date":
            if not isinstance(value, date):
                fail(name, _("Enter the date of contact."))
            elif value > timezone.localdate():
                fail(name, _("The date of contact cannot be in the future."))
        elif name == "body":
            value = (value or "").strip() if isinstance(value, str) or value is None else value
            if not isinstance(value, str) or not value:
                fail(name, _("Write the note."))
            elif "\x00" in value:
                fail(name, _("The note holds a character that cannot be saved (a null character)."))
            elif len(value) > MAX_BODY_LENGTH:
                fail(name, _("A note can hold at most %(max)s characters.") % {"max": f"{MAX_BODY_LENGTH:,}"})
        elif name == "is_private":
            value = bool(value)
            currently = note.is_private if note is not None else False
            if value != currently:
                if author is None:
                    fail(name, _("A private note needs an author: only a staff member can write one."))
                elif note is not None and note.author_id != author.pk:
                    fail(name, _("Only the note's author can change whether it is private."))
        cleaned[name] = value
    if note is None and not str(cleaned.get("body", "")).strip() and "body" not in errors:
        fail("body", _("Write the note."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_client(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError({"client": _("This profile was merged into another one: write the note on the kept profile.")})


# --- Notes -----------------------------------------------------------------------------------


@transaction.atomic
def create_note(client: Client, actor, data: dict[str, Any], *, batch: BatchAction | None = None) -> CaseNote:
    """Write a note on ``client``'s case. ``data``: note_type, program, contact_date, body, is_private, status.

    The author is the actor's membership in the client's agency (none when the system writes).
    A draft (``status="draft"``) shows on its author's dashboard until it is completed.
    """
    _check_client(client)
    agency = client.agency
    author = membership_of(agency, actor)
    cleaned = _clean(client, data, note=None, author=author)
    note = CaseNote(
        agency=agency,
        client=client,
        author=author,
        batch=batch,
        **{"note_type": CaseNote.Type.GENERAL, "contact_date": timezone.localdate(), "status": CaseNote.Status.FINAL, **cleaned},
    )
    note.save()
    record_create(agency=agency, actor=actor, obj=note, client_id=client.pk)
    return note


@transaction.atomic
def update_note(note: CaseNote, actor, data: dict[str, Any]) -> CaseNote:
    """Change some of a note's fields (a private note: its author only; see the module's docstring).

    Keeps the earlier values in a NoteRevision and records a CHANGE audit event naming the changed
    fields (the text redacted). Nothing changed: nothing is written.
    """
    note = (
        CaseNote.objects.for_agency(note.agency)
        .select_for_update(of=("self",))
        .select_related("agency", "client", "author")
        .get(pk=note.pk)
    )
    if note.deleted_at is not None:
        raise ValidationError({"note": _("This note was deleted.")})
    author = _check_may_change(note, actor)
    _check_client(note.client)
    cleaned = _clean(note.client, data, note=note, author=author)
    before = snapshot(note, NOTE_FIELDS)
    for name, value in cleaned.items():
        setattr(note, name, value)
    after = snapshot(note, NOTE_FIELDS)
    changed = [name for name in NOTE_FIELDS if before[name] != after[name]]
    if not changed:
        return note
    note.updated_at = timezone.now()
    note.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    note.save(update_fields=[*changed, "updated_at", "updated_by"])
    NoteRevision.objects.create(
        agency=note.agency,
        note=note,
        edited_by=note.updated_by,
        edited_at=note.updated_at,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    record_change(agency=note.agency, actor=actor, obj=note, before=before, client_id=note.client_id)
    return note


@transaction.atomic
def delete_note(note: CaseNote, actor) -> None:
    """Delete a note softly (kept for the audit trail; an administrator sees the DELETE event)."""
    if note.deleted_at is not None:
        return
    _check_may_change(note, actor)
    soft_delete(note, actor, agency=note.agency, client_id=note.client_id)


# --- Attachments -----------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """The file's own name, without any folder part or control characters, at most 200 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    if not base:
        return "attachment"
    stem, dot, ext = base.rpartition(".")
    if dot and len(base) > 200:
        return f"{stem[: 199 - len(ext)]}.{ext}"
    return base[:200]


def check_upload(upload, *, field: str = "attachments", limit: int | None = None, refusal: str | None = None) -> tuple[str, str]:
    """``(content type, name)`` of an acceptable upload; a ValidationError on ``field`` otherwise.

    The type comes from the content. A name whose extension does not match the content gets the
    right one added, so the downloaded file opens in the program its content needs. ``limit``
    (bytes) defaults to ``CASEWORK_ATTACHMENT_MAX_BYTES``; ``refusal`` is the message for a file
    of a type not allowed, with ``%(name)s`` and ``%(types)s`` (default: the case notes' wording).
    """
    if limit is None:
        limit = settings.CASEWORK_ATTACHMENT_MAX_BYTES
    name = clean_name(getattr(upload, "name", ""))
    size = getattr(upload, "size", None) or 0
    if size == 0:
        raise ValidationError({field: _("“%(name)s” is empty.") % {"name": name}})
    if size > limit:
        raise ValidationError(
            {
                field: _("“%(name)s” is %(size)s; a file can be at most %(max)s.")
                % {"name": name, "size": filesizeformat(size), "max": filesizeformat(limit)}
            }
        )
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else ""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if not mime and head.startswith(OLE_SIGNATURE) and ext == "doc":
        # Word 97-2003 files are OLE containers whose first sector says little; filetype knows
        # only some of them. An OLE container named .doc is taken for one (Excel and PowerPoint
        # files are recognised, and refused, above).
        mime = "application/msword"
    if mime not in ALLOWED_TYPES:
        if refusal is None:
            refusal = _("“%(name)s” is not a file type notes can hold. Attach %(types)s files.")
        raise ValidationError({field: refusal % {"name": name, "types": allowed_types_text()}})
    allowed = ALLOWED_TYPES[mime]
    if ext not in allowed.extensions:
        name = clean_name(f"{name}.{allowed.extensions[0]}")
    return mime, name


def _file_facts(attachment: NoteAttachment, *, created: bool) -> dict[str, list[Any]]:
    # Not ``snapshot``: a FileField's value is no plain JSON, and the stored name says nothing useful.
    facts = {
        "note": attachment.note_id,
        "original_name": attachment.original_name,
        "content_type": attachment.content_type,
        "size": attachment.size,
    }
    return {name: [None, value] if created else [value, None] for name, value in facts.items()}


@transaction.atomic
def add_attachment(note: CaseNote, actor, upload) -> NoteAttachment:
    """Attach an uploaded file to ``note`` (who may: as for editing it), checked by content and size."""
    if note.deleted_at is not None:
        raise ValidationError({"note": _("This note was deleted.")})
    _check_may_change(note, actor)
    content_type, name = check_upload(upload)
    if note.attachments.count() >= MAX_ATTACHMENTS:
        raise ValidationError({"attachments": _("A note can carry at most %(max)s files.") % {"max": MAX_ATTACHMENTS}})
    attachment = NoteAttachment(
        agency=note.agency,
        note=note,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
        record(
            agency=note.agency,
            actor=actor,
            action=Action.CREATE,
            obj=attachment,
            changes=_file_facts(attachment, created=True),
            client_id=note.client_id,
        )
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def save_note(client: Client, actor, data: dict[str, Any], *, note: CaseNote | None = None, uploads=(), remove=()) -> CaseNote:
    """The note form's save, all or nothing: create (or update) the note, attach ``uploads``, take
    off the attachments in ``remove``. Files stored before a failure are deleted with the rollback."""
    stored: list[NoteAttachment] = []
    try:
        note = create_note(client, actor, data) if note is None else update_note(note, actor, data)
        for attachment in remove:
            if attachment.note_id != note.pk:
                raise ValidationError({"remove": _("This file is not attached to this note.")})
            remove_attachment(attachment, actor)
        for upload in uploads:
            stored.append(add_attachment(note, actor, upload))
    except BaseException:
        for attachment in stored:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return note


@transaction.atomic
def remove_attachment(attachment: NoteAttachment, actor) -> None:
    """Take a file off a note (who may: as for editing it); the stored file is deleted once committed."""
    note = attachment.note
    _check_may_change(note, actor)
    record(
        agency=attachment.agency,
        actor=actor,
        action=Action.DELETE,
        obj=attachment,
        changes=_file_facts(attachment, created=False),
        client_id=note.client_id,
    )
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))
