"""The Communications and Notifications tabs, and the communication forms."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from caseload.casework import communications
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
from caseload.messaging.actions import queue_sms
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

Status = Communication.Status


def tab(client) -> str:
    return reverse("casework:communications", args=[client.pk])


def new_url(client) -> str:
    return reverse("casework:communication_new", args=[client.pk])


def form_data(**changes) -> dict:
    return {
        "kind": "phone",
        "direction": "outgoing",
        "date": "",
        "subject": "Called about the workshop",
        "body": "",
        "program": "",
        **changes,
    }


def count(agency) -> int:
    return in_scope(agency, lambda: Communication.objects.for_agency(agency).count())


# --- The Communications tab ----------------------------------------------------------------------


class TestTheTab:
    def test_it_lists_each_communication_with_type_direction_date_subject_body_and_reminder_status(
        self, as_user, agency, caseworker
    ):
        amina = portal_client(agency)
        record(
            amina,
            caseworker,
            kind="in_person",
            direction="incoming",
            subject="Dropped in",
            body="Asked about the forklift course.",
        )
        remind(amina, caseworker, subject="Interview on Friday", date=days(agency, 2))
        failed = remind(amina, caseworker, subject="Bring your ID")
        with agency_scope(agency):
            Communication.objects.for_agency(agency).filter(pk=failed.pk).update(
                status=Status.FAILED, failure_reason="The client no longer has a portal account."
            )

        page = as_user(caseworker).get(tab(amina))

        assert page.status_code == 200
        html = page.content.decode()
        for text in (
            "In person",
            "From the client",
            "Dropped in",
            "Asked about the forklift course.",
            "Interview on Friday",
            "Scheduled",
        ):
            assert text in html
        assert "Failed" in html and "The client no longer has a portal account." in html
        assert html.index("Interview on Friday") < html.index("Dropped in")  # newest date first

    def test_a_sent_reminder_shows_sent_and_offers_no_edit(self, as_user, agency, caseworker):
        amina = portal_client(agency)
        reminder = remind(amina, caseworker)
        communications.send_due_reminders()
        html = as_user(caseworker).get(tab(amina)).content.decode()
        assert "Sent" in html and "through the portal and by email" in html
        assert reverse("casework:communication_edit", args=[reminder.pk]) not in html
        assert reverse("casework:communication_delete", args=[reminder.pk]) in html

    def test_deleted_communications_are_not_listed(self, as_user, agency, caseworker):
        amina = register(agency)
        call = record(amina, caseworker, subject="Wrong client")
        in_scope(agency, communications.delete_communication, call, caseworker)
        assert "Wrong client" not in as_user(caseworker).get(tab(amina)).content.decode()

    def test_a_read_only_role_sees_no_buttons(self, as_user, agency, auditor):
        amina = register(agency)
        call = record(amina)
        html = as_user(auditor).get(tab(amina)).content.decode()
        assert new_url(amina) not in html and reverse("casework:communication_edit", args=[call.pk]) not in html

    def test_another_agencys_client_is_a_404(self, as_user, other_agency, caseworker):
        assert as_user(caseworker).get(tab(register(other_agency))).status_code == 404

    def test_a_role_without_casework_view_is_a_403(self, as_user, agency):
        front_desk = make_member(agency, "Front desk").user
        assert as_user(front_desk).get(tab(register(agency))).status_code == 403


# --- New, edit, delete ---------------------------------------------------------------------------


class TestTheForm:
    def test_it_records_a_phone_call(self, as_user, agency, caseworker):
        amina = register(agency)
        response = as_user(caseworker).post(new_url(amina), form_data(date=today(agency).isoformat(), body="Left a message."))
        assert response.status_code == 302 and response["Location"] == tab(amina)
        (call,) = in_scope(agency, lambda: list(Communication.objects.for_agency(agency)))
        assert (call.kind, call.body, call.author.user) == ("phone", "Left a message.", caseworker)

    def test_it_says_up_front_why_a_client_without_a_portal_account_cannot_get_a_reminder(self, as_user, agency, caseworker):
        html = as_user(caseworker).get(new_url(register(agency, email="amina@example.org"))).content.decode()
        assert "no portal account" in html and "Invite them to the portal from the Actions menu" in html

    def test_it_says_so_for_a_client_invited_who_never_logged_in(self, as_user, agency, caseworker):
        html = as_user(caseworker).get(new_url(invite(register(agency, email="amina@example.org")))).content.decode()
        assert "never logged in" in html

    def test_it_names_the_channel_for_a_client_who_can_receive_reminders(self, as_user, agency, caseworker):
        html = as_user(caseworker).get(new_url(portal_client(agency))).content.decode()
        assert "in their portal and by email" in html and "no portal account" not in html

    def test_the_server_refuses_the_reminder_with_that_message(self, as_user, agency, caseworker):
        amina = register(agency, email="amina@example.org")
        data = form_data(kind="reminder", date=today(agency).isoformat(), body="Come in on Monday.")
        response = as_user(caseworker).post(new_url(amina), data)
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert list(errors) == ["kind"] and "no portal account" in errors["kind"][0]
        assert count(agency) == 0

    def test_it_schedules_a_reminder_for_a_client_who_logged_in(self, as_user, agency, caseworker):
        amina = portal_client(agency)
        data = form_data(kind="reminder", date=days(agency, 1).isoformat(), subject="Workshop", body="Tomorrow at 10.")
        response = as_user(caseworker).post(new_url(amina), data, follow=True)
        assert "Reminder scheduled" in response.content.decode()
        (reminder,) = in_scope(agency, lambda: list(Communication.objects.for_agency(agency)))
        assert (reminder.status, reminder.date) == (Status.SCHEDULED, days(agency, 1))

    @pytest.mark.parametrize(
        ("changes", "field"), [({"kind": "pigeon"}, "kind"), ({"date": "not a date"}, "date"), ({"program": "999999"}, "program")]
    )
    def test_bad_input_is_a_form_error_naming_the_field(self, as_user, agency, caseworker, changes, field):
        amina = register(agency)
        response = as_user(caseworker).post(new_url(amina), form_data(**{"date": today(agency).isoformat(), **changes}))
        assert response.status_code == 400 and field in response.context["form"].errors
        assert count(agency) == 0

    def test_a_read_only_role_cannot_write(self, as_user, agency, auditor):
        amina = register(agency)
        assert as_user(auditor).get(new_url(amina)).status_code == 403
        assert as_user(auditor).post(new_url(amina), form_data(date=today(agency).isoformat())).status_code == 403
        assert count(agency) == 0

    def test_another_agencys_client_is_a_404(self, as_user, other_agency, caseworker):
        assert as_user(caseworker).get(new_url(register(other_agency))).status_code == 404

    def test_a_merged_profile_is_read_only(self, as_user, agency, caseworker):
        from caseload.clients.merging import merge_clients

        kept, merged = register(agency), register(agency, given_name="Amena")
        call = record(merged, caseworker)
        in_scope(agency, merge_clients, kept, merged, None, "Same person")
        assert as_user(caseworker).get(new_url(merged)).status_code == 302
        assert fresh(call).client_id == kept.pk  # the merge moved it

    def test_it_edits_a_communication(self, as_user, agency, caseworker):
        call = record(register(agency), caseworker)
        url = reverse("casework:communication_edit", args=[call.pk])
        assert 'value="Called about the workshop"' in as_user(caseworker).get(url).content.decode()
        response = as_user(caseworker).post(url, form_data(subject="Called back", date=today(agency).isoformat()))
        assert response.status_code == 302 and fresh(call).subject == "Called back"

    def test_a_sent_reminder_cannot_be_edited(self, as_user, agency, caseworker):
        reminder = remind(portal_client(agency), caseworker)
        communications.send_due_reminders()
        url = reverse("casework:communication_edit", args=[reminder.pk])
        response = as_user(caseworker).post(
            url, form_data(kind="reminder", subject="Changed", body="x", date=today(agency).isoformat()), follow=True
        )
        assert "can no longer be changed" in response.content.decode()
        assert fresh(reminder).subject == "Workshop tomorrow"

    def test_editing_another_agencys_communication_is_a_404(self, as_user, other_agency, caseworker):
        theirs = record(register(other_agency))
        for name in ("casework:communication_edit", "casework:communication_delete"):
            assert as_user(caseworker).get(reverse(name, args=[theirs.pk])).status_code == 404

    def test_the_confirm_page_says_a_sent_reminder_is_not_pulled_back(self, as_user, agency, caseworker):
        reminder = remind(portal_client(agency), caseworker)
        communications.send_due_reminders()
        html = as_user(caseworker).get(reverse("casework:communication_delete", args=[reminder.pk])).content.decode()
        assert "does not pull it back" in html

    def test_deleting_a_scheduled_reminder_cancels_it(self, as_user, agency, caseworker):
        reminder = remind(portal_client(agency), caseworker, date=days(agency, 1))
        url = reverse("casework:communication_delete", args=[reminder.pk])
        assert "it will not be sent" in as_user(caseworker).get(url).content.decode()
        assert as_user(caseworker).post(url).status_code == 302
        assert (fresh(reminder).status, fresh(reminder).deleted_at is not None) == (Status.CANCELLED, True)
        assert as_user(caseworker).get(url).status_code == 404  # gone from the file

    def test_a_read_only_role_cannot_delete(self, as_user, agency, auditor):
        call = record(register(agency))
        assert as_user(auditor).post(reverse("casework:communication_delete", args=[call.pk])).status_code == 403
        assert fresh(call).deleted_at is None


# --- The Notifications tab -----------------------------------------------------------------------


def log_url(client) -> str:
    return reverse("casework:notifications", args=[client.pk])


class TestTheNotificationLog:
    def test_it_lists_every_message_to_the_client_with_a_check_mark_once_sent(self, as_user, agency, caseworker):
        amina = portal_client(agency)  # the portal invitation is the first message
        remind(amina, caseworker, subject="Workshop tomorrow")
        communications.send_due_reminders()
        invitation, reminder = messages_to(amina)
        with agency_scope(agency):
            OutboundMessage.objects.filter(pk=invitation.pk).update(
                status="sent", sent_at=timezone.now(), delivered_at=timezone.now()
            )

        html = as_user(caseworker).get(log_url(amina)).content.decode()

        assert "Workshop tomorrow" in html and "Reminder" in html and "Portal invitation" in html
        assert html.count("comm-log-check") == 1 and "Delivered" in html  # the invitation; the reminder is still queued
        assert "Queued" in html and "amina@example.org" in html
        assert html.index("Workshop tomorrow") < html.index("Portal invitation")  # newest first

    def test_the_text_of_a_sensitive_message_is_never_shown(self, as_user, agency, caseworker):
        amina = portal_client(agency, phone="416-555-0123")
        (invitation,) = messages_to(amina)
        with agency_scope(agency):
            queue_sms(agency=agency, to=amina.phone, body="Your sign-in code is 834201", kind="login_code", client=amina)
        html = as_user(caseworker).get(log_url(amina)).content.decode()
        assert "834201" not in html and "Contents hidden" in html
        link = next(word for word in invitation.body.split() if "://" in word)
        assert link not in html  # the invitation's sign-in link
        assert invitation.subject in html

    def test_an_sms_without_a_subject_shows_the_start_of_its_text(self, as_user, agency, caseworker):
        wei = portal_client(
            agency, email="wei@example.org", phone="416-555-0123", consent_sms=True, preferred_contact_method="sms"
        )
        remind(wei, subject="Interview", body="Your interview is at 2 pm.")
        communications.send_due_reminders()
        assert "Your interview is at 2 pm." in as_user(caseworker).get(log_url(wei)).content.decode()

    def test_portal_invitations_and_password_resets_land_in_the_log(self, as_user, agency, caseworker):
        from caseload.accounts.actions import send_password_reset
        from caseload.clients import actions as client_actions

        amina = portal_client(agency)
        in_scope(agency, client_actions.send_portal_password_reset, amina, caseworker)
        send_password_reset(user=amina.portal_user, actor=None, agency=None)  # "Forgot your password?" on the log-in page
        kinds = [(m.kind, m.agency_id) for m in messages_to(amina)]
        assert kinds == [("portal_invitation", agency.pk), ("password_reset", agency.pk), ("password_reset", agency.pk)]
        assert as_user(caseworker).get(log_url(amina)).content.decode().count("Password reset") == 2

    def test_it_shows_only_this_clients_messages(self, as_user, agency, caseworker):
        amina, bo = portal_client(agency), portal_client(agency, email="bo@example.org", given_name="Bo")
        remind(bo, subject="For Bo only")
        communications.send_due_reminders()
        assert "For Bo only" not in as_user(caseworker).get(log_url(amina)).content.decode()

    def test_it_pages_long_logs(self, as_user, agency, caseworker):
        amina = register(agency, email="amina@example.org")
        with agency_scope(agency):
            for n in range(30):
                queue_sms(agency=agency, to="416-555-0123", body=f"Message {n}", client=amina)
        page = as_user(caseworker).get(log_url(amina))
        assert "Message 29" in page.content.decode() and "Message 0<" not in page.content.decode()
        assert "Message 0" in as_user(caseworker).get(log_url(amina), {"page": 2}).content.decode()

    def test_another_agencys_client_is_a_404_and_a_role_without_casework_view_a_403(
        self, as_user, agency, other_agency, caseworker
    ):
        assert as_user(caseworker).get(log_url(register(other_agency))).status_code == 404
        front_desk = make_member(agency, "Front desk").user
        assert as_user(front_desk).get(log_url(register(agency))).status_code == 403
