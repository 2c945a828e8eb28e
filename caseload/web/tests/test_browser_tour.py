"""A new user's first minutes, in headless Chromium: log in, switch to French, see the dashboard."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def staff(transactional_db):
    from caseload.testing.factories import make_agency, make_member

    agency = make_agency("Northside Employment Services")
    return make_member(agency, "Caseworker", email="amelie@northside.example.org").user


def log_in(page, live_server, email):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_it_logs_in_switches_to_french_and_sees_the_dashboard_in_french(page, live_server, staff):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(page, live_server, staff.email)
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-en.png"), full_page=True)

    page.get_by_role("button", name="Français").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "fr"
    expect(page.get_by_role("link", name="Tableau de bord").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-fr.png"), full_page=True)
