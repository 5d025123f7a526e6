"""state.db: subscriptions, the digest ledger's exclusive claim, migrations."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from bot.state import (
    SCHEMA_VERSION,
    Claim,
    SqliteStateStore,
    StateError,
    Subscription,
    open_state_store,
)
from tests.digest_support import make_settings

NOW = dt.datetime(2025, 11, 18, 0, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 11, 18)


def claim(store: SqliteStateStore, owner: str, *, retry_failed: bool = False) -> Claim:
    return store.claim(
        channel_id=10,
        guild_id=1,
        digest_date=DAY,
        owner=owner,
        window_start=NOW - dt.timedelta(hours=24),
        window_end=NOW,
        now=NOW,
        retry_failed=retry_failed,
    )


def test_claim_is_exclusive_per_channel_and_local_date(tmp_path: Path) -> None:
    first, second = SqliteStateStore(tmp_path / "state.db"), SqliteStateStore(tmp_path / "state.db")
    won = claim(first, "a")
    lost = claim(second, "b")
    assert won.claimed and not lost.claimed
    assert lost.entry.owner == "a" and lost.entry.status == "intent"
    other_day = second.claim(
        channel_id=10,
        guild_id=1,
        digest_date=DAY + dt.timedelta(days=1),
        owner="b",
        window_start=NOW,
        window_end=NOW + dt.timedelta(days=1),
        now=NOW,
    )
    assert other_day.claimed


def _race(path: str, owner: str, start: multiprocessing.synchronize.Event) -> bool:  # type: ignore[name-defined]
    store = SqliteStateStore(Path(path))
    start.wait()
    return claim(store, owner).claimed


def test_claim_races_between_processes(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStateStore(path).close()  # migrated before the race
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(6) as pool:
        pending = [pool.apply_async(_race, (str(path), f"process-{i}", start)) for i in range(6)]
        start.set()
        results = [p.get(timeout=30) for p in pending]
    assert results.count(True) == 1
    [entry] = SqliteStateStore(path).entries()
    assert entry.status == "intent" and entry.owner == f"process-{results.index(True)}"


def test_writes_after_the_claim_are_fenced_on_the_owner(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    claim(store, "a")
    assert not store.record_messages(10, DAY, "b", [1], NOW)
    assert store.record_messages(10, DAY, "a", [1, 2], NOW)
    assert store.take_over(10, DAY, "a", "b", NOW)
    assert not store.take_over(10, DAY, "a", "c", NOW)  # only one process wins a takeover
    assert not store.finish(10, DAY, "a", "posted", NOW)
    assert store.finish(10, DAY, "b", "posted", NOW, stories=["s1"], message_ids=[1, 2])
    entry = store.entry(10, DAY)
    assert entry is not None
    assert (entry.status, entry.owner, entry.attempts, entry.message_ids) == (
        "posted",
        "b",
        2,
        (1, 2),
    )
    assert store.posted_stories(10, DAY, DAY + dt.timedelta(days=1)) == {"s1"}
    assert not claim(store, "c").claimed


def test_a_failed_digest_is_claimed_again_only_when_asked(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    claim(store, "a")
    store.finish(10, DAY, "a", "failed", NOW, reason="server_error")
    assert not claim(store, "b").claimed
    again = claim(store, "b", retry_failed=True)
    assert again.claimed and again.entry.attempts == 2 and again.entry.reason is None


def test_skipped_is_recorded_once(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    arguments = {
        "channel_id": 10,
        "guild_id": 1,
        "digest_date": DAY,
        "owner": "a",
        "window_start": None,
        "window_end": NOW,
        "reason": "missed",
        "now": NOW,
    }
    assert store.record_skipped(**arguments)  # type: ignore[arg-type]
    assert not store.record_skipped(**arguments)  # type: ignore[arg-type]
    assert not claim(store, "b").claimed


def test_subscriptions_and_config_sync(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "state.db")
    mine = store.save_subscription(Subscription(1, 10, "09:00", "Asia/Tokyo"), NOW)
    assert mine.created_at == NOW and mine.active and mine.source == "command"
    store.sync_config_subscriptions(
        [Subscription(1, 20, "07:30", "UTC", "en"), Subscription(1, 30, "08:00", "UTC")], NOW
    )
    store.set_state(20, "paused", "missing_access", NOW)
    later = NOW + dt.timedelta(days=1)
    store.sync_config_subscriptions([Subscription(1, 20, "06:00", "UTC", "en")], later)
    by_channel = {s.channel_id: s for s in store.list_subscriptions(1)}
    assert set(by_channel) == {10, 20}  # 30 is no longer declared; 10 is the command's
    config = by_channel[20]
    assert (config.time, config.source, config.state, config.paused_reason) == (
        "06:00",
        "config",
        "paused",
        "missing_access",
    )
    assert config.created_at == NOW and config.updated_at == later
    assert store.delete_subscription(10) and not store.delete_subscription(10)


def test_a_version_1_database_is_migrated_with_its_data(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT);
        INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+00:00');
        CREATE TABLE subscriptions (
            channel_id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, time TEXT NOT NULL,
            timezone TEXT NOT NULL, locale TEXT NOT NULL DEFAULT 'ja',
            max_items INTEGER NOT NULL DEFAULT 5, state TEXT NOT NULL DEFAULT 'active',
            created_at TEXT);
        CREATE TABLE digest_ledger (
            channel_id INTEGER NOT NULL, digest_date TEXT NOT NULL, guild_id INTEGER NOT NULL,
            status TEXT NOT NULL, message_id INTEGER, created_at TEXT,
            UNIQUE (channel_id, digest_date));
        INSERT INTO subscriptions VALUES
            (10, 1, '09:00', 'Asia/Tokyo', 'ja', 3, 'active', '2025-01-01T00:00:00+00:00'),
            (20, 1, '07:00', 'America/New_York', 'en', 5, 'paused', '2025-01-02T00:00:00+00:00');
        INSERT INTO digest_ledger VALUES
            (10, '2025-11-17', 1, 'posted', 123456789, '2025-11-17T00:00:05+00:00'),
            (10, '2025-11-18', 1, 'intent', NULL, '2025-11-18T00:00:05+00:00');
        """
    )
    old.commit()
    old.close()

    store = SqliteStateStore(path)
    assert store.schema_version() == SCHEMA_VERSION == 2
    tokyo, new_york = store.list_subscriptions()
    assert (tokyo.channel_id, tokyo.time, tokyo.max_items, tokyo.locale) == (10, "09:00", 3, "ja")
    assert (tokyo.post_empty, tokyo.source, tokyo.state) == (False, "command", "active")
    assert tokyo.updated_at == tokyo.created_at
    assert (new_york.state, new_york.timezone) == ("paused", "America/New_York")
    posted, intent = store.entries(10)
    assert (posted.status, posted.message_ids, posted.attempts) == ("posted", (123456789,), 1)
    assert (intent.status, intent.message_ids) == ("intent", ())
    # The unique key survived the migration.
    assert not claim(store, "new").claimed
    store.close()
    assert SqliteStateStore(path).schema_version() == 2  # reopening changes nothing


def test_a_newer_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqliteStateStore(path).close()
    raw = sqlite3.connect(path)
    raw.execute("INSERT INTO schema_version VALUES (99, 'future')")
    raw.commit()
    raw.close()
    with pytest.raises(StateError, match="newer"):
        SqliteStateStore(path)
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT max(version) FROM schema_version").fetchone() == (99,)


def test_store_uses_wal_and_refuses_a_postgres_url(tmp_path: Path) -> None:
    store = SqliteStateStore(tmp_path / "deep" / "state.db")
    assert store.db.journal_mode == "wal"
    settings = make_settings(tmp_path, state_url="postgresql://x/y")
    with pytest.raises(StateError, match=r"state\.url"):
        open_state_store(settings)
