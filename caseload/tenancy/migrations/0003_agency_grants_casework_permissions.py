"""Grants management on the agency, and the casework permissions for existing agencies' seeded roles.

New agencies get them from SEEDED_ROLES; roles an agency made itself are left as they are.
"""

from django.db import migrations, models

CASEWORK = ["casework.view", "casework.change", "casework.batch"]
ADDED = {
    "Administrator": [*CASEWORK, "casework.export", "casework.configure", "casework.approve_overspend"],
    "Manager": [*CASEWORK, "casework.export", "casework.configure", "casework.approve_overspend"],
    "Caseworker": CASEWORK,
    "Read-only auditor": ["casework.view"],
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
        ('tenancy', '0002_client_permissions'),
    ]

    operations = [
        migrations.AddField(
            model_name='agency',
            name='grants_management',
            field=models.BooleanField(default=False, help_text='Supportive services can draw on grants, with budgets tracked.', verbose_name='grants management'),
        ),
        migrations.RunPython(grant, revoke),
    ]
