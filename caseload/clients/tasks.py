"""Background work of the client registry: checking and running large imports, and closing
those whose worker died (a periodic system job).

Each task runs in the scope of the import's agency (row-level security binds it on PostgreSQL)
and in the language of the user who started it, so the errors it writes read as the page does.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import translation
from django_tasks import task

from caseload.clients import importing
from caseload.clients.models import ClientImport
from caseload.scheduling.leases import job_lease
from caseload.tenancy.models import Agency
from caseload.tenancy.scoping import agency_scope


@task()
def validate_client_import(import_id: int, agency_id: int, language: str = "en") -> str:
    agency = Agency.objects.get(pk=agency_id)
    with agency_scope(agency), translation.override(language):
        client_import = ClientImport.objects.for_agency(agency).filter(pk=import_id).first()
        if client_import is None:
            return "missing"
        return importing.validate_import(client_import).status


@task()
def run_client_import(import_id: int, agency_id: int, actor_id: int | None, skip_duplicates: bool, language: str = "en") -> str:
    agency = Agency.objects.get(pk=agency_id)
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    with agency_scope(agency), translation.override(language):
        client_import = ClientImport.objects.for_agency(agency).filter(pk=import_id).first()
        if client_import is None:
            return "missing"
        return importing.import_clients(client_import, actor, skip_duplicates=skip_duplicates).status


@task()
def recover_stalled_imports() -> int:
    """Every 5 minutes (caseload/scheduling/jobs.py): close the checks and imports of every agency
    whose worker died, so they can be run again."""
    with job_lease("clients.recover_stalled_imports") as acquired:
        if not acquired:
            return 0
        return importing.recover_stalled_imports()
