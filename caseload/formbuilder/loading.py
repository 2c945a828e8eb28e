"""Loading form definitions into the database, exporting them, and finding the versions to use.

A loaded version is never changed: loading the same key and version again with the same content
does nothing, with other content it is refused (a change is a new version).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction

from caseload.formbuilder import engine
from caseload.formbuilder.engine import DefinitionError
from caseload.formbuilder.models import CLIENT_PROFILE, FormDefinition, FormExtension

STANDARD_DIR = Path(__file__).resolve().parent / "standard"


def load_definition(data: Any, *, standard: bool = True, using: str = DEFAULT_DB_ALIAS) -> tuple[FormDefinition, bool]:
    """Load one definition (the file shape): ``(definition, created)``."""
    engine.check_definition(data)
    spec = json.loads(json.dumps(data))  # plain JSON, as the database will give it back
    existing = _loaded(spec, using)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic(using=using):
            definition = FormDefinition.objects.using(using).create(
                key=spec["key"],
                version=spec["version"],
                name_en=spec["name"]["en"],
                name_fr=spec["name"]["fr"],
                scope=spec["scope"],
                spec=spec,
                is_standard=standard,
            )
    except IntegrityError:  # loaded meanwhile by another process
        existing = _loaded(spec, using)
        if existing is None:
            raise
        return existing, False
    return definition, True


def _loaded(spec: dict, using: str) -> FormDefinition | None:
    """The version already loaded, if any; refused if its content differs."""
    existing = FormDefinition.objects.using(using).filter(key=spec["key"], version=spec["version"]).first()
    if existing is not None and existing.spec != spec:
        raise DefinitionError(
            [f"version {spec['version']} of {spec['key']} is already loaded with other content; give the change a new version"]
        )
    return existing


def load_file(path: Path | str, *, standard: bool | None = None, using: str = DEFAULT_DB_ALIAS) -> tuple[FormDefinition, bool]:
    """Load a definition file; a file in the standard directory is a standard form."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([f"{path.name}: {error}"])
    if standard is None:
        standard = path.resolve().parent == STANDARD_DIR
    try:
        return load_definition(data, standard=standard, using=using)
    except DefinitionError as error:
        raise DefinitionError([f"{path.name}: {problem}" for problem in error.problems])


def standard_files() -> list[Path]:
    return sorted(STANDARD_DIR.glob("*.json"))


def load_standard_forms(using: str = DEFAULT_DB_ALIAS) -> list[tuple[FormDefinition, bool]]:
    """Load every ``standard/*.json`` (all or nothing): ``[(definition, created), ...]``."""
    results = []
    with transaction.atomic(using=using):
        for path in standard_files():
            definition, created = load_file(path, standard=True, using=using)
            if definition.key != path.stem:
                raise DefinitionError([f"{path.name}: holds the form {definition.key!r}; name the file {definition.key}.json"])
            results.append((definition, created))
    return results


def load_after_migrate(sender: Any = None, *, using: str = DEFAULT_DB_ALIAS, apps: Any = None, **kwargs: Any) -> None:
    """``post_migrate``: load the standard forms once the formbuilder tables exist."""
    if apps is not None:
        try:
            apps.get_model("formbuilder", "FormDefinition")
        except LookupError:  # migrated back before the formbuilder tables
            return
    load_standard_forms(using=using)


def export_definition(definition: FormDefinition) -> dict:
    """The definition in the file shape (loads back as the same version)."""
    return copy.deepcopy(definition.spec)


def current_definition(key: str) -> FormDefinition | None:
    """The highest loaded version of a form."""
    return FormDefinition.objects.filter(key=key).order_by("-version").first()


def current_names(keys) -> dict[str, str]:
    """The name (in the active language) of the highest loaded version of each form, in one query."""
    names: dict[str, str] = {}
    for definition in FormDefinition.objects.filter(key__in=list(keys)).order_by("key", "version"):
        names[definition.key] = definition.name  # the highest version comes last
    return names


def current_extension(agency: Any, form_key: str) -> FormExtension | None:
    """The agency's latest questions on a form (or on the client profile)."""
    return FormExtension.objects.for_agency(agency).filter(form_key=form_key).order_by("-version").first()


def profile_spec() -> dict:
    """The client profile as a definition of no fields of its own (agency questions are appended)."""
    return {
        "format": engine.FORMAT,
        "key": CLIENT_PROFILE,
        "version": 1,
        "name": {"en": "Client profile", "fr": "Profil du client"},
        "scope": "client",
        "code_lists": {},
        "fields": [],
    }


def record_spec(definition: FormDefinition | None, extension: FormExtension | None) -> dict:
    """The definition a record was answered under: its definition version plus its extension version."""
    base = definition.spec if definition is not None else profile_spec()
    return engine.combined(base, extension.fields if extension is not None else [])


def form_spec(agency: Any, key: str) -> tuple[FormDefinition | None, FormExtension | None, dict]:
    """The current versions of a form and the agency's questions on it, and their combined definition.

    For ``client_profile`` the definition is ``None``; an unknown form raises ``FormDefinition.DoesNotExist``.
    """
    definition = None if key == CLIENT_PROFILE else current_definition(key)
    if definition is None and key != CLIENT_PROFILE:
        raise FormDefinition.DoesNotExist(f"no form {key!r} is loaded")
    extension = current_extension(agency, key)
    return definition, extension, record_spec(definition, extension)
