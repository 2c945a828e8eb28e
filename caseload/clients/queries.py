"""Finding clients: the one search box and the duplicate check before registration.

Both narrow candidates in SQL within the agency, then rank them in Python with matching.score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from operator import or_
from typing import Any

from django.db import connections
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from caseload.clients import matching
from caseload.clients.models import Client
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


def _ranked(candidates, probe: matching.Person, limit: int | None, keep=None) -> list[ClientMatch]:
    results = []
    for client in candidates:
        match = matching.score(client, probe)
        if keep is None or keep(match):
            results.append(ClientMatch(client=client, score=match.score, reasons=match.reasons))
    results.sort(key=lambda m: (-m.score, m.client.family_name.casefold(), m.client.given_name.casefold(), m.client.pk))
    return results if limit is None else results[:limit]


def _phonetic_q(key: str) -> Q:
    return Q(name_phonetic=key) | Q(name_phonetic__startswith=key + " ") | Q(name_phonetic__endswith=" " + key) | Q(name_phonetic__contains=f" {key} ")


def _token_q(word: str) -> Q:
    """The folded name holds ``word`` as a whole token."""
    return Q(name_folded=word) | Q(name_folded__startswith=word + " ") | Q(name_folded__endswith=" " + word) | Q(name_folded__contains=f" {word} ")


def _count(conditions: list[Q]) -> Any:
    """How many of ``conditions`` a row meets, as an SQL expression."""
    return reduce(lambda total, term: total + term, (Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField()) for condition in conditions))


def name_candidates(base: QuerySet, text: str) -> QuerySet:
    """Clients whose folded name contains any typed token, or shares a phonetic key with one, most promising first.

    The order matters because search ranks only the first CANDIDATE_LIMIT: on PostgreSQL rows close in
    trigram word similarity also qualify and the most similar come first (pg_trgm, migration 0002);
    elsewhere rows matching more of the typed words come first, then those holding them as whole tokens.
    """
    words = matching.tokens(text)
    if not words:
        return base.none()
    per_word = [reduce(or_, [Q(name_folded__contains=word), *(_phonetic_q(key) for key in matching.token_keys(word))]) for word in words]
    if connections[base.db].vendor == "postgresql":
        from django.contrib.postgres.lookups import TrigramWordSimilar
        from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity

        folded = " ".join(words)
        # name_folded %> query: word_similarity(query, name_folded) >= pg_trgm.word_similarity_threshold.
        similar = Q(TrigramWordSimilar(F("name_folded"), Value(folded)))
        return (
            base.filter(reduce(or_, [*per_word, similar]))
            .alias(word_similarity=TrigramWordSimilarity(folded, "name_folded"), similarity=TrigramSimilarity("name_folded", folded))
            .order_by("-word_similarity", "-similarity", "pk")
        )
    return (
        base.filter(reduce(or_, per_word))
        .alias(words_matched=_count(per_word), whole_tokens=_count([_token_q(word) for word in words]))
        .order_by("-words_matched", "-whole_tokens", "pk")
    )


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def search_clients(agency: Agency, text: str, limit: int = 25, base: QuerySet | None = None) -> list[ClientMatch]:
    """Clients of ``agency`` matching ``text``, best first, each with why it matched.

    ``text`` is read as a date of birth (YYYY-MM-DD), an email (contains @), a phone (7 or more digits),
    a client number (fewer digits) or else a name. ``base`` narrows the clients first (filters).
    """
    text = (text or "").strip()
    clients = (base if base is not None else Client.objects.for_agency(agency)).filter(agency=agency)
    if not text:
        return []
    if _DATE.match(text):
        born = _parse_date(text)
        if born is None:
            return []
        found = clients.filter(date_of_birth=born)[:CANDIDATE_LIMIT]
        return _ranked(found, matching.Person(date_of_birth=born), limit)
    if "@" in text:
        email = matching.fold_email(text)
        found = clients.filter(email_folded__contains=email)[:CANDIDATE_LIMIT]
        return _ranked(found, matching.Person(email=email), limit)
    digits = re.sub(r"\D", "", text)
    if _PHONE_CHARS.match(text) and digits:
        if len(digits) < 7:
            return [ClientMatch(client=client, score=1.0, reasons=[matching.REASON_CLIENT_NUMBER]) for client in clients.filter(client_number=int(digits))]
        phone = matching.normalise_phone(text)
        found = clients.filter(phone=phone) if phone else clients.filter(phone__endswith=digits)
        return _ranked(found[:CANDIDATE_LIMIT], matching.Person(phone=phone or ""), limit)
    probe = matching.Person(name=text)
    found = name_candidates(clients, text)[:CANDIDATE_LIMIT]
    return _ranked(found, probe, limit, keep=lambda m: m.score >= matching.MIN_NAME_EVIDENCE)


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
    if probe.date_of_birth:
        conditions.append(Q(date_of_birth=probe.date_of_birth))
    if probe.phone:
        conditions.append(Q(phone=probe.phone))
    if probe.email:
        conditions.append(Q(email_folded=probe.email))
    if not conditions:
        return []
    candidates = Client.objects.for_agency(agency).filter(agency=agency, is_anonymous=False).filter(reduce(or_, conditions))
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    return _ranked(candidates[:CANDIDATE_LIMIT], probe, None, keep=matching.is_likely_duplicate)
