"""The default supportive service types, for agencies that existed before service types did.

New agencies get them from caseload.casework.services.seed_service_types (called by
tenancy.actions.create_agency). An agency that already has service types is left as it is.
Reversing does nothing: the types may be in use by then, and they are the agency's to keep.
"""

from django.db import migrations

# A copy of services.DEFAULT_SERVICE_TYPES as it was when this migration was written.
DEFAULTS = [
    "Transportation",
    "Childcare",
    "Work clothing",
    "Tools and equipment",
    "Exam and certification fees",
    "Interpretation",
    "Food",
    "Housing support",
    "Internet and phone",
    "Other",
]


def seed(apps, schema_editor):
    Agency = apps.get_model("tenancy", "Agency")
    SupportServiceType = apps.get_model("casework", "SupportServiceType")
    with_types = set(SupportServiceType.objects.values_list("agency_id", flat=True).distinct())
    rows = [
        SupportServiceType(agency_id=agency_id, name=name)
        for agency_id in Agency.objects.exclude(pk__in=with_types).values_list("pk", flat=True)
        for name in DEFAULTS
    ]
    SupportServiceType.objects.bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
