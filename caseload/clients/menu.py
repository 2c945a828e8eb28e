"""What the profile's Actions menu offers: only what the user's role allows and what applies now.

``actions_menu(request, client)`` maps an entry's key to the URL of its page, for
``clients/_actions_menu.html`` (which gives each key its label and icon). An entry that is not
allowed, or does not apply to the client as they are (no Unarchive on an active client, no
Resend invite after the first log-in), is left out. The action pages check the same rules.
Another feature's entry (referral, merge) adds its key here and its line in the template.
"""

from __future__ import annotations

from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse

from caseload.clients.actions import can_resend_portal_invitation
from caseload.clients.models import Assignment, Client, Enrolment
from caseload.tenancy.access import has_perm

ASSIGN, FLAG, ARCHIVE, LINK, PORTAL, CHANGE = (
    "clients.assign",
    "clients.flag",
    "clients.archive",
    "clients.link",
    "clients.portal",
    "clients.change",
)


def actions_menu(
    request: HttpRequest, client: Client, *, assignments: list[Assignment] | None = None, enrolments: list[Enrolment] | None = None
) -> dict[str, str]:
    """The entries the user's role allows and that apply to the client now; ``assignments`` and
    ``enrolments`` (the client's, when the caller has them) save their queries."""
    if client.status == Client.Status.MERGED:
        return {}

    def url(name: str) -> str:
        return reverse(f"clients:{name}", args=[client.pk])

    entries: dict[str, str] = {}
    if has_perm(request, ASSIGN):
        if assignments is None:
            assignments = assignments_of(client)
        assigned = {assignment.staff_id for assignment in assignments}
        if request.membership.pk not in assigned:
            entries["assign_me"] = url("assign_me")
        entries["assign"] = url("assign")
        if assigned:
            entries["unassign"] = url("unassign")
    if has_perm(request, CHANGE):
        entries["enrol"] = url("enrol")
        if enrolments is None:
            enrolments = enrolments_of(client)
        if any(enrolment.end_date is None for enrolment in enrolments):
            entries["end_enrolment"] = url("end_enrolment")
    if has_perm(request, FLAG):
        entries["unflag" if client.has_safety_flag else "flag"] = url("unflag" if client.has_safety_flag else "flag")
    if has_perm(request, LINK):
        entries["cams_unlink" if client.cams_number else "cams_link"] = url("cams_unlink" if client.cams_number else "cams_link")
    if has_perm(request, PORTAL):
        if client.portal_user_id is None:
            if client.email:
                entries["portal_invite"] = url("portal_invite")
        else:
            if can_resend_portal_invitation(client):
                entries["portal_resend"] = url("portal_resend")
            entries["portal_reset"] = url("portal_reset")
    if has_perm(request, "clients.refer"):
        entries["refer"] = url("refer")
        entries["refer_outside"] = url("refer_outside")
    if has_perm(request, "casework.change"):
        # Source doc 001: a task for oneself about the client's case, or for the client.
        entries["task_new"] = reverse("casework:client_task_new", args=[client.pk])
        # Source doc 002: a referral to another program of the agency or to a service of its directory.
        entries["refer_service"] = reverse("casework:referral_new", args=[client.pk])
    if has_perm(request, "outcomes.change"):
        # Source doc 000: when service ends, the client's follow-up checkpoints (1, 3, 6, 12 months).
        entries["outcomes_place"] = reverse("outcomes:place", args=[client.pk])
    if has_perm(request, "clients.merge"):
        entries["merge"] = url("merge")
    if has_perm(request, ARCHIVE):
        if client.status == Client.Status.ACTIVE:
            entries["archive"] = url("archive")
        elif client.status == Client.Status.ARCHIVED:
            entries["unarchive"] = url("unarchive")
    return entries


def assignments_of(client: Client) -> list[Assignment]:
    """The client's staff, primary first, for the Staff card of the profile."""
    return list(
        Assignment.objects.for_agency(client.agency)
        .filter(client=client)
        .select_related("staff__user")
        .order_by("-is_primary", "assigned_at", "pk")
    )


def enrolments_of(client: Client) -> list[Enrolment]:
    """The client's enrolments, open ones first, for the Programs card of the profile."""
    return list(
        Enrolment.objects.for_agency(client.agency)
        .filter(client=client)
        .select_related("program")
        .order_by(F("end_date").desc(nulls_first=True), "-start_date", "-pk")
    )
