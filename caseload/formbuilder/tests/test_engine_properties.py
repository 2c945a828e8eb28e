"""Properties of the engine over random valid definitions and answers (hypothesis)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from caseload.formbuilder import engine
from caseload.formbuilder.tests.form_strategies import definitions, definitions_with_answers

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WRONG_TYPE = {
    "text": 5,
    "textarea": ["a"],
    "number": "many",
    "date": "31/12/2020",
    "choice": 7,
    "multichoice": "not a list",
    "yesno": "maybe",
    "clb": [5],
    "file": "a file",
    "group": {"not": "a list"},
}


def _applying(spec: dict, cleaned: dict, kinds=None) -> list[dict]:
    """Top-level fields that apply to these answers (their applicability only depends on earlier ones)."""
    return [
        field
        for field in spec["fields"]
        if field["type"] != "heading" and (kinds is None or field["type"] in kinds) and engine.applies(field, cleaned)
    ]


@SETTINGS
@given(definitions())
def test_it_accepts_every_generated_definition(spec):
    engine.check_definition(spec)


@SETTINGS
@given(definitions_with_answers())
def test_it_validates_fitting_answers_to_their_normal_form(case):
    spec, answers, expected = case
    assert engine.validate(spec, copy.deepcopy(answers)) == expected
    # Cleaned answers are a fixed point, and a draft accepts them too.
    assert engine.validate(spec, expected) == expected
    assert engine.validate(spec, expected, draft=True) == expected


@SETTINGS
@given(definitions_with_answers(), st.data())
def test_it_names_a_field_given_the_wrong_type(case, data):
    spec, answers, expected = case
    fields = _applying(spec, expected)
    assume(fields)
    field = data.draw(st.sampled_from(fields))
    answers = {**answers, field["key"]: WRONG_TYPE[field["type"]]}
    with pytest.raises(engine.AnswerErrors) as refused:
        engine.validate(spec, answers)
    assert field["key"] in refused.value.errors


@SETTINGS
@given(definitions_with_answers(), st.data())
def test_it_names_a_missing_required_field_unless_draft(case, data):
    spec, answers, expected = case
    fields = [field for field in _applying(spec, expected) if field.get("required")]
    assume(fields)
    field = data.draw(st.sampled_from(fields))
    answers = {key: value for key, value in answers.items() if key != field["key"]}
    with pytest.raises(engine.AnswerErrors) as refused:
        engine.validate(spec, answers)
    assert refused.value.errors[field["key"]] == "This field is required."
    try:
        engine.validate(spec, answers, draft=True)
    except engine.AnswerErrors as errors:  # later fields may now be refused, never this one
        assert field["key"] not in errors.errors


@SETTINGS
@given(definitions_with_answers(), st.data())
def test_it_names_a_value_outside_the_code_list(case, data):
    spec, answers, expected = case
    fields = _applying(spec, expected, kinds=("choice", "multichoice"))
    assume(fields)
    field = data.draw(st.sampled_from(fields))
    answers = {**answers, field["key"]: "NOT-LISTED" if field["type"] == "choice" else ["NOT-LISTED"]}
    with pytest.raises(engine.AnswerErrors) as refused:
        engine.validate(spec, answers)
    assert refused.value.errors[field["key"]] == "Choose one of the listed values."


@SETTINGS
@given(definitions_with_answers())
def test_it_names_an_unknown_question(case):
    spec, answers, _expected = case
    with pytest.raises(engine.AnswerErrors) as refused:
        engine.validate(spec, {**answers, "NOT_A_QUESTION": "x"})
    assert refused.value.errors["NOT_A_QUESTION"] == "Unknown question."


@SETTINGS
@given(definitions_with_answers())
def test_it_displays_and_flattens_every_field(case):
    spec, _answers, cleaned = case
    rows = engine.display(spec, cleaned, "fr")
    assert [row["key"] for row in rows] == [field["key"] for field in spec["fields"]]
    for row in rows:
        assert row["answered"] == (row["key"] in cleaned)
        assert bool(row["text"]) == (row["key"] in cleaned)
    flat = engine.flatten(spec, cleaned, "en")
    assert list(flat) == [key for key, _heading in engine.columns(spec, "en")]


@SETTINGS
@given(definitions_with_answers(), st.data())
def test_a_record_saved_under_version_1_still_displays_under_version_2(case, data):
    """Version 2 removes, renames and retypes fields: a version-1 record reads back under both."""
    spec, _answers, cleaned = case
    keys = [field["key"] for field in spec["fields"]]
    version_2 = data.draw(definitions(key=spec["key"], version=2))
    # Reuse version 1's keys on version 2's (differently typed) fields; the rest are renamed or gone.
    for field, key in zip(version_2["fields"], data.draw(st.permutations(keys)), strict=False):
        field["key"] = key
    version_2["fields"] = [field for field in version_2["fields"] if "show_if" not in field]
    before = engine.display(spec, cleaned)
    after = engine.display(version_2, cleaned)
    assert [row["key"] for row in after] == [field["key"] for field in version_2["fields"]]
    assert all(isinstance(row["text"], str) for row in after)
    assert set(engine.flatten(version_2, cleaned)) == {key for key, _heading in engine.columns(version_2)}
    # Under its own version, the record reads exactly as before.
    assert engine.display(spec, cleaned) == before
