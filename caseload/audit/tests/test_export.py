import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from caseload.audit.actions import Action, record
from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_role
from caseload.testing.factories import make_member

URL = reverse("audit:export")


def event(agency, actor=None, **extra):
    with agency_scope(agency):
        return record(agency=agency, actor=actor, **{"action": Action.CHANGE, **extra})


def read_csv(response):
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_it_streams_the_filtered_log_as_csv(as_user, auditor, admin, agency, other_agency):
    wanted = event(agency, admin, action=Action.VIEW, client_id=42, object_type="clients.client", object_id="42", object_repr="Zoë O'Brien-Nguyễn")
    event(agency, admin, action=Action.VIEW, client_id=41)
    event(other_agency, action=Action.VIEW, client_id=42, object_repr="Theirs")
    response = as_user(auditor).get(URL, {"client": 42})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    rows = read_csv(response)
    assert [row["Client ID"] for row in rows] == ["42"]
    assert rows[0]["Object"] == "Zoë O'Brien-Nguyễn"
    assert rows[0]["User"] == admin.email
    assert rows[0]["Object ID"] == wanted.object_id


def test_the_export_itself_is_recorded_with_its_filters(as_user, auditor, agency):
    response = as_user(auditor).get(URL, {"action": "view", "client": 42})
    read_csv(response)
    export = AuditEvent.objects.for_agency(agency).filter(action=Action.EXPORT).get()
    assert export.actor == auditor
    assert export.object_type == "audit.auditevent"
    assert export.changes == {"filters": {"client": "42", "action": "view"}}


def test_changes_are_written_whole_and_formulas_are_defused(as_user, auditor, agency):
    event(agency, object_repr="=HYPERLINK(\"http://evil.example\")", changes={"name": ["Old", "New"]})
    rows = read_csv(as_user(auditor).get(URL, {"action": "change"}))
    assert rows[0]["Object"].startswith("'=")
    assert rows[0]["Changes"] == '{"name": ["Old", "New"]}'


def test_a_bad_filter_is_a_400_naming_it_and_nothing_is_exported(as_user, auditor, agency):
    response = as_user(auditor).get(URL, {"date_from": "not a date"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["date_from"]
    assert not AuditEvent.objects.for_agency(agency).filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("role_name", ["Caseworker", "Front desk"])
def test_members_without_audit_export_are_refused_and_nothing_is_recorded(client, agency, role_name):
    client.force_login(make_member(agency, role_name).user)
    assert client.get(URL).status_code == 403
    assert not AuditEvent.objects.for_agency(agency).filter(action=Action.EXPORT).exists()


def test_a_member_who_may_view_but_not_export_is_refused(client, agency):
    viewer_role = make_role(agency, "Viewer", permissions=["audit.view"])
    member = make_member(agency)
    Membership.objects.for_agency(agency).filter(pk=member.pk).update(role=viewer_role)
    client.force_login(member.user)
    assert client.get(reverse("audit:list")).status_code == 200
    assert client.get(URL).status_code == 403
