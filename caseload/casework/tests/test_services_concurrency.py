"""Two services recorded at the same moment on one grant cannot both take it beyond its budget."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from caseload.casework import services
from caseload.casework.tests.service_helpers import START, a_client, make_grant, service_type, turn_on_grants
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member


@pytest.mark.django_db(transaction=True)
def test_two_services_at_once_cannot_both_overspend(agency):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's IMMEDIATE transactions already serialise writes; the row lock is PostgreSQL's")
    turn_on_grants(agency)
    grant = make_grant(agency, budget="100.00")
    caseworker = make_member(agency, "Caseworker").user
    clients = [a_client(agency, "Amina"), a_client(agency, "Bo")]
    transportation = service_type(agency)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def record(client) -> None:
        try:
            barrier.wait(timeout=10)
            with agency_scope(agency):
                services.record_service(
                    client,
                    caseworker,
                    {"service_type": transportation, "date": START, "amount": Decimal("60.00"), "grant": grant},
                )
            results.append("recorded")
        except ValidationError as error:
            results.append(error.error_dict["amount"][0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=record, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["overspend", "recorded"]
    with agency_scope(agency):
        assert services.grant_totals(grant).spent == Decimal("60.00")
