"""Digests and commands through faults, with the bot's own wiring
(``build_digest_components``) against the fake Discord:

* the PostgreSQL server killed mid fan-out and started again: every digest posted once,
  by the same process, within the grace time;
* the disk under ``state.db`` full mid fan-out, then freed: the same;
* a lock held on the state store by another connection: another user's command is still
  answered within Discord's 3 seconds (the fake refuses a later answer), and the admin
  whose change could not be saved is told so — never "done";
* Discord answering 429 more often than discord.py retries: every digest posted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import shutil
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.discord_app.client import NewsBot
from bot.discord_app.digests import build_digest_components
from bot.persona import Persona
from bot.schedule import DigestScheduler
from bot.service import NewsService
from bot.state import SqliteStateStore, StateDamaged, StateStore, Subscription
from tests import postgres_support
from tests.digest_support import Clock, DigestBot, digest_posts, local, make_settings, write_story
from tests.discord_support import admin_slash
from tests.fakes import FakeDiscord

TOKYO = "Asia/Tokyo"
DAY = dt.date(2025, 11, 18)
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
FAN_OUT_SECONDS = 180.0


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digest-faults")
    write_story(root / "corpus", "2025-11-17", "claude-update", impact="high")
    write_story(root / "corpus", "2025-11-18", "gemini-three", impact="critical")
    NewsService(make_settings(root)).ensure_index()
    return root


def settings_for(corpus_root: Path, state_path: Path, **overrides: Any) -> Settings:
    return dataclasses.replace(make_settings(corpus_root), state_path=state_path, **overrides)


def subscribe_channels(
    store: StateStore, fake: FakeDiscord, guilds: int, per_guild: int
) -> list[int]:
    """``guilds`` guilds of ``per_guild`` channels, each subscribed at 09:00 in Tokyo."""
    channels = []
    for g in range(guilds):
        guild = fake.add_guild(f"Guild {g}", channels=[f"news-{c}" for c in range(per_guild)])
        for channel in guild.channels:
            store.save_subscription(
                Subscription(guild.id, channel.id, "09:00", TOKYO, ("ja", "en")[g % 2]), LONG_AGO
            )
            channels.append(channel.id)
    return channels


def reached(fake: FakeDiscord, channels: list[int]) -> int:
    """How many of ``channels`` hold a message."""
    return sum(1 for c in channels if fake.channel_messages(c))


def assert_each_digest_posted_once(
    fake: FakeDiscord, store: StateStore, channels: list[int]
) -> None:
    """Every channel holds exactly its digest of the day, and the ledger says so."""
    for channel in channels:
        assert digest_posts(fake.channel_messages(channel)) == [(DAY.isoformat(), 1, 1)]
        entry = store.entry(channel, DAY)
        [message] = fake.channel_messages(channel)
        assert entry is not None and entry.status == "posted"
        assert entry.message_ids == (int(message["id"]),)


@asynccontextmanager
async def running(fake: FakeDiscord, scheduler: DigestScheduler) -> AsyncIterator[DigestBot]:
    """A bot with ``scheduler`` as its background service, ready and done with start-up."""
    bot = DigestBot([scheduler])
    async with fake.run_bot(bot):
        await scheduler.wait_idle()
        yield bot


# --------------------------------------------------------------------------- outages


@pytest.fixture
def durable_server() -> Iterator[postgres_support.ThrowawayServer]:
    """A PostgreSQL server of this test's own, which it may kill and restart; commits it
    acknowledged survive (``synchronous_commit`` on)."""
    try:
        server = postgres_support.ThrowawayServer(durable=True)
    except postgres_support.PostgresUnavailable as error:
        if postgres_support.in_ci():
            pytest.fail(f"PostgreSQL is required under CI: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {error}")
    try:
        server.start()
        yield server
    finally:
        server.stop()


async def test_postgresql_killed_and_restarted_mid_fan_out_posts_every_digest_once(
    corpus_root: Path, tmp_path: Path, durable_server: postgres_support.ThrowawayServer
) -> None:
    from bot.state_postgres import PostgresStateStore

    url = postgres_support.fresh_database(durable_server.url)
    settings = settings_for(corpus_root, tmp_path / "unused.db", state_url=url)
    async with FakeDiscord() as fake:
        setup = PostgresStateStore(url)
        channels = subscribe_channels(setup, fake, guilds=3, per_guild=50)
        setup.close()
        clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
        _, [scheduler] = build_digest_components(settings, NewsService(settings), clock=clock)
        assert isinstance(scheduler, DigestScheduler)
        scheduler.calls.max_delay = 1.0  # probe the server at least every second
        async with running(fake, scheduler):
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            fan_out = asyncio.ensure_future(scheduler.catch_up())
            await fake.wait_until(lambda: reached(fake, channels) >= 20, timeout=60)
            await asyncio.to_thread(durable_server.kill)
            killed = time.monotonic()
            # Down while the bot probes it five times (backoff 0.25 s, doubling, at most 1 s).
            probes = scheduler.calls.unavailable_attempts + 5
            await fake.wait_until(lambda: scheduler.calls.unavailable_attempts >= probes, 60)
            during = reached(fake, channels)
            await asyncio.to_thread(durable_server.restart)
            back = time.monotonic()
            outcomes = await asyncio.wait_for(fan_out, FAN_OUT_SECONDS)
            print(
                f"PostgreSQL down {back - killed:.1f} s with {during}/{len(channels)} channels "
                f"posted; all posted {time.monotonic() - back:.1f} s after it came back"
            )
        assert 20 <= during < len(channels), "the server was down mid fan-out"
        assert outcomes == {channel: "posted" for channel in channels}
        ledger = PostgresStateStore(url)
        assert_each_digest_posted_once(fake, ledger, channels)
        assert ledger.entries(status="intent") == []
        ledger.close()


@contextlib.contextmanager
def small_filesystem(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (skips where mounting is not permitted)."""
    path.mkdir()
    mount = shutil.which("mount")
    done = (
        subprocess.run(
            [mount, "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if mount
        else None
    )
    if done is None or done.returncode != 0:
        reason = done.stderr.strip() if done is not None else "no mount command"
        pytest.skip(f"a small file system cannot be mounted here to fill it ({reason})")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Write a file in ``folder`` until its file system has no space left."""
    filler = folder / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(chunk)
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0")
    return filler


async def test_a_full_disk_under_state_db_mid_fan_out_posts_every_digest_once(
    corpus_root: Path, tmp_path: Path
) -> None:
    with small_filesystem(tmp_path / "small", "4m") as folder:
        settings = settings_for(corpus_root, folder / "state.db")
        async with FakeDiscord() as fake:
            setup = SqliteStateStore(settings.state_path)
            channels = subscribe_channels(setup, fake, guilds=2, per_guild=30)
            clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
            _, [scheduler] = build_digest_components(settings, NewsService(settings), clock=clock)
            assert isinstance(scheduler, DigestScheduler)
            scheduler.calls.max_delay = 1.0
            async with running(fake, scheduler):
                clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
                fan_out = asyncio.ensure_future(scheduler.catch_up())
                await fake.wait_until(lambda: reached(fake, channels) >= 10, timeout=60)
                filler = await asyncio.to_thread(fill, folder)
                full = time.monotonic()
                probes = scheduler.calls.unavailable_attempts + 5
                await fake.wait_until(lambda: scheduler.calls.unavailable_attempts >= probes, 60)
                during = reached(fake, channels)
                filler.unlink()  # space again
                freed = time.monotonic()
                outcomes = await asyncio.wait_for(fan_out, FAN_OUT_SECONDS)
                print(
                    f"disk full {freed - full:.1f} s with {during}/{len(channels)} channels "
                    f"posted; all posted {time.monotonic() - freed:.1f} s after it was freed"
                )
            assert 10 <= during < len(channels), "the disk was full mid fan-out"
            assert outcomes == {channel: "posted" for channel in channels}
            assert_each_digest_posted_once(fake, setup, channels)
            setup.close()


# --------------------------------------------------------------------------- held lock


@contextlib.contextmanager
def lock_held(kind: str, target: str) -> Iterator[None]:
    """Another connection holds the state's write lock (SQLite) or an exclusive lock on
    the subscriptions table (PostgreSQL) until the block ends."""
    if kind == "sqlite":
        holder = sqlite3.connect(target, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    import psycopg

    with psycopg.connect(target) as connection:
        connection.execute("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            connection.rollback()


def persona_lines(key: str) -> list[str]:
    persona = Persona.load()
    return [*persona.variants(key, "en"), *persona.variants(key, "ja")]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_held_lock_never_keeps_another_users_command_waiting(
    kind: str, corpus_root: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """An admin's ``/digest subscribe`` waits on the lock (SQLite's busy timeout or
    PostgreSQL's ``lock_timeout``, 5 s each); Bob's ``/news latest``, sent right after it,
    must still be answered within Discord's 3 seconds of being sent."""
    if kind == "sqlite":
        settings = settings_for(corpus_root, tmp_path / "state.db")
        store: StateStore = SqliteStateStore(settings.state_path)
        target = str(settings.state_path)
    else:
        from bot.state_postgres import PostgresStateStore

        target = request.getfixturevalue("postgres_url")
        settings = settings_for(corpus_root, tmp_path / "unused.db", state_url=target)
        store = PostgresStateStore(target)
    service = NewsService(settings)
    clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
    admin, background = build_digest_components(settings, service, clock=clock, store=store)
    async with FakeDiscord() as fake:
        news = fake.guild.channels[1]
        bob = fake.add_user("bob")
        bot = NewsBot(
            settings, service, digest_admin=admin, background=background, guild_ready_timeout=0.05
        )
        async with fake.run_bot(bot):
            scheduler = background[0]
            assert isinstance(scheduler, DigestScheduler)
            await scheduler.wait_idle()
            with lock_held(kind, target):
                subscribing = await admin_slash(
                    fake, "digest subscribe", {"time": "09:00"}, channel=news
                )
                latest = await fake.slash("news latest", user=bob, channel_id=news.id)
                await latest.wait_until(lambda i: bool(i.messages) and not i.loading)
                assert latest.acknowledged and not latest.expired  # within Discord's 3 s
                [callback] = [
                    r for r in fake.requests if r.path.startswith(f"/interactions/{latest.id}/")
                ]
                print(f"{kind}: /news latest answered {callback.at - latest.dispatched_at:.3f} s")
                shown = latest.messages[-1]
                assert shown["embeds"] or shown["content"]
                # The admin's change waited for the lock until its timeout: never "done".
                await subscribing.wait_until(
                    lambda i: bool(i.messages) and not i.loading, timeout=30
                )
                assert subscribing.acknowledged and not subscribing.expired
                told = subscribing.messages[-1]["content"]
                assert told in persona_lines("state_unavailable")
            assert store.get_subscription(news.id) is None  # nothing was kept, as told
            again = await admin_slash(fake, "digest subscribe", {"time": "09:00"}, channel=news)
            await again.wait_until(lambda i: bool(i.messages) and not i.loading)
            assert again.messages[-1]["content"] not in persona_lines("state_unavailable")
            assert store.get_subscription(news.id) is not None


async def test_a_state_db_overwritten_while_the_bot_runs_is_never_answered_done(
    corpus_root: Path, tmp_path: Path
) -> None:
    """Garbage written over state.db while the bot runs: SQLite alone would take the
    subscription into its WAL and lose it; the admin is told it could not be saved."""
    settings = settings_for(corpus_root, tmp_path / "state.db")
    service = NewsService(settings)
    clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
    admin, background = build_digest_components(settings, service, clock=clock)
    async with FakeDiscord() as fake:
        news = fake.guild.channels[1]
        bot = NewsBot(
            settings, service, digest_admin=admin, background=background, guild_ready_timeout=0.05
        )
        async with fake.run_bot(bot):
            size = settings.state_path.stat().st_size
            with settings.state_path.open("r+b") as file:
                file.write(b"\x00garbage" * (size // 8))
            it = await admin_slash(fake, "digest subscribe", {"time": "09:00"}, channel=news)
            await it.wait_until(lambda i: bool(i.messages) and not i.loading)
            assert it.messages[-1]["content"] in persona_lines("state_damaged")
    # At close SQLite writes its WAL back over the garbage; whatever is left, the
    # subscription is not in it.
    try:
        reopened = SqliteStateStore(settings.state_path)
    except StateDamaged:
        return
    assert reopened.get_subscription(news.id) is None
    reopened.close()


# --------------------------------------------------------------------------- 429


async def test_429s_beyond_what_discord_py_retries_are_sent_again(
    corpus_root: Path, tmp_path: Path
) -> None:
    """Discord's global limit set at 10 a second (the bot paces itself at 45), and one
    channel answering 429 seven times in a row (discord.py gives up after five)."""
    settings = settings_for(corpus_root, tmp_path / "state.db")
    async with FakeDiscord(global_rate_limit=10) as fake:
        setup = SqliteStateStore(settings.state_path)
        channels = subscribe_channels(setup, fake, guilds=1, per_guild=30)
        stubborn = channels[0]
        fake.fault(stubborn, "rate_limited", times=7, retry_after=0.05)
        clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
        _, [scheduler] = build_digest_components(settings, NewsService(settings), clock=clock)
        assert isinstance(scheduler, DigestScheduler)
        async with running(fake, scheduler):
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            outcomes = await asyncio.wait_for(scheduler.catch_up(), FAN_OUT_SECONDS)
        assert outcomes == {channel: "posted" for channel in channels}
        assert fake.global_429_count > 0
        statuses = [
            r.status
            for r in fake.requests
            if r.method == "POST" and r.params.get("channel_id") == str(stubborn)
        ]
        assert statuses.count(429) >= 7 and statuses[-1] == 200
        assert_each_digest_posted_once(fake, setup, channels)
        setup.close()
