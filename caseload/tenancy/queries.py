"""Reads of the agency administration pages."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from caseload.tenancy.models import Agency, Funder, Membership, Program, Role


def staff(agency: Agency, *, search: str = "", status: str = "") -> QuerySet[Membership]:
    """The agency's staff with what the staff list shows, in a fixed number of queries."""
    queryset = (
        Membership.objects.for_agency(agency)
        .select_related("user", "role", "manager__user")
        .prefetch_related(Prefetch("programs", queryset=Program.objects.for_agency(agency).order_by("name")))
    )
    if search:
        queryset = queryset.filter(Q(user__full_name__icontains=search) | Q(user__email__icontains=search) | Q(title__icontains=search))
    if status == "active":
        queryset = queryset.filter(is_active=True)
    elif status == "inactive":
        queryset = queryset.filter(is_active=False)
    return queryset


def programs(agency: Agency) -> QuerySet[Program]:
    return (
        Program.objects.for_agency(agency)
        .annotate(staff_count=Count("members", filter=Q(members__is_active=True), distinct=True))
        .prefetch_related(Prefetch("funders", queryset=Funder.objects.for_agency(agency).order_by("name")))
    )


def program_staff(program: Program) -> QuerySet[Membership]:
    return program.members.select_related("user", "role").order_by("user__full_name", "user__email")


def funders(agency: Agency) -> QuerySet[Funder]:
    return Funder.objects.for_agency(agency).annotate(program_count=Count("programs", distinct=True))


def roles(agency: Agency) -> QuerySet[Role]:
    return Role.objects.for_agency(agency).annotate(
        staff_count=Count("memberships", filter=Q(memberships__is_active=True), distinct=True)
    )
