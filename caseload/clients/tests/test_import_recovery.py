"""Imports whose background worker died: the heartbeat, the periodic job that closes them, and
what the user can do next (run the import again, or upload the file again)."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from caseload.audit.models import AuditEvent
from caseload.clients import importing, tasks
from caseload.clients.models import Client, ClientImport
from caseload.clients.tests.test_import import DUMMY_TASKS, GOOD_ROWS, confirm, csv_upload, post_file
from caseload.scheduling.jobs import PERIODIC_JOBS, get_job
from caseload.scheduling.leases import job_lease
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db

Status = ClientImport.Status
STALL = 600


@pytest.fixture(autouse=True)
def _background_tasks_wait_for_a_worker(settings, monkeypatch):
    """Tasks are queued and never run unless a test runs them: the worker that should have died."""
    settings.TASKS = DUMMY_TASKS
    settings.CLIENT_IMPORT_STALL_SECONDS = STALL
    # Any file of more than two rows is checked and imported in the background.
    monkeypatch.setattr(importing, "INLINE_ROWS", 2)


def later(seconds: int) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def reload(client_import: ClientImport) -> ClientImport:
    with agency_scope(client_import.agency):
        return ClientImport.objects.for_agency(client_import.agency).get(pk=client_import.pk)


def upload(agency, actor, capture=None) -> ClientImport:
    """A three-row file, uploaded; its check is queued (when the upload's transaction commits:
    ``capture`` is django_capture_on_commit_callbacks)."""
    with agency_scope(agency), capture(execute=True) if capture else nullcontext():
        client_import, _parsed = importing.create_import(agency=agency, actor=actor, upload=csv_upload(GOOD_ROWS))
    return client_import


def run_queued():
    """A worker runs the last queued task."""
    queued = default_task_backend.results[-1]
    return queued.task.call(*queued.args, **queued.kwargs)


def status_events(agency, client_import: ClientImport) -> list[AuditEvent]:
    with agency_scope(agency):
        return list(
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="clients.clientimport", object_id=str(client_import.pk), changes__has_key="status")
            .order_by("pk")
        )


def clients_of(agency) -> int:
    with agency_scope(agency):
        return Client.objects.for_agency(agency).count()


def test_a_stalled_import_becomes_failed_says_why_and_runs_again_to_completion(
    client, admin, agency, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    with agency_scope(agency):
        client_import = ClientImport.objects.for_agency(agency).latest("pk")
    assert run_queued() == Status.READY
    confirm(client, client_import, django_capture_on_commit_callbacks)
    assert reload(client_import).status == Status.IMPORTING
    # The worker dies: the queued import never runs. The page can neither cancel nor retry it yet.
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "Importing the clients…" in page and "Cancel this import" not in page

    assert importing.recover_stalled_imports(now=later(STALL + 1)) == 1

    client_import = reload(client_import)
    assert client_import.status == Status.FAILED
    assert client_import.failure == (
        "The background worker stopped before the import finished; nothing was written. Run it again."
    )
    assert clients_of(agency) == 0
    event = status_events(agency, client_import)[-1]
    assert event.changes["status"] == [Status.IMPORTING, Status.FAILED]
    assert (event.actor, event.agency) == (None, agency)
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "The background worker stopped before the import finished" in page
    assert "Try the import again" in page and "Cancel this import" in page

    # The dead worker's task, run late, finds the import no longer running and writes nothing.
    stale_run = default_task_backend.results[-1]
    assert stale_run.task.call(*stale_run.args) == Status.FAILED
    assert clients_of(agency) == 0

    confirm(client, client_import, django_capture_on_commit_callbacks)
    assert reload(client_import).status == Status.IMPORTING
    assert run_queued() == Status.DONE
    client_import = reload(client_import)
    assert (client_import.status, client_import.imported_count, client_import.failure) == (Status.DONE, 3, "")
    assert clients_of(agency) == 3


def test_a_stalled_check_ends_as_has_errors_and_offers_an_upload_of_the_file_again(
    client, admin, agency, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    with agency_scope(agency):
        client_import = ClientImport.objects.for_agency(agency).latest("pk")
    assert client_import.status == Status.VALIDATING

    assert importing.recover_stalled_imports(now=later(STALL + 1)) == 1

    client_import = reload(client_import)
    assert client_import.status == Status.INVALID
    assert client_import.failure == (
        "The background worker stopped before the check finished; nothing was written. Upload the file again."
    )
    assert client_import.rows == []  # the unchecked rows (personal data) are not kept
    assert status_events(agency, client_import)[-1].changes["status"] == [Status.VALIDATING, Status.INVALID]
    page = client.get(reverse("clients:import_detail", args=[client_import.pk])).content.decode()
    assert "The background worker stopped before the check finished" in page
    assert f'href="{reverse("clients:import_upload")}"' in page and "Upload the file again" in page
    assert "Cancel this import" in page
    assert "Import the clients" not in page and "rows have errors" not in page
    history = client.get(reverse("clients:import_list")).content.decode()
    assert '<span class="badge badge-danger">Stopped</span>' in history and "Has errors" not in history

    # It cannot be imported (its duplicates were never looked for); the late check changes nothing.
    response = confirm(client, client_import, django_capture_on_commit_callbacks)
    assert "This import cannot be run" in client.get(response["Location"]).content.decode()
    assert run_queued() == Status.INVALID
    assert reload(client_import).status == Status.INVALID
    assert clients_of(agency) == 0

    client.post(reverse("clients:import_cancel", args=[client_import.pk]))
    assert reload(client_import).status == Status.CANCELLED


def test_a_run_with_a_recent_heartbeat_is_left_alone(agency, admin):
    checking = upload(agency, admin)
    assert importing.recover_stalled_imports(now=later(STALL - 5)) == 0
    assert reload(checking).status == Status.VALIDATING

    # Progress at minute 9 keeps it alive at minute 11; silence until minute 19 does not.
    with agency_scope(agency):
        ClientImport.objects.for_agency(agency).filter(pk=checking.pk).update(heartbeat_at=later(-9 * 60))
        importing._progress(checking, 1)
    assert importing.recover_stalled_imports(now=later(2 * 60)) == 0
    assert reload(checking).status == Status.VALIDATING
    assert importing.recover_stalled_imports(now=later(STALL + 1)) == 1


def test_finished_and_waiting_imports_are_never_touched(agency, admin, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    ready = upload(agency, admin, django_capture_on_commit_callbacks)
    assert reload(ready).status == Status.READY
    assert importing.recover_stalled_imports(now=later(10 * STALL)) == 0
    assert reload(ready).status == Status.READY


def test_the_stall_delay_is_a_setting_and_an_import_without_a_heartbeat_counts_from_its_upload(agency, admin, settings):
    settings.CLIENT_IMPORT_STALL_SECONDS = 60
    client_import = upload(agency, admin)
    with agency_scope(agency):
        ClientImport.objects.for_agency(agency).filter(pk=client_import.pk).update(heartbeat_at=None, created_at=later(-30))
    assert importing.recover_stalled_imports() == 0
    assert importing.recover_stalled_imports(now=later(31)) == 1
    assert reload(client_import).status == Status.INVALID


def test_every_step_of_a_run_moves_the_heartbeat(agency, admin, monkeypatch, django_capture_on_commit_callbacks):
    long_ago = later(-3600)

    def age(client_import: ClientImport) -> None:
        with agency_scope(agency):
            ClientImport.objects.for_agency(agency).filter(pk=client_import.pk).update(heartbeat_at=long_ago)

    # What the heartbeat is when a worker starts going through the rows.
    seen = []
    clean_rows = importing.clean_rows

    def watched(client_import, *args, **kwargs):
        seen.append(reload(client_import).heartbeat_at)
        return clean_rows(client_import, *args, **kwargs)

    monkeypatch.setattr(importing, "clean_rows", watched)

    client_import = upload(agency, admin, django_capture_on_commit_callbacks)
    assert reload(client_import).heartbeat_at > long_ago

    age(client_import)
    with agency_scope(agency):
        importing._progress(client_import, 2)
    assert (reload(client_import).heartbeat_at > long_ago, reload(client_import).processed_rows) == (True, 2)

    # A worker picking the check up late shows it is alive first, and again when it ends.
    age(client_import)
    assert run_queued() == Status.READY
    assert seen.pop() > long_ago
    assert reload(client_import).heartbeat_at > long_ago

    age(client_import)
    with agency_scope(agency), django_capture_on_commit_callbacks(execute=True):
        importing.start_import(reload(client_import), admin, skip_duplicates=True)
    assert reload(client_import).heartbeat_at > long_ago

    age(client_import)
    assert run_queued() == Status.DONE
    assert seen.pop() > long_ago
    assert reload(client_import).heartbeat_at > long_ago


def test_another_agencys_stalled_import_is_recovered_by_the_system_job_and_audited_in_its_own_agency(
    agency, other_agency, admin, outsider
):
    ours, theirs = upload(agency, admin), upload(other_agency, outsider)
    with agency_scope(other_agency):
        ClientImport.objects.for_agency(other_agency).filter(pk=theirs.pk).update(heartbeat_at=later(-(STALL + 60)))

    assert tasks.recover_stalled_imports.call() == 1

    assert reload(theirs).status == Status.INVALID
    assert reload(ours).status == Status.VALIDATING
    [event] = [e for e in status_events(other_agency, theirs) if e.changes["status"][1] == Status.INVALID]
    assert (event.agency, event.actor, event.actor_label) == (other_agency, None, "")
    with agency_scope(agency):
        assert not AuditEvent.objects.for_agency(agency).filter(object_id=str(theirs.pk)).exists()


def test_the_recovery_job_is_scheduled_every_five_minutes_and_skips_while_another_run_holds_its_lease(agency, admin):
    job = get_job("clients.recover_stalled_imports")
    assert job in PERIODIC_JOBS
    assert job.every == 300
    assert job.get_task() is tasks.recover_stalled_imports

    client_import = upload(agency, admin)
    with agency_scope(agency):
        ClientImport.objects.for_agency(agency).filter(pk=client_import.pk).update(heartbeat_at=later(-(STALL + 60)))
    with job_lease("clients.recover_stalled_imports"):
        assert tasks.recover_stalled_imports.call() == 0
    assert reload(client_import).status == Status.VALIDATING
    assert tasks.recover_stalled_imports.call() == 1
