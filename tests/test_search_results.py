"""Result types: a stored row read back, a story shown in the user's language or the
other one, the score of a ranked story asked for the latest, and a story told twice under
one title listed once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.confidence import StoryEvidence
from bot.search import SearchEngine
from bot.search_results import (
    DOCUMENT_COLUMNS,
    Document,
    RankedStory,
    StoryHit,
    document_from_row,
)
from tests.conftest import ArticleWriter
from tests.search_support import build, open_index


def test_a_stored_document_reads_back_with_its_lists(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "aiTimeline/202402-sora/ja.md",
        title="Soraを発表",
        date="raw:2024-02-15",
        tags=["OpenAI", "動画生成"],
        impactLevel="high",
        relatedCompanies=["OpenAI"],
        technyanComment="すごいにゃ",
    )
    db, _lock = open_index(build(tmp_path))
    row = db.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents").fetchone()
    document = document_from_row(row)
    assert document.story == "aiTimeline/202402-sora"
    assert (document.locale, document.title, document.date) == (
        "ja",
        "Soraを発表",
        dt.date(2024, 2, 15),
    )
    assert document.tags == ("OpenAI", "動画生成")
    assert document.related_companies == ("OpenAI",)
    assert (document.impact_level, document.technyan_comment) == ("high", "すごいにゃ")


def document(locale: str) -> Document:
    row = (1, "s", locale, "articles", "s", None, f"title {locale}", "", "2025-01-01", "Other",
           "[]", None, None, "[]", json.dumps([["Site", "https://example.com"]]))  # fmt: skip
    return document_from_row(row)


def test_a_story_is_shown_in_the_users_language_or_else_the_other() -> None:
    both = StoryHit("s", {"en": document("en"), "ja": document("ja")}, 1.0, 1.0)
    assert both.document_for("ja").title == "title ja"
    only_english = StoryHit("s", {"en": document("en")}, 1.0, 1.0)
    assert only_english.document_for("ja").title == "title en"
    assert only_english.document_for("en").sources == (("Site", "https://example.com"),)


def evidence() -> StoryEvidence:
    return StoryEvidence(
        weights=[1.0], roles=["entity"], anywhere=[1.0], title=[1.0], headline=[0.0], strength=1.0
    )


def test_recency_counts_half_of_the_score_when_the_newest_is_asked_for() -> None:
    plain = RankedStory("s", evidence(), "2025-01-01")
    newest = RankedStory("s", evidence(), "2025-01-01", recency=1.0)
    oldest = RankedStory("s", evidence(), "2025-01-01", recency=0.0)
    assert newest.score == pytest.approx(0.5 * plain.score + 0.5)
    assert oldest.score == pytest.approx(0.5 * plain.score)
    hit = newest.hit({"en": document("en")})
    assert hit.score == min(1.0, newest.score)
    assert hit.confidence == newest.confidence and hit.evidence is newest.evidence


def test_a_story_told_twice_under_one_title_is_listed_once(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # The site's timeline retells an article under the same title, the same day.
    for folder in ("articles/20251118/gemini-3-launch", "aiTimeline/202511-gemini3"):
        write_article(
            f"{folder}/en.md",
            title="Google Releases Gemini 3: Top of the Benchmarks",
            date="raw:2025-11-18",
            tags=["Gemini"],
        )
    for day, title in ((17, "Gemini in Chrome"), (16, "A Gemini Update")):
        write_article(
            f"articles/202511{day}/story/en.md",
            title=title,
            description="New Gemini benchmarks.",
            date=f"raw:2025-11-{day}",
            tags=["Gemini"],
        )
    engine = SearchEngine(build(tmp_path))
    latest = [hit.document_for("en").title for hit in engine.latest(3)]
    assert latest == [
        "Google Releases Gemini 3: Top of the Benchmarks",
        "Gemini in Chrome",
        "A Gemini Update",
    ]
    found = engine.about("Gemini").hits
    titles = [hit.document_for("en").title for hit in found]
    assert len(found) == 3 and len(set(titles)) == 3
    assert "Google Releases Gemini 3: Top of the Benchmarks" in titles
    # With room for two, the story after the restated one takes its place.
    two = engine.about("Gemini benchmarks", limit=2).hits
    assert len(two) == 2 and len({hit.document_for("en").title for hit in two}) == 2
