"""Hypothesis strategies: random valid definitions (docs/forms.md) and answers that fit them."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone
from hypothesis import strategies as st

from caseload.formbuilder import engine

ANSWERABLE = ["text", "textarea", "number", "date", "choice", "multichoice", "yesno", "clb", "file"]
SAFE_TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"))

keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
texts = st.fixed_dictionaries(
    {
        "en": st.text(SAFE_TEXT, min_size=1, max_size=15).filter(str.strip),
        "fr": st.text(SAFE_TEXT, min_size=1, max_size=15).filter(str.strip),
    }
)


@st.composite
def choice_lists(draw) -> list[dict]:
    values = draw(st.lists(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=5, unique=True))
    return [{"value": value, "label": draw(texts)} for value in values]


@st.composite
def condition_on(draw, earlier: list[dict], code_lists: dict):
    """A condition on one of the earlier fields (None when none can be referred to)."""
    targets = [field for field in earlier if field["type"] not in ("heading",)]
    if not targets:
        return None
    target = draw(st.sampled_from(targets))
    kind = target["type"]
    if kind in ("choice", "multichoice"):
        values = [item["value"] for item in engine._choices_of(target, code_lists)]
        simple = draw(
            st.one_of(
                st.builds(lambda v: {"field": target["key"], "equals": v}, st.sampled_from(values)),
                st.builds(
                    lambda vs: {"field": target["key"], "in": vs}, st.lists(st.sampled_from(values), min_size=1, max_size=3)
                ),
                st.just({"field": target["key"], "answered": True}),
            )
        )
    elif kind == "yesno":
        simple = {"field": target["key"], "equals": draw(st.booleans())}
    elif kind == "number":
        simple = draw(
            st.one_of(
                st.builds(lambda v: {"field": target["key"], "equals": v}, st.integers(0, 3)),
                st.just({"field": target["key"], "answered": True}),
            )
        )
    else:
        simple = {"field": target["key"], "answered": draw(st.booleans())}
    wrap = draw(st.sampled_from(["none", "not", "all", "any"]))
    if wrap == "not":
        return {"not": simple}
    if wrap in ("all", "any"):
        return {wrap: [simple, {"field": target["key"], "answered": True}]}
    return simple


@st.composite
def a_field(draw, key: str, kind: str, code_lists: dict, earlier: list[dict], outer: list[dict], in_group: bool = False) -> dict:
    field: dict = {"key": key, "type": kind, "label": draw(texts)}
    if draw(st.booleans()):
        field["help"] = draw(texts)
    if kind != "heading" and draw(st.booleans()):
        field["required"] = True
    if kind in ("text", "textarea") and draw(st.booleans()):
        field["max_length"] = draw(st.integers(1, 30))
    if kind == "number":
        field["integer"] = draw(st.booleans())
        low = draw(st.none() | st.integers(-100, 100))
        if low is not None:
            field["min"] = low
        if draw(st.booleans()):
            field["max"] = (low if low is not None else -100) + draw(st.integers(0, 200))
    if kind == "date":
        if draw(st.booleans()):
            field["min"] = "2000-01-01"
        if draw(st.booleans()):
            field["max"] = draw(st.sampled_from(["today", "2030-12-31"]))
    if kind in ("choice", "multichoice"):
        if code_lists and draw(st.booleans()):
            field["code_list"] = draw(st.sampled_from(sorted(code_lists)))
        else:
            field["choices"] = draw(choice_lists())
    if kind == "multichoice":
        size = len(engine._choices_of(field, code_lists))
        if draw(st.booleans()):
            field["max_items"] = draw(st.integers(1, size))
        if draw(st.booleans()):
            field["min_items"] = draw(st.integers(0, field.get("max_items", size)))
    if kind == "clb" and draw(st.booleans()):
        field["skills"] = draw(st.lists(st.sampled_from(engine.CLB_SKILLS), min_size=1, max_size=4, unique=True))
    if kind == "group":
        subs: list[dict] = []
        for index in range(draw(st.integers(1, 4))):
            sub_kind = draw(st.sampled_from(ANSWERABLE if index == 0 else [*ANSWERABLE, "heading"]))
            sub = draw(a_field(f"{draw(keys)}_s{index}", sub_kind, code_lists, subs, earlier, in_group=True))
            if index == 0:
                sub.pop("show_if", None)  # every item can be answered
            subs.append(sub)
        field["fields"] = subs
        if draw(st.booleans()):
            field["max_items"] = draw(st.integers(1, 3))
    if draw(st.integers(0, 3)) == 0:
        condition = draw(condition_on(earlier + (outer if in_group else []), code_lists))
        if condition is not None:
            field["show_if"] = condition
    return field


@st.composite
def definitions(draw, key: str | None = None, version: int = 1) -> dict:
    code_lists = draw(st.dictionaries(keys, choice_lists(), max_size=3))
    fields: list[dict] = []
    for index in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from([*ANSWERABLE, "group", "heading"]))
        fields.append(draw(a_field(f"{draw(keys)}_{index}", kind, code_lists, fields, [])))
    return {
        "format": engine.FORMAT,
        "key": key or draw(keys),
        "version": version,
        "name": draw(texts),
        "scope": draw(st.sampled_from(engine.SCOPES)),
        "code_lists": code_lists,
        "fields": fields,
    }


def _decimal_answer(number: Decimal) -> int | str:
    return int(number) if number == number.to_integral_value() else format(number.normalize(), "f")


@st.composite
def answer_to(draw, spec: dict, field: dict) -> tuple[object, object]:
    """``(given, cleaned)``: an answer to a field as a caller might give it, and as validate returns it."""
    kind = field["type"]
    if kind in ("text", "textarea"):
        alphabet = SAFE_TEXT if kind == "text" else st.one_of(SAFE_TEXT, st.just("\n"))
        limit = field.get("max_length", 40)
        value = draw(st.text(alphabet, min_size=1, max_size=min(limit, 40)).map(str.strip).filter(bool))
        return value, value
    if kind == "number":
        low, high = field.get("min", -1000), field.get("max", 1000)
        if field.get("integer"):
            value = draw(st.integers(low, high))
            return value, value
        number = draw(st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False))
        return draw(st.sampled_from([str(number), number])), _decimal_answer(number)
    if kind == "date":
        high = datetime.date(2030, 12, 31) if field.get("max") != "today" else timezone.localdate()
        value = draw(st.dates(datetime.date(2000, 1, 1), high))
        return draw(st.sampled_from([value, value.isoformat()])), value.isoformat()
    if kind == "choice":
        value = draw(st.sampled_from([item["value"] for item in engine.choices(spec, field)]))
        return value, value
    if kind == "multichoice":
        order = [item["value"] for item in engine.choices(spec, field)]
        low = max(1, field.get("min_items", 1))
        high = field.get("max_items", len(order))
        chosen = draw(st.lists(st.sampled_from(order), min_size=low, max_size=high, unique=True))
        given = draw(st.permutations(chosen + chosen[:1]))  # shuffled, one value twice
        return given, [value for value in order if value in chosen]
    if kind == "yesno":
        value = draw(st.booleans())
        return value, value
    if kind == "clb":
        skills = field.get("skills") or list(engine.CLB_SKILLS)
        given = {skill: draw(st.integers(1, 12)) for skill in skills}
        if not field.get("required"):
            given = {skill: level for skill, level in given.items() if draw(st.booleans())} or given
        return given, {skill: given[skill] for skill in skills if skill in given}
    if kind == "file":
        value = draw(st.integers(1, 10**6))
        return value, value
    raise AssertionError(kind)


@st.composite
def answers_to_fields(draw, spec: dict, fields: list[dict], outer: dict, force_first: bool = False) -> tuple[dict, dict]:
    given: dict = {}
    cleaned: dict = {}
    for index, field in enumerate(fields):
        if field["type"] == "heading":
            continue
        shown = engine.applies(field, {**outer, **cleaned})
        if not (field.get("required") and shown) and not (force_first and index == 0) and not draw(st.booleans()):
            continue
        if field["type"] == "group":
            items_given, items_cleaned = [], []
            for _ in range(draw(st.integers(1, field.get("max_items", 2)))):
                item_given, item_cleaned = draw(answers_to_fields(spec, field["fields"], {**outer, **cleaned}, force_first=True))
                items_given.append(item_given)
                if item_cleaned:
                    items_cleaned.append(item_cleaned)
            value_given, value_cleaned = items_given, items_cleaned
        else:
            value_given, value_cleaned = draw(answer_to(spec, field))
        given[field["key"]] = value_given
        if shown and value_cleaned not in ([], {}, None):
            cleaned[field["key"]] = value_cleaned
    return given, cleaned


@st.composite
def definitions_with_answers(draw) -> tuple[dict, dict, dict]:
    """``(spec, given answers, expected cleaned answers)``; some answers go to hidden fields."""
    spec = draw(definitions())
    given, cleaned = draw(answers_to_fields(spec, spec["fields"], {}))
    return spec, given, cleaned
