"""Search keys of client names (ClientSearchKey), built here for the clients that already exist.

The table is created without its index, filled in batches (the pure matching.search_keys, written
with the historical model's bulk_create), then indexed: one index build is faster than keeping it
up to date row by row. Reversing drops the table (the keys are derived; nothing is lost).
"""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def build_search_keys(apps, schema_editor):
    from caseload.clients.matching import search_keys

    Client = apps.get_model("clients", "Client")
    ClientSearchKey = apps.get_model("clients", "ClientSearchKey")
    db = schema_editor.connection.alias
    # Merged profiles get none: search never finds them (unmerge gives them back).
    clients = Client.objects.using(db).exclude(status="merged").order_by("pk").values_list("pk", "agency_id", "given_name", "family_name", "preferred_name")
    last = 0
    while True:
        batch = list(clients.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        keys = [
            ClientSearchKey(agency_id=agency_id, client_id=pk, key=key, weight=weight)
            for pk, agency_id, given, family, preferred in batch
            for key, weight in search_keys(given, family, preferred).items()
        ]
        ClientSearchKey.objects.using(db).bulk_create(keys, batch_size=5000)
        last = batch[-1][0]


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0003_profile_consent_actions_import"),
        ("tenancy", "0002_client_permissions"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClientSearchKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=64)),
                ("weight", models.PositiveSmallIntegerField(default=1)),
                (
                    "agency",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.agency",
                        verbose_name="agency",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="search_keys", to="clients.client"
                    ),
                ),
            ],
            options={
                "verbose_name": "search key",
                "verbose_name_plural": "search keys",
            },
        ),
        migrations.RunPython(build_search_keys, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="clientsearchkey",
            index=models.Index(fields=["agency", "key", "client", "weight"], name="client_search_key"),
        ),
    ]
