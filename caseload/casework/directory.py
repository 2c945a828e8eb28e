"""The agency's referral directory: organisations, their services, locations and contacts.

Shaped like Open Referral HSDS (organization, service, location, contact, service_at_location;
``hsds.py`` reads and writes that JSON). Each change is one transaction and one audit event. Rows
are deactivated, never deleted: a referral keeps pointing at the service it was made to, while a
deactivated one is no longer offered for new referrals.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from caseload.audit.actions import record_change, record_create, snapshot
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService
from caseload.tenancy.models import Agency

ORGANISATION_FIELDS = ("name", "description", "email", "website", "phone", "is_active")
SERVICE_FIELDS = ("name", "description", "email", "url", "phone", "eligibility", "is_active")
LOCATION_FIELDS = ("name", "address_1", "city", "state_province", "postal_code", "country", "services", "is_active")
CONTACT_FIELDS = ("service", "name", "title", "email", "phone", "is_active")

TEXT_STRIPPED = {"name", "email", "website", "url", "phone", "title", "address_1", "city", "state_province", "postal_code"}


def _apply(instance: models.Model, data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    """Set the allowed plain fields of ``instance`` from ``data``; returns the many-to-many values to set after saving."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: _("This field cannot be set here.") for name in sorted(unknown)})
    m2m: dict[str, Any] = {}
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.many_to_many:
            m2m[name] = list(value or [])
            continue
        if name in TEXT_STRIPPED and isinstance(value, str):
            value = value.strip()
        if name == "country" and isinstance(value, str):
            value = value.strip().upper() or "CA"
        setattr(instance, name, value)
    return m2m


def _check_unique_name(instance: models.Model, queryset: models.QuerySet, message: str) -> None:
    name = (instance.name or "").strip()
    if name and queryset.filter(name__iexact=name).exclude(pk=instance.pk).exists():
        raise ValidationError({"name": message})


def _check_owned(organisation: DirectoryOrganisation, field: str, rows, message: str) -> None:
    """Every row given belongs to ``organisation`` (so to its agency too)."""
    for row in rows:
        if row is not None and (row.agency_id != organisation.agency_id or row.organisation_id != organisation.pk):
            raise ValidationError({field: message})


def _save(instance: models.Model, actor, before: dict[str, Any] | None, m2m: dict[str, Any]) -> None:
    instance.full_clean(exclude=["agency", "organisation"] if hasattr(instance, "organisation_id") else ["agency"])
    instance.save()
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    if before is None:
        record_create(agency=instance.agency, actor=actor, obj=instance)
    else:
        record_change(agency=instance.agency, actor=actor, obj=instance, before=before)


def _write(instance: models.Model, actor, data: dict[str, Any], allowed: tuple[str, ...], check, *, new: bool):
    """Apply ``data``, check the result with ``check(instance, m2m)``, save it and audit it."""
    before = None if new else snapshot(instance, [name for name in data if name in allowed])
    m2m = _apply(instance, data, allowed)
    check(instance, m2m)
    _save(instance, actor, before, m2m)
    return instance


# --- Organisations -------------------------------------------------------------------------------


def _check_organisation(organisation: DirectoryOrganisation, m2m: dict[str, Any]) -> None:
    _check_unique_name(
        organisation,
        DirectoryOrganisation.objects.for_agency(organisation.agency),
        _("The directory already has an organisation with this name."),
    )


@transaction.atomic
def create_organisation(agency: Agency, actor, data: dict[str, Any]) -> DirectoryOrganisation:
    organisation = DirectoryOrganisation(agency=agency)
    return _write(organisation, actor, data, ORGANISATION_FIELDS, _check_organisation, new=True)


@transaction.atomic
def update_organisation(organisation: DirectoryOrganisation, actor, data: dict[str, Any]) -> DirectoryOrganisation:
    return _write(organisation, actor, data, ORGANISATION_FIELDS, _check_organisation, new=False)


def deactivate_organisation(organisation: DirectoryOrganisation, actor) -> DirectoryOrganisation:
    """Its services are no longer offered for new referrals (they are left as they are, so reactivating brings them back)."""
    return update_organisation(organisation, actor, {"is_active": False})


# --- Services ----------------------------------------------------------------------------------


def _check_service(service: DirectoryService, m2m: dict[str, Any]) -> None:
    _check_unique_name(
        service,
        DirectoryService.objects.for_agency(service.agency).filter(organisation_id=service.organisation_id),
        _("This organisation already has a service with this name."),
    )


@transaction.atomic
def create_service(organisation: DirectoryOrganisation, actor, data: dict[str, Any]) -> DirectoryService:
    service = DirectoryService(agency=organisation.agency, organisation=organisation)
    return _write(service, actor, data, SERVICE_FIELDS, _check_service, new=True)


@transaction.atomic
def update_service(service: DirectoryService, actor, data: dict[str, Any]) -> DirectoryService:
    return _write(service, actor, data, SERVICE_FIELDS, _check_service, new=False)


def deactivate_service(service: DirectoryService, actor) -> DirectoryService:
    return update_service(service, actor, {"is_active": False})


# --- Locations ---------------------------------------------------------------------------------


def _check_location(location: DirectoryLocation, m2m: dict[str, Any]) -> None:
    if "services" in m2m:
        _check_owned(location.organisation, "services", m2m["services"], _("Choose services of this organisation."))


@transaction.atomic
def create_location(organisation: DirectoryOrganisation, actor, data: dict[str, Any]) -> DirectoryLocation:
    location = DirectoryLocation(agency=organisation.agency, organisation=organisation)
    return _write(location, actor, data, LOCATION_FIELDS, _check_location, new=True)


@transaction.atomic
def update_location(location: DirectoryLocation, actor, data: dict[str, Any]) -> DirectoryLocation:
    return _write(location, actor, data, LOCATION_FIELDS, _check_location, new=False)


def deactivate_location(location: DirectoryLocation, actor) -> DirectoryLocation:
    return update_location(location, actor, {"is_active": False})


# --- Contacts ----------------------------------------------------------------------------------


def _check_contact(contact: DirectoryContact, m2m: dict[str, Any]) -> None:
    if contact.service_id is not None:
        _check_owned(contact.organisation, "service", [contact.service], _("Choose a service of this organisation."))


@transaction.atomic
def create_contact(organisation: DirectoryOrganisation, actor, data: dict[str, Any]) -> DirectoryContact:
    contact = DirectoryContact(agency=organisation.agency, organisation=organisation)
    return _write(contact, actor, data, CONTACT_FIELDS, _check_contact, new=True)


@transaction.atomic
def update_contact(contact: DirectoryContact, actor, data: dict[str, Any]) -> DirectoryContact:
    return _write(contact, actor, data, CONTACT_FIELDS, _check_contact, new=False)


def deactivate_contact(contact: DirectoryContact, actor) -> DirectoryContact:
    return update_contact(contact, actor, {"is_active": False})


# --- Reading -----------------------------------------------------------------------------------


def offered_services(agency: Agency) -> models.QuerySet[DirectoryService]:
    """The services a new referral may go to: active, of an active organisation."""
    return (
        DirectoryService.objects.for_agency(agency)
        .filter(is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("organisation__name", "name")
    )


def search_organisations(
    agency: Agency, text: str = "", *, include_inactive: bool = False
) -> models.QuerySet[DirectoryOrganisation]:
    """Organisations whose name or description, or one of whose services, matches ``text``."""
    queryset = DirectoryOrganisation.objects.for_agency(agency)
    if not include_inactive:
        queryset = queryset.filter(is_active=True)
    text = text.strip()
    if text:
        matching_services = DirectoryService.objects.for_agency(agency).filter(
            models.Q(name__icontains=text) | models.Q(description__icontains=text) | models.Q(eligibility__icontains=text)
        )
        if not include_inactive:
            matching_services = matching_services.filter(is_active=True)
        queryset = queryset.filter(
            models.Q(name__icontains=text)
            | models.Q(description__icontains=text)
            | models.Q(pk__in=matching_services.values("organisation_id"))
            | models.Q(pk__in=DirectoryLocation.objects.for_agency(agency).filter(city__icontains=text).values("organisation_id"))
        )
    return queryset.order_by("name", "pk")
