"""The benchmark's scenarios, each measured beside a floor taken in the same run on the same data.

| scenario | what is timed | floor |
| --- | --- | --- |
| search (3) | ``search_clients`` by a misspelt name, a phone, a date of birth | the statements the search sends, as raw SQL through the driver |
| pages | the client profile and the staff dashboard through the whole request stack, logged in | a bare view through the same stack |
| history | the history feed of the client with 1,000 records | the same bare view |
| export | CSV export of all case notes of a program, at two sizes: rows/s and peak memory | the same rows as raw SQL through the driver into ``csv.writer`` |
| import | a 10,000-row client file: read, check, de-duplicate, import | the same clients and search keys inserted bare |
| outbox | 10,000 emails sent through a backend that discards them, one worker and two | one bare UPDATE per message (the claim), by as many workers |
| load | gunicorn under locust (``load.py``) | the bare view under the same load |

A feature still being built (a URL name not there yet) gives a figure with ``skipped`` set,
never an error. Scenarios that write (import, outbox) remove what they wrote, so the data set
keeps its size from one run to the next.
"""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlencode

import phonenumbers
from axes.models import AccessLog
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.db.models import Max, Q, QuerySet
from django.test import Client as WebClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.bench import data
from caseload.bench.timing import Figure, figure_of, time_calls, timed_beside_floor
from caseload.casework.models import CaseNote
from caseload.clients import matching
from caseload.clients.models import Client, ClientImport, ClientPhone, ClientSearchKey
from caseload.clients.queries import (
    birth_search_statement,
    name_search_statement,
    phone_search_statement,
    search_clients,
    shown_clients_statement,
)
from caseload.tenancy.models import Agency, Membership
from caseload.tenancy.scoping import agency_scope, all_agencies

SAMPLES = 25
LETTERS = "abcdefghijklmnopqrstuvwxyz"
BENCH_URLCONF = "caseload.bench.urls"
FLOOR_PATH = "/bench/floor/"
# Who the page scenarios log in as: a caseworker, the most common user.
PAGE_USER = f"caseworker1@{data.SPEC.domain}"
ADMIN_USER = f"admin@{data.SPEC.domain}"
IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
NULL_EMAIL = "caseload.bench.backends.NullEmailBackend"


@dataclass
class Context:
    """What every scenario gets: the data set's agency and the run's settings."""

    agency: Agency
    repeat: int
    warmup: int
    import_rows: int = 10_000
    outbox_messages: int = 10_000
    load_seconds: float = 20.0
    load_users: int = 20
    load_tool: str = "auto"
    log: Callable[[str], None] = lambda _line: None


# --- Search -------------------------------------------------------------------------------------


def raw_sql(queryset: QuerySet | tuple[str, list]) -> Callable[[], int]:
    """The queryset's own SQL (or a statement), sent through the driver's cursor: the floor of that query."""
    sql, params = queryset if isinstance(queryset, tuple) else queryset.query.sql_with_params()

    def run() -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return len(cursor.fetchall())

    return run


def typo(name: str, rng: random.Random) -> str:
    """``name`` with one letter of its longest word changed, dropped or added (a misspelling)."""
    words = name.split(" ")
    longest = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[longest]
    i = rng.randrange(1, len(word)) if len(word) > 1 else 0
    edit = rng.choice(["substitute", "insert", "delete"]) if len(word) > 3 else "insert"
    letter = rng.choice(LETTERS)
    if edit == "substitute":
        word = word[:i] + letter + word[i + 1 :]
    elif edit == "insert":
        word = word[:i] + letter + word[i:]
    else:
        word = word[:i] + word[i + 1 :]
    words[longest] = word
    return " ".join(words)


def national(e164: str) -> str:
    number = phonenumbers.parse(e164, "CA")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def sample_clients(agency: Agency, count: int, seed: int = 7, **filters) -> list[Client]:
    """``count`` clients spread over the agency (by client number), meeting ``filters``."""
    clients = Client.objects.for_agency(agency).filter(agency=agency, status=Client.Status.ACTIVE, is_anonymous=False, **filters)
    top = clients.order_by("-client_number").values_list("client_number", flat=True).first() or 0
    rng = random.Random(seed)
    numbers = sorted({rng.randint(1, top) for _ in range(count * 4)}) if top else []
    found = list(clients.filter(client_number__in=numbers).order_by("client_number")[:count])
    return found or list(clients.order_by("pk")[:count])


Statement = QuerySet | tuple[str, list]


def _shown(agency: Agency, text: str) -> tuple[str, list]:
    """The statement loading the clients a name search shows for ``text``."""
    return shown_clients_statement(agency, [match.client.pk for match in search_clients(agency, text)])


def search_cases(agency: Agency) -> dict[str, tuple[list[str], Callable[[str], list[Statement]]]]:
    """Per search scenario: the sample queries, and the statements search sends for each (its floor)."""
    rng = random.Random(2026)
    named = [c for c in sample_clients(agency, SAMPLES * 2) if matching.tokens(c.given_name) and matching.tokens(c.family_name)]
    names = [typo(f"{c.given_name} {c.family_name}", rng) for c in named[:SAMPLES]]
    phones = [
        national(c.phone) for c in sample_clients(agency, SAMPLES, phone__startswith="+1") if matching.normalise_phone(c.phone)
    ]
    births = [c.date_of_birth.isoformat() for c in sample_clients(agency, SAMPLES, date_of_birth__isnull=False)]
    return {
        # Name search sends two statements: the candidates (the search-key lookup a subquery, with the names
        # ranking reads), then the clients shown, whole. Phone search: its candidates, whole (the number theirs or
        # an additional one of theirs). Date of birth: the candidates' fields, then the clients shown.
        "search: misspelt name": (names, lambda text: [name_search_statement(agency, text), _shown(agency, text)]),
        "search: phone": (phones, lambda text: [phone_search_statement(agency, matching.normalise_phone(text))]),
        "search: date of birth": (
            births,
            lambda text: [birth_search_statement(agency, date.fromisoformat(text)), _shown(agency, text)],
        ),
    }


def raw_statements(statements: list[Statement]) -> Callable[[], int]:
    """Every statement through the driver's cursor, one after the other: the floor of a search."""
    runs = [raw_sql(statement) for statement in statements]
    return lambda: sum(run() for run in runs)


def bench_search(ctx: Context) -> list[Figure]:
    agency = ctx.agency
    figures = []
    for name, (samples, candidates) in search_cases(agency).items():
        if not samples:
            figures.append(Figure(scenario=name, skipped="no sample clients"))
            continue
        searches = [lambda text=text: search_clients(agency, text) for text in samples]
        statements = [candidates(text) for text in samples]
        floors = [raw_statements(each) for each in statements]
        figure = timed_beside_floor(name, searches, floors, ctx.repeat, ctx.warmup)
        # The first statement alone (the candidates), for comparison with runs before the floor held them all.
        first = figure_of(name, time_calls([raw_sql(each[0]) for each in statements], ctx.repeat // 2, ctx.warmup), [])
        figure.extra["first_statement_median_ms"] = first.median_ms
        figure.extra["ratio_to_first_statement"] = round(figure.median_ms / first.median_ms, 2) if first.median_ms else None
        figure.rows = round(statistics.mean(len(search_clients(agency, text)) for text in samples), 1)
        figure.samples = samples[:5]
        figures.append(figure)
    return figures


# --- Pages through the request stack ------------------------------------------------------------


def logged_in(email: str) -> WebClient:
    web = WebClient()
    web.force_login(User.objects.get(email=email))
    return web


def _get(web: WebClient, url: str) -> Callable[[], int]:
    def run() -> int:
        response = web.get(url)
        if response.status_code != 200:
            raise AssertionError(f"GET {url} answered {response.status_code}")
        return len(response.content)

    return run


def count_queries(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured)


def page_figure(
    name: str, web: WebClient, urls: list[str], floor: Callable[[], object], ctx: Context, repeat: int | None = None
) -> Figure:
    calls = [_get(web, url) for url in urls]
    figure = timed_beside_floor(name, calls, [floor], repeat or ctx.repeat, ctx.warmup)
    figure.queries = count_queries(calls[0])
    figure.samples = urls[:3]
    return figure


def bench_pages(ctx: Context) -> list[Figure]:
    """The client profile and the dashboard, as a caseworker, beside a bare view through the same stack."""
    agency = ctx.agency
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        web = logged_in(PAGE_USER)
        floor = _get(web, FLOOR_PATH)
        profiles = [reverse("clients:detail", args=[c.pk]) for c in sample_clients(agency, SAMPLES)]
        figures = [
            page_figure("page: client profile", web, profiles, floor, ctx),
            page_figure("page: dashboard", web, [reverse("web:dashboard")], floor, ctx),
        ]
        figures.append(_floor_figure(web, floor, ctx))
    return figures


def _floor_figure(web: WebClient, floor: Callable[[], object], ctx: Context) -> Figure:
    figure = figure_of("page: bare view (floor)", time_calls([floor], ctx.repeat, ctx.warmup), [])
    figure.queries = count_queries(floor)
    return figure


def bench_history(ctx: Context) -> list[Figure]:
    """The history feed of the client with 1,000 records (paginated), beside the bare view."""
    name = "page: history feed (1,000 records)"
    client = data.history_client(ctx.agency)
    if client is None:
        return [Figure(scenario=name, skipped="no history client in the data set")]
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        try:
            url = reverse("casework:history", args=[client.pk])
        except NoReverseMatch:
            return [Figure(scenario=name, skipped="not available: no casework:history URL yet")]
        web = logged_in(PAGE_USER)
        figure = page_figure(name, web, [url], _get(web, FLOOR_PATH), ctx)
    figure.extra["records"] = sum(data.HISTORY_RECORDS.values())
    return [figure]


# --- CSV export -----------------------------------------------------------------------------------


EXPORT_USER = f"manager@{data.SPEC.domain}"  # a manager: casework.export, and their team's private notes


def _export_range(agency: Agency) -> tuple[str, str]:
    """All the data set's dates (three years back, a little ahead for reminders)."""
    today = timezone.localdate()
    return (today - timedelta(days=data.YEARS * 365 + 1)).isoformat(), (today + timedelta(days=90)).isoformat()


def _stream(web: WebClient, url: str) -> tuple[int, int]:
    """GET a streamed download and read it through; (data lines, bytes)."""
    response = web.get(url)
    if response.status_code != 200:
        raise AssertionError(f"GET {url} answered {response.status_code}")
    lines = size = 0
    chunks = response.streaming_content if response.streaming else [response.content]
    for chunk in chunks:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return lines - 1, size  # less the header


def _export_floor(agency: Agency, program, start: str, end: str) -> Callable[[], int]:
    """The export's own query (the same rows and columns) through a server-side cursor into csv.writer."""
    from caseload.casework.exports import REPORTS, Export
    from caseload.casework.records import membership_of

    manager = User.objects.get(email=EXPORT_USER)
    report = REPORTS["case-notes"]
    export = Export(
        report=report,
        agency=agency,
        membership=membership_of(agency, manager),
        start=date.fromisoformat(start),
        end=date.fromisoformat(end),
        program=program,
    )
    sql, params = export.queryset().values_list(*report.paths).query.sql_with_params()

    def run() -> int:
        writer = csv.writer(io.StringIO())
        rows = 0
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(2000):
                for row in batch:
                    writer.writerow(row)
                rows += len(batch)
                writer = csv.writer(io.StringIO())
        return rows

    return run


def bench_export(ctx: Context) -> list[Figure]:
    """Every case note of a program as CSV (the casework export download, streamed, through the request
    stack), at two sizes: rows/s, and the peak Python memory of the whole stream (tracemalloc)."""
    with override_settings(ROOT_URLCONF=BENCH_URLCONF):
        try:
            base = reverse("casework:export_download")
        except NoReverseMatch:
            return [
                Figure(scenario="export: case notes of a program", skipped="not available: no casework:export_download URL yet")
            ]
    start, end = _export_range(ctx.agency)
    web = logged_in(EXPORT_USER)
    figures = []
    for program in data.export_programs(ctx.agency):
        name = f"export: case notes, {program.name}"
        url = (
            base
            + "?"
            + urlencode({"report": "case-notes", "date_from": start, "date_to": end, "program": program.pk, "file_format": "csv"})
        )
        floor = _export_floor(ctx.agency, program, start, end)
        # Long runs: a warm-up and a few repetitions at most.
        timed: list[float] = []
        floors: list[float] = []
        rows = size = 0
        for rep in range(min(3, ctx.repeat) + 1):
            began = time.perf_counter()
            rows, size = _stream(web, url)
            elapsed = (time.perf_counter() - began) * 1000
            began = time.perf_counter()
            floor_rows = floor()
            floor_elapsed = (time.perf_counter() - began) * 1000
            if rep or ctx.warmup == 0:
                timed.append(elapsed)
                floors.append(floor_elapsed)
        tracemalloc.start()
        _stream(web, url)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        figure = figure_of(name, timed, floors)
        figure.rows = rows
        figure.rate = round(rows / (figure.median_ms / 1000), 1) if rows and figure.median_ms else 0.0
        figure.rate_unit = "rows/s"
        figure.peak_memory_kb = round(peak / 1024, 1)
        figure.extra.update({"bytes": size, "floor_rows": floor_rows, "program": program.name})
        figures.append(figure)
    if len(figures) == 2 and figures[0].rows and figures[0].peak_memory_kb:
        # Flat memory: the larger export's peak over the smaller's, beside how many more rows it streamed.
        figures[1].extra["rows_growth"] = round(figures[1].rows / figures[0].rows, 1)
        figures[1].extra["memory_growth"] = round(figures[1].peak_memory_kb / figures[0].peak_memory_kb, 2)
    return figures


# --- Client import ---------------------------------------------------------------------------------


def import_file(rows: int, seed: int) -> bytes:
    """A client file of ``rows`` new people (multilingual names, own phones and emails), as the template reads."""
    fake = data.demo._faker()
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "given_name",
            "family_name",
            "date_of_birth",
            "gender",
            "email",
            "phone",
            "city",
            "preferred_language",
            "spoken_languages",
        ]
    )
    for i in range(rows):
        locale = data.demo.FAKER_LOCALES[i % len(data.demo.FAKER_LOCALES)]
        born = timezone.localdate().replace(
            year=timezone.localdate().year - rng.randint(18, 70), month=rng.randint(1, 12), day=rng.randint(1, 28)
        )
        writer.writerow(
            [
                fake[locale].first_name(),
                fake[locale].last_name(),
                born.isoformat(),
                rng.choice(["Woman", "Man", "Non-binary", ""]),
                f"import{seed}.{i}@example.org",
                f"(647) 2{i // 10000 % 100:02d}-{i % 10000:04d}",
                rng.choice(["Toronto", "Ottawa", "Montréal", "Hamilton"]),
                rng.choice(["en", "fr", "ar", "es", "zh"]),
                "en; fr",
            ]
        )
    return out.getvalue().encode()


def bench_import(ctx: Context) -> list[Figure]:
    """A 10,000-row file through ``caseload.clients.importing`` as a user runs it: upload, check (with
    de-duplication against the agency's clients), import; then the imported clients are removed."""
    from caseload.clients import importing

    agency = ctx.agency
    rows = ctx.import_rows
    admin = User.objects.get(email=ADMIN_USER)
    content = import_file(rows, seed=int(time.time()))
    name = f"import: {rows} clients"
    with override_settings(TASKS=IMMEDIATE_TASKS), agency_scope(agency):
        start = time.perf_counter()
        client_import, _parsed = importing.create_import(
            agency=agency, actor=admin, upload=SimpleUploadedFile("clients.csv", content, content_type="text/csv")
        )
        checked = time.perf_counter()
        client_import.refresh_from_db()
        if client_import.status != ClientImport.Status.READY:
            return [
                Figure(
                    scenario=name, skipped=f"the file was not ready to import: {client_import.status} {client_import.errors[:2]}"
                )
            ]
        client_import = importing.start_import(client_import, admin, skip_duplicates=True)
        client_import.refresh_from_db()
        done = time.perf_counter()
        imported = client_import.imported_count
        failure = client_import.failure
        _remove_import(agency, client_import)
        data.analyze((Client, ClientSearchKey, ClientPhone, AuditEvent, ClientImport))
        # The floor: the same clients, inserted bare (search fields and keys, no checks, audit or phones).
        floor_seconds = _bare_insert(agency, content)
        data.analyze((Client, ClientSearchKey))
    figure = Figure(scenario=name, repetitions=1, rows=rows, rate_unit="rows/s")
    total = done - start
    figure.median_ms = round(total * 1000, 1)
    figure.floor_median_ms = round(floor_seconds * 1000, 1)
    figure.ratio = round(total / floor_seconds, 2) if floor_seconds else None
    figure.rate = round(rows / total, 1)
    figure.extra.update(
        {
            "read_and_check_s": round(checked - start, 2),
            "import_s": round(done - checked, 2),
            "imported": imported,
            "duplicates": len(client_import.duplicates or []),
        }
    )
    if failure:
        figure.skipped = f"the import failed: {failure}"
    return [figure]


def _remove_import(agency: Agency, client_import: ClientImport) -> None:
    """Take the imported clients out again (with their audit events), so the data set keeps its size."""
    ids = list(Client.objects.for_agency(agency).filter(source_import=client_import).values_list("pk", flat=True))
    for start in range(0, len(ids), 2000):
        batch = ids[start : start + 2000]
        AuditEvent.objects.for_agency(agency).filter(agency=agency, client_id__in=batch).delete()
        Client.objects.for_agency(agency).filter(pk__in=batch).delete()
    AuditEvent.objects.for_agency(agency).filter(
        agency=agency, object_type="clients.clientimport", object_id=str(client_import.pk)
    ).delete()
    client_import.delete()


def _bare_insert(agency: Agency, content: bytes) -> float:
    """Seconds to insert the file's people as clients with their search fields and keys, and nothing else."""
    from django.db import transaction

    from caseload.clients.actions import insert_search_keys, next_client_number, refresh_search_fields

    reader = csv.DictReader(io.StringIO(content.decode()))
    start = time.perf_counter()
    with transaction.atomic():
        number = next_client_number(agency)
        clients = []
        for offset, row in enumerate(reader):
            client = Client(
                agency=agency,
                client_number=number + offset,
                given_name=row["given_name"],
                family_name=row["family_name"],
                date_of_birth=row["date_of_birth"],
                email=row["email"],
                phone=row["phone"],
            )
            refresh_search_fields(client)
            clients.append(client)
        Client.objects.bulk_create(clients, batch_size=1000)  # sets the primary keys (RETURNING)
        insert_search_keys(clients)
        elapsed = time.perf_counter() - start
        transaction.set_rollback(True)
    return elapsed


# --- Outbox ---------------------------------------------------------------------------------------


def _queue_messages(count: int) -> list[int]:
    """``count`` queued, due emails of no agency, written in bulk (queue_email's row, not its task)."""
    from caseload.messaging.models import OutboundMessage

    now = timezone.now()
    with all_agencies():
        rows = [
            OutboundMessage(
                agency=None,
                channel=OutboundMessage.Channel.EMAIL,
                kind="bench",
                to=f"person{i}@example.org",
                subject="Benchmark",
                body="Discarded.",
                next_attempt_at=now,
            )
            for i in range(count)
        ]
        created = OutboundMessage.objects.bulk_create(rows, batch_size=2000)
        if created and created[0].pk is not None:
            return [m.pk for m in created]
        return list(
            OutboundMessage.objects.filter(kind="bench", status=OutboundMessage.Status.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _remove_messages(ids: list[int]) -> None:
    from caseload.messaging.models import OutboundMessage

    with all_agencies():
        for start in range(0, len(ids), 5000):
            batch = ids[start : start + 5000]
            AuditEvent.objects.filter(object_type="messaging.outboundmessage", object_id__in=[str(pk) for pk in batch]).delete()
            OutboundMessage.objects.filter(pk__in=batch).delete()


def _fresh_connection() -> None:
    """This worker's own connection, checked: a forked worker inside a long test process has seen
    the socket it opened closed under it before its first query (inherited state of the parent);
    one reconnect from scratch is then enough."""
    from django.db import OperationalError

    for attempt in (1, 2):
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return
        except OperationalError:
            if attempt == 2:
                raise
            connection.connection = None
            connection.closed_in_transaction = False


def _send(ids: list[int]) -> None:
    """What the outbox's task worker does with these messages: ``send_messages`` tasks of ``SEND_BATCH`` each."""
    from caseload.messaging.actions import SEND_BATCH, send_many

    for start in range(0, len(ids), SEND_BATCH):
        send_many(ids[start : start + SEND_BATCH])


def _worker(work: Callable[[list[int]], None], ids: list[int], ready, go) -> None:
    """A worker: connect, wait for the start, ``work`` through its share of the ids."""
    gc.collect()
    _fresh_connection()
    ready.set()
    go.wait()
    _fresh_connection()
    work(ids)
    connections.close_all()


def shared_database() -> bool:
    """Whether other processes reach the same database (not an in-memory SQLite test database)."""
    return not (connection.vendor == "sqlite" and connection.is_in_memory_db())


def run_workers(ids: list[int], workers: int, work: Callable[[list[int]], None] = _send) -> float:
    """Seconds for ``workers`` processes (forked) to ``work`` through ``ids`` between them (``_send``: send them)."""
    if workers == 1 and not shared_database():
        start = time.perf_counter()
        work(ids)
        return time.perf_counter() - start
    fork = multiprocessing.get_context("fork")
    connections.close_all()  # never share a connection with a child
    gc.collect()
    go = fork.Event()
    processes, ready = [], []
    for n in range(workers):
        flag = fork.Event()
        process = fork.Process(target=_worker, args=(work, ids[n::workers], flag, go))
        process.start()
        processes.append(process)
        ready.append(flag)
    for flag in ready:
        flag.wait(60)
    start = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - start
    if any(process.exitcode for process in processes):
        raise RuntimeError("an outbox worker failed")
    return elapsed


def _claim_floor(ids: list[int]) -> None:
    """One bare UPDATE per message through the driver, each its own commit: the least a send-once outbox writes.
    Run by as many workers as the outbox it is the floor of: what their commits share (the database's commit
    path) shows in its speed-up too."""
    from caseload.messaging.models import OutboundMessage

    table = connection.ops.quote_name(OutboundMessage._meta.db_table)
    sql = f"UPDATE {table} SET attempts = attempts WHERE id = %s"  # noqa: S608
    with all_agencies(), connection.cursor() as cursor:
        for pk in ids:
            cursor.execute(sql, [pk])


def bench_outbox(ctx: Context) -> list[Figure]:
    """The outbox sending ``outbox_messages`` emails through a backend that discards them, with one worker and two."""
    from caseload.messaging.models import OutboundMessage

    count = ctx.outbox_messages
    figures = []
    with override_settings(EMAIL_BACKEND=NULL_EMAIL):
        for workers in (1, 2):
            name = f"outbox: {count} emails, {workers} worker{'s' if workers > 1 else ''}"
            if workers > 1 and not shared_database():
                figures.append(
                    Figure(scenario=name, skipped="needs a database other processes reach (not an in-memory test database)")
                )
                continue
            ids = _queue_messages(count)
            try:
                floor = run_workers(ids, workers, _claim_floor)
                seconds = run_workers(ids, workers)
                with all_agencies():
                    sent = (
                        OutboundMessage.objects.filter(pk__in=ids, status=OutboundMessage.Status.SENT).count()
                        if len(ids) <= 50_000
                        else None
                    )
            finally:
                _remove_messages(ids)
                data.analyze((OutboundMessage, AuditEvent))
            figure = Figure(scenario=name, repetitions=1, rows=count, rate=round(count / seconds, 1), rate_unit="messages/s")
            figure.median_ms = round(seconds * 1000, 1)
            figure.floor_median_ms = round(floor * 1000, 1)
            figure.ratio = round(seconds / floor, 2) if floor else None
            figure.errors = count - sent if sent is not None else None
            figure.extra["workers"] = workers
            figures.append(figure)
    if len(figures) == 2 and figures[0].rate and figures[1].rate:
        figures[1].extra["speed_up"] = round(figures[1].rate / figures[0].rate, 2)
        # The floor's own speed-up with a second worker: how far the database lets two workers' commits go.
        one, two = (figure.floor_median_ms for figure in figures)
        figures[1].extra["floor_speed_up"] = round(one / two, 2) if one and two else None
    return figures


def bench_load(ctx: Context) -> list[Figure]:
    from caseload.bench import load

    return load.run(ctx)


SCENARIOS: dict[str, Callable[[Context], list[Figure]]] = {
    "search": bench_search,
    "pages": bench_pages,
    "history": bench_history,
    "export": bench_export,
    "import": bench_import,
    "outbox": bench_outbox,
    "load": bench_load,
}


# What the scenarios add to as a side effect of what they time, besides what the import and the outbox remove
# themselves: every page read is audited (a profile's view), the load saves case notes, and the pages and the
# load log in (a session and a log-in record each). Left, they piled up run after run on the same members:
# after seven load runs the dashboard took a third longer, and a run no longer timed the data set it names.
APPENDED_MODELS = (CaseNote, AuditEvent, AccessLog)


@contextmanager
def data_set_kept(agency: Agency) -> Iterator[None]:
    """Remove, on the way out, what was added meanwhile to APPENDED_MODELS and the sessions table by the data
    set's agency or its staff (by primary key: rows above the highest there before, sessions not there before).
    Nothing of another agency or person is touched, should the database hold more than the data set."""
    with all_agencies():
        staff = dict(Membership.objects.filter(agency=agency).values_list("user_id", "user__email"))
        marks = {model: model._base_manager.aggregate(last=Max("pk"))["last"] or 0 for model in APPENDED_MODELS}
        sessions = set(Session.objects.values_list("pk", flat=True))
    try:
        yield
    finally:
        with all_agencies():
            # Notes first: deleting one may audit it.
            CaseNote._base_manager.filter(pk__gt=marks[CaseNote], agency=agency).delete()
            AuditEvent.objects.filter(Q(agency=agency) | Q(actor_id__in=list(staff)), pk__gt=marks[AuditEvent]).delete()
            AccessLog.objects.filter(pk__gt=marks[AccessLog], username__in=list(staff.values())).delete()
            theirs = {str(pk) for pk in staff}  # as a session holds the user's id
            made = [
                session.pk
                for session in Session.objects.exclude(pk__in=sessions)
                if str(session.get_decoded().get(SESSION_KEY)) in theirs
            ]
            Session.objects.filter(pk__in=made).delete()
        data.analyze((*APPENDED_MODELS, Session))


def run(names: list[str], ctx: Context) -> Iterator[Figure]:
    with data_set_kept(ctx.agency):
        for name in names:
            ctx.log(f"  {name} ...")
            with agency_scope(ctx.agency):
                yield from SCENARIOS[name](ctx)
