"""The rules the actions keep whoever calls them (pages, API, commands)."""

import pytest
from django.core.exceptions import ValidationError

from caseload.tenancy import actions
from caseload.tenancy.models import Membership, Program
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder, make_program, membership_of
from caseload.testing.factories import make_member, role


def test_the_last_active_administrator_cannot_be_deactivated(agency, admin):
    with agency_scope(agency), pytest.raises(ValidationError) as refusal:
        actions.deactivate_membership(membership_of(admin, agency), actor=None)
    assert "at least one active administrator" in str(refusal.value)
    assert membership_of(admin, agency).is_active


def test_one_of_two_administrators_can_go_but_not_the_last(agency, admin):
    other = make_member(agency, "Administrator")
    with agency_scope(agency):
        actions.deactivate_membership(other, actor=None)
        with pytest.raises(ValidationError):
            actions.update_object(membership_of(admin, agency), actor=None, data={"role": role(agency, "Manager")})
    assert membership_of(admin, agency).role.name == "Administrator"


def test_an_inactive_account_does_not_count_as_an_administrator(agency, admin):
    other = make_member(agency, "Administrator")
    other.user.is_active = False
    other.user.save()
    with agency_scope(agency), pytest.raises(ValidationError):
        actions.deactivate_membership(membership_of(admin, agency), actor=None)


def test_a_role_edit_may_not_leave_the_agency_without_an_administrator(agency, admin):
    administrator = role(agency, "Administrator")
    with agency_scope(agency), pytest.raises(ValidationError) as refusal:
        actions.update_object(administrator, actor=None, data={"permissions": ["agency.manage"]})
    assert refusal.value.message_dict.keys() == {"permissions"}
    assert role(agency, "Administrator").has("staff.manage")


def test_a_role_edit_is_fine_while_another_role_keeps_an_administrator(agency, admin):
    supervisor = make_member(agency, "Manager")
    with agency_scope(agency):
        actions.update_object(role(agency, "Manager"), actor=None, data={"permissions": ["staff.manage"]})
        actions.update_object(role(agency, "Administrator"), actor=None, data={"permissions": ["agency.manage"]})
    assert list(actions.active_administrators(agency)) == [supervisor]


def test_programs_of_another_agency_are_refused_as_a_link(agency, other_agency, caseworker):
    theirs = make_program(other_agency, "Theirs")
    membership = membership_of(caseworker, agency)
    with agency_scope(agency), pytest.raises(ValidationError) as refusal:
        actions.update_object(membership, actor=None, data={"programs": [theirs.pk]})
    assert refusal.value.message_dict.keys() == {"programs"}
    with agency_scope(agency):
        assert not membership.programs.exists()


def test_a_funder_of_another_agency_is_refused_on_a_program(agency, other_agency):
    theirs = make_funder(other_agency, "Theirs")
    with agency_scope(agency), pytest.raises(ValidationError):
        actions.create_object(Program, agency=agency, actor=None, data={"name": "Mixed", "funders": [theirs]})
    assert not Program.objects.for_agency(agency).exists()


def test_a_role_of_another_agency_is_refused_on_a_membership(agency, other_agency, caseworker):
    theirs = role(other_agency, "Administrator")
    membership = membership_of(caseworker, agency)
    with agency_scope(agency), pytest.raises(ValidationError) as refusal:
        actions.update_object(membership, actor=None, data={"role": theirs})
    assert refusal.value.message_dict.keys() == {"role"}
    assert Membership.objects.for_agency(agency).get(user=caseworker).role.name == "Caseworker"
