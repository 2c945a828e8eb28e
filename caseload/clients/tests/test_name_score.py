"""Name search's fast paths give what the general ones give: name_score is score for a name probe, and the
hand-written key lookup is key_candidates."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from caseload.clients.matching import Person, name_score, score, tokens
from caseload.clients.queries import CANDIDATE_LIMIT, first_key_candidates, key_candidates
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
    ]:
        register(agency, given_name=given_name, family_name=family)
    with agency_scope(agency):
        for text in ["Alisa Fontaine", "mohammed abdi", "Cote", "小龙", "Jean Luc", "Abdi", "zzz"]:
            expected = list(key_candidates(agency, text)[:CANDIDATE_LIMIT])
            for limit in (CANDIDATE_LIMIT, 3):
                raw = first_key_candidates(agency, text, limit=limit)
                with connection.cursor() as cursor:
                    cursor.execute(raw.sql, raw.params)
                    assert [row[0] for row in cursor.fetchall()] == expected[:limit], text
        assert first_key_candidates(agency, "  ") is None
