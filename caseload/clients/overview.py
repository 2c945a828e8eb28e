"""What the profile's Overview tab shows: key details, referral information, privacy consent,
recent portal activity, general notes and what is still missing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.models import AuditEvent
from caseload.clients.models import Client, ImmigrationStatus, PrivacyConsent
from caseload.clients.profile_forms import language_label, province_label
from caseload.clients.queries import current_privacy_statement
from caseload.clients.views import display_phone
from caseload.formbuilder.profile_questions import profile_answers_html
from caseload.tenancy.access import has_perm

# The fields a complete named profile has, in the order "Still missing" lists them. A group of fields
# (the address, the emergency contact) counts as one item, missing while any of its parts is.
ADDRESS = ("street_address", "city", "province", "postal_code")
EMERGENCY_CONTACT = ("emergency_contact_name", "emergency_contact_phone")
NAMED_FIELDS: list[str | tuple[str, ...]] = [
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "email",
    "phone",
    ADDRESS,
    "preferred_language",
    "spoken_languages",
    "immigration_status",
    "arrival_date",
    "preferred_contact_method",
    EMERGENCY_CONTACT,
    "referral_source",
]
GROUP_LABELS = {ADDRESS: gettext_lazy("Address"), EMERGENCY_CONTACT: gettext_lazy("Emergency contact")}
# An anonymous client is complete with what reporting needs.
ANONYMOUS_FIELDS = ["age_range", "gender", "preferred_language", "immigration_status"]
PORTAL_EVENTS = 5


def _label(name: str) -> str:
    label = str(Client._meta.get_field(name).verbose_name)
    return label[:1].upper() + label[1:]


def missing_fields(client: Client, latest_consent: PrivacyConsent | None = None, has_statement: bool = False) -> list[str]:
    """The labels of what the profile still lacks (a citizen has no arrival date to give)."""
    names = ANONYMOUS_FIELDS if client.is_anonymous else NAMED_FIELDS
    missing = []
    for name in names:
        if name == "arrival_date" and client.immigration_status in (ImmigrationStatus.CITIZEN, ImmigrationStatus.UNKNOWN):
            continue
        if isinstance(name, tuple):
            if not all(getattr(client, part) for part in name):
                missing.append(str(GROUP_LABELS[name]))
        elif not getattr(client, name):
            missing.append(_label(name))
    if has_statement and not client.is_anonymous and (latest_consent is None or not latest_consent.accepted):
        missing.append(_("Acceptance of the privacy statement"))
    return missing


def overview(request: HttpRequest, client: Client) -> dict[str, Any]:
    statement = current_privacy_statement(request.agency)
    latest = client.consents.select_related("statement", "recorded_by").order_by("-recorded_at", "-pk").first()
    portal_events: list[AuditEvent] = []
    if client.portal_user_id:
        portal_events = list(
            AuditEvent.objects.for_agency(request.agency)
            .filter(agency=request.agency, actor_id=client.portal_user_id)
            .order_by("-created_at", "-pk")[:PORTAL_EVENTS]
        )
    referrals = list(client.referrals.select_related("to_agency").order_by("-created_at", "-pk"))
    can_change = has_perm(request, "clients.change") and client.status != Client.Status.MERGED
    return {
        "language": language_label(client.preferred_language),
        "spoken_languages": [language_label(code) for code in client.spoken_languages or []],
        "province": province_label(client.province),
        "other_phones": [
            {"number": phone.number, "display": display_phone(phone.number), "kind": phone.get_kind_display()}
            for phone in client.phones.all()
        ],
        "emergency_phone": display_phone(client.emergency_contact_phone),
        "referrals": referrals,
        "statement": statement,
        "consent": latest,
        # The client answered an older version than the one in use.
        "consent_outdated": bool(latest and statement and latest.statement_id != statement.pk),
        "portal_user": client.portal_user,
        "portal_events": portal_events,
        "missing": missing_fields(client, latest, statement is not None),
        # The agency's own questions on the profile (caseload.formbuilder), when any are answered.
        "agency_answers": profile_answers_html(client),
        "can_change": can_change,
        "edit_url": reverse("clients:edit", args=[client.pk]) if can_change else "",
        "consent_url": reverse("clients:consent", args=[client.pk]) if can_change and statement is not None else "",
    }
