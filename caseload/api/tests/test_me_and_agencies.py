import pytest

from caseload.tenancy.actions import add_staff_member
from caseload.tenancy.models import Role
from caseload.tenancy.roles import SEEDED_ROLES
from caseload.tenancy.scoping import agency_scope


def join(agency, user, role_name="Read-only auditor"):
    with agency_scope(agency):
        role = Role.objects.for_agency(agency).get(name=role_name)
        return add_staff_member(agency=agency, actor=None, email=user.email, full_name=user.full_name, role=role)


@pytest.mark.django_db
class TestMe:
    def test_it_tells_who_you_are_and_what_you_may_do(self, api, agency, caseworker):
        body = api.as_user(caseworker).get("/api/v1/me/").json()
        assert body["user"]["email"] == caseworker.email
        assert body["agency"]["id"] == agency.pk
        assert body["membership"]["role"]["name"] == "Caseworker"
        assert body["permissions"] == sorted(SEEDED_ROLES["Caseworker"])
        assert [m["agency"]["slug"] for m in body["memberships"]] == [agency.slug]

    def test_the_x_agency_header_switches_agency_by_slug_or_id(self, api, agency, other_agency, caseworker):
        join(other_agency, caseworker)
        client = api.as_user(caseworker)
        by_slug = client.get("/api/v1/me/", HTTP_X_AGENCY=other_agency.slug).json()
        assert by_slug["agency"]["id"] == other_agency.pk
        assert by_slug["permissions"] == sorted(SEEDED_ROLES["Read-only auditor"])
        by_id = client.get("/api/v1/me/", HTTP_X_AGENCY=str(other_agency.pk)).json()
        assert by_id["agency"]["id"] == other_agency.pk
        assert len(by_id["memberships"]) == 2

    def test_the_x_agency_header_cannot_enter_an_agency_you_are_not_in(self, api, agency, other_agency, caseworker):
        body = api.as_user(caseworker).get("/api/v1/me/", HTTP_X_AGENCY=other_agency.slug).json()
        assert body["agency"]["id"] == agency.pk

    def test_the_agency_chosen_by_header_scopes_every_endpoint(self, api, agency, other_agency, caseworker):
        join(other_agency, caseworker)
        client = api.as_user(caseworker)
        # A Read-only auditor there: writes that a caseworker may not do anyway, reads of the audit log that it may.
        assert client.get("/api/v1/audit-events/").status_code == 403
        assert client.get("/api/v1/audit-events/", HTTP_X_AGENCY=other_agency.slug).status_code == 200

    def test_a_user_with_no_agency_gets_an_empty_answer(self, api, db):
        from caseload.testing.factories import UserFactory

        body = api.as_user(UserFactory()).get("/api/v1/me/").json()
        assert body["agency"] is None
        assert body["memberships"] == []
        assert body["permissions"] == []

    def test_it_needs_authentication(self, api, db):
        assert api.get("/api/v1/me/").status_code == 401


@pytest.mark.django_db
class TestAgencies:
    def test_it_lists_only_your_agencies(self, api, agency, other_agency, caseworker):
        response = api.as_user(caseworker).get("/api/v1/agencies/")
        assert [a["id"] for a in response.json()["results"]] == [agency.pk]

    def test_it_answers_404_for_an_agency_you_are_not_in(self, api, agency, other_agency, caseworker):
        assert api.as_user(caseworker).get(f"/api/v1/agencies/{other_agency.pk}/").status_code == 404
        assert api.as_user(caseworker).get(f"/api/v1/agencies/{agency.pk}/").status_code == 200

    def test_it_is_read_only(self, api, agency, admin):
        client = api.as_user(admin)
        assert client.post("/api/v1/agencies/", {"name": "New"}).status_code == 405
        assert client.patch(f"/api/v1/agencies/{agency.pk}/", {"name": "Renamed"}).status_code == 405
