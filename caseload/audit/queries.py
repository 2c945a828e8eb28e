"""Reading the audit log: filtering it, and showing its changes compactly."""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils.text import capfirst

from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Agency

# Dates are clamped inside these so that a day at the ends of the calendar (a typo, a fuzzer)
# never overflows when converted to UTC; no event is recorded that far out.
EARLIEST_DAY, LATEST_DAY = datetime.date(2, 1, 1), datetime.date(9998, 12, 30)


def agency_day_start(agency: Agency, day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the agency's time zone (dates on the page are the agency's dates)."""
    day = min(max(day, EARLIEST_DAY), LATEST_DAY)
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(agency.time_zone))


def filter_events(agency: Agency, params: Mapping[str, Any]) -> QuerySet[AuditEvent]:
    """The agency's events matching the filters, newest first.

    ``params`` holds parsed values (an AuditFilterForm's cleaned_data): ``actor`` (a user or
    their id), ``client`` (a client id), ``action``, ``object_type``, ``date_from`` and
    ``date_to`` (dates, both inclusive, in the agency's time zone). Empty values are ignored.
    """
    events = AuditEvent.objects.for_agency(agency).select_related("actor")
    if actor := params.get("actor"):
        events = events.filter(actor=actor)
    if client := params.get("client"):
        events = events.filter(client_id=client)
    if action := params.get("action"):
        events = events.filter(action=action)
    if object_type := params.get("object_type"):
        events = events.filter(object_type=object_type)
    if date_from := params.get("date_from"):
        events = events.filter(created_at__gte=agency_day_start(agency, date_from))
    if date_to := params.get("date_to"):
        events = events.filter(created_at__lt=agency_day_start(agency, date_to) + datetime.timedelta(days=1))
    return events.order_by("-created_at", "-id")


def object_type_label(object_type: str) -> str:
    """``tenancy.program`` → "Program" (the model's name in the current language)."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name).capitalize()


def object_type_choices(agency: Agency) -> list[tuple[str, str]]:
    """The kinds of object that appear in the agency's log."""
    types = AuditEvent.objects.for_agency(agency).exclude(object_type="").values_list("object_type", flat=True).distinct()
    return sorted(((t, object_type_label(t)) for t in types.order_by()), key=lambda choice: choice[1].lower())


def _short(value: Any) -> str:
    if value is None or value == "":
        return "∅"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    text = str(value)
    return text if len(text) <= 80 else text[:79] + "…"


# Shown by the event itself (its object id and time): left out of a creation's field list.
SAME_AS_EVENT = {"id", "created_at", "updated_at"}


def change_lines(
    changes: Mapping[str, Any], show: Callable[[str, Any], str] | None = None, action: str = ""
) -> Iterator[tuple[str, str | None, str | None]]:
    """``(field, old, new)`` per changed field, values shortened for a table cell.

    A creation has no old values (``old`` is None) and leaves out its empty fields; a deletion
    has no new values (``new`` is None). A detail that is not an old/new pair (an export's
    filters) comes as ``(name, None, value)``. ``show(field, value)`` renders a value.
    """
    show = show or (lambda _field, value: _short(value))
    for field, value in (changes or {}).items():
        if not (isinstance(value, list | tuple) and len(value) == 2):
            yield field, None, show(field, value)
            continue
        old, new = value
        if action == AuditEvent.Action.CREATE:
            if field not in SAME_AS_EVENT and new not in (None, "", []):
                yield field, None, show(field, new)
        elif action == AuditEvent.Action.DELETE:
            if field not in SAME_AS_EVENT and old not in (None, "", []):
                yield field, show(field, old), None
        else:
            yield field, show(field, old), show(field, new)


@functools.cache
def _model(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _pks(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


class ChangeReader:
    """Reads a page of events' changes for people: field names as labels, linked rows by name.

    The rows a page's changes point at (a membership's role, a program's funders) are looked up
    once per kind of row, only in the agency, whatever the number of events.
    """

    def __init__(self, agency: Agency, events: Iterable[AuditEvent]) -> None:
        self.agency = agency
        wanted: dict[type[models.Model], set[int]] = defaultdict(set)
        for event in events:
            model = _model(event.object_type)
            for name, value in (event.changes or {}).items():
                field = _field(model, name)
                if field is not None and field.is_relation and isinstance(value, list) and len(value) == 2:
                    for side in value:
                        wanted[field.related_model].update(_pks(side))
        self.names: dict[tuple[type[models.Model], int], str] = {}
        for related, pks in wanted.items():
            for row in self._rows(related, pks):
                self.names[(related, row.pk)] = str(row)

    def _rows(self, related: type[models.Model], pks: set[int]) -> Iterable[models.Model]:
        if related is Agency:
            return [self.agency] if self.agency.pk in pks else []
        if related is get_user_model():
            return related.objects.filter(pk__in=pks)
        if hasattr(related.objects, "for_agency"):
            rows = related.objects.for_agency(self.agency).filter(pk__in=pks)
            user_field = _field(related, "user")
            return rows.select_related("user") if user_field is not None and user_field.is_relation else rows
        return []

    def label(self, event: AuditEvent, name: str) -> str:
        field = _field(_model(event.object_type), name)
        return capfirst(field.verbose_name) if field is not None and hasattr(field, "verbose_name") else name

    def lines(self, event: AuditEvent) -> list[tuple[str, str | None, str | None]]:
        model = _model(event.object_type)

        def show(name: str, value: Any) -> str:
            field = _field(model, name)
            if field is None or not field.is_relation or value is None:
                return _short(value)
            names = [self.names.get((field.related_model, pk), f"#{pk}") for pk in _pks(value)]
            return _short(", ".join(names)) if isinstance(value, list) else (names[0] if names else _short(value))

        return [(self.label(event, name), old, new) for name, old, new in change_lines(event.changes, show, event.action)]
