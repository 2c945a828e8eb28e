"""A periodic task for the scheduling tests: counts its runs, and can be made to wait."""

import threading

from django_tasks import task

from caseload.scheduling.leases import job_lease

runs: list[str] = []
release = threading.Event()


@task()
def note_run() -> bool:
    runs.append("run")
    return True


@task()
def note_run_under_lease() -> bool:
    with job_lease("test.leased", seconds=60) as acquired:
        if acquired:
            runs.append("run")
        return acquired
