"""A form definition as HTML: the inputs of every field, reading the POST back, the read-only view.

Names follow one pattern so the POST maps back to answers without a Django form class:
``f-<key>`` for a field, ``f-<key>-<skill>`` for a CLB level, ``f-<group>-<i>-<sub>`` for a
group's row ``i``, ``f-<key>-keep`` for the id of a file already given. Values are read back as
the JSON types of ``docs/forms.md``, except numbers, which stay text so ``engine.validate``
reports "Enter a number" on the field rather than the page guessing.

Without JavaScript every field is shown (the engine drops answers to fields that do not apply)
and "Add another" is a submit button (``_add:<group>``) the view answers by showing one more
row. With JavaScript, ``static/formbuilder/forms.js`` hides fields whose ``show_if`` does not
hold and adds rows in place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from caseload.formbuilder import engine
from caseload.formbuilder.models import FormFile, localised
from caseload.tenancy.scoping import current_agency

SKILLS = ("listening", "speaking", "reading", "writing")
CLB_LEVELS = range(1, 13)
# A choice with more options than this is a drop-down list instead of radio buttons.
MAX_RADIOS = 5
# Rows read back per group at most: a POST cannot make the page build an unbounded list.
MAX_GROUP_ROWS = 200
# forms.js puts the new row's index and number in place of these in the blank row's template.
ROW_PLACEHOLDER = "__i__"
NUMBER_PLACEHOLDER = "__n__"
ADD_BUTTON = "_add:"
SIMPLE_TYPES = ("text", "textarea", "number", "date", "choice")


def skill_label(skill: str) -> str:
    labels = {
        "listening": _("Listening"),
        "speaking": _("Speaking"),
        "reading": _("Reading"),
        "writing": _("Writing"),
    }
    return labels.get(skill, skill)


def _skills(field: Mapping[str, Any]) -> list[str]:
    return list(field.get("skills") or SKILLS)


def _fields(spec: Mapping[str, Any]) -> list[dict]:
    return list(spec.get("fields") or [])


# --- Rendering the inputs ------------------------------------------------------------------------


class _Errors:
    """The messages of an ``AnswerErrors`` by path, each handed out once."""

    def __init__(self, errors: Any) -> None:
        if isinstance(errors, ValidationError):
            # An action's error (``delivery.records``): the answers' paths under ``answers.``.
            errors = {
                name.removeprefix("answers."): " ".join(messages)
                for name, messages in getattr(errors, "message_dict", {"__all__": errors.messages}).items()
            }
        errors = getattr(errors, "errors", errors) or {}
        self.left: dict[str, str] = {str(path): str(message) for path, message in dict(errors).items()}

    def take(self, path: str) -> str:
        return self.left.pop(path, "")

    def take_under(self, path: str) -> list[str]:
        """The messages about parts of ``path`` no input shows on its own (``langs.2``)."""
        found = [path_ for path_ in self.left if path_.startswith(path + ".")]
        return [self.left.pop(path_) for path_ in sorted(found)]


def _join(*messages: str | list[str]) -> str:
    flat: list[str] = []
    for message in messages:
        flat.extend([message] if isinstance(message, str) else message)
    return " ".join(m for m in flat if m)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _file_rows(spec: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[int, FormFile]:
    """The files answered in ``answers``, read within the current agency only (ids can come from a POST)."""
    ids: set[int] = set()

    def collect(fields: list[dict], values: Mapping[str, Any]) -> None:
        for field in fields:
            value = values.get(field.get("key", ""))
            if field.get("type") == "file" and isinstance(value, int) and not isinstance(value, bool):
                ids.add(value)
            elif field.get("type") == "group" and isinstance(value, list):
                for row in value:
                    if isinstance(row, Mapping):
                        collect(field.get("fields") or [], row)

    collect(_fields(spec), answers if isinstance(answers, Mapping) else {})
    agency = current_agency()
    if not ids or agency is None:
        return {}
    return {row.pk: row for row in FormFile.objects.for_agency(agency).filter(pk__in=ids)}


class _Builder:
    def __init__(self, spec: Mapping[str, Any], answers: Mapping[str, Any], errors: Any, prefix: str, extra_rows) -> None:
        self.spec = spec
        self.errors = _Errors(errors)
        self.prefix = prefix
        self.extra_rows = dict(extra_rows or {})
        self.files = _file_rows(spec, answers)
        self.summary: list[dict[str, str]] = []

    def item(self, field: Mapping[str, Any], value: Any, *, name: str, path: str, row_prefix: str = "") -> dict[str, Any]:
        kind = field.get("type", "text")
        key = field.get("key", "")
        item: dict[str, Any] = {
            "key": key,
            "type": kind,
            "name": name,
            "id": name,
            "label": localised(field.get("label")),
            "help": localised(field.get("help")),
            "required": bool(field.get("required")),
            "show_if": json.dumps(field["show_if"], separators=(",", ":")) if field.get("show_if") else "",
            "template": f"formbuilder/field/{TEMPLATES.get(kind, 'text')}.html",
        }
        item["help_id"] = f"{name}-help" if item["help"] else ""
        if kind == "heading":
            return item
        error = self.errors.take(path)
        if kind in ("text", "textarea", "number", "date"):
            item["value"] = _as_text(value)
            if kind == "text":
                item["max_length"] = field.get("max_length", 200)
            elif kind == "textarea":
                item["max_length"] = field.get("max_length", 5000)
            elif kind == "number":
                item["inputmode"] = "numeric" if field.get("integer") else "decimal"
            elif kind == "date":
                item["min"] = _date_bound(field.get("min"))
                item["max"] = _date_bound(field.get("max"))
        elif kind in ("choice", "multichoice"):
            chosen = {_as_text(v) for v in value} if isinstance(value, list) else {_as_text(value)}
            options = [
                {"value": str(choice["value"]), "label": localised(choice.get("label")), "id": f"{name}-{i}"}
                for i, choice in enumerate(engine.choices(self.spec, field))
            ]
            for option in options:
                option["checked"] = option["value"] in chosen
            known = {option["value"] for option in options}
            # An answer no longer on the list (an older code list) stays visible until it is changed.
            for i, extra in enumerate(sorted(chosen - known - {""})):
                options.append({"value": extra, "label": extra, "id": f"{name}-x{i}", "checked": True})
            item["options"] = options
            item["widget"] = "checkboxes" if kind == "multichoice" else ("radios" if len(options) <= MAX_RADIOS else "select")
        elif kind == "yesno":
            item["options"] = [
                {"value": "yes", "label": _("Yes"), "id": f"{name}-yes", "checked": value is True},
                {"value": "no", "label": _("No"), "id": f"{name}-no", "checked": value is False},
            ]
        elif kind == "clb":
            levels = value if isinstance(value, Mapping) else {}
            skills = []
            for skill in _skills(field):
                skill_error = self.errors.take(f"{path}.{skill}")
                skills.append(
                    {
                        "skill": skill,
                        "label": skill_label(skill),
                        "name": f"{name}-{skill}",
                        "id": f"{name}-{skill}",
                        "value": _as_text(levels.get(skill)),
                        "error": skill_error,
                    }
                )
                if skill_error:
                    self.summary.append(
                        {"label": f"{item['label']} ({skill_label(skill)})", "message": skill_error, "id": f"{name}-{skill}"}
                    )
            item["skills"] = skills
            item["levels"] = [str(level) for level in CLB_LEVELS]
            item["skills_invalid"] = any(skill["error"] for skill in skills)
        elif kind == "file":
            item["keep_name"] = f"{name}-keep"
            item["remove_name"] = f"{name}-remove"
            if isinstance(value, int) and not isinstance(value, bool):
                row = self.files.get(value)
                item["current"] = {
                    "id": value,
                    "name": row.original_name if row is not None else _("File %(id)s") % {"id": value},
                    "url": reverse("formbuilder:file", args=[value]) if row is not None else "",
                }
        elif kind == "group":
            rows = value if isinstance(value, list) else []
            subfields = [sub for sub in field.get("fields") or [] if sub.get("type") != "group"]
            built = []
            for i, row in enumerate(rows):
                row = row if isinstance(row, Mapping) else {}
                built.append(self.group_row(subfields, row, name=name, path=path, index=i))
            max_items = field.get("max_items")
            blanks = 1 + max(0, int(self.extra_rows.get(key, 0) or 0))
            if isinstance(max_items, int):
                blanks = max(0, min(blanks, max_items - len(built)))
            for i in range(len(built), len(built) + blanks):
                built.append(self.group_row(subfields, {}, name=name, path=path, index=i))
            item["rows"] = built
            # The row forms.js copies when "Add another" is pressed with JavaScript on.
            item["row_template"] = self.group_row(subfields, {}, name=name, path=None, index=ROW_PLACEHOLDER)
            item["add_name"] = f"{ADD_BUTTON}{key}"
            item["can_add"] = not isinstance(max_items, int) or len(built) < max_items
            item["max_items"] = max_items if isinstance(max_items, int) else ""
            item["next_index"] = len(built)
        else:  # pragma: no cover - the engine refuses unknown types before anything renders
            item["value"] = _as_text(value)
        # Messages about parts no input shows alone (``langs.2``, a group's ``presenters.3``) join the field's.
        item["error"] = _join(error, self.errors.take_under(path))
        if item["error"] and kind != "clb":
            anchor = item["options"][0]["id"] if item.get("options") and item.get("widget") != "select" else name
            if kind == "group":
                anchor = f"{name}-legend"
            self.summary.append({"label": item["label"], "message": item["error"], "id": anchor})
        elif item["error"]:
            self.summary.append({"label": item["label"], "message": item["error"], "id": item["skills"][0]["id"]})
        described = [item["help_id"], f"{name}-error" if item["error"] else ""]
        item["describedby"] = " ".join(part for part in described if part)
        item["row_prefix"] = row_prefix
        return item

    def group_row(self, subfields: list[dict], row: Mapping[str, Any], *, name: str, path: str | None, index: int | str) -> dict:
        row_name = f"{name}-{index}"
        items = []
        for sub in subfields:
            sub_name = f"{row_name}-{sub.get('key', '')}"
            sub_path = f"{path}.{index}.{sub.get('key', '')}" if path is not None else f"\x00{sub_name}"
            items.append(self.item(sub, row.get(sub.get("key", "")), name=sub_name, path=sub_path, row_prefix=f"{row_name}-"))
        row_error = _join(self.errors.take(f"{path}.{index}")) if path is not None else ""
        number = index + 1 if isinstance(index, int) else NUMBER_PLACEHOLDER
        return {"items": items, "prefix": f"{row_name}-", "number": number, "index": index, "error": row_error, "id": row_name}


def _date_bound(bound: Any) -> str:
    if bound == "today":
        from django.utils import timezone

        return timezone.localdate().isoformat()
    return bound if isinstance(bound, str) else ""


# The template under formbuilder/field/ of each type.
TEMPLATES = {
    "text": "text",
    "number": "text",
    "date": "text",
    "textarea": "textarea",
    "choice": "choice",
    "multichoice": "choice",
    "yesno": "yesno",
    "clb": "clb",
    "file": "file",
    "group": "group",
    "heading": "heading",
}


def render_fields(
    spec: Mapping[str, Any],
    answers: Mapping[str, Any] | None,
    errors: Any = None,
    *,
    prefix: str = "f",
    extra_rows: Mapping[str, int] | None = None,
    summary: bool = True,
) -> SafeString:
    """The inputs of every field of ``spec``, filled with ``answers``, each error beside its field.

    ``errors`` is an ``engine.AnswerErrors``, a mapping of path -> message, or an action's
    ValidationError whose answer paths start ``answers.`` (other names go to the summary). ``extra_rows`` maps a
    group's key to how many blank rows to show beyond the usual one (the view passes ``{key: 1}``
    after its "Add another" button). ``summary`` puts a linked list of the errors first (turn it off
    when the page shows its own summary, then call ``error_summary``).
    """
    answers = answers if isinstance(answers, Mapping) else {}
    builder = _Builder(spec, answers, errors, prefix, extra_rows)
    items = [
        builder.item(field, answers.get(field.get("key", "")), name=f"{prefix}-{field.get('key', '')}", path=field.get("key", ""))
        for field in _fields(spec)
    ]
    # Errors about no field shown (an unknown key in an import) still reach the summary.
    for path, message in builder.errors.left.items():
        builder.summary.append({"label": path, "message": message, "id": ""})
    context = {"items": items, "prefix": prefix, "summary": builder.summary if summary else []}
    return SafeString(render_to_string("formbuilder/fields.html", context))


# --- Reading the POST back -----------------------------------------------------------------------


class PostedAnswers(NamedTuple):
    """What a form page's POST said: the answers, the group whose "Add another" was pressed (or
    None), and the messages about uploads ``save_file`` refused (path -> message)."""

    answers: dict[str, Any]
    add: str | None
    errors: dict[str, str]


SaveFile = Callable[[Mapping[str, Any], Any], int]


def _text(data: Any, name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _parse(
    field: Mapping[str, Any], name: str, path: str, data: Any, files: Any, save_file: SaveFile | None, errors: dict[str, str]
) -> Any:
    """The answer to one field, or None when it was left empty."""
    kind = field.get("type")
    if kind in SIMPLE_TYPES:
        return _text(data, name) or None
    if kind == "multichoice":
        values = [v.strip() for v in data.getlist(name) if isinstance(v, str) and v.strip()] if hasattr(data, "getlist") else []
        return list(dict.fromkeys(values)) or None
    if kind == "yesno":
        value = _text(data, name)
        return {"yes": True, "no": False}.get(value, value or None)
    if kind == "clb":
        levels: dict[str, Any] = {}
        for skill in _skills(field):
            value = _text(data, f"{name}-{skill}")
            if value:
                levels[skill] = int(value) if value.isdigit() else value
        return levels or None
    if kind == "file":
        upload = files.get(name) if files is not None else None
        if upload is not None and getattr(upload, "name", "") and save_file is not None:
            try:
                return save_file(field, upload)
            except ValidationError as error:
                errors[path] = " ".join(error.messages)
        if _text(data, f"{name}-remove"):
            return None
        keep = _text(data, f"{name}-keep")
        return int(keep) if keep.isdigit() else None
    if kind == "group":
        pattern = re.compile(rf"^{re.escape(name)}-(\d+)-")
        indexes: set[int] = set()
        for source in (data, files or {}):
            for input_name in source:
                match = pattern.match(input_name)
                if match and len(match.group(1)) < 6:
                    indexes.add(int(match.group(1)))
        rows: list[dict[str, Any]] = []
        subfields = [sub for sub in field.get("fields") or [] if sub.get("type") not in ("group", "heading")]
        for index in sorted(indexes)[:MAX_GROUP_ROWS]:
            row: dict[str, Any] = {}
            row_errors: dict[str, str] = {}
            for sub in subfields:
                key = sub.get("key", "")
                value = _parse(sub, f"{name}-{index}-{key}", f"{path}.{len(rows)}.{key}", data, files, save_file, row_errors)
                if value is not None:
                    row[key] = value
            if row or row_errors:
                rows.append(row)
                errors.update(row_errors)
        return rows or None
    return None


def answers_from_post(
    spec: Mapping[str, Any], data: Any, files: Any = None, *, prefix: str = "f", save_file: SaveFile | None = None
) -> PostedAnswers:
    """The answers a page posted (``request.POST``, ``request.FILES``), in their JSON types.

    Empty inputs give no answer. An uploaded file is handed to ``save_file(field, upload)``, which
    stores it and returns its id (a ``ValidationError`` it raises becomes a message on the field);
    otherwise the id in ``<name>-keep`` is kept, unless ``<name>-remove`` is ticked.
    """
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in _fields(spec):
        if field.get("type") == "heading":
            continue
        key = field.get("key", "")
        value = _parse(field, f"{prefix}-{key}", key, data, files, save_file, errors)
        if value is not None:
            answers[key] = value
    groups = {field.get("key") for field in _fields(spec) if field.get("type") == "group"}
    add = next(
        (name[len(ADD_BUTTON) :] for name in data if name.startswith(ADD_BUTTON) and name[len(ADD_BUTTON) :] in groups),
        None,
    )
    return PostedAnswers(answers, add, errors)


# --- The read-only view --------------------------------------------------------------------------


def render_answers(spec: Mapping[str, Any], answers: Mapping[str, Any] | None, *, language: str | None = None) -> SafeString:
    """The answers as description lists (a heading starts a new one; groups are small tables),
    from ``engine.display``; unanswered questions show a dash (those whose condition does not hold are
    left out), files link to their download."""
    answers = answers if isinstance(answers, Mapping) else {}
    files = _file_rows(spec, answers)

    def shown(row: dict) -> dict:
        row = dict(row)
        if row.get("type") == "file" and isinstance(row.get("value"), int) and row["value"] in files:
            row["file"] = {"name": files[row["value"]].original_name, "url": reverse("formbuilder:file", args=[row["value"]])}
        if row.get("type") == "group":
            subs = row["items"][0] if row.get("items") else []
            row["columns"] = [sub["label"] for sub in subs if sub.get("type") != "heading"]
            row["table"] = [[shown(sub) for sub in item if sub.get("type") != "heading"] for item in row.get("items") or []]
        return row

    sections: list[dict[str, Any]] = [{"heading": None, "rows": []}]
    for row in engine.display(spec, answers, language=language):
        if not row.get("applies", True) and not row.get("answered"):
            continue
        if row.get("type") == "heading":
            sections.append({"heading": row, "rows": []})
        else:
            sections[-1]["rows"].append(shown(row))
    sections = [section for section in sections if section["heading"] or section["rows"]]
    return SafeString(render_to_string("formbuilder/answers.html", {"sections": sections}))
