"""The message template pages (Administration → Message templates) and the API."""

import pytest
from django.urls import reverse

from caseload.messaging.models import MessageTemplate
from caseload.messaging.templates import DEFAULTS
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


def template_of(agency, purpose="survey", channel="sms", language="en"):
    with agency_scope(agency):
        return MessageTemplate.objects.for_agency(agency).get(purpose=purpose, channel=channel, language=language)


@pytest.fixture
def sms(agency):
    return template_of(agency)


@pytest.fixture
def email(agency):
    return template_of(agency, channel="email")


def test_the_list_shows_every_template_of_the_agency_by_purpose_channel_and_language(as_user, admin, agency):
    response = as_user(admin).get(reverse("messaging:templates"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Checkpoint survey reminder" in page and "Checkpoint survey" in page
    assert page.count("/admin/outbox/templates/") >= len(DEFAULTS)
    assert "Français" in page or "French" in page
    assert 'href="/admin/outbox/templates/"' in page  # the Administration tab


def test_the_template_tab_is_the_current_one_not_the_outbox(as_user, admin):
    response = as_user(admin).get(reverse("messaging:templates"))
    current = [tab["label"] for tab in response.context["admin_tabs"] if tab["current"]]
    assert [str(label) for label in current] == ["Message templates"]


def test_a_member_without_the_permission_gets_403(as_user, caseworker, sms):
    client = as_user(caseworker)
    assert client.get(reverse("messaging:templates")).status_code == 403
    assert client.get(reverse("messaging:template_edit", args=[sms.pk])).status_code == 403
    assert client.post(reverse("messaging:template_edit", args=[sms.pk]), {"body": "x {link}"}).status_code == 403
    assert client.post(reverse("messaging:template_preview", args=[sms.pk]), {"body": "x"}).status_code == 403
    assert client.post(reverse("messaging:template_reset", args=[sms.pk])).status_code == 403


def test_another_agencys_template_is_404(as_user, outsider, sms):
    client = as_user(outsider)
    assert client.get(reverse("messaging:template_edit", args=[sms.pk])).status_code == 404
    assert client.post(reverse("messaging:template_edit", args=[sms.pk]), {"body": "x {link}"}).status_code == 404
    assert client.post(reverse("messaging:template_preview", args=[sms.pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("messaging:template_reset", args=[sms.pk])).status_code == 404


def test_the_editor_shows_the_placeholders_and_a_filled_preview(as_user, manager, email):
    response = as_user(manager).get(reverse("messaging:template_edit", args=[email.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    for token in ("{preferred_name}", "{checkpoint}", "{due_date}", "{link}", "{agency}"):
        assert f'data-insert="{token}"' in page
    assert response.context["preview_subject"] == "Northside Test Agency: how are things going?"
    assert "Hello Amina," in page
    assert "3-month follow-up" in response.context["preview_body"]


def test_saving_changes_the_wording(as_user, admin, email):
    response = as_user(admin).post(
        reverse("messaging:template_edit", args=[email.pk]),
        {"subject": "News from {agency}", "body": "Hi {preferred_name}!\r\n{link}", "save": ""},
    )
    assert response.status_code == 302
    email.refresh_from_db()
    assert (email.subject, email.body) == ("News from {agency}", "Hi {preferred_name}!\n{link}")


def test_an_unknown_placeholder_is_a_form_error_on_the_message_and_nothing_is_saved(as_user, admin, sms):
    response = as_user(admin).post(reverse("messaging:template_edit", args=[sms.pk]), {"body": "Hi {nam}: {link}"})
    assert response.status_code == 400
    assert "Unknown placeholder {nam}" in response.context["form"].errors["body"][0]
    sms.refresh_from_db()
    assert sms.body == DEFAULTS[("survey", "sms", "en")][1]


def test_a_survey_without_the_link_is_refused(as_user, admin, sms):
    response = as_user(admin).post(reverse("messaging:template_edit", args=[sms.pk]), {"body": "Hi {preferred_name}"})
    assert response.status_code == 400
    assert "must contain {link}" in response.context["form"].errors["body"][0]


def test_an_email_without_a_subject_is_refused_on_the_subject(as_user, admin, email):
    response = as_user(admin).post(reverse("messaging:template_edit", args=[email.pk]), {"subject": "", "body": "{link}"})
    assert response.status_code == 400
    assert response.context["form"].errors["subject"] == ["An email needs a subject."]


def test_the_preview_button_shows_the_text_as_typed_without_saving(as_user, admin, sms):
    response = as_user(admin).post(
        reverse("messaging:template_edit", args=[sms.pk]),
        {"body": "Bonjour {preferred_name}, {checkpoint}: {link}", "preview": "1"},
    )
    assert response.status_code == 200
    assert response.context["preview_body"].startswith("Bonjour Amina, 3-month follow-up: http")
    assert "Bonjour {preferred_name}" in response.content.decode()  # the text stays in the box
    sms.refresh_from_db()
    assert sms.body == DEFAULTS[("survey", "sms", "en")][1]


def test_the_preview_partial_shows_the_filled_text_and_the_sms_length(as_user, admin, sms):
    url = reverse("messaging:template_preview", args=[sms.pk])
    response = as_user(admin).post(url, {"body": "Hi {preferred_name}: {link}"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="template-preview"' in page and "<html" not in page
    assert "Hi Amina: http" in page
    body = response.context["preview_body"]
    assert f"1 SMS (GSM-7, {len(body)} of 160 characters)" in page


def test_the_preview_warns_of_characters_outside_gsm7_and_of_problems(as_user, admin, sms):
    url = reverse("messaging:template_preview", args=[sms.pk])
    response = as_user(admin).post(url, {"body": "Une fête pour vous, {nam}"})
    page = response.content.decode()
    assert "UCS-2" in page and "outside GSM-7" in page
    assert "Unknown placeholder {nam}" in page
    assert "must contain {link}" not in page  # one problem at a time for a broken placeholder


def test_the_preview_refuses_get(as_user, admin, sms):
    assert as_user(admin).get(reverse("messaging:template_preview", args=[sms.pk])).status_code == 405


def test_reset_asks_first_then_puts_back_the_default(as_user, admin, sms):
    client = as_user(admin)
    with agency_scope(sms.agency):
        MessageTemplate.objects.for_agency(sms.agency).filter(pk=sms.pk).update(body="Ours {link}")
    confirm = client.get(reverse("messaging:template_reset", args=[sms.pk]))
    assert confirm.status_code == 200 and "Reset to default" in confirm.content.decode()
    sms.refresh_from_db()
    assert sms.body == "Ours {link}"
    response = client.post(reverse("messaging:template_reset", args=[sms.pk]))
    assert response.status_code == 302
    sms.refresh_from_db()
    assert sms.body == DEFAULTS[("survey", "sms", "en")][1]


# --- API ---------------------------------------------------------------------------------------------


def test_the_api_lists_the_agencys_templates_only(api, admin, agency, other_agency):
    response = api.as_user(admin).get("/api/v1/message-templates/")
    assert response.status_code == 200
    rows = response.json()["results"] if isinstance(response.json(), dict) else response.json()
    assert len(rows) == len(DEFAULTS)
    assert {row["purpose"] for row in rows} == {"survey", "survey_reminder"}
    other = template_of(other_agency)
    assert api.get(f"/api/v1/message-templates/{other.pk}/").status_code == 404


def test_the_api_changes_the_body_and_refuses_a_bad_one_naming_body(api, admin, sms):
    client = api.as_user(admin)
    url = f"/api/v1/message-templates/{sms.pk}/"
    response = client.patch(url, {"body": "Hi {preferred_name}: {link}"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["body"] == "Hi {preferred_name}: {link}"
    response = client.patch(url, {"body": "Hi {nam}"}, format="json")
    assert response.status_code == 400
    assert "body" in str(response.json())
    assert "Unknown placeholder {nam}" in str(response.json())
    response = client.patch(url, {"subject": "A subject"}, format="json")
    assert response.status_code == 400 and "subject" in str(response.json())
    sms.refresh_from_db()
    assert sms.body == "Hi {preferred_name}: {link}"


def test_the_api_cannot_change_purpose_channel_or_language_nor_create_or_delete(api, admin, sms):
    client = api.as_user(admin)
    url = f"/api/v1/message-templates/{sms.pk}/"
    response = client.patch(url, {"channel": "email", "language": "fr"}, format="json")
    assert response.status_code == 200
    sms.refresh_from_db()
    assert (sms.channel, sms.language) == ("sms", "en")
    assert client.post("/api/v1/message-templates/", {}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.put(url, {"body": "{link}"}, format="json").status_code == 405


def test_the_api_needs_the_templates_permission(api, caseworker, sms):
    client = api.as_user(caseworker)
    assert client.get("/api/v1/message-templates/").status_code == 403
    assert client.patch(f"/api/v1/message-templates/{sms.pk}/", {"body": "{link}"}, format="json").status_code == 403
