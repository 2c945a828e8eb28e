from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "caseload.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"
