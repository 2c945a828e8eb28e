from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task, task_backends

from caseload.scheduling.leases import job_lease


@task()
def prune_task_results() -> int:
    """Delete finished results of the database task backend older than TASK_RESULTS_KEEP_DAYS."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    with job_lease("tasks.prune_results") as acquired:
        if not acquired:
            return 0
        backend = task_backends["default"]
        if not isinstance(backend, DatabaseBackend):
            return 0
        cutoff = timezone.now() - timedelta(days=settings.TASK_RESULTS_KEEP_DAYS)
        deleted, _ = DBTaskResult.objects.finished().filter(backend_name=backend.alias, finished_at__lte=cutoff).delete()
        return deleted
