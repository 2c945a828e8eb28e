import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

NAMES = [
    "login", "login_verify", "logout", "security", "totp_setup", "totp_disable", "backup_codes", "password_change",
    "password_reset", "password_reset_done", "password_reset_complete", "logout_everywhere", "locked",
]


def test_every_url_name_resolves_under_accounts():
    for name in NAMES:
        assert reverse(f"accounts:{name}").startswith("/accounts/")
    for name in ("password_reset_confirm", "invitation"):
        assert reverse(f"accounts:{name}", kwargs={"uidb64": "MQ", "token": "set-password"}).startswith("/accounts/")


@pytest.mark.parametrize("name", ["login", "password_reset", "password_reset_done", "password_reset_complete"])
def test_the_public_pages_render(client, name):
    assert client.get(reverse(f"accounts:{name}")).status_code == 200


def test_the_locked_page_is_a_403_that_says_what_to_do(client):
    response = client.get(reverse("accounts:locked"))
    assert response.status_code == 403
    assert "ask your administrator" in response.content.decode()


@pytest.mark.parametrize("name", ["security", "totp_setup", "totp_disable", "password_change"])
def test_the_account_pages_need_a_log_in(client, name):
    response = client.get(reverse(f"accounts:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("name", ["security", "totp_setup", "password_change"])
def test_a_user_of_no_agency_can_use_the_account_pages(client, name):
    from caseload.testing.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse(f"accounts:{name}")).status_code == 200


def test_the_pages_are_translated_with_the_language(client, agency, admin):
    client.force_login(admin)
    response = client.get(reverse("accounts:security"), HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert '<html lang="fr"' in response.content.decode()
