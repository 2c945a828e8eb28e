from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "caseload.api"
    label = "api"
