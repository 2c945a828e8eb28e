"""The survey pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py), and the
rows the survey tests share: a small survey, a client with consent, a checkpoint.

``outcomes:survey_public`` takes a token, not a pk: it is public (no log-in) and SKIPPED here
with where it is tested. The portal's survey pages take a checkpoint's pk.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency

SURVEY = {
    "format": "caseload-form/1",
    "key": "survey_test_followup",
    "version": 1,
    "name": {"en": "Follow-up survey", "fr": "Sondage de suivi"},
    "scope": "client",
    "code_lists": {
        "status": [
            {"value": "employed", "label": {"en": "Working", "fr": "En emploi"}},
            {"value": "looking", "label": {"en": "Looking for work", "fr": "En recherche d'emploi"}},
        ]
    },
    "fields": [
        {
            "key": "status",
            "type": "choice",
            "label": {"en": "Are you working?", "fr": "Travaillez-vous?"},
            "required": True,
            "code_list": "status",
        },
        {"key": "comments", "type": "text", "label": {"en": "Anything to add?", "fr": "Autre chose?"}},
    ],
}


def survey_definition():
    from caseload.formbuilder.loading import load_definition

    return load_definition(SURVEY, standard=False)[0]


def a_client(agency: Agency, **data) -> models.Model:
    from caseload.clients.actions import register_client
    from caseload.tenancy.scoping import agency_scope

    values = {
        "given_name": "Amina",
        "family_name": "Haddad",
        "preferred_name": "Mina",
        "email": "amina@example.org",
        "phone": "416-555-0123",
        "consent_email": True,
        "consent_sms": True,
        **data,
    }
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data=values)


def a_checkpoint(agency: Agency, client=None, **data) -> models.Model:
    """A 3-month checkpoint, due, of a client who agreed to email and SMS."""
    from caseload.outcomes.models import Checkpoint, Placement
    from caseload.tenancy.models import Program
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program

    client = client or a_client(agency)
    with agency_scope(agency):
        program = Program.objects.for_agency(agency).filter(name="Employment Services").first() or make_program(
            agency, "Employment Services"
        )
        placement = Placement.objects.create(
            agency=agency,
            client=client,
            program=program,
            exit_date=datetime.date(2026, 1, 15),
            exit_reason=Placement.ExitReason.COMPLETED,
            employment_status="unemployed",
        )
        values = {"months": 3, "due_on": datetime.date(2026, 4, 15), "status": Checkpoint.Status.DUE, **data}
        return Checkpoint.objects.create(
            agency=agency, placement=placement, client=client, program=program, survey=survey_definition(), **values
        )


def a_portal_client(agency: Agency, **data) -> models.Model:
    from django.utils import timezone

    from caseload.clients.actions import invite_to_portal
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency, **data)
    with agency_scope(agency):
        invite_to_portal(client, None)
    client.refresh_from_db()
    user = client.portal_user
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    return client


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    "outcomes:send_survey": a_checkpoint,
    "portal:survey": a_checkpoint,
}

SKIPPED: dict[str, str] = {
    "outcomes:survey_public": "public (no log-in), takes a survey token, not a pk; tested in caseload/outcomes/tests/test_surveys.py",
}
