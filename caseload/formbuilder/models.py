"""Form definitions as data, their agency questions, and the files answered in them.

A definition (``FormDefinition``) is one version of a standard form, shared by every agency and
never edited once loaded: a changed form is a new version. An agency adds its own questions to a
form, or to the client profile, as a versioned ``FormExtension``. A record answered on a form keeps
the definition and extension versions it was given under (see ``docs/forms.md``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.tenancy.models import AgencyOwned, Membership

# The form key of the agency questions on the client profile (not a definition of its own).
CLIENT_PROFILE = "client_profile"


def localised(texts: dict | None, language: str | None = None) -> str:
    """The text of ``{"en": ..., "fr": ...}`` in the active language, else English."""
    texts = texts or {}
    language = (language or get_language() or "en").split("-")[0]
    return texts.get(language) or texts.get("en") or ""


class FormDefinition(models.Model):
    """One version of a form, shared by all agencies (standard forms are shipped as data files)."""

    class Scope(models.TextChoices):
        CLIENT = "client", _("One client")
        GROUP = "group", _("The whole group")

    key = models.CharField(_("key"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_fr = models.CharField(_("name (French)"), max_length=200)
    scope = models.CharField(_("completed for"), max_length=8, choices=Scope.choices, default=Scope.CLIENT)
    spec = models.JSONField(_("definition"), help_text=_("The whole definition file (docs/forms.md)."))
    is_standard = models.BooleanField(_("standard form"), default=True)
    loaded_at = models.DateTimeField(_("loaded"), default=timezone.now)

    class Meta:
        ordering = ["key", "-version"]
        verbose_name = _("form definition")
        verbose_name_plural = _("form definitions")
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="formdefinition_key_version")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    @property
    def name(self) -> str:
        return localised({"en": self.name_en, "fr": self.name_fr})

    @property
    def fields(self) -> list[dict]:
        return self.spec.get("fields", [])


class FormExtension(AgencyOwned):
    """One version of an agency's own questions on a form (or on the client profile)."""

    form_key = models.CharField(_("form"), max_length=60)
    version = models.PositiveIntegerField(_("version"))
    fields = models.JSONField(_("questions"), default=list, blank=True)
    created_by = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("changed by")
    )
    created_at = models.DateTimeField(_("changed"), default=timezone.now)

    class Meta:
        ordering = ["form_key", "-version"]
        verbose_name = _("agency questions")
        verbose_name_plural = _("agency questions")
        constraints = [models.UniqueConstraint(fields=["agency", "form_key", "version"], name="formextension_agency_key_version")]

    def __str__(self) -> str:
        return f"{self.form_key} v{self.version}"


class ProfileAnswers(AgencyOwned):
    """A client's answers to the agency's questions on the client profile."""

    client = models.OneToOneField(Client, on_delete=models.CASCADE, related_name="agency_answers")
    extension = models.ForeignKey(FormExtension, on_delete=models.PROTECT, related_name="+")
    answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("agency answers")
        verbose_name_plural = _("agency answers")


def form_file_path(instance: FormFile, filename: str) -> str:
    # A generated name: the original one is kept in ``original_name``, never on disk.
    return f"forms/{instance.agency_id}/{uuid.uuid4().hex}"


class FormFile(AgencyOwned):
    """A file given as the answer to a file question: content-checked, served only by a checked view."""

    client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE, related_name="form_files")
    file = models.FileField(upload_to=form_file_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("form file")
        verbose_name_plural = _("form files")

    def __str__(self) -> str:
        return self.original_name
