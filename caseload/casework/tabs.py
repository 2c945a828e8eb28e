"""The casework tabs of a client's profile (clients.views.client_frame adds them after Overview)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.access import has_perm

# (key, label, URL name taking the client's pk), in the order they show.
TABS = [
    ("notes", _("Case notes"), "casework:notes"),
    ("communications", _("Communications"), "casework:communications"),
    ("services", _("Supportive services"), "casework:services"),
    ("tasks", _("Tasks & referrals"), "casework:client_tasks"),
    ("history", _("History"), "casework:history"),
    ("notifications", _("Notifications"), "casework:notifications"),
]


def casework_tabs(request: HttpRequest, client, active: str) -> list[dict[str, Any]]:
    if not has_perm(request, "casework.view"):
        return []
    tabs = []
    for key, label, url_name in TABS:
        try:
            url = reverse(url_name, args=[client.pk])
        except NoReverseMatch:  # a topic still being built
            continue
        tabs.append({"key": key, "label": label, "url": url, "current": active == key})
    return tabs
