"""The outbox pages: every email and SMS of the agency, its status, and retry/cancel for managers."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caseload.messaging import actions
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.models import Agency
from caseload.tenancy.views import admin_sections
from caseload.web.tables import Column, Table, table_response

VIEW = "messages.view"
MANAGE = "messages.manage"

Status = OutboundMessage.Status

STATUS_BADGES = {
    Status.QUEUED: "badge-info",
    Status.SENDING: "badge-info",
    Status.SENT: "badge-success",
    Status.FAILED: "badge-danger",
    Status.UNCERTAIN: "badge-warning",
    Status.CANCELLED: "badge-neutral",
}


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, choices=[("", gettext_lazy("All statuses")), *Status.choices])
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), required=False, choices=[("", gettext_lazy("All channels")), *OutboundMessage.Channel.choices]
    )

    def filters(self) -> dict[str, str]:
        if not self.is_bound or not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


def status_badge(message: OutboundMessage) -> str:
    return format_html('<span class="badge {}">{}</span>', STATUS_BADGES.get(message.status, "badge-neutral"), message.get_status_display())


def _when(agency: Agency, value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return formats.date_format(timezone.localtime(value, zoneinfo.ZoneInfo(agency.time_zone)), "SHORT_DATETIME_FORMAT")


def _row_actions(request: HttpRequest, message: OutboundMessage) -> str:
    """Retry and cancel buttons (small POST forms) for a manager, on the rows they apply to."""
    buttons = []
    if message.can_retry:
        buttons.append((reverse("messaging:retry", args=[message.pk]), "btn btn-small", _("Send again")))
    if message.can_cancel:
        buttons.append((reverse("messaging:cancel", args=[message.pk]), "btn btn-small btn-danger", _("Cancel")))
    if not buttons:
        return ""
    token = get_token(request)
    back = request.get_full_path()
    return format_html(
        '<div class="row-actions">{}</div>',
        format_html_join(
            "",
            '<form method="post" action="{}"><input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}"><button type="submit" class="{}">{}</button></form>',
            ((url, token, back, css, label) for url, css, label in buttons),
        ),
    )


def _admin_tabs(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"url": s["url"], "label": s["label"], "current": s["current"]} for s in admin_sections(request)]


@perm_required(VIEW)
def outbox(request: HttpRequest) -> HttpResponse:
    form = OutboxFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    messages_qs = OutboundMessage.objects.for_agency(request.agency)
    messages_qs = messages_qs.filter(**form.filters()) if valid else messages_qs.none()
    agency = request.agency
    can_manage = has_perm(request, MANAGE)
    table = Table(
        request,
        messages_qs,
        columns=[
            Column("created_at", _("Created"), sort="created_at", value=lambda m: _when(agency, m.created_at), link=lambda m: reverse("messaging:message", args=[m.pk])),
            Column("status", _("Status"), sort="status", value=status_badge),
            Column("channel", _("Channel"), sort="channel", value=lambda m: m.get_channel_display()),
            Column("to", _("To"), sort="to"),
            Column("subject", _("Subject"), value=lambda m: m.subject or None),
            Column("kind", _("Kind"), sort="kind", value=lambda m: m.kind or None),
            Column("attempts", _("Attempts"), sort="attempts", numeric=True),
            Column("last_error", _("Last error"), value=lambda m: m.last_error[:120] or None),
            Column("sent_at", _("Sent"), sort="sent_at", value=lambda m: _when(agency, m.sent_at)),
            *([Column("actions", _("Actions"), value=lambda m: _row_actions(request, m) or None)] if can_manage else []),
        ],
        default_sort="-created_at",
        per_page=50,
        table_id="outbox",
        caption=_("Outbound messages"),
        empty_title=_("No messages match these filters") if form.filters() else _("No messages yet"),
        empty_text=_("Emails and text messages the agency sends appear here."),
        empty_icon="send",
    )
    attention = (
        OutboundMessage.objects.for_agency(agency)
        .filter(status__in=[Status.FAILED, Status.UNCERTAIN])
        .aggregate(failed=Count("pk", filter=Q(status=Status.FAILED)), uncertain=Count("pk", filter=Q(status=Status.UNCERTAIN)))
    )
    context = {"form": form, "table": table, "attention": attention, "admin_tabs": _admin_tabs(request)}
    return table_response(request, "messaging/outbox.html", context, table)


@perm_required(VIEW)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    message = get_for_agency(request, OutboundMessage, pk=pk)
    agency = request.agency
    context = {
        "message": message,
        "status_badge": status_badge(message),
        "created": _when(agency, message.created_at),
        "sent": _when(agency, message.sent_at),
        "next_attempt": _when(agency, message.next_attempt_at) if message.status == Status.QUEUED else None,
        "can_manage": has_perm(request, MANAGE),
        "admin_tabs": _admin_tabs(request),
    }
    return render(request, "messaging/message_detail.html", context)


def _staff_action(request: HttpRequest, pk: int, action, done: str) -> HttpResponse:
    message = get_for_agency(request, OutboundMessage, pk=pk)
    try:
        action(message, request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(back)
    return redirect("messaging:message", pk=message.pk)


@require_POST
@perm_required(MANAGE)
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, actions.retry_message, _("The message is queued to be sent again."))


@require_POST
@perm_required(MANAGE)
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _staff_action(request, pk, actions.cancel_message, _("The message is cancelled."))
