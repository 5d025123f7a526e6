"""NewsService's replies where the period asked for explains why nothing was found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.corpus import discover, parse_article
from bot.service import NewsService, _article_url_pattern
from tests.discord_support import said

REPO = Path(__file__).resolve().parents[1]
# Months after the bundled corpus's newest story, as for a bot whose corpus stopped updating.
LATE = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def service(bundled_index: Path) -> NewsService:
    return NewsService(load_settings(None, environ={}).with_paths(index=bundled_index))


@pytest.fixture(scope="module")
def corpus_dates() -> tuple[dt.date, dt.date]:
    dates = [
        parse_article(path, location, path.relative_to(REPO / "corpus").as_posix()).date
        for path, location in discover(REPO / "corpus")
    ]
    return min(dates), max(dates)


def test_the_date_span_is_the_oldest_and_newest_documents(
    service: NewsService, corpus_dates: tuple[dt.date, dt.date]
) -> None:
    assert service.engine.date_span() == corpus_dates


@pytest.mark.parametrize(
    ("locale", "query", "period"),
    [
        ("en", "OpenAI last month", "2026-10-01 to 2026-10-31"),
        ("ja", "先月のOpenAI", "2026-10-01〜2026-10-31"),
    ],
)
def test_a_period_past_the_newest_story_is_named_with_where_the_stories_end(
    service: NewsService,
    corpus_dates: tuple[dt.date, dt.date],
    locale: str,
    query: str,
    period: str,
) -> None:
    reply = service.about(query, locale, as_of=LATE)
    assert not reply.cards
    assert said(reply.header, "not_found_in_period", locale, query=query, period=period)
    where = reply.header.split("\n")[1]
    assert said(where, "stories_end", locale, newest=corpus_dates[1].isoformat())


def test_a_period_before_the_oldest_story_is_named_with_where_the_stories_begin(
    service: NewsService, corpus_dates: tuple[dt.date, dt.date]
) -> None:
    reply = service.about("OpenAI in January 2019", "en", as_of=LATE)
    assert said(reply.header, "not_found_in_period", "en", period="2019-01-01 to 2019-01-31")
    assert said(
        reply.header.split("\n")[1], "stories_begin", "en", oldest=corpus_dates[0].isoformat()
    )


def test_a_period_within_the_stories_is_not_blamed_for_an_unknown_word(
    service: NewsService, corpus_dates: tuple[dt.date, dt.date]
) -> None:
    inside = corpus_dates[1].strftime("%B %Y")
    reply = service.about(f"xyzzy plugh {inside}", "en", as_of=LATE)
    assert said(reply.header, "not_found", "en")
    assert not said(reply.header, "not_found_in_period", "en")


@pytest.mark.parametrize(
    ("locale", "query", "period"),
    [
        ("en", "anything major going on in March 2023?", "2023-03-01 to 2023-03-31"),
        ("ja", "2023年3月に何か大きなことあった？", "2023-03-01〜2023-03-31"),
    ],
)
def test_a_period_asked_about_alone_is_named_over_its_stories(
    service: NewsService, locale: str, query: str, period: str
) -> None:
    reply = service.about(query, locale, as_of=LATE)
    assert [card.story for card in reply.cards] == ["aiTimeline/202303-gpt4-release"]
    assert said(reply.header, "period_header", locale, period=period)
    named = service.about("GPT-4 March 2023", locale, as_of=LATE)
    assert named.cards and said(named.header, "about_header", locale)


STORY = "articles/20250127/deepseek-r1-market-shock"
LINK = "https://technyanai.com/articles/{locale}/20250127/deepseek-r1-market-shock"


@pytest.mark.parametrize(
    "message",
    [
        LINK.format(locale="en"),
        f"これ読んだ？ <{LINK.format(locale='ja')}/> すごいにゃ",
        f"{LINK.format(locale='en')}?utm_source=discord and more words",
        f"Did you see this ({LINK.format(locale='en')})? Wow.",
        f"読んだ：{LINK.format(locale='ja')}。",
    ],
)
def test_a_pasted_link_to_a_site_article_answers_with_its_story(
    service: NewsService, message: str
) -> None:
    reply = service.about(message, "en")
    assert said(reply.header, "about_linked", "en")
    assert [card.url for card in reply.cards] == [LINK.format(locale="en")]


@pytest.mark.parametrize(
    "message",
    [
        "https://technyanai.com/articles/en/20990101/no-such-story",
        "https://example.com/articles/en/20250127/deepseek-r1-market-shock",
    ],
)
def test_a_link_to_no_story_of_the_site_is_left_to_the_search(
    service: NewsService, message: str
) -> None:
    assert not said(service.about(message, "en").header, "about_linked", "en")


def test_a_template_with_the_story_path_is_read_back_and_one_without_is_not_read() -> None:
    pattern = _article_url_pattern("https://news.example/{locale}/{story}.html")
    assert pattern is not None
    match = pattern.search(f"see https://news.example/ja/{STORY}.html!")
    assert match is not None and match["story"] == STORY
    match = pattern.search(f"https://news.example/en/{STORY}-v5.2.html.")
    assert match is not None and match["story"] == f"{STORY}-v5.2"
    assert _article_url_pattern("https://news.example/{locale}/{slug}") is None


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_an_empty_question_is_asked_for_as_a_question(service: NewsService, locale: str) -> None:
    assert said(service.ask("   ", locale).header, "empty_question", locale)
    assert said(service.about("", locale).header, "empty_query", locale)
