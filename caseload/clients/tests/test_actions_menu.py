"""The profile's Actions menu: every action for every role, across agencies, and only when it applies."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.tests.action_helpers import CASES, ROLES, events_of, fresh, holds, in_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad", email="amina@example.org")


def page(case, client) -> str:
    return reverse(f"clients:{case.name}", args=[client.pk])


def profile(client) -> str:
    return reverse("clients:detail", args=[client.pk])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_action_works_for_the_roles_that_hold_its_permission_and_is_hidden_and_refused_for_the_others(
    client, agency, amina, case, role
):
    data = case.prepare(amina)
    user = make_member(agency, role).user
    client.force_login(user)
    allowed = holds(role, case.permission)

    menu = client.get(profile(amina)).content.decode()
    assert (f'href="{page(case, amina)}"' in menu or f'action="{page(case, amina)}"' in menu) is allowed

    assert client.get(page(case, amina)).status_code == (200 if allowed else 403)
    response = client.post(page(case, amina), data)
    if allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"] == profile(amina)
        assert case.happened(amina, user)
    else:
        assert response.status_code == 403
        assert not case.happened(amina, user)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_another_agencys_administrator_gets_404_and_changes_nothing(client, amina, outsider, case):
    data = case.prepare(amina)
    client.force_login(outsider)

    assert client.get(page(case, amina)).status_code == 404
    assert client.post(page(case, amina), data).status_code == 404
    assert not case.happened(amina, outsider)


def test_a_client_of_another_agency_is_a_404_on_every_action_page(client, other_agency, register, admin):
    theirs = register(other_agency, given_name="Oscar", family_name="Outsider", email="oscar@example.org")
    client.force_login(admin)
    for case in CASES:
        assert client.get(page(case, theirs)).status_code == 404, case.name
        assert client.post(page(case, theirs), {"reason": "x", "cams_number": "1234567"}).status_code == 404, case.name
    assert fresh(theirs).has_safety_flag is False
    assert fresh(theirs).status == "active"


def test_anonymous_visitors_are_sent_to_log_in(client, amina):
    for case in CASES:
        response = client.get(page(case, amina))
        assert response.status_code == 302 and "login" in response["Location"], case.name


def test_the_menu_offers_only_what_applies_to_the_client_now(client, amina, admin):
    client.force_login(admin)

    def entries():
        html = client.get(profile(amina)).content.decode()
        return {case.name for case in CASES if page(case, amina) in html}

    assert entries() == {"assign_me", "assign", "enrol", "flag", "cams_link", "portal_invite", "archive"}

    in_scope(amina, actions.flag_client, amina, None, "Aggressive on the phone.")
    in_scope(amina, actions.archive_client, amina, None)
    in_scope(amina, actions.link_cams, amina, None, "1234567")
    in_scope(amina, actions.invite_to_portal, amina, None)
    client.post(reverse("clients:assign_me", args=[amina.pk]))
    assert entries() == {"assign", "unassign", "enrol", "unflag", "cams_unlink", "portal_resend", "portal_reset", "unarchive"}


def test_the_menu_is_a_details_dropdown_that_works_without_javascript(client, amina, caseworker):
    client.force_login(caseworker)
    html = client.get(profile(amina)).content.decode()
    assert '<details class="menu client-actions" data-menu>' in html
    assert "<summary" in html and ">Actions" in html


def test_the_auditor_sees_no_actions_menu_at_all(client, amina, auditor):
    client.force_login(auditor)
    assert "client-actions" not in client.get(profile(amina)).content.decode()


def test_a_page_that_no_longer_applies_sends_back_to_the_profile_saying_so(client, amina, admin):
    client.force_login(admin)
    response = client.get(reverse("clients:unflag", args=[amina.pk]), follow=True)
    assert response.redirect_chain == [(profile(amina), 302)]
    assert "does not apply to this client now" in response.content.decode()


def test_an_action_refused_between_the_form_and_the_post_says_why(client, amina, admin):
    client.force_login(admin)
    assert client.get(reverse("clients:flag", args=[amina.pk])).status_code == 200
    in_scope(amina, actions.flag_client, amina, None, "Raised by a colleague meanwhile.")
    # The page no longer applies: back to the profile, nothing written twice.
    response = client.post(reverse("clients:flag", args=[amina.pk]), {"reason": "Second flag"}, follow=True)
    assert response.redirect_chain[-1][0] == profile(amina)
    assert "Raised by a colleague meanwhile." in response.content.decode()


def test_every_action_page_shows_the_clients_frame_with_the_safety_banner(client, amina, admin):
    in_scope(amina, actions.flag_client, amina, None, "Do not meet alone.")
    client.force_login(admin)
    for name in ("assign", "unflag", "enrol", "cams_link", "archive", "portal_invite"):
        html = client.get(reverse(f"clients:{name}", args=[amina.pk])).content.decode()
        assert "client-safety-banner" in html and "Do not meet alone." in html, name
        assert 'id="client-name"' in html, name


def test_an_archived_client_leaves_the_list_and_comes_back_with_the_archived_filter(client, amina, manager):
    client.force_login(manager)
    response = client.post(reverse("clients:archive", args=[amina.pk]), follow=True)
    assert "Client archived." in response.content.decode()
    assert "Amina Haddad" not in client.get(reverse("clients:list")).content.decode()
    assert "Amina Haddad" in client.get(reverse("clients:list"), {"status": "archived"}).content.decode()
    client.post(reverse("clients:unarchive", args=[amina.pk]))
    assert "Amina Haddad" in client.get(reverse("clients:list")).content.decode()
    changes = [e.changes for e in events_of(amina, action=AuditEvent.Action.CHANGE)]
    assert changes == [{"status": ["active", "archived"]}, {"status": ["archived", "active"]}]
