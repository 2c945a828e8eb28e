"""Downloading a file given as an answer.

The file's agency only (404 otherwise). A member may download it when they may see a service
record that holds it (``delivery.view``, through ``delivery.visibility.records_for``: the programs
and private rules) or when it answers the agency's questions on the client's profile
(``clients.view``). A member holding neither permission gets a 403; one who holds them but sees
no answer holding the file gets a 404, as if it did not exist.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import path

from caseload.audit.actions import Action, record
from caseload.delivery.visibility import records_for
from caseload.formbuilder.files import file_ids
from caseload.formbuilder.models import FormFile, ProfileAnswers
from caseload.tenancy.access import get_for_agency, has_perm, member_required

DELIVERY_VIEW = "delivery.view"
CLIENTS_VIEW = "clients.view"


def _in_a_visible_record(request: HttpRequest, form_file: FormFile) -> bool:
    records = (
        records_for(request.agency, request.membership)
        .filter(client_id=form_file.client_id)
        .select_related("definition", "extension")
        .only("answers", "definition__spec", "extension__fields")
    )
    for row in records.iterator():
        fields = list(row.definition.spec.get("fields") or []) + list(row.extension.fields if row.extension else [])
        if form_file.pk in file_ids(fields, row.answers):
            return True
    return False


def _in_the_profile(request: HttpRequest, form_file: FormFile) -> bool:
    if form_file.client_id is None:
        return False
    answers = (
        ProfileAnswers.objects.for_agency(request.agency)
        .filter(client_id=form_file.client_id)
        .select_related("extension")
        .first()
    )
    return answers is not None and form_file.pk in file_ids(answers.extension.fields, answers.answers)


@member_required
def file_download(request: HttpRequest, pk: int) -> FileResponse:
    form_file = get_for_agency(request, FormFile, pk=pk)
    may_records, may_profile = has_perm(request, DELIVERY_VIEW), has_perm(request, CLIENTS_VIEW)
    if not (may_records or may_profile):
        raise PermissionDenied
    if not ((may_records and _in_a_visible_record(request, form_file)) or (may_profile and _in_the_profile(request, form_file))):
        raise Http404
    try:
        handle = form_file.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=form_file, client_id=form_file.client_id)
    response = FileResponse(handle, as_attachment=True, filename=form_file.original_name, content_type=form_file.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


urlpatterns = [
    path("forms/files/<int:pk>/", file_download, name="file"),
]
