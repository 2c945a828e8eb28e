"""The Outcomes pages and API: placing, the Checkpoints tab, a checkpoint's page, schedules, the
dashboard list; 404 for another agency, 403 without the permission, and a submitted checkpoint
refusing every write."""

from __future__ import annotations

import datetime

from django.urls import reverse

from caseload.clients.models import Assignment
from caseload.outcomes import actions
from caseload.outcomes.models import Checkpoint, Placement, Submission
from caseload.outcomes.tests.helpers import EMPLOYED_ANSWERS, a_checkpoint, a_client, a_placement
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program, membership_of


def _answers_post(answers: dict) -> dict:
    return {f"f-{key}": ("on" if value is True else str(value)) for key, value in answers.items()}


def test_a_caseworker_places_a_client_from_the_page_and_sees_the_checkpoints_tab(agency, caseworker, as_user):
    client = a_client(agency)
    with agency_scope(agency):
        program = make_program(agency, "Employment Services")
    page = as_user(caseworker)
    assert page.get(reverse("outcomes:place", args=[client.pk])).status_code == 200
    response = page.post(
        reverse("outcomes:place", args=[client.pk]),
        {"program": program.pk, "exit_date": "2026-01-31", "exit_reason": "employed", "employment_status": "employed_full_time"},
    )
    assert response.status_code == 302
    tab = page.get(reverse("outcomes:client_checkpoints", args=[client.pk]))
    body = tab.content.decode()
    assert tab.status_code == 200 and "Employment Services" in body
    assert "Feb. 28, 2026" in body or "February 28, 2026" in body
    assert "btn-success" in body and "Place into Outcomes" in body


def test_a_future_exit_date_is_a_form_error_not_a_500(agency, caseworker, as_user):
    client = a_client(agency)
    with agency_scope(agency):
        program = make_program(agency, "Employment Services")
    future = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
    response = as_user(caseworker).post(
        reverse("outcomes:place", args=[client.pk]),
        {"program": program.pk, "exit_date": future, "exit_reason": "employed", "employment_status": "unemployed"},
    )
    assert response.status_code == 400 and "cannot be in the future" in response.content.decode()


def test_the_actions_menu_offers_place_into_outcomes(agency, caseworker, auditor, as_user):
    client = a_client(agency)
    url = reverse("outcomes:place", args=[client.pk])
    assert url in as_user(caseworker).get(reverse("clients:detail", args=[client.pk])).content.decode()
    assert url not in as_user(auditor).get(reverse("clients:detail", args=[client.pk])).content.decode()


def test_the_review_page_edits_answers_ticks_the_milestone_and_submits(agency, manager, as_user):
    checkpoint = a_checkpoint(agency)
    page = as_user(manager)
    detail = reverse("outcomes:checkpoint_detail", args=[checkpoint.pk])
    assert page.get(detail).status_code == 200
    assert page.get(reverse("outcomes:checkpoint_answers", args=[checkpoint.pk]) + "?on_behalf=1").status_code == 200
    bad = page.post(
        reverse("outcomes:checkpoint_answers", args=[checkpoint.pk]),
        {"on_behalf": "1", "f-employment_status": "employed_full_time"},
    )
    assert bad.status_code == 400
    posted = page.post(
        reverse("outcomes:checkpoint_answers", args=[checkpoint.pk]), {"on_behalf": "1", **_answers_post(EMPLOYED_ANSWERS)}
    )
    assert posted.status_code == 302
    page.post(reverse("outcomes:checkpoint_milestone", args=[checkpoint.pk]), {"milestone_achieved": "on"})
    body = page.get(detail).content.decode()
    assert "caseload-cams-outcome/1" in body
    page.post(reverse("outcomes:checkpoint_submit", args=[checkpoint.pk]))
    with agency_scope(agency):
        checkpoint.refresh_from_db()
        submission = Submission.objects.for_agency(agency).get(checkpoint=checkpoint)
    assert checkpoint.status == "submitted" and checkpoint.milestone_achieved
    assert submission.payload["outcome"]["milestone_achieved"] is True
    body = page.get(detail).content.decode()
    assert "Correct (new version)" in body and "Submitted to government" in body
    download = page.get(reverse("outcomes:submission_download", args=[checkpoint.pk]))
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    import json

    assert json.loads(download.content) == submission.payload


def test_a_submitted_checkpoint_cannot_be_changed_by_any_page(agency, manager, as_user):
    checkpoint = a_checkpoint(agency, submitted=True, actor=manager)
    with agency_scope(agency):
        before = Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get()
    page = as_user(manager)
    posts = {
        "outcomes:checkpoint_answers": {"on_behalf": "1", **_answers_post({**EMPLOYED_ANSWERS, "employer": "Other"})},
        "outcomes:checkpoint_milestone": {"milestone_achieved": "on"},
        "outcomes:checkpoint_review": {},
        "outcomes:checkpoint_submit": {},
        "outcomes:checkpoint_attach": {"picker-action": "detach", "picker-link": "1"},
    }
    for name, data in posts.items():
        response = page.post(reverse(name, args=[checkpoint.pk]), data)
        assert response.status_code == 302, name
    assert page.get(reverse("outcomes:checkpoint_answers", args=[checkpoint.pk])).status_code == 302
    page.post(reverse("outcomes:placement_cancel", args=[checkpoint.placement_id]))
    with agency_scope(agency):
        assert Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get() == before
        assert Placement.objects.for_agency(agency).get(pk=checkpoint.placement_id).cancelled_at is None
    body = page.get(reverse("outcomes:checkpoint_detail", args=[checkpoint.pk])).content.decode()
    assert "Edit answers" not in body and "Enter response on the client" not in body


def test_a_submitted_checkpoint_cannot_be_changed_by_any_api_call(agency, manager, api):
    checkpoint = a_checkpoint(agency, submitted=True, actor=manager)
    with agency_scope(agency):
        before = Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get()
    client = api.as_user(manager)
    base = f"/api/v1/checkpoints/{checkpoint.pk}/"
    assert client.post(base + "answers/", {"answers": EMPLOYED_ANSWERS}, format="json").status_code == 409
    assert client.post(base + "milestone/", {"achieved": True}, format="json").status_code == 409
    assert client.post(base + "submit/").status_code == 409
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(base, {}, format="json").status_code == 405
    assert client.post(f"/api/v1/outcome-placements/{checkpoint.placement_id}/cancel/").status_code == 409
    with agency_scope(agency):
        assert Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get() == before
    corrected = client.post(base + "correct/")
    assert corrected.status_code == 201 and corrected.json()["version"] == 2


def test_the_api_places_lists_filters_reviews_and_submits(agency, manager, api):
    person = a_client(agency, cams_number="7654321")
    with agency_scope(agency):
        program = make_program(agency, "Employment Services")
    client = api.as_user(manager)
    placed = client.post(
        "/api/v1/outcome-placements/",
        {
            "client": person.pk,
            "program": program.pk,
            "exit_date": "2026-01-31",
            "exit_reason": "completed",
            "employment_status": "unemployed",
        },
        format="json",
    )
    assert placed.status_code == 201, placed.content
    listed = client.get(f"/api/v1/checkpoints/?client={person.pk}&due_from=2026-02-01&due_to=2026-04-30").json()
    rows = listed.get("results", listed)
    assert [row["due_on"] for row in rows] == ["2026-02-28", "2026-04-30"]
    assert client.get("/api/v1/checkpoints/?status=nonsense").status_code == 400
    first = rows[0]["id"]
    bad = client.post(
        f"/api/v1/checkpoints/{first}/answers/", {"answers": {"employment_status": "employed_full_time"}}, format="json"
    )
    assert bad.status_code == 400 and "answers.employer" in bad.content.decode()
    ok = client.post(f"/api/v1/checkpoints/{first}/answers/", {"answers": EMPLOYED_ANSWERS, "on_behalf": True}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "reviewed"
    submitted = client.post(f"/api/v1/checkpoints/{first}/submit/")
    assert submitted.status_code == 200 and submitted.json()["submission"]["payload"]["format"] == "caseload-cams-outcome/1"
    again = client.post(
        "/api/v1/outcome-placements/",
        {
            "client": person.pk,
            "program": program.pk,
            "exit_date": "2026-01-31",
            "exit_reason": "completed",
            "employment_status": "unemployed",
        },
        format="json",
    )
    assert again.status_code == 400


def test_a_caseworker_may_not_submit_page_or_api(agency, caseworker, as_user, api):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=caseworker)
    assert as_user(caseworker).post(reverse("outcomes:checkpoint_submit", args=[checkpoint.pk])).status_code == 403
    assert api.as_user(caseworker).post(f"/api/v1/checkpoints/{checkpoint.pk}/submit/").status_code == 403
    with agency_scope(agency):
        checkpoint.refresh_from_db()
    assert checkpoint.status == "reviewed"


def test_an_auditor_reads_but_may_not_write(agency, auditor, as_user, api):
    checkpoint = a_checkpoint(agency)
    page = as_user(auditor)
    assert page.get(reverse("outcomes:checkpoint_detail", args=[checkpoint.pk])).status_code == 200
    assert page.get(reverse("outcomes:client_checkpoints", args=[checkpoint.client_id])).status_code == 200
    assert page.get(reverse("outcomes:place", args=[checkpoint.client_id])).status_code == 403
    assert (
        page.post(reverse("outcomes:checkpoint_milestone", args=[checkpoint.pk]), {"milestone_achieved": "on"}).status_code == 403
    )
    assert page.get(reverse("outcomes:schedules")).status_code == 403
    assert (
        api.as_user(auditor)
        .post(f"/api/v1/checkpoints/{checkpoint.pk}/milestone/", {"achieved": True}, format="json")
        .status_code
        == 403
    )


def test_another_agencys_checkpoints_are_404(agency, outsider, as_user, api):
    checkpoint = a_checkpoint(agency)
    page = as_user(outsider)
    for name in ("checkpoint_detail", "checkpoint_answers", "submission_download"):
        assert page.get(reverse(f"outcomes:{name}", args=[checkpoint.pk])).status_code == 404
    assert page.get(reverse("outcomes:client_checkpoints", args=[checkpoint.client_id])).status_code == 404
    assert page.post(reverse("outcomes:checkpoint_milestone", args=[checkpoint.pk])).status_code == 404
    assert api.as_user(outsider).get(f"/api/v1/checkpoints/{checkpoint.pk}/").status_code == 404
    assert (
        api.as_user(outsider)
        .post(f"/api/v1/checkpoints/{checkpoint.pk}/milestone/", {"achieved": True}, format="json")
        .status_code
        == 404
    )


def test_an_administrator_sets_a_programs_schedule(agency, admin, as_user):
    with agency_scope(agency):
        program = make_program(agency, "Youth Job Connection")
    page = as_user(admin)
    assert "Youth Job Connection" in page.get(reverse("outcomes:schedules")).content.decode()
    url = reverse("outcomes:schedule_edit", args=[program.pk])
    assert (
        page.post(
            url, {"months": "6, 3", "survey_key": "outcome_survey", "reminder_after_days": 7, "link_valid_days": 30}
        ).status_code
        == 400
    )
    assert (
        page.post(
            url, {"months": "3, 6", "survey_key": "outcome_survey", "reminder_after_days": 7, "link_valid_days": 30}
        ).status_code
        == 302
    )
    with agency_scope(agency):
        assert actions.schedule_of(program).months == [3, 6]


def test_the_dashboard_lists_my_clients_checkpoints_due_this_week_only(agency, caseworker, as_user):
    mine = a_client(agency, given_name="Zeynep")
    placed_by_me = a_client(agency, given_name="Oluwaseun")
    someone_elses = a_client(agency, given_name="Bartholomew")
    me = membership_of(caseworker, agency)
    with agency_scope(agency):
        Assignment.objects.create(agency=agency, client=mine, staff=me, is_primary=True)
    a_placement(agency, mine)  # 1-month checkpoint due in 5 days; the rest later
    a_placement(agency, placed_by_me, actor=caseworker)
    a_placement(agency, someone_elses)
    with agency_scope(agency):
        later = Checkpoint.objects.for_agency(agency).filter(client=mine, months=3).get()
    body = as_user(caseworker).get(reverse("web:dashboard")).content.decode()
    assert "Checkpoints due this week" in body
    assert "Zeynep" in body and "Oluwaseun" in body and "Bartholomew" not in body
    assert reverse("outcomes:checkpoint_detail", args=[later.pk]) not in body
