import pytest

from caseload.api.tests.helpers import errors_of
from caseload.tenancy import actions
from caseload.tenancy.models import Funder, Program
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/funders/"


def make_funder(agency, name="IRCC", **data):
    with agency_scope(agency):
        return actions.create_object(Funder, agency=agency, actor=None, data={"name": name, **data})


def funder_names(agency):
    with agency_scope(agency):
        return sorted(Funder.objects.for_agency(agency).values_list("name", flat=True))


@pytest.mark.django_db
class TestFunders:
    def test_it_lists_only_the_agencys_funders_to_any_member(self, api, agency, other_agency, caseworker):
        make_funder(agency, "Ours")
        make_funder(other_agency, "Theirs")
        response = api.as_user(caseworker).get(URL)
        assert response.status_code == 200
        assert [f["name"] for f in response.json()["results"]] == ["Ours"]

    def test_it_shows_the_programs_a_funder_funds(self, api, agency, caseworker):
        funder = make_funder(agency)
        with agency_scope(agency):
            program = actions.create_object(Program, agency=agency, actor=None, data={"name": "LINC", "funders": [funder]})
        response = api.as_user(caseworker).get(f"{URL}{funder.pk}/")
        assert response.json()["programs"] == [program.pk]

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_it_answers_404_for_another_agencys_funder(self, api, agency, other_agency, admin, method):
        theirs = make_funder(other_agency, "Theirs")
        response = getattr(api.as_user(admin), method)(f"{URL}{theirs.pk}/", {"name": "Hijacked"})
        assert response.status_code == 404
        assert funder_names(other_agency) == ["Theirs"]

    def test_an_administrator_creates_changes_and_deletes_a_funder(self, api, agency, admin):
        client = api.as_user(admin)
        response = client.post(URL, {"name": "United Way", "contact_email": "reports@example.org"})
        assert response.status_code == 201
        pk = response.json()["id"]
        assert client.patch(f"{URL}{pk}/", {"code": "UW-1"}).json()["code"] == "UW-1"
        assert client.delete(f"{URL}{pk}/").status_code == 204
        assert funder_names(agency) == []

    def test_the_auditor_cannot_write(self, api, agency, auditor):
        funder = make_funder(agency)
        client = api.as_user(auditor)
        assert client.post(URL, {"name": "New"}).status_code == 403
        assert client.patch(f"{URL}{funder.pk}/", {"name": "Renamed"}).status_code == 403
        assert client.delete(f"{URL}{funder.pk}/").status_code == 403
        assert funder_names(agency) == ["IRCC"]

    def test_a_bad_email_is_a_400_naming_the_field(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {"name": "United Way", "contact_email": "not an email"})
        assert response.status_code == 400
        assert errors_of(response) == {"contact_email": ["invalid"]}
        assert funder_names(agency) == []

    def test_programs_are_read_only_here(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {"name": "United Way", "programs": [1, 2]})
        assert response.status_code == 201
        assert response.json()["programs"] == []
