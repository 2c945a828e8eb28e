"""``manage.py load_forms [FILE ...]``: load form definitions (no files: the standard set)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseload.formbuilder import loading
from caseload.formbuilder.engine import DefinitionError


class Command(BaseCommand):
    help = "Load form definition files (docs/forms.md); without files, every standard form."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="definition files (JSON); default: caseload/formbuilder/standard/*.json")

    def handle(self, *args, files: list[str], **options) -> None:
        try:
            results = [loading.load_file(path) for path in files] if files else loading.load_standard_forms()
        except DefinitionError as error:
            raise CommandError("\n".join(error.problems))
        for definition, created in results:
            state = "created" if created else "unchanged"
            self.stdout.write(f"{definition.key} v{definition.version}: {state}")
