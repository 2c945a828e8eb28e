"""The saved client lists API (/api/v1/client-lists/)."""

from __future__ import annotations

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.casework.lists import create_list
from caseload.casework.models import ClientList
from caseload.casework.tests.batch_helpers import a_client, count, in_scope, merge
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/client-lists/"


def make_list(agency, actor, name="Spring cohort", clients=(), **data):
    return in_scope(agency, create_list, agency, actor, {"name": name, **data}, clients=clients)


def test_it_creates_a_list_with_clients_and_lists_it(api, caseworker, agency):
    amina = a_client(agency)
    web = api.as_user(caseworker)
    response = web.post(URL, {"name": "Job fair", "clients": [amina.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Job fair" and body["is_shared"] is False and body["owner_name"] == caseworker.full_name
    [row] = web.get(URL).json()["results"]
    assert row["id"] == body["id"] and row["client_count"] == 1
    clients = web.get(f"{URL}{body['id']}/clients/").json()["results"]
    assert clients == [{"id": amina.pk, "client_number": amina.client_number, "name": "Amina Haddad", "status": "active"}]


def test_clients_are_added_and_removed_and_foreign_ids_counted(api, caseworker, agency, other_agency):
    amina, marc = a_client(agency), a_client(agency, "Marc", "Tremblay")
    theirs = a_client(other_agency)
    saved = make_list(agency, caseworker, clients=[amina])
    web = api.as_user(caseworker)
    body = web.post(f"{URL}{saved.pk}/add-clients/", {"clients": [amina.pk, marc.pk, theirs.pk]}, format="json").json()
    assert body == {"changed": 1, "ignored_clients": 1, "client_count": 2}
    body = web.post(f"{URL}{saved.pk}/remove-clients/", {"clients": [amina.pk]}, format="json").json()
    assert body == {"changed": 1, "ignored_clients": 0, "client_count": 1}


def test_merged_profiles_are_a_400_naming_them(api, caseworker, agency):
    amina, double = a_client(agency), a_client(agency, "Amina", "Hadad")
    merge(amina, double)
    saved = make_list(agency, caseworker)
    response = api.as_user(caseworker).post(f"{URL}{saved.pk}/add-clients/", {"clients": [double.pk]}, format="json")
    assert response.status_code == 400 and errors_of(response) == {"clients": ["invalid"]}
    assert f"#{double.client_number}" in response.json()["errors"][0]["detail"]


def test_the_owner_renames_shares_and_deletes(api, caseworker, agency):
    saved = make_list(agency, caseworker)
    web = api.as_user(caseworker)
    body = web.patch(f"{URL}{saved.pk}/", {"name": "Autumn", "is_shared": True}, format="json").json()
    assert body["name"] == "Autumn" and body["is_shared"] is True
    assert "name" in errors_of(web.patch(f"{URL}{saved.pk}/", {"name": "  "}, format="json"))
    assert web.delete(f"{URL}{saved.pk}/").status_code == 204
    assert count(agency, ClientList) == 0


def test_a_colleague_works_a_shared_list_but_cannot_manage_it(api, caseworker, agency):
    saved = make_list(agency, caseworker, is_shared=True)
    amina = a_client(agency)
    web = api.as_user(make_member(agency, "Caseworker").user)
    assert web.post(f"{URL}{saved.pk}/add-clients/", {"clients": [amina.pk]}, format="json").status_code == 200
    assert web.patch(f"{URL}{saved.pk}/", {"name": "Mine now"}, format="json").status_code == 403
    assert web.delete(f"{URL}{saved.pk}/").status_code == 403
    assert count(agency, ClientList) == 1


def test_a_private_list_of_someone_else_is_not_found(api, caseworker, agency, outsider):
    saved = make_list(agency, caseworker, clients=[a_client(agency)])
    colleague = api.as_user(make_member(agency, "Caseworker").user)
    assert colleague.get(f"{URL}{saved.pk}/").status_code == 404
    assert colleague.get(f"{URL}{saved.pk}/clients/").status_code == 404
    assert colleague.get(URL).json()["results"] == []
    assert api.as_user(outsider).get(f"{URL}{saved.pk}/").status_code == 404


@pytest.mark.parametrize("role", ["Front desk", "Read-only auditor"])
def test_a_role_without_casework_batch_is_refused(api, caseworker, agency, role):
    saved = make_list(agency, caseworker, is_shared=True)
    web = api.as_user(make_member(agency, role).user)
    assert web.get(URL).status_code == 403
    assert web.post(URL, {"name": "Mine"}, format="json").status_code == 403
    assert web.post(f"{URL}{saved.pk}/add-clients/", {"clients": [a_client(agency).pk]}, format="json").status_code == 403
    assert count(agency, ClientList) == 1
