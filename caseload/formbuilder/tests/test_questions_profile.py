"""The agency's questions on the client profile: the edit page, the action, the Overview."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.clients.actions import register_client
from caseload.formbuilder import engine, questions
from caseload.formbuilder.models import CLIENT_PROFILE, ProfileAnswers
from caseload.formbuilder.profile_questions import export_columns, export_values
from caseload.formbuilder.tests.question_helpers import add
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency):
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad"})


@pytest.fixture
def bus_route(agency):
    """A required text question on the agency's client profile."""
    return add(agency, form_key=CLIENT_PROFILE, label="Bus route", kind="text", required=True)


def edit_data(**extra) -> dict:
    data = {
        "given_name": "Amina",
        "family_name": "Haddad",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
        "phones-MIN_NUM_FORMS": "0",
        "phones-MAX_NUM_FORMS": "1000",
    }
    return {**data, **extra}


def answers_of(agency, client):
    with agency_scope(agency):
        row = ProfileAnswers.objects.for_agency(agency).filter(client=client).first()
    return row.answers if row else None


def test_the_edit_page_asks_the_agency_questions(as_user, caseworker, amina, bus_route):
    response = as_user(caseworker).get(reverse("clients:edit", args=[amina.pk]))
    assert response.status_code == 200
    assert 'name="aq-agency_bus_route"' in response.content.decode()


def test_the_answers_are_saved_with_the_profile_and_shown_on_the_overview(as_user, caseworker, agency, amina, bus_route):
    client = as_user(caseworker)
    response = client.post(reverse("clients:edit", args=[amina.pk]), edit_data(**{"aq-agency_bus_route": "Route 52"}))

    assert response.status_code == 302, response.content.decode()[:2000]
    assert answers_of(agency, amina) == {"agency_bus_route": "Route 52"}
    overview = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert "Agency questions" in overview and "Route 52" in overview and "Bus route" in overview


def test_a_missing_required_answer_is_named_and_nothing_is_saved(as_user, caseworker, agency, amina, bus_route):
    response = as_user(caseworker).post(reverse("clients:edit", args=[amina.pk]), edit_data(given_name="Aminata"))

    assert response.status_code == 400
    assert response.context["agency_questions"].errors["agency_bus_route"]
    assert "This field is required." in response.content.decode()
    amina.refresh_from_db()
    assert amina.given_name == "Amina"
    assert answers_of(agency, amina) is None


def test_an_agency_without_profile_questions_edits_as_before(as_user, caseworker, agency, amina):
    response = as_user(caseworker).post(reverse("clients:edit", args=[amina.pk]), edit_data(given_name="Aminata"))
    assert response.status_code == 302
    overview = as_user(caseworker).get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert "Agency questions" not in overview


def test_the_action_validates_audits_field_names_only_and_skips_no_change(agency, amina, bus_route, admin):
    with agency_scope(agency):
        with pytest.raises(engine.AnswerErrors) as excinfo:
            questions.save_profile_answers(amina, admin, {"agency_bus_route": "x" * 300})
        assert "agency_bus_route" in excinfo.value
        with pytest.raises(engine.AnswerErrors):
            questions.save_profile_answers(amina, admin, {"agency_unknown": "x"})

        row = questions.save_profile_answers(amina, admin, {"agency_bus_route": "Route 52"})
        again = questions.save_profile_answers(amina, admin, {"agency_bus_route": "Route 52"})
        events = list(AuditEvent.objects.for_agency(agency).filter(object_type="formbuilder.profileanswers"))

    assert again.pk == row.pk and row.extension == bus_route and row.updated_by == admin
    assert len(events) == 1
    assert events[0].client_id == amina.pk
    assert "agency_bus_route" in events[0].changes
    assert "Route 52" not in str(events[0].changes)


def test_answers_under_an_older_version_still_show_after_the_question_is_retired(as_user, caseworker, agency, amina, bus_route):
    with agency_scope(agency):
        questions.save_profile_answers(amina, None, {"agency_bus_route": "Route 52"})
        questions.retire_question(agency, None, CLIENT_PROFILE, "agency_bus_route")
    overview = as_user(caseworker).get(reverse("clients:detail", args=[amina.pk])).content.decode()
    assert "Bus route" in overview and "Route 52" in overview


def test_another_agencys_questions_are_not_asked(as_user, outsider, other_agency, agency, bus_route):
    with agency_scope(other_agency):
        theirs = register_client(agency=other_agency, actor=None, data={"given_name": "Li", "family_name": "Wei"})
    response = as_user(outsider).get(reverse("clients:edit", args=[theirs.pk]))
    assert response.status_code == 200
    assert "agency_bus_route" not in response.content.decode()


def test_the_answers_give_export_columns(agency, amina, bus_route):
    with agency_scope(agency):
        questions.save_profile_answers(amina, None, {"agency_bus_route": "Route 52"})
        assert export_columns(agency) == [("agency_bus_route", "Bus route")]
        assert export_values(amina) == {"agency_bus_route": "Route 52"}
