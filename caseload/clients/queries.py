"""Finding clients: the one search box and the duplicate check before registration.

Both narrow candidates in SQL within the agency, then rank them in Python with matching.score.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache, reduce
from operator import add, or_
from typing import Any

from django.db import connections, router
from django.db.models import Case, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from caseload import rawrows
from caseload.clients import matching
from caseload.clients.models import Client, ClientPhone, ClientSearchKey, PrivacyStatement
from caseload.tenancy.models import Agency

# Enough rows for a good ranking without pulling a large agency into memory.
CANDIDATE_LIMIT = 500
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PHONE_CHARS = re.compile(r"^[\d\s()+.\-]+$")


@dataclass
class ClientMatch:
    client: Client
    score: float
    reasons: list[str] = field(default_factory=list)


def _ranked(candidates, probe: matching.Person, limit: int | None, keep=None, phone_owners: frozenset[int] = frozenset()) -> list[ClientMatch]:
    """Score and sort ``candidates``; ``phone_owners`` are clients holding the probe's phone as an additional number."""
    results = []
    for client in candidates:
        person = matching.Person.of(client)
        if client.pk in phone_owners:
            person.phone = probe.phone
        match = matching.score(person, probe)
        if keep is None or keep(match):
            results.append(ClientMatch(client=client, score=match.score, reasons=match.reasons))
    results.sort(key=lambda m: (-m.score, m.client.family_name.casefold(), m.client.given_name.casefold(), m.client.pk))
    return results if limit is None else results[:limit]


# The typed words name search's key lookup reads (the ranking still reads every word): the statement
# packs each word's weights into three bits of a 64-bit integer.
MAX_KEY_WORDS = 20
# The bit of each key weight within a word's three, strongest first (every weight of matching is one).
WEIGHT_BITS = (4, 2, 1)


def key_words(text: str) -> list[str]:
    """The typed words the key lookup reads: the first MAX_KEY_WORDS of ``text``'s tokens."""
    return matching.tokens(text)[:MAX_KEY_WORDS]


def _key_order(words: list[str], prefix: str = "") -> tuple[list[str], dict[str, Any]]:
    """The keys to look up for ``words`` and the aggregates that order the clients holding them.

    ``words_matched``: how many typed words the client matches by any key; ``match_weight``: for each
    word the weight of its strongest key (the whole word, then a one-letter difference or a prefix,
    then a sound), summed. A common word or sound matched many times over cannot push a client
    matching every word behind. ``prefix`` is the path from the queried model to ClientSearchKey.
    """
    per_word = [matching.query_keys(word) for word in words]
    key, weight = f"{prefix}key__in", F(f"{prefix}weight")
    best = [Max(Case(When(**{key: keys}, then=weight), default=Value(0), output_field=IntegerField())) for keys in per_word]
    found = [Max(Case(When(**{key: keys}, then=Value(1)), default=Value(0), output_field=IntegerField())) for keys in per_word]
    return sorted(set().union(*per_word)), {"words_matched": reduce(add, found), "match_weight": reduce(add, best)}


def key_candidates(agency: Agency, text: str) -> QuerySet:
    """The ids of ``agency``'s clients holding a search key of ``text``, most promising first (see _key_order).

    One lookup by equality on ClientSearchKey alone, which the (agency, key) index serves under
    PostgreSQL's row-level security (LIKE and pg_trgm operators are not leakproof, so RLS keeps them
    off their indexes). Merged profiles have no keys.
    """
    words = key_words(text)
    keys = ClientSearchKey.objects.for_agency(agency)
    if not words:
        return keys.none().values_list("client_id", flat=True)
    lookup, order = _key_order(words)
    return (
        keys.filter(agency=agency, key__in=lookup)
        .values("client_id")
        .annotate(**order)
        .order_by("-words_matched", "-match_weight", "client_id")
        .values_list("client_id", flat=True)
    )


# Up to this many typed words, PostgreSQL orders the key lookup's clients by a table of every mask (8 ** words
# entries: 512 for three words; longer names keep the CASE expressions).
ORDER_TABLE_WORDS = 3


def mask_order_table(words: int) -> tuple[int, ...]:
    """Each mask of ``words`` words (three bits a word, WEIGHT_BITS) as one number ordering as _key_order orders:
    how many words it matches, then the sum of each word's strongest weight (at most 4 a word, below 64)."""
    table = []
    for mask in range(8 ** words):
        found = best = 0
        for shift in range(0, 3 * words, 3):
            bits = (mask >> shift) & 7
            found += bits != 0
            best += next((weight for weight in WEIGHT_BITS if bits & weight), 0)
        table.append(found * 64 + best)
    return tuple(table)


@cache
def _mask_order_array(words: int) -> str:
    """mask_order_table(words) as a PostgreSQL array literal (numbers only), made once."""
    return "'{" + ",".join(map(str, mask_order_table(words))) + "}'::int[]"


def _first_key_sql(agency: Agency, text: str, limit: int = CANDIDATE_LIMIT) -> tuple[str, list[Any]] | None:
    """The SQL and parameters of ``key_candidates(agency, text)[:limit]``, hand-written (see first_key_candidates).

    The same order in one aggregate per client: each key row met becomes the bit of its weight in its word's
    three bits (the word's key list joined as VALUES, so a row is matched once, not tested against every
    word's list twice), OR-ed per client; how many words a client matches and the sum of each word's
    strongest weight are then read off that mask, once per client. A third of the statement's time where
    a common name or sound holds thousands of rows. On SQLite, which has no BIT_OR, the sum of the
    distinct bits is the same number.
    """
    words = key_words(text)
    if not words:
        return None
    alias = router.db_for_read(ClientSearchKey)
    q = rawrows.Quoted(ClientSearchKey, alias)
    pairs = [(key, 3 * word) for word, keys in enumerate(matching.query_keys(each) for each in words) for key in keys]
    bit = f"CAST(k.{q['weight']} AS BIGINT) << q.column2"
    postgresql = connections[alias].vendor == "postgresql"
    mask = f"BIT_OR({bit})" if postgresql else f"SUM(DISTINCT {bit})"
    if postgresql and len(words) <= ORDER_TABLE_WORDS:
        # Every mask's place in the order, worked out here, read with one array lookup per client: the CASE
        # expressions below, two per word for each of the thousands of clients a common name holds, were up to a
        # fifth of such a search's statement (the median search, a few hundred clients, is unchanged).
        order = f"({_mask_order_array(len(words))})[m + 1] DESC"
    else:
        found = " + ".join(f"(CASE WHEN m & {7 << shift} <> 0 THEN 1 ELSE 0 END)" for shift in range(0, 3 * len(words), 3))
        best = " + ".join(
            "(CASE " + " ".join(f"WHEN m & {weight << shift} <> 0 THEN {weight}" for weight in WEIGHT_BITS) + " ELSE 0 END)"
            for shift in range(0, 3 * len(words), 3)
        )
        order = f"({found}) DESC, ({best}) DESC"
    # Identifiers come from the model, quoted; every value is a parameter (the order table: numbers made here).
    sql = (
        f"SELECT {q['client']} FROM (SELECT k.{q['client']}, {mask} AS m FROM {q.table} k "  # noqa: S608
        f"JOIN (VALUES {', '.join(['(%s, %s)'] * len(pairs))}) AS q ON k.{q['key']} = q.column1 "
        f"WHERE k.{q['agency']} = %s GROUP BY k.{q['client']}) masks "
        f"ORDER BY {order}, {q['client']} LIMIT %s"
    )
    return sql, [*(value for pair in pairs for value in pair), agency.pk, limit]


def first_key_candidates(agency: Agency, text: str, limit: int = CANDIDATE_LIMIT) -> RawSQL | None:
    """``key_candidates(agency, text)[:limit]`` as hand-written SQL, for ``pk__in`` (None when ``text`` has no word).

    The same statement, ids and order as the ORM's (a test holds them equal), without building and
    compiling a dozen CASE expressions per search: that was a third of name search's own time.
    """
    statement = _first_key_sql(agency, text, limit)
    return None if statement is None else RawSQL(*statement)  # noqa: S611 (identifiers from the model, values as parameters)


def name_search_statement(agency: Agency, text: str, status: str | None = None) -> tuple[str, list[Any]] | None:
    """The one statement name search sends when nothing but the status filters the clients: the first
    candidates of the key lookup (a subquery), each with what ranking reads (SCORED_FIELDS) and, with a
    ``status``, whether it has that status. Hand-written and sent through the driver's cursor: on an
    agency's usual searches the ORM's compiling and row building cost more than the statement itself.
    None when ``text`` has no word."""
    first = _first_key_sql(agency, text)
    if first is None:
        return None
    q = rawrows.Quoted(Client, router.db_for_read(Client))
    selected = [q[name] for name in SCORED_FIELDS]
    if status:
        selected.append(f"({q['status']} = %s)")
    sql = (
        f"SELECT {', '.join(selected)} FROM {q.table} "  # noqa: S608
        f"WHERE {q['agency']} = %s AND {q['status']} <> %s AND {q['pk']} IN ({first[0]})"
    )
    return sql, [*([status] if status else []), agency.pk, Client.Status.MERGED.value, *first[1]]


def name_search_rows(agency: Agency, clients: QuerySet, text: str) -> QuerySet:
    """Name search's statement when filters narrow ``clients``: the first candidates' SCORED_FIELDS, each
    ending with whether it passes the filters, so search knows when filters left some of the first out
    and more may follow."""
    first = first_key_candidates(agency, text)
    if first is None:
        return clients.none().values_list(*SCORED_FIELDS)
    kept = Exists(clients.filter(pk=OuterRef("pk")))
    return Client.objects.for_agency(agency).filter(agency=agency, pk__in=first).values_list(*SCORED_FIELDS, kept)


def name_candidates(base: QuerySet, text: str) -> QuerySet:
    """The clients of ``base`` holding a search key of ``text``, most promising first, as one joined query.

    What search falls back to when filters leave out too many of key_candidates' first clients.
    """
    words = key_words(text)
    if not words:
        return base.none()
    lookup, order = _key_order(words, "search_keys__")
    # One filter() call: both conditions hold on the same joined key row, which must be of the client's agency.
    return (
        base.filter(search_keys__key__in=lookup, search_keys__agency=F("agency"))
        .annotate(**order)
        .order_by("-words_matched", "-match_weight", "pk")
    )


def _additional_phone_owners(agency: Agency, phone: str = "", digits: str = "") -> frozenset[int]:
    """Clients of ``agency`` with ``phone`` (E.164), or a number ending in ``digits``, among their additional numbers."""
    numbers = ClientPhone.objects.for_agency(agency).filter(agency=agency)
    numbers = numbers.filter(number=phone) if phone else numbers.filter(number__endswith=digits)
    return frozenset(numbers.values_list("client_id", flat=True)[:CANDIDATE_LIMIT])


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def search_clients(
    agency: Agency, text: str, limit: int = 25, base: QuerySet | None = None, status: str | None = None
) -> list[ClientMatch]:
    """Clients of ``agency`` matching ``text``, best first, each with why it matched.

    ``text`` is read as a date of birth (YYYY-MM-DD), an email (contains @), a phone (7 or more digits),
    a client number (fewer digits) or else a name. ``base`` narrows the clients first (filters);
    ``status`` keeps the clients of that status, which name search does without leaving its fast path.
    """
    text = (text or "").strip()
    if not text:
        return []
    kind = _search_kind(text)
    if kind == "name" and base is None:
        # Name search's fast path needs no queryset of the clients (building one cost half a millisecond).
        return _ranked_by_name(agency, None, text, limit, status=status)
    if kind == "date" and base is None:
        born = _parse_date(text)
        return [] if born is None else _ranked_by_birth(agency, born, limit, status)
    digits = re.sub(r"\D", "", text) if kind == "number" else ""
    phone = matching.normalise_phone(text) if len(digits) >= 7 else None
    if phone and base is None:
        return _ranked_by_phone(agency, phone, limit, status)
    clients = _searched_clients(agency, base, status)
    if kind == "date":
        born = _parse_date(text)
        if born is None:
            return []
        found = clients.filter(date_of_birth=born)[:CANDIDATE_LIMIT]
        return _ranked(found, matching.Person(date_of_birth=born), limit)
    if kind == "email":
        email = matching.fold_email(text)
        found = clients.filter(email_folded__contains=email)[:CANDIDATE_LIMIT]
        return _ranked(found, matching.Person(email=email), limit)
    if kind == "number":
        if len(digits) < 7:
            return [ClientMatch(client=client, score=1.0, reasons=[matching.REASON_CLIENT_NUMBER]) for client in clients.filter(client_number=int(digits))]
        owners = _additional_phone_owners(agency, phone=phone) if phone else _additional_phone_owners(agency, digits=digits)
        found = clients.filter(phone=phone) if phone else clients.filter(phone__endswith=digits)
        if owners:
            found = found | clients.filter(pk__in=owners)
        return _ranked(found[:CANDIDATE_LIMIT], matching.Person(phone=phone or ""), limit, phone_owners=owners if phone else frozenset())
    return _ranked_by_name(agency, clients, text, limit, status=status)


def _fetched(statement: tuple[str, list[Any]]) -> list[tuple[Any, ...]]:
    """Every row of a hand-written statement, sent through the driver on the database clients are read from."""
    with connections[router.db_for_read(Client)].cursor() as cursor:
        cursor.execute(*statement)
        return cursor.fetchall()


def _unmerged_where(q: rawrows.Quoted, agency: Agency, status: str | None) -> tuple[list[str], list[Any]]:
    """The conditions (and their parameters) of a fast path's clients: the agency's, merged profiles left out,
    of ``status`` when given."""
    where, params = [f"{q['agency']} = %s", f"{q['status']} <> %s"], [agency.pk, Client.Status.MERGED.value]
    if status:
        where.append(f"{q['status']} = %s")
        params.append(status)
    return where, params


# What a candidate of date-of-birth search is ordered by (its name; every candidate scores alike).
BIRTH_ORDER_FIELDS = ("pk", "given_name", "family_name")


def birth_search_statement(agency: Agency, born: date, status: str | None = None) -> tuple[str, list[Any]]:
    """The candidates of a date-of-birth search when nothing but the status filters the clients (the agency's
    unmerged clients born that day, of ``status`` when given): BIRTH_ORDER_FIELDS, not whole rows."""
    alias = router.db_for_read(Client)
    q = rawrows.Quoted(Client, alias)
    birth = Client._meta.get_field("date_of_birth").get_db_prep_value(born, connections[alias])
    where, params = _unmerged_where(q, agency, status)
    where.append(f"{q['date_of_birth']} = %s")
    params.append(birth)
    sql = f"SELECT {', '.join(q[name] for name in BIRTH_ORDER_FIELDS)} FROM {q.table} WHERE {' AND '.join(where)} LIMIT %s"  # noqa: S608
    return sql, [*params, CANDIDATE_LIMIT]


def _ranked_by_birth(agency: Agency, born: date, limit: int, status: str | None) -> list[ClientMatch]:
    """Date-of-birth search without filters: ``_ranked``'s scores and order, the clients shown loaded whole.

    The probe holds a date of birth and nothing else, and every candidate was born that day: ``score`` gives
    them all the same match, so it is worked out once and the candidates are ordered by name (as ``_ranked``
    orders equal scores). A day is some fifty clients' birthday in an agency of a million: each built whole
    with the ORM and scored was most of the search, and grew with the agency.
    """
    match = matching.score(matching.Person(date_of_birth=born), matching.Person(date_of_birth=born))
    rows = _fetched(birth_search_statement(agency, born, status))
    rows.sort(key=lambda row: (row[2].casefold(), row[1].casefold(), row[0]))
    loaded = shown_clients(agency, [row[0] for row in rows[:limit]])
    return [ClientMatch(client=loaded[pk], score=match.score, reasons=list(match.reasons)) for pk, *_name in rows[:limit] if pk in loaded]


def phone_search_statement(agency: Agency, phone: str, status: str | None = None) -> tuple[str, list[Any]]:
    """The candidates of a phone search when nothing but the status filters the clients: the agency's unmerged
    clients (of ``status`` when given) whose number is ``phone`` (E.164) or who hold it as an additional number,
    whole, each followed by whether it is an additional number of theirs."""
    alias = router.db_for_read(Client)
    q, p = rawrows.Quoted(Client, alias), rawrows.Quoted(ClientPhone, alias)
    owners = f"SELECT {p['client']} FROM {p.table} WHERE {p['agency']} = %s AND {p['number']} = %s"  # noqa: S608
    where, params = _unmerged_where(q, agency, status)
    # The two ways of holding the number as one set of ids (a UNION: each side read through its own index),
    # where "number = … OR id IN (…)" made PostgreSQL read every client of the agency.
    holders = f"SELECT {q['pk']} FROM {q.table} WHERE {q['agency']} = %s AND {q['phone']} = %s UNION {owners}"  # noqa: S608
    sql = (
        f"SELECT {rawrows.columns(Client, alias)}, {q['pk']} IN ({owners}) FROM {q.table} "  # noqa: S608
        f"WHERE {' AND '.join(where)} AND {q['pk']} IN ({holders}) LIMIT %s"
    )
    return sql, [agency.pk, phone, *params, agency.pk, phone, agency.pk, phone, CANDIDATE_LIMIT]


def _ranked_by_phone(agency: Agency, phone: str, limit: int, status: str | None) -> list[ClientMatch]:
    """Phone search without filters: ``_ranked``'s scores and order, the candidates read in one statement
    (``phone_search_statement``) instead of a query of the additional numbers and a queryset of the clients,
    each compiled by the ORM for the one or two clients a number usually finds."""
    load = rawrows.loader(Client, router.db_for_read(Client))
    rows = _fetched(phone_search_statement(agency, phone, status))
    candidates = [load(row[:-1]) for row in rows]
    owners = frozenset(client.pk for client, row in zip(candidates, rows, strict=True) if row[-1])
    return _ranked(candidates, matching.Person(phone=phone), limit, phone_owners=owners)


def _search_kind(text: str) -> str:
    """How search_clients reads ``text`` (stripped, not empty): a date of birth, an email, a phone or client
    number (digits and phone punctuation), else a name."""
    if _DATE.match(text):
        return "date"
    if "@" in text:
        return "email"
    if _PHONE_CHARS.match(text) and re.search(r"\d", text):
        return "number"
    return "name"


def _searched_clients(agency: Agency, base: QuerySet | None, status: str | None) -> QuerySet:
    """The clients a search looks among: ``base`` (or all) of the agency, merged profiles left out, of ``status`` when given."""
    clients = _agency_clients(agency) if base is None else base.filter(agency=agency).exclude(status=Client.Status.MERGED)
    return clients.filter(status=status) if status else clients


# What ranking a candidate of name search reads (a name probe has no date of birth, phone or email),
# fetched for every candidate instead of whole rows: the folded name is already its tokens.
SCORED_FIELDS = ("pk", "given_name", "family_name", "name_folded")


def _name_candidates(agency: Agency, clients: QuerySet | None, text: str, status: str | None = None) -> list[tuple[Any, ...]]:
    """The first candidates of name search within ``clients`` as SCORED_FIELDS tuples, best first by keys.

    ``clients`` None: the agency's unmerged clients, of ``status`` when given."""
    if clients is None or clients.query.where == _agency_clients(agency).query.where:
        # Merged profiles have no keys: every candidate is one of the agency's unmerged clients.
        statement = name_search_statement(agency, text, status)
        if statement is None:
            return []
        found = _fetched(statement)
        if not status:
            return found
    else:
        found = list(name_search_rows(agency, clients, text))
    candidates = [row[:-1] for row in found if row[-1]]
    if len(found) == CANDIDATE_LIMIT and len(candidates) < CANDIDATE_LIMIT:
        # Filters left some of the first out and more may follow: rank within the filtered clients in SQL.
        if clients is None:
            clients = _searched_clients(agency, None, status)
        candidates = list(name_candidates(clients, text).values_list(*SCORED_FIELDS)[:CANDIDATE_LIMIT])
    return candidates


def _ranked_by_name(
    agency: Agency, clients: QuerySet | None, text: str, limit: int, *, status: str | None = None
) -> list[ClientMatch]:
    """Name search: the first CANDIDATE_LIMIT of key_candidates within ``clients`` (None: the agency's unmerged
    clients, of ``status`` when given), scored from their folded
    names (``matching.NameScorer``, the probe folded once); only the clients shown are loaded whole.

    The key lookup and the candidates' fields are one statement (the lookup a subquery): one round trip,
    and no list of 500 ids sent back to the database.
    """
    # Candidates found by the same keys share their names' words, and often whole names: each token is
    # compared once with each typed word (all of them in one pass), each name scored once, and only the
    # names shown get their reasons.
    scorer = matching.NameScorer(matching.tokens(text))
    candidates = _name_candidates(agency, clients, text, status)
    scores = scorer.scores([row[3] for row in candidates])
    scored = [
        (score, pk, given, family, folded)
        for score, (pk, given, family, folded) in zip(scores, candidates, strict=True)
        if score >= matching.MIN_NAME_EVIDENCE
    ]
    if len(scored) > limit:
        # Only those scoring at least the limit-th best can be shown: the full order (names folded for
        # the ties) is worked out for them alone.
        cutoff = heapq.nlargest(limit, [entry[0] for entry in scored])[-1]
        scored = [entry for entry in scored if entry[0] >= cutoff]
    scored.sort(key=lambda entry: (-entry[0], entry[3].casefold(), entry[2].casefold(), entry[1]))
    shown = [(entry[1], scorer.folded(entry[4])) for entry in scored[:limit]]
    ids = [pk for pk, _match in shown]
    loaded = shown_clients(agency, ids) if clients is None else clients.in_bulk(ids)
    return [
        ClientMatch(client=loaded[pk], score=match.score, reasons=list(match.reasons))
        for pk, match in shown
        if pk in loaded
    ]


def shown_clients_statement(agency: Agency, ids: list[int]) -> tuple[str, list[Any]]:
    """The statement loading the clients a search shows (every column, by id, merged profiles left out)."""
    alias = router.db_for_read(Client)
    q = rawrows.Quoted(Client, alias)
    sql = (
        f"SELECT {rawrows.columns(Client, alias)} FROM {q.table} "  # noqa: S608
        f"WHERE {q['agency']} = %s AND {q['status']} <> %s AND {q['pk']} IN ({', '.join(['%s'] * len(ids))})"
    )
    return sql, [agency.pk, Client.Status.MERGED.value, *ids]


def shown_clients(agency: Agency, ids: list[int]) -> dict[int, Client]:
    """The clients a search shows, whole, by id: the statement through the driver, each row built as the
    ORM builds it (``rawrows.loader``), at a third of what ``in_bulk`` costs for 25 (no query to compile)."""
    if not ids:
        return {}
    load = rawrows.loader(Client, router.db_for_read(Client))
    return {client.pk: client for client in map(load, _fetched(shown_clients_statement(agency, ids)))}


def _agency_clients(agency: Agency) -> QuerySet:
    """What search_clients searches without filters: the agency's clients, merged profiles left out."""
    return Client.objects.for_agency(agency).filter(agency=agency).exclude(status=Client.Status.MERGED)


def likely_duplicates(agency: Agency, data: dict[str, Any], exclude_pk: int | None = None) -> list[ClientMatch]:
    """Clients of ``agency`` that ``data`` (register_client fields) probably describes, best first.

    Flagged: same date of birth and a similar name, the same phone, or the same email.
    """
    probe = matching.Person.of(data)
    if isinstance(probe.date_of_birth, str):
        probe.date_of_birth = _parse_date(probe.date_of_birth)
    probe.phone = matching.normalise_phone(probe.phone) or ""
    probe.email = matching.fold_email(probe.email)
    conditions = []
    owners: frozenset[int] = frozenset()
    if probe.date_of_birth:
        conditions.append(Q(date_of_birth=probe.date_of_birth))
    if probe.phone:
        conditions.append(Q(phone=probe.phone))
        owners = _additional_phone_owners(agency, phone=probe.phone)
        if owners:
            conditions.append(Q(pk__in=owners))
    if probe.email:
        conditions.append(Q(email_folded=probe.email))
    if not conditions:
        return []
    candidates = (
        Client.objects.for_agency(agency).filter(agency=agency, is_anonymous=False).exclude(status=Client.Status.MERGED).filter(reduce(or_, conditions))
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    return _ranked(candidates[:CANDIDATE_LIMIT], probe, None, keep=matching.is_likely_duplicate, phone_owners=owners)


# ---- Filters: program, assigned staff, status, safety flag, language, age (the list page and the API) ----

# What a filter may ask for; merged clients are never listed or found.
LISTED_STATUSES = (Client.Status.ACTIVE, Client.Status.ARCHIVED)
MAX_AGE = 130
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


def is_language_code(code: str) -> bool:
    return bool(_LANGUAGE_CODE.match(code or ""))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _age_ranges_overlapping(min_age: int | None, max_age: int | None) -> list[str]:
    """The AgeRange values (what anonymous clients keep) that overlap [min_age, max_age]."""
    from caseload.clients.models import AgeRange

    found = []
    for value in AgeRange.values:
        low, _dash, high = value.rstrip("+").partition("-")
        low_age, high_age = int(low), int(high) if high else MAX_AGE
        if (min_age is None or high_age >= min_age) and (max_age is None or low_age <= max_age):
            found.append(value)
    return found


def filter_clients(
    base: QuerySet,
    *,
    agency: Agency,
    program: Any = None,
    staff: Any = None,
    status: str | None = None,
    flagged: bool | None = None,
    language: str = "",
    min_age: int | None = None,
    max_age: int | None = None,
    today: date | None = None,
) -> QuerySet:
    """``base`` (the agency's clients) narrowed by the filters given; None or "" leaves a filter off.

    ``program``: an open enrolment in it; ``staff``: a Membership assigned to the client; ``status``:
    active or archived (merged clients never show); ``flagged``: an active safety flag or none;
    ``language``: the preferred language or one of the spoken ones; ``min_age``/``max_age``: in whole
    years from the date of birth, or from the age range when the date of birth is unknown (anonymous
    clients). ``program`` and ``staff`` must belong to ``agency`` (the callers look them up there).
    """
    from django.db.models import Exists, OuterRef, TextField
    from django.db.models.functions import Cast

    from caseload.clients.models import Assignment, Enrolment

    clients = base.filter(agency=agency).exclude(status=Client.Status.MERGED)
    if status:
        clients = clients.filter(status=status)
    if program is not None:
        enrolled = Enrolment.objects.filter(agency=agency, program=program, client=OuterRef("pk"), end_date__isnull=True)
        clients = clients.filter(Exists(enrolled))
    if staff is not None:
        assigned = Assignment.objects.filter(agency=agency, staff=staff, client=OuterRef("pk"))
        clients = clients.filter(Exists(assigned))
    if flagged is not None:
        clients = clients.filter(has_safety_flag=flagged)
    if language:
        if connections[clients.db].vendor == "postgresql":
            spoken = Q(spoken_languages__contains=[language])
        else:
            clients = clients.alias(spoken_text=Cast("spoken_languages", TextField()))
            spoken = Q(spoken_text__contains=f'"{language}"')
        clients = clients.filter(Q(preferred_language=language) | spoken)
    if min_age is not None or max_age is not None:
        today = today or _today()
        born = Q(date_of_birth__isnull=False)
        if min_age is not None:
            born &= Q(date_of_birth__lte=_years_before(today, min_age))
        if max_age is not None:
            born &= Q(date_of_birth__gt=_years_before(today, max_age + 1))
        ranged = Q(date_of_birth__isnull=True, age_range__in=_age_ranges_overlapping(min_age, max_age))
        clients = clients.filter(born | ranged)
    return clients


def _today() -> date:
    from django.utils import timezone

    return timezone.localdate()


def current_privacy_statement(agency: Agency) -> PrivacyStatement | None:
    """The agency's privacy statement in use: the latest published (None before the first)."""
    return PrivacyStatement.objects.for_agency(agency).filter(agency=agency, published_at__lte=timezone.now()).order_by("-published_at", "-pk").first()
