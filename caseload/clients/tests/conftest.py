from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import transaction

from caseload.clients.actions import register_client
from caseload.tenancy.scoping import agency_scope


@contextmanager
def rolled_back():
    """One hypothesis example's writes, undone when it ends, so examples never see each other's clients."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def register():
    def make(agency, **data):
        with agency_scope(agency):
            return register_client(agency=agency, actor=None, data=data)

    return make
