"""Assigning staff to a client: several per client, one primary; reassign; remove; "Assign to me"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.tests.action_helpers import assignments, events_of, in_scope
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad")


@pytest.fixture
def staff(agency):
    """Three caseworkers of the agency, by first name."""
    return {name: make_member(agency, "Caseworker", email=f"{name}@northside.example.org") for name in ("ana", "ben", "chloe")}


def assign(client, membership, **kwargs):
    return in_scope(client, actions.assign_staff, client, None, membership, **kwargs)


def email(name):
    return f"{name}@northside.example.org"


class TestAssignStaff:
    def test_the_first_staff_member_is_primary_and_the_next_ones_are_not(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"])
        assert assignments(amina) == [(email("ana"), True), (email("ben"), False)]

    def test_making_another_primary_demotes_the_old_one(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"], primary=True)
        assert sorted(assignments(amina)) == [(email("ana"), False), (email("ben"), True)]

    def test_naming_an_assigned_staff_member_as_primary_promotes_them(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"])
        assign(amina, staff["ben"], primary=True)
        assert sorted(assignments(amina)) == [(email("ana"), False), (email("ben"), True)]

    def test_reassigning_replaces_the_primary_in_one_step(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"])
        assign(amina, staff["chloe"], replaces=staff["ana"])
        assert sorted(assignments(amina)) == [(email("ben"), False), (email("chloe"), True)]

    def test_assigning_someone_already_assigned_is_refused_naming_the_field(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"])
        with pytest.raises(ValidationError) as refused:
            assign(amina, staff["ben"])
        assert "staff" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            assign(amina, staff["ana"], primary=True)
        assert "already the primary" in refused.value.message_dict["staff"][0]

    def test_an_inactive_staff_member_cannot_be_assigned(self, agency, amina, staff):
        with agency_scope(agency):
            staff["ana"].is_active = False
            staff["ana"].save()
        with pytest.raises(ValidationError) as refused:
            assign(amina, staff["ana"])
        assert "no longer an active staff member" in refused.value.message_dict["staff"][0]
        assert assignments(amina) == []

    def test_staff_of_another_agency_cannot_be_assigned(self, amina, other_agency):
        theirs = make_member(other_agency, "Caseworker")
        with pytest.raises(ValidationError) as refused:
            in_scope(amina, actions.assign_staff, amina, None, theirs)
        assert refused.value.message_dict == {"staff": ["Choose a staff member of your agency."]}
        assert assignments(amina) == []

    def test_each_change_is_audited_on_the_client(self, amina, staff):
        assign(amina, staff["ana"])
        assign(amina, staff["ben"], primary=True)
        in_scope(amina, actions.unassign_staff, amina, None, staff["ben"])
        trail = [
            (e.action, e.object_type, e.changes.get("is_primary"))
            for e in events_of(amina)
            if e.object_type == "clients.assignment"
        ]
        assert trail == [
            (AuditEvent.Action.CREATE, "clients.assignment", [None, True]),
            (AuditEvent.Action.CHANGE, "clients.assignment", [True, False]),  # Ana demoted
            (AuditEvent.Action.CREATE, "clients.assignment", [None, True]),
            (AuditEvent.Action.DELETE, "clients.assignment", [True, None]),  # Ben removed
            (AuditEvent.Action.CHANGE, "clients.assignment", [False, True]),  # Ana primary again
        ]


class TestUnassign:
    def test_removing_the_primary_makes_the_longest_assigned_primary(self, amina, staff):
        for name in ("ana", "ben", "chloe"):
            assign(amina, staff[name])
        in_scope(amina, actions.unassign_staff, amina, None, staff["ana"])
        assert assignments(amina) == [(email("ben"), True), (email("chloe"), False)]

    def test_removing_the_last_leaves_nobody(self, amina, staff):
        assign(amina, staff["ana"])
        in_scope(amina, actions.unassign_staff, amina, None, staff["ana"])
        assert assignments(amina) == []

    def test_removing_someone_not_assigned_is_refused(self, amina, staff):
        with pytest.raises(ValidationError) as refused:
            in_scope(amina, actions.unassign_staff, amina, None, staff["ana"])
        assert "not assigned" in refused.value.message_dict["staff"][0]


class TestPages:
    def test_assign_to_me_from_the_menu(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:assign_me", args=[amina.pk]), follow=True)
        assert assignments(amina) == [(caseworker.email, True)]
        html = response.content.decode()
        assert "You are now the primary staff member." in html
        assert reverse("clients:assign_me", args=[amina.pk]) not in html  # no longer offered

    def test_the_staff_card_shows_who_works_with_the_client(self, client, amina, staff, caseworker):
        assign(amina, staff["ana"])
        client.force_login(caseworker)
        html = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
        assert 'id="staff-heading"' in html
        assert staff["ana"].user.full_name in html and "Primary" in html

    def test_the_form_offers_only_active_staff_of_the_agency(self, client, agency, amina, staff, caseworker, outsider):
        with agency_scope(agency):
            staff["chloe"].is_active = False
            staff["chloe"].save()
        client.force_login(caseworker)
        html = client.get(reverse("clients:assign", args=[amina.pk])).content.decode()
        assert f'value="{staff["ana"].pk}"' in html
        assert f'value="{staff["chloe"].pk}"' not in html
        assert outsider.full_name not in html

    def test_staff_of_another_agency_is_an_invalid_choice_and_nothing_is_written(self, client, amina, caseworker, other_agency):
        theirs = make_member(other_agency, "Caseworker")
        client.force_login(caseworker)
        response = client.post(reverse("clients:assign", args=[amina.pk]), {"staff": theirs.pk})
        assert response.status_code == 400
        assert response.context["form"].errors["staff"]
        assert assignments(amina) == []

    def test_no_staff_chosen_names_the_field(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:assign", args=[amina.pk]), {})
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["staff"]

    def test_reassign_through_the_form(self, client, amina, staff, caseworker):
        assign(amina, staff["ana"])
        client.force_login(caseworker)
        response = client.post(
            reverse("clients:assign", args=[amina.pk]), {"staff": staff["ben"].pk, "replaces": staff["ana"].pk}
        )
        assert response.status_code == 302
        assert assignments(amina) == [(email("ben"), True)]

    def test_remove_through_the_form(self, client, amina, staff, caseworker):
        assign(amina, staff["ana"])
        client.force_login(caseworker)
        response = client.post(reverse("clients:unassign", args=[amina.pk]), {"staff": staff["ana"].pk})
        assert response.status_code == 302
        assert assignments(amina) == []


URL = "/api/v1/clients/{}/{}"


class TestAPI:
    def test_assign_list_and_unassign(self, api, agency, amina, staff, caseworker):
        session = api.as_user(caseworker)
        created = session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ana"].pk}, format="json")
        assert created.status_code == 201
        assert created.json()["is_primary"] is True and created.json()["staff"] == staff["ana"].pk
        session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ben"].pk, "is_primary": True}, format="json")
        listed = session.get(URL.format(amina.pk, "assignments/")).json()
        assert [(row["staff"], row["is_primary"]) for row in listed] == [(staff["ben"].pk, True), (staff["ana"].pk, False)]
        left = session.post(URL.format(amina.pk, "unassign/"), {"staff": staff["ben"].pk}, format="json")
        assert left.status_code == 200
        assert [(row["staff"], row["is_primary"]) for row in left.json()] == [(staff["ana"].pk, True)]

    def test_staff_of_another_agency_is_a_400_naming_the_field(self, api, amina, caseworker, other_agency):
        theirs = make_member(other_agency, "Caseworker")
        response = api.as_user(caseworker).post(URL.format(amina.pk, "assignments/"), {"staff": theirs.pk}, format="json")
        assert response.status_code == 400
        assert errors_of(response) == {"staff": ["does_not_exist"]}
        assert assignments(amina) == []

    def test_assigning_twice_is_a_400_naming_staff(self, api, amina, staff, caseworker):
        session = api.as_user(caseworker)
        session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ana"].pk}, format="json")
        response = session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ana"].pk}, format="json")
        assert response.status_code == 400
        assert list(errors_of(response)) == ["staff"]

    @pytest.mark.parametrize(
        ("role", "allowed"),
        [("Administrator", True), ("Manager", True), ("Caseworker", True), ("Front desk", False), ("Read-only auditor", False)],
    )
    def test_it_needs_clients_assign_to_write_and_clients_view_to_read(self, api, agency, amina, staff, role, allowed):
        session = api.as_user(make_member(agency, role).user)
        assert session.get(URL.format(amina.pk, "assignments/")).status_code == 200
        response = session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ana"].pk}, format="json")
        assert response.status_code == (201 if allowed else 403)
        assert len(assignments(amina)) == (1 if allowed else 0)

    def test_another_agencys_client_is_a_404(self, api, amina, staff, outsider):
        session = api.as_user(outsider)
        assert session.get(URL.format(amina.pk, "assignments/")).status_code == 404
        assert session.post(URL.format(amina.pk, "assignments/"), {"staff": staff["ana"].pk}, format="json").status_code == 404
        assert session.post(URL.format(amina.pk, "unassign/"), {"staff": staff["ana"].pk}, format="json").status_code == 404
        assert assignments(amina) == []
