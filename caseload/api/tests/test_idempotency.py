import datetime
import threading
import time
import uuid
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from caseload.api.idempotency import purge_idempotency_records
from caseload.api.models import IdempotencyRecord
from caseload.api.tests.helpers import errors_of
from caseload.tenancy import actions
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import TEST_PASSWORD

URL = "/api/v1/programs/"


def programs(agency) -> list[str]:
    with agency_scope(agency):
        return sorted(Program.objects.for_agency(agency).values_list("name", flat=True))


def post(client, data, key, **extra):
    return client.post(URL, data, HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.django_db
class TestReplay:
    def test_the_same_key_twice_creates_once_and_replays_the_first_answer(self, api, agency, admin):
        client = api.as_user(admin)
        key = str(uuid.uuid4())
        first = post(client, {"name": "Bridging"}, key)
        second = post(client, {"name": "Bridging"}, key)
        assert first.status_code == second.status_code == 201
        assert second.content == first.content
        assert second["Content-Type"] == first["Content-Type"]
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert programs(agency) == ["Bridging"]
        assert IdempotencyRecord.objects.count() == 1

    def test_without_a_key_a_retry_writes_again(self, api, agency, admin):
        client = api.as_user(admin)
        assert client.post(URL, {"name": "Bridging"}).status_code == 201
        assert client.post(URL, {"name": "Bridging"}).status_code == 400

    def test_a_retried_delete_answers_as_the_first_did(self, api, agency, admin):
        with agency_scope(agency):
            program = actions.create_object(Program, agency=agency, actor=None, data={"name": "Old"})
        client = api.as_user(admin)
        assert client.delete(f"{URL}{program.pk}/", HTTP_IDEMPOTENCY_KEY="delete-old").status_code == 204
        again = client.delete(f"{URL}{program.pk}/", HTTP_IDEMPOTENCY_KEY="delete-old")
        assert again.status_code == 204
        assert again["Idempotent-Replayed"] == "true"

    def test_it_works_with_a_token(self, api, agency, admin):
        client = api.with_token(admin)
        assert post(client, {"name": "Bridging"}, "k1").status_code == 201
        assert post(client, {"name": "Bridging"}, "k1")["Idempotent-Replayed"] == "true"
        assert programs(agency) == ["Bridging"]

    def test_a_refused_request_is_replayed_too(self, api, agency, admin):
        client = api.as_user(admin)
        first = post(client, {"code": "no name"}, "k1")
        assert first.status_code == 400
        second = post(client, {"code": "no name"}, "k1")
        assert second.status_code == 400
        assert second.content == first.content


@pytest.mark.django_db
class TestMisuse:
    def test_the_same_key_for_a_different_body_is_a_422_naming_the_header(self, api, agency, admin):
        client = api.as_user(admin)
        assert post(client, {"name": "Bridging"}, "k1").status_code == 201
        response = post(client, {"name": "Something else"}, "k1")
        assert response.status_code == 422
        assert errors_of(response) == {"Idempotency-Key": ["idempotency_key_reused"]}
        assert programs(agency) == ["Bridging"]

    def test_the_same_key_on_another_path_is_a_422(self, api, agency, admin):
        client = api.as_user(admin)
        assert post(client, {"name": "Bridging"}, "k1").status_code == 201
        assert client.post("/api/v1/funders/", {"name": "Bridging"}, HTTP_IDEMPOTENCY_KEY="k1").status_code == 422

    def test_the_same_key_in_another_agency_is_a_422(self, api, agency, other_agency, admin):
        from caseload.tenancy.models import Role

        with agency_scope(other_agency):
            role = Role.objects.for_agency(other_agency).get(name="Administrator")
            actions.add_staff_member(agency=other_agency, actor=None, email=admin.email, full_name="", role=role)
        client = api.as_user(admin)
        assert post(client, {"name": "Bridging"}, "k1").status_code == 201
        assert post(client, {"name": "Bridging"}, "k1", HTTP_X_AGENCY=other_agency.slug).status_code == 422
        assert programs(other_agency) == []

    @pytest.mark.parametrize("key", ["", "x" * 256])
    def test_an_empty_or_too_long_key_is_a_400_naming_the_header(self, api, agency, admin, key):
        response = post(api.as_user(admin), {"name": "Bridging"}, key)
        assert response.status_code == 400
        assert errors_of(response) == {"Idempotency-Key": ["invalid"]}
        assert programs(agency) == []

    def test_each_user_has_their_own_keys(self, api, agency, admin, db):
        from caseload.testing.factories import make_member

        other_admin = make_member(agency, "Administrator").user
        assert post(api.as_user(admin), {"name": "One"}, "shared").status_code == 201
        response = post(api.as_user(other_admin), {"name": "Two"}, "shared")
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
        assert programs(agency) == ["One", "Two"]


@pytest.mark.django_db
class TestWhatIsNotTracked:
    def test_the_token_endpoint_ignores_the_key_and_stores_no_secret(self, api, agency, admin):
        data = {"email": admin.email, "password": TEST_PASSWORD}
        first = api.post("/api/v1/auth/token/", data, HTTP_IDEMPOTENCY_KEY="login")
        second = api.post("/api/v1/auth/token/", data, HTTP_IDEMPOTENCY_KEY="login")
        assert first.status_code == second.status_code == 200
        assert first.json()["token"] != second.json()["token"]
        assert not IdempotencyRecord.objects.exists()

    def test_reads_and_anonymous_requests_are_not_tracked(self, api, agency, admin):
        assert api.post(URL, {"name": "Bridging"}, HTTP_IDEMPOTENCY_KEY="anon").status_code == 401
        assert api.as_user(admin).get(URL, HTTP_IDEMPOTENCY_KEY="read").status_code == 200
        assert not IdempotencyRecord.objects.exists()

    def test_a_server_error_stores_nothing_so_a_retry_runs_again(self, agency, admin):
        from rest_framework.test import APIClient

        client = APIClient(raise_request_exception=False)
        client.force_login(admin)
        with mock.patch("caseload.tenancy.api.actions.create_object", side_effect=RuntimeError("database hiccup")):
            failed = post(client, {"name": "Bridging"}, "k1")
        assert failed.status_code == 500
        assert not IdempotencyRecord.objects.exists()
        retried = post(client, {"name": "Bridging"}, "k1")
        assert retried.status_code == 201
        assert "Idempotent-Replayed" not in retried
        assert programs(agency) == ["Bridging"]

    def test_a_write_that_fails_after_the_view_wrote_leaves_neither_the_write_nor_the_record(self, agency, admin):
        from rest_framework.test import APIClient

        client = APIClient(raise_request_exception=False)
        client.force_login(admin)
        real = actions.create_object

        def create_then_fail(*args, **kwargs):
            real(*args, **kwargs)
            raise RuntimeError("connection dropped after the insert")

        with mock.patch("caseload.tenancy.api.actions.create_object", side_effect=create_then_fail):
            assert post(client, {"name": "Bridging"}, "k1").status_code == 500
        assert programs(agency) == []
        assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
class TestExpiry:
    def test_records_older_than_a_day_are_purged(self, api, agency, admin):
        client = api.as_user(admin)
        post(client, {"name": "Old"}, "old")
        post(client, {"name": "New"}, "new")
        IdempotencyRecord.objects.filter(key="old").update(created_at=timezone.now() - datetime.timedelta(hours=25))
        assert purge_idempotency_records() == 1
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]

    def test_an_expired_key_not_yet_purged_runs_the_request_anew(self, api, agency, admin):
        client = api.as_user(admin)
        post(client, {"name": "Old"}, "k1")
        IdempotencyRecord.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
        response = post(client, {"name": "New"}, "k1")
        assert response.status_code == 201
        assert programs(agency) == ["New", "Old"]

    def test_the_scheduler_runs_the_purge(self, db):
        from caseload.api.tasks import purge_idempotency
        from caseload.scheduling.jobs import get_job

        assert get_job("api.purge_idempotency").get_task() is purge_idempotency
        assert purge_idempotency.call() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_with_the_same_key_create_one_row(agency, admin):
    from django.db import connections
    from rest_framework.test import APIClient

    real = actions.create_object

    def slow_create(*args, **kwargs):
        time.sleep(0.5)  # the second request arrives while the first is still writing
        return real(*args, **kwargs)

    barrier = threading.Barrier(2)
    responses = []

    def request():
        client = APIClient()
        client.force_login(admin)
        barrier.wait()
        try:
            responses.append(post(client, {"name": "Bridging"}, "same-key"))
        finally:
            connections.close_all()

    with mock.patch("caseload.tenancy.api.actions.create_object", side_effect=slow_create):
        threads = [threading.Thread(target=request) for _n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert [r.status_code for r in responses] == [201, 201]
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert responses[0].content == responses[1].content
    assert programs(agency) == ["Bridging"]
    assert IdempotencyRecord.objects.count() == 1


@pytest.mark.django_db
def test_a_refusal_is_not_stored_so_the_retry_runs_once_allowed(api, agency, auditor):
    from caseload.tenancy.models import Membership, Role

    client = api.as_user(auditor)
    assert post(client, {"name": "Bridging"}, "k1").status_code == 403
    assert not IdempotencyRecord.objects.exists()
    with agency_scope(agency):
        membership = Membership.objects.for_agency(agency).get(user=auditor)
        actions.update_object(membership, actor=None, data={"role": Role.objects.for_agency(agency).get(name="Administrator")})
    response = post(client, {"name": "Bridging"}, "k1")
    assert response.status_code == 201
    assert programs(agency) == ["Bridging"]
