"""The referral directory pages: organisations, their services, locations and contacts; HSDS export and import.

Thin views: anyone with ``casework.view`` reads the directory (it is what referrals are made to);
managing it needs ``casework.configure``. Rows come from the request's agency only (404 outside
it). Writes call ``caseload.casework.directory`` (and ``hsds`` for the import).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import Action, record
from caseload.casework import directory, hsds
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService
from caseload.casework.referral_forms import ContactForm, ImportForm, LocationForm, OrganisationForm, ServiceForm
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors

VIEW, CONFIGURE = "casework.view", "casework.configure"
PER_PAGE = 20
MAX_QUERY = 200


# --- Reading -------------------------------------------------------------------------------------


@perm_required(VIEW)
def directory_list(request: HttpRequest) -> HttpResponse:
    can_configure = has_perm(request, CONFIGURE)
    search = request.GET.get("q", "").strip()[:MAX_QUERY]
    include_inactive = can_configure and request.GET.get("inactive") == "1"
    services = DirectoryService.objects.for_agency(request.agency).order_by("name")
    if not include_inactive:
        services = services.filter(is_active=True)
    organisations = directory.search_organisations(request.agency, search, include_inactive=include_inactive).prefetch_related(
        Prefetch("services", queryset=services, to_attr="listed_services"),
        Prefetch(
            "locations",
            queryset=DirectoryLocation.objects.for_agency(request.agency).filter(is_active=True).order_by("name"),
            to_attr="listed_locations",
        ),
    )
    page = Paginator(organisations, PER_PAGE).get_page(request.GET.get("page"))
    for organisation in page.object_list:
        organisation.places = list(dict.fromkeys(location.city or location.name for location in organisation.listed_locations))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "search": search,
        "include_inactive": include_inactive,
        "page": page,
        "page_query": query.urlencode(),
        "can_configure": can_configure,
        "total": page.paginator.count,
    }
    return render(request, "casework/directory.html", context)


def _organisation(request: HttpRequest, pk: int) -> DirectoryOrganisation:
    return get_for_agency(request, DirectoryOrganisation, pk=pk)


@perm_required(VIEW)
def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    agency = request.agency
    context = {
        "organisation": organisation,
        "services": DirectoryService.objects.for_agency(agency)
        .filter(organisation=organisation)
        .prefetch_related("locations")
        .order_by("-is_active", "name"),
        "locations": DirectoryLocation.objects.for_agency(agency)
        .filter(organisation=organisation)
        .prefetch_related("services")
        .order_by("-is_active", "name"),
        "contacts": DirectoryContact.objects.for_agency(agency)
        .filter(organisation=organisation)
        .select_related("service")
        .order_by("-is_active", "name"),
        "can_configure": has_perm(request, CONFIGURE),
    }
    return render(request, "casework/directory_org.html", context)


# --- Managing ------------------------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    *,
    form_class,
    title: str,
    icon: str,
    save,
    done: str,
    back: str,
    organisation: DirectoryOrganisation | None = None,
    row: Any = None,
) -> HttpResponse:
    """A directory form page: GET shows it, a valid POST calls ``save(data)`` and goes back to the organisation."""
    form = form_class(request.POST if request.method == "POST" else None, row=row, organisation=organisation)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved = save(form.data_for_action())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, done)
                target = saved if isinstance(saved, DirectoryOrganisation) else saved.organisation
                return redirect("casework:directory_org", pk=target.pk)
        status = 400
    context = {"form": form, "title": title, "icon": icon, "cancel_url": back, "organisation": organisation, "row": row}
    return render(request, "casework/directory_form.html", context, status=status)


@perm_required(CONFIGURE)
def organisation_new(request: HttpRequest) -> HttpResponse:
    return _form_page(
        request,
        form_class=OrganisationForm,
        title=_("Add an organisation"),
        icon="building",
        save=lambda data: directory.create_organisation(request.agency, request.user, data),
        done=_("Organisation added. Add its services, locations and contacts."),
        back=reverse("casework:directory"),
    )


@perm_required(CONFIGURE)
def organisation_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    return _form_page(
        request,
        form_class=OrganisationForm,
        title=_("Edit %(name)s") % {"name": organisation.name},
        icon="building",
        save=lambda data: directory.update_organisation(organisation, request.user, data),
        done=_("Organisation saved."),
        back=reverse("casework:directory_org", args=[organisation.pk]),
        row=organisation,
    )


@perm_required(CONFIGURE)
def service_new(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    return _form_page(
        request,
        form_class=ServiceForm,
        title=_("Add a service of %(name)s") % {"name": organisation.name},
        icon="layers",
        save=lambda data: directory.create_service(organisation, request.user, data),
        done=_("Service added."),
        back=reverse("casework:directory_org", args=[organisation.pk]),
        organisation=organisation,
    )


@perm_required(CONFIGURE)
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_for_agency(request, DirectoryService.objects.for_agency(request.agency).select_related("organisation"), pk=pk)
    return _form_page(
        request,
        form_class=ServiceForm,
        title=_("Edit %(name)s") % {"name": service.name},
        icon="layers",
        save=lambda data: directory.update_service(service, request.user, data),
        done=_("Service saved."),
        back=reverse("casework:directory_org", args=[service.organisation_id]),
        organisation=service.organisation,
        row=service,
    )


@perm_required(CONFIGURE)
def location_new(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    return _form_page(
        request,
        form_class=LocationForm,
        title=_("Add a location of %(name)s") % {"name": organisation.name},
        icon="compass",
        save=lambda data: directory.create_location(organisation, request.user, data),
        done=_("Location added."),
        back=reverse("casework:directory_org", args=[organisation.pk]),
        organisation=organisation,
    )


@perm_required(CONFIGURE)
def location_edit(request: HttpRequest, pk: int) -> HttpResponse:
    location = get_for_agency(request, DirectoryLocation.objects.for_agency(request.agency).select_related("organisation"), pk=pk)
    return _form_page(
        request,
        form_class=LocationForm,
        title=_("Edit %(name)s") % {"name": location.name},
        icon="compass",
        save=lambda data: directory.update_location(location, request.user, data),
        done=_("Location saved."),
        back=reverse("casework:directory_org", args=[location.organisation_id]),
        organisation=location.organisation,
        row=location,
    )


@perm_required(CONFIGURE)
def contact_new(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = _organisation(request, pk)
    return _form_page(
        request,
        form_class=ContactForm,
        title=_("Add a contact at %(name)s") % {"name": organisation.name},
        icon="user",
        save=lambda data: directory.create_contact(organisation, request.user, data),
        done=_("Contact added."),
        back=reverse("casework:directory_org", args=[organisation.pk]),
        organisation=organisation,
    )


@perm_required(CONFIGURE)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_for_agency(request, DirectoryContact.objects.for_agency(request.agency).select_related("organisation"), pk=pk)
    return _form_page(
        request,
        form_class=ContactForm,
        title=_("Edit %(name)s") % {"name": contact.name},
        icon="user",
        save=lambda data: directory.update_contact(contact, request.user, data),
        done=_("Contact saved."),
        back=reverse("casework:directory_org", args=[contact.organisation_id]),
        organisation=contact.organisation,
        row=contact,
    )


# --- HSDS ----------------------------------------------------------------------------------------


@perm_required(VIEW)
def directory_export(request: HttpRequest) -> HttpResponse:
    body = hsds.export_json(request.agency)
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.EXPORT,
        object_type="casework.directory",
        object_repr=str(_("Referral directory (HSDS)")),
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"directory-{request.agency.slug}-{timezone.localdate().isoformat()}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


TABLE_LABELS = {
    "organizations": gettext_lazy("organisations"),
    "services": gettext_lazy("services"),
    "locations": gettext_lazy("locations"),
    "contacts": gettext_lazy("contacts"),
}


def _summary_text(summary: hsds.ImportSummary) -> str:
    parts = []
    for table, label in TABLE_LABELS.items():
        created, updated, unchanged = summary.created[table], summary.updated[table], summary.unchanged[table]
        if created or updated or unchanged:
            parts.append(
                _("%(label)s: %(created)s new, %(updated)s changed, %(unchanged)s unchanged")
                % {"label": label, "created": created, "updated": updated, "unchanged": unchanged}
            )
    return "; ".join(parts)


@perm_required(CONFIGURE)
def directory_import(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    problems: list[hsds.ItemError] = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > hsds.MAX_BYTES:
                    raise ValidationError(
                        {"file": _("The file is too large (at most %(mb)s MB).") % {"mb": hsds.MAX_BYTES // (1024 * 1024)}}
                    )
                payload = hsds.parse_file(upload.read(hsds.MAX_BYTES + 1))
                summary = hsds.import_directory(request.agency, request.user, payload)
            except hsds.DirectoryImportError as error:
                problems = error.items
                add_errors(form, error)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Directory imported. %(summary)s.") % {"summary": _summary_text(summary)})
                return redirect("casework:directory")
        status = 400
    return render(
        request,
        "casework/directory_import.html",
        {"form": form, "problems": problems[:500], "problem_count": len(problems)},
        status=status,
    )


urlpatterns = [
    path("directory/", directory_list, name="directory"),
    path("directory/new/", organisation_new, name="directory_org_new"),
    path("directory/hsds.json", directory_export, name="directory_export"),
    path("directory/import/", directory_import, name="directory_import"),
    path("directory/<int:pk>/", organisation_detail, name="directory_org"),
    path("directory/<int:pk>/edit/", organisation_edit, name="directory_org_edit"),
    path("directory/<int:pk>/services/new/", service_new, name="directory_service_new"),
    path("directory/services/<int:pk>/edit/", service_edit, name="directory_service_edit"),
    path("directory/<int:pk>/locations/new/", location_new, name="directory_location_new"),
    path("directory/locations/<int:pk>/edit/", location_edit, name="directory_location_edit"),
    path("directory/<int:pk>/contacts/new/", contact_new, name="directory_contact_new"),
    path("directory/contacts/<int:pk>/edit/", contact_edit, name="directory_contact_edit"),
]
