"""Agency questions: an agency's own fields on a standard form or on the client profile.

An agency's questions on one form are kept as a versioned ``FormExtension``: every change (add,
edit, retire, move, import) writes a NEW version holding the whole list, so a record answered
earlier keeps rendering under the version it was answered under. Questions are fields in the
format of ``docs/forms.md`` with keys beginning ``agency_``; a key is never given twice on a form,
not even after its question was retired (an old record's answer under it keeps its meaning).

Every action runs in one transaction and writes an audit event naming the questions (keys) that
changed, never their answers. Permission (``forms.configure``) is checked by the views.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import REDACTED, Action, record
from caseload.clients.models import Client
from caseload.formbuilder import engine, loading
from caseload.formbuilder.models import CLIENT_PROFILE, FormDefinition, FormExtension, ProfileAnswers
from caseload.tenancy.models import Agency, Membership

KEY_PREFIX = "agency_"
KEY_LENGTH = 60
EXPORT_FORMAT = "caseload-questions/1"
# The types an administrator can give a question (the engine knows more: see docs/forms.md).
TYPES: dict[str, Any] = {
    "text": gettext_lazy("Short text"),
    "textarea": gettext_lazy("Long text"),
    "number": gettext_lazy("Number"),
    "date": gettext_lazy("Date"),
    "choice": gettext_lazy("One choice from a list"),
    "multichoice": gettext_lazy("Several choices from a list"),
    "yesno": gettext_lazy("Yes or no"),
}
CHOICE_TYPES = ("choice", "multichoice")
MAX_QUESTIONS = 200
MAX_CHOICES = 100
LABEL_LENGTH = 300
HELP_LENGTH = 1000


# --- Reading ------------------------------------------------------------------------------------


def form_definition(form_key: str) -> FormDefinition | None:
    """The current definition of a standard form (None for the client profile)."""
    if form_key == CLIENT_PROFILE:
        return None
    return loading.current_definition(form_key)


def current_questions(agency: Agency, form_key: str) -> list[dict[str, Any]]:
    """The agency's questions on the form as they are now (a copy, safe to change)."""
    extension = loading.current_extension(agency, form_key)
    return json.loads(json.dumps(extension.fields)) if extension is not None else []


def find_question(agency: Agency, form_key: str, key: str) -> dict[str, Any] | None:
    return next((field for field in current_questions(agency, form_key) if field.get("key") == key), None)


def _extensions(agency: Agency, form_key: str):
    return FormExtension.objects.for_agency(agency).filter(form_key=form_key)


def used_keys(agency: Agency, form_key: str) -> set[str]:
    """Every key given on the form: its own fields' and every agency question's, retired ones too."""
    keys: set[str] = set()
    definition = form_definition(form_key)
    if definition is not None:
        keys |= {field.get("key") for field in definition.fields}
    for fields in _extensions(agency, form_key).values_list("fields", flat=True):
        keys |= {field.get("key") for field in fields or [] if isinstance(field, dict)}
    keys.discard(None)
    return keys


def question_counts(agency: Agency) -> dict[str, int]:
    """``{form_key: number of current agency questions}`` for every form the agency extended."""
    extensions = FormExtension.objects.for_agency(agency)
    latest = extensions.values("form_key").annotate(latest=Max("version")).values_list("form_key", "latest")
    wanted = models.Q(pk__in=[])
    for form_key, version in latest:
        wanted |= models.Q(form_key=form_key, version=version)
    return {form_key: len(fields or []) for form_key, fields in extensions.filter(wanted).values_list("form_key", "fields")}


# --- Building a question from what the administrator typed -------------------------------------


def make_key(label: str, taken: Iterable[str]) -> str:
    """``agency_`` and the English label in lower case with ``_``, unique among ``taken``."""
    stem = slugify(label).replace("-", "_")
    stem = re.sub(r"[^a-z0-9_]", "", stem).strip("_") or "question"
    base = (KEY_PREFIX + stem)[:KEY_LENGTH].rstrip("_")
    taken = set(taken)
    key, n = base, 1
    while key in taken:
        n += 1
        suffix = f"_{n}"
        key = base[: KEY_LENGTH - len(suffix)].rstrip("_") + suffix
    return key


def _choice_value(label: str, taken: set[str]) -> str:
    stem = re.sub(r"[^a-z0-9_]", "", slugify(label).replace("-", "_")).strip("_")[:50] or "choice"
    value, n = stem, 1
    while value in taken:
        n += 1
        value = f"{stem}_{n}"
    taken.add(value)
    return value


def parse_choices(text: str, previous: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Choices typed one per line as ``English | Français`` (a blank line is skipped).

    A choice whose English text was already on the list keeps its stored value, so answers given
    under an earlier version still read the same. Refused with a message naming the line.
    """
    kept = {
        str(choice.get("label", {}).get("en", "")).strip().casefold(): choice.get("value")
        for choice in previous or []
        if isinstance(choice, dict)
    }
    taken: set[str] = {value for value in kept.values() if value}
    choices: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        english, bar, french = (part.strip() for part in line.partition("|"))
        if not bar or not english or not french:
            raise ValidationError(
                {"choices": _("Line %(number)s: give the English and the French text, separated by “|”.") % {"number": number}}
            )
        if "|" in french:
            raise ValidationError({"choices": _("Line %(number)s: use “|” only once.") % {"number": number}})
        if len(english) > LABEL_LENGTH or len(french) > LABEL_LENGTH:
            raise ValidationError({"choices": _("Line %(number)s is too long.") % {"number": number}})
        folded = english.casefold()
        if folded in seen:
            raise ValidationError(
                {"choices": _("Line %(number)s: “%(choice)s” is already on the list.") % {"number": number, "choice": english}}
            )
        seen.add(folded)
        value = kept.get(folded) or _choice_value(english, taken)
        choices.append({"value": value, "label": {"en": english, "fr": french}})
    return choices


def choices_text(choices: list[dict[str, Any]] | None) -> str:
    """The choices as the administrator types them: ``English | Français``, one per line."""
    return "\n".join(f"{c['label'].get('en', '')} | {c['label'].get('fr', '')}" for c in choices or [] if isinstance(c, dict))


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _bilingual(value: Any) -> dict[str, str]:
    value = value if isinstance(value, Mapping) else {}
    return {"en": _text(value.get("en")), "fr": _text(value.get("fr"))}


def _build(question: Mapping[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """A field (docs/forms.md) from what the administrator gave; ValidationError naming the part."""
    errors: dict[str, str] = {}
    kind = question.get("type")
    if kind not in TYPES:
        errors["type"] = _("Choose the type of answer.")
    label = _bilingual(question.get("label"))
    if not label["en"]:
        errors["label.en"] = _("Give the question in English.")
    if not label["fr"]:
        errors["label.fr"] = _("Give the question in French.")
    for language in ("en", "fr"):
        if len(label[language]) > LABEL_LENGTH:
            errors[f"label.{language}"] = _("Keep the question under %(count)s characters.") % {"count": LABEL_LENGTH}
    help_text = _bilingual(question.get("help"))
    for language in ("en", "fr"):
        if len(help_text[language]) > HELP_LENGTH:
            errors[f"help.{language}"] = _("Keep the help under %(count)s characters.") % {"count": HELP_LENGTH}
    if errors:
        raise ValidationError(errors)
    field: dict[str, Any] = {"key": (previous or {}).get("key", ""), "type": kind, "label": label}
    if help_text["en"] or help_text["fr"]:
        field["help"] = {"en": help_text["en"] or help_text["fr"], "fr": help_text["fr"] or help_text["en"]}
    field["required"] = bool(question.get("required"))
    if kind in CHOICE_TYPES:
        choices = question.get("choices")
        if isinstance(choices, str):
            choices = parse_choices(choices, (previous or {}).get("choices"))
        if not choices and (previous or {}).get("code_list") and previous.get("type") in CHOICE_TYPES:
            field["code_list"] = previous["code_list"]  # an imported question drawing on the form's code lists
        elif not isinstance(choices, list) or len(choices) < 2:
            raise ValidationError({"choices": _("Give at least two choices, one per line: English | Français.")})
        elif len(choices) > MAX_CHOICES:
            raise ValidationError({"choices": _("Give at most %(count)s choices.") % {"count": MAX_CHOICES}})
        else:
            field["choices"] = choices
    for option in ("show_if", "max_length", "min", "max", "integer", "min_items", "max_items"):
        # Options the pages do not edit survive an edit (an imported question may carry them).
        if previous and option in previous and previous.get("type") == kind:
            field[option] = previous[option]
    return field


def _labels_clash(field: dict[str, Any], others: Iterable[dict[str, Any]]) -> None:
    english = field["label"]["en"].casefold()
    french = field["label"]["fr"].casefold()
    for other in others:
        label = other.get("label") or {}
        if str(label.get("en", "")).strip().casefold() == english:
            raise ValidationError(
                {"label.en": _("The form already has a question “%(label)s”.") % {"label": field["label"]["en"]}}
            )
        if str(label.get("fr", "")).strip().casefold() == french:
            raise ValidationError(
                {"label.fr": _("The form already has a question “%(label)s”.") % {"label": field["label"]["fr"]}}
            )


# --- Checking and writing a version --------------------------------------------------------------


def check_questions(form_key: str, fields: list[dict[str, Any]]) -> None:
    """The questions as a whole, checked by the engine against the form they extend."""
    definition = form_definition(form_key)
    spec = definition.spec if definition is not None else {}
    if len(fields) > MAX_QUESTIONS:
        raise ValidationError({"fields": _("A form takes at most %(count)s agency questions.") % {"count": MAX_QUESTIONS}})
    try:
        engine.check_fields(
            fields,
            spec.get("code_lists") or {},
            existing_keys=tuple(field.get("key") for field in spec.get("fields", [])),
            key_prefix=KEY_PREFIX,
        )
    except engine.DefinitionError as error:
        # The engine names each problem's question by its key ("agency_shift: ..."), in English.
        raise ValidationError({"fields": list(error.problems)}) from None


def _check_form_key(form_key: str) -> None:
    if form_key != CLIENT_PROFILE and form_definition(form_key) is None:
        raise ValidationError({"form_key": _("There is no form “%(key)s”.") % {"key": form_key}})


def _membership(agency: Agency, actor: Any) -> tuple[Membership | None, Any]:
    """(the acting membership, the acting user) from either."""
    if isinstance(actor, Membership):
        return actor, actor.user
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None, None
    return Membership.objects.for_agency(agency).filter(user=actor).first(), actor


def _write(
    agency: Agency, actor: Any, form_key: str, fields: list[dict[str, Any]], before: list[dict[str, Any]]
) -> FormExtension:
    """Save ``fields`` as the next version and audit which questions changed (keys, never texts)."""
    check_questions(form_key, fields)
    membership, user = _membership(agency, actor)
    latest = _extensions(agency, form_key).aggregate(latest=Max("version"))["latest"] or 0
    try:
        with transaction.atomic():
            extension = FormExtension.objects.create(
                agency=agency, form_key=form_key, version=latest + 1, fields=fields, created_by=membership
            )
    except IntegrityError:
        raise ValidationError(
            {"fields": _("Someone else changed these questions at the same moment. Reload the page and try again.")}
        ) from None
    old = {field.get("key"): field for field in before}
    new = {field.get("key"): field for field in fields}
    changed = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    changes = {
        "version": [latest or None, extension.version],
        "questions": [[f.get("key") for f in before], [f.get("key") for f in fields]],
        "changed_questions": [None, changed],
    }
    record(
        agency=agency,
        actor=user,
        action=Action.CREATE if latest == 0 else Action.CHANGE,
        obj=extension,
        changes=changes,
        object_repr=f"{form_key} v{extension.version}",
    )
    return extension


def _lock(agency: Agency) -> None:
    """One writer at a time per agency (the unique version constraint is the backstop)."""
    Agency.objects.select_for_update().filter(pk=agency.pk).exists()


# --- The actions ---------------------------------------------------------------------------------


@transaction.atomic
def add_question(agency: Agency, actor: Any, form_key: str, question: Mapping[str, Any]) -> FormExtension:
    """Add a question at the end of the agency's questions on the form; the key comes from the
    English label. Returns the new version (the question is its last field)."""
    _check_form_key(form_key)
    _lock(agency)
    before = current_questions(agency, form_key)
    field = _build(question)
    definition = form_definition(form_key)
    _labels_clash(field, [*(definition.fields if definition is not None else []), *before])
    field["key"] = make_key(field["label"]["en"], used_keys(agency, form_key))
    return _write(agency, actor, form_key, [*before, field], before)


def _index(fields: list[dict[str, Any]], key: str) -> int:
    for index, field in enumerate(fields):
        if field.get("key") == key:
            return index
    raise ValidationError({"key": _("The form has no agency question “%(key)s”.") % {"key": key}})


@transaction.atomic
def update_question(agency: Agency, actor: Any, form_key: str, key: str, changes: Mapping[str, Any]) -> FormExtension:
    """Change a question's wording, type, choices, help or whether it is required (its key stays)."""
    _check_form_key(form_key)
    _lock(agency)
    before = current_questions(agency, form_key)
    index = _index(before, key)
    previous = before[index]
    merged = {**previous, **{name: value for name, value in changes.items() if name != "key"}}
    if merged.get("type") != previous.get("type") and "choices" not in changes and merged.get("type") not in CHOICE_TYPES:
        merged.pop("choices", None)
    field = _build(merged, previous)
    definition = form_definition(form_key)
    others = [f for i, f in enumerate(before) if i != index]
    _labels_clash(field, [*(definition.fields if definition is not None else []), *others])
    if field == previous:
        return loading.current_extension(agency, form_key)
    fields = list(before)
    fields[index] = field
    return _write(agency, actor, form_key, fields, before)


@transaction.atomic
def retire_question(agency: Agency, actor: Any, form_key: str, key: str) -> FormExtension:
    """Take a question off the form: new records no longer ask it; answers already given keep it
    (under their own version), and its key is never given again on this form."""
    _check_form_key(form_key)
    _lock(agency)
    before = current_questions(agency, form_key)
    index = _index(before, key)
    return _write(agency, actor, form_key, [f for i, f in enumerate(before) if i != index], before)


@transaction.atomic
def move_question(agency: Agency, actor: Any, form_key: str, key: str, direction: str) -> FormExtension | None:
    """Move a question one place ``up`` or ``down``; at the end already, nothing changes."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move a question up or down.")})
    _check_form_key(form_key)
    _lock(agency)
    before = current_questions(agency, form_key)
    index = _index(before, key)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(before):
        return loading.current_extension(agency, form_key)
    fields = list(before)
    fields[index], fields[other] = fields[other], fields[index]
    return _write(agency, actor, form_key, fields, before)


# --- Export and import ---------------------------------------------------------------------------


def export_questions(agency: Agency, actor: Any, form_key: str) -> dict[str, Any]:
    """The agency's current questions on the form as a JSON-ready document (the form's own fields
    are exported with its definition: ``loading.export_definition``)."""
    extension = loading.current_extension(agency, form_key)
    _membership_, user = _membership(agency, actor)
    record(
        agency=agency,
        actor=user,
        action=Action.EXPORT,
        object_type="formbuilder.formextension",
        object_id=str(extension.pk) if extension else "",
        object_repr=f"{form_key} v{extension.version if extension else 0}",
        changes={"questions": [None, len(extension.fields) if extension else 0]},
    )
    return {
        "format": EXPORT_FORMAT,
        "form_key": form_key,
        "version": extension.version if extension else 0,
        "exported_at": timezone.now().isoformat(),
        "fields": extension.fields if extension else [],
    }


def _field_errors(index: int, error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            f"fields.{index}.{name}": [str(m) for e in errors for m in e.messages] for name, errors in error.error_dict.items()
        }
    return {f"fields.{index}": list(error.messages)}


@transaction.atomic
def import_questions(agency: Agency, actor: Any, form_key: str, data: Any) -> FormExtension:
    """Replace the agency's questions on the form with those of an exported file (all or nothing).

    A question keeps its key when it has one beginning ``agency_`` that the form's own fields do not
    use (so a file exported here, edited and imported back updates the same questions); a question
    without one gets a key from its English label. Errors name the question: ``fields.2.label.en``.
    """
    _check_form_key(form_key)
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError:
            raise ValidationError({"file": _("The file is not JSON.")}) from None
    if not isinstance(data, Mapping) or data.get("format") != EXPORT_FORMAT:
        raise ValidationError(
            {"file": _("The file is not an export of agency questions (format %(format)s).") % {"format": EXPORT_FORMAT}}
        )
    if data.get("form_key") not in (None, form_key):
        raise ValidationError(
            {"form_key": _("The file holds questions for “%(key)s”, not this form.") % {"key": data.get("form_key")}}
        )
    given = data.get("fields")
    if not isinstance(given, list):
        raise ValidationError({"fields": _("The file has no list of questions (“fields”).")})
    if len(given) > MAX_QUESTIONS:
        raise ValidationError({"fields": _("A form takes at most %(count)s agency questions.") % {"count": MAX_QUESTIONS}})
    _lock(agency)
    before = current_questions(agency, form_key)
    definition = form_definition(form_key)
    own_keys = {field.get("key") for field in (definition.fields if definition is not None else [])}
    taken = used_keys(agency, form_key)
    errors: dict[str, list[str]] = {}
    fields: list[dict[str, Any]] = []
    keys: set[str] = set()
    for index, item in enumerate(given):
        if not isinstance(item, Mapping):
            errors[f"fields.{index}"] = [_("A question is an object with a type and a label.")]
            continue
        key = item.get("key")
        try:
            if key is not None and (not isinstance(key, str) or not key.startswith(KEY_PREFIX) or key in own_keys):
                raise ValidationError({"key": _("An agency question's key begins with “%(prefix)s”.") % {"prefix": KEY_PREFIX}})
            if key in keys:
                raise ValidationError({"key": _("Two questions have the key “%(key)s”.") % {"key": key}})
            field = _build(item, {**item, "key": key or ""})
            _labels_clash(field, [*(definition.fields if definition is not None else []), *fields])
        except ValidationError as error:
            errors.update(_field_errors(index, error))
            continue
        if not key:
            key = make_key(field["label"]["en"], taken | keys)
        field["key"] = key
        keys.add(key)
        fields.append(field)
    if errors:
        raise ValidationError(errors)
    return _write(agency, actor, form_key, fields, before)


# --- The client profile's agency questions --------------------------------------------------------


def profile_spec(agency: Agency) -> dict[str, Any]:
    """The client-profile questions of the agency as a definition the engine reads."""
    return loading.form_spec(agency, CLIENT_PROFILE)[2]


def profile_answers(client: Client) -> ProfileAnswers | None:
    return ProfileAnswers.objects.for_agency(client.agency).filter(client=client).select_related("extension").first()


@transaction.atomic
def save_profile_answers(client: Client, actor: Any, answers: Mapping[str, Any]) -> ProfileAnswers | None:
    """Validate and save the client's answers to the agency's client-profile questions, under the
    current version of those questions. Raises ``engine.AnswerErrors`` (field key -> message).

    Answers given under an older version stay as they are (with their version, retired questions
    included) until one of the current questions' answers changes; they then move to the current
    version, which holds only the current questions. Nothing is written when nothing changed, or
    when a client without answers is given none."""
    agency = client.agency
    extension = loading.current_extension(agency, CLIENT_PROFILE)
    row = profile_answers(client)
    if extension is None:
        if answers:
            raise engine.AnswerErrors({key: _("The agency asks no such question.") for key in answers})
        return row
    cleaned = engine.validate(loading.record_spec(None, extension), dict(answers))
    _membership_, user = _membership(agency, actor)
    if row is None:
        if not cleaned:
            return None
        row = ProfileAnswers.objects.create(
            agency=agency, client=client, extension=extension, answers=cleaned, updated_by=user, updated_at=timezone.now()
        )
        changed = sorted(cleaned)
        action = Action.CREATE
    else:
        old = row.answers or {}
        current_keys = set(engine.field_keys(loading.record_spec(None, extension)))
        changed = sorted(key for key in current_keys if old.get(key) != cleaned.get(key))
        if not changed:
            return row
        changed = sorted(key for key in old.keys() | cleaned.keys() if old.get(key) != cleaned.get(key))
        row.extension, row.answers, row.updated_by, row.updated_at = extension, cleaned, user, timezone.now()
        row.save(update_fields=["extension", "answers", "updated_by", "updated_at"])
        action = Action.CHANGE
    changes: dict[str, Any] = {key: [REDACTED, REDACTED] for key in changed}
    changes["extension_version"] = [None, extension.version]
    record(agency=agency, actor=user, action=action, obj=row, changes=changes, client_id=client.pk, object_repr=str(client))
    return row
