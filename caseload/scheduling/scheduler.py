"""Enqueue the periodic jobs that are due. ``manage.py run_scheduler`` calls this in a loop."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.utils import timezone

from caseload.scheduling.jobs import PERIODIC_JOBS, PeriodicJob
from caseload.scheduling.models import JobLease

logger = logging.getLogger(__name__)


def is_due(job: PeriodicJob, lease: JobLease, now: datetime) -> bool:
    if lease.locked_until is not None and lease.locked_until > now:
        return False  # a run is in progress
    if lease.last_enqueued_at is None:
        return True
    since_enqueued = now - lease.last_enqueued_at
    pending = lease.last_started_at is None or lease.last_started_at < lease.last_enqueued_at
    if pending and since_enqueued < timedelta(seconds=job.lease_seconds):
        return False  # enqueued and still waiting for a worker
    return since_enqueued >= timedelta(seconds=job.every)


def enqueue_if_due(job: PeriodicJob, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    lease, _ = JobLease.objects.get_or_create(name=job.name)
    if not is_due(job, lease, now):
        return False
    # Claim this enqueue: of two schedulers that saw the same state, one updates the row.
    previous = lease.last_enqueued_at
    same_state = JobLease.objects.filter(pk=lease.pk)
    same_state = same_state.filter(last_enqueued_at__isnull=True) if previous is None else same_state.filter(last_enqueued_at=previous)
    if same_state.update(last_enqueued_at=now) != 1:
        return False
    try:
        job.get_task().enqueue()
    except Exception:
        logger.exception("Could not enqueue periodic job %s; it will be tried again", job.name)
        JobLease.objects.filter(pk=lease.pk, last_enqueued_at=now).update(last_enqueued_at=previous)
        return False
    logger.debug("Enqueued periodic job %s", job.name)
    return True


def run_due_jobs(now: datetime | None = None, jobs: Iterable[PeriodicJob] | None = None) -> list[str]:
    """Enqueue every due job; returns the names enqueued."""
    return [job.name for job in (PERIODIC_JOBS if jobs is None else jobs) if enqueue_if_due(job, now)]
