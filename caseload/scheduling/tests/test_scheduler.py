import signal
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from caseload.scheduling import jobs
from caseload.scheduling.jobs import PeriodicJob, get_job
from caseload.scheduling.leases import job_lease
from caseload.scheduling.models import JobLease
from caseload.scheduling.scheduler import enqueue_if_due, run_due_jobs
from caseload.scheduling.tests import periodic

JOB = PeriodicJob("test.counter", every=60, task="caseload.scheduling.tests.periodic.note_run", timeout=300)
LEASED = PeriodicJob("test.leased", every=60, task="caseload.scheduling.tests.periodic.note_run_under_lease")


def _set(name: str, **fields) -> None:
    JobLease.objects.filter(name=name).update(**fields)


@pytest.mark.django_db
def test_a_due_job_is_enqueued_once_then_waits_for_its_interval():
    now = timezone.now()
    assert run_due_jobs(now, jobs=[JOB]) == ["test.counter"]
    assert periodic.runs == ["run"]
    # Enqueued, and (as far as the scheduler knows) not started: not enqueued again.
    assert run_due_jobs(now + timedelta(seconds=120), jobs=[JOB]) == []
    # It ran: due again once the interval has passed, not before.
    _set("test.counter", last_started_at=now + timedelta(seconds=1), last_finished_at=now + timedelta(seconds=2))
    assert run_due_jobs(now + timedelta(seconds=59), jobs=[JOB]) == []
    assert run_due_jobs(now + timedelta(seconds=60), jobs=[JOB]) == ["test.counter"]
    assert periodic.runs == ["run", "run"]


@pytest.mark.django_db
def test_a_job_is_not_enqueued_while_a_run_holds_its_lease():
    with job_lease("test.leased", seconds=600):
        assert run_due_jobs(jobs=[LEASED]) == []
    assert run_due_jobs(jobs=[LEASED]) == ["test.leased"]
    assert periodic.runs == ["run"]


@pytest.mark.django_db
def test_an_enqueued_run_no_worker_picked_up_is_enqueued_again_after_its_timeout():
    now = timezone.now()
    assert enqueue_if_due(JOB, now)
    assert not enqueue_if_due(JOB, now + timedelta(seconds=299))
    assert enqueue_if_due(JOB, now + timedelta(seconds=300))


@pytest.mark.django_db
def test_a_failed_enqueue_is_tried_again_at_the_next_tick(monkeypatch):
    broken = PeriodicJob("test.broken", every=60, task="caseload.scheduling.tests.periodic.does_not_exist")
    assert run_due_jobs(jobs=[broken]) == []
    assert JobLease.objects.get(name="test.broken").last_enqueued_at is None


def test_every_declared_job_names_a_task_and_a_lease_longer_than_its_interval():
    from django_tasks.base import Task

    assert len({job.name for job in jobs.PERIODIC_JOBS}) == len(jobs.PERIODIC_JOBS)
    for job in jobs.PERIODIC_JOBS:
        assert isinstance(job.get_task(), Task)
        assert job.lease_seconds >= job.every
    assert get_job("outbox.dispatch").every == 60
    with pytest.raises(LookupError):
        get_job("nope")


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_enqueue_a_job_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need separate connections to a server database")
    now = timezone.now()
    JobLease.objects.create(name=JOB.name)
    barrier = threading.Barrier(2)
    enqueued: list[bool] = []

    def scheduler() -> None:
        try:
            barrier.wait(timeout=10)
            enqueued.append(enqueue_if_due(JOB, now))
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(enqueued) == [False, True]
    assert periodic.runs == ["run"]


@pytest.mark.django_db(transaction=True)
def test_run_scheduler_enqueues_the_outbox_dispatch_which_the_database_worker_runs(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert "Enqueued outbox.dispatch" in out.getvalue()
    declared = {job.task for job in jobs.PERIODIC_JOBS}
    assert "caseload.messaging.tasks.dispatch_outbox" in declared
    assert sorted(DBTaskResult.objects.values_list("task_path", flat=True)) == sorted(declared)
    # A second pass finds them all pending: nothing new.
    out = StringIO()
    call_command("run_scheduler", "--once", stdout=out)
    assert out.getvalue() == ""
    assert DBTaskResult.objects.count() == len(declared)

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    lease = JobLease.objects.get(name="outbox.dispatch")
    assert lease.locked_until is None
    assert lease.last_started_at >= lease.last_enqueued_at
    assert lease.last_finished_at >= lease.last_started_at
