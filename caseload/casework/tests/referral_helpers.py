"""What the referral and directory tests share: a client, a directory with one organisation, programs.

The fixtures are imported into each test module (``from ...referral_helpers import food_bank_fixture  # noqa: F401``).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest

from caseload.casework import directory, referrals
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService, ServiceReferral
from caseload.clients import actions as client_actions
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program

REASON = "Needs groceries while waiting for the first pay cheque."


@dataclass
class Directory:
    organisation: DirectoryOrganisation
    service: DirectoryService
    location: DirectoryLocation
    contact: DirectoryContact


def make_directory(agency, name: str = "North York Food Bank") -> Directory:
    with agency_scope(agency):
        organisation = directory.create_organisation(
            agency, None, {"name": name, "phone": "416-555-0100", "website": "https://foodbank.example.org"}
        )
        service = directory.create_service(
            organisation, None, {"name": "Emergency groceries", "phone": "416-555-0111", "eligibility": "Residents of North York"}
        )
        location = directory.create_location(
            organisation,
            None,
            {
                "name": "Main depot",
                "address_1": "116 Industry St",
                "city": "Toronto",
                "postal_code": "M6M 4L8",
                "services": [service],
            },
        )
        contact = directory.create_contact(
            organisation, None, {"name": "Marie Tremblay", "title": "Intake", "phone": "416-555-0122", "service": service}
        )
    return Directory(organisation, service, location, contact)


def register(agency, **data):
    with agency_scope(agency):
        return client_actions.register_client(agency=agency, actor=None, data=data)


def refer(client, actor, **data) -> ServiceReferral:
    data.setdefault("reason", REASON)
    with agency_scope(client.agency):
        return referrals.create_referral(client, actor, data)


def fresh(referral: ServiceReferral) -> ServiceReferral:
    with agency_scope(referral.agency):
        return ServiceReferral.objects.for_agency(referral.agency).get(pk=referral.pk)


def in_scope(agency, function, *args, **kwargs):
    with agency_scope(agency):
        return function(*args, **kwargs)


@pytest.fixture(name="food_bank")
def food_bank_fixture(agency) -> Directory:
    return make_directory(agency)


@pytest.fixture(name="amina")
def amina_fixture(agency):
    """A client who agreed to email."""
    return register(
        agency,
        given_name="Amina",
        family_name="Haddad",
        email="amina@example.org",
        consent_email=True,
        phone="+14165550177",
        preferred_language="fr",
    )


@pytest.fixture(name="bruno")
def bruno_fixture(agency):
    """A client who agreed to nothing."""
    return register(agency, given_name="Bruno", family_name="Costa", email="bruno@example.org", phone="+14165550188")


@pytest.fixture(name="job_club")
def job_club_fixture(agency):
    return make_program(agency, "Job Club")


FOLLOW_UP = datetime.date(2030, 3, 10)
