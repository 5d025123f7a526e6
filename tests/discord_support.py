"""What the Discord tests share: a real ``NewsBot`` running against the fake Discord with
the corpus of ``tests/discord_corpus.py``, and helpers that read what a user saw."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bot.admin import DigestPreview
from bot.config import Settings, load_settings
from bot.discord_app.client import NewsBot
from bot.discord_app.embeds import (
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    MESSAGE_CONTENT_LIMIT,
)
from bot.index import build_index
from bot.persona import Persona
from bot.replies import Reply
from bot.service import NewsService
from tests.discord_corpus import write_corpus
from tests.fakes import (
    DEADLINE_SECONDS,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeUser,
)

JSON = dict[str, Any]
PERSONA = Persona.load()
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
EPHEMERAL = 1 << 6


def lines(key: str, locale: str) -> tuple[str, ...]:
    """Every variant of a persona line (placeholders unfilled)."""
    return PERSONA.variants(key, locale)


def said(text: str | None, key: str, locale: str, **values: str) -> bool:
    """Whether ``text`` starts with one of the persona's ``key`` lines (filled with
    ``values``; placeholders not given may be anything)."""
    if text is None:
        return False
    for variant in lines(key, locale):
        pattern = re.escape(variant.strip())
        for name, value in values.items():
            pattern = pattern.replace(re.escape("{" + name + "}"), re.escape(value))
        pattern = re.sub(r"\\\{\w+\\\}", ".*?", pattern)
        if re.match(pattern, text, re.DOTALL):
            return True
    return False


class FastNewsBot(NewsBot):
    """NewsBot without discord.py's 5-second sleep before a re-IDENTIFY."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@dataclass
class RecordingService:
    """A BackgroundService that counts its starts and stops."""

    starts: int = 0
    stops: int = 0
    bots: list[commands.Bot] = field(default_factory=list)

    async def start(self, bot: commands.Bot) -> None:
        self.starts += 1
        self.bots.append(bot)

    async def stop(self) -> None:
        self.stops += 1


@dataclass
class RecordingAdmin:
    """A DigestAdmin that records each call and answers a fixed Reply (``preview``: the
    fixed ``preview``, else a note naming the call)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reply: Reply | None = None
    preview_answer: DigestPreview | None = None
    fail: bool = False

    async def _answer(self, name: str, **kwargs: Any) -> Reply:
        self.calls.append((name, kwargs))
        if self.fail:
            raise RuntimeError("the digest store is on fire")
        return self.reply or Reply("digest", kwargs["user_locale"], f"{name} done, nya!")

    async def subscribe(self, **kwargs: Any) -> Reply:
        return await self._answer("subscribe", **kwargs)

    async def unsubscribe(self, **kwargs: Any) -> Reply:
        return await self._answer("unsubscribe", **kwargs)

    async def subscriptions(self, **kwargs: Any) -> Reply:
        return await self._answer("subscriptions", **kwargs)

    async def edit(self, **kwargs: Any) -> Reply:
        return await self._answer("edit", **kwargs)

    async def post_test(self, **kwargs: Any) -> Reply:
        return await self._answer("post_test", **kwargs)

    async def preview(self, **kwargs: Any) -> DigestPreview:
        reply = await self._answer("preview", **kwargs)
        return self.preview_answer or DigestPreview(reply.locale, reply.header)

    async def resume(self, **kwargs: Any) -> Reply:
        return await self._answer("resume", **kwargs)


@dataclass
class Env:
    """One running bot against one fake Discord with a Japanese and an English guild."""

    fake: FakeDiscord
    bot: FastNewsBot
    service: NewsService
    ja_guild: FakeGuild
    en_guild: FakeGuild
    background: RecordingService
    admin: RecordingAdmin | None

    @property
    def channel(self) -> FakeChannel:
        return self.ja_guild.channel


def build_corpus_and_index(root: Path) -> tuple[Path, Path]:
    """The Discord test corpus under ``root`` and its index."""
    corpus = write_corpus(root / "corpus")
    index = root / "index.db"
    report = build_index(corpus, index)
    assert not report.skipped, report.skipped
    return corpus, index


def make_settings(paths: tuple[Path, Path], **environ: str) -> Settings:
    corpus, index = paths
    return load_settings(None, environ=environ).with_paths(corpus=corpus, index=index)


@asynccontextmanager
async def bot_on(
    fake: FakeDiscord,
    paths: tuple[Path, Path],
    *,
    digest_admin: RecordingAdmin | None = None,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[FastNewsBot]:
    """A fresh bot (a new process's worth of state) running on ``fake`` until the block
    ends."""
    settings = make_settings(paths, **(environ or {}))
    bot = FastNewsBot(
        settings, NewsService(settings), digest_admin=digest_admin, guild_ready_timeout=0.05
    )
    async with fake.run_bot(bot):
        yield bot


@asynccontextmanager
async def running(
    paths: tuple[Path, Path],
    *,
    digest_admin: RecordingAdmin | None = None,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[Env]:
    """The bot running against a fresh fake Discord (guilds ``ねこ部``, ja, and ``Cat
    Club``, en-US)."""
    settings = make_settings(paths, **(environ or {}))
    service = NewsService(settings)
    background = RecordingService()
    async with FakeDiscord(guilds=0) as fake:
        ja_guild = fake.add_guild("ねこ部", preferred_locale="ja")
        en_guild = fake.add_guild("Cat Club", preferred_locale="en-US")
        bot = FastNewsBot(
            settings,
            service,
            digest_admin=digest_admin,
            background=[background],
            guild_ready_timeout=0.05,
        )
        async with fake.run_bot(bot):
            yield Env(fake, bot, service, ja_guild, en_guild, background, digest_admin)


# --------------------------------------------------------------------------- what Discord saw


def rejected(fake: FakeDiscord) -> list[tuple[str, int, int | None]]:
    """Requests Discord would have rejected as malformed (400 and friends)."""
    return [(r.route, r.status, r.code) for r in fake.requests if r.status == 400]


def sent_payloads(fake: FakeDiscord) -> list[JSON]:
    """Every message body the bot sent: callbacks with a message, followups, posts, edits."""
    bodies: list[JSON] = []
    for request in fake.requests:
        body = request.json
        if not isinstance(body, dict):
            continue
        if request.route.endswith("/callback"):
            if body.get("type") in (4, 7):
                bodies.append(body.get("data") or {})
        elif request.method in ("POST", "PATCH") and (
            "/messages" in request.route or request.route.startswith("POST /webhooks")
        ):
            bodies.append(body)
    return bodies


def assert_pings_nobody(fake: FakeDiscord) -> None:
    """Each message with content told Discord to parse no mentions, and no message the bot
    wrote mentions anyone."""
    for body in sent_payloads(fake):
        if body.get("content"):
            allowed = body.get("allowed_mentions")
            assert allowed is not None, body
            assert allowed.get("parse") == [], body
            assert not allowed.get("users") and not allowed.get("roles"), body
            assert not allowed.get("replied_user"), body
    for channel in fake.channels:
        for message in fake.channel_messages(channel):
            if message["author"]["id"] == str(fake.bot_user.id):
                assert not message["mention_everyone"], message
                assert message["mentions"] == [], message


def assert_within_limits(messages: Sequence[JSON]) -> None:
    for message in messages:
        assert len(message.get("content") or "") <= MESSAGE_CONTENT_LIMIT
        total = 0
        for embed in message.get("embeds") or []:
            assert len(embed.get("title") or "") <= EMBED_TITLE_LIMIT
            assert len(embed.get("description") or "") <= EMBED_DESCRIPTION_LIMIT
            for fld in embed.get("fields") or []:
                assert 1 <= len(fld["value"]) <= EMBED_FIELD_VALUE_LIMIT
            total += len(embed.get("title") or "") + len(embed.get("description") or "")
            total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields") or [])
            total += len((embed.get("footer") or {}).get("text") or "")
            total += len((embed.get("author") or {}).get("name") or "")
        assert total <= EMBED_TOTAL_LIMIT


async def answered(it: FakeInteraction, timeout: float = DEADLINE_SECONDS) -> FakeInteraction:
    """Wait until the user sees a finished answer: public, or (after a removed "thinking…")
    an ephemeral followup."""
    return await it.wait_until(
        lambda i: bool(i.messages) and all(m["content"] for m in i.messages) and not i.loading,
        timeout,
    )


def shown(it: FakeInteraction) -> JSON:
    """The message the user sees for ``it``: the original response, or the followup that
    replaced a removed "thinking…" message."""
    assert it.messages, "nothing was shown"
    return it.messages[-1]


def buttons(message: JSON) -> list[JSON]:
    return [c for row in message["components"] for c in row["components"]]


def field_value(embed: JSON, name: str) -> str | None:
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == name), None)


async def admin_slash(
    fake: FakeDiscord,
    command: str,
    options: dict[str, Any] | None = None,
    *,
    channel: FakeChannel | None = None,
    permissions: int = MANAGE_GUILD,
    locale: str = "en-US",
    dm: bool = False,
    user: FakeUser | None = None,
) -> FakeInteraction:
    """``fake.slash`` plus a channel option resolved the way Discord sends it (type 7 with
    the channel in ``data.resolved``), which ``slash`` cannot express; ``user`` runs it
    (default: the fake's default user)."""
    data = fake._command_data(command, options, None, None)
    leaf = data["options"]
    while leaf and leaf[0]["type"] in (1, 2):
        leaf = leaf[0].setdefault("options", [])
    if channel is not None:
        leaf.append({"name": "channel", "type": 7, "value": str(channel.id)})
        data["resolved"] = {
            "channels": {
                str(channel.id): {
                    "id": str(channel.id),
                    "name": channel.name,
                    "type": channel.type,
                    "permissions": str(MANAGE_GUILD),
                    "guild_id": str(channel.guild_id),
                }
            }
        }
    return await fake._interaction(
        2, data, channel_id=None, user=user, locale=locale, permissions=permissions, dm=dm
    )
