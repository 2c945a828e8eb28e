"""The HTTP load of the benchmark (run by ``caseload/bench/load.py``; never imported by Django: locust patches with gevent).

Each simulated staff member holds a session cookie made by the benchmark (no password hashing
in the run), then loops without pause over a mix of what a caseworker does all day: search by
name and by phone, open a profile, the dashboard, and write a case note (the form, then its POST
with the CSRF token). ``BENCH_LOAD_MODE=floor`` hits only the bare view, the floor of the run.
"""

from __future__ import annotations

import json
import os
import random
import re
from datetime import date
from urllib.parse import urlencode

from locust import HttpUser, constant, task

CONFIG = json.loads(open(os.environ["BENCH_LOAD_CONFIG"]).read())  # noqa: SIM115
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FLOOR = os.environ.get("BENCH_LOAD_MODE") == "floor"


class Staff(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.client.cookies.set(CONFIG["session_cookie_name"], random.choice(CONFIG["sessions"]))

    if FLOOR:

        @task
        def floor(self) -> None:
            self.client.get(CONFIG["floor"], name="bare view (floor)")

    else:

        @task(2)
        def search_name(self) -> None:
            self.client.get("/clients/?" + urlencode({"q": random.choice(CONFIG["names"])}), name="search: name")

        @task(1)
        def search_phone(self) -> None:
            self.client.get("/clients/?" + urlencode({"q": random.choice(CONFIG["phones"])}), name="search: phone")

        @task(3)
        def profile(self) -> None:
            self.client.get(random.choice(CONFIG["profiles"]), name="client profile")

        @task(2)
        def dashboard(self) -> None:
            self.client.get(CONFIG["dashboard"], name="dashboard")

        @task(1)
        def note(self) -> None:
            if not CONFIG["notes"]:
                return
            url = random.choice(CONFIG["notes"])
            form = self.client.get(url, name="note form")
            found = CSRF.search(form.text or "")
            if not found:
                return
            fields = {
                "csrfmiddlewaretoken": found.group(1),
                "note_type": "contact",
                "contact_date": date.today().isoformat(),  # noqa: DTZ011
                "body": "Called the client about the interview on Thursday; they will bring their documents.",
            }
            with self.client.post(url, data=fields, name="note save", allow_redirects=False, catch_response=True) as response:
                if response.status_code in (302, 303):
                    response.success()
                else:
                    response.failure(f"note not saved: {response.status_code}")
