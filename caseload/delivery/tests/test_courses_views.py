"""The course pages: list, course form, course page, enrolment, student forms and the attendance grid."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from caseload.delivery import courses
from caseload.delivery.models import Attendee, ClassAttendance, Course, ServiceRecord
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program, make_role
from caseload.testing.factories import make_member

from .course_helpers import START, enrol, make_course, make_students
from .helpers import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(agency):
    return make_program(agency, "Language Training")


@pytest.fixture
def teacher(agency, program):
    return make_member(agency, "Caseworker", programs=[program])


@pytest.fixture
def course(agency, program, teacher):
    return make_course(agency, program, teacher=teacher)


@pytest.fixture
def students(agency, course):
    return enrol(course, make_students(agency, 3))


@pytest.fixture
def stranger(agency):
    """A caseworker of another program."""
    return make_member(agency, "Caseworker", programs=[make_program(agency, "Youth Employment")]).user


@pytest.fixture
def no_delivery(agency):
    role = make_role(agency, "Intake", permissions=("clients.view",))
    return make_member(agency, role.name).user


def urls(course, student) -> dict[str, str]:
    return {
        "detail": reverse("delivery:course_detail", args=[course.pk]),
        "edit": reverse("delivery:course_edit", args=[course.pk]),
        "enrol": reverse("delivery:course_enrol", args=[course.pk]),
        "attendance": reverse("delivery:course_attendance", args=[course.pk]),
        "enrolment": reverse("delivery:student_enrolment", args=[student.pk]),
        "exit": reverse("delivery:student_exit", args=[student.pk]),
    }


# --- Permissions and visibility -----------------------------------------------------------------


def test_another_agencys_administrator_gets_404_everywhere(as_user, outsider, course, students):
    web = as_user(outsider)
    for name, url in urls(course, students[0]).items():
        assert web.get(url).status_code == 404, name


def test_a_caseworker_outside_the_courses_program_gets_404(as_user, stranger, course, students):
    web = as_user(stranger)
    for name, url in urls(course, students[0]).items():
        if name == "edit":
            continue  # caseworkers may not configure courses: 403 first
        assert web.get(url).status_code == 404, name
    assert course.code not in web.get(reverse("delivery:course_list") + "?show=all").content.decode()


def test_a_member_without_delivery_permissions_gets_403(as_user, no_delivery, course, students):
    web = as_user(no_delivery)
    assert web.get(reverse("delivery:course_list")).status_code == 403
    for name, url in urls(course, students[0]).items():
        assert web.get(url).status_code == 403, name


def test_a_caseworker_may_not_create_or_edit_courses(as_user, teacher, course):
    web = as_user(teacher.user)
    assert web.get(reverse("delivery:course_new")).status_code == 403
    assert web.get(reverse("delivery:course_edit", args=[course.pk])).status_code == 403


def test_the_auditor_reads_but_cannot_enrol_or_take_attendance(as_user, auditor, course, students):
    web = as_user(auditor)
    assert web.get(reverse("delivery:course_detail", args=[course.pk])).status_code == 200
    page = web.get(reverse("delivery:course_attendance", args=[course.pk]) + "?date=2026-01-05")
    assert page.status_code == 200 and "disabled" in page.content.decode()
    assert web.get(reverse("delivery:course_enrol", args=[course.pk])).status_code == 403
    response = web.post(reverse("delivery:course_attendance", args=[course.pk]), {"date": "2026-01-05"})
    assert response.status_code == 403


# --- The list and the course form ---------------------------------------------------------------


def test_the_list_shows_the_courses_with_enrolment_and_levels(as_user, teacher, course, students):
    html = as_user(teacher.user).get(reverse("delivery:course_list") + "?show=all").content.decode()
    assert "LINC-4A" in html and "3 / 3" in html and "L 4–5" in html


def test_the_navigation_links_to_the_courses_for_members_with_delivery_view(as_user, teacher, no_delivery):
    assert reverse("delivery:course_list") in as_user(teacher.user).get("/").content.decode()


def test_the_nav_hides_courses_without_delivery_view(client, no_delivery):
    client.force_login(no_delivery)
    assert reverse("delivery:course_list") not in client.get("/").content.decode()


def course_post(program, **extra) -> dict:
    return {
        "code": "LINC-6",
        "name": "LINC 6 evenings",
        "language": "en",
        "program": program.pk,
        "location": "Room 5",
        "start_date": "2026-04-06",
        "end_date": "2026-06-26",
        "weekdays": ["1", "3"],
        "start_time": "18:00",
        "end_time": "21:00",
        "capacity": "18",
        "clb_listening_min": "5",
        "clb_listening_max": "6",
        "f-location_postal_code": "M5V 2T6",
        "f-course_format": "in_person",
        "save": "completed",
        **extra,
    }


def test_an_administrator_creates_a_course_with_its_open_form(as_user, admin, agency, program):
    response = as_user(admin).post(reverse("delivery:course_new"), course_post(program))
    assert response.status_code == 302, response.content.decode()[:3000]
    with agency_scope(agency):
        course = Course.objects.for_agency(agency).get(code="LINC-6")
        assert course.weekdays == [1, 3] and course.clb_levels == {"listening": [5, 6]}
        answers = courses.open_record(course).answers
        assert answers["location_postal_code"] == "M5V 2T6" and answers["course_code"] == "LINC-6"
        assert (answers["clb_levels_from"], answers["clb_levels_to"]) == ({"listening": 5}, {"listening": 6})


def test_the_course_form_names_bad_fields(as_user, admin, agency, program, course):
    response = as_user(admin).post(
        reverse("delivery:course_new"),
        course_post(program, code="LINC-4A", end_date="2026-01-01", clb_listening_min="7", clb_listening_max="5"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Another course of your agency has this code." in html
    assert "The last class cannot be before the first." in html
    assert "The lowest level cannot be above the highest." in html
    assert Course.objects.for_agency(agency).count() == 1


def test_the_course_form_names_open_form_errors(as_user, admin, agency, program):
    response = as_user(admin).post(reverse("delivery:course_new"), course_post(program, **{"f-course_format": "carrier_pigeon"}))
    assert response.status_code == 400
    assert not Course.objects.for_agency(agency).exists()


def test_an_administrator_edits_a_course(as_user, admin, agency, program, course):
    web = as_user(admin)
    assert web.get(reverse("delivery:course_edit", args=[course.pk])).status_code == 200
    response = web.post(reverse("delivery:course_edit", args=[course.pk]), course_post(program, code="LINC-4A", capacity="12"))
    assert response.status_code == 302
    course.refresh_from_db()
    assert course.capacity == 12


# --- The course page and enrolment --------------------------------------------------------------


def test_the_course_page_shows_the_roster(as_user, teacher, course, students):
    html = as_user(teacher.user).get(reverse("delivery:course_detail", args=[course.pk])).content.decode()
    assert "Student00 Nguyễn" in html and "Enrol clients" in html and "Take attendance" in html


def test_enrolling_finds_clients_by_name_and_enrols_them(as_user, teacher, agency, course):
    amina = register(agency, given_name="Amina", family_name="Haddad")
    web = as_user(teacher.user)
    page = web.get(reverse("delivery:course_enrol", args=[course.pk]), {"q": "Amina"})
    assert "Amina Haddad" in page.content.decode()
    response = web.post(reverse("delivery:course_enrol", args=[course.pk]), {"q": "Amina", "clients": [amina.pk]})
    assert response.status_code == 302
    assert Attendee.objects.for_agency(agency).filter(session=course.session, client=amina).exists()


def test_enrolling_a_full_course_says_so(as_user, teacher, agency, course, students):
    amina = register(agency, given_name="Amina", family_name="Haddad")
    response = as_user(teacher.user).post(
        reverse("delivery:course_enrol", args=[course.pk]), {"q": "Amina", "clients": [amina.pk]}
    )
    assert response.status_code == 400
    assert "The course is full: 3 of 3 places taken." in response.content.decode()


def test_enrolling_refuses_another_agencys_client(as_user, teacher, agency, other_agency, course):
    foreign = register(other_agency, given_name="Amina", family_name="Haddad")
    response = as_user(teacher.user).post(
        reverse("delivery:course_enrol", args=[course.pk]), {"q": "Amina", "clients": [foreign.pk]}
    )
    assert response.status_code == 400
    assert not Attendee.objects.for_agency(agency).filter(session=course.session).exists()


# --- Student forms ------------------------------------------------------------------------------


def test_the_enrolment_form_is_saved_for_the_student(as_user, teacher, agency, course, students):
    web = as_user(teacher.user)
    url = reverse("delivery:student_enrolment", args=[students[0].pk])
    assert web.get(url).status_code == 200
    response = web.post(url, {"f-course_code": "LINC-4A", "f-first_class_date": "2026-01-05", "save": "completed"})
    assert response.status_code == 302
    row = courses.student_record(students[0], "lt_enrollment")
    assert row.client_id == students[0].client_id and row.status == "completed"


def test_the_exit_page_records_the_exit_and_the_day_they_left(as_user, teacher, course, students):
    response = as_user(teacher.user).post(
        reverse("delivery:student_exit", args=[students[1].pk]),
        {"f-training_status": "completed", "f-exit_date": "2026-03-25", "save": "completed"},
    )
    assert response.status_code == 302
    students[1].refresh_from_db()
    assert students[1].left_on == datetime.date(2026, 3, 25)


def test_the_exit_page_names_missing_answers(as_user, teacher, course, students):
    response = as_user(teacher.user).post(reverse("delivery:student_exit", args=[students[1].pk]), {"save": "completed"})
    assert response.status_code == 400
    students[1].refresh_from_db()
    assert students[1].left_on is None


# --- The attendance grid ------------------------------------------------------------------------


def test_the_grid_shows_the_class_with_a_radio_group_per_student(as_user, teacher, course, students):
    html = (
        as_user(teacher.user).get(reverse("delivery:course_attendance", args=[course.pk]) + "?date=2026-01-07").content.decode()
    )
    for student in students:
        assert f'name="mark-{student.pk}" value="present"' in html
    assert "Mark everyone present" in html and "Next class" in html and "Previous class" in html
    assert 'name="f-class_date"' not in html


def test_the_grid_defaults_to_the_latest_class_date(as_user, teacher, course, students):
    response = as_user(teacher.user).get(reverse("delivery:course_attendance", args=[course.pk]))
    assert response.status_code == 200
    assert courses.latest_class_date(course).isoformat() in response.content.decode()


def test_everyone_present_without_javascript_prefills_the_grid(as_user, teacher, course, students):
    url = reverse("delivery:course_attendance", args=[course.pk]) + "?date=2026-01-07&preset=present"
    html = as_user(teacher.user).get(url).content.decode()
    assert html.count('value="present" checked') == 3


def test_saving_the_grid_saves_marks_and_the_class_record(as_user, teacher, agency, course, students):
    a, b, c = students
    data = {"date": "2026-01-07", f"mark-{a.pk}": "present", f"mark-{b.pk}": "late", f"mark-{c.pk}": "absent"}
    data.update({"f-instruction_hours": "3", "f-lesson_topic": "Shopping"})
    response = as_user(teacher.user).post(reverse("delivery:course_attendance", args=[course.pk]), data)
    assert response.status_code == 302
    marks = dict(ClassAttendance.objects.for_agency(agency).values_list("attendee_id", "status"))
    assert marks == {a.pk: "present", b.pk: "late", c.pk: "absent"}
    row = ServiceRecord.objects.for_agency(agency).get(definition__key="lt_attendance")
    assert row.answers["class_date"] == "2026-01-07" and row.answers["lesson_topic"] == "Shopping"


def test_a_grid_without_class_answers_saves_no_class_record(as_user, teacher, agency, course, students):
    data = {"date": "2026-01-07", f"mark-{students[0].pk}": "present"}
    assert as_user(teacher.user).post(reverse("delivery:course_attendance", args=[course.pk]), data).status_code == 302
    assert not ServiceRecord.objects.for_agency(agency).filter(definition__key="lt_attendance").exists()


def test_the_grid_refuses_bad_marks_without_a_500(as_user, teacher, agency, course, students):
    web = as_user(teacher.user)
    url = reverse("delivery:course_attendance", args=[course.pk])
    response = web.post(url, {"date": "2026-01-07", f"mark-{students[0].pk}": "sleeping"})
    assert response.status_code == 400
    assert "Mark each student present, absent, late or excused." in response.content.decode()
    assert web.post(url, {"date": "2026-01-06", f"mark-{students[0].pk}": "present"}).status_code == 302
    assert web.post(url, {"date": "not-a-date"}).status_code == 302
    assert not ClassAttendance.objects.for_agency(agency).exists()


def test_the_month_overview_shows_the_marks(as_user, teacher, agency, course, students):
    with agency_scope(agency):
        courses.save_attendance(course, None, START, {students[0].pk: "late"})
    html = (
        as_user(teacher.user).get(reverse("delivery:course_attendance", args=[course.pk]) + "?date=2026-01-07").content.decode()
    )
    assert '<abbr title="Late">L</abbr>' in html
