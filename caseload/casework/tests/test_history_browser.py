"""In headless Chromium: a caseworker adds a note, a reminder and a task for a client, then finds
them on the dashboard and in the client's history. Screenshots go to var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone

from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def setting(transactional_db):
    from caseload.clients.actions import invite_to_portal, register_client
    from caseload.tenancy.scoping import agency_scope
    from caseload.testing.factories import make_agency, make_member

    agency = make_agency("Northside Employment Services")
    worker = make_member(agency, "Caseworker", email="priya@northside.example.org").user
    with agency_scope(agency):
        client = register_client(
            agency=agency,
            actor=None,
            data={"given_name": "Amina", "family_name": "Haddad", "email": "amina@example.org", "consent_email": True},
        )
        portal_user = invite_to_portal(client, None)
    portal_user.last_login = timezone.now()  # they accepted the invitation: reminders can reach them
    portal_user.save(update_fields=["last_login"])
    return worker, client


def test_a_note_a_reminder_and_a_task_show_on_the_dashboard_and_in_the_history(page, live_server, setting):
    worker, person = setting
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate(timezone=__import__("zoneinfo").ZoneInfo("America/Toronto")).isoformat()
    base = f"{live_server.url}/clients/{person.pk}"

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(worker.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{base}/notes/new/")
    page.locator("input[name=contact_date]").fill(today)
    page.locator("textarea[name=body]").fill("Went over the **resume**; wants to apply to the warehouse job.")
    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_url(lambda url: "/new/" not in url)

    page.goto(f"{base}/communications/new/")
    page.locator("select[name=kind]").select_option("reminder")
    page.locator("input[name=date]").fill(today)
    page.get_by_label("Subject").fill("Bring your ID to the workshop")
    page.locator("textarea[name=body]").fill("The workshop is tomorrow at 10 in room 204.")
    page.locator("#communication-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/new/" not in url)

    page.goto(f"{base}/tasks/new/")
    page.locator("input[name=title]").fill("Call the employer about the interview")
    page.locator("input[name=due_on]").fill(today)
    page.locator("#task-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/new/" not in url)

    page.goto(f"{live_server.url}/")
    tasks = page.locator("section", has=page.get_by_role("heading", name="Tasks due and overdue"))
    assert "Call the employer about the interview" in tasks.inner_text()
    assert "Due today" in tasks.inner_text()
    reminders = page.locator("section", has=page.get_by_role("heading", name="Reminders going out today"))
    assert "Bring your ID to the workshop" in reminders.inner_text()
    drafts = page.locator("section", has=page.get_by_role("heading", name="Still in draft"))
    assert "Amina Haddad" in drafts.inner_text()
    recent = page.locator("section", has=page.get_by_role("heading", name="My recent clients"))
    assert "Amina Haddad" in recent.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-caseworker.png"), full_page=True)

    page.goto(f"{base}/history/")
    feed = page.locator("#history-results").inner_text()
    for text in (
        "General note",
        "wants to apply to the warehouse job",
        "Reminder: Bring your ID to the workshop",
        "Task: Call the employer about the interview",
    ):
        assert text in feed, text
    page.screenshot(path=str(SCREENSHOTS / "client-history.png"), full_page=True)

    # Filtering by kind keeps the others out, without a full page load (htmx) and without it.
    page.get_by_label("Communications").uncheck()
    page.get_by_label("Tasks").uncheck()
    page.wait_for_function("!document.querySelector('#history-results').innerText.includes('Bring your ID')")
    assert "General note" in page.locator("#history-results").inner_text()
