"""The Discord adapter end to end: a real discord.py client (NewsBot) connected to the fake
Discord, driven with INTERACTION_CREATE and MESSAGE_CREATE like a user would, asserting
what the user sees and that Discord never had to reject anything."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.ext import commands

from bot.config import Settings, load_settings
from bot.discord_app.client import NewsBot
from bot.discord_app.embeds import (
    BUTTON_LABEL_LIMIT,
    CHOICE_NAME_LIMIT,
    CHOICE_VALUE_LIMIT,
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
from tests.discord_corpus import OVERSIZED, write_corpus
from tests.fakes import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction

JSON = dict[str, Any]
PERSONA = Persona.load()
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)


def lines(key: str, locale: str) -> tuple[str, ...]:
    """Every variant of a persona line (placeholders unfilled)."""
    return PERSONA.variants(key, locale)


def said(text: str | None, key: str, locale: str, **values: str) -> bool:
    """Whether ``text`` is one of the persona's ``key`` lines (filled with ``values``)."""
    if text is None:
        return False
    return any(text.startswith(v.format(**values).strip()) for v in lines(key, locale))


# --------------------------------------------------------------------------- the world


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
    """A DigestAdmin that records each call and answers a fixed Reply."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    reply: Reply | None = None
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

    async def preview(self, **kwargs: Any) -> Reply:
        return await self._answer("preview", **kwargs)

    async def resume(self, **kwargs: Any) -> Reply:
        return await self._answer("resume", **kwargs)


@dataclass
class Env:
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


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("discord")
    corpus = write_corpus(root / "corpus")
    index = root / "index.db"
    report = build_index(corpus, index)
    assert not report.skipped, report.skipped
    return corpus, index


def make_settings(paths: tuple[Path, Path], **environ: str) -> Settings:
    corpus, index = paths
    return load_settings(None, environ=environ).with_paths(corpus=corpus, index=index)


@asynccontextmanager
async def running(
    paths: tuple[Path, Path],
    *,
    view_timeout: float = 60.0,
    digest_admin: RecordingAdmin | None = None,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[Env]:
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
            view_timeout=view_timeout,
            guild_ready_timeout=0.05,
        )
        async with fake.run_bot(bot):
            yield Env(fake, bot, service, ja_guild, en_guild, background, digest_admin)


@pytest.fixture
async def env(corpus_and_index: tuple[Path, Path]) -> AsyncIterator[Env]:
    async with running(corpus_and_index) as environment:
        yield environment


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
        assert total <= EMBED_TOTAL_LIMIT


async def answered(it: FakeInteraction, timeout: float = 5.0) -> FakeInteraction:
    """Wait until the user sees a finished answer (not "thinking…")."""
    return await it.wait_until(lambda i: bool(i.content) and not i.loading, timeout)


def buttons(message: JSON) -> list[JSON]:
    return [c for row in message["components"] for c in row["components"]]


def field_value(embed: JSON, name: str) -> str | None:
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == name), None)


# --------------------------------------------------------------------------- lifecycle


async def test_ready_runs_setup_once_and_background_once_across_reconnects(
    corpus_and_index: tuple[Path, Path],
) -> None:
    async with running(corpus_and_index) as env:
        fake, bot = env.fake, env.bot
        assert {g.id for g in bot.guilds} == {env.ja_guild.id, env.en_guild.id}
        assert bot.setup_count == 1 and env.background.starts == 1
        assert env.background.bots == [bot]
        identify = next(f for f in fake.gateway_log if f.direction == "recv" and f.op == 2)
        assert identify.d["intents"] & PRIVILEGED_INTENTS == 0  # no privileged intent

        since = len(fake.gateway_log)
        await fake.invalidate_session()  # a fresh IDENTIFY and READY: on_ready fires again
        await fake.wait_for_gateway(lambda f: f.t == "READY", since=since)
        await fake.wait_connected()
        await fake.force_reconnect()  # RESUME
        await fake.wait_until(lambda: len(fake.resumes) == 1)
        assert len(fake.identifies) == 2
        await bot.setup_hook()  # a second call (by mistake) changes nothing
        assert bot.setup_count == 1 and env.background.starts == 1
        assert [c.name for c in bot.tree.get_commands()] == ["news"]

        it = await fake.slash("news help")
        await it.wait_acknowledged()
        assert env.background.stops == 0
    assert env.background.stops == 1


async def test_sharded_by_settings(corpus_and_index: tuple[Path, Path]) -> None:
    environ = {"TECHNYAN_BOT_SHARD_COUNT": "2"}
    async with running(corpus_and_index, environ=environ) as env:
        assert sorted(env.fake.identifies) == [(0, 2), (1, 2)]
        for guild in (env.ja_guild, env.en_guild):
            it = await env.fake.slash("news help", channel_id=guild.channel.id)
            await it.wait_acknowledged()


# --------------------------------------------------------------------------- /news latest


async def test_latest_in_english(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 2}, locale="en-US")
    await it.wait_acknowledged()
    assert it.response_type == 4 and not it.ephemeral  # answered directly, for everyone
    assert said(it.content, "latest_header", "en", count="2")
    assert len(it.embeds) == 2 and it.components == []
    first = it.embeds[0]
    assert first["title"] == "Lonelyword Project Launches in English Only"
    assert first["url"] == "https://technyanai.com/articles/en/20250303/english-only-story"
    assert "footer" not in first  # English is the story's own language
    assert field_value(first, "📅 Date") == "2025-03-03"
    assert field_value(first, "🏷️ Category") == "Business"
    assert field_value(first, "🐾 Technyan says") == "> Only in English this time, nya!"
    assert field_value(first, "🔖 Tags") == "Lonelyword"
    assert it.embeds[1]["title"] == "Pingtrap story"
    assert all(e["url"].startswith("https://technyanai.com/articles/en/") for e in it.embeds)
    assert rejected(env.fake) == []


async def test_latest_in_japanese_says_when_only_english_exists(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 2}, locale="ja")
    await it.wait_acknowledged()
    assert said(it.content, "latest_header", "ja", count="2")
    english_only, ping = it.embeds
    assert english_only["title"] == "Lonelyword Project Launches in English Only"
    assert english_only["url"].endswith("/articles/en/20250303/english-only-story")
    assert said(english_only["footer"]["text"], "other_locale_only", "ja")
    assert ping["title"] == "ピングトラップの記事" and "footer" not in ping
    assert ping["url"].endswith("/articles/ja/20250302/everyone-ping-story")

    it = await env.fake.slash("news about", {"query": "Claude"}, locale="ja")
    await answered(it)
    claude = it.embeds[0]
    assert claude["title"] == "Anthropic、Claude 3.5 Sonnetを公開"
    assert claude["url"] == (
        "https://technyanai.com/articles/ja/20240620/anthropic-claude-3-5-sonnet"
    )
    assert field_value(claude, "⚡ インパクト") == "超重大"
    assert claude["color"] == 0xE53935  # critical
    assert rejected(env.fake) == []


async def test_latest_pages_never_exceed_6000_characters(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 7}, locale="en-US")
    await it.wait_acknowledged()
    # The oversized story fills a page of its own; the others share theirs.
    assert [e["title"] for e in it.embeds] == [
        "Lonelyword Project Launches in English Only",
        "Pingtrap story",
    ]
    assert [b["label"] for b in buttons(it.original or {})] == ["◀ Previous", "1 / 3", "Next ▶"]
    message_id = int((it.original or {})["id"])
    seen = [len(it.embeds)]
    for _ in range(2):
        click = await env.fake.click(message_id, label="Next ▶")
        await click.wait_acknowledged()
        seen.append(len(it.embeds))
        assert_within_limits([it.original or {}])
    assert seen == [2, 1, 4]
    assert rejected(env.fake) == []


async def test_latest_with_a_category_choice(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 3, "category": "Business"})
    await it.wait_acknowledged()
    assert [field_value(e, "🏷️ Category") for e in it.embeds] == ["Business"] * 3
    assert it.embeds[2]["title"] == "DeepSeek-R1 Shakes Wall Street"


async def test_latest_works_in_a_direct_message(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 1}, dm=True, locale="ja")
    await it.wait_acknowledged()
    assert len(it.embeds) == 1 and said(it.content, "latest_header", "ja", count="1")


# --------------------------------------------------------------------------- /news about


async def test_about_defers_then_shows_the_story(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
    await answered(it)
    assert it.response_type == 5  # deferred ("thinking…") first
    assert said(it.content, "about_header", "ja", query="DeepSeek")
    assert it.embeds[0]["title"] == "DeepSeek-R1がウォール街を直撃"
    assert it.embeds[0]["url"].endswith("/articles/ja/20250127/deepseek-r1-market-shock")
    assert it.components == []  # one page, nothing to press


async def test_oversized_article_is_cut_not_rejected(env: Env) -> None:
    for locale in ("en-US", "ja"):
        it = await env.fake.slash("news about", {"query": "Zephyrine"}, locale=locale)
        await answered(it)
        embed = next(e for e in it.embeds if e["url"].split("/")[-1] in OVERSIZED)
        assert len(embed["title"]) <= EMBED_TITLE_LIMIT and embed["title"].endswith("…")
        assert len(embed["description"]) <= EMBED_DESCRIPTION_LIMIT
        assert embed["description"].endswith("…")
        if locale == "en-US":  # cut after a whole word, not inside one
            words = ("Oversized", "headline", "about", "the", "Zephyrine", "accelerator")
            assert embed["title"][:-1].rstrip().endswith(words)
            assert embed["description"][:-1].rstrip().endswith(".")  # after a sentence
        comment = field_value(
            embed, "🐾 Technyan says" if locale == "en-US" else "🐾 テクにゃんのひとこと"
        )
        assert comment is not None and comment.endswith("…")
        assert_within_limits(it.messages)
    assert rejected(env.fake) == []


async def test_a_query_of_10000_characters(env: Env) -> None:
    for query, locale in (("Quasar " * 1430, "en-US"), ("ゼフィリン" * 2000, "ja")):
        assert len(query) >= 10_000
        it = await env.fake.slash("news about", {"query": query}, locale=locale)
        await answered(it)
        assert len(it.content or "") <= MESSAGE_CONTENT_LIMIT
        assert_within_limits(it.messages)
    assert rejected(env.fake) == []


@pytest.mark.parametrize("query", ["", "   "])
async def test_an_empty_query(env: Env, query: str) -> None:
    it = await env.fake.slash("news about", {"query": query}, locale="ja")
    await answered(it)
    assert it.content in lines("empty_query", "ja")
    it = await env.fake.slash("news ask", {"question": query}, locale="en-US")
    await answered(it)
    assert it.content in lines("empty_query", "en")


async def test_everyone_in_a_story_or_a_query_pings_nobody(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "Pingtrap"})
    await answered(it)
    assert "@everyone" in it.embeds[0]["description"] and "<@123>" in it.embeds[0]["description"]
    ping = f"@everyone @here <@{env.fake.user.id}> Pingtrap"
    it = await env.fake.slash("news about", {"query": ping})
    await answered(it)
    assert "@everyone" in (it.content or "") and f"<@{env.fake.user.id}>" in (it.content or "")
    stored = env.fake.message(int((it.original or {})["id"]))
    assert not stored["mention_everyone"] and stored["mentions"] == []
    assert_pings_nobody(env.fake)


# --------------------------------------------------------------------------- autocomplete


async def test_autocomplete_with_60_candidate_stories(env: Env) -> None:
    for typed, locale in (("Quasar", "en-US"), ("quasar", "ja"), ("", "ja")):
        it = await env.fake.autocomplete(
            "news about", {"query": typed}, focused="query", locale=locale
        )
        await it.wait_acknowledged()
        request = next(r for r in env.fake.requests if r.params.get("interaction_id") == str(it.id))
        assert request.at - it.dispatched_at < 1.0  # well inside the 3-second window
        assert it.choices is not None and len(it.choices) == 25
        for choice in it.choices:
            assert 1 <= len(choice["name"]) <= CHOICE_NAME_LIMIT
            assert 1 <= len(choice["value"]) <= CHOICE_VALUE_LIMIT
        if typed:
            assert all("quasar" in c["name"].casefold() for c in it.choices)
    it = await env.fake.autocomplete("news about", {"query": "very long name"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices and all(len(c["name"]) <= CHOICE_NAME_LIMIT for c in it.choices)
    assert any(c["name"].endswith("…") for c in it.choices)  # titles over 100 cut
    it = await env.fake.autocomplete("news about", {"query": "x" * 10_000}, focused="query")
    await it.wait_acknowledged()
    assert it.choices is not None
    assert rejected(env.fake) == []


async def test_autocomplete_failure_answers_no_choices(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(prefix: str, limit: int = 25) -> list[Any]:
        raise RuntimeError("index gone")

    monkeypatch.setattr(env.service, "suggest", broken)
    it = await env.fake.autocomplete("news about", {"query": "Qu"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices == []


# --------------------------------------------------------------------------- buttons


async def test_previous_next_only_for_the_asker(env: Env) -> None:
    fake = env.fake
    it = await fake.slash("news about", {"query": "Quasar"}, locale="en-US")
    await answered(it)
    assert len(it.embeds) == 5
    first_page = [e["title"] for e in it.embeds]
    previous, counter, next_ = buttons(it.original or {})
    assert (previous["label"], previous.get("disabled")) == ("◀ Previous", True)
    assert (counter["label"], counter.get("disabled")) == ("1 / 2", True)
    assert next_["label"] == "Next ▶" and not next_.get("disabled")
    message_id = int((it.original or {})["id"])

    click = await fake.click(message_id, label="Next ▶")
    await click.wait_acknowledged()
    assert click.response_type == 7  # the same message, updated
    second_page = [e["title"] for e in it.embeds]
    assert len(second_page) == 5 and not set(second_page) & set(first_page)
    assert [b["label"] for b in buttons(it.original or {})] == ["◀ Previous", "2 / 2", "Next ▶"]
    assert buttons(it.original or {})[2].get("disabled") is True

    bob = fake.add_user("bob")
    intruder = await fake.click(message_id, label="◀ Previous", user=bob, locale="ja")
    await intruder.wait_acknowledged()
    assert intruder.ephemeral and intruder.content in lines("not_your_buttons", "ja")
    assert [e["title"] for e in it.embeds] == second_page  # nothing moved

    back = await fake.click(message_id, label="◀ Previous")
    await back.wait_acknowledged()
    assert [e["title"] for e in it.embeds] == first_page
    assert rejected(fake) == []


async def test_buttons_are_removed_after_the_timeout(corpus_and_index: tuple[Path, Path]) -> None:
    async with running(corpus_and_index, view_timeout=0.3) as env:
        it = await env.fake.slash("news about", {"query": "Quasar"})
        await answered(it)
        assert it.components
        await it.wait_until(lambda i: i.components == [], timeout=5)
        assert len(it.embeds) == 5 and it.content  # the reply itself stays
        edit = env.fake.requests[-1]
        assert edit.method == "PATCH" and edit.status == 200
        assert rejected(env.fake) == []


async def test_did_you_mean_buttons_run_the_corrected_search(env: Env) -> None:
    fake = env.fake
    it = await fake.slash("news about", {"query": "Claud Sonet"}, locale="en-US")
    await answered(it)
    assert said(it.content, "not_found", "en", query="Claud Sonet")
    labels = [b["label"] for b in buttons(it.original or {})]
    assert labels == ["🔎 Claude", "🔎 Claude 3.5 Sonnet"]
    assert all(len(label) <= BUTTON_LABEL_LIMIT for label in labels)
    weak = it.embeds[0]
    assert weak["title"].startswith(lines("weak_label", "en"))  # labelled as a guess
    message_id = int((it.original or {})["id"])
    before = (it.content, it.embeds)

    bob = fake.add_user("bob")
    other = await fake.click(message_id, label="🔎 Claude 3.5 Sonnet", user=bob, locale="ja")
    await answered(other)
    assert other.ephemeral  # someone else gets their own answer, in their language
    assert said(other.content, "about_header", "ja", query="Claude 3.5 Sonnet")
    assert other.embeds[0]["title"] == "Anthropic、Claude 3.5 Sonnetを公開"
    assert (it.content, it.embeds) == before

    mine = await fake.click(message_id, label="🔎 Claude 3.5 Sonnet")
    await mine.wait_acknowledged()
    await it.wait_until(lambda i: i.content != before[0])
    assert said(it.content, "about_header", "en", query="Claude 3.5 Sonnet")
    assert it.embeds[0]["title"] == "Anthropic Releases Claude 3.5 Sonnet"
    assert it.components == []  # the old suggestions are gone with the old results
    assert rejected(fake) == []


# --------------------------------------------------------------------------- ask and help


async def test_ask_quotes_the_answering_sentence(env: Env) -> None:
    it = await env.fake.slash("news ask", {"question": "What did DeepSeek release?"})
    await answered(it)
    assert it.response_type == 5
    assert said(it.content, "ask_header", "en", question="What did DeepSeek release?")
    [embed] = it.embeds
    assert embed["title"] == "DeepSeek-R1 Shakes Wall Street"
    assert embed["description"].startswith("> ") and "DeepSeek" in embed["description"]
    assert field_value(embed, "📍 Section") == "What happened"

    it = await env.fake.slash("news ask", {"question": "Blackwellって何？"}, locale="ja")
    await answered(it)
    assert it.embeds[0]["title"] == "エヌビディア、GTC 2024でBlackwellを発表"
    assert field_value(it.embeds[0], "📍 見出し") == "何が起きたか"


async def test_ask_without_an_answer_says_so(env: Env) -> None:
    it = await env.fake.slash("news ask", {"question": "xyzzy plugh"}, locale="ja")
    await answered(it)
    assert said(it.content, "ask_not_found", "ja", question="xyzzy plugh")
    assert it.embeds == []


async def test_help_in_both_languages(env: Env) -> None:
    for locale, key in (("ja", "ja"), ("en-GB", "en"), ("fr", "en")):
        it = await env.fake.slash("news help", locale=locale)
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("help", key)


# --------------------------------------------------------------------------- mentions


async def test_a_mention_is_answered_like_ask(env: Env) -> None:
    fake = env.fake
    question = await fake.mention("DeepSeekって何？")
    reply = await fake.wait_until(
        lambda: next(
            (m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")),
            None,
        )
    )
    assert str(reply["message_reference"]["message_id"]) == question["id"]
    assert said(reply["content"], "ask_header", "ja", question="DeepSeekって何？")
    assert reply["embeds"][0]["title"] == "DeepSeek-R1がウォール街を直撃"
    assert reply["mentions"] == []  # the reply does not ping its author
    assert_pings_nobody(fake)


async def test_mention_language_follows_the_guild_then_the_text(env: Env) -> None:
    fake = env.fake
    channel = env.en_guild.channel.id
    asked = [
        await fake.mention("What did DeepSeek release?", channel_id=channel),
        await fake.mention("Blackwellって何？", channel_id=channel),
        await fake.mention("What did DeepSeek release?"),  # a Japanese guild: Japanese
    ]

    def replies() -> dict[str, JSON] | None:
        found = {
            str(m["message_reference"]["message_id"]): m
            for c in (channel, env.channel.id)
            for m in fake.channel_messages(c)
            if m.get("message_reference")
        }
        return found if len(found) == 3 else None

    by_question = await fake.wait_until(replies)
    english, japanese, in_japanese_guild = (by_question[q["id"]]["content"] for q in asked)
    assert said(english, "ask_header", "en", question="What did DeepSeek release?")
    assert said(japanese, "ask_header", "ja", question="Blackwellって何？")
    assert said(in_japanese_guild, "ask_header", "ja", question="What did DeepSeek release?")


async def test_mention_without_a_question_and_messages_not_for_the_bot(env: Env) -> None:
    fake = env.fake
    robot = fake.add_user("robot", bot=True)
    await fake.message_create("DeepSeek news anyone?")  # no mention: not for the bot
    await fake.message_create(f"{fake.bot_user.mention} DeepSeek", user=robot)  # bots ignored
    await fake.message_create("@everyone DeepSeek")  # @everyone is not a mention of the bot
    await fake.mention("")
    reply = await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )
    await asyncio.sleep(0.2)
    replies = [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    assert len(replies) == 1
    assert reply[0]["content"] in lines("mention_no_question", "ja")


async def test_mention_with_everyone_pings_nobody(env: Env) -> None:
    await env.fake.mention("@everyone <@123> Pingtrap")
    await env.fake.wait_until(lambda: len(env.fake.channel_messages(env.channel.id)) == 2)
    assert_pings_nobody(env.fake)


# --------------------------------------------------------------------------- failures


async def test_a_failure_after_defer_is_an_ephemeral_apology_with_a_logged_cause(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(query: str, locale: str | None = None, limit: int = 10) -> Reply:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(env.service, "about", boom)
    caplog.set_level(logging.INFO, logger="bot")
    it = await env.fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
    await it.wait_until(lambda i: bool(i.followups))
    [apology] = it.followups
    assert apology["flags"] & 64 and apology["content"] in lines("error", "ja")
    assert it.original is None  # the public "thinking…" message was removed
    assert env.fake.channel_messages(env.channel.id) == []
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    text = record.getMessage()
    assert "command='news about'" in text and f"guild={env.ja_guild.id}" in text
    assert f"user={env.fake.user.id}" in text and "locale=ja" in text
    assert record.exc_info is not None and "secret internal detail" in str(record.exc_info[1])
    assert "secret" not in apology["content"] and "Traceback" not in apology["content"]


async def test_a_failure_before_answering_is_an_ephemeral_apology(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Reply:
        raise ValueError("nope")

    monkeypatch.setattr(env.service, "latest", boom)
    it = await env.fake.slash("news latest", locale="en-US")
    await it.wait_acknowledged()
    assert it.ephemeral and it.content in lines("error", "en")


async def test_a_failing_mention_gets_an_apology(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Reply:
        raise RuntimeError("nope")

    monkeypatch.setattr(env.service, "ask", boom)
    await env.fake.mention("DeepSeekって何？")
    replies = await env.fake.wait_until(lambda: env.fake.channel_messages(env.channel.id)[1:])
    assert replies[0]["content"] in lines("error", "ja")


async def test_an_expired_interaction_is_logged_and_the_bot_keeps_serving(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    env.fake.callback_deadline = 0.0  # every first response is now too late
    it = await env.fake.slash("news about", {"query": "DeepSeek"})
    late = await env.fake.wait_for(lambda r: r.code == 10062)
    assert late.route.endswith("/callback") and not it.acknowledged
    await env.fake.wait_until(lambda: any("10062" in r.getMessage() for r in caplog.records))
    env.fake.callback_deadline = 3.0
    again = await env.fake.slash("news about", {"query": "DeepSeek"})
    await answered(again)
    assert again.embeds


async def test_a_reply_after_the_token_expired(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    release = threading.Event()
    real_about = env.service.about

    def slow_about(query: str, locale: str | None = None, limit: int = 10) -> Reply:
        release.wait(5)
        return real_about(query, locale, limit)

    monkeypatch.setattr(env.service, "about", slow_about)
    it = await env.fake.slash("news about", {"query": "DeepSeek"})
    await it.wait_acknowledged()
    assert it.loading
    env.fake.expire_interaction(it.id, token=True)  # 15 minutes pass
    release.set()
    gone = await env.fake.wait_for(lambda r: r.code == 50027)
    assert gone.status == 401
    await env.fake.wait_until(lambda: any("50027" in r.getMessage() for r in caplog.records))
    assert it.loading and it.followups == []  # nothing else was attempted
    monkeypatch.setattr(env.service, "about", real_about)
    again = await env.fake.slash("news about", {"query": "DeepSeek"})
    await answered(again)


async def test_missing_permissions_on_a_mention_reply_is_logged(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    fake = env.fake
    fake.fault(env.channel.id, "missing_permissions")
    await fake.mention("DeepSeekって何？")
    refused = await fake.wait_for(lambda r: r.code == 50013)
    assert refused.status == 403
    await fake.wait_until(lambda: any("50013" in r.getMessage() for r in caplog.records))
    fake.clear_faults()
    await fake.mention("DeepSeekって何？")
    await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )


async def test_a_429_with_retry_after_is_waited_out(env: Env) -> None:
    fake = env.fake
    fake.fault(env.channel.id, "rate_limited", times=1, retry_after=0.2)
    since = fake.mark()
    started = time.monotonic()
    await fake.mention("DeepSeekって何？")
    await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )
    assert time.monotonic() - started >= 0.2
    posts = [r.status for r in fake.requests[since:] if r.route.startswith("POST /channels")]
    assert posts == [429, 200]


async def test_a_5xx_on_the_followup_is_retried(env: Env) -> None:
    fake = env.fake
    fake.fault("/webhooks/", "server_error", status=500, times=1)
    it = await fake.slash("news about", {"query": "DeepSeek"})
    await answered(it, timeout=8)
    followups = [r.status for r in fake.requests if r.route.startswith("POST /webhooks")]
    assert followups == [500, 200]
    assert it.embeds


# --------------------------------------------------------------------------- admin commands


async def admin_slash(
    fake: FakeDiscord,
    command: str,
    options: dict[str, Any] | None = None,
    *,
    channel: FakeChannel | None = None,
    permissions: int = MANAGE_GUILD,
    locale: str = "en-US",
    dm: bool = False,
) -> FakeInteraction:
    """``fake.slash`` plus a channel option resolved the way Discord sends it (type 7 with
    the channel in ``data.resolved``), which ``slash`` cannot express."""
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
        2, data, channel_id=None, user=None, locale=locale, permissions=permissions, dm=dm
    )


async def test_admin_commands_need_manage_server(corpus_and_index: tuple[Path, Path]) -> None:
    admin = RecordingAdmin()
    async with running(corpus_and_index, digest_admin=admin) as env:
        news = env.ja_guild.channels[1]
        it = await admin_slash(
            env.fake,
            "news subscribe",
            {"time": "09:00"},
            channel=news,
            permissions=discord.Permissions(send_messages=True).value,
            locale="ja",
        )
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("admin_only", "ja")
        it = await admin_slash(env.fake, "news subscriptions", dm=True)
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("admin_only", "en")
        assert admin.calls == []


async def test_admin_commands_delegate_to_the_digest_admin(
    corpus_and_index: tuple[Path, Path],
) -> None:
    admin = RecordingAdmin()
    async with running(corpus_and_index, digest_admin=admin) as env:
        fake, news = env.fake, env.ja_guild.channels[1]
        it = await admin_slash(
            fake,
            "news subscribe",
            {"time": "08:30", "timezone": "Asia/Tokyo", "locale": "en", "max_items": 3},
            channel=news,
            locale="ja",
        )
        await answered(it)
        assert it.ephemeral and it.content == "subscribe done, nya!"
        name, kwargs = admin.calls[-1]
        assert name == "subscribe" and kwargs == {
            "guild_id": env.ja_guild.id,
            "channel_id": news.id,
            "time": "08:30",
            "timezone": "Asia/Tokyo",
            "locale": "en",
            "max_items": 3,
            "post_empty": None,
            "user_locale": "ja",
        }
        for command, channel, expected in (
            ("news unsubscribe", None, {"guild_id": env.ja_guild.id, "channel_id": None}),
            ("news resume", news, {"guild_id": env.ja_guild.id, "channel_id": news.id}),
            ("news subscriptions", None, {"guild_id": env.ja_guild.id}),
            (
                "news digest preview",
                None,
                {"guild_id": env.ja_guild.id, "channel_id": env.channel.id},
            ),
        ):
            it = await admin_slash(fake, command, channel=channel)
            await answered(it)
            assert it.ephemeral
            assert admin.calls[-1][1] == expected | {"user_locale": "en"}

        cards = env.service.about("Quasar", "en").cards
        admin.reply = Reply("digest", "en", "Here's the digest, nya!", cards, footer="Bye!")
        it = await admin_slash(fake, "news digest preview", channel=news)
        await answered(it)
        assert it.content == "Here's the digest, nya!\n\nBye!"
        assert len(it.embeds) == 5 and it.ephemeral and len(buttons(it.original or {})) == 3
        assert rejected(fake) == []


async def test_admin_commands_without_a_digest_subsystem_or_when_it_fails(
    corpus_and_index: tuple[Path, Path],
) -> None:
    async with running(corpus_and_index) as env:
        it = await admin_slash(env.fake, "news subscriptions", locale="ja")
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("digest_unavailable", "ja")
    admin = RecordingAdmin(fail=True)
    async with running(corpus_and_index, digest_admin=admin) as env:
        it = await admin_slash(env.fake, "news subscriptions")
        await it.wait_until(lambda i: bool(i.followups))
        assert it.followups[0]["content"] in lines("error", "en")
        assert it.followups[0]["flags"] & 64


# --------------------------------------------------------------------------- sync payload


async def test_synced_commands_are_localized_and_valid(env: Env) -> None:
    synced = await env.bot.tree.sync()
    assert [c.name for c in synced] == ["news"]
    [news] = env.fake.global_commands
    assert env.fake.requests[-1].status == 200  # the fake checks names and descriptions
    assert news["name_localizations"] == {"ja": "ニュース"}
    assert news["default_member_permissions"] is None  # /news itself is for everyone

    def walk(options: list[JSON], path: str) -> list[tuple[str, JSON]]:
        found = []
        for option in options:
            found.append((f"{path} {option['name']}", option))
            found.extend(walk(option.get("options") or [], f"{path} {option['name']}"))
        return found

    everything = walk(news["options"], "news")
    names = {path for path, _ in everything}
    assert {"news latest", "news about", "news ask", "news help", "news subscribe"} <= names
    assert {"news unsubscribe", "news subscriptions", "news resume"} <= names
    assert {"news digest", "news digest preview", "news digest preview channel"} <= names
    for path, option in everything:
        assert option["name_localizations"].get("ja"), path
        assert option["description_localizations"].get("ja"), path
        assert len(option["description"]) <= 100, path
    by_path = dict(everything)
    category = by_path["news latest category"]
    assert [c["value"] for c in category["choices"]] == [
        "Model Release",
        "Business",
        "Hardware",
        "Product",
    ]
    count = by_path["news latest count"]
    assert (count["min_value"], count["max_value"]) == (1, 25)
    locale = by_path["news subscribe locale"]
    assert [c["name_localizations"]["ja"] for c in locale["choices"]] == ["日本語", "英語"]
    assert by_path["news about query"]["autocomplete"] is True
    assert by_path["news subscribe channel"]["channel_types"] == [0, 5]


async def test_debug_logs_carry_no_interaction_token(
    corpus_and_index: tuple[Path, Path],
) -> None:
    import io

    from bot.discord_app.runner import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    settings = make_settings(corpus_and_index, TECHNYAN_BOT_LOG_LEVEL="DEBUG")
    handler = configure_logging(settings, ["fake.bot.token"], stream=stream)
    try:
        async with running(corpus_and_index) as env:
            it = await env.fake.slash("news about", {"query": "DeepSeek"})
            await answered(it)
            token = it.token
    finally:
        root.removeHandler(handler)
        for extra in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(extra)
        root.setLevel(level)
    logged = stream.getvalue()
    assert "/webhooks/" in logged and "[REDACTED]" in logged  # discord.py logged the URLs
    assert token not in logged and "fake.bot.token" not in logged


async def test_each_command_served_logs_one_line_without_the_query(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.discord_app")
    it = await env.fake.slash("news about", {"query": "DeepSeek secret words"}, locale="ja")
    await answered(it)
    for _ in range(50):  # the completion event follows the reply
        served = [r for r in caplog.records if r.getMessage().startswith("served /news about")]
        if served:
            break
        await asyncio.sleep(0.02)
    [record] = served
    assert record.command == "news about"  # type: ignore[attr-defined]
    assert record.guild == env.fake.guild.id  # type: ignore[attr-defined]
    assert record.locale == "ja"  # type: ignore[attr-defined]
    assert isinstance(record.results, int)  # type: ignore[attr-defined]
    assert record.ms >= 0  # type: ignore[attr-defined]
    assert "secret words" not in record.getMessage()


async def test_commands_arriving_during_shutdown_get_an_apology(env: Env) -> None:
    env.bot.closing = True  # what close() sets first, before stopping the scheduler
    try:
        it = await env.fake.slash("news latest", {}, locale="ja")
        await it.wait_acknowledged()
        assert it.ephemeral
        assert said(it.content, "error", "ja")
        assert it.embeds == []
    finally:
        env.bot.closing = False
