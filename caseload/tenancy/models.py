from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseload.tenancy.roles import PERMISSIONS
from caseload.tenancy.scoping import agency_manager


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def validate_permissions(value: list[str]) -> None:
    unknown = sorted(set(value) - set(PERMISSIONS))
    if unknown:
        raise ValidationError(_("Unknown permissions: %(codes)s"), params={"codes": ", ".join(unknown)})


class Agency(models.Model):
    """A service provider: the tenant. Every agency-owned row points here."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Toronto", validators=[validate_time_zone])
    languages = models.JSONField(_("languages"), default=list, blank=True, help_text=_("Language codes the agency serves in."))
    require_two_factor = models.BooleanField(_("require two-factor authentication for staff"), default=False)
    grants_management = models.BooleanField(
        _("grants management"), default=False, help_text=_("Supportive services can draw on grants, with budgets tracked.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name


class AgencyOwned(models.Model):
    """Base of every row that belongs to one agency. Reach rows through ``objects.for_agency``."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))

    objects = agency_manager()

    class Meta:
        abstract = True


class Program(AgencyOwned):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=40, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    funders = models.ManyToManyField("Funder", blank=True, related_name="programs", verbose_name=_("funders"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="program_unique_name_per_agency")]
        indexes = [models.Index(fields=["agency", "is_active"], name="program_agency_active")]

    def __str__(self) -> str:
        return self.name


class Funder(AgencyOwned):
    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("code"), max_length=40, blank=True, help_text=_("The funder's identifier for the agency, e.g. an iCARE organisation ID."))
    contact_email = models.EmailField(_("reporting contact email"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("funder")
        verbose_name_plural = _("funders")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="funder_unique_name_per_agency")]

    def __str__(self) -> str:
        return self.name


class Role(AgencyOwned):
    """A named set of permissions, per agency."""

    name = models.CharField(_("name"), max_length=100)
    permissions = models.JSONField(_("permissions"), default=list, blank=True, validators=[validate_permissions])
    is_seeded = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="role_unique_name_per_agency")]

    def __str__(self) -> str:
        return self.name

    def has(self, code: str) -> bool:
        return code in self.permissions


class Membership(AgencyOwned):
    """A staff member of an agency: their role, programs and manager there."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user"))
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("role"))
    programs = models.ManyToManyField(Program, blank=True, related_name="members", verbose_name=_("programs"))
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports", verbose_name=_("manager")
    )
    title = models.CharField(_("job title"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user__full_name", "user__email"]
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [models.UniqueConstraint(fields=["agency", "user"], name="membership_unique_user_per_agency")]

    def __str__(self) -> str:
        return str(self.user)

    def has_perm(self, code: str) -> bool:
        return self.is_active and self.role.has(code)

    def clean(self) -> None:
        if self.role_id and self.role.agency_id != self.agency_id:
            raise ValidationError({"role": _("The role must belong to the same agency.")})
        if self.manager_id and self.manager_id == self.pk:
            raise ValidationError({"manager": _("A staff member cannot be their own manager.")})
        if self.manager_id and self.manager.agency_id != self.agency_id:
            raise ValidationError({"manager": _("The manager must belong to the same agency.")})
        if self.manager_id and self.pk:
            seen, above = {self.pk}, self.manager
            while above is not None:
                if above.pk in seen:
                    raise ValidationError({"manager": _("This manager reports, directly or not, to this staff member.")})
                seen.add(above.pk)
                above = above.manager
