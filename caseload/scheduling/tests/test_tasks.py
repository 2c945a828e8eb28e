from datetime import timedelta

import pytest
from django.utils import timezone

from caseload.scheduling.leases import job_lease
from caseload.scheduling.tasks import prune_task_results

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _result(status: str, finished_days_ago: float | None):
    from django_tasks_db.models import DBTaskResult, get_date_max

    return DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="caseload.messaging.tasks.send_message",
        backend_name="default",
        run_after=get_date_max(),
        status=status,
        finished_at=None if finished_days_ago is None else timezone.now() - timedelta(days=finished_days_ago),
        exception_class_path="",
        traceback="",
    )


@pytest.mark.django_db
def test_it_prunes_finished_task_results_older_than_the_kept_days(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    settings.TASK_RESULTS_KEEP_DAYS = 7
    old_success = _result("SUCCESSFUL", 8)
    old_failure = _result("FAILED", 30)
    recent = _result("SUCCESSFUL", 1)
    waiting = _result("READY", None)
    assert prune_task_results.call() == 2
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, waiting.pk}
    assert old_success.pk not in remaining and old_failure.pk not in remaining


@pytest.mark.django_db
def test_it_prunes_nothing_when_tasks_are_not_in_the_database_or_another_run_is_at_it(settings):
    from django_tasks_db.models import DBTaskResult

    _result("SUCCESSFUL", 30)
    assert prune_task_results.call() == 0  # the immediate backend keeps no results here
    settings.TASKS = DATABASE_TASKS
    with job_lease("tasks.prune_results"):
        assert prune_task_results.call() == 0
    assert DBTaskResult.objects.count() == 1
