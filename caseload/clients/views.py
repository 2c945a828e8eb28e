"""The client registry pages: the list with its one search box, and a client's profile.

Thin views: clients come from the request's agency only (404 outside it), reading needs
``clients.view``, and opening one client's profile is audited (a VIEW event).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import record
from caseload.audit.models import AuditEvent
from caseload.clients.filters import ADVANCED, ClientFilterForm, active_filters
from caseload.clients.menu import actions_menu, assignments_of, enrolments_of
from caseload.clients.models import Client
from caseload.clients.queries import filter_clients, search_clients
from caseload.clients.referrals import pending_incoming_count
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.tables import Column, Table, table_response

CLIENTS_VIEW = "clients.view"
# The most search results one page shows; a narrower search finds the rest.
SEARCH_LIMIT = 50
MAX_QUERY_LENGTH = 200
STATUSES = [(Client.Status.ACTIVE, gettext_lazy("Active")), (Client.Status.ARCHIVED, gettext_lazy("Archived"))]


def age(born: date | None, today: date | None = None) -> int | None:
    """Whole years since ``born`` (None when the date of birth is unknown)."""
    if born is None:
        return None
    today = today or timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def display_phone(value: str) -> str:
    """A stored E.164 number for reading: national format at home, international otherwise."""
    if not value:
        return ""
    return _display_phone(value, settings.PHONE_DEFAULT_REGION)


@functools.lru_cache(maxsize=8192)
def _display_phone(value: str, region: str) -> str:
    """Cached: parsing and formatting a number costs a tenth of a millisecond, and a list shows fifty; the
    same clients' numbers come back page after page."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return value
    home = phonenumbers.region_code_for_number(number) == region
    return phonenumbers.format_number(
        number, phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )


def legal_name(client: Client) -> str:
    """The name on the record (given and family), or what __str__ says for anonymous and nameless clients."""
    if client.is_anonymous:
        return str(client)
    return " ".join(part for part in (client.given_name, client.family_name) if part) or str(client)


def birth_text(client: Client) -> str:
    """ "March 12, 1985 (age 41)", or "" when the date of birth is unknown."""
    if client.date_of_birth is None:
        return ""
    return _("%(date)s (age %(age)s)") % {
        "date": formats.date_format(client.date_of_birth, "DATE_FORMAT"),
        "age": age(client.date_of_birth),
    }


def status_badge(client: Client) -> str:
    css = "badge-success" if client.status == Client.Status.ACTIVE else "badge-neutral"
    return format_html('<span class="badge {}">{}</span>', css, client.get_status_display())


def _name_cell(client: Client) -> str:
    if client.preferred_name and not client.is_anonymous:
        return format_html('{} <span class="client-preferred">({})</span>', legal_name(client), client.preferred_name)
    return legal_name(client)


@dataclass
class Row:
    """One search result, ready to show."""

    client: Client
    name: str
    url: str
    born: str
    phone: str
    reasons: list[str]
    select: str = ""  # the batch actions' checkbox (when the member may run them)


@perm_required(CLIENTS_VIEW)
def client_list(request: HttpRequest) -> HttpResponse:
    # A checkbox per client for batch actions (casework.batch_views; the bar is casework/_batch_bar.html).
    from caseload.casework.batch_views import BATCH_FORM_ID, select_cell, select_column

    search = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    filter_form = ClientFilterForm(request.GET, agency=request.agency, membership=request.membership)
    chosen = filter_form.values()
    status = chosen["status"]
    for problem in filter_form.problems():
        messages.warning(request, _("A filter was ignored. %(problem)s") % {"problem": problem})
    clients = filter_clients(Client.objects.for_agency(request.agency), agency=request.agency, **chosen)
    shown = active_filters(request, filter_form)
    context: dict[str, Any] = {
        "search": search,
        "status": status,
        "statuses": STATUSES,
        "filter_form": filter_form,
        "active_filters": shown,
        "advanced_open": bool(shown) or any(name in filter_form.errors for name in ADVANCED),
        "incoming_referrals": pending_incoming_count(request.agency) if has_perm(request, "clients.refer") else 0,
    }
    if search:
        # The status alone (the usual case: active clients) keeps name search on its fast path.
        base = clients if filter_form.narrows_beyond_status() else None
        matches = search_clients(request.agency, search, limit=SEARCH_LIMIT, base=base, status=status)
        select = select_cell(BATCH_FORM_ID) if has_perm(request, "casework.batch") else None
        context["results"] = [
            Row(
                client=match.client,
                name=legal_name(match.client),
                url=reverse("clients:detail", args=[match.client.pk]),
                born=birth_text(match.client),
                phone=display_phone(match.client.phone),
                reasons=[str(reason) for reason in match.reasons],
                select=select(match.client) if select else "",
            )
            for match in matches
        ]
        context["limited"] = len(matches) >= SEARCH_LIMIT
        return render(request, "clients/list.html", context)
    archived = status == Client.Status.ARCHIVED
    table = Table(
        request,
        clients,
        columns=[
            *([select_column(BATCH_FORM_ID)] if has_perm(request, "casework.batch") else []),
            Column(
                "name",
                _("Name"),
                sort=("family_name", "given_name"),
                value=_name_cell,
                link=lambda c: reverse("clients:detail", args=[c.pk]),
            ),
            Column("client_number", _("Client number"), sort="client_number", numeric=True),
            Column("date_of_birth", _("Date of birth"), sort="date_of_birth", value=lambda c: birth_text(c) or None),
            Column("phone", _("Phone"), value=lambda c: display_phone(c.phone) or None),
            Column("status", _("Status"), value=status_badge),
        ],
        default_sort="name",
        caption=_("Archived clients") if archived else _("Active clients"),
        empty_title=_("No clients match these filters")
        if shown
        else _("No archived clients")
        if archived
        else _("No clients yet"),
        empty_text=(
            _("Remove a filter to see more clients.")
            if shown
            else _("Clients your agency archives are kept here.")
            if archived
            else _("Clients your agency registers will be listed here.")
        ),
        empty_icon="users",
    )
    return table_response(request, "clients/list.html", {**context, "table": table}, table)


def initials(client: Client) -> str:
    if client.is_anonymous:
        return "#"
    letters = "".join(part[:1] for part in (client.preferred_name or client.given_name, client.family_name) if part)
    return letters.upper() or "#"


TAB_ORDER = [
    "overview",
    "notes",
    "sessions",
    "checkpoints",
    "plans",
    "tasks",
    "communications",
    "services",
    "files",
    "history",
    "notifications",
]


def client_frame(request: HttpRequest, client: Client, active: str = "overview") -> dict[str, Any]:
    """The context of clients/client_base.html: ribbon, safety banner, Actions menu and tabs.

    Every page about one client renders through this, so the safety banner is never missed.
    ``active`` names the current tab (a later issue's tab adds its entry to ``tabs``).
    """
    from caseload.casework.tabs import casework_tabs
    from caseload.delivery.tabs import delivery_tabs

    tabs = [
        {"key": "overview", "label": _("Overview"), "url": reverse("clients:detail", args=[client.pk]), "current": active == "overview"},
        *casework_tabs(request, client, active),
        *delivery_tabs(request, client, active),
    ]
    # The work of every day first, the records to look things up in last.
    tabs.sort(key=lambda tab: TAB_ORDER.index(tab["key"]) if tab["key"] in TAB_ORDER else len(TAB_ORDER))
    # One query each, shared by the ribbon, the Actions menu and the Staff and Programs cards.
    assignments = assignments_of(client)
    enrolments = enrolments_of(client)
    return {
        "client": client,
        "name": legal_name(client),
        "born": birth_text(client),
        "phone": display_phone(client.phone),
        "initials": initials(client),
        "safety_flag": client.safety_flags.filter(removed_at__isnull=True).first() if client.has_safety_flag else None,
        "assignments": assignments,
        "tabs": tabs,
        # The Actions menu (key -> URL of each action allowed and applicable now), and the Staff and
        # Programs cards' rows.
        "client_menu": actions_menu(request, client, assignments=assignments, enrolments=enrolments),
        "client_assignments": assignments,
        "client_enrolments": enrolments,
    }


@perm_required(CLIENTS_VIEW)
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_for_agency(request, Client, pk=pk)
    record(agency=request.agency, actor=request.user, action=AuditEvent.Action.VIEW, obj=client, client_id=client.pk)
    from caseload.clients.overview import overview

    return render(request, "clients/detail.html", {**client_frame(request, client), **overview(request, client)})
