import pytest

from caseload.tenancy.tests.helpers import make_funder, make_program


@pytest.fixture
def program(agency):
    return make_program(agency)


@pytest.fixture
def their_program(other_agency):
    return make_program(other_agency, "Settlement Services")


@pytest.fixture
def funder(agency):
    return make_funder(agency)


@pytest.fixture
def their_funder(other_agency):
    return make_funder(other_agency, "IRCC")
