import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Tests render pages without collectstatic: no manifest lookup."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Hashing a password properly takes a deliberate fraction of a second; tests make hundreds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english():
    """A French request leaves French active in the thread: every test starts (and ends) in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def as_user(client):
    """``as_user(user)``: the test client, logged in as that user."""

    def log_in(user):
        client.force_login(user)
        return client

    return log_in


@pytest.fixture
def api():
    """An API client; ``api.as_user(user)`` logs it in with a session."""

    from rest_framework.test import APIClient

    class Client(APIClient):
        def as_user(self, user):
            self.force_login(user)
            return self

        def with_token(self, user):
            from knox.models import AuthToken

            _instance, token = AuthToken.objects.create(user)
            self.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            return self

    return Client()


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


@pytest.fixture(scope="session")
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
