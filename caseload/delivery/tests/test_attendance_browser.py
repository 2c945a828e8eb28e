"""In headless Chromium: the attendance grid for a class of 25 can be filled with the keyboard alone.

The teacher opens the grid, tabs to the first student, marks each student with P, A or L (each
key marks and moves to the next student), goes back up with the arrow keys to correct one, types
the class record, and saves with Enter. The screenshots go to var/screenshots/.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
CLASS_SIZE = 25
DAY = datetime.date(2026, 1, 7)

pytestmark = pytest.mark.browser


@pytest.fixture
def setting(transactional_db):
    from caseload.clients.actions import register_client
    from caseload.delivery import courses
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program
    from caseload.testing.factories import make_agency, make_member, multilingual

    agency = make_agency("Northside Newcomer Services")
    program = make_program(agency, "LINC")
    teacher = make_member(agency, "Caseworker", email="grace@northside.example.org", programs=[program])
    multilingual.seed_instance(25)
    with agency_scope(agency):
        course = courses.create_course(
            agency,
            teacher.user,
            {
                "code": "LINC-4A",
                "name": "LINC 4 mornings",
                "program": program,
                "teacher": teacher,
                "location": "Room 204",
                "start_date": datetime.date(2026, 1, 5),
                "end_date": datetime.date(2026, 3, 27),
                "weekdays": [0, 2],
                "capacity": CLASS_SIZE,
                "clb_levels": {"listening": [4, 5], "speaking": [4, 5]},
            },
        )
        clients = [
            register_client(
                agency=agency, actor=None, data={"given_name": multilingual.first_name(), "family_name": multilingual.last_name()}
            )
            for _ in range(CLASS_SIZE)
        ]
        courses.enrol(course, teacher.user, clients, first_class=datetime.date(2026, 1, 5))
        courses.save_attendance(
            course, teacher.user, datetime.date(2026, 1, 5), {a.pk: "present" for a in courses.active_students(course)}
        )
    return teacher.user, course


def active_is(page, selector: str) -> bool:
    return page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})")


def tab_until(page, selector: str, limit: int = 80) -> None:
    for _ in range(limit):
        if active_is(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def test_the_attendance_grid_for_a_class_of_25_can_be_filled_with_the_keyboard_alone(page, live_server, setting):
    from caseload.delivery import courses
    from caseload.delivery.models import ClassAttendance, ServiceRecord

    teacher, course = setting
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(teacher.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.goto(f"{live_server.url}/courses/{course.pk}/attendance/?date={DAY.isoformat()}")
    rows = page.locator("[data-student]")
    assert rows.count() == CLASS_SIZE

    # From the top of the page, Tab reaches the first student's radio buttons.
    tab_until(page, "[data-student] input[type=radio]")
    plan = ["present", "absent", "late"] * 9
    plan = plan[:CLASS_SIZE]
    letters = {"present": "p", "absent": "a", "late": "l"}
    for status in plan:
        page.keyboard.press(letters[status])
    # After the last student the focus is on the class record; go back up three students and correct one.
    assert active_is(page, "[data-after-grid] input, [data-after-grid] select, [data-after-grid] textarea")
    page.keyboard.press("Shift+Tab")
    assert active_is(page, "[data-student]:last-child input[type=radio]")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("e")  # student 23 (index 22) excused instead
    plan[22] = "excused"
    # The class record: hours, then the topic.
    tab_until(page, "input[name=f-instruction_hours]")
    page.keyboard.type("3")
    tab_until(page, "input[name=f-lesson_topic]")
    page.keyboard.type("Making a doctor's appointment")
    # A viewport as tall as the page: a full-page capture would repeat the sticky top bar mid-page.
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.documentElement.scrollHeight")})
    page.screenshot(path=str(SCREENSHOTS / "attendance-grid.png"))

    tab_until(page, "#attendance-save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Attendance for" in page.locator("main").inner_text()

    attendees = list(courses.active_students(course).order_by("client__family_name", "client__given_name", "pk"))
    saved = dict(ClassAttendance.objects.for_agency(course.agency).filter(date=DAY).values_list("attendee_id", "status"))
    assert len(saved) == CLASS_SIZE
    assert [saved[a.pk] for a in attendees] == plan
    row = ServiceRecord.objects.for_agency(course.agency).get(definition__key="lt_attendance")
    assert row.answers["class_date"] == DAY.isoformat() and row.answers["instruction_hours"] == 3

    page.goto(f"{live_server.url}/courses/{course.pk}/")
    assert "Take attendance" in page.locator("main").inner_text()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.documentElement.scrollHeight")})
    page.screenshot(path=str(SCREENSHOTS / "course-page.png"))


def test_an_administrator_creates_a_course_in_the_browser(page, live_server, transactional_db):
    from caseload.delivery.models import Course
    from caseload.tenancy.tests.helpers import make_program
    from caseload.testing.factories import make_agency, make_member

    agency = make_agency("Northside Newcomer Services")
    make_program(agency, "LINC")
    admin = make_member(agency, "Administrator", email="lee@northside.example.org").user

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(admin.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    page.get_by_role("link", name="Courses").click()
    page.get_by_role("link", name="New course").first.click()
    page.get_by_label("Course code").fill("LINC-5B")
    page.locator("input[name=name]").fill("LINC 5 evenings")
    page.locator("select[name=program]").select_option(label="LINC")
    page.locator("input[name=start_date]").fill("2026-04-06")
    page.locator("input[name=end_date]").fill("2026-06-26")
    page.get_by_label("Tuesday").check()
    page.get_by_label("Thursday").check()
    page.locator("input[name=capacity]").fill("18")
    page.get_by_label("Listening: lowest CLB level").select_option("5")
    page.get_by_label("Listening: highest CLB level").select_option("6")
    page.locator("input[name=f-location_postal_code]").fill("M5V 2T6")
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.documentElement.scrollHeight")})
    page.screenshot(path=str(SCREENSHOTS / "course-form.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="Save, funder details as draft").click()
    page.wait_for_url(lambda url: "/new/" not in url)
    assert "LINC-5B" in page.locator("h1").inner_text()
    course = Course.objects.for_agency(agency).get(code="LINC-5B")
    assert course.weekdays == [1, 3] and course.clb_levels == {"listening": [5, 6]}
