from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.models import AgencyOwned


class Client(AgencyOwned):
    """A person the agency serves. The registry (consent, search, profile) grows on this row."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        ARCHIVED = "archived", _("Archived")

    client_number = models.PositiveIntegerField(_("client number"), editable=False)
    given_name = models.CharField(_("given name"), max_length=120, blank=True)
    family_name = models.CharField(_("family name"), max_length=120, blank=True)
    preferred_name = models.CharField(_("preferred name"), max_length=120, blank=True)
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("Stored in E.164 form."))
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Search columns, derived from the fields above by actions.refresh_search_fields (matching.search_fields).
    name_folded = models.CharField(max_length=400, blank=True, editable=False)
    name_phonetic = models.CharField(max_length=400, blank=True, editable=False)
    email_folded = models.CharField(max_length=254, blank=True, editable=False)

    class Meta:
        ordering = ["family_name", "given_name"]
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        constraints = [models.UniqueConstraint(fields=["agency", "client_number"], name="client_unique_number_per_agency")]
        indexes = [
            models.Index(fields=["agency", "status", "family_name", "given_name"], name="client_agency_status_name"),
            models.Index(fields=["agency", "date_of_birth"], name="client_agency_dob"),
            models.Index(fields=["agency", "phone"], name="client_agency_phone"),
            models.Index(fields=["agency", "name_folded"], name="client_agency_name_folded"),
            models.Index(fields=["agency", "name_phonetic"], name="client_agency_name_phonetic"),
            models.Index(fields=["agency", "email_folded"], name="client_agency_email_folded"),
        ]

    def __str__(self) -> str:
        if self.is_anonymous:
            return str(_("Anonymous client %(number)s") % {"number": self.client_number})
        return " ".join(part for part in (self.preferred_name or self.given_name, self.family_name) if part) or str(self.client_number)
