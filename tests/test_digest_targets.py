"""Digests managed as server admins manage their feed bots, end to end: the real bot with
its ``/digest`` commands and scheduler against the fake Discord — forum posts, threads,
announcement channels published to followers, a role ping that names only that role,
missing permissions named at subscribe, a pause told once, the preview byte for byte the
post, editing without losing the ledger, and a test post that is never a delivery."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.config import Settings
from bot.discord_app.client import NewsBot
from bot.discord_app.digests import build_digest_components
from bot.schedule import DigestScheduler
from bot.service import NewsService
from bot.state import SqliteStateStore
from tests.digest_support import Clock, digest_posts, local, make_settings, write_story
from tests.fakes import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction, FakeRole, FakeUser
from tests.fakes.discord_server import ANNOUNCEMENT, FLAG_CROSSPOSTED, FORUM
from tests.fakes.permissions import (
    EMBED_LINKS,
    MANAGE_THREADS,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
)

TOKYO = "Asia/Tokyo"
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
JSON = dict[str, Any]


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digest-targets")
    corpus = root / "corpus"
    write_story(corpus, "2025-11-17", "claude-memory", impact="high", tags=("Claude",),
                title="Claude remembers @everyone <@&1234>", comment="<@&1234> にゃ！")  # fmt: skip
    write_story(corpus, "2025-11-18", "gemini-three", impact="critical", companies=("Google",))
    write_story(corpus, "2025-11-18", "small-news", impact="low")
    for index in range(7):
        write_story(corpus, "2025-11-19", f"busy-{index}", tags=("Busy",))
    NewsService(make_settings(root)).ensure_index()
    return root


@pytest.fixture
def settings(corpus_root: Path, tmp_path: Path) -> Settings:
    return dataclasses.replace(make_settings(corpus_root), state_path=tmp_path / "state.db")


class FastNewsBot(NewsBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@dataclass
class World:
    """The bot running on ``fake`` with its digest subsystem; ``admin`` the member with
    Manage Server who runs ``/digest``."""

    fake: FakeDiscord
    guild: FakeGuild
    bot: FastNewsBot
    scheduler: DigestScheduler
    store: SqliteStateStore
    clock: Clock
    admin: FakeUser

    async def digest(
        self, command: str, options: dict[str, Any], *, locale: str = "en-US"
    ) -> FakeInteraction:
        """Run ``/digest <command>`` as the admin and wait for the answer."""
        it = await self.fake.slash(
            f"digest {command}", options, permissions=MANAGE_GUILD, locale=locale, user=self.admin
        )
        return await it.wait_until(lambda i: bool(i.messages) and not i.loading)

    async def run_at(self, channel: FakeChannel, *at: int) -> str:
        self.clock.set(local(TOKYO, *at))
        return await self.scheduler.run_due(channel.id)


@asynccontextmanager
async def world(
    settings: Settings, build: Any = None, *, at: tuple[int, ...] = (2025, 11, 18, 8, 0)
) -> AsyncIterator[World]:
    """A fake Discord whose guild ``build(fake, guild)`` furnishes before the bot connects,
    and the bot on it."""
    async with FakeDiscord(guilds=0) as fake:
        guild = fake.add_guild("ねこ部", channels=["general"])
        fake.add_user("admin")  # who runs /digest
        if build is not None:
            build(fake, guild)
        async with bot_on(fake, settings, at=at) as running:
            yield running


@asynccontextmanager
async def bot_on(
    fake: FakeDiscord, settings: Settings, *, at: tuple[int, ...]
) -> AsyncIterator[World]:
    """A new bot process (scheduler, state store) on ``fake``'s first guild, started at
    ``at`` in Tokyo, its start-up recovery and catch-up done."""
    clock = Clock(local(TOKYO, *at))
    service = NewsService(settings)
    digest_admin, background = build_digest_components(settings, service, clock=clock)
    scheduler = background[0]
    assert isinstance(scheduler, DigestScheduler)
    bot = FastNewsBot(
        settings,
        service,
        digest_admin=digest_admin,
        background=background,
        guild_ready_timeout=0.05,
    )
    admin = next(user for user in fake.users.values() if user.username == "admin")
    async with fake.run_bot(bot):
        await scheduler.wait_idle()
        yield World(fake, fake.guild, bot, scheduler, scheduler.store, clock, admin)  # type: ignore[arg-type]


def channel_named(guild: FakeGuild, name: str) -> FakeChannel:
    return next(c for c in guild.channels if c.name == name)


def bot_messages(fake: FakeDiscord, channel: FakeChannel) -> list[JSON]:
    return [
        m for m in fake.channel_messages(channel.id) if m["author"]["id"] == str(fake.bot_user.id)
    ]


def posts(fake: FakeDiscord, channel: FakeChannel) -> list[tuple[str, int, int]]:
    return digest_posts(fake.channel_messages(channel.id))


def seen(message: JSON) -> JSON:
    """What a reader sees of a message: its text and embeds."""
    return {"content": message["content"], "embeds": message["embeds"]}


# --------------------------------------------------------------------------- targets


async def test_a_forum_gets_one_post_per_digest_titled_with_the_day(settings: Settings) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.add_channel(guild, "ai-news", type=FORUM)

    async with world(settings, build) as w:
        forum = channel_named(w.guild, "ai-news")
        subscribed = await w.digest(
            "subscribe", {"channel": forum, "time": "09:00", "max_items": 10}, locale="ja"
        )
        assert "<t:" in (subscribed.messages[-1]["content"] or "")
        assert await w.run_at(forum, 2025, 11, 18, 9, 0) == "posted"
        assert await w.run_at(forum, 2025, 11, 19, 9, 0) == "posted"  # seven stories: two parts
        assert await w.run_at(forum, 2025, 11, 19, 9, 1) == "done"
    post_18, post_19 = sorted(
        (c for c in w.fake.channels.values() if c.parent_id == forum.id), key=lambda c: c.id
    )
    assert post_18.name == "🐾 2025年11月18日のAIニュースまとめ"
    assert post_19.name == "🐾 2025年11月19日のAIニュースまとめ"
    assert post_18.owner_id == w.fake.bot_user.id
    assert posts(w.fake, post_18) == [("2025-11-18", 1, 1)]
    assert posts(w.fake, post_19) == [("2025-11-19", 1, 2), ("2025-11-19", 2, 2)]
    first = w.fake.channel_messages(post_19.id)[0]
    assert int(first["id"]) == post_19.id  # the post's first message is the post
    entry = SqliteStateStore(settings.state_path).entry(forum.id, dt.date(2025, 11, 19))
    assert entry is not None and entry.status == "posted" and entry.message_ids[0] == post_19.id
    assert w.fake.channel_messages(forum.id) == []  # nothing outside the posts


async def test_a_forum_post_interrupted_before_the_ledger_knew_is_completed_once(
    settings: Settings,
) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.add_channel(guild, "ai-news", type=FORUM)

    async with world(settings, build, at=(2025, 11, 19, 8, 0)) as w:
        forum = channel_named(w.guild, "ai-news")
        await w.digest("subscribe", {"channel": forum, "time": "09:00", "max_items": 10})
        subscription = w.store.get_subscription(forum.id)
        assert subscription is not None
        # Another process claimed the day, opened the post with part 1, and died.
        at = local(TOKYO, 2025, 11, 19, 9, 0)
        w.store.claim(channel_id=forum.id, guild_id=w.guild.id, digest_date=dt.date(2025, 11, 19),
                      owner="gone/1/dead", window_start=at - dt.timedelta(hours=24),
                      window_end=at, now=at)  # fmt: skip
        digest = w.scheduler.compose(subscription, at - dt.timedelta(hours=24), at)
        messages = w.scheduler.delivery.content.render(subscription, digest)
        await w.scheduler.poster.send(forum.id, messages[0], nonce=1)
        w.store.register_process("gone/1/dead", "gone", 1, None)
        w.store.retire_process("gone/1/dead")
        w.clock.set(local(TOKYO, 2025, 11, 19, 9, 5))
        assert list((await w.scheduler.recover()).values()) == ["posted"]
        assert await w.scheduler.run_due(forum.id) == "done"
    [post] = [c for c in w.fake.channels.values() if c.parent_id == forum.id]
    assert posts(w.fake, post) == [("2025-11-19", 1, 2), ("2025-11-19", 2, 2)]


async def test_without_read_message_history_a_restart_pauses_instead_of_posting_again(
    settings: Settings,
) -> None:
    async with world(settings) as w:
        channel = w.guild.channels[0]
        await w.digest("subscribe", {"channel": channel, "time": "09:00"})
        subscription = w.store.get_subscription(channel.id)
        assert subscription is not None
        # A process posted the day and died before the ledger knew.
        at = local(TOKYO, 2025, 11, 18, 9, 0)
        w.store.claim(channel_id=channel.id, guild_id=w.guild.id, digest_date=dt.date(2025, 11, 18),
                      owner="gone/1/dead", window_start=at - dt.timedelta(hours=24),
                      window_end=at, now=at)  # fmt: skip
        w.store.register_process("gone/1/dead", "gone", 1, None)
        w.store.retire_process("gone/1/dead")
        digest = w.scheduler.compose(subscription, at - dt.timedelta(hours=24), at)
        [message] = w.scheduler.delivery.content.render(subscription, digest)
        await w.scheduler.poster.send(channel.id, message, nonce=1)
        # Discord would now answer an empty history: the restarted bot must not believe it.
        w.fake.overwrite(channel, deny=READ_MESSAGE_HISTORY)
        async with bot_on(w.fake, settings, at=(2025, 11, 18, 9, 5)) as again:
            paused = again.store.get_subscription(channel.id)
            entry = again.store.entry(channel.id, dt.date(2025, 11, 18))
    assert posts(w.fake, channel) == [("2025-11-18", 1, 1)]  # never posted twice
    assert paused is not None and paused.paused_reason == (
        "missing_permissions:read_message_history"
    )
    assert entry is not None and entry.status == "failed"
    [notice] = w.fake.channel_messages(w.fake.dm_channel(w.admin).id)
    assert "Read Message History" in notice["content"]


async def test_a_thread_gets_the_digest_even_when_archived(settings: Settings) -> None:
    threads: list[FakeChannel] = []

    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        threads.append(fake.add_thread(guild.channels[0], "daily-ai", archived=True))

    async with world(settings, build) as w:
        [thread] = threads
        reply = await w.digest("subscribe", {"channel": thread, "time": "09:00"})
        assert w.store.get_subscription(thread.id) is not None, reply.messages[-1]["content"]
        assert await w.run_at(thread, 2025, 11, 18, 9, 0) == "posted"
    assert posts(w.fake, thread) == [("2025-11-18", 1, 1)]
    assert not thread.archived  # the message reopened it
    assert w.fake.channel_messages(w.guild.channels[0].id) == []


@pytest.mark.parametrize("manages_threads", [False, True])
async def test_a_locked_archived_thread_needs_manage_threads(
    settings: Settings, manages_threads: bool
) -> None:
    """Only a member with Manage Threads may post in a thread that is locked as well as
    archived: without it the subscription is refused, saying why."""
    threads: list[FakeChannel] = []

    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        if manages_threads:
            guild.bot_permissions |= MANAGE_THREADS
        threads.append(fake.add_thread(guild.channels[0], "closed", archived=True, locked=True))

    async with world(settings, build) as w:
        [thread] = threads
        reply = await w.digest("subscribe", {"channel": thread, "time": "09:00"})
        told = reply.messages[-1]["content"]
        subscribed = w.store.get_subscription(thread.id) is not None
    assert subscribed == manages_threads, told
    assert ("That thread is archived and locked." in told) == (not manages_threads)


async def test_an_announcement_channel_publishes_to_followers_when_asked(
    settings: Settings,
) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.add_channel(guild, "announcements", type=ANNOUNCEMENT)
        fake.add_channel(guild, "quiet-announcements", type=ANNOUNCEMENT)

    async with world(settings, build) as w:
        loud = channel_named(w.guild, "announcements")
        quiet = channel_named(w.guild, "quiet-announcements")
        await w.digest("subscribe", {"channel": loud, "time": "09:00", "publish": True})
        await w.digest("subscribe", {"channel": quiet, "time": "09:00"})
        refused = await w.digest(
            "subscribe", {"channel": w.guild.channels[0], "time": "09:00", "publish": True}
        )
        assert "announcement channels only" in refused.messages[-1]["content"]
        assert w.store.get_subscription(w.guild.channels[0].id) is None
        assert await w.run_at(loud, 2025, 11, 18, 9, 0) == "posted"
        assert await w.scheduler.run_due(quiet.id) == "posted"
    [published] = bot_messages(w.fake, loud)
    [kept] = bot_messages(w.fake, quiet)
    assert published["flags"] & FLAG_CROSSPOSTED and not kept["flags"] & FLAG_CROSSPOSTED
    crossposts = [r for r in w.fake.requests if r.route.endswith("/crosspost")]
    assert [r.status for r in crossposts] == [200]


# --------------------------------------------------------------------------- mentions


async def test_a_role_ping_names_only_that_role(settings: Settings) -> None:
    roles: list[FakeRole] = []

    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        roles.append(fake.add_role(guild, "AI news", mentionable=True))
        roles.append(fake.add_role(guild, "Everyone else", mentionable=True))

    async with world(settings, build) as w:
        news_role, other = roles
        channel = w.guild.channels[0]
        reply = await w.digest(
            "subscribe", {"channel": channel, "time": "09:00", "role": news_role}
        )
        assert f"<@&{news_role.id}>" in reply.messages[-1]["content"]
        assert await w.run_at(channel, 2025, 11, 18, 9, 0) == "posted"
    [message] = bot_messages(w.fake, channel)
    assert message["content"].startswith(f"<@&{news_role.id}> ")
    assert message["mention_roles"] == [str(news_role.id)]  # the one role, nothing else
    assert not message["mention_everyone"] and message["mentions"] == []
    assert "@everyone" in message["embeds"][0]["description"]  # corpus text pings nobody
    [post] = [r for r in w.fake.requests if r.route == "POST /channels/{channel_id}/messages"]
    allowed = post.json["allowed_mentions"]
    assert allowed["parse"] == [] and [str(r) for r in allowed["roles"]] == [str(news_role.id)]
    assert str(other.id) not in str(post.json["allowed_mentions"])


async def test_a_role_nobody_may_ping_and_everyone_are_refused(settings: Settings) -> None:
    roles: list[FakeRole] = []

    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        roles.append(fake.add_role(guild, "secret", mentionable=False))

    async with world(settings, build) as w:
        channel = w.guild.channels[0]
        refused = await w.digest(
            "subscribe", {"channel": channel, "time": "09:00", "role": roles[0]}
        )
        assert "can't be mentioned" in refused.messages[-1]["content"]
        everyone = FakeRole(w.guild.id, "@everyone", mentionable=True, position=0)
        refused = await w.digest(
            "subscribe", {"channel": channel, "time": "09:00", "role": everyone}
        )
        assert "never ping @everyone" in refused.messages[-1]["content"]
        assert w.store.get_subscription(channel.id) is None


# --------------------------------------------------------------------------- permissions


async def test_a_missing_permission_is_named_at_subscribe(settings: Settings) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.overwrite(guild.channels[0], deny=EMBED_LINKS | READ_MESSAGE_HISTORY)
        forum = fake.add_channel(guild, "ai-news", type=FORUM)
        fake.overwrite(forum, deny=SEND_MESSAGES)
        fake.add_channel(guild, "tagged", type=FORUM, require_tag=True, tags=["AI"])

    async with world(settings, build) as w:
        channel, forum = w.guild.channels[0], channel_named(w.guild, "ai-news")
        english = await w.digest("subscribe", {"channel": channel, "time": "09:00"})
        told = english.messages[-1]["content"]
        assert "Embed Links" in told and "Read Message History" in told
        assert "Send Messages" not in told and "Edit Channel → Permissions" in told
        japanese = await w.digest("subscribe", {"channel": forum, "time": "09:00"}, locale="ja")
        assert "投稿の作成" in japanese.messages[-1]["content"]
        tagged = await w.digest("subscribe", {"channel": channel_named(w.guild, "tagged"),
                                              "time": "09:00"})  # fmt: skip
        assert "Require tags" in tagged.messages[-1]["content"]
        assert w.store.list_subscriptions() == []
        assert not any(m["components"] for m in english.messages)  # nothing to test yet
    assert bot_messages(w.fake, channel) == []


async def test_a_pause_is_told_once_to_the_admin_then_the_system_channel(
    settings: Settings,
) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.add_channel(guild, "news")
        guild.system_channel_id = guild.channels[0].id

    async with world(settings, build) as w:
        news = channel_named(w.guild, "news")
        await w.digest("subscribe", {"channel": news, "time": "09:00"}, locale="ja")
        w.fake.fault(news.id, "missing_permissions")  # someone took the bot's rights away
        assert await w.run_at(news, 2025, 11, 18, 9, 0) == "paused"
        assert await w.scheduler.catch_up() == {}  # paused: nothing runs, nobody is told again
        w.clock.set(local(TOKYO, 2025, 11, 19, 9, 0))
        assert await w.scheduler.run_due(news.id) == "inactive"
        assert await w.scheduler.delivery.notices.paused(news.id) is None
        dm = w.fake.dm_channel(w.admin)
        [notice] = w.fake.channel_messages(dm.id)
        text = notice["content"]
        assert f"<#{news.id}>" in text and "Missing Permissions" in text
        assert "/まとめ配信 再開" in text  # in the guild's language, with the fix
        assert bot_messages(w.fake, w.guild.channels[0]) == []  # the DM was enough
        # Resumed, it pauses again later: told again; this time the admin takes no DMs.
        w.fake.clear_faults(news.id)
        resumed = await w.digest("resume", {"channel": news})
        assert w.store.get_subscription(news.id).active, resumed.messages  # type: ignore[union-attr]
        w.admin.accepts_dms = False
        w.fake.fault(news.id, "unknown_channel")
        assert await w.run_at(news, 2025, 11, 20, 9, 0) == "paused"
    [system] = bot_messages(w.fake, w.guild.channels[0])
    assert f"<#{news.id}>" in system["content"] and "/まとめ配信 登録" in system["content"]
    assert system["mentions"] == [] and system["mention_roles"] == []
    assert len(w.fake.channel_messages(dm.id)) == 1


async def test_a_deleted_channel_or_thread_is_unsubscribed_and_its_ledger_kept(
    settings: Settings,
) -> None:
    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        fake.add_channel(guild, "news")
        fake.add_thread(guild.channels[0], "daily")

    async with world(settings, build) as w:
        news = channel_named(w.guild, "news")
        [thread] = w.fake.threads_of(w.guild)
        for target in (news, thread):
            await w.digest("subscribe", {"channel": target, "time": "09:00"})
        assert await w.run_at(news, 2025, 11, 18, 9, 0) == "posted"
        await w.fake.delete_channel(news)
        await w.fake.delete_channel(thread)
        await w.fake.wait_until(lambda: not w.store.list_subscriptions(), timeout=10)
        assert [e.digest_date for e in w.store.entries(news.id)] == [dt.date(2025, 11, 18)]


# --------------------------------------------------------------------------- preview


async def test_the_preview_and_the_post_are_byte_identical(settings: Settings) -> None:
    roles: list[FakeRole] = []

    def build(fake: FakeDiscord, guild: FakeGuild) -> None:
        roles.append(fake.add_role(guild, "AI news", mentionable=True))
        fake.add_channel(guild, "ai-news", type=FORUM)

    async with world(settings, build) as w:
        channel, forum = w.guild.channels[0], channel_named(w.guild, "ai-news")
        for target, locale in ((channel, "ja"), (forum, "en")):
            options = {"channel": target, "time": "09:00", "role": roles[0], "locale": locale,
                       "max_items": 10}  # fmt: skip
            await w.digest("subscribe", options)
        w.clock.set(local(TOKYO, 2025, 11, 19, 7, 30))
        previews = {
            target.id: await w.digest("preview", {"channel": target}) for target in (channel, forum)
        }
        nine = int(local(TOKYO, 2025, 11, 19, 9, 0).timestamp())
        for preview in previews.values():
            assert f"<t:{nine}:F>" in preview.messages[0]["content"]  # the next delivery
        listing = await w.digest("subscriptions", {})
        assert listing.messages[-1]["content"].count(f"<t:{nine}:F> (<t:{nine}:R>)") == 2
        assert await w.run_at(channel, 2025, 11, 19, 9, 0) == "posted"
        assert await w.scheduler.run_due(forum.id) == "posted"
    [post] = [c for c in w.fake.channels.values() if c.parent_id == forum.id]
    for target, messages in ((channel, bot_messages(w.fake, channel)),
                             (forum, w.fake.channel_messages(post.id))):  # fmt: skip
        shown = previews[target.id].messages[1:]
        assert len(messages) == len(shown) == 2  # seven stories: two messages
        assert [seen(m) for m in shown] == [seen(m) for m in messages]
        assert all(m["flags"] & 64 for m in shown)  # the preview only the admin saw


# --------------------------------------------------------------------------- editing


async def test_editing_keeps_the_ledger(settings: Settings) -> None:
    async with world(settings) as w:
        channel = w.guild.channels[0]
        await w.digest("subscribe", {"channel": channel, "time": "09:00", "include": "Claude"})
        assert await w.run_at(channel, 2025, 11, 18, 9, 0) == "posted"
        ledger = w.store.entries(channel.id)
        edited = await w.digest("edit", {"channel": channel, "time": "18:00", "include": "-",
                                         "locale": "en"})  # fmt: skip
        assert "twice" in edited.messages[-1]["content"]
        assert [b["label"] for b in buttons(edited.messages[-1])] == ["🧪 Post a test digest now"]
        subscription = w.store.get_subscription(channel.id)
        assert subscription is not None and (subscription.time, subscription.locale) == (
            "18:00",
            "en",
        )
        assert subscription.include_keywords == () and subscription.subscribed_by == w.admin.id
        assert await w.run_at(channel, 2025, 11, 18, 18, 0) == "done"  # that day was posted
        assert w.store.entries(channel.id) == ledger
        assert await w.run_at(channel, 2025, 11, 19, 18, 0) == "posted"
    assert posts(w.fake, channel) == [("2025-11-18", 1, 1), ("2025-11-19", 1, 1)]
    first, second = bot_messages(w.fake, channel)
    assert "Claude" in first["embeds"][0]["description"]  # the filter, before the edit
    assert "claude-memory" not in str(second)  # posted once: never again after the edit


# --------------------------------------------------------------------------- test post


async def test_a_test_post_is_posted_now_and_the_day_still_comes(settings: Settings) -> None:
    async with world(settings) as w:
        channel = w.guild.channels[0]
        reply = await w.digest("subscribe", {"channel": channel, "time": "09:00"}, locale="ja")
        [button] = buttons(reply.messages[-1])
        assert button["label"] == "🧪 いますぐテスト投稿"
        stranger = await w.fake.click(int(reply.messages[-1]["id"]), label=button["label"])
        await stranger.wait_until(lambda i: bool(i.messages))
        assert bot_messages(w.fake, channel) == []  # only the admin who asked may press it
        click = await w.fake.click(
            int(reply.messages[-1]["id"]), label=button["label"], user=w.admin, locale="ja"
        )
        await click.wait_until(lambda i: bool(i.messages) and not i.loading)
        assert f"<#{channel.id}>" in click.messages[-1]["content"]
        [test] = bot_messages(w.fake, channel)
        assert test["content"].startswith("🧪") and posts(w.fake, channel) == []
        assert w.store.entries(channel.id) == []  # not a delivery
        assert await w.run_at(channel, 2025, 11, 18, 9, 0) == "posted"
    assert posts(w.fake, channel) == [("2025-11-18", 1, 1)]
    test, real = bot_messages(w.fake, channel)
    assert test["embeds"][0]["description"] == real["embeds"][0]["description"]


def buttons(message: JSON) -> Sequence[JSON]:
    return [c for row in message["components"] for c in row["components"]]
