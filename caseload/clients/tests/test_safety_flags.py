"""Safety flags: raised and removed with a reason, history kept, a banner on every page about the
client, and never anywhere a client could read it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.api.tests.helpers import errors_of
from caseload.audit.actions import REDACTED
from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.models import SafetyFlag
from caseload.clients.tests.action_helpers import events_of, fresh, in_scope
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

REASON = "Threatened reception staff on 3 March; meet with two staff present."


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad", email="amina@example.org")


def flags(client):
    with agency_scope(client.agency):
        return list(SafetyFlag.objects.for_agency(client.agency).filter(client=client).order_by("pk"))


def flag(client, reason=REASON):
    return in_scope(client, actions.flag_client, client, None, reason)


class TestActions:
    def test_flagging_keeps_the_reason_and_sets_the_clients_flag(self, amina, caseworker):
        raised = in_scope(amina, actions.flag_client, amina, caseworker, f"  {REASON}  ")
        assert (raised.reason, raised.raised_by, raised.removed_at) == (REASON, caseworker, None)
        assert fresh(amina).has_safety_flag is True

    def test_removing_keeps_the_flag_in_the_history_with_why(self, amina, manager):
        flag(amina)
        in_scope(amina, actions.unflag_client, amina, manager, "Apologised; no incident since.")
        (old,) = flags(amina)
        assert old.removed_by == manager and old.removed_at is not None
        assert old.removal_reason == "Apologised; no incident since."
        assert fresh(amina).has_safety_flag is False
        flag(amina, "New incident.")
        assert [f.removed_at is None for f in flags(amina)] == [False, True]
        assert fresh(amina).has_safety_flag is True

    @pytest.mark.parametrize("reason", ["", "   "])
    def test_a_reason_is_required_both_ways_and_nothing_is_written(self, amina, reason):
        with pytest.raises(ValidationError) as refused:
            flag(amina, reason)
        assert list(refused.value.message_dict) == ["reason"]
        assert flags(amina) == [] and fresh(amina).has_safety_flag is False
        flag(amina)
        with pytest.raises(ValidationError) as refused:
            in_scope(amina, actions.unflag_client, amina, None, reason)
        assert list(refused.value.message_dict) == ["reason"]
        assert fresh(amina).has_safety_flag is True

    def test_a_second_flag_or_removing_no_flag_does_not_apply(self, amina):
        with pytest.raises(actions.NotApplicable):
            in_scope(amina, actions.unflag_client, amina, None, "Why")
        flag(amina)
        with pytest.raises(actions.NotApplicable):
            flag(amina, "Again")
        assert len(flags(amina)) == 1

    def test_both_are_audited_on_the_client_without_the_reasons_text(self, amina, caseworker):
        in_scope(amina, actions.flag_client, amina, caseworker, REASON)
        in_scope(amina, actions.unflag_client, amina, caseworker, "Resolved.")
        trail = [(e.action, e.object_type, e.actor) for e in events_of(amina)]
        assert trail == [
            (AuditEvent.Action.CREATE, "clients.client", None),  # registration
            (AuditEvent.Action.CREATE, "clients.safetyflag", caseworker),
            (AuditEvent.Action.CHANGE, "clients.client", caseworker),
            (AuditEvent.Action.CHANGE, "clients.safetyflag", caseworker),
            (AuditEvent.Action.CHANGE, "clients.client", caseworker),
        ]
        everything = str([e.changes for e in events_of(amina)])
        assert REASON not in everything and "Resolved." not in everything
        assert events_of(amina)[1].changes == {"reason": [None, REDACTED]}
        assert events_of(amina)[2].changes == {"has_safety_flag": [False, True]}


class TestPages:
    def test_flagging_from_the_menu_shows_the_banner_on_the_profile(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:flag", args=[amina.pk]), {"reason": REASON}, follow=True)
        html = response.content.decode()
        assert 'class="alert alert-danger client-safety-banner" role="alert"' in html
        assert REASON in html
        assert "Safety flag added." in html

    def test_an_empty_reason_is_a_form_error_naming_the_field(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:flag", args=[amina.pk]), {"reason": "  "})
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["reason"]
        assert flags(amina) == []

    def test_removing_needs_a_reason_too(self, client, amina, caseworker):
        flag(amina)
        client.force_login(caseworker)
        response = client.post(reverse("clients:unflag", args=[amina.pk]), {"reason": ""})
        assert response.status_code == 400
        assert list(response.context["form"].errors) == ["reason"]
        assert fresh(amina).has_safety_flag is True
        assert client.post(reverse("clients:unflag", args=[amina.pk]), {"reason": "Resolved."}).status_code == 302
        html = client.get(reverse("clients:detail", args=[amina.pk])).content.decode()
        assert "client-safety-banner" not in html

    def test_the_banner_shows_on_every_page_about_the_client(self, client, amina, admin):
        flag(amina)
        client.force_login(admin)
        from caseload.clients import urls

        pages = [p.name for p in urls.urlpatterns if "<int:pk>" in str(p.pattern)]
        shown = 0
        for name in pages:
            response = client.get(reverse(f"clients:{name}", args=[amina.pk]))
            if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
                assert "client-safety-banner" in response.content.decode(), name
                shown += 1
        assert shown >= 10


class TestAPI:
    URL = "/api/v1/clients/{}/{}"

    def test_flag_history_and_unflag(self, api, amina, caseworker):
        session = api.as_user(caseworker)
        raised = session.post(self.URL.format(amina.pk, "flag/"), {"reason": REASON}, format="json")
        assert raised.status_code == 201
        assert raised.json()["reason"] == REASON and raised.json()["is_active"] is True
        assert session.get(self.URL.format(amina.pk, "")).json()["has_safety_flag"] is True
        removed = session.post(self.URL.format(amina.pk, "unflag/"), {"reason": "Resolved."}, format="json")
        assert removed.status_code == 200
        assert removed.json()["removal_reason"] == "Resolved." and removed.json()["is_active"] is False
        history = session.get(self.URL.format(amina.pk, "safety-flags/")).json()
        assert [(f["reason"], f["is_active"]) for f in history] == [(REASON, False)]

    def test_a_blank_reason_is_a_400_naming_it_and_a_state_conflict_a_409(self, api, amina, caseworker):
        session = api.as_user(caseworker)
        blank = session.post(self.URL.format(amina.pk, "flag/"), {"reason": ""}, format="json")
        assert blank.status_code == 400 and errors_of(blank) == {"reason": ["blank"]}
        spaces = session.post(self.URL.format(amina.pk, "flag/"), {"reason": "   "}, format="json")
        assert spaces.status_code == 400 and list(errors_of(spaces)) == ["reason"]
        assert flags(amina) == []
        nothing_to_remove = session.post(self.URL.format(amina.pk, "unflag/"), {"reason": "Why"}, format="json")
        assert nothing_to_remove.status_code == 409 and errors_of(nothing_to_remove) == {None: ["not_applicable"]}
        session.post(self.URL.format(amina.pk, "flag/"), {"reason": REASON}, format="json")
        assert session.post(self.URL.format(amina.pk, "flag/"), {"reason": "Again"}, format="json").status_code == 409

    @pytest.mark.parametrize(
        ("role", "allowed"),
        [("Administrator", True), ("Manager", True), ("Caseworker", True), ("Front desk", False), ("Read-only auditor", False)],
    )
    def test_it_needs_clients_flag(self, api, agency, amina, role, allowed):
        from caseload.testing.factories import make_member

        session = api.as_user(make_member(agency, role).user)
        response = session.post(self.URL.format(amina.pk, "flag/"), {"reason": REASON}, format="json")
        assert response.status_code == (201 if allowed else 403)
        assert session.get(self.URL.format(amina.pk, "safety-flags/")).status_code == 200
        assert fresh(amina).has_safety_flag is allowed

    def test_another_agency_gets_404(self, api, amina, outsider):
        flag(amina)
        session = api.as_user(outsider)
        assert session.get(self.URL.format(amina.pk, "safety-flags/")).status_code == 404
        assert session.post(self.URL.format(amina.pk, "unflag/"), {"reason": "x"}, format="json").status_code == 404
        assert fresh(amina).has_safety_flag is True


class TestNeverInThePortal:
    def test_the_clients_own_portal_account_reads_nothing_of_the_staff_api(self, api, client, amina):
        flag(amina)
        user = in_scope(amina, actions.invite_to_portal, amina, None)
        session = api.as_user(user)
        for path in ("", "safety-flags/"):
            response = session.get(self.url(amina, path))
            assert response.status_code in {403, 404}
            assert REASON not in response.content.decode()
        client.force_login(user)
        response = client.get(reverse("clients:detail", args=[amina.pk]))
        assert response.status_code in {403, 404}
        assert REASON not in response.content.decode()

    @staticmethod
    def url(client, path):
        return f"/api/v1/clients/{client.pk}/{path}"

    def test_only_staff_endpoints_under_clients_view_carry_the_flag(self, client, db):
        """Every schema property about safety flags lives under /api/v1/clients/ (clients.view); a client-facing
        (portal) serializer must not add one: this test fails the day one does."""
        schema = client.get("/api/schema/", {"format": "json"}).json()
        carriers = {
            name
            for name, component in schema["components"]["schemas"].items()
            if "SafetyFlag" in name or "has_safety_flag" in component.get("properties", {})
        }
        assert {"SafetyFlag", "Client"} <= carriers
        paths = {path for path, item in schema["paths"].items() if any(f"/schemas/{name}'" in str(item) for name in carriers)}
        assert "/api/v1/clients/{id}/safety-flags/" in paths
        assert all(path.startswith("/api/v1/clients/") for path in paths), paths
