"""In headless Chromium: every standard service form is filled in through its page and saved as
completed, in the session type that holds it. A screenshot of each saved form goes to
var/screenshots/forms/."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from caseload.delivery import catalogue
from caseload.testing.factories import TEST_PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots" / "forms"
DAY = "2026-03-10"

pytestmark = pytest.mark.browser


def _value(spec: dict, field: dict) -> Any:
    """A plausible answer to one question."""
    from caseload.formbuilder import engine

    kind = field["type"]
    if kind in ("text", "textarea"):
        text = "Nadia Benali" if "name" in field["key"] else "Discussed next steps"
        return "M5V 2T6" if "postal" in field["key"] else text[: field.get("max_length", 200)]
    if kind == "number":
        return str(max(1, int(field.get("min", 1) or 1)))
    if kind == "date":
        return DAY
    if kind == "choice":
        return engine.choices(spec, field)[0]["value"]
    if kind == "multichoice":
        return [engine.choices(spec, field)[0]["value"]]
    if kind == "yesno":
        return True
    if kind == "clb":
        return dict.fromkeys(field.get("skills") or engine.CLB_SKILLS, 5)
    if kind == "group":
        return [{sub["key"]: _value(spec, sub) for sub in field["fields"] if sub.get("required")}]
    return None


def complete_answers(spec: dict) -> dict:
    """The required answers of ``spec``, growing until the engine accepts them as completed
    (answering a question can make a conditional required question apply)."""
    from caseload.formbuilder import engine

    answers: dict[str, Any] = {}
    for _round in range(10):
        try:
            return engine.validate(spec, answers)
        except engine.AnswerErrors as error:
            for path in error.errors:
                key = path.split(".")[0]
                field = next(f for f in spec["fields"] if f.get("key") == key)
                answers[key] = _value(spec, field)
    raise AssertionError(f"no complete answers found for {spec['key']}")


def fill_in(page, spec: dict, answers: dict, prefix: str = "f") -> None:
    """Type ``answers`` into the rendered form, in the form's order (so conditional questions appear)."""
    for field in spec["fields"]:
        key = field.get("key")
        if key not in answers:
            continue
        _fill(page, field, answers[key], f"{prefix}-{key}")


def _fill(page, field: dict, value: Any, name: str) -> None:
    kind = field["type"]
    if kind == "group":
        for index, item in enumerate(value):
            for sub in field["fields"]:
                if sub["key"] in item:
                    _fill(page, sub, item[sub["key"]], f"{name}-{index}-{sub['key']}")
        return
    if kind == "clb":
        for skill, level in value.items():
            page.locator(f"[name='{name}-{skill}']").select_option(str(level))
        return
    if kind == "yesno":
        page.locator(f"input[name='{name}'][value='{'yes' if value else 'no'}']").check()
        return
    if kind == "multichoice":
        for item in value:
            page.locator(f"input[name='{name}'][value='{item}']").check()
        return
    target = page.locator(f"[name='{name}']")
    if kind == "choice":
        if target.first.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            page.locator(f"input[name='{name}'][value='{value}']").check()
        return
    target.fill(str(value))


@pytest.fixture
def setting(transactional_db):
    from caseload.clients.actions import register_client
    from caseload.delivery import courses, sessions
    from caseload.tenancy.scoping import agency_scope
    from caseload.tenancy.tests.helpers import make_program
    from caseload.testing.factories import make_agency, make_member

    agency = make_agency("Northside Newcomer Services")
    program = make_program(agency, "Settlement Services")
    worker = make_member(agency, "Caseworker", email="priya@northside.example.org", programs=[program])
    manager = make_member(agency, "Manager", email="sam@northside.example.org", programs=[program])
    actor = worker.user
    day = datetime.date(2026, 3, 10)
    with agency_scope(agency):
        client = register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad"})
        holders: dict[str, Any] = {}
        for session_type in ("direct", "job_development", "finance"):
            holders[session_type] = sessions.create_session(
                agency, actor, {"session_type": session_type, "program": program, "date": day}, client=client
            )
        for session_type in ("io_group", "cc_group", "employment_group"):
            group = sessions.create_session(agency, actor, {"session_type": session_type, "program": program, "date": day})
            sessions.add_attendees(group, actor, [client])
            holders[session_type] = group
        course = courses.create_course(
            agency,
            manager.user,
            {
                "code": "LINC-4A",
                "name": "LINC 4 mornings",
                "program": program,
                "start_date": day,
                "end_date": day + datetime.timedelta(days=90),
                "weekdays": [0, 2],
                "capacity": 20,
            },
        )
        courses.enrol(course, actor, [client], first_class=day)
        holders["language_training"] = course.session
    return worker.user, client, holders


def session_for(holders: dict, key: str):
    for session_type, keys in catalogue.SESSION_FORMS.items():
        if key in keys:
            return holders[str(session_type)]
    raise KeyError(key)


def test_every_standard_form_is_filled_in_and_saved_in_the_browser(page, live_server, setting):
    from caseload.delivery.models import ServiceRecord
    from caseload.formbuilder import loading
    from caseload.tenancy.scoping import agency_scope

    worker, client, holders = setting
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(worker.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")

    saved = []
    for key in catalogue.STANDARD_FORMS:
        definition = loading.current_definition(key)
        spec = definition.spec
        session = session_for(holders, key)
        url = f"{live_server.url}/sessions/{session.pk}/forms/new/?form={key}"
        if definition.scope == "client" and session.is_group:
            url += f"&client={client.pk}"
        page.goto(url)
        fill_in(page, spec, complete_answers(spec))
        page.get_by_role("button", name="Complete").click()
        page.wait_for_url(lambda url: "/service-forms/" in url, timeout=10000)
        expect(page.get_by_text("Completed", exact=True).first, key).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"{key}.png"), full_page=True)
        saved.append(key)

    with agency_scope(session.agency):
        rows = ServiceRecord.objects.for_agency(session.agency).filter(status="completed")
        assert sorted(rows.values_list("definition__key", flat=True)) == sorted(catalogue.STANDARD_FORMS)
    assert len(saved) == 22
