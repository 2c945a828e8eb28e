"""The CaMS adapter: a checkpoint as the outcome record Employment Ontario's CaMS takes.

CaMS has no public interface: the adapter writes a documented JSON record (docs/cams-outcomes.md,
format ``caseload-cams-outcome/1``), which the submission stores exactly as written. A real
connection later implements ``Transport.send``; until then nothing leaves the system.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.outcomes.catalogue import EMPLOYED
from caseload.outcomes.models import Checkpoint, EmploymentStatus

FORMAT = "caseload-cams-outcome/1"
FORMAT_VERSION = "1"
ADAPTER = "cams"

# The survey's employment status → the ministry's outcome category.
OUTCOME_CATEGORIES = {
    EmploymentStatus.EMPLOYED_FULL_TIME: "EMPLOYED_FT",
    EmploymentStatus.EMPLOYED_PART_TIME: "EMPLOYED_PT",
    EmploymentStatus.SELF_EMPLOYED: "SELF_EMPLOYED",
    EmploymentStatus.TRAINING: "TRAINING_EDUCATION",
    EmploymentStatus.INDEPENDENT: "INDEPENDENT",
    EmploymentStatus.UNABLE_TO_WORK: "UNABLE_TO_WORK",
    EmploymentStatus.UNEMPLOYED: "UNEMPLOYED",
    EmploymentStatus.VOLUNTEER: "VOLUNTEER",
    EmploymentStatus.UNKNOWN: "UNKNOWN",
}


def _number(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return str(Decimal(str(value)))
    except InvalidOperation:
        return None


def _member(membership) -> str | None:
    if membership is None:
        return None
    return membership.user.email


def outcome_record(checkpoint: Checkpoint, *, submitted_by=None, submitted_at: datetime.datetime | None = None) -> dict[str, Any]:
    """The outcome record of ``checkpoint`` (see docs/cams-outcomes.md for every field)."""
    placement = checkpoint.placement
    client = checkpoint.client
    answers = checkpoint.answers or {}
    status = answers.get("employment_status") or ""
    employed = status in EMPLOYED
    return {
        "format": FORMAT,
        "agency": {"id": checkpoint.agency_id, "name": checkpoint.agency.name},
        "client": {"cams_reference_number": client.cams_number or None, "client_number": client.client_number},
        "program": {"id": placement.program_id, "name": placement.program.name, "code": placement.program.code or None},
        "exit": {
            "date": placement.exit_date.isoformat(),
            "reason": placement.exit_reason,
            "employment_status": placement.employment_status,
        },
        "checkpoint": {
            "id": checkpoint.pk,
            "months": checkpoint.months,
            "due_date": checkpoint.due_on.isoformat(),
            "version": checkpoint.version,
            "corrects": checkpoint.supersedes_id,
            "survey": {"key": checkpoint.survey.key, "version": checkpoint.survey.version},
        },
        "outcome": {
            "category": OUTCOME_CATEGORIES.get(status),
            "employment_status": status or None,
            "employer": answers.get("employer") if employed else None,
            "job_title": answers.get("job_title") if employed else None,
            "noc": answers.get("noc") or None if employed else None,
            "start_date": answers.get("start_date") if employed else None,
            "hours_per_week": _number(answers.get("hours_per_week")) if employed else None,
            "hourly_wage": _number(answers.get("hourly_wage")) if employed else None,
            "related_to_training": answers.get("related_to_training") if employed else None,
            "training_program": answers.get("training_program") if status == EmploymentStatus.TRAINING else None,
            "institution": answers.get("institution") if status == EmploymentStatus.TRAINING else None,
            "satisfaction": answers.get("satisfaction"),
            "milestone_achieved": checkpoint.milestone_achieved,
        },
        "response": {
            "answered_by": "client" if checkpoint.answered_by_client else "staff",
            "answered_at": checkpoint.answered_at.isoformat() if checkpoint.answered_at else None,
            "reviewed_by": _member(checkpoint.reviewed_by),
            "reviewed_at": checkpoint.reviewed_at.isoformat() if checkpoint.reviewed_at else None,
        },
        "submission": {
            "submitted_by": getattr(submitted_by, "email", None),
            "submitted_at": (submitted_at or timezone.now()).isoformat() if submitted_by is not None else None,
        },
    }


def validate_record(record: dict[str, Any]) -> list[str]:
    """What keeps the record from being accepted by CaMS (empty when it can be submitted)."""
    problems = []
    if not record["client"]["cams_reference_number"]:
        problems.append(_("The client has no CaMS reference number: link the client to CaMS from the Actions menu."))
    outcome = record["outcome"]
    if not outcome["category"]:
        problems.append(_("The employment status (outcome category) is missing."))
    if outcome["employment_status"] in EMPLOYED:
        if not outcome["employer"]:
            problems.append(_("The employer is missing."))
        if outcome["hours_per_week"] is None:
            problems.append(_("The hours per week are missing."))
        if outcome["hourly_wage"] is None:
            problems.append(_("The hourly wage is missing."))
    if not record["response"]["reviewed_by"]:
        problems.append(_("The response has not been reviewed."))
    return problems


class Transport:
    """Where a real connection to CaMS goes later. Today a submission stores the payload only:
    ``send`` writes nothing and returns no reference."""

    def send(self, record: dict[str, Any]) -> str:
        return ""
