"""Which stories a digest carries (window, ranking, filters), and the messages that post
it: one per five stories, within Discord's limits, with its marker and its one mention."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from bot.digest import (
    CANDIDATE_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    MAX_WINDOW_DAYS,
    MESSAGE_LIMIT,
    POST_TITLE_LIMIT,
    Digest,
    DigestMarker,
    DigestMessage,
    SelectionCache,
    StoryFilter,
    as_test_post,
    compose_digest,
    digest_dates,
    discord_length,
    parse_marker,
    render_digest_messages,
    shorten,
)
from bot.replies import StoryCard
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


def within_discords_limits(message: DigestMessage) -> bool:
    """Discord's limits for one message with one embed
    (docs/resources/message#embed-object-embed-limits)."""
    embed_total = sum(map(discord_length, (message.title, message.description, message.footer)))
    return (
        discord_length(message.content) <= MESSAGE_LIMIT
        and discord_length(message.title) <= EMBED_TITLE_LIMIT
        and discord_length(message.description) <= EMBED_DESCRIPTION_LIMIT
        and embed_total <= EMBED_TOTAL_LIMIT
        and 1 <= discord_length(message.post_title) <= POST_TITLE_LIMIT
    )


def test_empty_day_posts_a_line_only_when_asked(service: NewsService) -> None:
    end = local(TOKYO, 2025, 12, 25, 9, 0)
    quiet = compose(service, window_start=end - dt.timedelta(hours=24), window_end=end)
    assert quiet.empty and render_digest_messages(quiet) == []
    chatty = compose(
        service, window_start=end - dt.timedelta(hours=24), window_end=end, post_empty=True
    )
    [message] = render_digest_messages(chatty, role_id=77)
    assert message.content == chatty.opening and "12月25日" in chatty.opening
    assert message.mention_role_id is None  # a quiet day pings nobody
    assert message.description == "" and "2025年12月25日" in message.title
    assert parse_marker(message.footer) == DigestMarker(dt.date(2025, 12, 25), 1, 1)


def test_rendered_story_has_link_summary_and_comment(service: NewsService) -> None:
    digest = compose(service, max_items=1)
    [message] = render_digest_messages(digest)
    card = digest.cards[0]
    assert message.content == digest.opening
    assert message.title == "🐾 2025年11月18日のAIニュースまとめ"
    assert message.post_title == message.title  # a forum post is titled with the day
    lines = message.description.splitlines()
    assert lines[0] == f"**1. [{card.title}]({card.url})**"
    assert lines[1] == card.description and lines[2] == f"🐾 「{card.technyan_comment}」"
    assert lines[-1] == digest.closing
    assert message.timestamp == digest.window_end  # each reader sees their own zone
    assert parse_marker(message.text()) == DigestMarker(dt.date(2025, 11, 18), 1, 1)
    english = render_digest_messages(compose(service, max_items=1, locale="en"))[0]
    assert english.title == "🐾 AI news digest · November 18, 2025"
    assert f"🐾 “{card.technyan_comment}”" in english.description


def test_the_role_alone_is_mentioned_in_the_first_message(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for index in range(7):
        write_story(corpus, "2025-11-18", f"story-{index}", title=f"@everyone <@&5> {index}")
    digest = compose(NewsService(make_settings(tmp_path)))
    first, second = render_digest_messages(digest, role_id=4242)
    assert first.content == f"<@&4242> {digest.opening}" and first.mention_role_id == 4242
    assert second.content == "" and second.mention_role_id is None
    assert (first.part, first.total, second.part) == (1, 2, 2)
    assert first.title.endswith("(1/2)") and second.title.endswith("(2/2)")
    assert "<@&5>" not in first.content  # corpus text stays in the embed, where nothing pings


def test_a_test_post_is_never_taken_for_a_digest(service: NewsService) -> None:
    digest = compose(service, max_items=5)
    [real] = render_digest_messages(digest, role_id=4242)
    [test] = as_test_post([real], "🧪 test, nya")
    assert parse_marker(real.text()) is not None and parse_marker(test.text()) is None
    assert test.content == f"🧪 test, nya\n{digest.opening}" and test.mention_role_id is None
    assert (test.title, test.description) == (real.title, real.description)


def test_five_of_the_longest_real_stories_fit_one_message_in_either_language(
    real_corpus: Path, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path).with_paths(corpus=real_corpus, index=tmp_path / "real.db")
    service = NewsService(settings)
    hits = service.engine.latest(CANDIDATE_LIMIT)
    for locale in ("ja", "en"):
        cards = [service.card(hit, locale) for hit in hits]

        def size(card: StoryCard) -> int:
            fields = (card.title, card.description, card.technyan_comment or "", card.url)
            return sum(map(len, fields))

        longest = tuple(sorted(cards, key=size, reverse=True)[:5])
        digest = dataclasses.replace(compose(service, locale=locale), cards=longest)
        [message] = render_digest_messages(digest, role_id=1 << 60)
        assert within_discords_limits(message), locale
        for position, card in enumerate(longest, start=1):
            assert f"**{position}. [" in message.description and card.url in message.description


def test_huge_stories_are_cut_to_fit_five_to_a_message(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    for index in range(10):
        write_story(
            corpus,
            "2025-11-18",
            f"huge-{index}",
            title="🚀" * 400 + f" {index} @everyone",  # ten titles: none restates another
            description="長い説明。" * 500,
            comment="にゃ" * 1000 + " <@123>",
        )
    service = NewsService(make_settings(tmp_path))
    digest = compose(service)
    messages = render_digest_messages(digest)
    assert len(messages) == 2  # ten stories, five to a message
    assert all(within_discords_limits(m) for m in messages)
    markers = [parse_marker(m.footer) for m in messages]
    assert [(m.part, m.total) for m in markers if m] == [(1, 2), (2, 2)]
    # Every story appears once, with its number and its link.
    joined = "\n".join(m.description for m in messages)
    assert [joined.count(f"**{n}. [") for n in range(1, 11)] == [1] * 10
    assert all(card.url in joined for card in digest.cards)


def test_an_article_retold_under_its_title_is_posted_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    title = "Google Releases Gemini 3"
    article = write_story(corpus, "2025-11-18", "gemini-3", title=title)
    write_story(corpus, "2025-11-18", "gemini-3-again", title=title)
    # The timeline retells it a day later, under the same title: never in a digest.
    write_story(corpus, "2025-11-19", "202511-gemini3", title=title, collection="aiTimeline")
    write_story(corpus, "2025-11-18", "other", title="Another story")
    service = NewsService(make_settings(tmp_path))
    digest = compose(service)
    stories = [card.story for card in digest.cards]
    assert article in stories or "articles/20251118/gemini-3-again" in stories
    assert len(stories) == 2 and "articles/20251118/other" in stories
    assert [hit.story for hit in service.engine.latest(1)] == ["aiTimeline/202511-gemini3"]


def test_markdown_in_titles_is_escaped(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_story(corpus, "2025-11-18", "markdown", title="A [link](x) **bold** _it_")
    digest = compose(NewsService(make_settings(tmp_path)))
    [message] = render_digest_messages(digest)
    assert r"A \[link\](x) \*\*bold\*\* \_it\_" in message.description


def test_filters_keep_categories_and_keywords(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_story(corpus, "2025-11-18", "claude-news", title="Claude gets memory",
                tags=("Claude", "Anthropic"))  # fmt: skip
    write_story(corpus, "2025-11-18", "openai-news", title="OpenAI ships a model",
                tags=("OpenAI",), companies=("OpenAI",))  # fmt: skip
    write_story(corpus, "2025-11-18", "regulation", title="EU rules", description="AI規制の話。",
                tags=("EU",))  # fmt: skip
    write_story(corpus, "2025-11-18", "rumor", title="A rumor about Claude", tags=("Claude",))
    service = NewsService(make_settings(tmp_path))

    def slugs(story_filter: StoryFilter) -> set[str]:
        return {s.rsplit("/", 1)[1] for s in compose(service, story_filter=story_filter).stories}

    everything = {"claude-news", "openai-news", "regulation", "rumor"}
    assert slugs(StoryFilter()) == everything
    assert slugs(StoryFilter(include=("claude",))) == {"claude-news", "rumor"}
    assert slugs(StoryFilter(include=("Claude",), exclude=("RUMOR",))) == {"claude-news"}
    assert slugs(StoryFilter(include=("ＡＮＴＨＲＯＰＩＣ",))) == {"claude-news"}  # width, case
    assert slugs(StoryFilter(include=("規制",))) == {"regulation"}  # Japanese as written
    assert slugs(StoryFilter(include=("AI",))) == {"regulation"}  # a word, not inside OpenAI
    assert slugs(StoryFilter(categories=("news",))) == everything
    assert slugs(StoryFilter(categories=("Research",))) == set()
    cache = SelectionCache()
    compose(service, cache=cache, story_filter=StoryFilter(include=("claude",)))
    compose(service, cache=cache, story_filter=StoryFilter(include=("openai",)))
    assert cache.misses == 2  # the filter is part of the key


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
