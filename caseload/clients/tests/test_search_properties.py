"""Properties of search and the duplicate check over names from many languages and scripts (Faker locales).

test_search.py covers a fixed list of accented Latin names; these draw names from French-Canadian,
Spanish, Arabic, Chinese and Vietnamese generators, add the additional phone numbers (ClientPhone)
and merged profiles, and check the same promises: a variant of a client's name or phone is found by
search and flagged as a likely duplicate, and an unrelated person is not flagged.
"""

from __future__ import annotations

import functools
import unicodedata
from datetime import date, timedelta

from faker import Faker
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from caseload.clients.actions import register_client
from caseload.clients.matching import (
    REASON_SAME_DOB,
    REASON_SAME_PHONE,
    REASON_SIMILAR_NAME,
    fold,
    normalise_phone,
    token_keys,
    tokens,
)
from caseload.clients.models import Client
from caseload.clients.queries import likely_duplicates, search_clients
from caseload.clients.tests.conftest import rolled_back
from caseload.tenancy.scoping import agency_scope

LOCALES = ("fr_CA", "es", "ar", "zh_CN", "vi_VN")
AREAS = ("416", "514", "613", "604", "780", "902", "819", "343")
PHONE_FORMATS = ("({a}) {e}-{l}", "{a}.{e}.{l}", "1-{a}-{e}-{l}", "+1 {a} {e} {l}", "{a}{e}{l}", "{a} {e}{l}")
COMBINING = ("\u0301", "\u0300", "\u0302", "\u0308")  # acute, grave, circumflex, diaeresis

examples = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
births = st.dates(min_value=date(1935, 1, 1), max_value=date(2015, 12, 31))
phones = st.tuples(st.sampled_from(AREAS), st.integers(200, 999), st.integers(0, 9999)).map(
    lambda t: (t[0], f"{t[1]:03d}", f"{t[2]:04d}")
)


@functools.cache
def faker(locale: str) -> Faker:
    return Faker(locale)


@st.composite
def people(draw) -> tuple[str, str, str]:
    """(locale, given name, family name), reproducible from hypothesis's draw."""
    locale = draw(st.sampled_from(LOCALES))
    fake = faker(locale)
    fake.seed_instance(draw(st.integers(0, 2**32 - 1)))
    return locale, fake.first_name(), fake.last_name()


def is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


def other_accents(name: str, mark: str) -> str:
    """A Latin name's accents dropped, then ``mark`` put on its first vowel ("Hélène" -> "Hèlene"); other scripts unchanged."""
    if not all(is_latin(c) for c in name if c.isalpha()):
        return name
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    for i, char in enumerate(plain):
        if char.lower() in "aeiou":
            return plain[:i] + unicodedata.normalize("NFC", char + mark) + plain[i + 1 :]
    return plain


@st.composite
def variant(draw, given_name: str, family_name: str) -> tuple[str, str, str]:
    """What a worker might type for this person: (kind, given, family)."""
    kind = draw(st.sampled_from(["other-accents", "case", "typo", "swap"]))
    if kind == "other-accents":
        mark = draw(st.sampled_from(COMBINING))
        return kind, other_accents(given_name, mark), other_accents(family_name, mark)
    if kind == "case":
        change = draw(st.sampled_from([str.upper, str.lower, str.swapcase, str.title]))
        return kind, change(given_name), change(family_name)
    if kind == "swap":
        return kind, family_name, given_name
    # One letter substituted, added or dropped in one word long enough for a typo to leave it recognisable.
    words = [
        (which, i, word)
        for which, name in enumerate((given_name, family_name))
        for i, word in enumerate(name.split(" "))
        if len(word) >= 4
    ]
    assume(words)
    which, position, word = draw(st.sampled_from(words))
    at = draw(st.integers(0, len(word) - 1))
    letters = [c for c in word if c.isalpha()] or ["x"]
    letter = draw(st.sampled_from(sorted(set(letters) | {"e"} if is_latin(word[0]) else set(letters))))
    edit = draw(st.sampled_from(["substitute", "insert", "delete"]))
    changed = {
        "substitute": word[:at] + letter + word[at + 1 :],
        "insert": word[:at] + letter + word[at:],
        "delete": word[:at] + word[at + 1 :],
    }[edit]
    parts = [given_name.split(" "), family_name.split(" ")]
    parts[which][position] = changed
    return kind, " ".join(parts[0]), " ".join(parts[1])


@st.composite
def person_and_variant(draw):
    locale, given_name, family_name = draw(people())
    return locale, given_name, family_name, draw(variant(given_name, family_name))


def register(agency, phones=None, **data) -> Client:
    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data=data, phones=phones)


@examples
@given(case=person_and_variant(), born=births)
def test_a_variant_of_a_name_in_any_script_is_found_and_flagged(agency, case, born):
    _locale, given_name, family_name, (kind, typed_given, typed_family) = case
    with rolled_back():
        client = register(agency, given_name=given_name, family_name=family_name, date_of_birth=born)
        register(agency, given_name="Aleksandra", family_name="Wiśniewska", date_of_birth=born + timedelta(days=1))
        with agency_scope(agency):
            found = search_clients(agency, f"{typed_given} {typed_family}")
            flagged = likely_duplicates(agency, {"given_name": typed_given, "family_name": typed_family, "date_of_birth": born})
        assert client in [m.client for m in found], kind
        assert [m.client for m in flagged] == [client], kind
        assert flagged[0].reasons[:2] == [REASON_SAME_DOB, REASON_SIMILAR_NAME]


@examples
@given(
    person=people(),
    phone=phones,
    stored_style=st.sampled_from(PHONE_FORMATS),
    typed_style=st.sampled_from(PHONE_FORMATS),
    extra=st.booleans(),
)
def test_a_phone_typed_in_another_format_finds_the_main_or_an_additional_number(
    agency, person, phone, stored_style, typed_style, extra
):
    _locale, given_name, family_name = person
    area, exchange, line = phone
    stored, typed = stored_style.format(a=area, e=exchange, l=line), typed_style.format(a=area, e=exchange, l=line)
    assume(normalise_phone(stored) is not None)
    with rolled_back():
        if extra:  # the number is one of the client's additional phones; the main one is another
            client = register(
                agency,
                phones=[{"number": stored, "kind": "work"}],
                given_name=given_name,
                family_name=family_name,
                phone="+12045550188",
            )
        else:
            client = register(agency, given_name=given_name, family_name=family_name, phone=stored)
        with agency_scope(agency):
            found = search_clients(agency, typed)
            flagged = likely_duplicates(agency, {"given_name": "Kwame", "family_name": "Mensah", "phone": typed})
        assert [m.client for m in found] == [client]
        assert [m.client for m in flagged] == [client]
        # The phone is the evidence (a generated name may happen to sound like the probe's too).
        assert REASON_SAME_PHONE in flagged[0].reasons


def unrelated(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """No folded word and no sound in common, and neither name inside the other."""
    a, b = tokens(" ".join(first)), tokens(" ".join(second))
    keys_a = set().union(*(token_keys(t) for t in a)) if a else set()
    keys_b = set().union(*(token_keys(t) for t in b)) if b else set()
    joined_a, joined_b = fold(" ".join(first)), fold(" ".join(second))
    return (
        not (set(a) & set(b))
        and not (keys_a & keys_b)
        and not any(t in joined_b for t in a)
        and not any(t in joined_a for t in b)
    )


@examples
@given(first=people(), second=people(), born=births, phone=phones, other_phone=phones)
def test_an_unrelated_person_born_the_same_day_is_not_flagged(agency, first, second, born, phone, other_phone):
    names, other_names = first[1:], second[1:]
    assume(unrelated(names, other_names) and phone != other_phone)
    with rolled_back():
        register(
            agency, given_name=names[0], family_name=names[1], date_of_birth=born, phone="".join(phone), email="first@example.net"
        )
        with agency_scope(agency):
            flagged = likely_duplicates(
                agency,
                {
                    "given_name": other_names[0],
                    "family_name": other_names[1],
                    "date_of_birth": born,
                    "phone": "".join(other_phone),
                    "email": "second@example.org",
                },
            )
        assert flagged == []


@examples
@given(person=people(), born=births)
def test_a_merged_profile_is_never_found_nor_flagged(agency, person, born):
    _locale, given_name, family_name = person
    with rolled_back():
        kept = register(agency, given_name=given_name, family_name=family_name, date_of_birth=born, phone="613-555-0142")
        merged = register(agency, given_name=given_name, family_name=family_name, date_of_birth=born, phone="613-555-0142")
        with agency_scope(agency):
            Client.objects.for_agency(agency).filter(pk=merged.pk).update(status=Client.Status.MERGED, merged_into=kept)
            by_name = [m.client for m in search_clients(agency, f"{given_name} {family_name}")]
            by_phone = [m.client for m in search_clients(agency, "(613) 555-0142")]
            by_birth = [m.client for m in search_clients(agency, born.isoformat())]
            flagged = [
                m.client
                for m in likely_duplicates(
                    agency, {"given_name": given_name, "family_name": family_name, "date_of_birth": born, "phone": "6135550142"}
                )
            ]
        assert by_name == by_phone == by_birth == flagged == [kept]
