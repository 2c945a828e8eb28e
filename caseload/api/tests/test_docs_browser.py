import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_renders_every_operation_from_the_app_alone(live_server, page, tmp_path):
    outside = []
    page.on("request", lambda request: None if request.url.startswith(live_server.url) else outside.append(request.url))
    page.goto(f"{live_server.url}/api/docs/")
    # Tags start closed (150 operations rendered at once stall Swagger UI); open one.
    page.wait_for_selector("#operations-tag-programs")
    assert page.locator(".opblock-tag").count() >= 20
    page.locator("#operations-tag-programs").click()
    page.wait_for_selector("#operations-programs-programs_create")
    assert page.locator(".opblock").count() >= 5
    page.locator("#operations-programs-programs_create .opblock-summary-control").click()
    expect(page.get_by_text("Idempotency-Key").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "api-docs.png"), full_page=False)
    assert outside == []
