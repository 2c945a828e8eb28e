from __future__ import annotations

from django.db import models


class JobLease(models.Model):
    """The state of one periodic job, shared by every scheduler and worker process.

    ``locked_until`` is the lease a running job holds (see ``leases.job_lease``): a second run
    cannot start until it is released or expires. ``last_enqueued_at`` is when a scheduler last
    handed the job to the task backend; ``last_started_at``/``last_finished_at`` are written by the
    run itself, so the scheduler can tell a run that is still pending or running.
    """

    name = models.CharField(max_length=100, unique=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    holder = models.CharField(max_length=64, blank=True, help_text="Token of the run holding the lease.")
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
