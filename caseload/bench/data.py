"""The benchmark's data set: one agency with N clients and the casework of three years.

Per client, in realistic proportions: about 20 case notes, 5 tasks, 4 communications and 1
supportive service, dated over the last three years, across six programs of very different
sizes (the export scenario reads the smallest and a ten times larger one), written by the staff
(caseworkers, their managers, an administrator and an auditor): twenty, and one more caseworker for
each further 2,000 clients, so a caseworker's share stays an agency's, not a million clients' among
fifteen. A few per cent of the
notes are private, some soft-deleted, a fifth of the last month's are drafts; some reminders are
scheduled; past tasks are done, but for some of the last two months'. Client number 1 gets 1,000 records instead (the history-feed scenario).

The clients come from the demo seeding (multilingual names, search keys built, the first 50
registered one by one through ``register_client``); the casework is generated here as plain
tuples and inserted in chunks of clients, one transaction each: ``INSERT ... SELECT FROM
unnest(arrays)`` on PostgreSQL (COPY is refused on tables with row-level security), one prepared
``executemany`` on SQLite. Written in the system context (``all_agencies``).

A second run at the same size does nothing: the clients are counted, and a chunk's casework is
committed with a marker event naming its last client, so the latest marker says how far a build
went (an interrupted build resumes there; a larger ``--clients`` tops the set up).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import F, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.casework.models import CaseNote, Communication, Grant, SupportiveService, SupportServiceType, Task
from caseload.clients.models import Assignment, Client, ClientSearchKey, Enrolment
from caseload.tenancy import demo
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.scoping import all_agencies

SPEC = demo.AGENCIES[0]
# Clients whose casework is generated and committed together.
CHUNK = 1000
# The programs, with the share of the casework each gets. The export scenario reads the last two.
PROGRAM_SHARES = {
    "Employment Ontario": 0.42,
    "Youth Job Connection": 0.28,
    "Skilled Trades Pathway": 0.15,
    "Newcomer Career Bridge": 0.095,
    "Digital Skills Lab": 0.05,
    "Small Business Start-up": 0.005,
}
EXPORT_PROGRAMS = ("Small Business Start-up", "Digital Skills Lab")
# Staff beyond the demo's four (administrator, manager, two caseworkers): two more managers, thirteen
# caseworkers and an auditor make twenty.
EXTRA_STAFF = (
    *(("manager", f"manager{n}", "Manager", "Program manager") for n in (2, 3)),
    *(("caseworker", f"caseworker{n}", "Caseworker", "Employment counsellor") for n in range(3, 16)),
    ("auditor", "auditor", "Read-only auditor", "Quality assurance"),
)
STAFF_NAMES = (
    "Olumide Adeyemi",
    "Sophie Tremblay",
    "Wei Zhang",
    "Fatima Al-Sayed",
    "Gabriel Roy",
    "Ayesha Siddiqui",
    "Mateo Fernández",
    "Léa Bouchard",
    "Kwame Mensah",
    "Ingrid Halvorsen",
    "Thảo Phạm",
    "Yusuf Abdullahi",
    "Émilie Gagnon",
    "Rahul Mehta",
    "Hana Kobayashi",
    "Daniel Cohen",
)
SERVICE_TYPES = ("Transportation", "Childcare", "Work clothing and tools", "Interpretation", "Food voucher", "Training fees")
# Beyond the twenty staff: one more caseworker for each this many clients (the growth scenarios'
# dashboard must not measure one caseworker holding 66,000 clients, which no agency has).
CLIENTS_PER_CASEWORKER = 2000
HISTORY_CLIENT_NUMBER = 1
# The audit events marking how far the casework generation went (object_id: the last client's pk).
MARKER = "bench.casework"
HISTORY_RECORDS = {"notes": 600, "communications": 200, "tasks": 100, "services": 100}
YEARS = 3

SENTENCES = (
    "Met with the client to review the employment action plan.",
    "Client reports two interviews scheduled for next week.",
    "Discussed barriers to employment: childcare and transportation.",
    "Résumé updated with the client; cover letter to follow.",
    "Client completed the workplace safety certificate.",
    "Referred to the food bank; client agreed.",
    "Follow-up call: no answer, left a voicemail.",
    "Client is looking for evening shifts in warehousing.",
    "Reviewed the budget; the transit pass is the main cost.",
    "Client would like language training before the bridging program.",
    "Rencontre avec la cliente pour faire le point sur sa recherche d'emploi.",
    "Le client a obtenu un entretien chez un employeur local.",
    "Discussion des besoins en garde d'enfants; références données.",
    "Appel de suivi : la cliente a commencé son stage lundi.",
    "Client started a placement at a logistics company on Monday.",
    "Client asked about credential recognition for an engineering degree.",
    "Mock interview practised; feedback on the STAR method given.",
    "Client's housing is unstable; referred to the housing worker.",
    "Case conference with the job developer about the placement.",
    "Client has been hired full time; closing the employment goal.",
)
TASK_TITLES = (
    "Call the client about the interview",
    "Send the résumé to the employer",
    "Book the language assessment",
    "Check the placement after two weeks",
    "Collect the signed consent",
    "Prepare the case conference",
    "Follow up on the food bank referral",
    "Submit the training funding request",
    "Confirm the childcare subsidy",
    "Review the action plan",
)
SUBJECTS = (
    "Interview reminder",
    "Your appointment",
    "Job fair on Thursday",
    "Documents to bring",
    "Rendez-vous de suivi",
    "Training starts Monday",
)
VENDORS = ("TTC", "Mark's Work Wearhouse", "YMCA Childcare", "Loblaws", "Interpreters Plus", "George Brown College")


@dataclass
class DataSet:
    agency: Agency
    clients: int
    seconds: float
    built: bool  # False when the data set was reused as it was
    counts: dict[str, int]


def build(clients: int, *, log: Callable[[str], None] = lambda _line: None) -> DataSet:
    """The data set with (at least) ``clients`` clients, built or topped up as needed."""
    started = time.perf_counter()
    agency = demo.seed_agency(SPEC, clients)
    with all_agencies():
        _renumber_phones(agency)
        staff = _staff(agency, clients)
        programs = _programs(agency)
        service_types, grants = _services_setup(agency)
        done = _generated_up_to(agency)
        todo = Client.objects.filter(agency=agency, pk__gt=done).order_by("pk").values_list("pk", "client_number")
        built = False
        generator = Generator(agency, staff, programs, service_types, grants)
        total = Client.objects.filter(agency=agency).count()
        made = 0
        while True:
            chunk = list(todo.filter(pk__gt=done)[:CHUNK])
            if not chunk:
                break
            with transaction.atomic():
                generator.write(chunk)
                _mark(agency, chunk)
            done = chunk[-1][0]
            made += len(chunk)
            built = True
            if made % (CHUNK * 20) == 0:
                log(f"  casework of {made} clients written ({time.perf_counter() - started:.0f} s)")
        if built:
            analyze()
        counts = {
            "clients": total,
            "case_notes": CaseNote.objects.filter(agency=agency).count(),
            "tasks": Task.objects.filter(agency=agency).count(),
            "communications": Communication.objects.filter(agency=agency).count(),
            "supportive_services": SupportiveService.objects.filter(agency=agency).count(),
            "staff": len(staff),
            "programs": len(programs),
        }
    return DataSet(agency=agency, clients=total, seconds=round(time.perf_counter() - started, 2), built=built, counts=counts)


def _renumber_phones(agency: Agency) -> None:
    """Give the clients of a data set built before ``demo.demo_phone`` the numbers it gives now, in place.

    Those sets had the 555 exchange's 10,000 numbers for all their clients (eighty clients to a number at a
    million): client ``n`` (the ``n - 1``-th generated) beyond the first 10,000 had the number of client
    ``(n - 1) % 10,000 + 1``. A set holding none of those (built since) is left as it is, after one indexed look.
    """
    block, exchanges = demo.PHONE_BLOCK, demo.PHONE_EXCHANGES
    old = Client.objects.filter(
        agency=agency,
        client_number__gt=block,
        client_number__lte=block * exchanges,  # further on, the exchanges come round to 555 again
        phone__gte="+1416555",
        phone__lt="+1416556",
    )
    if not old.exists():
        return
    index = F("client_number") - 1
    text = functools.partial(Cast, output_field=models.CharField())
    old.update(
        phone=Concat(
            Value("+1416"),
            LPad(text(Value(555) + index / block % exchanges), 3, Value("0")),
            LPad(text(index % block), 4, Value("0")),
            output_field=models.CharField(),
        )
    )
    analyze((Client,))


def _generated_up_to(agency: Agency) -> int:
    """The highest client whose casework is written: each chunk's transaction ends with a marker event
    (the demo's own casework, on the first clients, says nothing about how far the generation went)."""
    last = (
        AuditEvent.objects.filter(agency=agency, object_type=MARKER).order_by("-pk").values_list("object_id", flat=True).first()
    )
    return int(last) if last else 0


def _mark(agency: Agency, chunk: list[tuple[int, int]]) -> None:
    AuditEvent.objects.create(
        agency=agency,
        action=AuditEvent.Action.CREATE,
        object_type=MARKER,
        object_id=str(chunk[-1][0]),
        object_repr=f"Generated casework of {len(chunk)} clients (benchmark)",
        changes={"clients": [None, len(chunk)]},
    )


def analyze(models: tuple[type, ...] = ()) -> None:
    """The state autovacuum leaves a table in after a bulk load: planner statistics and, on PostgreSQL,
    the visibility map (VACUUM), without which the covering indexes (search keys) cannot serve
    index-only scans. The data set's tables, or ``models``'.

    The scenarios that write and take their rows out again (import, outbox) call it for the tables they
    touched: where autovacuum is off (a CI machine's PostgreSQL), each run left hundreds of thousands of
    dead rows behind and the next ran slower (the search keys' table grew to 2.3 GB in thirty runs)."""
    tables = [
        model._meta.db_table
        for model in models or (Client, ClientSearchKey, Enrolment, Assignment, CaseNote, Task, Communication, SupportiveService)
    ]
    command = "VACUUM ANALYZE" if connection.vendor == "postgresql" and not connection.in_atomic_block else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")


# --- Staff, programs, services ---------------------------------------------------------------


def _staff(agency: Agency, clients: int) -> list[Membership]:
    """The active memberships: the demo's four and sixteen more (caseworkers each under a manager), then
    one more caseworker for each CLIENTS_PER_CASEWORKER clients beyond the fifteen caseworkers' share."""
    roles = {role.name: role for role in Role.objects.filter(agency=agency)}
    programs = list(Program.objects.filter(agency=agency).order_by("pk"))
    managers = list(Membership.objects.filter(agency=agency, role__name="Manager").order_by("pk"))
    caseworkers = 2 + sum(1 for kind, *_rest in EXTRA_STAFF if kind == "caseworker")
    more = max(0, clients // CLIENTS_PER_CASEWORKER - caseworkers)
    wanted = [
        *zip(EXTRA_STAFF, STAFF_NAMES, strict=True),
        *(
            (("caseworker", f"caseworker{n}", "Caseworker", "Employment counsellor"), _staff_name(n))
            for n in range(caseworkers + 1, caseworkers + 1 + more)
        ),
    ]
    existing = set(Membership.objects.filter(agency=agency).values_list("user__email", flat=True))
    password = None
    for index, ((kind, handle, role_name, title), full_name) in enumerate(wanted):
        email = f"{handle}@{SPEC.domain}"
        if email in existing:
            continue
        password = password or make_password(demo.DEMO_PASSWORD)  # hashed once for all of them
        user = User.objects.filter(email=email).first() or User.objects.create(
            email=email, full_name=full_name, password=password
        )
        manager = managers[index % len(managers)] if kind == "caseworker" and managers else None
        membership = Membership.objects.create(agency=agency, user=user, role=roles[role_name], title=title, manager=manager)
        if kind == "manager":
            managers.append(membership)
        membership.programs.set(programs if kind != "caseworker" else programs[: 2 + index % 3])
    return list(Membership.objects.filter(agency=agency, is_active=True).select_related("role", "manager").order_by("pk"))


def _staff_name(n: int) -> str:
    """A generated caseworker's name: the staff names' given and family names paired anew (never as in
    STAFF_NAMES; all distinct for the first 240)."""
    given = [name.split(" ", 1)[0] for name in STAFF_NAMES]
    family = [name.split(" ", 1)[1] for name in STAFF_NAMES]
    size = len(STAFF_NAMES)
    return f"{given[n % size]} {family[(n % size + 1 + (n // size) % (size - 1)) % size]}"


def _programs(agency: Agency) -> dict[str, Program]:
    funders = list(Funder.objects.filter(agency=agency))
    programs = {}
    for name in PROGRAM_SHARES:
        program, created = Program.objects.get_or_create(agency=agency, name=name)
        if created:
            program.funders.set(funders)
        programs[name] = program
    return programs


def _services_setup(agency: Agency) -> tuple[list[SupportServiceType], list[Grant]]:
    types = [SupportServiceType.objects.get_or_create(agency=agency, name=name)[0] for name in SERVICE_TYPES]
    funder = Funder.objects.filter(agency=agency).order_by("pk").first()
    today = timezone.localdate()
    grants = []
    for year in range(YEARS):
        start = date(today.year - year, 1, 1)
        grants.append(
            Grant.objects.get_or_create(
                agency=agency,
                name=f"Supportive services {start.year}",
                defaults={
                    "funder": funder,
                    "budget": Decimal("250000.00"),
                    "starts_on": start,
                    "ends_on": date(start.year, 12, 31),
                },
            )[0]
        )
    return types, grants


# --- Casework rows ----------------------------------------------------------------------------


def _column(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def fast_insert(model: type[models.Model], names: list[str], rows: list[tuple]) -> int:
    """Insert ``rows`` (tuples of the fields ``names``, as Python values) as fast as the database allows."""
    if not rows:
        return 0
    fields = [_column(model, name) for name in names]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            casts = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
            sql = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts})"  # noqa: S608
            for start in range(0, len(rows), 20_000):
                cursor.execute(sql, [list(values) for values in zip(*rows[start : start + 20_000], strict=True)])
        else:
            adapt = [_sqlite_adapter(field) for field in fields]
            prepared = [
                [convert(value) if convert and value is not None else value for convert, value in zip(adapt, row, strict=True)]
                for row in rows
            ]
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})", prepared)  # noqa: S608
    return len(rows)


def _sqlite_adapter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "DecimalField":
        return str
    return None


NOTE_FIELDS = [
    "agency",
    "client",
    "program",
    "author",
    "created_at",
    "deleted_at",
    "note_type",
    "contact_date",
    "body",
    "is_private",
    "status",
]
TASK_FIELDS = [
    "agency",
    "client",
    "program",
    "title",
    "description",
    "due_on",
    "priority",
    "status",
    "assigned_to",
    "for_client",
    "remind_days_before",
    "reminder_sent_at",
    "completed_at",
    "created_by",
    "created_at",
    "deleted_at",
]
COMMUNICATION_FIELDS = [
    "agency",
    "client",
    "program",
    "author",
    "created_at",
    "kind",
    "direction",
    "date",
    "subject",
    "body",
    "status",
    "channel",
    "sent_at",
    "failure_reason",
]
SERVICE_FIELDS = [
    "agency",
    "client",
    "program",
    "author",
    "created_at",
    "service_type",
    "date",
    "amount",
    "vendor",
    "justification",
    "grant",
]
ENROLMENT_FIELDS = ["agency", "client", "program", "start_date", "end_date"]
ASSIGNMENT_FIELDS = ["agency", "client", "staff", "is_primary", "assigned_at"]

NOTE_TYPES = [value for value, _label in CaseNote.Type.choices]
NOTE_TYPE_WEIGHTS = [30, 30, 8, 20, 5, 2, 5]
COMMUNICATION_KINDS = ["phone", "email", "sms", "in_person", "video", "letter", "reminder"]
COMMUNICATION_WEIGHTS = [30, 25, 15, 15, 5, 2, 8]


def _counts(rng: random.Random) -> dict[str, int]:
    """Records of one client: about 20 notes, 5 tasks, 4 communications and 1 supportive service."""
    return {
        "notes": rng.randint(5, 35),
        "tasks": rng.randint(1, 9),
        "communications": rng.randint(0, 8),
        "services": rng.choice((0, 0, 1, 1, 1, 2, 2)),
    }


class Generator:
    """Writes the casework of a chunk of clients (deterministic for a given client)."""

    def __init__(self, agency: Agency, staff: list[Membership], programs: dict[str, Program], service_types, grants) -> None:
        self.agency_id = agency.pk
        self.caseworkers = [m.pk for m in staff if m.role.name == "Caseworker"] or [m.pk for m in staff]
        self.writers = [m.pk for m in staff if m.role.name in ("Caseworker", "Manager")] or [m.pk for m in staff]
        self.program_ids = [program.pk for program in programs.values()]
        self.program_weights = list(PROGRAM_SHARES.values())
        self.service_types = [t.pk for t in service_types]
        self.grants = {g.starts_on.year: g.pk for g in grants}
        self.today = timezone.localdate()
        self.bodies = self._bodies()

    @staticmethod
    def _bodies() -> list[str]:
        rng = random.Random(11)
        return [" ".join(rng.sample(SENTENCES, rng.randint(2, 5))) for _ in range(400)]

    def _when(self, rng: random.Random, days_back: int = YEARS * 365) -> tuple[date, datetime]:
        day = self.today - timedelta(days=rng.randint(0, days_back))
        return day, datetime(day.year, day.month, day.day, rng.randint(13, 22), rng.randint(0, 59), tzinfo=UTC)

    def _program(self, rng: random.Random, main_program: int) -> int | None:
        """A record's program: mostly the client's own, sometimes another, sometimes none."""
        roll = rng.random()
        return None if roll < 0.1 else main_program if roll < 0.7 else rng.choices(self.program_ids, self.program_weights)[0]

    def _author(self, rng: random.Random, worker: int) -> int:
        """A record's author: mostly the client's caseworker."""
        return worker if rng.random() < 0.8 else rng.choice(self.writers)

    def write(self, chunk: Iterable[tuple[int, int]]) -> None:
        notes, tasks, communications, services, enrolments, assignments = [], [], [], [], [], []
        agency = self.agency_id
        for client_id, number in chunk:
            rng = random.Random(number)
            counts = HISTORY_RECORDS if number == HISTORY_CLIENT_NUMBER else _counts(rng)
            worker = self.caseworkers[number % len(self.caseworkers)]
            main_program = rng.choices(self.program_ids, self.program_weights)[0]
            start, _at = self._when(rng)
            enrolments.append((agency, client_id, main_program, start, None))
            assignments.append((agency, client_id, worker, True, _at))

            program = functools.partial(self._program, rng, main_program)
            author = functools.partial(self._author, rng, worker)

            for _n in range(counts["notes"]):
                day, at = self._when(rng)
                notes.append(
                    (
                        agency,
                        client_id,
                        program(),
                        author(),
                        at,
                        at + timedelta(days=1) if rng.random() < 0.005 else None,
                        rng.choices(NOTE_TYPES, NOTE_TYPE_WEIGHTS)[0],
                        day,
                        rng.choice(self.bodies),
                        rng.random() < 0.03,
                        # A draft is finished within days: only recent notes are still drafts.
                        "draft" if (self.today - day).days <= 30 and rng.random() < 0.2 else "final",
                    )
                )
            for _n in range(counts["tasks"]):
                due = self.today + timedelta(days=rng.randint(-YEARS * 365, 60))
                created = datetime(due.year, due.month, due.day, 14, tzinfo=UTC) - timedelta(days=rng.randint(1, 30))
                past = due < self.today
                roll = rng.random()
                # Overdue tasks are mostly recent ones: old tasks were done or cancelled long ago.
                still_open = 0.15 if (self.today - due).days <= 60 else 0.005
                status = (
                    ("open" if roll < still_open else "cancelled" if roll < still_open + 0.03 else "done")
                    if past
                    else ("in_progress" if roll < 0.2 else "open")
                )
                finished = created + timedelta(days=rng.randint(0, 30)) if status == "done" else None
                reminded = 1 if rng.random() < 0.7 else None
                tasks.append(
                    (
                        agency,
                        client_id,
                        program(),
                        rng.choice(TASK_TITLES),
                        "",
                        due,
                        rng.choices(("low", "normal", "high", "urgent"), (2, 6, 2, 1))[0],
                        status,
                        worker,
                        rng.random() < 0.1,
                        reminded,
                        created + timedelta(days=1) if reminded and past else None,
                        finished,
                        worker,
                        created,
                        None,
                    )
                )
            for _n in range(counts["communications"]):
                kind = rng.choices(COMMUNICATION_KINDS, COMMUNICATION_WEIGHTS)[0]
                if kind == "reminder":
                    day = self.today + timedelta(days=rng.randint(-YEARS * 365, 30))
                    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC) - timedelta(days=3)
                    scheduled = day > self.today
                    status, channel, sent = (
                        ("scheduled", rng.choice(("email", "sms")), None)
                        if scheduled
                        else ("sent", rng.choice(("email", "sms")), at + timedelta(days=3))
                    )
                else:
                    day, at = self._when(rng)
                    status, channel, sent = "recorded", "", None
                communications.append(
                    (
                        agency,
                        client_id,
                        program(),
                        author(),
                        at,
                        kind,
                        "incoming" if rng.random() < 0.3 else "outgoing",
                        day,
                        rng.choice(SUBJECTS),
                        rng.choice(self.bodies),
                        status,
                        channel,
                        sent,
                        "",
                    )
                )
            for _n in range(counts["services"]):
                day, at = self._when(rng)
                services.append(
                    (
                        agency,
                        client_id,
                        program(),
                        author(),
                        at,
                        rng.choice(self.service_types),
                        day,
                        Decimal(rng.randint(1000, 40000)) / 100,
                        rng.choice(VENDORS),
                        "Needed to attend the placement.",
                        self.grants.get(day.year) if rng.random() < 0.5 else None,
                    )
                )
        fast_insert(Enrolment, ENROLMENT_FIELDS, enrolments)
        fast_insert(Assignment, ASSIGNMENT_FIELDS, assignments)
        fast_insert(CaseNote, NOTE_FIELDS, notes)
        fast_insert(Task, TASK_FIELDS, tasks)
        fast_insert(Communication, COMMUNICATION_FIELDS, communications)
        fast_insert(SupportiveService, SERVICE_FIELDS, services)


def history_client(agency: Agency) -> Client | None:
    """The client with 1,000 records (the history-feed scenario)."""
    return Client.objects.for_agency(agency).filter(agency=agency, client_number=HISTORY_CLIENT_NUMBER).first()


def export_programs(agency: Agency) -> list[Program]:
    """The small and the ten times larger program whose notes the export scenario reads."""
    found = {p.name: p for p in Program.objects.for_agency(agency).filter(agency=agency, name__in=EXPORT_PROGRAMS)}
    return [found[name] for name in EXPORT_PROGRAMS if name in found]
