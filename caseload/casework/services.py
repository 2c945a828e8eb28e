"""Supportive services, the agency's service types, and the grants services draw on.

Every change goes through these actions: one transaction each, audited (a service's
justification is redacted in the audit log, like a note's body). A service drawn on a grant
must fall inside the grant's period, and one that would take the grant beyond its budget needs
a manager: the actor holds ``casework.approve_overspend`` and says so (``approve_overspend``).
The grant row is locked before its spending is summed, so two services recorded at once cannot
both slip past the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import formats, numberformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from caseload.audit.actions import record_change, record_create, record_delete, snapshot
from caseload.casework.models import BatchAction, Grant, SupportiveService, SupportServiceType
from caseload.casework.records import agency_today, membership_of, soft_delete, supported_language, visible
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership

APPROVE_OVERSPEND = "casework.approve_overspend"

# The service types every agency starts with (it renames, deactivates and adds to them).
DEFAULT_SERVICE_TYPES = (
    gettext_noop("Transportation"),
    gettext_noop("Childcare"),
    gettext_noop("Work clothing"),
    gettext_noop("Tools and equipment"),
    gettext_noop("Exam and certification fees"),
    gettext_noop("Interpretation"),
    gettext_noop("Food"),
    gettext_noop("Housing support"),
    gettext_noop("Internet and phone"),
    gettext_noop("Other"),
)

SERVICE_FIELDS = ("service_type", "date", "amount", "vendor", "justification", "grant", "program", "session")
GRANT_FIELDS = ("name", "funder", "budget", "starts_on", "ends_on", "is_active", "notes")
ZERO = Decimal("0.00")


# --- Showing amounts ---------------------------------------------------------------------------


def money(amount: Decimal | None) -> str:
    """An amount in dollars as the current language writes it: ``$1,234.50`` or ``1 234,50 $``."""
    if amount is None:
        return ""
    number = numberformat.format(
        amount,
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=2,
        grouping=formats.get_format("NUMBER_GROUPING"),
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )
    if (translation.get_language() or "").startswith("fr"):
        return f"{number}\xa0$"
    if number.startswith("-"):
        return f"-${number[1:]}"
    return f"${number}"


# --- Service types -----------------------------------------------------------------------------


def seed_service_types(agency: Agency) -> list[SupportServiceType]:
    """Give the agency the default service types it does not have yet (by name), in its first language."""
    with translation.override(supported_language(*(agency.languages or []))):
        names = [_(name) for name in DEFAULT_SERVICE_TYPES]
    existing = {name.lower() for name in SupportServiceType.objects.for_agency(agency).values_list("name", flat=True)}
    missing = [SupportServiceType(agency=agency, name=name) for name in names if name.lower() not in existing]
    return SupportServiceType.objects.bulk_create(missing)


def _check_type_name(agency: Agency, name: str, instance: SupportServiceType | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ValidationError(_("Enter a name."), code="required")})
    others = SupportServiceType.objects.for_agency(agency).filter(name__iexact=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError({"name": ValidationError(_("A service type with this name already exists."), code="unique")})
    return name


@transaction.atomic
def create_service_type(agency: Agency, actor, data: dict[str, Any]) -> SupportServiceType:
    service_type = SupportServiceType(
        agency=agency, name=_check_type_name(agency, data.get("name", "")), is_active=data.get("is_active", True)
    )
    service_type.full_clean()
    service_type.save()
    record_create(agency=agency, actor=actor, obj=service_type)
    return service_type


@transaction.atomic
def update_service_type(service_type: SupportServiceType, actor, data: dict[str, Any]) -> SupportServiceType:
    """Rename, deactivate or reactivate a service type (services already recorded keep it)."""
    agency = service_type.agency
    before = snapshot(service_type, ["name", "is_active"])
    if "name" in data:
        service_type.name = _check_type_name(agency, data["name"], service_type)
    if "is_active" in data:
        service_type.is_active = bool(data["is_active"])
    service_type.full_clean()
    service_type.save()
    record_change(agency=agency, actor=actor, obj=service_type, before=before)
    return service_type


def service_type_in_use(service_type: SupportServiceType) -> bool:
    # Soft-deleted services count: they still point at the type, for the audit trail.
    return SupportiveService.objects.for_agency(service_type.agency).filter(service_type=service_type).exists()


@transaction.atomic
def remove_service_type(service_type: SupportServiceType, actor) -> bool:
    """Delete a service type no service uses (True); one in use is deactivated instead (False)."""
    if service_type_in_use(service_type):
        if service_type.is_active:
            update_service_type(service_type, actor, {"is_active": False})
        return False
    record_delete(agency=service_type.agency, actor=actor, obj=service_type)
    service_type.delete()
    return True


def service_type_usage(agency: Agency) -> dict[int, int]:
    """``{service type id: number of services recorded with it}`` (deleted ones aside), one query."""
    rows = (
        SupportiveService.objects.for_agency(agency)
        .filter(deleted_at__isnull=True)
        .values("service_type")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return {row["service_type"]: row["count"] for row in rows}


# --- Grants ------------------------------------------------------------------------------------


def _spent_sum() -> Coalesce:
    return Coalesce(
        Sum("services__amount", filter=Q(services__deleted_at__isnull=True)),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def grants_with_spending(agency: Agency) -> QuerySet[Grant]:
    """The agency's grants, each annotated with ``spent`` (its services' amounts, deleted ones aside)."""
    return Grant.objects.for_agency(agency).select_related("funder").annotate(spent=_spent_sum())


def spent_by_grant(agency: Agency) -> dict[int, Decimal]:
    """``{grant id: amount spent}`` for every grant of the agency that has spending, in one query."""
    rows = (
        SupportiveService.objects.for_agency(agency)
        .filter(deleted_at__isnull=True, grant__isnull=False)
        .values("grant")
        .annotate(spent=Sum("amount"))
        .order_by()
    )
    return {row["grant"]: row["spent"] or ZERO for row in rows}


def total_amount(services: QuerySet[SupportiveService]) -> Decimal | None:
    """The sum of the services' amounts (None when none has an amount)."""
    return services.aggregate(total=Sum("amount"))["total"]


def _spent_on(grant: Grant, *, excluding: int | None = None) -> Decimal:
    services = SupportiveService.objects.for_agency(grant.agency).filter(grant=grant, deleted_at__isnull=True)
    if excluding is not None:
        services = services.exclude(pk=excluding)
    return total_amount(services) or ZERO


@dataclass(frozen=True)
class GrantTotals:
    budget: Decimal
    spent: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.budget - self.spent

    @property
    def overspent(self) -> bool:
        return self.spent > self.budget

    @property
    def spent_percent(self) -> int:
        """How much of the budget is spent, in percent: above 100 after an approved overspend
        (a grant with no budget is at 100 once anything is spent)."""
        if self.budget <= 0:
            return 100 if self.spent > 0 else 0
        return int(self.spent * 100 / self.budget)

    @property
    def percent(self) -> int:
        """``spent_percent`` kept within 0 to 100, for a progress bar."""
        return min(100, self.spent_percent)


def grant_totals(grant: Grant) -> GrantTotals:
    """Budget and spending of one grant (one aggregate query, or none when ``grant.spent`` is annotated)."""
    spent = getattr(grant, "spent", None)
    if spent is None:
        spent = _spent_on(grant)
    return GrantTotals(budget=grant.budget, spent=spent)


def _check_grant(agency: Agency, grant: Grant, data: dict[str, Any]) -> None:
    errors: dict[str, str] = {}
    funder = data.get("funder")
    if funder is not None and funder.agency_id != agency.pk:
        errors["funder"] = _("Choose one of your agency's funders.")
    name = (grant.name or "").strip()
    others = Grant.objects.for_agency(agency).filter(name__iexact=name)
    if grant.pk:
        others = others.exclude(pk=grant.pk)
    if name and others.exists():
        errors["name"] = _("A grant with this name already exists.")
    if grant.starts_on and grant.ends_on and grant.ends_on < grant.starts_on:
        errors["ends_on"] = _("The grant cannot end before it starts.")
    if errors:
        raise ValidationError(errors)


def _apply(instance: Any, data: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in data:
            value = data[name]
            if isinstance(value, str):
                value = value.strip()
            setattr(instance, name, value)


@transaction.atomic
def create_grant(agency: Agency, actor, data: dict[str, Any]) -> Grant:
    """A grant of a funder of the agency: name, budget, period (starts_on to ends_on)."""
    grant = Grant(agency=agency)
    _apply(grant, data, GRANT_FIELDS)
    _check_grant(agency, grant, data)
    grant.full_clean()
    grant.save()
    record_create(agency=agency, actor=actor, obj=grant)
    return grant


@transaction.atomic
def update_grant(grant: Grant, actor, data: dict[str, Any]) -> Grant:
    """Change a grant. Its budget cannot go below what is already spent, nor its period leave out
    services already drawn on it."""
    agency = grant.agency
    grant = Grant.objects.for_agency(agency).select_for_update().get(pk=grant.pk)
    grant.agency = agency
    before = snapshot(grant, [name for name in GRANT_FIELDS if name in data])
    _apply(grant, data, GRANT_FIELDS)
    _check_grant(agency, grant, data)
    grant.full_clean()
    services = SupportiveService.objects.for_agency(agency).filter(grant=grant, deleted_at__isnull=True)
    if "budget" in data:
        spent = _spent_on(grant)
        if grant.budget < spent:
            raise ValidationError(
                {
                    "budget": _("Services already drawn on this grant add up to %(spent)s: the budget cannot be lower.")
                    % {"spent": money(spent)}
                }
            )
    if "starts_on" in data and services.filter(date__lt=grant.starts_on).exists():
        raise ValidationError({"starts_on": _("Services drawn on this grant are dated before this day.")})
    if "ends_on" in data and services.filter(date__gt=grant.ends_on).exists():
        raise ValidationError({"ends_on": _("Services drawn on this grant are dated after this day.")})
    grant.save()
    record_change(agency=agency, actor=actor, obj=grant, before=before)
    return grant


# --- Services ----------------------------------------------------------------------------------


def may_approve_overspend(agency: Agency, actor) -> bool:
    membership = membership_of(agency, actor)
    return membership is not None and membership.has_perm(APPROVE_OVERSPEND)


def services_of(client: Client, membership: Membership | None) -> QuerySet[SupportiveService]:
    """The client's services the member may see (deleted ones never), newest first."""
    return visible(SupportiveService.objects.for_agency(client.agency).filter(client=client), membership).select_related(
        "service_type", "grant", "program", "author__user"
    )


def _check_client(client: Client) -> None:
    if client.status == Client.Status.MERGED:
        raise ValidationError(_("This profile was merged into another one: its records are read-only."), code="merged")


def _attended(agency: Agency, service: SupportiveService) -> bool:
    """A service given in a group session goes to one of its named attendees (or the one-on-one session's client)."""
    session = service.session
    if session.agency_id != agency.pk or session.deleted_at is not None:
        return False
    if session.client_id is not None:
        return session.client_id == service.client_id
    return session.attendees.filter(client_id=service.client_id).exists()


def _check_links(agency: Agency, service: SupportiveService, previous: dict[str, Any] | None) -> None:
    """Every row the service points at belongs to the agency, and new choices are still offered."""
    errors: dict[str, str] = {}
    if service.service_type_id is None:
        errors["service_type"] = _("Choose a service.")
    elif service.service_type.agency_id != agency.pk:
        errors["service_type"] = _("Choose one of your agency's service types.")
    elif not service.service_type.is_active and (previous is None or previous["service_type"] != service.service_type_id):
        errors["service_type"] = _("Your agency no longer offers this service.")
    if service.program_id is not None and service.program.agency_id != agency.pk:
        errors["program"] = _("Choose one of your agency's programs.")
    if service.session_id is not None and not _attended(agency, service):
        errors["session"] = _("The client is not an attendee of this group session.")
    if service.grant_id is not None:
        # The grant as it is now, locked for the transaction: a second service on the same grant
        # waits here until this one is committed, so both cannot pass the budget check below.
        grant = Grant.objects.for_agency(agency).select_for_update().filter(pk=service.grant_id).first()
        changed = previous is None or previous["grant"] != service.grant_id
        if grant is None:
            errors["grant"] = _("Choose one of your agency's grants.")
        elif changed and not agency.grants_management:
            errors["grant"] = _("Grants management is turned off for your agency.")
        elif changed and not grant.is_active:
            errors["grant"] = _("This grant is no longer active.")
        elif service.date and not (grant.starts_on <= service.date <= grant.ends_on):
            errors["date"] = _("The grant runs from %(start)s to %(end)s: the service date must fall within it.") % {
                "start": formats.date_format(grant.starts_on, "SHORT_DATE_FORMAT"),
                "end": formats.date_format(grant.ends_on, "SHORT_DATE_FORMAT"),
            }
        elif service.amount is None:
            errors["amount"] = _("Enter the amount drawn on the grant.")
        else:
            service.grant = grant
    if errors:
        raise ValidationError(errors)


def _check_budget(agency: Agency, service: SupportiveService, actor, approve: bool, previous: dict[str, Any] | None) -> None:
    """Refuse an overspend unless a manager approves it; records who approved."""
    if service.grant_id is None or service.amount is None:
        service.overspend_approved_by = None
        return
    grant = service.grant  # locked by _check_links
    spent = _spent_on(grant, excluding=service.pk)
    if spent + service.amount <= grant.budget:
        service.overspend_approved_by = None
        return
    already_approved = (
        previous is not None
        and previous["overspend_approved_by"] is not None
        and previous["grant"] == grant.pk
        and previous["amount"] is not None
        and service.amount <= previous["amount"]
    )
    if already_approved:
        return
    may_approve = may_approve_overspend(agency, actor)
    if may_approve and approve:
        service.overspend_approved_by = actor
        return
    remaining = max(grant.budget - spent, ZERO)
    words = {"remaining": money(remaining), "grant": grant.name}
    if may_approve:
        message = _("%(grant)s has %(remaining)s left. To spend more, approve the overspend.") % words
    else:
        message = _("%(grant)s has %(remaining)s left. Spending more needs a manager's approval.") % words
    raise ValidationError({"amount": ValidationError(message, code="overspend")})


def _save_service(service: SupportiveService, actor, data: dict[str, Any], previous: dict[str, Any] | None) -> None:
    agency = service.agency
    _apply(service, data, SERVICE_FIELDS)
    if service.date is None or (previous is None and "date" not in data):
        service.date = agency_today(agency)
    service.vendor = service.vendor or ""
    service.justification = service.justification or ""
    _check_links(agency, service, previous)
    service.full_clean(exclude=["client", "author", "batch", "updated_by", "deleted_by", "overspend_approved_by"])
    _check_budget(agency, service, actor, bool(data.get("approve_overspend")), previous)
    service.save()


@transaction.atomic
def record_service(client: Client, actor, data: dict[str, Any], *, batch: BatchAction | None = None) -> SupportiveService:
    """Record a supportive service given to the client.

    ``data``: service_type, date (default today), amount, vendor, justification, grant, program,
    approve_overspend (a manager's approval of spending beyond the grant's budget), session (a group session
    the client attended: childcare, transportation, interpretation given for it).
    """
    _check_client(client)
    agency = client.agency
    service = SupportiveService(agency=agency, client=client, author=membership_of(agency, actor), batch=batch)
    _save_service(service, actor, data, previous=None)
    record_create(agency=agency, actor=actor, obj=service, client_id=client.pk)
    return service


@transaction.atomic
def update_service(service: SupportiveService, actor, data: dict[str, Any]) -> SupportiveService:
    """Change a service (``data`` as for ``record_service``, any subset of it)."""
    _check_client(service.client)
    agency = service.agency
    tracked = [*SERVICE_FIELDS, "overspend_approved_by"]
    before = snapshot(service, tracked)
    previous = {
        "service_type": service.service_type_id,
        "grant": service.grant_id,
        "amount": service.amount,
        "overspend_approved_by": service.overspend_approved_by_id,
    }
    _save_service(service, actor, data, previous)
    service.updated_at = timezone.now()
    service.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    service.save(update_fields=["updated_at", "updated_by"])
    record_change(agency=agency, actor=actor, obj=service, before=before, client_id=service.client_id)
    return service


@transaction.atomic
def delete_service(service: SupportiveService, actor) -> None:
    """Soft-delete a service: it leaves every list and the grant's spending; the audit log keeps it."""
    _check_client(service.client)
    soft_delete(service, actor, agency=service.agency, client_id=service.client_id)
