import pytest

from caseload.api.tests.helpers import errors_of
from caseload.tenancy.models import Role
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/roles/"


def role_named(agency, name):
    with agency_scope(agency):
        return Role.objects.for_agency(agency).get(name=name)


@pytest.mark.django_db
class TestRoles:
    def test_it_lists_only_the_agencys_roles(self, api, agency, other_agency, admin):
        response = api.as_user(admin).get(URL)
        assert response.status_code == 200
        ids = {r["id"] for r in response.json()["results"]}
        with agency_scope(agency):
            assert ids == set(Role.objects.for_agency(agency).values_list("pk", flat=True))
        assert role_named(other_agency, "Administrator").pk not in ids

    @pytest.mark.parametrize("role", ["manager", "caseworker", "auditor"])
    def test_it_needs_staff_manage_even_to_read(self, api, agency, role, request):
        assert api.as_user(request.getfixturevalue(role)).get(URL).status_code == 403

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_it_answers_404_for_another_agencys_role(self, api, agency, other_agency, admin, method):
        theirs = role_named(other_agency, "Caseworker")
        response = getattr(api.as_user(admin), method)(f"{URL}{theirs.pk}/", {"name": "Hijacked", "permissions": []})
        assert response.status_code == 404
        assert role_named(other_agency, "Caseworker").permissions == theirs.permissions

    def test_an_administrator_creates_a_role_with_sorted_permissions(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {"name": "Intake", "permissions": ["clients.view", "audit.view", "clients.view"]})
        assert response.status_code == 201
        assert response.json()["permissions"] == ["audit.view", "clients.view"]
        assert response.json()["is_seeded"] is False

    def test_an_unknown_permission_is_a_400_naming_the_field(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {"name": "Intake", "permissions": ["everything"]})
        assert response.status_code == 400
        assert errors_of(response) == {"permissions": ["invalid_choice"]}

    def test_a_seeded_role_cannot_be_deleted(self, api, agency, admin):
        role = role_named(agency, "Front desk")
        response = api.as_user(admin).delete(f"{URL}{role.pk}/")
        assert response.status_code == 400
        assert errors_of(response) == {"non_field_errors": ["invalid"]}

    def test_an_administrator_cannot_remove_their_own_staff_manage(self, api, agency, admin):
        role = role_named(agency, "Administrator")
        response = api.as_user(admin).patch(f"{URL}{role.pk}/", {"permissions": ["audit.view"]})
        assert response.status_code == 400
        assert errors_of(response) == {"permissions": ["invalid"]}
        assert "staff.manage" in role_named(agency, "Administrator").permissions

    def test_the_auditor_cannot_write(self, api, agency, auditor):
        role = role_named(agency, "Caseworker")
        client = api.as_user(auditor)
        assert client.post(URL, {"name": "Intake"}).status_code == 403
        assert client.patch(f"{URL}{role.pk}/", {"name": "Renamed"}).status_code == 403
        assert client.delete(f"{URL}{role.pk}/").status_code == 403
