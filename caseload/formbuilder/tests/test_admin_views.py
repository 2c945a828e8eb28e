"""Administration → Forms: the list, one form's agency questions, the client profile's."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseload.formbuilder import questions
from caseload.formbuilder.tests.question_helpers import FORM_KEY, a_definition, add, current
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition(db):
    return a_definition()


def page(definition, name: str = "questions") -> str:
    return reverse(f"formbuilder:form_{name}", args=[definition.pk])


def posted(**data) -> dict:
    return {"q-label_en": "", "q-label_fr": "", "q-type": "text", "q-choices": "", "q-help_en": "", "q-help_fr": "", **data}


def test_the_list_shows_the_forms_the_profile_and_the_number_of_questions(as_user, admin, agency, definition):
    add(agency, label="Do you have a car?")

    response = as_user(admin).get(reverse("formbuilder:admin_forms"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Test intake" in body and "test_intake" in body and "Client profile" in body
    assert reverse("formbuilder:form_definition", args=[definition.pk]) in body
    row = next(r for r in response.context["rows"] if r["definition"].pk == definition.pk)
    assert row["questions"] == 1


def test_the_administration_menu_has_forms(as_user, admin):
    response = as_user(admin).get(reverse("tenancy:home"))
    assert reverse("formbuilder:admin_forms") in response.content.decode()


def test_select_form_to_configure_goes_to_the_chosen_form(as_user, admin, definition):
    client = as_user(admin)
    response = client.get(reverse("formbuilder:admin_forms"), {"form": str(definition.pk)})
    assert response.status_code == 302 and response["Location"] == page(definition)
    response = client.get(reverse("formbuilder:admin_forms"), {"form": "profile"})
    assert response["Location"] == reverse("formbuilder:profile_questions")
    response = client.get(reverse("formbuilder:admin_forms"), {"form": "999999"})
    assert response.status_code == 400


def test_the_definition_downloads_as_json(as_user, admin, definition):
    response = as_user(admin).get(reverse("formbuilder:form_definition", args=[definition.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["key"] == FORM_KEY


def test_an_administrator_adds_a_question_that_the_preview_shows(as_user, admin, agency, definition):
    client = as_user(admin)
    response = client.post(
        page(definition),
        posted(
            **{
                "q-label_en": "Shift",
                "q-label_fr": "Quart",
                "q-type": "choice",
                "q-choices": "Day | Jour\nNight | Nuit",
                "q-required": "on",
            }
        ),
    )

    assert response.status_code == 302
    [field] = current(agency)
    assert field["key"] == "agency_shift" and field["required"] is True
    preview = client.get(page(definition)).content.decode()
    assert 'name="preview-agency_shift"' in preview
    assert 'name="preview-reason"' in preview


def test_another_agencys_preview_does_not_show_the_question(as_user, agency, outsider, definition):
    add(agency, label="Do you have a car?")
    response = as_user(outsider).get(page(definition))
    assert response.status_code == 200
    assert "agency_do_you_have_a_car" not in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"q-label_fr": "Voiture"}, "label_en"),
        ({"q-label_en": "Car"}, "label_fr"),
        ({"q-label_en": "Reason for visit", "q-label_fr": "Raison"}, "label_en"),
        ({"q-label_en": "Shift", "q-label_fr": "Quart", "q-type": "choice", "q-choices": "Day\nNight | Nuit"}, "choices"),
        ({"q-label_en": "Photo", "q-label_fr": "Photo", "q-type": "file"}, "type"),
    ],
)
def test_bad_question_input_is_refused_naming_the_field(as_user, admin, agency, definition, data, field):
    response = as_user(admin).post(page(definition), posted(**data))
    assert response.status_code == 400
    assert response.context["form"].errors.get(field)
    assert current(agency) == []


def test_an_administrator_edits_retires_and_moves_questions(as_user, admin, agency, definition):
    add(agency, label="First", kind="text")
    add(agency, label="Second", kind="text")
    client = as_user(admin)

    edit = client.get(page(definition, "question_edit"), {"key": "agency_first"})
    assert edit.status_code == 200 and edit.context["form"].initial["label_en"] == "First"
    response = client.post(
        page(definition, "question_edit"),
        {"key": "agency_first", **posted(**{"q-label_en": "Premier", "q-label_fr": "Premier fr"})},
    )
    assert response.status_code == 302
    assert current(agency)[0]["label"]["en"] == "Premier"

    response = client.post(page(definition, "question_move"), {"key": "agency_second", "direction": "up"})
    assert response.status_code == 302
    assert [f["key"] for f in current(agency)] == ["agency_second", "agency_first"]

    assert client.get(page(definition, "question_retire"), {"key": "agency_first"}).status_code == 200
    response = client.post(page(definition, "question_retire"), {"key": "agency_first"})
    assert response.status_code == 302
    assert [f["key"] for f in current(agency)] == ["agency_second"]


def test_an_unknown_question_is_a_404(as_user, admin, definition):
    client = as_user(admin)
    assert client.get(page(definition, "question_edit"), {"key": "agency_nothing"}).status_code == 404
    assert client.post(page(definition, "question_retire"), {"key": "agency_nothing"}).status_code == 404
    assert client.get(reverse("formbuilder:form_questions", args=[999999])).status_code == 404


def test_another_agencys_question_is_a_404(as_user, agency, outsider, definition):
    add(agency, label="Do you have a car?")
    client = as_user(outsider)
    assert client.get(page(definition, "question_edit"), {"key": "agency_do_you_have_a_car"}).status_code == 404
    assert client.post(page(definition, "question_retire"), {"key": "agency_do_you_have_a_car"}).status_code == 404
    assert (
        client.post(page(definition, "question_move"), {"key": "agency_do_you_have_a_car", "direction": "down"}).status_code
        == 404
    )
    assert [f["key"] for f in current(agency)] == ["agency_do_you_have_a_car"]


@pytest.mark.parametrize("name", ["admin_forms", "profile_questions", "profile_questions_export"])
def test_a_caseworker_is_refused_the_pages(as_user, caseworker, name):
    assert as_user(caseworker).get(reverse(f"formbuilder:{name}")).status_code == 403


def test_a_caseworker_cannot_add_a_question(as_user, caseworker, agency, definition):
    response = as_user(caseworker).post(page(definition), posted(**{"q-label_en": "Car", "q-label_fr": "Auto"}))
    assert response.status_code == 403
    assert current(agency) == []


def test_questions_download_and_upload_as_json(as_user, admin, agency, other_agency, outsider, definition):
    add(agency, label="Do you have a car?")
    response = as_user(admin).get(page(definition, "questions_export"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert [f["key"] for f in data["fields"]] == ["agency_do_you_have_a_car"]

    upload = SimpleUploadedFile("questions.json", json.dumps(data).encode(), content_type="application/json")
    response = as_user(outsider).post(page(definition, "questions_import"), {"file": upload})
    assert response.status_code == 302
    assert [f["key"] for f in current(other_agency)] == ["agency_do_you_have_a_car"]


def test_a_bad_upload_is_refused_with_the_question_named(as_user, admin, agency, definition):
    data = {"format": questions.EXPORT_FORMAT, "fields": [{"type": "text", "label": {"en": "No French"}}]}
    upload = SimpleUploadedFile("questions.json", json.dumps(data).encode(), content_type="application/json")
    response = as_user(admin).post(page(definition, "questions_import"), {"file": upload}, follow=True)
    assert "fields.0.label.fr" in response.content.decode()
    assert current(agency) == []


def test_the_client_profile_page_adds_profile_questions(as_user, admin, agency):
    client = as_user(admin)
    response = client.post(
        reverse("formbuilder:profile_questions"), posted(**{"q-label_en": "Bus route", "q-label_fr": "Trajet"})
    )
    assert response.status_code == 302
    with agency_scope(agency):
        assert [f["key"] for f in questions.current_questions(agency, "client_profile")] == ["agency_bus_route"]
    assert 'name="preview-agency_bus_route"' in client.get(reverse("formbuilder:profile_questions")).content.decode()
