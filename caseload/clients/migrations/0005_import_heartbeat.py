"""ClientImport.heartbeat_at: when a background check or import last showed it was alive."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0004_search_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="clientimport",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
