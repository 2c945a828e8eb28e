import pytest
from django.urls import reverse

from caseload.tenancy import actions as tenancy_actions
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db


def add_program(agency, name):
    with agency_scope(agency):
        return tenancy_actions.create_object(Program, agency=agency, actor=None, data={"name": name})


def test_it_sends_an_anonymous_visitor_to_the_login_page(client):
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_it_greets_a_member_in_their_agency(client, agency, caseworker):
    client.force_login(caseworker)
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert caseworker.get_short_name() in html
    assert agency.name in html
    assert "My work today" in html


def test_it_counts_only_the_members_own_agency(client, agency, other_agency, caseworker, outsider):
    add_program(agency, "Youth Pathways")
    for name in ("Other Program A", "Other Program B", "Other Program C"):
        add_program(other_agency, name)
    make_member(other_agency, "Caseworker")
    client.force_login(caseworker)
    response = client.get(reverse("web:dashboard"))
    summary = response.context["summary"]
    assert summary.active_programs == 1
    assert summary.active_staff == 1
    html = response.content.decode()
    assert other_agency.name not in html
    assert "Other Program" not in html


def test_it_lists_the_programs_the_member_is_assigned_to(client, agency):
    program = add_program(agency, "Skills Development")
    add_program(agency, "Unassigned Program")
    membership = make_member(agency, "Caseworker")
    membership.programs.add(program)
    client.force_login(membership.user)
    html = client.get(reverse("web:dashboard")).content.decode()
    assert "Skills Development" in html
    assert "Unassigned Program" not in html


def test_it_shows_the_outbox_count_only_to_those_who_may_see_the_outbox(client, agency):
    front_desk = make_member(agency, "Front desk").user
    client.force_login(front_desk)
    response = client.get(reverse("web:dashboard"))
    assert response.context["summary"].queued_messages is None
    assert "Messages to send" not in response.content.decode()


def test_it_shows_the_setup_checklist_to_administrators_only(client, agency, admin, caseworker):
    client.force_login(admin)
    assert "Set up your agency" in client.get(reverse("web:dashboard")).content.decode()
    client.force_login(caseworker)
    assert "Set up your agency" not in client.get(reverse("web:dashboard")).content.decode()


def test_it_shows_administration_links_only_to_members_who_administer(client, agency, admin, caseworker):
    client.force_login(admin)
    assert "Administration" in client.get(reverse("web:dashboard")).content.decode()
    client.force_login(caseworker)
    assert "Administration" not in client.get(reverse("web:dashboard")).content.decode()


def test_it_tells_a_user_without_an_agency_they_have_no_access_yet(client, db):
    user = UserFactory()
    client.force_login(user)
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 200
    assert "not part of an agency yet" in response.content.decode()


def test_it_runs_a_bounded_number_of_queries(client, agency, admin, django_assert_max_num_queries):
    for n in range(5):
        add_program(agency, f"Program {n}")
        make_member(agency, "Caseworker")
    client.force_login(admin)
    client.get(reverse("web:dashboard"))  # warm caches (content types, sessions)
    # 3 for the request (session, user, memberships), at most 15 for the dashboard itself; the
    # casework sections' constant count is checked in test_dashboard_casework.py.
    with django_assert_max_num_queries(3 + 15):
        response = client.get(reverse("web:dashboard"))
    assert response.status_code == 200
