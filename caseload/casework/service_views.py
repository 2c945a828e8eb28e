"""The Supportive services tab of a client's profile, the service forms, and the agency's
service types and grants.

Thin views: ``casework.view`` to read, ``casework.change`` to record services,
``casework.configure`` to manage service types and grants (403 otherwise); every row comes from
the request's agency only (404 outside it). Writes call ``caseload.casework.services``. A merged
profile is read-only: its records moved to the profile it was merged into. Grant pages need the
agency's grants management; without it they say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record
from caseload.casework import services
from caseload.casework.models import Grant, SupportiveService, SupportServiceType
from caseload.casework.pages import client_for, is_merged, record_for, refuse_merged
from caseload.casework.records import visible
from caseload.casework.service_forms import GrantForm, ServiceForm, ServiceTypeForm
from caseload.clients.models import Client
from caseload.clients.views import client_frame, legal_name
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.views import admin_render, admin_tabs, run_form
from caseload.web.tables import Column, Table, table_response

VIEW, CHANGE, CONFIGURE = "casework.view", "casework.change", "casework.configure"
PER_PAGE = 50
TAB = "services"


def _service(request: HttpRequest, pk: int) -> SupportiveService:
    return record_for(request, SupportiveService, pk, "client__merged_into", "service_type", "grant", "program")


def _tab(client: Client) -> HttpResponse:
    return redirect("casework:services", pk=client.pk)


def _refuse_merged(request: HttpRequest, client: Client) -> HttpResponse:
    return refuse_merged(
        request, client, _("This profile was merged into another one: its records are read-only."), "casework:services"
    )


# --- The Supportive services tab -----------------------------------------------------------------


@dataclass
class Row:
    service: SupportiveService
    amount: str
    edit_url: str
    delete_url: str


@perm_required(VIEW)
def service_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk, "merged_into")
    rows = services.services_of(client, request.membership).order_by("-date", "-created_at", "-pk")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    total = services.total_amount(rows)
    writable = has_perm(request, CHANGE) and not is_merged(client)
    items = [
        Row(
            service=service,
            amount=services.money(service.amount),
            edit_url=reverse("casework:service_edit", args=[service.pk]) if writable else "",
            delete_url=reverse("casework:service_delete", args=[service.pk]) if writable else "",
        )
        for service in page.object_list
    ]
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=client,
        client_id=client.pk,
        changes={"tab": "services"},
    )
    context = {
        **client_frame(request, client, TAB),
        "page": page,
        "items": items,
        "total": services.money(total or Decimal("0")),
        "show_grant": request.agency.grants_management or any(item.service.grant_id for item in items),
        "writable": writable,
        "new_url": reverse("casework:service_new", args=[client.pk]) if writable else "",
    }
    return render(request, "casework/services.html", context)


def _form_page(
    request: HttpRequest, client: Client, form: ServiceForm, *, service: SupportiveService | None, status: int
) -> HttpResponse:
    context = {
        **client_frame(request, client, TAB),
        "form": form,
        "service": service,
        "title": _("Edit supportive service") if service else _("New supportive service"),
        "submit_label": _("Save changes") if service else _("Record service"),
        "cancel_url": reverse("casework:services", args=[client.pk]),
        "delete_url": reverse("casework:service_delete", args=[service.pk]) if service else "",
        "grants_off": not request.agency.grants_management,
        "grant_name": service.grant.name if service and service.grant_id else "",
    }
    return render(request, "casework/service_form.html", context, status=status)


@perm_required(CHANGE)
def service_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk, "merged_into")
    if is_merged(client):
        return _refuse_merged(request, client)
    may_approve = services.may_approve_overspend(request.agency, request.user)
    form = ServiceForm(request.POST or None, agency=request.agency, may_approve=may_approve)
    if request.method == "POST":
        service = run_form(form, lambda data: services.record_service(client, request.user, data))
        if service is not None:
            messages.success(request, _("Supportive service recorded: %(service)s.") % {"service": service.service_type.name})
            return _tab(client)
        return _form_page(request, client, form, service=None, status=400)
    return _form_page(request, client, form, service=None, status=200)


@perm_required(CHANGE)
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    client = service.client
    if is_merged(client):
        return _refuse_merged(request, client)
    may_approve = services.may_approve_overspend(request.agency, request.user)
    form = ServiceForm(request.POST or None, agency=request.agency, service=service, may_approve=may_approve)
    if request.method == "POST":
        if run_form(form, lambda data: services.update_service(service, request.user, data)) is not None:
            messages.success(request, _("Supportive service saved."))
            return _tab(client)
        return _form_page(request, client, form, service=service, status=400)
    return _form_page(request, client, form, service=service, status=200)


@perm_required(CHANGE)
def service_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service = _service(request, pk)
    client = service.client
    if is_merged(client):
        return _refuse_merged(request, client)
    if request.method == "POST":
        services.delete_service(service, request.user)
        messages.success(request, _("Supportive service deleted."))
        return _tab(client)
    context = {
        **client_frame(request, client, TAB),
        "service": service,
        "amount": services.money(service.amount),
        "cancel_url": reverse("casework:services", args=[client.pk]),
    }
    return render(request, "casework/service_delete.html", context)


# --- Service types -------------------------------------------------------------------------------


def _active_badge(row: Any) -> str:
    if row.is_active:
        return format_html('<span class="badge badge-success">{}</span>', _("Active"))
    return format_html('<span class="badge badge-neutral">{}</span>', _("Inactive"))


@perm_required(CONFIGURE)
def service_type_list(request: HttpRequest) -> HttpResponse:
    form = ServiceTypeForm(request.POST or None)
    if request.method == "POST":
        created = run_form(form, lambda data: services.create_service_type(request.agency, request.user, data))
        if created is not None:
            messages.success(request, _("Service type “%(name)s” added.") % {"name": created.name})
            return redirect("casework:service_types")
    usage = services.service_type_usage(request.agency)
    types = SupportServiceType.objects.for_agency(request.agency).order_by("-is_active", "name")
    rows = [
        {
            "type": service_type,
            "uses": usage.get(service_type.pk, 0),
            "edit_url": reverse("casework:service_type_edit", args=[service_type.pk]),
        }
        for service_type in types
    ]
    status = 400 if form.errors else 200
    return admin_render(request, "casework/service_types.html", {"rows": rows, "form": form}, status=status)


def _service_type_removal(service_type: SupportServiceType) -> dict[str, str]:
    in_use = services.service_type_in_use(service_type)
    return {
        "url": reverse("casework:service_type_delete", args=[service_type.pk]),
        "title": (_("Deactivate “%(name)s”?") if in_use else _("Delete “%(name)s”?")) % {"name": service_type.name},
        "text": (
            _(
                "Services were recorded with this type, so it is deactivated instead of deleted: it stays on those services but is no longer offered."
            )
            if in_use
            else _("No service uses this type: it is removed for good.")
        ),
        "label": _("Deactivate") if in_use else _("Delete"),
    }


@perm_required(CONFIGURE)
def service_type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service_type = get_for_agency(request, SupportServiceType, pk=pk)
    form = ServiceTypeForm(request.POST or None, instance=service_type)
    if request.method == "POST" and run_form(form, lambda data: services.update_service_type(service_type, request.user, data)):
        messages.success(request, _("Service type saved."))
        return redirect("casework:service_types")
    context = {
        "form": form,
        "title": _("Service type “%(name)s”") % {"name": service_type.name},
        "submit_label": _("Save"),
        "cancel_url": reverse("casework:service_types"),
        "delete": _service_type_removal(service_type),
    }
    return admin_render(request, "tenancy/form.html", context, status=400 if form.errors else 200)


@perm_required(CONFIGURE)
def service_type_delete(request: HttpRequest, pk: int) -> HttpResponse:
    service_type = get_for_agency(request, SupportServiceType, pk=pk)
    removal = _service_type_removal(service_type)
    if request.method == "POST":
        name = service_type.name
        if services.remove_service_type(service_type, request.user):
            messages.success(request, _("Service type “%(name)s” deleted.") % {"name": name})
        else:
            messages.success(
                request, _("Service type “%(name)s” deactivated: services already recorded keep it.") % {"name": name}
            )
        return redirect("casework:service_types")
    context = {
        "title": removal["title"],
        "message": removal["text"],
        "submit_label": removal["label"],
        "cancel_url": reverse("casework:service_type_edit", args=[service_type.pk]),
        "danger": True,
    }
    return admin_render(request, "tenancy/confirm.html", context)


# --- Grants --------------------------------------------------------------------------------------


def _grants_off(request: HttpRequest) -> HttpResponse:
    context = {"can_turn_on": has_perm(request, "agency.manage")}
    return admin_render(request, "casework/grants_off.html", context)


def _period(grant: Grant) -> str:
    return _("%(start)s to %(end)s") % {
        "start": formats.date_format(grant.starts_on, "SHORT_DATE_FORMAT"),
        "end": formats.date_format(grant.ends_on, "SHORT_DATE_FORMAT"),
    }


def _remaining_cell(grant: Grant) -> str:
    totals = services.grant_totals(grant)
    if totals.overspent:
        return format_html(
            '<span class="badge badge-danger">{}</span>', _("%(amount)s over") % {"amount": services.money(-totals.remaining)}
        )
    return services.money(totals.remaining)


@perm_required(VIEW)
def grant_list(request: HttpRequest) -> HttpResponse:
    if not request.agency.grants_management:
        return _grants_off(request)
    table = Table(
        request,
        services.grants_with_spending(request.agency),
        columns=[
            Column("name", _("Grant"), sort="name", link=lambda g: reverse("casework:grant_detail", args=[g.pk])),
            Column("funder", _("Funder"), sort="funder__name", value=lambda g: g.funder.name),
            Column("period", _("Period"), sort="starts_on", value=_period),
            Column("budget", _("Budget"), sort="budget", numeric=True, value=lambda g: services.money(g.budget)),
            Column("spent", _("Spent"), sort="spent", numeric=True, value=lambda g: services.money(g.spent)),
            Column("remaining", _("Remaining"), numeric=True, value=_remaining_cell),
            Column("is_active", _("Status"), sort="is_active", value=_active_badge),
        ],
        default_sort="-period",
        caption=_("Grants"),
        empty_title=_("No grants yet"),
        empty_text=_("Add the grants your funders give for supportive services; services can then draw on them."),
        empty_icon="chart",
    )
    context = {"admin_tabs": admin_tabs(request), "table": table, "can_configure": has_perm(request, CONFIGURE)}
    return table_response(request, "casework/grant_list.html", context, table)


def _grant_form_page(request: HttpRequest, form: GrantForm, *, grant: Grant | None) -> HttpResponse:
    context = {
        "form": form,
        "title": _("Edit grant “%(name)s”") % {"name": grant.name} if grant else _("New grant"),
        "submit_label": _("Save") if grant else _("Create grant"),
        "cancel_url": reverse("casework:grant_detail", args=[grant.pk]) if grant else reverse("casework:grants"),
    }
    return admin_render(request, "tenancy/form.html", context, status=400 if form.errors else 200)


@perm_required(CONFIGURE)
def grant_new(request: HttpRequest) -> HttpResponse:
    if not request.agency.grants_management:
        return _grants_off(request)
    form = GrantForm(request.POST or None, agency=request.agency)
    if request.method == "POST":
        grant = run_form(form, lambda data: services.create_grant(request.agency, request.user, data))
        if grant is not None:
            messages.success(request, _("Grant created."))
            return redirect("casework:grant_detail", pk=grant.pk)
    return _grant_form_page(request, form, grant=None)


@perm_required(CONFIGURE)
def grant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_for_agency(request, Grant, pk=pk)
    if not request.agency.grants_management:
        return _grants_off(request)
    form = GrantForm(request.POST or None, agency=request.agency, instance=grant)
    if request.method == "POST" and run_form(form, lambda data: services.update_grant(grant, request.user, data)):
        messages.success(request, _("Grant saved."))
        return redirect("casework:grant_detail", pk=grant.pk)
    return _grant_form_page(request, form, grant=grant)


@dataclass
class GrantRow:
    service: SupportiveService
    client_name: str
    client_url: str
    amount: str


@perm_required(VIEW)
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_for_agency(request, services.grants_with_spending(request.agency), pk=pk)
    if not request.agency.grants_management:
        return _grants_off(request)
    totals = services.grant_totals(grant)
    drawn = (
        visible(SupportiveService.objects.for_agency(request.agency), request.membership)
        .filter(grant=grant)
        .select_related("client", "service_type", "author__user", "overspend_approved_by")
        .order_by("-date", "-pk")
    )
    page = Paginator(drawn, PER_PAGE).get_page(request.GET.get("page"))
    # Client names only for those who may open clients; the others see the client number.
    sees_clients = has_perm(request, "clients.view")
    rows = [
        GrantRow(
            service=service,
            client_name=legal_name(service.client)
            if sees_clients
            else _("Client %(number)s") % {"number": service.client.client_number},
            client_url=reverse("clients:detail", args=[service.client_id]) if sees_clients else "",
            amount=services.money(service.amount),
        )
        for service in page.object_list
    ]
    context = {
        "grant": grant,
        "totals": totals,
        "budget": services.money(totals.budget),
        "spent": services.money(totals.spent),
        "remaining": services.money(max(totals.remaining, Decimal("0"))),
        "over": services.money(-totals.remaining) if totals.overspent else "",
        "period": _period(grant),
        "rows": rows,
        "page": page,
        "can_configure": has_perm(request, CONFIGURE),
    }
    return admin_render(request, "casework/grant_detail.html", context)


urlpatterns = [
    path("clients/<int:pk>/services/", service_list, name="services"),
    path("clients/<int:pk>/services/new/", service_new, name="service_new"),
    path("services/<int:pk>/edit/", service_edit, name="service_edit"),
    path("services/<int:pk>/delete/", service_delete, name="service_delete"),
    path("settings/service-types/", service_type_list, name="service_types"),
    path("settings/service-types/<int:pk>/", service_type_edit, name="service_type_edit"),
    path("settings/service-types/<int:pk>/delete/", service_type_delete, name="service_type_delete"),
    path("grants/", grant_list, name="grants"),
    path("grants/new/", grant_new, name="grant_new"),
    path("grants/<int:pk>/", grant_detail, name="grant_detail"),
    path("grants/<int:pk>/edit/", grant_edit, name="grant_edit"),
]
