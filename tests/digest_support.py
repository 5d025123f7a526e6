"""Helpers for the digest tests: a controlled clock, settings over a tmp folder, a small
corpus with dated stories, an in-memory ``Poster``, and a minimal discord.py bot that
starts its background services in ``setup_hook`` as ``NewsBot`` does."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.admin import BackgroundService
from bot.config import Settings, load_settings
from bot.digest import DigestMessage, parse_marker
from bot.discord_app.delivery import DiscordPoster, RequestSpacer
from bot.schedule import DeliveryError, DigestScheduler
from bot.service import NewsService
from bot.state import SqliteStateStore, StateStore
from tests.conftest import frontmatter_text

UTC = dt.UTC


class Clock:
    """A settable "now" (aware, UTC) for ``DigestScheduler(clock=...)``."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


def make_settings(root: Path, **overrides: Any) -> Settings:
    """Default settings with the corpus, index and state under ``root``."""
    settings = load_settings(
        None,
        environ={
            "TECHNYAN_CORPUS_PATH": str(root / "corpus"),
            "TECHNYAN_INDEX_PATH": str(root / "index.db"),
            "TECHNYAN_STATE_PATH": str(root / "state.db"),
        },
    )
    return dataclasses.replace(settings, **overrides)


def write_story(
    corpus: Path,
    date: str,
    slug: str,
    *,
    impact: str | None = None,
    tags: tuple[str, ...] = ("AI",),
    companies: tuple[str, ...] = (),
    locales: tuple[str, ...] = ("ja", "en"),
    title: str | None = None,
    description: str | None = None,
    comment: str | None = "にゃ！",
    collection: str = "articles",
) -> str:
    """Write one story (both locales by default) dated ``date`` (YYYY-MM-DD); returns its
    story id."""
    folder = date.replace("-", "")
    story = f"{collection}/{folder}/{slug}" if collection == "articles" else f"{collection}/{slug}"
    for locale in locales:
        fields: dict[str, object] = {
            "title": title or f"{slug} ({locale})",
            "description": description or f"What happened with {slug}.",
            "date": f"raw:{date}",
            "category": "News",
            "tags": list(tags),
            "locale": locale,
        }
        if impact:
            fields["impactLevel"] = impact
        if companies:
            fields["relatedCompanies"] = list(companies)
        if comment:
            fields["technyanComment"] = comment
        path = corpus / story / f"{locale}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(frontmatter_text(fields) + "\n## Summary\n\nText.\n", encoding="utf-8")
    return story


def local(zone: str, *args: int, fold: int = 0) -> dt.datetime:
    """A wall-clock time in ``zone`` as an aware UTC datetime."""
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(zone), fold=fold).astimezone(UTC)  # type: ignore[misc]


class FakePoster:
    """An in-memory channel world implementing ``Poster``: ``messages[channel]`` is the
    list of ``(id, text)`` (``DigestMessage.text()``, marker included); ``errors[channel]``
    a list of ``DeliveryError`` (or None: that one goes through) for the next sends,
    consumed in order,
    ``read_errors[channel]`` the same for reading the channel back; ``sent``
    every send attempt as ``(channel, text, nonce)``, ``posted`` the messages themselves;
    ``told`` every ``tell_guild`` as ``(guild, user, text)``."""

    def __init__(self) -> None:
        self.messages: dict[int, list[tuple[int, str]]] = {}
        self.errors: dict[int, list[DeliveryError | None]] = {}
        self.read_errors: dict[int, list[DeliveryError]] = {}
        self.sent: list[tuple[int, str, int]] = []
        self.posted: dict[int, list[DigestMessage]] = {}
        self.told: list[tuple[int, int | None, str]] = []
        self._next_id = 1000

    async def send(
        self,
        channel_id: int,
        message: DigestMessage,
        *,
        nonce: int,
        first_part: int | None = None,
        publish: bool = False,
    ) -> int:
        text = message.text()
        self.sent.append((channel_id, text, nonce))
        queued = self.errors.get(channel_id)
        if queued:
            error = queued.pop(0)
            if error is not None:  # None: this send goes through
                raise error
        self._next_id += 1
        self.messages.setdefault(channel_id, []).append((self._next_id, text))
        self.posted.setdefault(channel_id, []).append(message)
        return self._next_id

    async def own_messages(self, channel_id: int, limit: int) -> list[tuple[int, str]]:
        queued = self.read_errors.get(channel_id)
        if queued:
            raise queued.pop(0)
        return list(reversed(self.messages.get(channel_id, [])))[:limit]

    async def tell_guild(self, guild_id: int, user_id: int | None, text: str) -> str | None:
        self.told.append((guild_id, user_id, text))
        return "dm" if user_id else None

    def contents(self, channel_id: int) -> list[str]:
        return [content for _, content in self.messages.get(channel_id, [])]


def make_scheduler(
    settings: Settings,
    service: NewsService,
    clock: Clock,
    *,
    store: StateStore | None = None,
    poster: Any = None,
    **options: Any,
) -> DigestScheduler:
    """A scheduler over ``settings.state_path`` posting through ``poster`` (a
    ``FakePoster`` or, by default, a fast ``DiscordPoster``); no retry waits."""
    factory: Callable[[Any], Any] = (
        (lambda bot: poster) if poster is not None else fast_discord_poster
    )
    options.setdefault("retry_delays", (0.0, 0.0))
    return DigestScheduler(
        settings,
        service,
        store or SqliteStateStore(settings.state_path),
        poster_factory=factory,
        clock=clock,
        **options,
    )


def fast_discord_poster(bot: Any) -> DiscordPoster:
    """The real Discord poster with a short request timeout."""
    return DiscordPoster(bot, send_timeout=10.0, spacer=RequestSpacer(40.0))


class DigestBot(commands.Bot):
    """A plain discord.py bot that, like ``NewsBot``, starts its background services once
    in ``setup_hook`` and stops them in ``close``; no 5-second wait before re-IDENTIFY."""

    def __init__(self, background: list[BackgroundService]) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.background = background
        self.setup_calls = 0

    async def setup_hook(self) -> None:
        self.setup_calls += 1
        for service in self.background:
            await service.start(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def close(self) -> None:
        for service in self.background:
            await service.stop()
        await super().close()


def message_text(message: dict[str, Any]) -> str:
    """A Discord message's content and embed footers: where a digest's marker is."""
    footers = [(embed.get("footer") or {}).get("text") or "" for embed in message["embeds"]]
    return "\n".join([message["content"], *footers])


def digest_posts(messages: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``(date, part, total)`` of every digest message among a channel's messages."""
    found = []
    for message in messages:
        marker = parse_marker(message_text(message))
        if marker is not None:
            found.append((marker.digest_date.isoformat(), marker.part, marker.total))
    return found
