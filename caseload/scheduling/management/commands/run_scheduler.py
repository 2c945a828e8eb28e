"""Enqueue periodic jobs when they are due, every few seconds, until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from caseload.scheduling.scheduler import run_due_jobs

logger = logging.getLogger("caseload.scheduling")


class Command(BaseCommand):
    help = "Enqueue the periodic jobs of caseload/scheduling/jobs.py when they are due (run one beside the workers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue what is due once, then exit.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between two checks (default: 5).")

    def handle(self, *, once: bool, interval: float, verbosity: int, **options) -> None:
        stop = threading.Event()

        def shutdown(signum: int, frame: FrameType | None) -> None:
            stop.set()

        if not once:
            signal.signal(signal.SIGINT, shutdown)
            signal.signal(signal.SIGTERM, shutdown)
            if verbosity >= 1:
                self.stdout.write(f"Scheduler started: checking periodic jobs every {interval:g}s")

        while not stop.is_set():
            close_old_connections()
            try:
                enqueued = run_due_jobs()
            except DatabaseError:
                if once:
                    raise
                # A database restart or a busy SQLite file: try again at the next tick.
                logger.warning("Scheduler could not reach the database; retrying", exc_info=True)
                enqueued = []
            for name in enqueued:
                if once or verbosity >= 2:
                    self.stdout.write(f"Enqueued {name}")
            if once:
                break
            stop.wait(interval)
        close_old_connections()
