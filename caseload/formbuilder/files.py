"""Files given as answers to file questions: stored after the same content checks as case-note
attachments (``caseload.casework.notes.check_upload``: the type read from the content, the size
limit ``CASEWORK_ATTACHMENT_MAX_BYTES``), under a generated name, served only by
``file_views.file_download``.

A file is stored when its form is posted, before the answers are saved, so a page showing the
form again after an error keeps it (its id travels in the ``-keep`` input).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record
from caseload.casework.notes import check_upload
from caseload.clients.models import Client
from caseload.formbuilder.models import FormFile
from caseload.tenancy.models import Agency


def _file_facts(form_file: FormFile) -> dict[str, list[Any]]:
    # Not ``snapshot``: a FileField's value is no plain JSON, and the stored name says nothing useful.
    facts = {"original_name": form_file.original_name, "content_type": form_file.content_type, "size": form_file.size}
    return {name: [None, value] for name, value in facts.items()}


@transaction.atomic
def store_form_file(agency: Agency, client: Client | None, actor, uploaded, *, max_size: int | None = None) -> FormFile:
    """Store an uploaded answer file for ``client`` (None for a group form), checked by content
    and size (``max_size``: a file question's own, smaller limit); a ValidationError otherwise."""
    if client is not None and client.agency_id != agency.pk:
        raise ValidationError(_("This client is not one of your agency's."))
    try:
        content_type, name = check_upload(uploaded)
    except ValidationError as error:
        raise ValidationError(error.messages) from None
    size = getattr(uploaded, "size", 0) or 0
    if max_size is not None and size > max_size:
        raise ValidationError(
            _("“%(name)s” is %(size)s; this question takes files of at most %(max)s.")
            % {"name": name, "size": filesizeformat(size), "max": filesizeformat(max_size)}
        )
    form_file = FormFile(
        agency=agency,
        client=client,
        original_name=name,
        content_type=content_type,
        size=size,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    form_file.file.save(name, uploaded, save=False)
    try:
        form_file.save()
        record(
            agency=agency,
            actor=actor,
            action=Action.CREATE,
            obj=form_file,
            changes=_file_facts(form_file),
            client_id=client.pk if client is not None else None,
        )
    except BaseException:
        form_file.file.storage.delete(form_file.file.name)
        raise
    return form_file


def file_ids(fields: list[dict], answers: Any) -> set[int]:
    """The ids of the files answered to the file questions of ``fields`` (groups included)."""
    found: set[int] = set()
    if not isinstance(answers, dict):
        return found
    for field in fields or []:
        if not isinstance(field, dict):
            continue
        value = answers.get(field.get("key"))
        if field.get("type") == "file" and isinstance(value, int) and not isinstance(value, bool):
            found.add(value)
        elif field.get("type") == "group" and isinstance(value, list):
            for row in value:
                found |= file_ids(field.get("fields") or [], row)
    return found
