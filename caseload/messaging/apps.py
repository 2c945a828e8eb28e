from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "caseload.messaging"
    label = "messaging"
