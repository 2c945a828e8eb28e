from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "caseload.delivery"
    label = "delivery"
    verbose_name = "Sessions and service records"

    def ready(self) -> None:
        from caseload.delivery import feeds

        feeds.register()
