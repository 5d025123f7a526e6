"""Daily digests end to end: a real discord.py client against the fake Discord, a
controlled clock, and the messages that reached the fake — the right ones, once."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.config import Settings
from bot.digest_admin import DigestAdminService
from bot.discord_app.delivery import DiscordPoster, RequestSpacer, SharedRequestBudget
from bot.schedule import DigestScheduler, utc_now
from bot.service import NewsService
from bot.state import SqliteStateStore, StateUnavailable, Subscription
from tests.digest_support import (
    Clock,
    DigestBot,
    digest_posts,
    local,
    make_scheduler,
    make_settings,
    write_story,
)
from tests.discord_support import said
from tests.fakes import FakeDiscord

TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
LONG_AGO = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class Crash(BaseException):
    """The process dies here (not an Exception: nothing in the bot catches it)."""


@pytest.fixture(scope="module")
def corpus_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("digest-discord")
    corpus = root / "corpus"
    write_story(corpus, "2025-11-17", "claude-update", impact="high", tags=("Claude", "Anthropic"))
    write_story(corpus, "2025-11-18", "gemini-three", impact="critical", companies=("Google",))
    write_story(corpus, "2025-11-18", "small-news", impact="low")
    for index in range(10):  # long ones for multi-message digests on 2025-12-01
        write_story(
            corpus,
            "2025-12-01",
            f"long-{index}",
            description="A long description of what happened that day. " * 5,
            comment="とても長いコメントだにゃ。" * 4,
        )
    NewsService(make_settings(root)).ensure_index()
    return root


@pytest.fixture
def settings(corpus_root: Path, tmp_path: Path) -> Settings:
    base = make_settings(corpus_root)
    return dataclasses.replace(base, state_path=tmp_path / "state.db")


@pytest.fixture
def service(settings: Settings) -> NewsService:
    return NewsService(settings)


def subscribe(store: SqliteStateStore, guild_id: int, channel_id: int, **fields: Any) -> None:
    values: dict[str, Any] = {"time": "09:00", "timezone": TOKYO, "locale": "ja"}
    values.update(fields)
    store.save_subscription(Subscription(guild_id, channel_id, **values), LONG_AGO)


@asynccontextmanager
async def running(fake: FakeDiscord, scheduler: DigestScheduler) -> AsyncIterator[DigestBot]:
    """A bot with ``scheduler`` as its background service, connected and ready; the
    scheduler's start-up work (recovery, catch-up) is awaited."""
    bot = DigestBot([scheduler])
    async with fake.run_bot(bot):
        await scheduler.wait_idle()
        yield bot


def posts(fake: FakeDiscord, channel_id: int) -> list[tuple[str, int, int]]:
    return digest_posts(fake.channel_messages(channel_id))


# --------------------------------------------------------------------------- on time


async def test_digest_at_its_local_time_in_tokyo_and_new_york_across_dst(
    settings: Settings, service: NewsService
) -> None:
    plans = {  # channel name → (time, zone)
        "tokyo": ("09:00", TOKYO),
        "ny-nine": ("09:00", NEW_YORK),
        "ny-gap": ("02:30", NEW_YORK),  # does not exist on 2025-03-09
        "ny-twice": ("01:30", NEW_YORK),  # happens twice on 2025-11-02
    }
    async with FakeDiscord() as fake:
        guild = fake.add_guild("DST", channels=list(plans))
        ids = {channel.name: channel.id for channel in guild.channels}
        store = SqliteStateStore(settings.state_path)
        for name, (time, zone) in plans.items():
            subscribe(store, guild.id, ids[name], time=time, timezone=zone, post_empty=True)
        # Started when every subscription's last run is past the grace time: no catch-up.
        clock = Clock(dt.datetime(2025, 3, 6, 20, 30, tzinfo=dt.UTC))
        scheduler = make_scheduler(settings, service, clock, store=store)
        async with running(fake, scheduler):
            fires: list[tuple[dt.datetime, int]] = []
            for name, (time, zone) in plans.items():
                hour, minute = map(int, time.split(":"))
                trigger = CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(zone))
                for start in (
                    dt.datetime(2025, 3, 7, tzinfo=dt.UTC),
                    dt.datetime(2025, 10, 31, tzinfo=dt.UTC),
                ):
                    previous, now = None, start
                    for _ in range(5):
                        fire = trigger.get_next_fire_time(previous, now)
                        fires.append((fire.astimezone(dt.UTC), ids[name]))
                        previous = now = fire
            for at, channel_id in sorted(fires):  # the jobs, firing in time order
                clock.set(at)
                await scheduler.run_due(channel_id)

        def dates(name: str) -> list[str]:
            return [date for date, _, _ in posts(fake, ids[name])]

        march = ["2025-03-07", "2025-03-08", "2025-03-09", "2025-03-10", "2025-03-11"]
        november = ["2025-10-31", "2025-11-01", "2025-11-02", "2025-11-03", "2025-11-04"]
        assert dates("tokyo") == march + november
        assert dates("ny-nine") == march + november
        assert dates("ny-gap") == march + november
        # 01:30 fires twice on Nov 2 (the trigger's fifth run is Nov 3): still one post a day.
        assert dates("ny-twice") == march + november[:4]
        # The New York runs were at 09:00 local: EST before March 9, EDT from then on.
        entries = {e.digest_date.isoformat(): e for e in store.entries(ids["ny-nine"])}
        assert entries["2025-03-08"].window_end == dt.datetime(2025, 3, 8, 14, 0, tzinfo=dt.UTC)
        assert entries["2025-03-09"].window_end == dt.datetime(2025, 3, 9, 13, 0, tzinfo=dt.UTC)
        gap = {e.digest_date.isoformat(): e for e in store.entries(ids["ny-gap"])}
        assert gap["2025-03-09"].window_end == dt.datetime(2025, 3, 9, 7, 30, tzinfo=dt.UTC)


async def test_real_scheduler_fires_the_job_and_logs_a_missed_run(
    settings: Settings, service: NewsService, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Real time", channels=["on-time", "late"])
        on_time, late = (c.id for c in guild.channels)
        store = SqliteStateStore(settings.state_path)
        scheduler = make_scheduler(settings, service, utc_now, store=store)
        async with running(fake, scheduler):
            now = utc_now()
            minute_ago = (now - dt.timedelta(minutes=1)).strftime("%H:%M")
            for channel in (on_time, late):
                subscription = store.save_subscription(
                    Subscription(guild.id, channel, minute_ago, "UTC", "en", post_empty=True),
                    now - dt.timedelta(days=2),
                )
                scheduler.schedule(subscription)
            apscheduler = scheduler._scheduler
            assert apscheduler is not None
            with caplog.at_level(logging.WARNING, "bot.schedule"):
                # A run woken 30 s late with a grace time of 1 s: APScheduler skips it.
                apscheduler.modify_job(
                    DigestScheduler.job_id(late),
                    misfire_grace_time=1,
                    next_run_time=utc_now() - dt.timedelta(seconds=30),
                )
                apscheduler.modify_job(
                    DigestScheduler.job_id(on_time),
                    next_run_time=utc_now() + dt.timedelta(seconds=0.2),
                )
                await fake.wait_until(lambda: fake.channel_messages(on_time))
                await fake.wait_until(lambda: store.entries(late))
                await scheduler.wait_idle()
            assert len(posts(fake, on_time)) == 1
            assert fake.channel_messages(late) == []
            [missed] = store.entries(late)
            assert (missed.status, missed.reason) == ("skipped", "missed")
            assert "past the grace time" in caplog.text


# --------------------------------------------------------------------------- downtime


@pytest.mark.parametrize(
    ("back_at", "expected"), [((11, 0), [("2025-11-18", 1, 1)]), ((15, 30), [])]
)
async def test_downtime_across_the_scheduled_time(
    settings: Settings,
    service: NewsService,
    back_at: tuple[int, int],
    expected: list[tuple[str, int, int]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeDiscord() as fake:
        channel = fake.channel
        store = SqliteStateStore(settings.state_path)
        subscribe(store, fake.guild.id, channel.id)
        clock = Clock(local(TOKYO, 2025, 11, 18, *back_at))  # the bot was down at 09:00
        scheduler = make_scheduler(settings, service, clock, store=store)
        with caplog.at_level(logging.WARNING, "bot.schedule"):
            async with running(fake, scheduler):
                await scheduler.catch_up()  # a second catch-up changes nothing
        assert posts(fake, channel.id) == expected
        [entry] = store.entries(channel.id)
        if expected:
            assert entry.status == "posted"
        else:
            assert (entry.status, entry.reason) == ("skipped", "missed")
            assert "past the grace time" in caplog.text


async def test_reconnects_around_the_scheduled_time(
    settings: Settings, service: NewsService
) -> None:
    async with FakeDiscord() as fake:
        channel = fake.channel
        store = SqliteStateStore(settings.state_path)
        subscribe(store, fake.guild.id, channel.id)
        clock = Clock(local(TOKYO, 2025, 11, 18, 8, 59))
        scheduler = make_scheduler(settings, service, clock, store=store)
        async with running(fake, scheduler) as bot:
            jobs = scheduler.jobs()
            await fake.force_reconnect()  # RESUME
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            assert await scheduler.run_due(channel.id) == "posted"
            await fake.wait_until(lambda: len(fake.resumes) == 1)
            since = len(fake.gateway_log)
            await fake.invalidate_session()  # a fresh IDENTIFY and READY
            await fake.wait_for_gateway(lambda f: f.t == "READY", since=since)
            await fake.wait_connected()
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0, 30))
            assert await scheduler.run_due(channel.id) == "done"
            assert bot.setup_calls == 1 and scheduler.jobs() == jobs
        assert posts(fake, channel.id) == [("2025-11-18", 1, 1)]


# --------------------------------------------------------------------------- crashes


class CrashingStore(SqliteStateStore):
    """Dies right after Discord accepted a part, before the ledger records it."""

    def record_messages(self, *args: Any, **kwargs: Any) -> bool:
        raise Crash


class CrashingPoster(DiscordPoster):
    """Dies after the intent was recorded, before anything is sent."""

    async def send(self, channel_id: int, message: Any, **options: Any) -> int:
        raise Crash


@pytest.mark.parametrize("crash", ["after_post", "before_post"])
async def test_crash_then_restart_posts_exactly_once(
    settings: Settings, service: NewsService, crash: str
) -> None:
    async with FakeDiscord() as fake:
        channel = fake.channel
        clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
        if crash == "after_post":
            store: SqliteStateStore = CrashingStore(settings.state_path)
            first = make_scheduler(settings, service, clock, store=store)
        else:
            store = SqliteStateStore(settings.state_path)
            first = make_scheduler(settings, service, clock, store=store)
            first._poster_factory = lambda bot: CrashingPoster(bot, spacer=RequestSpacer(40))
        subscribe(store, fake.guild.id, channel.id)
        async with running(fake, first):
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            with pytest.raises(Crash):
                await first.run_due(channel.id)
        # The process is gone; its row says "intent".
        day = dt.date(2025, 11, 18)
        entry = SqliteStateStore(settings.state_path).entry(channel.id, day)
        assert entry is not None and entry.status == "intent"
        sent = posts(fake, channel.id)
        assert sent == ([("2025-11-18", 1, 1)] if crash == "after_post" else [])

        clock.set(local(TOKYO, 2025, 11, 18, 9, 3))
        second = make_scheduler(settings, service, clock)
        async with running(fake, second):
            assert await second.run_due(channel.id) == "done"
        assert posts(fake, channel.id) == [("2025-11-18", 1, 1)]
        entry = second.store.entry(channel.id, day)
        [message] = fake.channel_messages(channel.id)
        assert (
            entry is not None
            and entry.status == "posted"
            and entry.message_ids == (int(message["id"]),)
        )
        assert entry.stories  # the stories are recorded even when recovered from Discord


async def test_two_processes_on_one_state_db_post_once(
    settings: Settings, service: NewsService
) -> None:
    async with FakeDiscord() as fake:
        channel = fake.channel
        setup = SqliteStateStore(settings.state_path)
        subscribe(setup, fake.guild.id, channel.id)
        subscribe(setup, fake.guild.id, fake.guild.channels[1].id, time="09:05")
        clock = Clock(local(TOKYO, 2025, 11, 18, 9, 1))  # both start after 09:00
        one = make_scheduler(settings, service, clock)
        two = make_scheduler(settings, service, clock)
        bot_one, bot_two = DigestBot([one]), DigestBot([two])
        async with fake.run_bot(bot_one), fake.run_bot(bot_two):
            await one.wait_idle()
            await two.wait_idle()
            clock.set(local(TOKYO, 2025, 11, 18, 9, 5))
            outcomes = await asyncio.gather(
                one.run_due(fake.guild.channels[1].id), two.run_due(fake.guild.channels[1].id)
            )
        assert outcomes.count("posted") == 1  # the other found the day claimed
        assert posts(fake, channel.id) == [("2025-11-18", 1, 1)]
        assert posts(fake, fake.guild.channels[1].id) == [("2025-11-18", 1, 1)]
        owners = {e.owner for e in setup.entries()}
        assert owners <= {one.owner, two.owner}


# --------------------------------------------------------------------------- faults


async def test_one_broken_channel_among_several(settings: Settings, service: NewsService) -> None:
    kinds = ["ok", "missing_access", "missing_permissions", "unknown_channel",
             "rate_limited", "server_error"]  # fmt: skip
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Faults", channels=kinds)
        ids = {c.name: c.id for c in guild.channels}
        store = SqliteStateStore(settings.state_path)
        for channel_id in ids.values():
            subscribe(store, guild.id, channel_id, post_empty=True)
        for kind in kinds[1:]:
            fake.fault(ids[kind], kind, times=None if "missing" in kind or "unknown" in kind else 1)  # type: ignore[arg-type]
        clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
        scheduler = make_scheduler(settings, service, clock, store=store)
        async with running(fake, scheduler):
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            outcomes = await scheduler.catch_up()  # every job firing at 09:00
            by_name = {name: outcomes[ids[name]] for name in kinds}
            assert by_name == {
                "ok": "posted",
                "missing_access": "paused",
                "missing_permissions": "paused",
                "unknown_channel": "paused",
                "rate_limited": "posted",
                "server_error": "posted",
            }
            clock.set(local(TOKYO, 2025, 11, 19, 9, 0))  # the next day: not retried
            next_day = await scheduler.catch_up()
            listing = await DigestAdminService(scheduler).subscriptions(
                guild_id=guild.id, user_locale="en-US"
            )
        for name in ("ok", "rate_limited", "server_error"):
            assert posts(fake, ids[name]) == [("2025-11-18", 1, 1), ("2025-11-19", 1, 1)]
        for name in ("missing_access", "missing_permissions", "unknown_channel"):
            assert fake.channel_messages(ids[name]) == []
            subscription = store.get_subscription(ids[name])
            assert subscription is not None and subscription.paused_reason == name
            assert ids[name] not in next_day  # paused: not run again
            tries = [r for r in fake.requests if r.params.get("channel_id") == str(ids[name])]
            assert len(tries) == 1  # one refused post, never repeated
        statuses = [
            r.status
            for r in fake.requests
            if r.method == "POST" and r.params.get("channel_id") == str(ids["rate_limited"])
        ]
        assert statuses == [429, 200, 200]
        statuses = [
            r.status
            for r in fake.requests
            if r.method == "POST" and r.params.get("channel_id") == str(ids["server_error"])
        ]
        assert statuses == [500, 200, 200]
        assert "Missing Permissions" in listing.header and "paused" in listing.header
        assert listing.header.count("active") == 3
        assert "Missing Access" in listing.footer  # technyan explains the first pause


async def test_thirty_channels_at_once_stay_under_the_global_rate_limit(
    settings: Settings, service: NewsService
) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Busy", channels=[f"news-{i}" for i in range(30)])
        store = SqliteStateStore(settings.state_path)
        for channel in guild.channels:
            subscribe(store, guild.id, channel.id, max_items=10, locale="en")
        clock = Clock(local(TOKYO, 2025, 12, 1, 8, 0))
        scheduler = make_scheduler(settings, service, clock, store=store)
        async with running(fake, scheduler):
            clock.set(local(TOKYO, 2025, 12, 1, 9, 0))
            since = fake.mark()
            outcomes = await scheduler.catch_up()
        assert set(outcomes.values()) == {"posted"}
        parts = posts(fake, guild.channels[0].id)[0][2]
        assert parts >= 2  # every digest needs several messages
        for channel in guild.channels:
            assert posts(fake, channel.id) == [
                ("2025-12-01", i, parts) for i in range(1, parts + 1)
            ]
        assert len([r for r in fake.requests[since:] if r.method == "POST"]) == 30 * parts
        assert fake.global_429_count == 0
        assert scheduler.cache.misses == 1  # one story selection for thirty digests


# --------------------------------------------------------------------------- NewsBot


async def test_admin_commands_through_news_bot(settings: Settings, service: NewsService) -> None:
    from bot.discord_app.client import NewsBot
    from bot.discord_app.digests import build_digest_components

    clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
    admin, background = build_digest_components(settings, service, clock=clock)
    async with FakeDiscord() as fake:
        channel = fake.channel
        bot = NewsBot(settings, service, digest_admin=admin, background=background,
                      guild_ready_timeout=0.05)  # fmt: skip
        async with fake.run_bot(bot):
            options = {"channel": channel, "time": "９：００", "timezone": "asia/tokyo",
                       "max_items": 3}  # fmt: skip
            subscribing = await fake.slash(
                "digest subscribe", options, permissions=MANAGE_GUILD, locale="ja"
            )
            await subscribing.wait_until(lambda i: i.content is not None and not i.loading)
            nine = int(local(TOKYO, 2025, 11, 18, 9, 0).timestamp())
            assert f"<t:{nine}:F>" in (subscribing.content or "") and subscribing.ephemeral
            listing = await fake.slash(
                "digest subscriptions", permissions=MANAGE_GUILD, locale="ja"
            )
            await listing.wait_until(lambda i: i.content is not None and not i.loading)
            assert f"<#{channel.id}>" in (listing.content or "")
            assert "配信中" in (listing.content or "") and listing.ephemeral
            preview = await fake.slash("digest preview", permissions=MANAGE_GUILD)
            await preview.wait_until(lambda i: len(i.messages) == 2 and not i.loading)
            assert all(m["flags"] & 64 for m in preview.messages)  # only the admin sees it
            assert preview.messages[1]["embeds"]  # the digest, as it will be posted
            assert fake.channel_messages(channel.id) == []  # a preview posts nothing
            scheduler = background[0]
            assert isinstance(scheduler, DigestScheduler)
            clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
            assert await scheduler.run_due(channel.id) == "posted"
            await bot.tree.sync()
            with pytest.raises(PermissionError):  # Discord hides /digest from members
                await fake.slash("digest subscriptions")
        assert posts(fake, channel.id) == [("2025-11-18", 1, 1)]
        [message] = fake.channel_messages(channel.id)
        assert message["mentions"] == [] and not message["mention_everyone"]
        assert message["mention_roles"] == []


async def test_sigterm_during_a_digest_lets_it_finish_and_a_restart_posts_nothing_more(
    tmp_path: Path,
) -> None:
    """``technyan-bot run`` in a process of its own gets SIGTERM while the second of a
    digest's two messages is in flight: it stops taking commands, finishes the digest,
    exits 0, and a start afterwards posts nothing more."""
    import os
    import signal
    import subprocess
    import sys

    # A zone where it is about noon now, so the day cannot turn during the test; the
    # subscription's time passed two minutes ago, so start-up catch-up posts it at once.
    now = dt.datetime.now(dt.UTC)
    offset = 12 - now.hour  # Etc/GMT-9 is UTC+9
    zone = ZoneInfo(f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC")
    local_now = now.astimezone(zone)
    day = local_now.date()
    due = (local_now - dt.timedelta(minutes=2)).strftime("%H:%M")
    corpus = tmp_path / "corpus"
    for index in range(7):  # two messages: five stories, then two
        write_story(corpus, day.isoformat(), f"story-{index}", impact="high")
    state = tmp_path / "state.db"

    async with FakeDiscord() as fake:
        channel = fake.channel
        store = SqliteStateStore(state)
        subscribe(store, fake.guild.id, channel.id, time=due, timezone=zone.key, max_items=10)
        store.close()
        second_part = fake.hold(channel_id=channel.id, after=1)
        repo = Path(__file__).resolve().parents[1]
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TECHNYAN_")},
            "PYTHONPATH": str(repo),
            "DISCORD_TOKEN": fake.token,
            "FAKE_DISCORD_API": fake.api_url,
            "FAKE_DISCORD_GATEWAY": fake.ws_url,
            "TECHNYAN_CORPUS_PATH": str(corpus),
            "TECHNYAN_CORPUS_REFRESH_MINUTES": "0",
            "TECHNYAN_INDEX_PATH": str(tmp_path / "index.db"),
            "TECHNYAN_STATE_PATH": str(state),
        }

        def start() -> subprocess.Popen[bytes]:
            return subprocess.Popen(
                [sys.executable, "-m", "tests.bot_on_fake", "run"],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=(tmp_path / "bot.log").open("ab"),
            )

        bot = start()
        try:
            await fake.wait_until(lambda: second_part.waiting == 1, timeout=120)
            assert posts(fake, channel.id) == [(day.isoformat(), 1, 2)]
            bot.send_signal(signal.SIGTERM)
            # The bot stops taking commands (technyan's apology) while the digest waits.
            for attempt in range(50):  # each from a new user: no one's command budget runs out
                user = fake.add_user(f"reader-{attempt}")
                asked = await fake.slash("news latest", {"count": 1}, user=user)
                await asked.wait_until(lambda i: bool(i.messages), timeout=60)
                if asked.ephemeral:
                    break
            assert asked.ephemeral and said(asked.content, "error", "en")
            assert bot.poll() is None and second_part.waiting == 1
            second_part.release()
            status = await asyncio.wait_for(asyncio.to_thread(bot.wait), 120)
        finally:
            if bot.poll() is None:
                bot.kill()
                bot.wait()
        log = (tmp_path / "bot.log").read_text(errors="replace")
        assert status == 0, log
        assert "Traceback" not in log
        assert posts(fake, channel.id) == [(day.isoformat(), 1, 2), (day.isoformat(), 2, 2)]
        entry = SqliteStateStore(state).entry(channel.id, day)
        assert entry is not None and entry.status == "posted" and len(entry.message_ids) == 2

        # Started again, its catch-up finds the day posted: nothing more is sent.
        again = start()
        try:
            ready = len(fake.identifies) + 1
            await fake.wait_until(lambda: len(fake.identifies) >= ready, timeout=120)
            answered_again = await fake.slash("news latest", {"count": 1})
            await answered_again.wait_until(lambda i: bool(i.messages), timeout=60)
            again.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(asyncio.to_thread(again.wait), 120) == 0
        finally:
            if again.poll() is None:
                again.kill()
                again.wait()
        assert posts(fake, channel.id) == [(day.isoformat(), 1, 2), (day.isoformat(), 2, 2)]


async def test_the_shared_request_budget_tells_each_outage_and_each_return(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answering = True
    paced_alone = 0

    async def reserve(budget: str, interval: float) -> float:
        if not answering:
            raise StateUnavailable("state.db is locked")
        return 0.0

    class Alone:
        async def wait(self) -> None:
            nonlocal paced_alone
            paced_alone += 1

    budget = SharedRequestBudget(reserve, budget="discord-global:1", fallback=Alone())
    caplog.set_level(logging.INFO, logger="bot.discord_app.delivery")
    for _outage in range(2):
        await budget.wait()
        answering = False
        for _ in range(3):
            await budget.wait()
        answering = True
    await budget.wait()
    told = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert paced_alone == 6
    assert [level for level, _ in told] == ["WARNING", "INFO", "WARNING", "INFO"]
    assert all("discord-global:1" in message for _, message in told)
