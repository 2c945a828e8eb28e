"""Recording communications and reminders, and sending the reminders due (exactly once, by the client's channel)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.casework import communications
from caseload.casework.jobs import send_reminders
from caseload.casework.models import Communication
from caseload.casework.tests.comm_helpers import (
    days,
    fresh,
    in_scope,
    invite,
    messages_to,
    portal_client,
    record,
    register,
    remind,
    today,
)
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

Status = Communication.Status


def kind_error(error: pytest.ExceptionInfo) -> str:
    return error.value.message_dict["kind"][0]


# --- Recording -----------------------------------------------------------------------------------


def test_it_records_a_contact_with_its_author_and_an_audit_event_without_the_body(agency, caseworker):
    amina = register(agency, email="amina@example.org")
    call = record(
        amina, caseworker, kind="phone", direction="incoming", subject="Asked about childcare", body="Needs a spot for her son."
    )
    assert (call.kind, call.direction, call.status, call.channel) == ("phone", "incoming", Status.RECORDED, "")
    assert call.author.user == caseworker and call.date == today(agency)
    with agency_scope(agency):
        (event,) = AuditEvent.objects.for_agency(agency).filter(
            action=AuditEvent.Action.CREATE, object_type="casework.communication"
        )
    assert event.client_id == amina.pk and "Needs a spot" not in str(event.changes)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "pigeon"}, "kind"),
        ({"kind": ""}, "kind"),
        ({"direction": "sideways"}, "direction"),
        ({"date": None}, "date"),
        ({"subject": "", "body": ""}, "subject"),
        ({"subject": "x" * 201}, "subject"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(agency, data, field):
    amina = register(agency)
    with pytest.raises(ValidationError) as refused:
        record(amina, **data)
    assert field in refused.value.message_dict
    assert in_scope(agency, lambda: Communication.objects.for_agency(agency).count()) == 0


def test_a_contact_cannot_be_dated_in_the_future(agency):
    with pytest.raises(ValidationError) as refused:
        record(register(agency), date=days(agency, 1))
    assert "reminder" in refused.value.message_dict["date"][0]


def test_another_agencys_program_is_refused(agency, other_agency):
    theirs = make_program(other_agency, "Their program")
    with pytest.raises(ValidationError) as refused:
        record(register(agency), program=theirs)
    assert list(refused.value.message_dict) == ["program"]


def test_a_merged_profile_takes_no_new_communication(agency):
    from caseload.clients.merging import merge_clients

    kept, merged = register(agency), register(agency, given_name="Amena")
    in_scope(agency, merge_clients, kept, merged, None, "Same person")
    merged.refresh_from_db()
    with pytest.raises(ValidationError):
        record(merged)


# --- The reminder rule ---------------------------------------------------------------------------


def test_a_reminder_to_a_client_without_a_portal_account_is_refused_saying_why_and_what_to_do(agency):
    amina = register(agency, email="amina@example.org")
    with pytest.raises(ValidationError) as refused:
        remind(amina)
    message = kind_error(refused)
    assert "no portal account" in message and "Invite them to the portal from the Actions menu" in message
    assert in_scope(agency, lambda: Communication.objects.for_agency(agency).count()) == 0


def test_a_reminder_to_a_client_who_never_logged_in_is_refused_saying_so(agency):
    amina = invite(register(agency, email="amina@example.org"))
    with pytest.raises(ValidationError) as refused:
        remind(amina)
    assert "never logged in" in kind_error(refused) and "resend it from the Actions menu" in kind_error(refused)


def test_a_reminder_to_a_deactivated_portal_account_is_refused(agency):
    amina = portal_client(agency)
    amina.portal_user.is_active = False
    amina.portal_user.save(update_fields=["is_active"])
    with pytest.raises(ValidationError) as refused:
        remind(amina)
    assert "deactivated" in kind_error(refused)


def test_a_reminder_is_scheduled_outgoing_with_its_planned_channel(agency, caseworker):
    amina = portal_client(agency)
    reminder = remind(amina, caseworker, direction="incoming", date=days(agency, 3))
    assert (reminder.status, reminder.direction, reminder.channel, reminder.date) == (
        Status.SCHEDULED,
        "outgoing",
        "email",
        days(agency, 3),
    )
    assert messages_to(amina, kind="reminder") == []


def test_a_reminder_cannot_be_sent_in_the_past_nor_without_its_text(agency):
    amina = portal_client(agency)
    with pytest.raises(ValidationError) as refused:
        remind(amina, date=days(agency, -1), subject="", body="")
    assert set(refused.value.message_dict) == {"date", "subject", "body"}


@pytest.mark.parametrize(
    ("details", "channel"),
    [
        ({"preferred_contact_method": "email", "consent_email": True}, "email"),
        ({"preferred_contact_method": "sms", "phone": "416-555-0123", "consent_sms": True}, "sms"),
        # Prefers SMS but never agreed to it: email instead.
        ({"preferred_contact_method": "sms", "phone": "416-555-0123", "consent_sms": False, "consent_email": True}, "email"),
        # Prefers phone calls: email when they agreed to it, else SMS, else the portal only.
        ({"preferred_contact_method": "phone", "phone": "416-555-0123", "consent_sms": True, "consent_email": False}, "sms"),
        ({"preferred_contact_method": "email", "consent_email": False}, ""),
    ],
)
def test_the_channel_follows_the_preference_and_the_consents(agency, details, channel):
    amina = portal_client(agency, **details)
    assert communications.reminder_channel(amina) == channel


# --- Sending -------------------------------------------------------------------------------------


def test_a_reminder_due_today_is_sent_exactly_once_by_email_to_an_email_client(agency, caseworker):
    amina = portal_client(agency, preferred_contact_method="email")
    reminder = remind(amina, caseworker)

    assert send_reminders.call() == 1
    assert send_reminders.call() == 0
    assert communications.send_due_reminders() == 0

    (message,) = messages_to(amina, kind="reminder")
    assert (message.channel, message.to, message.kind, message.subject) == (
        "email",
        "amina@example.org",
        "reminder",
        "Workshop tomorrow",
    )
    assert "Bring your resume" in message.body and "/portal/" in message.body
    sent = fresh(reminder)
    assert (sent.status, sent.channel, sent.message, sent.failure_reason) == (Status.SENT, "email", message, "")
    assert sent.sent_at is not None


def test_a_reminder_due_today_goes_by_sms_to_an_sms_client(agency):
    wei = portal_client(agency, email="wei@example.org", preferred_contact_method="sms", phone="416-555-0123", consent_sms=True)
    reminder = remind(wei)
    assert communications.send_due_reminders() == 1
    (message,) = messages_to(wei, kind="reminder")
    assert (message.channel, message.to, message.kind) == ("sms", "+14165550123", "reminder")
    assert "Workshop tomorrow" in message.body and "Bring your resume" in message.body
    assert fresh(reminder).channel == "sms"


def test_a_portal_only_reminder_is_sent_without_an_outbox_message(agency):
    amina = portal_client(agency, consent_email=False)
    reminder = remind(amina)
    assert communications.send_due_reminders() == 1
    assert messages_to(amina, kind="reminder") == []
    sent = fresh(reminder)
    assert (sent.status, sent.channel, sent.message) == (Status.SENT, "", None)


def test_two_claims_of_one_reminder_send_it_once(agency):
    amina = portal_client(agency)
    reminder = remind(amina)
    day = today(agency)
    assert communications.send_reminder(agency, reminder.pk, day) == Status.SENT
    assert communications.send_reminder(agency, reminder.pk, day) == "skipped"
    assert len(messages_to(amina, kind="reminder")) == 1


def test_a_future_reminder_waits_for_its_day(agency):
    amina = portal_client(agency)
    reminder = remind(amina, date=days(agency, 2))
    assert communications.send_due_reminders() == 0
    assert fresh(reminder).status == Status.SCHEDULED and messages_to(amina, kind="reminder") == []
    assert communications.send_due_reminders(today=days(agency, 2)) == 1
    assert fresh(reminder).status == Status.SENT


def test_reminders_of_every_agency_are_sent(agency, other_agency):
    ours, theirs = portal_client(agency), portal_client(other_agency, email="bo@example.org", given_name="Bo")
    remind(ours), remind(theirs)
    assert communications.send_due_reminders() == 2
    assert len(messages_to(ours, kind="reminder")) == 1 and len(messages_to(theirs, kind="reminder")) == 1


def test_a_reminder_fails_when_the_client_withdrew_consent_before_the_send_date(agency):
    amina = portal_client(agency)
    reminder = remind(amina, date=days(agency, 1))
    amina.consent_email = False
    amina.save(update_fields=["consent_email"])
    assert communications.send_due_reminders(today=days(agency, 1)) == 0
    failed = fresh(reminder)
    assert failed.status == Status.FAILED and "no longer agrees to be contacted by email" in failed.failure_reason
    assert messages_to(amina, kind="reminder") == []


def test_a_reminder_fails_when_the_client_lost_portal_access(agency):
    amina = portal_client(agency)
    reminder = remind(amina)
    amina.portal_user.is_active = False
    amina.portal_user.save(update_fields=["is_active"])
    assert communications.send_due_reminders() == 0
    failed = fresh(reminder)
    assert failed.status == Status.FAILED and "portal account" in failed.failure_reason
    with agency_scope(agency):
        (event,) = AuditEvent.objects.for_agency(agency).filter(
            action=AuditEvent.Action.SEND, object_type="casework.communication", object_id=str(reminder.pk)
        )
    assert event.changes["status"] == [Status.SCHEDULED, Status.FAILED]


def test_a_failed_reminder_edited_is_scheduled_again(agency, caseworker):
    amina = portal_client(agency)
    reminder = remind(amina)
    amina.portal_user.is_active = False
    amina.portal_user.save(update_fields=["is_active"])
    communications.send_due_reminders()
    amina.portal_user.is_active = True
    amina.portal_user.save(update_fields=["is_active"])
    edited = in_scope(agency, communications.update_communication, fresh(reminder), caseworker, {"subject": "Workshop today"})
    assert (edited.status, edited.failure_reason) == (Status.SCHEDULED, "")
    assert communications.send_due_reminders() == 1


# --- Changing and deleting ---------------------------------------------------------------------


def test_an_edit_changes_the_fields_and_is_audited(agency, caseworker):
    call = record(register(agency), caseworker)
    edited = in_scope(
        agency, communications.update_communication, call, caseworker, {"subject": "Called back", "direction": "incoming"}
    )
    assert (edited.subject, edited.direction, edited.updated_by) == ("Called back", "incoming", caseworker)
    with agency_scope(agency):
        (event,) = AuditEvent.objects.for_agency(agency).filter(
            action=AuditEvent.Action.CHANGE, object_type="casework.communication", object_id=str(call.pk)
        )
    assert set(event.changes) == {"subject", "direction"}


def test_a_contact_turned_into_a_reminder_follows_the_reminder_rule(agency, caseworker):
    call = record(register(agency, email="amina@example.org"), caseworker)
    with pytest.raises(ValidationError) as refused:
        in_scope(agency, communications.update_communication, call, caseworker, {"kind": "reminder", "body": "See you"})
    assert "no portal account" in kind_error(refused)
    assert fresh(call).kind == "phone"


def test_a_sent_reminder_cannot_be_edited(agency, caseworker):
    reminder = remind(portal_client(agency))
    communications.send_due_reminders()
    with pytest.raises(ValidationError):
        in_scope(agency, communications.update_communication, fresh(reminder), caseworker, {"subject": "Changed"})
    assert fresh(reminder).subject == "Workshop tomorrow"


def test_deleting_a_scheduled_reminder_cancels_it(agency, caseworker):
    reminder = remind(portal_client(agency), date=days(agency, 1))
    in_scope(agency, communications.delete_communication, reminder, caseworker)
    deleted = fresh(reminder)
    assert deleted.status == Status.CANCELLED and deleted.deleted_at is not None and deleted.deleted_by == caseworker
    assert communications.send_due_reminders(today=days(agency, 1)) == 0
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(action=AuditEvent.Action.DELETE, object_type="casework.communication", object_id=str(reminder.pk))
            .exists()
        )


def test_deleting_a_sent_reminder_keeps_it_sent(agency, caseworker):
    amina = portal_client(agency)
    reminder = remind(amina)
    communications.send_due_reminders()
    in_scope(agency, communications.delete_communication, fresh(reminder), caseworker)
    deleted = fresh(reminder)
    assert deleted.status == Status.SENT and deleted.deleted_at is not None
    assert [m.status for m in messages_to(amina, kind="reminder")] == ["queued"]  # the message still goes; nothing is pulled back


def test_the_author_is_the_actors_membership_in_the_clients_agency(agency, other_agency):
    both = make_member(agency, "Caseworker")
    call = record(register(agency), both.user)
    assert call.author == both
