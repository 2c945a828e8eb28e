from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from caseload.clients.matching import (
    REASON_SAME_DOB,
    REASON_SAME_EMAIL,
    REASON_SAME_PHONE,
    REASON_SIMILAR_NAME,
    REASON_SOUNDS_ALIKE,
    normalise_phone,
)
from caseload.clients.models import Client
from caseload.clients.queries import likely_duplicates, search_clients
from caseload.clients.tests.conftest import rolled_back
from caseload.tenancy.demo import seed_clients
from caseload.tenancy.scoping import agency_scope

GIVEN = [
    "François", "Hélène", "José", "Zoë", "Søren", "Łukasz", "Renée", "Chloé", "Mohamed", "Aïcha", "Björn",
    "Ángela", "Joaquín", "Amélie", "Siobhán", "Dmitri", "Fatima", "Kwame", "Priya", "Wei", "Olumide", "Ingrid", "Raúl",
]
FAMILY = [
    "Lefèvre", "Müller", "Gonçalves", "Nguyễn", "O'Brien", "Dubois-Tremblay", "Kowalski", "Hernández", "Okafor", "Şahin",
    "Åberg", "Côté", "Núñez", "Papadopoulos", "Haddad", "Schröder", "Ibáñez", "Lindqvist", "Mbeki", "Tanaka", "Bélanger",
]
AREAS = ["416", "514", "613", "604", "780", "902"]
PHONE_FORMATS = ["({a}) {e}-{l}", "{a}.{e}.{l}", "1-{a}-{e}-{l}", "+1 {a} {e} {l}", "{a}{e}{l}", " {a} {e}  {l} "]
LETTERS = "abcdefghijklmnopqrstuvwxyz"

slow = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
births = st.dates(min_value=date(1930, 1, 1), max_value=date(2020, 12, 31))
phones = st.tuples(st.sampled_from(AREAS), st.integers(200, 999), st.integers(0, 9999)).map(lambda t: (t[0], f"{t[1]:03d}", f"{t[2]:04d}"))


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def other_accents(text: str) -> str:
    """Accents dropped, then an acute put on the first vowel: 'François' -> 'Fráncois'."""
    plain = strip_accents(text)
    for i, char in enumerate(plain):
        if char.lower() in "aeiou":
            return plain[:i] + unicodedata.normalize("NFC", char + "\u0301") + plain[i + 1 :]
    return plain


@st.composite
def variants(draw, given_name: str, family_name: str) -> tuple[str, str]:
    kind = draw(st.sampled_from(["accents", "other-accents", "case", "typo", "swap"]))
    if kind == "accents":
        return strip_accents(given_name), strip_accents(family_name)
    if kind == "other-accents":
        return other_accents(given_name), other_accents(family_name)
    if kind == "case":
        change = draw(st.sampled_from([str.upper, str.lower, str.swapcase]))
        return change(given_name), change(family_name)
    if kind == "swap":
        return family_name, given_name
    which = draw(st.booleans())
    name = given_name if which else family_name
    i = draw(st.integers(0, len(name) - 1))
    letter = draw(st.sampled_from(LETTERS))
    edit = draw(st.sampled_from(["substitute", "insert", "delete"]))
    if edit == "substitute":
        typo = name[:i] + letter + name[i + 1 :]
    elif edit == "insert":
        typo = name[:i] + letter + name[i:]
    else:
        typo = name[:i] + name[i + 1 :]
    return (typo, family_name) if which else (given_name, typo)


@st.composite
def person_and_variant(draw):
    given_name, family_name = draw(st.sampled_from(GIVEN)), draw(st.sampled_from(FAMILY))
    return given_name, family_name, draw(variants(given_name, family_name))


@slow
@given(case=person_and_variant(), born=births)
def test_it_finds_and_flags_a_name_with_accents_case_a_typo_or_swapped(agency, register, case, born):
    given_name, family_name, (typed_given, typed_family) = case
    with rolled_back():
        client = register(agency, given_name=given_name, family_name=family_name, date_of_birth=born)
        register(agency, given_name="Someone", family_name="Else", date_of_birth=born)
        with agency_scope(agency):
            found = search_clients(agency, f"{typed_given} {typed_family}")
            flagged = likely_duplicates(agency, {"given_name": typed_given, "family_name": typed_family, "date_of_birth": born})
        assert client in [m.client for m in found]
        assert [m.client for m in flagged] == [client]
        assert flagged[0].reasons[:2] == [REASON_SAME_DOB, REASON_SIMILAR_NAME]


@slow
@given(phone=phones, style=st.sampled_from(PHONE_FORMATS), other_style=st.sampled_from(PHONE_FORMATS))
def test_it_finds_and_flags_a_phone_typed_in_another_format(agency, register, phone, style, other_style):
    area, exchange, line = phone
    stored, typed = style.format(a=area, e=exchange, l=line), other_style.format(a=area, e=exchange, l=line)
    assume(normalise_phone(stored) is not None)
    with rolled_back():
        client = register(agency, given_name="Kwame", family_name="Mensah", phone=stored)
        with agency_scope(agency):
            found = search_clients(agency, typed)
            flagged = likely_duplicates(agency, {"given_name": "Ingrid", "family_name": "Åberg", "phone": typed})
        assert [m.client for m in found] == [client]
        assert [m.client for m in flagged] == [client]
        assert flagged[0].reasons == [REASON_SAME_PHONE]


@st.composite
def unrelated_pair(draw):
    first = (draw(st.sampled_from(GIVEN)), draw(st.sampled_from(FAMILY)))
    second = (draw(st.sampled_from([g for g in GIVEN if g != first[0]])), draw(st.sampled_from([f for f in FAMILY if f != first[1]])))
    born, other_born = draw(births), draw(births)
    assume(born != other_born)
    phone, other_phone = draw(phones), draw(phones)
    assume(phone != other_phone)
    return first, second, born, other_born, "".join(phone), "".join(other_phone)


@slow
@given(pair=unrelated_pair())
def test_it_does_not_flag_an_unrelated_client(agency, register, pair):
    (given_name, family_name), (other_given, other_family), born, other_born, phone, other_phone = pair
    assume(normalise_phone(phone) and normalise_phone(other_phone))
    with rolled_back():
        register(agency, given_name=given_name, family_name=family_name, date_of_birth=born, phone=phone, email="first@example.net")
        with agency_scope(agency):
            flagged = likely_duplicates(
                agency,
                {"given_name": other_given, "family_name": other_family, "date_of_birth": other_born, "phone": other_phone, "email": "second@example.org"},
            )
        assert flagged == []


def test_mohamed_finds_muhammad_because_they_sound_alike(agency, register):
    muhammad = register(agency, given_name="Muhammad", family_name="Rahman")
    register(agency, given_name="Ingrid", family_name="Lindqvist")
    with agency_scope(agency):
        found = search_clients(agency, "Mohamed")
    assert [m.client for m in found] == [muhammad]
    assert REASON_SOUNDS_ALIKE in found[0].reasons


def test_francois_finds_francois_with_a_cedilla(agency, register):
    francois = register(agency, given_name="François", family_name="Côté")
    register(agency, given_name="Frances", family_name="Okafor", date_of_birth=date(1970, 1, 1))
    with agency_scope(agency):
        found = search_clients(agency, "Francois")
    assert found[0].client == francois
    assert found[0].score == 1.0


def test_it_ranks_the_closer_name_first(agency, register):
    exact = register(agency, given_name="Ana", family_name="Silva")
    register(agency, given_name="Anna", family_name="Silveira")
    with agency_scope(agency):
        found = search_clients(agency, "ana silva")
    assert found[0].client == exact
    assert found[0].score > found[1].score


def test_it_finds_by_date_of_birth_email_and_client_number(agency, register):
    client = register(agency, given_name="Hélène", family_name="Gagné", date_of_birth=date(1984, 3, 9), email="Helene.G@Example.net")
    register(agency, given_name="Hélène", family_name="Gagnon", date_of_birth=date(1984, 3, 10), email="hg@example.net")
    with agency_scope(agency):
        by_date = search_clients(agency, "1984-03-09")
        by_email = search_clients(agency, "HELENE.G@example.NET")
        by_number = search_clients(agency, str(client.client_number))
    assert [m.client for m in by_date] == [client] and by_date[0].reasons == [REASON_SAME_DOB]
    assert [m.client for m in by_email] == [client] and by_email[0].reasons == [REASON_SAME_EMAIL]
    assert [m.client for m in by_number] == [client]


def test_it_returns_nothing_for_blank_or_impossible_queries(agency, register):
    register(agency, given_name="Wei", family_name="Tanaka")
    with agency_scope(agency):
        assert search_clients(agency, "   ") == []
        assert search_clients(agency, "2024-02-31") == []
        assert search_clients(agency, "Zzyzx") == []


def test_it_flags_the_same_email_in_another_case_but_not_the_client_being_edited(agency, register):
    client = register(agency, given_name="Priya", family_name="Singh", email="priya@example.net")
    with agency_scope(agency):
        assert [m.client for m in likely_duplicates(agency, {"given_name": "P", "email": "PRIYA@example.net"})] == [client]
        assert likely_duplicates(agency, {"given_name": "Priya", "email": "priya@example.net"}, exclude_pk=client.pk) == []


def test_it_never_returns_another_agencys_client(agency, other_agency, register):
    theirs = register(other_agency, given_name="François", family_name="Côté", date_of_birth=date(1990, 1, 1), phone="416 234 5678", email="f@example.net")
    data = {"given_name": "François", "family_name": "Côté", "date_of_birth": date(1990, 1, 1), "phone": "4162345678", "email": "f@example.net"}
    with agency_scope(agency):
        for text in ("François", "Francois Cote", "416-234-5678", "f@example.net", "1990-01-01", str(theirs.client_number)):
            assert search_clients(agency, text) == []
        assert likely_duplicates(agency, data) == []
    with agency_scope(other_agency):
        assert [m.client for m in likely_duplicates(other_agency, data)] == [theirs]


def test_registering_stores_the_phone_normalised_and_the_search_columns(agency, register):
    client = register(agency, given_name="Zoë", family_name="O'Brien", preferred_name="Zo", phone="(514) 234-5678", email="Zoe@Example.net")
    with agency_scope(agency):
        client = Client.objects.for_agency(agency).get(pk=client.pk)
    assert client.phone == "+15142345678"
    assert client.name_folded == "zoe obrien zo"
    assert client.email_folded == "zoe@example.net"
    assert "S" in client.name_phonetic.split()


def test_registering_with_an_invalid_phone_names_the_field_and_writes_nothing(agency, register):
    with pytest.raises(ValidationError) as error:
        register(agency, given_name="Wei", family_name="Tanaka", phone="12")
    assert "phone" in error.value.message_dict
    with agency_scope(agency):
        assert not Client.objects.for_agency(agency).exists()


def test_clients_seeded_in_bulk_are_searchable(agency):
    with agency_scope(agency):
        seed_clients(agency, 52)
        bulk = Client.objects.for_agency(agency).get(client_number=52)
        found = search_clients(agency, f"{bulk.family_name} {bulk.given_name}")
    assert bulk.name_folded
    assert bulk in [m.client for m in found]
