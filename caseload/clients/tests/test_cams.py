"""Linking a client to their CaMS record: a validated number, unique in the agency, who and when."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.clients import actions
from caseload.clients.tests.action_helpers import events_of, fresh, in_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(agency, register):
    return register(agency, given_name="Amina", family_name="Haddad")


def link(client, number, actor=None):
    return in_scope(client, actions.link_cams, client, actor, number)


class TestActions:
    def test_linking_records_the_number_who_and_when_and_unlinking_clears_them(self, amina, caseworker):
        link(amina, " 1234 5678 ", caseworker)
        linked = fresh(amina)
        assert (linked.cams_number, linked.cams_linked_by) == ("12345678", caseworker)
        assert linked.cams_linked_at is not None
        in_scope(amina, actions.unlink_cams, amina, caseworker)
        unlinked = fresh(amina)
        assert (unlinked.cams_number, unlinked.cams_linked_by, unlinked.cams_linked_at) == ("", None, None)

    @pytest.mark.parametrize("number", ["", "12345", "1234567890123", "12345a78", "123-456-789"])
    def test_an_invalid_number_is_refused_naming_the_field(self, amina, number):
        with pytest.raises(ValidationError) as refused:
            link(amina, number)
        assert list(refused.value.message_dict) == ["cams_number"]
        assert fresh(amina).cams_number == ""

    def test_a_number_already_linked_in_the_agency_is_refused_clearly(self, agency, register, amina):
        other = register(agency, given_name="Wei", family_name="Tanaka")
        link(other, "1234567")
        with pytest.raises(ValidationError) as refused:
            link(amina, "1234567")
        assert refused.value.message_dict == {
            "cams_number": [f"CaMS record 1234567 is already linked to client {other.client_number}."]
        }
        assert fresh(amina).cams_number == ""

    def test_the_same_number_in_another_agency_is_fine(self, other_agency, register, amina):
        theirs = register(other_agency, given_name="Oscar", family_name="Outsider")
        link(theirs, "1234567")
        link(amina, "1234567")
        assert fresh(amina).cams_number == "1234567"

    def test_linking_twice_or_unlinking_nothing_does_not_apply(self, amina):
        with pytest.raises(actions.NotApplicable):
            in_scope(amina, actions.unlink_cams, amina, None)
        link(amina, "1234567")
        with pytest.raises(actions.NotApplicable):
            link(amina, "7654321")
        assert fresh(amina).cams_number == "1234567"

    def test_both_are_audited(self, amina, caseworker):
        link(amina, "1234567", caseworker)
        in_scope(amina, actions.unlink_cams, amina, caseworker)
        changes = [e.changes for e in events_of(amina, action=AuditEvent.Action.CHANGE)]
        assert changes[0]["cams_number"] == ["", "1234567"] and changes[0]["cams_linked_by"] == [None, caseworker.pk]
        assert changes[1]["cams_number"] == ["1234567", ""] and changes[1]["cams_linked_at"][1] is None


class TestPages:
    def test_link_from_the_menu(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:cams_link", args=[amina.pk]), {"cams_number": "1234567"}, follow=True)
        assert "Linked to CaMS record 1234567." in response.content.decode()
        assert fresh(amina).cams_number == "1234567"

    def test_an_invalid_number_is_a_form_error_and_nothing_is_written(self, client, amina, caseworker):
        client.force_login(caseworker)
        response = client.post(reverse("clients:cams_link", args=[amina.pk]), {"cams_number": "12ab"})
        assert response.status_code == 400
        assert response.context["form"].errors["cams_number"] == ["A CaMS reference number is 6 to 12 digits."]
        assert fresh(amina).cams_number == ""
        assert events_of(amina, action=AuditEvent.Action.CHANGE) == []

    def test_unlink_from_the_menu(self, client, amina, caseworker):
        link(amina, "1234567")
        client.force_login(caseworker)
        assert client.post(reverse("clients:cams_unlink", args=[amina.pk])).status_code == 302
        assert fresh(amina).cams_number == ""


class TestAPI:
    URL = "/api/v1/clients/{}/{}"

    def test_link_and_unlink(self, api, amina, caseworker):
        session = api.as_user(caseworker)
        linked = session.post(self.URL.format(amina.pk, "link-cams/"), {"cams_number": "1234567"}, format="json")
        assert linked.status_code == 200
        assert linked.json()["cams_number"] == "1234567" and linked.json()["cams_linked_by"] == caseworker.pk
        assert session.get(self.URL.format(amina.pk, "")).json()["cams_number"] == "1234567"
        again = session.post(self.URL.format(amina.pk, "link-cams/"), {"cams_number": "7654321"}, format="json")
        assert again.status_code == 409
        unlinked = session.post(self.URL.format(amina.pk, "unlink-cams/"))
        assert unlinked.status_code == 200 and unlinked.json() == {
            "cams_number": "",
            "cams_linked_by": None,
            "cams_linked_at": None,
        }
        assert session.post(self.URL.format(amina.pk, "unlink-cams/")).status_code == 409

    def test_an_invalid_or_taken_number_is_a_400_naming_it(self, api, agency, register, amina, caseworker):
        other = register(agency, given_name="Wei", family_name="Tanaka")
        link(other, "1234567")
        session = api.as_user(caseworker)
        for number in ("12", "1234567"):
            response = session.post(self.URL.format(amina.pk, "link-cams/"), {"cams_number": number}, format="json")
            assert response.status_code == 400
            assert errors_of(response) == {"cams_number": ["invalid"]}
        assert fresh(amina).cams_number == ""

    @pytest.mark.parametrize(
        ("role", "allowed"),
        [("Administrator", True), ("Manager", True), ("Caseworker", True), ("Front desk", False), ("Read-only auditor", False)],
    )
    def test_it_needs_clients_link(self, api, agency, amina, role, allowed):
        session = api.as_user(make_member(agency, role).user)
        response = session.post(self.URL.format(amina.pk, "link-cams/"), {"cams_number": "1234567"}, format="json")
        assert response.status_code == (200 if allowed else 403)
        assert (fresh(amina).cams_number == "1234567") is allowed

    def test_another_agency_gets_404(self, api, amina, outsider):
        response = api.as_user(outsider).post(self.URL.format(amina.pk, "link-cams/"), {"cams_number": "1234567"}, format="json")
        assert response.status_code == 404
        assert fresh(amina).cams_number == ""
