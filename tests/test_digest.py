"""Which stories a digest carries, in what order, and how it is cut into messages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.digest import (
    MAX_WINDOW_DAYS,
    MESSAGE_LIMIT,
    Digest,
    SelectionCache,
    compose_digest,
    digest_dates,
    discord_length,
    parse_marker,
    render_digest_messages,
    shorten,
)
from bot.service import NewsService
from tests.digest_support import local, make_settings, write_story

TOKYO = "Asia/Tokyo"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> NewsService:
    root = tmp_path_factory.mktemp("digest")
    corpus = root / "corpus"
    write_story(corpus, "2025-11-16", "too-old", impact="critical")
    write_story(corpus, "2025-11-17", "yesterday-low", impact="low", tags=("A", "B", "C"))
    write_story(corpus, "2025-11-17", "yesterday-high", impact="high")
    write_story(corpus, "2025-11-18", "today-high-broad", impact="high", tags=("A", "B"),
                companies=("OpenAI",))  # fmt: skip
    write_story(corpus, "2025-11-18", "today-high-narrow", impact="high")
    write_story(corpus, "2025-11-18", "today-plain")
    write_story(corpus, "2025-11-18", "english-only", locales=("en",))
    write_story(corpus, "2025-11-18", "history", impact="critical", collection="aiTimeline")
    write_story(corpus, "2025-11-19", "tomorrow", impact="critical")
    return NewsService(make_settings(root))


def compose(service: NewsService, **overrides: object) -> Digest:
    end = local(TOKYO, 2025, 11, 18, 9, 0)
    arguments: dict[str, object] = {
        "channel_id": 42,
        "locale": "ja",
        "timezone": TOKYO,
        "max_items": 10,
        "post_empty": False,
        "window_start": end - dt.timedelta(hours=24),
        "window_end": end,
    }
    arguments.update(overrides)
    return compose_digest(service, **arguments)  # type: ignore[arg-type]


def test_first_digest_covers_the_day_before_and_the_day_ranked_by_importance(
    service: NewsService,
) -> None:
    digest = compose(service)
    assert digest.digest_date == dt.date(2025, 11, 18)
    assert (digest.since, digest.until) == (dt.date(2025, 11, 17), dt.date(2025, 11, 18))
    assert [story.rsplit("/", 1)[1] for story in digest.stories] == [
        "today-high-broad",  # high, newest, 3 tags + companies
        "today-high-narrow",  # high, newest, 1 tag
        "yesterday-high",  # high, a day older
        "english-only",  # no impactLevel counts as medium; newest; "AI" tag
        "today-plain",
        "yesterday-low",  # low, whatever its tags
    ]
    # Timeline entries, older and future stories are not in the window.
    assert not any("history" in s or "too-old" in s or "tomorrow" in s for s in digest.stories)


def test_max_items_exclusions_and_locale(service: NewsService) -> None:
    digest = compose(service, max_items=2, locale="en")
    assert len(digest.cards) == 2 and all(card.locale == "en" for card in digest.cards)
    excluded = compose(service, exclude={digest.stories[0]}, max_items=2)
    assert excluded.stories[0] == digest.stories[1]
    only = next(card for card in compose(service).cards if card.story.endswith("english-only"))
    assert only.locale == "en" and only.requested_locale == "ja" and only.note


def test_window_dates_follow_the_zone_and_are_capped() -> None:
    end = local("America/New_York", 2025, 3, 9, 9, 0)
    assert digest_dates(end - dt.timedelta(hours=24), end, __import__("zoneinfo").ZoneInfo(
        "America/New_York")) == (dt.date(2025, 3, 8), dt.date(2025, 3, 9))  # fmt: skip
    zone = __import__("zoneinfo").ZoneInfo(TOKYO)
    since, until = digest_dates(end - dt.timedelta(days=40), end, zone)
    assert until - since == dt.timedelta(days=MAX_WINDOW_DAYS)


def test_persona_lines_are_deterministic_per_channel_and_date(service: NewsService) -> None:
    first, again = compose(service), compose(service)
    assert (first.opening, first.closing) == (again.opening, again.closing)
    assert "11月18日" in first.opening
    openings = {compose(service, channel_id=c).opening for c in range(40)}
    assert len(openings) > 1  # channels get different variants, each stable


def test_empty_day_posts_a_line_only_when_asked(service: NewsService) -> None:
    end = local(TOKYO, 2025, 12, 25, 9, 0)
    quiet = compose(service, window_start=end - dt.timedelta(hours=24), window_end=end)
    assert quiet.empty and render_digest_messages(quiet) == []
    chatty = compose(
        service, window_start=end - dt.timedelta(hours=24), window_end=end, post_empty=True
    )
    [message] = render_digest_messages(chatty)
    assert message.startswith(chatty.opening) and "12月25日" in chatty.opening
    assert parse_marker(message) is not None


def test_rendered_story_has_link_summary_and_comment(service: NewsService) -> None:
    digest = compose(service, max_items=1)
    [message] = render_digest_messages(digest)
    card = digest.cards[0]
    assert message.splitlines()[0] == digest.opening
    assert f"**1. [{card.title}]({card.url})**" in message
    assert card.description in message and f"🐾 「{card.technyan_comment}」" in message
    assert digest.closing in message
    marker = parse_marker(message.splitlines()[-1])
    assert marker is not None and (marker.digest_date, marker.part, marker.total) == (
        dt.date(2025, 11, 18),
        1,
        1,
    )


def test_huge_stories_are_split_within_discords_limit(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for index in range(10):
        write_story(
            corpus,
            "2025-11-18",
            f"huge-{index}",
            title="🚀" * 400 + " @everyone",
            description="長い説明。" * 500,
            comment="にゃ" * 1000 + " <@123>",
        )
    service = NewsService(make_settings(tmp_path))
    digest = compose(service)
    messages = render_digest_messages(digest)
    assert len(messages) > 1
    assert all(discord_length(m) <= MESSAGE_LIMIT for m in messages)
    markers = [parse_marker(m) for m in messages]
    assert [(m.part, m.total) for m in markers if m] == [
        (i, len(messages)) for i in range(1, len(messages) + 1)
    ]
    # Every story appears once, whole, with its number.
    joined = "\n".join(messages)
    assert [joined.count(f"**{n}. [") for n in range(1, 11)] == [1] * 10


def test_markdown_in_titles_is_escaped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_story(corpus, "2025-11-18", "markdown", title="A [link](x) **bold** _it_")
    digest = compose(NewsService(make_settings(tmp_path)))
    [message] = render_digest_messages(digest)
    assert r"A \[link\](x) \*\*bold\*\* \_it\_" in message


def test_selection_cache_selects_once_per_window(service: NewsService) -> None:
    cache = SelectionCache()
    digests = [compose(service, channel_id=c, cache=cache) for c in range(30)]
    assert cache.misses == 1
    assert len({d.stories for d in digests}) == 1
    compose(service, channel_id=1, cache=cache, locale="en")
    assert cache.misses == 2


def test_shorten_counts_utf16_and_prefers_boundaries() -> None:
    assert shorten("short", 10) == "short"
    assert discord_length(shorten("🐾" * 50, 11)) <= 11
    text = "A sentence that is long enough. Then more words follow here"
    assert shorten(text, 40) == "A sentence that is long enough."
    assert shorten("word " * 20, 22).endswith("…")
