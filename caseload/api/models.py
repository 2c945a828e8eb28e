from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """A write made with an ``Idempotency-Key``: what was asked, and what was answered.

    Written in the same transaction as the write itself, so either both exist or neither does:
    a retry finds the record (and replays the answer) exactly when the write happened.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the method, path, agency and body.")
    response_status = models.PositiveSmallIntegerField(null=True)
    response_content_type = models.CharField(max_length=200, blank=True)
    response_body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_key_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
