"""Pure name, phone and email matching used by client search and the duplicate check.

Nothing here touches the database: the queries module narrows candidates in SQL and ranks them with
``score``. Names are compared folded (case, accents and punctuation removed), token by token, so a
given/family swap, a missing accent, a one-letter typo or a different spelling of the same sound
("Mohamed", "Muhammad") still match.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import jellyfish
import phonenumbers
from django.utils.translation import gettext_lazy as _
from rapidfuzz.distance import Indel, JaroWinkler

REASON_SAME_DOB = _("same date of birth")
REASON_SIMILAR_NAME = _("similar name")
REASON_SAME_PHONE = _("same phone")
REASON_SAME_EMAIL = _("same email")
REASON_SOUNDS_ALIKE = _("sounds alike")
REASON_CLIENT_NUMBER = _("client number")

# A name counts as similar from this folded-token similarity (0..1); below it the name adds nothing.
SIMILAR_NAME = 0.8
MIN_NAME_EVIDENCE = 0.6

_JOINERS = re.compile(r"[\s\-\u2010-\u2015_]+")
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`´]")
_LATIN_LETTERS = re.compile(r"^[a-z]+$")


def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN")


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Casefold, strip accents from Latin letters, drop apostrophes, collapse hyphens and spaces.

    Combining marks are removed only after Latin letters, so scripts whose vowel signs are marks
    (Devanagari, Thai) keep them. Cached: search scores hundreds of candidates whose names repeat.
    """
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    kept: list[str] = []
    latin_base = False
    for char in decomposed:
        if unicodedata.combining(char):
            if latin_base:
                continue
        else:
            latin_base = _is_latin(char)
        kept.append(char)
    folded = unicodedata.normalize("NFC", "".join(kept))
    folded = _APOSTROPHES.sub("", folded)
    # Punctuation and symbols separate words; letters and marks of every script stay.
    folded = "".join(" " if unicodedata.category(char)[0] in "PS" else char for char in folded)
    return _JOINERS.sub(" ", folded).strip()


def tokens(text: str) -> list[str]:
    return [token for token in fold(text).split(" ") if token]


def name_tokens(*names: str | None) -> list[str]:
    """``tokens`` of the names joined by spaces, each name folded on its own: given and family names
    repeat across clients, so their folds come from the cache where the whole name seldom would."""
    return [token for name in names for token in tokens(name or "")]


@functools.lru_cache(maxsize=65536)
def token_keys(token: str) -> frozenset[str]:
    """Phonetic keys (metaphone and NYSIIS) of one folded token; a non-Latin token is its own key.

    Cached: search scores hundreds of candidates whose names repeat.
    """
    if not _LATIN_LETTERS.match(token):
        return frozenset({token})
    return frozenset(key for key in (jellyfish.metaphone(token), jellyfish.nysiis(token)) if key)


def phonetic_key(name: str) -> str:
    """Space-joined phonetic keys of every token in ``name``, sorted and de-duplicated."""
    return _phonetic_of(tokens(name))


def _phonetic_of(name_tokens: list[str]) -> str:
    keys: set[str] = set()
    for token in name_tokens:
        keys |= token_keys(token)
    return " ".join(sorted(keys))


def normalise_phone(raw: str, region: str = "CA") -> str | None:
    """The E.164 form of ``raw`` (national numbers read in ``region``), or None if it is not a valid number."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    # Valid at home first: is_valid_number alone tries every region of the country code (two dozen
    # for +1) before it finds the number's own, which made a large import spend a fifth of its time here.
    if not phonenumbers.is_valid_number_for_region(number, region) and not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fold_email(email: str) -> str:
    return (email or "").strip().casefold()


@dataclass
class Person:
    """What is compared: a client, or what a worker typed. ``name`` is free text used when given/family are empty."""

    given_name: str = ""
    family_name: str = ""
    preferred_name: str = ""
    name: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""

    @classmethod
    def of(cls, obj: Any) -> Person:
        if isinstance(obj, Person):
            return obj
        get = obj.get if isinstance(obj, dict) else lambda key, default=None: getattr(obj, key, default)
        return cls(
            given_name=get("given_name", "") or "",
            family_name=get("family_name", "") or "",
            preferred_name=get("preferred_name", "") or "",
            name=get("name", "") or "",
            date_of_birth=get("date_of_birth", None),
            phone=get("phone", "") or "",
            email=get("email", "") or "",
        )

    def name_tokens(self) -> list[str]:
        return name_tokens(self.given_name, self.family_name, self.preferred_name, self.name)


@dataclass
class Match:
    score: float
    reasons: list[str] = field(default_factory=list)


def token_similarities(probe: str, candidates: Iterable[str]) -> list[tuple[float, bool]]:
    """Similarity of the folded token ``probe`` to each folded token of ``candidates``, and whether it rests on
    their sound: the better of two measures (Indel, Jaro-Winkler), raised to 0.9 for a candidate starting
    with the probe and to 0.85 for one holding it (probes of three letters or more), else to 0.9 for a
    shared sound. One loop for many candidates: name search compares each typed word with hundreds."""
    indel, jaro = Indel.normalized_similarity, JaroWinkler.normalized_similarity
    sounds_of = token_keys(probe)
    long_enough = len(probe) >= 3
    found = []
    for candidate in candidates:
        if candidate == probe:
            found.append((1.0, False))
            continue
        best = indel(probe, candidate)
        other = jaro(probe, candidate)
        if other > best:
            best = other
        if long_enough and best < 0.9:
            if candidate.startswith(probe):
                best = 0.9
            elif best < 0.85 and probe in candidate:
                best = 0.85
        if best < 0.9 and not sounds_of.isdisjoint(token_keys(candidate)):
            found.append((0.9, True))
        else:
            found.append((best, False))
    return found


def name_similarity(
    probe_tokens: list[str], candidate_tokens: list[str], similarities: dict[tuple[str, str], tuple[float, bool]] | None = None
) -> tuple[float, bool]:
    """Mean over the probe's tokens of the best match among the candidate's, in any order.

    ``similarities`` memoises token pairs across calls (one search scores hundreds of candidates
    whose names share words); it belongs to one caller, never global.
    """
    if not probe_tokens or not candidate_tokens:
        return 0.0, False
    total = 0.0
    sounds = False
    for token in probe_tokens:
        if similarities is None:
            pairs = token_similarities(token, candidate_tokens)
        else:
            missing = [other for other in candidate_tokens if (token, other) not in similarities]
            if missing:
                for other, pair in zip(missing, token_similarities(token, missing), strict=True):
                    similarities[(token, other)] = pair
            pairs = [similarities[(token, other)] for other in candidate_tokens]
        best, best_sounds = max(pairs)
        total += best
        sounds = sounds or best_sounds
    return total / len(probe_tokens), sounds


def name_similarities(probe_tokens: list[str], names: list[list[str]]) -> list[float]:
    """name_similarity's first value for each of ``names`` (each its folded tokens), against one probe.

    Each distinct token of the names is compared once with each of the probe's, in one pass per probe
    token, and each name then summed as name_similarity sums it: the duplicate check of an import
    compares every row with the few clients born the same day (some 50,000 names for a file of 10,000
    rows, hardly a token pair twice), and a call of name_similarity for each took half as long again.
    """
    if not probe_tokens:
        return [0.0] * len(names)
    position: dict[str, int] = {}
    for name in names:
        for token in name:
            position.setdefault(token, len(position))
    distinct = list(position)
    columns = [[value for value, _sounds in token_similarities(token, distinct)] for token in probe_tokens]
    found = []
    for name in names:
        total = 0.0
        if name:
            at = [position[token] for token in name]
            for column in columns:
                total += max([column[index] for index in at])
        found.append(total / len(probe_tokens))
    return found


def _name_miss(similarity: float) -> float:
    """What a name similarity leaves missing of a match (all of it below MIN_NAME_EVIDENCE)."""
    return 1.0 if similarity < MIN_NAME_EVIDENCE else 1.0 - similarity


def _name_evidence(similarity: float, sounds: bool) -> tuple[float, list[str]]:
    """What a name similarity adds to a score: the miss it leaves, and the reasons shown."""
    if similarity < MIN_NAME_EVIDENCE:
        return _name_miss(similarity), []
    reasons = []
    if similarity >= SIMILAR_NAME:
        reasons.append(REASON_SIMILAR_NAME)
    if sounds:
        reasons.append(REASON_SOUNDS_ALIKE)
    return _name_miss(similarity), reasons


def name_score(
    candidate_tokens: list[str], probe_tokens: list[str], similarities: dict[tuple[str, str], tuple[float, bool]] | None = None
) -> Match:
    """``score`` for a probe holding only a name (what name search sends), from tokens already folded.

    Name search scores hundreds of candidates for one probe: the probe is folded once, and each
    candidate is read as its tokens, without building a Person for either.
    """
    similarity, sounds = name_similarity(probe_tokens, candidate_tokens, similarities)
    misses, reasons = _name_evidence(similarity, sounds)
    return Match(score=round(1.0 - misses, 4), reasons=reasons)


class NameScorer:
    """``name_score`` against one probe for many candidates: what name search runs on its hundreds.

    Candidates come as their stored folded names (``search_fields``' name_folded: tokens joined by
    spaces). Each candidate token is compared once with every probe token, the new tokens of a batch in
    one pass per probe token (``compare``); each distinct name is scored once, and only the names
    shown need their reasons (``folded``): ``score`` is the number alone.
    """

    def __init__(self, probe_tokens: list[str]) -> None:
        self.probe = list(probe_tokens)
        # Per candidate token, its (similarity, sounds) with each probe token.
        self.by_token: dict[str, tuple[tuple[float, bool], ...]] = {}
        # Per candidate token, its similarity alone with each probe token (what a score reads).
        self.values: dict[str, tuple[float, ...]] = {}
        # Per folded name: (score, similarity, sounds); and its score alone (``scores``).
        self.by_folded: dict[str, tuple[float, float, bool]] = {}
        self.by_score: dict[str, float] = {}

    def compare(self, tokens: Iterable[str]) -> None:
        """Compare the tokens not met yet with every probe token."""
        new = [token for token in dict.fromkeys(tokens) if token not in self.by_token]
        if new and self.probe:
            columns = [token_similarities(each, new) for each in self.probe]
            self.by_token.update(zip(new, zip(*columns, strict=True), strict=True))
            similarities = [[value for value, _sounds in column] for column in columns]
            self.values.update(zip(new, zip(*similarities, strict=True), strict=True))

    def scores(self, folded_names: list[str]) -> list[float]:
        """``score`` of each of ``folded_names``, in one pass: what name search reads of its hundreds of candidates.

        Each name is split once and its tokens compared in one batch; a name is summed from the tokens'
        similarities alone (its reasons, which need the sounds too, only for the few shown: ``folded``).
        """
        split = [name.split() for name in folded_names]
        self.compare(token for tokens in split for token in tokens)
        values, by_score, probes = self.values, self.by_score, len(self.probe)
        found = []
        for name, tokens in zip(folded_names, split, strict=True):
            score = by_score.get(name)
            if score is None:
                similarity = 0.0
                if probes and tokens:
                    # Per probe token, its best similarity among the name's tokens, added up one by one as _scored
                    # adds them (not sum(): from Python 3.12 it rounds differently, and the scores must stay equal).
                    for value in values[tokens[0]] if len(tokens) == 1 else map(max, *[values[token] for token in tokens]):
                        similarity += value
                    similarity /= probes
                score = by_score[name] = round(1.0 - _name_miss(similarity), 4)
            found.append(score)
        return found

    def _scored(self, folded_name: str) -> tuple[float, float, bool]:
        found = self.by_folded.get(folded_name)
        if found is not None:
            return found
        tokens = folded_name.split()
        similarity, sounds = 0.0, False
        if self.probe and tokens:
            by_token = self.by_token
            rows = [by_token.get(token) for token in tokens]
            if None in rows:
                self.compare(tokens)
                rows = [by_token[token] for token in tokens]
            # Per probe token, its best (similarity, sounds) among the candidate's tokens; summed as name_similarity sums.
            for value, sound in rows[0] if len(rows) == 1 else map(max, *rows):
                similarity += value
                sounds = sounds or sound
            similarity /= len(self.probe)
        found = self.by_folded[folded_name] = (round(1.0 - _name_miss(similarity), 4), similarity, sounds)
        return found

    def score(self, folded_name: str) -> float:
        """The score of a candidate given as its folded name."""
        return self._scored(folded_name)[0]

    def folded(self, folded_name: str) -> Match:
        """The match of a candidate given as its folded name, with its reasons."""
        score, similarity, sounds = self._scored(folded_name)
        return Match(score=score, reasons=_name_evidence(similarity, sounds)[1])

    def __call__(self, candidate_tokens: list[str] | tuple[str, ...]) -> Match:
        return self.folded(" ".join(candidate_tokens))


def score(candidate: Any, probe: Any, *, similarities: dict[tuple[str, str], tuple[float, bool]] | None = None) -> Match:
    """How likely ``candidate`` is the person ``probe`` describes, with the reasons a worker is shown.

    Both may be a Client, a dict of client fields or a Person. Phones must already be normalised.
    Evidence combines as independent signals (1 - product of the misses); a date of birth on both
    sides that differs weakens the whole match. ``similarities``: see name_similarity.
    """
    cand, want = Person.of(candidate), Person.of(probe)
    similarity, sounds = name_similarity(want.name_tokens(), cand.name_tokens(), similarities)
    misses, reasons = _name_evidence(similarity, sounds)

    dob_differs = False
    if want.date_of_birth and cand.date_of_birth:
        if want.date_of_birth == cand.date_of_birth:
            reasons.insert(0, REASON_SAME_DOB)
            misses *= 0.5 if similarity >= MIN_NAME_EVIDENCE else 0.8
        else:
            dob_differs = True
    if want.phone and want.phone == cand.phone:
        reasons.append(REASON_SAME_PHONE)
        misses *= 0.1
    if want.email and fold_email(want.email) == fold_email(cand.email):
        reasons.append(REASON_SAME_EMAIL)
        misses *= 0.1

    value = 1.0 - misses
    if dob_differs:
        value *= 0.6
    return Match(score=round(value, 4), reasons=reasons)


def is_likely_duplicate(match: Match) -> bool:
    """Same date of birth with a similar name, or a shared phone or email."""
    reasons = set(match.reasons)
    return (REASON_SAME_DOB in reasons and REASON_SIMILAR_NAME in reasons) or bool(reasons & {REASON_SAME_PHONE, REASON_SAME_EMAIL})


def search_fields(given_name: str, family_name: str, preferred_name: str, email: str) -> dict[str, str]:
    """The folded columns stored on a client for search."""
    # The whole name's tokens, read name by name (name_tokens): its fold is those tokens joined by spaces.
    name = name_tokens(given_name, family_name, preferred_name)
    return {"name_folded": " ".join(name)[:400], "name_phonetic": _phonetic_of(name)[:400], "email_folded": fold_email(email)[:254]}


# ---- Search keys: what name search looks up by equality (ClientSearchKey rows, index on agency + key) ----
#
# PostgreSQL's row-level security lets the planner use an index only for leakproof operators; text
# equality is one, LIKE and the pg_trgm operators are not. So every name is stored as exact keys and a
# query becomes ``key IN (...)``. Per folded token: the token, each one-letter-deleted variant
# (symmetric delete: a query and a name one typo apart share a deletion, or one is a deletion of the
# other), its prefixes (what the search box holds while typing) and its sound (metaphone, in upper
# case, so it never collides with a folded spelling; NYSIIS, which ``score`` also uses, would double
# the rows a common sound matches for little more recall). The weight orders candidates in SQL: a
# client matching more and stronger keys comes first; the ranking itself stays with ``score``.

SEARCH_KEY_LENGTH = 64
TOKEN_WEIGHT = 4
SPELLING_WEIGHT = 2
PREFIX_WEIGHT = 2
SOUND_WEIGHT = 1
# Shorter tokens get no deletion keys (two-letter keys would match almost anyone).
MIN_DELETION_LENGTH = 4
# Prefixes stored: from 3 letters up to 7 (a longer typed prefix still meets the 7-letter one through
# its own deletion of the last letter).
PREFIX_LENGTHS = range(3, 8)


def deletions(token: str) -> set[str]:
    """``token`` with one letter left out, each way; none for tokens shorter than MIN_DELETION_LENGTH."""
    if len(token) < MIN_DELETION_LENGTH:
        return set()
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


def search_keys(*names: str) -> dict[str, int]:
    """The keys stored for a client whose names are ``names``, each with its weight (the strongest kind wins)."""
    keys: dict[str, int] = {}
    for token in name_tokens(*names):
        for key, weight in _token_search_keys(token):
            if weight > keys.get(key, 0):
                keys[key] = weight
    return keys


@functools.lru_cache(maxsize=65536)
def _token_search_keys(token: str) -> tuple[tuple[str, int], ...]:
    """The keys of one folded token with their weights (cached: imports and seeding meet the same names
    thousands of times)."""
    keys: dict[str, int] = {}

    def put(key: str, weight: int) -> None:
        key = key[:SEARCH_KEY_LENGTH]
        if key and weight > keys.get(key, 0):
            keys[key] = weight

    put(token, TOKEN_WEIGHT)
    for key in deletions(token):
        put(key, SPELLING_WEIGHT)
    for length in PREFIX_LENGTHS:
        if length < len(token):
            put(token[:length], PREFIX_WEIGHT)
    if _LATIN_LETTERS.match(token):
        put(jellyfish.metaphone(token), SOUND_WEIGHT)
    return tuple(keys.items())


def query_keys(text: str) -> list[str]:
    """The keys a search for ``text`` looks up: each typed token, its deletions and its sounds (no prefixes:
    the stored prefixes meet the typed token)."""
    keys: set[str] = set()
    for token in tokens(text):
        keys.add(token)
        keys |= deletions(token)
        if _LATIN_LETTERS.match(token):
            keys.add(jellyfish.metaphone(token))
    return sorted({key[:SEARCH_KEY_LENGTH] for key in keys if key})
