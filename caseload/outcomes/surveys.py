"""Checkpoint surveys: sending a checkpoint's survey to the client, the client's answers, the reminder.

``send_survey`` writes a ``SurveyInvitation`` holding only the SHA-256 hash of a random token, and
queues the message (email or SMS, with the client's consent and address) whose link carries the
token: ``/survey/<token>/``. The link opens one checkpoint of one client, without logging in, until
it is answered (single use), it expires (``FollowUpSchedule.link_valid_days``) or a newer survey of
the same checkpoint replaces it (revoked). ``open_invitation`` finds an invitation from a token and
says why it cannot be used (``UnknownInvitation``, ``ExpiredInvitation``, ``UsedInvitation``,
``RevokedInvitation``). ``answer_survey`` validates the answers against the checkpoint's survey and
saves them on the checkpoint (the client's portal answers through it too).

``remind_unanswered`` (the periodic job ``outcomes.survey_reminders``) sends one reminder per
invitation still open ``reminder_after_days`` after it was sent. Only the token's hash is kept, so
the reminder carries a new link: a second invitation of the same checkpoint (same expiry, never
itself reminded). Both links work until one of them is answered; answering closes the other.

Tokens are never written to the audit log, nor are message bodies or answers.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from caseload.audit.actions import Action, record, record_change, snapshot
from caseload.casework.records import supported_language
from caseload.clients.models import Client
from caseload.formbuilder import engine, loading
from caseload.messaging import templates
from caseload.messaging.models import MessageTemplate
from caseload.outcomes.models import Checkpoint, FollowUpSchedule, SurveyInvitation
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope, all_agencies

Status = Checkpoint.Status
EMAIL, SMS = SurveyInvitation.Channel.EMAIL.value, SurveyInvitation.Channel.SMS.value
KIND = "outcome_survey"
REMINDER_KIND = "outcome_survey_reminder"
LINK = "{link}"
DEFAULT_LINK_VALID_DAYS = 30
DEFAULT_REMINDER_AFTER_DAYS = 7
# Statuses in which the client may still be asked, and may still answer.
OPEN_STATUSES = (Status.SCHEDULED, Status.DUE, Status.SURVEY_SENT)
# Only a checkpoint waiting for the client is answered by them; once staff review it, it is closed.
ANSWERABLE_STATUSES = (Status.SCHEDULED, Status.DUE, Status.SURVEY_SENT)


# --- Errors the public page shows --------------------------------------------------------------


class InvitationError(Exception):
    """Why a survey link cannot be used. ``gone`` ones answer 410, the others 404."""

    gone = True
    reason = ""


class UnknownInvitation(InvitationError):
    gone = False
    reason = "unknown"


class ExpiredInvitation(InvitationError):
    reason = "expired"


class UsedInvitation(InvitationError):
    reason = "used"


class RevokedInvitation(InvitationError):
    reason = "revoked"


# --- Tokens, links, schedules -------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256((token or "").encode("utf-8", "replace")).hexdigest()


def survey_url(token: str) -> str:
    """The absolute link the client opens (``settings.SITE_URL`` + ``/survey/<token>/``)."""
    return settings.SITE_URL + reverse("outcomes:survey_public", args=[token])


def schedule_days(checkpoint: Checkpoint) -> tuple[int, int]:
    """``(link_valid_days, reminder_after_days)`` of the checkpoint's program (defaults without a schedule)."""
    schedule = FollowUpSchedule.objects.for_agency(checkpoint.agency).filter(program_id=checkpoint.program_id).first()
    if schedule is None:
        return DEFAULT_LINK_VALID_DAYS, DEFAULT_REMINDER_AFTER_DAYS
    return schedule.link_valid_days, schedule.reminder_after_days


def client_language(client: Client) -> str:
    portal_language = getattr(client.portal_user, "preferred_language", "") if client.portal_user_id else ""
    return supported_language(client.preferred_language, portal_language)


def greeting_name(client: Client) -> str:
    """The only thing about the client a survey page or message shows."""
    return client.preferred_name or client.given_name or ""


# --- Channels -----------------------------------------------------------------------------------


def channel_refusal(client: Client, channel: str) -> str | None:
    """Why the survey can't go to ``client`` by ``channel`` (None when it can)."""
    if channel == EMAIL:
        if not client.consent_email:
            return _("The client has not agreed to be contacted by email.")
        if not client.email:
            return _("The client has no email address.")
        return None
    if channel == SMS:
        if not client.consent_sms:
            return _("The client has not agreed to be contacted by text message.")
        if not client.phone:
            return _("The client has no phone number.")
        return None
    return _("Choose email or SMS.")


def channels(client: Client) -> list[dict[str, Any]]:
    """Each channel with whether it can be used, the address, or the reason it can't."""
    rows = []
    for value, label in SurveyInvitation.Channel.choices:
        refusal = channel_refusal(client, value)
        address = client.email if value == EMAIL else client.phone
        rows.append({"value": value, "label": label, "available": refusal is None, "reason": refusal or "", "address": address})
    return rows


def address_for(client: Client, channel: str) -> str:
    return client.email if channel == EMAIL else client.phone


# --- Templates ----------------------------------------------------------------------------------


def template_text(agency: Agency, purpose: str, channel: str, language: str) -> tuple[str, str]:
    """The agency's ``(subject, body)`` for a purpose and channel in ``language`` (with placeholders)."""
    template = templates.template_for(agency, purpose, channel, language)
    return template.subject or "", template.body or ""


def message_context(checkpoint: Checkpoint, link: str, expires_at: datetime.datetime, language: str) -> dict[str, str]:
    with translation.override(language):
        return {
            "preferred_name": greeting_name(checkpoint.client),
            "checkpoint": _("%(months)s-month follow-up") % {"months": checkpoint.months},
            "due_date": formats.date_format(timezone.localtime(expires_at).date(), "DATE_FORMAT"),
            "link": link,
            "agency": checkpoint.agency.name,
        }


def fill(subject: str, body: str, context: dict[str, str]) -> tuple[str, str]:
    """The subject and body with their placeholders filled (``messaging.templates.render``)."""
    return templates.render((subject, body), context)


def segments(text: str) -> dict[str, Any]:
    """How many SMS segments ``text`` takes: ``{"segments", "encoding", "characters"}``."""
    count, encoding, characters = templates.sms_segments(text)
    return {"segments": count, "encoding": encoding, "characters": characters}


def preview(checkpoint: Checkpoint, *, channel: str, subject: str, body: str) -> dict[str, Any]:
    """The message as the client will read it (a sample link of the real length)."""
    link_days, _reminder = schedule_days(checkpoint)
    expires_at = timezone.now() + datetime.timedelta(days=link_days)
    language = client_language(checkpoint.client)
    sample = settings.SITE_URL + reverse("outcomes:survey_public", args=["x" * len(new_token())])
    try:
        templates.check_template(MessageTemplate.Purpose.SURVEY, channel, subject, body)
    except ValidationError as error:
        return {"subject": "", "body": "", "error": " ".join(error.messages), "sms": None}
    filled_subject, filled_body = fill(subject, body, message_context(checkpoint, sample, expires_at, language))
    result: dict[str, Any] = {"subject": filled_subject, "body": filled_body, "error": "", "sms": None}
    if channel == SMS:
        result["sms"] = segments(filled_body)
    return result


# --- Sending ------------------------------------------------------------------------------------


def send_refusal(checkpoint: Checkpoint) -> str | None:
    """Why no survey can be sent for this checkpoint now (None when it can)."""
    if checkpoint.status == Status.SUBMITTED:
        return _("This checkpoint was submitted: its survey can no longer be sent.")
    if checkpoint.status == Status.MISSED:
        return _("This checkpoint was missed: its survey can no longer be sent.")
    if checkpoint.status not in OPEN_STATUSES:
        return _("The client's answers to this checkpoint were already reviewed: its survey can no longer be sent.")
    if checkpoint.client.status == Client.Status.MERGED:
        return _("This profile was merged into another one: send the survey from the profile it was merged into.")
    return None


def _queue(checkpoint: Checkpoint, actor, channel: str, subject: str, body: str, kind: str):
    from caseload.messaging.actions import queue_email, queue_sms

    client = checkpoint.client
    if channel == EMAIL:
        return queue_email(
            agency=checkpoint.agency,
            to=client.email,
            subject=subject,
            body=body,
            kind=kind,
            actor=actor,
            sensitive=True,
            client=client,
        )
    return queue_sms(agency=checkpoint.agency, to=client.phone, body=body, kind=kind, actor=actor, sensitive=True, client=client)


@transaction.atomic
def send_survey(checkpoint: Checkpoint, actor, *, channel: str, subject: str, body: str) -> SurveyInvitation:
    """Send the checkpoint's survey to its client by ``channel`` ("email" or "sms").

    ``subject`` and ``body`` are the worker's text with placeholders; the body must hold ``{link}``.
    Earlier open links of the checkpoint stop working. Raises ValidationError naming the field
    (``channel``, ``subject``, ``body``) or without a field when the checkpoint can't be sent.
    """
    agency = checkpoint.agency
    locked = Checkpoint.objects.for_agency(agency).select_for_update().select_related("client").get(pk=checkpoint.pk)
    locked.agency = agency
    locked.client.agency = agency
    client = locked.client
    refusal = send_refusal(locked)
    if refusal:
        raise ValidationError(refusal)
    errors: dict[str, str] = {}
    if channel not in (EMAIL, SMS):
        errors["channel"] = _("Choose email or SMS.")
    else:
        refusal = channel_refusal(client, channel)
        if refusal:
            errors["channel"] = refusal
    subject = " ".join((subject or "").split()) if channel == EMAIL else ""
    body = (body or "").strip()
    if "channel" not in errors:
        # Only known placeholders, {link} in the body, a subject for an email (templates.check_template).
        try:
            templates.check_template(MessageTemplate.Purpose.SURVEY, channel, subject, body)
        except ValidationError as error:
            errors.update({name: " ".join(messages) for name, messages in error.message_dict.items()})
    elif LINK not in body:
        errors["body"] = _("A survey message must contain {link}: without it the client cannot answer.")
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    link_days, _reminder = schedule_days(locked)
    token = new_token()
    expires_at = now + datetime.timedelta(days=link_days)
    language = client_language(client)
    filled_subject, filled_body = fill(subject, body, message_context(locked, survey_url(token), expires_at, language))

    revoked = (
        SurveyInvitation.objects.for_agency(agency)
        .filter(checkpoint=locked, used_at__isnull=True, revoked_at__isnull=True)
        .update(revoked_at=now)
    )
    sent_by = actor if getattr(actor, "is_authenticated", False) else None
    invitation = SurveyInvitation.objects.create(
        agency=agency,
        checkpoint=locked,
        channel=channel,
        token_hash=token_hash(token),
        expires_at=expires_at,
        sent_by=sent_by,
        sent_at=now,
    )
    try:
        message = _queue(locked, actor, channel, filled_subject, filled_body, KIND)
    except ValidationError as error:
        # The outbox refuses a stored address (it was valid once): the worker fixes the profile.
        raise ValidationError({"channel": _("The message could not be queued: %(error)s") % {"error": "; ".join(error.messages)}})
    invitation.message = message
    invitation.save(update_fields=["message"])

    before = snapshot(locked, ["status"])
    if locked.status != Status.SURVEY_SENT:
        locked.status = Status.SURVEY_SENT
        locked.save(update_fields=["status"])
    record_change(agency=agency, actor=actor, obj=locked, before=before, client_id=client.pk)
    record(
        agency=agency,
        actor=actor,
        action=Action.SEND,
        obj=invitation,
        object_repr=str(_("Survey of the %(months)s-month checkpoint") % {"months": locked.months}),
        changes={"channel": [None, channel], "expires_at": [None, expires_at.isoformat()], "revoked_links": [None, revoked]},
        client_id=client.pk,
    )
    return invitation


# --- The client's side --------------------------------------------------------------------------


def open_invitation(token: str, *, now: datetime.datetime | None = None) -> SurveyInvitation:
    """The invitation of ``token``, usable now; raises an ``InvitationError`` saying why not.

    Runs in no agency (the link's visitor has none): the row is found by its hash alone, and its
    checkpoint, client and agency come with it.
    """
    if not token or len(token) > 200:
        raise UnknownInvitation
    now = now or timezone.now()
    with all_agencies():
        invitation = (
            SurveyInvitation.objects.select_related("agency", "checkpoint__client", "checkpoint__survey")
            .filter(token_hash=token_hash(token))
            .first()
        )
    if invitation is None:
        raise UnknownInvitation
    checkpoint = invitation.checkpoint
    checkpoint.agency = invitation.agency
    checkpoint.client.agency = invitation.agency
    if invitation.used_at is not None:
        raise UsedInvitation
    if invitation.revoked_at is not None or checkpoint.status not in ANSWERABLE_STATUSES:
        raise RevokedInvitation
    if invitation.expires_at <= now:
        raise ExpiredInvitation
    return invitation


def survey_spec(checkpoint: Checkpoint) -> dict:
    return loading.record_spec(checkpoint.survey, None)


@transaction.atomic
def answer_survey(invitation: SurveyInvitation, answers: Any, *, actor=None) -> Checkpoint:
    """Save the client's answers on the invitation's checkpoint; the invitation is then used.

    The answers must be complete (``engine.AnswerErrors`` names each refused field). A second
    answer through the same link — or through any other link of the checkpoint — is refused
    (``UsedInvitation``/``RevokedInvitation``). ``actor`` is the client's portal user, or None.
    """
    agency = invitation.agency
    now = timezone.now()
    with agency_scope(agency):
        locked = SurveyInvitation.objects.for_agency(agency).select_for_update().get(pk=invitation.pk)
        checkpoint = (
            Checkpoint.objects.for_agency(agency)
            .select_for_update()
            .select_related("survey", "client")
            .get(pk=locked.checkpoint_id)
        )
        checkpoint.agency = agency
        checkpoint.client.agency = agency
        if locked.used_at is not None:
            raise UsedInvitation
        if locked.revoked_at is not None or checkpoint.status not in ANSWERABLE_STATUSES:
            raise RevokedInvitation
        if locked.expires_at <= now:
            raise ExpiredInvitation
        cleaned = engine.validate(survey_spec(checkpoint), answers)

        before = snapshot(checkpoint, ["status", "answered_by_client", "answered_at"])
        checkpoint.answers = cleaned
        checkpoint.answered_by_client = True
        checkpoint.answered_at = now
        checkpoint.status = Status.RESPONDED
        checkpoint.save(update_fields=["answers", "answered_by_client", "answered_at", "status"])
        locked.used_at = now
        locked.save(update_fields=["used_at"])
        # The checkpoint's other links (a reminder's) close with it.
        SurveyInvitation.objects.for_agency(agency).filter(
            checkpoint=checkpoint, used_at__isnull=True, revoked_at__isnull=True
        ).exclude(pk=locked.pk).update(revoked_at=now)
        record_change(agency=agency, actor=actor, obj=checkpoint, before=before, client_id=checkpoint.client_id)
        return checkpoint


def open_invitations_of(client: Client, *, now: datetime.datetime | None = None):
    """The client's usable invitations, newest first (the portal's list)."""
    now = now or timezone.now()
    return (
        SurveyInvitation.objects.for_agency(client.agency)
        .filter(
            checkpoint__client=client,
            checkpoint__status__in=ANSWERABLE_STATUSES,
            used_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .select_related("checkpoint__survey")
        .order_by("-sent_at", "-pk")
    )


# --- Reminders ----------------------------------------------------------------------------------


def _remind(agency: Agency, pk: int, now: datetime.datetime) -> str:
    """Remind one invitation once: "sent", "skipped" (another run has it, or it closed) or "refused"."""
    with agency_scope(agency), transaction.atomic():
        rows = SurveyInvitation.objects.for_agency(agency)
        claimed = rows.filter(
            pk=pk, reminded_at__isnull=True, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(reminded_at=now)
        if claimed != 1:
            return "skipped"
        invitation = rows.select_related("checkpoint__client").get(pk=pk)
        checkpoint = invitation.checkpoint
        checkpoint.agency = agency
        checkpoint.client.agency = agency
        client = checkpoint.client
        if checkpoint.status != Status.SURVEY_SENT or client.status == Client.Status.MERGED:
            return "skipped"
        if channel_refusal(client, invitation.channel):
            # Consent withdrawn (or the address removed) since: no reminder.
            return "refused"
        language = client_language(client)
        subject, body = template_text(agency, MessageTemplate.Purpose.SURVEY_REMINDER, invitation.channel, language)
        if LINK not in body:
            return "refused"
        token = new_token()
        # The reminder's own link: same checkpoint, same expiry; never reminded itself.
        second = rows.create(
            agency=agency,
            checkpoint=checkpoint,
            channel=invitation.channel,
            token_hash=token_hash(token),
            expires_at=invitation.expires_at,
            reminded_at=now,
            sent_at=now,
        )
        try:
            subject, body = fill(subject, body, message_context(checkpoint, survey_url(token), invitation.expires_at, language))
            with transaction.atomic():
                message = _queue(checkpoint, None, invitation.channel, subject or agency.name, body, REMINDER_KIND)
        except ValidationError:
            second.delete()
            return "refused"
        second.message = message
        second.save(update_fields=["message"])
        rows.filter(pk=pk).update(reminder=message)
        record(
            agency=agency,
            actor=None,
            action=Action.SEND,
            obj=invitation,
            object_repr=str(_("Reminder of the %(months)s-month checkpoint survey") % {"months": checkpoint.months}),
            changes={"reminded_at": [None, now.isoformat()], "channel": [None, invitation.channel]},
            client_id=client.pk,
        )
        return "sent"


def remind_unanswered(now: datetime.datetime | None = None) -> dict[str, int]:
    """Remind, once, every open survey link sent at least its program's ``reminder_after_days`` ago.

    Safe to run twice at once: each invitation is claimed by one conditional UPDATE on
    ``reminded_at IS NULL``. Returns counts of "sent", "skipped" and "refused".
    """
    now = now or timezone.now()
    counts = {"sent": 0, "skipped": 0, "refused": 0}
    with all_agencies():
        candidates = list(
            SurveyInvitation.objects.filter(
                reminded_at__isnull=True,
                used_at__isnull=True,
                revoked_at__isnull=True,
                expires_at__gt=now,
                sent_at__lte=now - datetime.timedelta(days=1),
                checkpoint__status=Status.SURVEY_SENT,
            ).values_list("pk", "agency_id", "sent_at", "checkpoint__program_id")
        )
        days = {
            (agency_id, program_id): after
            for agency_id, program_id, after in FollowUpSchedule.objects.values_list(
                "agency_id", "program_id", "reminder_after_days"
            )
        }
        agencies = {a.pk: a for a in Agency.objects.filter(pk__in={row[1] for row in candidates})}
    for pk, agency_id, sent_at, program_id in sorted(candidates):
        after = days.get((agency_id, program_id), DEFAULT_REMINDER_AFTER_DAYS)
        if sent_at > now - datetime.timedelta(days=after):
            continue
        counts[_remind(agencies[agency_id], pk, now)] += 1
    return counts
