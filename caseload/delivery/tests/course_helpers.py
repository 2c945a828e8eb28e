"""What the course tests share: a language-training program with a teacher, a course, and students."""

from __future__ import annotations

import datetime

from caseload.delivery import courses
from caseload.delivery.models import Course
from caseload.tenancy.models import Agency, Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

from .helpers import register

START = datetime.date(2026, 1, 5)  # a Monday
END = datetime.date(2026, 3, 27)
MONDAY, WEDNESDAY = 0, 2

EXIT = {"training_status": "completed", "exit_date": "2026-03-25", "clb_exit": {"listening": 6, "speaking": 5}}
CLASS = {"instruction_hours": 3, "lesson_topic": "At the doctor's"}


def course_data(program: Program | None, /, **extra) -> dict:
    return {
        "code": "LINC-4A",
        "name": "LINC 4 mornings",
        "program": extra.pop("program", program),
        "location": "Room 204",
        "start_date": START,
        "end_date": END,
        "weekdays": [MONDAY, WEDNESDAY],
        "capacity": 3,
        "clb_levels": {"listening": [4, 5], "speaking": [4, 5], "reading": [3, 4], "writing": [3, 4]},
        **extra,
    }


def make_course(agency: Agency, program: Program, actor=None, **extra) -> Course:
    with agency_scope(agency):
        return courses.create_course(agency, actor, course_data(program, **extra))


def make_students(agency: Agency, count: int, prefix: str = "Student") -> list:
    return [register(agency, given_name=f"{prefix}{n:02d}", family_name="Nguyễn") for n in range(count)]


def enrol(course: Course, clients, actor=None, first_class=START):
    with agency_scope(course.agency):
        return courses.enrol(course, actor, clients, first_class=first_class)


def teacher_of(agency: Agency, program: Program):
    return make_member(agency, "Caseworker", programs=[program])
