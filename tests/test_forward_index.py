"""The stored analyzed columns answer "does this document match" exactly as FTS5 does."""

from __future__ import annotations

import random
import sqlite3

import pytest

from bot.forward_index import DocumentTerms, pack_body, pack_head, split_head, unpack_body

TOKENS = "abcdx"


Indexed = tuple[sqlite3.Connection, dict[int, DocumentTerms]]


def _indexed(rows: list[list[str]]) -> Indexed:
    """``rows`` (title, description, tags and body of each document, rowids from 1) in an
    FTS5 table configured as the index's, and as stored terms."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, description, tags, body, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    stored: dict[int, DocumentTerms] = {}
    for rowid, columns in enumerate(rows, start=1):
        stored[rowid] = DocumentTerms(
            pack_head(*columns[:3]), pack_body(columns[3]) if columns[3] else None
        )
        connection.execute(
            "INSERT INTO t(rowid, title, description, tags, body) VALUES (?, ?, ?, ?, ?)",
            (rowid, *columns),
        )
    return connection, stored


def _near_both_ways(
    documents: Indexed, terms: tuple[str, ...], distance: int
) -> tuple[set[int], set[int]]:
    """The rowids FTS5 matches for ``NEAR(terms, distance)``, and those whose stored terms
    hold the group."""
    connection, stored = documents
    near = "NEAR(" + " ".join(f'"{t}"' for t in terms) + f", {distance})"
    expected = {r for (r,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", [near])}
    found = {rowid for rowid, document in stored.items() if document.holds_near(terms, distance)}
    return expected, found


@pytest.fixture(scope="module")
def documents() -> Indexed:
    """3,000 documents of four short columns of a few tokens."""
    generator = random.Random(3)
    return _indexed(
        [
            [
                " ".join(generator.choice(TOKENS) for _ in range(generator.randint(0, 12)))
                for _ in range(4)
            ]
            for _ in range(3000)
        ]
    )


GROUPS = [("a", "b"), ("a", "b", "c"), ("a", "a"), ("a", "b", "a"), ("c", "d"), ("a",)]


@pytest.mark.parametrize("terms", GROUPS)
def test_a_phrase_matches_the_documents_fts5_matches(
    documents: Indexed, terms: tuple[str, ...]
) -> None:
    connection, stored = documents
    phrase = '"' + " ".join(terms) + '"'
    expected = {r for (r,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", [phrase])}
    assert {rowid for rowid, document in stored.items() if document.holds_phrase(terms)} == (
        expected
    )
    assert expected  # the test holds matches and misses
    assert len(expected) < len(stored)


@pytest.mark.parametrize("terms", [*GROUPS, ("d", "x", "a", "b")])
@pytest.mark.parametrize("distance", [0, 1, 2, 5])
def test_a_near_group_matches_the_documents_fts5_matches(
    documents: Indexed, terms: tuple[str, ...], distance: int
) -> None:
    expected, found = _near_both_ways(documents, terms, distance)
    assert found == expected


@pytest.fixture(scope="module")
def long_documents() -> Indexed:
    """600 documents whose bodies run to 300 tokens, mostly a common one ("x"), so a
    rare term's neighbourhood is a small part of the body."""
    generator = random.Random(5)
    bodies = [
        " ".join(
            generator.choices("abcdx", weights=[2, 2, 1, 1, 30])[0]
            for _ in range(generator.randint(1, 300))
        )
        for _ in range(600)
    ]
    return _indexed([["", "", "", body] for body in bodies])


@pytest.mark.parametrize("terms", [("a", "b"), ("a", "b", "c"), ("x", "d"), ("c", "d", "x")])
@pytest.mark.parametrize("distance", [0, 1, 3, 10])
def test_a_near_group_in_a_long_body_matches_what_fts5_matches(
    long_documents: Indexed, terms: tuple[str, ...], distance: int
) -> None:
    expected, found = _near_both_ways(long_documents, terms, distance)
    assert found == expected
    # Matches and misses both (three distinct terms need one token between at least).
    assert len(expected) < len(long_documents[1])
    assert expected or distance < len(terms) - 2


def test_a_phrase_never_spans_two_columns() -> None:
    document = DocumentTerms(pack_head("openai model", "release", "tag"), pack_body("gpt five"))
    assert document.holds_phrase(("openai", "model"))
    assert not document.holds_phrase(("model", "release"))
    assert not document.holds_phrase(("tag", "gpt"))
    assert document.holds_phrase(("gpt", "five"))
    assert not document.holds_phrase(())


def test_the_stored_columns_round_trip() -> None:
    assert split_head(pack_head("規制 発表", "", "ai tag")) == ("規制 発表", "", "ai tag")
    assert unpack_body(pack_body("生成 ai モデル")) == "生成 ai モデル"
    document = DocumentTerms(pack_head("title words", "desc", "tags"), None)
    assert document.title == " title words " and document.headline == " desc tags "
    assert document.body() == ""


WORDS = ["ma", "max", "make", "amax", "xm", "mb", "上場", "上", "場上", "nebula"]


@pytest.mark.parametrize("prefix", ["m", "ma", "max", "make", "a", "上", "上場", "neb", "q"])
def test_a_prefix_matches_the_documents_fts5_matches(prefix: str) -> None:
    generator = random.Random(11)
    connection, stored = _indexed(
        [
            [
                " ".join(generator.choice(WORDS) for _ in range(generator.randint(0, 5)))
                for _ in range(4)
            ]
            for _ in range(800)
        ]
    )
    query = f'"{prefix}"*'
    expected = {r for (r,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", [query])}
    assert {rowid for rowid, document in stored.items() if document.holds_prefix(prefix)} == (
        expected
    )
    if prefix != "q":
        assert 0 < len(expected) < len(stored)  # the test holds matches and misses
