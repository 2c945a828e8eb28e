"""In headless Chromium, the whole follow-up of a client: the worker places the client into
Outcomes, sends the 1-month survey by email, the client answers through the link (not logged
in), the worker reviews and edits the answers, attaches a document from the client's archive,
ticks the milestone and submits to government. Screenshots go to var/screenshots/outcomes/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caseload.delivery.tests.test_forms_browser import complete_answers, fill_in
from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots" / "outcomes"


pytestmark = pytest.mark.browser


@pytest.fixture
def setting(transactional_db, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseload.clients.actions import register_client
    from caseload.documents.actions import upload_document
    from caseload.documents.models import DocumentType
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program
    from caseload.testing.factories import make_agency, make_member

    settings.MEDIA_ROOT = tmp_path / "media"
    agency = make_agency("Northside Employment Services")
    program = make_program(agency, "Employment Services")
    worker = make_member(agency, "Manager", email="sam@northside.example.org", programs=[program])
    with agency_scope(agency):
        client = register_client(
            agency=agency,
            actor=None,
            data={
                "given_name": "Amina",
                "family_name": "Haddad",
                "email": "amina@example.org",
                "consent_email": True,
                "preferred_language": "en",
                "cams_number": "12345678",
            },
        )
        pay_stub = DocumentType.objects.for_agency(agency).get(name="Pay stub")
        document = upload_document(
            client, worker.user, SimpleUploadedFile("pay-stub-march.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"), pay_stub
        )
    return worker.user, client, program, document


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def test_place_send_answer_review_attach_milestone_submit(page, browser, live_server, setting):
    from dateutil.relativedelta import relativedelta

    from caseload.casework.records import agency_today
    from caseload.messaging.models import OutboundMessage
    from caseload.outcomes.models import Checkpoint, Submission
    from caseload.tenancy.scoping import agency_scope

    worker, person, program, document = setting
    agency = person.agency
    # Service ended a month ago: the 1-month checkpoint is due today.
    exit_day = agency_today(agency) - relativedelta(months=1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    log_in(page, base, worker.email)

    # 1. Place the client into Outcomes: four checkpoints on the right calendar days.
    page.goto(f"{base}/clients/{person.pk}/outcomes/place/")
    page.get_by_label("Program").select_option(str(program.pk))
    page.get_by_label("Exit date").fill(exit_day.isoformat())
    page.get_by_label("Reason for exit").select_option("completed")
    page.get_by_label("Employment status at exit").select_option("unemployed")
    page.get_by_role("button", name="Place into Outcomes").last.click()
    page.wait_for_url(lambda url: "/checkpoints/" in url)
    page.screenshot(path=str(SCREENSHOTS / "1-checkpoints.png"), full_page=True)
    with agency_scope(agency):
        checkpoints = list(Checkpoint.objects.for_agency(agency).filter(client=person).order_by("months"))
    assert [(c.months, c.due_on) for c in checkpoints] == [(m, exit_day + relativedelta(months=m)) for m in (1, 3, 6, 12)]
    first = checkpoints[0]

    # 2. Send the 1-month survey by email, with the agency's template.
    page.goto(f"{base}/checkpoints/{first.pk}/send-survey/")
    page.screenshot(path=str(SCREENSHOTS / "2-send-survey.png"), full_page=True)
    assert "{link}" in page.locator("textarea[name=body]").input_value()
    page.get_by_role("button", name="Send follow-up").click()
    page.wait_for_url(lambda url: "/send-survey/" not in url)
    with agency_scope(agency):
        message = OutboundMessage.objects.for_agency(agency).get(client=person, kind="outcome_survey")
    assert message.channel == "email" and message.to == "amina@example.org"
    link = re.search(r"https?://\S+/survey/[\w-]+/", message.body).group(0)
    path = link[link.index("/survey/") :]

    # 3. The client answers through the link, without logging in.
    visitor = browser.new_context().new_page()
    visitor.goto(f"{base}{path}")
    spec = first.survey.spec
    answers = complete_answers(spec)
    fill_in(visitor, spec, answers)
    visitor.screenshot(path=str(SCREENSHOTS / "3-client-survey.png"), full_page=True)
    visitor.locator("form button[type=submit]").last.click()
    visitor.wait_for_load_state()
    visitor.screenshot(path=str(SCREENSHOTS / "4-client-thanks.png"), full_page=True)
    # The link works once.
    again = visitor.goto(f"{base}{path}")
    assert again.status == 410
    with agency_scope(agency):
        first.refresh_from_db()
    assert first.status == "responded" and first.answered_by_client

    # 4. The worker reviews and edits the answers (the change is kept with before and after).
    page.goto(f"{base}/checkpoints/{first.pk}/answers/")
    # The client left out the hours and wage the ministry needs: the worker completes them.
    page.locator("[name='f-hours_per_week']").fill("37.5")
    page.locator("[name='f-hourly_wage']").fill("21.50")
    page.locator("[name='f-comments']").fill("Started a new job last week; thanks to the team.")
    page.get_by_role("button", name="Save answers").click()
    page.wait_for_url(lambda url: url.rstrip("/").endswith(f"/checkpoints/{first.pk}"))

    # 5. Attach the pay stub from the client's archive.
    page.locator("select[name$='-document']").select_option(str(document.pk))
    page.get_by_role("button", name="Attach", exact=True).click()
    page.wait_for_load_state()
    assert "pay-stub-march.pdf" in page.content()

    # 6. Milestone achieved, then submit to government.
    page.get_by_label("Milestone achieved").check()
    page.locator("form:has(input[name=milestone_achieved]) button[type=submit]").click()
    page.wait_for_load_state()
    review = page.get_by_role("button", name="Mark as reviewed")
    if review.count():
        review.click()
        page.wait_for_load_state()
    page.screenshot(path=str(SCREENSHOTS / "5-reviewed.png"), full_page=True)
    page.get_by_role("button", name="Submit to government").click()
    page.wait_for_load_state()
    page.screenshot(path=str(SCREENSHOTS / "6-submitted.png"), full_page=True)

    with agency_scope(agency):
        first.refresh_from_db()
        submission = Submission.objects.for_agency(agency).get(checkpoint=first)
        assert first.revisions.exists()
    assert first.status == "submitted" and first.milestone_achieved
    assert submission.payload["format"].startswith("caseload-cams-outcome/")
