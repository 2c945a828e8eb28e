"""Language-training courses: creating them, enrolment, exits, class dates and attendance."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from caseload.audit.models import AuditEvent
from caseload.delivery import courses
from caseload.delivery.models import ClassAttendance, Course, ServiceRecord, SessionType
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program

from .course_helpers import CLASS, END, EXIT, START, course_data, enrol, make_course, make_students, teacher_of
from .helpers import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(agency):
    return make_program(agency, "Language Training")


@pytest.fixture
def teacher(agency, program):
    return teacher_of(agency, program)


@pytest.fixture
def course(agency, program, teacher):
    return make_course(agency, program, teacher.user, teacher=teacher)


def refused(call, *args, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    return caught.value.message_dict


# --- Creating a course --------------------------------------------------------------------------


def test_it_creates_the_course_with_its_language_training_session(agency, course, program, teacher):
    session = course.session
    assert session.session_type == SessionType.LANGUAGE_TRAINING
    assert (session.program, session.staff, session.date, session.title, session.location) == (
        program,
        teacher,
        START,
        "LINC 4 mornings",
        "Room 204",
    )
    assert course.clb_levels["listening"] == [4, 5]
    assert AuditEvent.objects.for_agency(agency).filter(object_type="delivery.course", action="create").count() == 1


def test_it_fills_in_the_open_form_when_given(agency, program, teacher):
    answers = {"course_code": "LINC-5", "location_postal_code": "M5V 2T6", "course_format": "in_person"}
    with agency_scope(agency):
        course = courses.create_course(agency, teacher.user, course_data(program, code="LINC-5", teacher=teacher), answers)
        row = courses.open_record(course)
    assert row.definition.key == "lt_open"
    assert row.answers["location_postal_code"] == "M5V 2T6"


def test_a_course_code_is_unique_in_the_agency(agency, program, course):
    with agency_scope(agency):
        errors = refused(courses.create_course, agency, None, course_data(program, code="linc-4a"))
    assert "code" in errors
    assert Course.objects.for_agency(agency).count() == 1


def test_the_same_code_is_fine_in_another_agency(course, other_agency):
    other_program = make_program(other_agency, "Language Training")
    assert make_course(other_agency, other_program).code == course.code


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": START - datetime.timedelta(days=1)}, "end_date"),
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": [7]}, "weekdays"),
        ({"capacity": 0}, "capacity"),
        ({"clb_levels": {"listening": [0, 4]}}, "clb_levels.listening"),
        ({"clb_levels": {"reading": [6, 4]}}, "clb_levels.reading"),
        ({"clb_levels": {"reading": [4, 13]}}, "clb_levels.reading"),
        ({"clb_levels": {"cooking": [4, 5]}}, "clb_levels.cooking"),
        ({"code": ""}, "code"),
        ({"program": None}, "program"),
        ({"teacher": "Ms Smith"}, "teacher"),
    ],
)
def test_bad_course_fields_are_refused_naming_the_field(agency, program, change, field):
    with agency_scope(agency):
        errors = refused(courses.create_course, agency, None, course_data(program, **change))
    assert field in errors
    assert not Course.objects.for_agency(agency).exists()


def test_a_caseworker_cannot_create_a_course_in_a_program_they_are_not_in(agency, program):
    from caseload.testing.factories import make_member

    outsider = make_member(agency, "Caseworker", programs=[make_program(agency, "Youth")])
    with agency_scope(agency):
        errors = refused(courses.create_course, agency, outsider.user, course_data(program))
    assert "program" in errors


def test_it_updates_the_course_and_its_session(agency, course, teacher):
    with agency_scope(agency):
        courses.update_course(course, teacher.user, {"name": "LINC 4 evenings", "capacity": 10, "location": "Room 12"})
    course.refresh_from_db()
    course.session.refresh_from_db()
    assert (course.name, course.capacity, course.session.title, course.session.location) == (
        "LINC 4 evenings",
        10,
        "LINC 4 evenings",
        "Room 12",
    )


def test_the_capacity_cannot_drop_below_the_students_enrolled(agency, course):
    enrol(course, make_students(agency, 3))
    with agency_scope(agency):
        errors = refused(courses.update_course, course, None, {"capacity": 2})
    assert "capacity" in errors


# --- Enrolment ----------------------------------------------------------------------------------


def test_it_enrols_clients_from_their_first_class(agency, course):
    people = make_students(agency, 2)
    added = enrol(course, people, first_class=datetime.date(2026, 1, 12))
    assert sorted(a.client_id for a in added) == sorted(p.pk for p in people)
    assert {a.joined_on for a in added} == {datetime.date(2026, 1, 12)}


def test_it_refuses_to_enrol_past_capacity(agency, course):
    enrol(course, make_students(agency, 3))
    extra = register(agency, given_name="Late", family_name="Comer")
    with agency_scope(agency):
        errors = refused(courses.enrol, course, None, [extra], first_class=START)
    assert errors["clients"] == ["The course is full: 3 of 3 places taken."]


def test_it_refuses_a_group_larger_than_the_places_left(agency, course):
    enrol(course, make_students(agency, 2))
    with agency_scope(agency):
        errors = refused(courses.enrol, course, None, make_students(agency, 2, "More"), first_class=START)
    assert "2 of 3 places taken" in errors["clients"][0]
    assert courses.enrolled_count(course) == 2


def test_a_student_who_left_frees_their_place(agency, course):
    first, *_rest = enrol(course, make_students(agency, 3))
    with agency_scope(agency):
        courses.exit_student(first, None, EXIT)
        courses.enrol(course, None, [register(agency, given_name="Next", family_name="One")], first_class=START)
    assert courses.enrolled_count(course) == 3


def test_it_refuses_a_client_already_enrolled(agency, course):
    person = make_students(agency, 1)[0]
    enrol(course, [person])
    with agency_scope(agency):
        errors = refused(courses.enrol, course, None, [person], first_class=START)
    assert "Already enrolled" in errors["clients"][0]


def test_it_refuses_a_first_class_outside_the_course(agency, course):
    with agency_scope(agency):
        errors = refused(courses.enrol, course, None, make_students(agency, 1), first_class=END + datetime.timedelta(days=1))
    assert "first_class" in errors


def test_it_refuses_another_agencys_client(agency, course, other_agency):
    stranger = register(other_agency, given_name="Other", family_name="Agency")
    with agency_scope(agency):
        errors = refused(courses.enrol, course, None, [stranger], first_class=START)
    assert "client" in errors


# --- Exit ---------------------------------------------------------------------------------------


def test_the_exit_form_sets_the_day_the_student_left(agency, course):
    student = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        row = courses.exit_student(student, None, EXIT)
    student.refresh_from_db()
    assert student.left_on == datetime.date(2026, 3, 25)
    assert (row.definition.key, row.client_id, row.status) == ("lt_exit", student.client_id, "completed")


def test_the_exit_form_is_validated_by_the_engine(agency, course):
    student = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        errors = refused(courses.exit_student, student, None, {"exit_date": "2026-03-25"})
    assert "answers.training_status" in errors
    student.refresh_from_db()
    assert student.left_on is None
    assert not ServiceRecord.objects.for_agency(agency).filter(definition__key="lt_exit").exists()


def test_exiting_again_changes_the_same_exit_form(agency, course):
    student = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        courses.exit_student(student, None, EXIT)
        courses.exit_student(student, None, {**EXIT, "exit_date": "2026-03-18"})
    student.refresh_from_db()
    assert student.left_on == datetime.date(2026, 3, 18)
    assert ServiceRecord.objects.for_agency(agency).filter(definition__key="lt_exit").count() == 1


# --- Class dates --------------------------------------------------------------------------------


def test_class_dates_follow_the_weekdays_within_the_course(course):
    dates = courses.class_dates(course, datetime.date(2026, 1, 1), datetime.date(2026, 1, 14))
    assert dates == [datetime.date(2026, 1, 5), datetime.date(2026, 1, 7), datetime.date(2026, 1, 12), datetime.date(2026, 1, 14)]
    assert courses.class_dates(course)[-1] == datetime.date(2026, 3, 25)
    assert len(courses.class_dates(course)) == 24


def test_the_latest_class_date_and_its_neighbours(course):
    assert courses.latest_class_date(course, datetime.date(2026, 1, 11)) == datetime.date(2026, 1, 7)
    assert courses.latest_class_date(course, datetime.date(2025, 12, 1)) == START
    assert courses.neighbour_class_dates(course, datetime.date(2026, 1, 7)) == (START, datetime.date(2026, 1, 12))
    assert courses.neighbour_class_dates(course, START) == (None, datetime.date(2026, 1, 7))


# --- Attendance ---------------------------------------------------------------------------------


def test_it_saves_the_whole_class_and_upserts_on_a_second_save(agency, course, teacher):
    a, b, c = enrol(course, make_students(agency, 3))
    day = datetime.date(2026, 1, 7)
    with agency_scope(agency):
        first = courses.save_attendance(course, teacher.user, day, {a.pk: "present", b.pk: "absent", c.pk: "late"})
        second = courses.save_attendance(course, teacher.user, day, {b.pk: "excused"})
    rows = dict(ClassAttendance.objects.for_agency(agency).filter(date=day).values_list("attendee_id", "status"))
    assert rows == {a.pk: "present", b.pk: "excused", c.pk: "late"}
    assert (first.created, first.changed, second.created, second.changed) == (3, 0, 0, 1)
    assert second.counts == {"present": 1, "absent": 0, "late": 1, "excused": 1}


def test_one_audit_event_per_save_with_counts_and_no_names(agency, course, teacher):
    a, b, _c = enrol(course, make_students(agency, 3))
    with agency_scope(agency):
        courses.save_attendance(course, teacher.user, START, {a.pk: "present", b.pk: "absent"})
    event = AuditEvent.objects.for_agency(agency).filter(object_type="delivery.course", action="change").get()
    assert event.changes["attendance_date"] == [None, "2026-01-05"]
    assert event.changes["attendance.present"] == [0, 1]
    assert "Student" not in str(event.changes) and "Nguyễn" not in str(event.changes)


def test_it_refuses_a_date_that_is_not_a_class_date(agency, course):
    a = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        errors = refused(courses.save_attendance, course, None, datetime.date(2026, 1, 6), {a.pk: "present"})
    assert "date" in errors
    assert not ClassAttendance.objects.for_agency(agency).exists()


def test_it_refuses_attendees_of_another_course(agency, course, program):
    other = make_course(agency, program, code="LINC-5B")
    stranger = enrol(other, make_students(agency, 1, "Other"))[0]
    mine = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        errors = refused(courses.save_attendance, course, None, START, {mine.pk: "present", stranger.pk: "present"})
    assert errors["marks"] == ["Attendance is for the course's students only."]
    assert not ClassAttendance.objects.for_agency(agency).exists()


def test_it_refuses_students_not_enrolled_on_that_date(agency, course):
    late = enrol(course, make_students(agency, 1), first_class=datetime.date(2026, 2, 2))[0]
    with agency_scope(agency):
        errors = refused(courses.save_attendance, course, None, START, {late.pk: "present"})
    assert "marks" in errors


def test_it_refuses_unknown_statuses(agency, course):
    a = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        errors = refused(courses.save_attendance, course, None, START, {a.pk: "sleeping"})
    assert errors["marks"] == ["Mark each student present, absent, late or excused."]


def test_the_class_record_is_created_then_changed_for_that_date(agency, course, teacher):
    a = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        first = courses.save_attendance(course, teacher.user, START, {a.pk: "present"}, CLASS)
        courses.save_attendance(course, teacher.user, START, {}, {**CLASS, "instruction_hours": 2})
        courses.save_attendance(course, teacher.user, datetime.date(2026, 1, 7), {}, CLASS)
        row = courses.class_record(course, START)
    assert row.pk == first.record.pk
    assert row.answers["class_date"] == "2026-01-05"
    assert row.answers["instruction_hours"] == 2
    assert ServiceRecord.objects.for_agency(agency).filter(definition__key="lt_attendance").count() == 2


def test_a_bad_class_record_leaves_no_attendance(agency, course):
    a = enrol(course, make_students(agency, 1))[0]
    with agency_scope(agency):
        errors = refused(courses.save_attendance, course, None, START, {a.pk: "present"}, {"instruction_hours": "many"})
    assert "answers.instruction_hours" in errors
    assert not ClassAttendance.objects.for_agency(agency).exists()


def test_the_roster_gives_each_students_attendance_rate(agency, course, teacher):
    a, b = enrol(course, make_students(agency, 2))
    with agency_scope(agency):
        courses.save_attendance(course, None, START, {a.pk: "present", b.pk: "absent"})
        courses.save_attendance(course, None, datetime.date(2026, 1, 7), {a.pk: "late", b.pk: "excused"})
        rows = {row.attendee.pk: row for row in courses.roster(course, teacher)}
    assert (rows[a.pk].rate, rows[b.pk].rate) == (100, 0)
    assert (rows[b.pk].attended, rows[b.pk].marked) == (0, 1)
