from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from caseload.audit.models import AuditEvent
from caseload.messaging import sms
from caseload.messaging.actions import (
    UNCERTAIN_ERROR,
    backoff,
    cancel_message,
    dispatch_due,
    email_message_id,
    queue_email,
    queue_sms,
    recover_stale_sends,
    retry_message,
    send_many,
    send_one,
)
from caseload.messaging.models import OutboundMessage
from caseload.messaging.tests.backends import FlakySmsBackend
from caseload.tenancy.scoping import agency_scope, all_agencies

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


def _update(message, **fields):
    with all_agencies():
        OutboundMessage.objects.filter(pk=message.pk).update(**fields)
    message.refresh_from_db()


def _make_due(message):
    _update(message, next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_failing_send_is_retried_with_growing_back_off_and_sent_exactly_once(agency, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "caseload.messaging.tests.backends.FlakySmsBackend"
    FlakySmsBackend.reset(failures=3)
    # The first attempt: the task enqueued on commit (the immediate task backend runs it at once).
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(agency=agency, to="+1 514 555 0123", body="Your appointment is at 10")
    delays = []
    for attempt in range(1, 4):
        message.refresh_from_db()
        assert (message.status, message.attempts) == (Status.QUEUED, attempt)
        assert message.last_error == f"ProviderDown: provider unavailable (attempt {attempt})"
        delays.append(message.next_attempt_at - timezone.now())
        assert dispatch_due() == 0  # not due yet: nothing is sent early
        assert send_one(message.pk) == "skipped"
        _make_due(message)
        # The periodic dispatcher enqueues what is due.
        assert dispatch_due() == 1
    assert delays[0] < delays[1] < delays[2]
    assert timedelta(seconds=25) < delays[0] <= timedelta(seconds=30)
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.provider_message_id == "flaky-1"
    assert message.last_error == ""

    # Whatever is enqueued or run again afterwards, the provider got it once.
    assert send_one(message.pk) == "skipped"
    _make_due(message)
    assert dispatch_due() == 0
    assert FlakySmsBackend.attempts == 4
    assert FlakySmsBackend.deliveries == [("+15145550123", "Your appointment is at 10", str(message.uuid))]


def test_a_message_fails_for_good_after_the_last_attempt(agency, settings):
    settings.SMS_BACKEND = "caseload.messaging.tests.backends.FlakySmsBackend"
    settings.OUTBOX_MAX_ATTEMPTS = 2
    FlakySmsBackend.reset(failures=99)
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    assert send_one(message.pk) == Status.QUEUED
    _make_due(message)
    assert send_one(message.pk) == Status.FAILED
    _make_due(message)
    assert send_one(message.pk) == "skipped"
    assert dispatch_due() == 0
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Status.FAILED, 2)
    assert FlakySmsBackend.attempts == 2


def test_the_back_off_doubles_up_to_its_cap(settings):
    settings.OUTBOX_RETRY_BASE_SECONDS = 30
    settings.OUTBOX_RETRY_MAX_SECONDS = 3600
    assert timedelta(seconds=27) <= backoff(1) <= timedelta(seconds=30)
    assert timedelta(seconds=54) <= backoff(2) <= timedelta(seconds=60)
    assert timedelta(seconds=3240) <= backoff(12) <= timedelta(seconds=3600)
    assert backoff(500) <= timedelta(seconds=3600)


def test_a_message_being_sent_is_not_claimed_by_a_second_worker(agency):
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    _update(message, status=Status.SENDING, claimed_at=timezone.now())
    assert send_one(message.pk) == "skipped"
    assert sms.outbox == []


def test_an_email_carries_a_message_id_fixed_by_the_row_and_its_html_version(agency, settings):
    settings.DEFAULT_FROM_EMAIL = "Northside <no-reply@northside.example>"
    message = queue_email(agency=agency, to="client@example.org", subject="Hello", body="Plain text", html_body="<p>Rich</p>")
    assert send_one(message.pk) == Status.SENT
    message.refresh_from_db()
    [email] = mail.outbox
    assert email.extra_headers["Message-ID"] == f"<{message.uuid}@northside.example>" == email_message_id(message)
    assert email.message()["Message-ID"] == f"<{message.uuid}@northside.example>"
    assert email.from_email == "Northside <no-reply@northside.example>"
    assert email.alternatives[0][0] == "<p>Rich</p>"
    assert message.provider_message_id == email_message_id(message)


def test_an_error_message_keeps_out_configured_secrets(agency, settings, monkeypatch):
    settings.EMAIL_HOST_PASSWORD = "hunter2-smtp-password"

    def refuse(self, messages):
        raise OSError("535 authentication failed for hunter2-smtp-password\nsecond line")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    message = queue_email(agency=agency, to="client@example.org", subject="Hello", body="Body")
    assert send_one(message.pk) == Status.QUEUED
    message.refresh_from_db()
    assert message.last_error == "OSError: 535 authentication failed for [redacted] second line"


def test_a_send_left_running_past_its_lease_becomes_uncertain_and_is_not_sent_again(agency, settings):
    settings.OUTBOX_SEND_LEASE_SECONDS = 300
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    fresh = queue_sms(agency=agency, to="+15145550124", body="Hi")
    _update(message, status=Status.SENDING, claimed_at=timezone.now() - timedelta(seconds=301), attempts=1)
    _update(fresh, status=Status.SENDING, claimed_at=timezone.now() - timedelta(seconds=200), attempts=1)
    assert recover_stale_sends() == 1
    message.refresh_from_db()
    fresh.refresh_from_db()
    assert (message.status, message.last_error) == (Status.UNCERTAIN, UNCERTAIN_ERROR)
    assert fresh.status == Status.SENDING
    assert dispatch_due() == 0
    assert send_one(message.pk) == "skipped"
    assert sms.outbox == []


def test_the_dispatcher_enqueues_a_lost_enqueue_once_the_redispatch_delay_has_passed(agency, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_REDISPATCH_SECONDS = 300
    # Written, but its on-commit enqueue never ran (say the process died right after the commit).
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    assert dispatch_due() == 0  # it may still be waiting in the task queue
    _update(message, enqueued_at=timezone.now() - timedelta(seconds=301))
    assert dispatch_due() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(sms.outbox) == 1


def test_a_manager_can_retry_an_uncertain_message_and_it_is_audited(agency, manager, django_capture_on_commit_callbacks):
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    _update(message, status=Status.UNCERTAIN, attempts=1, last_error=UNCERTAIN_ERROR)
    with django_capture_on_commit_callbacks(execute=True), agency_scope(agency):
        retry_message(message, manager)
        event = AuditEvent.objects.filter(object_id=str(message.pk), action="change").get()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(sms.outbox) == 1
    assert event.actor == manager
    assert event.changes["status"] == ["uncertain", "queued"]


def test_a_sent_message_cannot_be_retried_or_cancelled(agency, manager):
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    send_one(message.pk)
    with agency_scope(agency):
        with pytest.raises(ValidationError):
            retry_message(message, manager)
        with pytest.raises(ValidationError):
            cancel_message(message, manager)
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_a_cancelled_message_is_never_sent(agency, manager):
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    with agency_scope(agency):
        cancel_message(message, manager)
    assert send_one(message.pk) == "skipped"
    assert dispatch_due() == 0
    assert sms.outbox == []
    message.refresh_from_db()
    assert message.status == Status.CANCELLED


def test_retry_and_cancel_need_the_manage_permission(agency, auditor, caseworker, outsider):
    message = queue_sms(agency=agency, to="+15145550123", body="Hi")
    _update(message, status=Status.FAILED)
    for user in (auditor, caseworker, outsider):
        with pytest.raises(PermissionDenied):
            retry_message(message, user)
        with pytest.raises(PermissionDenied):
            cancel_message(message, user)
    message.refresh_from_db()
    assert message.status == Status.FAILED


def test_a_send_marks_the_row_sent_and_writes_its_audit_event_with_it(agency):
    """The row and its event are written together (one statement on PostgreSQL): the event says what was
    sent, by nobody, when; a sensitive message's body is gone once it is sent."""
    plain = queue_email(agency=agency, to="amina@example.org", subject="Your appointment", body="Thursday at 10")
    secret = queue_email(agency=agency, to="amina@example.org", subject="Reset", body="https://x/reset/abc", sensitive=True)
    for message in (plain, secret):
        _make_due(message)
        before = timezone.now()
        assert send_one(message.pk) == Status.SENT
        message.refresh_from_db()
        assert message.status == Status.SENT and message.sent_at >= before and message.last_error == ""
        assert message.provider_message_id == email_message_id(message)
        with all_agencies():
            [sent] = AuditEvent.objects.filter(object_type="messaging.outboundmessage", object_id=str(message.pk), action="send")
        assert (sent.agency_id, sent.actor_id, sent.actor_label) == (agency.pk, None, "")
        assert sent.changes == {"status": ["sending", "sent"]}
        assert sent.object_repr == str(message)[:200] and sent.created_at >= before
    assert (plain.body, secret.body) == ("Thursday at 10", "")


def test_a_batch_sends_each_due_message_once_and_says_what_became_of_each(agency, settings):
    settings.SMS_BACKEND = "caseload.messaging.tests.backends.FlakySmsBackend"
    FlakySmsBackend.reset(failures=1)
    failing, first, later, second = (queue_sms(agency=agency, to=f"+1 514 555 012{n}", body=f"Note {n}") for n in range(4))
    _update(later, next_attempt_at=timezone.now() + timedelta(hours=1))
    ids = [failing.pk, first.pk, later.pk, first.pk, 999_999_999, second.pk]
    assert send_many([str(pk) for pk in ids]) == [Status.QUEUED, Status.SENT, "skipped", "skipped", "skipped", Status.SENT]
    assert [to for to, _body, _key in FlakySmsBackend.deliveries] == ["+15145550121", "+15145550123"]
    with all_agencies():
        statuses = dict(OutboundMessage.objects.values_list("pk", "status"))
        sends = AuditEvent.objects.filter(action="send", object_type="messaging.outboundmessage")
        assert sorted(int(pk) for pk in sends.values_list("object_id", flat=True)) == sorted([first.pk, second.pk])
    assert statuses == {failing.pk: Status.QUEUED, first.pk: Status.SENT, later.pk: Status.QUEUED, second.pk: Status.SENT}


def test_the_dispatcher_hands_the_due_queue_out_in_batches(agency, monkeypatch):
    from caseload.messaging import actions, tasks

    monkeypatch.setattr(actions, "SEND_BATCH", 2)
    handed_out = []

    class Recorded:
        enqueue = staticmethod(handed_out.append)

    monkeypatch.setattr(tasks, "send_messages", Recorded)
    messages = [queue_sms(agency=agency, to="+1 514 555 0123", body=f"Note {n}") for n in range(5)]
    for message in messages:
        _update(message, enqueued_at=None)
    assert dispatch_due() == 5
    assert handed_out == [[str(messages[0].pk), str(messages[1].pk)], [str(messages[2].pk), str(messages[3].pk)], [str(messages[4].pk)]]
    assert dispatch_due() == 0  # handed out: not again before the redispatch delay
