"""The form renderer writes select boxes in Python: the same HTML as Django's templates, always."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override
from hypothesis import given, settings
from hypothesis import strategies as st

from caseload.web import renderer as form_renderer

TEMPLATES = DjangoTemplates()
FAST = form_renderer.FormRenderer()


def both(widget: forms.Widget, name: str, value, attrs=None) -> tuple[str, str]:
    """The widget rendered by Django's templates and by the project's renderer."""
    return widget.render(name, value, attrs, renderer=TEMPLATES), widget.render(name, value, attrs, renderer=FAST)


CASES = [
    (forms.Select(choices=[("a", "Apple"), ("b", "Banana")]), "b", None),
    (forms.Select(choices=[]), None, None),
    (forms.Select(choices=[("", "---------"), (1, "One"), (2, "Two")]), 2, {"id": "id_n", "required": True}),
    (forms.Select(choices=[(1, 1000), (2, datetime.date(2026, 3, 12))]), 1, None),
    (forms.Select(attrs={"disabled": True, "data-x": False, "aria-describedby": "h e"}, choices=[("x", "X")]), "x", None),
    (forms.Select(choices=[("<b>", 'Tom & "Jerry" <i>')]), "<b>", {"title": "a<b>&'c"}),
    (forms.Select(choices=[("safe", mark_safe("<em>safe</em>"))]), None, None),
    (forms.Select(choices=[(mark_safe("<s>"), "marked value")]), None, None),
    (
        forms.Select(choices=[("Fruit", [("a", "Apple"), ("b", "Banana")]), ("c", "Carrot"), ("Nuts", [("p", "Pecan")])]),
        "p",
        None,
    ),
    (forms.SelectMultiple(choices=[("a", "A"), ("b", "B"), ("c", "C")]), ["a", "c"], {"id": "id_m"}),
    (forms.NullBooleanSelect(), None, None),
    (forms.NullBooleanSelect(), True, None),
    (forms.Select(choices=[("en", gettext_lazy("Active")), ("fr", gettext_lazy("Archived"))]), "fr", None),
]


@pytest.mark.parametrize(("widget", "value", "attrs"), CASES)
def test_selects_read_the_same_as_djangos_templates(widget, value, attrs):
    expected, fast = both(widget, "field", value, attrs)
    assert fast == expected


def test_labels_are_translated_as_the_templates_translate_them():
    widget = forms.Select(choices=[("active", gettext_lazy("Active")), ("archived", gettext_lazy("Archived"))])
    with override("fr"):
        expected, fast = both(widget, "status", "active")
    assert fast == expected
    assert ">Actif</option>" in fast and ">Archivé</option>" in fast


def test_a_widget_with_its_own_option_template_goes_through_the_templates(monkeypatch):
    class Custom(forms.Select):
        option_template_name = "django/forms/widgets/input_option.html"

    calls = []
    monkeypatch.setattr(form_renderer, "render_select", lambda widget: calls.append(widget) or "")
    widget = Custom(choices=[("a", "A")])
    assert widget.render("c", "a", renderer=FAST) == widget.render("c", "a", renderer=TEMPLATES)
    assert calls == []


def test_radio_and_checkbox_groups_are_left_to_the_templates():
    for widget in (forms.RadioSelect(choices=[("a", "A")]), forms.CheckboxSelectMultiple(choices=[("a", "A")])):
        expected, fast = both(widget, "g", "a")
        assert fast == expected


def test_the_project_renders_forms_with_it():
    assert isinstance(get_default_renderer(), form_renderer.FormRenderer)


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    choices=st.lists(st.tuples(texts, texts), max_size=6),
    groups=st.lists(st.tuples(texts, st.lists(st.tuples(texts, texts), min_size=1, max_size=3)), max_size=2),
    value=texts,
    attrs=st.dictionaries(
        st.sampled_from(["id", "title", "class", "data-k", "required", "disabled"]),
        st.one_of(texts, st.booleans(), st.integers()),
        max_size=3,
    ),
)
def test_any_select_reads_the_same(choices, groups, value, attrs):
    widget = forms.Select(choices=[*choices, *[(label, list(options)) for label, options in groups if label]])
    expected, fast = both(widget, "any", value, attrs)
    assert fast == expected
