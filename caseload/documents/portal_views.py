"""/portal/documents/: a logged-in client uploads a document (choosing its Document Type) and sees
and downloads the documents they uploaded — never what staff filed."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from caseload.clients.models import Client
from caseload.documents import actions
from caseload.documents.forms import UploadForm
from caseload.documents.types import type_label
from caseload.portal.access import portal_view
from caseload.tenancy.views import run_form


@portal_view
def documents(request: HttpRequest, client: Client) -> HttpResponse:
    merged = client.status == Client.Status.MERGED
    form = UploadForm(request.POST or None, request.FILES or None, agency=client.agency)
    status = 200
    if request.method == "POST" and not merged:
        document = run_form(form, lambda data: actions.upload_from_form(client, request.user, data, from_portal=True))
        if document is not None:
            messages.success(request, _("Thank you: “%(name)s” was sent to your caseworker.") % {"name": document.original_name})
            return redirect("portal:documents")
        status = 400
    rows = [] if merged else list(actions.documents_of(client).filter(from_portal=True))
    for row in rows:
        row.type_label = type_label(row.document_type)
    context = {"client": client, "agency": client.agency, "form": form, "documents": rows, "merged": merged}
    return render(request, "documents/portal_documents.html", context, status=status)
