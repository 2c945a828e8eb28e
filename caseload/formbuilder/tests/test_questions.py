"""The agency-question actions: add, edit, retire, move, import and export, each a new version."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.formbuilder import engine, loading, questions, rendering
from caseload.formbuilder.models import CLIENT_PROFILE, FormExtension
from caseload.formbuilder.tests.question_helpers import FORM_KEY, a_definition, add, current, question
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def definition(db):
    return a_definition()


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def test_it_adds_a_question_with_a_key_from_its_english_label(agency, definition):
    extension = add(agency, label="Do you have a car?")

    assert extension.version == 1
    assert extension.fields == [
        {
            "key": "agency_do_you_have_a_car",
            "type": "yesno",
            "label": {"en": "Do you have a car?", "fr": "Do you have a car? (fr)"},
            "required": False,
        }
    ]


def test_each_change_writes_a_new_version_holding_every_question(agency, definition):
    add(agency, label="Do you have a car?")
    second = add(agency, label="Shift preference", kind="choice", choices="Day | Jour\nNight | Nuit")

    assert second.version == 2
    assert [f["key"] for f in second.fields] == ["agency_do_you_have_a_car", "agency_shift_preference"]
    assert second.fields[1]["choices"] == [
        {"value": "day", "label": {"en": "Day", "fr": "Jour"}},
        {"value": "night", "label": {"en": "Night", "fr": "Nuit"}},
    ]
    with agency_scope(agency):
        assert FormExtension.objects.for_agency(agency).filter(form_key=FORM_KEY).count() == 2


def test_the_question_appears_on_that_agencys_form_only(agency, other_agency, definition):
    add(agency, label="Do you have a car?")

    with agency_scope(agency):
        _d, _e, spec = loading.form_spec(agency, FORM_KEY)
    with agency_scope(other_agency):
        _d, _e, other_spec = loading.form_spec(other_agency, FORM_KEY)

    assert engine.field_keys(spec) == ["reason", "agency_do_you_have_a_car"]
    assert engine.field_keys(other_spec) == ["reason"]
    with agency_scope(agency):
        assert 'name="f-agency_do_you_have_a_car"' in rendering.render_fields(spec, {})


def test_a_record_answered_under_an_older_version_still_renders(agency, definition):
    first = add(agency, label="Do you have a car?")
    with agency_scope(agency):
        questions.retire_question(agency, None, FORM_KEY, "agency_do_you_have_a_car")
        old_spec = loading.record_spec(definition, FormExtension.objects.for_agency(agency).get(pk=first.pk))
        answers = engine.validate(old_spec, {"reason": "Job search", "agency_do_you_have_a_car": True})
        html = rendering.render_answers(old_spec, answers)
        current_keys = engine.field_keys(loading.form_spec(agency, FORM_KEY)[2])

    assert "Do you have a car?" in html
    assert current_keys == ["reason"]


def test_a_retired_questions_key_is_never_given_again(agency, definition):
    add(agency, label="Do you have a car?")
    with agency_scope(agency):
        questions.retire_question(agency, None, FORM_KEY, "agency_do_you_have_a_car")
    again = add(agency, label="Do you have a car?")

    assert [f["key"] for f in again.fields] == ["agency_do_you_have_a_car_2"]


def test_it_refuses_a_question_without_a_label_naming_the_field(agency, definition):
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, {"type": "text", "label": {"en": "", "fr": "Voiture"}})
    assert "label.en" in errors_of(excinfo)


def test_it_refuses_a_question_without_a_french_label(agency, definition):
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, {"type": "text", "label": {"en": "Car", "fr": " "}})
    assert "label.fr" in errors_of(excinfo)


def test_it_refuses_a_duplicate_of_an_agency_question_or_of_the_forms_own_field(agency, definition):
    add(agency, label="Do you have a car?")
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, question("do you have a CAR?"))
    assert "label.en" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, question("Reason for visit"))
    assert "label.en" in errors_of(excinfo)
    assert len(current(agency)) == 1


@pytest.mark.parametrize(
    "choices",
    [
        "",  # none
        "Day | Jour",  # only one
        "Day | Jour\nNight",  # no French
        "Day | Jour\nday | jour",  # twice
        "Day | Jour | Journée\nNight | Nuit",  # two bars
    ],
)
def test_it_refuses_bad_choices_naming_the_field(agency, definition, choices):
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, question("Shift", kind="choice", choices=choices))
    assert "choices" in errors_of(excinfo)
    assert current(agency) == []


def test_it_refuses_an_unknown_type_and_an_unknown_form(agency, definition):
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, FORM_KEY, question("Photo", kind="file"))
    assert "type" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.add_question(agency, None, "no_such_form", question("Car"))
    assert "form_key" in errors_of(excinfo)


def test_editing_keeps_the_key_and_the_values_of_choices_already_listed(agency, definition):
    add(agency, label="Shift", kind="choice", choices="Day | Jour\nNight | Nuit")
    with agency_scope(agency):
        extension = questions.update_question(
            agency,
            None,
            FORM_KEY,
            "agency_shift",
            {
                "label": {"en": "Preferred shift", "fr": "Quart préféré"},
                "choices": "Night | Nuit (modifié)\nEvening | Soir",
                "required": True,
            },
        )
    field = extension.fields[0]
    assert field["key"] == "agency_shift"
    assert field["required"] is True
    assert [c["value"] for c in field["choices"]] == ["night", "evening"]
    assert extension.version == 2


def test_an_edit_that_changes_nothing_writes_no_version(agency, definition):
    first = add(agency, label="Car", kind="text")
    with agency_scope(agency):
        again = questions.update_question(agency, None, FORM_KEY, "agency_car", {"label": {"en": "Car", "fr": "Car (fr)"}})
    assert again.pk == first.pk


def test_questions_move_up_and_down(agency, definition):
    add(agency, label="First", kind="text")
    add(agency, label="Second", kind="text")
    with agency_scope(agency):
        moved = questions.move_question(agency, None, FORM_KEY, "agency_second", "up")
        unchanged = questions.move_question(agency, None, FORM_KEY, "agency_second", "up")
    assert [f["key"] for f in moved.fields] == ["agency_second", "agency_first"]
    assert unchanged.pk == moved.pk
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.move_question(agency, None, FORM_KEY, "agency_second", "sideways")
    assert "direction" in errors_of(excinfo)


def test_an_unknown_question_is_named(agency, definition):
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.retire_question(agency, None, FORM_KEY, "agency_nothing")
    assert "key" in errors_of(excinfo)


def test_each_change_is_audited_with_keys_and_never_texts(agency, definition):
    member = make_member(agency, "Administrator")
    add(agency, label="Secret wording", kind="text", actor=member)
    with agency_scope(agency):
        event = AuditEvent.objects.for_agency(agency).filter(object_type="formbuilder.formextension").latest("pk")
        extension = FormExtension.objects.for_agency(agency).get()
    assert event.actor == member.user
    assert extension.created_by == member
    assert event.changes["questions"] == [[], ["agency_secret_wording"]]
    assert "Secret wording" not in json.dumps(event.changes)


def test_questions_export_and_import_back_as_a_new_version(agency, other_agency, definition):
    add(agency, label="Do you have a car?")
    add(agency, label="Shift", kind="multichoice", choices="Day | Jour\nNight | Nuit")
    with agency_scope(agency):
        exported = questions.export_questions(agency, None, FORM_KEY)
    assert exported["format"] == questions.EXPORT_FORMAT
    assert len(exported["fields"]) == 2

    with agency_scope(other_agency):
        imported = questions.import_questions(other_agency, None, FORM_KEY, json.dumps(exported))
    assert imported.fields == exported["fields"]
    assert imported.version == 1


def test_an_import_names_each_bad_question_and_writes_nothing(agency, definition):
    data = {
        "format": questions.EXPORT_FORMAT,
        "form_key": FORM_KEY,
        "fields": [
            question("Good one"),
            {"type": "text", "label": {"en": "No French"}},
            {"key": "reason", "type": "text", "label": {"en": "Taken", "fr": "Pris"}},
            question("Twice", key="agency_twice"),
            question("Twice again", key="agency_twice"),
        ],
    }
    with pytest.raises(ValidationError) as excinfo, agency_scope(agency):
        questions.import_questions(agency, None, FORM_KEY, data)
    errors = errors_of(excinfo)
    assert "fields.1.label.fr" in errors
    assert "fields.2.key" in errors
    assert "fields.4.key" in errors
    assert current(agency) == []


def test_an_import_refuses_what_is_not_a_questions_file(agency, definition):
    with agency_scope(agency):
        for bad in ("not json", json.dumps({"fields": []}), json.dumps({"format": questions.EXPORT_FORMAT, "form_key": "other"})):
            with pytest.raises(ValidationError):
                questions.import_questions(agency, None, FORM_KEY, bad)


def test_the_client_profile_takes_questions_too(agency):
    extension = add(agency, form_key=CLIENT_PROFILE, label="Bus route", kind="text")
    with agency_scope(agency):
        _d, _e, spec = loading.form_spec(agency, CLIENT_PROFILE)
    assert extension.form_key == CLIENT_PROFILE
    assert engine.field_keys(spec) == ["agency_bus_route"]
