"""Checkpoint surveys: sending one, the client's single-use link, its expiry, nothing of anyone
else, and the reminder sent once."""

from __future__ import annotations

import datetime
import itertools
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from freezegun import freeze_time

from caseload.audit.models import AuditEvent
from caseload.messaging.models import OutboundMessage
from caseload.outcomes import surveys
from caseload.outcomes.models import Checkpoint, FollowUpSchedule, SurveyInvitation
from caseload.outcomes.tests.sweep_surveys import a_checkpoint, a_client
from caseload.tenancy.scoping import agency_scope, all_agencies

pytestmark = pytest.mark.django_db

BODY = "Hello {preferred_name}, how are things going for your {checkpoint}? {link} (until {due_date}) {agency}"
SUBJECT = "{agency}: how are things going?"


@pytest.fixture
def tokens(monkeypatch):
    """The tokens the links carry, in the order they are made (known to the test, like the client's message)."""
    made: list[str] = []
    counter = itertools.count(1)

    def new_token() -> str:
        token = f"tok{next(counter):02d}" + "A" * 38
        made.append(token)
        return token

    monkeypatch.setattr(surveys, "new_token", new_token)
    return made


def send(checkpoint, actor=None, **data):
    data = {"channel": "email", "subject": SUBJECT, "body": BODY, **data}
    with agency_scope(checkpoint.agency):
        return surveys.send_survey(checkpoint, actor, **data)


def url(token: str) -> str:
    return f"/survey/{token}/"


def page_text(response) -> str:
    """The page without its tags: what the client reads (the random CSRF token, 64 letters and digits in
    an attribute, held "Bo" in about one run in thirty)."""
    return re.sub(r"<[^>]*>", " ", response.content.decode())


def answered(checkpoint) -> Checkpoint:
    with agency_scope(checkpoint.agency):
        return Checkpoint.objects.for_agency(checkpoint.agency).get(pk=checkpoint.pk)


# --- Sending ------------------------------------------------------------------------------------


def test_a_survey_goes_to_the_outbox_in_the_clients_notification_log_with_its_link(agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    invitation = send(checkpoint, caseworker)
    with agency_scope(agency):
        message = OutboundMessage.objects.for_agency(agency).get(pk=invitation.message_id)
    assert (message.client_id, message.channel, message.kind, message.to) == (
        checkpoint.client_id,
        "email",
        "outcome_survey",
        "amina@example.org",
    )
    assert message.sensitive
    assert message.subject == f"{agency.name}: how are things going?"
    assert answered(checkpoint).status == Checkpoint.Status.SURVEY_SENT


def test_only_the_tokens_hash_is_kept_and_the_link_expires_after_the_programs_days(agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    with agency_scope(agency):
        FollowUpSchedule.objects.create(agency=agency, program=checkpoint.program, link_valid_days=10)
    invitation = send(checkpoint, caseworker)
    assert invitation.token_hash == surveys.token_hash(tokens[0]) != tokens[0]
    assert abs(invitation.expires_at - (timezone.now() + datetime.timedelta(days=10))) < datetime.timedelta(minutes=1)


def test_the_link_is_random_and_long():
    assert len(surveys.new_token()) >= 43
    assert surveys.new_token() != surveys.new_token()


def test_the_sms_goes_to_the_clients_phone(agency, caseworker, tokens):
    invitation = send(a_checkpoint(agency), caseworker, channel="sms", subject="")
    with agency_scope(agency):
        message = OutboundMessage.objects.for_agency(agency).get(pk=invitation.message_id)
    assert (message.channel, message.to) == ("sms", "+14165550123")


@pytest.mark.parametrize(
    ("client_data", "channel", "reason"),
    [
        ({"consent_email": False}, "email", "not agreed to be contacted by email"),
        ({"email": ""}, "email", "no email address"),
        ({"consent_sms": False}, "sms", "not agreed to be contacted by text message"),
        ({"phone": ""}, "sms", "no phone number"),
    ],
)
def test_a_survey_is_refused_without_consent_or_address(agency, caseworker, client_data, channel, reason):
    person = a_client(agency)
    with agency_scope(agency):
        # An address removed after consent was given (the profile form refuses it; data imports may not).
        type(person).objects.for_agency(agency).filter(pk=person.pk).update(**client_data)
    person.refresh_from_db()
    checkpoint = a_checkpoint(agency, person)
    with pytest.raises(ValidationError) as error:
        send(checkpoint, caseworker, channel=channel)
    assert reason in error.value.message_dict["channel"][0]
    with agency_scope(agency):
        assert not SurveyInvitation.objects.for_agency(agency).exists()
        assert not OutboundMessage.objects.for_agency(agency).exists()


@pytest.mark.parametrize("status", [Checkpoint.Status.SUBMITTED, Checkpoint.Status.MISSED, Checkpoint.Status.REVIEWED])
def test_a_survey_is_refused_for_a_closed_checkpoint(agency, caseworker, status):
    checkpoint = a_checkpoint(agency, status=status)
    with pytest.raises(ValidationError, match="can no longer be sent"):
        send(checkpoint, caseworker)


def test_a_message_without_the_link_is_refused(agency, caseworker):
    with pytest.raises(ValidationError) as error:
        send(a_checkpoint(agency), caseworker, body="Hello {preferred_name}, please answer our survey.")
    assert "{link}" in error.value.message_dict["body"][0]


def test_an_email_without_a_subject_is_refused(agency, caseworker):
    with pytest.raises(ValidationError) as error:
        send(a_checkpoint(agency), caseworker, subject="  ")
    assert "subject" in error.value.message_dict


def test_sending_again_replaces_the_earlier_link(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    send(checkpoint, caseworker)
    assert client.get(url(tokens[0])).status_code == 410
    assert client.get(url(tokens[1])).status_code == 200


def test_the_token_and_the_message_never_reach_the_audit_log(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    client.post(url(tokens[0]), {"f-status": "employed", "f-comments": "A new job at the bakery"})
    with all_agencies():
        events = list(AuditEvent.objects.filter(client_id=checkpoint.client_id).values("object_repr", "changes"))
    text = repr(events)
    assert events
    assert tokens[0] not in text and surveys.token_hash(tokens[0]) not in text
    assert "bakery" not in text and "how are things going" not in text


# --- The client's link --------------------------------------------------------------------------


def test_the_link_opens_the_survey_without_logging_in_and_works_once(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    page = client.get(url(tokens[0]))
    assert page.status_code == 200
    html = page.content.decode()
    assert agency.name in html and "Hello Mina" in html and "Are you working?" in html
    assert "Haddad" not in html and "amina@example.org" not in html

    done = client.post(url(tokens[0]), {"f-status": "employed", "f-comments": "Started in March"})
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    saved = answered(checkpoint)
    assert saved.answers == {"status": "employed", "comments": "Started in March"}
    assert saved.answered_by_client and saved.answered_at and saved.status == Checkpoint.Status.RESPONDED

    again = client.post(url(tokens[0]), {"f-status": "looking"})
    assert again.status_code == 410 and "already answered" in again.content.decode()
    assert client.get(url(tokens[0])).status_code == 410
    assert answered(checkpoint).answers["status"] == "employed"


def test_the_answer_is_audited_with_the_client_as_subject(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    client.post(url(tokens[0]), {"f-status": "employed"})
    with agency_scope(agency):
        event = AuditEvent.objects.filter(object_type="outcomes.checkpoint", action="change").latest("pk")
    assert event.client_id == checkpoint.client_id and event.actor is None
    assert set(event.changes) == {"status", "answered_by_client", "answered_at"}


def test_incomplete_answers_are_named_and_nothing_is_saved(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    page = client.post(url(tokens[0]), {"f-comments": "Not sure"})
    assert page.status_code == 400 and "Are you working?" in page.content.decode()
    assert answered(checkpoint).status == Checkpoint.Status.SURVEY_SENT
    assert client.get(url(tokens[0])).status_code == 200


def test_a_link_with_one_character_changed_gets_a_clear_404(client, agency, caseworker, tokens):
    send(a_checkpoint(agency), caseworker)
    tampered = tokens[0][:-1] + ("B" if tokens[0][-1] != "B" else "C")
    for response in (client.get(url(tampered)), client.post(url(tampered), {"f-status": "employed"}), client.get(url("x"))):
        assert response.status_code == 404
        assert "could not find this survey" in response.content.decode()


def test_an_expired_link_gets_a_clear_410(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    with freeze_time(timezone.now() + datetime.timedelta(days=31)):
        page = client.get(url(tokens[0]))
        posted = client.post(url(tokens[0]), {"f-status": "employed"})
    assert page.status_code == posted.status_code == 410
    assert "expired" in page.content.decode()
    assert answered(checkpoint).answers == {}


def test_the_token_never_reaches_the_request_log(client, agency, caseworker, tokens, caplog):
    send(a_checkpoint(agency), caseworker)
    tampered = tokens[0][:-1] + "Z"
    with caplog.at_level("DEBUG", logger="django.request"):
        client.get(url(tampered))
        client.post(url(tokens[0]), {"f-status": "employed"})
        client.get(url(tokens[0]))
    assert tokens[0] not in caplog.text and tampered not in caplog.text


def test_the_page_is_never_cached_and_sends_no_referrer(client, agency, caseworker, tokens):
    send(a_checkpoint(agency), caseworker)
    for response in (client.get(url(tokens[0])), client.get(url("unknown" * 7))):
        assert "no-store" in response["Cache-Control"]
        assert response["Referrer-Policy"] == "same-origin"


def test_each_link_shows_only_its_own_client_and_answers_only_its_own_checkpoint(client, agency, caseworker, tokens):
    amina = a_checkpoint(agency)
    bo = a_checkpoint(agency, a_client(agency, given_name="Bo", family_name="Chen", preferred_name="", email="bo@example.org"))
    send(amina, caseworker)
    send(bo, caseworker)
    page_a = page_text(client.get(url(tokens[0])))
    page_b = page_text(client.get(url(tokens[1])))
    assert "Hello Mina" in page_a and "Bo" not in page_a
    assert "Hello Bo" in page_b and "Mina" not in page_b and "Amina" not in page_b

    client.post(url(tokens[0]), {"f-status": "employed"})
    assert answered(amina).status == Checkpoint.Status.RESPONDED
    assert answered(bo).answers == {} and answered(bo).status == Checkpoint.Status.SURVEY_SENT
    # Client A's (used) link can't reach B's checkpoint either.
    assert client.post(url(tokens[0]), {"f-status": "looking"}).status_code == 410
    assert answered(bo).answers == {}


def test_another_agencys_link_works_for_its_own_client_only(client, agency, other_agency, caseworker, tokens):
    ours = a_checkpoint(agency)
    theirs = a_checkpoint(other_agency)
    send(ours, caseworker)
    send(theirs)
    client.post(url(tokens[1]), {"f-status": "looking"})
    assert answered(theirs).answers == {"status": "looking"}
    assert answered(ours).answers == {}


def test_a_french_client_reads_the_survey_in_french(client, agency, caseworker, tokens):
    send(a_checkpoint(agency, a_client(agency, preferred_language="fr")), caseworker)
    html = client.get(url(tokens[0])).content.decode()
    assert "Travaillez-vous?" in html and "En emploi" in html and 'lang="fr"' in html


def test_a_checkpoint_reviewed_meanwhile_closes_its_link(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    send(checkpoint, caseworker)
    with agency_scope(agency):
        Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).update(status=Checkpoint.Status.REVIEWED)
    assert client.get(url(tokens[0])).status_code == 410


def test_open_invitation_names_why_a_link_cant_be_used(agency, caseworker, tokens):
    send(a_checkpoint(agency), caseworker)
    with pytest.raises(surveys.UnknownInvitation):
        surveys.open_invitation("nope")
    with pytest.raises(surveys.ExpiredInvitation):
        surveys.open_invitation(tokens[0], now=timezone.now() + datetime.timedelta(days=40))
    assert surveys.open_invitation(tokens[0]).checkpoint.client.preferred_name == "Mina"


# --- Reminders ----------------------------------------------------------------------------------


def reminders(agency) -> list[OutboundMessage]:
    with agency_scope(agency):
        return list(OutboundMessage.objects.for_agency(agency).filter(kind=surveys.REMINDER_KIND))


def test_the_reminder_is_queued_once_after_the_days_and_not_before(agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    invitation = send(checkpoint, caseworker)
    sent = invitation.sent_at
    assert surveys.remind_unanswered(sent + datetime.timedelta(days=6, hours=23))["sent"] == 0
    assert reminders(agency) == []
    assert surveys.remind_unanswered(sent + datetime.timedelta(days=7, minutes=1))["sent"] == 1
    assert surveys.remind_unanswered(sent + datetime.timedelta(days=8))["sent"] == 0
    (message,) = reminders(agency)
    assert (message.client_id, message.to) == (checkpoint.client_id, "amina@example.org")
    assert message.subject == f"Reminder: {agency.name} follow-up survey"


def test_the_reminder_follows_the_programs_schedule(agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    with agency_scope(agency):
        FollowUpSchedule.objects.create(agency=agency, program=checkpoint.program, reminder_after_days=3)
    invitation = send(checkpoint, caseworker)
    assert surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=2))["sent"] == 0
    assert surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=3, minutes=1))["sent"] == 1


def test_no_reminder_for_an_answered_survey(client, agency, caseworker, tokens):
    invitation = send(a_checkpoint(agency), caseworker)
    client.post(url(tokens[0]), {"f-status": "employed"})
    assert surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=8))["sent"] == 0
    assert reminders(agency) == []


def test_no_reminder_once_consent_is_withdrawn(agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    invitation = send(checkpoint, caseworker)
    with agency_scope(agency):
        type(checkpoint.client).objects.for_agency(agency).filter(pk=checkpoint.client_id).update(consent_email=False)
    assert surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=8))["refused"] == 1
    assert reminders(agency) == []


def test_the_reminders_link_works_and_answering_closes_both(client, agency, caseworker, tokens):
    checkpoint = a_checkpoint(agency)
    invitation = send(checkpoint, caseworker)
    surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=8))
    assert len(tokens) == 2
    assert client.get(url(tokens[1])).status_code == 200
    client.post(url(tokens[1]), {"f-status": "looking"})
    assert answered(checkpoint).answers == {"status": "looking"}
    assert client.get(url(tokens[0])).status_code == 410
    # The reminder's own link is never reminded.
    assert surveys.remind_unanswered(invitation.sent_at + datetime.timedelta(days=20))["sent"] == 0


def test_two_runs_at_once_remind_once(agency, caseworker, tokens):
    invitation = send(a_checkpoint(agency), caseworker)
    later = invitation.sent_at + datetime.timedelta(days=8)
    with agency_scope(agency):
        agency_row = invitation.agency
    assert surveys._remind(agency_row, invitation.pk, later) == "sent"
    assert surveys._remind(agency_row, invitation.pk, later) == "skipped"
    assert len(reminders(agency)) == 1


def test_the_reminder_job_is_declared():
    from caseload.scheduling.jobs import get_job

    job = get_job("outcomes.survey_reminders")
    assert job.get_task() is not None
