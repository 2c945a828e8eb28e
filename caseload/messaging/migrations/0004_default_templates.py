"""The default message templates for existing agencies (new agencies get them from
caseload.messaging.templates, seeded by tenancy.actions.create_agency)."""

from django.db import migrations

from caseload.messaging.templates import DEFAULTS


def seed(apps, schema_editor):
    Agency = apps.get_model("tenancy", "Agency")
    MessageTemplate = apps.get_model("messaging", "MessageTemplate")
    for agency in Agency.objects.all():
        for (purpose, channel, language), (subject, body) in DEFAULTS.items():
            MessageTemplate.objects.get_or_create(
                agency=agency, purpose=purpose, channel=channel, language=language, defaults={"subject": subject, "body": body}
            )


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_messagetemplate"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
