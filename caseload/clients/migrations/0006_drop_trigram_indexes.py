"""Drop the trigram indexes of 0002 (PostgreSQL only): nothing reads them since search keys (0004).

Name search looks up ClientSearchKey by equality (row-level security keeps LIKE and pg_trgm
operators off their indexes), so the two GIN indexes on name_folded and name_phonetic only cost:
every insert and name change updates them (the client import spent much of its time there).
The pg_trgm extension stays (other objects may rely on it). Reversing builds the indexes again.
"""

import importlib

from django.db import migrations

trigram = importlib.import_module("caseload.clients.migrations.0002_trigram")


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0005_import_heartbeat"),
    ]

    operations = [
        migrations.RunPython(trigram.drop_trigram_indexes, trigram.create_trigram_indexes, elidable=False),
    ]
