"""The agency administration pages: settings, programs, funders, staff and roles.

Thin views: find the object in the request's agency (404 outside it), check the permission
(403), parse a form, call an action from ``caseload.tenancy.actions`` (which audits), render.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.tenancy import actions, queries
from caseload.tenancy.access import get_for_agency, has_perm, member_required, perm_required
from caseload.tenancy.forms import (
    AgencySettingsForm,
    FunderForm,
    MembershipForm,
    ProgramForm,
    ProgramStaffForm,
    RoleForm,
    StaffMemberForm,
)
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import PERMISSION_GROUPS, PERMISSIONS
from caseload.web.forms import add_errors
from caseload.web.tables import Column, Table, table_response

AGENCY_MANAGE = "agency.manage"
STAFF_MANAGE = "staff.manage"

# The sections of the Administration area: (url name, label, description, permission, icon).
SECTIONS = [
    ("tenancy:agency_settings", gettext_lazy("Agency settings"), gettext_lazy("Name, time zone, languages and log-in rules."), AGENCY_MANAGE, "settings"),
    ("tenancy:program_list", gettext_lazy("Programs"), gettext_lazy("The programs the agency runs, their funders and staff."), AGENCY_MANAGE, "layers"),
    ("tenancy:funder_list", gettext_lazy("Funders"), gettext_lazy("Who funds the programs and receives reports."), AGENCY_MANAGE, "briefcase"),
    ("casework:service_types", gettext_lazy("Service types"), gettext_lazy("The supportive services staff record: transportation, childcare, ..."), "casework.configure", "check-square"),
    ("casework:grants", gettext_lazy("Grants"), gettext_lazy("Funders' grants that supportive services draw on: budgets, spent and remaining."), "casework.configure", "chart"),
    ("documents:types", gettext_lazy("Document types"), gettext_lazy("The kinds of documents filed in clients' archives: resume, pay stub, ..."), "documents.configure", "file-text"),
    ("outcomes:schedules", gettext_lazy("Follow-up"), gettext_lazy("Each program's checkpoints after exit, survey and reminders."), "outcomes.configure", "calendar-check"),
    ("formbuilder:admin_forms", gettext_lazy("Forms"), gettext_lazy("The service forms, and the agency's own questions on them and on the client profile."), "forms.configure", "file-text"),
    ("tenancy:privacy_statements", gettext_lazy("Privacy statement"), gettext_lazy("What clients accept before their profile is created."), AGENCY_MANAGE, "shield"),
    ("tenancy:staff_list", gettext_lazy("Staff"), gettext_lazy("Staff members, their roles, programs and managers."), STAFF_MANAGE, "users"),
    ("tenancy:role_list", gettext_lazy("Roles"), gettext_lazy("Named sets of permissions given to staff."), STAFF_MANAGE, "key"),
    ("audit:list", gettext_lazy("Audit log"), gettext_lazy("Who saw and changed what, and when."), "audit.view", "shield"),
    ("messaging:outbox", gettext_lazy("Outbox"), gettext_lazy("Emails and text messages sent or waiting to be sent."), "messages.view", "send"),
    ("messaging:templates", gettext_lazy("Message templates"), gettext_lazy("The wording of survey emails and text messages, per language."), "messages.templates", "mail"),
]


def admin_sections(request: HttpRequest) -> list[dict[str, Any]]:
    """The Administration sections this member may open (a section whose app is not installed is left out)."""
    sections = []
    for name, label, description, permission, icon in SECTIONS:
        if not has_perm(request, permission):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        sections.append({"url": url, "label": label, "description": description, "icon": icon, "current": False})
    # The current section is the one whose address is the longest start of this page's
    # (/admin/outbox/templates/ is Message templates, not Outbox).
    matching = [section for section in sections if request.path.startswith(section["url"])]
    if matching:
        max(matching, key=lambda section: len(section["url"]))["current"] = True
    return sections


def admin_tabs(request: HttpRequest) -> list[dict[str, Any]]:
    """The sections as tabs over every Administration page."""
    return [{"url": s["url"], "label": s["label"], "current": s["current"]} for s in admin_sections(request)]


def _active_badge(row: Any) -> str:
    if row.is_active:
        return format_html('<span class="badge badge-success">{}</span>', _("Active"))
    return format_html('<span class="badge badge-neutral">{}</span>', _("Inactive"))


def _when(agency: Agency, value: datetime.datetime | None) -> str | None:
    """A moment in the agency's time zone, short."""
    if value is None:
        return None
    return formats.date_format(timezone.localtime(value, zoneinfo.ZoneInfo(agency.time_zone)), "SHORT_DATETIME_FORMAT")


def admin_render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """An Administration page: the template with the admin tabs (every app's configuration pages use it)."""
    return render(request, template, {"admin_tabs": admin_tabs(request), **context}, status=status)


def _table_page(request: HttpRequest, template: str, table: Table, **context: Any) -> HttpResponse:
    """A list page, or only its table when htmx sorts or pages it."""
    return table_response(request, template, {"admin_tabs": admin_tabs(request), "table": table, **context}, table)


def run_form(form: Form, action: Callable[[dict[str, Any]], Any]) -> Any:
    """Validate the form and run the action on its data: the action's result (a saved row), or
    None when the form or the action refuses (the errors are then on the form)."""
    if not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except ValidationError as error:
        add_errors(form, error)
        return None


def _form_page(request: HttpRequest, form: Form, *, title: str, submit_label: str, cancel_url: str, **extra: Any) -> HttpResponse:
    return admin_render(
        request,
        extra.pop("template", "tenancy/form.html"),
        {"form": form, "title": title, "submit_label": submit_label, "cancel_url": cancel_url, **extra},
    )


def _confirm_page(
    request: HttpRequest, *, title: str, text: str, label: str, cancel_url: str, error: str = "", url: str = "", danger: bool = True
) -> HttpResponse:
    """A page asking to confirm a destructive action (the dialog's fallback without JavaScript)."""
    return admin_render(
        request,
        "tenancy/confirm.html",
        {"title": title, "message": text, "submit_label": label, "cancel_url": cancel_url, "error": error, "danger": danger},
        status=400 if error else 200,
    )


def _deletion(url: str, title: str, text: str, label: str) -> dict[str, str]:
    """What the delete dialog of an edit page and the delete page (without JavaScript) say."""
    return {"url": url, "title": title, "text": text, "label": label}


def _program_deletion(program: Program) -> dict[str, str]:
    return _deletion(
        reverse("tenancy:program_delete", args=[program.pk]),
        _("Delete program “%(name)s”?") % {"name": program.name},
        _("The program is removed for good. To keep its history, deactivate it instead."),
        _("Delete program"),
    )


def _funder_deletion(funder: Funder) -> dict[str, str]:
    return _deletion(
        reverse("tenancy:funder_delete", args=[funder.pk]),
        _("Delete funder “%(name)s”?") % {"name": funder.name},
        _("The funder is removed for good and taken off every program it funds."),
        _("Delete funder"),
    )


def _role_deletion(role: Role) -> dict[str, str]:
    return _deletion(
        reverse("tenancy:role_delete", args=[role.pk]),
        _("Delete role “%(name)s”?") % {"name": role.name},
        _("The role is removed for good."),
        _("Delete role"),
    )


def _refusal(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Home and agency settings ------------------------------------------------------------------


@member_required
def home(request: HttpRequest) -> HttpResponse:
    sections = admin_sections(request)
    if not sections:
        raise PermissionDenied
    return admin_render(request, "tenancy/home.html", {"sections": sections})


@perm_required(AGENCY_MANAGE)
def agency_settings(request: HttpRequest) -> HttpResponse:
    agency = request.agency
    form = AgencySettingsForm(request.POST or None, agency=agency, instance=agency)
    if request.method == "POST" and run_form(form, lambda data: actions.update_agency(agency=agency, actor=request.user, data=data)):
        messages.success(request, _("Agency settings saved."))
        return redirect("tenancy:agency_settings")
    return _form_page(
        request, form, title=_("Agency settings"), submit_label=_("Save settings"), cancel_url=reverse("tenancy:home")
    )


# --- Programs ----------------------------------------------------------------------------------


@perm_required(AGENCY_MANAGE)
def program_list(request: HttpRequest) -> HttpResponse:
    table = Table(
        request,
        queries.programs(request.agency),
        columns=[
            Column("name", _("Name"), sort="name", link=lambda p: reverse("tenancy:program_detail", args=[p.pk])),
            Column("code", _("Code"), sort="code"),
            Column("funders", _("Funders"), value=lambda p: ", ".join(f.name for f in p.funders.all())),
            Column("staff_count", _("Staff"), sort="staff_count", numeric=True),
            Column("is_active", _("Active"), sort="is_active", value=_active_badge),
        ],
        default_sort="name",
        caption=_("Programs"),
        empty_title=_("No programs yet"),
        empty_text=_("Add the programs your agency runs; staff are then assigned to them."),
        empty_icon="layers",
    )
    return _table_page(request, "tenancy/program_list.html", table)


@perm_required(AGENCY_MANAGE)
def program_create(request: HttpRequest) -> HttpResponse:
    form = ProgramForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and run_form(
        form, lambda data: actions.create_object(Program, agency=request.agency, actor=request.user, data=data)
    ):
        messages.success(request, _("Program created."))
        return redirect("tenancy:program_list")
    return _form_page(request, form, title=_("New program"), submit_label=_("Create program"), cancel_url=reverse("tenancy:program_list"))


@member_required
def program_detail(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_for_agency(request, Program, pk=pk)
    if not (has_perm(request, AGENCY_MANAGE) or has_perm(request, STAFF_MANAGE)):
        raise PermissionDenied
    staff = list(queries.program_staff(program))
    assigned = {m.pk for m in staff}
    add_form = ProgramStaffForm(agency=request.agency)
    add_form.fields["membership"].queryset = add_form.fields["membership"].queryset.filter(is_active=True).exclude(pk__in=assigned)
    return admin_render(
        request,
        "tenancy/program_detail.html",
        {
            "program": program,
            "funders": program.funders.order_by("name"),
            "staff": staff,
            "add_form": add_form,
            "can_manage_program": has_perm(request, AGENCY_MANAGE),
            "delete": _program_deletion(program),
            "can_manage_staff": has_perm(request, STAFF_MANAGE),
        },
    )


@perm_required(AGENCY_MANAGE)
def program_edit(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_for_agency(request, Program, pk=pk)
    form = ProgramForm(request.POST or None, agency=request.agency, instance=program)
    if request.method == "POST" and run_form(form, lambda data: actions.update_object(program, actor=request.user, data=data)):
        messages.success(request, _("Program saved."))
        return redirect("tenancy:program_detail", pk=program.pk)
    return _form_page(
        request,
        form,
        title=_("Edit program “%(name)s”") % {"name": program.name},
        submit_label=_("Save program"),
        cancel_url=reverse("tenancy:program_detail", args=[program.pk]),
        delete=_program_deletion(program),
    )


@perm_required(AGENCY_MANAGE)
def program_delete(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_for_agency(request, Program, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            actions.delete_object(program, actor=request.user)
        except ValidationError as refusal:
            error = _refusal(refusal)
        else:
            messages.success(request, _("Program deleted."))
            return redirect("tenancy:program_list")
    return _confirm_page(request, **_program_deletion(program), cancel_url=reverse("tenancy:program_detail", args=[program.pk]), error=error)


def _program_staff_change(request: HttpRequest, pk: int, *, assigned: bool) -> HttpResponse:
    program = get_for_agency(request, Program, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = ProgramStaffForm(request.POST, agency=request.agency)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["membership"]))
        return redirect("tenancy:program_detail", pk=program.pk)
    membership = form.cleaned_data["membership"]
    name = membership.user.full_name or membership.user.email
    try:
        actions.set_program_staff(program, membership, actor=request.user, assigned=assigned)
    except ValidationError as refusal:
        messages.error(request, _refusal(refusal))
    else:
        if assigned:
            messages.success(request, _("%(name)s now works in this program.") % {"name": name})
        else:
            messages.success(request, _("%(name)s was taken off this program.") % {"name": name})
    return redirect("tenancy:program_detail", pk=program.pk)


@perm_required(STAFF_MANAGE)
def program_staff_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _program_staff_change(request, pk, assigned=True)


@perm_required(STAFF_MANAGE)
def program_staff_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _program_staff_change(request, pk, assigned=False)


# --- Funders -----------------------------------------------------------------------------------


@perm_required(AGENCY_MANAGE)
def funder_list(request: HttpRequest) -> HttpResponse:
    table = Table(
        request,
        queries.funders(request.agency),
        columns=[
            Column("name", _("Name"), sort="name", link=lambda f: reverse("tenancy:funder_edit", args=[f.pk])),
            Column("code", _("Code"), sort="code"),
            Column("contact_email", _("Reporting contact"), sort="contact_email"),
            Column("program_count", _("Programs"), sort="program_count", numeric=True),
            Column("is_active", _("Active"), sort="is_active", value=_active_badge),
        ],
        default_sort="name",
        caption=_("Funders"),
        empty_title=_("No funders yet"),
        empty_text=_("Add the organisations that fund your programs and receive your reports."),
        empty_icon="briefcase",
    )
    return _table_page(request, "tenancy/funder_list.html", table)


@perm_required(AGENCY_MANAGE)
def funder_create(request: HttpRequest) -> HttpResponse:
    form = FunderForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and run_form(
        form, lambda data: actions.create_object(Funder, agency=request.agency, actor=request.user, data=data)
    ):
        messages.success(request, _("Funder created."))
        return redirect("tenancy:funder_list")
    return _form_page(request, form, title=_("New funder"), submit_label=_("Create funder"), cancel_url=reverse("tenancy:funder_list"))


@perm_required(AGENCY_MANAGE)
def funder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    funder = get_for_agency(request, Funder, pk=pk)
    form = FunderForm(request.POST or None, agency=request.agency, instance=funder)
    if request.method == "POST" and run_form(form, lambda data: actions.update_object(funder, actor=request.user, data=data)):
        messages.success(request, _("Funder saved."))
        return redirect("tenancy:funder_list")
    return _form_page(
        request,
        form,
        title=_("Edit funder “%(name)s”") % {"name": funder.name},
        submit_label=_("Save funder"),
        cancel_url=reverse("tenancy:funder_list"),
        delete=_funder_deletion(funder),
    )


@perm_required(AGENCY_MANAGE)
def funder_delete(request: HttpRequest, pk: int) -> HttpResponse:
    funder = get_for_agency(request, Funder, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            actions.delete_object(funder, actor=request.user)
        except ValidationError as refusal:
            error = _refusal(refusal)
        else:
            messages.success(request, _("Funder deleted."))
            return redirect("tenancy:funder_list")
    return _confirm_page(request, **_funder_deletion(funder), cancel_url=reverse("tenancy:funder_edit", args=[funder.pk]), error=error)


# --- Staff -------------------------------------------------------------------------------------


STAFF_STATUSES = [("active", gettext_lazy("Active")), ("inactive", gettext_lazy("Inactive")), ("", gettext_lazy("All"))]


@perm_required(STAFF_MANAGE)
def staff_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "active")
    if status not in {"active", "inactive", ""}:
        status = "active"
    table = Table(
        request,
        queries.staff(request.agency, search=search, status=status),
        columns=[
            Column(
                "name",
                _("Name"),
                sort="user__full_name",
                value=lambda m: m.user.full_name or m.user.email,
                link=lambda m: reverse("tenancy:staff_edit", args=[m.pk]),
            ),
            Column("email", _("Email"), sort="user__email", value=lambda m: m.user.email),
            Column("role", _("Role"), sort="role__name", value=lambda m: m.role.name),
            Column("programs", _("Programs"), value=lambda m: ", ".join(p.name for p in m.programs.all())),
            Column(
                "manager",
                _("Manager"),
                sort="manager__user__full_name",
                value=lambda m: (m.manager.user.full_name or m.manager.user.email) if m.manager else "",
            ),
            Column("is_active", _("Active"), sort="is_active", value=_active_badge),
            Column("last_login", _("Last log-in"), sort="user__last_login", value=lambda m: _when(request.agency, m.user.last_login)),
        ],
        default_sort="name",
        caption=_("Staff"),
        empty_title=_("No staff members match"),
        empty_text=_("Try another name, or show inactive staff too."),
        empty_icon="users",
    )
    return _table_page(request, "tenancy/staff_list.html", table, search=search, status=status, statuses=STAFF_STATUSES)


@perm_required(STAFF_MANAGE)
def staff_add(request: HttpRequest) -> HttpResponse:
    form = StaffMemberForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and (
        added := run_form(form, lambda data: actions.invite_staff_member(agency=request.agency, actor=request.user, **data))
    ):
        if added.user.has_usable_password():
            messages.success(request, _("Staff member added. They can log in with their existing account."))
        else:
            messages.success(request, _("Staff member added. They will get an email to set up their account."))
        return redirect("tenancy:staff_list")
    return _form_page(request, form, title=_("Add a staff member"), submit_label=_("Add staff member"), cancel_url=reverse("tenancy:staff_list"))


@perm_required(STAFF_MANAGE)
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_agency(request, Membership.objects.for_agency(request.agency).select_related("user", "role"), pk=pk)
    form = MembershipForm(request.POST or None, agency=request.agency, instance=membership)
    if request.method == "POST" and run_form(form, lambda data: actions.update_object(membership, actor=request.user, data=data)):
        messages.success(request, _("Staff member saved."))
        return redirect("tenancy:staff_list")
    return _form_page(
        request,
        form,
        title=membership.user.full_name or membership.user.email,
        submit_label=_("Save"),
        cancel_url=reverse("tenancy:staff_list"),
        template="tenancy/staff_edit.html",
        membership=membership,
        is_self=membership.user_id == request.user.pk,
    )


@perm_required(STAFF_MANAGE)
def staff_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    membership = get_for_agency(request, Membership.objects.for_agency(request.agency).select_related("user"), pk=pk)
    name = membership.user.full_name or membership.user.email
    error = ""
    if request.method == "POST":
        try:
            actions.deactivate_membership(membership, actor=request.user)
        except ValidationError as refusal:
            error = _refusal(refusal)
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": name})
            return redirect("tenancy:staff_list")
    return _confirm_page(
        request,
        title=_("Deactivate %(name)s?") % {"name": name},
        text=_("They will no longer be able to use this agency. Their work stays on record, and you can reactivate them later."),
        label=_("Deactivate"),
        cancel_url=reverse("tenancy:staff_edit", args=[membership.pk]),
        error=error,
    )


# --- Roles -------------------------------------------------------------------------------------


def _permission_summary(role: Role) -> str:
    groups = []
    for prefix, label in PERMISSION_GROUPS.items():
        if any(code.startswith(prefix + ".") for code in role.permissions):
            groups.append(str(label))
    return ", ".join(groups)


@perm_required(STAFF_MANAGE)
def role_list(request: HttpRequest) -> HttpResponse:
    table = Table(
        request,
        queries.roles(request.agency),
        columns=[
            Column("name", _("Name"), sort="name", link=lambda r: reverse("tenancy:role_edit", args=[r.pk])),
            Column("permissions", _("Permissions"), value=lambda r: _("%(count)s of %(total)s") % {"count": len(r.permissions), "total": len(PERMISSIONS)}),
            Column("areas", _("Areas"), value=_permission_summary),
            Column("staff_count", _("Staff"), sort="staff_count", numeric=True),
            Column("is_seeded", _("Built in"), sort="is_seeded"),
        ],
        default_sort="name",
        caption=_("Roles"),
    )
    return _table_page(request, "tenancy/role_list.html", table)


@perm_required(STAFF_MANAGE)
def role_create(request: HttpRequest) -> HttpResponse:
    form = RoleForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and run_form(form, lambda data: actions.create_object(Role, agency=request.agency, actor=request.user, data=data)):
        messages.success(request, _("Role created."))
        return redirect("tenancy:role_list")
    return _form_page(
        request, form, title=_("New role"), submit_label=_("Create role"), cancel_url=reverse("tenancy:role_list"), template="tenancy/role_form.html"
    )


@perm_required(STAFF_MANAGE)
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_for_agency(request, Role, pk=pk)
    form = RoleForm(request.POST or None, agency=request.agency, instance=role)
    if request.method == "POST" and run_form(form, lambda data: actions.update_object(role, actor=request.user, data=data)):
        messages.success(request, _("Role saved."))
        return redirect("tenancy:role_list")
    return _form_page(
        request,
        form,
        title=_("Edit role “%(name)s”") % {"name": role.name},
        submit_label=_("Save role"),
        cancel_url=reverse("tenancy:role_list"),
        template="tenancy/role_form.html",
        role=role,
        delete=None if role.is_seeded else _role_deletion(role),
    )


@perm_required(STAFF_MANAGE)
def role_delete(request: HttpRequest, pk: int) -> HttpResponse:
    role = get_for_agency(request, Role, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            actions.delete_object(role, actor=request.user)
        except ValidationError as refusal:
            error = _refusal(refusal)
        else:
            messages.success(request, _("Role deleted."))
            return redirect("tenancy:role_list")
    return _confirm_page(request, **_role_deletion(role), cancel_url=reverse("tenancy:role_edit", args=[role.pk]), error=error)
