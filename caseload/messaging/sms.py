"""SMS backends: a small interface in the manner of Django's email backends.

``settings.SMS_BACKEND`` names the class; ``get_sms_backend()`` builds it. A backend's ``send``
returns the provider's id for the message, or raises: the outbox turns the exception into a
retry with back-off. ``idempotency_key`` is stable per outbox row (its uuid), for providers that
can de-duplicate on it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

__all__ = [
    "BaseSmsBackend",
    "DiscardBackend",
    "LocmemBackend",
    "OutboxOnlyBackend",
    "SmsMessage",
    "TwilioBackend",
    "get_sms_backend",
    "outbox",
]


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    idempotency_key: str
    provider_message_id: str


# Messages "sent" through LocmemBackend, in order, like django.core.mail.outbox. Tests clear it.
outbox: list[SmsMessage] = []


class BaseSmsBackend(ABC):
    def __init__(self, **options: Any) -> None:
        self.options = options

    @abstractmethod
    def send(self, to: str, body: str, idempotency_key: str) -> str:
        """Hand one message to the provider and return its id for it; raise on failure."""


class OutboxOnlyBackend(BaseSmsBackend):
    """The embedded default: nothing leaves the machine; the outbox page shows the message."""

    def send(self, to: str, body: str, idempotency_key: str) -> str:
        logger.info("SMS %s kept in the outbox only (no SMS provider is configured)", idempotency_key)
        return "outbox-only"


class DiscardBackend(BaseSmsBackend):
    def send(self, to: str, body: str, idempotency_key: str) -> str:
        return "discarded"


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in ``caseload.messaging.sms.outbox``, for tests."""

    def send(self, to: str, body: str, idempotency_key: str) -> str:
        provider_message_id = f"locmem-{len(outbox) + 1}"
        outbox.append(SmsMessage(to=to, body=body, idempotency_key=idempotency_key, provider_message_id=provider_message_id))
        return provider_message_id


class TwilioBackend(BaseSmsBackend):
    """Twilio's Messages API (settings TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER).

    Twilio takes no idempotency key for messages; the outbox's claim and its ``uncertain`` state
    are what keep a message from being sent twice.
    """

    timeout_seconds = 30

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.account_sid = options.get("account_sid", settings.TWILIO_ACCOUNT_SID)
        self.auth_token = options.get("auth_token", settings.TWILIO_AUTH_TOKEN)
        self.from_number = options.get("from_number", settings.TWILIO_FROM_NUMBER)
        missing = [
            name
            for name, value in (
                ("TWILIO_ACCOUNT_SID", self.account_sid),
                ("TWILIO_AUTH_TOKEN", self.auth_token),
                ("TWILIO_FROM_NUMBER", self.from_number),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(f"TwilioBackend needs {', '.join(missing)}")

    def send(self, to: str, body: str, idempotency_key: str) -> str:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=self.timeout_seconds))
        message = client.messages.create(to=to, from_=self.from_number, body=body)
        return str(message.sid)


def get_sms_backend(backend: str | None = None, **options: Any) -> BaseSmsBackend:
    backend_class = import_string(backend or settings.SMS_BACKEND)
    if not (isinstance(backend_class, type) and issubclass(backend_class, BaseSmsBackend)):
        raise ImproperlyConfigured(f"{backend or settings.SMS_BACKEND} is not an SMS backend")
    return backend_class(**options)
