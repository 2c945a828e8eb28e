import pytest
from rest_framework.exceptions import ValidationError

from caseload.accounts.auth import LockedOut, authenticate_for_token
from caseload.accounts.tests.helpers import add_totp_device, code_for, events, wrong_code_for
from caseload.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_(rf):
    return rf.post("/api/v1/auth/token/")


def codes(error: ValidationError) -> dict:
    return {field: [detail.code for detail in details] for field, details in error.detail.items()}


def test_it_returns_the_user_for_the_right_password(request_, agency, caseworker):
    assert authenticate_for_token(request_, caseworker.email, TEST_PASSWORD, "") == caseworker
    [event] = events(action="login")
    assert event.changes == {"method": "API token"}


def test_a_wrong_password_is_a_non_field_error(request_, agency, caseworker):
    with pytest.raises(ValidationError) as error:
        authenticate_for_token(request_, caseworker.email, "not the password", "")
    assert codes(error.value) == {"non_field_errors": ["invalid_credentials"]}


def test_an_unknown_email_is_the_same_error(request_, db):
    with pytest.raises(ValidationError) as error:
        authenticate_for_token(request_, "nobody@example.org", TEST_PASSWORD, "")
    assert codes(error.value) == {"non_field_errors": ["invalid_credentials"]}


def test_a_user_with_an_authenticator_needs_the_code(rf, agency, caseworker):
    device = add_totp_device(caseworker)
    with pytest.raises(ValidationError) as error:
        authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, "")
    assert codes(error.value) == {"otp_code": ["required"]}
    with pytest.raises(ValidationError) as error:
        authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, wrong_code_for(device))
    assert codes(error.value) == {"otp_code": ["invalid"]}


def test_the_right_code_passes(request_, agency, caseworker):
    device = add_totp_device(caseworker)
    assert authenticate_for_token(request_, caseworker.email, TEST_PASSWORD, code_for(device)) == caseworker
    assert events(action="login")[0].changes == {"method": "API token with two-factor code"}


def test_an_agency_requiring_two_factor_refuses_a_user_without_an_authenticator(request_, agency, caseworker):
    agency.require_two_factor = True
    agency.save()
    with pytest.raises(ValidationError) as error:
        authenticate_for_token(request_, caseworker.email, TEST_PASSWORD, "123456")
    assert codes(error.value) == {"otp_code": ["two_factor_setup_required"]}
    assert "Security page" in str(error.value.detail["otp_code"][0])


def test_an_agency_requiring_two_factor_asks_its_users_for_the_code(rf, agency, caseworker):
    agency.require_two_factor = True
    agency.save()
    device = add_totp_device(caseworker)
    with pytest.raises(ValidationError):
        authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, "")
    assert authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, code_for(device)) == caseworker


def test_failures_count_towards_the_lockout(rf, agency, caseworker):
    for _attempt in range(5):
        with pytest.raises(ValidationError):
            authenticate_for_token(rf.post("/"), caseworker.email, "not the password", "")
    with pytest.raises(LockedOut):
        authenticate_for_token(rf.post("/"), caseworker.email, "not the password", "")
    with pytest.raises(LockedOut):
        authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, "")
    assert events(action="lockout")


def test_wrong_codes_count_towards_the_lockout(rf, agency, caseworker):
    device = add_totp_device(caseworker)
    for _attempt in range(5):
        with pytest.raises(ValidationError):
            authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, wrong_code_for(device))
    with pytest.raises(LockedOut):
        authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, wrong_code_for(device))


def test_a_success_clears_earlier_failures(rf, agency, caseworker):
    for _attempt in range(5):
        with pytest.raises(ValidationError):
            authenticate_for_token(rf.post("/"), caseworker.email, "not the password", "")
    authenticate_for_token(rf.post("/"), caseworker.email, TEST_PASSWORD, "")
    for _attempt in range(5):
        with pytest.raises(ValidationError):
            authenticate_for_token(rf.post("/"), caseworker.email, "not the password", "")


def test_it_accepts_a_drf_request(agency, caseworker):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().post("/api/v1/auth/token/"))
    assert authenticate_for_token(request, caseworker.email, TEST_PASSWORD, None) == caseworker
