from __future__ import annotations

import importlib

import pytest
from django.db import connection

from caseload.clients.actions import refresh_search_keys
from caseload.clients.matching import REASON_SIMILAR_NAME, search_fields
from caseload.clients.models import Client
from caseload.clients.queries import CANDIDATE_LIMIT, name_candidates, search_clients
from caseload.tenancy.scoping import agency_scope

trigram_migration = importlib.import_module("caseload.clients.migrations.0002_trigram")
drop_migration = importlib.import_module("caseload.clients.migrations.0006_drop_trigram_indexes")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists only on PostgreSQL")
TRIGRAM_INDEXES = {"client_name_folded_trgm": "name_folded", "client_name_phonetic_trgm": "name_phonetic"}


def trigram_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'clients_client' AND indexname LIKE '%%_trgm'")
        return dict(cursor.fetchall())


def add_decoys(agency, count: int, family_name: str = "") -> None:
    """``count`` clients named "Alisa Baker000"…, whose family names sort before "Fontaine" (or all "Alisa ``family_name``")."""
    start = 1000
    decoys = []
    for n in range(count):
        client = Client(agency=agency, client_number=start + n, given_name="Alisa", family_name=family_name or f"Baker{n:03d}")
        for name, value in search_fields(client.given_name, client.family_name, "", "").items():
            setattr(client, name, value)
        decoys.append(client)
    with agency_scope(agency):
        Client.objects.for_agency(agency).bulk_create(decoys)
        refresh_search_keys(decoys)


@postgresql_only
def test_the_trigram_extension_stays_and_its_unused_indexes_are_dropped_by_0006(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)
    assert trigram_indexes() == {}


@postgresql_only
def test_the_0006_migration_reverses_to_the_gin_indexes_of_0002(db):
    with connection.schema_editor() as editor:
        drop_migration.Migration.operations[0].reverse_code(None, editor)
    indexes = trigram_indexes()
    assert set(indexes) == set(TRIGRAM_INDEXES)
    for name, column in TRIGRAM_INDEXES.items():
        assert "USING gin" in indexes[name]
        assert f"{column} gin_trgm_ops" in indexes[name]
    with connection.schema_editor() as editor:
        drop_migration.Migration.operations[0].code(None, editor)
    assert trigram_indexes() == {}


@postgresql_only
def test_the_trigram_migration_reverses_and_reapplies(db):
    with connection.schema_editor() as editor:
        trigram_migration.create_trigram_indexes(None, editor)
    assert set(trigram_indexes()) == set(TRIGRAM_INDEXES)
    with connection.schema_editor() as editor:
        trigram_migration.drop_trigram_indexes(None, editor)
    assert trigram_indexes() == {}


def test_the_trigram_migration_does_nothing_off_postgresql(db):
    class NotPostgres:
        class connection:
            vendor = "sqlite"

        def execute(self, sql):
            raise AssertionError(f"ran {sql}")

    trigram_migration.create_trigram_indexes(None, NotPostgres())
    trigram_migration.drop_trigram_indexes(None, NotPostgres())


def test_it_finds_the_best_match_behind_more_than_the_candidate_limit_of_common_names(agency, other_agency, register):
    add_decoys(agency, CANDIDATE_LIMIT + 100)
    alissa = register(agency, given_name="Alissa", family_name="Fontaine")
    register(other_agency, given_name="Alissa", family_name="Fontaine")
    with agency_scope(agency):
        found = search_clients(agency, "Alisa Fontane")
    assert found[0].client == alissa
    assert found[0].reasons == [REASON_SIMILAR_NAME]
    assert all(match.client.agency_id == agency.pk for match in found)
    assert len(found) == 25


def test_a_status_search_behind_more_than_the_candidate_limit_ranks_within_that_status(agency, register):
    """The first candidates by keys are all of another status: search ranks again among the status's clients."""
    # More active namesakes of the typed name than the candidates read, each ahead of the archived client by keys.
    add_decoys(agency, CANDIDATE_LIMIT + 10, family_name="Fontane")
    alissa = register(agency, given_name="Alissa", family_name="Fontaine")
    with agency_scope(agency):
        Client.objects.for_agency(agency).filter(pk=alissa.pk).update(status=Client.Status.ARCHIVED)
        archived = search_clients(agency, "Alisa Fontane", status=Client.Status.ARCHIVED)
        active = search_clients(agency, "Alisa Fontane", status=Client.Status.ACTIVE)
    assert [match.client for match in archived] == [alissa]
    assert len(active) == 25 and alissa not in [match.client for match in active]


def test_name_candidates_come_in_a_stable_order_with_the_closest_first(agency, register):
    add_decoys(agency, 30)
    alissa = register(agency, given_name="Alissa", family_name="Fontaine")
    with agency_scope(agency):
        base = Client.objects.for_agency(agency)
        first = list(name_candidates(base, "Alisa Fontane"))
        again = list(name_candidates(base, "Alisa Fontane"))
    assert first == again
    assert first[0] == alissa
    assert len(first) == 31
