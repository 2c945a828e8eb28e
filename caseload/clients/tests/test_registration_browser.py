"""A caseworker in headless Chromium: registers a client with consent past a duplicate warning, finds them
again with a misspelt name, flags them and sees the safety banner on every page about them."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture
def caseworker_email(transactional_db):
    from caseload.clients.actions import publish_privacy_statement, register_client
    from caseload.tenancy.scoping import agency_scope
    from caseload.testing.factories import make_agency, make_member

    agency = make_agency("Northside Employment Services")
    member = make_member(agency, "Caseworker", email="priya@northside.example.org")
    with agency_scope(agency):
        publish_privacy_statement(agency=agency, actor=None, version="2026-1", text="Northside keeps your information safe.")
        register_client(
            agency=agency, actor=None, data={"given_name": "François", "family_name": "Côté", "date_of_birth": "1988-02-03"}
        )
    return member.user.email


def test_it_registers_finds_misspelt_and_flags_a_client(page, live_server, caseworker_email):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(caseworker_email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("link", name="Register client").click()
    expect(page.get_by_text("Northside keeps your information safe.")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "register-privacy-statement.png"), full_page=True)
    page.get_by_label("Yes: the client accepts it. Register a named client.").check()
    page.get_by_label("Signed form").check()
    page.get_by_role("button", name="Continue").click()

    page.get_by_label("Given name").fill("Francois")
    page.get_by_label("Family name").fill("Cote")
    page.get_by_label("Date of birth").fill("1988-02-03")
    page.get_by_label("Main phone").fill("613 555 0142")
    page.get_by_role("button", name="Register client").click()
    warning = page.get_by_role("heading", name="This person may already be registered")
    expect(warning).to_be_visible()
    expect(page.get_by_role("link", name="Open this profile")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "register-duplicate-warning.png"), full_page=True)

    page.get_by_role("button", name="Register as a new client anyway").click()
    page.wait_for_url(f"{live_server.url}/clients/*/")
    expect(page.get_by_text("Francois Cote is registered as client 2.")).to_be_visible()
    expect(page.get_by_role("heading", name="Privacy consent")).to_be_visible()
    expect(page.get_by_text("(613) 555-0142").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "client-overview.png"), full_page=True)

    # Find them again with a misspelt name (a typo and no accents).
    page.goto(f"{live_server.url}/clients/")
    page.get_by_label("Find a client").fill("Fransois Cotte")
    page.get_by_role("button", name="Search").click()
    results = page.get_by_role("link", name="Francois Cote")
    expect(results.first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "client-search-misspelt.png"), full_page=True)
    results.first.click()
    page.wait_for_url(f"{live_server.url}/clients/*/")

    # Flag them from the Actions menu; the banner shows on the profile and on every action page.
    page.get_by_text("Actions", exact=True).click()
    page.get_by_role("link", name="Add a safety flag").click()
    page.get_by_label("Reason").fill("Threatened reception staff. Meet with two staff present.")
    page.get_by_role("button", name="Add safety flag").click()
    page.wait_for_url(f"{live_server.url}/clients/*/")
    banner = page.get_by_role("alert").filter(has_text="Threatened reception staff")
    expect(banner).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "client-safety-banner.png"), full_page=True)
    page.get_by_role("link", name="Edit details").first.click()
    expect(page.get_by_role("alert").filter(has_text="Threatened reception staff")).to_be_visible()
