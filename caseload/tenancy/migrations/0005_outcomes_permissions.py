"""The documents, outcomes and message-template permissions for existing agencies' seeded roles.

New agencies get them from SEEDED_ROLES; roles an agency made itself are left as they are.
"""

from django.db import migrations

WORKING = ["documents.view", "documents.change", "outcomes.view", "outcomes.change"]
MANAGING = [*WORKING, "documents.configure", "outcomes.submit", "outcomes.configure", "messages.templates"]
ADDED = {
    "Administrator": MANAGING,
    "Manager": MANAGING,
    "Caseworker": WORKING,
    "Read-only auditor": ["documents.view", "outcomes.view"],
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
        ("tenancy", "0004_delivery_permissions"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
