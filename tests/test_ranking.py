"""Ranking candidate stories: a story about a subject before one that mentions it, both
languages of a story as one, the newest about the subject first for "latest"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import text
from bot.presence import PresencePlanner
from bot.query import ROLE_WEIGHTS, UNKNOWN_WORD_WEIGHT, Alternative, Concept
from bot.ranking import StoryRanker, share_in_field
from bot.retrieval import CandidateRetriever
from bot.search import SearchEngine
from bot.term_statistics import TermStatistics
from tests.conftest import ArticleWriter
from tests.search_support import build, open_index


@pytest.fixture
def db_path(tmp_path: Path, write_article: ArticleWriter) -> Path:
    write_article(
        "articles/20250110/zeppelin-launch/en.md",
        title="Zeppelin AI launches its first model",
        description="Zeppelin AI enters the race.",
        body="## Body\n\nThe model is small.\n",
        date="raw:2025-01-10",
    )
    write_article(
        "articles/20250110/zeppelin-launch/ja.md",
        title="Zeppelin AIが最初のモデルを公開",
        description="Zeppelin AIが参入した。",
        body="## 本文\n\n小さなモデルだ。\n",
        date="raw:2025-01-10",
    )
    write_article(
        "articles/20250301/zeppelin-funding/en.md",
        title="Zeppelin AI raises funding",
        description="Zeppelin AI raised money.",
        date="raw:2025-03-01",
    )
    write_article(
        "articles/20250401/chip-market/en.md",
        title="Chip market grows",
        description="Demand for chips rises.",
        body="## Body\n\nBuyers include Zeppelin AI among many others.\n",
        date="raw:2025-04-01",
    )
    return build(tmp_path)


def ranker_for(db_path: Path) -> StoryRanker:
    db, lock = open_index(db_path)
    count = int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    statistics = TermStatistics(db, lock, count)
    retriever = CandidateRetriever(db, lock, statistics, count)
    return StoryRanker(
        db, lock, statistics, retriever, PresencePlanner(db, lock, statistics, count)
    )


def test_a_story_about_the_subject_ranks_above_one_that_mentions_it(db_path: Path) -> None:
    ranked = ranker_for(db_path).rank(SearchEngine(db_path).plan("Zeppelin AI launch"))
    stories = [r.story for r in ranked]
    assert stories[0] == "articles/20250110/zeppelin-launch"
    assert stories[-1] == "articles/20250401/chip-market"
    assert ranked[0].score > ranked[-1].score
    assert len(stories) == len(set(stories))  # both languages of a story are one


def test_latest_puts_the_newest_story_about_the_subject_first(db_path: Path) -> None:
    ranker = ranker_for(db_path)
    engine = SearchEngine(db_path)
    plan = engine.plan("latest Zeppelin AI")
    assert plan.recency
    ranked = ranker.rank(plan)
    assert ranked[0].story == "articles/20250301/zeppelin-funding"
    assert ranked[0].recency == 1.0
    # Mentioning the subject in passing does not make the newest story "the latest".
    chip = next(r for r in ranked if r.story == "articles/20250401/chip-market")
    assert chip.recency is None


def test_nothing_retrieved_ranks_nothing(db_path: Path) -> None:
    assert ranker_for(db_path).rank(SearchEngine(db_path).plan("qwxzv")) == []


def test_rarer_concepts_weigh_more_and_an_unknown_word_less_than_an_unknown_name(
    db_path: Path,
) -> None:
    ranker = ranker_for(db_path)
    launch, zeppelin = (tuple(text.analyze(word)) for word in ("launch", "zeppelin"))
    statistics = ranker._statistics
    assert statistics.document_frequency(launch) == 1
    assert statistics.document_frequency(zeppelin) == 4
    rare = Concept("launch", [Alternative(launch)])
    common = Concept("zeppelin", [Alternative(zeppelin)])
    assert ranker.concept_weight(rare) > ranker.concept_weight(common) > 0
    unseen = statistics.idf(0)
    unknown_word = Concept("qwxzv", [Alternative(("qwxzv",))], role="topic")
    unknown_name = Concept("Qwxzv", [Alternative(("qwxzv",))], role="entity")
    word, name = ranker.concept_weight(unknown_word), ranker.concept_weight(unknown_name)
    assert word == pytest.approx(unseen * UNKNOWN_WORD_WEIGHT)
    assert name == pytest.approx(unseen * ROLE_WEIGHTS["entity"])
    assert word < name


@pytest.mark.parametrize(
    ("phrase", "near", "field", "share"),
    [
        (("gpt", "5.2"), False, " openai releases gpt 5.2 today ", 1.0),
        (("gpt", "5.2", "thinking"), False, " openai releases gpt 5.2 today ", 2 / 3),
        (("gpt", "5.2", "thinking", "mode"), False, " gpt is here ", 0.0),  # under half
        (("claude",), False, " gemini 3 ", 0.0),
        (("5.2", "gpt"), True, " gpt 5.2 ", 1.0),  # a NEAR group: all its words
    ],
)
def test_share_in_field_counts_the_phrase_or_most_of_its_words(
    phrase: tuple[str, ...], near: bool, field: str, share: float
) -> None:
    alternative = Alternative(phrase, near=near)
    needle = " " + " ".join(phrase) + " "
    terms = [f" {t} " for t in phrase]
    assert share_in_field(alternative, needle, terms, field) == pytest.approx(share)
