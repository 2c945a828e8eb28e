import pytest

from caseload.scheduling.tests import periodic

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _tasks(settings):
    settings.TASKS = IMMEDIATE_TASKS
    periodic.runs.clear()
    yield
    periodic.runs.clear()
