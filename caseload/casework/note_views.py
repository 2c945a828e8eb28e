"""The client's Case notes tab: the list, writing, editing and deleting notes, a note's history,
and downloading its files.

Thin views: reading needs ``casework.view``, writing ``casework.change`` (403 otherwise); clients
and notes come from the request's agency only (404 outside it), and every note is read through
``records.visible`` — a private note the reader may not see is a 404, like one that does not
exist. Writes call ``caseload.casework.notes`` (one transaction, audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from caseload.audit.actions import Action, record
from caseload.casework import notes
from caseload.casework.models import CaseNote, NoteAttachment, NoteRevision
from caseload.casework.note_forms import NoteFilterForm, NoteForm, staff_name
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.models import Program
from caseload.web.forms import add_errors

CASEWORK_VIEW = "casework.view"
CASEWORK_CHANGE = "casework.change"
PAGE_SIZE = 20
TAB = "notes"
TAB_URL = "casework:notes"


def visible_notes(request: HttpRequest) -> QuerySet[CaseNote]:
    """The notes of the request's agency its member may see (not deleted; private ones by the rule)."""
    return visible(CaseNote.objects.for_agency(request.agency), request.membership)


def get_note(request: HttpRequest, pk: int) -> CaseNote:
    """A note the member may see, or 404 (another agency's, a deleted one and a private one alike)."""
    return get_for_agency(request, visible_notes(request).select_related("client", "author__user", "program"), pk=pk)


def may_write(request: HttpRequest, note: CaseNote | None = None) -> bool:
    if not has_perm(request, CASEWORK_CHANGE):
        return False
    return note is None or notes.may_change(note, request.membership)


def _writable_note(request: HttpRequest, pk: int) -> CaseNote:
    note = get_note(request, pk)
    if not notes.may_change(note, request.membership):
        # They may read it (the author's manager) but not change it.
        raise PermissionDenied
    return note


def _merged(request: HttpRequest, client: Client) -> HttpResponse | None:
    """A merged profile is read-only: back to its notes, saying why."""
    if not is_merged(client):
        return None
    return refuse_merged(
        request, client, _("This profile was merged into another one: write notes on the kept profile."), TAB_URL
    )


# --- The tab ---------------------------------------------------------------------------------


@perm_required(CASEWORK_VIEW)
def note_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    filters = NoteFilterForm(request.GET or None, agency=request.agency)
    rows = (
        visible_notes(request)
        .filter(client=client)
        .select_related("author__user", "program", "updated_by")
        .prefetch_related("attachments")
        .order_by("-contact_date", "-created_at", "-pk")
    )
    rows = filters.apply(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=client,
        client_id=client.pk,
        object_repr=_("Case notes"),
    )
    membership = request.membership
    writer = has_perm(request, CASEWORK_CHANGE)
    for note in page.object_list:
        note.author_name = staff_name(note.author)
        note.may_change = writer and notes.may_change(note, membership)
    context: dict[str, Any] = {
        **client_frame(request, client, active=TAB),
        "page": page,
        "filters": filters,
        "filtered": filters.in_use,
        "may_write": writer and not is_merged(client),
    }
    return render(request, "casework/note_list.html", context)


# --- Writing ---------------------------------------------------------------------------------


def _status(request: HttpRequest) -> str:
    return CaseNote.Status.DRAFT if request.POST.get("save") == "draft" else CaseNote.Status.FINAL


def _saved(request: HttpRequest, client: Client, status: str) -> HttpResponse:
    messages.success(request, _("The note is saved as a draft.") if status == CaseNote.Status.DRAFT else _("The note is saved."))
    return redirect(TAB_URL, pk=client.pk)


def _form_page(
    request: HttpRequest, client: Client, form: NoteForm, *, note: CaseNote | None, title: str, posted: bool
) -> HttpResponse:
    context = {
        **client_frame(request, client, active=TAB),
        "form": form,
        "note": note,
        "title": title,
        "cancel_url": reverse(TAB_URL, args=[client.pk]),
    }
    if note is not None:
        # Files from the client's document archive (issue 6): attached without copying them.
        from caseload.documents.picker import picker_context

        action_url = reverse("documents:note_files", args=[note.pk])
        context.update(picker_context(request, client, note, action_url=action_url))
    return render(request, "casework/note_form.html", context, status=400 if posted else 200)


@perm_required(CASEWORK_CHANGE)
def note_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if refused := _merged(request, client):
        return refused
    posted = request.method == "POST"
    form = NoteForm(request.POST if posted else None, request.FILES if posted else None, agency=request.agency)
    if posted and form.is_valid():
        status = _status(request)
        try:
            notes.save_note(client, request.user, form.note_data(status), uploads=form.cleaned_data["attachments"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _saved(request, client, status)
    return _form_page(request, client, form, note=None, title=_("New case note"), posted=posted)


@perm_required(CASEWORK_CHANGE)
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = _writable_note(request, pk)
    client = note.client
    if refused := _merged(request, client):
        return refused
    posted = request.method == "POST"
    is_author = request.membership is not None and note.author_id == request.membership.pk
    form = NoteForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        agency=request.agency,
        note=note,
        may_set_private=is_author,
    )
    if posted and form.is_valid():
        status = _status(request) if note.status == CaseNote.Status.DRAFT else CaseNote.Status.FINAL
        try:
            notes.save_note(
                client,
                request.user,
                form.note_data(status),
                note=note,
                uploads=form.cleaned_data["attachments"],
                remove=form.cleaned_data.get("remove") or [],
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            return _saved(request, client, status)
    return _form_page(request, client, form, note=note, title=_("Edit case note"), posted=posted)


@perm_required(CASEWORK_CHANGE)
@require_http_methods(["GET", "POST"])
def note_delete(request: HttpRequest, pk: int) -> HttpResponse:
    note = _writable_note(request, pk)
    client = note.client
    if refused := _merged(request, client):
        return refused
    if request.method == "POST":
        notes.delete_note(note, request.user)
        messages.success(request, _("The note is deleted."))
        return redirect("casework:notes", pk=client.pk)
    context = {
        **client_frame(request, client, active=TAB),
        "note": note,
        "author_name": staff_name(note.author),
        "cancel_url": reverse("casework:notes", args=[client.pk]),
    }
    return render(request, "casework/note_delete.html", context)


# --- History and files -----------------------------------------------------------------------

FIELD_LABELS = {name: CaseNote._meta.get_field(name).verbose_name for name in notes.NOTE_FIELDS}


def _shown(name: str, value: Any, programs: dict[int, str]) -> str:
    """A stored revision value as words."""
    if value is None or value == "":
        return "—"
    if name == "note_type":
        return str(CaseNote.Type(value).label) if value in CaseNote.Type.values else str(value)
    if name == "status":
        return str(CaseNote.Status(value).label) if value in CaseNote.Status.values else str(value)
    if name == "is_private":
        return _("Private") if value else _("Not private")
    if name == "program":
        return programs.get(value, _("A program since deleted"))
    return str(value)


@perm_required(CASEWORK_VIEW)
def note_history(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_note(request, pk)
    revisions = list(NoteRevision.objects.for_agency(request.agency).filter(note=note).select_related("edited_by"))
    program_ids = {
        value for r in revisions for value in (r.before.get("program"), r.after.get("program")) if isinstance(value, int)
    }
    programs = {p.pk: p.name for p in Program.objects.for_agency(request.agency).filter(pk__in=program_ids)}
    for revision in revisions:
        revision.changes = [
            {
                "field": FIELD_LABELS.get(name, name),
                "is_text": name == "body",
                "before": _shown(name, revision.before.get(name), programs),
                "after": _shown(name, revision.after.get(name), programs),
            }
            for name in notes.NOTE_FIELDS
            if name in revision.before or name in revision.after
        ]
        editor = revision.edited_by
        revision.editor_name = (editor.get_full_name() or editor.email) if editor else _("The system")
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=note, client_id=note.client_id)
    context = {
        **client_frame(request, note.client, active=TAB),
        "note": note,
        "author_name": staff_name(note.author),
        "revisions": revisions,
        "back_url": reverse("casework:notes", args=[note.client_id]),
    }
    return render(request, "casework/note_history.html", context)


@perm_required(CASEWORK_VIEW)
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_for_agency(request, NoteAttachment.objects.for_agency(request.agency).select_related("note"), pk=pk)
    # The note's own rule: deleted or private to someone else, its files do not exist for the reader.
    get_note(request, attachment.note_id)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=attachment, client_id=attachment.note.client_id)
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


urlpatterns = [
    path("clients/<int:pk>/notes/", note_list, name="notes"),
    path("clients/<int:pk>/notes/new/", note_new, name="note_new"),
    path("notes/<int:pk>/edit/", note_edit, name="note_edit"),
    path("notes/<int:pk>/delete/", note_delete, name="note_delete"),
    path("notes/<int:pk>/history/", note_history, name="note_history"),
    path("attachments/<int:pk>/", attachment_download, name="attachment_download"),
]
