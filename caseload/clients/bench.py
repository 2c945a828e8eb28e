"""Client search at scale: timed beside a floor measured in the same run on the same data.

Each scenario times ``search_clients`` (the whole search: candidate query, ranking, reasons) over
sample queries taken from the data, after a warm-up, and times beside it the *floor*: the candidate
query search sends, as raw SQL through the database driver (``cursor.execute`` + ``fetchall``).
The ratio says what the ORM and the ranking in Python add to the database's own work.

Used by ``manage.py bench`` (the benchmark command of issue 7 grows more scenarios on the same frame).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import phonenumbers
from django.db import connection
from django.db.models import QuerySet, Subquery

from caseload.clients import matching
from caseload.clients.models import Client
from caseload.clients.queries import CANDIDATE_LIMIT, SCORED_FIELDS, key_candidates, search_clients
from caseload.tenancy.models import Agency

SAMPLES = 25
LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass
class Figure:
    """One scenario's timings in milliseconds."""

    scenario: str
    median_ms: float
    p95_ms: float
    floor_median_ms: float
    floor_p95_ms: float
    repetitions: int
    ratio: float = 0.0
    rows: float = 0.0
    samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def time_calls(calls: list[Callable[[], object]], repeat: int, warmup: int = 3) -> list[float]:
    """Milliseconds of ``repeat`` calls, cycling through ``calls`` after ``warmup`` rounds of each."""
    for _round in range(warmup):
        for call in calls:
            call()
    timings = []
    for i in range(repeat):
        call = calls[i % len(calls)]
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def raw_sql(queryset: QuerySet) -> Callable[[], int]:
    """The queryset's own SQL, sent through the driver's cursor: the floor of that query."""
    sql, params = queryset.query.sql_with_params()

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


def scenarios(agency: Agency) -> dict[str, tuple[list[str], Callable[[str], QuerySet]]]:
    """Per scenario: the sample queries and the candidate queryset search runs for each."""
    rng = random.Random(2026)
    base = Client.objects.for_agency(agency).filter(agency=agency).exclude(status=Client.Status.MERGED)
    named = [c for c in sample_clients(agency, SAMPLES * 2) if matching.tokens(c.given_name) and matching.tokens(c.family_name)]
    names = [typo(f"{c.given_name} {c.family_name}", rng) for c in named[:SAMPLES]]
    phones = [
        national(c.phone) for c in sample_clients(agency, SAMPLES, phone__startswith="+1") if matching.normalise_phone(c.phone)
    ]
    births = [c.date_of_birth.isoformat() for c in sample_clients(agency, SAMPLES, date_of_birth__isnull=False)]
    return {
        # The floor: the search-key lookup (queries.key_candidates) and the candidates' scored fields, which
        # search sends as two queries, here in one statement.
        "search: misspelt name": (
            names,
            lambda text: base.filter(pk__in=Subquery(key_candidates(agency, text)[:CANDIDATE_LIMIT])).values(*SCORED_FIELDS),
        ),
        "search: phone": (phones, lambda text: base.filter(phone=matching.normalise_phone(text))[:CANDIDATE_LIMIT]),
        "search: date of birth": (births, lambda text: base.filter(date_of_birth=text)[:CANDIDATE_LIMIT]),
    }


def bench_search(agency: Agency, repeat: int, warmup: int = 3) -> list[Figure]:
    figures = []
    for name, (samples, candidates) in scenarios(agency).items():
        if not samples:
            continue
        searches = [lambda text=text: search_clients(agency, text) for text in samples]
        floors = [raw_sql(candidates(text)) for text in samples]
        # Interleave: the search and its floor run in alternate blocks so drift (cache, other load) hits both alike.
        timed, floor = [], []
        for block in (repeat // 2, repeat - repeat // 2):
            if block:
                timed += time_calls(searches, block, warmup)
                floor += time_calls(floors, block, warmup)
        rows = statistics.mean(len(search_clients(agency, text)) for text in samples)
        figure = Figure(
            scenario=name,
            median_ms=round(statistics.median(timed), 3),
            p95_ms=round(percentile(timed, 0.95), 3),
            floor_median_ms=round(statistics.median(floor), 3),
            floor_p95_ms=round(percentile(floor, 0.95), 3),
            repetitions=len(timed),
            rows=round(rows, 1),
            samples=samples[:5],
        )
        figure.ratio = round(figure.median_ms / figure.floor_median_ms, 2) if figure.floor_median_ms else 0.0
        figures.append(figure)
    return figures
