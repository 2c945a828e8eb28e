"""Two runs of the reminder job at once (two workers, two connections) send a reminder once.

PostgreSQL only: the claim's conditional UPDATE waits on the row the other run holds, then finds
it no longer scheduled. (SQLite serialises whole transactions, which cannot interleave at all.)
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from caseload.casework import communications
from caseload.casework.models import Communication
from caseload.casework.tests.comm_helpers import fresh, messages_to, portal_client, remind, today

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections (PostgreSQL)"),
]


def test_two_concurrent_runs_send_a_reminder_once(agency, monkeypatch):
    amina = portal_client(agency)
    reminder = remind(amina)
    queue = communications._queue_reminder

    def slow_queue(*args, **kwargs):
        time.sleep(0.3)  # hold the claimed row while the other run tries to claim it
        return queue(*args, **kwargs)

    monkeypatch.setattr(communications, "_queue_reminder", slow_queue)
    start = threading.Barrier(2)
    results: list[str] = []

    def run() -> None:
        try:
            start.wait()
            results.append(communications.send_reminder(agency, reminder.pk, today(agency)))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [Communication.Status.SENT, "skipped"]
    assert len(messages_to(amina, kind="reminder")) == 1
    assert fresh(reminder).status == Communication.Status.SENT
