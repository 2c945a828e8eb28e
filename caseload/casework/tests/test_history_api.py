"""GET /api/v1/clients/{id}/history/: the client's history for API clients."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseload.casework.tests import history_helpers as make
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 3, 3)


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


@pytest.fixture
def worker(agency):
    return make_member(agency, "Caseworker")


@pytest.fixture
def person(agency):
    return make.a_client(agency)


def url(client) -> str:
    return f"/api/v1/clients/{client.pk}/history/"


def test_it_answers_the_feed_newest_first(api, person, worker):
    program = make.a_program(person.agency)
    note = make.note(person, worker, day(2), program=program, body="Went over the *budget*.")
    flag = make.safety_flag(person, worker.user, make.at(day(1), 9), reason="Secret reason")
    response = api.as_user(worker.user).get(url(person))
    assert response.status_code == 200
    data = response.json()
    assert data["next"] is None and data["next_cursor"] is None
    first, second = data["results"]
    assert first == {
        "kind": "notes",
        "source": "note",
        "id": note.pk,
        "date": "2025-03-05",
        "at": None,
        "title": "General note",
        "summary": "Went over the budget.",
        "staff": worker.user.full_name,
        "program": program.name,
        "badges": [],
        "url": f"http://testserver/clients/{person.pk}/notes/#note-{note.pk}",
    }
    assert second["source"] == "flag_added" and second["id"] == flag.pk
    assert second["at"].startswith("2025-03-04T")
    assert "Secret reason" not in response.content.decode()


def test_it_pages_with_a_cursor(api, person, worker):
    notes = [make.note(person, worker, day(n)) for n in range(5)]
    caller = api.as_user(worker.user)
    seen, next_url = [], url(person) + "?page_size=2"
    while next_url:
        data = caller.get(next_url).json()
        seen += [row["id"] for row in data["results"]]
        next_url = data["next"]
    assert seen == [note.pk for note in reversed(notes)]


def test_it_filters_by_kind_program_and_staff(api, agency, person, worker):
    program = make.a_program(agency)
    colleague = make_member(agency, "Caseworker")
    kept = make.note(person, worker, day(1), program=program)
    make.note(person, colleague, day(2), program=program)
    make.communication(person, worker, day(3), program=program)
    make.note(person, worker, day(4))
    data = api.as_user(worker.user).get(url(person), {"kind": "notes,safety", "program": program.pk, "staff": worker.pk}).json()
    assert [(row["source"], row["id"]) for row in data["results"]] == [("note", kept.pk)]


def test_a_private_note_is_left_out_for_those_who_may_not_see_it(api, agency, person):
    boss = make_member(agency, "Manager")
    author = make_member(agency, "Caseworker", manager=boss)
    private = make.note(person, author, day(1), is_private=True)
    for member, shown in (
        (author, True),
        (boss, True),
        (make_member(agency, "Caseworker"), False),
        (make_member(agency, "Administrator"), False),
    ):
        ids = [row["id"] for row in api.as_user(member.user).get(url(person)).json()["results"]]
        assert (private.pk in ids) is shown


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"kind": "gossip"}, "kind"),
        ({"program": "abc"}, "program"),
        ({"program": 10**6}, "program"),
        ({"staff": 10**6}, "staff"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1000}, "page_size"),
    ],
)
def test_bad_parameters_get_a_400_naming_the_field(api, person, worker, query, field):
    response = api.as_user(worker.user).get(url(person), query)
    assert response.status_code == 400
    assert [error["attr"] for error in response.json()["errors"]] == [field]


def test_another_agencys_program_is_refused(api, other_agency, person, worker):
    foreign = make.a_program(other_agency, "Elsewhere")
    response = api.as_user(worker.user).get(url(person), {"program": foreign.pk})
    assert response.status_code == 400


def test_another_agencys_client_is_not_found(api, other_agency, worker):
    assert api.as_user(worker.user).get(url(make.a_client(other_agency))).status_code == 404


def test_a_member_without_casework_view_is_refused(api, agency, person):
    assert api.as_user(make_member(agency, "Front desk").user).get(url(person)).status_code == 403


def test_writing_is_not_allowed(api, person, worker):
    assert api.as_user(worker.user).post(url(person), {}).status_code in (403, 405)


def test_it_runs_the_same_queries_for_few_rows_as_for_many(api, person, worker):
    caller = api.as_user(worker.user)
    # One row of each kind the page will show: the page reads the rows of the sources that made it.
    make.note(person, worker, day(1))
    make.communication(person, worker, day(1))
    make.task(person.agency, worker, client=person, created=make.at(day(1), 8))
    caller.get(url(person))
    with CaptureQueriesContext(connection) as few:
        caller.get(url(person))
    for n in range(60):
        make.note(person, worker, day(n % 7))
        make.communication(person, worker, day(n % 7))
        make.task(person.agency, worker, client=person, created=make.at(day(n % 7), 8, n % 60))
    with CaptureQueriesContext(connection) as many:
        response = caller.get(url(person))
    assert len(response.json()["results"]) == 25
    assert len(many) == len(few)
