"""An agency that requires two-factor authentication cannot be entered without it."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from caseload.accounts.tests.helpers import SECURITY_URL, VERIFY_URL, add_totp_device, code_for, post_login
from caseload.tenancy.middleware import SESSION_KEY
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

SETUP_URL = "/accounts/security/two-factor/set-up/"
AGENCY_PAGES = ["/", "/admin/agency/", "/admin/agency/programs/", "/admin/audit/", "/clients/"]


@pytest.fixture
def strict(agency):
    agency.require_two_factor = True
    agency.save()
    return agency


@pytest.mark.parametrize("path", AGENCY_PAGES)
def test_a_member_without_two_factor_is_sent_to_set_it_up(client, strict, admin, path):
    client.force_login(admin)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP_URL}?next={path.replace('/', '%2F')}"


def test_after_setting_it_up_the_pages_open(client, strict, admin):
    from django_otp.oath import totp

    from caseload.accounts.views import TOTP_SETUP_SESSION_KEY

    post_login(client, admin.email)
    assert client.get("/admin/agency/").status_code == 302
    client.get(SETUP_URL)
    key = client.session[TOTP_SETUP_SESSION_KEY]
    client.post(SETUP_URL, {"otp_code": f"{totp(bytes.fromhex(key)):06d}"})
    assert client.get("/admin/agency/").status_code == 200


@pytest.mark.parametrize("path", AGENCY_PAGES)
def test_a_session_not_verified_by_a_code_is_sent_to_the_code_step(client, strict, admin, path):
    add_totp_device(admin)
    client.force_login(admin)
    response = client.get(path)
    assert response["Location"].startswith(f"{VERIFY_URL}?next=")


def test_the_code_step_then_opens_the_agency(client, strict, admin):
    device = add_totp_device(admin)
    client.force_login(admin)
    response = client.post(VERIFY_URL, {"otp_code": code_for(device), "next": "/admin/agency/"})
    assert response["Location"] == "/admin/agency/"
    assert client.get("/admin/agency/").status_code == 200


def test_the_full_log_in_with_a_code_opens_the_agency(client, strict, admin):
    device = add_totp_device(admin)
    post_login(client, admin.email)
    client.post(VERIFY_URL, {"otp_code": code_for(device)})
    assert client.get("/").status_code == 200


def test_the_account_pages_stay_open(client, strict, admin):
    client.force_login(admin)
    assert client.get(SECURITY_URL).status_code == 200
    assert client.get(SETUP_URL).status_code == 200
    assert client.get("/accounts/security/password/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302


def test_the_api_with_a_session_answers_403_in_json(client, strict, admin):
    client.force_login(admin)
    response = client.get("/api/v1/programs/")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "two_factor_required"


def test_an_api_token_is_exempt(client, strict, admin):
    _instance, token = AuthToken.objects.create(admin)
    response = client.get("/api/v1/programs/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200


def test_an_htmx_request_is_redirected_by_htmx(client, strict, admin):
    client.force_login(admin)
    response = client.get("/admin/agency/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == SETUP_URL


def test_an_agency_that_does_not_require_it_opens_without_a_code(client, agency, admin):
    add_totp_device(admin)
    client.force_login(admin)
    assert client.get("/admin/agency/").status_code == 200


def test_a_member_of_two_agencies_can_switch_to_the_one_that_does_not_require_it(client, strict, other_agency):
    membership = make_member(strict, "Administrator")
    user = make_member(other_agency, "Administrator", email=membership.user.email).user
    client.force_login(user)
    session = client.session
    session[SESSION_KEY] = strict.pk
    session.save()
    assert client.get("/admin/agency/").status_code == 302
    client.post("/agency/switch/", {"agency": other_agency.pk})
    assert client.get("/admin/agency/").status_code == 200


def test_turning_two_factor_off_closes_the_agency_again(client, strict, admin):
    device = add_totp_device(admin)
    post_login(client, admin.email)
    client.post(VERIFY_URL, {"otp_code": code_for(device)})
    assert client.get("/").status_code == 200
    client.post("/accounts/security/two-factor/turn-off/", {"password": "correct horse battery staple"})
    assert not TOTPDevice.objects.filter(user=admin).exists()
    assert client.get("/")["Location"].startswith(SETUP_URL)
