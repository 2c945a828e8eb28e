import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from caseload.audit.models import AuditEvent
from caseload.messaging import sms
from caseload.messaging.actions import queue_email, queue_sms
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.scoping import ScopeError, agency_scope, all_agencies

pytestmark = pytest.mark.django_db


def _all_messages():
    with all_agencies():
        return list(OutboundMessage.objects.all())


def test_it_writes_an_email_row_and_sends_it_after_the_commit(agency, admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, agency_scope(agency):
        message = queue_email(agency=agency, to="client@example.org", subject="Your appointment", body="See you Monday.", actor=admin, kind="reminder")
        assert mail.outbox == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert message.attempts == 1
    assert message.created_by == admin
    assert [m.to for m in mail.outbox] == [["client@example.org"]]


def test_a_rolled_back_change_leaves_no_message_and_sends_nothing(agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        queue_email(agency=agency, to="client@example.org", subject="Hello", body="Body")
        queue_sms(agency=agency, to="+1 514 555 0123", body="Body")
        raise RuntimeError("the change that caused them failed")
    assert callbacks == []
    assert _all_messages() == []
    assert mail.outbox == []
    assert sms.outbox == []


def test_it_normalises_a_phone_number_to_e164_in_the_default_region(agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(agency=agency, to="(514) 555-0123", body="Hi")
    assert message.to == "+15145550123"
    assert sms.outbox[0].to == "+15145550123"
    assert sms.outbox[0].idempotency_key == str(message.uuid)


@pytest.mark.parametrize("to", ["", "12", "not a number", "+1 555 0000 00000 0"])
def test_it_refuses_a_bad_phone_number_naming_the_field(agency, to):
    with pytest.raises(ValidationError) as error:
        queue_sms(agency=agency, to=to, body="Hi")
    assert set(error.value.message_dict) == {"to"}
    assert _all_messages() == []


def test_it_refuses_an_email_address_longer_than_the_column(agency):
    with pytest.raises(ValidationError) as error:
        queue_email(agency=agency, to="a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".org", subject="Hi", body="Body")
    assert set(error.value.message_dict) == {"to"}


def test_it_refuses_a_bad_email_subject_and_body_naming_each_field(agency):
    with pytest.raises(ValidationError) as error:
        queue_email(agency=agency, to="not-an-address", subject="Two\nlines", body="  ")
    assert set(error.value.message_dict) == {"to", "subject", "body"}
    assert _all_messages() == []


def test_it_audits_the_message_without_its_body(agency, admin):
    with agency_scope(agency):
        message = queue_email(agency=agency, to="client@example.org", subject="Results", body="Secret case details", actor=admin)
        event = AuditEvent.objects.get(object_type="messaging.outboundmessage", object_id=str(message.pk), action="create")
    assert event.actor == admin
    assert event.changes["to"] == [None, "client@example.org"]
    assert "Secret case details" not in str(event.changes)
    assert "Secret case details" not in event.object_repr


def test_a_system_message_without_agency_can_be_queued_from_inside_an_agency_scope(agency, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), agency_scope(agency):
        message = queue_email(agency=None, to="someone@example.org", subject="Reset your password", body="Link", kind="password_reset")
    message.refresh_from_db()
    assert message.agency is None
    assert message.sensitive  # password resets carry a sign-in link
    assert message.status == OutboundMessage.Status.SENT
    assert message.body == ""  # erased once sent


def test_it_refuses_to_queue_a_message_of_another_agency_than_the_one_in_scope(agency, other_agency):
    with agency_scope(agency), pytest.raises(ScopeError):
        queue_email(agency=other_agency, to="client@example.org", subject="Hello", body="Body")
    assert _all_messages() == []
