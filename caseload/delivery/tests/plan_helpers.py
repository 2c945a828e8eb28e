"""Test helpers of the settlement plan tests: rows made through the actions, in the agency's scope."""

from __future__ import annotations

from datetime import date

from caseload.clients.actions import register_client
from caseload.delivery import plans
from caseload.delivery.models import PlanFollowUp, PlanGoal, SettlementPlan
from caseload.tenancy.models import Agency, Membership
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

START = date(2026, 1, 5)


def a_client(agency: Agency, given_name: str = "Amina", family_name: str = "Haddad"):
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": given_name, "family_name": family_name})


def make_plan(agency: Agency, client=None, actor=None, goals=None, **data) -> SettlementPlan:
    client = client or a_client(agency)
    data = {"title": "Settling in Toronto", "started_on": START, **data}
    if goals is None:
        goals = [
            {"area": "housing", "description": "Find a two-bedroom apartment", "target_date": date(2026, 3, 1)},
            {"area": "language", "description": "Reach CLB 5 in listening"},
        ]
    with agency_scope(agency):
        return plans.create_plan(client, actor, data, goals=goals)


def goals_of(plan: SettlementPlan) -> list[PlanGoal]:
    with agency_scope(plan.agency):
        return list(PlanGoal.objects.for_agency(plan.agency).filter(plan=plan).order_by("position"))


def follow_ups_of(plan: SettlementPlan) -> list[PlanFollowUp]:
    with agency_scope(plan.agency):
        return list(PlanFollowUp.objects.for_agency(plan.agency).filter(plan=plan))


def fresh(plan: SettlementPlan) -> SettlementPlan:
    with agency_scope(plan.agency):
        return SettlementPlan.objects.for_agency(plan.agency).select_related("client").get(pk=plan.pk)


def membership(user, agency: Agency) -> Membership:
    with agency_scope(agency):
        return Membership.objects.for_agency(agency).select_related("manager", "role").get(user=user)


def member_in(agency: Agency, program, role_name: str = "Caseworker", **extra) -> Membership:
    staff = make_member(agency, role_name, **extra)
    with agency_scope(agency):
        staff.programs.add(program)
    return staff
