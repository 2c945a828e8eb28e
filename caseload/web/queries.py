"""Reads for the dashboard, inside the member's agency: a constant number of queries, whatever the
number of rows (the agency's counts in one, the programs in another, one or two per casework section)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy

from caseload import rawrows
from caseload.audit.models import AuditEvent
from caseload.casework.models import CaseNote, Communication, ServiceReferral, Task
from caseload.casework.records import visible
from caseload.clients.models import Assignment, Client, IncomingReferral, ReferralStatus
from caseload.clients.referrals import pending_incoming_count
from caseload.clients.views import initials
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Agency, Membership, Program


@dataclass(frozen=True)
class DashboardSummary:
    active_programs: int
    active_staff: int
    queued_messages: int | None  # None when the member may not see the outbox
    my_programs: list[str]
    # Counts the casework sections show, read in the same query (None when not asked for).
    incoming_referrals: int | None = None
    recent_clients: int | None = None


def _count(queryset: QuerySet) -> Coalesce:
    """A scalar subquery counting the rows of an agency-filtered queryset (0 when there are none)."""
    counted = queryset.order_by().values("agency").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def dashboard_summary(
    membership: Membership,
    *,
    can_see_outbox: bool,
    incoming_referrals: bool = False,
    recent_since: datetime.datetime | None = None,
) -> DashboardSummary:
    """The agency card's counts, and the counts of the casework sections, in one query."""
    agency = membership.agency
    counts = {
        "active_programs": _count(Program.objects.for_agency(agency).filter(is_active=True)),
        "active_staff": _count(Membership.objects.for_agency(agency).filter(is_active=True)),
    }
    if can_see_outbox:
        counts["queued_messages"] = _count(
            OutboundMessage.objects.for_agency(agency).filter(status=OutboundMessage.Status.QUEUED)
        )
    if incoming_referrals:
        counts["incoming_referrals"] = _count(
            IncomingReferral.objects.for_agency(agency).filter(status=ReferralStatus.PENDING)
        )
    if recent_since is not None:
        touched = _my_client_events(membership).filter(created_at__gte=recent_since)
        distinct = touched.order_by().values("agency").annotate(n=Count("client_id", distinct=True)).values("n")[:1]
        counts["recent_clients"] = Coalesce(Subquery(distinct, output_field=IntegerField()), Value(0))
    row = Agency.objects.filter(pk=agency.pk).values(**counts).get()
    return DashboardSummary(
        active_programs=row["active_programs"],
        active_staff=row["active_staff"],
        queued_messages=row.get("queued_messages"),
        my_programs=list(membership.programs.filter(is_active=True).order_by("name").values_list("name", flat=True)),
        incoming_referrals=row.get("incoming_referrals"),
        recent_clients=row.get("recent_clients"),
    )


def _my_client_events(membership: Membership) -> QuerySet:
    """The member's audit events about a client that say they worked on it."""
    agency = membership.agency
    return AuditEvent.objects.for_agency(agency).filter(
        agency=agency, actor_id=membership.user_id, client_id__isnull=False, action__in=list(WHAT_BY_ACTION)
    )


# --- Casework: the heart of a caseworker's dashboard --------------------------------------------
#
# Each section is a count and its first rows, in one query (the count is a window over the same
# filtered rows), so the dashboard runs the same queries for 2 records as for 2,000. Every read
# applies the private rule and leaves deleted rows out (``records.visible``).

SECTION_ROWS = 5
# The latest audit events of the member searched for their recent clients (one client viewed a
# hundred times still leaves room for others).
RECENT_EVENTS = 300
RECENT_DAYS = 7
UPCOMING_DAYS = 7


@dataclass(frozen=True)
class Section:
    """A dashboard section: how many in all, the first few, and where the rest are."""

    count: int
    rows: list[Any]
    see_all_url: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Interaction:
    client: Client
    initials: str
    what: str
    when: datetime.datetime
    url: str


@dataclass(frozen=True)
class Draft:
    """One thing the member started and has not finished (a note in draft; later: a form)."""

    kind: str
    title: str
    client: Client | None
    when: datetime.datetime
    url: str


@dataclass(frozen=True)
class DraftSource:
    """Where drafts come from. ``read(membership, limit)`` returns (count, first rows) in one query."""

    key: str
    read: Callable[[Membership, int], tuple[int, list[Draft]]]


# The sessions issue adds its service forms still in draft here (a DraftSource "forms"): the
# dashboard's "Still in draft" section and the My drafts page read every source of this list.
DRAFT_SOURCES: list[DraftSource] = []


def register_draft_source(source: DraftSource) -> None:
    DRAFT_SOURCES[:] = [existing for existing in DRAFT_SOURCES if existing.key != source.key] + [source]


def url_or_empty(name: str, *args: Any, query: str = "") -> str:
    """The URL, or "" while the page is still being built (NoReverseMatch)."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def counted(queryset: QuerySet, limit: int = SECTION_ROWS, **sums: Any) -> tuple[dict[str, int], list[Any]]:
    """The first ``limit`` rows with the count of all of them (and any other sums), in one query.

    The filtered rows' count and sums are one grouped statement, and the first rows' ids another (in the
    queryset's order): each is compiled once, from the queryset, and put into the page's statement as
    SQL (scalar subqueries, which PostgreSQL runs once, as InitPlans). The rows themselves are read by
    those ids alone, with the queryset's joins and order: the database joins the five rows to their
    clients, not every matching row (a caseworker with 6,000 clients has hundreds of open tasks), and
    the filters are compiled twice, not once more per count and again for the rows (the ORM's compiling
    of a section's filters three or four times was most of the dashboard's time). The rows' statement,
    whose shape depends only on the model, order and related objects, is compiled once per connection
    (``_rows_template``), the other two filled into it.
    """
    alias = queryset.db
    names = ("total_rows", *sums)
    totals = queryset.order_by().values("agency").annotate(total_rows=Count("pk"), **sums).values(*names)
    filled = {
        _TOTALS: totals.query.get_compiler(alias).as_sql(),
        _FIRST: queryset.values("pk")[:limit].query.get_compiler(alias).as_sql(),
    }
    found = _rows_template(queryset, names).rows(filled)
    if not found:
        return dict.fromkeys(names, 0), []
    return {name: getattr(found[0], name) or 0 for name in names}, found


# The holes of counted()'s rows statement: the first rows' ids, and the totals.
_FIRST, _TOTALS = "caseload_counted_first", "caseload_counted_totals"


def _rows_template(queryset: QuerySet, names: tuple[str, ...]) -> rawrows.Template:
    """counted()'s rows statement for ``queryset``'s model, order and related objects: a fresh queryset of the
    model (every row it reads is one of the first ids, chosen by the agency-scoped queryset's own filters), read
    by those ids with the queryset's joins and order, each row with the totals. Its shape depends on nothing else,
    so it is compiled once per connection and shape (the compiling was a tenth of the dashboard's time); the ids'
    and the totals' statements, which hold the filters, are compiled on every call."""
    alias = queryset.db
    query = queryset.query
    # select_related: False, True, or nested dicts of field names (made_hashable: nested tuples).
    key = ("counted", queryset.model, tuple(query.order_by), make_hashable(query.select_related), names)

    def build() -> QuerySet:
        quote = connections[alias].ops.quote_name
        rows = (
            QuerySet(model=queryset.model, using=alias)
            .filter(pk__in=rawrows.hole(_FIRST))
            .order_by(*query.order_by)
            .annotate(**{name: RawSQL(f"SELECT counted.{quote(name)} FROM ({_TOTALS}) counted", []) for name in names})  # noqa: S611, S608
        )
        rows.query.select_related = query.select_related
        return rows

    try:
        hash(key)
    except TypeError:  # an order by an expression that cannot be a key: compiled for this call alone
        return rawrows.Template(build(), (_FIRST, _TOTALS))
    return rawrows.template(alias, key, (_FIRST, _TOTALS), build)


def assigned_to_me(membership: Membership, client_field: str = "client_id") -> Exists:
    """Whether the row's client is assigned to the member: a probe per row (the section's few rows), where
    ``client_id IN (the member's clients)`` read all of a caseworker's thousands of assignments every time."""
    return Exists(
        Assignment.objects.for_agency(membership.agency).filter(staff=membership, client_id=OuterRef(client_field))
    )


def _sum_when(condition: Q) -> Sum:
    return Sum(Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()))


WHAT_I_DID = {
    ("casework.casenote", "create"): gettext_lazy("Wrote a case note"),
    ("casework.casenote", "change"): gettext_lazy("Edited a case note"),
    ("casework.casenote", "delete"): gettext_lazy("Deleted a case note"),
    ("casework.communication", "create"): gettext_lazy("Recorded a communication"),
    ("casework.communication", "change"): gettext_lazy("Updated a communication"),
    ("casework.supportiveservice", "create"): gettext_lazy("Recorded a supportive service"),
    ("casework.supportiveservice", "change"): gettext_lazy("Updated a supportive service"),
    ("casework.task", "create"): gettext_lazy("Created a task"),
    ("casework.task", "change"): gettext_lazy("Updated a task"),
    ("casework.servicereferral", "create"): gettext_lazy("Made a referral"),
    ("casework.servicereferral", "change"): gettext_lazy("Updated a referral"),
    ("clients.client", "create"): gettext_lazy("Registered the client"),
    ("clients.client", "change"): gettext_lazy("Updated the profile"),
    ("clients.client", "view"): gettext_lazy("Opened the record"),
    ("clients.enrolment", "create"): gettext_lazy("Enrolled in a program"),
    ("clients.assignment", "create"): gettext_lazy("Assigned staff"),
    ("clients.referral", "create"): gettext_lazy("Referred to another agency"),
}
WHAT_BY_ACTION = {
    "create": gettext_lazy("Added to the record"),
    "change": gettext_lazy("Updated the record"),
    "delete": gettext_lazy("Removed from the record"),
    "view": gettext_lazy("Opened the record"),
    "send": gettext_lazy("Sent a message"),
}


def what_i_did(object_type: str, action: str) -> str:
    if object_type == "clients.safetyflag":
        return str(gettext_lazy("Changed the safety flag"))
    return str(WHAT_I_DID.get((object_type, action)) or WHAT_BY_ACTION.get(action, ""))


def recent_since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(days=RECENT_DAYS)


def recent_clients(membership: Membership, now: datetime.datetime, this_week: int | None = None) -> Section:
    """The clients the member most recently worked on or opened: 2 queries, and 1 for the week's count
    unless ``this_week`` was read with the dashboard's summary."""
    agency = membership.agency
    mine = _my_client_events(membership)
    # Per client: when the member last touched the record, and the last thing they did to it
    # (a note written says more than the page they opened afterwards).
    latest: dict[int, dict[str, Any]] = {}
    did: dict[int, dict[str, Any]] = {}
    for event in mine.order_by("-created_at", "-id").values("client_id", "action", "object_type", "created_at")[:RECENT_EVENTS]:
        client_id = event["client_id"]
        if client_id not in latest and len(latest) < SECTION_ROWS:
            latest[client_id] = event
        if client_id in latest and client_id not in did and event["action"] != "view":
            did[client_id] = event
    clients = Client.objects.for_agency(agency).in_bulk(list(latest))
    rows = []
    for client_id, touched in latest.items():
        if client_id not in clients:
            continue  # deleted since
        event = did.get(client_id, touched)
        rows.append(
            Interaction(
                client=clients[client_id],
                initials=initials(clients[client_id]),
                what=what_i_did(event["object_type"], event["action"]),
                when=event["created_at"],
                url=reverse("clients:detail", args=[client_id]),
            )
        )
    if this_week is None:
        this_week = mine.filter(created_at__gte=recent_since(now)).values("client_id").distinct().count()
    return Section(count=this_week, rows=rows, see_all_url=url_or_empty("clients:list", query="staff=me"))


def _draft_notes(membership: Membership, limit: int) -> tuple[int, list[Draft]]:
    notes = visible(
        CaseNote.objects.for_agency(membership.agency).filter(author=membership, status=CaseNote.Status.DRAFT), membership
    )
    counts, rows = counted(notes.select_related("client").order_by(Coalesce("updated_at", "created_at").desc(), "-pk"), limit)
    return counts["total_rows"], [
        Draft(
            kind=str(gettext_lazy("Case note")),
            title=note.get_note_type_display(),
            client=note.client,
            when=note.updated_at or note.created_at,
            url=url_or_empty("casework:note_edit", note.pk) or url_or_empty("casework:notes", note.client_id),
        )
        for note in rows
    ]


register_draft_source(DraftSource("notes", _draft_notes))


def drafts(membership: Membership, limit: int = SECTION_ROWS) -> tuple[int, list[Draft]]:
    """Every draft source's count and its newest rows, merged: one query per source."""
    total, rows = 0, []
    for source in DRAFT_SOURCES:
        count, found = source.read(membership, limit)
        total += count
        rows += found
    rows.sort(key=lambda draft: draft.when, reverse=True)
    return total, rows[:limit]


def tasks_due(membership: Membership, today: datetime.date) -> Section:
    """Open tasks assigned to the member due within the week: overdue first, then today, then soonest."""
    horizon = today + datetime.timedelta(days=UPCOMING_DAYS)
    tasks = Task.objects.for_agency(membership.agency).filter(
        assigned_to=membership, status__in=[Task.Status.OPEN, Task.Status.IN_PROGRESS], due_on__isnull=False, due_on__lte=horizon
    )
    urgency = Case(
        *(When(priority=value, then=Value(rank)) for rank, value in enumerate(reversed(Task.Priority.values))),
        output_field=IntegerField(),
    )
    counts, rows = counted(
        visible(tasks, membership).select_related("client").order_by("due_on", urgency, "pk"),
        overdue=_sum_when(Q(due_on__lt=today)),
        due_today=_sum_when(Q(due_on=today)),
    )
    return Section(
        count=counts["total_rows"],
        rows=rows,
        see_all_url=url_or_empty("casework:my_tasks"),
        extra={
            "overdue": counts["overdue"],
            "today": counts["due_today"],
            "upcoming": counts["total_rows"] - counts["overdue"] - counts["due_today"],
            "hidden": counts["total_rows"] - len(rows),
        },
    )


def reminders_today(membership: Membership, today: datetime.date, limit: int = SECTION_ROWS) -> Section:
    """Reminders to the member's clients, or written by the member, whose send date is today."""
    agency = membership.agency
    reminders = (
        Communication.objects.for_agency(agency)
        .filter(kind=Communication.Kind.REMINDER, date=today)
        .exclude(status=Communication.Status.CANCELLED)
    )
    reminders = visible(reminders.filter(Q(author=membership) | Q(assigned_to_me(membership))), membership)
    counts, rows = counted(reminders.select_related("client", "author__user").order_by("status", "created_at", "pk"), limit)
    return Section(count=counts["total_rows"], rows=rows, see_all_url=url_or_empty("web:reminders"))


def referrals_waiting(membership: Membership, *, incoming: bool, incoming_count: int | None = None) -> Section:
    """Service referrals the member sent that have no answer yet (oldest first), and the agency's
    pending referrals from other agencies when the member answers those."""
    referrals = ServiceReferral.objects.for_agency(membership.agency).filter(
        author=membership, status=ServiceReferral.Status.SENT
    )
    counts, rows = counted(
        visible(referrals, membership)
        .select_related("client", "to_program", "service__organisation")
        .order_by("referred_on", "pk")
    )
    return Section(
        count=counts["total_rows"],
        rows=rows,
        see_all_url=url_or_empty("casework:referrals", query="status=sent&mine=1"),
        extra={
            "incoming": (incoming_count if incoming_count is not None else pending_incoming_count(membership.agency))
            if incoming
            else None,
            "incoming_url": url_or_empty("clients:incoming_referrals") if incoming else "",
        },
    )


@dataclass(frozen=True)
class CaseworkDashboard:
    recent: Section | None
    drafts: Section | None
    tasks: Section | None
    reminders: Section | None
    referrals: Section | None


def casework_dashboard(
    membership: Membership,
    *,
    today: datetime.date,
    now: datetime.datetime,
    can: Callable[[str], bool],
    summary: DashboardSummary | None = None,
) -> CaseworkDashboard:
    """The member's casework sections; a section the member's role does not cover is None. Counts
    already read with the dashboard's ``summary`` are not read again."""
    casework = can("casework.view")
    draft_section = None
    if casework:
        count, rows = drafts(membership)
        draft_section = Section(count=count, rows=rows, see_all_url=url_or_empty("web:drafts"))
    return CaseworkDashboard(
        recent=recent_clients(membership, now, summary.recent_clients if summary else None) if can("clients.view") else None,
        drafts=draft_section,
        tasks=tasks_due(membership, today) if casework else None,
        reminders=reminders_today(membership, today) if casework else None,
        referrals=referrals_waiting(
            membership, incoming=can("clients.refer"), incoming_count=summary.incoming_referrals if summary else None
        )
        if casework
        else None,
    )


# --- Outcomes ------------------------------------------------------------------------------------

# Checkpoints still waiting for work (a survey to send, an answer to review).
OPEN_CHECKPOINTS = ["scheduled", "due", "survey_sent", "responded"]


def checkpoints_due(membership: Membership, today: datetime.date) -> Section:
    """Open checkpoints of the member's clients (assigned to them, or placed into Outcomes by them)
    due within the week, overdue ones first; the count and the first rows in one query."""
    from caseload.outcomes.models import Checkpoint

    agency = membership.agency
    horizon = today + datetime.timedelta(days=UPCOMING_DAYS)
    rows = (
        Checkpoint.objects.for_agency(agency)
        .filter(
            Q(assigned_to_me(membership)) | Q(placement__placed_by=membership),
            status__in=OPEN_CHECKPOINTS,
            due_on__lte=horizon,
            superseded_by__isnull=True,
            placement__cancelled_at__isnull=True,
        )
        .select_related("client", "program")
        .order_by("due_on", "months", "pk")
    )
    counts, first = counted(rows, overdue=_sum_when(Q(due_on__lt=today)))
    return Section(
        count=counts["total_rows"], rows=first, extra={"overdue": counts["overdue"], "hidden": counts["total_rows"] - len(first)}
    )
