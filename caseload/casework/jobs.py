"""Background work of casework: sending the reminders due (periodic system jobs)."""

from __future__ import annotations

from django_tasks import task

from caseload.casework import communications
from caseload.casework import tasks as task_actions
from caseload.scheduling.leases import job_lease


@task()
def send_reminders() -> int:
    """Every 5 minutes (caseload/scheduling/jobs.py): send the reminders of every agency whose send
    date has come. Returns how many were sent."""
    with job_lease("casework.send_reminders") as acquired:
        if not acquired:
            return 0
        return communications.send_due_reminders()


@task()
def send_task_reminders() -> dict[str, int]:
    """Every 15 minutes (caseload/scheduling/jobs.py): queue the email reminders of the tasks of
    every agency whose reminder day has come, each once."""
    with job_lease("casework.task_reminders") as acquired:
        if not acquired:
            return {"not_run": 1}
        return task_actions.send_task_reminders()


@task()
def send_referral_reminders() -> dict[str, int]:
    """Every 15 minutes (caseload/scheduling/jobs.py): the follow-up reminders of the service
    referrals of every agency whose follow-up date has come, to the staff member and (with
    consent) to the client, each once."""
    from caseload.casework import referrals

    with job_lease("casework.referral_reminders") as acquired:
        if not acquired:
            return {"not_run": 1}
        return referrals.send_referral_reminders()
