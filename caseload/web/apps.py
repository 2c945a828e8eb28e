from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "caseload.web"
    label = "web"
