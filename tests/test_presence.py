"""Which candidates hold which words: FTS5 listings and stored terms give the same answer."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.presence
from bot import text
from bot.forward_index import DocumentTerms
from bot.presence import PresencePlanner
from bot.query import Alternative
from tests.conftest import ArticleWriter
from tests.search_support import index_of_bodies

BODIES = [
    "Open weights for everyone.",
    "The weights are open to researchers.",
    "Open source tools, released on March 3.",
    "Nothing relevant here.",
]


@pytest.fixture
def planner(tmp_path: Path, write_article: ArticleWriter) -> PresencePlanner:
    db, lock, statistics = index_of_bodies(tmp_path, write_article, BODIES)
    return PresencePlanner(db, lock, statistics, last_document_id=len(BODIES))


def forward_terms(planner: PresencePlanner) -> dict[int, DocumentTerms]:
    rows = planner._db.execute("SELECT document_id, head, body FROM document_terms").fetchall()
    return {int(i): DocumentTerms(head, body) for i, head, body in rows}


def alternative(phrase: str, **options: object) -> Alternative:
    return Alternative(tuple(text.analyze(phrase)), **options)  # type: ignore[arg-type]


ALTERNATIVES = [
    alternative("open weights"),
    alternative("weights"),
    alternative("weights open", near=True, near_distance=3),
    alternative("source"),
    alternative("zeppelin"),
]
EXPECTED = [{1}, {1, 2}, {1, 2}, {3}, set()]


@pytest.mark.parametrize("posting_cost", [10**9, 0], ids=["in memory", "fts5"])
def test_presence_lists_the_holders_of_each_alternative(
    planner: PresencePlanner, monkeypatch: pytest.MonkeyPatch, posting_cost: int
) -> None:
    monkeypatch.setattr(bot.presence, "PACKED_BYTES_PER_POSTING", posting_cost)
    found = planner.presence(ALTERNATIVES, [1, 2, 3, 4], forward_terms(planner))
    assert [found[a] for a in ALTERNATIVES] == EXPECTED


def test_presence_looks_only_at_the_candidates(planner: PresencePlanner) -> None:
    found = planner.presence(ALTERNATIVES, [2, 3], forward_terms(planner))
    assert [found[a] for a in ALTERNATIVES] == [set(), {2}, {2}, {3}, set()]
    assert planner.presence(ALTERNATIVES, [], {}) == {a: set() for a in ALTERNATIVES}


def test_matching_checks_an_fts5_expression_per_document(planner: PresencePlanner) -> None:
    both = alternative("open").fts() + " AND " + alternative("source").fts()
    assert planner.matching(both, [1, 2, 3, 4]) == {3}
    assert planner.matching(alternative("open").fts(), [2, 4]) == {2}


def test_holding_any_finds_the_phrases_in_stored_terms(planner: PresencePlanner) -> None:
    phrases = [tuple(text.analyze("March 3")), tuple(text.analyze("for everyone"))]
    assert planner.holding_any(phrases, [1, 2, 3, 4]) == {1, 3}
    assert planner.holding_any(phrases, [2, 4]) == set()
