"""The attach picker other pages reuse: the files attached to a record, detach, and attach one more —
"Upload new file" (file + Document Type) or "Pick an existing file" from the client's archive.

On a page about ``target`` (a record of ``client``)::

    context.update(picker_context(request, client, target, action_url=reverse(...)))
    {% include "documents/_attach.html" %}

and in the view the form posts to (``documents.change`` needed; 403 otherwise)::

    handle_picker_post(request, client, target)   # True when done; the message says what happened
    return redirect(back to the page)

The card shows only to members with ``documents.view`` (``picker_context`` gives ``{}`` otherwise).
To link a record kind from the Files tab's "Attached to" column, add it to ``TARGET_PAGES``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from caseload.clients.models import Client
from caseload.documents import actions
from caseload.documents.models import Document, DocumentLink, DocumentType
from caseload.documents.types import offered_types, type_label
from caseload.tenancy.access import has_perm

VIEW, CHANGE = "documents.view", "documents.change"
PREFIX = "picker"

# "app_label.model" -> the URL name of the record's page (taking its pk), for "Attached to" links.
TARGET_PAGES: dict[str, str] = {
    "delivery.servicerecord": "delivery:record_detail",
    "casework.casenote": "casework:note_edit",
    "outcomes.checkpoint": "outcomes:checkpoint_detail",
}


def _place(content_type: ContentType, target_id: int) -> dict[str, Any]:
    model = content_type.model_class()
    label = str(model._meta.verbose_name).capitalize() if model is not None else content_type.model
    url = None
    url_name = TARGET_PAGES.get(f"{content_type.app_label}.{content_type.model}")
    if url_name:
        try:
            url = reverse(url_name, args=[target_id])
        except NoReverseMatch:
            url = None
    return {"label": label, "url": url}


def where_attached(request: HttpRequest, documents: list[Document]) -> dict[int, list[dict[str, Any]]]:
    """``{document pk: [{"label", "url"}, ...]}``: the records each document is attached to (one query)."""
    if not documents:
        return {}
    places: dict[int, list[dict[str, Any]]] = defaultdict(list)
    links = (
        DocumentLink.objects.for_agency(request.agency)
        .filter(document__in=[d.pk for d in documents])
        .select_related("target_type")
        .order_by("linked_at", "pk")
    )
    for link in links:
        places[link.document_id].append(_place(link.target_type, link.target_id))
    return dict(places)


def picker_context(
    request: HttpRequest, client: Client, target: models.Model, *, action_url: str | None = None
) -> dict[str, Any]:
    """The context of ``documents/_attach.html`` (under the key ``picker``); empty without documents.view."""
    if not has_perm(request, VIEW):
        return {}
    links = list(actions.links_to(target))
    attached = {link.document_id for link in links}
    for link in links:
        link.document.type_label = type_label(link.document.document_type)
    may_change = has_perm(request, CHANGE) and client.status != Client.Status.MERGED
    choices = []
    types = []
    if may_change:
        choices = [
            {"pk": d.pk, "label": f"{d.original_name} ({type_label(d.document_type)})"}
            for d in actions.documents_of(client)
            if d.pk not in attached
        ]
        types = [{"pk": t.pk, "label": type_label(t)} for t in offered_types(request.agency)]
    return {
        "picker": {
            "links": links,
            "choices": choices,
            "types": types,
            "may_change": may_change,
            "action_url": action_url or request.get_full_path(),
            "prefix": PREFIX,
        }
    }


def _field(name: str) -> str:
    return f"{PREFIX}-{name}"


def _pk(value: str | None) -> int | None:
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number > 0 else None


def handle_picker_post(request: HttpRequest, client: Client, target: models.Model) -> bool:
    """Do what the picker's form asks (upload new, pick existing, detach); True when done.

    The outcome is told by a message (an error names what was wrong). 403 without documents.change."""
    if not has_perm(request, CHANGE):
        raise PermissionDenied
    action = request.POST.get(_field("action"), "")
    try:
        if action == "upload":
            document_type = (
                DocumentType.objects.for_agency(request.agency).filter(pk=_pk(request.POST.get(_field("document_type")))).first()
            )
            if document_type is None:
                raise ValidationError({"document_type": _("Choose a document type.")})
            link = actions.attach_upload(target, client, request.user, request.FILES.get(_field("file")), document_type)
            messages.success(request, _("“%(name)s” uploaded and attached.") % {"name": link.document.original_name})
        elif action == "pick":
            document = (
                Document.objects.for_agency(request.agency)
                .filter(pk=_pk(request.POST.get(_field("document"))), deleted_at__isnull=True)
                .first()
            )
            if document is None:
                raise ValidationError({"document": _("Choose a file from the client's archive.")})
            if document.client_id != client.pk:
                raise ValidationError({"document": _("“%(name)s” belongs to another client.") % {"name": document.original_name}})
            actions.attach(document, target, request.user)
            messages.success(request, _("“%(name)s” attached.") % {"name": document.original_name})
        elif action == "detach":
            link = actions.links_to(target).filter(pk=_pk(request.POST.get(_field("link")))).select_related("target_type").first()
            if link is None:
                raise ValidationError({"link": _("This file is not attached here.")})
            actions.detach(link, request.user)
            messages.success(
                request, _("“%(name)s” detached; it stays in the client's files.") % {"name": link.document.original_name}
            )
        else:
            raise ValidationError({"action": _("Choose whether to upload a new file or pick an existing one.")})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    return True
