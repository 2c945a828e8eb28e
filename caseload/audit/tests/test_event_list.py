import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from caseload.audit.actions import Action, record
from caseload.audit.models import AuditEvent
from caseload.tenancy.actions import update_object
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program
from caseload.testing.factories import make_member, role

URL = reverse("audit:list")


def event(agency, actor=None, **extra):
    with agency_scope(agency):
        return record(agency=agency, actor=actor, **{"action": Action.CHANGE, **extra})


def listed(response):
    return list(response.context["table"].page.object_list)


def test_the_auditor_sees_the_agencys_events_newest_first_with_the_changes(as_user, auditor, agency):
    older = event(agency, object_type="tenancy.program", object_id="1", object_repr="Youth Job Connection", changes={"name": ["Youth", "Youth Job Connection"]})
    newer = event(agency, action=Action.VIEW, client_id=42, object_type="clients.client", object_id="42")
    response = as_user(auditor).get(URL)
    assert response.status_code == 200
    assert listed(response)[:2] == [newer, older]
    assert '<span class="muted">Name:</span> <del class="muted">Youth</del> → Youth Job Connection' in response.text


def test_changed_links_read_as_names_not_numbers(as_user, auditor, admin, agency, caseworker):
    program = make_program(agency, "Youth Job Connection")
    membership = Membership.objects.for_agency(agency).get(user=caseworker)
    with agency_scope(agency):
        update_object(membership, actor=admin, data={"programs": [program], "role": role(agency, "Front desk")})
    response = as_user(auditor).get(URL, {"action": "change"})
    assert '<span class="muted">Programs:</span> <del class="muted">∅</del> → Youth Job Connection' in response.text
    assert '<span class="muted">Role:</span> <del class="muted">Caseworker</del> → Front desk' in response.text


def test_it_never_shows_another_agencys_events(as_user, auditor, agency, other_agency):
    theirs = event(other_agency, object_repr="Their secret program")
    response = as_user(auditor).get(URL)
    assert theirs not in listed(response)
    assert "Their secret program" not in response.text


def test_it_filters_by_user_client_action_type_and_date(as_user, auditor, admin, agency):
    wanted = event(agency, admin, action=Action.VIEW, client_id=42, object_type="clients.client", object_id="42")
    event(agency, auditor, action=Action.VIEW, client_id=42, object_type="clients.client", object_id="42")
    event(agency, admin, action=Action.VIEW, client_id=41, object_type="clients.client", object_id="41")
    # The filter's days are the agency's (Toronto), not UTC's: after 19:00 there they differ.
    day = timezone.localtime(wanted.created_at, zoneinfo.ZoneInfo(agency.time_zone)).date().isoformat()
    params = {"actor": admin.pk, "client": 42, "action": "view", "object_type": "clients.client", "date_from": day, "date_to": day}
    response = as_user(auditor).get(URL, params)
    assert response.status_code == 200
    assert listed(response) == [wanted]
    export_link = response.context["export_url"]
    assert "client=42" in export_link and f"actor={admin.pk}" in export_link


def test_a_user_of_another_agency_is_not_a_filter_choice(as_user, auditor, outsider):
    response = as_user(auditor).get(URL, {"actor": outsider.pk})
    assert "actor" in response.context["form"].errors
    assert listed(response) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"client": "abc"}, "client"),
        ({"action": "explode"}, "action"),
        ({"date_from": "2026-13-40"}, "date_from"),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
        ({"object_type": "tenancy.nothing"}, "object_type"),
    ],
)
def test_a_bad_filter_is_a_form_error_naming_it(as_user, auditor, params, field):
    response = as_user(auditor).get(URL, params)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]


def test_it_sorts_by_a_column_and_ignores_unknown_sorts(as_user, auditor, agency):
    b = event(agency, action=Action.VIEW)
    a = event(agency, action=Action.CHANGE)
    client = as_user(auditor)
    by_action = [e for e in listed(client.get(URL, {"sort": "action"})) if e in (a, b)]
    assert by_action == [a, b]
    assert listed(client.get(URL, {"sort": "changes__secret"}))[0] == a


def test_the_list_takes_the_same_queries_for_many_events(as_user, auditor, agency, admin):
    client = as_user(auditor)
    programs = [make_program(agency, f"Program {n}") for n in range(3)]

    def add_events(count):
        for n in range(count):
            actor = make_member(agency).user if n % 10 == 0 else admin
            changes = {"programs": [[], [programs[n % 3].pk]], "role": [1, 2]}
            event(agency, actor, object_type="tenancy.membership", object_id=str(n), changes=changes)

    def queries_to_list():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        return len(queries), len(listed(response))

    client.get(URL)  # the session and the membership cache are warm from here
    add_events(3)
    few = queries_to_list()
    add_events(30)
    many = queries_to_list()
    assert many[1] > few[1] >= 3
    assert many[0] == few[0]


@pytest.mark.parametrize("role_name", ["Caseworker", "Front desk"])
def test_members_without_audit_view_are_refused(client, agency, role_name):
    client.force_login(make_member(agency, role_name).user)
    assert client.get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [URL, reverse("audit:export")])
def test_the_audit_pages_only_read(as_user, admin, agency, url):
    before = AuditEvent.objects.for_agency(agency).count()
    assert as_user(admin).post(url).status_code == 405
    assert AuditEvent.objects.for_agency(agency).count() == before


def test_recorded_text_is_shown_escaped(as_user, auditor, agency):
    event(agency, object_type="tenancy.program", object_id="1", object_repr="<script>alert(1)</script>", changes={"name": [None, "<b>x</b>"], "code": ["<i>", "y"]})
    response = as_user(auditor).get(URL)
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "&lt;b&gt;x&lt;/b&gt;" in response.text
    assert "<del class=\"muted\">&lt;i&gt;</del>" in response.text
