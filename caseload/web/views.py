"""The dashboard, the agency switcher and the pages of modules still to come."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from caseload.tenancy.access import has_perm, member_required
from caseload.tenancy.middleware import SESSION_KEY
from caseload.web import queries


def _greeting(hour: int) -> str:
    if hour < 12:
        return str(_("Good morning"))
    if hour < 18:
        return str(_("Good afternoon"))
    return str(_("Good evening"))


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.membership is None:
        # Logged in but no active membership (a former staff member, or a client before the portal).
        return render(request, "web/no_agency.html")
    agency = request.agency
    try:
        now = timezone.localtime(timezone=zoneinfo.ZoneInfo(agency.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        now = timezone.localtime()
    summary = queries.dashboard_summary(request.membership, can_see_outbox=has_perm(request, "messages.view"))
    can_manage = has_perm(request, "agency.manage") or has_perm(request, "staff.manage")
    setup_steps = []
    if can_manage:
        setup_steps = [
            {"done": summary.active_programs > 0, "label": _("Add your programs")},
            {"done": summary.active_staff > 1, "label": _("Add your staff")},
            {"done": agency.require_two_factor, "label": _("Require two-factor authentication for staff")},
        ]
    return render(
        request,
        "web/dashboard.html",
        {
            "greeting": _greeting(now.hour),
            "today": now.date(),
            "summary": summary,
            "can_manage": can_manage,
            "setup_steps": setup_steps,
            "setup_done": sum(step["done"] for step in setup_steps),
            "upcoming": [SECTIONS[key] for key in SECTION_ORDER],
        },
    )


@require_POST
@login_required
def switch_agency(request: HttpRequest) -> HttpResponse:
    wanted = request.POST.get("agency", "")
    membership = next((m for m in request.memberships if str(m.agency_id) == wanted), None)
    if membership is None:
        # Not a member (or not active): the same answer as an agency that does not exist.
        raise Http404
    request.session[SESSION_KEY] = membership.agency_id
    messages.success(request, _("You are now working in %(agency)s.") % {"agency": membership.agency.name})
    # Back to the dashboard, not the previous page: it may show an object of the other agency.
    return redirect("web:dashboard")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    icon: str
    lead: str
    features: tuple[str, ...]


SECTIONS: dict[str, Section] = {
    "sessions": Section(
        "sessions",
        pgettext_lazy("service sessions, not log-in sessions", "Sessions"),
        "calendar",
        _("Record every service you give, one to one or in groups."),
        (
            _("Direct and group sessions with attendance"),
            _("Service records against your programs and funders"),
            _("Language training and settlement plans"),
        ),
    ),
    "tasks": Section(
        "tasks",
        _("Tasks"),
        "check-square",
        _("Follow-ups, referrals and reminders, so nothing falls through the cracks."),
        (
            _("Tasks assigned to you and your team, with due dates"),
            _("Referrals to partner agencies, tracked to the outcome"),
            _("Reminders to clients by email and SMS"),
        ),
    ),
    "outreach": Section(
        "outreach",
        _("Outreach"),
        "megaphone",
        _("Contacts, outreach issues and the field app."),
        (
            _("Log outreach issues from a phone, even offline"),
            _("Contact lists and email threads"),
            _("Follow each issue to its resolution"),
        ),
    ),
    "reports": Section(
        "reports",
        _("Reports"),
        "chart",
        _("Reports for your managers and your funders."),
        (
            _("Standard reports and charts on services and outcomes"),
            _("Funder exports such as IRCC iCARE and HMIS CSV"),
            _("Exports to spreadsheets, every one of them audited"),
        ),
    ),
}
SECTION_ORDER = ["sessions", "tasks", "outreach", "reports"]


@member_required
def coming_soon(request: HttpRequest, section: str) -> HttpResponse:
    return render(request, "web/coming_soon.html", {"section": SECTIONS[section]})
