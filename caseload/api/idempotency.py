"""``Idempotency-Key``: a retried API write never happens twice.

A write (POST, PUT, PATCH, DELETE under /api/) that carries the header runs in one transaction
that also inserts an IdempotencyRecord unique on (user, key), and stores the response on it.
So the record and the write commit together or not at all:

- a retry after the first request committed finds the record and gets the stored response back
  (same status and body, plus ``Idempotent-Replayed: true``), and nothing is written again;
- a retry while the first request is still running waits on the unique index until the first
  commits (then replays) or rolls back (then runs);
- a response of 500 or more, or a 401, 403 or 429 (not processed), rolls everything back, so a
  retry runs the request anew;
- the same key with a different request (method, path, agency or body) answers 422.

Anonymous requests are not tracked: they cannot write, and the view answers 401. The token
endpoint ignores the header: its response holds a secret, which is never stored.
Records live for 24 hours (``purge_idempotency_records``, run by the scheduler).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")  # visible ASCII, as the schema says
TTL = datetime.timedelta(hours=24)
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Answers that say "not processed": not authenticated, not allowed (a permission, the CSRF check,
# two-factor still to do), throttled. Nothing was written; once the cause is fixed, a retry with
# the same key must run, so they are never stored.
NOT_STORED = frozenset({401, 403, 429})


class _Rollback(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def error_response(status: int, code: str, detail: str, error_type: str = "client_error") -> JsonResponse:
    return JsonResponse({"type": error_type, "errors": [{"code": code, "detail": detail, "attr": HEADER}]}, status=status)


def fingerprint(request: HttpRequest, body: bytes) -> str:
    agency = getattr(request, "agency", None)
    digest = hashlib.sha256()
    digest.update("\n".join([request.method or "", request.get_full_path(), str(agency.pk if agency else "")]).encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


def replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.response_body), status=record.response_status, content_type=record.response_content_type or None)
    response[REPLAYED_HEADER] = "true"
    return response


def mismatch() -> JsonResponse:
    return error_response(
        422, "idempotency_key_reused", _("This Idempotency-Key was already used for a different request; use a new key.")
    )


def _insert(user, key: str, digest: str) -> IdempotencyRecord | None:
    """The new record, or None when the user already has one with this key (committed)."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user=user, key=key, fingerprint=digest)
    except IntegrityError:
        return None


def _claim(user, key: str, digest: str) -> tuple[IdempotencyRecord | None, HttpResponse | None]:
    """Insert the record, or answer from the one already there (replay, or 422)."""
    for _attempt in range(3):
        record = _insert(user, key, digest)
        if record is not None:
            return record, None
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # purged between the insert and the read: insert again
        if existing.created_at < timezone.now() - TTL:
            existing.delete()
            continue
        if existing.fingerprint != digest:
            return None, mismatch()
        return None, replay(existing)
    raise IntegrityError("could not claim the idempotency key")


def handle(request: HttpRequest, key: str, body: bytes, get_response: Callable[[HttpRequest], HttpResponse]) -> HttpResponse:
    """Run the request once for this user and key, in one transaction with its record."""
    digest = fingerprint(request, body)
    try:
        with transaction.atomic():
            record, answer = _claim(request.user, key, digest)
            if answer is not None:
                return answer
            response = get_response(request)
            if response.status_code >= 500 or response.status_code in NOT_STORED:
                raise _Rollback(response)
            record.response_status = response.status_code
            record.response_content_type = response.get("Content-Type", "")[:200]
            record.response_body = b"" if response.streaming else response.content
            record.save(update_fields=["response_status", "response_content_type", "response_body"])
            return response
    except _Rollback as rollback:
        return rollback.response


def purge_idempotency_records(now: datetime.datetime | None = None) -> int:
    """Delete records older than 24 hours; returns how many. Safe to run at any time."""
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=(now or timezone.now()) - TTL).delete()
    return deleted
