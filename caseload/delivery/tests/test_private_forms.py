"""A service form marked private is seen by its author and the author's manager only: every place
it could show is checked here for a colleague of the same program and for another manager."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from caseload.delivery.tests.helpers import NON_SPECIFIED, direct_session, fill, group_session, team
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

SECRET_TOPIC = "Disclosed a debt to a loan shark"


@pytest.fixture
def t(agency):
    return team(agency)


@pytest.fixture
def private(t):
    """A private Non-Specified form, and an open one in the same session."""
    session = direct_session(t)
    secret = fill(session, t.writer.user, answers={**NON_SPECIFIED, "topic": SECRET_TOPIC}, status="completed", is_private=True)
    open_row = fill(session, t.writer.user, answers={**NON_SPECIFIED, "topic": "Bus routes"}, status="completed")
    return secret, open_row


@pytest.fixture
def other_manager(t):
    """A manager who sees every program and exports, but does not manage the author."""
    return make_member(t.agency, "Manager", programs=[t.program])


def places(t, secret) -> dict[str, str]:
    return {
        "services tab": reverse("delivery:client_services", args=[t.client.pk]),
        "session page": reverse("delivery:session_detail", args=[secret.session_id]),
        "history": reverse("casework:history", args=[t.client.pk]),
        "API list": reverse("api:service-record-list") + f"?client={t.client.pk}",
        "API history": reverse("api:client-history", args=[t.client.pk]) if _has_api_history() else "",
    }


def _has_api_history() -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse("api:client-history", args=[1])
    except NoReverseMatch:
        return False
    return True


@pytest.mark.parametrize("who", ["colleague", "other_manager"])
def test_a_private_form_shows_nowhere_for_someone_else(t, private, as_user, who, other_manager):
    secret, open_row = private
    viewer = other_manager if who == "other_manager" else t.colleague
    browser = as_user(viewer.user)
    for place, url in places(t, secret).items():
        if not url:
            continue
        body = browser.get(url).content.decode()
        assert SECRET_TOPIC not in body, place
        assert f"/service-forms/{secret.pk}/" not in body, place
        assert f'"id":{secret.pk},' not in body.replace(" ", ""), place
    assert browser.get(reverse("delivery:record_detail", args=[secret.pk])).status_code == 404
    assert browser.get(reverse("delivery:record_edit", args=[secret.pk])).status_code == 404
    assert browser.get(reverse("api:service-record-detail", args=[secret.pk])).status_code == 404
    # The open form of the same session is there for them.
    assert browser.get(reverse("delivery:record_detail", args=[open_row.pk])).status_code == 200


def test_a_private_form_is_left_out_of_another_managers_export(t, private, as_user, other_manager):
    secret, open_row = private
    response = as_user(other_manager.user).get(
        reverse("delivery:record_export_download"),
        {"form": "non_specified", "date_from": "2026-01-01", "date_to": "2026-12-31", "file_format": "csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row["Record"] for row in rows] == [str(open_row.pk)]


def test_the_author_and_their_manager_see_it_everywhere(t, private, as_user):
    secret, _open_row = private
    for member in (t.writer, t.boss):
        browser = as_user(member.user)
        assert browser.get(reverse("delivery:record_detail", args=[secret.pk])).status_code == 200
        assert f"/service-forms/{secret.pk}/" in browser.get(reverse("delivery:client_services", args=[t.client.pk])).content.decode()
        assert f"/service-forms/{secret.pk}/" in browser.get(reverse("casework:history", args=[t.client.pk])).content.decode()
        assert browser.get(reverse("api:service-record-detail", args=[secret.pk])).status_code == 200


def test_a_private_attendee_form_is_hidden_on_the_group_page(t, as_user):
    from caseload.delivery import sessions

    session = group_session(t)
    with agency_scope(t.agency):
        sessions.add_attendees(session, t.writer.user, [t.client])
    secret = fill(session, t.writer.user, form_key="group_attendee", answers={}, client=t.client, is_private=True)
    page = as_user(t.colleague.user).get(reverse("delivery:session_detail", args=[session.pk])).content.decode()
    assert f"/service-forms/{secret.pk}/" not in page
