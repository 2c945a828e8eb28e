"""Communications with a client, and the reminders a client receives.

Most communications are a record of a contact (a phone call, an email, a visit): staff write them,
the client never sees them. A **reminder** is the one kind the client receives. It may be written
only for a client with a portal account they have logged in to (an active account with a
``last_login``): a reminder is read in the portal, and an account nobody ever opened would send
messages to an address nobody has confirmed. It is scheduled for its ``date`` (the send date,
today or later) and sent once by the periodic job ``casework.send_reminders`` (``send_due_reminders``):
it then shows in the client's portal and goes out through the outbox by the client's channel.

The channel (``reminder_channel``): the client's preferred contact method when it is email or
SMS and they agreed to it and have the address or number; otherwise email if they agreed to
email and have an address; otherwise SMS the same way; otherwise none — the reminder still
reaches them in the portal ("portal only", ``channel`` empty). The channel is chosen when the
reminder is written (shown to staff as planned) and again when it is sent (what was used).

A reminder planned by email or SMS whose client withdrew that consent (and has no other channel)
by the send date fails with the reason, as does one whose client lost portal access: a person
decides what to do next (edit it to schedule it again). Deleting a reminder already sent does
not pull it back; deleting a scheduled one cancels it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, record_create, snapshot
from caseload.casework.models import BatchAction, Communication
from caseload.casework.records import agency_today, consented_channel, membership_of, soft_delete, supported_language
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Program
from caseload.tenancy.scoping import agency_scope, all_agencies

Kind = Communication.Kind
Status = Communication.Status
Direction = Communication.Direction

FIELDS = ("kind", "direction", "date", "subject", "body", "program")
EMAIL, SMS = "email", "sms"
# The longest SMS body sent (a few segments); the full text is in the portal.
SMS_MAX = 480


# --- The reminder rules ----------------------------------------------------------------------


def reminder_refusal(client: Client) -> str | None:
    """Why the client cannot receive reminders now (and what to do), or None when they can."""
    user = client.portal_user
    if user is None:
        return _(
            "A reminder can't be sent: this client has no portal account. Invite them to the portal from the Actions menu; "
            "you can send reminders once they have logged in."
        )
    if not user.is_active:
        return _("A reminder can't be sent: this client's portal account is deactivated. Ask an administrator to reactivate it.")
    if user.last_login is None:
        return _(
            "A reminder can't be sent: this client was invited to the portal but has never logged in. Ask them to accept the "
            "invitation (you can resend it from the Actions menu); you can send reminders once they have logged in."
        )
    return None


def can_receive_reminders(client: Client) -> bool:
    return reminder_refusal(client) is None


def reminder_channel(client: Client) -> str:
    """How a reminder reaches the client besides the portal: "email", "sms", or "" (portal only)."""
    return consented_channel(client)


# --- Validation ------------------------------------------------------------------------------


def _check_writable(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError(
            _("This profile was merged into another one: record communications on the profile it was merged into.")
        )


def _clean(client: Client, data: dict[str, Any], *, current: Communication | None = None) -> dict[str, Any]:
    """The values to save, from ``data`` over ``current``'s; raises ValidationError naming each bad field."""
    today = agency_today(client.agency)
    # A new record without a date is dated today (an explicit None is an error).
    values: dict[str, Any] = {name: getattr(current, name) for name in FIELDS} if current is not None else {"date": today}
    values.update({name: data[name] for name in FIELDS if name in data})
    errors: dict[str, str] = {}

    kind = values.get("kind") or ""
    if kind not in Kind.values:
        errors["kind"] = _("Choose the type of communication.")
    direction = values.get("direction") or Direction.OUTGOING
    if direction not in Direction.values:
        errors["direction"] = _("Choose a direction.")
    when = values.get("date")
    if when is None:
        errors["date"] = _("Enter the date.")
    elif not isinstance(when, datetime.date) or isinstance(when, datetime.datetime):
        errors["date"] = _("Enter a valid date.")
    subject = " ".join(str(values.get("subject") or "").split())
    body = str(values.get("body") or "").strip()
    if len(subject) > Communication._meta.get_field("subject").max_length:
        errors["subject"] = _("The subject is too long (200 characters at most).")
    if len(body) > 20000:
        errors["body"] = _("The details are too long (20,000 characters at most).")
    program = values.get("program")
    if program is not None and (not isinstance(program, Program) or program.agency_id != client.agency_id):
        errors["program"] = _("Choose one of your agency's programs.")

    if kind == Kind.REMINDER:
        direction = Direction.OUTGOING
        refusal = reminder_refusal(client)
        if refusal:
            errors["kind"] = refusal
        if "date" not in errors and when < today:
            errors["date"] = _("A reminder's send date can't be in the past.")
        if not subject and "subject" not in errors:
            errors["subject"] = _("Enter a subject: the client reads it.")
        if not body and "body" not in errors:
            errors["body"] = _("Enter the reminder's text: the client reads it.")
    elif kind:
        if "date" not in errors and when > today:
            errors["date"] = _("A contact is recorded on or before today. To contact the client later, send a reminder.")
        if not subject and not body and "subject" not in errors:
            errors["subject"] = _("Enter a subject or details.")
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "direction": direction, "date": when, "subject": subject, "body": body, "program": program}


# --- Actions ---------------------------------------------------------------------------------


@transaction.atomic
def record_communication(client: Client, actor, data: dict[str, Any], *, batch: BatchAction | None = None) -> Communication:
    """Record a contact with the client, or schedule a reminder (``kind="reminder"``) for its send date.

    ``data``: kind, direction, date, subject, body, program (a Program of the client's agency or None).
    Raises ValidationError naming the field; a reminder to a client who cannot receive one is
    refused on ``kind`` with the reason and what to do.
    """
    agency = client.agency
    _check_writable(client)
    values = _clean(client, data)
    reminder = values["kind"] == Kind.REMINDER
    communication = Communication(
        agency=agency,
        client=client,
        author=membership_of(agency, actor),
        batch=batch,
        status=Status.SCHEDULED if reminder else Status.RECORDED,
        channel=reminder_channel(client) if reminder else "",
        **values,
    )
    communication.save()
    record_create(agency=agency, actor=actor, obj=communication, client_id=client.pk)
    return communication


EDITABLE_STATUSES = {Status.RECORDED, Status.SCHEDULED, Status.FAILED}


def can_edit(communication: Communication) -> bool:
    """A sent reminder (or one being sent) is what the client received: it can't be changed."""
    return communication.deleted_at is None and communication.status in EDITABLE_STATUSES


@transaction.atomic
def update_communication(communication: Communication, actor, data: dict[str, Any]) -> Communication:
    """Change a communication. A failed reminder edited is scheduled again; a sent one can't be edited."""
    client = communication.client
    agency = communication.agency
    _check_writable(client)
    # Locked: the sending job's claim waits for this edit, then finds the row as the edit left it.
    locked = Communication.objects.for_agency(agency).select_for_update().get(pk=communication.pk)
    if not can_edit(locked):
        raise ValidationError(_("This reminder was sent to the client: it can no longer be changed."))
    values = _clean(client, data, current=locked)
    before = snapshot(locked, [*FIELDS, "status", "channel", "failure_reason"])
    for name, value in values.items():
        setattr(locked, name, value)
    if values["kind"] == Kind.REMINDER:
        locked.status, locked.channel, locked.failure_reason = Status.SCHEDULED, reminder_channel(client), ""
    else:
        locked.status, locked.channel, locked.failure_reason = Status.RECORDED, "", ""
    locked.updated_at = timezone.now()
    locked.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save()
    record_change(agency=agency, actor=actor, obj=locked, before=before, client_id=client.pk)
    return locked


@transaction.atomic
def delete_communication(communication: Communication, actor) -> Communication:
    """Soft-delete the record. A scheduled reminder is cancelled (never sent); one already sent
    stays sent — deleting the record does not pull it back from the client."""
    agency = communication.agency
    _check_writable(communication.client)
    locked = Communication.objects.for_agency(agency).select_for_update().get(pk=communication.pk)
    if locked.deleted_at is not None:
        return locked
    if locked.status == Status.SCHEDULED:
        before = snapshot(locked, ["status"])
        locked.status = Status.CANCELLED
        locked.save(update_fields=["status"])
        record_change(agency=agency, actor=actor, obj=locked, before=before, client_id=locked.client_id)
    soft_delete(locked, actor, agency=agency, client_id=locked.client_id)
    return locked


# --- Sending ---------------------------------------------------------------------------------


def _send_refusal(reminder: Communication, channel: str) -> str:
    client = reminder.client
    if client.status == Client.Status.MERGED:
        return _("The client's profile was merged into another one before the send date.")
    if client.portal_user is None or not client.portal_user.is_active or client.portal_user.last_login is None:
        return _("The client no longer has a portal account they can log in to.")
    if reminder.channel and not channel:
        if reminder.channel == EMAIL:
            return _("The client no longer agrees to be contacted by email (or has no email address), and has no other channel.")
        return _(
            "The client no longer agrees to be contacted by text message (or has no phone number), and has no other channel."
        )
    return ""


def _queue_reminder(reminder: Communication, channel: str):
    """Queue the reminder's email or SMS (None when it goes to the portal only)."""
    from caseload.messaging.actions import queue_email, queue_sms

    client, agency = reminder.client, reminder.agency
    portal_url = settings.SITE_URL + reverse("portal:home")
    with translation.override(
        supported_language(getattr(client.portal_user, "preferred_language", ""), client.preferred_language)
    ):
        context = {"reminder": reminder, "client": client, "agency": agency, "portal_url": portal_url}
        if channel == EMAIL:
            body = render_to_string("casework/email/reminder_body.txt", context)
            return queue_email(
                agency=agency, to=client.email, subject=reminder.subject, body=body, kind="reminder", client=client
            )
        if channel == SMS:
            text = f"{agency.name}: {reminder.subject}\n{reminder.body}"
            if len(text) > SMS_MAX:
                text = text[: SMS_MAX - 1].rstrip() + "…"
            text += "\n" + _("More in your portal: %(url)s") % {"url": portal_url}
            return queue_sms(agency=agency, to=client.phone, body=text, kind="reminder", client=client)
    return None


def send_reminder(agency: Agency, pk: int, today: datetime.date) -> str:
    """Send one due reminder of ``agency`` if it is still scheduled; returns the status it ends in
    ("skipped" when another run has it, or it was cancelled or changed meanwhile).

    One transaction: the claim (a conditional UPDATE scheduled → sending, which a concurrent run
    waits on and then finds nothing to claim), the outbox row, and the sent mark.
    """
    with agency_scope(agency), transaction.atomic():
        rows = Communication.objects.for_agency(agency)
        claimed = rows.filter(
            pk=pk, kind=Kind.REMINDER, status=Status.SCHEDULED, deleted_at__isnull=True, date__lte=today
        ).update(status=Status.SENDING)
        if claimed != 1:
            return "skipped"
        reminder = rows.select_related("client__portal_user").get(pk=pk)
        reminder.agency = agency
        reminder.client.agency = agency
        channel = reminder_channel(reminder.client)
        reason = _send_refusal(reminder, channel)
        message = None
        if not reason:
            try:
                with transaction.atomic():
                    message = _queue_reminder(reminder, channel)
            except ValidationError as error:
                # A stored address the outbox refuses (it was valid once): a person must fix it.
                reason = _("The message could not be queued: %(error)s") % {"error": "; ".join(error.messages)}
        if reason:
            fields: dict[str, Any] = {"status": Status.FAILED, "failure_reason": reason[:300]}
        else:
            fields = {
                "status": Status.SENT,
                "sent_at": timezone.now(),
                "message": message,
                "channel": channel,
                "failure_reason": "",
            }
        rows.filter(pk=pk, status=Status.SENDING).update(**fields)
        changes = {
            "status": [Status.SCHEDULED, fields["status"]],
            "channel": [reminder.channel, fields.get("channel", reminder.channel)],
        }
        record(agency=agency, actor=None, action=Action.SEND, obj=reminder, changes=changes, client_id=reminder.client_id)
        return fields["status"]


def due_reminders(agency: Agency, today: datetime.date) -> list[int]:
    with agency_scope(agency):
        return list(
            Communication.objects.for_agency(agency)
            .filter(kind=Kind.REMINDER, status=Status.SCHEDULED, deleted_at__isnull=True, date__lte=today)
            .order_by("date", "pk")
            .values_list("pk", flat=True)
        )


def send_due_reminders(today: datetime.date | None = None) -> int:
    """Send every reminder, of every agency, scheduled for ``today`` (each agency's own today by
    default) or earlier. Returns how many were sent. Safe to run twice at once: each reminder is
    claimed by one run only."""
    latest = today or (timezone.now() + datetime.timedelta(days=1)).date()
    with all_agencies():
        agency_ids = set(
            Communication.objects.filter(
                kind=Kind.REMINDER, status=Status.SCHEDULED, deleted_at__isnull=True, date__lte=latest
            ).values_list("agency_id", flat=True)
        )
        agencies = list(Agency.objects.filter(pk__in=agency_ids).order_by("pk"))
    sent = 0
    for agency in agencies:
        day = today or agency_today(agency)
        for pk in due_reminders(agency, day):
            if send_reminder(agency, pk, day) == Status.SENT:
                sent += 1
    return sent
