"""Tasks: for oneself, for another staff member, or for the client (who sees it in the portal).

One function per use case, one transaction each, audited. A task's description may hold client
details, so its value never enters the audit log (that it changed does). The email reminder
before the due date is sent by ``send_task_reminders`` (run every 15 minutes by the
``casework.task_reminders`` job), once per task: a conditional UPDATE claims the task first.

Not to be confused with background tasks (django-tasks): those live in ``casework/jobs.py``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from caseload.audit.actions import REDACTED, Action, diff, record, snapshot
from caseload.casework.models import Task
from caseload.casework.records import agency_today, membership_of, soft_delete, supported_language
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership, Program
from caseload.tenancy.scoping import agency_scope, all_agencies

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = ["title", "description", "due_on", "priority", "assigned_to", "for_client", "remind_days_before", "program"]
# Values that never enter the audit log (a description may say anything about the client).
PRIVATE_FIELDS = {"description"}
MAX_REMIND_DAYS = 60
OPEN_STATUSES = (Task.Status.OPEN, Task.Status.IN_PROGRESS)
# What a list of tasks shows of each (one query, whatever the number of rows).
RELATED = ("client", "assigned_to__user", "created_by__user", "program")


def staff_name(membership: Membership | None) -> str:
    if membership is None:
        return ""
    return membership.user.full_name or membership.user.email


def visible_tasks_q(membership: Membership | None) -> Q:
    """Which of the agency's tasks a staff member may see: every task about a client of the agency,
    and the tasks without a client that they (or someone they manage) created or were given."""
    about_a_client = Q(client__isnull=False)
    if membership is None:
        return about_a_client
    return (
        about_a_client
        | Q(assigned_to=membership)
        | Q(created_by=membership)
        | Q(assigned_to__manager=membership)
        | Q(created_by__manager=membership)
    )


def due_order(today: date) -> list[Any]:
    """Overdue first (oldest first), then due today, upcoming (soonest first), and undated last."""
    bucket = Case(
        When(due_on__lt=today, then=Value(0)),
        When(due_on=today, then=Value(1)),
        When(due_on__gt=today, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    priority = Case(
        *(When(priority=value, then=Value(rank)) for rank, value in enumerate(reversed(Task.Priority.values))),
        default=Value(9),
        output_field=IntegerField(),
    )
    return [bucket, "due_on", priority, "pk"]


def may_see_task(task: Task, membership: Membership | None) -> bool:
    if task.deleted_at is not None:
        return False
    if task.client_id is not None:
        return True
    if membership is None:
        return False
    people = [m for m in (task.assigned_to, task.created_by) if m is not None]
    return any(m.pk == membership.pk or m.manager_id == membership.pk for m in people)


# --- Validation ----------------------------------------------------------------------------------


def _redacted(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    return {name: ([REDACTED, REDACTED] if name in PRIVATE_FIELDS else values) for name, values in changes.items()}


def _clean(
    agency: Agency, client: Client | None, values: dict[str, Any], *, current_assignee_id: int | None = None
) -> dict[str, Any]:
    """Check ``values`` (every editable field, already merged with the task's current ones). The
    current assignee stays valid even if they have left since (editing the title keeps them)."""
    errors: dict[str, str] = {}
    title = " ".join(str(values.get("title") or "").split())
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > Task._meta.get_field("title").max_length:
        errors["title"] = _("The title is too long (200 characters at most).")
    values["title"] = title
    values["description"] = str(values.get("description") or "").strip()
    if values.get("due_on") is not None and not isinstance(values["due_on"], date):
        errors["due_on"] = _("Enter a valid date.")
    priority = values.get("priority") or Task.Priority.NORMAL
    if priority not in Task.Priority.values:
        errors["priority"] = _("Choose a priority from the list.")
    values["priority"] = priority
    remind = values.get("remind_days_before")
    if remind is not None and (isinstance(remind, bool) or not isinstance(remind, int) or not 0 <= remind <= MAX_REMIND_DAYS):
        errors["remind_days_before"] = _("Give a number of days from 0 to %(max)s, or leave it blank for no reminder.") % {
            "max": MAX_REMIND_DAYS
        }
    program = values.get("program")
    if program is not None and (not isinstance(program, Program) or program.agency_id != agency.pk):
        errors["program"] = _("Choose one of your agency's programs.")
    if client is not None and client.agency_id != agency.pk:
        errors["client"] = _("Choose one of your agency's clients.")
    assignee = values.get("assigned_to")
    if values.get("for_client"):
        if client is None:
            errors["for_client"] = _("Only a task about a client can be given to the client.")
        elif client.portal_user_id is None:
            errors["for_client"] = _(
                "This client has no portal account, so they cannot see a task. Invite them to the portal first, or assign the task to staff."
            )
        elif assignee is not None:
            errors["assigned_to"] = _("A task for the client is not assigned to a staff member as well.")
    elif assignee is not None and (
        not isinstance(assignee, Membership)
        or assignee.agency_id != agency.pk
        or not (assignee.is_active or assignee.pk == current_assignee_id)
    ):
        errors["assigned_to"] = _("Choose an active staff member of your agency.")
    if errors:
        raise ValidationError(errors)
    return values


# --- Actions -------------------------------------------------------------------------------------


@transaction.atomic
def create_task(agency: Agency, actor, data: dict[str, Any], *, client: Client | None = None, batch=None) -> Task:
    """A task for the actor (``assigned_to`` None), another active staff member, or the client
    (``for_client``: the client needs a portal account, where they will see it)."""
    author = membership_of(agency, actor)
    values = {name: data.get(name) for name in EDITABLE_FIELDS}
    values["for_client"] = bool(values["for_client"])
    if "remind_days_before" not in data:
        values["remind_days_before"] = Task._meta.get_field("remind_days_before").default
    explicit_assignee = values["assigned_to"]
    values = _clean(agency, client, values)
    if not values["for_client"] and explicit_assignee is None:
        values["assigned_to"] = author
    task = Task(agency=agency, client=client, created_by=author, batch=batch, **values)
    task.save()
    after = snapshot(task)
    after.pop("agency", None)
    record(
        agency=agency,
        actor=actor,
        action=Action.CREATE,
        obj=task,
        changes=_redacted(diff({}, after)),
        client_id=task.client_id,
    )
    return task


def _locked(task: Task) -> Task:
    """The task's row, locked for this transaction (two people acting at once act one after the other)."""
    fresh = Task.objects.for_agency(task.agency).select_for_update().filter(pk=task.pk).first()
    if fresh is None or fresh.deleted_at is not None:
        raise ValidationError({"task": _("This task has been deleted.")})
    return fresh


def _save_change(task: Task, actor, before: dict[str, Any], fields: list[str]) -> Task:
    task.updated_at = timezone.now()
    task.save(update_fields=[*fields, "updated_at"])
    changes = diff(before, snapshot(task, before.keys()))
    if changes:
        record(
            agency=task.agency, actor=actor, action=Action.CHANGE, obj=task, changes=_redacted(changes), client_id=task.client_id
        )
    return task


@transaction.atomic
def update_task(task: Task, actor, data: dict[str, Any]) -> Task:
    """Change a task's editable fields (those in ``data``). A new due date, reminder or assignee
    means a new reminder: the one already sent no longer counts."""
    task = _locked(task)
    before = snapshot(task, [*EDITABLE_FIELDS, "reminder_sent_at"])
    values = {name: data.get(name, getattr(task, name)) for name in EDITABLE_FIELDS}
    values["for_client"] = bool(values["for_client"])
    if values["for_client"] and "assigned_to" not in data:
        values["assigned_to"] = None
    values = _clean(task.agency, task.client, values, current_assignee_id=task.assigned_to_id)
    if not values["for_client"] and values["assigned_to"] is None and task.assigned_to_id is None and task.for_client:
        # A client task given back to staff: to the person changing it.
        values["assigned_to"] = membership_of(task.agency, actor)
    for name, value in values.items():
        setattr(task, name, value)
    reminder_inputs = ("due_on", "remind_days_before", "assigned_to", "for_client")
    if any(snapshot(task, [name])[name] != before[name] for name in reminder_inputs):
        task.reminder_sent_at = None
    return _save_change(task, actor, before, [*EDITABLE_FIELDS, "reminder_sent_at"])


def _check_client_actor(task: Task, actor) -> None:
    """A client (portal user) may act on their own client tasks only; staff permissions are the views'."""
    if actor is None or membership_of(task.agency, actor) is not None:
        return
    if not (task.for_client and task.client is not None and task.client.portal_user_id == getattr(actor, "pk", None)):
        raise PermissionDenied


@transaction.atomic
def complete_task(task: Task, actor) -> Task:
    """Mark a task done (staff, or the client completing their own task in the portal). Done twice is done once."""
    task = _locked(task)
    _check_client_actor(task, actor)
    if task.status == Task.Status.DONE:
        return task
    if task.status == Task.Status.CANCELLED:
        raise ValidationError({"status": _("This task was cancelled. Reopen it before marking it done.")})
    before = snapshot(task, ["status", "completed_at", "completed_by"])
    task.status = Task.Status.DONE
    task.completed_at = timezone.now()
    task.completed_by = actor if getattr(actor, "is_authenticated", False) else None
    return _save_change(task, actor, before, ["status", "completed_at", "completed_by"])


@transaction.atomic
def reopen_task(task: Task, actor) -> Task:
    """Bring a done or cancelled task back to the to-do list."""
    task = _locked(task)
    _check_client_actor(task, actor)
    if task.is_open:
        return task
    before = snapshot(task, ["status", "completed_at", "completed_by"])
    task.status = Task.Status.OPEN
    task.completed_at = None
    task.completed_by = None
    return _save_change(task, actor, before, ["status", "completed_at", "completed_by"])


@transaction.atomic
def start_task(task: Task, actor) -> Task:
    """Mark an open task in progress."""
    task = _locked(task)
    if task.status != Task.Status.OPEN:
        raise ValidationError({"status": _("Only a task still to do can be started.")})
    before = snapshot(task, ["status"])
    task.status = Task.Status.IN_PROGRESS
    return _save_change(task, actor, before, ["status"])


@transaction.atomic
def cancel_task(task: Task, actor) -> Task:
    """Cancel a task that is no longer needed (kept, and can be reopened)."""
    task = _locked(task)
    if task.status == Task.Status.CANCELLED:
        return task
    if task.status == Task.Status.DONE:
        raise ValidationError({"status": _("This task is already done. Reopen it before cancelling it.")})
    before = snapshot(task, ["status"])
    task.status = Task.Status.CANCELLED
    return _save_change(task, actor, before, ["status"])


@transaction.atomic
def delete_task(task: Task, actor) -> None:
    """Delete a task: a soft delete, kept for the audit trail (an administrator sees the DELETE event)."""
    task = _locked(task)
    soft_delete(task, actor, agency=task.agency, client_id=task.client_id)


# --- Email reminders ----------------------------------------------------------------------------


def _link(task: Task, *, for_client: bool) -> str:
    if for_client:
        for name in ("portal:tasks", "portal:home"):
            try:
                return settings.SITE_URL + reverse(name)
            except NoReverseMatch:
                continue
        return settings.SITE_URL + "/"
    return settings.SITE_URL + reverse("casework:task_edit", args=[task.pk])


def _reminder_email(task: Task, *, for_client: bool, language: str, name: str, today: date) -> tuple[str, str]:
    """Subject and body in the recipient's language. A staff member's email names the client by
    number only: email leaves the system, the details stay behind the link."""
    with translation.override(language):
        context = {
            "task": task,
            "name": name,
            "url": _link(task, for_client=for_client),
            "for_client": for_client,
            "agency": task.agency,
            "today": today,
        }
        subject = render_to_string("casework/email/task_reminder_subject.txt", context)
        body = render_to_string("casework/email/task_reminder_body.txt", context)
    return " ".join(subject.split())[:200], body


def _reminder_recipient(task: Task) -> dict[str, Any] | None:
    """Where the reminder goes: the assigned staff member, or the client (only with consent to email)."""
    if task.for_client:
        client = task.client
        if client is None or not client.consent_email or not client.email:
            return None
        return {
            "to": client.email,
            "language": supported_language(client.preferred_language),
            "name": client.preferred_name or client.given_name,
            "recipient_user": client.portal_user,
            "client": client,
            "for_client": True,
        }
    staff = task.assigned_to
    if staff is None or not staff.is_active or not staff.user.is_active or not staff.user.email:
        return None
    return {
        "to": staff.user.email,
        "language": supported_language(staff.user.preferred_language),
        "name": staff.user.full_name,
        "recipient_user": staff.user,
        "client": None,
        "for_client": False,
    }


def due_for_reminder(task: Task, today: date) -> bool:
    return (
        task.is_open
        and task.deleted_at is None
        and task.reminder_sent_at is None
        and task.due_on is not None
        and task.remind_days_before is not None
        and task.due_on - timedelta(days=task.remind_days_before) <= today <= task.due_on
    )


def send_task_reminders(today: date | None = None) -> dict[str, int]:
    """Queue the email reminder of every open task whose reminder day has come, once.

    A task is due for its reminder from ``due_on - remind_days_before`` to its due date (a task
    already overdue when created gets none: My Tasks shows it first anyway). Each task is claimed
    with one conditional UPDATE of ``reminder_sent_at`` in the transaction that queues its email,
    so two runs at once never send it twice. A task whose assignee cannot be emailed (a client
    without consent, a staff member without an address) is claimed too, and nothing is sent.
    Runs across agencies (a system job), each agency in its own scope and its own "today".
    """
    # A day of slack on each side: agencies' "today" differ from UTC's by up to a day.
    base = today or timezone.localdate()
    earliest, horizon = base - timedelta(days=1), base + timedelta(days=MAX_REMIND_DAYS + 1)
    with all_agencies():
        candidates = list(
            Task.objects.filter(
                status__in=OPEN_STATUSES,
                deleted_at__isnull=True,
                reminder_sent_at__isnull=True,
                due_on__isnull=False,
                remind_days_before__isnull=False,
                due_on__gte=earliest,
                due_on__lte=horizon,
            )
            .order_by("agency_id", "due_on", "pk")
            .values_list("agency_id", "pk")
        )
        agencies = Agency.objects.in_bulk({agency_id for agency_id, _pk in candidates})
    by_agency: dict[int, list[int]] = defaultdict(list)
    for agency_id, pk in candidates:
        by_agency[agency_id].append(pk)
    counts = {"sent": 0, "skipped": 0}
    for agency_id, pks in by_agency.items():
        agency = agencies[agency_id]
        day = today or agency_today(agency)
        with agency_scope(agency):
            tasks = (
                Task.objects.for_agency(agency)
                .filter(pk__in=pks)
                .select_related("client__portal_user", "assigned_to__user", "agency")
                .order_by("due_on", "pk")
            )
            for task in tasks:
                if due_for_reminder(task, day):
                    outcome = _send_reminder(task, day)
                    if outcome:
                        counts[outcome] += 1
    return counts


@transaction.atomic
def _send_reminder(task: Task, today: date) -> str | None:
    from caseload.messaging.actions import queue_email

    now = timezone.now()
    claimed = (
        Task.objects.for_agency(task.agency)
        .filter(pk=task.pk, reminder_sent_at__isnull=True, deleted_at__isnull=True)
        .update(reminder_sent_at=now)
    )
    if claimed != 1:
        return None  # another run has it
    recipient = _reminder_recipient(task)
    if recipient is None:
        return "skipped"
    subject, body = _reminder_email(
        task, for_client=recipient["for_client"], language=recipient["language"], name=recipient["name"], today=today
    )
    try:
        with transaction.atomic():
            queue_email(
                agency=task.agency,
                to=recipient["to"],
                subject=subject,
                body=body,
                kind="task_reminder",
                recipient_user=recipient["recipient_user"],
                client=recipient["client"],
            )
    except ValidationError:
        logger.warning("Task %s: its reminder could not be queued (the address is not valid)", task.pk)
        return "skipped"
    return "sent"
