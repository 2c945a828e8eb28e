"""How the figures grow with the data: the same scenarios at 10,000, 100,000 and 1,000,000 clients.

Each size has its own database beside the benchmark's (``<name>_<size>`` on PostgreSQL,
``<file>-<size>.sqlite3`` on SQLite), migrated and filled once, reused after; each run is a
``manage.py bench`` of its own (a fresh process per size, so caches do not carry over). Then a
table says how each figure grew from one size to the next, beside how the log of the data size
grew: a figure growing faster than that stands out (flagged ``!``). The million runs on
PostgreSQL only (on SQLite it is skipped with a message).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from caseload.bench import load

SIZES = (10_000, 100_000, 1_000_000)
SCENARIOS = "search,pages,export"
SQLITE_LIMIT = 100_000


def database_for(size: int) -> str | None:
    """The URL of the database holding the data set of ``size`` clients (created on PostgreSQL if missing)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            return None
        path = Path(db["NAME"])
        suffix = path.suffix or ".sqlite3"
        return f"sqlite:///{path.with_name(f'{path.stem}-{size}{suffix}')}"
    if connection.vendor != "postgresql":
        return None
    name = f"{db['NAME']}_{size}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    url = load.database_url() or ""
    return url.rsplit("/", 1)[0] + "/" + name


def run_size(size: int, url: str, args: list[str], output: Path, log: Callable[[str], None]) -> dict | None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": settings.SECRET_KEY}
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    log(f"\n== {size} clients ({url.split('@')[-1]}) ==")
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)  # noqa: S603
    command = [*manage, "bench", "--clients", str(size), "--scenarios", SCENARIOS, "--output", str(output), *args]
    done = subprocess.run(command, env=env, check=False)  # noqa: S603
    if done.returncode or not output.exists():
        log(f"   the run at {size} clients failed (exit {done.returncode})")
        return None
    return json.loads(output.read_text())


# What is compared for each kind of figure: (label, how to read it from a figure, lower is better).
MEASURES = (
    ("median ms", lambda f: f.get("median_ms") if not f.get("rate_unit") else None),
    ("ms per 1,000 rows", lambda f: 1_000_000 / f["rate"] if f.get("rate_unit") == "rows/s" and f.get("rate") else None),
    ("peak KiB", lambda f: f.get("peak_memory_kb")),
    ("queries", lambda f: f.get("queries")),
)


def growth_table(results: list[dict]) -> tuple[str, list[str]]:
    """The table of figures by size, each step's growth, and the scenarios growing worse than the log of the size."""
    sizes = [result["clients"] for result in results]
    header = (
        f"{'scenario':<48} {'measure':<18} "
        + " ".join(f"{size:>12,}" for size in sizes)
        + "   growth per step (log of the size grew "
        + ", ".join(f"{math.log(b) / math.log(a):.2f}x" for a, b in zip(sizes, sizes[1:], strict=False))
        + ")"
    )
    lines = [header, "-" * len(header)]
    flagged = []
    names = [figure["scenario"] for figure in results[0]["figures"] if not figure.get("skipped")]
    for name in names:
        per_size = [
            next((f for f in result["figures"] if f["scenario"] == name and not f.get("skipped")), None) for result in results
        ]
        for label, read in MEASURES:
            values = [read(figure) if figure else None for figure in per_size]
            if all(value is None for value in values):
                continue
            steps = []
            for (a, b), (size_a, size_b) in zip(
                zip(values, values[1:], strict=False), zip(sizes, sizes[1:], strict=False), strict=True
            ):
                if not a or b is None:
                    steps.append("      -")
                    continue
                growth = b / a
                bound = 1.0 if label == "queries" else math.log(size_b) / math.log(size_a)
                worse = growth > bound * 1.05 and (label != "median ms" or b - a > 1.0)
                steps.append(f"{growth:>6.2f}x{'!' if worse else ' '}")
                if worse:
                    flagged.append(f"{name} ({label}): {a:.2f} -> {b:.2f} from {size_a:,} to {size_b:,} clients")
            cells = " ".join(f"{value:>12.2f}" if value is not None else f"{'-':>12}" for value in values)
            lines.append(f"{name[:48]:<48} {label:<18} {cells}   {' '.join(steps)}")
    return "\n".join(lines), flagged
