from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "caseload.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from caseload.tenancy import permissions, rls  # noqa: F401  (permissions registers the rules)

        post_migrate.connect(rls.apply_row_level_security, sender=self)
