import pytest

from caseload.casework.tests.comm_helpers import register


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def amina(agency):
    return register(agency, given_name="Amina")


@pytest.fixture
def bo(agency):
    return register(agency, given_name="Bo", family_name="Chen")
