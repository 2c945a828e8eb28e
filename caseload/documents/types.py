"""The agency's Document Types: the defaults every agency starts with."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from caseload.audit.actions import record_change, record_create, snapshot
from caseload.documents.models import DocumentType
from caseload.tenancy.models import Agency

DEFAULTS = [
    ("Resume", "Curriculum vitae"),
    ("Cover letter", "Lettre de présentation"),
    ("Identification", "Pièce d'identité"),
    ("Immigration document", "Document d'immigration"),
    ("Pay stub", "Talon de paie"),
    ("Employment letter", "Lettre d'emploi"),
    ("Receipt", "Reçu"),
    ("Certificate or diploma", "Certificat ou diplôme"),
    ("Assessment report", "Rapport d'évaluation"),
    ("Consent form", "Formulaire de consentement"),
    ("Other", "Autre"),
]


def seed_document_types(agency: Agency) -> None:
    for position, (name, name_fr) in enumerate(DEFAULTS):
        DocumentType.objects.for_agency(agency).get_or_create(
            agency=agency, name=name, defaults={"name_fr": name_fr, "position": position}
        )


# --- The administration of Document Types --------------------------------------------------------


def _check_name(agency: Agency, name: Any, current: DocumentType | None = None) -> str:
    name = (name or "").strip() if isinstance(name, str) or name is None else ""
    if not name:
        raise ValidationError({"name": _("Enter the document type's name.")})
    if len(name) > 120:
        raise ValidationError({"name": _("A name can hold at most 120 characters.")})
    taken = DocumentType.objects.for_agency(agency).filter(name__iexact=name)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.exists():
        raise ValidationError({"name": _("Your agency already has a document type with this name.")})
    return name


@transaction.atomic
def create_document_type(agency: Agency, actor, data: dict[str, Any]) -> DocumentType:
    """Add a document type (``data``: name, name_fr) at the end of the agency's list."""
    last = DocumentType.objects.for_agency(agency).order_by("-position").values_list("position", flat=True).first()
    document_type = DocumentType(
        agency=agency,
        name=_check_name(agency, data.get("name")),
        name_fr=(data.get("name_fr") or "").strip(),
        position=(last or 0) + 1,
    )
    document_type.full_clean()
    document_type.save()
    record_create(agency=agency, actor=actor, obj=document_type)
    return document_type


@transaction.atomic
def update_document_type(document_type: DocumentType, actor, data: dict[str, Any]) -> DocumentType:
    """Rename, deactivate or reactivate a document type (documents already filed keep it)."""
    agency = document_type.agency
    before = snapshot(document_type, ["name", "name_fr", "is_active"])
    if "name" in data:
        document_type.name = _check_name(agency, data["name"], document_type)
    if "name_fr" in data:
        document_type.name_fr = (data["name_fr"] or "").strip()
    if "is_active" in data:
        document_type.is_active = bool(data["is_active"])
    document_type.full_clean()
    document_type.save()
    record_change(agency=agency, actor=actor, obj=document_type, before=before)
    return document_type


def deactivate_document_type(document_type: DocumentType, actor) -> DocumentType:
    """No longer offer a document type: documents filed under it keep it."""
    return update_document_type(document_type, actor, {"is_active": False})


def offered_types(agency: Agency, current: DocumentType | None = None):
    """The agency's active document types (and ``current``, when a document already has an inactive one)."""
    condition = Q(is_active=True)
    if current is not None:
        condition |= Q(pk=current.pk)
    return DocumentType.objects.for_agency(agency).filter(condition).order_by("position", "name")


def types_with_uses(agency: Agency):
    """Every document type of the agency, offered ones first, each with ``uses``: its documents (deleted ones aside)."""
    return (
        DocumentType.objects.for_agency(agency)
        .annotate(uses=Count("documents", filter=Q(documents__deleted_at__isnull=True)))
        .order_by("-is_active", "position", "name")
    )


def type_label(document_type: DocumentType) -> str:
    """The type's name in the current language (its French name when the page is in French and it has one)."""
    if get_language() and get_language().startswith("fr") and document_type.name_fr:
        return document_type.name_fr
    return document_type.name
