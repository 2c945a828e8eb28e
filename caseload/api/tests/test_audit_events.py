import datetime
import zoneinfo

import pytest

from caseload.api.tests.helpers import errors_of
from caseload.audit.actions import record
from caseload.audit.models import AuditEvent
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/audit-events/"


def event(agency, actor=None, action="view", client_id=None, at=None, object_type="clients.client"):
    with agency_scope(agency):
        created = record(agency=agency, actor=actor, action=action, client_id=client_id, object_type=object_type, object_id="1")
        if at is not None:
            AuditEvent.objects.for_agency(agency).filter(pk=created.pk).update(created_at=at)
    return created


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {e["id"] for e in response.json()["results"]}


@pytest.fixture
def events(agency, other_agency, admin, caseworker):
    AuditEvent.objects.with_scopes_disabled().all().delete()
    tz = zoneinfo.ZoneInfo(agency.time_zone)
    return {
        "admin_view": event(agency, admin, "view", client_id=7, at=datetime.datetime(2025, 3, 1, 23, 30, tzinfo=tz)),
        "caseworker_change": event(agency, caseworker, "change", client_id=8, at=datetime.datetime(2025, 3, 2, 0, 30, tzinfo=tz)),
        "caseworker_export": event(agency, caseworker, "export", at=datetime.datetime(2025, 3, 5, 12, 0, tzinfo=tz), object_type="reports.report"),
        "theirs": event(other_agency, None, "view", client_id=7),
    }


@pytest.mark.django_db
class TestAuditEvents:
    def test_it_lists_only_the_agencys_events(self, api, events, auditor):
        found = ids(api.as_user(auditor).get(URL))
        assert events["theirs"].pk not in found
        assert {events["admin_view"].pk, events["caseworker_change"].pk, events["caseworker_export"].pk} <= found

    def test_it_answers_404_for_another_agencys_event(self, api, events, auditor):
        response = api.as_user(auditor).get(f"{URL}{events['theirs'].pk}/")
        assert response.status_code == 404

    @pytest.mark.parametrize("role", ["caseworker"])
    def test_it_needs_audit_view(self, api, agency, role, request):
        assert api.as_user(request.getfixturevalue(role)).get(URL).status_code == 403

    def test_it_is_read_only_even_for_an_administrator(self, api, events, admin):
        client = api.as_user(admin)
        assert client.post(URL, {"action": "view"}).status_code == 405
        assert client.delete(f"{URL}{events['admin_view'].pk}/").status_code == 405
        assert client.patch(f"{URL}{events['admin_view'].pk}/", {"action": "view"}).status_code == 405

    def test_it_filters_by_actor_client_action_and_type(self, api, events, auditor, caseworker):
        client = api.as_user(auditor)
        assert ids(client.get(URL, {"actor": caseworker.pk, "action": "change"})) == {events["caseworker_change"].pk}
        assert ids(client.get(URL, {"client_id": 7})) == {events["admin_view"].pk}
        assert ids(client.get(URL, {"object_type": "reports.report"})) == {events["caseworker_export"].pk}

    def test_dates_are_days_in_the_agencys_time_zone(self, api, events, auditor):
        client = api.as_user(auditor)
        assert ids(client.get(URL, {"date_from": "2025-03-01", "date_to": "2025-03-01"})) == {events["admin_view"].pk}
        assert ids(client.get(URL, {"date_from": "2025-03-02", "date_to": "2025-03-04"})) == {events["caseworker_change"].pk}
        assert ids(client.get(URL, {"date_from": "2025-03-05", "date_to": "2025-03-31"})) == {events["caseworker_export"].pk}

    @pytest.mark.parametrize(
        "params, attr, code",
        [
            ({"date_from": "yesterday"}, "date_from", "invalid"),
            ({"date_to": "2025-02-30"}, "date_to", "invalid"),
            ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "date_to", "invalid"),
            ({"date_to": "9999-12-31"}, "date_to", "invalid"),
            ({"actor": "someone"}, "actor", "invalid"),
            ({"client_id": "0"}, "client_id", "min_value"),
            ({"action": "explode"}, "action", "invalid_choice"),
        ],
    )
    def test_a_bad_filter_is_a_400_naming_the_parameter(self, api, events, auditor, params, attr, code):
        response = api.as_user(auditor).get(URL, params)
        assert response.status_code == 400
        assert response.json()["type"] == "validation_error"
        assert errors_of(response) == {attr: [code]}
