from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "caseload.casework"
    label = "casework"
