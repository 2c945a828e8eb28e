"""Enrolling a client in the agency's programs, and ending an enrolment."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.tests.action_helpers import enrolments, events_of, in_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad")


@pytest.fixture
def workshop(agency):
    return make_program(agency, "Job Search Workshop")


def enrol(client, program, start=None, actor=None):
    return in_scope(client, actions.enrol_client, client, actor, program, start)


class TestActions:
    def test_enrol_and_end_are_audited(self, amina, workshop, caseworker):
        enrolment = enrol(amina, workshop, date(2026, 1, 5), caseworker)
        in_scope(amina, actions.end_enrolment, enrolment, caseworker, date(2026, 3, 1))
        (ended,) = enrolments(amina)
        assert (ended.start_date, ended.end_date, ended.created_by) == (date(2026, 1, 5), date(2026, 3, 1), caseworker)
        trail = [(e.action, e.object_repr) for e in events_of(amina) if e.object_type == "clients.enrolment"]
        assert trail == [(AuditEvent.Action.CREATE, "Job Search Workshop"), (AuditEvent.Action.CHANGE, "Job Search Workshop")]

    def test_one_open_enrolment_per_program_but_again_after_it_ended(self, amina, workshop):
        first = enrol(amina, workshop, date(2026, 1, 5))
        with pytest.raises(ValidationError) as refused:
            enrol(amina, workshop)
        assert list(refused.value.message_dict) == ["program"]
        in_scope(amina, actions.end_enrolment, first, None, date(2026, 2, 1))
        enrol(amina, workshop, date(2026, 3, 1))
        assert len(enrolments(amina)) == 2

    def test_a_program_of_another_agency_or_inactive_is_refused(self, agency, other_agency, amina):
        theirs = make_program(other_agency, "Their program")
        closed = make_program(agency, "Closed program", is_active=False)
        for program in (theirs, closed):
            with pytest.raises(ValidationError) as refused:
                enrol(amina, program)
            assert list(refused.value.message_dict) == ["program"]
        assert enrolments(amina) == []

    def test_an_end_before_the_start_is_refused_and_ending_twice_does_not_apply(self, amina, workshop):
        enrolment = enrol(amina, workshop, date(2026, 3, 1))
        with pytest.raises(ValidationError) as refused:
            in_scope(amina, actions.end_enrolment, enrolment, None, date(2026, 2, 1))
        assert list(refused.value.message_dict) == ["end_date"]
        in_scope(amina, actions.end_enrolment, enrolment, None, date(2026, 3, 2))
        with pytest.raises(actions.NotApplicable):
            in_scope(amina, actions.end_enrolment, enrolment, None, date(2026, 3, 3))


class TestPages:
    def test_enrol_from_the_menu_shows_on_the_profile(self, client, amina, workshop, caseworker):
        client.force_login(caseworker)
        response = client.post(
            reverse("clients:enrol", args=[amina.pk]), {"program": workshop.pk, "start_date": "2026-01-05"}, follow=True
        )
        html = response.content.decode()
        assert "Enrolled in Job Search Workshop." in html
        assert 'id="enrolments-heading"' in html and "Since" in html

    def test_a_program_of_another_agency_is_an_invalid_choice(self, client, other_agency, amina, caseworker):
        theirs = make_program(other_agency, "Their program")
        client.force_login(caseworker)
        response = client.post(reverse("clients:enrol", args=[amina.pk]), {"program": theirs.pk, "start_date": "2026-01-05"})
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["program"]
        assert enrolments(amina) == []

    def test_end_from_the_menu_with_a_bad_date_names_the_field(self, client, amina, workshop, caseworker):
        enrolment = enrol(amina, workshop, date(2026, 3, 1))
        client.force_login(caseworker)
        url = reverse("clients:end_enrolment", args=[amina.pk])
        response = client.post(url, {"enrolment": enrolment.pk, "end_date": "2026-02-01"})
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["end_date"]
        assert client.post(url, {"enrolment": enrolment.pk, "end_date": "2026-03-31"}).status_code == 302
        assert enrolments(amina)[0].end_date == date(2026, 3, 31)


class TestAPI:
    URL = "/api/v1/clients/{}/{}"

    def test_enrol_list_and_end(self, api, amina, workshop, caseworker):
        session = api.as_user(caseworker)
        created = session.post(
            self.URL.format(amina.pk, "enrolments/"), {"program": workshop.pk, "start_date": "2026-01-05"}, format="json"
        )
        assert created.status_code == 201
        body = created.json()
        assert (body["program"], body["program_name"], body["end_date"]) == (workshop.pk, "Job Search Workshop", None)
        assert [row["id"] for row in session.get(self.URL.format(amina.pk, "enrolments/")).json()] == [body["id"]]
        ended = session.post(
            self.URL.format(amina.pk, "end-enrolment/"), {"enrolment": body["id"], "end_date": "2026-02-01"}, format="json"
        )
        assert ended.status_code == 200 and ended.json()["end_date"] == "2026-02-01"
        again = session.post(self.URL.format(amina.pk, "end-enrolment/"), {"enrolment": body["id"]}, format="json")
        assert again.status_code == 409

    def test_bad_input_is_a_400_naming_the_field(self, api, agency, other_agency, register, amina, workshop, caseworker):
        session = api.as_user(caseworker)
        theirs = make_program(other_agency, "Their program")
        response = session.post(self.URL.format(amina.pk, "enrolments/"), {"program": theirs.pk}, format="json")
        assert response.status_code == 400 and errors_of(response) == {"program": ["does_not_exist"]}
        wei = register(agency, given_name="Wei", family_name="Tanaka")
        weis = enrol(wei, workshop)
        response = session.post(self.URL.format(amina.pk, "end-enrolment/"), {"enrolment": weis.pk}, format="json")
        assert response.status_code == 400 and errors_of(response) == {"enrolment": ["does_not_exist"]}
        assert enrolments(amina) == [] and enrolments(wei)[0].end_date is None

    @pytest.mark.parametrize(
        ("role", "allowed"),
        [("Administrator", True), ("Manager", True), ("Caseworker", True), ("Front desk", True), ("Read-only auditor", False)],
    )
    def test_it_needs_clients_change(self, api, agency, amina, workshop, role, allowed):
        session = api.as_user(make_member(agency, role).user)
        response = session.post(self.URL.format(amina.pk, "enrolments/"), {"program": workshop.pk}, format="json")
        assert response.status_code == (201 if allowed else 403)
        assert len(enrolments(amina)) == (1 if allowed else 0)

    def test_another_agency_gets_404(self, api, amina, workshop, outsider):
        session = api.as_user(outsider)
        assert session.get(self.URL.format(amina.pk, "enrolments/")).status_code == 404
        assert session.post(self.URL.format(amina.pk, "enrolments/"), {"program": workshop.pk}, format="json").status_code == 404
