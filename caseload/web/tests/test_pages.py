"""Coming-soon pages, error pages and the language switch."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db

SECTIONS = ["outreach", "reports"]


@pytest.mark.parametrize("name", SECTIONS)
def test_each_coming_soon_page_says_what_is_coming(client, agency, caseworker, name):
    client.force_login(caseworker)
    response = client.get(reverse(f"web:{name}"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "coming soon" in html.lower()
    assert html.count('aria-current="page"') == 1


@pytest.mark.parametrize("name", SECTIONS)
def test_coming_soon_pages_need_a_login(client, name):
    response = client.get(reverse(f"web:{name}"))
    assert response.status_code == 302


def test_a_user_without_an_agency_gets_a_friendly_403(client, db):
    from caseload.testing.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get(reverse("clients:list"))
    assert response.status_code == 403
    assert "You don't have access to this page" in response.content.decode()


def test_an_unknown_page_gets_the_styled_404_in_the_app_layout(client, agency, caseworker):
    client.force_login(caseworker)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert 'class="sidebar"' in html
    assert "/static/web/app.css" in html


def test_an_anonymous_404_uses_the_card_layout(client, db):
    html = client.get("/no-such-page/").content.decode()
    assert "Page not found" in html
    assert 'class="auth-card"' in html
    assert 'class="sidebar"' not in html


@pytest.mark.parametrize("template", ["web/503.html", "500.html"])
def test_server_error_pages_render_without_a_request(template):
    html = render_to_string(template)
    assert "/static/web/app.css" in html
    assert "<h1" in html
    assert "csrfmiddlewaretoken" not in html


def test_the_language_switch_turns_the_dashboard_french(client, agency, caseworker):
    client.force_login(caseworker)
    assert 'lang="en"' in client.get(reverse("web:dashboard")).content.decode()

    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("web:dashboard")})
    assert response.status_code == 302

    html = client.get(reverse("web:dashboard")).content.decode()
    assert 'lang="fr"' in html
    assert "Tableau de bord" in html
    assert "Mon travail aujourd’hui" in html
    assert "Dashboard" not in html
