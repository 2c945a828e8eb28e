"""Who sees which sessions and service records: the programs rule and the private rule, in one place.

Staff see the sessions and service records of the programs they belong to; those holding
``delivery.all_programs`` (managers, administrators, auditors) see every program's. A record
marked private is seen by its author and the author's manager only, whatever the program —
in pages, the history feed, the dashboard, exports and the API alike. Every read of sessions
and records goes through ``sessions_for`` / ``records_for``; a query that skips them is a leak.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from caseload.casework.records import private_rule
from caseload.delivery.models import ServiceRecord, Session
from caseload.tenancy.models import Agency, Membership

ALL_PROGRAMS = "delivery.all_programs"


def sees_all_programs(membership: Membership | None) -> bool:
    return membership is not None and membership.has_perm(ALL_PROGRAMS)


def program_ids(membership: Membership | None) -> list[int]:
    """The programs ``membership`` belongs to (cached on the membership for the request)."""
    if membership is None:
        return []
    cached = getattr(membership, "_delivery_program_ids", None)
    if cached is None:
        cached = membership._delivery_program_ids = list(membership.programs.values_list("pk", flat=True))
    return cached


def programs_of(membership: Membership) -> models.QuerySet:
    """The member's programs as a subquery: the rule costs no query of its own."""
    return Membership.programs.through.objects.filter(membership_id=membership.pk).values("program_id")


def _program_rule(membership: Membership | None, prefix: str = "") -> Q:
    if sees_all_programs(membership):
        return Q()
    if membership is None:
        return Q(pk__in=[])
    # One's own records and one's reports' stay visible after leaving their program.
    return (
        Q(**{f"{prefix}program__in": programs_of(membership)})
        | Q(**{f"{prefix}author": membership})
        | Q(**{f"{prefix}author__manager": membership})
    )


def sessions_for(agency: Agency, membership: Membership | None) -> models.QuerySet[Session]:
    """The agency's sessions ``membership`` may see: not deleted, of their programs (or all)."""
    rows = Session.objects.for_agency(agency).filter(deleted_at__isnull=True)
    if sees_all_programs(membership):
        return rows
    if membership is None:
        return rows.none()
    return rows.filter(Q(program__in=programs_of(membership)) | Q(staff=membership) | Q(created_by=membership))


def restrict_records(rows: models.QuerySet[ServiceRecord], membership: Membership | None) -> models.QuerySet[ServiceRecord]:
    """The service records of ``rows`` that ``membership`` may see: not deleted, the programs rule, the private rule."""
    rows = rows.filter(deleted_at__isnull=True, session__deleted_at__isnull=True)
    return rows.filter(_program_rule(membership)).filter(private_rule(membership))


def records_for(agency: Agency, membership: Membership | None) -> models.QuerySet[ServiceRecord]:
    """The agency's service records ``membership`` may see."""
    return restrict_records(ServiceRecord.objects.for_agency(agency), membership)


def may_see_record(record: ServiceRecord, membership: Membership | None) -> bool:
    """The two rules for one record already loaded."""
    if record.deleted_at is not None or membership is None:
        return False
    own = record.author_id is not None and (
        record.author_id == membership.pk or (record.author is not None and record.author.manager_id == membership.pk)
    )
    if record.is_private:
        return own
    return sees_all_programs(membership) or own or record.program_id in program_ids(membership)


def may_change_record(record: ServiceRecord, membership: Membership | None) -> bool:
    """Anyone who may see a record may change it, except a private one: its author only."""
    if not may_see_record(record, membership):
        return False
    return not record.is_private or record.author_id == membership.pk
