"""``manage.py bench``: build (or reuse) the generated data set and time the scenarios beside their floors.

Prints a table and writes every figure with the data size, the database and its version, the git
commit and the machine to ``var/bench/`` (JSON), so runs can be compared. See caseload/bench/.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import subprocess
import warnings
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings
from django.utils import timezone

from caseload.bench import data, scenarios
from caseload.bench.timing import Figure

SCENARIOS = tuple(scenarios.SCENARIOS)


def git_commit() -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    try:
        done = subprocess.run([git, "rev-parse", "HEAD"], capture_output=True, text=True, cwd=settings.BASE_DIR, check=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def database_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version")
        return str(cursor.fetchone()[0])


def machine() -> dict:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.machine(),
    }


def scenario_list(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        raise CommandError(f"Unknown scenario(s): {', '.join(unknown)}; choose among {', '.join(SCENARIOS)}")
    return names


class Command(BaseCommand):
    help = "Time the scenarios of issue 7 on a generated data set, each beside a floor measured in the same run; writes var/bench/*.json."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=100_000, help="clients in the benchmark agency (default 100000)")
        parser.add_argument(
            "--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, among: {', '.join(SCENARIOS)} (default: all)"
        )
        parser.add_argument("--repeat", type=int, default=200, help="timed repetitions of each latency scenario (default 200)")
        parser.add_argument("--warmup", type=int, default=3, help="untimed rounds over the samples first (default 3)")
        parser.add_argument("--import-rows", type=int, default=10_000, help="rows of the client file imported (default 10000)")
        parser.add_argument("--messages", type=int, default=10_000, help="emails the outbox sends (default 10000)")
        parser.add_argument("--load-seconds", type=float, default=20, help="length of each HTTP load run (default 20)")
        parser.add_argument("--load-users", type=int, default=10, help="simulated staff in the HTTP load (default 10)")
        parser.add_argument(
            "--load-tool",
            choices=("auto", "wrk", "locust"),
            default="auto",
            help="the HTTP load generator (default auto: wrk when installed, else locust)",
        )
        parser.add_argument(
            "--output", default="", help="the JSON file (default var/bench/bench-<database>-<clients>-<time>.json)"
        )

    def handle(self, *args, clients: int, repeat: int, warmup: int, output: str, **options) -> None:
        names = scenario_list(options["scenarios"])
        # Per-event INFO lines would flood the screen (and time the console): django-axes logs every log-in,
        # the outbox every message sent, django-tasks every task the import runs.
        for logger in ("axes", "caseload.messaging.actions", "django_tasks"):
            logging.getLogger(logger).setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", message="No directory at")  # whitenoise, before collectstatic
        if clients < 1 or repeat < 1 or warmup < 0:
            raise CommandError("--clients and --repeat must be 1 or more, --warmup 0 or more")
        self.stdout.write(f"Data set: {clients} clients in {data.SPEC.name} on {connection.vendor} ...")
        dataset = data.build(clients, log=self.stdout.write)
        state = "built" if dataset.built else "reused"
        self.stdout.write(f"  {dataset.clients} clients {state} in {dataset.seconds:.1f} s: {dataset.counts}")
        if dataset.clients > clients:
            self.stdout.write(
                self.style.WARNING(
                    f"  The database holds {dataset.clients} clients, more than asked: the figures are for {dataset.clients}."
                )
            )
        ctx = scenarios_context(dataset, repeat, warmup, options, self.stdout.write)
        # Pages are rendered without collectstatic's manifest (a lookup either way; gunicorn gets the same).
        storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
        with override_settings(STORAGES=storages):
            figures = list(scenarios.run(names, ctx))
        self.print_table(figures)
        result = {
            "when": timezone.now().isoformat(),
            "commit": git_commit(),
            "database": connection.vendor,
            "database_version": database_version(),
            "machine": machine(),
            "clients": dataset.clients,
            "data_set": {**dataset.counts, "seconds": dataset.seconds, "built": dataset.built},
            "scenarios": names,
            "repeat": repeat,
            "warmup": warmup,
            "figures": [figure.as_dict() for figure in figures],
        }
        path = (
            Path(output)
            if output
            else Path(settings.VAR_DIR)
            / "bench"
            / f"bench-{connection.vendor}-{dataset.clients}-{timezone.now():%Y%m%dT%H%M%S}.json"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        self.stdout.write(f"\nWritten: {path}")

    def print_table(self, figures: list[Figure]) -> None:
        self.stdout.write(table(figures))


def scenarios_context(dataset, repeat: int, warmup: int, options: dict, log) -> scenarios.Context:
    return scenarios.Context(
        agency=dataset.agency,
        repeat=repeat,
        warmup=warmup,
        import_rows=options.get("import_rows", 10_000),
        outbox_messages=options.get("messages", 10_000),
        load_seconds=options.get("load_seconds", 20),
        load_users=options.get("load_users", 10),
        load_tool=options.get("load_tool", "auto"),
        log=log,
    )


def _number(value: float | None, width: int, digits: int = 2) -> str:
    return f"{value:>{width}.{digits}f}" if value is not None else " " * (width - 1) + "-"


def table(figures: list[Figure]) -> str:
    header = f"\n{'scenario':<52} {'median ms':>10} {'p95 ms':>9} {'floor med':>10} {'ratio':>7} {'queries':>7} {'rate':>11} {'unit':<11} {'peak KiB':>9} {'errors':>6}"
    lines = [header, "-" * (len(header) - 1)]
    for f in figures:
        if f.skipped:
            lines.append(f"{f.scenario:<52} skipped: {f.skipped}")
            continue
        ratio = f"{f.ratio:>6.2f}x" if f.ratio is not None else "      -"
        queries = f"{f.queries:>7}" if f.queries is not None else "      -"
        errors = f"{f.errors:>6}" if f.errors is not None else "     -"
        lines.append(
            f"{f.scenario[:52]:<52} {_number(f.median_ms, 10)} {_number(f.p95_ms, 9)} {_number(f.floor_median_ms, 10)} {ratio} {queries} "
            f"{_number(f.rate, 11, 1)} {f.rate_unit:<11} {_number(f.peak_memory_kb, 9, 0)} {errors}"
        )
    lines.append(
        "(floor: the same query as raw SQL, or a bare view through the same stack, measured in the same run; ratio = median / floor median;"
        "\n for the HTTP load, the floor's requests/s over the mix's)"
    )
    return "\n".join(lines)
