"""``manage.py bench_growth``: search, profile and export at 10,000, 100,000 and 1,000,000 clients, and how each figure grows."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from caseload.bench import growth


class Command(BaseCommand):
    help = "Run the search, page and export scenarios at growing sizes (each in its own database) and flag a figure growing worse than log(size)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sizes", default=",".join(str(size) for size in growth.SIZES), help="client counts (default 10000,100000,1000000)"
        )
        parser.add_argument("--repeat", type=int, default=100, help="timed repetitions of each latency scenario (default 100)")
        parser.add_argument("--output", default="", help="the JSON summary (default var/bench/growth-<database>-<time>.json)")

    def handle(self, *args, sizes: str, repeat: int, output: str, **options) -> None:
        try:
            wanted = sorted({int(size) for size in sizes.split(",") if size.strip()})
        except ValueError:
            raise CommandError("--sizes takes client counts separated by commas")
        if connection.vendor == "sqlite" and any(size > growth.SQLITE_LIMIT for size in wanted):
            skipped = [size for size in wanted if size > growth.SQLITE_LIMIT]
            self.stdout.write(
                self.style.WARNING(
                    f"SQLite: {', '.join(f'{s:,}' for s in skipped)} clients skipped (PostgreSQL only: DATABASE_URL=postgres://...)."
                )
            )
            wanted = [size for size in wanted if size <= growth.SQLITE_LIMIT]
        stamp = f"{timezone.now():%Y%m%dT%H%M%S}"
        folder = Path(settings.VAR_DIR) / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        results = []
        for size in wanted:
            url = growth.database_for(size)
            if url is None:
                raise CommandError("bench_growth needs a database other processes reach (PostgreSQL, or a SQLite file)")
            result = growth.run_size(
                size,
                url,
                ["--repeat", str(repeat)],
                folder / f"growth-{connection.vendor}-{size}-{stamp}.json",
                self.stdout.write,
            )
            if result is not None:
                results.append(result)
        if len(results) < 2:
            raise CommandError("fewer than two sizes ran: nothing to compare")
        text, flagged = growth.growth_table(results)
        self.stdout.write("\n" + text)
        if flagged:
            self.stdout.write(self.style.WARNING("\nGrowing worse than the log of the data size:\n  " + "\n  ".join(flagged)))
        else:
            self.stdout.write(self.style.SUCCESS("\nNo figure grows worse than the log of the data size."))
        summary = {
            "when": timezone.now().isoformat(),
            "database": connection.vendor,
            "sizes": [result["clients"] for result in results],
            "flagged": flagged,
            "runs": results,
        }
        path = Path(output) if output else folder / f"growth-{connection.vendor}-{stamp}.json"
        path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        self.stdout.write(f"\nWritten: {path}")
