"""Who may open and change the Administration pages: 403 for members without the permission."""

import pytest
from django.urls import get_resolver, reverse

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder, make_program, make_role
from caseload.testing.factories import make_member, role

TENANCY_URLS = sorted(
    pattern.name for pattern in get_resolver().url_patterns if getattr(pattern, "namespace", None) == "tenancy" for pattern in pattern.url_patterns
)

READ_ONLY_PAGES = {"home", "program_list", "funder_list", "staff_list", "role_list", "program_detail"}


@pytest.fixture
def rows(agency):
    """One row of each kind, and valid POST data for every write page about them."""
    program = make_program(agency, "Youth Job Connection")
    funder = make_funder(agency)
    intake = make_role(agency)
    member = make_member(agency, "Caseworker")
    with agency_scope(agency):
        member.programs.add(program)
    unassigned = make_program(agency, "Unassigned")
    objects = {
        "program_detail": program,
        "program_edit": program,
        "program_delete": unassigned,
        "program_staff_add": unassigned,
        "program_staff_remove": program,
        "funder_edit": funder,
        "funder_delete": funder,
        "staff_edit": member,
        "staff_deactivate": member,
        "role_edit": intake,
        "role_delete": intake,
    }
    post = {
        "agency_settings": {"name": "Renamed", "time_zone": "Europe/Paris", "languages": ["en"]},
        "program_create": {"name": "New program", "is_active": "on"},
        "program_edit": {"name": "Renamed program", "is_active": "on"},
        "program_delete": {},
        "program_staff_add": {"membership": member.pk},
        "program_staff_remove": {"membership": member.pk},
        "funder_create": {"name": "New funder"},
        "funder_edit": {"name": "Renamed funder"},
        "funder_delete": {},
        "privacy_statements": {"version": "2026-1", "text": "We keep your information safe."},
        "staff_add": {"email": "new.person@example.org", "full_name": "New Person", "role": role(agency, "Caseworker").pk},
        "staff_edit": {"role": role(agency, "Front desk").pk, "is_active": "on"},
        "staff_deactivate": {},
        "role_create": {"name": "New role", "permissions": ["clients.view"]},
        "role_edit": {"name": "Renamed role", "permissions": []},
        "role_delete": {},
    }
    return objects, post


def url_of(name, objects):
    return reverse(f"tenancy:{name}", args=[objects[name].pk] if name in objects else [])


def state(agency):
    """Everything an administration page could change, to compare before and after."""
    with agency_scope(agency):
        return {
            "agency": list(Agency.objects.filter(pk=agency.pk).values()),
            "programs": list(Program.objects.values().order_by("pk")),
            "funders": list(Funder.objects.values().order_by("pk")),
            "program_funders": list(Program.funders.through.objects.values_list("program_id", "funder_id").order_by("pk")),
            "roles": list(Role.objects.values().order_by("pk")),
            "memberships": list(Membership.objects.values().order_by("pk")),
            "membership_programs": list(Membership.programs.through.objects.values_list("membership_id", "program_id").order_by("pk")),
            "users": User.objects.count(),
            "events": AuditEvent.objects.count(),
        }


def test_the_sweep_knows_every_write_page():
    assert {"agency_settings", "program_create", "staff_add", "role_delete"} <= set(TENANCY_URLS)


@pytest.mark.parametrize("name", [name for name in TENANCY_URLS if name != "home"])
@pytest.mark.parametrize("role_name", ["Manager", "Caseworker", "Front desk", "Read-only auditor"])
def test_members_without_a_manage_permission_cannot_open_an_administration_page(client, agency, admin, rows, name, role_name):
    objects, _post = rows
    client.force_login(make_member(agency, role_name).user)
    assert client.get(url_of(name, objects)).status_code == 403


@pytest.mark.parametrize("name", [name for name in TENANCY_URLS if name != "home"])
@pytest.mark.parametrize("role_name", ["Read-only auditor", "Caseworker"])
def test_members_without_a_manage_permission_change_nothing(client, agency, admin, rows, name, role_name):
    objects, post = rows
    client.force_login(make_member(agency, role_name).user)
    before = state(agency)
    response = client.post(url_of(name, objects), post.get(name, {}))
    assert response.status_code == 403
    assert state(agency) == before


@pytest.mark.parametrize("name", sorted(set(TENANCY_URLS) - READ_ONLY_PAGES))
def test_the_same_post_by_an_administrator_does_change_something(client, agency, admin, rows, name):
    """The sweep above proves something only if its requests work for someone allowed to make them."""
    objects, post = rows
    client.force_login(admin)
    before = state(agency)
    response = client.post(url_of(name, objects), post[name])
    assert response.status_code == 302
    assert state(agency) != before


@pytest.mark.parametrize("name", sorted(READ_ONLY_PAGES))
def test_an_administrator_opens_every_page(client, agency, admin, rows, name):
    client.force_login(admin)
    assert client.get(url_of(name, rows[0])).status_code == 200


def test_the_home_page_shows_each_member_only_the_sections_they_may_open(client, agency, admin):
    auditor = make_member(agency, "Read-only auditor").user
    client.force_login(auditor)
    response = client.get(reverse("tenancy:home"))
    assert response.status_code == 200
    assert [s["label"] for s in response.context["sections"]][:1] == ["Audit log"]
    assert reverse("tenancy:staff_list") not in response.text
    client.force_login(admin)
    assert reverse("tenancy:staff_list") in client.get(reverse("tenancy:home")).text


def test_a_member_with_no_administration_section_is_refused_the_home_page(client, agency):
    client.force_login(make_member(agency, "Front desk").user)
    assert client.get(reverse("tenancy:home")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client, agency):
    response = client.get(reverse("tenancy:program_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
