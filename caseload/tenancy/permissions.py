"""Who may do what: a role's permission codes, checked in the agency of the object."""

from __future__ import annotations

import rules

from caseload.tenancy.models import Agency, Membership
from caseload.tenancy.roles import PERMISSIONS


def membership_in(user, agency: Agency | None) -> Membership | None:
    if agency is None or not user.is_authenticated:
        return None
    from caseload.tenancy.middleware import active_memberships

    for membership in active_memberships(user):
        if membership.agency_id == agency.pk:
            return membership
    return None


def agency_of(obj) -> Agency | None:
    if isinstance(obj, Agency):
        return obj
    return getattr(obj, "agency", None)


def has_agency_perm(code: str) -> rules.Predicate:
    @rules.predicate(name=f"has_agency_perm:{code}")
    def predicate(user, obj=None) -> bool:
        membership = membership_in(user, agency_of(obj))
        return membership is not None and membership.has_perm(code)

    return predicate


for _code in PERMISSIONS:
    rules.add_perm(_code, has_agency_perm(_code))


def agency_perms(membership: Membership | None) -> frozenset[str]:
    if membership is None or not membership.is_active:
        return frozenset()
    return frozenset(membership.role.permissions)
