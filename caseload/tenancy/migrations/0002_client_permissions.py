"""Give the seeded roles of existing agencies the client permissions added with the client actions.

New agencies get them from SEEDED_ROLES; roles an agency made itself are left as they are.
"""

from django.db import migrations

ADDED = {
    "Administrator": [
        "clients.assign",
        "clients.flag",
        "clients.refer",
        "clients.archive",
        "clients.link",
        "clients.portal",
        "clients.merge",
        "clients.import",
    ],
    "Manager": [
        "clients.assign",
        "clients.flag",
        "clients.refer",
        "clients.archive",
        "clients.link",
        "clients.portal",
        "clients.import",
    ],
    "Caseworker": ["clients.assign", "clients.flag", "clients.refer", "clients.link", "clients.portal"],
    "Front desk": ["clients.portal"],
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
        ("tenancy", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(grant, revoke),
    ]
