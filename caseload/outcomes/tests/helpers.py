"""Shared set-up of the Outcomes tests: a client, a program, a placement, a reviewed checkpoint."""

from __future__ import annotations

import datetime
import itertools

from caseload.casework.records import agency_today
from caseload.clients.actions import link_cams, register_client
from caseload.outcomes import actions
from caseload.outcomes.models import Checkpoint
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program

_CAMS_NUMBERS = itertools.count(1000001)
_PROGRAMS = itertools.count(1)

EMPLOYED_ANSWERS = {
    "employment_status": "employed_full_time",
    "employer": "Maple Foods",
    "job_title": "Line cook",
    "hours_per_week": 37.5,
    "hourly_wage": 19,
    "satisfaction": "5",
}


def a_client(agency, cams_number="", **data):
    with agency_scope(agency):
        client = register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad", **data})
        if cams_number:
            link_cams(client, None, cams_number)
        return client


def a_placement(agency, client=None, *, program=None, exit_date=None, actor=None, **data):
    """Placed 25 days ago by default: the 1-month checkpoint is due within the week."""
    client = client or a_client(agency)
    exit_date = exit_date or agency_today(agency) - datetime.timedelta(days=25)
    with agency_scope(agency):
        program = program or make_program(agency, f"Employment Services {next(_PROGRAMS)}")
        return actions.place_into_outcomes(
            client,
            actor,
            {
                "program": program,
                "exit_date": exit_date,
                "exit_reason": "completed",
                "employment_status": "unemployed",
                "notes": "",
                **data,
            },
        )


def a_checkpoint(agency, *, months=1, reviewed=False, submitted=False, cams_number="", actor=None) -> Checkpoint:
    cams_number = cams_number or str(next(_CAMS_NUMBERS))
    client = a_client(agency, cams_number=cams_number)
    placement = a_placement(agency, client, actor=actor)
    with agency_scope(agency):
        checkpoint = Checkpoint.objects.for_agency(agency).get(placement=placement, months=months)
        if reviewed or submitted:
            checkpoint = actions.save_answers(checkpoint, actor, EMPLOYED_ANSWERS, on_behalf=True)
        if submitted:
            actions.submit(checkpoint, actor)
            checkpoint.refresh_from_db()
    return checkpoint
