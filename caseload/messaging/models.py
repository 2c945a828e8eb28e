from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.models import Agency, AgencyOwned
from caseload.tenancy.scoping import agency_manager


class OutboundMessage(models.Model):
    """One email or SMS, written in the transaction that causes it and sent by a task.

    Status moves queued → sending → sent; a failed attempt goes back to queued with a later
    ``next_attempt_at``, and past the last attempt to failed. A row found still ``sending`` after
    its lease (the worker died mid-send) becomes ``uncertain``, never queued again: whether the
    provider took it cannot be known, and a double send is worse than asking a person to check.

    ``enqueued_at`` is when a send task was last handed to the task backend; the periodic
    dispatcher hands it again only once that is old (a lost enqueue), so a stopped worker does not
    pile up duplicate tasks. A ``sensitive`` message (a sign-in link or code) never shows its body
    on the outbox page, and its body is erased once it is sent or cancelled.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNCERTAIN = "uncertain", _("Uncertain (check before resending)")
        CANCELLED = "cancelled", _("Cancelled")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("body"))
    html_body = models.TextField(blank=True)
    kind = models.CharField(_("kind"), max_length=60, blank=True, help_text="What caused it, e.g. password_reset.")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True)
    sensitive = models.BooleanField(default=False, help_text="Carries a sign-in link or code: the body is never shown.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The client it was sent to, for the client's notification log (None for staff mail).
    client = models.ForeignKey("clients.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True, help_text="When the provider reported delivery.")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = agency_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound message")
        verbose_name_plural = _("outbound messages")
        indexes = [
            models.Index(fields=["agency", "-created_at"], name="outbox_agency_time"),
            models.Index(fields=["agency", "status", "-created_at"], name="outbox_agency_status_time"),
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["agency", "client", "-created_at"], name="outbox_client_time"),
        ]

    def __str__(self) -> str:
        # What get_channel_display() gives, without building the choices' dict on each call (the outbox
        # writes it into every send's audit event).
        return f"{_CHANNEL_LABELS.get(self.channel, self.channel)} to {self.to}"

    @property
    def can_retry(self) -> bool:
        return self.status in RETRYABLE

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELLABLE


_CHANNEL_LABELS = dict(OutboundMessage.Channel.choices)
RETRYABLE = {OutboundMessage.Status.FAILED, OutboundMessage.Status.UNCERTAIN}
CANCELLABLE = {OutboundMessage.Status.QUEUED, OutboundMessage.Status.FAILED, OutboundMessage.Status.UNCERTAIN}


class MessageTemplate(AgencyOwned):
    """An agency's wording for one kind of message, per channel and language, with placeholders
    such as ``{preferred_name}`` and ``{link}`` (checked when saved; see ``templates.py``)."""

    class Purpose(models.TextChoices):
        SURVEY = "survey", _("Checkpoint survey")
        SURVEY_REMINDER = "survey_reminder", _("Checkpoint survey reminder")

    purpose = models.CharField(_("used for"), max_length=30, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=OutboundMessage.Channel.choices)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=250, blank=True)
    body = models.TextField(_("message"))
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["purpose", "channel", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["agency", "purpose", "channel", "language"], name="messagetemplate_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.get_channel_display()} · {self.language}"
