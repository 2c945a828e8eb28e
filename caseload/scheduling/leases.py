"""Job leases: at most one run of a periodic job at a time, across every process and machine.

A lease is taken by one conditional UPDATE (``locked_until`` is empty or past), which the database
applies to one writer at a time; the loser updates no row and skips its run. A run that dies keeps
the lease until it expires, then the next run may start.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from caseload.scheduling.jobs import get_job
from caseload.scheduling.models import JobLease

logger = logging.getLogger(__name__)


def acquire(name: str, seconds: int, holder: str) -> bool:
    """Take the lease of ``name`` for ``seconds`` unless another run holds it."""
    now = timezone.now()
    JobLease.objects.get_or_create(name=name)
    taken = (
        JobLease.objects.filter(name=name)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=now + timedelta(seconds=seconds), holder=holder, last_started_at=now)
    )
    return taken == 1


def release(name: str, holder: str) -> None:
    """Give the lease back; a lease that expired and was taken by another run is left alone."""
    JobLease.objects.filter(name=name, holder=holder).update(locked_until=None, holder="", last_finished_at=timezone.now())


@contextmanager
def job_lease(name: str, seconds: int | None = None) -> Iterator[bool]:
    """Hold the lease of a periodic job for the block; yields False (run nothing) when it is held.

    ``seconds`` defaults to the job's ``lease_seconds`` from ``jobs.PERIODIC_JOBS``. Call it
    outside a transaction, so the lease is visible to other processes while the block runs.
    """
    if seconds is None:
        seconds = get_job(name).lease_seconds
    holder = secrets.token_hex(16)
    if not acquire(name, seconds, holder):
        logger.info("Periodic job %s is already running; this run is skipped", name)
        yield False
        return
    try:
        yield True
    finally:
        release(name, holder)
