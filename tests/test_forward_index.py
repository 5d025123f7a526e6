"""The stored analyzed columns answer "does this document match" exactly as FTS5 does."""

from __future__ import annotations

import random
import sqlite3

import pytest

from bot.forward_index import DocumentTerms, pack_body, pack_head, split_head, unpack_body

TOKENS = "abcdx"


@pytest.fixture(scope="module")
def documents() -> tuple[sqlite3.Connection, dict[int, DocumentTerms]]:
    """3,000 documents of four short columns of a few tokens, in FTS5 (configured as the
    index's) and as stored terms."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, description, tags, body, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    generator = random.Random(3)
    stored: dict[int, DocumentTerms] = {}
    for rowid in range(1, 3001):
        columns = [
            " ".join(generator.choice(TOKENS) for _ in range(generator.randint(0, 12)))
            for _ in range(4)
        ]
        stored[rowid] = DocumentTerms(
            pack_head(*columns[:3]), pack_body(columns[3]) if columns[3] else None
        )
        connection.execute(
            "INSERT INTO t(rowid, title, description, tags, body) VALUES (?, ?, ?, ?, ?)",
            (rowid, *columns),
        )
    return connection, stored


GROUPS = [("a", "b"), ("a", "b", "c"), ("a", "a"), ("a", "b", "a"), ("c", "d"), ("a",)]


@pytest.mark.parametrize("terms", GROUPS)
def test_a_phrase_matches_the_documents_fts5_matches(
    documents: tuple[sqlite3.Connection, dict[int, DocumentTerms]], terms: tuple[str, ...]
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
    documents: tuple[sqlite3.Connection, dict[int, DocumentTerms]],
    terms: tuple[str, ...],
    distance: int,
) -> None:
    connection, stored = documents
    near = "NEAR(" + " ".join(f'"{t}"' for t in terms) + f", {distance})"
    expected = {r for (r,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", [near])}
    found = {rowid for rowid, document in stored.items() if document.holds_near(terms, distance)}
    assert found == expected


@pytest.fixture(scope="module")
def long_documents() -> tuple[sqlite3.Connection, dict[int, DocumentTerms]]:
    """600 documents whose bodies run to 300 tokens, mostly a common one ("x"), so a
    rare term's neighbourhood is a small part of the body."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(title, description, tags, body, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    generator = random.Random(5)
    stored: dict[int, DocumentTerms] = {}
    for rowid in range(1, 601):
        body = " ".join(
            generator.choices("abcdx", weights=[2, 2, 1, 1, 30])[0]
            for _ in range(generator.randint(1, 300))
        )
        stored[rowid] = DocumentTerms(pack_head("", "", ""), pack_body(body))
        connection.execute("INSERT INTO t(rowid, body) VALUES (?, ?)", (rowid, body))
    return connection, stored


@pytest.mark.parametrize("terms", [("a", "b"), ("a", "b", "c"), ("x", "d"), ("c", "d", "x")])
@pytest.mark.parametrize("distance", [0, 1, 3, 10])
def test_a_near_group_in_a_long_body_matches_what_fts5_matches(
    long_documents: tuple[sqlite3.Connection, dict[int, DocumentTerms]],
    terms: tuple[str, ...],
    distance: int,
) -> None:
    connection, stored = long_documents
    near = "NEAR(" + " ".join(f'"{t}"' for t in terms) + f", {distance})"
    expected = {r for (r,) in connection.execute("SELECT rowid FROM t WHERE t MATCH ?", [near])}
    found = {rowid for rowid, document in stored.items() if document.holds_near(terms, distance)}
    assert found == expected
    # Matches and misses both (three distinct terms need one token between at least).
    assert len(expected) < len(stored)
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
