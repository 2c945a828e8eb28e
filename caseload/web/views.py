"""The dashboard, the agency switcher and the pages of modules still to come."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy
from django.views.decorators.http import require_POST

from caseload.tenancy.access import has_perm, member_required, perm_required
from caseload.tenancy.middleware import SESSION_KEY
from caseload.web import queries


def _greeting(hour: int) -> str:
    if hour < 12:
        return str(_("Good morning"))
    if hour < 18:
        return str(_("Good afternoon"))
    return str(_("Good evening"))


def agency_now(agency) -> datetime.datetime:
    try:
        return timezone.localtime(timezone=zoneinfo.ZoneInfo(agency.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return timezone.localtime()


def due_label(due_on: datetime.date, today: datetime.date) -> tuple[str, str]:
    """How a due date reads on the dashboard, and its badge tone."""
    late = (today - due_on).days
    if late > 0:
        return ngettext("Overdue by %(days)s day", "Overdue by %(days)s days", late) % {"days": late}, "danger"
    if late == 0:
        return str(_("Due today")), "warning"
    if late == -1:
        return str(_("Due tomorrow")), "info"
    return _("Due %(date)s") % {
        "date": formats.date_format(due_on, str(pgettext_lazy("a due date this week", "D, M j")))
    }, "neutral"


def waiting_label(since: datetime.date, today: datetime.date) -> str:
    days = (today - since).days
    if days <= 0:
        return str(_("Sent today"))
    return ngettext("Waiting %(days)s day", "Waiting %(days)s days", days) % {"days": days}


def referral_target(referral) -> str:
    if referral.to_program_id:
        return referral.to_program.name
    if referral.service_id:
        return f"{referral.service.name} — {referral.service.organisation.name}"
    return ""


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.membership is None:
        from caseload.portal.access import portal_client

        if portal_client(request.user) is not None:
            # A client (no staff membership): their home is the portal.
            return redirect("portal:home")
        # Logged in but no active membership (a former staff member, or an account nobody linked).
        return render(request, "web/no_agency.html")
    agency = request.agency
    now = agency_now(agency)
    today = now.date()
    casework = has_perm(request, "casework.view")
    summary = queries.dashboard_summary(
        request.membership,
        can_see_outbox=has_perm(request, "messages.view"),
        incoming_referrals=casework and has_perm(request, "clients.refer"),
        recent_since=queries.recent_since(now) if has_perm(request, "clients.view") else None,
    )
    can_manage = has_perm(request, "agency.manage") or has_perm(request, "staff.manage")
    setup_steps = []
    if can_manage:
        setup_steps = [
            {"done": summary.active_programs > 0, "label": _("Add your programs")},
            {"done": summary.active_staff > 1, "label": _("Add your staff")},
            {"done": agency.require_two_factor, "label": _("Require two-factor authentication for staff")},
        ]
    work = queries.casework_dashboard(
        request.membership, today=today, now=now, can=request.membership.has_perm, summary=summary
    )
    tasks = [{"task": task, "due": due_label(task.due_on, today)} for task in work.tasks.rows] if work.tasks else []
    checkpoints = None
    if has_perm(request, "outcomes.view"):
        section = queries.checkpoints_due(request.membership, today)
        checkpoints = {"section": section, "rows": [{"checkpoint": c, "due": due_label(c.due_on, today)} for c in section.rows]}
    referrals = (
        [
            {"referral": r, "target": referral_target(r), "waiting": waiting_label(r.referred_on, today)}
            for r in work.referrals.rows
        ]
        if work.referrals
        else []
    )
    return render(
        request,
        "web/dashboard.html",
        {
            "greeting": _greeting(now.hour),
            "today": today,
            "summary": summary,
            "work": work,
            "task_rows": tasks,
            "referral_rows": referrals,
            "checkpoints": checkpoints,
            "can_manage": can_manage,
            "setup_steps": setup_steps,
            "setup_done": sum(step["done"] for step in setup_steps),
            # What is still to come matters to those who set the agency up; caseworkers get on with their day.
            "upcoming": [SECTIONS[key] for key in SECTION_ORDER] if can_manage else [],
        },
    )


@perm_required("casework.view")
def my_drafts(request: HttpRequest) -> HttpResponse:
    """Everything the member started and has not finished, newest first (every draft source)."""
    count, rows = queries.drafts(request.membership, limit=MAX_LISTED)
    return render(request, "web/my_drafts.html", {"count": count, "rows": rows, "limited": count > len(rows)})


@perm_required("casework.view")
def my_reminders(request: HttpRequest) -> HttpResponse:
    """Today's reminders to the member's clients or written by the member."""
    today = agency_now(request.agency).date()
    section = queries.reminders_today(request.membership, today, limit=MAX_LISTED)
    return render(
        request, "web/my_reminders.html", {"section": section, "today": today, "limited": section.count > len(section.rows)}
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
SECTION_ORDER = ["outreach", "reports"]
# The most rows the My drafts and Reminders pages list.
MAX_LISTED = 200


@member_required
def coming_soon(request: HttpRequest, section: str) -> HttpResponse:
    return render(request, "web/coming_soon.html", {"section": SECTIONS[section]})
