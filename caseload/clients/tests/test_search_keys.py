"""Search keys (ClientSearchKey): written with every name, looked up by equality so PostgreSQL's index
serves name search under row-level security, and finding typos, sounds, accents and prefixes."""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.apps import apps
from django.db import connection, transaction

from caseload.clients import matching
from caseload.clients.actions import update_client
from caseload.clients.merging import merge_clients, unmerge
from caseload.clients.models import Client, ClientSearchKey
from caseload.clients.queries import CANDIDATE_LIMIT, key_candidates, name_candidates, search_clients
from caseload.clients.tests.test_import import GOOD_ROWS, confirm, csv_upload, latest_import, post_file
from caseload.tenancy.demo import seed_clients
from caseload.tenancy.scoping import agency_scope, all_agencies

keys_migration = importlib.import_module("caseload.clients.migrations.0004_search_keys")
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security exists only on PostgreSQL")


class SchemaEditor:
    """What the data migration reads of its schema editor (SQLite refuses a real one inside a test's transaction)."""

    connection = connection


def keys_of(client: Client) -> dict[str, int]:
    with agency_scope(client.agency):
        return dict(ClientSearchKey.objects.for_agency(client.agency).filter(client=client).values_list("key", "weight"))


def found(agency, text: str) -> list[Client]:
    with agency_scope(agency):
        return [match.client for match in search_clients(agency, text)]


# --- The keys -------------------------------------------------------------------------------------


def test_a_name_has_its_tokens_deletions_prefixes_and_sounds_as_keys():
    keys = matching.search_keys("Mohamed", "Côté", "")
    assert keys["mohamed"] == matching.TOKEN_WEIGHT
    assert keys["cote"] == matching.TOKEN_WEIGHT
    assert keys["mohmed"] == keys["ohamed"] == matching.SPELLING_WEIGHT
    assert keys["moh"] == keys["moham"] == matching.PREFIX_WEIGHT
    assert keys["MHMT"] == matching.SOUND_WEIGHT
    # Tokens shorter than four letters have no deletions (two-letter spellings would match almost anyone).
    assert not any(len(key) < 3 for key in keys if key.islower())


def test_a_name_in_another_script_is_its_own_key_and_long_keys_are_cut():
    assert matching.search_keys("王", "秀英") == {"王": matching.TOKEN_WEIGHT, "秀英": matching.TOKEN_WEIGHT}
    assert "محمد" in matching.search_keys("محمد")
    assert all(len(key) <= matching.SEARCH_KEY_LENGTH for key in matching.search_keys("x" * 120))
    assert all(len(key) <= matching.SEARCH_KEY_LENGTH for key in matching.query_keys("x" * 120))


def test_registering_writes_the_keys_and_updating_a_name_replaces_them(agency, register, admin):
    client = register(agency, given_name="Amina", family_name="Haddad")
    assert keys_of(client) == matching.search_keys("Amina", "Haddad", "")
    with agency_scope(agency):
        update_client(client, admin, {"family_name": "Tremblay", "preferred_name": "Mina"})
    assert keys_of(client) == matching.search_keys("Amina", "Tremblay", "Mina")
    assert found(agency, "Haddad") == []
    assert found(agency, "Tremblay") == [client]


def test_an_anonymous_client_has_no_keys(agency, register):
    client = register(agency, is_anonymous=True, age_range="25-34")
    assert keys_of(client) == {}


def test_clients_seeded_in_bulk_get_their_keys(agency):
    with agency_scope(agency):
        seed_clients(agency, 53)
        bulk = Client.objects.for_agency(agency).get(client_number=53)
    assert keys_of(bulk) == matching.search_keys(bulk.given_name, bulk.family_name, bulk.preferred_name)


def test_imported_clients_get_their_keys(client, admin, agency, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(admin)
    post_file(client, csv_upload(GOOD_ROWS), django_capture_on_commit_callbacks)
    confirm(client, latest_import(agency), django_capture_on_commit_callbacks)
    with agency_scope(agency):
        imported = list(Client.objects.for_agency(agency).order_by("client_number"))
    assert len(imported) == len(GOOD_ROWS)
    for one in imported:
        assert keys_of(one) == matching.search_keys(one.given_name, one.family_name, one.preferred_name)
    assert found(agency, "Francois Cote")[0].family_name == "Côté"


def test_a_merge_gives_the_kept_profile_the_keys_of_what_it_gained_and_unmerge_takes_them_back(agency, register, admin):
    kept = register(agency, given_name="Amina", family_name="Haddad", date_of_birth=date(1985, 3, 12))
    merged = register(agency, given_name="Aminah", family_name="Hadad", preferred_name="Tchaka")
    with agency_scope(agency):
        merge = merge_clients(kept, merged, admin, "Same person")
    # The kept profile gained the preferred name; the merged one loses its keys (search never finds it).
    assert keys_of(kept) == matching.search_keys("Amina", "Haddad", "Tchaka")
    assert keys_of(merged) == {}
    assert found(agency, "Tchaka") == [kept]
    with agency_scope(agency):
        unmerge(merge, admin)
    assert keys_of(kept) == matching.search_keys("Amina", "Haddad", "")
    assert keys_of(merged) == matching.search_keys("Aminah", "Hadad", "Tchaka")
    assert found(agency, "Tchaka") == [merged]


def test_the_migration_builds_the_keys_of_existing_clients(agency, other_agency, register):
    ours = register(agency, given_name="Hélène", family_name="Gagné")
    theirs = register(other_agency, given_name="Wei", family_name="Tanaka")
    with all_agencies():
        ClientSearchKey.objects.all().delete()
        keys_migration.build_search_keys(apps, SchemaEditor())
    assert keys_of(ours) == matching.search_keys("Hélène", "Gagné", "")
    assert keys_of(theirs) == matching.search_keys("Wei", "Tanaka", "")
    with all_agencies():
        assert set(ClientSearchKey.objects.filter(client=theirs).values_list("agency_id", flat=True)) == {other_agency.pk}


# --- Finding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("Fontaine Alissa", "the name as registered, words swapped"),
        ("Fontiane", "two letters swapped"),
        ("Fontane", "a letter left out"),
        ("Fontainne", "a letter added"),
        ("Fontaime", "a letter changed"),
        ("Fon", "a prefix of three letters, as the search box is typed in"),
        ("Fontai", "a longer prefix"),
        ("Alis", "a prefix of the given name"),
        ("FONTAINE", "another case"),
        ("Fóntaine", "another accent"),
    ],
)
def test_it_finds_a_client_from_a_variant_of_the_name(agency, register, typed, why):
    alissa = register(agency, given_name="Alissa", family_name="Fontaine")
    register(agency, given_name="Ingrid", family_name="Lindqvist")
    assert found(agency, typed) == [alissa], why


def test_it_finds_names_that_sound_alike_or_differ_by_accents(agency, register):
    muhammad = register(agency, given_name="Muhammad", family_name="Rahman")
    francois = register(agency, given_name="François", family_name="Côté")
    register(agency, given_name="Ingrid", family_name="Lindqvist")
    assert found(agency, "Mohamed") == [muhammad]
    assert found(agency, "Francois") == [francois]
    assert found(agency, "Muham") == [muhammad]


def test_a_client_matching_every_word_comes_before_many_matching_one_word_better(agency, register):
    for n in range(40):
        register(agency, given_name="Alisa", family_name=f"Baker{n:02d}")
    alissa = register(agency, given_name="Alissa", family_name="Fontaine")
    with agency_scope(agency):
        first = name_candidates(Client.objects.for_agency(agency).filter(agency=agency), "Alisa Fontane").first()
    assert first == alissa


def test_another_agencys_keys_never_match(agency, other_agency, register):
    register(other_agency, given_name="Alissa", family_name="Fontaine")
    ours = register(agency, given_name="Ingrid", family_name="Lindqvist")
    with agency_scope(agency):
        base = Client.objects.for_agency(agency).filter(agency=agency)
        assert list(name_candidates(base, "Alissa Fontaine")) == []
        assert list(name_candidates(base, "Ingrid")) == [ours]
    assert found(agency, "Fontaine") == []


def explain(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@postgresql_only
def test_postgresql_looks_the_keys_up_in_their_index_under_row_level_security(agency, register):
    register(agency, given_name="Alissa", family_name="Fontaine")
    with agency_scope(agency):
        seed_clients(agency, 400)
    with agency_scope(agency), transaction.atomic(), connection.cursor() as cursor:
        # Statistics as autovacuum gathers them: with none, the planner reads the whole agency's keys.
        for model in (Client, ClientSearchKey):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False,), "run the tests as the app role, which row-level security binds"
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [ClientSearchKey._meta.db_table])
        assert cursor.fetchone() == (True, True)
        # A few rows make a sequential scan cheapest; forbid it to see whether the index may be used at all
        # (under row-level security a LIKE or pg_trgm condition never reaches an index, whatever the cost).
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = [
            explain(key_candidates(agency, "Alisa Fontane")[:CANDIDATE_LIMIT]),
            explain(name_candidates(Client.objects.for_agency(agency).filter(agency=agency), "Alisa Fontane")[:CANDIDATE_LIMIT]),
        ]
    for plan in plans:
        on_keys = plan.split("using client_search_key on clients_clientsearchkey", 1)
        assert len(on_keys) == 2, plan
        condition = on_keys[1].split("Index Cond:", 1)[1].splitlines()[0]
        assert "agency_id =" in condition and "= ANY" in condition, plan


def test_the_first_letters_typed_find_the_name(agency, register):
    mohamed = register(agency, given_name="Mohamed", family_name="Diallo")
    register(agency, given_name="Ingrid", family_name="Lindqvist")
    for typed in ("Moh", "Moha", "Mohame", "moh dia"):
        assert found(agency, typed) == [mohamed], typed
