"""Document frequencies of terms, phrases and NEAR groups, and their idf."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.term_statistics
from bot import text
from bot.query import Alternative
from bot.term_statistics import TermStatistics
from tests.conftest import ArticleWriter
from tests.search_support import index_of_bodies


@pytest.fixture
def statistics(tmp_path: Path, write_article: ArticleWriter) -> TermStatistics:
    bodies = [
        "Open weights for everyone.",  # the phrase
        "The weights are open to researchers.",  # both words, not as the phrase
        "Open source tools.",  # one word only
        "Nothing relevant here.",
    ]
    return index_of_bodies(tmp_path, write_article, bodies)[2]


def terms(phrase: str) -> tuple[str, ...]:
    return tuple(text.analyze(phrase))


def test_single_terms_and_phrases_are_counted_exactly(statistics: TermStatistics) -> None:
    assert statistics.document_frequency(terms("open")) == 3
    assert statistics.document_frequency(terms("weights")) == 2
    assert statistics.document_frequency(terms("open weights")) == 1
    assert statistics.document_frequency(terms("zeppelin")) == 0
    assert statistics.document_frequency(()) == 0


def test_a_phrase_of_common_words_is_estimated_by_its_rarest_word(
    statistics: TermStatistics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.term_statistics, "PHRASE_COUNT_LIMIT", 1)
    # "weights" is in two documents, above the limit: the count is an upper bound.
    assert statistics.document_frequency(terms("open weights")) == 2
    statistics.clear_cache()
    monkeypatch.setattr(bot.term_statistics, "PHRASE_COUNT_LIMIT", 1000)
    assert statistics.document_frequency(terms("open weights")) == 1


def test_a_near_group_counts_documents_holding_its_words_close_together(
    statistics: TermStatistics,
) -> None:
    near = Alternative(terms("weights open"), near=True, near_distance=3)
    phrase = Alternative(terms("weights open"))
    assert statistics.alternative_frequency(near) == 2  # either order, within 3 tokens
    assert statistics.alternative_frequency(phrase) == 0  # never in this order


def test_rarer_words_weigh_more_and_every_weight_is_positive(statistics: TermStatistics) -> None:
    n = statistics.document_count
    weights = [statistics.idf(df) for df in range(n + 1)]
    assert weights == sorted(weights, reverse=True)
    assert len(set(weights)) == len(weights)
    assert weights[-1] > 0  # bm25's idf with +1: a word in every document still counts


def test_postings_add_up_the_documents_of_each_word(statistics: TermStatistics) -> None:
    assert statistics.postings(Alternative(terms("open weights"))) == 3 + 2
    assert statistics.postings(Alternative(terms("zeppelin"))) == 0


def test_remembered_frequencies_stay_within_the_limit_for_near_groups_too(
    statistics: TermStatistics, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.term_statistics, "DF_CACHE_LIMIT", 3)
    for distance in range(1, 30):
        near = Alternative(terms("weights open"), near=True, near_distance=distance)
        assert statistics.alternative_frequency(near) == 2
        assert len(statistics._df_cache) <= 3
