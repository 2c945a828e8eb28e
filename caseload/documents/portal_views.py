"""/portal/documents/: a logged-in client uploads a document (choosing its Document Type) and sees
and downloads the documents they uploaded — never what staff filed."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from caseload.clients.models import Client
from caseload.documents import actions
from caseload.documents.forms import UploadForm
from caseload.documents.models import Document
from caseload.documents.types import type_label
from caseload.portal.access import portal_view
from caseload.web.forms import add_errors


def own_uploads(client: Client):
    return (
        Document.objects.for_agency(client.agency)
        .filter(client=client, from_portal=True, deleted_at__isnull=True)
        .select_related("document_type")
        .order_by("-uploaded_at", "-pk")
    )


@portal_view
def documents(request: HttpRequest, client: Client) -> HttpResponse:
    merged = client.status == Client.Status.MERGED
    form = UploadForm(request.POST or None, request.FILES or None, agency=client.agency)
    status = 200
    if request.method == "POST" and not merged:
        if form.is_valid():
            try:
                document = actions.upload_document(
                    client,
                    request.user,
                    form.cleaned_data["file"],
                    form.cleaned_data["document_type"],
                    description=form.cleaned_data["description"],
                    from_portal=True,
                )
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(
                    request, _("Thank you: “%(name)s” was sent to your caseworker.") % {"name": document.original_name}
                )
                return redirect("portal:documents")
        status = 400
    rows = [] if merged else list(own_uploads(client))
    for row in rows:
        row.type_label = type_label(row.document_type)
    context = {"client": client, "agency": client.agency, "form": form, "documents": rows, "merged": merged}
    return render(request, "documents/portal_documents.html", context, status=status)
