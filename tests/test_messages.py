"""Messages as people type them in Discord, on the real corpus: chatter, markup, names in
hiragana, nicknames, periods, long messages, versions the corpus lacks, and questions
answered by the kind of thing they ask for. The messages are written for these tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.answer import answer_question
from bot.config import load_settings
from bot.search import SearchEngine
from bot.service import NewsService

AS_OF = dt.date(2026, 2, 15)


@pytest.fixture(scope="module")
def engine(real_index: Path) -> SearchEngine:
    return SearchEngine(real_index)


@pytest.mark.parametrize(
    ("message", "story"),
    [
        # pasted mentions, markdown, emoji and links around a name
        (
            "<@90210> **Saimemory** って何する会社？🧐 https://example.com",
            "softbank-fujitsu-ai-memory-saimemory",
        ),
        # chatter around the topic
        ("so is cursor's visual editor thing actually usable lol", "cursor-visual-editor"),
        ("any updates on the AWS MCP server?", "aws-mcp-server-preview"),
        ("ねえねえ、ちゃっぴーに健康相談できる機能ついたってほんと？", "chatgpt-health-launch"),
        # a nickname, names in hiragana
        ("GDM weathernext", "deepmind-weathernext-2-ai-model"),
        ("じーめーるのじぇみに新機能", "gmail-gemini-ai-upgrade"),
        # a period and a version
        ("OpenAI's reasoning model from Q4 2024", "202412-openai-o3"),
        ("gpt-4o", "202405-gpt4o"),
        # long messages with their topic in the middle
        (
            "昨日の飲み会で同僚がずっと話してたんだけど、AnthropicのCEOがAIバブルについて何か"
            "言ってたらしい。普段あんまりニュース追ってないからよく分からなくて。どんな発言だったか"
            "分かる記事ある？",
            "anthropic-dario-amodei-ai-bubble",
        ),
        (
            "Not sure if this is the right channel. Our ops team keeps asking whether the "
            "Saimemory memory chip joint venture between SoftBank and Fujitsu is real or just a "
            "rumor. Anyone have the article?",
            "softbank-fujitsu-ai-memory-saimemory",
        ),
    ],
)
def test_messages_find_their_story(engine: SearchEngine, message: str, story: str) -> None:
    hits = engine.about(message, as_of=AS_OF).hits
    assert hits and hits[0].story.endswith(story), [h.story for h in hits[:3]]


@pytest.mark.parametrize(
    "message",
    [
        "what's a good ramen place in Shibuya?",
        "渋谷でおすすめのラーメン屋ある？",
        "Gemini 9 benchmarks",  # a version nobody has written about
        "deepseek v3.5 benchmarks",  # V3 is written about, V3.5 is not
        # a company the corpus never names, beside one it does
        "anyone tried zorblat ai for short clips? heard it beats runway",
    ],
)
def test_messages_about_nothing_in_the_corpus_find_nothing(
    engine: SearchEngine, message: str
) -> None:
    assert engine.about(message, as_of=AS_OF).hits == []


def test_a_version_the_corpus_lacks_is_said_and_its_neighbours_offered_as_weak(
    real_index: Path,
) -> None:
    service = NewsService(load_settings(None, environ={}).with_paths(index=real_index))
    reply = service.about("Sora 4 release", "en")
    assert not reply.found and reply.weak
    assert "Sora 4" in reply.header
    assert all("sora" in (c.title + " ".join(c.tags)).casefold() for c in reply.cards[:2])
    japanese = service.about("Sora 4っていつ出る？", "ja")
    assert "Sora 4" in japanese.header and japanese.weak


@pytest.mark.parametrize(
    ("question", "locale", "story", "fact"),
    [
        ("When did OpenAI unveil Sora?", "en", "202402-sora", "2024"),
        (
            "Saimemoryは何年度までに量産体制を作る？",
            "ja",
            "softbank-fujitsu-ai-memory-saimemory",
            "20",
        ),
    ],
)
def test_questions_are_answered_with_what_they_ask_for(
    engine: SearchEngine, question: str, locale: str, story: str, fact: str
) -> None:
    answer = answer_question(engine, question, locale, as_of=AS_OF)
    assert answer is not None and answer.hit.story.endswith(story)
    assert fact in answer.text and answer.locale == locale


@pytest.mark.parametrize(
    "question",
    [
        "What is the capital of France?",
        "フランスの首都はどこ？",
        "How tall is Mount Fuji?",
        "When will Gemini 9 come out?",  # nothing is known about that version
    ],
)
def test_general_knowledge_and_unknown_versions_get_no_answer(
    engine: SearchEngine, question: str
) -> None:
    assert answer_question(engine, question, "en", as_of=AS_OF) is None


def test_a_name_mentioned_only_in_passing_is_a_weak_match(engine: SearchEngine) -> None:
    # No story is about these; some mention them once among other things.
    for query in ("Mistral", "quantum computing", "C++"):
        outcome = engine.about(query, as_of=AS_OF)
        assert outcome.hits == [] and outcome.weak, query


def test_a_person_quoted_in_stories_about_other_things_is_found(engine: SearchEngine) -> None:
    stories = [hit.story for hit in engine.about("Fidji Simo", as_of=AS_OF).hits]
    assert "articles/20260117/chatgpt-ads-testing" in stories
