from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.models import Agency, AgencyOwned, Membership, Program

# A CaMS (Employment Ontario) client reference: digits only, as the ministry system issues them.
validate_cams_number = RegexValidator(r"^\d{6,12}$", _("A CaMS reference number is 6 to 12 digits."))


class AgeRange(models.TextChoices):
    """What reporting keeps of an anonymous client's age (and what a named client's age falls in)."""

    UNDER_15 = "0-14", _("Under 15")
    AGE_15_24 = "15-24", _("15 to 24")
    AGE_25_34 = "25-34", _("25 to 34")
    AGE_35_44 = "35-44", _("35 to 44")
    AGE_45_54 = "45-54", _("45 to 54")
    AGE_55_64 = "55-64", _("55 to 64")
    AGE_65_PLUS = "65+", _("65 and over")


class ImmigrationStatus(models.TextChoices):
    CITIZEN = "citizen", _("Canadian citizen")
    PERMANENT_RESIDENT = "permanent_resident", _("Permanent resident")
    PROTECTED_PERSON = "protected_person", _("Protected person / convention refugee")
    REFUGEE_CLAIMANT = "refugee_claimant", _("Refugee claimant")
    TEMPORARY_WORKER = "temporary_worker", _("Temporary foreign worker")
    STUDENT = "student", _("International student")
    VISITOR = "visitor", _("Visitor")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Prefer not to say")


class ContactMethod(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message (SMS)")
    PHONE = "phone", _("Phone call")
    MAIL = "mail", _("Mail")
    IN_PERSON = "in_person", _("In person")


class ReferralSource(models.TextChoices):
    SELF = "self", _("Self-referred")
    FAMILY_FRIEND = "family_friend", _("Family or friend")
    COMMUNITY = "community", _("Community organisation")
    GOVERNMENT = "government", _("Government (IRCC, Employment Ontario, ...)")
    EMPLOYER = "employer", _("Employer")
    SCHOOL = "school", _("School or college")
    ONLINE = "online", _("Website or social media")
    OTHER_AGENCY = "other_agency", _("Another service provider")
    OTHER = "other", _("Other")


class PrivacyStatement(AgencyOwned):
    """One version of the agency's privacy statement, which a named client accepts at registration."""

    version = models.CharField(_("version"), max_length=20)
    text = models.TextField(_("statement"))
    text_fr = models.TextField(_("statement in French"), blank=True)
    published_at = models.DateTimeField(_("in use from"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("privacy statement")
        verbose_name_plural = _("privacy statements")
        constraints = [models.UniqueConstraint(fields=["agency", "version"], name="privacy_statement_unique_version")]

    def __str__(self) -> str:
        return str(_("Privacy statement %(version)s") % {"version": self.version})


class Client(AgencyOwned):
    """A person the agency serves. The registry (consent, search, profile) grows on this row."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")
        MERGED = "merged", _("Merged")

    client_number = models.PositiveIntegerField(_("client number"), editable=False)
    given_name = models.CharField(_("given name"), max_length=120, blank=True)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=120, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("Stored in E.164 form."))
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    spoken_languages = models.JSONField(_("spoken languages"), default=list, blank=True, help_text=_("Language codes."))
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    # What reporting keeps of an anonymous client (a named client's age comes from the date of birth).
    age_range = models.CharField(_("age range"), max_length=8, choices=AgeRange.choices, blank=True)
    immigration_status = models.CharField(_("immigration status"), max_length=24, choices=ImmigrationStatus.choices, blank=True)
    arrival_date = models.DateField(_("arrival date in Canada"), null=True, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    province = models.CharField(_("province or territory"), max_length=60, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    preferred_contact_method = models.CharField(_("preferred contact method"), max_length=12, choices=ContactMethod.choices, blank=True)
    consent_email = models.BooleanField(_("agrees to be contacted by email"), default=False)
    consent_sms = models.BooleanField(_("agrees to be contacted by text message"), default=False)
    emergency_contact_name = models.CharField(_("emergency contact"), max_length=200, blank=True)
    emergency_contact_phone = models.CharField(_("emergency contact phone"), max_length=32, blank=True, help_text=_("Stored in E.164 form."))
    emergency_contact_relationship = models.CharField(_("relationship to client"), max_length=80, blank=True)
    referral_source = models.CharField(_("referral source"), max_length=20, choices=ReferralSource.choices, blank=True)
    referral_source_detail = models.CharField(_("referred by"), max_length=200, blank=True)
    general_notes = models.TextField(_("general notes"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    # Denormalised from SafetyFlag (an active flag exists) for the ribbon, the banner and the search filter.
    has_safety_flag = models.BooleanField(_("safety flag"), default=False)
    cams_number = models.CharField(_("CaMS reference number"), max_length=12, blank=True, validators=[validate_cams_number])
    cams_linked_at = models.DateTimeField(null=True, blank=True)
    cams_linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    portal_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="client_profile", verbose_name=_("portal account")
    )
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged into"))
    source_import = models.ForeignKey("ClientImport", null=True, blank=True, on_delete=models.SET_NULL, related_name="clients")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Search columns, derived from the fields above by actions.refresh_search_fields (matching.search_fields).
    # Not indexed: name search looks names up in ClientSearchKey, and these are read, never filtered on.
    name_folded = models.CharField(max_length=400, blank=True, editable=False)
    name_phonetic = models.CharField(max_length=400, blank=True, editable=False)
    email_folded = models.CharField(max_length=254, blank=True, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [
            models.UniqueConstraint(fields=["agency", "client_number"], name="client_unique_number_per_agency"),
            models.UniqueConstraint(fields=["agency", "cams_number"], condition=~Q(cams_number=""), name="client_unique_cams_per_agency"),
        ]
        indexes = [
            models.Index(fields=["agency", "has_safety_flag"], name="client_agency_flag"),
            models.Index(fields=["agency", "preferred_language"], name="client_agency_language"),
            models.Index(fields=["agency", "status", "family_name", "given_name"], name="client_agency_status_name"),
            models.Index(fields=["agency", "date_of_birth"], name="client_agency_dob"),
            models.Index(fields=["agency", "phone"], name="client_agency_phone"),
            models.Index(fields=["agency", "email_folded"], name="client_agency_email_folded"),
        ]

    def __str__(self) -> str:
        if self.is_anonymous:
            return str(_("Anonymous client %(number)s") % {"number": self.client_number})
        return " ".join(part for part in (self.preferred_name or self.given_name, self.family_name) if part) or str(self.client_number)


class ClientPhone(AgencyOwned):
    """A phone number beyond the client's main one (``Client.phone``); searched alike."""

    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        HOME = "home", _("Home")
        WORK = "work", _("Work")
        OTHER = "other", _("Other")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone"), max_length=32, help_text=_("Stored in E.164 form."))
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices, default=Kind.MOBILE)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        indexes = [models.Index(fields=["agency", "number"], name="clientphone_agency_number")]

    def __str__(self) -> str:
        return self.number


class PrivacyConsent(AgencyOwned):
    """A client's answer to a version of the privacy statement, and who recorded it when."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("By phone")
        WRITTEN = "written", _("Signed form")
        PORTAL = "portal", _("In the portal")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    statement = models.ForeignKey(PrivacyStatement, on_delete=models.PROTECT, related_name="consents")
    accepted = models.BooleanField(_("accepted"))
    method = models.CharField(_("how it was given"), max_length=12, choices=Method.choices, default=Method.IN_PERSON)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = _("privacy consent")
        verbose_name_plural = _("privacy consents")
        indexes = [models.Index(fields=["agency", "client"], name="consent_agency_client")]


class Enrolment(AgencyOwned):
    """A client's place in one of the agency's programs (the program filter of search reads these)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="enrolments")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrolments", verbose_name=_("program"))
    start_date = models.DateField(_("start date"), default=timezone.localdate)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-start_date", "-pk"]
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        indexes = [models.Index(fields=["agency", "program", "client"], name="enrolment_agency_program")]
        constraints = [
            models.UniqueConstraint(fields=["agency", "client", "program"], condition=Q(end_date__isnull=True), name="enrolment_one_open_per_program")
        ]


class Assignment(AgencyOwned):
    """A staff member working with a client; one of a client's assignments is the primary one."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assignments")
    staff = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="client_assignments", verbose_name=_("staff member"))
    is_primary = models.BooleanField(_("primary"), default=False)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "assigned_at", "pk"]
        verbose_name = _("staff assignment")
        verbose_name_plural = _("staff assignments")
        indexes = [models.Index(fields=["agency", "staff", "client"], name="assignment_agency_staff")]
        constraints = [
            models.UniqueConstraint(fields=["agency", "client", "staff"], name="assignment_unique_staff"),
            models.UniqueConstraint(fields=["agency", "client"], condition=Q(is_primary=True), name="assignment_one_primary"),
        ]


class SafetyFlag(AgencyOwned):
    """A warning staff must see before meeting the client; never shown in the portal. At most one is active."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="safety_flags")
    reason = models.TextField(_("reason"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    raised_at = models.DateTimeField(default=timezone.now)
    removed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(_("why it was removed"), blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        verbose_name = _("safety flag")
        verbose_name_plural = _("safety flags")
        indexes = [models.Index(fields=["agency", "client"], name="safetyflag_agency_client")]
        constraints = [
            models.UniqueConstraint(fields=["agency", "client"], condition=Q(removed_at__isnull=True), name="safetyflag_one_active")
        ]


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RECORDED = "recorded", _("Recorded")


class Referral(AgencyOwned):
    """A client referred out: to another agency on this installation, or to an outside organisation.

    The sending agency owns this row. A referral to another agency also writes an IncomingReferral
    owned by the receiving agency (row-level security keeps each side to its own row); only when
    the receiver accepts is the client's profile copied into that agency.
    """

    class Kind(models.TextChoices):
        AGENCY = "agency", _("Another agency on Caseload")
        EXTERNAL = "external", _("Outside organisation")

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="referrals")
    kind = models.CharField(_("referred to"), max_length=10, choices=Kind.choices)
    to_agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    contact = models.CharField(_("contact"), max_length=200, blank=True, help_text=_("Person, phone or email at the organisation."))
    service = models.CharField(_("service"), max_length=200, blank=True)
    reason = models.TextField(_("reason for referral"))
    client_consent = models.BooleanField(_("client consents to share their information"), default=False)
    consent_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    response_note = models.TextField(_("response"), blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["agency", "client"], name="referral_agency_client")]


class IncomingReferral(AgencyOwned):
    """The receiving agency's side of a referral from another agency: what it may see before accepting."""

    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("from agency"))
    source_referral_id = models.BigIntegerField(editable=False, help_text="The sending agency's Referral row.")
    client_summary = models.CharField(_("client"), max_length=200, help_text=_("What the receiver sees before accepting: a first name and initial."))
    service = models.CharField(_("service"), max_length=200, blank=True)
    reason = models.TextField(_("reason for referral"))
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PENDING)
    response_note = models.TextField(_("response"), blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The receiver's own copy of the client, made on acceptance.
    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL, related_name="incoming_referrals")

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("incoming referral")
        verbose_name_plural = _("incoming referrals")
        indexes = [models.Index(fields=["agency", "status"], name="incoming_agency_status")]


class Merge(AgencyOwned):
    """One merge of two profiles, with what it moved, so it can be undone."""

    kept = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("kept profile"))
    merged = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+", verbose_name=_("merged profile"))
    reason = models.TextField(_("reason"), blank=True)
    # [{"model": "app_label.model", "field": "client", "pk": 1}, ...]: every row moved from merged to kept.
    moved = models.JSONField(default=list, editable=False)
    # The kept and merged profiles' fields before the merge filled the gaps in the kept one.
    kept_before = models.JSONField(default=dict, editable=False)
    merged_before = models.JSONField(default=dict, editable=False)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-pk"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["agency", "kept"], name="merge_agency_kept"), models.Index(fields=["agency", "merged"], name="merge_agency_merged")]


class ClientImport(AgencyOwned):
    """An upload of existing clients: validated into a preview, then imported all at once or not at all."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking")
        INVALID = "invalid", _("Has errors")
        READY = "ready", _("Ready to import")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    file_name = models.CharField(_("file"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    # The parsed rows (header -> value), the errors per row and field, and the duplicates found.
    rows = models.JSONField(default=list, editable=False)
    errors = models.JSONField(default=list, editable=False)
    duplicates = models.JSONField(default=list, editable=False)
    imported_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When a run last showed it was alive (started, progressed, changed status): a check or import
    # whose heartbeat is older than CLIENT_IMPORT_STALL_SECONDS lost its worker
    # (importing.recover_stalled_imports). Empty on imports from before it existed: created_at counts.
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("client import")
        verbose_name_plural = _("client imports")


class ClientSearchKey(AgencyOwned):
    """One exact key of a client's names (matching.search_keys): what name search looks up by equality.

    Derived from the names by actions.refresh_search_keys (bulk writers add them in bulk); never edited,
    never audited, never moved by a merge. Equality on text is leakproof, so the (agency, key) index
    serves the lookup under PostgreSQL row-level security, where LIKE and pg_trgm operators cannot.
    """

    # No index of its own: the search index leads with the agency. No foreign-key constraint in the database
    # either: a key's agency is always its client's (the client's own constraint holds that agency), and
    # checking it again for each of a client's fifteen keys was a tenth of a 10,000-client import (at its
    # commit). Django still protects the agency (on_delete) and row-level security still reads the column.
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"), db_index=False, db_constraint=False
    )
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="search_keys")
    key = models.CharField(max_length=64)
    # How much a match on this key counts when ordering candidates (matching.TOKEN_WEIGHT...).
    weight = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("search key")
        verbose_name_plural = _("search keys")
        # The lookup's columns and what it reads (client, weight), so PostgreSQL answers from the index alone.
        indexes = [models.Index(fields=["agency", "key", "client", "weight"], name="client_search_key")]

    def __str__(self) -> str:
        return self.key
