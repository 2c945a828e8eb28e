"""The sessions, service forms and agency-question permissions for existing agencies' seeded roles.

New agencies get them from SEEDED_ROLES; roles an agency made itself are left as they are.
"""

from django.db import migrations

DELIVERY = ["delivery.view", "delivery.change"]
MANAGING = [*DELIVERY, "delivery.all_programs", "delivery.configure", "delivery.export"]
ADDED = {
    "Administrator": [*MANAGING, "forms.configure"],
    "Manager": MANAGING,
    "Caseworker": DELIVERY,
    "Read-only auditor": ["delivery.view", "delivery.all_programs"],
}


def grant(apps, schema_editor):
    Role = apps.get_model("tenancy", "Role")
    for role in Role.objects.filter(is_seeded=True, name__in=ADDED):
        role.permissions = sorted(set(role.permissions) | set(ADDED[role.name]))
        role.save(update_fields=["permissions"])


def revoke(apps, schema_editor):
    Role = apps.get_model("tenancy", "Role")
    for role in Role.objects.filter(is_seeded=True, name__in=ADDED):
        role.permissions = sorted(set(role.permissions) - set(ADDED[role.name]))
        role.save(update_fields=["permissions"])


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0003_agency_grants_casework_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
