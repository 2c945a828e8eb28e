"""Every API error is JSON in one shape: {"type": ..., "errors": [{"code", "detail", "attr"}]}."""

import pytest

from caseload.api.tests.helpers import errors_of


def assert_error(response, status: int, error_type: str, errors: dict) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["type"] == error_type
    assert errors_of(response) == errors
    assert all(set(e) == {"code", "detail", "attr"} for e in response.json()["errors"])


@pytest.mark.django_db
class TestErrors:
    def test_a_malformed_json_body_is_a_400(self, api, agency, admin):
        response = api.as_user(admin).generic("POST", "/api/v1/programs/", '{"name": ', content_type="application/json")
        assert_error(response, 400, "client_error", {None: ["parse_error"]})

    def test_a_body_of_the_wrong_json_type_is_a_400(self, api, agency, admin):
        response = api.as_user(admin).generic("POST", "/api/v1/programs/", "[1, 2]", content_type="application/json")
        assert_error(response, 400, "validation_error", {"non_field_errors": ["invalid"]})

    def test_an_unsupported_media_type_is_a_415(self, api, agency, admin):
        response = api.as_user(admin).generic("POST", "/api/v1/programs/", "name=x", content_type="text/plain")
        assert_error(response, 415, "client_error", {None: ["unsupported_media_type"]})

    def test_a_method_not_allowed_is_a_405(self, api, agency, admin):
        response = api.as_user(admin).delete("/api/v1/programs/")
        assert_error(response, 405, "client_error", {None: ["method_not_allowed"]})

    def test_an_unknown_address_under_api_is_a_json_404(self, api, agency, admin):
        for path in ["/api/v1/nothing-here/", "/api/v2/programs/", "/api/v1/programs"]:
            assert_error(api.as_user(admin).get(path), 404, "client_error", {None: ["not_found"]})

    def test_no_credentials_is_a_401_and_a_member_without_permission_a_403(self, api, agency, caseworker):
        assert_error(api.get("/api/v1/roles/"), 401, "client_error", {None: ["not_authenticated"]})
        assert_error(api.as_user(caseworker).get("/api/v1/roles/"), 403, "client_error", {None: ["permission_denied"]})

    def test_a_wrong_type_for_a_field_names_the_field(self, api, agency, admin):
        response = api.as_user(admin).post("/api/v1/programs/", {"name": "X", "is_active": "perhaps", "funders": "all"})
        assert_error(response, 400, "validation_error", {"is_active": ["invalid"], "funders": ["not_a_list"]})

    def test_a_nul_character_is_refused_not_a_500(self, api, agency, admin):
        response = api.as_user(admin).post("/api/v1/programs/", {"name": "bad\x00name"})
        assert_error(response, 400, "validation_error", {"name": ["null_characters_not_allowed"]})

    def test_a_huge_id_is_a_404_not_a_500(self, api, agency, admin):
        response = api.as_user(admin).get(f"/api/v1/programs/{2**70}/")
        assert response.status_code == 404

    def test_a_huge_related_id_is_a_400_naming_the_field(self, api, agency, admin):
        response = api.as_user(admin).post("/api/v1/programs/", {"name": "X", "funders": [2**70]})
        assert response.status_code == 400
        assert list(errors_of(response)) == ["funders"]


@pytest.mark.django_db
def test_an_unavailable_database_is_a_503_to_retry_and_nothing_is_kept(agency, admin):
    from unittest import mock

    from django.db import OperationalError
    from rest_framework.test import APIClient

    from caseload.api.models import IdempotencyRecord

    client = APIClient(raise_request_exception=False)
    client.force_login(admin)
    with mock.patch("caseload.tenancy.api.actions.create_object", side_effect=OperationalError("server closed the connection")):
        response = client.post("/api/v1/programs/", {"name": "X"}, HTTP_IDEMPOTENCY_KEY="retry-me")
    assert_error(response, 503, "server_error", {None: ["database_unavailable"]})
    assert response["Retry-After"] == "5"
    assert not IdempotencyRecord.objects.exists()
