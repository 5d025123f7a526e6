"""The documents of recently shown stories: the same as read from the index, whatever
was shown before; never more stories than the capacity; the least recently shown go
first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.document_cache import StoryDocumentCache
from bot.search import SearchEngine
from bot.search_results import DOCUMENT_COLUMNS, Document, document_from_row
from tests.conftest import ArticleWriter
from tests.search_support import build


def stored(db_path: Path) -> dict[str, dict[str, Document]]:
    """Every document of the index, read without any cache."""
    engine = SearchEngine(db_path)
    rows = engine._db.execute(f"SELECT {DOCUMENT_COLUMNS} FROM documents").fetchall()
    engine.close()
    found: dict[str, dict[str, Document]] = {}
    for row in rows:
        document = document_from_row(row)
        found.setdefault(document.story, {})[document.locale] = document
    return found


@pytest.fixture
def index(tmp_path: Path, write_article: ArticleWriter) -> Path:
    for day in range(1, 8):
        folder = f"articles/202511{day:02d}/story-{day}"
        write_article(f"{folder}/en.md", title=f"Story {day}", date=f"raw:2025-11-{day:02d}")
        write_article(
            f"{folder}/ja.md",
            title=f"記事 {day}",
            date=f"raw:2025-11-{day:02d}",
            tags=["OpenAI", "動画生成"] if day % 2 else [],
            relatedCompanies=["OpenAI"] if day == 3 else [],
        )
    return build(tmp_path)


def test_latest_shows_the_stored_documents_the_first_time_and_every_time_after(
    index: Path,
) -> None:
    truth = stored(index)
    engine = SearchEngine(index)
    for count in (1, 3, 7, 2, 7):
        hits = engine.latest(count)
        assert [hit.story for hit in hits] == sorted(truth, reverse=True)[:count]
        assert {hit.story: hit.documents for hit in hits} == {
            hit.story: truth[hit.story] for hit in hits
        }
    assert engine.latest(7)[2].documents["ja"].tags == ("OpenAI", "動画生成")
    assert engine.latest(7)[1].documents["ja"].tags == ()


def test_a_shown_story_changed_by_its_caller_is_shown_unchanged_next_time(index: Path) -> None:
    engine = SearchEngine(index)
    first = engine.latest(1)[0]
    first.documents.pop("ja")
    assert set(engine.latest(1)[0].documents) == {"en", "ja"}


def test_stories_without_documents_are_left_out(index: Path) -> None:
    engine = SearchEngine(index)
    found = engine.documents_of(["articles/20251101/story-1", "no/such-story"])
    assert list(found) == ["articles/20251101/story-1"]
    assert engine.documents_of([]) == {}


class CountingReader:
    """Documents of made-up stories, counting which stories were read."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def __call__(self, stories: Sequence[str]) -> list[Document]:
        self.read.extend(stories)
        return [make_document(story) for story in stories if not story.startswith("none")]


def make_document(story: str) -> Document:
    sources = json.dumps([["Site", "https://example.com"]])
    row = (1, story, "en", "articles", story, None, f"title {story}", "", "2025-01-01",
           "Other", "[]", None, None, "[]", sources)  # fmt: skip
    return document_from_row(row)


def test_the_cache_never_holds_more_stories_than_its_capacity_and_drops_the_least_recent() -> None:
    reader = CountingReader()
    cache = StoryDocumentCache(capacity=3)
    cache.documents_of(["a", "b", "c"], reader)
    cache.documents_of(["a"], reader)  # a is now the most recently shown
    cache.documents_of(["d"], reader)  # b, the least recently shown, goes
    assert len(cache) == 3
    reader.read.clear()
    found = cache.documents_of(["a", "b", "c", "d"], reader)
    assert reader.read == ["b"]
    assert set(found) == {"a", "b", "c", "d"} and len(cache) == 3
    assert found["b"]["en"].title == "title b"
    cache.documents_of([f"s{n}" for n in range(10)], reader)
    assert len(cache) == 3


def test_a_story_with_no_documents_is_read_again_rather_than_held() -> None:
    reader = CountingReader()
    cache = StoryDocumentCache(capacity=3)
    assert cache.documents_of(["none-1"], reader) == {}
    assert cache.documents_of(["none-1"], reader) == {}
    assert reader.read == ["none-1", "none-1"] and len(cache) == 0


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="capacity must be at least 1, not 0"):
        StoryDocumentCache(capacity=0)
