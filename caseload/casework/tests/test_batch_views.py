"""The batch pages: the selection on the clients list, the form, the confirm step, the run and its summary."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from caseload.casework.batch import run_batch
from caseload.casework.lists import create_list
from caseload.casework.models import BatchAction, CaseNote, Communication
from caseload.casework.tests.batch_helpers import DAY, a_client, a_program, count, in_scope, many_clients, merge, note_data
from caseload.clients.models import Enrolment
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

NEW = reverse("casework:batch_new")
NOTE_FIELDS = {
    "data-note_type": "general",
    "data-contact_date": DAY.isoformat(),
    "data-body": "Invited to the job fair.",
    "data-status": "final",
}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def post_all_steps(web, selection: dict, fields: dict = NOTE_FIELDS, kind: str = "note"):
    """Fill the form, take the confirm step's hidden fields, and confirm."""
    confirm = web.post(NEW, {**selection, "kind": kind, "step": "form", **fields})
    assert confirm.status_code == 200, text(confirm)
    token = re.search(r'name="token" value="([0-9a-f]+)"', confirm.content.decode()).group(1)
    return web.post(NEW, {**selection, "kind": kind, "step": "confirm", "token": token, **fields})


class TestTheClientsList:
    def test_it_offers_a_checkbox_per_client_and_the_batch_bar(self, as_user, caseworker, agency):
        amina = a_client(agency)
        page = text(as_user(caseworker).get(reverse("clients:list")))
        assert f'name="client" value="{amina.pk}" form="batch-selection"' in page
        assert 'id="batch-selection"' in page and f'action="{NEW}"' in page
        assert 'value="filter"' in page and "With the 1 client matching these filters" in page
        assert reverse("casework:list_add") in page

    def test_search_results_can_be_ticked_too(self, as_user, caseworker, agency):
        amina = a_client(agency)
        page = text(as_user(caseworker).get(reverse("clients:list"), {"q": "Haddad"}))
        assert f'name="client" value="{amina.pk}" form="batch-selection" aria-label="Select client number {amina.client_number}"' in page
        assert "With the 1 client found" in page

    def test_a_role_without_batch_sees_neither_checkboxes_nor_bar(self, as_user, agency):
        a_client(agency)
        front_desk = make_member(agency, "Front desk").user
        page = text(as_user(front_desk).get(reverse("clients:list")))
        assert "batch-selection" not in page and 'name="client"' not in page
        found = text(as_user(front_desk).get(reverse("clients:list"), {"q": "Haddad"}))
        assert "Haddad" in found and 'name="client"' not in found and "Select client number" not in found


class TestTheSteps:
    def test_ticked_clients_get_the_note_after_the_confirm_step(self, as_user, caseworker, agency):
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        web = as_user(caseworker)
        first = web.post(NEW, {"client": [amina.pk, marc.pk], "kind": "note", "step": "select"})
        assert first.status_code == 200
        page = text(first)
        assert "2 clients" in page and "Amina Haddad" in page and "Marc Tremblay" in page
        assert 'name="data-body"' in page
        assert count(agency, CaseNote) == 0  # showing the form writes nothing

        confirm = web.post(NEW, {"clients": f"{amina.pk},{marc.pk}", "kind": "note", "step": "form", **NOTE_FIELDS})
        assert "Invited to the job fair." in text(confirm) and "Create for 2 clients" in text(confirm)
        assert count(agency, CaseNote) == 0  # nor does the confirm step

        done = post_all_steps(web, {"clients": f"{amina.pk},{marc.pk}"})
        batch = in_scope(agency, lambda: BatchAction.objects.for_agency(agency).get())
        assert done.status_code == 302 and done.url == reverse("casework:batch_detail", args=[batch.pk])
        assert count(agency, CaseNote, batch=batch) == 2
        assert batch.source == "Chosen on the clients list"

    def test_a_second_click_on_create_opens_the_first_batch(self, as_user, caseworker, agency):
        amina = a_client(agency)
        web = as_user(caseworker)
        confirm = web.post(NEW, {"clients": str(amina.pk), "kind": "note", "step": "form", **NOTE_FIELDS})
        token = re.search(r'name="token" value="([0-9a-f]+)"', confirm.content.decode()).group(1)
        fields = {"clients": str(amina.pk), "kind": "note", "step": "confirm", "token": token, **NOTE_FIELDS}
        first, second = web.post(NEW, fields), web.post(NEW, fields)
        assert first.url == second.url
        assert count(agency, BatchAction) == 1 and count(agency, CaseNote) == 1

    def test_a_form_error_is_shown_on_the_field_and_writes_nothing(self, as_user, caseworker, agency):
        amina = a_client(agency)
        response = as_user(caseworker).post(
            NEW, {"clients": str(amina.pk), "kind": "note", "step": "form", **NOTE_FIELDS, "data-body": ""}
        )
        assert response.status_code == 400
        assert 'id="batch-form-errors"' in text(response)
        assert count(agency, CaseNote) == 0

    def test_a_failing_client_is_named_and_nothing_is_written(self, as_user, caseworker, agency):
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        from caseload.casework.communications import agency_today

        fields = {
            "data-communication_kind": "reminder",
            "data-direction": "outgoing",
            "data-date": agency_today(agency).isoformat(),
            "data-subject": "Job fair",
            "data-body": "Tomorrow 10 am.",
        }
        response = post_all_steps(as_user(caseworker), {"clients": f"{amina.pk},{marc.pk}"}, fields, kind="communication")
        assert response.status_code == 400
        page = text(response)
        assert f"Amina Haddad (#{amina.client_number})" in page and "Nothing was created" in page
        assert count(agency, Communication) == 0 and count(agency, BatchAction) == 0

    def test_another_agencys_clients_are_left_out_with_a_warning(self, as_user, caseworker, agency, other_agency):
        amina = a_client(agency)
        theirs = a_client(other_agency, "Marc", "Tremblay")
        web = as_user(caseworker)
        page = text(web.post(NEW, {"client": [amina.pk, theirs.pk], "kind": "note", "step": "select"}))
        assert "1 selected client is not a client of your agency and was left out." in page
        assert "Marc Tremblay" not in page
        post_all_steps(web, {"clients": f"{amina.pk},{theirs.pk}"})
        assert count(agency, CaseNote) == 1 and count(other_agency, CaseNote) == 0

    def test_all_clients_matching_a_filter_are_resolved_as_the_list_resolves_them(self, as_user, caseworker, agency):
        youth = a_program(agency)
        amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
        a_client(agency, "Wei", "Zhang")
        in_scope(agency, Enrolment.objects.create, agency=agency, client=amina, program=youth)
        in_scope(agency, Enrolment.objects.create, agency=agency, client=marc, program=youth)
        selection = {"scope": "filter", "filter": f"program={youth.pk}&page=2", "client": []}
        web = as_user(caseworker)
        page = text(web.post(NEW, {**selection, "kind": "note", "step": "select"}))
        assert "2 clients" in page and "Wei Zhang" not in page and "Youth Job Connection" in page
        post_all_steps(web, {"scope": "filter", "filter": f"program={youth.pk}"})
        batch = in_scope(agency, lambda: BatchAction.objects.for_agency(agency).get())
        assert batch.client_count == 2 and "Youth Job Connection" in batch.source

    def test_a_search_selects_the_results_it_showed(self, as_user, caseworker, agency):
        a_client(agency)
        a_client(agency, "Marc", "Tremblay")
        page = text(as_user(caseworker).post(NEW, {"scope": "filter", "filter": "q=Tremblay", "kind": "note", "step": "select"}))
        assert "1 client" in page and "Marc Tremblay" in page and "Amina Haddad" not in page

    def test_a_saved_list_is_a_selection(self, as_user, caseworker, agency):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        saved = in_scope(agency, create_list, agency, caseworker, {"name": "Spring cohort"}, clients=clients)
        response = as_user(caseworker).get(NEW, {"list": saved.pk, "kind": "task"})
        assert response.status_code == 200
        page = text(response)
        assert "Saved list: Spring cohort" in page and "2 clients" in page and 'name="data-title"' in page

    def test_too_many_clients_are_refused_with_the_limit(self, as_user, caseworker, agency, settings):
        settings.CASEWORK_BATCH_MAX_CLIENTS = 2
        clients = many_clients(agency, 3)
        response = as_user(caseworker).post(NEW, {"scope": "filter", "filter": "", "kind": "note", "step": "select"})
        assert response.status_code == 400
        assert "at most 2 clients; 3 are selected" in text(response)
        response = as_user(caseworker).post(NEW, {"client": [c.pk for c in clients], "kind": "note", "step": "select"})
        assert response.status_code == 400

    def test_merged_profiles_are_named_and_refused(self, as_user, caseworker, agency):
        amina, double = a_client(agency), a_client(agency, "Amina", "Hadad")
        merge(amina, double)
        response = as_user(caseworker).post(NEW, {"client": [amina.pk, double.pk], "kind": "note", "step": "select"})
        assert response.status_code == 400
        assert "merged" in text(response) and f"(#{double.client_number})" in text(response)

    def test_without_a_selection_it_explains_and_lists_recent_batches(self, as_user, caseworker, agency):
        in_scope(agency, run_batch, agency, caseworker, "note", [a_client(agency)], note_data())
        page = text(as_user(caseworker).get(NEW))
        assert "No clients selected" in page and "Recent batch actions" in page

    def test_without_a_kind_it_asks_what_to_create(self, as_user, caseworker, agency):
        page = text(as_user(caseworker).post(NEW, {"client": [a_client(agency).pk], "step": "select"}))
        assert "What do you want to create?" in page and 'name="kind" value="service"' in page


class TestTheSummary:
    def test_it_shows_what_who_when_and_links_the_clients(self, as_user, caseworker, agency):
        amina = a_client(agency)
        batch = in_scope(
            agency,
            run_batch,
            agency,
            caseworker,
            "note",
            [amina],
            note_data(body="Bring your resume."),
            source="Saved list: Spring",
        )
        page = text(as_user(caseworker).get(reverse("casework:batch_detail", args=[batch.pk])))
        assert "Case note for 1 client " in page
        assert "Bring your resume." in page and "Saved list: Spring" in page
        assert reverse("clients:detail", args=[amina.pk]) in page
        assert caseworker.full_name in page

    def test_private_notes_stay_private_on_the_summary(self, as_user, caseworker, agency):
        batch = in_scope(
            agency, run_batch, agency, caseworker, "note", [a_client(agency)], note_data(body="Very private", is_private=True)
        )
        colleague = make_member(agency, "Caseworker").user
        page = text(as_user(colleague).get(reverse("casework:batch_detail", args=[batch.pk])))
        assert "Very private" not in page and "These notes are private" in page
        assert "Very private" in text(as_user(caseworker).get(reverse("casework:batch_detail", args=[batch.pk])))

    def test_another_agencys_batch_is_not_found(self, as_user, outsider, agency, caseworker):
        batch = in_scope(agency, run_batch, agency, caseworker, "note", [a_client(agency)], note_data())
        assert as_user(outsider).get(reverse("casework:batch_detail", args=[batch.pk])).status_code == 404


class TestPermissions:
    @pytest.mark.parametrize("role", ["Front desk", "Read-only auditor"])
    def test_a_role_without_casework_batch_is_refused(self, as_user, agency, caseworker, role):
        amina = a_client(agency)
        batch = in_scope(agency, run_batch, agency, caseworker, "note", [amina], note_data())
        web = as_user(make_member(agency, role).user)
        assert web.get(NEW).status_code == 403
        assert web.post(NEW, {"clients": str(amina.pk), "kind": "note", "step": "confirm", **NOTE_FIELDS}).status_code == 403
        assert web.get(reverse("casework:batch_detail", args=[batch.pk])).status_code == 403
        assert count(agency, CaseNote) == 1

    def test_another_members_private_list_is_not_found(self, as_user, agency, caseworker):
        saved = in_scope(agency, create_list, agency, caseworker, {"name": "Mine"}, clients=[a_client(agency)])
        colleague = make_member(agency, "Caseworker").user
        assert as_user(colleague).get(NEW, {"list": saved.pk, "kind": "note"}).status_code == 404

    def test_another_agencys_list_is_not_found(self, as_user, agency, other_agency, outsider):
        theirs = in_scope(
            other_agency,
            create_list,
            other_agency,
            outsider,
            {"name": "Theirs", "is_shared": True},
            clients=[a_client(other_agency)],
        )
        manager = make_member(agency, "Manager").user
        assert as_user(manager).get(NEW, {"list": theirs.pk, "kind": "note"}).status_code == 404


class TestEveryKindThroughThePages:
    def test_a_task_for_each_client(self, as_user, caseworker, agency):
        from caseload.casework.models import Task

        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        fields = {
            "data-title": "Bring your resume",
            "data-priority": "normal",
            "data-assigned_to": "",
            "data-due_on": "2026-04-01",
            "data-remind_days_before": "1",
        }
        response = post_all_steps(as_user(caseworker), {"clients": ",".join(str(c.pk) for c in clients)}, fields, kind="task")
        assert response.status_code == 302
        tasks = in_scope(agency, lambda: list(Task.objects.for_agency(agency).select_related("assigned_to")))
        assert len(tasks) == 2 and all(t.assigned_to.user_id == caseworker.pk and t.title == "Bring your resume" for t in tasks)

    def test_a_task_for_clients_without_a_portal_is_refused_on_the_assignee(self, as_user, caseworker, agency):
        from caseload.casework.models import Task

        amina = a_client(agency)
        fields = {"data-title": "Bring your resume", "data-priority": "normal", "data-assigned_to": "client"}
        response = post_all_steps(as_user(caseworker), {"clients": str(amina.pk)}, fields, kind="task")
        assert response.status_code == 400 and "no portal account" in text(response)
        assert count(agency, Task) == 0

    def test_a_supportive_service_for_each_client(self, as_user, caseworker, agency):
        from caseload.casework.models import SupportiveService, SupportServiceType

        bus = in_scope(agency, lambda: SupportServiceType.objects.for_agency(agency).get(name="Transportation"))
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        fields = {
            "data-service_type": bus.pk,
            "data-date": DAY.isoformat(),
            "data-amount": "12.50",
            "data-vendor": "City transit",
        }
        response = post_all_steps(as_user(caseworker), {"clients": ",".join(str(c.pk) for c in clients)}, fields, kind="service")
        assert response.status_code == 302
        assert count(agency, SupportiveService, service_type=bus, vendor="City transit") == 2

    def test_a_communication_for_each_client(self, as_user, caseworker, agency):
        clients = [a_client(agency), a_client(agency, "Marc", "Tremblay")]
        fields = {
            "data-communication_kind": "phone",
            "data-direction": "outgoing",
            "data-date": DAY.isoformat(),
            "data-subject": "Job fair",
        }
        response = post_all_steps(
            as_user(caseworker), {"clients": ",".join(str(c.pk) for c in clients)}, fields, kind="communication"
        )
        assert response.status_code == 302
        assert count(agency, Communication, kind="phone", subject="Job fair") == 2
