"""The n-gram filter lets through every key rapidfuzz would match, so lookups over a large
pool give the same names, in the same order, as comparing every key."""

from __future__ import annotations

import random

import pytest
from rapidfuzz import fuzz, process

from bot.fuzzy_index import (
    FILTER_MIN_KEYS,
    FuzzyPool,
    NgramFilter,
    extract,
    extract_partial,
    length_bounds,
)

ALPHABET = "abcdeiklmnoprstu0123"


def _typo(word: str, generator: random.Random) -> str:
    letters = list(word)
    for _ in range(generator.randint(0, 3)):
        where = generator.randrange(len(letters) + 1)
        how = generator.randrange(3)
        if how == 0 and letters:
            del letters[min(where, len(letters) - 1)]
        elif how == 1:
            letters.insert(where, generator.choice(ALPHABET))
        elif letters:
            letters[min(where, len(letters) - 1)] = generator.choice(ALPHABET)
    return "".join(letters) or "a"


@pytest.fixture(scope="module")
def keys() -> list[str]:
    generator = random.Random(5)
    return [
        "".join(generator.choice(ALPHABET) for _ in range(generator.randint(2, 20)))
        for _ in range(20_000)
    ]


@pytest.mark.parametrize("cutoff", [74, 75, 83, 85, 90])
def test_filtered_lookups_find_what_comparing_every_key_finds(
    keys: list[str], cutoff: float
) -> None:
    generator = random.Random(cutoff)
    ngram_filter = NgramFilter(keys)
    compared = 0
    for _ in range(120):
        text = _typo(generator.choice(keys), generator)
        expected = extract(text, keys, cutoff, 15)
        assert extract(text, keys, cutoff, 15, ngram_filter) == expected
        compared += len(ngram_filter.candidates(text, cutoff))
    assert compared < 120 * len(keys) / 5  # the filter does filter


def test_japanese_keys_and_short_texts() -> None:
    generator = random.Random(9)
    kana = "アイウエオカキクケコサシスセソ生成規制発表"
    keys = [
        "".join(generator.choice(kana) for _ in range(generator.randint(2, 8))) for _ in range(6000)
    ]
    ngram_filter = NgramFilter(keys)
    for text in ["生成", "アイウ", "規制発表", "カキクケコサ", "ア"]:
        assert extract(text, keys, 74, 5, ngram_filter) == extract(text, keys, 74, 5)


def test_length_bounds_follow_the_ratio() -> None:
    assert length_bounds(10, 85) == (7, 14)
    low, high = length_bounds(6, 75)
    assert low <= 4 and high >= 9


def test_a_pool_builds_its_filter_only_when_large() -> None:
    small = FuzzyPool(["openai", "anthropic"])
    assert small.ngram_filter() is None
    assert small.extract("opanai", 80, 3)[0][0] == "openai"
    large = FuzzyPool([f"name{i:05d}" for i in range(FILTER_MIN_KEYS)])
    assert large.ngram_filter() is not None
    assert large.extract("name00042", 95, 1)[0][:2] == ("name00042", 100.0)


def random_keys(generator: random.Random) -> list[str]:
    """Enough keys of letters and spaces (2–30 characters) for a pool to use its filter."""
    letters = ALPHABET + " "
    return [
        "".join(generator.choice(letters) for _ in range(generator.randint(2, 30)))
        for _ in range(FILTER_MIN_KEYS + 1000)
    ]


def _partial_over_every_key(
    text: str, keys: list[str], cutoff: float
) -> list[tuple[str, float, int]]:
    """What ``extract_partial`` must return: rapidfuzz's partial_ratio over every key."""
    return [
        (str(k), float(score), int(position))
        for k, score, position in process.extract(
            text, keys, scorer=fuzz.partial_ratio, processor=None, score_cutoff=cutoff, limit=25
        )
    ]


def test_filtered_partial_lookups_find_what_comparing_every_key_finds() -> None:
    generator = random.Random(7)
    keys = random_keys(generator)
    pool = FuzzyPool(keys)
    for _ in range(150):
        key = generator.choice(keys)
        start = generator.randrange(len(key))
        text = key[start : start + generator.randint(1, 12)] + generator.choice(["", "x"])
        for cutoff in (70, 80, 90):
            assert extract_partial(pool, text, cutoff, 25) == _partial_over_every_key(
                text, keys, cutoff
            )


def test_filtered_partial_lookups_of_long_texts_find_what_comparing_every_key_finds() -> None:
    # A sentence shares characters with nearly every key: the bigram bound does the
    # filtering there, and must never drop a key that reaches the cutoff.
    generator = random.Random(11)
    keys = random_keys(generator)
    pool = FuzzyPool(keys)
    for _ in range(60):
        pieces = [generator.choice(keys) for _ in range(generator.randint(2, 5))]
        sentence = " ".join(p[generator.randrange(len(p)) :] for p in pieces)
        typo = generator.randrange(len(sentence))
        text = sentence[:typo] + generator.choice(ALPHABET + " ") + sentence[typo + 1 :]
        for cutoff in (70, 80, 90):
            assert extract_partial(pool, text, cutoff, 25) == _partial_over_every_key(
                text, keys, cutoff
            )


def test_counting_characters_for_the_keys_left_or_for_all_lets_the_same_keys_through(
    keys: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = random.Random(11)
    ngram_filter = NgramFilter(keys)
    texts = [_typo(generator.choice(keys), generator) for _ in range(80)]
    found = {}
    for few_left in (1, 10**9):  # always key by key; always a pass over every holder
        monkeypatch.setattr("bot.fuzzy_index.FEW_LEFT", few_left)
        found[few_left] = [ngram_filter.candidates(t, c) for t in texts for c in (75, 85)]
    assert found[1] == found[10**9]
    assert any(found[1])


def test_counting_characters_from_the_dense_matrix_or_the_postings_lets_the_same_keys_through(
    keys: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    generator = random.Random(13)
    texts = [_typo(generator.choice(keys), generator) for _ in range(80)] + ["a" * 300]
    found = {}
    for dense_share in (1, 10**9):  # no character in the matrix; every character in it
        monkeypatch.setattr("bot.fuzzy_index.DENSE_SHARE", dense_share)
        ngram_filter = NgramFilter([*keys, "a" * 300])  # "a" 300 times: postings
        assert bool(ngram_filter._dense_rows) == (dense_share > 1)
        found[dense_share] = [ngram_filter.candidates(t, c) for t in texts for c in (75, 85)]
    assert found[1] == found[10**9]
    assert any(found[1])
