"""What every casework topic shares: who acts, who may see a record, and the soft delete.

The private rule lives here once: a private record is seen by its author and the author's
manager only — in pages, the history feed, the dashboard, exports and the API alike. Every read
of casework records goes through ``visible``; a query that skips it is a leak.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from caseload.audit.actions import record_delete
from caseload.clients.models import ContactMethod
from caseload.tenancy.models import Agency, Membership

M = TypeVar("M", bound=models.Model)


def agency_today(agency: Agency) -> datetime.date:
    """Today in the agency's time zone: what "due today", "overdue" and a send date mean to its staff."""
    try:
        return timezone.localdate(timezone=zoneinfo.ZoneInfo(agency.time_zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return timezone.localdate()


def membership_of(agency: Agency, user) -> Membership | None:
    """The acting user's active membership in ``agency`` (None for the system or a non-member)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_casework_memberships", None)
    if cached is None:
        cached = user._casework_memberships = {}
    if agency.pk not in cached:
        cached[agency.pk] = (
            Membership.objects.for_agency(agency).filter(user=user, is_active=True).select_related("manager").first()
        )
    return cached[agency.pk]


def private_rule(membership: Membership | None, *, prefix: str = "") -> Q:
    """Rows ``membership`` may see by the private rule: not private, or authored by them or by someone they manage."""
    open_rows = Q(**{f"{prefix}is_private": False})
    if membership is None:
        return open_rows
    return open_rows | Q(**{f"{prefix}author": membership}) | Q(**{f"{prefix}author__manager": membership})


def visible(queryset: models.QuerySet[M], membership: Membership | None) -> models.QuerySet[M]:
    """The rows of ``queryset`` that ``membership`` may see: never soft-deleted ones, and private ones
    only when the rule allows (models without ``is_private`` have no private rows)."""
    model = queryset.model
    field_names = {f.name for f in model._meta.get_fields()}
    if "deleted_at" in field_names:
        queryset = queryset.filter(deleted_at__isnull=True)
    if "is_private" in field_names:
        queryset = queryset.filter(private_rule(membership))
    return queryset


def may_see(row: models.Model, membership: Membership | None) -> bool:
    """The private rule for one row already loaded (``visible`` for querysets)."""
    if getattr(row, "deleted_at", None) is not None:
        return False
    if not getattr(row, "is_private", False):
        return True
    if membership is None or row.author_id is None:
        return False
    return row.author_id == membership.pk or (row.author is not None and row.author.manager_id == membership.pk)


def soft_delete(row: models.Model, actor, *, agency: Agency, client_id: int | None = None) -> None:
    """Mark ``row`` deleted (kept for the audit trail) and write the DELETE event; contents stay out of the log."""
    row.deleted_at = timezone.now()
    row.deleted_by = actor if getattr(actor, "is_authenticated", False) else None
    row.save(update_fields=["deleted_at", "deleted_by"])
    record_delete(agency=agency, actor=actor, obj=row, client_id=client_id)


def supported_language(*codes: str | None) -> str:
    """The first of ``codes`` the site speaks (its base language: "fr-CA" gives "fr"), else the default language."""
    available = {code for code, _name in settings.LANGUAGES}
    for code in codes:
        base = (code or "").split("-")[0].lower()
        if base in available:
            return base
    return settings.LANGUAGE_CODE


def consented_channel(client) -> str:
    """How the client may be reached: "sms" when preferred, else "email", else "sms" (each needs consent and an address), or ""."""
    can_email = bool(client.consent_email and client.email)
    can_sms = bool(client.consent_sms and client.phone)
    if client.preferred_contact_method == ContactMethod.SMS and can_sms:
        return "sms"
    if can_email:
        return "email"
    if can_sms:
        return "sms"
    return ""
