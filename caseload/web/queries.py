"""Reads for the dashboard, inside the member's agency: the counts in one query, the programs in another."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Agency, Membership, Program


@dataclass(frozen=True)
class DashboardSummary:
    active_programs: int
    active_staff: int
    queued_messages: int | None  # None when the member may not see the outbox
    my_programs: list[str]


def _count(queryset: QuerySet) -> Coalesce:
    """A scalar subquery counting the rows of an agency-filtered queryset (0 when there are none)."""
    counted = queryset.order_by().values("agency").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def dashboard_summary(membership: Membership, *, can_see_outbox: bool) -> DashboardSummary:
    agency = membership.agency
    counts = {
        "active_programs": _count(Program.objects.for_agency(agency).filter(is_active=True)),
        "active_staff": _count(Membership.objects.for_agency(agency).filter(is_active=True)),
    }
    if can_see_outbox:
        counts["queued_messages"] = _count(
            OutboundMessage.objects.for_agency(agency).filter(status=OutboundMessage.Status.QUEUED)
        )
    row = Agency.objects.filter(pk=agency.pk).values(**counts).get()
    return DashboardSummary(
        active_programs=row["active_programs"],
        active_staff=row["active_staff"],
        queued_messages=row.get("queued_messages"),
        my_programs=list(membership.programs.filter(is_active=True).order_by("name").values_list("name", flat=True)),
    )
