"""The default Document Types for existing agencies (new agencies get them from
caseload.documents.types.seed_document_types, called by tenancy.actions.create_agency)."""

from django.db import migrations

DEFAULTS = [
    ("Resume", "Curriculum vitae"),
    ("Cover letter", "Lettre de présentation"),
    ("Identification", "Pièce d'identité"),
    ("Immigration document", "Document d'immigration"),
    ("Pay stub", "Talon de paie"),
    ("Employment letter", "Lettre d'emploi"),
    ("Receipt", "Reçu"),
    ("Certificate or diploma", "Certificat ou diplôme"),
    ("Assessment report", "Rapport d'évaluation"),
    ("Consent form", "Formulaire de consentement"),
    ("Other", "Autre"),
]


def seed(apps, schema_editor):
    Agency = apps.get_model("tenancy", "Agency")
    DocumentType = apps.get_model("documents", "DocumentType")
    for agency in Agency.objects.all():
        for position, (name, name_fr) in enumerate(DEFAULTS):
            DocumentType.objects.get_or_create(agency=agency, name=name, defaults={"name_fr": name_fr, "position": position})


class Migration(migrations.Migration):
    dependencies = [
        ("documents", "0001_initial"),
        ("tenancy", "0005_outcomes_permissions"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
