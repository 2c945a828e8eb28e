"""Every periodic job, declared in one place.

The scheduler (``manage.py run_scheduler``) enqueues each job's task when it is due; the task's
body holds the job's lease (``leases.job_lease``), so the same job never runs twice at once,
however many schedulers and workers there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: int
    """Seconds between two runs."""
    task: str
    """Import path of a django-tasks ``Task`` taking no arguments."""
    timeout: int | None = None
    """Seconds a run may hold the lease; also how long an enqueued run may wait for a worker
    before the scheduler takes it for lost and enqueues it again. Default: 5 × every, at least 5 minutes."""

    @property
    def lease_seconds(self) -> int:
        return self.timeout if self.timeout is not None else max(5 * self.every, 300)

    def get_task(self):
        return import_string(self.task)


PERIODIC_JOBS: list[PeriodicJob] = [
    PeriodicJob("outbox.dispatch", every=60, task="caseload.messaging.tasks.dispatch_outbox"),
    PeriodicJob("tasks.prune_results", every=6 * 60 * 60, task="caseload.scheduling.tasks.prune_task_results"),
    PeriodicJob("api.purge_idempotency", every=60 * 60, task="caseload.api.tasks.purge_idempotency"),
    PeriodicJob("clients.recover_stalled_imports", every=5 * 60, task="caseload.clients.tasks.recover_stalled_imports"),
    PeriodicJob("casework.send_reminders", every=5 * 60, task="caseload.casework.jobs.send_reminders"),
    PeriodicJob("casework.task_reminders", every=15 * 60, task="caseload.casework.jobs.send_task_reminders"),
    PeriodicJob("casework.referral_reminders", every=15 * 60, task="caseload.casework.jobs.send_referral_reminders"),
    PeriodicJob("outcomes.survey_reminders", every=15 * 60, task="caseload.outcomes.jobs.send_survey_reminders"),
    PeriodicJob("outcomes.refresh_checkpoints", every=60 * 60, task="caseload.outcomes.jobs.refresh_checkpoints"),
]


def get_job(name: str) -> PeriodicJob:
    for job in PERIODIC_JOBS:
        if job.name == name:
            return job
    raise LookupError(f"No periodic job named {name!r}")
