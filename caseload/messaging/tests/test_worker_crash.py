"""A worker killed in the middle of a send does not cause a second send.

Real processes on a real database: a task worker (``manage.py db_worker``) sends an SMS through a
backend that writes the delivery to a file and then hangs; the test kills it with SIGKILL once the
line is there. Then the periodic recovery, the dispatcher, a redelivered task and a fresh worker
all run, and the file must still hold exactly one delivery, the row marked ``uncertain``.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from caseload.messaging.actions import queue_sms
from caseload.messaging.models import OutboundMessage
from caseload.messaging.tests.conftest import DATABASE_TASKS

AFTER_THE_CRASH = """
import json, os, django
django.setup()
from django.core.management import call_command
from caseload.messaging.actions import dispatch_due, recover_stale_sends, send_one
from caseload.messaging.tasks import send_message
pk = os.environ["CASELOAD_TEST_MESSAGE_ID"]
report = {"uncertain": recover_stale_sends(), "dispatched": dispatch_due()}
send_message.enqueue(pk)  # the crashed worker's task handed out again
call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
report["send_again"] = send_one(pk)
print(json.dumps(report))
"""


def _database_url(tmp_path: Path) -> str:
    """A URL for the test database that another process can open."""
    if connection.vendor == "sqlite":
        # The test database lives in this process's memory: copy it to a file both sides use.
        path = tmp_path / "outbox.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        return f"sqlite:///{path}"
    db = connection.settings_dict
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _status(database_url: str, pk: int) -> str:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT status FROM messaging_outboundmessage WHERE id = ?", [pk]).fetchone()[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM messaging_outboundmessage WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _wait_for_line(path: Path, process: subprocess.Popen, timeout: float = 20, lines: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= lines:
            return
        if process.poll() is not None:
            pytest.fail(f"the worker exited before sending: {process.stderr.read().decode()}")
        time.sleep(0.05)
    pytest.fail("the worker did not send within the time allowed")


def _worker_env(database_url: str, deliveries: Path, **more: str) -> dict[str, str]:
    """A worker process's environment: the test database, the database task backend, the file-appending SMS backend."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "caseload.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "crash-test-only",
        "DEBUG": "false",
        "TASK_BACKEND": "database",
        "SMS_BACKEND": "caseload.messaging.tests.backends.FileAppendingSmsBackend",
        "CASELOAD_TEST_DELIVERIES": str(deliveries),
        "CASELOAD_TEST_SEND_SECONDS": "60",
        "LOG_LEVEL": "WARNING",
        **more,
    }


def _kill_a_worker_once_delivered(env: dict[str, str], deliveries: Path, lines: int = 1) -> None:
    """A task worker (``manage.py db_worker``), killed with SIGKILL once ``lines`` deliveries are in the file."""
    manage = [sys.executable, str(django_settings.BASE_DIR / "manage.py")]
    worker = subprocess.Popen(
        [*manage, "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0", "--verbosity", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_line(deliveries, worker, lines=lines)
        # The provider has the message; the worker dies before it can record that.
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        worker.stderr.close()
    assert worker.returncode == -signal.SIGKILL


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_does_not_cause_a_second_send(agency, settings, tmp_path):
    settings.TASKS = DATABASE_TASKS
    # Committed, and its send task enqueued in the database task backend on commit.
    message = queue_sms(agency=agency, to="+15145550123", body="Your appointment is at 10")
    database_url = _database_url(tmp_path)
    deliveries = tmp_path / "deliveries.txt"
    env = _worker_env(database_url, deliveries, CASELOAD_TEST_MESSAGE_ID=str(message.pk))
    _kill_a_worker_once_delivered(env, deliveries)
    assert _status(database_url, message.pk) == OutboundMessage.Status.SENDING

    # Recovery with the lease already over, the dispatcher, the task redelivered, a new worker.
    after = subprocess.run(
        [sys.executable, "-c", AFTER_THE_CRASH],
        env={**env, "OUTBOX_SEND_LEASE_SECONDS": "0", "CASELOAD_TEST_SEND_SECONDS": "0"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        timeout=60,
    )
    assert after.returncode == 0, after.stderr.decode()
    report = json.loads(after.stdout.decode().strip().splitlines()[-1])
    assert report == {"uncertain": 1, "dispatched": 0, "send_again": "skipped"}

    assert deliveries.read_text().splitlines() == [f"{message.uuid} +15145550123"]
    assert _status(database_url, message.pk) == OutboundMessage.Status.UNCERTAIN


AFTER_THE_BATCH_CRASH = """
import json, django
django.setup()
from django.core.management import call_command
from caseload.messaging.actions import dispatch_due, recover_stale_sends
report = {"uncertain": recover_stale_sends(), "dispatched": dispatch_due()}
call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
print(json.dumps(report))
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_a_batch_leaves_what_single_sends_leave(agency, settings, tmp_path):
    """A ``send_messages`` task records each message with the next one's claim: killed while delivering the second
    of three, the first is recorded sent, the second left ``sending`` (then uncertain), the third still queued (then
    sent by the next worker); the provider gets each once."""
    from django_tasks_db.models import DBTaskResult

    from caseload.messaging.tasks import send_messages

    settings.TASKS = DATABASE_TASKS
    messages = [queue_sms(agency=agency, to=f"+1514555012{n}", body=f"Reminder {n}") for n in range(3)]
    DBTaskResult.objects.all().delete()  # their own send tasks lost: the dispatcher's batch sends them
    send_messages.enqueue([str(message.pk) for message in messages])
    database_url = _database_url(tmp_path)
    deliveries = tmp_path / "deliveries.txt"
    env = _worker_env(database_url, deliveries, CASELOAD_TEST_HANG_FROM="2")
    _kill_a_worker_once_delivered(env, deliveries, lines=2)
    Status = OutboundMessage.Status
    assert [_status(database_url, message.pk) for message in messages] == [Status.SENT, Status.SENDING, Status.QUEUED]

    after = subprocess.run(
        [sys.executable, "-c", AFTER_THE_BATCH_CRASH],
        env={**env, "OUTBOX_SEND_LEASE_SECONDS": "0", "OUTBOX_REDISPATCH_SECONDS": "0", "CASELOAD_TEST_SEND_SECONDS": "0"},
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        timeout=60,
    )
    assert after.returncode == 0, after.stderr.decode()
    assert json.loads(after.stdout.decode().strip().splitlines()[-1]) == {"uncertain": 1, "dispatched": 1}
    assert deliveries.read_text().splitlines() == [f"{message.uuid} {message.to}" for message in messages]
    assert [_status(database_url, message.pk) for message in messages] == [Status.SENT, Status.UNCERTAIN, Status.SENT]
