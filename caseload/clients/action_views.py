"""The pages behind the profile's Actions menu: one small form per action, in the client's frame.

Thin views: the permission first (403), then the client of the request's agency (404 outside it),
then the form; a POST calls the action of ``caseload.clients.actions`` (one transaction, audited)
and goes back to the profile with a message. An action that does not apply to the client as they
are now is not in the menu, and its page sends back to the profile saying why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.clients import actions
from caseload.clients.action_forms import (
    AssignForm,
    CamsForm,
    ClientActionForm,
    ConfirmForm,
    EndEnrolmentForm,
    EnrolForm,
    FlagForm,
    UnassignForm,
    UnflagForm,
)
from caseload.clients.menu import ARCHIVE, ASSIGN, CHANGE, FLAG, LINK, PORTAL, actions_menu
from caseload.clients.models import Client
from caseload.clients.views import client_frame, legal_name
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.web.forms import add_errors


@dataclass(frozen=True)
class ClientAction:
    """One entry of the Actions menu: its page's words, its form, and what a valid POST does."""

    key: str
    title: Any
    icon: str
    submit_label: Any
    run: Callable[[HttpRequest, Client, dict[str, Any]], Any]
    done: Callable[[Client, Any], str]
    form: type[ClientActionForm] = ConfirmForm
    text: Callable[[Client], str] = field(default=lambda client: "")
    danger: bool = False


def _back(client: Client) -> HttpResponse:
    return redirect("clients:detail", pk=client.pk)


def _action_page(request: HttpRequest, pk: int, action: ClientAction) -> HttpResponse:
    client = get_for_agency(request, Client, pk=pk)
    if action.key not in actions_menu(request, client):
        messages.info(request, _("“%(action)s” does not apply to this client now.") % {"action": action.title})
        return _back(client)
    form = action.form(request.POST if request.method == "POST" else None, client=client)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = action.run(request, client, form.cleaned_data)
            except actions.NotApplicable as refusal:
                messages.error(request, str(refusal))
                return _back(client)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, action.done(client, result))
                return _back(client)
        status = 400
    context = {
        # No tab is current: an action's page is none of them.
        **client_frame(request, client, active=""),
        "client_action": action,
        "title": action.title,
        "text": action.text(client),
        "form": form,
        "cancel_url": reverse("clients:detail", args=[client.pk]),
    }
    return render(request, "clients/action_page.html", context, status=status)


def _action_view(perm: str, action: ClientAction) -> Callable[..., HttpResponse]:
    """The view of one Actions menu entry: ``perm`` required, then :func:`_action_page`."""

    def view(request: HttpRequest, pk: int) -> HttpResponse:
        return _action_page(request, pk, action)

    view.__name__ = view.__qualname__ = action.key
    return perm_required(perm)(view)


def _name(client: Client) -> str:
    return legal_name(client)


# --- Staff -------------------------------------------------------------------------------------

ASSIGN_ACTION = ClientAction(
    key="assign",
    title=gettext_lazy("Assign staff"),
    icon="users",
    submit_label=gettext_lazy("Assign"),
    form=AssignForm,
    text=lambda c: (
        _("Choose a staff member of your agency to work with %(name)s. A client can have several; one is primary.")
        % {"name": _name(c)}
    ),
    run=lambda request, client, data: actions.assign_staff(
        client, request.user, data["staff"], primary=data["is_primary"], replaces=data.get("replaces")
    ),
    done=lambda client, a: (
        (_("%(staff)s is now the primary staff member.") if a.is_primary else _("%(staff)s is now assigned to this client."))
        % {"staff": actions.staff_name(a.staff)}
    ),
)

ASSIGN_ME_ACTION = ClientAction(
    key="assign_me",
    title=gettext_lazy("Assign to me"),
    icon="user",
    submit_label=gettext_lazy("Assign to me"),
    text=lambda c: _("Add yourself to the staff working with %(name)s.") % {"name": _name(c)},
    run=lambda request, client, data: actions.assign_staff(client, request.user, request.membership),
    done=lambda client, a: (
        _("You are now the primary staff member.") if a.is_primary else _("You are now assigned to this client.")
    ),
)

UNASSIGN_ACTION = ClientAction(
    key="unassign",
    title=gettext_lazy("Remove a staff member"),
    icon="x",
    submit_label=gettext_lazy("Remove"),
    form=UnassignForm,
    text=lambda c: _("When the primary staff member is removed, whoever has worked with the client longest becomes primary."),
    run=lambda request, client, data: actions.unassign_staff(client, request.user, data["staff"]) or data["staff"],
    done=lambda client, staff: _("%(staff)s no longer works with this client.") % {"staff": actions.staff_name(staff)},
    danger=True,
)


assign = _action_view(ASSIGN, ASSIGN_ACTION)
assign_me = _action_view(ASSIGN, ASSIGN_ME_ACTION)
unassign = _action_view(ASSIGN, UNASSIGN_ACTION)


# --- Safety flag -------------------------------------------------------------------------------

FLAG_ACTION = ClientAction(
    key="flag",
    title=gettext_lazy("Add a safety flag"),
    icon="alert-triangle",
    submit_label=gettext_lazy("Add safety flag"),
    form=FlagForm,
    text=lambda c: (
        _("Staff will see a warning with this reason on every page about %(name)s. The client never sees it.")
        % {"name": _name(c)}
    ),
    run=lambda request, client, data: actions.flag_client(client, request.user, data["reason"]),
    done=lambda client, flag: _("Safety flag added. Staff see it on every page about this client."),
    danger=True,
)

UNFLAG_ACTION = ClientAction(
    key="unflag",
    title=gettext_lazy("Remove the safety flag"),
    icon="check-circle",
    submit_label=gettext_lazy("Remove safety flag"),
    form=UnflagForm,
    text=lambda c: _("The flag and why it was removed stay in the client's history."),
    run=lambda request, client, data: actions.unflag_client(client, request.user, data["reason"]),
    done=lambda client, flag: _("Safety flag removed."),
)


flag = _action_view(FLAG, FLAG_ACTION)
unflag = _action_view(FLAG, UNFLAG_ACTION)


# --- Archive -----------------------------------------------------------------------------------

ARCHIVE_ACTION = ClientAction(
    key="archive",
    title=gettext_lazy("Archive this client"),
    icon="inbox",
    submit_label=gettext_lazy("Archive"),
    text=lambda c: (
        _(
            "%(name)s leaves the list of active clients; nothing is deleted. The Archived filter of the client list finds them, "
            "and they can be brought back at any time."
        )
        % {"name": _name(c)}
    ),
    run=lambda request, client, data: actions.archive_client(client, request.user),
    done=lambda client, result: _("Client archived."),
    danger=True,
)

UNARCHIVE_ACTION = ClientAction(
    key="unarchive",
    title=gettext_lazy("Unarchive this client"),
    icon="arrow-up",
    submit_label=gettext_lazy("Unarchive"),
    text=lambda c: _("%(name)s comes back to the list of active clients.") % {"name": _name(c)},
    run=lambda request, client, data: actions.unarchive_client(client, request.user),
    done=lambda client, result: _("Client unarchived: back in the active list."),
)


archive = _action_view(ARCHIVE, ARCHIVE_ACTION)
unarchive = _action_view(ARCHIVE, UNARCHIVE_ACTION)


# --- CaMS --------------------------------------------------------------------------------------

CAMS_LINK_ACTION = ClientAction(
    key="cams_link",
    title=gettext_lazy("Link to CaMS"),
    icon="plug",
    submit_label=gettext_lazy("Link"),
    form=CamsForm,
    text=lambda c: (
        _("Record the number of %(name)s's file in CaMS, the Employment Ontario case management system.") % {"name": _name(c)}
    ),
    run=lambda request, client, data: actions.link_cams(client, request.user, data["cams_number"]),
    done=lambda client, result: _("Linked to CaMS record %(number)s.") % {"number": client.cams_number},
)

CAMS_UNLINK_ACTION = ClientAction(
    key="cams_unlink",
    title=gettext_lazy("Unlink from CaMS"),
    icon="x",
    submit_label=gettext_lazy("Unlink"),
    text=lambda c: (
        _("The link to CaMS record %(number)s is removed from this client. The CaMS record itself does not change.")
        % {"number": c.cams_number}
    ),
    run=lambda request, client, data: actions.unlink_cams(client, request.user),
    done=lambda client, result: _("Unlinked from CaMS."),
    danger=True,
)


cams_link = _action_view(LINK, CAMS_LINK_ACTION)
cams_unlink = _action_view(LINK, CAMS_UNLINK_ACTION)


# --- Portal account ----------------------------------------------------------------------------

PORTAL_INVITE_ACTION = ClientAction(
    key="portal_invite",
    title=gettext_lazy("Invite to the portal"),
    icon="send",
    submit_label=gettext_lazy("Send invitation"),
    text=lambda c: (
        _("An invitation is emailed to %(email)s with a link to choose a password and log in to the client portal.")
        % {"email": c.email}
    ),
    run=lambda request, client, data: actions.invite_to_portal(client, request.user),
    done=lambda client, user: _("Portal invitation sent to %(email)s.") % {"email": user.email},
)

PORTAL_RESEND_ACTION = ClientAction(
    key="portal_resend",
    title=gettext_lazy("Resend portal invite"),
    icon="send",
    submit_label=gettext_lazy("Resend invitation"),
    text=lambda c: (
        _("The client has not logged in yet. A new invitation link is emailed to %(email)s.") % {"email": c.portal_user.email}
    ),
    run=lambda request, client, data: actions.resend_portal_invitation(client, request.user),
    done=lambda client, user: _("Portal invitation sent again to %(email)s.") % {"email": user.email},
)

PORTAL_RESET_ACTION = ClientAction(
    key="portal_reset",
    title=gettext_lazy("Send password reset"),
    icon="key",
    submit_label=gettext_lazy("Send password reset"),
    text=lambda c: _("A link to choose a new portal password is emailed to %(email)s.") % {"email": c.portal_user.email},
    run=lambda request, client, data: actions.send_portal_password_reset(client, request.user),
    done=lambda client, user: _("Password reset link sent to %(email)s.") % {"email": user.email},
)


portal_invite = _action_view(PORTAL, PORTAL_INVITE_ACTION)
portal_resend = _action_view(PORTAL, PORTAL_RESEND_ACTION)
portal_reset = _action_view(PORTAL, PORTAL_RESET_ACTION)


# --- Enrolments --------------------------------------------------------------------------------

ENROL_ACTION = ClientAction(
    key="enrol",
    title=gettext_lazy("Enrol in a program"),
    icon="layers",
    submit_label=gettext_lazy("Enrol"),
    form=EnrolForm,
    text=lambda c: _("Enrol %(name)s in one of your agency's programs.") % {"name": _name(c)},
    run=lambda request, client, data: actions.enrol_client(client, request.user, data["program"], data["start_date"]),
    done=lambda client, enrolment: _("Enrolled in %(program)s.") % {"program": enrolment.program.name},
)

END_ENROLMENT_ACTION = ClientAction(
    key="end_enrolment",
    title=gettext_lazy("End an enrolment"),
    icon="calendar-check",
    submit_label=gettext_lazy("End enrolment"),
    form=EndEnrolmentForm,
    text=lambda c: _("The enrolment ends on the date you give; it stays in the client's history."),
    run=lambda request, client, data: actions.end_enrolment(data["enrolment"], request.user, data["end_date"]),
    done=lambda client, enrolment: _("Enrolment in %(program)s ended.") % {"program": enrolment.program.name},
)


enrol = _action_view(CHANGE, ENROL_ACTION)
end_enrolment = _action_view(CHANGE, END_ENROLMENT_ACTION)
