"""The client's document archive: files with a Document Type, uploaded by staff or by the client
in the portal, and attached to other records (a checkpoint, a case note, a service record).

Files are checked by content, limited in size, stored outside the web root under generated names
and served only through a permission-checked view. A document is soft-deleted, so the audit trail
stays whole; its attachments to other records point at it and never copy the file.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from caseload.clients.models import Client
from caseload.tenancy.models import AgencyOwned


class DocumentType(AgencyOwned):
    """A kind of document the agency files (resume, pay stub, identification, ...): its own list."""

    name = models.CharField(_("name"), max_length=120)
    name_fr = models.CharField(_("name (French)"), max_length=120, blank=True)
    is_active = models.BooleanField(_("offered"), default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("document type")
        verbose_name_plural = _("document types")
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="documenttype_unique_name")]

    def __str__(self) -> str:
        return self.name


def document_path(instance: Document, filename: str) -> str:
    # A generated name: the original one is kept in ``original_name``, never on disk.
    return f"documents/{instance.agency_id}/{uuid.uuid4().hex}"


class Document(AgencyOwned):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="documents", verbose_name=_("client"))
    document_type = models.ForeignKey(
        DocumentType, on_delete=models.PROTECT, related_name="documents", verbose_name=_("document type")
    )
    file = models.FileField(upload_to=document_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    from_portal = models.BooleanField(_("uploaded by the client"), default=False)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        indexes = [models.Index(fields=["agency", "client", "-uploaded_at"], name="document_client")]

    def __str__(self) -> str:
        return self.original_name


class DocumentLink(AgencyOwned):
    """A document attached to another record of the same client (a checkpoint, a note, a service record)."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="links")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.PositiveBigIntegerField()
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["linked_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "document", "target_type", "target_id"], name="documentlink_unique")
        ]
        indexes = [models.Index(fields=["agency", "target_type", "target_id"], name="documentlink_target")]
