"""Outbox tasks. The worker serves every agency, so each runs in the system context."""

from __future__ import annotations

from django_tasks import task

from caseload.messaging.actions import dispatch_due, recover_stale_sends, send_many, send_one
from caseload.scheduling.leases import job_lease
from caseload.tenancy.scoping import all_agencies


@task()
def send_message(message_id: str) -> str:
    # send_one runs in the system context itself, its statements carrying it (no round trips to enter it here).
    return send_one(message_id)


@task()
def send_messages(message_ids: list[str]) -> list[str]:
    """A share of the queue handed out by dispatch_due, sent in turn (send_many: one commit a message, not two)."""
    return send_many(message_ids)


@task()
def dispatch_outbox() -> dict[str, int]:
    """Every minute (caseload/scheduling/jobs.py): mark dead sends uncertain, enqueue what is due."""
    with job_lease("outbox.dispatch") as acquired:
        if not acquired:
            return {"skipped": 1}
        with all_agencies():
            return {"uncertain": recover_stale_sends(), "dispatched": dispatch_due()}
