"""Drop the B-tree indexes on (agency, name_folded) and (agency, name_phonetic): nothing filters on them.

Name search looks names up in ClientSearchKey (0004); the duplicate checks read name_folded beside
the rows they find by date of birth, phone or email; nothing orders by either. The two indexes only
cost: every insert and name change wrote them (two of the client table's seventeen).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_drop_trigram_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="client", name="client_agency_name_folded"),
        migrations.RemoveIndex(model_name="client", name="client_agency_name_phonetic"),
    ]
