import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from caseload.accounts.tests.helpers import LOGIN_URL, SECURITY_URL, events, post_login
from caseload.accounts.views import locked_out
from caseload.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_it_shows_the_log_in_page(client):
    response = client.get(LOGIN_URL)
    assert response.status_code == 200
    assert b'name="email"' in response.content
    assert b'name="password"' in response.content


def test_it_logs_in_with_the_right_password(client, agency, admin):
    response = post_login(client, admin.email)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(SECURITY_URL).status_code == 200


def test_it_takes_the_email_in_any_case(client, agency, admin):
    assert post_login(client, f"  {admin.email.upper()} ").status_code == 302
    assert int(client.session["_auth_user_id"]) == admin.pk


def test_a_log_in_is_audited_under_the_users_agency(client, agency, admin):
    post_login(client, admin.email)
    [event] = events(action="login")
    assert event.actor == admin
    assert event.agency == agency
    assert event.object_id == str(admin.pk)
    assert event.changes == {"method": "password"}


def test_it_goes_to_a_same_site_next_page_only(client, agency, admin):
    assert post_login(client, admin.email, next="/accounts/security/")["Location"] == "/accounts/security/"
    client.logout()
    assert post_login(client, admin.email, next="https://evil.example/")["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_form_error(client, agency, admin):
    response = post_login(client, admin.email, "not the password")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The email address or password is not correct."]
    assert "_auth_user_id" not in client.session


def test_a_failed_log_in_is_audited_with_the_account_and_no_agency(client, agency, admin):
    post_login(client, admin.email, "not the password")
    [event] = events(action="login_failed")
    assert event.agency is None
    assert event.actor is None
    assert event.object_id == str(admin.pk)
    assert event.changes == {"step": "password"}


def test_an_unknown_email_gets_the_same_answer(client, agency, admin):
    known = post_login(client, admin.email, "not the password")
    unknown = post_login(client, "nobody@example.org", "not the password")
    assert unknown.status_code == known.status_code == 200
    assert unknown.context["form"].non_field_errors() == known.context["form"].non_field_errors()
    event = events(action="login_failed")[-1]
    assert event.object_id == ""
    assert event.object_repr == "nobody@example.org"


def test_an_inactive_account_cannot_log_in(client, agency, admin):
    admin.is_active = False
    admin.save()
    assert post_login(client, admin.email).status_code == 200
    assert "_auth_user_id" not in client.session


def test_six_wrong_passwords_lock_the_account(client, agency, admin):
    for _attempt in range(5):
        assert post_login(client, admin.email, "not the password").status_code == 200
    sixth = post_login(client, admin.email, "not the password")
    assert sixth.status_code == 403
    seventh = post_login(client, admin.email, TEST_PASSWORD)
    assert seventh.status_code == 403
    assert "_auth_user_id" not in client.session
    page = seventh.content.decode()
    assert "Account locked" in page
    assert "Try again in 30 minutes, or ask your administrator" in page
    [lockout] = events(action="lockout")
    assert lockout.object_id == str(admin.pk)
    assert lockout.agency == agency
    assert events(action="login_failed")[-1].changes == {"step": "refused: account locked"}


def test_the_lock_counts_every_spelling_of_the_email_as_one_account(client, agency, admin):
    for n in range(6):
        email = admin.email.upper() if n % 2 else admin.email
        post_login(client, email, "not the password")
    assert post_login(client, admin.email).status_code == 403


def test_the_lock_is_per_account_not_per_office(client, agency, admin, caseworker):
    for _attempt in range(6):
        post_login(client, admin.email, "not the password")
    assert post_login(client, caseworker.email).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, agency, admin):
    for _attempt in range(6):
        post_login(client, admin.email, "not the password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    assert post_login(client, admin.email).status_code == 302


def test_the_locked_page_says_how_many_minutes_are_left(rf, client, agency, admin):
    for _attempt in range(6):
        post_login(client, admin.email, "not the password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=20, seconds=30))
    response = locked_out(rf.post(LOGIN_URL), None, {"username": admin.email})
    assert response.status_code == 403
    assert "Try again in 10 minutes" in response.content.decode()


def test_a_refused_attempt_during_the_lock_starts_the_cool_off_again(client, agency, admin):
    for _attempt in range(6):
        post_login(client, admin.email, "not the password")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=20))
    assert "Try again in 30 minutes" in post_login(client, admin.email).content.decode()


def test_the_locked_page_answers_the_api_in_json(rf, db):
    response = locked_out(rf.post("/api/v1/auth/token/"), None, {"username": "someone@example.org"})
    assert response.status_code == 403
    assert json.loads(response.content)["errors"][0]["code"] == "locked_out"


def test_a_right_password_clears_earlier_failures(client, agency, admin):
    for _attempt in range(5):
        post_login(client, admin.email, "not the password")
    assert post_login(client, admin.email).status_code == 302
    client.post("/accounts/logout/")
    for _attempt in range(5):
        assert post_login(client, admin.email, "not the password").status_code == 200


def test_a_logged_in_user_visiting_the_log_in_page_goes_on(client, agency, admin):
    client.force_login(admin)
    assert client.get(LOGIN_URL)["Location"] == "/"
