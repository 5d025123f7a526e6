"""The digest scheduler's rules with a controlled clock and an in-memory poster: time zones
and DST, the grace time, retries, pausing, recovery of interrupted digests, windows."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.digest import parse_marker
from bot.digest_admin import DigestAdminService
from bot.schedule import (
    DeliveryError,
    DigestScheduler,
    ProcessIdentity,
    scheduled_at_or_before,
)
from bot.service import NewsService
from bot.state import SqliteStateStore, SqlStateStore, StateStore, StateUnavailable, Subscription
from tests.digest_support import (
    Clock,
    FakePoster,
    local,
    make_scheduler,
    make_settings,
    write_story,
)

TOKYO, NEW_YORK = "Asia/Tokyo", "America/New_York"
GUILD, CHANNEL = 1 << 22, 100


# --------------------------------------------------------------------------- time


@pytest.mark.parametrize("zone", [TOKYO, NEW_YORK])
@pytest.mark.parametrize("hour_minute", [(9, 0), (2, 30), (1, 30), (0, 0), (23, 59)])
@pytest.mark.parametrize("start", [dt.date(2025, 3, 7), dt.date(2025, 10, 31)])
def test_occurrences_agree_with_cron_trigger_across_dst(
    zone: str, hour_minute: tuple[int, int], start: dt.date
) -> None:
    hour, minute = hour_minute
    tz = ZoneInfo(zone)
    trigger = CronTrigger(hour=hour, minute=minute, timezone=tz)
    previous = None
    now = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    days = []
    for _ in range(6):
        fire = trigger.get_next_fire_time(previous, now)
        instant = fire.astimezone(dt.UTC)  # arithmetic on a fold=1 local time loses the fold
        occurrence = scheduled_at_or_before(instant + dt.timedelta(seconds=30), hour, minute, tz)
        assert occurrence.at == instant
        before = scheduled_at_or_before(instant - dt.timedelta(seconds=1), hour, minute, tz)
        assert before.at < occurrence.at
        days.append(occurrence.day)
        previous = now = fire
    # One digest date per calendar day; on New York's fall-back day 01:30 fires twice for
    # the same date (the ledger keeps it to one post).
    if zone == NEW_YORK and hour_minute == (1, 30) and start.month == 10:
        assert days.count(dt.date(2025, 11, 2)) == 2
    else:
        assert len(set(days)) == len(days)


def test_new_york_dst_instants() -> None:
    ny = ZoneInfo(NEW_YORK)
    nine = [
        scheduled_at_or_before(local(NEW_YORK, 2025, 3, d, 12, 0), 9, 0, ny).at.hour
        for d in (8, 9, 10)
    ]
    assert nine == [14, 13, 13]  # EST, then EDT from March 9
    gap = scheduled_at_or_before(local(NEW_YORK, 2025, 3, 9, 12, 0), 2, 30, ny)
    assert (gap.day, gap.at) == (dt.date(2025, 3, 9), dt.datetime(2025, 3, 9, 7, 30, tzinfo=dt.UTC))
    fall = scheduled_at_or_before(local(NEW_YORK, 2025, 11, 2, 12, 0), 1, 30, ny)
    assert (fall.day, fall.at) == (
        dt.date(2025, 11, 2),
        dt.datetime(2025, 11, 2, 6, 30, tzinfo=dt.UTC),
    )


# --------------------------------------------------------------------------- runs


@dataclass
class World:
    root: Path
    service: NewsService
    clock: Clock
    poster: FakePoster
    scheduler: DigestScheduler
    store: StateStore

    def subscribe(self, **fields: object) -> Subscription:
        values: dict[str, object] = {
            "guild_id": GUILD,
            "channel_id": CHANNEL,
            "time": "09:00",
            "timezone": TOKYO,
            "locale": "ja",
        }
        values.update(fields)
        created = self.clock() - dt.timedelta(days=30)
        subscription = self.store.save_subscription(Subscription(**values), created)  # type: ignore[arg-type]
        self.scheduler.schedule(subscription)
        return subscription

    def digests(self, channel: int = CHANNEL) -> list[tuple[str, int, int]]:
        markers = [parse_marker(c) for c in self.poster.contents(channel)]
        return [(m.digest_date.isoformat(), m.part, m.total) for m in markers if m]


@pytest.fixture(params=["sqlite", "postgres"])
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """A started scheduler over a small corpus, posting to a ``FakePoster``; its state in
    SQLite or in PostgreSQL (every test runs on both: the rules do not depend on it)."""
    corpus = tmp_path / "corpus"
    write_story(corpus, "2025-11-17", "monday", impact="high")
    write_story(corpus, "2025-11-18", "tuesday", impact="high")
    write_story(corpus, "2025-11-19", "wednesday")
    settings = make_settings(tmp_path)
    service = NewsService(settings)
    clock = Clock(local(TOKYO, 2025, 11, 18, 8, 0))
    poster = FakePoster()
    store: StateStore
    if request.param == "sqlite":
        store = SqliteStateStore(settings.state_path)
    else:
        from bot.state_postgres import PostgresStateStore

        store = PostgresStateStore(request.getfixturevalue("postgres_url"))
    # Leases are judged at once (a process normally watches its own for a lease first).
    scheduler = make_scheduler(
        settings, service, clock, store=store, poster=poster, watch_seconds=0
    )
    await scheduler.start(object())
    await scheduler.wait_idle()
    yield World(tmp_path, service, clock, poster, scheduler, store)
    await scheduler.stop()
    store.close()


async def test_posts_once_per_local_date(world: World) -> None:
    world.subscribe()
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert await world.scheduler.run_due(CHANNEL) == "done"
    world.clock.advance(hours=3)
    assert await world.scheduler.run_due(CHANNEL) == "done"
    assert world.digests() == [("2025-11-18", 1, 1)]
    [entry] = world.store.entries(CHANNEL)
    assert entry.status == "posted" and entry.message_ids == (world.poster.messages[CHANNEL][0][0],)
    assert [s.rsplit("/", 1)[1] for s in entry.stories] == ["tuesday", "monday"]


async def test_next_days_digest_has_only_new_stories(world: World) -> None:
    world.subscribe()
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    await world.scheduler.run_due(CHANNEL)
    # A story dated Tuesday arrives after Tuesday's digest went out.
    write_story(world.root / "corpus", "2025-11-18", "tuesday-evening")
    world.service.reindex()
    world.clock.set(local(TOKYO, 2025, 11, 19, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    wednesday = world.store.entry(CHANNEL, dt.date(2025, 11, 19))
    assert wednesday is not None
    assert sorted(s.rsplit("/", 1)[1] for s in wednesday.stories) == [
        "tuesday-evening",
        "wednesday",
    ]
    assert wednesday.window_start == local(TOKYO, 2025, 11, 18, 9, 0)


async def test_empty_day_posts_nothing_unless_asked(world: World) -> None:
    world.subscribe()
    world.subscribe(channel_id=CHANNEL + 1, post_empty=True)
    world.clock.set(local(TOKYO, 2025, 11, 25, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "empty"
    assert await world.scheduler.run_due(CHANNEL + 1) == "posted"
    assert world.poster.contents(CHANNEL) == []
    [line] = world.poster.contents(CHANNEL + 1)
    assert "11月25日" in line.splitlines()[0]
    [entry] = world.store.entries(CHANNEL)
    assert (entry.status, entry.reason) == ("skipped", "empty")


async def test_downtime_within_and_beyond_the_grace_time(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.subscribe()
    world.subscribe(channel_id=CHANNEL + 1)
    world.clock.set(local(TOKYO, 2025, 11, 18, 14, 59))  # 5 h 59 late: within 6 h
    assert await world.scheduler.catch_up([CHANNEL]) == {CHANNEL: "posted"}
    world.clock.set(local(TOKYO, 2025, 11, 18, 15, 1))  # 6 h 1 late
    with caplog.at_level(logging.WARNING, "bot.schedule"):
        assert await world.scheduler.catch_up([CHANNEL + 1]) == {CHANNEL + 1: "missed"}
    assert "past the grace time" in caplog.text
    assert world.digests() == [("2025-11-18", 1, 1)]
    assert world.poster.contents(CHANNEL + 1) == []
    [missed] = world.store.entries(CHANNEL + 1)
    assert (missed.status, missed.reason) == ("skipped", "missed")
    assert await world.scheduler.catch_up([CHANNEL, CHANNEL + 1]) == {
        CHANNEL: "done",
        CHANNEL + 1: "done",
    }


async def test_a_new_subscription_does_not_catch_up_on_today(world: World) -> None:
    world.clock.set(local(TOKYO, 2025, 11, 18, 10, 0))
    world.store.save_subscription(Subscription(GUILD, CHANNEL, "09:00", TOKYO), world.clock())
    assert await world.scheduler.run_due(CHANNEL) == "not-due"
    world.clock.set(local(TOKYO, 2025, 11, 19, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"


async def test_fall_back_day_posts_once(world: World) -> None:
    world.subscribe(time="01:30", timezone=NEW_YORK)
    world.clock.set(local(NEW_YORK, 2025, 11, 2, 1, 30, fold=0))
    assert await world.scheduler.run_due(CHANNEL) == "empty"
    world.clock.set(local(NEW_YORK, 2025, 11, 2, 1, 30, fold=1))  # an hour later
    assert await world.scheduler.run_due(CHANNEL) == "done"


async def test_transient_errors_are_retried_a_bounded_number_of_times(world: World) -> None:
    world.subscribe()
    world.subscribe(channel_id=CHANNEL + 1)
    world.poster.errors[CHANNEL] = [DeliveryError("server_error", retryable=True)] * 2
    world.poster.errors[CHANNEL + 1] = [DeliveryError("timeout", retryable=True)] * 3
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert await world.scheduler.run_due(CHANNEL + 1) == "failed"
    assert len(world.digests(CHANNEL)) == 1 and world.poster.contents(CHANNEL + 1) == []
    failed = world.store.entry(CHANNEL + 1, dt.date(2025, 11, 18))
    assert failed is not None and (failed.status, failed.reason) == ("failed", "timeout")
    assert world.store.get_subscription(CHANNEL + 1).active  # type: ignore[union-attr]
    # A restart within the grace time tries that day once more.
    assert await world.scheduler.catch_up([CHANNEL + 1]) == {CHANNEL + 1: "posted"}


async def test_a_retry_first_looks_for_the_attempt_that_landed(world: World) -> None:
    world.subscribe()
    poster = world.poster
    original_send = poster.send

    async def lands_then_times_out(channel_id: int, message: Any, **options: Any) -> int:
        await original_send(channel_id, message, **options)
        raise DeliveryError("timeout", retryable=True)

    poster.send = lands_then_times_out  # type: ignore[method-assign]
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert world.digests() == [("2025-11-18", 1, 1)]
    assert len(poster.sent) == 1


async def test_permanent_errors_pause_until_resumed(world: World) -> None:
    world.subscribe(subscribed_by=55)
    reason = "missing_permissions:embed_links"
    world.poster.errors[CHANNEL] = [DeliveryError(reason, permanent=True)]
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "paused"
    subscription = world.store.get_subscription(CHANNEL)
    assert subscription is not None
    assert (subscription.state, subscription.paused_reason) == ("paused", reason)
    assert CHANNEL not in world.scheduler.jobs()
    # The admin who subscribed is told once, in the digest's language: channel, reason, fix.
    [(guild, user, text)] = world.poster.told
    assert (guild, user) == (GUILD, 55) and f"<#{CHANNEL}>" in text
    assert "埋め込みリンク" in text and "/まとめ配信 再開" in text
    world.clock.advance(minutes=30)
    assert await world.scheduler.run_due(CHANNEL) == "inactive"
    assert len(world.poster.sent) == 1  # not retried while paused
    assert await world.scheduler.delivery.notices.paused(CHANNEL) is None  # told already
    assert len(world.poster.told) == 1
    admin = DigestAdminService(world.scheduler)
    reply = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en-US")
    assert "back on" in reply.header or "again" in reply.header or "Restarted" in reply.header
    await world.scheduler.wait_idle()
    assert world.digests() == [("2025-11-18", 1, 1)]
    assert CHANNEL in world.scheduler.jobs()


async def test_a_refused_channel_is_paused_even_while_the_store_stumbles(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pausing after a refusal is retried until the run's deadline, not only for the
    least retry time: the subscription is paused and the admin told, not left to be
    refused again the next day."""
    world.subscribe(subscribed_by=55)
    delivery = world.scheduler.delivery
    delivery.min_retry_seconds = delivery.posting.min_retry_seconds = 0.05
    world.scheduler.calls.first_delay, world.scheduler.calls.max_delay = 0.05, 0.1
    real_set_state = world.store.set_state
    calls: list[int] = []

    def away_for_four_calls(*arguments: Any, **options: Any) -> Any:
        calls.append(len(calls))
        if len(calls) <= 4:
            raise StateUnavailable("database is locked")
        return real_set_state(*arguments, **options)

    monkeypatch.setattr(world.store, "set_state", away_for_four_calls)
    world.poster.errors[CHANNEL] = [DeliveryError("missing_access", permanent=True)]
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "paused"
    assert len(calls) == 5
    subscription = world.store.get_subscription(CHANNEL)
    assert subscription is not None and subscription.state == "paused"
    assert len(world.poster.told) == 1


def claim_for(world: World, owner: str, at: dt.datetime) -> None:
    """An ``intent`` row of ``owner`` for today's 09:00 digest, claimed at ``at``."""
    world.store.claim(
        channel_id=CHANNEL,
        guild_id=GUILD,
        digest_date=at.astimezone(ZoneInfo(TOKYO)).date(),
        owner=owner,
        window_start=at - dt.timedelta(hours=24),
        window_end=at,
        now=at,
    )


def lease_for(world: World, host: str, pid: int, *, host_key: str | None) -> ProcessIdentity:
    """Another process's identity, with a lease renewed now."""
    other = ProcessIdentity(host, pid, host_key, secrets.token_hex(8))
    world.store.register_process(other.owner, other.host, other.pid, other.host_key)
    return other


def age_lease(world: World, owner: str, seconds: float) -> None:
    """Make ``owner``'s last heartbeat ``seconds`` old (on the database's clock)."""
    store = world.store
    assert isinstance(store, SqlStateStore)
    then = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    with store._transaction() as cursor:
        store._run(
            cursor,
            "UPDATE processes SET heartbeat_at = ? WHERE owner = ?",
            [store.dialect.instant(then), owner],
        )


async def test_interrupted_digest_is_posted_by_the_next_process(world: World) -> None:
    world.subscribe()
    day = dt.date(2025, 11, 18)
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    # A process of this machine and pid namespace whose pid is gone: dead at once,
    # however fresh its heartbeat.
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.recover() == {(CHANNEL, day): "posted"}
    assert world.digests() == [("2025-11-18", 1, 1)]
    assert await world.scheduler.recover() == {}


@pytest.mark.parametrize(
    ("change", "outcome", "status", "reason"),
    [
        ("forbidden", "paused", "failed", "missing_access"),
        ("unsubscribed", "inactive", "failed", "unsubscribed"),
        ("paused", "inactive", "failed", "paused"),
        ("past_grace", "missed", "skipped", "missed"),
    ],
)
async def test_an_interrupted_digest_that_can_no_longer_go_out_is_closed_not_posted(
    world: World, change: str, outcome: str, status: str, reason: str
) -> None:
    """While the process that claimed it was dead, the channel was refused to the bot,
    the subscription removed or paused, or the grace time passed: recovery closes the
    ledger row with the reason and posts nothing."""
    world.subscribe()
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    world.clock.set(at + dt.timedelta(minutes=1))
    if change == "forbidden":
        world.poster.read_errors[CHANNEL] = [DeliveryError("missing_access", permanent=True)]
    elif change == "unsubscribed":
        world.store.delete_subscription(CHANNEL)
    elif change == "paused":
        world.store.set_state(CHANNEL, "paused", "missing_permissions", world.clock())
    else:
        grace = world.scheduler.settings.misfire_grace_seconds
        world.clock.set(at + dt.timedelta(seconds=grace + 60))
    assert await world.scheduler.recover() == {(CHANNEL, day): outcome}
    assert world.poster.sent == []
    entry = world.store.entry(CHANNEL, day)
    assert entry is not None and (entry.status, entry.reason) == (status, reason)
    assert entry.owner == me.owner  # taken over, then closed
    subscription = world.store.get_subscription(CHANNEL)
    if change == "forbidden":  # paused with the reason, and the guild told once
        assert subscription is not None and subscription.state == "paused"
        assert subscription.paused_reason == "missing_access"
        assert len(world.poster.told) == 1
    assert await world.scheduler.recover() == {}  # nothing left to recover


async def test_a_channel_that_cannot_be_read_yet_leaves_the_row_for_the_next_pass(
    world: World,
) -> None:
    world.subscribe()
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    world.clock.set(at + dt.timedelta(minutes=1))
    world.poster.read_errors[CHANNEL] = [DeliveryError("server_error", retryable=True)]
    assert await world.scheduler.recover() == {(CHANNEL, day): "busy"}
    entry = world.store.entry(CHANNEL, day)
    assert entry is not None and entry.status == "intent" and entry.owner == dead.owner
    assert await world.scheduler.recover() == {(CHANNEL, day): "posted"}
    assert world.digests() == [("2025-11-18", 1, 1)]


async def test_a_process_that_stopped_cleanly_leaves_its_rows_at_once(world: World) -> None:
    world.subscribe()
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    stopped = lease_for(world, "elsewhere", 7, host_key="another-machine")
    claim_for(world, stopped.owner, at)
    world.clock.set(at + dt.timedelta(seconds=5))
    assert await world.scheduler.run_due(CHANNEL) == "busy"  # alive: its heartbeat is fresh
    world.store.retire_process(stopped.owner)
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert len(world.digests()) == 1


async def test_same_host_name_and_pid_elsewhere_is_judged_by_its_heartbeat(
    world: World,
) -> None:
    """Two containers with one host name and the bot as PID 1 in each: the other's pid
    says nothing here; only its lease does."""
    world.subscribe()
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    twin = lease_for(world, me.host, me.pid, host_key="another-pid-namespace")
    assert twin.owner != me.owner
    claim_for(world, twin.owner, at)
    world.clock.set(at + dt.timedelta(seconds=5))
    assert await world.scheduler.run_due(CHANNEL) == "busy"
    assert await world.scheduler.recover() == {}
    age_lease(world, twin.owner, 80)  # within the lease of 90 s
    assert await world.scheduler.recover() == {}
    age_lease(world, twin.owner, 91)  # 91 s without a heartbeat: dead
    assert list((await world.scheduler.recover()).values()) == ["posted"]
    assert len(world.digests()) == 1


async def test_intent_of_an_owner_without_a_lease_waits_for_its_last_write(
    world: World,
) -> None:
    """Rows written before leases existed: the owner's last write counts for ten minutes."""
    world.subscribe()
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    claim_for(world, "another-host/123/abc", at)
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.run_due(CHANNEL) == "busy"
    assert await world.scheduler.recover() == {}
    world.clock.set(at + dt.timedelta(minutes=11))
    assert list((await world.scheduler.recover()).values()) == ["posted"]
    assert len(world.digests()) == 1


async def test_partly_posted_digest_is_completed(world: World) -> None:
    for index in range(10):
        write_story(world.root / "corpus", "2025-11-18", f"big-{index}", description="x " * 140)
    world.service.reindex()
    world.subscribe(max_items=10)
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    world.clock.set(at)
    digest = world.scheduler.compose(
        world.store.get_subscription(CHANNEL),
        at - dt.timedelta(hours=24),
        at,  # type: ignore[arg-type]
    )
    from bot.digest import render_digest_messages

    messages = render_digest_messages(digest)
    assert len(messages) == 2
    dead = f"{__import__('socket').gethostname()}/999999999/dead"
    world.store.claim(
        channel_id=CHANNEL,
        guild_id=GUILD,
        digest_date=at.astimezone(ZoneInfo(TOKYO)).date(),
        owner=dead,
        window_start=at - dt.timedelta(hours=24),
        window_end=at,
        now=at,
    )
    first = await world.poster.send(CHANNEL, messages[0], nonce=1)  # posted, never recorded
    world.clock.advance(hours=7)  # past the grace time: a started digest is still completed
    assert list((await world.scheduler.recover()).values()) == ["posted"]
    assert world.poster.contents(CHANNEL) == [message.text() for message in messages]
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and entry.message_ids[0] == first and len(entry.message_ids) == 2


async def test_only_the_shards_guilds_are_scheduled(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, shard_count=2, shard_ids=(1,))
    clock = Clock(local(TOKYO, 2025, 11, 18, 9, 0))
    scheduler = make_scheduler(settings, NewsService(settings), clock, poster=FakePoster())
    assert scheduler.owns(1 << 22) and not scheduler.owns(2 << 22)
    scheduler.store.save_subscription(Subscription(2 << 22, 5, "09:00", TOKYO), clock())
    assert await scheduler.run_due(5) == "inactive"
    scheduler.store.close()


async def test_a_claim_whose_answer_was_lost_is_posted_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops during COMMIT: the claim is in the ledger but the run never
    heard so. Its retry finds the row its own and posts it, once."""
    world.subscribe()
    real_claim = world.store.claim
    lost: list[bool] = []

    def claim_then_lose_the_answer(**kwargs: Any) -> Any:
        claimed = real_claim(**kwargs)
        if not lost:
            lost.append(True)
            raise StateUnavailable("server closed the connection unexpectedly")
        return claimed

    monkeypatch.setattr(world.store, "claim", claim_then_lose_the_answer)
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert lost and world.digests() == [("2025-11-18", 1, 1)]
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and entry.status == "posted" and entry.owner == world.scheduler.owner


async def test_a_digest_whose_record_outlasted_the_store_is_finished_by_recovery(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The part went out but the store stayed away past the run's deadline: the row stays
    this process's ``intent``; recovery (this process's own rows included) records the
    part it finds in the channel and posts nothing again."""
    world.subscribe()
    day = dt.date(2025, 11, 18)
    grace = dt.timedelta(seconds=world.scheduler.settings.misfire_grace_seconds)
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0) + grace - dt.timedelta(seconds=1))
    delivery = world.scheduler.delivery
    delivery.min_retry_seconds = delivery.posting.min_retry_seconds = 0.5
    world.scheduler.calls.first_delay, world.scheduler.calls.max_delay = 0.05, 0.1
    real_record = world.store.record_messages

    def disk_full(*args: Any, **kwargs: Any) -> bool:
        raise StateUnavailable("database or disk is full")

    monkeypatch.setattr(world.store, "record_messages", disk_full)
    assert await world.scheduler.run_due(CHANNEL) == "error"
    stuck = world.store.entry(CHANNEL, day)
    assert stuck is not None and stuck.status == "intent" and stuck.message_ids == ()
    assert stuck.owner == world.scheduler.owner
    assert world.digests() == [("2025-11-18", 1, 1)]  # in the channel, not in the ledger
    monkeypatch.setattr(world.store, "record_messages", real_record)
    assert await world.scheduler.recover() == {(CHANNEL, day): "recovered"}
    assert world.digests() == [("2025-11-18", 1, 1)]  # not posted again
    entry = world.store.entry(CHANNEL, day)
    [(message_id, _)] = world.poster.messages[CHANNEL]
    assert entry is not None and entry.status == "posted" and entry.message_ids == (message_id,)


# --------------------------------------------------------------------------- edges


def two_part_digest(world: World) -> list[Any]:
    """Ten long stories on 2025-11-18: the 09:00 digest takes two messages."""
    from bot.digest import render_digest_messages

    for index in range(10):
        write_story(world.root / "corpus", "2025-11-18", f"big-{index}", description="x " * 140)
    world.service.reindex()
    world.subscribe(max_items=10)
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    subscription = world.store.get_subscription(CHANNEL)
    assert subscription is not None
    messages = render_digest_messages(
        world.scheduler.compose(subscription, at - dt.timedelta(hours=24), at)
    )
    assert len(messages) == 2
    return messages


async def test_a_digest_refused_after_its_first_part_keeps_what_was_posted(
    world: World,
) -> None:
    two_part_digest(world)
    world.poster.errors[CHANNEL] = [None, DeliveryError("missing_access", permanent=True)]
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    assert await world.scheduler.run_due(CHANNEL) == "paused"
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and (entry.status, entry.reason) == ("failed", "missing_access")
    [(first, _)] = world.poster.messages[CHANNEL]
    assert entry.message_ids == (first,)


async def test_a_day_rejected_by_discord_is_tried_three_times_at_most(world: World) -> None:
    from bot.digest_delivery import MAX_DAY_ATTEMPTS

    world.subscribe()
    world.poster.errors[CHANNEL] = [DeliveryError("rejected", "400 50035")] * 10
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    outcomes = [await world.scheduler.run_due(CHANNEL) for _ in range(MAX_DAY_ATTEMPTS + 2)]
    assert len(world.poster.sent) == MAX_DAY_ATTEMPTS == 3
    assert outcomes[:MAX_DAY_ATTEMPTS] == ["failed"] * MAX_DAY_ATTEMPTS
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and entry.attempts == MAX_DAY_ATTEMPTS


async def test_recovery_goes_on_past_a_row_whose_owner_lives(world: World) -> None:
    world.subscribe()
    world.subscribe(channel_id=CHANNEL + 1)
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    alive = lease_for(world, "elsewhere", 7, host_key="another-machine")
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    for channel, owner in ((CHANNEL, alive.owner), (CHANNEL + 1, dead.owner)):
        start = at - dt.timedelta(hours=24)
        world.store.claim(
            channel_id=channel, guild_id=GUILD, digest_date=day, owner=owner,
            window_start=start, window_end=at, now=at,
        )  # fmt: skip
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.recover() == {(CHANNEL + 1, day): "posted"}
    assert world.digests(CHANNEL + 1) == [("2025-11-18", 1, 1)] and world.digests() == []


async def test_recovery_leaves_other_shards_rows_alone(tmp_path: Path) -> None:
    """Rows of two stopped processes: the other shard's guild (first in the ledger) is left
    to its own process; this shard's is recovered, at start-up and by a later pass."""
    write_story(tmp_path / "corpus", "2025-11-18", "tuesday", impact="high")
    settings = make_settings(tmp_path, shard_count=2, shard_ids=(1,))
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    clock = Clock(at + dt.timedelta(minutes=1))
    poster = FakePoster()
    scheduler = make_scheduler(settings, NewsService(settings), clock, poster=poster,
                               watch_seconds=0)  # fmt: skip
    store = scheduler.store
    other_shard, this_shard = 2 << 22, 1 << 22
    assert not scheduler.owns(other_shard) and scheduler.owns(this_shard)
    for guild, channel in ((other_shard, 5), (this_shard, 6)):
        store.save_subscription(Subscription(guild, channel, "09:00", TOKYO), at)
        owner = f"gone/{channel}/x"
        store.register_process(owner, "gone", channel, "another-machine")
        store.claim(channel_id=channel, guild_id=guild, digest_date=dt.date(2025, 11, 18),
                    owner=owner, window_start=at - dt.timedelta(hours=24), window_end=at,
                    now=at)  # fmt: skip
        store.retire_process(owner)  # stopped: its rows may be taken at once
    await scheduler.start(object())  # start-up recovery
    await scheduler.wait_idle()
    day = dt.date(2025, 11, 18)
    other, mine = store.entry(5, day), store.entry(6, day)
    assert other is not None and (other.status, other.owner) == ("intent", "gone/5/x")
    assert mine is not None and mine.status == "posted"
    assert [channel for channel, _, _ in poster.sent] == [6]
    assert await scheduler.recover() == {}
    # The same again while running: a pass of recovery alone (no catch-up for that
    # channel) goes past the other shard's row to this shard's.
    yesterday = dt.date(2025, 11, 17)
    for guild, channel in ((other_shard, 5), (this_shard, 6)):
        owner = f"gone-again/{channel}/x"
        store.register_process(owner, "gone", channel, "another-machine")
        store.claim(channel_id=channel, guild_id=guild, digest_date=yesterday, owner=owner,
                    window_start=at - dt.timedelta(hours=48),
                    window_end=at - dt.timedelta(hours=24), now=at)  # fmt: skip
        store.retire_process(owner)
    assert await scheduler.recover() == {(6, yesterday): "missed"}  # past its grace time
    other = store.entry(5, yesterday)
    assert other is not None and other.status == "intent"
    await scheduler.stop()
    store.close()


async def test_a_digest_missing_its_first_part_gets_it_posted(world: World) -> None:
    messages = two_part_digest(world)
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    second = await world.poster.send(CHANNEL, messages[1], nonce=2)  # only part 2 is there
    world.clock.set(at + dt.timedelta(minutes=1))
    assert list((await world.scheduler.recover()).values()) == ["posted"]
    assert world.poster.posted[CHANNEL][-1] == messages[0]
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and entry.status == "posted"
    assert entry.message_ids[1] == second and len(entry.message_ids) == 2


async def test_a_digest_found_whole_is_recorded_with_its_stories(world: World) -> None:
    messages = two_part_digest(world)
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    ids = [await world.poster.send(CHANNEL, message, nonce=n) for n, message in enumerate(messages)]
    world.clock.set(at + dt.timedelta(minutes=1))
    assert list((await world.scheduler.recover()).values()) == ["recovered"]
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 18))
    assert entry is not None and entry.status == "posted" and list(entry.message_ids) == ids
    assert len(entry.stories) == 10  # so tomorrow's digest does not repeat them
    assert len(world.poster.sent) == 2  # nothing posted again


async def test_a_failed_digest_keeps_the_parts_found_in_the_channel_so_its_retry_adds_the_rest(
    world: World,
) -> None:
    """Recovery finds part 1 of an interrupted digest in the channel; part 2 then fails
    past its retries. The failed row names part 1, so the next run posts part 2 alone."""
    messages = two_part_digest(world)
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    first = await world.poster.send(CHANNEL, messages[0], nonce=1)  # posted, never recorded
    world.poster.errors[CHANNEL] = [DeliveryError("timeout", retryable=True)] * 3
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.recover() == {(CHANNEL, day): "failed"}
    failed = world.store.entry(CHANNEL, day)
    assert failed is not None and failed.status == "failed" and failed.message_ids == (first,)
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert world.digests() == [("2025-11-18", 1, 2), ("2025-11-18", 2, 2)]


async def test_a_part_the_owner_taken_for_dead_recorded_at_the_last_moment_is_not_posted_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner judged dead was only slow: after recovery looked at the channel, and
    just before the takeover, it posts and records part 2. Recovery goes by the row as
    taken over, not as first read: both parts are there, nothing is posted again."""
    messages = two_part_digest(world)
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    slow = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, slow.owner, at)
    first = await world.poster.send(CHANNEL, messages[0], nonce=1)
    world.store.record_messages(CHANNEL, day, slow.owner, [first], at)
    real_take_over = world.store.take_over

    def last_write_then_take_over(*arguments: Any, **options: Any) -> Any:
        world.poster.messages[CHANNEL].append((first + 1, messages[1].text()))
        world.store.record_messages(CHANNEL, day, slow.owner, [first, first + 1], at)
        return real_take_over(*arguments, **options)

    monkeypatch.setattr(world.store, "take_over", last_write_then_take_over)
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.recover() == {(CHANNEL, day): "posted"}
    assert world.digests() == [("2025-11-18", 1, 2), ("2025-11-18", 2, 2)]
    entry = world.store.entry(CHANNEL, day)
    assert entry is not None and entry.status == "posted"
    assert entry.message_ids == (first, first + 1)


async def test_a_digest_found_whole_on_a_row_without_its_window_start_records_the_days_stories(
    world: World,
) -> None:
    """A row claimed before the ledger kept window starts: the digest is taken to cover
    the 24 hours before its time, so the stories it records are the ones it showed (at
    00:30, the local dates of yesterday and today, not the day before yesterday)."""
    write_story(world.root / "corpus", "2025-11-16", "sunday", impact="high")
    world.service.reindex()
    subscription = world.subscribe(time="00:30")
    day, at = dt.date(2025, 11, 18), local(TOKYO, 2025, 11, 18, 0, 30)
    digest = world.scheduler.compose(subscription, at - dt.timedelta(hours=24), at)
    assert len(digest.stories) == 2  # 2025-11-17 and 2025-11-18, not 2025-11-16
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    store = world.store
    assert isinstance(store, SqlStateStore)
    with store._transaction() as cursor:
        store._run(cursor, "UPDATE digest_ledger SET window_start = NULL", [])
    from bot.digest import render_digest_messages

    for nonce, message in enumerate(render_digest_messages(digest)):
        await world.poster.send(CHANNEL, message, nonce=nonce)
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.recover() == {(CHANNEL, day): "recovered"}
    entry = world.store.entry(CHANNEL, day)
    assert entry is not None and entry.status == "posted"
    assert sorted(entry.stories) == sorted(digest.stories)  # tomorrow repeats none of them


async def test_an_interrupted_digest_at_the_very_end_of_its_grace_is_still_posted(
    world: World,
) -> None:
    world.subscribe()
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    world.clock.set(at + dt.timedelta(seconds=world.scheduler.settings.misfire_grace_seconds))
    assert list((await world.scheduler.recover()).values()) == ["posted"]


async def test_catch_up_serves_every_active_subscription(world: World) -> None:
    world.subscribe()
    world.subscribe(channel_id=CHANNEL + 1)
    world.store.set_state(CHANNEL + 1, "paused", "missing_access", world.clock())
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 30))  # back after the 09:00 run
    assert await world.scheduler.catch_up() == {CHANNEL: "posted"}
    assert world.digests() == [("2025-11-18", 1, 1)] and world.digests(CHANNEL + 1) == []


async def test_a_subscription_made_at_the_very_moment_of_a_run_gets_it(world: World) -> None:
    at = local(TOKYO, 2025, 11, 18, 9, 0)
    subscription = world.store.save_subscription(Subscription(GUILD, CHANNEL, "09:00", TOKYO), at)
    world.scheduler.schedule(subscription)
    world.clock.set(at + dt.timedelta(minutes=1))
    assert await world.scheduler.run_due(CHANNEL) == "posted"


def test_the_next_run_is_dated_in_the_subscriptions_zone() -> None:
    from bot.schedule import next_occurrence

    early = Subscription(GUILD, CHANNEL, "08:00", TOKYO)  # 23:00 UTC the day before
    occurrence = next_occurrence(early, dt.datetime(2025, 11, 17, 12, 0, tzinfo=dt.UTC))
    assert occurrence is not None
    assert occurrence.at == dt.datetime(2025, 11, 17, 23, 0, tzinfo=dt.UTC)
    assert occurrence.day == dt.date(2025, 11, 18)


def failing_once(monkeypatch: pytest.MonkeyPatch, store: StateStore, method: str) -> list[int]:
    """Make ``store.method`` refuse its first call (the store briefly unavailable);
    returns the list of calls made."""
    real = getattr(store, method)
    calls: list[int] = []

    def flaky(*arguments: Any, **options: Any) -> Any:
        calls.append(len(calls))
        if len(calls) == 1:
            raise StateUnavailable("database is locked")
        return real(*arguments, **options)

    monkeypatch.setattr(store, method, flaky)
    return calls


async def test_runs_catch_up_and_recovery_wait_out_a_store_that_is_briefly_away(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.subscribe()
    world.clock.set(local(TOKYO, 2025, 11, 18, 9, 0))
    calls = failing_once(monkeypatch, world.store, "get_subscription")
    assert await world.scheduler.run_due(CHANNEL) == "posted"
    assert len(calls) >= 2
    monkeypatch.undo()

    world.clock.set(local(TOKYO, 2025, 11, 19, 9, 30))  # back after the next day's run
    calls = failing_once(monkeypatch, world.store, "list_subscriptions")
    assert await world.scheduler.catch_up() == {CHANNEL: "posted"}
    monkeypatch.undo()

    at = local(TOKYO, 2025, 11, 20, 9, 0)
    me = world.scheduler.delivery.identity
    dead = lease_for(world, me.host, 999_999_999, host_key=me.host_key)
    claim_for(world, dead.owner, at)
    world.clock.set(at + dt.timedelta(minutes=1))
    calls = failing_once(monkeypatch, world.store, "entries")
    # Nothing new since the 19th: the interrupted run is closed as empty.
    assert list((await world.scheduler.recover()).values()) == ["empty"]
    entry = world.store.entry(CHANNEL, dt.date(2025, 11, 20))
    assert entry is not None and entry.status != "intent"
    assert [d for d, _, _ in world.digests()] == ["2025-11-18", "2025-11-19"]
