"""Pieces the casework views share: the client and the record a page is about, and the merged-profile refusal.

Every row comes from the request's agency only (404 outside it); records go through
``records.visible`` (deleted and private-to-others ones are a 404 too).
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib import messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.tenancy.access import get_for_agency

M = TypeVar("M", bound=Model)


def is_merged(client: Client) -> bool:
    """A merged profile is read-only: its records moved to the profile it was merged into."""
    return client.status == Client.Status.MERGED


def client_for(request: HttpRequest, pk: int, *related: str) -> Client:
    """The request's agency's client ``pk`` (with ``related`` joined), or 404."""
    rows = Client.objects.for_agency(request.agency)
    if related:
        rows = rows.select_related(*related)
    return get_for_agency(request, rows, pk=pk)


def record_for(request: HttpRequest, model: type[M], pk: int, *related: str) -> M:
    """A client record the member may see (``records.visible``, ``related`` joined), or 404; its client's agency set."""
    rows = visible(model.objects.for_agency(request.agency), request.membership)
    if related:
        rows = rows.select_related(*related)
    row = get_for_agency(request, rows, pk=pk)
    row.client.agency = request.agency
    return row


def refuse_merged(request: HttpRequest, client: Client, message: str, url_name: str) -> HttpResponse:
    """Say why a merged profile's page does not apply, and go to ``url_name`` (a page of the client)."""
    messages.info(request, message)
    return redirect(url_name, pk=client.pk)
