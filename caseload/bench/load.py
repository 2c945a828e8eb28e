"""The HTTP load scenario: the app under gunicorn (two workers, 127.0.0.1), driven by wrk (or locust).

Two runs of the same length with the same number of simulated staff: the mix (search by name and
phone, profile, dashboard, note creation; ``wrk_mix.lua``, ``locustfile.py``) and the floor (a
bare view through the same stack, ``bench.urls``). Reported: requests/s, median and p95, and
errors (must be 0). Gunicorn serves the same database as the benchmark (its URL rebuilt from the
connection's settings), with the same SECRET_KEY, so the sessions made here are valid there.

The load generator shares the machine with gunicorn and PostgreSQL: wrk (C, Debian's package) takes
a few percent of one core where locust (Python) took most of one on a 2-core machine, so wrk is
used when it is on the PATH and locust otherwise (``--load-tool``); the figure says which.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client as WebClient
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.crypto import get_random_string

from caseload.accounts.models import User
from caseload.bench.timing import Figure
from caseload.tenancy.models import Membership

HERE = Path(__file__).resolve().parent
SCENARIO = "load: HTTP mix under gunicorn (2 workers)"
FLOOR_SCENARIO = "load: bare view under gunicorn (floor)"


def database_url() -> str | None:
    """The URL of the database this process uses, for another process; None for an in-memory SQLite."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return None if connection.is_in_memory_db() else f"sqlite:///{db['NAME']}"
    if connection.vendor == "postgresql":
        credentials = quote(db.get("USER") or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = db.get("HOST") or "127.0.0.1"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sessions(agency, count: int) -> list[str]:
    """Session cookies of ``count`` caseworkers of the agency (made as ``force_login`` makes them)."""
    emails = list(
        Membership.objects.for_agency(agency)
        .filter(agency=agency, is_active=True, role__name="Caseworker")
        .order_by("pk")
        .values_list("user__email", flat=True)[:count]
    )
    cookies = []
    for email in emails:
        web = WebClient()
        web.force_login(User.objects.get(email=email))
        cookies.append(web.cookies[settings.SESSION_COOKIE_NAME].value)
    return cookies


def config(ctx) -> dict:
    from caseload.bench import scenarios

    agency = ctx.agency
    cases = scenarios.search_cases(agency)
    clients = scenarios.sample_clients(agency, 50, seed=11)
    try:
        notes = [reverse("casework:note_new", args=[c.pk]) for c in clients[:20]]
    except NoReverseMatch:
        notes = []
    return {
        "session_cookie_name": settings.SESSION_COOKIE_NAME,
        "sessions": sessions(agency, 10),
        "names": cases["search: misspelt name"][0] or ["a"],
        "phones": cases["search: phone"][0] or ["416"],
        "profiles": [reverse("clients:detail", args=[c.pk]) for c in clients],
        "dashboard": reverse("web:dashboard"),
        "notes": notes,
        "floor": scenarios.FLOOR_PATH,
        # One CSRF secret for every simulated user (cookie and form field alike: Django accepts the bare secret).
        "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
        "csrf_secret": get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS),
        "today": timezone.localdate().isoformat(),
    }


def lua(value) -> str:
    """``value`` (strings, numbers, lists, dicts of them) as a Lua literal, for wrk's script."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua(key)}] = {lua(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(lua(item) for item in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    # Lua's escapes for a double-quoted string; other bytes (UTF-8 names) pass as they are.
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{text}"'


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (127.0.0.1 only)
                return True
        except urllib.error.HTTPError:
            return True  # it answers
        except OSError:
            time.sleep(0.25)
    return False


def _warm_up(host: str, settings_: dict) -> None:
    """A few requests of each kind first, so both workers have loaded their code and templates (no cold start timed)."""
    cookie = f"{settings_['session_cookie_name']}={settings_['sessions'][0]}" if settings_["sessions"] else ""
    paths = [settings_["floor"], settings_["dashboard"], *settings_["profiles"][:2], *settings_["notes"][:1]]
    for path in paths * 3:
        request = urllib.request.Request(host + path, headers={"Cookie": cookie})  # noqa: S310 (127.0.0.1 only)
        try:
            with urllib.request.urlopen(request, timeout=30):  # noqa: S310
                pass
        except OSError:
            pass


def _locust(host: str, config_file: Path, users: int, seconds: float, mode: str, workdir: Path) -> dict:
    """One headless locust run; returns the aggregated row and each request name's of its stats CSV."""
    prefix = workdir / mode
    env = {**os.environ, "BENCH_LOAD_CONFIG": str(config_file), "BENCH_LOAD_MODE": mode}
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        host,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{max(1, round(seconds))}s",
        "--stop-timeout",
        "5",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120, check=False)  # noqa: S603
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"locust wrote no statistics (exit {done.returncode}): {done.stderr[-800:]}")
    with stats.open() as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open() as handle:
            rows["_failures"] = [
                f"{row['Method']} {row['Name']}: {row['Error'][:200]} ×{row['Occurrences']}" for row in csv.DictReader(handle)
            ]
    return rows


def _wrk(host: str, settings_: dict, users: int, seconds: float, mode: str, workdir: Path) -> dict:
    """One wrk run (a thread and a connection per simulated user); the numbers its script's done() prints."""
    config_file = workdir / "config.lua"
    config_file.write_text("return " + lua(settings_) + "\n")
    env = {**os.environ, "BENCH_WRK_CONFIG": str(config_file), "BENCH_LOAD_MODE": mode}
    command = [
        shutil.which("wrk") or "wrk",
        "--threads",
        str(users),
        "--connections",
        str(users),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--script",
        str(HERE / "wrk_mix.lua"),
        host,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    line = next((line for line in done.stdout.splitlines() if line.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures (exit {done.returncode}): {(done.stderr or done.stdout)[-800:]}")
    return json.loads(line.removeprefix("BENCH_JSON "))


def _wrk_figure(name: str, result: dict, seconds: float) -> Figure:
    requests = result["requests"]
    figure = Figure(scenario=name, repetitions=requests, rate_unit="requests/s")
    figure.rate = round(requests / (result["duration_us"] / 1_000_000), 1) if result["duration_us"] else 0.0
    figure.median_ms = round(result["median_us"] / 1000, 1)
    figure.p95_ms = round(result["p95_us"] / 1000, 1)
    figure.errors = result["failed"] + result["socket_errors"]
    figure.extra = {"seconds": seconds, "tool": "wrk", "p99_ms": round(result["p99_us"] / 1000, 1), "requests": result["counts"]}
    if figure.errors:
        figure.extra["failures"] = {**result["failures"], "socket errors": result["socket_errors"]}
    return figure


def load_tool(choice: str = "auto") -> str | None:
    """The load generator to use: wrk when asked or on the PATH (auto), else locust when installed; None if neither."""
    has_wrk = shutil.which("wrk") is not None
    # Never imported here: locust patches the standard library with gevent; it runs in its own process.
    has_locust = importlib.util.find_spec("locust") is not None
    if choice == "wrk":
        return "wrk" if has_wrk else None
    if choice == "locust":
        return "locust" if has_locust else None
    return "wrk" if has_wrk else "locust" if has_locust else None


def _float(value: str | None) -> float:
    """A number of locust's CSV ("N/A" where a request name got no answer)."""
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def _figure(name: str, rows: dict, seconds: float) -> Figure:
    total = rows.get("Aggregated") or {}
    requests = int(total.get("Request Count") or 0)
    figure = Figure(scenario=name, repetitions=requests, rate_unit="requests/s")
    figure.rate = round(_float(total.get("Requests/s")), 1)
    figure.median_ms = _float(total.get("Median Response Time"))
    figure.p95_ms = _float(total.get("95%"))
    figure.errors = int(total.get("Failure Count") or 0)
    figure.extra = {
        "seconds": seconds,
        "tool": "locust",
        "requests": {
            row_name: {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "median_ms": _float(row["Median Response Time"]),
                "p95_ms": _float(row["95%"]),
            }
            for row_name, row in rows.items()
            if row_name not in ("Aggregated", "_failures")
        },
    }
    if rows.get("_failures"):
        figure.extra["failures"] = rows["_failures"]
    return figure


def run(ctx) -> list[Figure]:
    url = database_url()
    if url is None:
        return [Figure(scenario=SCENARIO, skipped="needs a database other processes reach (not an in-memory test database)")]
    tool = load_tool(ctx.load_tool)
    if tool is None:
        return [Figure(scenario=SCENARIO, skipped=f"no load generator ({ctx.load_tool}): apt-get install wrk, or pip install locust")]
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="caseload-bench-") as tmp:
        workdir = Path(tmp)
        config_file = workdir / "config.json"
        config_file.write_text(json.dumps(config(ctx)))
        log = (workdir / "gunicorn.log").open("w")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "EMAIL_BACKEND": "caseload.bench.backends.NullEmailBackend",
            "STATIC_MANIFEST": "false",
        }
        mixed: Figure | None = None
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "caseload.bench.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            if not _wait_for(f"{host}/accounts/login/", server):
                log.flush()
                return [
                    Figure(scenario=SCENARIO, skipped="gunicorn did not start: " + (workdir / "gunicorn.log").read_text()[-500:])
                ]
            settings_ = json.loads(config_file.read_text())
            _warm_up(host, settings_)
            ctx.log(f"    gunicorn on {host}; {tool} {ctx.load_users} users, {ctx.load_seconds:.0f} s mixed, then the floor")

            def load_run(name: str, mode: str) -> Figure:
                if tool == "wrk":
                    return _wrk_figure(name, _wrk(host, settings_, ctx.load_users, ctx.load_seconds, mode, workdir), ctx.load_seconds)
                return _figure(name, _locust(host, config_file, ctx.load_users, ctx.load_seconds, mode, workdir), ctx.load_seconds)

            mixed = load_run(SCENARIO, "mix")
            floor = load_run(FLOOR_SCENARIO, "floor")
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            if mixed is not None and mixed.errors:
                server_log = (workdir / "gunicorn.log").read_text()
                ctx.log("    errors in the load run; the end of gunicorn's log:\n" + server_log[-3000:])
    mixed.floor_median_ms, mixed.floor_p95_ms = floor.median_ms, floor.p95_ms
    if floor.rate:
        mixed.extra["floor_requests_per_s"] = floor.rate
        mixed.ratio = round(floor.rate / mixed.rate, 2) if mixed.rate else None  # how many times slower than the floor
    mixed.extra["users"] = ctx.load_users
    return [mixed, floor]
