import re

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Membership, Role
from caseload.tenancy.tests.helpers import events, make_role
from caseload.testing.factories import make_member, role


def test_it_lists_the_agencys_roles_and_never_the_other_agencys(as_user, admin, agency, other_agency):
    make_role(other_agency, "Their special role")
    response = as_user(admin).get(reverse("tenancy:role_list"))
    assert response.status_code == 200
    assert "Read-only auditor" in response.text
    assert "Their special role" not in response.text


def test_the_role_form_shows_every_permission_labelled_under_its_group(as_user, admin, agency):
    response = as_user(admin).get(reverse("tenancy:role_edit", args=[role(agency, "Caseworker").pk]))
    assert response.status_code == 200
    assert re.search(r"<h3 class=\"card-title\" id=\"permission-group-\d\">Audit log</h3>", response.text)
    assert "Export the audit log" in response.text
    assert re.search(r'value="clients\.view"[^>]* checked', response.text)
    assert not re.search(r'value="staff\.manage"[^>]* checked', response.text)


def test_it_creates_a_role_with_sorted_permissions_and_records_it(as_user, admin, agency):
    response = as_user(admin).post(reverse("tenancy:role_create"), {"name": "Intake worker", "permissions": ["clients.view", "audit.view"]})
    assert response.status_code == 302
    created = Role.objects.for_agency(agency).get(name="Intake worker")
    assert created.permissions == ["audit.view", "clients.view"]
    assert not created.is_seeded
    [event] = events(agency, created, AuditEvent.Action.CREATE)
    assert event.changes["permissions"] == [None, ["audit.view", "clients.view"]]


def test_an_unknown_permission_or_a_duplicate_name_is_a_form_error(as_user, admin, agency):
    response = as_user(admin).post(reverse("tenancy:role_create"), {"name": "caseworker", "permissions": ["clients.view", "root.everything"]})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "permissions"}
    assert Role.objects.for_agency(agency).count() == 5


def test_a_seeded_role_can_be_changed_and_the_change_is_recorded(as_user, admin, agency):
    caseworker_role = role(agency, "Caseworker")
    before = list(caseworker_role.permissions)
    response = as_user(admin).post(
        reverse("tenancy:role_edit", args=[caseworker_role.pk]), {"name": "Caseworker", "permissions": [*before, "audit.view"]}
    )
    assert response.status_code == 302
    [event] = events(agency, caseworker_role, AuditEvent.Action.CHANGE)
    assert event.changes == {"permissions": [before, sorted([*before, "audit.view"])]}


def test_a_seeded_role_cannot_be_deleted(as_user, admin, agency):
    front_desk = role(agency, "Front desk")
    response = as_user(admin).post(reverse("tenancy:role_delete", args=[front_desk.pk]))
    assert response.status_code == 400
    assert "can be changed but not deleted" in response.text
    assert Role.objects.for_agency(agency).filter(pk=front_desk.pk).exists()
    assert events(agency, front_desk, AuditEvent.Action.DELETE) == []


def test_a_role_in_use_cannot_be_deleted(as_user, admin, agency):
    intake = make_role(agency)
    member = make_member(agency, "Caseworker")
    Membership.objects.for_agency(agency).filter(pk=member.pk).update(role=intake)
    response = as_user(admin).post(reverse("tenancy:role_delete", args=[intake.pk]))
    assert response.status_code == 400
    assert "Staff members hold this role" in response.text
    assert Role.objects.for_agency(agency).filter(pk=intake.pk).exists()


def test_an_unused_role_is_deleted_and_recorded(as_user, admin, agency):
    intake = make_role(agency)
    response = as_user(admin).post(reverse("tenancy:role_delete", args=[intake.pk]))
    assert response.status_code == 302
    assert not Role.objects.for_agency(agency).filter(pk=intake.pk).exists()
    [event] = events(agency, intake, AuditEvent.Action.DELETE)
    assert event.changes["name"] == ["Intake worker", None]


def test_nobody_removes_staff_management_from_their_own_role(as_user, admin, agency):
    administrator = role(agency, "Administrator")
    kept = [code for code in administrator.permissions if code != "staff.manage"]
    response = as_user(admin).post(reverse("tenancy:role_edit", args=[administrator.pk]), {"name": "Administrator", "permissions": kept})
    assert response.status_code == 200
    assert response.context["form"].errors["permissions"] == ["You cannot remove your own permission to manage staff."]
    assert role(agency, "Administrator").has("staff.manage")


@pytest.mark.parametrize("name", ["role_edit", "role_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_agencys_role_is_not_found(as_user, outsider, agency, name, method):
    intake = make_role(agency)
    response = getattr(as_user(outsider), method)(reverse(f"tenancy:{name}", args=[intake.pk]), {"name": "Taken", "permissions": []})
    assert response.status_code == 404
    assert Role.objects.for_agency(agency).get(pk=intake.pk).name == "Intake worker"
