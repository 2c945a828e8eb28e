from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz.distance import Indel, JaroWinkler

from caseload.clients.matching import (
    REASON_SAME_DOB,
    REASON_SAME_EMAIL,
    REASON_SAME_PHONE,
    REASON_SIMILAR_NAME,
    REASON_SOUNDS_ALIKE,
    NameScorer,
    Person,
    fold,
    is_likely_duplicate,
    name_score,
    name_similarities,
    name_similarity,
    normalise_phone,
    phonetic_key,
    score,
    token_keys,
    token_similarities,
)


def test_it_folds_case_accents_hyphens_and_apostrophes():
    assert fold("  François  DUBOIS-Tremblay ") == "francois dubois tremblay"
    assert fold("O’Brien") == "obrien"
    assert fold("Zoë Müller") == "zoe muller"
    assert fold("STRASSE") == fold("Straße")


def test_it_keeps_vowel_signs_of_non_latin_scripts():
    assert fold("प्रिया") == "प्रिया"
    assert fold("محمد") == "محمد"


def test_it_gives_spelling_variants_a_shared_phonetic_key():
    assert set(phonetic_key("Mohamed").split()) & set(phonetic_key("Muhammad").split())
    assert phonetic_key("王 伟") == "伟 王"


def test_it_normalises_phones_to_e164_and_refuses_nonsense():
    assert normalise_phone("(416) 234-5678") == "+14162345678"
    assert normalise_phone("1.416.234.5678") == "+14162345678"
    assert normalise_phone("+33 1 42 68 53 00") == "+33142685300"
    assert normalise_phone("12") is None
    assert normalise_phone("call me") is None
    assert normalise_phone("") is None


def test_it_scores_a_swapped_name_with_the_same_birth_date_as_a_duplicate():
    born = date(1990, 4, 2)
    match = score(
        Person(given_name="Aïcha", family_name="Haddad", date_of_birth=born),
        Person(given_name="haddad", family_name="aicha", date_of_birth=born),
    )
    assert match.score > 0.9
    assert match.reasons == [REASON_SAME_DOB, REASON_SIMILAR_NAME]
    assert is_likely_duplicate(match)


def test_it_says_when_a_name_only_sounds_alike():
    match = score(Person(given_name="Muhammad", family_name="Ali"), Person(name="Mohamed"))
    assert REASON_SOUNDS_ALIKE in match.reasons
    assert REASON_SIMILAR_NAME in match.reasons


def test_it_weakens_a_similar_name_born_on_another_day():
    same = score(Person(given_name="Ana", family_name="Silva", date_of_birth=date(1980, 1, 1)), Person(name="Ana Silva"))
    other = score(
        Person(given_name="Ana", family_name="Silva", date_of_birth=date(1980, 1, 1)),
        Person(given_name="Ana", family_name="Silva", date_of_birth=date(1981, 1, 1)),
    )
    assert other.score < same.score
    assert not is_likely_duplicate(other)


def test_it_flags_a_shared_phone_or_email_whatever_the_name():
    candidate = Person(given_name="Kwame", family_name="Mensah", phone="+14162345678", email="k@example.net")
    by_phone = score(candidate, Person(given_name="Ingrid", phone="+14162345678"))
    by_email = score(candidate, Person(given_name="Ingrid", email="K@Example.NET"))
    assert by_phone.reasons == [REASON_SAME_PHONE] and is_likely_duplicate(by_phone)
    assert by_email.reasons == [REASON_SAME_EMAIL] and is_likely_duplicate(by_email)


def test_it_does_not_flag_an_unrelated_person():
    match = score(
        Person(given_name="Kwame", family_name="Mensah", date_of_birth=date(1970, 5, 5)),
        Person(given_name="Ingrid", family_name="Lindqvist", date_of_birth=date(1999, 9, 9)),
    )
    assert match.reasons == []
    assert match.score == 0


WORDS = st.one_of(
    st.sampled_from(["mohamed", "muhammad", "moham", "ana", "anna", "hana", "cote", "jon", "john", "nguyen", "李", "小龙"]),
    st.text(alphabet="abdehjmnotuy", min_size=1, max_size=9),
)


@st.composite
def token_pairs(draw):
    """A probe and a candidate: unrelated, or the candidate starting with or holding the probe."""
    probe = draw(WORDS)
    kind = draw(st.sampled_from(["other", "prefix", "part"]))
    if kind == "other":
        return probe, draw(WORDS)
    before = draw(st.text(alphabet="aeiklr", min_size=1, max_size=4)) if kind == "part" else ""
    return probe, before + probe + draw(st.text(alphabet="aeiklr", max_size=4))


def plain_similarity(probe: str, candidate: str) -> tuple[float, bool]:
    """The definition, written plainly."""
    if probe == candidate:
        return 1.0, False
    best = max(Indel.normalized_similarity(probe, candidate), JaroWinkler.normalized_similarity(probe, candidate))
    if len(probe) >= 3 and candidate.startswith(probe):
        best = max(best, 0.9)
    elif len(probe) >= 3 and probe in candidate:
        best = max(best, 0.85)
    if best < 0.9 and token_keys(probe) & token_keys(candidate):
        return 0.9, True
    return best, False


@given(pairs=st.lists(token_pairs(), min_size=1, max_size=6))
def test_token_similarities_are_the_better_measure_raised_for_prefixes_parts_and_sounds(pairs):
    """token_similarities is written for speed (name search compares hundreds of tokens with each word)."""
    for probe, candidate in pairs:
        assert token_similarities(probe, [candidate]) == [plain_similarity(probe, candidate)]
    probe = pairs[0][0]
    candidates = [candidate for _probe, candidate in pairs]
    assert token_similarities(probe, candidates) == [plain_similarity(probe, candidate) for candidate in candidates]


FOLDED_NAMES = st.lists(
    st.sampled_from(["anna", "ana", "hanna", "jon", "john", "johnson", "lee", "leigh", "li", "smith", "van", "an"]), max_size=3
)


@given(probe=FOLDED_NAMES, names=st.lists(FOLDED_NAMES, max_size=8))
def test_name_similarities_are_name_similarity_for_each_name(probe, names):
    """name_similarities is written for speed (an import's duplicate check compares each row with many clients)."""
    assert name_similarities(probe, names) == [name_similarity(probe, name)[0] for name in names]


@given(probe=FOLDED_NAMES, names=st.lists(FOLDED_NAMES, max_size=8))
def test_name_scorers_pass_over_many_names_scores_each_as_name_score(probe, names):
    """NameScorer.scores is written for speed (name search scores hundreds of candidates for one probe)."""
    folded = [" ".join(name) for name in names]
    assert NameScorer(probe).scores(folded) == [name_score(name, probe).score for name in names]
