"""/news trend on Discord: a real discord.py client (NewsBot) against the fake Discord,
on the real site's corpus. The user sees "thinking…" first, then technyan's line with
one PNG attachment carrying its alt text, or the line alone when there is nothing to
chart."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.discord_app.client import NewsBot
from bot.persona import Persona
from bot.service import NewsService
from bot.trend import TrendService
from tests.fakes import FakeDiscord, FakeInteraction

PERSONA = Persona.load()
JSON = dict[str, Any]


class FastNewsBot(NewsBot):
    """NewsBot without discord.py's 5-second sleep before a re-IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@asynccontextmanager
async def running(
    real_corpus: Path, real_index: Path
) -> AsyncIterator[tuple[FakeDiscord, NewsBot]]:
    settings = load_settings(None, environ={}).with_paths(corpus=real_corpus, index=real_index)
    async with FakeDiscord(guilds=0) as fake:
        fake.add_guild("ねこ部", preferred_locale="ja")
        bot = FastNewsBot(settings, NewsService(settings), guild_ready_timeout=0.05)
        async with fake.run_bot(bot):
            yield fake, bot


@pytest.fixture
async def world(real_corpus: Path, real_index: Path) -> AsyncIterator[tuple[FakeDiscord, NewsBot]]:
    async with running(real_corpus, real_index) as both:
        yield both


@pytest.fixture
def fake(world: tuple[FakeDiscord, NewsBot]) -> FakeDiscord:
    return world[0]


async def answered(it: FakeInteraction) -> FakeInteraction:
    """Wait (generously: the first chart loads matplotlib) until the answer replaced
    "thinking…"."""
    return await it.wait_until(lambda i: bool(i.content) and not i.loading, timeout=60.0)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def uploads(fake: FakeDiscord) -> list[tuple[Any, list[Any]]]:
    """(JSON body, files) of every request that uploaded a file."""
    return [(r.json, r.files) for r in fake.requests if r.files]


async def test_a_trend_is_deferred_then_answered_with_one_described_png(
    fake: FakeDiscord, real_corpus: Path, real_index: Path
) -> None:
    it = await fake.slash("news trend", {"topic": "Claude, Gemini"}, locale="ja")
    await answered(it)
    assert it.response_type == 5  # deferred ("thinking…") before any work
    assert not it.ephemeral and it.followups == []
    settings = load_settings(None, environ={}).with_paths(corpus=real_corpus, index=real_index)
    expected = TrendService(NewsService(settings)).trend("Claude, Gemini", None, "ja")
    assert expected.trend is not None
    assert it.content == expected.text
    [attachment] = it.original["attachments"] if it.original else []
    assert attachment["filename"] == "trend-claude-gemini.png"
    assert attachment["description"] == expected.trend.alt_text
    assert 0 < len(attachment["description"]) <= 1024
    assert attachment["size"] <= 500 * 1024
    [(body, files)] = uploads(fake)
    assert len(files) == 1 and png_size(files[0].data) == (1200, 600)
    assert body["attachments"][0]["description"] == expected.trend.alt_text
    assert [r for r in fake.requests if r.status >= 400] == []


async def test_a_topic_without_stories_gets_words_and_no_image(fake: FakeDiscord) -> None:
    it = await fake.slash("news trend", {"topic": "Zyxqwv"}, locale="en-US")
    await answered(it)
    assert it.response_type == 5
    assert any(
        it.content and it.content.startswith(v.split("{")[0])
        for v in PERSONA.variants("trend_not_found", "en")
    )
    assert it.original is not None and it.original["attachments"] == []
    assert uploads(fake) == []


async def test_a_period_choice_counts_per_week(fake: FakeDiscord) -> None:
    it = await fake.slash("news trend", {"topic": "Gemini", "period": "1m"}, locale="en-US")
    await answered(it)
    assert it.content and "week of" in it.content
    assert it.original is not None and len(it.original["attachments"]) == 1
    assert "per week" in it.original["attachments"][0]["description"]


async def test_topic_autocomplete_completes_the_last_topic(fake: FakeDiscord) -> None:
    it = await fake.autocomplete(
        "news trend", {"topic": "DeepSeek, Gem"}, focused="topic", locale="ja"
    )
    await it.wait_until(lambda i: i.choices is not None)
    values = [c["value"] for c in it.choices or []]
    assert "DeepSeek, Gemini" in values
    assert all(v.startswith("DeepSeek, ") and len(v) <= 100 for v in values)


async def test_the_synced_trend_command_is_localized(world: tuple[FakeDiscord, NewsBot]) -> None:
    fake, bot = world
    await bot.tree.sync()
    news = next(c for c in fake.global_commands if c["name"] == "news")
    trend = next(o for o in news["options"] if o["name"] == "trend")
    assert trend["name_localizations"] == {"ja": "トレンド"}
    options = {o["name"]: o for o in trend["options"]}
    assert options["topic"]["autocomplete"] is True and options["topic"]["required"] is True
    assert [c["value"] for c in options["period"]["choices"]] == ["all", "1y", "6m", "3m", "1m"]
    assert options["period"]["choices"][0]["name_localizations"] == {"ja": "全期間"}
