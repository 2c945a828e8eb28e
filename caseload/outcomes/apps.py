from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "caseload.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes and checkpoints"
