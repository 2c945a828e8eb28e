"""The current agency: which rows a query may reach.

Two locks hold tenancy. The first is django-scopes: every agency-owned model's default manager
refuses to run a query unless an agency scope is active (or the code asked for one agency with
``for_agency``), so a forgotten filter fails loudly in tests instead of leaking in production.
The second, on PostgreSQL, is row-level security on ``agency_id``: ``agency_scope`` also sets the
``caseload.agency_id`` setting of the connection, which the policies compare every row against.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connection, models
from django_scopes import ScopedManager, get_scope, scope, scopes_disabled
from django_scopes.exceptions import ScopeError

if TYPE_CHECKING:
    from caseload.tenancy.models import Agency

RLS_SETTING = "caseload.agency_id"

__all__ = ["ScopeError", "agency_manager", "agency_scope", "all_agencies", "current_agency"]


def _set_rls(value: str) -> str | None:
    """Set the connection's RLS agency and return the previous value (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true), set_config(%s, %s, false)", [RLS_SETTING, RLS_SETTING, value])
        previous = cursor.fetchone()[0]
    return previous or ""


@contextmanager
def agency_scope(agency: Agency) -> Iterator[None]:
    """Run the block as the given agency: queries without a filter see only its rows."""
    if agency is None or agency.pk is None:
        raise ScopeError("agency_scope needs a saved agency")
    previous = _set_rls(str(agency.pk))
    try:
        with scope(agency=agency):
            yield
    finally:
        _restore_rls(previous)


def _restore_rls(previous: str | None) -> None:
    if previous is None:
        return
    try:
        _set_rls(previous)
    except DatabaseError:
        # A broken transaction rolls back, and the rollback restores the setting with it.
        if not connection.in_atomic_block:
            raise


@contextmanager
def all_agencies() -> Iterator[None]:
    """Run the block across every agency: for migrations, workers and commands, never for requests."""
    previous = _set_rls("")
    try:
        with scopes_disabled():
            yield
    finally:
        _restore_rls(previous)


def current_agency() -> Agency | None:
    state = get_scope()
    if not state.get("_enabled", True):
        return None
    return state.get("agency")


class AgencyQuerySet(models.QuerySet):
    pass


class _AgencyManagerBase(models.Manager):
    def for_agency(self, agency: Agency) -> models.QuerySet:
        """Rows of one agency; refuses to cross into another agency from inside a scope."""
        if agency is None or getattr(agency, "pk", None) is None:
            raise ScopeError("for_agency needs a saved agency")
        active = current_agency()
        if active is not None and active.pk != agency.pk:
            raise ScopeError("for_agency was asked for another agency than the one in scope")
        return self.with_scope(agency=agency).get_queryset()


def agency_manager(queryset_class: type[models.QuerySet] = AgencyQuerySet) -> Any:
    """The default manager of an agency-owned model (scoped on its ``agency`` field)."""
    return ScopedManager(_manager_class=_AgencyManagerBase.from_queryset(queryset_class), agency="agency")
