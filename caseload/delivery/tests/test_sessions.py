"""Sessions and service records: the rules of the actions, and who sees which record."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.delivery import records, sessions
from caseload.delivery.models import ServiceRecord
from caseload.delivery.tests.helpers import DAY, NON_SPECIFIED, direct_session, fill, group_session, register, team
from caseload.delivery.visibility import records_for, sessions_for
from caseload.formbuilder.models import FormDefinition, FormExtension
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder

pytestmark = pytest.mark.django_db


@pytest.fixture
def t(agency):
    return team(agency)


def visible_to(t, membership) -> set[int]:
    with agency_scope(t.agency):
        return set(records_for(t.agency, membership).values_list("pk", flat=True))


def test_the_standard_forms_are_loaded_after_migrate():
    assert FormDefinition.objects.filter(key="non_specified").exists()


def test_a_direct_session_needs_its_client(t):
    with agency_scope(t.agency), pytest.raises(ValidationError) as error:
        sessions.create_session(t.agency, t.writer.user, {"session_type": "direct", "program": t.program, "date": DAY})
    assert "client" in error.value.message_dict


def test_a_worker_records_sessions_only_for_their_programs(t):
    with agency_scope(t.agency), pytest.raises(ValidationError) as error:
        sessions.create_session(
            t.agency, t.writer.user, {"session_type": "direct", "program": t.other_program, "date": DAY}, client=t.client
        )
    assert "program" in error.value.message_dict


def test_a_session_takes_the_programs_funders_unless_given_its_own(t):
    funder = make_funder(t.agency, "IRCC")
    with agency_scope(t.agency):
        t.program.funders.add(funder)
    session = direct_session(t)
    with agency_scope(t.agency):
        assert list(session.funders.all()) == [funder]


def test_another_agencys_program_is_refused(t, other_agency):
    from caseload.tenancy.tests.helpers import make_program

    foreign = make_program(other_agency, "Elsewhere")
    with agency_scope(t.agency), pytest.raises(ValidationError) as error:
        sessions.create_session(t.agency, None, {"session_type": "direct", "program": foreign, "date": DAY}, client=t.client)
    assert "program" in error.value.message_dict


def test_a_completed_form_must_answer_its_required_questions_and_names_them(t):
    session = direct_session(t)
    with pytest.raises(ValidationError) as error:
        fill(session, t.writer.user, answers={"notes": "Started"}, status="completed")
    assert {"answers.service_date", "answers.service_provided"} <= set(error.value.message_dict)


def test_a_draft_may_leave_required_questions_blank_until_it_is_completed(t):
    session = direct_session(t)
    row = fill(session, t.writer.user, answers={"notes": "Started"}, status="draft")
    assert row.status == "draft"
    with agency_scope(t.agency), pytest.raises(ValidationError):
        records.update_record(row, t.writer.user, {"notes": "Started"}, status="completed")
    with agency_scope(t.agency):
        done = records.update_record(row, t.writer.user, NON_SPECIFIED, status="completed")
    assert done.status == "completed" and done.completed_at is not None


def test_a_value_outside_the_code_list_is_refused(t):
    session = direct_session(t)
    with pytest.raises(ValidationError) as error:
        fill(session, t.writer.user, answers={**NON_SPECIFIED, "service_provided": "teleportation"}, status="completed")
    assert "answers.service_provided" in error.value.message_dict


def test_a_form_of_another_session_type_is_refused(t):
    session = direct_session(t)
    with pytest.raises(ValidationError) as error:
        fill(session, t.writer.user, form_key="job_placement", answers={})
    assert "form" in error.value.message_dict


def test_a_completed_form_does_not_go_back_to_draft(t):
    row = fill(direct_session(t), t.writer.user, status="completed")
    with agency_scope(t.agency), pytest.raises(ValidationError) as error:
        records.update_record(row, t.writer.user, status="draft")
    assert "status" in error.value.message_dict


def test_the_audit_log_names_the_changed_questions_never_the_answers(t):
    row = fill(direct_session(t), t.writer.user, status="completed")
    with agency_scope(t.agency):
        records.update_record(row, t.writer.user, {**NON_SPECIFIED, "notes": "Disclosed violence at home."})
        event = AuditEvent.objects.for_agency(t.agency).filter(object_id=str(row.pk), action="change").get()
    assert "answers.notes" in event.changes
    assert "violence" not in str(event.changes)


def test_a_record_keeps_the_agency_question_version_it_was_answered_under(t):
    question = {"key": "agency_bus_pass", "type": "yesno", "label": {"en": "Bus pass given", "fr": "Laissez-passer remis"}}
    with agency_scope(t.agency):
        FormExtension.objects.create(agency=t.agency, form_key="non_specified", version=1, fields=[question])
    row = fill(direct_session(t), t.writer.user, answers={**NON_SPECIFIED, "agency_bus_pass": True}, status="completed")
    with agency_scope(t.agency):
        FormExtension.objects.create(agency=t.agency, form_key="non_specified", version=2, fields=[])
        # Editing it later still validates under version 1, which has the question.
        records.update_record(row, t.writer.user, {**NON_SPECIFIED, "agency_bus_pass": False})
    assert row.extension.version == 1


def test_an_agency_question_is_refused_on_another_agencys_form(t, other_agency):
    question = {"key": "agency_bus_pass", "type": "yesno", "label": {"en": "Bus pass given", "fr": "Laissez-passer remis"}}
    with agency_scope(other_agency):
        FormExtension.objects.create(agency=other_agency, form_key="non_specified", version=1, fields=[question])
    with pytest.raises(ValidationError) as error:
        fill(direct_session(t), t.writer.user, answers={**NON_SPECIFIED, "agency_bus_pass": True}, status="completed")
    assert "answers.agency_bus_pass" in error.value.message_dict


# --- Group sessions ----------------------------------------------------------------------------------


def test_an_attendee_form_is_for_a_named_attendee_only(t):
    session = group_session(t)
    with pytest.raises(ValidationError) as error:
        fill(session, t.writer.user, form_key="group_attendee", answers={}, client=t.client)
    assert "client" in error.value.message_dict
    with agency_scope(t.agency):
        sessions.add_attendees(session, t.writer.user, [t.client])
    row = fill(session, t.writer.user, form_key="group_attendee", answers={}, client=t.client)
    assert row.client_id == t.client.pk


def test_a_group_has_one_group_form(t):
    session = group_session(t)
    fill(session, t.writer.user, form_key="io_group_activity", answers={})
    with pytest.raises(ValidationError) as error:
        fill(session, t.writer.user, form_key="io_group_activity", answers={})
    assert "form" in error.value.message_dict


def test_adding_an_attendee_twice_keeps_one(t):
    session = group_session(t)
    with agency_scope(t.agency):
        sessions.add_attendees(session, t.writer.user, [t.client])
        sessions.add_attendees(session, t.writer.user, [t.client])
        assert session.attendees.count() == 1


def test_an_attendee_with_forms_cannot_be_removed(t):
    session = group_session(t)
    with agency_scope(t.agency):
        (attendee,) = sessions.add_attendees(session, t.writer.user, [t.client])
    fill(session, t.writer.user, form_key="group_attendee", answers={}, client=t.client)
    with agency_scope(t.agency), pytest.raises(ValidationError):
        sessions.remove_attendee(attendee, t.writer.user)


def test_another_agencys_client_cannot_attend(t, other_agency):
    stranger = register(other_agency, given_name="Zed", family_name="Other")
    session = group_session(t)
    with agency_scope(t.agency), pytest.raises(ValidationError):
        sessions.add_attendees(session, t.writer.user, [stranger])


def test_support_services_are_recorded_for_attendees_of_the_session(t):
    from caseload.casework import services
    from caseload.casework.models import SupportServiceType

    session = group_session(t)
    with agency_scope(t.agency):
        childcare = SupportServiceType.objects.for_agency(t.agency).first()
        outsider = register(t.agency, given_name="Li", family_name="Wei")
        with pytest.raises(ValidationError) as error:
            services.record_service(outsider, t.writer.user, {"service_type": childcare, "session": session})
        assert "session" in error.value.message_dict
        sessions.add_attendees(session, t.writer.user, [t.client])
        service = services.record_service(t.client, t.writer.user, {"service_type": childcare, "session": session})
    assert service.session_id == session.pk


# --- Who sees which record ---------------------------------------------------------------------------


def test_members_of_the_program_see_its_records_and_others_do_not(t):
    row = fill(direct_session(t), t.writer.user)
    assert row.pk in visible_to(t, t.colleague)
    assert row.pk not in visible_to(t, t.stranger)
    assert row.pk in visible_to(t, t.boss)  # managers see every program


def test_a_private_form_is_seen_by_its_author_and_their_manager_only(t):
    row = fill(direct_session(t), t.writer.user, is_private=True)
    assert row.pk in visible_to(t, t.writer)
    assert row.pk in visible_to(t, t.boss)
    assert row.pk not in visible_to(t, t.colleague)
    assert row.pk not in visible_to(t, t.stranger)


def test_sessions_follow_the_programs_rule(t):
    session = direct_session(t)
    with agency_scope(t.agency):
        assert sessions_for(t.agency, t.colleague).filter(pk=session.pk).exists()
        assert not sessions_for(t.agency, t.stranger).filter(pk=session.pk).exists()


def test_moving_a_session_to_another_program_moves_its_records(t):
    row = fill(direct_session(t), t.writer.user)
    with agency_scope(t.agency):
        sessions.update_session(row.session, t.boss.user, {"program": t.other_program})
        assert ServiceRecord.objects.for_agency(t.agency).get(pk=row.pk).program == t.other_program
    assert row.pk not in visible_to(t, t.colleague)


def test_a_deleted_session_hides_its_records(t):
    row = fill(direct_session(t), t.writer.user)
    with agency_scope(t.agency):
        sessions.delete_session(row.session, t.writer.user)
    assert row.pk not in visible_to(t, t.writer)


def test_only_the_author_changes_a_private_form(t):
    row = fill(direct_session(t), t.writer.user, is_private=True)
    with agency_scope(t.agency), pytest.raises(ValidationError):
        records.update_record(row, t.boss.user, {**NON_SPECIFIED, "notes": "Edited by the manager"})


def test_a_support_service_for_several_attendees_is_recorded_for_all_or_none(t):
    from caseload.casework.models import SupportiveService, SupportServiceType

    session = group_session(t)
    outsider = register(t.agency, given_name="Li", family_name="Wei")
    with agency_scope(t.agency):
        sessions.add_attendees(session, t.writer.user, [t.client])
        childcare = SupportServiceType.objects.for_agency(t.agency).first()
        with pytest.raises(ValidationError):
            sessions.record_support(session, t.writer.user, [t.client, outsider], {"service_type": childcare})
        assert not SupportiveService.objects.for_agency(t.agency).exists()
        sessions.record_support(session, t.writer.user, [t.client], {"service_type": childcare})
        assert SupportiveService.objects.for_agency(t.agency).filter(session=session).count() == 1
