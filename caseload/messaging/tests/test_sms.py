import logging
from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured

from caseload.messaging import sms


def test_it_builds_the_backend_named_in_settings(settings):
    settings.SMS_BACKEND = "caseload.messaging.sms.DiscardBackend"
    assert isinstance(sms.get_sms_backend(), sms.DiscardBackend)
    assert isinstance(sms.get_sms_backend("caseload.messaging.sms.LocmemBackend"), sms.LocmemBackend)


def test_it_refuses_a_class_that_is_not_an_sms_backend():
    with pytest.raises(ImproperlyConfigured):
        sms.get_sms_backend("caseload.messaging.sms.SmsMessage")


def test_the_outbox_only_default_sends_nothing_and_logs_no_body(caplog):
    with caplog.at_level(logging.INFO, logger="caseload.messaging.sms"):
        provider_id = sms.OutboxOnlyBackend().send("+15145550123", "Your code is 123456", "key-1")
    assert provider_id == "outbox-only"
    assert "key-1" in caplog.text
    assert "123456" not in caplog.text


def test_the_locmem_backend_keeps_messages_in_order():
    backend = sms.LocmemBackend()
    assert backend.send("+15145550123", "one", "k1") == "locmem-1"
    assert backend.send("+15145550124", "two", "k2") == "locmem-2"
    assert [(m.to, m.body, m.idempotency_key) for m in sms.outbox] == [("+15145550123", "one", "k1"), ("+15145550124", "two", "k2")]


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "auth-token"
    settings.TWILIO_FROM_NUMBER = "+15145550100"
    return settings


def test_the_twilio_backend_sends_through_the_twilio_client(twilio_settings):
    with mock.patch("twilio.rest.Client") as client_class:
        client_class.return_value.messages.create.return_value.sid = "SM123"
        provider_id = sms.TwilioBackend().send("+15145550123", "Hello", "key-1")
    assert provider_id == "SM123"
    args, kwargs = client_class.call_args
    assert args == ("AC" + "0" * 32, "auth-token")
    assert kwargs["http_client"].timeout == sms.TwilioBackend.timeout_seconds
    client_class.return_value.messages.create.assert_called_once_with(to="+15145550123", from_="+15145550100", body="Hello")


def test_the_twilio_backend_lets_a_provider_error_through_for_the_outbox_to_retry(twilio_settings):
    from twilio.base.exceptions import TwilioRestException

    with mock.patch("twilio.rest.Client") as client_class:
        client_class.return_value.messages.create.side_effect = TwilioRestException(503, "https://api.twilio.com", "Service unavailable")
        with pytest.raises(TwilioRestException):
            sms.TwilioBackend().send("+15145550123", "Hello", "key-1")


def test_the_twilio_backend_names_the_settings_it_misses(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.TWILIO_FROM_NUMBER = "+15145550100"
    with pytest.raises(ImproperlyConfigured, match="TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"):
        sms.TwilioBackend()
