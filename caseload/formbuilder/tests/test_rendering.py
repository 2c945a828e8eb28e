"""Forms as HTML: every field type's inputs, read back from the POST they make, errors beside their
fields, conditional fields marked for forms.js, group rows without JavaScript, the read-only view."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

from caseload.formbuilder import engine
from caseload.formbuilder.models import FormFile
from caseload.formbuilder.rendering import answers_from_post, render_answers, render_fields
from caseload.tenancy.scoping import agency_scope


def texts(en: str) -> dict[str, str]:
    return {"en": en, "fr": f"{en} (fr)"}


LANGUAGES = [{"value": v, "label": texts(v.title())} for v in ("english", "french", "arabic", "spanish", "tagalog", "punjabi")]

SPEC = {
    "format": "caseload-form/1",
    "key": "rendering_test",
    "version": 1,
    "name": texts("Rendering test"),
    "scope": "client",
    "code_lists": {
        "yes_no_unknown": [
            {"value": "yes", "label": texts("Yes")},
            {"value": "no", "label": texts("No")},
            {"value": "unknown", "label": texts("Unknown")},
        ],
        "languages": LANGUAGES,
    },
    "fields": [
        {"key": "intro", "type": "heading", "label": texts("About the meeting"), "help": texts("During or after it.")},
        {"key": "summary", "type": "text", "label": texts("Summary"), "required": True, "help": texts("One line.")},
        {"key": "notes", "type": "textarea", "label": texts("Notes")},
        {"key": "hours", "type": "number", "label": texts("Hours"), "min": 0},
        {"key": "met_on", "type": "date", "label": texts("Met on")},
        {"key": "needs_help", "type": "choice", "code_list": "yes_no_unknown", "label": texts("Needs help")},
        {"key": "first_language", "type": "choice", "code_list": "languages", "label": texts("First language")},
        {"key": "languages", "type": "multichoice", "code_list": "languages", "label": texts("Languages spoken")},
        {"key": "has_worked", "type": "yesno", "label": texts("Has worked in Canada")},
        {
            "key": "employer",
            "type": "text",
            "label": texts("Last employer"),
            "show_if": {"field": "has_worked", "equals": True},
        },
        {"key": "clb_levels", "type": "clb", "label": texts("CLB levels")},
        {"key": "resume", "type": "file", "label": texts("Résumé")},
        {
            "key": "presenters",
            "type": "group",
            "label": texts("Presenters"),
            "fields": [
                {"key": "name", "type": "text", "label": texts("Name"), "required": True},
                {"key": "external", "type": "yesno", "label": texts("External")},
                {
                    "key": "funded",
                    "type": "choice",
                    "code_list": "yes_no_unknown",
                    "label": texts("Funded"),
                    "show_if": {"field": "external", "equals": True},
                },
            ],
        },
    ],
}

EVERY_ANSWER = {
    "summary": "Talked about work",
    "notes": "Line one\nLine two",
    "hours": "1.5",
    "met_on": "2026-02-03",
    "needs_help": "unknown",
    "first_language": "arabic",
    "languages": ["french", "tagalog"],
    "has_worked": False,
    "employer": "Tim Hortons",
    "clb_levels": {"listening": 5, "reading": 4},
    "resume": 7,
    "presenters": [{"name": "Ann", "external": True, "funded": "no"}, {"name": "Bo"}],
}


VOID = {"input", "br", "link", "meta", "img", "hr"}


class Form(HTMLParser):
    """What a browser would post from the HTML (inputs inside <template> are not part of the form),
    plus each element's attributes by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self.by_id: dict[str, dict[str, str]] = {}
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self._template = 0
        self._select: str | None = None
        self._textarea: str | None = None
        self._open: list[tuple[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if tag == "template":
            self._template += 1
        if attrs.get("id"):
            self.by_id[attrs["id"]] = {"tag": tag, **attrs}
            self.texts[attrs["id"]] = ""
        if tag not in VOID:
            self._open.append((tag, attrs.get("id", "")))
        self.elements.append((tag, attrs))
        if self._template:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") in ("radio", "checkbox") and "checked" not in attrs:
                return
            self.data.append((name, attrs.get("value", "")))
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.data.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea = name
            self.data.append((name, ""))

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()[0] == tag:
                break
        if tag == "template":
            self._template -= 1
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea and not self._template:
            name, value = self.data[-1]
            self.data[-1] = (name, value + data)
        for _tag, element_id in self._open:
            if element_id:
                self.texts[element_id] += data

    def post(self) -> QueryDict:
        query = QueryDict(mutable=True)
        for name, value in self.data:
            query.appendlist(name, value)
        return query


def render(answers=None, errors=None, **options) -> Form:
    return Form(str(render_fields(SPEC, answers or {}, errors, **options)))


class TestRoundTrip:
    def test_it_reads_back_every_field_type_as_it_was_rendered(self):
        form = render(EVERY_ANSWER)
        answers, add, errors = answers_from_post(SPEC, form.post(), MultiValueDict())
        assert answers == EVERY_ANSWER
        assert add is None and errors == {}

    def test_the_answers_read_back_validate_like_the_originals(self):
        answers = answers_from_post(SPEC, render(EVERY_ANSWER).post(), MultiValueDict()).answers
        assert engine.validate(SPEC, answers) == engine.validate(SPEC, EVERY_ANSWER)

    def test_it_names_inputs_by_key_by_group_row_and_by_skill(self):
        names = {name for name, _value in render(EVERY_ANSWER).data}
        assert {"f-summary", "f-hours", "f-clb_levels-listening", "f-presenters-1-name", "f-resume-keep"} <= names

    def test_an_empty_form_gives_no_answers(self):
        form = render({})
        assert answers_from_post(SPEC, form.post(), MultiValueDict()).answers == {}

    def test_a_prefix_names_every_input(self):
        form = Form(str(render_fields(SPEC, EVERY_ANSWER, prefix="q")))
        assert all(name.startswith("q-") for name, _value in form.data)
        assert answers_from_post(SPEC, form.post(), MultiValueDict(), prefix="q").answers == EVERY_ANSWER


class TestReadingThePost:
    def post(self, **data) -> QueryDict:
        query = QueryDict(mutable=True)
        for name, value in data.items():
            for one in value if isinstance(value, list) else [value]:
                query.appendlist(name.replace("__", "-"), one)
        return query

    def test_numbers_stay_text_so_validation_names_the_field(self):
        answers = answers_from_post(SPEC, self.post(f__hours="about two"), {}).answers
        assert answers == {"hours": "about two"}
        with pytest.raises(engine.AnswerErrors) as refused:
            engine.validate(SPEC, answers, draft=True)
        assert set(refused.value.errors) == {"hours"}

    def test_blank_and_spaces_only_inputs_give_no_answer(self):
        assert answers_from_post(SPEC, self.post(f__summary="   ", f__hours="", f__has_worked=""), {}).answers == {}

    def test_yes_and_no_become_true_and_false(self):
        assert answers_from_post(SPEC, self.post(f__has_worked="yes"), {}).answers == {"has_worked": True}
        assert answers_from_post(SPEC, self.post(f__has_worked="no"), {}).answers == {"has_worked": False}

    def test_clb_levels_become_numbers_and_anything_else_is_left_for_validation(self):
        answers = answers_from_post(SPEC, self.post(f__clb_levels__reading="4", f__clb_levels__writing="x"), {}).answers
        assert answers == {"clb_levels": {"reading": 4, "writing": "x"}}
        with pytest.raises(engine.AnswerErrors) as refused:
            engine.validate(SPEC, answers, draft=True)
        assert set(refused.value.errors) == {"clb_levels.writing"}

    def test_multichoice_keeps_each_value_once(self):
        answers = answers_from_post(SPEC, self.post(f__languages=["french", "french", "arabic"]), {}).answers
        assert answers == {"languages": ["french", "arabic"]}

    def test_group_rows_come_back_in_order_without_the_empty_ones(self):
        data = self.post(
            **{"f-presenters-3-name": "Cy", "f-presenters-0-name": "Ann", "f-presenters-1-name": "", "f-presenters-10-name": "Di"}
        )
        answers = answers_from_post(SPEC, data, {}).answers
        assert answers == {"presenters": [{"name": "Ann"}, {"name": "Cy"}, {"name": "Di"}]}

    def test_it_says_which_add_another_button_was_pressed(self):
        data = self.post(**{"f-presenters-0-name": "Ann", "_add:presenters": "1"})
        assert answers_from_post(SPEC, data, {}).add == "presenters"
        assert answers_from_post(SPEC, self.post(**{"_add:summary": "1"}), {}).add is None

    def test_an_upload_is_handed_to_save_file_and_its_id_answers_the_question(self):
        seen = []

        def save_file(field, upload):
            seen.append((field["key"], upload.name))
            return 42

        files = MultiValueDict({"f-resume": [SimpleUploadedFile("cv.pdf", b"%PDF-1.4")]})
        answers = answers_from_post(SPEC, self.post(**{"f-resume-keep": "7"}), files, save_file=save_file).answers
        assert answers == {"resume": 42}
        assert seen == [("resume", "cv.pdf")]

    def test_a_refused_upload_is_a_message_on_its_question_and_the_kept_file_stays(self):
        def save_file(field, upload):
            raise ValidationError("“cv.pdf” is not a file type notes can hold.")

        files = MultiValueDict({"f-resume": [SimpleUploadedFile("cv.pdf", b"MZ")]})
        posted = answers_from_post(SPEC, self.post(**{"f-resume-keep": "7"}), files, save_file=save_file)
        assert posted.answers == {"resume": 7}
        assert posted.errors == {"resume": "“cv.pdf” is not a file type notes can hold."}

    def test_ticking_remove_drops_the_kept_file(self):
        data = self.post(**{"f-resume-keep": "7", "f-resume-remove": "1"})
        assert answers_from_post(SPEC, data, {}).answers == {}


class TestErrors:
    ERRORS = engine.AnswerErrors(
        {
            "hours": "Enter a number.",
            "presenters.1.name": "This field is required.",
            "clb_levels.reading": "Choose a level from 1 to 12.",
            "needs_help": "Choose one of the listed values.",
        }
    )

    def test_each_message_is_next_to_its_field_and_the_field_is_marked_invalid(self):
        form = render({"hours": "abc", "presenters": [{"name": "Ann"}, {"external": True}]}, self.ERRORS)
        assert form.texts["f-hours-error"].strip() == "Enter a number."
        assert form.by_id["f-hours"]["aria-invalid"] == "true"
        assert "f-hours-error" in form.by_id["f-hours"]["aria-describedby"].split()
        assert form.texts["f-presenters-1-name-error"].strip() == "This field is required."
        assert form.by_id["f-presenters-1-name"]["aria-invalid"] == "true"
        assert "aria-invalid" not in form.by_id["f-presenters-0-name"]
        assert form.by_id["f-clb_levels-reading"]["aria-invalid"] == "true"
        assert "aria-invalid" not in form.by_id["f-clb_levels-listening"]
        assert all(form.by_id[f"f-needs_help-{i}"]["aria-invalid"] == "true" for i in range(3))
        assert "aria-invalid" not in form.by_id["f-summary"]

    def test_a_summary_lists_every_message_and_links_to_its_field(self):
        answers = {"presenters": [{"name": "Ann"}, {"external": True}]}
        form = render(answers, {**self.ERRORS.errors, "agency_gone": "Unknown question."})
        links = [attrs["href"] for tag, attrs in form.elements if tag == "a" and attrs.get("href", "").startswith("#")]
        assert links == ["#f-hours", "#f-needs_help-0", "#f-clb_levels-reading", "#f-presenters-1-name"]
        summary = form.texts["f-errors"]
        assert "Unknown question." in summary and "There are 5 problems" in summary

    def test_a_message_about_a_row_not_shown_goes_to_its_group(self):
        form = render({}, {"presenters.4.name": "This field is required."})
        assert form.texts["f-presenters-error"].strip() == "This field is required."

    def test_an_actions_validation_error_shows_on_the_answers_it_names(self):
        error = ValidationError({"answers.hours": "Enter a number.", "client": "Choose the attendee this form is for."})
        form = render({"hours": "x"}, error)
        assert form.texts["f-hours-error"].strip() == "Enter a number."
        assert "Choose the attendee this form is for." in form.texts["f-errors"]

    def test_help_text_describes_its_input(self):
        form = render({})
        assert form.by_id["f-summary"]["aria-describedby"] == "f-summary-help"
        assert form.texts["f-summary-help"].strip() == "One line."

    def test_radio_groups_are_fieldsets_with_a_legend(self):
        html = str(render_fields(SPEC, {}))
        form = Form(html)
        tags = [tag for tag, _attrs in form.elements]
        assert tags.count("fieldset") >= 4 and tags.count("legend") == tags.count("fieldset")


class TestLayout:
    def test_conditional_fields_carry_their_condition(self):
        form = render({"presenters": [{"name": "Ann"}]})
        conditions = [json.loads(attrs["data-show-if"]) for _tag, attrs in form.elements if "data-show-if" in attrs]
        assert {"field": "has_worked", "equals": True} in conditions
        assert conditions.count({"field": "external", "equals": True}) == 3  # two rows and the blank row's template

    def test_a_choice_with_more_than_five_options_is_a_list_and_others_are_radios(self):
        form = render({"first_language": "arabic", "needs_help": "no"})
        assert form.by_id["f-first_language"]["tag"] == "select"
        assert form.by_id["f-needs_help-1"]["type"] == "radio" and "checked" in form.by_id["f-needs_help-1"]

    def test_a_group_shows_its_items_one_blank_row_and_an_add_another_button(self):
        form = render({"presenters": [{"name": "Ann"}]})
        assert "f-presenters-1-name" in form.by_id and "f-presenters-2-name" not in form.by_id
        buttons = [attrs for tag, attrs in form.elements if tag == "button"]
        assert [(b["name"], b["type"]) for b in buttons] == [("_add:presenters", "submit")]

    def test_add_another_shows_one_more_blank_row(self):
        form = render({"presenters": [{"name": "Ann"}]}, extra_rows={"presenters": 1})
        assert "f-presenters-2-name" in form.by_id and "f-presenters-3-name" not in form.by_id

    def test_a_full_group_shows_no_blank_row_nor_button(self):
        spec = {**SPEC, "fields": [{**SPEC["fields"][-1], "max_items": 1}]}
        form = Form(str(render_fields(spec, {"presenters": [{"name": "Ann"}]})))
        assert "f-presenters-1-name" not in form.by_id
        assert not [attrs for tag, attrs in form.elements if tag == "button"]

    def test_a_heading_is_a_section_title(self):
        html = str(render_fields(SPEC, {}))
        assert '<h3 class="form-heading-title">About the meeting</h3>' in html

    def test_labels_follow_the_language(self):
        from django.utils import translation

        with translation.override("fr"):
            html = str(render_fields(SPEC, {}))
        assert "Summary (fr)" in html and "One line. (fr)" in html

    def test_answers_and_labels_are_escaped(self):
        html = str(render_fields(SPEC, {"summary": '"><script>alert(1)</script>'}))
        assert "<script>alert" not in html
        assert "&lt;script&gt;" in html


@pytest.mark.django_db
class TestFiles:
    def test_the_current_file_shows_its_name_and_a_download_link(self, agency):
        with agency_scope(agency):
            row = FormFile.objects.create(
                agency=agency, original_name="cv.pdf", content_type="application/pdf", size=10, file="x"
            )
            form = Form(str(render_fields(SPEC, {"resume": row.pk})))
        links = [attrs["href"] for tag, attrs in form.elements if tag == "a"]
        assert f"/forms/files/{row.pk}/" in links
        assert ("f-resume-keep", str(row.pk)) in form.data

    def test_another_agencys_file_shows_no_name(self, agency, other_agency):
        with agency_scope(other_agency):
            row = FormFile.objects.create(
                agency=other_agency, original_name="secret.pdf", content_type="application/pdf", size=1, file="x"
            )
        with agency_scope(agency):
            html = str(render_fields(SPEC, {"resume": row.pk}))
        assert "secret.pdf" not in html and f"/forms/files/{row.pk}/" not in html


class TestReadOnly:
    def test_answers_show_as_a_description_list_with_groups_as_tables(self):
        html = str(
            render_answers(SPEC, {"summary": "Talked", "has_worked": True, "presenters": [{"name": "Ann"}, {"name": "Bo"}]})
        )
        form = Form(html)
        tags = [tag for tag, _attrs in form.elements]
        assert "dl" in tags and tags.count("table") == 1
        assert "Talked" in html and "Ann" in html and "Bo" in html and "Yes" in html
        assert "Not answered" in html
