"""The demo installation: two agencies with staff, programs, funders and clients."""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from caseload.accounts.models import User
from caseload.audit.actions import Action, record
from caseload.clients.actions import insert_search_keys, next_client_number, refresh_search_fields, register_client
from caseload.clients.models import Client
from caseload.tenancy import actions
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.scoping import agency_scope

DEMO_PASSWORD = "caseload-demo-2026"


@dataclass(frozen=True)
class DemoAgency:
    name: str
    slug: str
    domain: str
    programs: tuple[str, ...]
    funders: tuple[str, ...]


AGENCIES = (
    DemoAgency(
        "Northside Employment Services",
        "northside",
        "northside.example.org",
        ("Employment Ontario", "Youth Job Connection", "Skilled Trades Pathway"),
        ("Ontario Ministry of Labour", "United Way Greater Toronto"),
    ),
    DemoAgency(
        "Riverside Newcomer Centre",
        "riverside",
        "riverside.example.org",
        ("Settlement Services", "Language Instruction (LINC)", "Newcomer Employment Bridge"),
        ("IRCC", "City of Ottawa Community Funding"),
    ),
)

STAFF = (
    ("admin", "Administrator", "Agency administrator"),
    ("manager", "Manager", "Program manager"),
    ("caseworker1", "Caseworker", "Employment counsellor"),
    ("caseworker2", "Caseworker", "Settlement worker"),
)

STAFF_NAMES = {
    "northside": ("Amélie Gauthier", "Darnell O'Neil", "Priya Raghunathan", "Marc-André Lévesque"),
    "riverside": ("Hodan Warsame", "Nguyễn Thị Lan", "José Martínez-Ortiz", "Chloé Dubois-Kowalski"),
}

# Real-world name shapes the search and reports must handle: accents, apostrophes, hyphens, other scripts.
CURATED_CLIENTS = (
    ("François", "Côté"),
    ("Siobhán", "O'Connor"),
    ("Jean-Luc", "Tremblay-Roy"),
    ("محمد", "الحسن"),
    ("Muhammad", "Abdi"),
    ("李", "小龙"),
    ("Nguyễn", "Văn An"),
    ("Zoë", "D'Souza"),
    ("Ana-María", "Núñez"),
    ("Олена", "Шевченко"),
    ("Björn", "Ødegaard"),
    ("Fatuma", "Hassan-Ali"),
)

FAKER_LOCALES = ("fr_CA", "en_CA", "es_ES", "ar_AA", "zh_CN", "vi_VN")


@functools.cache
def _faker():
    from faker import Faker

    fake = Faker(list(FAKER_LOCALES))
    fake.seed_instance(2026)
    return fake


# Generated clients' phone numbers: the fictional 555 exchange for the first 10,000 (the demo's), then the next
# exchange for each further 10,000, so each client has a number of its own. The 555 exchange alone gave a
# million-client data set eighty clients to a number, and phone search ranked all eighty.
PHONE_BLOCK = 10_000
PHONE_EXCHANGES = 445  # 555 to 999, then round again (past 4,450,000 clients)


def demo_phone(i: int) -> str:
    """The phone number of the ``i``-th generated client (from 0), in E.164 form."""
    return f"+1416{555 + i // PHONE_BLOCK % PHONE_EXCHANGES:03d}{i % PHONE_BLOCK:04d}"


def client_rows(count: int, start: int = 0) -> Iterator[dict]:
    fake = _faker()
    rng = random.Random(start)
    today = timezone.localdate()
    for i in range(start, start + count):
        if i < len(CURATED_CLIENTS):
            given, family = CURATED_CLIENTS[i]
        else:
            locale = FAKER_LOCALES[i % len(FAKER_LOCALES)]
            given, family = fake[locale].first_name(), fake[locale].last_name()
        yield {
            "given_name": given,
            "family_name": family,
            "date_of_birth": today - timedelta(days=rng.randint(18 * 365, 70 * 365)),
            "gender": rng.choice(["Woman", "Man", "Non-binary", ""]),
            "email": f"client{i}@example.net" if rng.random() < 0.7 else "",
            "phone": demo_phone(i) if rng.random() < 0.8 else "",
            "preferred_language": rng.choice(["en", "fr", "ar", "es", "zh", "vi", "so"]),
        }


def _user(email: str, full_name: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=DEMO_PASSWORD, full_name=full_name)
    return user


@transaction.atomic
def seed_agency(spec: DemoAgency, clients: int) -> Agency:
    agency = Agency.objects.filter(slug=spec.slug).first() or actions.create_agency(actor=None, name=spec.name, slug=spec.slug)
    with agency_scope(agency):
        funders = [Funder.objects.get_or_create(agency=agency, name=name)[0] for name in spec.funders]
        programs = []
        for name in spec.programs:
            program, created = Program.objects.get_or_create(agency=agency, name=name)
            if created:
                program.funders.set(funders)
            programs.append(program)
        manager = None
        for (handle, role_name, title), full_name in zip(STAFF, STAFF_NAMES[spec.slug], strict=True):
            user = _user(f"{handle}@{spec.domain}", full_name)
            membership = Membership.objects.filter(agency=agency, user=user).first()
            if membership is None:
                membership = Membership.objects.create(
                    agency=agency,
                    user=user,
                    role=Role.objects.get(name=role_name),
                    title=title,
                    manager=manager if role_name == "Caseworker" else None,
                )
                membership.programs.set(programs[:2] if role_name == "Caseworker" else programs)
            if role_name == "Manager":
                manager = membership
        seed_privacy_statement(agency)
        seed_clients(agency, clients)
        from caseload.casework.demo import seed_casework

        seed_casework(agency, portal_password=DEMO_PASSWORD)
        from caseload.delivery.demo import seed_course, seed_outcomes, seed_plan, seed_sessions

        seed_sessions(agency)
        seed_course(agency)
        seed_plan(agency)
        seed_outcomes(agency)
    return agency


PRIVACY_STATEMENT_EN = """{agency} collects your personal information (name, contact details, date of birth, language, immigration status and the services you receive) to provide and plan services for you and to report to the organisations that fund them.

Your information is entered in Caseload and shared only with the staff of {agency} who work with you. Funders receive statistics and the records their programs require, never your case notes. We share your information with another organisation only with your consent, or when the law requires it.

You may see and correct your information at any time, and you may withdraw your consent. If you do not accept this statement, we can still serve you anonymously, without keeping anything that identifies you."""

PRIVACY_STATEMENT_FR = """{agency} recueille vos renseignements personnels (nom, coordonnées, date de naissance, langue, statut d'immigration et services reçus) pour vous offrir des services, les planifier et rendre compte aux organismes qui les financent.

Vos renseignements sont saisis dans Caseload et communiqués uniquement au personnel de {agency} qui travaille avec vous. Les bailleurs de fonds reçoivent des statistiques et les dossiers que leurs programmes exigent, jamais vos notes de cas. Nous ne communiquons vos renseignements à un autre organisme qu'avec votre consentement, ou lorsque la loi l'exige.

Vous pouvez consulter et corriger vos renseignements en tout temps, et retirer votre consentement. Si vous n'acceptez pas cette déclaration, nous pouvons tout de même vous servir de façon anonyme, sans rien conserver qui vous identifie."""


def seed_privacy_statement(agency: Agency) -> None:
    """The agency's first privacy statement, in English and French (once)."""
    from caseload.clients.actions import publish_privacy_statement
    from caseload.clients.models import PrivacyStatement

    if PrivacyStatement.objects.for_agency(agency).exists():
        return
    publish_privacy_statement(
        agency=agency,
        actor=None,
        version="2026-1",
        text=PRIVACY_STATEMENT_EN.format(agency=agency.name),
        text_fr=PRIVACY_STATEMENT_FR.format(agency=agency.name),
    )


def seed_clients(agency: Agency, target: int) -> int:
    """Top the agency up to ``target`` clients; the first 50 one by one, the rest in bulk for load tests."""
    existing = Client.objects.for_agency(agency).count()
    if existing >= target:
        return 0
    one_by_one = max(0, min(target, 50) - existing)
    for row in client_rows(one_by_one, start=existing):
        register_client(agency=agency, actor=None, data=row)
    start = existing + one_by_one
    remaining = target - start
    number = next_client_number(agency)
    batch: list[Client] = []
    for row in client_rows(remaining, start=start):
        client = Client(agency=agency, client_number=number, **row)
        refresh_search_fields(client)
        batch.append(client)
        number += 1
        if len(batch) == 5000:
            _bulk_create_clients(batch)
            batch = []
    _bulk_create_clients(batch)
    if remaining:
        record(
            agency=agency,
            actor=None,
            action=Action.CREATE,
            object_type="clients.client",
            object_repr=f"{remaining} generated clients",
            changes={"count": [None, remaining]},
        )
    return target - existing


def _bulk_create_clients(batch: list[Client]) -> None:
    """Insert generated clients with their search keys (register_client writes them one by one)."""
    Client.objects.bulk_create(batch)
    insert_search_keys(batch)


def seed(clients: int = 50) -> list[Agency]:
    return [seed_agency(spec, clients) for spec in AGENCIES]


def logins() -> list[tuple[str, str, str]]:
    rows = []
    for spec in AGENCIES:
        for handle, role_name, _title in STAFF:
            rows.append((spec.name, role_name, f"{handle}@{spec.domain}"))
        agency = Agency.objects.filter(slug=spec.slug).first()
        if agency is not None:
            with agency_scope(agency):
                portal = Client.objects.for_agency(agency).filter(portal_user__isnull=False).select_related("portal_user").first()
            if portal is not None:
                rows.append((spec.name, "Client (portal)", portal.portal_user.email))
    return rows
