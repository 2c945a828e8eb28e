import pytest
from django.urls import reverse

from caseload.tenancy import actions as tenancy_actions
from caseload.tenancy.middleware import SESSION_KEY
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_agency, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_agency_member(agency, other_agency, caseworker):
    """The caseworker of `agency`, also a manager at `other_agency`."""
    with agency_scope(other_agency):
        tenancy_actions.add_staff_member(
            agency=other_agency, actor=None, email=caseworker.email, full_name=caseworker.full_name, role=role(other_agency, "Manager")
        )
    return caseworker


def test_it_switches_to_an_agency_the_user_belongs_to(client, agency, other_agency, two_agency_member):
    client.force_login(two_agency_member)
    assert client.get(reverse("web:dashboard")).context["current_agency"] == agency

    response = client.post(reverse("web:switch_agency"), {"agency": other_agency.pk})

    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")
    assert client.session[SESSION_KEY] == other_agency.pk
    dashboard = client.get(reverse("web:dashboard"))
    assert dashboard.context["current_agency"] == other_agency
    assert f"You are now working in {other_agency.name}" in dashboard.content.decode()


def test_it_offers_the_switcher_only_to_members_of_several_agencies(client, agency, other_agency, two_agency_member, admin):
    client.force_login(two_agency_member)
    assert reverse("web:switch_agency") in client.get(reverse("web:dashboard")).content.decode()
    client.force_login(admin)
    assert reverse("web:switch_agency") not in client.get(reverse("web:dashboard")).content.decode()


def test_it_refuses_an_agency_the_user_does_not_belong_to(client, agency, other_agency, caseworker):
    client.force_login(caseworker)
    response = client.post(reverse("web:switch_agency"), {"agency": other_agency.pk})
    assert response.status_code == 404
    assert SESSION_KEY not in client.session
    assert client.get(reverse("web:dashboard")).context["current_agency"] == agency


def test_it_refuses_an_agency_where_the_membership_was_deactivated(client, agency, other_agency, outsider, two_agency_member):
    with agency_scope(other_agency):
        membership = two_agency_member.memberships.get(agency=other_agency)
        tenancy_actions.deactivate_membership(membership, actor=outsider)
    client.force_login(two_agency_member)
    assert client.post(reverse("web:switch_agency"), {"agency": other_agency.pk}).status_code == 404


@pytest.mark.parametrize("value", ["", "not-a-number", "999999"])
def test_it_answers_404_to_nonsense(client, agency, caseworker, value):
    client.force_login(caseworker)
    assert client.post(reverse("web:switch_agency"), {"agency": value}).status_code == 404


def test_it_only_accepts_post(client, agency, other_agency, two_agency_member):
    client.force_login(two_agency_member)
    assert client.get(reverse("web:switch_agency"), {"agency": other_agency.pk}).status_code == 405
    assert SESSION_KEY not in client.session


def test_it_sends_an_anonymous_visitor_to_log_in(client, agency):
    response = client.post(reverse("web:switch_agency"), {"agency": agency.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_third_agency_never_appears_in_the_switcher(client, agency, other_agency, two_agency_member):
    stranger = make_agency("Lakeshore Stranger Agency")
    client.force_login(two_agency_member)
    html = client.get(reverse("web:dashboard")).content.decode()
    assert other_agency.name in html
    assert stranger.name not in html
