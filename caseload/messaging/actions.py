"""The outbox: every email and SMS is a row written in the transaction that causes it.

``queue_email``/``queue_sms`` write the row and, once the transaction commits, enqueue a send
task (a rolled-back change sends nothing). ``send_one`` claims a row with one conditional UPDATE,
so of two workers given the same message only one sends it; a failure goes back to the queue
with exponential back-off, and a worker that dies mid-send leaves the row ``sending`` until
``recover_stale_sends`` marks it ``uncertain`` for a person to check — never re-sent on its own.
``dispatch_due`` (run every minute by the scheduler) enqueues retries and lost enqueues, in tasks
of several messages each (``send_many``: the same claims and records, one commit a message).
"""

from __future__ import annotations

import logging
import random
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache, partial
from typing import Any

import phonenumbers
import psycopg
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import DNS_NAME, EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import get_scope, scopes_disabled

from caseload import rawrows
from caseload.audit.actions import Action, event, record, record_change, snapshot
from caseload.audit.models import AuditEvent
from caseload.messaging.models import CANCELLABLE, RETRYABLE, OutboundMessage
from caseload.messaging.sms import get_sms_backend
from caseload.tenancy.models import Agency
from caseload.tenancy.permissions import membership_in
from caseload.tenancy.scoping import RLS_SETTING, ScopeError, agency_scope, all_agencies, current_agency

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
    return f"<{message.uuid}@{_message_id_domain(settings.DEFAULT_FROM_EMAIL)}>"


@lru_cache(maxsize=16)
def _message_id_domain(from_email: str) -> str:
    """The domain of the sender's address (parsed once per address, not once per message), else the host's name."""
    return parseaddr(from_email)[1].rpartition("@")[2] or str(DNS_NAME)


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
    A send is two round trips to the database, each committed on its own: the claim, and the row
    marked sent with its audit event (see ``_SendWrites``): ``send_many`` of this one message.
    """
    (status,) = send_many([message_id])
    return status


def _sent_record(message: OutboundMessage, provider_message_id: str) -> tuple:
    """``mark_sent``'s arguments for a message the provider took: when, the provider's id, and its audit event."""
    # The agency by its id: the event needs no query for the agency itself.
    sent = event(
        agency=None, agency_id=message.agency_id, actor=None, action=Action.SEND, obj=message, changes={"status": [Status.SENDING, Status.SENT]}
    )
    return message, timezone.now(), (provider_message_id or "")[:200], sent


def _log_sent(message: OutboundMessage) -> None:
    logger.info("Outbox message %s sent (%s) after %s attempt(s)", message.pk, message.channel, message.attempts)


# The most messages one ``send_messages`` task sends: ``dispatch_due`` hands the queue out in tasks of this many, small
# enough for several workers to share a few dozen messages, large enough that a send is one commit, not two.
SEND_BATCH = 20


def send_many(message_ids: list[int] | list[str]) -> list[str]:
    """Send each message in turn as ``send_one`` would; the status each ends in, in order.

    One round trip and one commit a message where ``send_one`` takes two: the record of a message sent goes to the
    database with the claim of the next (``mark_sent_and_claim``), which is what ``send_one`` would commit next
    anyway. The record is still committed before the next message is delivered, so a worker that dies leaves what
    ``send_one`` leaves: the message it was delivering ``sending`` (for ``recover_stale_sends``), the rest queued.
    """
    ids = [int(pk) for pk in message_ids]
    writes = _SendWrites.of(connections[router.db_for_write(OutboundMessage)])
    statuses: list[str] = []
    pending: tuple | None = None  # the last message sent, not yet recorded
    with writes.system_context():
        for pk in ids:
            if pending is None:
                message = writes.claim(pk, timezone.now())
            else:
                message = writes.mark_sent_and_claim(pending, pk, timezone.now())
                _log_sent(pending[0])
                pending = None
            if message is None:
                statuses.append("skipped")
                continue
            try:
                provider_message_id = deliver(message)
            except Exception as exc:
                statuses.append(_record_failure(message, exc))
                continue
            pending = _sent_record(message, provider_message_id)
            statuses.append(Status.SENT)
        if pending is not None:
            writes.mark_sent(*pending)
            _log_sent(pending[0])
    return statuses


def _record_failure(message: OutboundMessage, exc: Exception) -> str:
    error = describe_error(exc)
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        fields = {"status": Status.FAILED, "last_error": error}
    else:
        fields = {"status": Status.QUEUED, "last_error": error, "next_attempt_at": timezone.now() + backoff(message.attempts)}
    with all_agencies():
        OutboundMessage.objects.filter(pk=message.pk, claimed_at=message.claimed_at, status=Status.SENDING).update(**fields)
    logger.warning("Outbox message %s attempt %s failed (%s); now %s", message.pk, message.attempts, error, fields["status"])
    return fields["status"]


def _literal(value: str) -> str:
    """One of the outbox's own constants (a status: a plain word) as an SQL string literal."""
    if not value.isidentifier():
        raise ValueError(f"not a plain word: {value!r}")
    return f"'{value}'"


# The system context for one transaction (see _SendWrites), and, inside a caller's transaction, the scope in
# force saved before it and put back after it.
_ENTER_SYSTEM = f"SET LOCAL {RLS_SETTING} = ''"
_SAVE_SCOPE = f"SELECT set_config('caseload.outbox_saved_scope', coalesce(current_setting('{RLS_SETTING}', true), ''), true)"
_RESTORE_SCOPE = f"SELECT set_config('{RLS_SETTING}', current_setting('caseload.outbox_saved_scope'), true)"
# What the database answers when the session does not hold the prepared statements this connection gave it (a
# DISCARD ALL, a pooler handing out another server session) or holds one it did not expect, or when a table changed
# under a cached plan: no such statement, already exists, cached plan must not change result type. Nothing ran.
_LOST_PREPARED_STATEMENT = {"26000", "42P05", "0A000"}


class _Session:
    """What this process knows of one database session (the driver's connection): the send's statements prepared
    on it, and whether to send them unprepared from now on."""

    def __init__(self) -> None:
        self.prepared: set[str] = set()
        self.unprepared = False


# Keyed by the session itself, so every connection object of this process that reaches a session shares one view of
# it, and a session gone (closed, reconnected) takes its entry with it.
_sessions: weakref.WeakKeyDictionary[Any, _Session] = weakref.WeakKeyDictionary()


def _session(connection) -> _Session:
    session = connection.connection
    known = _sessions.get(session)
    if known is None:
        known = _sessions[session] = _Session()
    return known


class _Statement:
    """One of the send's statements (``%s`` parameters), and its prepared form on PostgreSQL."""

    def __init__(self, name: str, sql: str) -> None:
        self.name, self.sql = name, sql
        count = sql.count("%s")
        numbered = iter(f"${n}" for n in range(1, count + 1))
        self.prepare = f"PREPARE {name} AS " + re.sub("%s", lambda _match: next(numbered), sql)
        self.execute = f"EXECUTE {name}({', '.join(['%s'] * count)})"


class _SendWrites:
    """A send's two writes on one database, built once per connection (not once per message).

    ``claim``: one UPDATE ... RETURNING, committed at once, that both claims the message if it is queued
    and due and reads it back (of two workers only one gets the row). ``mark_sent``: one statement (a
    data-modifying WITH) that marks the row sent, if it is still this claim's (also from ``uncertain``:
    a send slower than its lease that did complete is known sent), and inserts its audit event: both or
    neither, committed on its own. A send is these two round trips and nothing else; in a batch
    (``send_many``), a message's record and the next message's claim are one (``mark_sent_and_claim``).

    Both run in the system context (the worker serves every agency). On PostgreSQL each carries it: the
    statement follows ``SET LOCAL <agency setting> = ''`` in the same round trip (several statements in
    one simple query: one transaction), a setting local to that transaction, so a send spends no round
    trips entering and leaving ``all_agencies()`` and leaves the connection's scope as it found it. Outside
    a transaction (the worker's case) the statements are prepared once per database session (PREPARE, then
    EXECUTE: no parsing, rewriting and planning per message, a third of the database's time for a send);
    should the session have lost them (a DISCARD ALL, a pooler handing out another session), that write is
    sent unprepared, and so are the next ones on that session. Inside a caller's transaction, where a
    local setting would outlive the statement, they are sent unprepared, with the scope in force saved first
    and put back last, still in one round trip. On SQLite (no row-level security, no data-modifying WITH)
    the claim is the same UPDATE ... RETURNING and the record a transaction of two statements, in
    ``all_agencies()``.

    Identifiers come from the models, quoted; the statuses are literals; every other value is a parameter.
    """

    @classmethod
    def of(cls, connection) -> _SendWrites:
        writes = connection.__dict__.get("_caseload_send_writes")
        if writes is None:
            writes = connection.__dict__["_caseload_send_writes"] = cls(connection)
        return writes

    def __init__(self, connection) -> None:
        self.connection = connection
        alias = connection.alias
        self.postgresql = connection.vendor == "postgresql"
        self.server_side_binding = self.postgresql and connection.settings_dict["OPTIONS"].get("server_side_binding") is True
        # With server-side binding: a client-side cursor of the current session, to merge parameters into the text.
        self.merging_on: Any = None
        self.merger: psycopg.ClientCursor | None = None
        self.load = rawrows.loader(OutboundMessage, alias)
        self.time_field = OutboundMessage._meta.get_field("sent_at")
        column, audit = rawrows.Quoted(OutboundMessage, alias), rawrows.Quoted(AuditEvent, alias)
        # Each statement finds its row by the primary key alone: the conditions on the status are one CASE, which
        # no index can serve. Written as plain conditions, a prepared statement's generic plan (the same for every
        # message) was seen to read the row through the due index (status, next attempt) instead, going through
        # every due message of the queue to find one.
        self.claim_statement = _Statement(
            "caseload_outbox_claim",
            f"UPDATE {column.table} SET {column['status']} = {_literal(Status.SENDING)}, {column['claimed_at']} = %s, "  # noqa: S608
            f"{column['attempts']} = {column['attempts']} + 1, {column['enqueued_at']} = NULL "
            f"WHERE {column['pk']} = %s "
            f"AND CASE WHEN {column['status']} = {_literal(Status.QUEUED)} THEN {column['next_attempt_at']} <= %s ELSE false END "
            f"RETURNING {rawrows.columns(OutboundMessage, alias)}",
        )
        self.audit_fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
        # How each of the event's values goes to the database: text and ids as they are (get_db_prep_save would
        # hand them back unchanged), the rest (its time, changes, IP address) through the field.
        self.audit_preps = [
            None if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.ForeignKey) else field.get_db_prep_save
            for field in self.audit_fields
        ]
        inserted = ", ".join(audit[field.name] for field in self.audit_fields)
        self.sent_statements: dict[bool, _Statement] = {}
        for sensitive in (False, True) if self.postgresql else ():
            # A sensitive message's body is erased once it is sent.
            erase = f", {column['body']} = '', {column['html_body']} = ''" if sensitive else ""
            self.sent_statements[sensitive] = _Statement(
                f"caseload_outbox_sent{'_erased' if sensitive else ''}",
                f"WITH sent AS (UPDATE {column.table} SET {column['status']} = {_literal(Status.SENT)}, "  # noqa: S608
                f"{column['sent_at']} = %s, {column['provider_message_id']} = %s, {column['last_error']} = ''{erase} "
                f"WHERE {column['pk']} = %s AND CASE WHEN {column['status']} IN ({_literal(Status.SENDING)}, "
                f"{_literal(Status.UNCERTAIN)}) THEN {column['claimed_at']} = %s ELSE false END RETURNING 1) "
                f"INSERT INTO {audit.table} ({inserted}) VALUES ({', '.join(['%s'] * len(self.audit_fields))})",
            )

    def _time(self, value: datetime) -> Any:
        """A time as the database takes it (on PostgreSQL the driver takes an aware datetime as it is)."""
        return value if self.postgresql else self.time_field.get_db_prep_save(value, self.connection)

    def system_context(self):
        """What a send runs in: no agency scope for the ORM; on PostgreSQL its statements carry the database's side."""
        return scopes_disabled() if self.postgresql else all_agencies()

    def _run(self, cursor, steps: list[tuple[_Statement, list[Any]]], read: bool = False) -> None:
        """Run the statements (``steps``: each with its parameters) in the system context, in one round trip and one
        transaction; ``read``: the cursor left on the last one's rows. On SQLite, one statement only."""
        connection = self.connection
        params = [value for _statement, values in steps for value in values]
        statements = [statement for statement, _values in steps]
        before_last = len(steps) - 1
        if not self.postgresql:
            (statement,) = statements
            cursor.execute(statement.sql, params)
            return
        if not connection.get_autocommit():
            # Inside a caller's transaction: unprepared (a lost prepared statement could not be retried here).
            sql = "; ".join(statement.sql for statement in statements)
            self._send(cursor, f"{_SAVE_SCOPE}; {_ENTER_SYSTEM}; {sql}; {_RESTORE_SCOPE}", params, 2 + before_last if read else 0)
            return
        session = _session(connection)
        if not session.unprepared:
            prepares = [statement.prepare for statement in statements if statement.name not in session.prepared]
            batch = "; ".join([*prepares, _ENTER_SYSTEM, *(statement.execute for statement in statements)])
            try:
                self._send(cursor, batch, params, len(prepares) + 1 + before_last if read else 0)
            except DatabaseError as exc:
                if getattr(exc.__cause__, "sqlstate", None) not in _LOST_PREPARED_STATEMENT:
                    raise
                # Nothing ran (the batch is one transaction, stopped at its first error): send it unprepared.
                logger.warning("Outbox statements unprepared on this database session from now on (%s)", exc)
                session.unprepared = True
            else:
                session.prepared.update(statement.name for statement in statements)
                return
        sql = "; ".join(statement.sql for statement in statements)
        self._send(cursor, f"{_ENTER_SYSTEM}; {sql}", params, 1 + before_last if read else 0)

    def _send(self, cursor, batch: str, params: list[Any], skip: int) -> None:
        """Several statements in one round trip (the simple query protocol: one transaction outside a caller's),
        the cursor moved ``skip`` results on. With server-side binding the driver takes several statements only
        without parameters: they are merged into the text first, as client-side binding does."""
        if self.server_side_binding:
            session = self.connection.connection
            if self.merging_on is not session:
                self.merging_on, self.merger = session, psycopg.ClientCursor(session)
            cursor.execute(self.merger.mogrify(batch, params))
        else:
            cursor.execute(batch, params)
        for _skipped in range(skip):
            cursor.nextset()

    def _claim_step(self, pk: int, now: datetime) -> tuple[_Statement, list[Any]]:
        at = self._time(now)
        return self.claim_statement, [at, pk, at]

    def _sent_step(self, message: OutboundMessage, sent_at: datetime, provider_message_id: str, sent: AuditEvent):
        connection = self.connection
        params = [
            self._time(sent_at),
            provider_message_id,
            message.pk,
            self._time(message.claimed_at),
            *(
                value if prep is None or value is None else prep(value, connection)
                for field, prep in zip(self.audit_fields, self.audit_preps, strict=True)
                for value in (field.pre_save(sent, True),)
            ),
        ]
        return self.sent_statements[message.sensitive], params

    def claim(self, pk: int, now: datetime) -> OutboundMessage | None:
        """The message, claimed (``sending``, one more attempt), if it was queued and due; else None."""
        with self.connection.cursor() as cursor:
            self._run(cursor, [self._claim_step(pk, now)], read=True)
            row = cursor.fetchone()
        return None if row is None else self.load(row)

    def mark_sent(self, message: OutboundMessage, sent_at: datetime, provider_message_id: str, sent: AuditEvent) -> None:
        """The message marked sent if the claim is still its own, and its audit event written, together."""
        connection = self.connection
        if not self.postgresql:  # no data-modifying WITH: a transaction of two statements
            fields = {"status": Status.SENT, "sent_at": sent_at, "provider_message_id": provider_message_id, "last_error": ""}
            if message.sensitive:
                fields.update(body="", html_body="")
            with transaction.atomic(using=connection.alias):
                OutboundMessage.objects.using(connection.alias).filter(
                    pk=message.pk, claimed_at=message.claimed_at, status__in=[Status.SENDING, Status.UNCERTAIN]
                ).update(**fields)
                sent.save(force_insert=True, using=connection.alias)
            return
        with connection.cursor() as cursor:
            self._run(cursor, [self._sent_step(message, sent_at, provider_message_id, sent)])

    def mark_sent_and_claim(self, sent: tuple, pk: int, now: datetime) -> OutboundMessage | None:
        """``mark_sent(*sent)``, then ``claim(pk, now)``: on PostgreSQL outside a transaction, in one round trip and
        one transaction (one commit where the two took two). Should that fail, nothing of it was written: the record
        is then written on its own, and the claim tried after it, as the two calls would."""
        if self.postgresql and self.connection.get_autocommit():
            try:
                with self.connection.cursor() as cursor:
                    self._run(cursor, [self._sent_step(*sent), self._claim_step(pk, now)], read=True)
                    row = cursor.fetchone()
                return None if row is None else self.load(row)
            except DatabaseError as exc:
                logger.warning("Outbox message %s: its record and the next claim failed together (%s); again apart", sent[0].pk, exc)
        self.mark_sent(*sent)
        return self.claim(pk, now)


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
    """Enqueue what is queued, due and not already enqueued recently: tasks of up to ``SEND_BATCH`` messages."""
    from caseload.messaging.tasks import send_messages

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
        for index in range(0, len(ids), SEND_BATCH):
            try:
                send_messages.enqueue([str(pk) for pk in ids[index : index + SEND_BATCH]])
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
