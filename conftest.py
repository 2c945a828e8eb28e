import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def agency(db):
    from caseload.testing.factories import make_agency

    return make_agency("Northside Test Agency")


@pytest.fixture
def other_agency(db):
    from caseload.testing.factories import make_agency

    return make_agency("Riverside Test Agency")


@pytest.fixture
def admin(agency):
    from caseload.testing.factories import make_member

    return make_member(agency, "Administrator").user


@pytest.fixture
def manager(agency):
    from caseload.testing.factories import make_member

    return make_member(agency, "Manager").user


@pytest.fixture
def caseworker(agency):
    from caseload.testing.factories import make_member

    return make_member(agency, "Caseworker").user


@pytest.fixture
def auditor(agency):
    from caseload.testing.factories import make_member

    return make_member(agency, "Read-only auditor").user


@pytest.fixture
def outsider(other_agency):
    """An administrator of the other agency."""
    from caseload.testing.factories import make_member

    return make_member(other_agency, "Administrator").user


@pytest.fixture
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
