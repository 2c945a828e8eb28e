"""The casework pages' entries for the URL sweep (caseload/tenancy/tests/test_url_sweep.py).

URLs take one ``pk``: a client's (``/clients/<pk>/notes/``) or a record's (``/notes/<pk>/edit/``).
Add a row factory per URL name here; URLs the sweep cannot fill go in SKIPPED with the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from caseload.tenancy.models import Agency


def a_client(agency: Agency) -> models.Model:
    from caseload.clients.actions import register_client
    from caseload.tenancy.scoping import agency_scope

    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad", "email": "amina@example.org"})


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {}

OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {}

SKIPPED: dict[str, str] = {}
