"""The Communications and Notifications tabs of a client's profile, and the communication forms.

Thin views: ``casework.view`` to read, ``casework.change`` to write (403 otherwise); clients and
communications come from the request's agency only (404 outside it). Writes call
``caseload.casework.communications``. A merged profile is read-only: its records moved to the
profile it was merged into.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import Action, record
from caseload.casework import communications
from caseload.casework.communication_forms import CommunicationForm, initial_for
from caseload.casework.models import Communication
from caseload.casework.pages import client_for, is_merged, record_for, refuse_merged
from caseload.casework.records import visible
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.access import has_perm, perm_required
from caseload.web.forms import add_errors
from caseload.web.tables import Column, Table, table_response
from caseload.web.templatetags.ui import icon

VIEW, CHANGE = "casework.view", "casework.change"
PER_PAGE = 25
TAB_URL = "casework:communications"

Kind = Communication.Kind
Status = Communication.Status

KIND_ICONS = {
    Kind.PHONE: "user",
    Kind.EMAIL: "mail",
    Kind.SMS: "send",
    Kind.IN_PERSON: "users",
    Kind.VIDEO: "globe",
    Kind.LETTER: "file-text",
    Kind.REMINDER: "clock",
}
CHANNEL_PHRASES = {communications.EMAIL: gettext_lazy("email"), communications.SMS: gettext_lazy("text message")}
STATUS_BADGES = {
    Status.SCHEDULED: "badge-info",
    Status.SENDING: "badge-info",
    Status.SENT: "badge-success",
    Status.FAILED: "badge-danger",
    Status.CANCELLED: "badge-neutral",
}


def _client(request: HttpRequest, pk: int) -> Client:
    return client_for(request, pk, "portal_user", "merged_into")


def _communication(request: HttpRequest, pk: int) -> Communication:
    return record_for(request, Communication, pk, "client__portal_user", "client__merged_into")


def _tab(client: Client) -> HttpResponse:
    return redirect(TAB_URL, pk=client.pk)


def _refuse_merged(request: HttpRequest, client: Client) -> HttpResponse:
    return refuse_merged(
        request, client, _("This profile was merged into another one: its communications are on that profile."), TAB_URL
    )


# --- The Communications tab ----------------------------------------------------------------------


@dataclass
class Item:
    communication: Communication
    icon: str
    status_badge: str
    channel: str
    edit_url: str
    delete_url: str


@perm_required(VIEW)
def communication_list(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    rows = (
        visible(Communication.objects.for_agency(request.agency), request.membership)
        .filter(client=client)
        .select_related("author__user", "program")
        .order_by("-date", "-created_at", "-pk")
    )
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    writable = has_perm(request, CHANGE) and not is_merged(client)
    items = []
    for communication in page.object_list:
        editable = writable and communications.can_edit(communication)
        items.append(
            Item(
                communication=communication,
                icon=KIND_ICONS.get(communication.kind, "inbox"),
                status_badge=STATUS_BADGES.get(communication.status, ""),
                channel=CHANNEL_PHRASES.get(communication.channel, ""),
                edit_url=reverse("casework:communication_edit", args=[communication.pk]) if editable else "",
                delete_url=reverse("casework:communication_delete", args=[communication.pk]) if writable else "",
            )
        )
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=client,
        client_id=client.pk,
        changes={"tab": "communications"},
    )
    context = {
        **client_frame(request, client, "communications"),
        "page": page,
        "items": items,
        "new_url": reverse("casework:communication_new", args=[client.pk]) if writable else "",
        "reminder_refusal": communications.reminder_refusal(client),
        "agency_tz": request.agency.time_zone,
    }
    return render(request, "casework/communications.html", context)


def _form_page(
    request: HttpRequest, client: Client, form: CommunicationForm, *, communication: Communication | None, status: int
) -> HttpResponse:
    context = {
        **client_frame(request, client, "communications"),
        "form": form,
        "communication": communication,
        "title": _("Edit communication") if communication else _("New communication"),
        "cancel_url": reverse("casework:communications", args=[client.pk]),
    }
    return render(request, "casework/communication_form.html", context, status=status)


def _saved_message(communication: Communication) -> str:
    if communication.kind == Kind.REMINDER:
        return _("Reminder scheduled: it goes to the client on %(date)s.") % {
            "date": formats.date_format(communication.date, "DATE_FORMAT")
        }
    return _("Communication saved.")


@perm_required(CHANGE)
def communication_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    if is_merged(client):
        return refuse_merged(
            request, client, _("This profile was merged into another one: record communications on that profile."), TAB_URL
        )
    form = CommunicationForm(request.POST if request.method == "POST" else None, client=client)
    if request.method == "POST":
        if form.is_valid():
            try:
                communication = communications.record_communication(client, request.user, form.data_for_action())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _saved_message(communication))
                return _tab(client)
        return _form_page(request, client, form, communication=None, status=400)
    return _form_page(request, client, form, communication=None, status=200)


@perm_required(CHANGE)
def communication_edit(request: HttpRequest, pk: int) -> HttpResponse:
    communication = _communication(request, pk)
    client = communication.client
    if is_merged(client):
        return _refuse_merged(request, client)
    if not communications.can_edit(communication):
        messages.info(request, _("This reminder was sent to the client: it can no longer be changed."))
        return _tab(client)
    form = CommunicationForm(
        request.POST if request.method == "POST" else None, client=client, initial=initial_for(communication)
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                communication = communications.update_communication(communication, request.user, form.data_for_action())
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _saved_message(communication))
                return _tab(client)
        return _form_page(request, client, form, communication=communication, status=400)
    return _form_page(request, client, form, communication=communication, status=200)


def delete_warning(communication: Communication) -> str:
    """What deleting does to the client's side, said on the confirm page."""
    if communication.kind != Kind.REMINDER:
        return _("The record is removed from the client's file. An administrator can still see it was deleted in the audit log.")
    if communication.status == Status.SCHEDULED:
        return _("The reminder is cancelled: it will not be sent to the client.")
    if communication.status in (Status.SENT, Status.SENDING):
        return _(
            "This reminder was already sent. Deleting the record does not pull it back: the client keeps the email or text "
            "message they received, and it stays in their notification log. It no longer shows in their portal."
        )
    return _("The reminder was not sent. Deleting it removes it from the client's file.")


@perm_required(CHANGE)
def communication_delete(request: HttpRequest, pk: int) -> HttpResponse:
    communication = _communication(request, pk)
    client = communication.client
    if is_merged(client):
        return _refuse_merged(request, client)
    if request.method == "POST":
        try:
            communications.delete_communication(communication, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Communication deleted."))
        return _tab(client)
    context = {
        **client_frame(request, client, "communications"),
        "communication": communication,
        "warning": delete_warning(communication),
        "cancel_url": reverse("casework:communications", args=[client.pk]),
    }
    return render(request, "casework/communication_delete.html", context)


# --- The Notifications tab -----------------------------------------------------------------------

MESSAGE_KINDS = {
    "reminder": gettext_lazy("Reminder"),
    "portal_invitation": gettext_lazy("Portal invitation"),
    "password_reset": gettext_lazy("Password reset"),
    "task_reminder": gettext_lazy("Task reminder"),
    "referral_reminder": gettext_lazy("Referral reminder"),
}
MESSAGE_BADGES = {
    OutboundMessage.Status.QUEUED: "badge-info",
    OutboundMessage.Status.SENDING: "badge-info",
    OutboundMessage.Status.FAILED: "badge-danger",
    OutboundMessage.Status.UNCERTAIN: "badge-warning",
    OutboundMessage.Status.CANCELLED: "badge-neutral",
}


def _local(moment: datetime, tz: zoneinfo.ZoneInfo | None) -> str:
    return formats.date_format(timezone.localtime(moment, tz), "DATETIME_FORMAT")


def message_text(message: OutboundMessage) -> str:
    """The subject (an SMS has none: the start of its text); never the text of a sensitive message."""
    about = MESSAGE_KINDS.get(message.kind, "")
    if message.subject:
        text = message.subject
    elif message.sensitive:
        text = _("Contents hidden: it carries a sign-in link or code")
    else:
        text = Truncator(" ".join(message.body.split())).chars(120)
    if about:
        return format_html('{}<span class="comm-log-kind">{}</span>', text, about)
    return text


def message_status(message: OutboundMessage) -> str:
    """A check mark when sent ("Delivered" once the provider confirmed it); a badge otherwise."""
    if message.status == OutboundMessage.Status.SENT:
        if message.delivered_at:
            return format_html('<span class="comm-log-check is-delivered">{}{}</span>', icon("check-circle"), _("Delivered"))
        return format_html('<span class="comm-log-check">{}{}</span>', icon("check"), _("Sent"))
    return format_html(
        '<span class="badge {}">{}</span>', MESSAGE_BADGES.get(message.status, "badge-neutral"), message.get_status_display()
    )


@perm_required(VIEW)
def notification_log(request: HttpRequest, pk: int) -> HttpResponse:
    client = _client(request, pk)
    try:
        tz = zoneinfo.ZoneInfo(request.agency.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = None
    can_open = has_perm(request, "messages.view")
    table = Table(
        request,
        OutboundMessage.objects.for_agency(request.agency).filter(client=client),
        columns=[
            Column("date", _("Date"), sort="created_at", value=lambda m: _local(m.sent_at or m.created_at, tz)),
            Column("channel", _("Channel"), value=lambda m: m.get_channel_display()),
            Column("to", _("To")),
            Column(
                "subject",
                _("Message"),
                value=message_text,
                link=(lambda m: reverse("messaging:message", args=[m.pk])) if can_open else None,
            ),
            Column("status", _("Status"), value=message_status),
        ],
        default_sort="-date",
        per_page=PER_PAGE,
        table_id="notifications",
        caption=_("Messages sent to the client"),
        empty_title=_("No messages sent yet"),
        empty_text=_("Every email and text message sent to this client (reminders, portal invitations) will be listed here."),
        empty_icon="send",
    )
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=client,
        client_id=client.pk,
        changes={"tab": "notifications"},
    )
    context: dict[str, Any] = {**client_frame(request, client, "notifications"), "table": table}
    return table_response(request, "casework/notifications.html", context, table)


urlpatterns = [
    path("clients/<int:pk>/communications/", communication_list, name="communications"),
    path("clients/<int:pk>/communications/new/", communication_new, name="communication_new"),
    path("communications/<int:pk>/edit/", communication_edit, name="communication_edit"),
    path("communications/<int:pk>/delete/", communication_delete, name="communication_delete"),
    path("clients/<int:pk>/notifications/", notification_log, name="notifications"),
]
