"""Every write of Outcomes: placing a client, the programs' schedules, the checkpoints' statuses,
the review of the answers, milestones, submission to government and corrections.

Each action runs in one transaction and writes its audit event, naming changed fields only —
never the answers, the notes or the payload. A submitted checkpoint is locked: every write on it
raises ``ValidationError(LOCKED)``; ``correct`` makes a new version to change instead.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import Action, record, record_change, snapshot
from caseload.casework.records import agency_today, membership_of
from caseload.clients.models import Client
from caseload.formbuilder import engine, loading
from caseload.outcomes import cams
from caseload.outcomes import schedule as dates
from caseload.outcomes.catalogue import DEFAULT_SURVEY
from caseload.outcomes.models import (
    DEFAULT_MONTHS,
    Checkpoint,
    CheckpointRevision,
    EmploymentStatus,
    FollowUpSchedule,
    Placement,
    Submission,
)
from caseload.tenancy.models import Program

LOCKED = gettext_lazy("This checkpoint was submitted; correct it to make a new version.")
# Statuses that still wait for an answer (the job moves them to due, then missed).
WAITING = [Checkpoint.Status.SCHEDULED, Checkpoint.Status.DUE, Checkpoint.Status.SURVEY_SENT]


def check_unlocked(checkpoint: Checkpoint) -> None:
    """Refuse any write on a submitted checkpoint (pages, API and other apps call this)."""
    if checkpoint.status == Checkpoint.Status.SUBMITTED:
        raise ValidationError(LOCKED, code="submitted")


def _locked_row(checkpoint: Checkpoint) -> Checkpoint:
    """The checkpoint re-read under a row lock, so two writes never both pass the lock check."""
    row = (
        Checkpoint.objects.for_agency(checkpoint.agency)
        .select_for_update(of=("self",))
        .select_related("placement__program", "client", "program", "survey", "reviewed_by__user", "agency")
        .get(pk=checkpoint.pk)
    )
    check_unlocked(row)
    return row


# --- Schedules -----------------------------------------------------------------------------------


def schedule_of(program: Program) -> FollowUpSchedule:
    """The program's follow-up schedule (unsaved defaults when it has none)."""
    found = FollowUpSchedule.objects.for_agency(program.agency).filter(program=program).first()
    return found or FollowUpSchedule(
        agency=program.agency, program=program, months=list(DEFAULT_MONTHS), survey_key=DEFAULT_SURVEY
    )


def _clean_months(raw: Any) -> list[int]:
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
    if not isinstance(raw, list | tuple) or not raw:
        raise ValidationError({"months": _("Give at least one checkpoint, in months after exit (for example 1, 3, 6, 12).")})
    months = []
    for item in raw:
        if isinstance(item, bool) or not (
            isinstance(item, int) or (isinstance(item, str) and item.strip().isascii() and item.strip().isdigit())
        ):
            raise ValidationError({"months": _("Each checkpoint is a whole number of months.")})
        value = int(item)
        if not 1 <= value <= dates.MAX_MONTHS:
            raise ValidationError(
                {"months": _("Each checkpoint is between 1 and %(max)s months after exit.") % {"max": dates.MAX_MONTHS}}
            )
        months.append(value)
    if len(set(months)) != len(months):
        raise ValidationError({"months": _("Each month can be a checkpoint only once.")})
    if months != sorted(months):
        raise ValidationError({"months": _("List the checkpoints in ascending order.")})
    return months


def _bounded(data: dict, name: str, low: int, high: int, default: int) -> int:
    value = data.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({name: _("Enter a whole number of days.")}) from None
    if isinstance(value, bool) or not low <= number <= high:
        raise ValidationError({name: _("Enter a number of days between %(low)s and %(high)s.") % {"low": low, "high": high}})
    return number


@transaction.atomic
def set_schedule(program: Program, actor, data: dict[str, Any]) -> FollowUpSchedule:
    """Set the program's checkpoints (distinct months 1–36, ascending), survey and reminder rules."""
    row = schedule_of(program)
    months = _clean_months(data.get("months", row.months))
    survey_key = data.get("survey_key", row.survey_key) or ""
    if loading.current_definition(survey_key) is None:
        raise ValidationError({"survey_key": _("There is no form with this key.")})
    reminder = _bounded(data, "reminder_after_days", 1, 90, row.reminder_after_days)
    valid = _bounded(data, "link_valid_days", 1, 120, row.link_valid_days)
    creating = row.pk is None
    before = {} if creating else snapshot(row, ["months", "survey_key", "reminder_after_days", "link_valid_days"])
    row.months, row.survey_key, row.reminder_after_days, row.link_valid_days = months, survey_key, reminder, valid
    row.save()
    if creating:
        record(
            agency=program.agency,
            actor=actor,
            action=Action.CREATE,
            obj=row,
            changes={"months": [None, months], "survey_key": [None, survey_key]},
            object_repr=program.name,
        )
    else:
        record_change(agency=program.agency, actor=actor, obj=row, before=before, object_repr=program.name)
    return row


# --- Placement -----------------------------------------------------------------------------------


def _choice(data: dict, name: str, choices) -> str:
    value = data.get(name) or ""
    if value not in choices.values:
        raise ValidationError({name: _("Choose one of the listed values.")})
    return value


@transaction.atomic
def place_into_outcomes(client: Client, actor, data: dict[str, Any]) -> Placement:
    """Place the client into Outcomes: the exit, and a checkpoint per month of the program's schedule."""
    agency = client.agency
    if client.status == Client.Status.MERGED:
        raise ValidationError(_("This profile was merged into another one: place the kept profile into Outcomes."), code="merged")
    program = data.get("program")
    if not isinstance(program, Program) or program.agency_id != agency.pk:
        raise ValidationError({"program": _("Choose a program of the agency.")})
    exit_date = data.get("exit_date")
    if not isinstance(exit_date, datetime.date):
        raise ValidationError({"exit_date": _("Enter the exit date.")})
    if exit_date > agency_today(agency):
        raise ValidationError({"exit_date": _("The exit date cannot be in the future.")}, code="future")
    exit_reason = _choice(data, "exit_reason", Placement.ExitReason)
    status = _choice(data, "employment_status", EmploymentStatus)
    Client.objects.for_agency(agency).select_for_update().filter(pk=client.pk).first()
    active = Placement.objects.for_agency(agency).filter(client=client, program=program, cancelled_at__isnull=True)
    if active.exists():
        raise ValidationError(
            {"program": _("The client is already in Outcomes for this program: cancel that placement first.")}, code="placed"
        )
    plan = schedule_of(program)
    survey = loading.current_definition(plan.survey_key)
    if survey is None:
        raise ValidationError({"program": _("The program's follow-up survey form is not loaded.")})
    placement = Placement.objects.create(
        agency=agency,
        client=client,
        program=program,
        exit_date=exit_date,
        exit_reason=exit_reason,
        employment_status=status,
        notes=data.get("notes") or "",
        placed_by=membership_of(agency, actor),
    )
    Checkpoint.objects.bulk_create(
        [
            Checkpoint(agency=agency, placement=placement, client=client, program=program, months=m, due_on=due, survey=survey)
            for m, due in dates.checkpoint_dates(exit_date, plan.months)
        ]
    )
    changes = {
        "program": [None, program.pk],
        "exit_date": [None, exit_date.isoformat()],
        "exit_reason": [None, exit_reason],
        "employment_status": [None, status],
        "checkpoints": [None, list(plan.months)],
    }
    _audit(placement, actor, Action.CREATE, changes)
    refresh_placement(placement, agency_today(agency))
    return placement


@transaction.atomic
def cancel_placement(placement: Placement, actor) -> Placement:
    """Cancel a placement made in error: its checkpoints not yet submitted are removed."""
    agency = placement.agency
    placement = Placement.objects.for_agency(agency).select_for_update().get(pk=placement.pk)
    if placement.cancelled_at is not None:
        raise ValidationError(_("This placement is already cancelled."), code="cancelled")
    rows = Checkpoint.objects.for_agency(agency).filter(placement=placement)
    if rows.filter(Q(status=Checkpoint.Status.SUBMITTED) | Q(submission__isnull=False)).exists():
        raise ValidationError(
            _("A checkpoint of this placement was submitted to government: it cannot be cancelled."), code="submitted"
        )
    rows.delete()
    placement.cancelled_at = timezone.now()
    placement.cancelled_by = actor if getattr(actor, "is_authenticated", False) else None
    placement.save(update_fields=["cancelled_at", "cancelled_by"])
    _audit(placement, actor, Action.CHANGE, {"cancelled_at": [None, placement.cancelled_at.isoformat()]})
    return placement


# --- Statuses (the periodic job) -----------------------------------------------------------------


def _refresh(rows, today: datetime.date) -> dict[str, int]:
    due = rows.filter(status=Checkpoint.Status.SCHEDULED, due_on__lte=dates.due_from(today)).update(status=Checkpoint.Status.DUE)
    missed = rows.filter(status__in=WAITING, due_on__lt=dates.missed_before(today), answered_at__isnull=True).update(
        status=Checkpoint.Status.MISSED
    )
    return {"due": due, "missed": missed}


def refresh_placement(placement: Placement, today: datetime.date) -> dict[str, int]:
    return _refresh(Checkpoint.objects.for_agency(placement.agency).filter(placement=placement), today)


def refresh_statuses(agency, today: datetime.date | None = None) -> dict[str, int]:
    """Scheduled → due from ``DUE_WINDOW_DAYS`` before the due date; scheduled, due or survey sent
    → missed ``MISSED_AFTER_DAYS`` after it with no response. Responded, reviewed and submitted
    checkpoints never change here. Conditional UPDATEs: safe to run twice at once."""
    today = today or agency_today(agency)
    with transaction.atomic():
        return _refresh(Checkpoint.objects.for_agency(agency), today)


# --- Review --------------------------------------------------------------------------------------


def survey_spec(checkpoint: Checkpoint) -> dict:
    return loading.record_spec(checkpoint.survey, None)


@transaction.atomic
def save_answers(checkpoint: Checkpoint, actor, answers: dict[str, Any], *, on_behalf: bool = False) -> Checkpoint:
    """Correct or complete the client's answers, or enter them on the client's behalf (a phone
    follow-up). Validated by the form engine (``engine.AnswerErrors`` names the fields); the
    change is kept as a revision (before/after) and the checkpoint is then "reviewed"."""
    row = _locked_row(checkpoint)
    cleaned = engine.validate(survey_spec(row), answers)
    before = dict(row.answers or {})
    changed = sorted(key for key in set(before) | set(cleaned) if before.get(key) != cleaned.get(key))
    now = timezone.now()
    if changed:
        CheckpointRevision.objects.create(
            agency=row.agency,
            checkpoint=row,
            changed_by=actor if getattr(actor, "is_authenticated", False) else None,
            changed_at=now,
            fields=changed,
            before=before,
            after=cleaned,
        )
    row.answers = cleaned
    if on_behalf or row.answered_at is None:
        row.answered_by_client = False if on_behalf else row.answered_by_client
        row.answered_at = row.answered_at if (row.answered_at and not on_behalf) else now
    row.status = Checkpoint.Status.REVIEWED
    row.reviewed_by = membership_of(row.agency, actor)
    row.reviewed_at = now
    row.save(update_fields=["answers", "answered_at", "answered_by_client", "status", "reviewed_by", "reviewed_at"])
    # Field names only: the answers themselves never enter the audit log.
    _audit(row, actor, Action.CHANGE, {"answers": changed, "status": [checkpoint.status, row.status], "on_behalf": on_behalf})
    return row


@transaction.atomic
def mark_reviewed(checkpoint: Checkpoint, actor) -> Checkpoint:
    """Accept the client's answers as they are (complete ones only)."""
    row = _locked_row(checkpoint)
    engine.validate(survey_spec(row), row.answers or {})
    previous = row.status
    row.status = Checkpoint.Status.REVIEWED
    row.reviewed_by = membership_of(row.agency, actor)
    row.reviewed_at = timezone.now()
    row.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    _audit(row, actor, Action.CHANGE, {"status": [previous, row.status]})
    return row


@transaction.atomic
def set_milestone(checkpoint: Checkpoint, actor, achieved: bool) -> Checkpoint:
    row = _locked_row(checkpoint)
    if row.milestone_achieved == bool(achieved):
        return row
    row.milestone_achieved = bool(achieved)
    row.save(update_fields=["milestone_achieved"])
    _audit(row, actor, Action.CHANGE, {"milestone_achieved": [not row.milestone_achieved, row.milestone_achieved]})
    return row


# --- Submission and corrections ------------------------------------------------------------------


def submission_problems(checkpoint: Checkpoint) -> list[str]:
    """Why the checkpoint cannot be submitted now (empty when it can)."""
    if checkpoint.status == Checkpoint.Status.SUBMITTED:
        return [str(LOCKED)]
    problems = []
    if checkpoint.status != Checkpoint.Status.REVIEWED:
        problems.append(_("Review the answers before submitting them (save them, or enter them on the client's behalf)."))
    try:
        engine.validate(survey_spec(checkpoint), checkpoint.answers or {})
    except engine.AnswerErrors as errors:
        problems.append(_("The answers are incomplete: %(fields)s.") % {"fields": ", ".join(sorted(errors.errors))})
    problems.extend(str(p) for p in cams.validate_record(cams.outcome_record(checkpoint)))
    return problems


@transaction.atomic
def submit(checkpoint: Checkpoint, actor, *, transport: cams.Transport | None = None) -> Submission:
    """Submit a reviewed checkpoint: the CaMS record is written, stored exactly, and the checkpoint locked."""
    row = _locked_row(checkpoint)
    problems = submission_problems(row)
    if problems:
        raise ValidationError(problems, code="not_ready")
    now = timezone.now()
    payload = cams.outcome_record(row, submitted_by=actor, submitted_at=now)
    reference = (transport or cams.Transport()).send(payload)
    submission = Submission.objects.create(
        agency=row.agency,
        checkpoint=row,
        adapter=cams.ADAPTER,
        format_version=cams.FORMAT_VERSION,
        payload=payload,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        submitted_at=now,
        reference=reference,
    )
    previous = row.status
    row.status = Checkpoint.Status.SUBMITTED
    row.save(update_fields=["status"])
    _audit(row, actor, Action.CHANGE, {"status": [previous, row.status], "submission": [None, submission.pk]})
    return submission


@transaction.atomic
def correct(checkpoint: Checkpoint, actor) -> Checkpoint:
    """A submitted checkpoint's correction: a new version (answers copied, reviewed) to change and
    submit again. The submitted one, and its payload, never change."""
    old = Checkpoint.objects.for_agency(checkpoint.agency).select_for_update(of=("self",)).get(pk=checkpoint.pk)
    if old.status != Checkpoint.Status.SUBMITTED:
        raise ValidationError(
            _("Only a submitted checkpoint is corrected with a new version; change this one directly."), code="not_submitted"
        )
    if Checkpoint.objects.for_agency(old.agency).filter(supersedes=old).exists():
        raise ValidationError(_("This checkpoint already has a correction: change the newest version."), code="corrected")
    now = timezone.now()
    new = Checkpoint.objects.create(
        agency=old.agency,
        placement_id=old.placement_id,
        client_id=old.client_id,
        program_id=old.program_id,
        months=old.months,
        due_on=old.due_on,
        status=Checkpoint.Status.REVIEWED,
        survey_id=old.survey_id,
        answers=dict(old.answers or {}),
        answered_at=old.answered_at,
        answered_by_client=old.answered_by_client,
        milestone_achieved=old.milestone_achieved,
        reviewed_by=membership_of(old.agency, actor),
        reviewed_at=now,
        version=old.version + 1,
        supersedes=old,
        created_at=now,
    )
    _audit(new, actor, Action.CREATE, {"version": [None, new.version], "supersedes": [None, old.pk]})
    return new


def _audit(row: Placement | Checkpoint, actor, action: str, changes: dict) -> None:
    """The audit event of a change to a placement or a checkpoint (in its agency, about its client)."""
    record(agency=row.agency, actor=actor, action=action, obj=row, client_id=row.client_id, changes=changes)


def latest_versions(rows):
    """Only the newest version of each checkpoint (a corrected one is replaced by its correction)."""
    return rows.filter(superseded_by__isnull=True)
