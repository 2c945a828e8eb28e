"""Casework: what staff record and plan around one client.

Case notes, communications (and the reminders a client receives), supportive services drawn on
grants, tasks, service referrals to the agency's programs or to its directory of outside
services (shaped like Open Referral HSDS), and the batches that create many at once.

Every record here is internal to the agency: nothing reaches the portal except a client's own
tasks and the reminders sent to them. Records are soft-deleted (``deleted_at``), so an
administrator can still account for them; queries in ``queries.py`` leave deleted rows out and
apply the private-record rule (author and the author's manager only).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.tenancy.models import AgencyOwned, Funder, Membership, Program


class BatchAction(AgencyOwned):
    """One batch: the same note, communication, task or supportive service made for many clients."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Case note")
        COMMUNICATION = "communication", _("Communication")
        TASK = "task", _("Task")
        SERVICE = "service", _("Supportive service")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    source = models.CharField(
        _("selected from"), max_length=200, blank=True, help_text=_("The search, filter or saved list the clients came from.")
    )
    client_count = models.PositiveIntegerField(_("clients"), default=0)
    created_by = models.ForeignKey(Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("batch action")
        verbose_name_plural = _("batch actions")

    def __str__(self) -> str:
        return str(_("%(kind)s for %(count)s clients") % {"kind": self.get_kind_display(), "count": self.client_count})


class ClientList(AgencyOwned):
    """A saved list of clients a staff member works through (and runs batch actions on)."""

    name = models.CharField(_("name"), max_length=120)
    owner = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("owner")
    )
    is_shared = models.BooleanField(_("shared with the agency"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved client list")
        verbose_name_plural = _("saved client lists")

    def __str__(self) -> str:
        return self.name


class ClientListEntry(AgencyOwned):
    client_list = models.ForeignKey(ClientList, on_delete=models.CASCADE, related_name="entries")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="list_entries")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["agency", "client_list", "client"], name="clientlistentry_unique_client")]


class CaseRecord(AgencyOwned):
    """What every casework record about one client shares: who wrote it, when, and its soft delete."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", verbose_name=_("client"))
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("program")
    )
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("recorded by")
    )
    batch = models.ForeignKey(BatchAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True


class CaseNote(CaseRecord):
    """An internal note on the client's case. Never shown in the portal.

    A private note is seen by its author and the author's manager only. Edits keep the note's
    earlier text in NoteRevision (the audit log holds which fields changed, never the text).
    """

    class Type(models.TextChoices):
        GENERAL = "general", _("General")
        PROGRESS = "progress", _("Progress")
        ASSESSMENT = "assessment", _("Assessment")
        CONTACT = "contact", _("Contact")
        CASE_CONFERENCE = "case_conference", _("Case conference")
        INCIDENT = "incident", _("Incident")
        CLOSING = "closing", _("Closing")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        FINAL = "final", _("Final")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="case_notes", verbose_name=_("client"))
    note_type = models.CharField(_("type"), max_length=20, choices=Type.choices, default=Type.GENERAL)
    contact_date = models.DateField(_("date of contact"), default=timezone.localdate)
    body = models.TextField(_("note"), help_text=_("Markdown: **bold**, *italic*, lists and links."))
    is_private = models.BooleanField(_("private"), default=False, help_text=_("Only you and your manager will see this note."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.FINAL)

    class Meta:
        ordering = ["-contact_date", "-created_at", "-pk"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        indexes = [
            models.Index(fields=["agency", "client", "-contact_date"], name="casenote_client_date"),
            models.Index(fields=["agency", "contact_date"], name="casenote_agency_date"),
            # The standard export of one program's notes over a date range.
            models.Index(fields=["agency", "program", "contact_date"], name="casenote_program_date"),
            models.Index(fields=["agency", "author", "status"], name="casenote_author_status"),
        ]

    def __str__(self) -> str:
        return str(_("%(type)s note of %(date)s") % {"type": self.get_note_type_display(), "date": self.contact_date})


class NoteRevision(AgencyOwned):
    """A note as it was before one edit: who changed it, when, and the earlier values."""

    note = models.ForeignKey(CaseNote, on_delete=models.CASCADE, related_name="revisions")
    edited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    edited_at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict, help_text="The changed fields' values before the edit.")
    after = models.JSONField(default=dict, help_text="The changed fields' values after the edit.")

    class Meta:
        ordering = ["-edited_at", "-pk"]


def attachment_path(instance: NoteAttachment, filename: str) -> str:
    # A generated name: the original one is kept in ``original_name``, never on disk.
    import uuid

    return f"casework/{instance.agency_id}/{uuid.uuid4().hex}"


class NoteAttachment(AgencyOwned):
    """A file attached to a note: content-checked, stored under a generated name, served by a checked view."""

    note = models.ForeignKey(CaseNote, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class Communication(CaseRecord):
    """A contact with the client. A reminder is the one kind the client receives.

    A reminder is sent on ``date`` (its send date) by the scheduled job, through the portal and
    the client's preferred channel (an outbox row), once: ``status`` moves scheduled → sent or
    failed, and the job claims a reminder with a conditional update so two runs never send it twice.
    """

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone call")
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video call")
        LETTER = "letter", _("Letter")
        REMINDER = "reminder", _("Reminder")

    class Direction(models.TextChoices):
        OUTGOING = "outgoing", _("To the client")
        INCOMING = "incoming", _("From the client")

    class Status(models.TextChoices):
        RECORDED = "recorded", _("Recorded")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="communications", verbose_name=_("client"))
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices, default=Direction.OUTGOING)
    date = models.DateField(_("date"), default=timezone.localdate, help_text=_("For a reminder: the day it is sent."))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("details"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECORDED)
    channel = models.CharField(_("sent by"), max_length=8, blank=True, help_text="email or sms, for a reminder.")
    message = models.ForeignKey(
        "messaging.OutboundMessage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("message")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    failure_reason = models.CharField(_("why it failed"), max_length=300, blank=True)

    class Meta:
        ordering = ["-date", "-created_at", "-pk"]
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        indexes = [
            models.Index(fields=["agency", "client", "-date"], name="comm_client_date"),
            models.Index(fields=["agency", "date"], name="comm_agency_date"),
            models.Index(fields=["status", "date"], name="comm_due_reminders", condition=Q(kind="reminder")),
        ]

    def __str__(self) -> str:
        return self.subject or str(self.get_kind_display())


class SupportServiceType(AgencyOwned):
    """An agency-configurable kind of supportive service (transportation, childcare, ...)."""

    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("supportive service type")
        verbose_name_plural = _("supportive service types")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="servicetype_unique_name")]

    def __str__(self) -> str:
        return self.name


class Grant(AgencyOwned):
    """Money from a funder for supportive services, over a period (grants management)."""

    name = models.CharField(_("name"), max_length=200)
    funder = models.ForeignKey(Funder, on_delete=models.PROTECT, related_name="grants", verbose_name=_("funder"))
    budget = models.DecimalField(_("budget"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    is_active = models.BooleanField(_("active"), default=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="grant_unique_name")]

    def __str__(self) -> str:
        return self.name


class SupportiveService(CaseRecord):
    """A supportive service given to the client: what, when, how much, from whom and why."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="supportive_services", verbose_name=_("client"))
    service_type = models.ForeignKey(SupportServiceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    # Given to an attendee of a group session (childcare, transportation, interpretation, ...).
    session = models.ForeignKey(
        "delivery.Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supportive_services",
        verbose_name=_("session"),
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    amount = models.DecimalField(
        _("amount"), max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    vendor = models.CharField(_("vendor"), max_length=200, blank=True)
    justification = models.TextField(_("justification"), blank=True)
    grant = models.ForeignKey(
        Grant, null=True, blank=True, on_delete=models.PROTECT, related_name="services", verbose_name=_("grant")
    )
    overspend_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-date", "-created_at", "-pk"]
        verbose_name = _("supportive service")
        verbose_name_plural = _("supportive services")
        indexes = [
            models.Index(fields=["agency", "client", "-date"], name="service_client_date"),
            models.Index(fields=["agency", "date"], name="service_agency_date"),
            models.Index(fields=["agency", "grant"], name="service_agency_grant"),
        ]

    def __str__(self) -> str:
        return str(_("%(service)s on %(date)s") % {"service": self.service_type, "date": self.date})


class Task(AgencyOwned):
    """Something to do by a date: for a staff member (oneself or another) or for the client.

    A task for the client shows in their portal. An email reminder goes to the assignee
    ``remind_days_before`` days before the due date (``reminder_sent_at`` records that it went).
    """

    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(
        Client, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("client")
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("program")
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    due_on = models.DateField(_("due date"), null=True, blank=True)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks", verbose_name=_("assigned to")
    )
    for_client = models.BooleanField(
        _("for the client"), default=False, help_text=_("The client sees this task in their portal.")
    )
    remind_days_before = models.PositiveSmallIntegerField(_("email reminder (days before)"), null=True, blank=True, default=1)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by")
    )
    batch = models.ForeignKey(BatchAction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_on", "-pk"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            models.CheckConstraint(condition=Q(for_client=False) | Q(client__isnull=False), name="task_client_task_has_client"),
        ]
        indexes = [
            models.Index(fields=["agency", "assigned_to", "status", "due_on"], name="task_assignee_due"),
            models.Index(fields=["agency", "client", "-created_at"], name="task_client_time"),
            models.Index(fields=["status", "due_on"], name="task_due_reminders", condition=Q(reminder_sent_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.OPEN, self.Status.IN_PROGRESS)


# --- The referral directory (Open Referral HSDS: organization, service, location, contact) ---------


class DirectoryOrganisation(AgencyOwned):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="directoryorg_unique_name")]

    def __str__(self) -> str:
        return self.name


class DirectoryService(AgencyOwned):
    organisation = models.ForeignKey(
        DirectoryOrganisation, on_delete=models.CASCADE, related_name="services", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    url = models.URLField(_("web page"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    eligibility = models.TextField(_("eligibility"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [models.UniqueConstraint(fields=["agency", "organisation", "name"], name="directoryservice_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} — {self.organisation.name}"


class DirectoryLocation(AgencyOwned):
    organisation = models.ForeignKey(
        DirectoryOrganisation, on_delete=models.CASCADE, related_name="locations", verbose_name=_("organisation")
    )
    name = models.CharField(_("name"), max_length=200)
    address_1 = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state_province = models.CharField(_("province or territory"), max_length=60, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CA")
    services = models.ManyToManyField(
        DirectoryService, blank=True, related_name="locations", verbose_name=_("services offered here")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name


class DirectoryContact(AgencyOwned):
    organisation = models.ForeignKey(
        DirectoryOrganisation, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("organisation")
    )
    service = models.ForeignKey(
        DirectoryService, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts", verbose_name=_("service")
    )
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=120, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.name


class ServiceReferral(CaseRecord):
    """A referral of the client to a service: another program of the agency, or one in its directory.

    Status: sent → accepted or declined → completed or no-show (or cancelled by the sender).
    ``follow_up_on`` is when the referring staff member is reminded by email to check on it; the
    client is reminded too (``remind_client``) only when they agreed to be contacted.
    """

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Another program of our agency")
        EXTERNAL = "external", _("An outside service")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        COMPLETED = "completed", _("Completed")
        NO_SHOW = "no_show", _("No-show")
        CANCELLED = "cancelled", _("Cancelled")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="service_referrals", verbose_name=_("client"))
    kind = models.CharField(_("referred to"), max_length=10, choices=Kind.choices)
    to_program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("program")
    )
    service = models.ForeignKey(
        DirectoryService, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("service")
    )
    location = models.ForeignKey(
        DirectoryLocation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("location")
    )
    contact = models.ForeignKey(
        DirectoryContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("contact")
    )
    referred_on = models.DateField(_("date referred"), default=timezone.localdate)
    reason = models.TextField(_("reason for referral"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SENT)
    follow_up_on = models.DateField(_("follow up on"), null=True, blank=True)
    remind_client = models.BooleanField(_("remind the client too"), default=False)
    staff_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    client_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        ordering = ["-referred_on", "-created_at", "-pk"]
        verbose_name = _("service referral")
        verbose_name_plural = _("service referrals")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="internal", to_program__isnull=False, service__isnull=True)
                    | Q(kind="external", service__isnull=False, to_program__isnull=True)
                ),
                name="servicereferral_target_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "client", "-referred_on"], name="sref_client_date"),
            models.Index(fields=["agency", "author", "status"], name="sref_author_status"),
            models.Index(
                fields=["status", "follow_up_on"], name="sref_follow_up", condition=Q(staff_reminder_sent_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        target = self.to_program if self.kind == self.Kind.INTERNAL else self.service
        return str(_("Referral to %(target)s") % {"target": target})

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.SENT, self.Status.ACCEPTED)
