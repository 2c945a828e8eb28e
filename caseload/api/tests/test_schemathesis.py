"""Fuzz every API operation from its OpenAPI schema: no 500, and every answer matches the schema.

The schema is loaded from the WSGI app itself; requests go through the whole middleware stack
(token authentication, agency scope, idempotency) as an administrator of an agency that has a
program, a funder and staff, with another agency beside it.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from caseload.tenancy import actions
from caseload.tenancy.models import Funder, Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_agency, make_member
from caseload.wsgi import application

# Loaded at collection: building the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    # The WSGI app sends request_started/finished, whose close_old_connections would close the
    # test's connection mid-transaction on PostgreSQL; Django's own test client unhooks it too.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db, settings):
    agency = make_agency("Fuzzed Agency")
    other = make_agency("Other Agency")
    admin = make_member(agency, "Administrator").user
    make_member(agency, "Caseworker")
    make_member(other, "Administrator")
    for owner in (agency, other):
        with agency_scope(owner):
            funder = actions.create_object(Funder, agency=owner, actor=None, data={"name": "IRCC"})
            actions.create_object(Program, agency=owner, actor=None, data={"name": "LINC", "funders": [funder]})
    _instance, token = AuthToken.objects.create(admin)
    return token


@schema.parametrize()
@hypothesis_settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_operation_answers_500_or_off_schema(case, admin_token):
    cache.clear()  # throttle counters: the token endpoint is fuzzed too
    response = case.call(headers={"Authorization": f"Token {admin_token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
