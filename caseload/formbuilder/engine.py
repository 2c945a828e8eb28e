"""The form engine: checks definitions, validates answers and reads them back (docs/forms.md).

Every function here is pure: it takes a definition ``spec`` (the JSON file shape, with agency
questions appended to ``spec["fields"]`` by ``combined``) and answers as plain JSON values. The
same ``validate`` serves the pages, the API and imports; ``display``, ``columns`` and ``flatten``
read answers back for read-only pages and CSV exports, and never fail on answers given under
another version of the form.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import re
from collections import ChainMap
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from caseload.formbuilder.models import localised

FORMAT = "caseload-form/1"
KEY_RE = re.compile(r"^[a-z0-9_]{1,60}$")
SCOPES = ("client", "group")
FIELD_TYPES = ("text", "textarea", "number", "date", "choice", "multichoice", "yesno", "clb", "file", "group", "heading")
CLB_SKILLS = ("listening", "speaking", "reading", "writing")
CLB_LEVELS = range(1, 13)
SKILL_NAMES = {
    "listening": _("Listening"),
    "speaking": _("Speaking"),
    "reading": _("Reading"),
    "writing": _("Writing"),
}
DEFAULT_MAX_LENGTH = {"text": 200, "textarea": 5000}
AGENCY_PREFIX = "agency_"
# Answers larger than this are refused: a number is a count, an amount or a score, never a huge value.
MAX_NUMBER_DIGITS = 15
MAX_DECIMAL_PLACES = 10
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Which options each type accepts (besides the common ones).
COMMON_OPTIONS = {"key", "type", "label", "help", "required", "show_if"}
TYPE_OPTIONS = {
    "text": {"max_length"},
    "textarea": {"max_length"},
    "number": {"min", "max", "integer"},
    "date": {"min", "max"},
    "choice": {"choices", "code_list"},
    "multichoice": {"choices", "code_list", "min_items", "max_items"},
    "yesno": set(),
    "clb": {"skills"},
    "file": {"max_size"},
    "group": {"fields", "min_items", "max_items"},
    "heading": set(),
}
# Types whose answers a condition can compare with a value (the others only with "answered").
COMPARABLE = {"text", "textarea", "number", "date", "choice", "multichoice", "yesno"}


class DefinitionError(ValueError):
    """A definition (or agency questions) that does not follow docs/forms.md."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class AnswerErrors(Exception):
    """Answers refused: a mapping of field path (``"presenters.1.name"``) to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(", ".join(f"{path}: {message}" for path, message in self.errors.items()))

    def __getitem__(self, path: str) -> str:
        return self.errors[path]

    def __contains__(self, path: object) -> bool:
        return path in self.errors

    def __iter__(self) -> Iterator[str]:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def items(self) -> Iterable[tuple[str, str]]:
        return self.errors.items()


# ---------------------------------------------------------------------------------------------
# Texts


def label(obj: Any, language: str | None = None) -> str:
    """The text of ``{"en": ..., "fr": ...}`` (or of a field's or choice's ``label``) in a language."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        if isinstance(obj.get("label"), Mapping):
            obj = obj["label"]
        return str(localised(dict(obj), language))
    return str(obj)


def _is_texts(value: Any, *, required: bool) -> bool:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return False
    if required:
        return all(value.get(language, "").strip() for language in ("en", "fr"))
    return True


# ---------------------------------------------------------------------------------------------
# Checking definitions


def check_definition(spec: Any) -> None:
    """Raise ``DefinitionError`` listing every way ``spec`` departs from docs/forms.md."""
    if not isinstance(spec, dict):
        raise DefinitionError(["The definition must be a JSON object."])
    problems: list[str] = []
    allowed = {"format", "key", "version", "name", "description", "scope", "code_lists", "fields"}
    problems += [f"unknown property {name!r}" for name in sorted(set(spec) - allowed)]
    if spec.get("format") != FORMAT:
        problems.append(f"format must be {FORMAT!r}")
    key = spec.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        problems.append("key must be lower-case letters, digits and _ (at most 60)")
    version = spec.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problems.append("version must be a positive integer")
    if not _is_texts(spec.get("name"), required=True):
        problems.append("name needs an English and a French text")
    elif any(len(text) > 200 for text in spec["name"].values()):
        problems.append("name must be at most 200 characters")
    if "description" in spec and not _is_texts(spec["description"], required=False):
        problems.append("description must be texts by language")
    if spec.get("scope") not in SCOPES:
        problems.append(f"scope must be one of {', '.join(SCOPES)}")
    code_lists = spec.get("code_lists", {})
    if not isinstance(code_lists, dict):
        problems.append("code_lists must be an object")
        code_lists = {}
    for name, items in code_lists.items():
        if not KEY_RE.match(str(name)):
            problems.append(f"code list {name!r}: the name must be lower-case letters, digits and _")
        problems += _choice_problems(items, f"code list {name!r}")
    fields = spec.get("fields")
    if not isinstance(fields, list):
        problems.append("fields must be a list")
    else:
        problems += _fields_problems(fields, code_lists, earlier={}, outer={}, key_prefix="", where="")
    if problems:
        raise DefinitionError(problems)


def check_fields(fields: Any, code_lists: Mapping[str, Any], *, existing_keys: Iterable[str] = (), key_prefix: str = "") -> None:
    """Check a list of fields on its own (agency questions: ``key_prefix="agency_"``).

    ``existing_keys`` are the keys already in the form: the new fields may not reuse them and may
    refer to them in ``show_if``.
    """
    if not isinstance(fields, list):
        raise DefinitionError(["fields must be a list"])
    earlier: dict[str, dict | None] = dict.fromkeys(existing_keys)
    problems = _fields_problems(fields, code_lists or {}, earlier=earlier, outer={}, key_prefix=key_prefix, where="")
    if problems:
        raise DefinitionError(problems)


def _choice_problems(items: Any, where: str) -> list[str]:
    if not isinstance(items, list) or not items:
        return [f"{where}: choices must be a non-empty list"]
    problems = []
    seen = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"value", "label", "help"}:
            problems.append(f"{where}: choice {index} must be an object with value and label")
            continue
        value = item.get("value")
        if not isinstance(value, str) or not value or len(value) > 100:
            problems.append(f"{where}: choice {index} needs a value (a non-empty string)")
        elif value in seen:
            problems.append(f"{where}: the value {value!r} is listed twice")
        else:
            seen.add(value)
        if not _is_texts(item.get("label"), required=True):
            problems.append(f"{where}: choice {index} needs an English and a French label")
    return problems


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_date_bound(value: Any) -> bool:
    if value == "today":
        return True
    try:
        datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def _fields_problems(
    fields: list,
    code_lists: Mapping[str, Any],
    *,
    earlier: dict[str, dict | None],
    outer: dict[str, dict | None],
    key_prefix: str,
    where: str,
) -> list[str]:
    """Problems of a list of fields; ``earlier`` collects keys (and fields) as they are seen."""
    problems: list[str] = []
    for index, field in enumerate(fields):
        if not isinstance(field, dict):
            problems.append(f"{where}field {index} must be an object")
            continue
        key = field.get("key")
        name = f"{where}{key}" if isinstance(key, str) else f"{where}field {index}"
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append(f"{name}: the key must be lower-case letters, digits and _ (at most 60)")
        elif key_prefix and not key.startswith(key_prefix):
            problems.append(f"{name}: the key must begin with {key_prefix!r}")
        elif key in earlier:
            problems.append(f"{name}: the key is used twice")
        kind = field.get("type")
        if kind not in FIELD_TYPES:
            problems.append(f"{name}: unknown type {kind!r}")
            if isinstance(key, str):
                earlier[key] = None
            continue
        unknown = set(field) - COMMON_OPTIONS - TYPE_OPTIONS[kind]
        problems += [f"{name}: {kind} takes no option {option!r}" for option in sorted(unknown)]
        if not _is_texts(field.get("label"), required=True):
            problems.append(f"{name}: the label needs an English and a French text")
        if "help" in field and not _is_texts(field["help"], required=False):
            problems.append(f"{name}: help must be texts by language")
        if "required" in field and not isinstance(field["required"], bool):
            problems.append(f"{name}: required must be true or false")
        if kind == "heading" and field.get("required"):
            problems.append(f"{name}: a heading cannot be required")
        problems += [f"{name}: {problem}" for problem in _options_problems(field, kind, code_lists, key_prefix, name)]
        if kind == "group" and isinstance(field.get("fields"), list) and not where:
            problems += _fields_problems(field["fields"], code_lists, earlier={}, outer=earlier, key_prefix="", where=f"{name}.")
        if "show_if" in field:
            visible = ChainMap(earlier, outer)
            problems += [f"{name}: show_if {problem}" for problem in _condition_problems(field["show_if"], visible, code_lists)]
        if isinstance(key, str) and key not in earlier:
            earlier[key] = field
    return problems


def _options_problems(field: dict, kind: str, code_lists: Mapping[str, Any], key_prefix: str, name: str) -> list[str]:
    problems = []
    if kind in ("text", "textarea") and "max_length" in field and (not _is_count(field["max_length"]) or field["max_length"] < 1):
        problems.append("max_length must be a positive integer")
    if kind == "number":
        for bound in ("min", "max"):
            if bound in field and not _is_number(field[bound]):
                problems.append(f"{bound} must be a number")
        if _is_number(field.get("min")) and _is_number(field.get("max")) and field["min"] > field["max"]:
            problems.append("min is above max")
        if "integer" in field and not isinstance(field["integer"], bool):
            problems.append("integer must be true or false")
    if kind == "date":
        for bound in ("min", "max"):
            if bound in field and not _is_date_bound(field[bound]):
                problems.append(f"{bound} must be a date (YYYY-MM-DD) or 'today'")
    if kind in ("choice", "multichoice"):
        if ("choices" in field) == ("code_list" in field):
            problems.append("give either choices or code_list")
        elif "choices" in field:
            problems += _choice_problems(field["choices"], "choices")
        elif field["code_list"] not in code_lists:
            problems.append(f"the code list {field['code_list']!r} does not exist")
    if kind in ("multichoice", "group"):
        for bound in ("min_items", "max_items"):
            if bound in field and not _is_count(field[bound]):
                problems.append(f"{bound} must be a whole number")
        if _is_count(field.get("min_items")) and _is_count(field.get("max_items")) and field["min_items"] > field["max_items"]:
            problems.append("min_items is above max_items")
    if kind == "clb" and "skills" in field:
        skills = field["skills"]
        if (
            not isinstance(skills, list)
            or not skills
            or any(skill not in CLB_SKILLS for skill in skills)
            or len(set(skills)) != len(skills)
        ):
            problems.append(f"skills must be a list of distinct skills among {', '.join(CLB_SKILLS)}")
    if kind == "file" and "max_size" in field and (not _is_count(field["max_size"]) or field["max_size"] < 1):
        problems.append("max_size must be a positive integer (bytes)")
    if kind == "group":
        sub = field.get("fields")
        if not isinstance(sub, list) or not sub:
            problems.append("a group needs a non-empty list of fields")
        elif any(isinstance(f, dict) and f.get("type") == "group" for f in sub):
            problems.append("groups cannot be nested")
    return problems


def _condition_problems(condition: Any, visible: Mapping[str, dict | None], code_lists: Mapping[str, Any]) -> list[str]:
    if not isinstance(condition, dict) or not condition:
        return ["must be a condition object"]
    if set(condition) in ({"all"}, {"any"}):
        parts = next(iter(condition.values()))
        if not isinstance(parts, list) or not parts:
            return ["all/any need a non-empty list of conditions"]
        return [problem for part in parts for problem in _condition_problems(part, visible, code_lists)]
    if set(condition) == {"not"}:
        return _condition_problems(condition["not"], visible, code_lists)
    if len(condition) != 2 or "field" not in condition or not ({"equals", "in", "answered"} & set(condition)):
        return ["must be field with equals, in or answered; or all, any, not"]
    key = condition["field"]
    if not isinstance(key, str) or key not in visible:
        return [f"refers to {key!r}, which is not an earlier field"]
    target = visible[key]
    kind = target.get("type") if isinstance(target, dict) else None
    if kind == "heading":
        return [f"refers to the heading {key!r}"]
    if "answered" in condition:
        return [] if isinstance(condition["answered"], bool) else ["answered must be true or false"]
    values = [condition["equals"]] if "equals" in condition else condition["in"]
    if not isinstance(values, list) or not values:
        return ["in needs a non-empty list"]
    if any(not isinstance(value, str | int | float | bool) or value is None for value in values):
        return ["compares with a plain value only"]
    if target is None:
        return []  # a field of the form an agency question refers to: its values are checked there
    if kind not in COMPARABLE:
        return [f"can only ask whether {key!r} is answered"]
    if kind in ("choice", "multichoice"):
        listed = {item.get("value") for item in _choices_of(target, code_lists) if isinstance(item, dict)}
        unlisted = [value for value in values if value not in listed]
        if unlisted:
            return [f"compares {key!r} with {unlisted[0]!r}, which is not one of its choices"]
    if kind == "yesno" and any(not isinstance(value, bool) for value in values):
        return [f"compares the yes/no {key!r} with something other than true or false"]
    if kind == "number" and any(not _is_number(value) for value in values):
        return [f"compares the number {key!r} with something other than a number"]
    if kind in ("text", "textarea", "date") and any(not isinstance(value, str) for value in values):
        return [f"compares {key!r} with something other than a text"]
    return []


# ---------------------------------------------------------------------------------------------
# Choices and conditions


def _choices_of(field: Mapping, code_lists: Mapping[str, Any]) -> list[dict]:
    if "choices" in field:
        items = field["choices"]
    else:
        items = code_lists.get(field.get("code_list"), []) if isinstance(code_lists, Mapping) else []
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def choices(spec: Mapping, field: Mapping) -> list[dict]:
    """The choices of a choice or multichoice field: its own list or its code list (empty if missing)."""
    return _choices_of(field, spec.get("code_lists") or {})


def _answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple | dict | set):
        return bool(value) and (not isinstance(value, dict) or any(_answered(v) for v in value.values()))
    return True


def _same(answer: Any, value: Any) -> bool:
    if isinstance(answer, bool) or isinstance(value, bool):
        return isinstance(answer, bool) and isinstance(value, bool) and answer is value
    if isinstance(value, int | float) and isinstance(answer, str | int | float | Decimal):
        try:
            return Decimal(str(answer)) == Decimal(str(value))
        except InvalidOperation:
            return False
    return answer == value


def _holds(condition: Mapping, answers: Mapping) -> bool:
    if "all" in condition:
        return all(_holds(part, answers) for part in condition["all"])
    if "any" in condition:
        return any(_holds(part, answers) for part in condition["any"])
    if "not" in condition:
        return not _holds(condition["not"], answers)
    answer = answers.get(condition.get("field"))
    if "answered" in condition:
        return _answered(answer) == bool(condition["answered"])
    if not _answered(answer):
        return False
    wanted = [condition["equals"]] if "equals" in condition else list(condition.get("in") or [])
    given = answer if isinstance(answer, list) else [answer]
    return any(_same(a, w) for a in given for w in wanted)


def applies(field: Mapping, answers: Mapping) -> bool:
    """Whether the field applies given the other answers (its ``show_if`` holds, or it has none)."""
    condition = field.get("show_if")
    return True if not condition else _holds(condition, answers)


# ---------------------------------------------------------------------------------------------
# Validation

_REQUIRED = _("This field is required.")
_UNKNOWN = _("Unknown question.")
_NOT_LISTED = _("Choose one of the listed values.")


class _Invalid(Exception):
    def __init__(self, message: str, path: str = "") -> None:
        self.message = message
        self.path = path


def validate(
    spec: Mapping,
    answers: Any,
    *,
    draft: bool = False,
    file_exists: Callable[[int], bool] | None = None,
) -> dict:
    """The cleaned answers, or ``AnswerErrors`` naming each refused field by its path.

    Cleaned answers hold only answered fields that apply: dates as ``"YYYY-MM-DD"``, numbers as
    ``int`` or a decimal string, multichoice values once each in the order of their choices.
    A draft skips the required checks. Group items are named by their 0-based position.
    """
    if not isinstance(answers, Mapping):
        raise AnswerErrors({"__all__": gettext("The answers must be an object.")})
    errors: dict[str, str] = {}
    cleaned = _validate_fields(spec, spec.get("fields") or [], answers, {}, draft, file_exists, "", errors)
    if errors:
        raise AnswerErrors(errors)
    return cleaned


def _validate_fields(
    spec: Mapping,
    fields: list,
    answers: Mapping,
    outer: Mapping,
    draft: bool,
    file_exists: Callable[[int], bool] | None,
    prefix: str,
    errors: dict[str, str],
) -> dict:
    known = {field.get("key") for field in fields if field.get("type") != "heading"}
    for key in answers:
        if key not in known:
            errors[f"{prefix}{key}"] = str(_UNKNOWN)
    cleaned: dict = {}
    for field in fields:
        key, kind = field.get("key"), field.get("type")
        if kind == "heading" or not applies(field, ChainMap(cleaned, outer)):
            continue
        path = f"{prefix}{key}"
        raw = answers.get(key)
        try:
            if kind == "group":
                value = _clean_group(spec, field, raw, cleaned, draft, file_exists, path, errors)
            else:
                value = _clean(spec, field, raw, draft, file_exists, path)
        except _Invalid as invalid:
            errors[invalid.path or path] = invalid.message
            continue
        if _answered(value):
            cleaned[key] = value
        elif field.get("required") and not draft and not any(p == path or p.startswith(f"{path}.") for p in errors):
            errors[path] = str(_REQUIRED)
    return cleaned


def _clean(spec: Mapping, field: Mapping, raw: Any, draft: bool, file_exists: Callable[[int], bool] | None, path: str) -> Any:
    if not _answered(raw):
        return None
    kind = field["type"]
    cleaner = _CLEANERS[kind]
    return cleaner(spec, field, raw, draft=draft, file_exists=file_exists, path=path)


def _clean_text(spec, field, raw, **_kw) -> str:
    if not isinstance(raw, str):
        raise _Invalid(gettext("Enter a text."))
    if "\x00" in raw:
        raise _Invalid(gettext("Remove the invalid characters."))
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if field["type"] == "text" and len(value.splitlines()) > 1:
        raise _Invalid(gettext("Enter a single line."))
    limit = field.get("max_length", DEFAULT_MAX_LENGTH[field["type"]])
    if len(value) > limit:
        raise _Invalid(gettext("Enter at most %(limit)d characters.") % {"limit": limit})
    return value


def _to_decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise _Invalid(gettext("Enter a number."))
    if isinstance(raw, str):
        raw = raw.strip().replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw.strip()
    try:
        number = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)
    except (InvalidOperation, ValueError):
        raise _Invalid(gettext("Enter a number."))
    if not number.is_finite():
        raise _Invalid(gettext("Enter a number."))
    if number.adjusted() >= MAX_NUMBER_DIGITS:
        raise _Invalid(gettext("Enter a smaller number."))
    if number and number.normalize().as_tuple().exponent < -MAX_DECIMAL_PLACES:
        raise _Invalid(gettext("Enter at most %(places)d decimal places.") % {"places": MAX_DECIMAL_PLACES})
    return number


def _number_value(number: Decimal) -> int | str:
    if number == number.to_integral_value():
        return int(number)
    return format(number.normalize(), "f")


def _clean_number(spec, field, raw, **_kw) -> int | str:
    number = _to_decimal(raw)
    if field.get("integer") and number != number.to_integral_value():
        raise _Invalid(gettext("Enter a whole number."))
    if _is_number(field.get("min")) and number < Decimal(str(field["min"])):
        raise _Invalid(gettext("Enter a number no less than %(min)s.") % {"min": field["min"]})
    if _is_number(field.get("max")) and number > Decimal(str(field["max"])):
        raise _Invalid(gettext("Enter a number no more than %(max)s.") % {"max": field["max"]})
    return _number_value(number)


def _date_bound(value: str) -> datetime.date:
    return timezone.localdate() if value == "today" else datetime.date.fromisoformat(value)


def _clean_date(spec, field, raw, **_kw) -> str:
    if isinstance(raw, datetime.datetime):
        raise _Invalid(gettext("Enter a date."))
    if isinstance(raw, datetime.date):
        value = raw
    else:
        try:
            value = datetime.date.fromisoformat(raw.strip()) if isinstance(raw, str) and DATE_RE.match(raw.strip()) else None
        except ValueError:
            value = None
        if value is None:
            raise _Invalid(gettext("Enter a date (YYYY-MM-DD)."))
    if _is_date_bound(field.get("min")) and value < _date_bound(field["min"]):
        raise _Invalid(gettext("Enter a date on or after %(date)s.") % {"date": _date_bound(field["min"]).isoformat()})
    if _is_date_bound(field.get("max")) and value > _date_bound(field["max"]):
        raise _Invalid(gettext("Enter a date on or before %(date)s.") % {"date": _date_bound(field["max"]).isoformat()})
    return value.isoformat()


def _clean_choice(spec, field, raw, **_kw) -> str:
    if not isinstance(raw, str) or raw not in {item.get("value") for item in choices(spec, field)}:
        raise _Invalid(str(_NOT_LISTED))
    return raw


def _clean_multichoice(spec, field, raw, *, draft: bool, **_kw) -> list[str]:
    if not isinstance(raw, list | tuple):
        raise _Invalid(gettext("Choose from the listed values."))
    order = [item.get("value") for item in choices(spec, field)]
    if any(not isinstance(value, str) or value not in order for value in raw):
        raise _Invalid(str(_NOT_LISTED))
    given = set(raw)
    value = [item for item in order if item in given]
    if "max_items" in field and len(value) > field["max_items"]:
        raise _Invalid(gettext("Choose at most %(count)d.") % {"count": field["max_items"]})
    if value and not draft and len(value) < field.get("min_items", 0):
        raise _Invalid(gettext("Choose at least %(count)d.") % {"count": field["min_items"]})
    return value


def _clean_yesno(spec, field, raw, **_kw) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "yes"):
        return True
    if isinstance(raw, str) and raw.strip().lower() in ("false", "no"):
        return False
    raise _Invalid(gettext("Answer yes or no."))


def _clean_clb(spec, field, raw, *, draft: bool, path: str, **_kw) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        raise _Invalid(gettext("Enter a level for each skill."))
    skills = field.get("skills") or list(CLB_SKILLS)
    for skill in raw:
        if skill not in skills:
            raise _Invalid(gettext("Unknown skill."), f"{path}.{skill}")
    value = {}
    for skill in skills:
        level = raw.get(skill)
        if level is None or level == "":
            if field.get("required") and not draft:
                raise _Invalid(str(_REQUIRED), f"{path}.{skill}")
            continue
        if isinstance(level, str) and level.strip().isdigit():
            level = int(level.strip())
        if isinstance(level, bool) or not isinstance(level, int) or level not in CLB_LEVELS:
            raise _Invalid(gettext("Choose a level from 1 to 12."), f"{path}.{skill}")
        value[skill] = level
    return value


def _clean_file(spec, field, raw, *, file_exists: Callable[[int], bool] | None, **_kw) -> int:
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise _Invalid(gettext("Upload a file."))
    if file_exists is not None and not file_exists(raw):
        raise _Invalid(gettext("This file was not found."))
    return raw


_CLEANERS: dict[str, Callable[..., Any]] = {
    "text": _clean_text,
    "textarea": _clean_text,
    "number": _clean_number,
    "date": _clean_date,
    "choice": _clean_choice,
    "multichoice": _clean_multichoice,
    "yesno": _clean_yesno,
    "clb": _clean_clb,
    "file": _clean_file,
}


def _clean_group(
    spec: Mapping,
    field: Mapping,
    raw: Any,
    top: Mapping,
    draft: bool,
    file_exists: Callable[[int], bool] | None,
    path: str,
    errors: dict[str, str],
) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list | tuple) or any(not isinstance(item, Mapping) for item in raw):
        raise _Invalid(gettext("Enter a list of entries."))
    items = []
    for index, item in enumerate(raw):
        cleaned = _validate_fields(spec, field.get("fields") or [], item, top, draft, file_exists, f"{path}.{index}.", errors)
        if cleaned:
            items.append(cleaned)
    if "max_items" in field and len(items) > field["max_items"]:
        raise _Invalid(gettext("Enter at most %(count)d entries.") % {"count": field["max_items"]})
    if items and not draft and len(items) < field.get("min_items", 0):
        raise _Invalid(gettext("Enter at least %(count)d entries.") % {"count": field["min_items"]})
    return items


# ---------------------------------------------------------------------------------------------
# Reading answers back


def _in_language(language: str | None):
    return translation.override(language) if language else _Nothing()


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _choice_label(spec: Mapping, field: Mapping, value: Any, language: str | None) -> str:
    for item in choices(spec, field):
        if item.get("value") == value:
            return label(item.get("label"), language)
    return str(value)


def _clb_parts(field: Mapping, value: Mapping) -> list[tuple[str, Any]]:
    skills = [s for s in (field.get("skills") or CLB_SKILLS) if s in CLB_SKILLS]
    return [(skill, value[skill]) for skill in skills if value.get(skill) not in (None, "")]


def _text(spec: Mapping, field: Mapping, value: Any, language: str | None, *, plain: bool) -> str:
    """The answer as text; ``plain`` for exports (ISO dates, plain numbers), else for reading."""
    if not _answered(value):
        return ""
    kind = field.get("type")
    try:
        if kind in ("choice",):
            return _choice_label(spec, field, value, language)
        if kind == "multichoice":
            values = value if isinstance(value, list) else [value]
            return ("; " if plain else ", ").join(_choice_label(spec, field, v, language) for v in values)
        if kind == "yesno" and isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        if kind == "date" and isinstance(value, str) and not plain:
            return formats.date_format(datetime.date.fromisoformat(value), "DATE_FORMAT")
        if kind == "number" and not plain and not isinstance(value, bool):
            return formats.number_format(Decimal(str(value)), use_l10n=True)
        if kind == "clb" and isinstance(value, Mapping):
            return " · ".join(f"{SKILL_NAMES[skill]} {level}" for skill, level in _clb_parts(field, value))
        if kind == "group" and isinstance(value, list):
            return "; ".join(_item_summary(spec, field, item, language) for item in value if isinstance(item, Mapping))
    except (TypeError, ValueError, AttributeError, InvalidOperation, KeyError):
        pass
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _item_summary(spec: Mapping, field: Mapping, item: Mapping, language: str | None) -> str:
    texts = {}
    for sub in field.get("fields") or []:
        if sub.get("type") == "heading" or sub.get("key") not in item:
            continue
        texts[sub["key"]] = _text(spec, sub, item[sub["key"]], language, plain=True)
    return json.dumps(texts, ensure_ascii=False)


def _row(spec: Mapping, field: Mapping, answers: Mapping, language: str | None) -> dict:
    value = answers.get(field.get("key")) if field.get("type") != "heading" else None
    row = {
        "key": field.get("key"),
        "type": field.get("type"),
        "label": label(field.get("label"), language),
        "help": label(field.get("help"), language),
        "value": value,
        "answered": _answered(value),
        # False when the field's condition does not hold (a read-only page leaves it out).
        "applies": applies(field, answers),
        "text": _text(spec, field, value, language, plain=False),
    }
    if field.get("type") == "group":
        items = value if isinstance(value, list) else []
        row["items"] = [
            [_row(spec, sub, item, language) for sub in field.get("fields") or []] for item in items if isinstance(item, Mapping)
        ]
    return row


def display(spec: Mapping, answers: Mapping | None, language: str | None = None) -> list[dict]:
    """Rows for a read-only page, one per field in order (headings too, unanswered fields empty).

    Each row: ``key``, ``type``, ``label``, ``help``, ``value`` (stored), ``answered``, ``text``
    (the answer in words, in ``language``); a group's row also has ``items``, a list of row lists.
    Answers to questions the definition does not hold are ignored.
    """
    answers = answers if isinstance(answers, Mapping) else {}
    with _in_language(language):
        return [_row(spec, field, answers, language) for field in spec.get("fields") or [] if isinstance(field, Mapping)]


def columns(spec: Mapping, language: str | None = None) -> list[tuple[str, str]]:
    """The export columns: ``(column key, heading)``; a CLB field gives one column per skill (``key.skill``)."""
    result = []
    with _in_language(language):
        for field in spec.get("fields") or []:
            kind, key = field.get("type"), field.get("key")
            if kind == "heading":
                continue
            title = label(field.get("label"), language)
            if kind == "clb":
                for skill in field.get("skills") or CLB_SKILLS:
                    result.append((f"{key}.{skill}", f"{title} — {SKILL_NAMES[skill]}"))
            else:
                result.append((key, title))
    return result


def flatten(spec: Mapping, answers: Mapping | None, language: str | None = None) -> dict[str, str]:
    """The answers as text per export column (every column of ``columns``, empty when unanswered)."""
    answers = answers if isinstance(answers, Mapping) else {}
    result: dict[str, str] = {}
    with _in_language(language):
        for field in spec.get("fields") or []:
            kind, key = field.get("type"), field.get("key")
            if kind == "heading":
                continue
            value = answers.get(key)
            if kind == "clb":
                levels = value if isinstance(value, Mapping) else {}
                for skill in field.get("skills") or CLB_SKILLS:
                    level = levels.get(skill)
                    result[f"{key}.{skill}"] = "" if level is None else str(level)
            else:
                result[key] = _text(spec, field, value, language, plain=True)
    return result


def combined(spec: Mapping, extra_fields: list | None) -> dict:
    """A copy of the definition with the agency questions appended to its fields."""
    result = copy.deepcopy(dict(spec))
    result["fields"] = list(result.get("fields") or []) + copy.deepcopy(list(extra_fields or []))
    return result


def field_keys(spec: Mapping) -> list[str]:
    """The keys of the definition's top-level fields, in order."""
    return [field.get("key") for field in spec.get("fields") or [] if isinstance(field, Mapping)]
