from django.apps import AppConfig


class FormbuilderConfig(AppConfig):
    name = "caseload.formbuilder"
    label = "formbuilder"
    verbose_name = "Forms"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from caseload.formbuilder import loading

        # The standard forms are data shipped with the code: every migrate brings them up to date.
        post_migrate.connect(loading.load_after_migrate, sender=self)
