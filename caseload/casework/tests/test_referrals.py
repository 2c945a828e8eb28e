"""Service referrals: to another program of the agency or to a directory service; the status flow; the outcome."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.actions import REDACTED
from caseload.audit.models import AuditEvent
from caseload.casework import referrals
from caseload.casework.models import ServiceReferral
from caseload.casework.tests.referral_helpers import (  # noqa: F401 (fixtures)
    FOLLOW_UP,
    REASON,
    amina_fixture,
    bruno_fixture,
    food_bank_fixture,
    fresh,
    in_scope,
    job_club_fixture,
    make_directory,
    refer,
)
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope, all_agencies
from caseload.tenancy.tests.helpers import make_program

pytestmark = pytest.mark.django_db

Status = ServiceReferral.Status


def errors_of(function, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as raised:
        function(*args, **kwargs)
    return raised.value.message_dict


def count(agency) -> int:
    with agency_scope(agency):
        return ServiceReferral.objects.for_agency(agency).count()


# --- Creating ----------------------------------------------------------------------------------


def test_it_refers_a_client_to_another_program_of_the_agency(agency, caseworker, amina, job_club):
    referral = refer(amina, caseworker, kind="internal", to_program=job_club, follow_up_on=FOLLOW_UP)

    referral = fresh(referral)
    assert (referral.kind, referral.to_program, referral.service, referral.status) == ("internal", job_club, None, Status.SENT)
    assert referral.author == Membership.objects.for_agency(agency).get(user=caseworker)
    assert referral.referred_on == referrals.agency_today(agency)
    assert str(referral) == "Referral to Job Club"


def test_it_refers_a_client_to_a_directory_service_with_its_location_and_contact(agency, caseworker, amina, food_bank):
    referral = refer(
        amina,
        caseworker,
        kind="external",
        service=food_bank.service,
        location=food_bank.location,
        contact=food_bank.contact,
        referred_on=datetime.date(2030, 3, 1),
    )

    referral = fresh(referral)
    assert (referral.service, referral.location, referral.contact, referral.to_program) == (
        food_bank.service,
        food_bank.location,
        food_bank.contact,
        None,
    )
    assert referral.referred_on == datetime.date(2030, 3, 1)
    assert in_scope(agency, referrals.where_and_phone, referral) == ("Main depot (116 Industry St, Toronto)", "416-555-0122")


def test_creating_is_audited_without_the_reason(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)

    with agency_scope(agency):
        event = AuditEvent.objects.for_agency(agency).get(
            object_type="casework.servicereferral", object_id=str(referral.pk), action="create"
        )
    assert event.client_id == amina.pk and event.actor == caseworker
    assert event.changes["reason"] == [REDACTED, REDACTED]
    assert REASON not in str(event.changes)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "internal"}, "to_program"),
        ({"kind": "external"}, "service"),
        ({"kind": "elsewhere"}, "kind"),
        ({"kind": "external", "service": "the food bank's", "reason": "  "}, "reason"),
    ],
)
def test_it_names_the_missing_or_wrong_field(amina, caseworker, food_bank, data, field):
    data.setdefault("reason", REASON)
    if "service" in data:
        data["service"] = food_bank.service
    assert field in errors_of(in_scope, amina.agency, referrals.create_referral, amina, caseworker, data)
    assert count(amina.agency) == 0


def test_a_program_or_service_of_another_agency_is_refused_naming_the_field(agency, other_agency, caseworker, amina, food_bank):
    their_program = make_program(other_agency, "Their program")
    theirs = make_directory(other_agency, "Their food bank")

    assert "to_program" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "internal", "to_program": their_program, "reason": REASON},
    )
    assert "service" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "external", "service": theirs.service, "reason": REASON},
    )
    assert "location" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "external", "service": food_bank.service, "location": theirs.location, "reason": REASON},
    )
    assert "program" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "external", "service": food_bank.service, "program": their_program, "reason": REASON},
    )
    assert count(agency) == 0


def test_a_location_or_contact_of_another_organisation_is_refused(agency, caseworker, amina, food_bank):
    other = make_directory(agency, "Community Legal Clinic")
    data = {"kind": "external", "service": food_bank.service, "reason": REASON}
    assert "location" in errors_of(
        in_scope, agency, referrals.create_referral, amina, caseworker, {**data, "location": other.location}
    )
    assert "contact" in errors_of(
        in_scope, agency, referrals.create_referral, amina, caseworker, {**data, "contact": other.contact}
    )


def test_an_inactive_service_or_program_is_no_longer_offered(agency, caseworker, admin, amina, food_bank):
    from caseload.casework import directory

    in_scope(agency, directory.deactivate_service, food_bank.service, admin)
    assert "service" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "external", "service": food_bank.service, "reason": REASON},
    )
    closed = make_program(agency, "Closed program", is_active=False)
    assert "to_program" in errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "internal", "to_program": closed, "reason": REASON},
    )


def test_the_follow_up_cannot_come_before_the_referral(amina, caseworker, food_bank):
    data = {
        "kind": "external",
        "service": food_bank.service,
        "reason": REASON,
        "referred_on": datetime.date(2030, 3, 5),
        "follow_up_on": datetime.date(2030, 3, 4),
    }
    assert "follow_up_on" in errors_of(in_scope, amina.agency, referrals.create_referral, amina, caseworker, data)


# --- Reminding the client needs their consent --------------------------------------------------


def test_the_client_can_be_reminded_only_if_they_agreed_to_be_contacted(agency, caseworker, amina, bruno, food_bank):
    data = {"kind": "external", "service": food_bank.service, "reason": REASON, "follow_up_on": FOLLOW_UP, "remind_client": True}

    errors = errors_of(in_scope, agency, referrals.create_referral, bruno, caseworker, data)
    assert errors["remind_client"] == [
        "The client has not agreed to be contacted by email or text message (see their profile's consent)."
    ]
    assert refer(amina, caseworker, **data).remind_client is True


def test_consent_without_an_address_is_refused_with_the_reason(agency, caseworker, bruno, food_bank):
    bruno.consent_sms, bruno.phone = True, ""
    in_scope(agency, bruno.save)
    errors = errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        bruno,
        caseworker,
        {"kind": "external", "service": food_bank.service, "reason": REASON, "follow_up_on": FOLLOW_UP, "remind_client": True},
    )
    assert "no phone number" in errors["remind_client"][0]


def test_a_client_reminder_needs_a_follow_up_date(agency, caseworker, amina, food_bank):
    errors = errors_of(
        in_scope,
        agency,
        referrals.create_referral,
        amina,
        caseworker,
        {"kind": "external", "service": food_bank.service, "reason": REASON, "remind_client": True},
    )
    assert "follow_up_on" in errors


# --- The status flow ---------------------------------------------------------------------------


def test_sent_then_accepted_then_completed_with_the_outcome(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)

    in_scope(agency, referrals.respond_referral, referral, caseworker, "accepted")
    accepted = fresh(referral)
    assert accepted.status == Status.ACCEPTED and accepted.responded_at is not None and accepted.closed_at is None

    in_scope(
        agency,
        referrals.close_referral,
        accepted,
        caseworker,
        "completed",
        "Received a food hamper; registered for weekly pick-up.",
    )
    closed = fresh(referral)
    assert closed.status == Status.COMPLETED and closed.closed_at is not None
    assert closed.outcome == "Received a food hamper; registered for weekly pick-up."
    with agency_scope(agency):
        changes = [
            e.changes
            for e in AuditEvent.objects.for_agency(agency).filter(object_id=str(referral.pk), action="change").order_by("pk")
        ]
    assert changes[0]["status"] == ["sent", "accepted"]
    assert changes[1]["status"] == ["accepted", "completed"] and changes[1]["outcome"] == [REDACTED, REDACTED]


def test_a_declined_referral_is_closed_with_what_the_service_said(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    in_scope(agency, referrals.respond_referral, referral, caseworker, "declined", note="Outside their catchment area.")
    declined = fresh(referral)
    assert (declined.status, declined.outcome) == (Status.DECLINED, "Outside their catchment area.")
    assert declined.responded_at is not None and declined.closed_at is not None


def test_a_no_show_needs_no_outcome_but_completed_does(agency, caseworker, amina, food_bank):
    first = refer(amina, caseworker, kind="external", service=food_bank.service)
    second = refer(amina, caseworker, kind="external", service=food_bank.service)
    for referral in (first, second):
        in_scope(agency, referrals.respond_referral, referral, caseworker, "accepted")

    assert errors_of(in_scope, agency, referrals.close_referral, first, caseworker, "completed", "") == {
        "outcome": ["Say what came of the referral."]
    }
    in_scope(agency, referrals.close_referral, second, caseworker, "no_show")
    assert (fresh(first).status, fresh(second).status) == (Status.ACCEPTED, Status.NO_SHOW)


@pytest.mark.parametrize(
    ("moves", "move"),
    [
        ([], ("close", "completed")),  # sent → completed skips the answer
        ([], ("respond", "completed")),  # not an answer
        ([("respond", "accepted")], ("respond", "declined")),  # answered already
        ([("respond", "declined")], ("close", "no_show")),
        ([("respond", "accepted"), ("close", "completed")], ("cancel", None)),
        ([("cancel", None)], ("respond", "accepted")),
    ],
)
def test_an_invalid_status_move_is_refused_on_status(agency, caseworker, amina, food_bank, moves, move):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)

    def run(step, status):
        if step == "respond":
            return referrals.respond_referral(referral, caseworker, status)
        if step == "close":
            return referrals.close_referral(referral, caseworker, status, "Went well.")
        return referrals.cancel_referral(referral, caseworker)

    for step, status in moves:
        in_scope(agency, run, step, status)
    before = fresh(referral).status
    assert "status" in errors_of(in_scope, agency, run, *move)
    assert fresh(referral).status == before


def test_cancelling_an_open_referral(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    in_scope(agency, referrals.cancel_referral, referral, caseworker, note="The client found a closer food bank.")
    cancelled = fresh(referral)
    assert (
        cancelled.status == Status.CANCELLED
        and cancelled.closed_at is not None
        and cancelled.outcome == "The client found a closer food bank."
    )


# --- Changing and deleting ---------------------------------------------------------------------


def test_update_changes_the_details_and_brings_the_reminders_back_with_a_new_date(agency, caseworker, amina, food_bank, job_club):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP)
    with agency_scope(agency):
        ServiceReferral.objects.for_agency(agency).filter(pk=referral.pk).update(
            staff_reminder_sent_at=datetime.datetime(2030, 3, 10, tzinfo=datetime.UTC)
        )
    updated = in_scope(
        agency,
        referrals.update_referral,
        referral,
        caseworker,
        {"follow_up_on": datetime.date(2030, 4, 1), "reason": "Groceries and diapers."},
    )
    assert (updated.follow_up_on, updated.reason, updated.staff_reminder_sent_at) == (
        datetime.date(2030, 4, 1),
        "Groceries and diapers.",
        None,
    )

    # Where it goes changes only before the answer.
    in_scope(agency, referrals.respond_referral, referral, caseworker, "accepted")
    assert "kind" in errors_of(
        in_scope, agency, referrals.update_referral, referral, caseworker, {"kind": "internal", "to_program": job_club}
    )
    # The outcome is for a closed referral.
    assert "outcome" in errors_of(in_scope, agency, referrals.update_referral, referral, caseworker, {"outcome": "Too early"})


def test_delete_is_soft_and_audited(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    in_scope(agency, referrals.delete_referral, referral, caseworker)
    assert fresh(referral).deleted_at is not None
    with agency_scope(agency):
        assert not referrals.referrals_for_agency(agency, None).filter(pk=referral.pk).exists()
        assert (
            AuditEvent.objects.for_agency(agency).filter(object_id=str(referral.pk), action="delete", client_id=amina.pk).exists()
        )
    assert "status" in errors_of(in_scope, agency, referrals.respond_referral, referral, caseworker, "accepted")


# --- Reminders ---------------------------------------------------------------------------------


def outbox(kind: str) -> list[OutboundMessage]:
    with all_agencies():
        return list(OutboundMessage.objects.filter(kind=kind).order_by("pk"))


def test_the_staff_member_is_reminded_once_on_and_after_the_follow_up_date(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP)

    assert referrals.send_referral_reminders(FOLLOW_UP - datetime.timedelta(days=1)) == {"staff": 0, "client": 0, "skipped": 0}
    assert referrals.send_referral_reminders(FOLLOW_UP) == {"staff": 1, "client": 0, "skipped": 0}
    assert referrals.send_referral_reminders(FOLLOW_UP + datetime.timedelta(days=3)) == {"staff": 0, "client": 0, "skipped": 0}

    [message] = outbox("referral_follow_up")
    assert message.to == caseworker.email and message.recipient_user == caseworker
    assert message.client is None  # a staff reminder is not in the client's notification log
    assert f"/referrals/{referral.pk}/" in message.body and f"#{amina.client_number}" in message.subject
    assert "Amina" not in message.body and REASON not in message.body
    assert outbox("referral_reminder") == []
    assert fresh(referral).staff_reminder_sent_at is not None


def test_a_referral_no_longer_open_gets_no_reminder(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP, remind_client=True)
    in_scope(agency, referrals.cancel_referral, referral, caseworker)
    assert referrals.send_referral_reminders(FOLLOW_UP) == {"staff": 0, "client": 0, "skipped": 0}
    assert outbox("referral_follow_up") == outbox("referral_reminder") == []


def test_the_client_is_reminded_once_by_email_with_only_the_service_where_and_phone(agency, caseworker, amina, food_bank):
    referral = refer(
        amina,
        caseworker,
        kind="external",
        service=food_bank.service,
        location=food_bank.location,
        contact=food_bank.contact,
        follow_up_on=FOLLOW_UP,
        remind_client=True,
    )

    assert referrals.send_referral_reminders(FOLLOW_UP) == {"staff": 1, "client": 1, "skipped": 0}
    assert referrals.send_referral_reminders(FOLLOW_UP) == {"staff": 0, "client": 0, "skipped": 0}

    [message] = outbox("referral_reminder")
    assert (message.channel, message.to, message.client_id) == ("email", "amina@example.org", amina.pk)  # in her notification log
    assert "Emergency groceries" in message.body and "Main depot" in message.body and "416-555-0122" in message.body
    assert REASON not in message.body and "Marie" not in message.body and "Haddad" not in message.body
    assert fresh(referral).client_reminder_sent_at is not None


def test_the_client_reminder_is_written_in_their_language(agency, caseworker, amina, food_bank, monkeypatch):
    languages = []
    original = referrals.client_reminder_text
    monkeypatch.setattr(
        referrals, "client_reminder_text", lambda r: languages.append(referrals.translation.get_language()) or original(r)
    )
    refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP, remind_client=True)
    referrals.send_referral_reminders(FOLLOW_UP)
    assert languages == ["fr"]


def test_the_client_is_reminded_by_sms_when_they_prefer_it_and_agreed(agency, caseworker, amina, food_bank):
    amina.consent_sms, amina.preferred_contact_method = True, "sms"
    in_scope(agency, amina.save)
    refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP, remind_client=True)

    referrals.send_referral_reminders(FOLLOW_UP)
    [message] = outbox("referral_reminder")
    assert (message.channel, message.to, message.client_id) == ("sms", "+14165550177", amina.pk)
    assert "Emergency groceries" in message.body


def test_a_client_who_withdrew_consent_since_is_not_reminded(agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=FOLLOW_UP, remind_client=True)
    amina.consent_email = False
    in_scope(agency, amina.save)

    assert referrals.send_referral_reminders(FOLLOW_UP) == {"staff": 1, "client": 0, "skipped": 0}
    assert outbox("referral_reminder") == []
    assert fresh(referral).client_reminder_sent_at is None


def test_an_internal_referral_reminder_names_the_program(agency, caseworker, amina, job_club):
    refer(amina, caseworker, kind="internal", to_program=job_club, follow_up_on=FOLLOW_UP, remind_client=True)
    referrals.send_referral_reminders(FOLLOW_UP)
    [message] = outbox("referral_reminder")
    assert "Job Club" in message.body and agency.name in message.subject


def test_the_periodic_job_sends_the_reminders_due(agency, caseworker, amina, food_bank):
    from caseload.casework import jobs
    from caseload.scheduling.jobs import get_job

    job = get_job("casework.referral_reminders")
    assert job.every == 15 * 60 and job.get_task() is jobs.send_referral_reminders
    refer(amina, caseworker, kind="external", service=food_bank.service, follow_up_on=referrals.agency_today(agency))
    assert jobs.send_referral_reminders.call()["staff"] == 1
    assert jobs.send_referral_reminders.call()["staff"] == 0
