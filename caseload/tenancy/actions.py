"""Every change to agencies, programs, funders, roles and staff. One transaction each, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import slugify
from django.utils.translation import gettext as _

from caseload.audit.actions import record_change, record_create, record_delete, snapshot
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import ADMIN_PERMISSION, SEEDED_ROLES
from caseload.tenancy.scoping import agency_scope


def _apply(instance, data: dict[str, Any]) -> None:
    m2m = {}
    for name, value in data.items():
        field = instance._meta.get_field(name)
        if field.many_to_many:
            m2m[name] = _same_agency(instance, field, value)
        else:
            setattr(instance, name, value)
    instance.full_clean()
    instance.save()
    for name, value in m2m.items():
        getattr(instance, name).set(value)


def _same_agency(instance, field, values) -> list:
    """The related rows, all of the instance's agency: a link across agencies is refused."""
    pks = {value.pk if hasattr(value, "pk") else value for value in values}
    related = list(field.related_model.objects.for_agency(instance.agency).filter(pk__in=pks))
    if len(related) != len(pks):
        raise ValidationError({field.name: _("Choose only from this agency's %(things)s.") % {"things": field.related_model._meta.verbose_name_plural}})
    return related


@transaction.atomic
def create_agency(*, actor, name: str, slug: str = "", time_zone: str = "America/Toronto", languages: list[str] | None = None, require_two_factor: bool = False) -> Agency:
    agency = Agency(name=name, slug=slug or slugify(name)[:60], time_zone=time_zone, languages=languages or ["en", "fr"], require_two_factor=require_two_factor)
    agency.full_clean()
    agency.save()
    with agency_scope(agency):
        record_create(agency=agency, actor=actor, obj=agency)
        for role_name, permissions in SEEDED_ROLES.items():
            Role.objects.create(agency=agency, name=role_name, permissions=sorted(permissions), is_seeded=True)
        # Imported here: casework builds on tenancy, not the other way round.
        from caseload.casework.services import seed_service_types

        seed_service_types(agency)
        from caseload.documents.types import seed_document_types
        from caseload.messaging.templates import seed_templates

        seed_document_types(agency)
        seed_templates(agency)
    return agency


@transaction.atomic
def update_agency(*, agency: Agency, actor, data: dict[str, Any]) -> Agency:
    before = snapshot(agency, data.keys())
    _apply(agency, data)
    record_change(agency=agency, actor=actor, obj=agency, before=before)
    return agency


def _sorted_permissions(model, data: dict[str, Any]) -> dict[str, Any]:
    # Kept sorted and unique, so that the audit diff shows only real changes.
    if model is Role and "permissions" in data:
        return {**data, "permissions": sorted(set(data["permissions"]))}
    return data


@transaction.atomic
def create_object(model: type[Program] | type[Funder] | type[Role], *, agency: Agency, actor, data: dict[str, Any]):
    """Create a program, funder or role of the agency."""
    instance = model(agency=agency)
    _apply(instance, _sorted_permissions(model, data))
    record_create(agency=agency, actor=actor, obj=instance)
    return instance


@transaction.atomic
def update_object(instance: Program | Funder | Role | Membership, *, actor, data: dict[str, Any]):
    """Change a program, funder, role or membership, keeping the rules on staff and roles.

    Nobody deactivates themselves or takes away their own right to manage staff, and the
    agency always keeps an active administrator (a member whose role may manage staff).
    """
    data = _sorted_permissions(type(instance), data)
    if isinstance(instance, Membership):
        _check_own_membership(instance, actor, data)
    elif isinstance(instance, Role):
        _check_own_role(instance, actor, data)
    before = snapshot(instance, data.keys())
    _apply(instance, data)
    record_change(agency=instance.agency, actor=actor, obj=instance, before=before)
    if isinstance(instance, Membership | Role):
        field = "permissions" if isinstance(instance, Role) else "is_active" if data.get("is_active") is False else "role"
        _check_administrators_remain(instance.agency, field)
    return instance


@transaction.atomic
def delete_object(instance: Program | Funder | Role, *, actor) -> None:
    """Delete a program, funder or role; refused while staff depend on it."""
    if isinstance(instance, Program) and instance.members.exists():
        raise ValidationError(
            _("Staff members are assigned to this program. Take them off it first, or deactivate the program instead.")
        )
    if isinstance(instance, Role):
        if instance.is_seeded:
            raise ValidationError(_("This role comes with every agency; it can be changed but not deleted."))
        if instance.memberships.exists():
            raise ValidationError(_("Staff members hold this role. Give them another role first."))
    if isinstance(instance, Funder):
        # The programs it funded lose it: each of those is a change of the program too.
        for program in instance.programs.all():
            before = snapshot(program, ["funders"])
            program.funders.remove(instance)
            record_change(agency=program.agency, actor=actor, obj=program, before=before)
    record_delete(agency=instance.agency, actor=actor, obj=instance)
    try:
        instance.delete()
    except ProtectedError:
        raise ValidationError(_("It is still in use, so it cannot be deleted.")) from None


def active_administrators(agency: Agency):
    """Active staff whose role may manage staff: the people who can fix everything else."""
    admin_roles = [role.pk for role in Role.objects.for_agency(agency) if role.has(ADMIN_PERMISSION)]
    return Membership.objects.for_agency(agency).filter(role__in=admin_roles, is_active=True, user__is_active=True)


def _check_administrators_remain(agency: Agency, field: str) -> None:
    if not active_administrators(agency).exists():
        raise ValidationError({field: _("The agency must keep at least one active administrator (a role that may manage staff).")})


def _check_own_membership(membership: Membership, actor, data: dict[str, Any]) -> None:
    if membership.user_id != getattr(actor, "pk", None):
        return
    if data.get("is_active") is False and membership.is_active:
        raise ValidationError({"is_active": _("You cannot deactivate yourself.")})
    role = data.get("role")
    if role is not None and membership.role.has(ADMIN_PERMISSION) and not role.has(ADMIN_PERMISSION):
        raise ValidationError({"role": _("You cannot remove your own permission to manage staff.")})


def _check_own_role(role: Role, actor, data: dict[str, Any]) -> None:
    if "permissions" not in data or not role.has(ADMIN_PERMISSION) or ADMIN_PERMISSION in data["permissions"]:
        return
    if Membership.objects.for_agency(role.agency).filter(role=role, user_id=getattr(actor, "pk", None), is_active=True).exists():
        raise ValidationError({"permissions": _("You cannot remove your own permission to manage staff.")})


def deactivate_membership(membership: Membership, *, actor) -> Membership:
    return update_object(membership, actor=actor, data={"is_active": False})


@transaction.atomic
def set_program_staff(program: Program, membership: Membership, *, actor, assigned: bool) -> Membership:
    """Assign a staff member to a program or take them off it (recorded as a change of their programs)."""
    programs = set(membership.programs.values_list("pk", flat=True))
    programs = programs | {program.pk} if assigned else programs - {program.pk}
    return update_object(membership, actor=actor, data={"programs": sorted(programs)})


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
    membership.programs.set(_same_agency(membership, Membership._meta.get_field("programs"), programs))
    record_create(agency=agency, actor=actor, obj=membership)
    return membership


@transaction.atomic
def invite_staff_member(*, agency: Agency, actor, email: str, full_name: str, role: Role, programs=(), manager: Membership | None = None, title: str = "") -> Membership:
    """Add a staff member and email them an invitation to set their password.

    Someone who already has an account (staff of another agency) keeps their password and
    just gains the membership.
    """
    from caseload.accounts.actions import send_portal_invitation

    membership = add_staff_member(
        agency=agency, actor=actor, email=email, full_name=full_name, role=role, programs=programs, manager=manager, title=title
    )
    if not membership.user.has_usable_password():
        send_portal_invitation(user=membership.user, actor=actor, agency=agency)
    return membership
