"""Autocomplete as users type: names by prefix, one title per story in the user's
language first, Japanese words resolved to names, close names, and a bounded list."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import text
from bot.autocomplete import SUGGEST_FUZZY_TEXT, Autocomplete
from bot.query import QueryPlan
from bot.search import SearchEngine
from bot.term_statistics import TermStatistics
from tests.conftest import ArticleWriter
from tests.search_support import build, open_index


@pytest.fixture
def db_path(tmp_path: Path, write_article: ArticleWriter) -> Path:
    for locale, title in (("en", "Anthropic prepares an IPO"), ("ja", "Anthropicが上場準備を開始")):
        write_article(
            f"articles/20251203/anthropic-ipo/{locale}.md",
            title=title,
            tags=["Anthropic", "IPO"],
            date="raw:2025-12-03",
        )
    for locale, title in (("en", "Claude Code comes to the web"), ("ja", "Claude CodeがWebに")):
        write_article(
            f"articles/20260105/claude-code-web/{locale}.md",
            title=title,
            tags=["Anthropic", "Claude", "Claude Code"],
            date="raw:2026-01-05",
        )
    for day in range(1, 31):
        write_article(
            f"articles/202511{day:02d}/coding-{day}/en.md",
            title=f"Coding agents, part {day}",
            tags=["Coding"],
            date=f"raw:2025-11-{day:02d}",
        )
    return build(tmp_path)


@pytest.fixture
def engine(db_path: Path) -> SearchEngine:
    return SearchEngine(db_path)


@pytest.fixture
def autocomplete(db_path: Path, engine: SearchEngine) -> Autocomplete:
    db, lock = open_index(db_path)
    statistics = TermStatistics(db, lock, engine.document_count)
    return Autocomplete(db, lock, "1", engine.vocabulary, statistics)


def suggest(
    autocomplete: Autocomplete,
    engine: SearchEngine,
    typed: str,
    limit: int = 25,
    locale: str = "en",
) -> list[tuple[str, str, str | None]]:
    found = autocomplete.suggest(text.normalize(typed), limit, locale, engine.plan)
    return [(s.name, s.kind, s.story) for s in found]


def test_names_starting_with_the_text_come_first(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    found = suggest(autocomplete, engine, "clau")
    assert found[0][1] == "name" and found[0][0].startswith("Claude")
    assert ("Claude Code comes to the web", "title", "articles/20260105/claude-code-web") in found


def test_one_title_per_story_in_the_users_language(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    english = [
        name for name, kind, _ in suggest(autocomplete, engine, "anthropic") if kind == "title"
    ]
    japanese = [
        name
        for name, kind, _ in suggest(autocomplete, engine, "anthropic", locale="ja")
        if kind == "title"
    ]
    assert "Anthropic prepares an IPO" in english and "Anthropicが上場準備を開始" not in english
    assert "Anthropicが上場準備を開始" in japanese and "Anthropic prepares an IPO" not in japanese


def test_japanese_words_find_titles_and_names(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    found = suggest(autocomplete, engine, "上場", locale="ja")
    assert ("Anthropicが上場準備を開始", "title", "articles/20251203/anthropic-ipo") in found


def test_a_misspelled_name_is_offered_by_resemblance(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    names = [name for name, kind, _ in suggest(autocomplete, engine, "anthrpic") if kind == "name"]
    assert "Anthropic" in names


def test_a_sentence_is_not_matched_against_names_by_resemblance(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    # Past name length, partial_ratio would find some name inside almost any sentence.
    sentence = "is there anything new from anthrpic this week"
    assert len(sentence) > SUGGEST_FUZZY_TEXT
    names = [name for name, kind, _ in suggest(autocomplete, engine, sentence) if kind == "name"]
    assert "Anthropic" not in names


def test_at_most_limit_choices_newest_titles_first(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    found = suggest(autocomplete, engine, "coding agents", limit=5)
    assert len(found) == 5
    titles = [name for name, kind, _ in found if kind == "title"]
    assert titles[0] == "Coding agents, part 30"


def test_text_fts5_cannot_parse_gives_no_titles(autocomplete: Autocomplete) -> None:
    assert autocomplete.titles("title_fts", '("unbalanced', 10, "en") == []


def test_the_fuzzy_pool_is_loaded_once(autocomplete: Autocomplete) -> None:
    pool = autocomplete.suggestion_pool()
    assert autocomplete.suggestion_pool() is pool


def test_japanese_text_is_parsed_only_when_japanese(
    autocomplete: Autocomplete, engine: SearchEngine
) -> None:
    parsed: list[str] = []

    def plan(typed: str) -> QueryPlan:
        parsed.append(typed)
        return engine.plan(typed)

    autocomplete.suggest("claude", 25, "en", plan)
    assert parsed == []
    autocomplete.suggest("上場", 25, "ja", plan)
    assert parsed == ["上場"]


@pytest.fixture
def body_words(tmp_path: Path, write_article: ArticleWriter) -> SearchEngine:
    write_article(
        "articles/20251201/rare/ja.md",
        body="## 概要\n\n上場の準備で nebulatron を発表。\n",
        title="資金の話",
        date="raw:2025-12-01",
    )
    for day in range(2, 5):
        write_article(
            f"articles/202512{day:02d}/common-{day}/ja.md",
            body="## 概要\n\n上場の準備で nebula を発表。\n",
            title=f"別の話 {day}",
            date=f"raw:2025-12-{day:02d}",
        )
    return SearchEngine(build(tmp_path))


def test_a_partly_typed_word_finds_stories_holding_it_anywhere(
    body_words: SearchEngine,
) -> None:
    titles = [s.name for s in body_words.suggest("上場 nebu", locale="ja") if s.kind == "title"]
    assert sorted(titles) == ["別の話 2", "別の話 3", "別の話 4", "資金の話"]


def test_a_partly_typed_word_searched_in_the_whole_text_stands_for_its_commonest_completions(
    body_words: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 上場 is in four documents: past the bound FTS5 is asked, with the completions,
    # however cheap reading the documents would be.
    monkeypatch.setattr("bot.autocomplete.DOCS_PREFIX_CHECK", 3)
    monkeypatch.setattr("bot.autocomplete.POSTINGS_PER_DOCUMENT_READ", 0)
    monkeypatch.setattr("bot.autocomplete.DOCS_PREFIX_COMPLETIONS", 1)
    titles = [s.name for s in body_words.suggest("上場 nebu", locale="ja") if s.kind == "title"]
    assert sorted(titles) == ["別の話 2", "別の話 3", "別の話 4"]
    titles = [s.name for s in body_words.suggest("上場 nebulat", locale="ja") if s.kind == "title"]
    assert "資金の話" in titles  # typed further, the rarer word is among the completions


def test_a_partly_typed_word_after_a_rarer_one_finds_every_completion_in_its_documents(
    body_words: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Within the bound, and with reading a document's terms costed below one posting, the
    # four documents' stored terms are read: the rare completion "nebulatron" counts
    # although only the commonest one would be asked of FTS5.
    monkeypatch.setattr("bot.autocomplete.DOCS_PREFIX_CHECK", 4)
    monkeypatch.setattr("bot.autocomplete.POSTINGS_PER_DOCUMENT_READ", 0)
    monkeypatch.setattr("bot.autocomplete.DOCS_PREFIX_COMPLETIONS", 1)
    found = body_words.suggest("上場 nebu", locale="ja")
    assert sorted(s.name for s in found if s.kind == "title") == [
        "別の話 2", "別の話 3", "別の話 4", "資金の話"
    ]  # fmt: skip
    found = body_words.suggest("上場 nebulatr", locale="ja")
    assert next(s.name for s in found if s.kind == "title") == "資金の話"
    # Three postings of the commonest completion cost less than reading four documents.
    monkeypatch.setattr("bot.autocomplete.POSTINGS_PER_DOCUMENT_READ", 1)
    found = body_words.suggest("上場 nebu", locale="ja")
    titles = sorted(s.name for s in found if s.kind == "title")
    assert titles == ["別の話 2", "別の話 3", "別の話 4"]


def test_common_words_are_left_out_of_the_whole_text_search_when_a_rarer_one_is_there(
    body_words: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 上場 is in all four stories: past the bound it filters nothing and costs the most.
    monkeypatch.setattr("bot.autocomplete.DOCS_COMMON_WORD", 3)
    found = body_words.suggest("上場 nebulatron を", locale="ja")
    assert [s.name for s in found if s.kind == "title"] == ["資金の話"]


def test_common_words_alone_search_only_the_titles(
    body_words: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert [s.name for s in body_words.suggest("上場の準備", locale="ja") if s.kind == "title"]
    monkeypatch.setattr("bot.autocomplete.DOCS_COMMON_WORD", 3)
    assert not [s.name for s in body_words.suggest("上場の準備", locale="ja") if s.kind == "title"]
