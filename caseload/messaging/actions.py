"""The outbox: every email and SMS is a row written in the transaction that causes it.

``queue_email``/``queue_sms`` write the row and, once the transaction commits, enqueue a send
task (a rolled-back change sends nothing). ``send_one`` claims a row with one conditional UPDATE,
so of two workers given the same message only one sends it; a failure goes back to the queue
with exponential back-off, and a worker that dies mid-send leaves the row ``sending`` until
``recover_stale_sends`` marks it ``uncertain`` for a person to check — never re-sent on its own.
``dispatch_due`` (run every minute by the scheduler) enqueues retries and lost enqueues.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import partial
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import DNS_NAME, EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import get_scope

from caseload import rawrows
from caseload.audit.actions import Action, event, record, record_change, snapshot
from caseload.audit.models import AuditEvent
from caseload.messaging.models import CANCELLABLE, RETRYABLE, OutboundMessage
from caseload.messaging.sms import get_sms_backend
from caseload.tenancy.models import Agency
from caseload.tenancy.permissions import membership_in
from caseload.tenancy.scoping import ScopeError, agency_scope, all_agencies, current_agency

logger = logging.getLogger(__name__)

Status = OutboundMessage.Status
Channel = OutboundMessage.Channel

# Kinds that carry a sign-in link or code: their body is never shown, and is erased once sent.
SENSITIVE_KINDS = frozenset({"password_reset", "invitation", "portal_invitation", "email_verification", "login_code"})

UNCERTAIN_ERROR = (
    "The worker stopped while sending (its lease expired): the provider may or may not have taken "
    "the message. Check with the recipient before sending it again."
)

# --- Queueing ------------------------------------------------------------------------------


def normalise_email(value: str) -> str:
    value = (value or "").strip()
    try:
        if len(value) > OutboundMessage._meta.get_field("to").max_length:
            raise ValidationError("too long")
        validate_email(value)
    except ValidationError:
        raise ValidationError({"to": _("Enter a valid email address.")})
    return value


def normalise_phone(value: str, region: str | None = None) -> str:
    """The number in E.164 (``+15145550123``); numbers without a country code are read in ``region``."""
    try:
        number = phonenumbers.parse((value or "").strip(), region or settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError({"to": _("Enter a valid phone number.")})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def queue_email(
    *,
    agency: Agency | None,
    to: str,
    subject: str,
    body: str,
    html_body: str = "",
    kind: str = "",
    actor=None,
    recipient_user=None,
    sensitive: bool = False,
    client=None,
) -> OutboundMessage:
    """Queue one email in the current transaction; it is sent by a task after the commit.

    ``client`` puts it in that client's notification log.
    ``sensitive=True`` (implied for the kinds in SENSITIVE_KINDS) marks a message carrying a
    sign-in link or code: its body never shows on the outbox page and is erased once sent.
    Raises ValidationError naming the field (``to``, ``subject``, ``body``).
    """
    errors: dict[str, str] = {}
    try:
        to = normalise_email(to)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    subject = (subject or "").strip()
    if not subject:
        errors["subject"] = _("Enter a subject.")
    elif "\n" in subject or "\r" in subject:
        errors["subject"] = _("The subject must be on one line.")
    elif len(subject) > OutboundMessage._meta.get_field("subject").max_length:
        errors["subject"] = _("The subject is too long.")
    if not (body or "").strip():
        errors["body"] = _("Enter the message.")
    if errors:
        raise ValidationError(errors)
    return _queue(
        agency=agency,
        actor=actor,
        channel=Channel.EMAIL,
        to=to,
        subject=subject,
        body=body,
        html_body=html_body or "",
        kind=kind,
        recipient_user=recipient_user,
        sensitive=sensitive,
        client=client,
    )


def queue_sms(
    *,
    agency: Agency | None,
    to: str,
    body: str,
    kind: str = "",
    actor=None,
    recipient_user=None,
    sensitive: bool = False,
    client=None,
) -> OutboundMessage:
    """Queue one SMS in the current transaction (``to`` is normalised to E.164)."""
    errors: dict[str, str] = {}
    try:
        to = normalise_phone(to)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if not (body or "").strip():
        errors["body"] = _("Enter the message.")
    if errors:
        raise ValidationError(errors)
    return _queue(
        agency=agency, actor=actor, channel=Channel.SMS, to=to, body=body, kind=kind, recipient_user=recipient_user, sensitive=sensitive, client=client
    )


@contextmanager
def _writing_for(agency: Agency | None) -> Iterator[None]:
    """The scope a message of ``agency`` (None: a system message) is written in."""
    state = get_scope()
    if not state.get("_enabled", True):
        yield  # already the system context
        return
    active = current_agency()
    if active is None:
        with agency_scope(agency) if agency is not None else all_agencies():
            yield
    elif agency is None:
        with all_agencies():
            yield
    elif active.pk != agency.pk:
        raise ScopeError("A message of another agency than the one in scope")
    else:
        yield


def _queue(*, agency: Agency | None, actor, channel: str, kind: str, sensitive: bool, **fields) -> OutboundMessage:
    message = OutboundMessage(
        agency=agency,
        channel=channel,
        kind=kind or "",
        sensitive=sensitive or kind in SENSITIVE_KINDS,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        # The on-commit hook below enqueues it; dispatch_due only steps in if that enqueue is lost.
        enqueued_at=timezone.now(),
        **fields,
    )
    with transaction.atomic(), _writing_for(agency):
        message.save()
        record(
            agency=agency,
            actor=actor,
            action=Action.CREATE,
            obj=message,
            changes={"channel": [None, channel], "to": [None, message.to], "kind": [None, message.kind]},
        )
        transaction.on_commit(partial(enqueue_send, message.pk), robust=True)
    return message


def enqueue_send(message_id: int) -> None:
    from caseload.messaging.tasks import send_message

    send_message.enqueue(str(message_id))


# --- Sending -------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: base × 2^(attempts-1), capped, less up to 10% of jitter."""
    base = settings.OUTBOX_RETRY_BASE_SECONDS
    cap = settings.OUTBOX_RETRY_MAX_SECONDS
    delay = min(cap, base * 2 ** min(max(attempts - 1, 0), 30))
    return timedelta(seconds=delay * random.uniform(0.9, 1.0))


def describe_error(exc: BaseException) -> str:
    """The exception's class and a short message, with configured secrets blanked out."""
    text = " ".join(str(exc).split())[:300]
    for secret in (settings.EMAIL_HOST_PASSWORD, settings.TWILIO_AUTH_TOKEN):
        if secret:
            text = text.replace(secret, "[redacted]")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def email_message_id(message: OutboundMessage) -> str:
    """A Message-ID fixed by the row, so an MTA or provider given it twice can de-duplicate."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or str(DNS_NAME)
    return f"<{message.uuid}@{domain}>"


def deliver(message: OutboundMessage) -> str:
    """Hand the message to the email or SMS backend; returns the provider's id for it."""
    if message.channel == Channel.EMAIL:
        message_id = email_message_id(message)
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
            headers={"Message-ID": message_id},
            connection=get_connection(),
        )
        if message.html_body:
            email.attach_alternative(message.html_body, "text/html")
        email.send()
        anymail_status = getattr(email, "anymail_status", None)
        provider_id = getattr(anymail_status, "message_id", None)
        return str(provider_id) if provider_id else message_id
    return get_sms_backend().send(message.to, message.body, str(message.uuid))


def send_one(message_id: int | str) -> str:
    """Send one message if it is queued and due; returns the status it ends in.

    Returns "skipped" when the row is not there to claim (another worker has it, it was sent,
    cancelled, or is not due yet). Run it outside a transaction (tasks do): the claim must be
    committed before the provider is called, so that a crash leaves the row ``sending``.
    """
    pk = int(message_id)
    with all_agencies():
        message = _claim(pk, timezone.now())
        if message is None:
            return "skipped"
        try:
            provider_message_id = deliver(message)
        except Exception as exc:
            return _record_failure(message, exc)
        return _record_sent(message, provider_message_id)


def _claim(pk: int, now: datetime) -> OutboundMessage | None:
    """Claim the message if it is queued and due, and read it back, in one statement (UPDATE ... RETURNING,
    committed at once): half the round trips of an update and a get, and no query to compile."""
    alias = router.db_for_write(OutboundMessage)
    connection = connections[alias]
    opts = OutboundMessage._meta
    column = rawrows.Quoted(OutboundMessage, alias)

    def value(name: str, given: Any) -> Any:
        return opts.get_field(name).get_db_prep_save(given, connection)

    # Identifiers come from the model, quoted; every value is a parameter.
    sql = (
        f"UPDATE {column.table} SET {column['status']} = %s, {column['claimed_at']} = %s, "  # noqa: S608
        f"{column['attempts']} = {column['attempts']} + 1, {column['enqueued_at']} = NULL "
        f"WHERE {column['pk']} = %s AND {column['status']} = %s AND {column['next_attempt_at']} <= %s "
        f"RETURNING {rawrows.columns(OutboundMessage, alias)}"
    )
    params = [Status.SENDING.value, value("claimed_at", now), pk, Status.QUEUED.value, value("next_attempt_at", now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else rawrows.loader(OutboundMessage, alias)(row)


def _record_sent(message: OutboundMessage, provider_message_id: str) -> str:
    fields = {"status": Status.SENT, "sent_at": timezone.now(), "provider_message_id": (provider_message_id or "")[:200], "last_error": ""}
    if message.sensitive:
        fields.update(body="", html_body="")
    sent = event(agency=message.agency, actor=None, action=Action.SEND, obj=message, changes={"status": [Status.SENDING, Status.SENT]})
    connection = connections[router.db_for_write(OutboundMessage)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(*_sent_statement(connection, message, fields, sent))
    else:
        with transaction.atomic():
            # Also from ``uncertain``: a send slower than its lease that did complete is known sent.
            OutboundMessage.objects.filter(
                pk=message.pk, claimed_at=message.claimed_at, status__in=[Status.SENDING, Status.UNCERTAIN]
            ).update(**fields)
            sent.save(force_insert=True)
    logger.info("Outbox message %s sent (%s) after %s attempt(s)", message.pk, message.channel, message.attempts)
    return Status.SENT


def _sent_statement(connection, message: OutboundMessage, fields: dict[str, Any], sent: AuditEvent) -> tuple[str, list[Any]]:
    """The message marked sent (if still this claim's: also from ``uncertain``, a send slower than its lease
    that did complete is known sent) and its audit event written, in one statement (a data-modifying
    WITH) committed on its own: one round trip where a transaction took four, and both or neither."""
    opts = OutboundMessage._meta
    column, audit = rawrows.Quoted(OutboundMessage, connection.alias), rawrows.Quoted(AuditEvent, connection.alias)
    inserted = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    # Identifiers come from the models, quoted; every value is a parameter.
    sql = (
        f"WITH sent AS (UPDATE {column.table} SET {', '.join(f'{column[name]} = %s' for name in fields)} "  # noqa: S608
        f"WHERE {column['pk']} = %s AND {column['claimed_at']} = %s AND {column['status']} IN (%s, %s) RETURNING 1) "
        f"INSERT INTO {audit.table} ({', '.join(audit[field.name] for field in inserted)}) "
        f"VALUES ({', '.join(['%s'] * len(inserted))})"
    )
    params = [
        *(opts.get_field(name).get_db_prep_save(value, connection) for name, value in fields.items()),
        message.pk,
        opts.get_field("claimed_at").get_db_prep_save(message.claimed_at, connection),
        Status.SENDING.value,
        Status.UNCERTAIN.value,
        *(field.get_db_prep_save(field.pre_save(sent, True), connection) for field in inserted),
    ]
    return sql, params


def _record_failure(message: OutboundMessage, exc: Exception) -> str:
    error = describe_error(exc)
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields = {"status": Status.FAILED, "last_error": error}
    else:
        fields = {"status": Status.QUEUED, "last_error": error, "next_attempt_at": timezone.now() + backoff(message.attempts)}
    OutboundMessage.objects.filter(pk=message.pk, claimed_at=message.claimed_at, status=Status.SENDING).update(**fields)
    logger.warning("Outbox message %s attempt %s failed (%s); now %s", message.pk, message.attempts, error, fields["status"])
    return fields["status"]


def recover_stale_sends(now: datetime | None = None) -> int:
    """Mark ``uncertain`` every row left ``sending`` past its lease (its worker died mid-send).

    Never re-queued: whether the provider took it cannot be known, and a double send is worse
    than asking a person to check. Returns the number of rows marked.
    """
    with all_agencies():
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.OUTBOX_SEND_LEASE_SECONDS)
        count = OutboundMessage.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
            status=Status.UNCERTAIN, last_error=UNCERTAIN_ERROR
        )
    if count:
        logger.warning("%s outbox message(s) left sending by a stopped worker are now uncertain", count)
    return count


def dispatch_due(now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue a send task for each queued row that is due and not already enqueued recently."""
    from caseload.messaging.tasks import send_message

    with all_agencies():
        now = now or timezone.now()
        redispatch_before = now - timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
        due = OutboundMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now).filter(
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=redispatch_before)
        )
        ids = list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
        if not ids:
            return 0
        due.filter(pk__in=ids).update(enqueued_at=now)
        for index, pk in enumerate(ids):
            try:
                send_message.enqueue(str(pk))
            except Exception:
                # Leave the rest for the next run rather than waiting out the redispatch delay.
                OutboundMessage.objects.filter(pk__in=ids[index:], enqueued_at=now).update(enqueued_at=None)
                raise
    return len(ids)


# --- Staff actions -------------------------------------------------------------------------


def _check_manage(actor, message: OutboundMessage) -> None:
    """A staff action needs "messages.manage" in the message's agency (``actor=None``: the system)."""
    if actor is None:
        return
    membership = membership_in(actor, message.agency)
    if membership is None or not membership.has_perm("messages.manage"):
        raise PermissionDenied


def retry_message(message: OutboundMessage, actor) -> OutboundMessage:
    """Send a failed or uncertain message again (a person has checked it did not arrive)."""
    _check_manage(actor, message)
    with transaction.atomic(), _writing_for(message.agency):
        before = snapshot(message, ["status", "attempts", "next_attempt_at", "last_error"])
        now = timezone.now()
        updated = OutboundMessage.objects.filter(pk=message.pk, status__in=RETRYABLE).update(
            status=Status.QUEUED, attempts=0, next_attempt_at=now, enqueued_at=now, claimed_at=None, last_error=""
        )
        if updated != 1:
            raise ValidationError(_("Only a failed or uncertain message can be sent again."))
        message.refresh_from_db()
        record_change(agency=message.agency, actor=actor, obj=message, before=before)
        transaction.on_commit(partial(enqueue_send, message.pk), robust=True)
    return message


def cancel_message(message: OutboundMessage, actor) -> OutboundMessage:
    """Stop a message that has not been sent (queued, failed or uncertain)."""
    _check_manage(actor, message)
    with transaction.atomic(), _writing_for(message.agency):
        before = snapshot(message, ["status"])
        fields = {"status": Status.CANCELLED}
        if message.sensitive:
            fields.update(body="", html_body="")
        updated = OutboundMessage.objects.filter(pk=message.pk, status__in=CANCELLABLE).update(**fields)
        if updated != 1:
            raise ValidationError(_("This message is being sent or was sent already; it cannot be cancelled."))
        message.refresh_from_db()
        record_change(agency=message.agency, actor=actor, obj=message, before=before)
    return message
