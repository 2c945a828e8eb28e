"""Name search's fast paths give what the general ones give: name_score is score for a name probe, and the
hand-written key lookup is key_candidates."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from caseload.clients import matching
from caseload.clients.matching import NameScorer, Person, name_score, score, search_fields, tokens
from caseload.clients.models import Client
from caseload.clients.queries import (
    CANDIDATE_LIMIT,
    MAX_KEY_WORDS,
    ORDER_TABLE_WORDS,
    WEIGHT_BITS,
    filter_clients,
    first_key_candidates,
    key_candidates,
    mask_order_table,
    search_clients,
    shown_clients,
)
from caseload.tenancy.scoping import agency_scope

NAMES = st.sampled_from(
    [
        "Mohamed",
        "Muhammad",
        "Côté",
        "Cote",
        "O'Connor",
        "Nguyễn",
        "Văn An",
        "李",
        "小龙",
        "Jean-Luc",
        "Jon",
        "Siobhán",
        "Abdi",
        "",
    ]
)
TYPED = st.text(alphabet="abcdeilmnortuéô -'", max_size=20)


@given(given_name=NAMES, family_name=NAMES, preferred_name=NAMES, text=st.one_of(TYPED, NAMES))
def test_name_score_is_score_for_a_name_probe(given_name, family_name, preferred_name, text):
    row = {"given_name": given_name, "family_name": family_name, "preferred_name": preferred_name}
    # Search folds each name on its own (cached): the same tokens as the whole name folded at once.
    names = [*tokens(given_name), *tokens(family_name), *tokens(preferred_name)]
    assert names == tokens(f"{given_name} {family_name} {preferred_name}")
    memo: dict = {}
    fast = name_score(names, tokens(text), memo)
    assert fast == score(row, Person(name=text))
    # The memo changes nothing, on a second use either.
    assert name_score(names, tokens(text), memo) == fast
    # Name search's scorer (per-token similarities, per-name results) gives the same, on a second use too;
    # it reads a client's tokens off the stored folded name.
    folded = search_fields(given_name, family_name, preferred_name, "")["name_folded"]
    assert folded.split() == names
    scorer = NameScorer(tokens(text))
    assert scorer(folded.split()) == fast
    assert scorer(names) == fast
    assert scorer.folded(folded) == fast and scorer.folded(folded) == fast
    # Its pass over many names (what search runs) gives each the same score, names met before or not.
    assert NameScorer(tokens(text)).scores([folded, folded]) == [fast.score, fast.score]
    assert scorer.scores([folded, "", "zz"]) == [fast.score, scorer.score(""), scorer.score("zz")]


@given(parts=st.lists(st.text(max_size=12), min_size=3, max_size=3))
def test_folding_names_one_by_one_gives_the_tokens_of_the_whole_name(parts):
    assert [token for part in parts for token in tokens(part)] == tokens(" ".join(parts))


@pytest.mark.django_db
def test_the_hand_written_key_lookup_is_the_orm_one(agency, register):
    """first_key_candidates (what name search sends) finds the same ids, in the same order, as key_candidates."""
    for given_name, family in [
        ("Alissa", "Fontaine"),
        ("Alisa", "Fontane"),
        ("Mohamed", "Abdi"),
        ("Muhammad", "Abdi"),
        ("Jean-Luc", "Côté"),
        ("李", "小龙"),
        ("Ana", "Fontainebleau"),
        ("Anna", "Smyth"),
        ("Hana", "Smith"),
    ]:
        register(agency, given_name=given_name, family_name=family)
    long_text = " ".join(["ana"] * (MAX_KEY_WORDS + 5) + ["smith"])
    with agency_scope(agency):
        for text in [
            "Alisa Fontaine",
            "mohammed abdi",
            "Cote",
            "小龙",
            "Jean Luc",
            "Abdi",
            "zzz",
            # Words sharing keys, a word twice, a prefix, a sound alone, more words than the lookup reads.
            "alisa alissa",
            "abdi abdi",
            "fontaineb",
            "smythe ana",
            "hanna smit",
            # Three words (the most PostgreSQL orders by its table of masks) and four (the CASE expressions).
            "hanna smit alisa",
            "jean luc cote abdi",
            long_text,
        ]:
            expected = list(key_candidates(agency, text)[:CANDIDATE_LIMIT])
            for limit in (CANDIDATE_LIMIT, 3):
                raw = first_key_candidates(agency, text, limit=limit)
                with connection.cursor() as cursor:
                    cursor.execute(raw.sql, raw.params)
                    assert [row[0] for row in cursor.fetchall()] == expected[:limit], text
        assert first_key_candidates(agency, "  ") is None


@pytest.mark.parametrize("words", range(1, ORDER_TABLE_WORDS + 1))
def test_the_table_of_masks_orders_by_words_matched_then_their_strongest_weights(words):
    """Each mask's number in the table orders as _key_order orders: words matched, then each word's strongest weight summed."""
    table = mask_order_table(words)
    assert len(table) == 8**words
    for mask, number in enumerate(table):
        groups = [(mask >> (3 * word)) & 7 for word in range(words)]
        found = sum(1 for bits in groups if bits)
        best = sum(max((weight for weight in WEIGHT_BITS if bits & weight), default=0) for bits in groups)
        assert best < 64
        assert number == found * 64 + best
    # Worked examples: nothing; one word by its sound; one word whole beats one by spelling; two words beat one.
    if words == 2:
        assert table[0] == 0 and table[0b000_001] == 65
        assert table[0b000_100] > table[0b000_010] > table[0b000_001]
        assert table[0b001_001] > table[0b000_111]


def test_every_key_weight_has_its_own_bit_in_the_lookups_mask():
    """The hand-written lookup packs each word's key weights into three bits: each weight must be one of them."""
    assert sorted(WEIGHT_BITS) == [1, 2, 4]
    for weight in (matching.TOKEN_WEIGHT, matching.SPELLING_WEIGHT, matching.PREFIX_WEIGHT, matching.SOUND_WEIGHT):
        assert weight in WEIGHT_BITS


@pytest.mark.django_db
def test_the_clients_name_search_shows_are_built_as_the_orm_builds_them(agency, register):
    """shown_clients reads rows with hand-written SQL: every field comes out as the ORM gives it (JSON
    lists, dates, datetimes, booleans), on SQLite and PostgreSQL alike."""
    client = register(
        agency,
        given_name="Amina",
        family_name="Haddad",
        date_of_birth=date(1990, 4, 2),
        spoken_languages=["ar", "fr"],
        arrival_date=date(2024, 1, 15),
    )
    other = register(agency, given_name="Aminah", family_name="Hadad")
    with agency_scope(agency):
        expected = Client.objects.for_agency(agency).in_bulk([client.pk, other.pk])
        found = shown_clients(agency, [client.pk, other.pk])
        assert set(found) == {client.pk, other.pk}
        for pk, loaded in found.items():
            assert not loaded._state.adding
            assert loaded.get_deferred_fields() == set()
            for field in Client._meta.concrete_fields:
                value = getattr(loaded, field.attname)
                assert value == getattr(expected[pk], field.attname), field.name
                assert type(value) is type(getattr(expected[pk], field.attname)), field.name
        assert found[client.pk].spoken_languages == ["ar", "fr"]
        # Search itself returns them: the shown clients are whole.
        [match, *_rest] = search_clients(agency, "Amina Haddad")
        assert match.client.pk == client.pk and match.client.date_of_birth == date(1990, 4, 2)
        assert shown_clients(agency, []) == {}


@pytest.mark.django_db
def test_name_search_by_status_finds_what_the_status_filter_finds(agency, register):
    """The list page's usual search (active clients) takes name search's fast path: the same clients, scores
    and order as the same search through the filtered queryset, archived clients left out."""
    people = [register(agency, given_name=given, family_name="Haddad") for given in ("Amina", "Aminah", "Amena", "Amin", "Mina")]
    with agency_scope(agency):
        Client.objects.filter(pk__in=[people[1].pk, people[3].pk]).update(status=Client.Status.ARCHIVED)
        for status in (Client.Status.ACTIVE, Client.Status.ARCHIVED):
            base = filter_clients(Client.objects.for_agency(agency), agency=agency, status=status)
            for text in ("Amina Haddad", "amena", "Hadad"):
                fast = [(m.client.pk, m.score, m.reasons) for m in search_clients(agency, text, status=status)]
                filtered = [(m.client.pk, m.score, m.reasons) for m in search_clients(agency, text, base=base)]
                assert fast == filtered, (status, text)
                assert fast and {Client.objects.get(pk=pk).status for pk, *_ in fast} == {status}


def _whole_name_keys(*names: str) -> dict[str, int]:
    """search_keys as first written: the whole name folded at once, each token's keys put in turn."""
    from caseload.clients import matching

    keys: dict[str, int] = {}

    def put(key: str, weight: int) -> None:
        key = key[: matching.SEARCH_KEY_LENGTH]
        if key and weight > keys.get(key, 0):
            keys[key] = weight

    for token in tokens(" ".join(name or "" for name in names)):
        put(token, matching.TOKEN_WEIGHT)
        for key in matching.deletions(token):
            put(key, matching.SPELLING_WEIGHT)
        for length in matching.PREFIX_LENGTHS:
            if length < len(token):
                put(token[:length], matching.PREFIX_WEIGHT)
        if matching._LATIN_LETTERS.match(token):
            put(matching.jellyfish.metaphone(token), matching.SOUND_WEIGHT)
    return keys


@given(parts=st.lists(st.one_of(NAMES, st.text(max_size=12)), min_size=3, max_size=3))
def test_the_stored_search_columns_and_keys_read_name_by_name_are_the_whole_names(parts):
    # Folded and keyed name by name (the folds and each token's keys cached), as if the whole name at once.
    from caseload.clients.matching import fold, phonetic_key, search_keys

    given_name, family_name, preferred_name = parts
    whole = " ".join(parts)
    fields = search_fields(given_name, family_name, preferred_name, "")
    assert fields["name_folded"] == fold(whole)[:400]
    assert fields["name_phonetic"] == phonetic_key(whole)[:400]
    assert search_keys(*parts) == _whole_name_keys(*parts)
    assert search_keys(*parts) == search_keys(*parts)  # a second time, from the caches


@pytest.mark.django_db
def test_birth_search_finds_ranks_and_loads_what_the_general_path_does(agency, other_agency, register, django_assert_num_queries):
    """Date-of-birth search without filters reads the candidates' ranking fields and loads only the clients shown:
    the same clients, scores, reasons and order as through a queryset of the clients, in two statements."""
    born = date(1988, 6, 1)
    names = [("Amina", "Haddad"), ("Zoë", "Abbott"), ("amina", "haddad"), ("Li", ""), ("Ömer", "Çelik"), ("Bruno", "Costa")]
    people = [register(agency, given_name=given, family_name=family, date_of_birth=born) for given, family in names]
    register(agency, given_name="Amina", family_name="Haddad", date_of_birth=date(1988, 6, 2))
    register(other_agency, given_name="Amina", family_name="Haddad", date_of_birth=born)
    with agency_scope(agency):
        Client.objects.filter(pk=people[4].pk).update(status=Client.Status.ARCHIVED)
        Client.objects.filter(pk=people[5].pk).update(status=Client.Status.MERGED)
        for status in (None, Client.Status.ACTIVE, Client.Status.ARCHIVED):
            base = filter_clients(Client.objects.for_agency(agency), agency=agency, status=status)
            for limit in (25, 2):
                fast = search_clients(agency, "1988-06-01", limit=limit, status=status)
                general = search_clients(agency, "1988-06-01", limit=limit, base=base)
                assert [(m.client.pk, m.score, m.reasons) for m in fast] == [(m.client.pk, m.score, m.reasons) for m in general]
                assert [m.client.date_of_birth for m in fast] == [born] * len(fast)  # whole clients
        everyone = [m.client.pk for m in search_clients(agency, "1988-06-01")]
        assert set(everyone) == {person.pk for person in people[:5]}  # merged and other agencies' left out
        with django_assert_num_queries(2):
            search_clients(agency, "1988-06-01")


@pytest.mark.django_db
def test_phone_search_finds_ranks_and_loads_what_the_general_path_does(agency, other_agency, register, django_assert_num_queries):
    """Phone search without filters reads its candidates whole in one statement, additional numbers included:
    the same clients, scores, reasons and order as through a queryset of the clients."""
    from caseload.clients.models import ClientPhone

    number = "+16135550142"
    holders = [
        register(agency, given_name=given, family_name=family, phone="613 555 0142")
        for given, family in [("Amina", "Haddad"), ("Zoë", "Abbott"), ("Ömer", "Çelik"), ("Bruno", "Costa")]
    ]
    second = register(agency, given_name="Li", family_name="Wei", phone="416 234 5678")
    both = register(agency, given_name="Kwame", family_name="Mensah", phone="613 555 0142")
    register(agency, given_name="Amina", family_name="Haddad", phone="613 555 0143")
    theirs = register(other_agency, given_name="Amina", family_name="Haddad", phone="613 555 0142")
    with agency_scope(agency):
        ClientPhone.objects.create(agency=agency, client=second, number=number, kind=ClientPhone.Kind.WORK)
        ClientPhone.objects.create(agency=agency, client=both, number=number, kind=ClientPhone.Kind.WORK)
        Client.objects.filter(pk=holders[2].pk).update(status=Client.Status.ARCHIVED)
        Client.objects.filter(pk=holders[3].pk).update(status=Client.Status.MERGED)
    with agency_scope(other_agency):
        ClientPhone.objects.create(agency=other_agency, client=theirs, number=number)
    with agency_scope(agency):
        for typed in ("613-555-0142", "+1 (613) 555 0142"):
            for status in (None, Client.Status.ACTIVE, Client.Status.ARCHIVED):
                base = filter_clients(Client.objects.for_agency(agency), agency=agency, status=status)
                for limit in (25, 2):
                    fast = search_clients(agency, typed, limit=limit, status=status)
                    general = search_clients(agency, typed, limit=limit, base=base)
                    assert [(m.client.pk, m.score, m.reasons) for m in fast] == [
                        (m.client.pk, m.score, m.reasons) for m in general
                    ]
                    assert all(m.client.given_name for m in fast)  # whole clients
        found = {m.client.pk: m.reasons for m in search_clients(agency, "613 555 0142")}
        # Merged profiles and other agencies' clients left out; the additional number found and flagged.
        assert set(found) == {holders[0].pk, holders[1].pk, holders[2].pk, second.pk, both.pk}
        assert matching.REASON_SAME_PHONE in found[second.pk]
        with django_assert_num_queries(1):
            search_clients(agency, "613 555 0142")
