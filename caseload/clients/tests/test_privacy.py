"""The agency's privacy statements: administrators publish versions; the newest is the one in use."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients.actions import publish_privacy_statement
from caseload.clients.models import PrivacyStatement
from caseload.clients.queries import current_privacy_statement
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

URL = "/admin/agency/privacy-statement/"


def statements_of(agency):
    with agency_scope(agency):
        return list(PrivacyStatement.objects.for_agency(agency).order_by("pk"))


def test_an_administrator_publishes_a_version_and_it_becomes_current(client, agency, admin):
    client.force_login(admin)
    response = client.post(URL, {"version": "2026-1", "text": "We keep it safe.", "text_fr": "Nous le protégeons."})

    assert response.status_code == 302
    (statement,) = statements_of(agency)
    assert (statement.version, statement.text, statement.text_fr, statement.created_by) == (
        "2026-1",
        "We keep it safe.",
        "Nous le protégeons.",
        admin,
    )
    with agency_scope(agency):
        assert current_privacy_statement(agency) == statement
        event = AuditEvent.objects.for_agency(agency).get(action=AuditEvent.Action.CREATE, object_type="clients.privacystatement")
    assert event.actor == admin
    html = client.get(URL).content.decode()
    assert "Version 2026-1" in html and ">In use<" in html and "We keep it safe." in html


def test_a_new_version_keeps_the_old_one(client, agency, admin):
    with agency_scope(agency):
        first = publish_privacy_statement(agency=agency, actor=admin, version="v1", text="First.")
    client.force_login(admin)
    client.post(URL, {"version": "v2", "text": "Second."})

    assert [s.version for s in statements_of(agency)] == ["v1", "v2"]
    with agency_scope(agency):
        assert current_privacy_statement(agency).version == "v2"
    html = client.get(URL).content.decode()
    assert "First." in html and "Second." in html
    assert first.text == "First."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": "", "text": "Text"}, "Version: This field is required."),
        ({"version": "v9", "text": ""}, "Statement (English): This field is required."),
        ({"version": "x" * 21, "text": "Text"}, "Version: Ensure this value has at most 20 characters (it has 21)."),
        ({"version": "V1", "text": "Again"}, "Version: This version is already published. Give the new one another label."),
    ],
)
def test_bad_input_is_named_and_nothing_is_published(client, agency, admin, data, message):
    with agency_scope(agency):
        publish_privacy_statement(agency=agency, actor=None, version="v1", text="First.")
    client.force_login(admin)
    response = client.post(URL, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(statements_of(agency)) == 1


def test_it_is_in_the_administration_area_for_administrators_only(client, admin, caseworker):
    client.force_login(admin)
    assert URL in client.get(reverse("tenancy:home")).content.decode()
    client.force_login(caseworker)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"version": "v1", "text": "Sneaky"}).status_code == 403


def test_the_auditor_cannot_open_or_publish(client, agency, auditor):
    client.force_login(auditor)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"version": "v1", "text": "Sneaky"}).status_code == 403
    assert statements_of(agency) == []


def test_another_agencys_statements_are_never_listed(client, agency, other_agency, admin):
    with agency_scope(other_agency):
        publish_privacy_statement(agency=other_agency, actor=None, version="theirs-1", text="Their statement.")
    client.force_login(admin)
    html = client.get(URL).content.decode()
    assert "theirs-1" not in html and "Their statement." not in html
    assert "No privacy statement yet" in html


def test_the_demo_agencies_have_a_statement_in_both_languages(db):
    from caseload.tenancy.demo import seed

    for agency in seed(clients=0):
        with agency_scope(agency):
            statement = current_privacy_statement(agency)
        assert statement is not None
        assert agency.name in statement.text and agency.name in statement.text_fr
