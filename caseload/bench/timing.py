"""Timing a scenario beside its floor: repetitions after a warm-up, median and 95th percentile.

A *floor* is the least the same work can cost on this machine, measured in the same run on the
same data (the same query as raw SQL, a bare view through the same request stack), so a ratio
holds on a noisy machine where absolute milliseconds do not.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    """One scenario's result. Latency scenarios fill the milliseconds; throughput ones ``rate``."""

    scenario: str
    median_ms: float | None = None
    p95_ms: float | None = None
    floor_median_ms: float | None = None
    floor_p95_ms: float | None = None
    ratio: float | None = None  # median / floor median
    repetitions: int = 0
    queries: int | None = None  # SQL queries of one request (pages)
    rate: float | None = None  # rows, messages or requests per second
    rate_unit: str = ""
    peak_memory_kb: float | None = None
    errors: int | None = None
    rows: float | None = None  # rows a call returns (search) or handles (export, import)
    skipped: str = ""  # why the scenario did not run (a feature not built yet, a tool missing)
    samples: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
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


def timed_beside_floor(
    scenario: str, calls: list[Callable[[], object]], floors: list[Callable[[], object]], repeat: int, warmup: int
) -> Figure:
    """Time ``calls`` and ``floors`` in alternate blocks, so drift (caches, other load) hits both alike."""
    timed: list[float] = []
    floor: list[float] = []
    for block in (repeat // 2, repeat - repeat // 2):
        if block:
            timed += time_calls(calls, block, warmup)
            floor += time_calls(floors, block, warmup)
    return figure_of(scenario, timed, floor)


def figure_of(scenario: str, timed: list[float], floor: list[float]) -> Figure:
    figure = Figure(
        scenario=scenario,
        median_ms=round(statistics.median(timed), 3),
        p95_ms=round(percentile(timed, 0.95), 3),
        floor_median_ms=round(statistics.median(floor), 3) if floor else None,
        floor_p95_ms=round(percentile(floor, 0.95), 3) if floor else None,
        repetitions=len(timed),
    )
    if figure.floor_median_ms:
        figure.ratio = round(figure.median_ms / figure.floor_median_ms, 2)
    return figure
