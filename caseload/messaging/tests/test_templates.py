"""Message templates: placeholders checked on save, filled when rendered, SMS length in segments,
and the agency's template found with its fallbacks."""

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.messaging.models import MessageTemplate
from caseload.messaging.template_actions import reset_template, update_template
from caseload.messaging.templates import (
    DEFAULTS,
    PLACEHOLDERS,
    check_template,
    example_context,
    render,
    sms_segments,
    sms_summary,
    template_for,
)
from caseload.tenancy.scoping import agency_scope

CONTEXT = {
    "preferred_name": "Amina",
    "checkpoint": "3-month follow-up",
    "due_date": "December 8, 2026",
    "link": "https://caseload.example.org/s/abc/",
    "agency": "Northside",
}


def errors_of(purpose, channel, subject, body):
    with pytest.raises(ValidationError) as caught:
        check_template(purpose, channel, subject, body)
    return caught.value.message_dict


# --- check_template ---------------------------------------------------------------------------------


def test_every_default_template_passes_its_own_check():
    for (purpose, channel, _language), (subject, body) in DEFAULTS.items():
        check_template(purpose, channel, subject, body)


def test_an_unknown_placeholder_is_refused_naming_it_and_the_ones_to_use():
    errors = errors_of("survey", "sms", "", "Hi {nam}, answer here: {link}")
    assert list(errors) == ["body"]
    message = errors["body"][0]
    assert message.startswith("Unknown placeholder {nam}: use {preferred_name}, {checkpoint}, {due_date}, {link}, {agency}.")
    assert "Did you mean {name}" not in message


def test_a_misspelt_placeholder_gets_a_suggestion():
    errors = errors_of("survey", "sms", "", "Hi {prefered_name}: {link}")
    assert "Did you mean {preferred_name}?" in errors["body"][0]


def test_an_unknown_placeholder_in_the_subject_is_named_on_the_subject():
    errors = errors_of("survey", "email", "{agenc} survey", "Hello {preferred_name}: {link}")
    assert list(errors) == ["subject"]
    assert "Unknown placeholder {agenc}" in errors["subject"][0]


@pytest.mark.parametrize("body", ["Hello {preferred_name: {link}", "Hello preferred_name}: {link}", "{link} {"])
def test_unbalanced_braces_are_refused(body):
    errors = errors_of("survey", "sms", "", body)
    assert "Unbalanced braces" in errors["body"][0]


@pytest.mark.parametrize(
    "body", ["{agency.name} {link}", "{link[0]} {link}", "{link!r}", "{link:>30}", "{} {link}", "{0} {link}"]
)
def test_attribute_index_format_and_positional_placeholders_are_refused(body):
    assert errors_of("survey", "sms", "", body)["body"]


def test_a_survey_message_must_contain_the_link():
    errors = errors_of("survey", "email", "Survey", "Hello {preferred_name}, please answer our survey.")
    assert errors == {"body": ["A survey message must contain {link}: without it the client cannot answer."]}
    assert errors_of("survey_reminder", "sms", "", "A reminder, {preferred_name}")["body"]


def test_an_email_needs_a_subject_and_an_sms_has_none():
    assert "An email needs a subject." in errors_of("survey", "email", "  ", "{link}")["subject"]
    assert "A text message has no subject: leave it empty." in errors_of("survey", "sms", "Hello", "{link}")["subject"]


def test_an_empty_or_too_long_message_is_refused():
    assert errors_of("survey", "sms", "", "  ")["body"] == ["Write the message."]
    assert "Keep the message under 600 characters" in errors_of("survey", "sms", "", "{link}" + "a" * 600)["body"][0]
    assert "Keep the subject under 250" in errors_of("survey", "email", "s" * 251, "{link}")["subject"][0]


def test_doubled_braces_are_literal_braces_and_allowed():
    check_template("survey", "sms", "", "Use code {{A1}} at {link}")


def test_every_placeholder_has_a_description():
    assert set(PLACEHOLDERS) == {"preferred_name", "checkpoint", "due_date", "link", "agency"}
    assert all(str(description) for description in PLACEHOLDERS.values())


# --- render ------------------------------------------------------------------------------------------


def test_render_fills_every_placeholder():
    subject, body = render(("{agency}: {checkpoint}", "{preferred_name} {checkpoint} {due_date} {link} {agency}"), CONTEXT)
    assert subject == "Northside: 3-month follow-up"
    assert body == "Amina 3-month follow-up December 8, 2026 https://caseload.example.org/s/abc/ Northside"


def test_render_takes_a_template_row_or_a_mapping(agency):
    with agency_scope(agency):
        template = template_for(agency, "survey", "email", "en")
    subject, body = render(template, CONTEXT)
    assert subject == "Northside: how are things going?"
    assert "Hello Amina," in body and CONTEXT["link"] in body and "{" not in body
    assert render({"subject": "", "body": "Hi {preferred_name}"}, CONTEXT) == ("", "Hi Amina")


def test_braces_in_values_are_kept_and_never_formatted_again():
    _subject, body = render(("", "Hi {preferred_name}, {link}"), {**CONTEXT, "preferred_name": "{link} {0} {agency.__class__}"})
    assert body == "Hi {link} {0} {agency.__class__}, https://caseload.example.org/s/abc/"


def test_render_never_reaches_attributes_and_leaves_unknown_placeholders_as_written():
    _subject, body = render(("", "{agency.__class__} {link[0]} {secret} {link!r} {{x}}"), CONTEXT)
    assert body == "{agency.__class__} {link[0]} {secret} {link!r} {x}"


def test_a_missing_value_renders_empty_and_unbalanced_text_unchanged():
    assert render(("", "Hi {preferred_name}!"), {}) == ("", "Hi !")
    assert render(("", "Hi {preferred_name"), CONTEXT) == ("", "Hi {preferred_name")


# --- SMS segments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "segments"), [(0, 0), (1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_gsm7_fits_160_in_one_sms_and_153_per_part(length, segments):
    assert sms_segments("a" * length) == (segments, "GSM-7", length)


@pytest.mark.parametrize("char", ["€", "[", "]", "{", "}", "^", "~", "|", "\\"])
def test_gsm7_extension_characters_count_two(char):
    assert sms_segments(char) == (1, "GSM-7", 2)
    assert sms_segments("a" * 158 + char) == (1, "GSM-7", 160)
    assert sms_segments("a" * 159 + char) == (2, "GSM-7", 161)


def test_an_extension_character_never_splits_across_parts():
    # 152 plain characters then "€" (2): the "€" cannot start in the 153rd place of part one.
    text = "a" * 152 + "€" + "a" * 152
    assert sms_segments(text) == (3, "GSM-7", 306)


def test_accents_of_the_gsm_alphabet_stay_gsm7_and_others_make_it_ucs2():
    assert sms_segments("é è ù ì ò Ç É à ä ö ñ ü Ø Å ß £ ¥ ¿ ¡")[1] == "GSM-7"
    assert sms_segments("Répondez à notre sondage")[1] == "GSM-7"
    assert sms_segments("Une fête")[1] == "UCS-2"  # ê is not in GSM-7
    assert sms_segments("ça va")[1] == "UCS-2"  # ç (lower case) is not either


@pytest.mark.parametrize(("length", "segments"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_fits_70_in_one_sms_and_67_per_part(length, segments):
    assert sms_segments("ê" * length) == (segments, "UCS-2", length)


def test_a_character_outside_the_basic_plane_counts_two_in_ucs2():
    assert sms_segments("👍") == (1, "UCS-2", 2)
    assert sms_segments("a" * 69 + "👍") == (2, "UCS-2", 71)


def test_the_summary_says_segments_encoding_and_characters():
    assert sms_summary("a" * 98) == "1 SMS (GSM-7, 98 of 160 characters)"
    assert sms_summary("a" * 200) == "2 SMS (GSM-7, 200 characters, 153 per part)"
    summary = sms_summary("ê" * 150)
    assert summary.startswith("3 SMS (UCS-2, 150 characters, 67 per part)")
    assert "outside GSM-7" in summary


# --- template_for ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_template_for_finds_the_agencys_template_in_the_language(agency):
    with agency_scope(agency):
        MessageTemplate.objects.for_agency(agency).filter(purpose="survey", channel="sms", language="fr").update(
            body="Allô {link}"
        )
        found = template_for(agency, "survey", "sms", "fr-CA")
    assert found.pk and found.body == "Allô {link}"


@pytest.mark.django_db
def test_template_for_falls_back_to_english_then_to_the_defaults(agency, other_agency):
    with agency_scope(agency):
        english = MessageTemplate.objects.for_agency(agency).get(purpose="survey", channel="email", language="en")
        english.body = "Our English wording {link}"
        english.save()
        assert template_for(agency, "survey", "email", "es") == english
        MessageTemplate.objects.for_agency(agency).filter(purpose="survey", channel="email").delete()
        fallback = template_for(agency, "survey", "email", "fr")
        assert fallback.pk is None
        assert (fallback.subject, fallback.body) == DEFAULTS[("survey", "email", "fr")]
        fallback = template_for(agency, "survey", "email", "es")
        assert (fallback.language, fallback.body) == ("en", DEFAULTS[("survey", "email", "en")][1])
    # Another agency's templates are never used.
    with agency_scope(other_agency):
        assert template_for(other_agency, "survey", "email", "en").body == DEFAULTS[("survey", "email", "en")][1]


@pytest.mark.django_db
def test_the_example_context_has_every_placeholder_in_the_language(agency):
    english, french = example_context(agency, "en"), example_context(agency, "fr")
    assert set(english) == set(PLACEHOLDERS)
    assert english["checkpoint"] == "3-month follow-up"
    assert english["agency"] == "Northside Test Agency"
    assert english["link"].startswith("http")
    assert english["due_date"] != french["due_date"]


# --- actions -----------------------------------------------------------------------------------------


@pytest.fixture
def sms_template(agency):
    with agency_scope(agency):
        return MessageTemplate.objects.for_agency(agency).get(purpose="survey", channel="sms", language="en")


@pytest.mark.django_db
def test_updating_a_template_checks_it_and_audits_field_names_only(agency, admin, sms_template):
    with agency_scope(agency):
        update_template(sms_template, admin, {"body": "Private wording {preferred_name}: {link}"})
        sms_template.refresh_from_db()
        assert sms_template.body == "Private wording {preferred_name}: {link}"
        assert sms_template.updated_by == admin
        event = AuditEvent.objects.for_agency(agency).filter(object_type="messaging.messagetemplate").get()
    assert event.action == AuditEvent.Action.CHANGE
    assert list(event.changes) == ["body"]
    assert "Private wording" not in str(event.changes)


@pytest.mark.django_db
def test_a_refused_update_writes_nothing(agency, admin, sms_template):
    before = sms_template.body
    with agency_scope(agency):
        with pytest.raises(ValidationError) as caught:
            update_template(sms_template, admin, {"body": "Hi {nam}"})
        assert "body" in caught.value.message_dict
        sms_template.refresh_from_db()
        assert sms_template.body == before
        assert not AuditEvent.objects.for_agency(agency).filter(object_type="messaging.messagetemplate").exists()


@pytest.mark.django_db
def test_reset_puts_back_the_default_wording(agency, admin, sms_template):
    with agency_scope(agency):
        update_template(sms_template, admin, {"body": "Changed {link}"})
        reset_template(sms_template, admin)
        sms_template.refresh_from_db()
        assert sms_template.body == DEFAULTS[("survey", "sms", "en")][1]
        assert AuditEvent.objects.for_agency(agency).filter(object_type="messaging.messagetemplate").count() == 2
