"""``manage.py bench``: build (or reuse) a generated data set and time scenarios beside a floor measured in the same run.

Today's scenarios: client search by a misspelt name, by phone and by date of birth, each beside the
same candidate query sent as raw SQL through the driver. Prints a table and writes every figure with
the data size, the database and the git commit to var/bench/ (JSON), so runs can be compared.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from caseload.clients.bench import bench_search
from caseload.clients.models import Client, ClientSearchKey
from caseload.tenancy import demo
from caseload.tenancy.scoping import agency_scope

SCENARIOS = ("search",)


def git_commit() -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    try:
        done = subprocess.run([git, "rev-parse", "HEAD"], capture_output=True, text=True, cwd=settings.BASE_DIR, check=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


class Command(BaseCommand):
    help = "Time client search on a generated data set, beside raw SQL of the same query; writes var/bench/*.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=100_000, help="clients in the benchmark agency (default 100000)")
        parser.add_argument("--repeat", type=int, default=200, help="timed repetitions per scenario (default 200)")
        parser.add_argument("--warmup", type=int, default=3, help="untimed rounds over the sample queries first (default 3)")
        parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="only these scenarios (default: all)")
        parser.add_argument(
            "--output", default="", help="the JSON file (default var/bench/bench-<database>-<clients>-<time>.json)"
        )

    def handle(self, *args, clients: int, repeat: int, warmup: int, scenario: list[str] | None, output: str, **options) -> None:
        if clients < 1 or repeat < 1 or warmup < 0:
            raise CommandError("--clients and --repeat must be 1 or more, --warmup 0 or more")
        spec = demo.AGENCIES[0]
        started = time.perf_counter()
        self.stdout.write(f"Data set: {clients} clients in {spec.name} on {connection.vendor} ...")
        agency = demo.seed_agency(spec, clients)
        built = time.perf_counter() - started
        with connection.cursor() as cursor:
            # Fresh statistics, as autovacuum would gather after a bulk load, so the planner sees the real sizes.
            for model in (Client, ClientSearchKey):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        with agency_scope(agency):
            size = Client.objects.for_agency(agency).filter(agency=agency).count()
            self.stdout.write(f"  {size} clients ready in {built:.1f} s")
            figures = []
            if not scenario or "search" in scenario:
                figures += bench_search(agency, repeat=repeat, warmup=warmup)
        self.print_table(figures)
        result = {
            "when": timezone.now().isoformat(),
            "commit": git_commit(),
            "database": connection.vendor,
            "database_version": self.db_version(),
            "clients": size,
            "data_set_seconds": round(built, 2),
            "repeat": repeat,
            "warmup": warmup,
            "figures": [figure.as_dict() for figure in figures],
        }
        path = (
            Path(output)
            if output
            else Path(settings.VAR_DIR) / "bench" / f"bench-{connection.vendor}-{size}-{timezone.now():%Y%m%dT%H%M%S}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        self.stdout.write(f"\nWritten: {path}")

    def db_version(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
            return str(cursor.fetchone()[0])

    def print_table(self, figures) -> None:
        header = f"\n{'scenario':<24} {'median ms':>10} {'p95 ms':>9} {'floor med':>10} {'floor p95':>10} {'ratio':>6} {'rows':>6} {'runs':>5}"
        self.stdout.write(header)
        self.stdout.write("-" * (len(header) - 1))
        for f in figures:
            self.stdout.write(
                f"{f.scenario:<24} {f.median_ms:>10.2f} {f.p95_ms:>9.2f} {f.floor_median_ms:>10.2f} {f.floor_p95_ms:>10.2f} {f.ratio:>5.2f}x {f.rows:>6.1f} {f.repetitions:>5}"
            )
        self.stdout.write("(floor: the same candidate query as raw SQL through the driver; ratio = median / floor median)")
