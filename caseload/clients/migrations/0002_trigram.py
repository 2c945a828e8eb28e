"""Trigram indexes for client name search, on PostgreSQL only (SQLite has no pg_trgm; nothing to do there).

pg_trgm is a trusted extension since PostgreSQL 13, so the database owner creates it without superuser.
The indexes serve queries.name_candidates: the word-similarity filter and similarity ordering on
name_folded, and the LIKE '%…%' substring/phonetic filters on name_folded and name_phonetic.
Reversing drops the indexes and keeps the extension, which other objects may rely on.
"""

from django.db import migrations

INDEXES = {
    "client_name_folded_trgm": "name_folded",
    "client_name_phonetic_trgm": "name_phonetic",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON clients_client USING gin ({column} gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
