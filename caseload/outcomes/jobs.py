"""Background work of Outcomes: moving checkpoints to "due" and "missed" (a periodic system job)."""

from __future__ import annotations

from django_tasks import task

from caseload.scheduling.leases import job_lease


def refresh_all(today=None) -> dict[str, int]:
    """Refresh the checkpoints of every agency that has any waiting (each agency's own today)."""
    from caseload.outcomes.actions import WAITING, refresh_statuses
    from caseload.outcomes.models import Checkpoint
    from caseload.tenancy.models import Agency
    from caseload.tenancy.scoping import agency_scope, all_agencies

    with all_agencies():
        agency_ids = set(Checkpoint.objects.filter(status__in=WAITING).values_list("agency_id", flat=True))
        agencies = list(Agency.objects.filter(pk__in=agency_ids).order_by("pk"))
    totals = {"due": 0, "missed": 0}
    for agency in agencies:
        with agency_scope(agency):
            for key, count in refresh_statuses(agency, today).items():
                totals[key] += count
    return totals


@task()
def refresh_checkpoints() -> dict[str, int]:
    """Every hour (caseload/scheduling/jobs.py): checkpoints become due a week before their due
    date, and missed 60 days after it without a response."""
    with job_lease("outcomes.refresh_checkpoints") as acquired:
        if not acquired:
            return {"not_run": 1}
        return refresh_all()


@task()
def send_survey_reminders() -> dict[str, int]:
    """Every 15 minutes (caseload/scheduling/jobs.py): remind, once, each checkpoint survey still
    unanswered after its program's ``reminder_after_days`` (``surveys.remind_unanswered``)."""
    from caseload.outcomes import surveys

    with job_lease("outcomes.survey_reminders") as acquired:
        if not acquired:
            return {"not_run": 1}
        return surveys.remind_unanswered()
