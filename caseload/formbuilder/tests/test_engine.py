"""The engine on hand-written definitions: each type, each condition, each refusal."""

from __future__ import annotations

import datetime

import pytest

from caseload.formbuilder import engine

EN_FR = {"en": "Label", "fr": "Libellé"}


def spec_with(*fields, code_lists=None) -> dict:
    return {
        "format": engine.FORMAT,
        "key": "sample",
        "version": 1,
        "name": {"en": "Sample", "fr": "Exemple"},
        "scope": "client",
        "code_lists": code_lists
        or {
            "colours": [
                {"value": "red", "label": {"en": "Red", "fr": "Rouge"}},
                {"value": "blue", "label": {"en": "Blue", "fr": "Bleu"}},
            ]
        },
        "fields": list(fields),
    }


def field(key, kind, **options) -> dict:
    return {"key": key, "type": kind, "label": {"en": key.title(), "fr": key.upper()}, **options}


def errors_of(spec, answers, **kwargs) -> dict:
    with pytest.raises(engine.AnswerErrors) as refused:
        engine.validate(spec, answers, **kwargs)
    return refused.value.errors


@pytest.mark.parametrize(
    ("definition", "given", "cleaned"),
    [
        (field("a", "text"), "  hello ", "hello"),
        (field("a", "textarea"), "one\r\ntwo", "one\ntwo"),
        (field("a", "number"), "2.50", "2.5"),
        (field("a", "number"), 4.0, 4),
        (field("a", "number", integer=True), "12", 12),
        (field("a", "date"), datetime.date(2024, 3, 5), "2024-03-05"),
        (field("a", "date"), "2024-03-05", "2024-03-05"),
        (field("a", "choice", code_list="colours"), "blue", "blue"),
        (field("a", "multichoice", code_list="colours"), ["blue", "red", "blue"], ["red", "blue"]),
        (field("a", "yesno"), False, False),
        (field("a", "clb"), {"speaking": "4", "listening": 5}, {"listening": 5, "speaking": 4}),
        (field("a", "file"), 12, 12),
        (field("a", "group", fields=[field("name", "text")]), [{"name": "Ann"}, {"name": ""}], [{"name": "Ann"}]),
    ],
)
def test_it_cleans_each_type(definition, given, cleaned):
    assert engine.validate(spec_with(definition), {"a": given}) == {"a": cleaned}


@pytest.mark.parametrize(
    ("definition", "given", "message"),
    [
        (field("a", "text", max_length=3), "abcd", "Enter at most 3 characters."),
        (field("a", "text"), "two\nlines", "Enter a single line."),
        (field("a", "text"), "nul\x00", "Remove the invalid characters."),
        (field("a", "number", integer=True), 2.5, "Enter a whole number."),
        (field("a", "number", min=1), 0, "Enter a number no less than 1."),
        (field("a", "number", max=10), "11", "Enter a number no more than 10."),
        (field("a", "number"), "NaN", "Enter a number."),
        (field("a", "number"), "1e40", "Enter a smaller number."),
        (field("a", "number"), True, "Enter a number."),
        (field("a", "date"), "2024-02-30", "Enter a date (YYYY-MM-DD)."),
        (field("a", "date", max="today"), "2999-01-01", None),
        (field("a", "choice", code_list="colours"), "green", "Choose one of the listed values."),
        (field("a", "multichoice", code_list="colours", max_items=1), ["red", "blue"], "Choose at most 1."),
        (field("a", "yesno"), 1, "Answer yes or no."),
        (field("a", "file"), -3, "Upload a file."),
    ],
)
def test_it_refuses_bad_answers_of_each_type(definition, given, message):
    errors = errors_of(spec_with(definition), {"a": given})
    assert list(errors) == ["a"]
    if message:
        assert errors["a"] == message


def test_it_names_the_clb_skill_at_fault():
    spec = spec_with(field("clb_exit", "clb", skills=["listening", "reading"], required=True))
    assert errors_of(spec, {"clb_exit": {"listening": 5, "reading": 13}}) == {"clb_exit.reading": "Choose a level from 1 to 12."}
    assert errors_of(spec, {"clb_exit": {"listening": 5, "writing": 3}}) == {"clb_exit.writing": "Unknown skill."}
    assert errors_of(spec, {"clb_exit": {"listening": 5}}) == {"clb_exit.reading": "This field is required."}
    assert engine.validate(spec, {"clb_exit": {"listening": 5}}, draft=True) == {"clb_exit": {"listening": 5}}


def test_it_names_the_group_item_at_fault():
    spec = spec_with(
        field("presenters", "group", max_items=3, fields=[field("name", "text", required=True), field("role", "text")])
    )
    errors = errors_of(spec, {"presenters": [{"name": "Ann"}, {"role": "host"}, {"name": "Bo", "age": 3}]})
    assert errors == {"presenters.1.name": "This field is required.", "presenters.2.age": "Unknown question."}


def test_it_checks_files_exist():
    spec = spec_with(field("proof", "file"))
    assert errors_of(spec, {"proof": 9}, file_exists=lambda pk: pk == 8) == {"proof": "This file was not found."}
    assert engine.validate(spec, {"proof": 8}, file_exists=lambda pk: pk == 8) == {"proof": 8}


def test_it_requires_answers_unless_draft_and_drops_empty_ones():
    spec = spec_with(field("a", "text", required=True), field("b", "multichoice", code_list="colours", required=True))
    assert errors_of(spec, {"a": "  ", "b": []}) == {"a": "This field is required.", "b": "This field is required."}
    assert engine.validate(spec, {"a": "", "b": []}, draft=True) == {}


def test_it_refuses_answers_that_are_not_an_object():
    assert errors_of(spec_with(field("a", "text")), ["a"]) == {"__all__": "The answers must be an object."}


def test_it_refuses_an_answer_to_a_heading():
    assert errors_of(spec_with(field("intro", "heading")), {"intro": "x"}) == {"intro": "Unknown question."}


CONDITIONS = [
    ({"field": "colour", "equals": "red"}, {"colour": "red"}, True),
    ({"field": "colour", "equals": "red"}, {"colour": "blue"}, False),
    ({"field": "colours", "equals": "red"}, {"colours": ["blue", "red"]}, True),
    ({"field": "colour", "in": ["red", "blue"]}, {"colour": "blue"}, True),
    ({"field": "colours", "in": ["red"]}, {"colours": ["blue"]}, False),
    ({"field": "worked", "equals": True}, {"worked": True}, True),
    ({"field": "worked", "equals": True}, {"worked": 1}, False),
    ({"field": "count", "equals": 2}, {"count": "2.0"}, True),
    ({"field": "colour", "answered": True}, {}, False),
    ({"field": "colour", "answered": False}, {"colour": ""}, True),
    (
        {"all": [{"field": "colour", "equals": "red"}, {"field": "worked", "equals": True}]},
        {"colour": "red", "worked": False},
        False,
    ),
    (
        {"any": [{"field": "colour", "equals": "red"}, {"field": "worked", "equals": True}]},
        {"colour": "red", "worked": False},
        True,
    ),
    ({"not": {"field": "colour", "equals": "red"}}, {"colour": "red"}, False),
]


@pytest.mark.parametrize(("condition", "answers", "expected"), CONDITIONS)
def test_each_condition_operator(condition, answers, expected):
    assert engine.applies({"key": "x", "show_if": condition}, answers) is expected


def test_it_drops_answers_to_fields_that_do_not_apply_and_does_not_require_them():
    spec = spec_with(
        field("worked", "yesno", required=True),
        field("employer", "text", required=True, show_if={"field": "worked", "equals": True}),
        field("since", "date", show_if={"field": "employer", "answered": True}),
    )
    assert engine.validate(spec, {"worked": False, "employer": "Acme", "since": "2020-01-01"}) == {"worked": False}
    assert errors_of(spec, {"worked": True}) == {"employer": "This field is required."}


def test_a_group_field_may_depend_on_a_top_level_one():
    spec = spec_with(
        field("online", "yesno"),
        field(
            "presenters",
            "group",
            fields=[field("name", "text"), field("link", "text", show_if={"field": "online", "equals": True})],
        ),
    )
    answers = {"online": False, "presenters": [{"name": "Ann", "link": "x"}]}
    assert engine.validate(spec, answers) == {"online": False, "presenters": [{"name": "Ann"}]}


REFUSED_DEFINITIONS = [
    ({"format": "other"}, "format"),
    ({"key": "Bad Key"}, "key must be"),
    ({"version": 0}, "version"),
    ({"name": {"en": "Only English"}}, "name needs"),
    ({"scope": "team"}, "scope"),
    ({"fields": [field("a", "text"), field("a", "text")]}, "used twice"),
    ({"fields": [field("a", "colour")]}, "unknown type"),
    ({"fields": [{"key": "a", "type": "text", "label": {"en": "A"}}]}, "French"),
    ({"fields": [field("a", "choice", code_list="missing")]}, "does not exist"),
    ({"fields": [field("a", "choice", choices=[{"value": "x", "label": EN_FR}, {"value": "x", "label": EN_FR}])]}, "twice"),
    ({"fields": [field("a", "choice")]}, "either choices or code_list"),
    ({"fields": [field("a", "text", show_if={"field": "b", "answered": True}), field("b", "text")]}, "not an earlier field"),
    ({"fields": [field("b", "yesno"), field("a", "text", show_if={"field": "b", "equals": "yes"})]}, "true or false"),
    (
        {"fields": [field("b", "choice", code_list="colours"), field("a", "text", show_if={"field": "b", "in": ["green"]})]},
        "not one of its choices",
    ),
    ({"fields": [field("b", "text"), field("a", "text", show_if={"field": "b", "is": "x"})]}, "show_if"),
    ({"fields": [field("g", "group", fields=[field("h", "group", fields=[field("x", "text")])])]}, "nested"),
    ({"fields": [field("g", "group", fields=[])]}, "non-empty"),
    ({"fields": [field("g", "group", fields=[field("x", "text"), field("x", "text")])]}, "g.x: the key is used twice"),
    ({"fields": [field("c", "clb", skills=["singing"])]}, "skills"),
    ({"fields": [field("n", "number", min=5, max=1)]}, "min is above max"),
    ({"fields": [field("d", "date", min="yesterday")]}, "min must be a date"),
    ({"fields": [field("t", "text", colour="red")]}, "no option 'colour'"),
]


@pytest.mark.parametrize(("change", "problem"), REFUSED_DEFINITIONS)
def test_check_definition_refuses(change, problem):
    with pytest.raises(engine.DefinitionError) as refused:
        engine.check_definition({**spec_with(field("ok", "text")), **change})
    assert any(problem in message for message in refused.value.problems), refused.value.problems


def test_agency_questions_begin_with_agency_and_may_refer_to_the_form():
    engine.check_fields(
        [field("agency_reason", "text", show_if={"field": "worked", "equals": True})],
        {},
        existing_keys=["worked"],
        key_prefix="agency_",
    )
    with pytest.raises(engine.DefinitionError) as refused:
        engine.check_fields(
            [field("reason", "text"), field("agency_worked", "text")], {}, existing_keys=["agency_worked"], key_prefix="agency_"
        )
    assert refused.value.problems == ["reason: the key must begin with 'agency_'", "agency_worked: the key is used twice"]


def test_display_reads_answers_in_words():
    spec = spec_with(
        field("intro", "heading"),
        field("colour", "choice", code_list="colours"),
        field("worked", "yesno"),
        field("on", "date"),
        field("clb", "clb", skills=["listening", "speaking"]),
        field("people", "group", fields=[field("name", "text")]),
        field("unanswered", "text"),
    )
    answers = {
        "colour": "blue",
        "worked": True,
        "on": "2024-03-05",
        "clb": {"listening": 5, "speaking": 4},
        "people": [{"name": "Ann"}],
        "gone": 1,
    }
    rows = {row["key"]: row for row in engine.display(spec, answers, "fr")}
    assert rows["colour"]["text"] == "Bleu"
    assert rows["colour"]["label"] == "COLOUR"
    assert rows["worked"]["text"] == "Oui"
    assert rows["clb"]["text"].endswith(" 5 · " + rows["clb"]["text"].split(" · ")[1].rsplit(" ", 1)[0] + " 4")
    assert rows["people"]["items"][0][0]["text"] == "Ann"
    assert rows["unanswered"]["text"] == "" and rows["unanswered"]["answered"] is False
    assert "gone" not in rows
    english = {row["key"]: row["text"] for row in engine.display(spec, answers, "en")}
    assert english["clb"] == "Listening 5 · Speaking 4"
    assert english["on"] == "March 5, 2024"


def test_display_survives_answers_of_another_shape():
    spec = spec_with(
        field("a", "date"), field("b", "clb"), field("c", "group", fields=[field("x", "text")]), field("d", "number")
    )
    rows = engine.display(spec, {"a": "not a date", "b": "five", "c": "text", "d": "many"})
    assert [row["text"] for row in rows] == ["not a date", "five", "text", "many"]


def test_columns_and_flatten_for_exports():
    spec = spec_with(
        field("colours", "multichoice", code_list="colours"),
        field("clb", "clb", skills=["listening", "writing"]),
        field("people", "group", fields=[field("name", "text"), field("role", "text")]),
        field("proof", "file"),
    )
    assert engine.columns(spec, "en") == [
        ("colours", "Colours"),
        ("clb.listening", "Clb — Listening"),
        ("clb.writing", "Clb — Writing"),
        ("people", "People"),
        ("proof", "Proof"),
    ]
    answers = {
        "colours": ["red", "blue"],
        "clb": {"listening": 6},
        "people": [{"name": "Ann", "role": "host"}, {"name": "Bo"}],
        "proof": 3,
    }
    assert engine.flatten(spec, answers, "en") == {
        "colours": "Red; Blue",
        "clb.listening": "6",
        "clb.writing": "",
        "people": '{"name": "Ann", "role": "host"}; {"name": "Bo"}',
        "proof": "3",
    }


def test_combined_appends_agency_questions_without_changing_the_definition():
    spec = spec_with(field("a", "text"))
    result = engine.combined(spec, [field("agency_b", "yesno")])
    assert [f["key"] for f in result["fields"]] == ["a", "agency_b"]
    assert [f["key"] for f in spec["fields"]] == ["a"]


def test_label_and_choices():
    spec = spec_with(field("a", "choice", code_list="colours"), field("b", "choice", code_list="gone"))
    assert engine.label({"en": "Yes", "fr": "Oui"}, "fr") == "Oui"
    assert engine.label(spec["fields"][0], "fr") == "A"
    assert [item["value"] for item in engine.choices(spec, spec["fields"][0])] == ["red", "blue"]
    assert engine.choices(spec, spec["fields"][1]) == []
