"""The client's Files tab (the document archive), a document's edit and delete pages, the download,
and the agency's Document Types.

Thin views: ``documents.view`` to read, ``documents.change`` to upload, edit and delete,
``documents.configure`` for Document Types (403 otherwise); every row comes from the request's
agency only (404 outside it; a deleted document is a 404 too). The download also serves the
portal client their own uploads. Writes call ``caseload.documents.actions`` / ``types``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record
from caseload.casework.pages import client_for, is_merged
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.documents import actions, types
from caseload.documents.forms import DocumentEditForm, DocumentTypeForm, UploadForm
from caseload.documents.models import Document, DocumentType
from caseload.documents.picker import where_attached
from caseload.documents.serving import attachment_response
from caseload.portal.access import portal_client
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.views import admin_render, run_form

VIEW, CHANGE, CONFIGURE = "documents.view", "documents.change", "documents.configure"
TAB = "files"


def uploader_name(document: Document) -> str:
    if document.from_portal:
        return str(_("the client"))
    user = document.uploaded_by
    if user is None:
        return str(_("The system"))
    return user.get_full_name() or user.email


def _document(request: HttpRequest, pk: int) -> Document:
    rows = Document.objects.for_agency(request.agency).filter(deleted_at__isnull=True).select_related("client", "document_type")
    document = get_for_agency(request, rows, pk=pk)
    document.client.agency = request.agency
    return document


# --- The Files tab -------------------------------------------------------------------------------


@perm_required(VIEW)
def client_files(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    may_write = has_perm(request, CHANGE) and not is_merged(client)
    form = UploadForm(request.POST or None, request.FILES or None, agency=request.agency)
    status = 200
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied
        document = run_form(form, lambda data: actions.upload_from_form(client, request.user, data))
        if document is not None:
            messages.success(request, _("“%(name)s” uploaded.") % {"name": document.original_name})
            return redirect("documents:client_files", pk=client.pk)
        status = 400
    all_documents = list(actions.documents_of(client))
    type_ids = {document.document_type_id for document in all_documents}
    shown_types = list(DocumentType.objects.for_agency(request.agency).filter(pk__in=type_ids))
    chosen = request.GET.get("type", "")
    documents = [d for d in all_documents if not chosen or str(d.document_type_id) == chosen]
    places = where_attached(request, documents)
    for document in documents:
        document.uploader = uploader_name(document)
        document.type_label = types.type_label(document.document_type)
        document.places = places.get(document.pk, [])
    groups: dict[int, dict[str, Any]] = {}
    for document in documents:
        group = groups.setdefault(document.document_type_id, {"label": document.type_label, "documents": []})
        group["documents"].append(document)
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=client, client_id=client.pk, object_repr=_("Files"))
    context = {
        **client_frame(request, client, active=TAB),
        "groups": sorted(groups.values(), key=lambda g: str(g["label"]).lower()),
        "count": len(all_documents),
        "type_options": [{"pk": t.pk, "label": types.type_label(t), "current": str(t.pk) == chosen} for t in shown_types],
        "filtered": bool(chosen),
        "form": form,
        "may_write": may_write,
        "merged": is_merged(client),
    }
    return render(request, "documents/client_files.html", context, status=status)


@perm_required(CHANGE)
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    client = document.client
    if is_merged(client):
        raise PermissionDenied
    form = DocumentEditForm(request.POST or None, document=document)
    if request.method == "POST" and run_form(form, lambda data: actions.update_document(document, request.user, data)):
        messages.success(request, _("“%(name)s” saved.") % {"name": document.original_name})
        return redirect("documents:client_files", pk=client.pk)
    context = {
        **client_frame(request, client, active=TAB),
        "document": document,
        "form": form,
        "cancel_url": reverse("documents:client_files", args=[client.pk]),
    }
    return render(request, "documents/document_edit.html", context, status=400 if form.errors else 200)


@perm_required(CHANGE)
def document_delete(request: HttpRequest, pk: int) -> HttpResponse:
    document = _document(request, pk)
    client = document.client
    if is_merged(client):
        raise PermissionDenied
    if request.method == "POST":
        actions.delete_document(document, request.user)
        messages.success(request, _("“%(name)s” deleted.") % {"name": document.original_name})
        return redirect("documents:client_files", pk=client.pk)
    context = {
        **client_frame(request, client, active=TAB),
        "document": document,
        "places": where_attached(request, [document]).get(document.pk, []),
        "cancel_url": reverse("documents:client_files", args=[client.pk]),
    }
    return render(request, "documents/document_delete.html", context)


# --- The download --------------------------------------------------------------------------------


def _portal_download(request: HttpRequest, client: Client, pk: int) -> FileResponse:
    with agency_scope(client.agency):
        document = (
            Document.objects.for_agency(client.agency)
            .filter(client=client, from_portal=True, deleted_at__isnull=True, pk=pk)
            .first()
        )
        if document is None:
            raise Http404
        response = attachment_response(document.file, document.original_name, document.content_type)
        record(agency=client.agency, actor=request.user, action=Action.VIEW, obj=document, client_id=client.pk)
        return response


def download(request: HttpRequest, pk: int) -> HttpResponse:
    """A document as a download: staff with documents.view, or the portal client their own uploads."""
    if (
        request.user.is_authenticated
        and getattr(request, "membership", None) is None
        and not getattr(request, "memberships", None)
    ):
        client = portal_client(request.user)
        if client is not None:
            return _portal_download(request, client, pk)
    return _staff_download(request, pk)


@perm_required(VIEW)
def _staff_download(request: HttpRequest, pk: int) -> FileResponse:
    document = _document(request, pk)
    response = attachment_response(document.file, document.original_name, document.content_type)
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=document, client_id=document.client_id)
    return response


# --- Document Types ------------------------------------------------------------------------------


@perm_required(CONFIGURE)
def type_list(request: HttpRequest) -> HttpResponse:
    form = DocumentTypeForm(request.POST or None)
    if request.method == "POST":
        created = run_form(form, lambda data: types.create_document_type(request.agency, request.user, data))
        if created is not None:
            messages.success(request, _("Document type “%(name)s” added.") % {"name": created.name})
            return redirect("documents:types")
    context = {
        "rows": [
            {"type": t, "uses": t.uses, "edit_url": reverse("documents:type_edit", args=[t.pk])}
            for t in types.types_with_uses(request.agency)
        ],
        "form": form,
    }
    return admin_render(request, "documents/types.html", context, status=400 if form.errors else 200)


@perm_required(CONFIGURE)
def type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    document_type = get_for_agency(request, DocumentType, pk=pk)
    form = DocumentTypeForm(request.POST or None, instance=document_type)
    if request.method == "POST" and run_form(form, lambda data: types.update_document_type(document_type, request.user, data)):
        messages.success(request, _("Document type saved."))
        return redirect("documents:types")
    context = {
        "form": form,
        "title": _("Document type “%(name)s”") % {"name": document_type.name},
        "submit_label": _("Save"),
        "cancel_url": reverse("documents:types"),
    }
    return admin_render(request, "tenancy/form.html", context, status=400 if form.errors else 200)


urlpatterns = [
    path("clients/<int:pk>/files/", client_files, name="client_files"),
    path("documents/<int:pk>/edit/", document_edit, name="document_edit"),
    path("documents/<int:pk>/delete/", document_delete, name="document_delete"),
    path("documents/<int:pk>/download/", download, name="download"),
    path("admin/agency/document-types/", type_list, name="types"),
    path("admin/agency/document-types/<int:pk>/", type_edit, name="type_edit"),
]
