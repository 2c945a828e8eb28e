import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from caseload.messaging.tasks import dispatch_outbox
from caseload.scheduling.leases import acquire, job_lease, release
from caseload.scheduling.models import JobLease


@pytest.mark.django_db
def test_a_second_run_is_refused_while_the_first_holds_the_lease():
    with job_lease("outbox.dispatch") as first:
        assert first is True
        with job_lease("outbox.dispatch") as second:
            assert second is False
        lease = JobLease.objects.get(name="outbox.dispatch")
        assert lease.locked_until > timezone.now()
    lease.refresh_from_db()
    assert lease.locked_until is None
    assert lease.last_finished_at >= lease.last_started_at
    with job_lease("outbox.dispatch") as third:
        assert third is True


@pytest.mark.django_db
def test_the_lease_is_released_when_the_run_fails():
    with pytest.raises(RuntimeError), job_lease("outbox.dispatch"):
        raise RuntimeError("the job broke")
    with job_lease("outbox.dispatch") as again:
        assert again is True


@pytest.mark.django_db
def test_an_expired_lease_can_be_taken_and_the_late_holder_does_not_release_it():
    assert acquire("job", 60, holder="first")
    JobLease.objects.filter(name="job").update(locked_until=timezone.now() - timedelta(seconds=1))
    assert acquire("job", 60, holder="second")
    release("job", holder="first")  # the first run, finishing late
    assert not acquire("job", 60, holder="third")
    assert JobLease.objects.get(name="job").holder == "second"


@pytest.mark.django_db
def test_the_outbox_dispatch_task_skips_while_another_run_holds_its_lease():
    with job_lease("outbox.dispatch"):
        assert dispatch_outbox.call() == {"skipped": 1}
    assert dispatch_outbox.call() == {"uncertain": 0, "dispatched": 0}


@pytest.mark.django_db(transaction=True)
def test_of_two_processes_racing_for_a_lease_exactly_one_wins_each_time():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need separate connections to a server database (SQLite is covered sequentially above)")
    rounds = 15
    barrier = threading.Barrier(2)
    results: dict[int, list[bool]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def contender(index: int) -> None:
        try:
            for round_number in range(rounds):
                barrier.wait(timeout=10)
                results[index].append(acquire(f"race-{round_number}", 60, holder=f"thread-{index}"))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=contender, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert [a + b for a, b in zip(results[0], results[1], strict=True)] == [1] * rounds
