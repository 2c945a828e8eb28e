import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.tenancy.scoping import all_agencies
from caseload.testing.factories import TEST_PASSWORD

URL = "/api/v1/auth/token/"


def get_token(api, user, **extra):
    return api.post(URL, {"email": user.email, "password": TEST_PASSWORD, **extra})


def confirmed_totp_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


@pytest.mark.django_db
class TestLogIn:
    def test_it_answers_a_token_that_then_works_on_every_endpoint(self, api, agency, admin):
        response = get_token(api, admin)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"token", "expiry"}
        api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        me = api.get("/api/v1/me/")
        assert me.status_code == 200
        assert me.json()["user"]["email"] == admin.email
        assert api.get("/api/v1/programs/").status_code == 200
        assert api.post("/api/v1/programs/", {"name": "Made with a token"}).status_code == 201

    def test_it_takes_the_email_in_any_case(self, api, agency, admin):
        response = api.post(URL, {"email": admin.email.upper(), "password": TEST_PASSWORD})
        assert response.status_code == 200

    def test_a_wrong_password_is_a_400_and_no_token(self, api, agency, admin):
        response = api.post(URL, {"email": admin.email, "password": "not the password"})
        assert response.status_code == 400
        assert errors_of(response) == {"non_field_errors": ["invalid_credentials"]}
        assert not AuthToken.objects.filter(user=admin).exists()

    def test_an_unknown_email_is_the_same_400(self, api, db):
        response = api.post(URL, {"email": "nobody@example.org", "password": TEST_PASSWORD})
        assert response.status_code == 400
        assert errors_of(response) == {"non_field_errors": ["invalid_credentials"]}

    def test_missing_fields_are_named(self, api, db):
        response = api.post(URL, {})
        assert response.status_code == 400
        assert errors_of(response) == {"email": ["required"], "password": ["required"]}

    def test_a_log_in_is_audited_without_the_password_or_the_token(self, api, agency, admin):
        token = get_token(api, admin).json()["token"]
        with all_agencies():
            events = list(AuditEvent.objects.filter(actor=admin, action="login").values_list("changes", "object_repr"))
        assert events
        assert token not in str(events)
        assert TEST_PASSWORD not in str(events)

    def test_six_wrong_passwords_lock_the_account(self, api, agency, admin):
        for _attempt in range(6):
            api.post(URL, {"email": admin.email, "password": "not the password"})
        response = get_token(api, admin)
        assert response.status_code == 403
        assert errors_of(response) == {None: ["locked_out"]}

    def test_it_is_throttled(self, api, agency, admin, settings):
        statuses = [api.post(URL, {"email": "nobody@example.org", "password": "x"}).status_code for _n in range(21)]
        assert statuses[-1] == 429
        assert errors_of(api.post(URL, {})) == {None: ["throttled"]}

    def test_an_old_token_in_the_header_does_not_block_logging_in(self, api, agency, admin):
        api.credentials(HTTP_AUTHORIZATION="Token expired-or-revoked")
        assert get_token(api, admin).status_code == 200


@pytest.mark.django_db
class TestTwoFactor:
    def test_a_user_with_an_authenticator_needs_the_code(self, api, agency, admin):
        confirmed_totp_device(admin)
        response = get_token(api, admin)
        assert response.status_code == 400
        assert errors_of(response) == {"otp_code": ["required"]}

    def test_a_wrong_code_is_refused(self, api, agency, admin):
        device = confirmed_totp_device(admin)
        wrong = f"{(totp(device.bin_key) + 1) % 1000000:06d}"
        response = get_token(api, admin, otp_code=wrong)
        assert response.status_code == 400
        assert errors_of(response) == {"otp_code": ["invalid"]}

    def test_the_right_code_gets_a_token(self, api, agency, admin):
        device = confirmed_totp_device(admin)
        response = get_token(api, admin, otp_code=f"{totp(device.bin_key):06d}")
        assert response.status_code == 200
        assert response.json()["token"]

    def test_an_agency_that_requires_two_factor_refuses_a_token_without_it(self, api, agency, admin):
        agency.require_two_factor = True
        agency.save()
        response = get_token(api, admin)
        assert response.status_code == 400
        assert errors_of(response) == {"otp_code": ["two_factor_setup_required"]}
        assert not AuthToken.objects.filter(user=admin).exists()


    def test_with_two_factor_required_a_token_reaches_what_an_unverified_session_cannot(self, api, agency, admin):
        agency.require_two_factor = True
        agency.save()
        device = confirmed_totp_device(admin)
        session = api.as_user(admin)
        refused = session.get("/api/v1/programs/")
        assert refused.status_code == 403
        assert errors_of(refused) == {None: ["two_factor_required"]}
        assert session.get("/api/schema/").status_code == 200
        response = get_token(session, admin, otp_code=f"{totp(device.bin_key):06d}")
        assert response.status_code == 200
        api.logout()
        api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        assert api.get("/api/v1/programs/").status_code == 200


@pytest.mark.django_db
class TestTokenUse:
    def test_an_invalid_token_is_a_401_in_json(self, api, agency):
        api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        response = api.get("/api/v1/programs/")
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert errors_of(response) == {None: ["authentication_failed"]}

    def test_a_malformed_authorization_header_is_a_401_not_a_500(self, api, agency):
        api.credentials(HTTP_AUTHORIZATION="Token ")
        assert api.get("/api/v1/programs/").status_code == 401

    def test_log_out_revokes_only_this_token(self, api, agency, admin):
        first = get_token(api, admin).json()["token"]
        second = get_token(api, admin).json()["token"]
        api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
        assert api.delete(URL).status_code == 204
        assert api.get("/api/v1/me/").status_code == 401
        api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
        assert api.get("/api/v1/me/").status_code == 200

    def test_log_out_needs_a_token(self, api, agency, admin):
        response = api.as_user(admin).delete(URL)
        assert response.status_code == 401

    def test_a_token_of_a_deactivated_user_stops_working(self, api, agency, admin):
        api.with_token(admin)
        admin.is_active = False
        admin.save()
        assert api.get("/api/v1/me/").status_code == 401
