"""The Services tab, session pages and service form pages: who may open them and what bad input gets."""

from __future__ import annotations

import pytest
from django.urls import reverse

from caseload.delivery.models import ServiceRecord, Session
from caseload.delivery.tests.helpers import NON_SPECIFIED, direct_session, fill, group_session, team
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def t(agency):
    return team(agency)


def test_the_services_tab_lists_sessions_and_their_forms(t, as_user):
    row = fill(direct_session(t), t.writer.user, status="completed")
    page = as_user(t.colleague.user).get(reverse("delivery:client_services", args=[t.client.pk]))
    assert page.status_code == 200
    assert row.definition.name in page.content.decode()


def test_the_services_tab_is_refused_without_the_permission_and_hidden_across_agencies(t, as_user, outsider, agency):
    front_desk = make_member(agency, "Front desk")
    url = reverse("delivery:client_services", args=[t.client.pk])
    assert as_user(front_desk.user).get(url).status_code == 403
    assert as_user(outsider).get(url).status_code == 404


def test_a_worker_records_a_session_then_completes_a_form_in_it(t, as_user):
    browser = as_user(t.writer.user)
    response = browser.post(
        reverse("delivery:session_new", args=[t.client.pk]),
        {"session_type": "direct", "date": "2026-03-10", "mode": "phone", "program": t.program.pk, "duration_minutes": "30"},
    )
    with agency_scope(t.agency):
        session = Session.objects.for_agency(t.agency).get()
    assert response.status_code == 302 and session.mode == "phone"
    form_url = reverse("delivery:record_new", args=[session.pk]) + "?form=non_specified"
    assert "Service provided" in browser.get(form_url).content.decode() or browser.get(form_url).status_code == 200
    response = browser.post(
        reverse("delivery:record_new", args=[session.pk]),
        {"form": "non_specified", "f-service_date": "2026-03-10", "f-service_provided": "form_filling", "save": "completed"},
    )
    assert response.status_code == 302
    with agency_scope(t.agency):
        row = ServiceRecord.objects.for_agency(t.agency).get()
    assert row.status == "completed" and row.answers["service_provided"] == "form_filling"


def test_a_bad_answer_is_shown_beside_its_field_and_nothing_is_saved(t, as_user):
    session = direct_session(t)
    response = as_user(t.writer.user).post(
        reverse("delivery:record_new", args=[session.pk]),
        {"form": "non_specified", "f-service_date": "not a date", "save": "completed"},
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    with agency_scope(t.agency):
        assert not ServiceRecord.objects.for_agency(t.agency).exists()


def test_saving_as_draft_lists_the_form_on_the_dashboard(t, as_user):
    session = direct_session(t)
    browser = as_user(t.writer.user)
    browser.post(
        reverse("delivery:record_new", args=[session.pk]), {"form": "non_specified", "f-notes": "to finish", "save": "draft"}
    )
    dashboard = browser.get(reverse("web:dashboard") if _has("web:dashboard") else "/")
    with agency_scope(t.agency):
        row = ServiceRecord.objects.for_agency(t.agency).get()
    assert row.status == "draft"
    assert reverse("delivery:record_edit", args=[row.pk]) in dashboard.content.decode()


def _has(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def test_a_private_form_is_a_404_for_a_colleague_and_readable_by_the_manager(t, as_user):
    row = fill(direct_session(t), t.writer.user, is_private=True, status="completed")
    url = reverse("delivery:record_detail", args=[row.pk])
    assert as_user(t.colleague.user).get(url).status_code == 404
    assert as_user(t.boss.user).get(url).status_code == 200
    # The manager reads it but may not change it.
    assert as_user(t.boss.user).get(reverse("delivery:record_edit", args=[row.pk])).status_code == 403


def test_a_private_form_is_absent_from_the_colleagues_services_tab_and_history(t, as_user):
    row = fill(direct_session(t), t.writer.user, is_private=True, status="completed")
    browser = as_user(t.colleague.user)
    for url in [reverse("delivery:client_services", args=[t.client.pk]), reverse("casework:history", args=[t.client.pk])]:
        assert reverse("delivery:record_detail", args=[row.pk]) not in browser.get(url).content.decode()
    boss = as_user(t.boss.user)
    history = boss.get(reverse("casework:history", args=[t.client.pk])).content.decode()
    assert reverse("delivery:record_detail", args=[row.pk]) in history


def test_a_session_of_another_program_is_a_404(t, as_user):
    session = direct_session(t)
    assert as_user(t.stranger.user).get(reverse("delivery:session_detail", args=[session.pk])).status_code == 404


def test_another_agencys_record_is_a_404(t, as_user, outsider):
    row = fill(direct_session(t), t.writer.user)
    assert as_user(outsider).get(reverse("delivery:record_detail", args=[row.pk])).status_code == 404


def test_a_group_activity_takes_attendees_and_their_forms(t, as_user):
    session = group_session(t)
    browser = as_user(t.writer.user)
    found = browser.get(reverse("delivery:attendees_add", args=[session.pk]), {"q": "Amina"})
    assert "Haddad" in found.content.decode()
    response = browser.post(reverse("delivery:attendees_add", args=[session.pk]), {"client": [t.client.pk]})
    assert response.status_code == 302
    page = browser.get(reverse("delivery:session_detail", args=[session.pk])).content.decode()
    assert "Haddad" in page and "?form=group_attendee&amp;client=" in page
    response = browser.post(
        reverse("delivery:record_new", args=[session.pk]),
        {"form": "group_attendee", "client": t.client.pk, "save": "draft"},
    )
    assert response.status_code == 302


def test_an_attendee_form_for_someone_not_attending_is_a_404(t, as_user):
    session = group_session(t)
    response = as_user(t.writer.user).get(
        reverse("delivery:record_new", args=[session.pk]), {"form": "group_attendee", "client": t.client.pk}
    )
    assert response.status_code == 404


def test_the_group_activities_list_shows_the_programs_sessions_only(t, as_user):
    group_session(t, title="Banking basics")
    assert "Banking basics" in as_user(t.colleague.user).get(reverse("delivery:sessions")).content.decode()
    assert "Banking basics" not in as_user(t.stranger.user).get(reverse("delivery:sessions")).content.decode()


def test_editing_a_record_keeps_it_completed_and_audits_it(t, as_user):
    row = fill(direct_session(t), t.writer.user, status="completed")
    response = as_user(t.writer.user).post(
        reverse("delivery:record_edit", args=[row.pk]),
        {"f-service_date": "2026-03-10", "f-service_provided": "advocacy", "save": "completed"},
    )
    assert response.status_code == 302
    with agency_scope(t.agency):
        row.refresh_from_db()
    assert row.answers["service_provided"] == "advocacy" and row.status == "completed"


def test_unused_fixture_answers_are_complete():
    assert set(NON_SPECIFIED) >= {"service_date", "service_provided"}
