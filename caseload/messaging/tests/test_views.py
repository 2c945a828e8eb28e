import pytest
from django.urls import reverse
from django.utils import timezone

from caseload.messaging.actions import queue_email, queue_sms
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import all_agencies

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


@pytest.fixture
def messages(agency, other_agency):
    ours = queue_email(agency=agency, to="ours@example.org", subject="Northside appointment", body="Northside body text")
    sms = queue_sms(agency=agency, to="+15145550123", body="Northside text message")
    theirs = queue_email(agency=other_agency, to="theirs@example.org", subject="Riverside appointment", body="Riverside body text")
    with all_agencies():
        OutboundMessage.objects.filter(pk=ours.pk).update(status=Status.FAILED, attempts=8, last_error="SMTPServerDisconnected: gone")
        OutboundMessage.objects.filter(pk=theirs.pk).update(status=Status.FAILED)
    return {"ours": ours, "sms": sms, "theirs": theirs}


def test_it_lists_the_agencys_messages_and_never_another_agencys(client, auditor, messages):
    client.force_login(auditor)
    response = client.get(reverse("messaging:outbox"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "ours@example.org" in page
    assert "+15145550123" in page
    assert "SMTPServerDisconnected: gone" in page
    assert "theirs@example.org" not in page
    assert "Riverside" not in page
    # Bodies stay on the detail page.
    assert "Northside body text" not in page


def test_it_filters_by_status_and_channel(client, manager, messages):
    client.force_login(manager)
    page = client.get(reverse("messaging:outbox"), {"status": "failed"}).content.decode()
    assert "ours@example.org" in page and "+15145550123" not in page
    page = client.get(reverse("messaging:outbox"), {"channel": "sms"}).content.decode()
    assert "+15145550123" in page and "ours@example.org" not in page


def test_a_bad_filter_shows_an_error_and_no_rows_not_a_500(client, manager, messages):
    client.force_login(manager)
    response = client.get(reverse("messaging:outbox"), {"status": "exploded", "sort": "agency__name"})
    assert response.status_code == 200
    assert response.context["form"].errors["status"]
    assert "ours@example.org" not in response.content.decode()


def test_the_detail_page_shows_the_body_to_staff_of_the_agency(client, caseworker, messages):
    client.force_login(caseworker)
    response = client.get(reverse("messaging:message", args=[messages["ours"].pk]))
    assert response.status_code == 200
    assert "Northside body text" in response.content.decode()
    # A caseworker may look, not retry.
    assert reverse("messaging:retry", args=[messages["ours"].pk]) not in response.content.decode()


def test_the_detail_page_never_shows_a_sign_in_link(client, manager, agency):
    message = queue_email(agency=agency, to="client@example.org", subject="Your portal invitation", body="https://x/invite/SECRET", kind="portal_invitation")
    client.force_login(manager)
    page = client.get(reverse("messaging:message", args=[message.pk])).content.decode()
    assert "SECRET" not in page


def test_another_agencys_message_is_a_404_for_every_page(client, admin, messages):
    client.force_login(admin)
    pk = messages["theirs"].pk
    assert client.get(reverse("messaging:message", args=[pk])).status_code == 404
    assert client.post(reverse("messaging:retry", args=[pk])).status_code == 404
    assert client.post(reverse("messaging:cancel", args=[pk])).status_code == 404
    with all_agencies():
        assert OutboundMessage.objects.get(pk=pk).status == Status.FAILED


def test_the_auditor_sees_the_outbox_but_cannot_retry_or_cancel(client, auditor, messages):
    client.force_login(auditor)
    pk = messages["ours"].pk
    assert client.get(reverse("messaging:message", args=[pk])).status_code == 200
    assert client.post(reverse("messaging:retry", args=[pk])).status_code == 403
    assert client.post(reverse("messaging:cancel", args=[pk])).status_code == 403
    messages["ours"].refresh_from_db()
    assert messages["ours"].status == Status.FAILED


def test_a_member_without_the_view_permission_gets_403(client, agency, messages):
    from caseload.testing.factories import make_member

    front_desk = make_member(agency, "Front desk").user
    client.force_login(front_desk)
    assert client.get(reverse("messaging:outbox")).status_code == 403
    assert client.get(reverse("messaging:message", args=[messages["ours"].pk])).status_code == 403


def test_a_manager_retries_a_failed_message_which_is_then_sent(client, manager, messages, django_capture_on_commit_callbacks):
    client.force_login(manager)
    pk = messages["ours"].pk
    assert reverse("messaging:retry", args=[pk]) in client.get(reverse("messaging:message", args=[pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("messaging:retry", args=[pk]))
    assert response.status_code == 302
    assert response.url == reverse("messaging:message", args=[pk])
    messages["ours"].refresh_from_db()
    assert messages["ours"].status == Status.SENT
    assert messages["ours"].sent_at <= timezone.now()


def test_a_manager_cancels_a_queued_message_and_retry_then_says_why_it_cannot(client, manager, messages):
    client.force_login(manager)
    pk = messages["sms"].pk
    assert client.post(reverse("messaging:cancel", args=[pk])).status_code == 302
    messages["sms"].refresh_from_db()
    assert messages["sms"].status == Status.CANCELLED
    response = client.post(reverse("messaging:retry", args=[pk]), follow=True)
    assert "Only a failed or uncertain message can be sent again." in response.content.decode()


def test_retry_answers_only_post(client, manager, messages):
    client.force_login(manager)
    assert client.get(reverse("messaging:retry", args=[messages["ours"].pk])).status_code == 405


def test_an_anonymous_visitor_is_sent_to_log_in(client, messages):
    response = client.get(reverse("messaging:outbox"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_the_list_offers_retry_and_cancel_to_a_manager_only(client, manager, auditor, messages):
    retry_url = reverse("messaging:retry", args=[messages["ours"].pk])
    cancel_queued_url = reverse("messaging:cancel", args=[messages["sms"].pk])
    client.force_login(manager)
    page = client.get(reverse("messaging:outbox")).content.decode()
    assert retry_url in page and cancel_queued_url in page
    assert "1 message could not be sent." in page
    client.force_login(auditor)
    page = client.get(reverse("messaging:outbox")).content.decode()
    assert retry_url not in page and cancel_queued_url not in page


def test_a_retry_from_the_list_returns_to_the_list_and_never_to_another_site(client, manager, messages):
    client.force_login(manager)
    back = reverse("messaging:outbox") + "?status=failed"
    response = client.post(reverse("messaging:cancel", args=[messages["sms"].pk]), {"next": back})
    assert response.url == back
    response = client.post(reverse("messaging:cancel", args=[messages["ours"].pk]), {"next": "https://evil.example/"})
    assert response.url == reverse("messaging:message", args=[messages["ours"].pk])
