"""The send task through the real backends: django-tasks-db's worker, and RQ on the local Redis."""

import os
import signal
import uuid
from contextlib import contextmanager

import pytest
from django.core.management import call_command

from caseload.messaging import sms, tasks
from caseload.messaging.actions import queue_sms
from caseload.messaging.models import OutboundMessage
from caseload.messaging.tests.conftest import DATABASE_TASKS

REDIS_URL = os.environ.get("CASELOAD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@contextmanager
def restored_signal_handlers():
    """Workers install their own SIGINT/SIGTERM handlers; give the test process its own back."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_a_message_is_sent_by_the_database_backend_worker(agency, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    message = queue_sms(agency=agency, to="+15145550123", body="Hello from the worker")

    [task_row] = DBTaskResult.objects.all()
    assert task_row.task_path == "caseload.messaging.tasks.send_message"
    assert task_row.args_kwargs == {"args": [str(message.pk)], "kwargs": {}}
    assert sms.outbox == []  # enqueued, not run

    with restored_signal_handlers():
        call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert [m.body for m in sms.outbox] == ["Hello from the worker"]
    task_row.refresh_from_db()
    assert (task_row.status, task_row.return_value) == ("SUCCESSFUL", "sent")


@pytest.fixture
def rq_queue(settings):
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    # A queue of its own, so parallel test runs sharing this Redis database never see each other's jobs.
    name = f"test-{uuid.uuid4().hex[:12]}"
    settings.RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [name]}}
    yield name
    for key in connection.scan_iter(f"rq:*{name}*"):
        connection.delete(key)
    connection.srem("rq:queues", f"rq:queue:{name}")
    connection.close()


def test_a_message_is_sent_through_rq_by_a_burst_worker(agency, rq_queue, django_capture_on_commit_callbacks, monkeypatch):
    import django_rq
    from rq import SimpleWorker

    # The send task's queue is this test's queue (tasks name theirs; "default" in production).
    monkeypatch.setattr(tasks, "send_message", tasks.send_message.using(queue_name=rq_queue))
    with django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(agency=agency, to="+15145550123", body="Hello through Redis")
    queue = django_rq.get_queue(rq_queue)
    assert queue.count == 1
    assert sms.outbox == []

    # A SimpleWorker runs the job in this process, inside the test's database transaction.
    worker = django_rq.get_worker(rq_queue, job_class="django_tasks_rq.Job", worker_class=SimpleWorker)
    with restored_signal_handlers():
        assert worker.work(burst=True) is True

    message.refresh_from_db()
    assert message.status == OutboundMessage.Status.SENT
    assert [m.body for m in sms.outbox] == ["Hello through Redis"]
    assert queue.count == 0
