"""The survey pages: staff send a checkpoint's survey; a client answers theirs in the portal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.messaging.models import OutboundMessage
from caseload.outcomes.models import Checkpoint, SurveyInvitation
from caseload.outcomes.tests.sweep_surveys import a_checkpoint, a_client, a_portal_client
from caseload.outcomes.tests.test_surveys import answered, send, tokens  # noqa: F401 (fixture)
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


def page(checkpoint) -> str:
    return reverse("outcomes:send_survey", args=[checkpoint.pk])


def outbox(agency) -> list[OutboundMessage]:
    with agency_scope(agency):
        return list(OutboundMessage.objects.for_agency(agency).order_by("pk"))


# --- Staff: Send survey -------------------------------------------------------------------------


def test_the_page_fills_the_agencys_template_in_the_clients_channel(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency)
    response = as_user(caseworker).get(page(checkpoint))
    html = response.content.decode()
    assert response.status_code == 200
    assert "{agency}: how are things going?" in html and "{link}" in html
    # The preview shows the message as the client reads it.
    assert "Hello Mina" in html and f"{agency.name}: how are things going?" in html


def test_the_sms_tab_shows_the_segment_count(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency)
    html = as_user(caseworker).get(page(checkpoint) + "?channel=sms").content.decode()
    assert "SMS segment" in html and 'name="subject"' not in html


def test_sending_queues_the_message_and_names_the_channel_and_address(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency)
    browser = as_user(caseworker)
    data = {"channel": "email", "subject": "{agency}: a quick survey", "body": "Hi {preferred_name}: {link}"}
    response = browser.post(page(checkpoint), data, follow=True)
    assert response.status_code == 200
    assert "queued by email to amina@example.org" in response.content.decode()
    (message,) = outbox(agency)
    assert (message.client_id, message.subject, message.kind) == (
        checkpoint.client_id,
        f"{agency.name}: a quick survey",
        "outcome_survey",
    )
    assert answered(checkpoint).status == Checkpoint.Status.SURVEY_SENT


def test_preview_does_not_send(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency)
    data = {"channel": "sms", "body": "Hi {preferred_name}: {link}", "preview": "1"}
    response = as_user(caseworker).post(page(checkpoint), data)
    assert response.status_code == 200 and "Hi Mina: http" in response.content.decode()
    assert outbox(agency) == []


def test_a_message_without_the_link_is_refused_on_the_page(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency)
    data = {"channel": "email", "subject": "Survey", "body": "Hello, please answer."}
    response = as_user(caseworker).post(page(checkpoint), data)
    assert response.status_code == 400 and "{link}" in response.content.decode()
    assert outbox(agency) == []


def test_a_channel_without_consent_is_not_offered_and_says_why(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency, a_client(agency, consent_sms=False))
    browser = as_user(caseworker)
    html = browser.get(page(checkpoint)).content.decode()
    assert "not agreed to be contacted by text message" in html and "?channel=sms" not in html
    response = browser.post(page(checkpoint), {"channel": "sms", "body": "Hi {link}"})
    # The channel falls back to email; an SMS is never queued.
    assert all(message.channel != "sms" for message in outbox(agency))
    assert response.status_code in {200, 302, 400}


def test_a_client_who_cant_be_reached_gets_the_reasons_and_no_form(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency, a_client(agency, consent_sms=False, consent_email=False))
    html = as_user(caseworker).get(page(checkpoint)).content.decode()
    assert "be reached by email or SMS" in html and "not agreed to be contacted by email" in html and "Send follow-up" not in html


def test_a_submitted_checkpoint_says_why_and_has_no_form(as_user, agency, caseworker):
    checkpoint = a_checkpoint(agency, status=Checkpoint.Status.SUBMITTED)
    browser = as_user(caseworker)
    html = browser.get(page(checkpoint)).content.decode()
    assert "was submitted" in html and "Send follow-up" not in html
    browser.post(page(checkpoint), {"channel": "email", "subject": "S", "body": "{link}"})
    assert outbox(agency) == []


def test_without_outcomes_change_the_page_is_forbidden(as_user, agency, auditor):
    checkpoint = a_checkpoint(agency)
    assert as_user(auditor).get(page(checkpoint)).status_code == 403
    assert as_user(auditor).post(page(checkpoint), {"channel": "email", "subject": "S", "body": "{link}"}).status_code == 403
    assert outbox(agency) == []


def test_another_agencys_checkpoint_is_a_404(as_user, agency, other_agency, caseworker):
    theirs = a_checkpoint(other_agency)
    assert as_user(caseworker).get(page(theirs)).status_code == 404
    assert as_user(caseworker).post(page(theirs), {"channel": "email", "subject": "S", "body": "{link}"}).status_code == 404
    assert outbox(other_agency) == []


def test_anonymous_visitors_are_sent_to_log_in(client, agency):
    response = client.get(page(a_checkpoint(agency)))
    assert response.status_code == 302 and "login" in response["Location"]


# --- Portal -------------------------------------------------------------------------------------


def test_a_portal_client_sees_their_open_survey_and_answers_it_there(client, agency, caseworker, tokens):  # noqa: F811
    person = a_portal_client(agency)
    checkpoint = a_checkpoint(agency, person)
    send(checkpoint, caseworker)
    client.force_login(person.portal_user)
    listing = client.get(reverse("portal:surveys")).content.decode()
    assert "3-month follow-up" in listing and reverse("portal:survey", args=[checkpoint.pk]) in listing
    form = client.get(reverse("portal:survey", args=[checkpoint.pk]))
    assert form.status_code == 200 and "Are you working?" in form.content.decode()
    done = client.post(reverse("portal:survey", args=[checkpoint.pk]), {"f-status": "employed"}, follow=True)
    assert "Thank you" in done.content.decode()
    saved = answered(checkpoint)
    assert saved.answers == {"status": "employed"} and saved.answered_by_client
    with agency_scope(agency):
        assert SurveyInvitation.objects.for_agency(agency).get().used_at is not None
    # Answered: gone from the list, and the emailed link is used up too.
    assert "No surveys to answer" in client.get(reverse("portal:surveys")).content.decode()
    assert client.get(reverse("portal:survey", args=[checkpoint.pk])).status_code == 404
    assert client.get(f"/survey/{tokens[0]}/").status_code == 410


def test_the_emailed_link_works_while_logged_in_to_the_portal(client, agency, caseworker, tokens):  # noqa: F811
    person = a_portal_client(agency)
    checkpoint = a_checkpoint(agency, person)
    send(checkpoint, caseworker)
    client.force_login(person.portal_user)
    client.post(f"/survey/{tokens[0]}/", {"f-status": "looking"})
    assert answered(checkpoint).answers == {"status": "looking"}


def test_the_portal_never_opens_another_clients_survey(client, agency, caseworker, tokens):  # noqa: F811
    amina = a_portal_client(agency)
    bo = a_checkpoint(agency, a_client(agency, given_name="Bo", email="bo@example.org"))
    send(bo, caseworker)
    client.force_login(amina.portal_user)
    assert "No surveys to answer" in client.get(reverse("portal:surveys")).content.decode()
    assert client.get(reverse("portal:survey", args=[bo.pk])).status_code == 404
    assert client.post(reverse("portal:survey", args=[bo.pk]), {"f-status": "employed"}).status_code == 404
    assert answered(bo).answers == {}


def test_staff_get_a_404_in_the_portal_surveys(as_user, agency, caseworker):
    assert as_user(caseworker).get(reverse("portal:surveys")).status_code == 404


def test_the_portal_nav_links_to_the_surveys(client, agency):
    person = a_portal_client(agency)
    client.force_login(person.portal_user)
    assert reverse("portal:surveys") in client.get(reverse("portal:home")).content.decode()
