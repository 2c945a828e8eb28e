"""The service-delivery tabs of a client's profile (clients.views.client_frame adds them after casework's)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.access import has_perm

# (key, label, URL name taking the client's pk, permission needed), in the order they show.
TABS = [
    ("sessions", _("Sessions"), "delivery:client_services", "delivery.view"),
    ("plans", _("Settlement plans"), "delivery:plans", "delivery.view"),
    ("checkpoints", _("Checkpoints"), "outcomes:client_checkpoints", "outcomes.view"),
    ("files", _("Files"), "documents:client_files", "documents.view"),
]


def delivery_tabs(request: HttpRequest, client, active: str) -> list[dict[str, Any]]:
    tabs = []
    for key, label, url_name, perm in TABS:
        if not has_perm(request, perm):
            continue
        try:
            url = reverse(url_name, args=[client.pk])
        except NoReverseMatch:  # a topic still being built
            continue
        tabs.append({"key": key, "label": label, "url": url, "current": active == key})
    return tabs
