"""SMS backends for tests: one that fails a set number of times, one that writes to a file and hangs."""

from __future__ import annotations

import os
import time

from caseload.messaging.sms import BaseSmsBackend


class ProviderDown(Exception):
    pass


class FlakySmsBackend(BaseSmsBackend):
    """Raises for the first ``failures`` attempts, then delivers; counts both."""

    failures = 0
    attempts = 0
    deliveries: list[tuple[str, str, str]] = []

    @classmethod
    def reset(cls, failures: int) -> None:
        cls.failures = failures
        cls.attempts = 0
        cls.deliveries = []

    def send(self, to: str, body: str, idempotency_key: str) -> str:
        type(self).attempts += 1
        if type(self).attempts <= type(self).failures:
            raise ProviderDown(f"provider unavailable (attempt {type(self).attempts})")
        type(self).deliveries.append((to, body, idempotency_key))
        return f"flaky-{len(type(self).deliveries)}"


class FileAppendingSmsBackend(BaseSmsBackend):
    """Appends one line per delivery to $CASELOAD_TEST_DELIVERIES, then sleeps $CASELOAD_TEST_SEND_SECONDS
    (from the file's $CASELOAD_TEST_HANG_FROM-th line on: by default the first).

    The crash test kills a worker during that sleep: the provider "has" the message, the outbox
    has not heard back.
    """

    def send(self, to: str, body: str, idempotency_key: str) -> str:
        with open(os.environ["CASELOAD_TEST_DELIVERIES"], "a+") as deliveries:
            deliveries.write(f"{idempotency_key} {to}\n")
            deliveries.flush()
            os.fsync(deliveries.fileno())
            deliveries.seek(0)
            delivered = len(deliveries.readlines())
        if delivered >= int(os.environ.get("CASELOAD_TEST_HANG_FROM", "1")):
            time.sleep(float(os.environ.get("CASELOAD_TEST_SEND_SECONDS", "0")))
        return f"file-{idempotency_key}"
