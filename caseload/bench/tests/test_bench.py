"""The benchmark runs every scenario end to end on a tiny data set (timings are never asserted; query counts are)."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from axes.models import AccessLog
from django.contrib.sessions.models import Session
from django.core.management import call_command

from caseload.audit.models import AuditEvent
from caseload.bench import data, growth, load
from caseload.bench.timing import Figure
from caseload.casework import history as casework_history
from caseload.casework.models import CaseNote, Communication, SupportiveService, Task
from caseload.clients.models import Assignment, Client
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import all_agencies

FIGURE_KEYS = set(Figure(scenario="x").as_dict())
RESULT_KEYS = {
    "when",
    "commit",
    "database",
    "database_version",
    "machine",
    "clients",
    "data_set",
    "scenarios",
    "repeat",
    "warmup",
    "figures",
}


def bench(tmp_path, name="bench.json", **options) -> tuple[dict, str]:
    out = StringIO()
    output = tmp_path / name
    settings = {"clients": 50, "repeat": 2, "warmup": 1, "import_rows": 40, "messages": 30, "load_seconds": 2, "load_users": 2}
    call_command("bench", output=str(output), stdout=out, **{**settings, **options})
    return json.loads(output.read_text()), out.getvalue()


# Transactional: the outbox workers and gunicorn are other processes, which see only committed rows.
@pytest.mark.django_db(transaction=True)
def test_every_scenario_runs_once_on_a_tiny_data_set_and_the_json_has_every_figure(tmp_path):
    result, printed = bench(tmp_path)

    assert set(result) == RESULT_KEYS
    assert result["clients"] == 50
    assert result["database"] in {"sqlite", "postgresql"} and result["database_version"]
    assert result["machine"]["cpus"] >= 1
    assert result["scenarios"] == ["search", "pages", "history", "export", "import", "outbox", "load"]
    figures = {figure["scenario"]: figure for figure in result["figures"]}
    for figure in figures.values():
        assert set(figure) == FIGURE_KEYS
    ran = {name for name, figure in figures.items() if not figure["skipped"]}
    assert {"search: misspelt name", "search: phone", "search: date of birth"} <= ran
    for name in ("search: misspelt name", "search: phone", "search: date of birth"):
        assert figures[name]["repetitions"] == 2 and figures[name]["floor_median_ms"] > 0
        assert figures[name]["rows"] >= 1, name  # every sample query finds its client
        # The floor holds every statement the search sends; the first alone is kept for comparison.
        assert figures[name]["extra"]["first_statement_median_ms"] > 0
    # The pages answer with few queries, the same at any size (issue 7: at most 15).
    assert figures["page: client profile"]["queries"] <= 15
    assert figures["page: dashboard"]["queries"] <= 15
    assert figures["page: bare view (floor)"]["queries"] < figures["page: client profile"]["queries"]
    history = figures["page: history feed (1,000 records)"]
    # The page's own dozen (session, agency, client, filters, audit, tabs), then at most two per source of the feed.
    assert history["skipped"] or history["queries"] <= 12 + 2 * len(casework_history.SOURCES)
    exports = [figure for name, figure in figures.items() if name.startswith("export:")]
    assert len(exports) == 2 or exports[0]["skipped"]
    for figure in exports:
        if not figure["skipped"]:
            assert figure["rows"] == figure["extra"]["floor_rows"] > 0 and figure["peak_memory_kb"] > 0
    assert figures["import: 40 clients"]["extra"]["imported"] == 40
    assert figures["outbox: 30 emails, 1 worker"]["errors"] == 0
    two = figures["outbox: 30 emails, 2 workers"]
    assert two["skipped"] or two["errors"] == 0
    # Its floor ran with two workers too, and how much they gained over one is kept beside the outbox's own gain.
    assert two["skipped"] or (two["floor_median_ms"] > 0 and two["extra"]["floor_speed_up"] > 0 and two["extra"]["speed_up"] > 0)
    mix = figures["load: HTTP mix under gunicorn (2 workers)"]
    assert mix["skipped"] or (mix["errors"] == 0 and mix["repetitions"] > 0)
    if not mix["skipped"]:
        assert mix["extra"]["tool"] == ("wrk" if shutil.which("wrk") else "locust")
        # Every kind of request of the mix was sent, case notes saved (the POST with its CSRF token) among them.
        assert {"search: name", "search: phone", "client profile", "dashboard", "note save"} <= set(mix["extra"]["requests"])
    assert "search: misspelt name" in printed and "Written:" in printed
    # What the import and the outbox wrote is gone again: the data set keeps its size.
    with all_agencies():
        assert Client.objects.count() == 50
        assert not OutboundMessage.objects.filter(kind="bench").exists()
        # Nor is what the pages and the load add as they go: audited reads, case notes, log-ins and sessions.
        assert CaseNote.objects.count() == result["data_set"]["case_notes"]
        assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()
        assert not Session.objects.exists() and not AccessLog.objects.exists()


@pytest.mark.django_db
def test_the_data_set_has_casework_in_proportion_and_a_client_with_1000_records():
    dataset = data.build(40)
    counts = dataset.counts
    assert counts["clients"] == 40 and counts["staff"] == 20 and counts["programs"] == 6
    history = data.history_client(dataset.agency)
    with all_agencies():
        records = sum(
            model.objects.filter(client=history).count() for model in (CaseNote, Communication, Task, SupportiveService)
        )
        assert 1000 <= records <= 1050  # and the few of the demo seeding
        others = CaseNote.objects.exclude(client=history).count() / 39
        assert 10 <= others <= 30  # about 20 notes a client
        assert CaseNote.objects.filter(is_private=True).exists() and CaseNote.objects.filter(status="draft").exists()
        assert Communication.objects.filter(kind="reminder", status="scheduled").exists()
        assert Task.objects.exclude(client=history).count() / 39 >= 2


@pytest.mark.django_db
def test_the_caseworkers_grow_with_the_clients(monkeypatch):
    # One caseworker per CLIENTS_PER_CASEWORKER clients beyond the fifteen: 40 clients at 2 a caseworker
    # make twenty caseworkers, five of them generated; every client is assigned to one of them.
    monkeypatch.setattr(data, "CLIENTS_PER_CASEWORKER", 2)
    dataset = data.build(40)
    assert dataset.counts["staff"] == 25
    with all_agencies():
        caseworkers = Membership.objects.filter(agency=dataset.agency, role__name="Caseworker")
        assert caseworkers.count() == 20
        assert caseworkers.filter(user__email="caseworker20@northside.example.org").exists()
        assert len(set(caseworkers.values_list("user__full_name", flat=True))) == 20
        primary = Assignment.objects.filter(agency=dataset.agency, is_primary=True)
        assert primary.values("staff").distinct().count() == 20
    # A second build at the same size adds nobody.
    assert data.build(40).counts["staff"] == 25


@pytest.mark.django_db
def test_a_second_run_at_the_same_size_reuses_the_data_set(tmp_path):
    first, _ = bench(tmp_path, "first.json", clients=45, scenarios="search")
    second, _ = bench(tmp_path, "second.json", clients=45, scenarios="search")
    assert first["data_set"]["built"] is True
    assert second["data_set"]["built"] is False
    assert second["clients"] == 45
    assert {k: v for k, v in second["data_set"].items() if k not in ("seconds", "built")} == {
        k: v for k, v in first["data_set"].items() if k not in ("seconds", "built")
    }


@pytest.mark.django_db
def test_an_unknown_scenario_is_refused(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nope"):
        bench(tmp_path, scenarios="search,nope")


def test_growth_flags_a_figure_growing_worse_than_the_log_of_the_size():
    def run(size, search_ms, profile_ms, queries):
        return {
            "clients": size,
            "figures": [
                {
                    "scenario": "search: phone",
                    "median_ms": search_ms,
                    "rate_unit": "",
                    "queries": None,
                    "peak_memory_kb": None,
                    "skipped": "",
                },
                {
                    "scenario": "page: client profile",
                    "median_ms": profile_ms,
                    "rate_unit": "",
                    "queries": queries,
                    "peak_memory_kb": None,
                    "skipped": "",
                },
            ],
        }

    text, flagged = growth.growth_table([run(10_000, 5.0, 20.0, 13), run(100_000, 5.5, 60.0, 13), run(1_000_000, 6.0, 70.0, 14)])
    assert "search: phone" in text and "10,000" in text
    assert any(line.startswith("page: client profile (median ms): 20.00 -> 60.00") for line in flagged)
    assert any(line.startswith("page: client profile (queries)") for line in flagged)
    assert not any(line.startswith("search: phone") for line in flagged)


def test_the_load_configuration_reaches_wrk_as_a_lua_table():
    """Names with quotes, backslashes and any script go through to wrk's script unchanged."""
    text = load.lua({"names": ['O"Brien', "back\\slash", "two\nlines", "سعد"], "count": 3, "on": True})
    assert text == '{["names"] = {"O\\"Brien", "back\\\\slash", "two\\nlines", "سعد"}, ["count"] = 3, ["on"] = true}'


def test_generated_clients_have_a_phone_number_of_their_own():
    from caseload.clients.matching import normalise_phone
    from caseload.tenancy import demo

    # The demo's first 10,000 keep the fictional 555 exchange they always had.
    assert [demo.demo_phone(i) for i in (0, 1, 9999)] == ["+14165550000", "+14165550001", "+14165559999"]
    sample = [demo.demo_phone(i) for i in sorted({*range(0, 1_000_000, 7), 999_999})]
    assert len(set(sample)) == len(sample)  # no two clients of a million share one
    assert all(normalise_phone(number) == number for number in sample[::997])  # valid numbers, in E.164 form


@pytest.mark.django_db
def test_a_data_set_built_with_the_old_numbers_gets_the_new_ones_in_place(monkeypatch):
    from caseload.tenancy import demo

    monkeypatch.setattr(demo, "PHONE_BLOCK", 10)
    dataset = data.build(40)
    with all_agencies():
        clients = Client.objects.filter(agency=dataset.agency).exclude(phone="")
        # As sets were built before: the 555 exchange's numbers over and over (here every 10 clients).
        for client in clients:
            client.phone = f"+1416555{(client.client_number - 1) % 10:04d}"
            client.save(update_fields=["phone"])
        assert clients.values("phone").distinct().count() <= 10 < clients.count()
        data.build(40)
        numbers = dict(clients.values_list("client_number", "phone"))
        assert numbers == {number: demo.demo_phone(number - 1) for number in numbers}
        assert Client.objects.filter(agency=dataset.agency, phone="").exists()  # those without a number still have none


@pytest.mark.django_db
def test_a_run_removes_what_it_added_for_its_agency_and_nothing_of_another():
    import datetime as dt

    from django.test import Client as WebClient

    from caseload.audit.actions import record
    from caseload.bench.scenarios import data_set_kept
    from caseload.casework.tests.history_helpers import a_client, note
    from caseload.testing.factories import make_agency, make_member

    bench, other = make_agency(), make_agency()
    worker, neighbour = make_member(bench), make_member(other)
    kept_note = note(a_client(bench), worker, dt.date(2026, 1, 5))
    day = dt.date(2026, 11, 2)

    def activity(member):
        """What a page or the load leaves: a note, an audited read, a log-in (session and access record)."""
        client = a_client(member.agency, given="Leila")
        written = note(client, member, day)
        record(agency=member.agency, actor=member.user, action=AuditEvent.Action.VIEW, obj=client)
        WebClient().force_login(member.user)  # a session, and django-axes's record of the log-in
        return written

    with data_set_kept(bench):
        mine, theirs = activity(worker), activity(neighbour)

    with all_agencies():
        notes = set(CaseNote.objects.values_list("pk", flat=True))
        assert kept_note.pk in notes and theirs.pk in notes and mine.pk not in notes
        views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW)
        assert list(views.values_list("agency_id", flat=True)) == [other.pk]
    assert list(AccessLog.objects.values_list("username", flat=True)) == [neighbour.user.email]
    assert [session.get_decoded()["_auth_user_id"] for session in Session.objects.all()] == [str(neighbour.user.pk)]
