"""An idle session still expires on time, but its row is written at most once a minute, not on every request."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from caseload.accounts.tests.helpers import SECURITY_URL, post_login

pytestmark = pytest.mark.django_db


def session_writes(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(SECURITY_URL).status_code == 200
    return sum(
        1
        for query in captured
        if "django_session" in query["sql"] and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    )


def expiry(client):
    return Session.objects.get(pk=client.session.session_key).expire_date


def test_requests_within_a_minute_of_the_last_write_leave_the_session_row_alone(client, agency, caseworker):
    post_login(client, caseworker.email)
    before = expiry(client)
    assert [session_writes(client) for _ in range(3)] == [0, 0, 0]
    assert expiry(client) == before


def test_a_request_a_minute_after_the_last_write_pushes_the_expiry_a_whole_idle_timeout_ahead(client, agency, caseworker):
    post_login(client, caseworker.email)
    written = timezone.now() - timedelta(seconds=settings.SESSION_REFRESH_SECONDS)
    Session.objects.filter(pk=client.session.session_key).update(
        expire_date=written + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )
    assert session_writes(client) == 1
    assert expiry(client) > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 5)
    assert session_writes(client) == 0


def test_an_idle_session_still_expires(client, agency, caseworker):
    post_login(client, caseworker.email)
    Session.objects.filter(pk=client.session.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(SECURITY_URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
