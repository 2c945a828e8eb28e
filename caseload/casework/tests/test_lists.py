"""Saved client lists: the actions (casework.lists) and their pages."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.casework import lists
from caseload.casework.models import ClientList, ClientListEntry
from caseload.casework.tests.batch_helpers import a_client, count, in_scope, many_clients, merge
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def make_list(agency, actor, name="Spring cohort", clients=(), **data):
    return in_scope(agency, lists.create_list, agency, actor, {"name": name, **data}, clients=clients)


def members(agency, client_list) -> set[int]:
    return set(
        in_scope(
            agency,
            lambda: list(
                ClientListEntry.objects.for_agency(agency).filter(client_list=client_list).values_list("client_id", flat=True)
            ),
        )
    )


class TestActions:
    def test_a_list_is_made_private_to_its_owner_with_its_clients(self, agency, caseworker):
        amina = a_client(agency)
        saved = make_list(agency, caseworker, "  Spring   cohort ", clients=[amina])
        assert saved.name == "Spring cohort" and not saved.is_shared
        assert saved.owner.user == caseworker
        assert members(agency, saved) == {amina.pk}

    def test_adding_twice_adds_once_and_removing_takes_off(self, agency, caseworker):
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        saved = make_list(agency, caseworker, clients=[amina])
        assert in_scope(agency, lists.add_clients, saved, caseworker, [amina, marc]) == 1
        assert members(agency, saved) == {amina.pk, marc.pk}
        assert in_scope(agency, lists.remove_clients, saved, caseworker, [amina.pk, 999999]) == 1
        assert members(agency, saved) == {marc.pk}

    def test_clients_of_another_agency_never_enter(self, agency, other_agency, caseworker):
        saved = make_list(agency, caseworker)
        theirs = a_client(other_agency)
        assert in_scope(agency, lists.add_clients, saved, caseworker, [theirs.pk]) == 0
        assert members(agency, saved) == set()

    def test_merged_profiles_are_refused_by_name(self, agency, caseworker):
        amina, double = a_client(agency), a_client(agency, "Amina", "Hadad")
        merge(amina, double)
        saved = make_list(agency, caseworker)
        with pytest.raises(ValidationError) as failure:
            in_scope(agency, lists.add_clients, saved, caseworker, [amina, double])
        assert f"#{double.client_number}" in failure.value.message_dict["clients"][0]
        assert members(agency, saved) == set()

    def test_a_list_holds_at_most_the_batch_limit(self, agency, caseworker, settings):
        settings.CASEWORK_BATCH_MAX_CLIENTS = 2
        saved = make_list(agency, caseworker)
        with pytest.raises(ValidationError) as failure:
            in_scope(agency, lists.add_clients, saved, caseworker, many_clients(agency, 3))
        assert "at most 2 clients" in failure.value.message_dict["clients"][0]

    def test_a_name_is_required(self, agency, caseworker):
        with pytest.raises(ValidationError) as failure:
            make_list(agency, caseworker, "   ")
        assert "name" in failure.value.message_dict

    def test_every_change_is_audited_without_names(self, agency, caseworker):
        amina = a_client(agency)
        saved = make_list(agency, caseworker, clients=[amina])
        in_scope(agency, lists.update_list, saved, caseworker, {"name": "Autumn cohort", "is_shared": True})
        in_scope(agency, lists.remove_clients, saved, caseworker, [amina])
        in_scope(agency, lists.delete_list, saved, caseworker)
        events = in_scope(
            agency, lambda: list(AuditEvent.objects.for_agency(agency).filter(object_type="casework.clientlist").order_by("pk"))
        )
        assert [e.action for e in events] == ["create", "change", "change", "change", "delete"]
        assert events[1].changes["added"] == [None, [amina.pk]]
        assert events[2].changes["name"] == ["Spring cohort", "Autumn cohort"]
        assert count(agency, ClientList) == 0

    def test_only_the_owner_manages_and_an_administrator_a_shared_list(self, agency, caseworker, admin):
        mine = make_list(agency, caseworker)
        shared = make_list(agency, caseworker, "Shared", is_shared=True)
        boss = in_scope(agency, lambda: admin.memberships.get(agency=agency))
        colleague = make_member(agency, "Caseworker")
        assert lists.may_manage(mine, mine.owner)
        assert not lists.may_manage(mine, colleague) and not lists.may_manage(mine, boss)
        assert lists.may_manage(shared, boss) and not lists.may_manage(shared, colleague)


class TestPages:
    def test_the_lists_page_shows_mine_and_shared_ones_only(self, as_user, agency, caseworker):
        colleague = make_member(agency, "Caseworker").user
        make_list(agency, caseworker, "My cohort")
        make_list(agency, colleague, "Their private list")
        make_list(agency, colleague, "Agency workshop", is_shared=True)
        page = text(as_user(caseworker).get(reverse("casework:lists")))
        assert "My cohort" in page and "Agency workshop" in page and "Their private list" not in page

    def test_a_list_is_made_from_the_lists_page(self, as_user, agency, caseworker):
        response = as_user(caseworker).post(reverse("casework:lists"), {"name": "Job fair", "is_shared": "on"})
        saved = in_scope(agency, lambda: ClientList.objects.for_agency(agency).get())
        assert response.status_code == 302 and response.url == reverse("casework:list_detail", args=[saved.pk])
        assert saved.is_shared and saved.name == "Job fair"

    def test_a_blank_name_is_a_form_error(self, as_user, agency, caseworker):
        response = as_user(caseworker).post(reverse("casework:lists"), {"name": ""})
        assert response.status_code == 400 and "new-list-errors" in text(response)
        assert count(agency, ClientList) == 0

    def test_the_detail_shows_the_clients_and_batch_actions(self, as_user, agency, caseworker):
        amina = a_client(agency)
        saved = make_list(agency, caseworker, clients=[amina])
        page = text(as_user(caseworker).get(reverse("casework:list_detail", args=[saved.pk])))
        assert "Amina Haddad" in page and f'value="{amina.pk}" form="list-remove"' in page
        assert f'name="list" value="{saved.pk}"' in page and 'name="kind" value="note"' in page

    def test_clients_are_added_by_number_and_removed_by_ticking(self, as_user, agency, caseworker):
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        saved = make_list(agency, caseworker)
        url = reverse("casework:list_detail", args=[saved.pk])
        web = as_user(caseworker)
        response = web.post(
            url, {"action": "add", "add-numbers": f"{amina.client_number}, {marc.client_number} 99999"}, follow=True
        )
        assert "2 clients added." in text(response) and "99999" in text(response)
        assert members(agency, saved) == {amina.pk, marc.pk}
        web.post(url, {"action": "remove", "client": [amina.pk]})
        assert members(agency, saved) == {marc.pk}

    def test_a_bad_number_is_a_form_error(self, as_user, agency, caseworker):
        saved = make_list(agency, caseworker)
        response = as_user(caseworker).post(
            reverse("casework:list_detail", args=[saved.pk]), {"action": "add", "add-numbers": "abc"}
        )
        assert response.status_code == 400 and "is not a client number" in text(response)

    def test_clients_ticked_on_the_clients_list_go_on_a_new_or_existing_list(self, as_user, agency, caseworker):
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        web = as_user(caseworker)
        add = reverse("casework:list_add")
        page = text(web.post(add, {"client": [amina.pk, marc.pk], "step": "select"}))
        assert "2 clients" in page and "Which list?" in page
        response = web.post(add, {"clients": f"{amina.pk},{marc.pk}", "step": "add", "to-new_name": "Job fair"})
        saved = in_scope(agency, lambda: ClientList.objects.for_agency(agency).get(name="Job fair"))
        assert response.url == reverse("casework:list_detail", args=[saved.pk])
        assert members(agency, saved) == {amina.pk, marc.pk}
        third = a_client(agency, "Wei", "Zhang")
        web.post(add, {"clients": str(third.pk), "step": "add", "to-client_list": saved.pk})
        assert members(agency, saved) == {amina.pk, marc.pk, third.pk}

    def test_adding_needs_a_list_or_a_name(self, as_user, agency, caseworker):
        response = as_user(caseworker).post(reverse("casework:list_add"), {"clients": str(a_client(agency).pk), "step": "add"})
        assert response.status_code == 400 and "Choose a list, or give a name" in text(response)

    def test_the_owner_renames_and_deletes(self, as_user, agency, caseworker):
        saved = make_list(agency, caseworker, clients=[a_client(agency)])
        web = as_user(caseworker)
        assert web.get(reverse("casework:list_edit", args=[saved.pk])).status_code == 200
        web.post(reverse("casework:list_edit", args=[saved.pk]), {"name": "Autumn cohort"})
        saved.refresh_from_db()
        assert saved.name == "Autumn cohort"
        assert "1 entry" in text(web.get(reverse("casework:list_delete", args=[saved.pk])))
        assert web.post(reverse("casework:list_delete", args=[saved.pk])).url == reverse("casework:lists")
        assert count(agency, ClientList) == 0
        assert count(agency, type(a_client(agency))) == 2  # the clients stay

    def test_a_shared_list_is_worked_by_colleagues_but_managed_by_its_owner(self, as_user, agency, caseworker):
        saved = make_list(agency, caseworker, is_shared=True)
        amina = a_client(agency)
        colleague = as_user(make_member(agency, "Caseworker").user)
        colleague.post(
            reverse("casework:list_detail", args=[saved.pk]), {"action": "add", "add-numbers": str(amina.client_number)}
        )
        assert members(agency, saved) == {amina.pk}
        assert colleague.get(reverse("casework:list_edit", args=[saved.pk])).status_code == 403
        assert colleague.post(reverse("casework:list_delete", args=[saved.pk])).status_code == 403
        assert count(agency, ClientList) == 1

    def test_another_members_private_list_is_not_found(self, as_user, agency, caseworker):
        saved = make_list(agency, caseworker)
        colleague = as_user(make_member(agency, "Caseworker").user)
        for name in ("casework:list_detail", "casework:list_edit", "casework:list_delete"):
            assert colleague.get(reverse(name, args=[saved.pk])).status_code == 404

    def test_another_agencys_list_is_not_found(self, as_user, agency, caseworker, outsider):
        saved = make_list(agency, caseworker, is_shared=True)
        for name in ("casework:list_detail", "casework:list_edit", "casework:list_delete"):
            assert as_user(outsider).get(reverse(name, args=[saved.pk])).status_code == 404

    @pytest.mark.parametrize("role", ["Front desk", "Read-only auditor"])
    def test_a_role_without_casework_batch_is_refused(self, as_user, agency, caseworker, role):
        saved = make_list(agency, caseworker, is_shared=True)
        web = as_user(make_member(agency, role).user)
        assert web.get(reverse("casework:lists")).status_code == 403
        assert web.post(reverse("casework:lists"), {"name": "Mine"}).status_code == 403
        assert web.get(reverse("casework:list_detail", args=[saved.pk])).status_code == 403
        assert web.post(reverse("casework:list_add"), {"clients": "1", "step": "add", "to-new_name": "x"}).status_code == 403
        assert count(agency, ClientList) == 1
