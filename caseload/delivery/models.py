"""Service delivery: sessions, the service records filled in during them, group attendance,
language-training courses and settlement plans.

A session is the when, where and who of a service; it holds the service records (answers to a
form of ``formbuilder``) given during it. Staff see the sessions and records of the programs they
belong to (``visibility.py``); a private record is seen by its author and the author's manager
only. Rows are soft-deleted (``deleted_at``) so the audit trail stays whole.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.formbuilder.models import FormDefinition, FormExtension
from caseload.tenancy.models import AgencyOwned, Funder, Membership, Program


class SessionType(models.TextChoices):
    DIRECT = "direct", _("Direct service")
    JOB_DEVELOPMENT = "job_development", _("Direct service (job development)")
    FINANCE = "finance", _("Direct service (finance)")
    LANGUAGE_TRAINING = "language_training", _("Language training")
    IO_GROUP = "io_group", _("Information & orientation group activity")
    CC_GROUP = "cc_group", _("Community connections group activity")
    EMPLOYMENT_GROUP = "employment_group", _("Employment group activity")


GROUP_TYPES = frozenset({SessionType.LANGUAGE_TRAINING, SessionType.IO_GROUP, SessionType.CC_GROUP, SessionType.EMPLOYMENT_GROUP})


class Deletable(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class Session(AgencyOwned, Deletable):
    """The when, where and who of a service: one client (direct sessions) or a group."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        VIDEO = "video", _("Video")

    session_type = models.CharField(_("type"), max_length=20, choices=SessionType.choices)
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("client")
    )
    title = models.CharField(_("title"), max_length=200, blank=True, help_text=_("The activity or topic (group sessions)."))
    date = models.DateField(_("date"), default=timezone.localdate)
    start_time = models.TimeField(_("start time"), null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), null=True, blank=True, validators=[MaxValueValidator(24 * 60)]
    )
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices, default=Mode.IN_PERSON)
    location = models.CharField(_("location"), max_length=200, blank=True)
    staff = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("staff")
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("program"))
    funders = models.ManyToManyField(Funder, blank=True, related_name="+", verbose_name=_("funders"))
    anonymous_attendees = models.PositiveIntegerField(
        _("anonymous attendees"), default=0, help_text=_("People who attended without being registered.")
    )
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-date", "-start_time", "-pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        indexes = [
            models.Index(fields=["agency", "client", "-date"], name="session_client_date"),
            models.Index(fields=["agency", "program", "date"], name="session_program_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_session_type_display()} — {self.date:%Y-%m-%d}"

    @property
    def is_group(self) -> bool:
        return self.session_type in GROUP_TYPES


class Attendee(AgencyOwned):
    """A named client in a group session (in a language-training course: an enrolled student)."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendees")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="group_attendance", verbose_name=_("client"))
    joined_on = models.DateField(_("joined"), default=timezone.localdate)
    left_on = models.DateField(_("left"), null=True, blank=True)
    added_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["client__family_name", "client__given_name", "pk"]
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        constraints = [models.UniqueConstraint(fields=["agency", "session", "client"], name="attendee_unique_client")]

    def __str__(self) -> str:
        return str(self.client)


class ServiceRecord(AgencyOwned, Deletable):
    """A service form filled in during a session: the answers, under the form version they were given on."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        COMPLETED = "completed", _("Completed")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="records", verbose_name=_("session"))
    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="service_records", verbose_name=_("client")
    )
    # The session's program, kept on the record: program visibility filters records directly.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("program"))
    definition = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="+", verbose_name=_("form"))
    extension = models.ForeignKey(FormExtension, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    is_private = models.BooleanField(_("private"), default=False, help_text=_("Only you and your manager will see this form."))
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("recorded by")
    )
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("service record")
        verbose_name_plural = _("service records")
        indexes = [
            models.Index(fields=["agency", "client", "-created_at"], name="servicerecord_client"),
            models.Index(fields=["agency", "program", "created_at"], name="servicerecord_program"),
            models.Index(fields=["agency", "author", "status"], name="servicerecord_author_status"),
        ]

    def __str__(self) -> str:
        return self.definition.name


class Course(AgencyOwned, Deletable):
    """A language-training course; its session holds the program, funders, location and the course forms."""

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        FRENCH = "fr", _("French")

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="course")
    code = models.CharField(_("course code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language taught"), max_length=2, choices=Language.choices, default=Language.ENGLISH)
    teacher = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("teacher")
    )
    start_date = models.DateField(_("first class"))
    end_date = models.DateField(_("last class"))
    weekdays = models.JSONField(_("class days"), default=list, help_text=_("0 = Monday … 6 = Sunday."))
    start_time = models.TimeField(_("class starts"), null=True, blank=True)
    end_time = models.TimeField(_("class ends"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), validators=[MinValueValidator(1)])
    clb_levels = models.JSONField(
        _("CLB levels taught"), default=dict, blank=True, help_text=_('Per skill: {"listening": [4, 6], ...}.')
    )

    class Meta:
        ordering = ["-start_date", "code"]
        verbose_name = _("language course")
        verbose_name_plural = _("language courses")
        constraints = [models.UniqueConstraint(fields=["agency", "code"], name="course_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class ClassAttendance(AgencyOwned):
    """Whether an enrolled student attended one class date."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        LATE = "late", _("Late")
        EXCUSED = "excused", _("Excused")

    attendee = models.ForeignKey(Attendee, on_delete=models.CASCADE, related_name="attendance")
    date = models.DateField(_("class date"))
    status = models.CharField(_("attendance"), max_length=8, choices=Status.choices)
    recorded_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [models.UniqueConstraint(fields=["agency", "attendee", "date"], name="classattendance_unique_date")]


class SettlementPlan(AgencyOwned, Deletable):
    """A client's settlement plan: goals, and the follow-ups that track them over time."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="settlement_plans", verbose_name=_("client"))
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("program")
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField(_("started"), default=timezone.localdate)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    shared_with_client = models.BooleanField(_("completed and shared with the client"), default=False)
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )

    class Meta:
        ordering = ["-started_on", "-pk"]
        verbose_name = _("settlement plan")
        verbose_name_plural = _("settlement plans")

    def __str__(self) -> str:
        return self.title


class PlanGoal(AgencyOwned):
    class Area(models.TextChoices):
        LIFE_IN_CANADA = "life_in_canada", _("Knowledge of life in Canada")
        SOCIAL = "social", _("Social and professional networks")
        LANGUAGE = "language", _("Language skills")
        EMPLOYMENT = "employment", _("Employment")
        EDUCATION = "education", _("Education and skills")
        HOUSING = "housing", _("Housing")
        HEALTH = "health", _("Health and mental health")
        FINANCIAL = "financial", _("Financial")
        FAMILY = "family", _("Family support")
        LEGAL = "legal", _("Legal information")
        CITIZENSHIP = "citizenship", _("Citizenship")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        DISCONTINUED = "discontinued", _("Discontinued")

    plan = models.ForeignKey(SettlementPlan, on_delete=models.CASCADE, related_name="goals")
    area = models.CharField(_("area"), max_length=20, choices=Area.choices, default=Area.OTHER)
    description = models.CharField(_("goal"), max_length=300)
    target_date = models.DateField(_("target date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.NOT_STARTED)
    achieved_on = models.DateField(_("achieved"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("goal")
        verbose_name_plural = _("goals")

    def __str__(self) -> str:
        return self.description


class PlanFollowUp(AgencyOwned):
    """What happened since the last look at the plan: a note, and where a goal now stands."""

    plan = models.ForeignKey(SettlementPlan, on_delete=models.CASCADE, related_name="follow_ups")
    goal = models.ForeignKey(
        PlanGoal, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups", verbose_name=_("goal")
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    note = models.TextField(_("follow-up"))
    goal_status = models.CharField(_("goal status now"), max_length=14, choices=PlanGoal.Status.choices, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_date = models.DateField(_("next follow-up"), null=True, blank=True)
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-created_at", "-pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
