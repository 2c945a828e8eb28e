"""``manage.py export_form KEY [--version N]``: a loaded definition as JSON on standard output."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from caseload.formbuilder import loading
from caseload.formbuilder.models import FormDefinition


class Command(BaseCommand):
    help = "Print a loaded form definition (the latest version unless --version) in the file format."

    def add_base_argument(self, parser, *args, **kwargs) -> None:
        if "--version" not in args:  # --version here is the form's version, not Django's
            super().add_base_argument(parser, *args, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key")
        parser.add_argument("--version", dest="form_version", type=int, help="the version (default: the latest)")

    def handle(self, *args, key: str, form_version: int | None, **options) -> None:
        if form_version is None:
            definition = loading.current_definition(key)
        else:
            definition = FormDefinition.objects.filter(key=key, version=form_version).first()
        if definition is None:
            raise CommandError(f"no form {key!r}" + (f" version {form_version}" if form_version else "") + " is loaded")
        self.stdout.write(json.dumps(loading.export_definition(definition), ensure_ascii=False, indent=2))
