"""The service-delivery pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

URLs take one ``pk``: a client's (``/clients/<pk>/plans/``) or a record's (``/plans/<pk>/``).
Add a row factory per URL name here; URLs the sweep cannot fill go in SKIPPED with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency


def a_client(agency: Agency) -> models.Model:
    from caseload.clients.actions import register_client
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad"})


def a_plan(agency: Agency) -> models.Model:
    """An active settlement plan without a program (everyone with delivery.view sees it), with one goal."""
    import datetime

    from caseload.delivery.plans import create_plan
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        return create_plan(
            client,
            None,
            {"title": "Settling in Toronto", "started_on": datetime.date(2026, 1, 5)},
            goals=[{"area": "housing", "description": "Find a two-bedroom apartment"}],
        )


def a_course(agency: Agency) -> models.Model:
    """A language course running from 2026-01-05 (Mondays and Wednesdays) with one student."""
    import datetime

    from caseload.delivery import courses
    from caseload.delivery.models import Course
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program

    client = a_client(agency)
    with agency_scope(agency):
        count = Course.objects.for_agency(agency).count()
        program = make_program(agency, f"Language Training {count + 1}")
        data = {
            "code": f"LINC-{count + 1}",
            "name": "LINC 4 mornings",
            "program": program,
            "start_date": datetime.date(2026, 1, 5),
            "end_date": datetime.date(2026, 6, 24),
            "weekdays": [0, 2],
            "capacity": 20,
            "clb_levels": {"listening": [4, 5], "speaking": [4, 5]},
        }
        course = courses.create_course(agency, None, data)
        courses.enrol(course, None, [client], first_class=datetime.date(2026, 1, 5))
    return course


def a_student(agency: Agency) -> models.Model:
    from caseload.delivery import courses
    from caseload.tenancy.scoping import agency_scope

    course = a_course(agency)
    with agency_scope(agency):
        return courses.students(course).get()


def a_form_file(agency: Agency) -> models.Model:
    """A PDF given as the answer to a file question on a client's profile (stored under MEDIA_ROOT)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseload.formbuilder.files import store_form_file
    from caseload.formbuilder.models import FormExtension, ProfileAnswers
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        form_file = store_form_file(agency, client, None, SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n%%EOF\n"))
        count = FormExtension.objects.for_agency(agency).filter(form_key="client_profile").count()
        field = {"key": "agency_letter", "type": "file", "label": {"en": "Letter", "fr": "Lettre"}}
        extension = FormExtension.objects.create(agency=agency, form_key="client_profile", version=count + 1, fields=[field])
        ProfileAnswers.objects.create(agency=agency, client=client, extension=extension, answers={"agency_letter": form_file.pk})
    return form_file


def a_session(agency: Agency) -> models.Model:
    """A one-on-one session of a new program (seen by members with delivery.all_programs)."""
    from caseload.delivery import sessions
    from caseload.tenancy.actions import create_object
    from caseload.tenancy.models import Program
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        count = Program.objects.for_agency(agency).count()
        program = create_object(Program, agency=agency, actor=None, data={"name": f"Settlement {count + 1}"})
        return sessions.create_session(agency, None, {"session_type": "direct", "program": program}, client=client)


def a_service_record(agency: Agency) -> models.Model:
    """A draft Non-Specified form in a one-on-one session."""
    from caseload.delivery import records
    from caseload.tenancy.scoping import agency_scope

    session = a_session(agency)
    with agency_scope(agency):
        return records.create_record(session, None, "non_specified", {"topic": "Housing"})


def a_group_session(agency: Agency) -> models.Model:
    """An information session with one named attendee."""
    from caseload.delivery import sessions
    from caseload.tenancy.actions import create_object
    from caseload.tenancy.models import Program
    from caseload.tenancy.scoping import agency_scope

    client = a_client(agency)
    with agency_scope(agency):
        count = Program.objects.for_agency(agency).count()
        program = create_object(Program, agency=agency, actor=None, data={"name": f"Orientation {count + 1}"})
        session = sessions.create_session(agency, None, {"session_type": "io_group", "program": program, "title": "Banking"})
        sessions.add_attendees(session, None, [client])
    return session


def an_attendee(agency: Agency) -> models.Model:
    session = a_group_session(agency)
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return session.attendees.get()


def _model_factories() -> dict[type[models.Model], Callable[[Agency], models.Model]]:
    from caseload.delivery.models import ServiceRecord, Session, SettlementPlan

    return {SettlementPlan: a_plan, Session: a_session, ServiceRecord: a_service_record}


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {**_model_factories()}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    # Settlement plans (plan_views.py, api_plans.py)
    "delivery:plans": a_client,
    "delivery:plan_new": a_client,
    "delivery:plan_detail": a_plan,
    "delivery:plan_edit": a_plan,
    "delivery:plan_follow_up": a_plan,
    "delivery:plan_close": a_plan,
    "delivery:plan_reopen": a_plan,
    "delivery:plan_delete": a_plan,
    "api:settlement-plan-detail": a_plan,
    "api:settlement-plan-close": a_plan,
    "api:settlement-plan-reopen": a_plan,
    "api:settlement-plan-goals": a_plan,
    "api:settlement-plan-follow-ups": a_plan,
    # Language-training courses (course_views.py)
    "delivery:course_detail": a_course,
    "delivery:course_edit": a_course,
    "delivery:course_enrol": a_course,
    "delivery:course_attendance": a_course,
    "delivery:student_enrolment": a_student,
    "delivery:student_exit": a_student,
    # Sessions and service forms (session_views.py)
    "delivery:client_services": a_client,
    "delivery:session_new": a_client,
    "delivery:session_detail": a_session,
    "delivery:session_edit": a_session,
    "delivery:session_delete": a_session,
    "delivery:record_new": a_session,
    "delivery:attendees_add": a_group_session,
    "delivery:support_new": a_group_session,
    "delivery:attendee_remove": an_attendee,
    "delivery:record_detail": a_service_record,
    "delivery:record_edit": a_service_record,
    "delivery:record_delete": a_service_record,
    # Files answered to file questions (formbuilder/file_views.py)
    "formbuilder:file": a_form_file,
}

SKIPPED: dict[str, str] = {
    "api:session-remove-attendee": "takes the session's pk and a client's (client_id); tested in "
    "caseload/delivery/tests/test_api_sessions.py",
    "api:form-definition-detail": "form definitions are shared by every agency (not an agency's row); tested in "
    "caseload/delivery/tests/test_api_records.py",
    "api:settlement-plan-goal": "takes the plan's pk and a goal's (goal_pk); tested in caseload/delivery/tests/test_plans_api.py",
}
