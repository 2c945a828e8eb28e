"""Where the attach picker posts, one view per kind of record (URLs take the record's pk).

Each view finds the record as its own pages do (the agency's, visible to the member: 404
otherwise), needs ``documents.change`` (403), runs ``picker.handle_picker_post`` and goes back
to the record's page.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from caseload.delivery.visibility import records_for
from caseload.documents.picker import CHANGE, handle_picker_post
from caseload.tenancy.access import get_for_agency, perm_required


@require_POST
@perm_required(CHANGE)
def service_record_files(request: HttpRequest, pk: int) -> HttpResponse:
    rows = records_for(request.agency, request.membership).select_related("client")
    row = get_for_agency(request, rows, pk=pk)
    if row.client_id is None:
        raise Http404  # a group's record: no client archive to draw on
    row.client.agency = request.agency
    handle_picker_post(request, row.client, row)
    return redirect("delivery:record_detail", pk=row.pk)


@require_POST
@perm_required(CHANGE)
def note_files(request: HttpRequest, pk: int) -> HttpResponse:
    from caseload.casework.models import CaseNote
    from caseload.casework.notes import may_change
    from caseload.casework.pages import record_for

    note = record_for(request, CaseNote, pk, "client")
    if not may_change(note, request.membership):
        raise PermissionDenied  # a manager reads a private note but only its author changes it
    handle_picker_post(request, note.client, note)
    return redirect("casework:note_edit", pk=note.pk)


urlpatterns = [
    path("service-forms/<int:pk>/files/", service_record_files, name="service_record_files"),
    path("notes/<int:pk>/files/", note_files, name="note_files"),
]
