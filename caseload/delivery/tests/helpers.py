"""What the sessions and service-record tests share: a program with two caseworkers and their
manager, a worker of another program, a client, and makers for sessions and records."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from caseload.clients import actions as client_actions
from caseload.delivery import records, sessions
from caseload.delivery.models import ServiceRecord, Session
from caseload.tenancy.models import Agency, Membership, Program
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

DAY = datetime.date(2026, 3, 10)


@dataclass
class Team:
    agency: Agency
    program: Program
    other_program: Program
    boss: Membership  # a manager, who manages ``writer``
    writer: Membership  # a caseworker of ``program``
    colleague: Membership  # another caseworker of ``program``
    stranger: Membership  # a caseworker of ``other_program`` only
    client: object


def team(agency: Agency) -> Team:
    program = make_program(agency, "Settlement Services")
    other = make_program(agency, "Youth Employment")
    boss = make_member(agency, "Manager")
    writer = make_member(agency, "Caseworker", programs=[program], manager=boss)
    colleague = make_member(agency, "Caseworker", programs=[program])
    stranger = make_member(agency, "Caseworker", programs=[other])
    client = register(agency, given_name="Amina", family_name="Haddad", email="amina@example.org")
    return Team(agency, program, other, boss, writer, colleague, stranger, client)


def register(agency: Agency, **data):
    with agency_scope(agency):
        return client_actions.register_client(agency=agency, actor=None, data=data)


def direct_session(t: Team, actor=None, **data) -> Session:
    actor = actor or t.writer.user
    with agency_scope(t.agency):
        return sessions.create_session(
            t.agency, actor, {"session_type": "direct", "program": t.program, "date": DAY, **data}, client=t.client
        )


def group_session(t: Team, session_type: str = "io_group", actor=None, **data) -> Session:
    actor = actor or t.writer.user
    with agency_scope(t.agency):
        return sessions.create_session(
            t.agency, actor, {"session_type": session_type, "program": t.program, "date": DAY, "title": "Life in Canada", **data}
        )


def fill(session: Session, actor, form_key: str = "non_specified", answers=None, **options) -> ServiceRecord:
    answers = answers if answers is not None else NON_SPECIFIED
    with agency_scope(session.agency):
        return records.create_record(session, actor, form_key, answers, **options)


# A complete Non-Specified form.
NON_SPECIFIED = {"service_date": "2026-03-10", "service_provided": "form_filling", "notes": "Housing application."}
