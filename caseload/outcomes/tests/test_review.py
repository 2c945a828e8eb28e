"""Reviewing a checkpoint's answers, milestones, submission to government, corrections and the statuses job."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.formbuilder import engine
from caseload.outcomes import actions, cams
from caseload.outcomes.jobs import refresh_all
from caseload.outcomes.models import Checkpoint, CheckpointRevision, Submission
from caseload.outcomes.tests.helpers import EMPLOYED_ANSWERS, a_checkpoint, a_placement
from caseload.tenancy.scoping import agency_scope


def test_saving_answers_keeps_the_before_and_after_and_audits_only_the_field_names(agency, caseworker):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=caseworker)
    with agency_scope(agency):
        changed = actions.save_answers(
            checkpoint, caseworker, {**EMPLOYED_ANSWERS, "employer": "Birch Bakery", "hourly_wage": 21}
        )
        revision = CheckpointRevision.objects.for_agency(agency).filter(checkpoint=checkpoint).first()
        event = AuditEvent.objects.filter(
            object_type="outcomes.checkpoint", object_id=str(checkpoint.pk), action="change"
        ).latest("pk")
    assert changed.status == Checkpoint.Status.REVIEWED
    assert revision.fields == ["employer", "hourly_wage"]
    assert (revision.before["employer"], revision.after["employer"]) == ("Maple Foods", "Birch Bakery")
    assert event.changes["answers"] == ["employer", "hourly_wage"]
    assert "Birch Bakery" not in str(event.changes) and "Maple Foods" not in str(event.changes)


def test_answers_are_validated_by_the_survey_definition(agency, caseworker):
    checkpoint = a_checkpoint(agency)
    with agency_scope(agency), pytest.raises(engine.AnswerErrors) as refused:
        actions.save_answers(checkpoint, caseworker, {"employment_status": "employed_full_time", "satisfaction": "9"})
    assert {"employer", "satisfaction"} <= set(refused.value.errors)


def test_entering_on_the_clients_behalf_marks_it_answered_by_staff(agency, caseworker):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=caseworker)
    assert checkpoint.answered_by_client is False and checkpoint.answered_at is not None
    assert checkpoint.reviewed_by.user == caseworker


def test_the_milestone_is_ticked_and_unticked(agency, caseworker):
    checkpoint = a_checkpoint(agency)
    with agency_scope(agency):
        assert actions.set_milestone(checkpoint, caseworker, True).milestone_achieved
        assert not actions.set_milestone(checkpoint, caseworker, False).milestone_achieved


def test_submitting_stores_the_exact_cams_payload_and_locks_the_checkpoint(agency, manager):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=manager)
    with agency_scope(agency):
        submission = actions.submit(checkpoint, manager)
        stored = Submission.objects.for_agency(agency).get(pk=submission.pk)
        checkpoint.refresh_from_db()
        expected = cams.outcome_record(checkpoint, submitted_by=manager, submitted_at=stored.submitted_at)
    assert checkpoint.status == Checkpoint.Status.SUBMITTED
    assert stored.payload == expected
    assert (stored.adapter, stored.format_version, stored.submitted_by) == ("cams", "1", manager)
    assert stored.payload["format"] == "caseload-cams-outcome/1"
    assert stored.payload["outcome"]["category"] == "EMPLOYED_FT"
    assert stored.payload["outcome"]["hourly_wage"] == "19"
    assert stored.payload["response"]["answered_by"] == "staff"
    assert stored.payload["client"]["cams_reference_number"] == checkpoint.client.cams_number


def test_a_checkpoint_not_reviewed_or_without_a_cams_number_is_not_submitted(agency, manager):
    unreviewed = a_checkpoint(agency)
    with agency_scope(agency), pytest.raises(ValidationError):
        actions.submit(unreviewed, manager)
    checkpoint = a_checkpoint(agency, reviewed=True, actor=manager)
    with agency_scope(agency):
        from caseload.clients.actions import unlink_cams

        unlink_cams(checkpoint.client, None)
        checkpoint.client.refresh_from_db()
        with pytest.raises(ValidationError) as refused:
            actions.submit(checkpoint, manager)
    assert any("CaMS reference number" in message for message in refused.value.messages)
    with agency_scope(agency):
        assert not Submission.objects.for_agency(agency).exists()


def test_cams_validation_names_what_is_missing(agency, manager):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=manager)
    with agency_scope(agency):
        record = cams.outcome_record(checkpoint)
    assert cams.validate_record(record) == []
    record["client"]["cams_reference_number"] = None
    record["outcome"]["hourly_wage"] = None
    record["outcome"]["employer"] = None
    problems = cams.validate_record(record)
    assert len(problems) == 3
    record["outcome"]["category"] = None
    assert any("outcome category" in p for p in cams.validate_record(record))


def test_a_submitted_checkpoint_refuses_every_write(agency, manager):
    checkpoint = a_checkpoint(agency, submitted=True, actor=manager)
    with agency_scope(agency):
        for write in (
            lambda: actions.save_answers(checkpoint, manager, EMPLOYED_ANSWERS),
            lambda: actions.set_milestone(checkpoint, manager, True),
            lambda: actions.submit(checkpoint, manager),
            lambda: actions.mark_reviewed(checkpoint, manager),
            lambda: actions.cancel_placement(checkpoint.placement, manager),
        ):
            with pytest.raises(ValidationError):
                write()
        checkpoint.refresh_from_db()
    assert checkpoint.status == Checkpoint.Status.SUBMITTED and not checkpoint.milestone_achieved


def test_a_correction_is_version_2_and_leaves_version_1_untouched(agency, manager):
    checkpoint = a_checkpoint(agency, submitted=True, actor=manager)
    with agency_scope(agency):
        payload = Submission.objects.for_agency(agency).get(checkpoint=checkpoint).payload
        before = Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get()
        new = actions.correct(checkpoint, manager)
        actions.save_answers(new, manager, {**EMPLOYED_ANSWERS, "hourly_wage": 25})
        actions.set_milestone(new, manager, True)
        actions.submit(new, manager)
        with pytest.raises(ValidationError):
            actions.correct(checkpoint, manager)
        after = Checkpoint.objects.for_agency(agency).filter(pk=checkpoint.pk).values().get()
        old_payload = Submission.objects.for_agency(agency).get(checkpoint=checkpoint).payload
        new_payload = Submission.objects.for_agency(agency).get(checkpoint=new).payload
    assert (new.version, new.supersedes_id) == (2, checkpoint.pk)
    assert after == before and old_payload == payload
    assert new_payload["checkpoint"]["corrects"] == checkpoint.pk and new_payload["outcome"]["hourly_wage"] == "25"


def test_only_a_submitted_checkpoint_is_corrected(agency, manager):
    checkpoint = a_checkpoint(agency, reviewed=True, actor=manager)
    with agency_scope(agency), pytest.raises(ValidationError):
        actions.correct(checkpoint, manager)


def test_the_job_makes_checkpoints_due_a_week_ahead_and_missed_60_days_after(agency):
    exit_date = datetime.date(2025, 1, 15)
    placement = a_placement(agency, exit_date=exit_date)
    with agency_scope(agency):
        rows = Checkpoint.objects.for_agency(agency).filter(placement=placement)
        rows.update(status=Checkpoint.Status.SCHEDULED)
        # 1 month: 15 Feb. Due from 8 Feb (a week before); missed from 17 April (more than 60 days after).
        refresh_all(datetime.date(2025, 2, 7))
        assert rows.get(months=1).status == "scheduled"
        refresh_all(datetime.date(2025, 2, 8))
        assert rows.get(months=1).status == "due" and rows.get(months=3).status == "scheduled"
        assert actions.refresh_statuses(agency, datetime.date(2025, 4, 16)) == {"due": 1, "missed": 0}
        rows.filter(months=3).update(answered_at=datetime.datetime(2025, 4, 1, tzinfo=datetime.UTC), status="responded")
        refresh_all(datetime.date(2025, 4, 17))
        assert rows.get(months=1).status == "missed"
        refresh_all(datetime.date(2026, 1, 8))
        assert rows.get(months=3).status == "responded"
        assert rows.get(months=6).status == "missed"
        assert rows.get(months=12).status == "due"
