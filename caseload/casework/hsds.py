"""The referral directory as Open Referral HSDS JSON: export, and import of the same shape.

The file is one JSON object with the HSDS tables as arrays, linked by ids::

    {"organizations": [...], "services": [...], "locations": [...], "contacts": [...], "service_at_location": [...]}

Exported ids are UUIDs derived from the agency and the row, so exporting twice gives the same
ids. On import, ids only link the items of the file to each other; rows are matched to the
directory by name (an organisation by its name, a service, location or contact by its name within
its organisation), so importing a file again updates the rows it made instead of doubling them,
and rows the file does not mention are left alone. An import is all-or-nothing: every item is
checked first, and any problem refuses the whole file with a list naming the item and the field.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from caseload.casework import directory
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService
from caseload.tenancy.models import Agency

HSDS_VERSION = "3.0"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "hsds.caseload.invalid")
TABLES = ("organizations", "services", "locations", "contacts", "service_at_location")
MAX_ITEMS = 20_000
MAX_BYTES = 10 * 1024 * 1024
SERVICE_STATUSES = {"active": True, "inactive": False, "defunct": False, "temporarily closed": False}


def _id(agency: Agency, kind: str, pk: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{agency.pk}/{kind}/{pk}"))


def _phones(agency: Agency, kind: str, pk: int, number: str) -> list[dict[str, str]]:
    return [{"id": _id(agency, f"{kind}-phone", pk), "number": number}] if number else []


# --- Export ------------------------------------------------------------------------------------


def export_directory(agency: Agency) -> dict[str, Any]:
    """The directory as offered: active organisations with their services (status active or
    inactive), and their active locations and contacts."""
    organisations = list(DirectoryOrganisation.objects.for_agency(agency).filter(is_active=True).order_by("name", "pk"))
    org_ids = [organisation.pk for organisation in organisations]
    services = list(
        DirectoryService.objects.for_agency(agency).filter(organisation_id__in=org_ids).order_by("organisation_id", "name", "pk")
    )
    service_ids = {service.pk for service in services}
    locations = list(
        DirectoryLocation.objects.for_agency(agency)
        .filter(organisation_id__in=org_ids, is_active=True)
        .prefetch_related("services")
        .order_by("organisation_id", "name", "pk")
    )
    contacts = list(
        DirectoryContact.objects.for_agency(agency)
        .filter(organisation_id__in=org_ids, is_active=True)
        .order_by("organisation_id", "name", "pk")
    )
    return {
        "hsds_version": HSDS_VERSION,
        "generated_at": timezone.now().isoformat(),
        "publisher": agency.name,
        "organizations": [
            {
                "id": _id(agency, "organization", o.pk),
                "name": o.name,
                "description": o.description,
                "email": o.email,
                "website": o.website,
                "phones": _phones(agency, "organization", o.pk, o.phone),
            }
            for o in organisations
        ],
        "services": [
            {
                "id": _id(agency, "service", s.pk),
                "organization_id": _id(agency, "organization", s.organisation_id),
                "name": s.name,
                "description": s.description,
                "url": s.url,
                "email": s.email,
                "status": "active" if s.is_active else "inactive",
                "eligibility_description": s.eligibility,
                "phones": _phones(agency, "service", s.pk, s.phone),
            }
            for s in services
        ],
        "locations": [
            {
                "id": _id(agency, "location", loc.pk),
                "organization_id": _id(agency, "organization", loc.organisation_id),
                "location_type": "physical",
                "name": loc.name,
                "addresses": [
                    {
                        "id": _id(agency, "address", loc.pk),
                        "location_id": _id(agency, "location", loc.pk),
                        "address_type": "physical",
                        "address_1": loc.address_1,
                        "city": loc.city,
                        "state_province": loc.state_province,
                        "postal_code": loc.postal_code,
                        "country": loc.country,
                    }
                ],
            }
            for loc in locations
        ],
        "contacts": [
            {
                "id": _id(agency, "contact", c.pk),
                "organization_id": _id(agency, "organization", c.organisation_id),
                "service_id": _id(agency, "service", c.service_id) if c.service_id in service_ids else None,
                "name": c.name,
                "title": c.title,
                "email": c.email,
                "phones": _phones(agency, "contact", c.pk, c.phone),
            }
            for c in contacts
        ],
        "service_at_location": [
            {
                "id": _id(agency, "service-at-location", loc.pk * 1_000_003 + service.pk),
                "service_id": _id(agency, "service", service.pk),
                "location_id": _id(agency, "location", loc.pk),
            }
            for loc in locations
            for service in sorted(loc.services.all(), key=lambda s: s.pk)
            if service.pk in service_ids
        ],
    }


def export_json(agency: Agency) -> str:
    return json.dumps(export_directory(agency), ensure_ascii=False, indent=2)


# --- Import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemError:
    """One problem of an import: which item (``services[3]``, with its id when it has one), which field, what."""

    item: str
    field: str
    message: str
    id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"item": self.item, "id": self.id, "field": self.field, "message": self.message}


class DirectoryImportError(ValidationError):
    """The file was refused: nothing was written. ``items`` lists every problem found."""

    def __init__(self, items: list[ItemError]) -> None:
        self.items = items
        super().__init__(
            {
                "file": [
                    _("The file was not imported: %(count)s problems were found. Nothing was changed.") % {"count": len(items)}
                ]
            }
        )


@dataclass
class ImportSummary:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {"created": dict(self.created), "updated": dict(self.updated), "unchanged": dict(self.unchanged)}


def parse_file(raw: bytes) -> dict[str, Any]:
    """The JSON object of an uploaded file (checked by content, not by name); ValidationError on ``file``."""
    if len(raw) > MAX_BYTES:
        raise ValidationError({"file": _("The file is too large (at most %(mb)s MB).") % {"mb": MAX_BYTES // (1024 * 1024)}})
    try:
        payload = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationError({"file": _("The file is not JSON. Upload the .json file of an HSDS directory.")}) from None
    if not isinstance(payload, dict):
        raise ValidationError(
            {"file": _("The file must hold one JSON object with organizations, services, locations and contacts.")}
        )
    return payload


class _Reader:
    """Checks the items of one file, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[ItemError] = []

    def error(self, item: str, item_id: str, field_name: str, message: str) -> None:
        self.errors.append(ItemError(item=item, id=item_id, field=field_name, message=message))

    def text(self, where: str, item_id: str, data: dict, name: str, max_length: int, *, required: bool = False) -> str:
        value = data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.error(where, item_id, name, _("Must be text."))
            return ""
        value = value.strip()
        if required and not value:
            self.error(where, item_id, name, _("This field is required."))
        elif len(value) > max_length:
            self.error(where, item_id, name, _("At most %(n)s characters.") % {"n": max_length})
            return value[:max_length]
        return value

    def email(self, where: str, item_id: str, data: dict) -> str:
        value = self.text(where, item_id, data, "email", 254)
        if value:
            try:
                validate_email(value)
            except ValidationError:
                self.error(where, item_id, "email", _("Enter a valid email address."))
        return value

    def url(self, where: str, item_id: str, data: dict, name: str) -> str:
        value = self.text(where, item_id, data, name, 200)
        if value:
            try:
                URLValidator()(value)
            except ValidationError:
                self.error(where, item_id, name, _("Enter a valid web address (starting with https://)."))
        return value

    def phone(self, where: str, item_id: str, data: dict) -> str:
        phones = data.get("phones") or []
        if not isinstance(phones, list) or any(not isinstance(p, dict) for p in phones):
            self.error(where, item_id, "phones", _("Must be a list of phone objects."))
            return ""
        for phone in phones:
            number = phone.get("number")
            if isinstance(number, str) and number.strip():
                number = number.strip()
                if len(number) > 32:
                    self.error(where, item_id, "phones", _("A phone number has at most 32 characters."))
                    return ""
                return number
        return ""

    def ref(self, where: str, item_id: str, data: dict, name: str, known: dict[str, Any], *, required: bool) -> Any:
        value = data.get(name)
        if value in (None, ""):
            if required:
                self.error(where, item_id, name, _("This field is required."))
            return None
        if not isinstance(value, str) or value not in known:
            self.error(where, item_id, name, _("No item of the file has this id."))
            return None
        return known[value]


@dataclass
class _Item:
    where: str
    id: str
    values: dict[str, Any]
    organisation_id: str = ""
    service_id: str | None = None
    services: list[str] = field(default_factory=list)


def _items(reader: _Reader, payload: dict, table: str) -> list[tuple[str, str, dict]]:
    rows = payload.get(table, [])
    if rows is None:
        return []
    if not isinstance(rows, list):
        reader.error(table, "", table, _("Must be a list."))
        return []
    out = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where = f"{table}[{index}]"
        if not isinstance(row, dict):
            reader.error(where, "", "", _("Must be an object."))
            continue
        item_id = row.get("id")
        if not isinstance(item_id, str | int) or str(item_id).strip() == "":
            reader.error(where, "", "id", _("Every item needs an id."))
            continue
        item_id = str(item_id).strip()
        if item_id in seen:
            reader.error(where, item_id, "id", _("Another item of %(table)s has this id.") % {"table": table})
            continue
        seen.add(item_id)
        out.append((where, item_id, row))
    return out


def read_payload(payload: dict[str, Any]) -> dict[str, list[_Item]]:
    """Check every item of the file; raises DirectoryImportError listing every problem."""
    reader = _Reader()
    total = sum(len(payload.get(t) or []) for t in TABLES if isinstance(payload.get(t), list))
    if total > MAX_ITEMS:
        raise DirectoryImportError([ItemError("", "", _("At most %(n)s items in one file.") % {"n": MAX_ITEMS})])
    if not any(payload.get(t) for t in TABLES):
        raise DirectoryImportError([ItemError("organizations", "organizations", _("The file has no organizations."))])

    organisations: dict[str, _Item] = {}
    names: set[str] = set()
    for where, item_id, row in _items(reader, payload, "organizations"):
        name = reader.text(where, item_id, row, "name", 200, required=True)
        if name and name.lower() in names:
            reader.error(where, item_id, "name", _("Another organization of the file has this name."))
        names.add(name.lower())
        organisations[item_id] = _Item(
            where,
            item_id,
            {
                "name": name,
                "description": reader.text(where, item_id, row, "description", 10_000),
                "email": reader.email(where, item_id, row),
                "website": reader.url(where, item_id, row, "website"),
                "phone": reader.phone(where, item_id, row),
                "is_active": True,
            },
        )

    services: dict[str, _Item] = {}
    service_names: set[tuple[str, str]] = set()
    for where, item_id, row in _items(reader, payload, "services"):
        organisation = reader.ref(where, item_id, row, "organization_id", organisations, required=True)
        name = reader.text(where, item_id, row, "name", 200, required=True)
        status = row.get("status") or "active"
        if not isinstance(status, str) or status.strip().lower() not in SERVICE_STATUSES:
            reader.error(where, item_id, "status", _("Must be active, inactive, defunct or temporarily closed."))
            status = "active"
        if organisation is not None and name:
            key = (organisation.id, name.lower())
            if key in service_names:
                reader.error(where, item_id, "name", _("Another service of this organization has this name."))
            service_names.add(key)
        services[item_id] = _Item(
            where,
            item_id,
            {
                "name": name,
                "description": reader.text(where, item_id, row, "description", 10_000),
                "email": reader.email(where, item_id, row),
                "url": reader.url(where, item_id, row, "url"),
                "phone": reader.phone(where, item_id, row),
                "eligibility": reader.text(where, item_id, row, "eligibility_description", 10_000),
                "is_active": SERVICE_STATUSES[status.strip().lower()],
            },
            organisation_id=organisation.id if organisation else "",
        )

    locations: dict[str, _Item] = {}
    for where, item_id, row in _items(reader, payload, "locations"):
        organisation = reader.ref(where, item_id, row, "organization_id", organisations, required=True)
        addresses = row.get("addresses") or []
        if not isinstance(addresses, list) or any(not isinstance(a, dict) for a in addresses):
            reader.error(where, item_id, "addresses", _("Must be a list of address objects."))
            addresses = []
        physical = [a for a in addresses if a.get("address_type") in (None, "", "physical")]
        address = (physical or addresses or [{}])[0]
        values = {
            "address_1": reader.text(where, item_id, address, "address_1", 200),
            "city": reader.text(where, item_id, address, "city", 100),
            "state_province": reader.text(where, item_id, address, "state_province", 60),
            "postal_code": reader.text(where, item_id, address, "postal_code", 12),
            "country": (reader.text(where, item_id, address, "country", 2) or "CA").upper(),
        }
        name = reader.text(where, item_id, row, "name", 200) or values["address_1"]
        if not name:
            reader.error(where, item_id, "name", _("A location needs a name or a street address."))
        locations[item_id] = _Item(
            where, item_id, {"name": name, **values, "is_active": True}, organisation_id=organisation.id if organisation else ""
        )

    contacts: dict[str, _Item] = {}
    for where, item_id, row in _items(reader, payload, "contacts"):
        service = reader.ref(where, item_id, row, "service_id", services, required=False)
        organisation = reader.ref(where, item_id, row, "organization_id", organisations, required=service is None)
        if service is not None and organisation is not None and service.organisation_id != organisation.id:
            reader.error(where, item_id, "service_id", _("The service belongs to another organization."))
        organisation_id = organisation.id if organisation else (service.organisation_id if service else "")
        name = reader.text(where, item_id, row, "name", 200) or reader.text(where, item_id, row, "title", 120)
        if not name:
            reader.error(where, item_id, "name", _("A contact needs a name or a title."))
        contacts[item_id] = _Item(
            where,
            item_id,
            {
                "name": name,
                "title": reader.text(where, item_id, row, "title", 120),
                "email": reader.email(where, item_id, row),
                "phone": reader.phone(where, item_id, row),
                "is_active": True,
            },
            organisation_id=organisation_id,
            service_id=service.id if service else None,
        )

    for where, item_id, row in _items(reader, payload, "service_at_location"):
        service = reader.ref(where, item_id, row, "service_id", services, required=True)
        location = reader.ref(where, item_id, row, "location_id", locations, required=True)
        if service is not None and location is not None:
            if service.organisation_id != location.organisation_id:
                reader.error(where, item_id, "location_id", _("The location belongs to another organization than the service."))
            else:
                location.services.append(service.id)

    if reader.errors:
        raise DirectoryImportError(reader.errors)
    return {
        "organizations": list(organisations.values()),
        "services": list(services.values()),
        "locations": list(locations.values()),
        "contacts": list(contacts.values()),
    }


def _upsert(summary: ImportSummary, table: str, existing, create, update, values: dict[str, Any]):
    if existing is None:
        summary.created[table] += 1
        return create(values)
    changed = {name: value for name, value in values.items() if name != "services" and getattr(existing, name) != value}
    if "services" in values:
        current = {s.pk for s in existing.services.all()}
        wanted = current | {s.pk for s in values["services"]}
        if wanted != current:
            changed["services"] = [*existing.services.all(), *[s for s in values["services"] if s.pk not in current]]
    if not changed:
        summary.unchanged[table] += 1
        return existing
    summary.updated[table] += 1
    return update(existing, changed)


@transaction.atomic
def import_directory(agency: Agency, actor, payload: dict[str, Any]) -> ImportSummary:
    """Load an HSDS file into the directory (see the module's docstring); all-or-nothing."""
    items = read_payload(payload)
    summary = ImportSummary()
    errors: list[ItemError] = []
    orgs: dict[str, DirectoryOrganisation] = {}
    svcs: dict[str, DirectoryService] = {}

    def upsert(item: _Item, table: str, found, create, update, values: dict[str, Any]):
        try:
            return _upsert(summary, table, found, create, update, values)
        except ValidationError as error:
            for name, messages in (error.message_dict if hasattr(error, "error_dict") else {"": error.messages}).items():
                errors.extend(ItemError(item.where, name, message, item.id) for message in messages)
            return None

    existing_orgs = {o.name.lower(): o for o in DirectoryOrganisation.objects.for_agency(agency)}
    for item in items["organizations"]:
        row = upsert(
            item,
            "organizations",
            existing_orgs.get(item.values["name"].lower()),
            lambda v: directory.create_organisation(agency, actor, v),
            lambda o, v: directory.update_organisation(o, actor, v),
            item.values,
        )
        if row is not None:
            orgs[item.id] = row

    def found_in(model, organisation: DirectoryOrganisation, name: str):
        return model.objects.for_agency(agency).filter(organisation=organisation, name__iexact=name).first()

    for item in items["services"]:
        organisation = orgs.get(item.organisation_id)
        if organisation is None:
            continue
        row = upsert(
            item,
            "services",
            found_in(DirectoryService, organisation, item.values["name"]),
            lambda v, organisation=organisation: directory.create_service(organisation, actor, v),
            lambda s, v: directory.update_service(s, actor, v),
            item.values,
        )
        if row is not None:
            svcs[item.id] = row

    for item in items["locations"]:
        organisation = orgs.get(item.organisation_id)
        if organisation is None:
            continue
        values = {**item.values, "services": [svcs[s] for s in item.services if s in svcs]}
        upsert(
            item,
            "locations",
            found_in(DirectoryLocation, organisation, values["name"]),
            lambda v, organisation=organisation: directory.create_location(organisation, actor, v),
            lambda loc, v: directory.update_location(loc, actor, v),
            values,
        )

    for item in items["contacts"]:
        organisation = orgs.get(item.organisation_id)
        if organisation is None:
            continue
        values = {**item.values, "service": svcs.get(item.service_id) if item.service_id else None}
        upsert(
            item,
            "contacts",
            found_in(DirectoryContact, organisation, values["name"]),
            lambda v, organisation=organisation: directory.create_contact(organisation, actor, v),
            lambda c, v: directory.update_contact(c, actor, v),
            values,
        )

    if errors:
        raise DirectoryImportError(errors)  # the transaction rolls back: nothing is written
    return summary
