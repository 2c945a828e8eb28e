"""The client's history: one feed of everything done with the client, newest first."""

from __future__ import annotations

import datetime as dt
import itertools
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.audit.models import AuditEvent
from caseload.casework import history
from caseload.casework.tests import history_helpers as make
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2025, 3, 3)


@contextmanager
def rolled_back():
    """One hypothesis example's rows, undone when it ends."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def day(n: int) -> dt.date:
    return MONDAY + dt.timedelta(days=n)


@pytest.fixture
def worker(agency):
    return make_member(agency, "Caseworker")


@pytest.fixture
def person(agency):
    return make.a_client(agency)


def feed(client, membership, **options) -> history.Page:
    with agency_scope(client.agency):
        return history.client_history(client, membership, agency=client.agency, can=membership.has_perm, **options)


def keys(page: history.Page) -> list[tuple[str, int]]:
    return [(entry.source.key, entry.row.pk) for entry in page.entries]


def url(client) -> str:
    return reverse("casework:history", args=[client.pk])


def a_bit_of_everything(client, worker):
    """One row of each source, a day apart (the newest first in this list)."""
    program = make.a_program(client.agency)
    user = worker.user
    rows = {}
    rows["flag_removed"] = flag = make.safety_flag(client, user, make.at(day(0)), removed=make.at(day(10)))
    rows["note"] = make.note(client, worker, day(9), program=program)
    rows["communication"] = make.communication(client, worker, day(8))
    rows["service"] = make.service(client, worker, day(7), program=program)
    rows["service_referral"] = make.service_referral(client, worker, day(6), to_program=program)
    rows["task"] = make.task(client.agency, worker, client=client, created=make.at(day(5)))
    rows["agency_referral"] = make.agency_referral(client, user, make.at(day(4)))
    rows["assignment"] = make.assignment(client, worker, make.at(day(3)), by=user)
    rows["enrolment_end"] = ended = make.enrolment(client, program, day(1), end=day(2), user=user)
    rows["enrolment"] = ended
    rows["flag_added"] = flag
    return program, rows


# --- The feed ----------------------------------------------------------------------------------


def test_it_merges_every_kind_newest_first(person, worker):
    _program, rows = a_bit_of_everything(person, worker)
    page = feed(person, worker)
    assert keys(page) == [(key, row.pk) for key, row in rows.items()]
    assert page.next_cursor is None


def test_it_orders_the_entries_of_one_day_by_when_they_were_recorded(person, worker):
    early = make.note(person, worker, day(1), created=make.at(day(1), 9))
    late_call = make.communication(person, worker, day(1), created=make.at(day(1), 15))
    flag = make.safety_flag(person, worker.user, make.at(day(1), 11))
    backdated = make.note(person, worker, day(1), created=make.at(day(4), 8))
    assert keys(feed(person, worker)) == [
        ("note", backdated.pk),
        ("communication", late_call.pk),
        ("flag_added", flag.pk),
        ("note", early.pk),
    ]


def test_it_reads_each_entry_the_way_a_caseworker_would(person, worker):
    program = make.a_program(person.agency, "Settlement")
    make.service(person, worker, day(2), amount="1234.50", vendor="Transit Co", program=program)
    make.note(person, worker, day(1), body="**Resume** reviewed with [the client](https://example.org).", status="draft")
    service, note = feed(person, worker).entries
    assert service.shown.title == "Transportation"
    assert service.shown.summary == "$1,234.50 · Transit Co"
    assert service.program == "Settlement"
    assert service.who == worker.user.full_name
    assert note.shown.title == "General note"
    assert note.shown.summary == "Resume reviewed with the client."
    assert ("Draft", "warning") in note.shown.badges
    assert note.shown.url == reverse("casework:notes", args=[person.pk]) + f"#note-{note.row.pk}"


def test_it_only_says_a_safety_flag_was_added_or_removed_never_why(client, agency, person, worker):
    make.safety_flag(person, worker.user, make.at(day(1)), removed=make.at(day(2)), reason="Threatened staff with a knife")
    client.force_login(worker.user)
    html = client.get(url(person)).content.decode()
    assert "Safety flag added" in html and "Safety flag removed" in html
    assert "knife" not in html


def test_it_leaves_out_another_clients_rows(person, worker):
    other = make.a_client(person.agency, "Jonas", "Berg")
    make.note(other, worker, day(1))
    make.task(person.agency, worker, client=other)
    make.task(person.agency, worker, client=None)
    assert feed(person, worker).entries == []


def test_it_shows_a_completed_task_twice_when_made_and_when_done(person, worker):
    done = make.task(
        person.agency,
        worker,
        client=person,
        created=make.at(day(1)),
        status="done",
        completed_at=make.at(day(3)),
        completed_by=worker.user,
    )
    assert keys(feed(person, worker)) == [("task_done", done.pk), ("task", done.pk)]


# --- Filters ---------------------------------------------------------------------------------


def test_it_filters_by_kind(person, worker):
    _program, rows = a_bit_of_everything(person, worker)
    page = feed(person, worker, kinds=["notes", "safety"])
    assert keys(page) == [
        ("flag_removed", rows["flag_removed"].pk),
        ("note", rows["note"].pk),
        ("flag_added", rows["flag_added"].pk),
    ]


def test_it_filters_by_program(person, worker):
    program, rows = a_bit_of_everything(person, worker)
    other = make.a_program(person.agency, "Youth")
    make.note(person, worker, day(11), program=other)
    assert keys(feed(person, worker, program=program)) == [
        ("note", rows["note"].pk),
        ("service", rows["service"].pk),
        ("enrolment_end", rows["enrolment"].pk),
        ("enrolment", rows["enrolment"].pk),
    ]


def test_it_filters_by_staff_member(agency, person, worker):
    colleague = make_member(agency, "Caseworker")
    mine = make.note(person, worker, day(1))
    make.note(person, colleague, day(2))
    given_to_me = make.task(agency, colleague, client=person, assigned_to=worker, created=make.at(day(3)))
    make.task(agency, colleague, client=person, created=make.at(day(4)))
    flag = make.safety_flag(person, worker.user, make.at(day(5)))
    assert keys(feed(person, worker, staff=worker)) == [("flag_added", flag.pk), ("task", given_to_me.pk), ("note", mine.pk)]


# --- Cursor pagination -----------------------------------------------------------------------


def walk(client, membership, page_size, **options):
    seen, cursor, pages = [], None, 0
    while True:
        page = feed(client, membership, page_size=page_size, cursor=cursor, **options)
        seen += keys(page)
        pages += 1
        assert len(page.entries) <= page_size
        if page.next_cursor is None:
            return seen, pages
        assert len(page.entries) == page_size
        cursor = history.Cursor.parse(str(page.next_cursor))


def test_pages_follow_one_another_without_a_gap_or_a_repeat(person, worker):
    _program, _rows = a_bit_of_everything(person, worker)
    # Ties everywhere: same day, same recording time, several sources.
    same = make.at(day(5))
    for _ in range(3):
        make.note(person, worker, day(5), created=same)
        make.communication(person, worker, day(5), created=same)
        make.task(person.agency, worker, client=person, created=same)
    everything = keys(feed(person, worker, page_size=100))
    assert len(everything) == len(set(everything)) == 20
    for size in (1, 2, 3, 7, 19, 20):
        seen, pages = walk(person, worker, size)
        assert seen == everything
        assert pages == -(-20 // size)


def test_a_cursor_survives_its_text_form():
    cursor = history.Cursor(day(1), timezone.now(), "service_referral", 12)
    assert history.Cursor.parse(str(cursor)) == cursor


@pytest.mark.parametrize(
    "text",
    ["", "x", "2025-03-03.1.note", "2025-13-03.1.note.1", "2025-03-03.-1.note.1", "9999-12-31.1.note.1", "2025-03-03.1.Note!.1"],
)
def test_a_garbled_cursor_is_refused(text):
    with pytest.raises(ValueError):
        history.Cursor.parse(text)


# --- The private rule and deleted rows ----------------------------------------------------


def test_a_private_note_shows_to_its_author_and_their_manager_only(client, agency, person):
    boss = make_member(agency, "Manager")
    author = make_member(agency, "Caseworker", manager=boss)
    colleague = make_member(agency, "Caseworker")
    administrator = make_member(agency, "Administrator")
    make.note(person, author, day(1), body="Disclosed a private matter.", is_private=True)
    for member, shown in ((author, True), (boss, True), (colleague, False), (administrator, False)):
        client.force_login(member.user)
        html = client.get(url(person)).content.decode()
        assert ("Disclosed a private matter." in html) is shown, member.role.name


def test_a_deleted_record_is_gone_from_the_history(person, worker):
    make.note(person, worker, day(1), deleted_at=timezone.now())
    make.communication(person, worker, day(1), deleted_at=timezone.now())
    make.task(person.agency, worker, client=person, deleted_at=timezone.now())
    kept = make.note(person, worker, day(2))
    assert keys(feed(person, worker)) == [("note", kept.pk)]


# --- The page ------------------------------------------------------------------------------


def test_the_history_tab_shows_the_feed_in_the_client_frame(client, person, worker):
    a_bit_of_everything(person, worker)
    client.force_login(worker.user)
    response = client.get(url(person))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{url(person)}" aria-current="page"' in html
    for text in (
        "General note",
        "Called about the job fair",
        "Transportation",
        "Referred to Employment Services",
        "Food Bank North",
        "Enrolled in Employment Services",
    ):
        assert text in html, text
    assert "That is everything recorded for this client." in html


def test_opening_the_history_is_audited_once_not_per_page(client, person, worker):
    for n in range(history.PAGE_SIZE + 1):
        make.note(person, worker, day(n % 3))
    client.force_login(worker.user)
    first = client.get(url(person))
    assert first.status_code == 200
    with agency_scope(person.agency):
        views = AuditEvent.objects.for_agency(person.agency).filter(action="view", client_id=person.pk, actor=worker.user)
        assert views.count() == 1
    assert client.get(first.context["next_url"]).status_code == 200
    with agency_scope(person.agency):
        assert views.count() == 1


def test_older_entries_come_as_an_htmx_fragment(client, person, worker):
    for n in range(history.PAGE_SIZE + 3):
        make.communication(person, worker, day(n % 4), subject=f"Call number {n}")
    client.force_login(worker.user)
    first = client.get(url(person))
    assert first.context["next_url"]
    more = client.get(first.context["next_url"], headers={"HX-Request": "true", "HX-Target": "history-more"})
    html = more.content.decode()
    assert "<html" not in html
    assert html.count('class="history-entry"') == 3
    assert "That is everything recorded for this client." in html
    # The day the first page ended on carries on without a second heading.
    assert "history-day-title" not in html


def test_a_filter_change_answers_htmx_with_the_results(client, person, worker):
    make.note(person, worker, day(1))
    make.communication(person, worker, day(2))
    client.force_login(worker.user)
    response = client.get(url(person), {"kind": "notes"}, headers={"HX-Request": "true", "HX-Target": "history-results"})
    html = response.content.decode()
    assert html.strip().startswith('<section class="history-results" id="history-results"')
    assert "General note" in html and "Called about the job fair" not in html


def test_bad_filters_are_named_and_ignored(client, agency, other_agency, person, worker):
    foreign = make.a_program(other_agency, "Elsewhere")
    make.note(person, worker, day(1))
    client.force_login(worker.user)
    response = client.get(url(person), {"program": foreign.pk, "staff": "nobody", "kind": "gossip", "cursor": "garbage"})
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"program", "staff", "kind", "cursor"}
    html = response.content.decode()
    assert "General note" in html
    assert "not valid any more" in html


def test_an_empty_history_says_so(client, person, worker):
    client.force_login(worker.user)
    assert "Nothing recorded yet" in client.get(url(person)).content.decode()
    assert "Nothing matches these filters" in client.get(url(person), {"kind": "notes"}).content.decode()


def test_another_agencys_client_is_not_found(client, other_agency, worker):
    stranger = make.a_client(other_agency)
    client.force_login(worker.user)
    assert client.get(url(stranger)).status_code == 404


def test_a_member_without_casework_view_is_refused(client, agency, person):
    front_desk = make_member(agency, "Front desk")
    client.force_login(front_desk.user)
    assert client.get(url(person)).status_code == 403


def test_the_history_tab_is_listed_with_the_client_tabs(client, person, worker):
    client.force_login(worker.user)
    html = client.get(reverse("clients:detail", args=[person.pk])).content.decode()
    assert f'href="{url(person)}"' in html


# --- Constant number of queries ---------------------------------------------------------------


def fill(client, worker, program, n: int):
    """``n`` rows of each kind (and one of the single ones), spread over a few days."""
    for i in range(n):
        make.note(client, worker, day(i % 5), program=program, is_private=i % 3 == 0)
        make.communication(client, worker, day(i % 5), program=program)
        make.service(client, worker, day(i % 5), program=program)
        make.service_referral(client, worker, day(i % 5), to_program=program)
        make.task(client.agency, worker, client=client, created=make.at(day(i % 5), 9, i % 60), program=program)
        make.agency_referral(client, worker.user, make.at(day(i % 5)))
        make.enrolment(client, program, day(i % 5), end=day(6), user=worker.user)


def count_queries(callable_) -> int:
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


def test_the_feed_runs_at_most_two_queries_per_source_whatever_the_number_of_rows(agency, person, worker):
    program = make.a_program(agency)
    make.assignment(person, worker, make.at(day(1)), by=worker.user)
    make.safety_flag(person, worker.user, make.at(day(1)), removed=make.at(day(2)))

    middle = history.Cursor(day(3), make.at(day(3), 10), "note", 10**9)
    # Entering the agency's scope costs its own query on PostgreSQL (row-level security).
    scope = count_queries(lambda: feed(person, worker, kinds=["staff"])) - 2  # its one source: keys, then the row

    def read():
        most = 0
        for options in ({}, {"program": program}, {"staff": worker}, {"kinds": ["notes", "tasks"]}):
            for cursor in (None, middle):
                with CaptureQueriesContext(connection) as queries:
                    page = feed(person, worker, page_size=10, cursor=cursor, **options)
                assert [entry.shown.url for entry in page.entries]
                most = max(most, len(queries))
        return most

    fill(person, worker, program, 3)
    assert read() <= scope + 2 * len(history.SOURCES)
    fill(person, worker, program, 100)
    assert read() <= scope + 2 * len(history.SOURCES)
    # Each source's keys, then the rows of the page of the sources that made it (none reads its rows twice).
    with CaptureQueriesContext(connection) as queries:
        page = feed(person, worker)
    shown_sources = {entry.source.key for entry in page.entries}
    assert len(queries) == scope + len(history.SOURCES) + len(shown_sources)


def test_the_page_runs_no_more_queries_for_300_rows_than_for_3(client, agency, person, worker):
    program = make.a_program(agency)
    fill(person, worker, program, 1)
    client.force_login(worker.user)
    client.get(url(person))  # warm the caches: content types, session, agency
    with CaptureQueriesContext(connection) as first:
        assert client.get(url(person)).status_code == 200
    fill(person, worker, program, 43)  # 300 rows, and more of them than one page
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(person))
    assert len(many) <= len(first)
    assert len(response.context["groups"]) >= 1
    with CaptureQueriesContext(connection) as next_page:
        client.get(response.context["next_url"])
    assert len(next_page) <= len(first) - 1  # the next page: no audit event


def test_only_the_rows_shown_are_read_whole(agency, person, worker, monkeypatch):
    """The sources' keys are read for a page and one more row each; whole rows only for the page."""
    program = make.a_program(agency)
    fill(person, worker, program, 20)
    built = []
    entry = history._entry
    monkeypatch.setattr(history, "_entry", lambda source, row, zone: built.append(row.pk) or entry(source, row, zone))
    page = feed(person, worker, page_size=10)
    assert len(page.entries) == 10
    assert sorted(built) == sorted(entry.row.pk for entry in page.entries)


# --- Pagination, for any mix of rows ---------------------------------------------------------

NUMBERS = itertools.count()
ROW_MAKERS = {
    "note": lambda client, worker, d, t: make.note(client, worker, day(d), created=make.at(day(t), 10)),
    "communication": lambda client, worker, d, t: make.communication(client, worker, day(d), created=make.at(day(t), 10)),
    "task": lambda client, worker, d, t: make.task(client.agency, worker, client=client, created=make.at(day(d), 10 + t)),
    "flag_added": lambda client, worker, d, t: make.safety_flag(
        client, worker.user, make.at(day(d), 10 + t), removed=make.at(day(d), 23)
    ),
    "enrolment": lambda client, worker, d, t: make.enrolment(
        client, make.a_program(client.agency, f"Program {next(NUMBERS)}"), day(d), end=day(d + t)
    ),
}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(st.sampled_from(sorted(ROW_MAKERS)), st.integers(0, 2), st.integers(0, 2)), min_size=0, max_size=14),
    page_size=st.integers(1, 6),
)
def test_any_mix_of_rows_pages_through_in_order_without_gaps_or_repeats(person, worker, rows, page_size):
    with rolled_back():
        for source, d, t in rows:
            ROW_MAKERS[source](person, worker, d, t)
        everything = feed(person, worker, page_size=100).entries
        assert [entry.key for entry in everything] == sorted((entry.key for entry in everything), reverse=True)
        seen, pages = walk(person, worker, page_size)
        assert seen == [(entry.source.key, entry.row.pk) for entry in everything]
        assert pages == max(1, -(-len(everything) // page_size))


def test_the_ids_of_a_page_are_padded_to_a_power_of_two_so_their_statements_repeat():
    for n in range(1, 70):
        ids = list(range(100, 100 + n))
        padded = history.padded(ids)
        assert set(padded) == set(ids) and padded[:n] == ids
        assert len(padded) & (len(padded) - 1) == 0 and len(padded) < 2 * n
    assert history.padded([]) == []
