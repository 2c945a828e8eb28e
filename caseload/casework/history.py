"""The client's history: one feed, newest first, of everything done with the client.

The feed is a registry of sources. A source is one kind of row about a client (case notes,
communications, a safety flag being added, ...): its model, its date field, who did it, its
program, and how one row reads in the feed. Later apps add theirs with ``register`` (from their
``AppConfig.ready``), and the page, the API and the filters pick them up:

    history.register(history.Source(key="session", kind="sessions", model="delivery.Session",
                                    date_field="date", render=render_session))

Reading a page costs at most two SQL queries per source, whatever the number of rows: first each
source's newest keys after the cursor — dates and ids only, at most one page and one more row each
(``ORDER BY date DESC, ... LIMIT page + 1``, on the ``(agency, client, -date)`` indexes) — merged in
Python and cut at the page size; then, for the sources that made the page, their rows of it, whole,
with what they show (reading every source's page of rows whole, to keep a page of them, built ten
times the rows shown). Every entry has a total order key
``(day, stamp, source key, pk)`` — the day it happened (in the agency's time zone), then when it
was recorded (which breaks ties within a day) — and the cursor of the next page is the key of the
last entry shown, so pages never overlap and never skip a row, however sources interleave.

The private rule and the soft delete apply to every source (``records.visible``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, reduce
from operator import or_
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from markdown_it import MarkdownIt

from caseload.casework.records import visible

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
SNIPPET_LENGTH = 180
# The stamp of a row whose source records no time (an enrolment's start date): before any real one.
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
SOURCE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


# --- The registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A group of sources the feed filters on (one checkbox): "Case notes", "Safety flags", ..."""

    key: str
    label: str
    icon: str


@dataclass(frozen=True)
class Shown:
    """How one row reads in the feed. ``badges`` are (label, tone) pairs; tone is a badge class suffix."""

    title: str
    summary: str = ""
    url: str = ""
    badges: tuple[tuple[str, str], ...] = ()
    icon: str = ""  # the kind's icon when empty


@dataclass(frozen=True)
class Source:
    """One kind of row in a client's history.

    ``date_field`` orders the feed: a DateField (then ``tie_field``, a DateTimeField, orders the
    rows of one day; None when the model records no time) or a DateTimeField (which is its own
    tie-break). ``staff_fields`` are foreign keys to a Membership or a User: the staff filter
    matches any of them, and the first is shown as who did it. ``related`` names what ``render``
    reads beyond the row (select_related paths), so rendering never queries.
    """

    key: str
    kind: str
    model: str  # "app_label.ModelName"
    date_field: str
    render: Callable[[Any], Shown]
    tie_field: str | None = "created_at"
    client_field: str = "client"
    program_field: str | None = "program"
    staff_fields: tuple[str, ...] = ("author",)
    related: tuple[str, ...] = ()
    where: Q | None = None
    permission: str = "casework.view"
    # Who may see which rows: ``records.visible`` (the private rule) unless the source has its own
    # rule, ``restrict(queryset, membership)`` (service records add the programs rule).
    restrict: Callable[[Any, Any], Any] | None = None

    @property
    def model_class(self) -> type[models.Model]:
        return apps.get_model(self.model)

    @property
    def by_datetime(self) -> bool:
        return isinstance(self.model_class._meta.get_field(self.date_field), models.DateTimeField)

    def staff_is_user(self, name: str) -> bool:
        return self.model_class._meta.get_field(name).related_model._meta.label == settings.AUTH_USER_MODEL

    @property
    def select(self) -> list[str]:
        paths = list(self.related)
        if self.program_field:
            paths.append(self.program_field)
        for name in self.staff_fields[:1]:
            paths.append(name if self.staff_is_user(name) else f"{name}__user")
        return paths

    @property
    def ordering(self) -> list[str]:
        if self.by_datetime or self.tie_field is None:
            return [f"-{self.date_field}", "-pk"]
        return [f"-{self.date_field}", f"-{self.tie_field}", "-pk"]


KINDS: dict[str, Kind] = {}
SOURCES: dict[str, Source] = {}


def register_kind(key: str, label: str, icon: str) -> Kind:
    KINDS[key] = kind = Kind(key, label, icon)
    return kind


def register(source: Source) -> Source:
    """Add a source to every client's history (its kind must be registered first)."""
    if not SOURCE_KEY.match(source.key):
        raise ValueError(f"history source key {source.key!r}: lower-case letters, digits and _ only")
    if source.kind not in KINDS:
        raise ValueError(f"history source {source.key!r}: register the kind {source.kind!r} first")
    SOURCES[source.key] = source
    return source


def kinds_for(can: Callable[[str], bool]) -> list[Kind]:
    """The kinds the member may see (a kind shows when any of its sources is allowed), in order."""
    allowed = {source.kind for source in SOURCES.values() if can(source.permission)}
    return [kind for key, kind in KINDS.items() if key in allowed]


# --- Cursor ----------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Cursor:
    """The key of the last entry of a page; the next page holds the entries strictly before it."""

    day: dt.date
    stamp: dt.datetime
    source: str
    pk: int

    def __str__(self) -> str:
        micros = (self.stamp - EPOCH) // dt.timedelta(microseconds=1)
        return f"{self.day.isoformat()}.{micros}.{self.source}.{self.pk}"

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """The cursor a ``str(cursor)`` wrote; ValueError for anything else."""
        parts = (text or "").split(".")
        if len(parts) != 4 or not SOURCE_KEY.match(parts[2]) or not parts[1].isdigit() or not parts[3].isdigit():
            raise ValueError("not a history cursor")
        micros, pk, day = int(parts[1]), int(parts[3]), dt.date.fromisoformat(parts[0])
        if micros > 10**17 or pk > 2**62 or day >= dt.date.max:
            raise ValueError("not a history cursor")
        return cls(day, EPOCH + dt.timedelta(microseconds=micros), parts[2], pk)


# --- Entries and pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    source: Source
    row: Any
    day: dt.date
    stamp: dt.datetime
    at: dt.datetime | None  # when the source records the time of day
    who: str
    program: str

    @cached_property
    def shown(self) -> Shown:
        """What the entry shows, rendered when first asked."""
        return self.source.render(self.row)

    @property
    def key(self) -> Cursor:
        return Cursor(self.day, self.stamp, self.source.key, self.row.pk)

    @property
    def kind(self) -> Kind:
        return KINDS[self.source.kind]

    @property
    def icon(self) -> str:
        return self.shown.icon or self.kind.icon


@dataclass
class Page:
    entries: list[Entry]
    next_cursor: Cursor | None
    kinds: list[Kind] = field(default_factory=list)


def agency_zone(agency) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(agency.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return dt.UTC


def _or(a: bool | Q, b: bool | Q) -> bool | Q:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a | b


def _and(a: bool | Q, b: bool | Q) -> bool | Q:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a & b


def _before(source: Source, cursor: Cursor, zone: dt.tzinfo) -> bool | Q:
    """The rows of ``source`` whose key (day, stamp, source, pk) sorts before ``cursor``."""
    if source.key < cursor.source:
        same_stamp: bool | Q = True
    elif source.key > cursor.source:
        same_stamp = False
    else:
        same_stamp = Q(pk__lt=cursor.pk)
    date_field = source.date_field
    if source.by_datetime:
        start = dt.datetime.combine(cursor.day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(cursor.day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        within_day = _or(Q(**{f"{date_field}__lt": cursor.stamp}), _and(Q(**{date_field: cursor.stamp}), same_stamp))
        return _or(
            Q(**{f"{date_field}__lt": start}), _and(Q(**{f"{date_field}__gte": start, f"{date_field}__lt": end}), within_day)
        )
    tie = source.tie_field
    if tie is None:
        within_day = True if cursor.stamp > EPOCH else same_stamp if cursor.stamp == EPOCH else False
    else:
        within_day = _or(Q(**{f"{tie}__lt": cursor.stamp}), _and(Q(**{tie: cursor.stamp}), same_stamp))
    return _or(Q(**{f"{date_field}__lt": cursor.day}), _and(Q(**{date_field: cursor.day}), within_day))


def staff_name(person) -> str:
    """A Membership's or a User's name (its email when it has none); "" for the system."""
    if person is None:
        return ""
    user = getattr(person, "user", person)
    return getattr(user, "full_name", "") or getattr(user, "email", "")


def _key(source: Source, value: Any, tie: Any, pk: int, zone: dt.tzinfo) -> Cursor:
    """The order key of a row from its date, its tie-break (None when the source has none) and its pk."""
    if source.by_datetime:
        return Cursor(timezone.localtime(value, zone).date(), value, source.key, pk)
    return Cursor(value, tie or EPOCH, source.key, pk)


def _entry(source: Source, row: Any, zone: dt.tzinfo) -> Entry:
    value = getattr(row, source.date_field)
    # A source dated by a time keeps the default tie field's name, which its model need not have.
    tie = getattr(row, source.tie_field) if source.tie_field and not source.by_datetime else None
    key = _key(source, value, tie, row.pk, zone)
    who = staff_name(getattr(row, source.staff_fields[0])) if source.staff_fields else ""
    program = getattr(row, source.program_field) if source.program_field else None
    return Entry(
        source=source,
        row=row,
        day=key.day,
        stamp=key.stamp,
        at=value if source.by_datetime else None,
        who=who,
        program=program.name if program else "",
    )


def source_rows(
    source: Source,
    *,
    agency,
    client,
    membership,
    program=None,
    staff=None,
    cursor: Cursor | None = None,
    zone: dt.tzinfo,
) -> QuerySet | None:
    """One source's rows the member may see after the cursor, newest first (None when the filters exclude the source)."""
    model = source.model_class
    queryset = (source.restrict or visible)(model.objects.for_agency(agency).filter(**{source.client_field: client}), membership)
    if source.where is not None:
        queryset = queryset.filter(source.where)
    if program is not None:
        if not source.program_field:
            return None
        queryset = queryset.filter(**{source.program_field: program})
    if staff is not None:
        if not source.staff_fields:
            return None
        queryset = queryset.filter(
            reduce(or_, (Q(**{name: staff.user_id if source.staff_is_user(name) else staff.pk}) for name in source.staff_fields))
        )
    if cursor is not None:
        before = _before(source, cursor, zone)
        if before is False:
            return None
        if before is not True:
            queryset = queryset.filter(before)
    return queryset.order_by(*source.ordering)


def _newest_keys(source: Source, rows: QuerySet, limit: int, zone: dt.tzinfo) -> list[Cursor]:
    """The order keys of the source's newest ``limit`` rows: their dates and ids only."""
    tie = source.tie_field if source.tie_field and not source.by_datetime else None
    fields = [source.date_field, *([tie] if tie else []), "pk"]
    return [_key(source, row[0], row[1] if tie else None, row[-1], zone) for row in rows.values_list(*fields)[:limit]]


def padded(ids: list[int]) -> list[int]:
    """``ids`` repeated up to the next power of two: an ``IN`` list of a handful of lengths is a handful of
    statements, which PostgreSQL prepares and plans once each, where a length of its own each time is planned
    every time (Hibernate's "in clause parameter padding")."""
    return ids + ids[-1:] * ((1 << (len(ids) - 1).bit_length()) - len(ids)) if ids else ids


def client_history(
    client,
    membership,
    *,
    agency,
    can: Callable[[str], bool],
    kinds: Iterable[str] | None = None,
    program=None,
    staff=None,
    cursor: Cursor | None = None,
    page_size: int = PAGE_SIZE,
) -> Page:
    """A page of the client's history as ``membership`` may see it, newest first.

    ``kinds`` limits it to those kinds (None or empty: every kind the member may see); ``program``
    (a Program) and ``staff`` (a Membership) keep the entries of that program, or by that person.
    """
    allowed = kinds_for(can)
    wanted = set(kinds or ()) or {kind.key for kind in allowed}
    zone = agency_zone(agency)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    readable: dict[str, QuerySet] = {}
    keys: list[Cursor] = []
    for source in SOURCES.values():
        if source.kind not in wanted or not can(source.permission):
            continue
        rows = source_rows(
            source, agency=agency, client=client, membership=membership, program=program, staff=staff, cursor=cursor, zone=zone
        )
        if rows is not None:
            readable[source.key] = rows
            keys += _newest_keys(source, rows, page_size + 1, zone)
    keys.sort(reverse=True)
    more = len(keys) > page_size
    chosen: dict[str, list[int]] = {}
    for key in keys[:page_size]:
        chosen.setdefault(key.source, []).append(key.pk)
    # The rows of the page, whole (with what they show), read again through the same filters: one
    # that changed in between is left out, and the next page still starts after the last one shown.
    entries = [
        _entry(SOURCES[name], row, zone)
        for name, pks in chosen.items()
        for row in readable[name].filter(pk__in=padded(pks)).select_related(*SOURCES[name].select)
    ]
    entries.sort(key=lambda entry: entry.key, reverse=True)
    return Page(entries=entries, next_cursor=entries[-1].key if more and entries else None, kinds=allowed)


# --- Rendering helpers ------------------------------------------------------------------------------

_markdown = MarkdownIt("commonmark", {"html": False})


def snippet(text: str, length: int = SNIPPET_LENGTH) -> str:
    """The first words of a Markdown text, as plain text (escaped by the template)."""
    if not text:
        return ""
    plain = html.unescape(strip_tags(_markdown.render(text[: length * 4])))
    return Truncator(" ".join(plain.split())).chars(length)


def link(candidates: Sequence[tuple[str, int]], anchor: str = "") -> str:
    """The first of ``(url name, pk)`` that resolves (a topic's page may still be being built)."""
    for name, pk in candidates:
        try:
            url = reverse(name, args=[pk])
        except NoReverseMatch:
            continue
        return f"{url}#{anchor}" if anchor else url
    return ""


def _date(value) -> str:
    return formats.date_format(value, "DATE_FORMAT") if value else ""


def _money(value) -> str:
    if value is None:
        return ""
    return _("$%(amount)s") % {"amount": formats.number_format(value, 2, use_l10n=True, force_grouping=True)}


def _join(*parts: str) -> str:
    return " · ".join(part for part in parts if part)


# --- The sources of the casework and clients apps -----------------------------------------------

STATUS_TONES = {
    "draft": "warning",
    "scheduled": "info",
    "sending": "info",
    "sent": "success",
    "failed": "danger",
    "cancelled": "neutral",
    "open": "info",
    "in_progress": "info",
    "done": "success",
    "accepted": "success",
    "declined": "danger",
    "completed": "success",
    "no_show": "warning",
    "pending": "info",
    "withdrawn": "neutral",
    "recorded": "neutral",
}


def _status(row) -> tuple[str, str]:
    return (row.get_status_display(), STATUS_TONES.get(row.status, "neutral"))


def render_note(note) -> Shown:
    badges = []
    if note.status == "draft":
        badges.append(_status(note))
    if note.is_private:
        badges.append((_("Private"), "outline"))
    return Shown(
        title=_("%(type)s note") % {"type": note.get_note_type_display()},
        summary=snippet(note.body),
        url=link([("casework:notes", note.client_id)], f"note-{note.pk}"),
        badges=tuple(badges),
    )


def render_communication(communication) -> Shown:
    kind = communication.get_kind_display()
    title = _("%(kind)s: %(subject)s") % {"kind": kind, "subject": communication.subject} if communication.subject else kind
    if communication.kind == "reminder":
        badges = (_status(communication),)
        icon = "send"
    else:
        badges = ((communication.get_direction_display(), "neutral"),)
        icon = ""
    return Shown(
        title=title,
        summary=snippet(communication.body),
        url=link([("casework:communications", communication.client_id)], f"comm-{communication.pk}-title"),
        badges=badges,
        icon=icon,
    )


def _task_url(task) -> str:
    return link([("casework:client_tasks", task.client_id)], f"task-{task.pk}")


def render_task(task) -> Shown:
    badges = [_status(task)]
    if task.priority in ("high", "urgent"):
        badges.append((task.get_priority_display(), "danger" if task.priority == "urgent" else "warning"))
    if task.for_client:
        badges.append((_("For the client"), "accent"))
    due = _("Due %(date)s") % {"date": _date(task.due_on)} if task.due_on else ""
    assignee = (
        _("assigned to %(name)s") % {"name": staff_name(task.assigned_to)} if task.assigned_to_id and not task.for_client else ""
    )
    return Shown(
        title=_("Task: %(title)s") % {"title": task.title},
        summary=_join(due, assignee, snippet(task.description, 120)),
        url=_task_url(task),
        badges=tuple(badges),
    )


def render_task_done(task) -> Shown:
    return Shown(title=_("Task done: %(title)s") % {"title": task.title}, url=_task_url(task), icon="check-circle")


def render_service_referral(referral) -> Shown:
    if referral.kind == "internal":
        target = referral.to_program.name if referral.to_program else ""
    else:
        target = str(referral.service) if referral.service else ""
    follow_up = (
        _("follow up on %(date)s") % {"date": _date(referral.follow_up_on)} if referral.follow_up_on and referral.is_open else ""
    )
    return Shown(
        title=_("Referred to %(target)s") % {"target": target},
        summary=_join(snippet(referral.reason, 140), follow_up),
        url=link([("casework:referral_detail", referral.pk), ("casework:client_tasks", referral.client_id)]),
        badges=(_status(referral),),
    )


def render_service(service) -> Shown:
    summary = _join(
        _money(service.amount),
        service.vendor,
        _("from the grant %(grant)s") % {"grant": service.grant.name} if service.grant else "",
    )
    return Shown(
        title=str(service.service_type.name),
        summary=summary,
        url=link([("casework:services", service.client_id)]),
    )


def render_agency_referral(referral) -> Shown:
    target = referral.to_agency.name if referral.to_agency else referral.organisation
    return Shown(
        title=_("Referred to %(target)s") % {"target": target},
        summary=referral.service,
        url=link([("clients:detail", referral.client_id)], "referrals"),
        badges=(_status(referral),),
        icon="arrow-right",
    )


def render_enrolment(enrolment) -> Shown:
    return Shown(
        title=_("Enrolled in %(program)s") % {"program": enrolment.program.name},
        url=link([("clients:detail", enrolment.client_id)]),
    )


def render_enrolment_end(enrolment) -> Shown:
    return Shown(
        title=_("Left %(program)s") % {"program": enrolment.program.name},
        summary=_("Enrolled since %(date)s") % {"date": _date(enrolment.start_date)},
        url=link([("clients:detail", enrolment.client_id)]),
    )


def render_assignment(assignment) -> Shown:
    badges = ((_("primary"), "accent"),) if assignment.is_primary else ()
    return Shown(
        title=_("%(name)s assigned") % {"name": staff_name(assignment.staff)},
        url=link([("clients:detail", assignment.client_id)]),
        badges=badges,
    )


def render_flag_added(flag) -> Shown:
    # Never the reason: the feed says that a flag was added, the banner says why.
    return Shown(title=_("Safety flag added"), url=link([("clients:detail", flag.client_id)]))


def render_flag_removed(flag) -> Shown:
    return Shown(title=_("Safety flag removed"), url=link([("clients:detail", flag.client_id)]), icon="shield")


register_kind("notes", gettext_lazy("Case notes"), "file-text")
register_kind("communications", gettext_lazy("Communications"), "mail")
register_kind("tasks", gettext_lazy("Tasks"), "check-square")
register_kind("referrals", gettext_lazy("Referrals"), "compass")
register_kind("services", gettext_lazy("Supportive services"), "briefcase")
register_kind("programs", gettext_lazy("Programs"), "layers")
register_kind("staff", gettext_lazy("Staff assignments"), "user")
register_kind("safety", gettext_lazy("Safety flags"), "alert-triangle")


def _builtin(key: str, kind: str, model: str, date_field: str, render: Callable[[Any], Shown], **options: Any) -> None:
    """Register one of the built-in sources; the clients app's records are seen with clients.view."""
    if model.startswith("clients."):
        options.setdefault("permission", "clients.view")
    register(Source(key=key, kind=kind, model=model, date_field=date_field, render=render, **options))


_builtin("note", "notes", "casework.CaseNote", "contact_date", render_note)
_builtin("communication", "communications", "casework.Communication", "date", render_communication)
_builtin(
    "task",
    "tasks",
    "casework.Task",
    "created_at",
    render_task,
    staff_fields=("created_by", "assigned_to"),
    related=("assigned_to__user",),
)
_builtin(
    "task_done",
    "tasks",
    "casework.Task",
    "completed_at",
    render_task_done,
    staff_fields=("completed_by",),
    where=Q(completed_at__isnull=False, status="done"),
)
_builtin(
    "service_referral",
    "referrals",
    "casework.ServiceReferral",
    "referred_on",
    render_service_referral,
    related=("to_program", "service__organisation"),
)
_builtin(
    "agency_referral",
    "referrals",
    "clients.Referral",
    "created_at",
    render_agency_referral,
    program_field=None,
    staff_fields=("created_by",),
    related=("to_agency",),
)
_builtin("service", "services", "casework.SupportiveService", "date", render_service, related=("service_type", "grant"))
_builtin(
    "enrolment", "programs", "clients.Enrolment", "start_date", render_enrolment, tie_field=None, staff_fields=("created_by",)
)
_builtin(
    "enrolment_end",
    "programs",
    "clients.Enrolment",
    "end_date",
    render_enrolment_end,
    tie_field=None,
    staff_fields=(),
    where=Q(end_date__isnull=False),
)
_builtin(
    "assignment",
    "staff",
    "clients.Assignment",
    "assigned_at",
    render_assignment,
    program_field=None,
    staff_fields=("assigned_by", "staff"),
    related=("staff__user",),
)
_builtin(
    "flag_added", "safety", "clients.SafetyFlag", "raised_at", render_flag_added, program_field=None, staff_fields=("raised_by",)
)
_builtin(
    "flag_removed",
    "safety",
    "clients.SafetyFlag",
    "removed_at",
    render_flag_removed,
    program_field=None,
    staff_fields=("removed_by",),
    where=Q(removed_at__isnull=False),
)
