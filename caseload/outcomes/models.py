"""Outcomes: placing a client into follow-up when service ends, the checkpoints at 1, 3, 6 and 12
months (per program), the survey each sends, the review of the answers, milestones and the
submission to government (CaMS).

A checkpoint moves scheduled → due → survey sent → client responded → reviewed → submitted (or
missed). A submitted checkpoint is locked: a correction creates a new version of it
(``supersedes``), and the submitted one, with the exact payload sent, never changes.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.formbuilder.models import FormDefinition
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import AgencyOwned, Membership, Program

DEFAULT_MONTHS = [1, 3, 6, 12]


def default_months() -> list[int]:
    return list(DEFAULT_MONTHS)


class EmploymentStatus(models.TextChoices):
    """The outcome categories of the ministry's reports."""

    EMPLOYED_FULL_TIME = "employed_full_time", _("Employed full-time")
    EMPLOYED_PART_TIME = "employed_part_time", _("Employed part-time")
    SELF_EMPLOYED = "self_employed", _("Self-employed")
    TRAINING = "training", _("In training or education")
    INDEPENDENT = "independent", _("Independent")
    UNABLE_TO_WORK = "unable_to_work", _("Unable to work")
    UNEMPLOYED = "unemployed", _("Unemployed")
    VOLUNTEER = "volunteer", _("Volunteer")
    UNKNOWN = "unknown", _("Unknown")


class FollowUpSchedule(AgencyOwned):
    """A program's follow-up after exit: the months of its checkpoints, the survey, reminders."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="follow_up_schedule")
    months = models.JSONField(_("checkpoints (months after exit)"), default=default_months)
    survey_key = models.CharField(_("survey form"), max_length=60, default="outcome_survey")
    reminder_after_days = models.PositiveIntegerField(
        _("remind after (days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    link_valid_days = models.PositiveIntegerField(
        _("survey link valid for (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )

    class Meta:
        verbose_name = _("follow-up schedule")
        verbose_name_plural = _("follow-up schedules")


class Placement(AgencyOwned):
    """A client placed into Outcomes when service ended: the exit, and the checkpoints it created."""

    class ExitReason(models.TextChoices):
        COMPLETED = "completed", _("Completed the program")
        EMPLOYED = "employed", _("Found employment")
        TRAINING = "training", _("Went to training or education")
        MOVED = "moved", _("Moved away")
        NO_CONTACT = "no_contact", _("Lost contact")
        WITHDREW = "withdrew", _("Withdrew")
        OTHER = "other", _("Other")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="outcome_placements", verbose_name=_("client"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("program"))
    exit_date = models.DateField(_("exit date"))
    exit_reason = models.CharField(_("reason for exit"), max_length=20, choices=ExitReason.choices)
    employment_status = models.CharField(_("employment status at exit"), max_length=24, choices=EmploymentStatus.choices)
    notes = models.TextField(_("notes"), blank=True)
    placed_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-exit_date", "-pk"]
        verbose_name = _("outcome placement")
        verbose_name_plural = _("outcome placements")


class Checkpoint(AgencyOwned):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DUE = "due", _("Due")
        SURVEY_SENT = "survey_sent", _("Survey sent")
        RESPONDED = "responded", _("Client responded")
        REVIEWED = "reviewed", _("Reviewed")
        SUBMITTED = "submitted", _("Submitted")
        MISSED = "missed", _("Missed")

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="checkpoints")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="checkpoints", verbose_name=_("client"))
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("program"))
    months = models.PositiveIntegerField(_("months after exit"))
    due_on = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    survey = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="+", verbose_name=_("survey"))
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by_client = models.BooleanField(_("answered by the client"), default=False)
    milestone_achieved = models.BooleanField(_("milestone achieved"), default=False)
    reviewed_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # A correction after submission is a new version; the submitted one stays as it was sent.
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by", verbose_name=_("corrects")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "months", "version", "pk"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        indexes = [
            models.Index(fields=["agency", "client", "due_on"], name="checkpoint_client_due"),
            models.Index(fields=["agency", "status", "due_on"], name="checkpoint_status_due"),
        ]

    def __str__(self) -> str:
        return str(_("%(months)s-month checkpoint") % {"months": self.months})

    @property
    def is_locked(self) -> bool:
        return self.status == self.Status.SUBMITTED


class CheckpointRevision(AgencyOwned):
    """A change to a checkpoint's answers by staff: who, when, and the answers before and after."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="revisions")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    fields = models.JSONField(default=list)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-changed_at", "-pk"]


class SurveyInvitation(AgencyOwned):
    """A survey sent to the client: a secret link (only its hash is kept), valid until it expires
    or is answered, for one checkpoint of one client."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="invitations")
    channel = models.CharField(_("sent by"), max_length=8, choices=Channel.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("answered"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    message = models.ForeignKey(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reminder = models.ForeignKey(OutboundMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reminded_at = models.DateTimeField(null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-sent_at", "-pk"]


class Submission(AgencyOwned):
    """A checkpoint sent to government: who, when, and the exact payload the adapter wrote."""

    checkpoint = models.OneToOneField(Checkpoint, on_delete=models.PROTECT, related_name="submission")
    adapter = models.CharField(max_length=40, default="cams")
    format_version = models.CharField(max_length=20)
    payload = models.JSONField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    reference = models.CharField(_("reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
