import json

from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from caseload.web.middleware import DatabaseUnavailableMiddleware

middleware = DatabaseUnavailableMiddleware(lambda request: HttpResponse())


def test_an_api_request_during_a_database_restart_gets_a_503_json_to_retry():
    request = RequestFactory().post("/api/v1/programs/")
    response = middleware.process_exception(request, OperationalError("server closed the connection unexpectedly"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = json.loads(response.content)
    assert body["errors"][0]["code"] == "database_unavailable"
    assert "server closed" not in response.content.decode()


def test_a_page_during_a_database_restart_gets_a_503_page():
    request = RequestFactory().get("/")
    response = middleware.process_exception(request, OperationalError("could not connect"))
    assert response.status_code == 503
    assert b"unavailable" in response.content.lower()


def test_other_errors_are_left_to_django():
    request = RequestFactory().get("/")
    assert middleware.process_exception(request, ValueError("bug")) is None


def test_a_database_error_raised_in_a_middleware_answers_503_not_500(client, monkeypatch):
    from caseload.tenancy import middleware as tenancy_middleware

    def refuse(user):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(tenancy_middleware, "active_memberships", refuse)
    client.raise_request_exception = False
    response = client.get("/api/v1/programs/")
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"] == "database_unavailable"
