"""Every change to agencies, programs, funders, roles and staff. One transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from caseload.audit.actions import record_change, record_create, record_delete, snapshot
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import SEEDED_ROLES
from caseload.tenancy.scoping import agency_scope


def _apply(instance, data: dict[str, Any]) -> None:
    m2m = {}
    for name, value in data.items():
        if instance._meta.get_field(name).many_to_many:
            m2m[name] = value
        else:
            setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    for name, value in m2m.items():
        getattr(instance, name).set(value)


@transaction.atomic
def create_agency(*, actor, name: str, slug: str = "", time_zone: str = "America/Toronto", languages: list[str] | None = None, require_two_factor: bool = False) -> Agency:
    agency = Agency(name=name, slug=slug or slugify(name)[:60], time_zone=time_zone, languages=languages or ["en", "fr"], require_two_factor=require_two_factor)
    agency.full_clean()
    agency.save()
    with agency_scope(agency):
        record_create(agency=agency, actor=actor, obj=agency)
        for role_name, permissions in SEEDED_ROLES.items():
            Role.objects.create(agency=agency, name=role_name, permissions=sorted(permissions), is_seeded=True)
    return agency


@transaction.atomic
def update_agency(*, agency: Agency, actor, data: dict[str, Any]) -> Agency:
    before = snapshot(agency, data.keys())
    _apply(agency, data)
    record_change(agency=agency, actor=actor, obj=agency, before=before)
    return agency


@transaction.atomic
def create_object(model: type[Program] | type[Funder] | type[Role], *, agency: Agency, actor, data: dict[str, Any]):
    """Create a program, funder or role of the agency."""
    instance = model(agency=agency)
    _apply(instance, data)
    record_create(agency=agency, actor=actor, obj=instance)
    return instance


@transaction.atomic
def update_object(instance: Program | Funder | Role | Membership, *, actor, data: dict[str, Any]):
    before = snapshot(instance, data.keys())
    _apply(instance, data)
    record_change(agency=instance.agency, actor=actor, obj=instance, before=before)
    return instance


@transaction.atomic
def delete_object(instance: Program | Funder | Role, *, actor) -> None:
    record_delete(agency=instance.agency, actor=actor, obj=instance)
    instance.delete()


@transaction.atomic
def add_staff_member(*, agency: Agency, actor, email: str, full_name: str, role: Role, programs=(), manager: Membership | None = None, title: str = "", password: str | None = None) -> Membership:
    """Add a staff member to the agency, creating their user account if it does not exist yet."""
    from caseload.accounts.models import User

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
        record_create(agency=agency, actor=actor, obj=user)
    membership = Membership(agency=agency, user=user, role=role, manager=manager, title=title)
    membership.full_clean()
    membership.save()
    membership.programs.set(programs)
    record_create(agency=agency, actor=actor, obj=membership)
    return membership
