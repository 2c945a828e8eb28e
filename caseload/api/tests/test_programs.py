import pytest

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.tenancy import actions
from caseload.tenancy.models import Funder, Program
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/programs/"


def make_program(agency, name="Job Search", **data):
    with agency_scope(agency):
        return actions.create_object(Program, agency=agency, actor=None, data={"name": name, **data})


def make_funder(agency, name="IRCC"):
    with agency_scope(agency):
        return actions.create_object(Funder, agency=agency, actor=None, data={"name": name})


def program_names(agency):
    with agency_scope(agency):
        return sorted(Program.objects.for_agency(agency).values_list("name", flat=True))


@pytest.mark.django_db
class TestList:
    def test_it_lists_only_the_agencys_programs(self, api, agency, other_agency, caseworker):
        make_program(agency, "Ours")
        make_program(other_agency, "Theirs")
        response = api.as_user(caseworker).get(URL)
        assert response.status_code == 200
        assert [p["name"] for p in response.json()["results"]] == ["Ours"]

    def test_it_answers_in_pages(self, api, agency, caseworker):
        for n in range(3):
            make_program(agency, f"Program {n}")
        response = api.as_user(caseworker).get(URL, {"page_size": 2})
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert "page=2" in body["next"]
        assert body["previous"] is None

    def test_it_answers_404_json_for_a_page_past_the_end(self, api, agency, caseworker):
        response = api.as_user(caseworker).get(URL, {"page": 9})
        assert response.status_code == 404
        assert errors_of(response) == {None: ["not_found"]}

    def test_it_needs_authentication(self, api, agency):
        response = api.get(URL)
        assert response.status_code == 401
        assert errors_of(response) == {None: ["not_authenticated"]}

    def test_it_refuses_a_user_who_is_no_member(self, api, db):
        from caseload.testing.factories import UserFactory

        response = api.as_user(UserFactory()).get(URL)
        assert response.status_code == 403


@pytest.mark.django_db
class TestDetail:
    def test_it_shows_a_program_of_the_agency(self, api, agency, caseworker):
        funder = make_funder(agency)
        program = make_program(agency, funders=[funder])
        response = api.as_user(caseworker).get(f"{URL}{program.pk}/")
        assert response.status_code == 200
        assert response.json() == {
            "id": program.pk,
            "name": "Job Search",
            "code": "",
            "description": "",
            "is_active": True,
            "funders": [funder.pk],
        }

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_it_answers_404_for_another_agencys_program(self, api, agency, other_agency, admin, method):
        theirs = make_program(other_agency, "Theirs")
        response = getattr(api.as_user(admin), method)(f"{URL}{theirs.pk}/", {"name": "Hijacked"})
        assert response.status_code == 404
        assert errors_of(response) == {None: ["not_found"]}
        assert program_names(other_agency) == ["Theirs"]

    def test_it_answers_404_json_for_an_id_that_is_not_a_number(self, api, agency, caseworker):
        response = api.as_user(caseworker).get(f"{URL}abc/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
class TestWrite:
    def test_an_administrator_creates_a_program_and_it_is_audited(self, api, agency, admin):
        funder = make_funder(agency)
        response = api.as_user(admin).post(URL, {"name": "Bridging", "code": "BR", "funders": [funder.pk]})
        assert response.status_code == 201, response.json()
        assert response.json()["funders"] == [funder.pk]
        with agency_scope(agency):
            program = Program.objects.for_agency(agency).get(name="Bridging")
            event = AuditEvent.objects.for_agency(agency).get(object_type="tenancy.program", object_id=str(program.pk))
        assert event.action == "create"
        assert event.actor == admin

    def test_an_administrator_changes_and_deletes_a_program(self, api, agency, admin):
        program = make_program(agency)
        client = api.as_user(admin)
        response = client.patch(f"{URL}{program.pk}/", {"is_active": False})
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        response = client.delete(f"{URL}{program.pk}/")
        assert response.status_code == 204
        assert program_names(agency) == []

    @pytest.mark.parametrize("role", ["auditor", "caseworker", "manager"])
    def test_a_member_without_agency_manage_cannot_write(self, api, agency, role, request):
        user = request.getfixturevalue(role)
        program = make_program(agency)
        client = api.as_user(user)
        for response in [
            client.post(URL, {"name": "New"}),
            client.put(f"{URL}{program.pk}/", {"name": "Renamed"}),
            client.patch(f"{URL}{program.pk}/", {"name": "Renamed"}),
            client.delete(f"{URL}{program.pk}/"),
        ]:
            assert response.status_code == 403
            assert errors_of(response) == {None: ["permission_denied"]}
        assert program_names(agency) == ["Job Search"]

    def test_a_missing_name_is_a_400_naming_the_field(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {"code": "X"})
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert errors_of(response) == {"name": ["required"]}

    def test_a_duplicate_name_is_a_400_naming_the_field(self, api, agency, admin):
        make_program(agency, "Bridging")
        response = api.as_user(admin).post(URL, {"name": "Bridging"})
        assert response.status_code == 400
        assert errors_of(response) == {"name": ["unique"]}

    def test_the_same_name_as_another_agencys_program_is_fine(self, api, agency, other_agency, admin):
        make_program(other_agency, "Bridging")
        response = api.as_user(admin).post(URL, {"name": "Bridging"})
        assert response.status_code == 201

    def test_another_agencys_funder_does_not_exist(self, api, agency, other_agency, admin):
        theirs = make_funder(other_agency)
        response = api.as_user(admin).post(URL, {"name": "Bridging", "funders": [theirs.pk]})
        assert response.status_code == 400
        assert errors_of(response) == {"funders": ["does_not_exist"]}
        assert program_names(agency) == []

    def test_a_program_with_staff_cannot_be_deleted(self, api, agency, admin):
        program = make_program(agency)
        from caseload.testing.factories import make_member

        make_member(agency, "Caseworker", programs=[program])
        response = api.as_user(admin).delete(f"{URL}{program.pk}/")
        assert response.status_code == 400
        assert errors_of(response) == {"non_field_errors": ["invalid"]}
        assert program_names(agency) == ["Job Search"]
