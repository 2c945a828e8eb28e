"""The search benchmark command runs end to end on a tiny data set (timings are never asserted)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_bench_command_builds_the_data_times_search_and_writes_json(tmp_path):
    out = StringIO()
    output = tmp_path / "bench.json"
    call_command("bench", clients=60, repeat=3, warmup=1, output=str(output), stdout=out)
    result = json.loads(output.read_text())
    assert result["clients"] == 60
    assert result["database"] in {"sqlite", "postgresql"}
    scenarios = [figure["scenario"] for figure in result["figures"]]
    assert scenarios == ["search: misspelt name", "search: phone", "search: date of birth"]
    for figure in result["figures"]:
        assert figure["repetitions"] == 3
        assert figure["median_ms"] > 0 and figure["floor_median_ms"] > 0
        assert figure["rows"] >= 1, figure  # every sample query finds its client
    assert "search: misspelt name" in out.getvalue()


def test_a_second_run_reuses_the_data_set(tmp_path):
    call_command("bench", clients=55, repeat=1, warmup=0, output=str(tmp_path / "first.json"), stdout=StringIO())
    call_command("bench", clients=55, repeat=1, warmup=0, output=str(tmp_path / "second.json"), stdout=StringIO())
    assert json.loads((tmp_path / "second.json").read_text())["clients"] == 55
