"""API housekeeping run by the scheduler (caseload/scheduling/jobs.py)."""

from __future__ import annotations

from django_tasks import task

from caseload.api.idempotency import purge_idempotency_records
from caseload.scheduling.leases import job_lease


@task()
def purge_idempotency() -> int:
    """Every hour: forget Idempotency-Key records older than 24 hours."""
    with job_lease("api.purge_idempotency") as acquired:
        if not acquired:
            return 0
        return purge_idempotency_records()
