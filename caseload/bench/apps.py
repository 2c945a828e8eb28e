from django.apps import AppConfig


class BenchConfig(AppConfig):
    """An app only so that ``manage.py bench`` and ``manage.py bench_growth`` live beside the benchmark's code."""

    name = "caseload.bench"
    label = "bench"
    verbose_name = "Benchmarks"
