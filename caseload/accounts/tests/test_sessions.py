from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from caseload.accounts import actions
from caseload.accounts.tests.helpers import SECURITY_URL, events, post_login

pytestmark = pytest.mark.django_db

LOGOUT_URL = "/accounts/logout/"
EVERYWHERE_URL = "/accounts/logout/everywhere/"


def test_log_out_is_a_post(client, agency, caseworker):
    client.force_login(caseworker)
    assert client.get(LOGOUT_URL).status_code == 405
    assert client.get(SECURITY_URL).status_code == 200


def test_log_out_ends_the_session_and_is_audited(client, agency, caseworker):
    post_login(client, caseworker.email)
    assert client.post(LOGOUT_URL)["Location"] == "/accounts/login/"
    assert client.get(SECURITY_URL)["Location"].startswith("/accounts/login/")
    [event] = events(action="logout")
    assert event.actor == caseworker and event.agency == agency


def test_log_out_everywhere_logs_out_the_other_sessions_and_keeps_this_one(client, agency, caseworker):
    other = Client()
    post_login(other, caseworker.email)
    post_login(client, caseworker.email)
    assert other.get(SECURITY_URL).status_code == 200
    assert client.post(EVERYWHERE_URL)["Location"] == SECURITY_URL
    assert other.get(SECURITY_URL)["Location"].startswith("/accounts/login/")
    assert client.get(SECURITY_URL).status_code == 200


def test_log_out_everywhere_revokes_the_api_tokens(client, agency, caseworker, outsider):
    AuthToken.objects.create(caseworker)
    AuthToken.objects.create(caseworker)
    AuthToken.objects.create(outsider)
    client.force_login(caseworker)
    client.post(EVERYWHERE_URL)
    assert not AuthToken.objects.filter(user=caseworker).exists()
    assert AuthToken.objects.filter(user=outsider).count() == 1
    [event] = events(action="logout_everywhere")
    assert event.changes == {"api_tokens": [2, 0]}
    assert event.actor == caseworker and event.agency == agency


def test_log_out_everywhere_is_a_post(client, agency, caseworker):
    client.force_login(caseworker)
    assert client.get(EVERYWHERE_URL).status_code == 405


def test_an_administrator_can_log_someone_out_everywhere(agency, admin, caseworker):
    other = Client()
    other.force_login(caseworker)
    actions.log_out_everywhere(caseworker, admin, agency=agency)
    assert other.get(SECURITY_URL).status_code == 302
    assert events(action="logout_everywhere")[0].actor == admin


def test_a_session_idle_too_long_goes_back_to_log_in(client, agency, caseworker, settings):
    post_login(client, caseworker.email)
    assert client.get(SECURITY_URL).status_code == 200
    # Each request pushes the expiry SESSION_COOKIE_AGE (the idle timeout) ahead; let it pass.
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(SECURITY_URL)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/security/"


def test_activity_keeps_the_session_alive(client, agency, caseworker):
    post_login(client, caseworker.email)
    key = client.session.session_key
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + timedelta(minutes=1))
    client.get(SECURITY_URL)
    assert Session.objects.get(pk=key).expire_date > timezone.now() + timedelta(minutes=20)
