"""The state store: subscriptions, the digest ledger's exclusive claim, migrations.

The same tests run against both backends (``backend`` is ``sqlite`` or ``postgres``:
SQLite in a tmp file, PostgreSQL in a fresh database of the test's own); then what only
one backend has: SQLite's legacy files and WAL, PostgreSQL's URLs, errors, reconnection
and claims racing across processes on many channels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
import random
import re
import sqlite3
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bot.state import (
    MIGRATIONS,
    SCHEMA_VERSION,
    SQLITE,
    Claim,
    Dialect,
    SqliteStateStore,
    SqlStateStore,
    StateDamaged,
    StateError,
    Subscription,
    open_state_store,
)
from tests.digest_support import make_settings

NOW = dt.datetime(2025, 11, 18, 0, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 11, 18)


def open_store(kind: str, target: str) -> SqlStateStore:
    """A new store (its own connection) on the database ``target`` (path or URL)."""
    if kind == "sqlite":
        return SqliteStateStore(Path(target))
    from bot.state_postgres import PostgresStateStore

    return PostgresStateStore(target)


@dataclasses.dataclass
class Backend:
    """One backend under test: ``open()`` makes a new store on the test's database;
    ``raw(sql)`` runs SQL on it outside the store (autocommit) and returns the rows."""

    kind: str
    target: str

    @property
    def dialect(self) -> Dialect:
        if self.kind == "sqlite":
            return SQLITE
        from bot.state_postgres import POSTGRES

        return POSTGRES

    def open(self) -> SqlStateStore:
        return open_store(self.kind, self.target)

    def raw(self, *statements: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.target, isolation_level=None)
            try:
                for statement in statements:
                    rows = connection.execute(statement).fetchall()
            finally:
                connection.close()
            return rows
        import psycopg

        with psycopg.connect(self.target, autocommit=True) as conn:
            for statement in statements:
                cursor = conn.execute(statement)
                rows = cursor.fetchall() if cursor.description else []
        return rows


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "state.db"))
    return Backend("postgres", request.getfixturevalue("postgres_url"))


def claim(
    store: SqlStateStore, owner: str, *, channel_id: int = 10, retry_failed: bool = False
) -> Claim:
    return store.claim(
        channel_id=channel_id,
        guild_id=1,
        digest_date=DAY,
        owner=owner,
        window_start=NOW - dt.timedelta(hours=24),
        window_end=NOW,
        now=NOW,
        retry_failed=retry_failed,
    )


# --------------------------------------------------------------------------- both backends


def test_claim_is_exclusive_per_channel_and_local_date(backend: Backend) -> None:
    first, second = backend.open(), backend.open()
    won = claim(first, "a")
    lost = claim(second, "b")
    assert won.claimed and not lost.claimed
    assert lost.entry.owner == "a" and lost.entry.status == "intent"
    assert won.entry.window_start == NOW - dt.timedelta(hours=24)
    assert won.entry.window_end == NOW and won.entry.created_at == NOW
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
    first.close()
    second.close()


def _race(kind: str, target: str, owner: str, start: Any, channels: Sequence[int]) -> list[int]:
    """Claim ``channels`` (in this order) once ``start`` is set; returns those won."""
    store = open_store(kind, target)
    start.wait()
    won = [c for c in channels if claim(store, owner, channel_id=c).claimed]
    store.close()
    return won


def test_claim_races_between_processes(backend: Backend) -> None:
    backend.open().close()  # migrated before the race
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(6) as pool:
        pending = [
            pool.apply_async(_race, (backend.kind, backend.target, f"process-{i}", start, [10]))
            for i in range(6)
        ]
        start.set()
        results = [p.get(timeout=30) for p in pending]
    assert [bool(won) for won in results].count(True) == 1
    [entry] = backend.open().entries()
    winner = [bool(won) for won in results].index(True)
    assert entry.status == "intent" and entry.owner == f"process-{winner}"


def test_writes_after_the_claim_are_fenced_on_the_owner(backend: Backend) -> None:
    store = backend.open()
    claim(store, "a")
    assert not store.record_messages(10, DAY, "b", [1], NOW)
    later = NOW + dt.timedelta(minutes=1)
    assert store.record_messages(10, DAY, "a", [1, 2], later)
    renewed = store.entry(10, DAY)
    assert renewed is not None and renewed.updated_at == later  # the owner's lease
    assert store.take_over(10, DAY, "a", "b", NOW)
    assert not store.take_over(10, DAY, "a", "c", NOW)  # only one process wins a takeover
    assert not store.finish(10, DAY, "a", "posted", NOW)
    assert store.finish(10, DAY, "b", "posted", NOW, stories=["s1", "記事"], message_ids=[1, 2])
    entry = store.entry(10, DAY)
    assert entry is not None
    assert (entry.status, entry.owner, entry.attempts, entry.message_ids) == (
        "posted",
        "b",
        2,
        (1, 2),
    )
    assert store.posted_stories(10, DAY, DAY + dt.timedelta(days=1)) == {"s1", "記事"}
    assert not claim(store, "c").claimed
    with pytest.raises(ValueError, match="intent"):
        store.finish(10, DAY, "b", "intent", NOW)


def test_a_failed_digest_is_claimed_again_only_when_asked(backend: Backend) -> None:
    store = backend.open()
    claim(store, "a")
    store.finish(10, DAY, "a", "failed", NOW, reason="server_error")
    assert not claim(store, "b").claimed
    again = claim(store, "b", retry_failed=True)
    assert again.claimed and again.entry.attempts == 2 and again.entry.reason is None
    assert again.entry.owner == "b" and again.entry.status == "intent"
    third = claim(store, "c", retry_failed=True)  # intent now: nothing to take back
    assert not third.claimed and third.entry.owner == "b"


def test_skipped_is_recorded_once(backend: Backend) -> None:
    store = backend.open()
    arguments: dict[str, Any] = {
        "channel_id": 10,
        "guild_id": 1,
        "digest_date": DAY,
        "owner": "a",
        "window_start": None,
        "window_end": NOW,
        "reason": "missed",
        "now": NOW,
    }
    assert store.record_skipped(**arguments)
    assert not store.record_skipped(**arguments)
    assert not claim(store, "b").claimed
    [entry] = store.entries(status="skipped")
    assert (entry.reason, entry.attempts, entry.window_start) == ("missed", 0, None)


def test_subscriptions_and_config_sync(backend: Backend) -> None:
    store = backend.open()
    big = (1 << 62) + 5  # snowflakes need 64 bits
    mine = store.save_subscription(Subscription(big, 10, "09:00", "Asia/Tokyo"), NOW)
    assert mine.created_at == NOW and mine.active and mine.source == "command"
    assert mine.guild_id == big and mine.post_empty is False
    store.sync_config_subscriptions(
        [
            Subscription(1, 20, "07:30", "UTC", "en", post_empty=True),
            Subscription(1, 30, "08:00", "UTC"),
        ],
        NOW,
    )
    store.set_state(20, "paused", "missing_access", NOW)
    later = NOW + dt.timedelta(days=1)
    store.sync_config_subscriptions([Subscription(1, 20, "06:00", "UTC", "en")], later)
    by_channel = {s.channel_id: s for s in store.list_subscriptions(1)}
    assert set(by_channel) == {20}  # 30 is no longer declared; 10 is another guild's
    config = by_channel[20]
    assert (config.time, config.source, config.state, config.paused_reason) == (
        "06:00",
        "config",
        "paused",
        "missing_access",
    )
    assert config.created_at == NOW and config.updated_at == later and not config.post_empty
    assert [s.channel_id for s in store.list_subscriptions(state="paused")] == [20]
    resumed = store.set_state(20, "active", "ignored", later)
    assert resumed is not None and resumed.active and resumed.paused_reason is None
    replaced = store.save_subscription(Subscription(big, 10, "10:15", "UTC", "en", 3), later)
    assert (replaced.time, replaced.max_items, replaced.created_at) == ("10:15", 3, NOW)
    store.sync_config_subscriptions([], later)
    assert [s.channel_id for s in store.list_subscriptions()] == [10]
    assert store.delete_subscription(10) and not store.delete_subscription(10)
    assert store.get_subscription(10) is None
    assert store.set_state(10, "paused", "x", NOW) is None
    with pytest.raises(ValueError, match="state"):
        store.set_state(20, "gone", None, NOW)


def test_feed_settings_are_kept_and_a_pause_is_told_once(backend: Backend) -> None:
    store = backend.open()
    role, admin = (1 << 60) + 3, (1 << 59) + 1
    saved = store.save_subscription(
        Subscription(
            1, 10, "09:00", "Asia/Tokyo",
            categories=("Claude", "Policy & Regulation"),
            include_keywords=("Anthropic", "規制"),
            exclude_keywords=("rumor",),
            role_id=role, publish=True, subscribed_by=admin,
        ),
        NOW,
    )  # fmt: skip
    assert saved.categories == ("Claude", "Policy & Regulation")
    assert (saved.include_keywords, saved.exclude_keywords) == (("Anthropic", "規制"), ("rumor",))
    assert (saved.role_id, saved.publish, saved.subscribed_by) == (role, True, admin)
    assert store.claim_pause_notice(10, NOW) is None  # active: nothing to tell
    store.set_state(10, "paused", "missing_permissions", NOW)
    told = store.claim_pause_notice(10, NOW)
    assert told is not None and told.pause_notified_at == NOW and told.role_id == role
    other = backend.open()  # another process: the guild is told once
    assert other.claim_pause_notice(10, NOW) is None
    other.close()
    store.set_state(10, "paused", "missing_access", NOW)  # still paused: still told
    assert store.claim_pause_notice(10, NOW) is None
    # An edit keeps the state and the notice; the settings change.
    later = NOW + dt.timedelta(hours=1)
    edited = store.save_subscription(
        dataclasses.replace(saved, time="18:00", role_id=None, categories=()),
        later,
        keep_state=True,
    )
    assert (edited.time, edited.role_id, edited.categories) == ("18:00", None, ())
    assert (edited.state, edited.pause_notified_at, edited.created_at) == ("paused", NOW, NOW)
    store.set_state(10, "active", None, later)
    store.set_state(10, "paused", "unknown_channel", later)  # a new pause is told again
    again = store.claim_pause_notice(10, later)
    assert again is not None and again.paused_reason == "unknown_channel"
    fresh = store.save_subscription(dataclasses.replace(saved, time="07:00"), later)
    assert fresh.active and fresh.pause_notified_at is None and fresh.publish


def test_ledger_queries(backend: Backend) -> None:
    store = backend.open()
    days = [DAY + dt.timedelta(days=i) for i in range(4)]
    outcomes = [
        ("posted", None),
        ("skipped", "empty"),
        ("failed", "server_error"),
        ("posted", None),
    ]
    for day, (status, reason) in zip(days, outcomes, strict=True):
        at = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        store.claim(
            channel_id=10,
            guild_id=1,
            digest_date=day,
            owner="a",
            window_start=at - dt.timedelta(days=1),
            window_end=at,
            now=at,
        )
        store.finish(10, day, "a", status, at, reason=reason, stories=[f"story-{day}"])
    assert [e.digest_date for e in store.entries(10)] == days
    assert [e.digest_date for e in store.entries(status="posted")] == [days[0], days[3]]
    last = store.last_entry(10, before=days[3])
    assert last is not None and last.digest_date == days[2]
    delivered = store.last_entry(10, before=days[3], delivered=True)
    assert delivered is not None and delivered.digest_date == days[1]
    only = store.last_entry(10, statuses=["posted"], before=days[3])
    assert only is not None and only.digest_date == days[0]
    assert store.last_entry(10, statuses=[]) is None
    assert store.last_entry(11) is None
    assert store.posted_stories(10, days[0], days[3]) == {f"story-{days[0]}"}
    assert store.posted_stories(10, days[0], days[3] + dt.timedelta(days=1)) == {
        f"story-{days[0]}",
        f"story-{days[3]}",
    }


def test_naive_datetimes_are_refused(backend: Backend) -> None:
    store = backend.open()
    with pytest.raises(ValueError, match="naive"):
        store.save_subscription(Subscription(1, 10, "09:00", "UTC"), NOW.replace(tzinfo=None))
    assert store.list_subscriptions() == []


def test_a_version_1_database_is_migrated_with_its_data(backend: Backend) -> None:
    schema = "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at {ts})"
    backend.raw(
        schema.format_map(backend.dialect.types),
        *MIGRATIONS[0].sql(backend.dialect),
        "INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+00:00')",
        """INSERT INTO subscriptions VALUES
            (10, 1, '09:00', 'Asia/Tokyo', 'ja', 3, 'active', '2025-01-01T00:00:00+00:00'),
            (20, 1, '07:00', 'America/New_York', 'en', 5, 'paused', '2025-01-02T00:00:00+00:00')
        """,
        """INSERT INTO digest_ledger VALUES
            (10, '2025-11-17', 1, 'posted', 1234567890123456789, '2025-11-17T00:00:05+00:00'),
            (10, '2025-11-18', 1, 'intent', NULL, '2025-11-18T00:00:05+00:00')
        """,
    )
    store = backend.open()
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    tokyo, new_york = store.list_subscriptions()
    assert (tokyo.channel_id, tokyo.time, tokyo.max_items, tokyo.locale) == (10, "09:00", 3, "ja")
    assert (tokyo.post_empty, tokyo.source, tokyo.state) == (False, "command", "active")
    assert tokyo.updated_at == tokyo.created_at == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert (new_york.state, new_york.timezone) == ("paused", "America/New_York")
    posted, intent = store.entries(10)
    assert (posted.status, posted.message_ids, posted.attempts, posted.owner) == (
        "posted",
        (1234567890123456789,),
        1,
        "v1",
    )
    assert (intent.status, intent.message_ids, intent.stories) == ("intent", (), ())
    # The unique key survived the migration.
    assert not claim(store, "new").claimed
    store.close()
    reopened = backend.open()
    assert reopened.schema_version() == SCHEMA_VERSION  # reopening changes nothing
    assert backend.raw("SELECT count(*) FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_newer_database_is_refused_and_left_alone(backend: Backend) -> None:
    backend.open().close()
    backend.raw("INSERT INTO schema_version VALUES (99, '2099-01-01T00:00:00+00:00')")
    with pytest.raises(StateError, match="newer"):
        backend.open()
    assert backend.raw("SELECT max(version) FROM schema_version") == [(99,)]
    assert backend.raw("SELECT count(*) FROM schema_version") == [(SCHEMA_VERSION + 1,)]


# --------------------------------------------------------------------------- SQLite


def test_a_version_1_file_made_by_sqlite_utils_is_migrated(tmp_path: Path) -> None:
    """The first release made its tables with sqlite-utils: such a file migrates too."""
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE [schema_version] ([version] INTEGER PRIMARY KEY, [applied_at] TEXT);
        INSERT INTO schema_version VALUES (1, '2025-01-01T00:00:00+00:00');
        CREATE TABLE [subscriptions] (
            [channel_id] INTEGER PRIMARY KEY, [guild_id] INTEGER NOT NULL, [time] TEXT NOT NULL,
            [timezone] TEXT NOT NULL, [locale] TEXT NOT NULL DEFAULT 'ja',
            [max_items] INTEGER NOT NULL DEFAULT 5, [state] TEXT NOT NULL DEFAULT 'active',
            [created_at] TEXT);
        CREATE TABLE digest_ledger (
            channel_id INTEGER NOT NULL, digest_date TEXT NOT NULL, guild_id INTEGER NOT NULL,
            status TEXT NOT NULL, message_id INTEGER, created_at TEXT,
            UNIQUE (channel_id, digest_date));
        INSERT INTO subscriptions VALUES
            (10, 1, '09:00', 'Asia/Tokyo', 'ja', 3, 'active', '2025-01-01T00:00:00+00:00');
        INSERT INTO digest_ledger VALUES
            (10, '2025-11-17', 1, 'posted', 123456789, '2025-11-17T00:00:05+00:00');
        """
    )
    old.commit()
    old.close()
    store = SqliteStateStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    [posted] = store.entries(10)
    assert posted.message_ids == (123456789,)
    saved = store.save_subscription(Subscription(1, 10, "08:00", "UTC"), NOW)
    assert saved.created_at == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def test_sqlite_store_uses_wal_and_refuses_a_foreign_file(tmp_path: Path) -> None:
    SqliteStateStore(tmp_path / "deep" / "state.db").close()
    raw = sqlite3.connect(tmp_path / "deep" / "state.db")
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database, just text that is long enough " * 50)
    with pytest.raises(StateError, match="not a usable state database"):
        SqliteStateStore(foreign)


# --------------------------------------------------------------------------- PostgreSQL


def test_open_state_store_picks_the_backend_from_the_settings(
    tmp_path: Path, postgres_url: str
) -> None:
    from bot.state_postgres import PostgresStateStore

    # With state.url the SQLite file is never opened, so no state.db appears beside it.
    postgres = open_state_store(make_settings(tmp_path / "shared", state_url=postgres_url))
    assert isinstance(postgres, PostgresStateStore) and postgres.schema_version() == SCHEMA_VERSION
    postgres.close()
    assert not (tmp_path / "shared" / "state.db").exists()
    # Without it, state.path is the database.
    sqlite_store = open_state_store(make_settings(tmp_path / "alone"))
    assert isinstance(sqlite_store, SqliteStateStore)
    assert sqlite_store.path == tmp_path / "alone" / "state.db"
    sqlite_store.close()
    assert (tmp_path / "alone" / "state.db").is_file()


def test_the_configuration_accepts_only_a_postgresql_url(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_settings

    good = load_settings(None, environ={"TECHNYAN_STATE_URL": "postgresql://u:pw@db/technyan"})
    assert good.state_url == "postgresql://u:pw@db/technyan"
    assert "pw@" not in repr(good)  # the URL holds a password: never in a repr or a log
    with pytest.raises(ConfigError, match=r"state\.url: expected a postgresql://") as raised:
        load_settings(None, environ={"TECHNYAN_STATE_URL": "mysql://u:topsecret@db/x"})
    assert "topsecret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://u:s3cret-pw@db/x", "must be a PostgreSQL URL"),
        ("postgresql://u:s3cret-pw@127.0.0.1:1/technyan", "database 'technyan' on 127.0.0.1:1"),
        ("postgresql://u:s3cret-pw@127.0.0.1:notaport/technyan", "invalid integer value"),
        ("postgresql://u:s3cret%zz@127.0.0.1/technyan?nonsense=1", "not a valid PostgreSQL URL"),
    ],
)
def test_a_bad_or_unreachable_url_is_one_line_without_the_password(
    tmp_path: Path, url: str, expected: str
) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StateError) as raised:
        open_state_store(make_settings(tmp_path, state_url=url))
    message = str(raised.value)
    assert expected in message
    assert "s3cret" not in message and "\n" not in message


def test_a_short_password_is_scrubbed_where_it_stands_whole_only() -> None:
    pytest.importorskip("psycopg")
    from bot.state_postgres import _one_line

    error = OSError('connection to server at "127.0.0.1", port 1 failed: password p refused')
    assert _one_line(error, ["p"]) == (
        'connection to server at "127.0.0.1", port 1 failed: password *** refused'
    )


def test_unknown_login_names_the_database_not_the_password(postgres_server: str) -> None:
    from bot.state_postgres import PostgresStateStore

    parts = postgres_server.split("@", 1)[1]  # 127.0.0.1:PORT/postgres
    url = f"postgresql://nobody-here:hunter2@{parts.rsplit('/', 1)[0]}/missing_db"
    with pytest.raises(StateError) as raised:
        PostgresStateStore(url)
    message = str(raised.value)
    assert "database 'missing_db' on 127.0.0.1:" in message
    assert "hunter2" not in message and "\n" not in message


def test_processes_opening_a_new_database_together_migrate_once(postgres_url: str) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(5) as pool:
        pending = [
            pool.apply_async(_race, ("postgres", postgres_url, f"p{i}", start, []))
            for i in range(5)
        ]
        start.set()
        assert [p.get(timeout=30) for p in pending] == [[]] * 5
    assert Backend("postgres", postgres_url).raw("SELECT count(*) FROM schema_version") == [
        (SCHEMA_VERSION,)
    ]


def test_postgres_claims_race_across_processes_on_many_channels(postgres_url: str) -> None:
    """Six processes claim the same 60 digests in different orders, all at once: each
    digest has one winner, the ledger holds exactly its rows, and a takeover of a dead
    owner's row raced by every process is won once."""
    open_store("postgres", postgres_url).close()
    channels = list(range(1000, 1060))
    orders = [random.Random(seed).sample(channels, len(channels)) for seed in range(6)]
    context = multiprocessing.get_context("fork")
    start = context.Manager().Event()
    with context.Pool(6) as pool:
        pending = [
            pool.apply_async(_race, ("postgres", postgres_url, f"p{i}", start, orders[i]))
            for i in range(6)
        ]
        start.set()
        won = [p.get(timeout=60) for p in pending]
    winners = [channel for channels_won in won for channel in channels_won]
    assert sorted(winners) == channels  # every digest won exactly once
    store = open_store("postgres", postgres_url)
    entries = store.entries()
    assert len(entries) == len(channels)
    owner_of = {channel: f"p{i}" for i, channels_won in enumerate(won) for channel in channels_won}
    assert all(entry.owner == owner_of[entry.channel_id] for entry in entries)

    dead = owner_of[channels[0]]
    with context.Pool(6) as pool:
        results = pool.starmap(
            _take_over, [(postgres_url, channels[0], dead, f"heir-{i}") for i in range(6)]
        )
    assert results.count(True) == 1
    entry = store.entry(channels[0], DAY)
    assert entry is not None and entry.owner == f"heir-{results.index(True)}"
    assert entry.attempts == 2


def _take_over(url: str, channel_id: int, old: str, new: str) -> bool:
    store = open_store("postgres", url)
    try:
        return store.take_over(channel_id, DAY, old, new, NOW)
    finally:
        store.close()


def test_a_state_db_is_copied_into_postgresql_whole(tmp_path: Path, postgres_url: str) -> None:
    from bot.state import copy_state

    source = SqliteStateStore(tmp_path / "state.db")
    source.save_subscription(
        Subscription(1 << 40, 10, "09:00", "Asia/Tokyo", "ja", 3, categories=("Claude",),
                     include_keywords=("Anthropic",), role_id=1 << 41, subscribed_by=7),
        NOW,
    )  # fmt: skip
    source.sync_config_subscriptions([Subscription(2, 20, "07:30", "UTC", "en", 5, True)], NOW)
    source.set_state(20, "paused", "missing_access", NOW + dt.timedelta(hours=1))
    claim(source, "host/1/a")
    source.finish(10, DAY, "host/1/a", "posted", NOW, stories=["s1"], message_ids=[5, 6])
    claim(source, "host/1/a", channel_id=20)  # an unfinished digest keeps its owner
    target = open_store("postgres", postgres_url)
    assert copy_state(source, target) == (2, 2)
    assert target.list_subscriptions() == source.list_subscriptions()
    assert target.entries() == source.entries()
    assert target.posted_stories(10, DAY, DAY + dt.timedelta(days=1)) == {"s1"}
    with pytest.raises(StateError, match="already holds"):
        copy_state(source, target)
    assert len(target.entries()) == 2


def test_a_connection_the_server_dropped_is_reopened(
    postgres_server: str, postgres_url: str
) -> None:
    import psycopg

    from bot.state_postgres import PostgresStateStore

    store = PostgresStateStore(postgres_url, idle_check_seconds=0.0)
    claim(store, "a")
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchone()
    assert killed == (1,)
    entry = store.entry(10, DAY)  # checked, found dead, reopened: the call succeeds
    assert entry is not None and entry.owner == "a"
    assert store.record_messages(10, DAY, "a", [7], NOW)
    store.close()


def test_health_checks_the_postgres_state(tmp_path: Path, postgres_url: str) -> None:
    from bot.ops import check_health
    from bot.state_postgres import check_postgres

    assert check_postgres(postgres_url) is None  # empty: the bot may create its tables
    open_store("postgres", postgres_url).close()
    assert check_postgres(postgres_url) is None
    problem = check_postgres("postgresql://u:pw-secret@127.0.0.1:1/technyan", timeout=2)
    assert problem is not None and problem.startswith("state: cannot use PostgreSQL")
    assert "database 'technyan' on 127.0.0.1:1" in problem and "pw-secret" not in problem
    problems = check_health(make_settings(tmp_path, state_url=postgres_url))
    assert problems and not [p for p in problems if p.startswith("state:")]  # no index here


def test_copy_state_from_the_command_line(tmp_path: Path, postgres_url: str) -> None:
    import os
    import subprocess
    import sys

    source = SqliteStateStore(tmp_path / "state.db")
    source.save_subscription(
        Subscription(1 << 40, 10, "09:00", "Asia/Tokyo", "ja", 3, categories=("Claude",),
                     include_keywords=("Anthropic",), role_id=1 << 41, subscribed_by=7),
        NOW,
    )  # fmt: skip
    source.close()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TECHNYAN_")},
        "TECHNYAN_STATE_PATH": str(tmp_path / "state.db"),
        "TECHNYAN_STATE_URL": with_password(postgres_url),
    }

    def copy() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "copy-state"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=env,
        )

    first = copy()
    assert first.returncode == 0, first.stderr
    assert "copied 1 subscription and 0 ledger rows" in first.stdout
    second = copy()
    assert second.returncode == 2
    assert "already holds" in second.stderr
    password = urllib.parse.urlsplit(env["TECHNYAN_STATE_URL"]).password
    assert password and "Traceback" not in second.stderr
    assert password not in second.stderr and password not in second.stdout
    assert password not in first.stderr and password not in first.stdout


def with_password(url: str) -> str:
    """``url`` with a password in it (the test server trusts every login, so any password
    connects), unless it already has one."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        return url
    netloc = f"{parts.username}:tr0ub4dor-pw@{parts.hostname}:{parts.port}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


# --------------------------------------------------------------------------- damage


def _state_with_a_backup(tmp_path: Path) -> tuple[Path, Path]:
    """A state.db with two subscriptions and a backup of it made with the backup command's
    function; returns (state.db, backup)."""
    from bot.ops import backup_state

    path = tmp_path / "data" / "state.db"
    store = SqliteStateStore(path)
    for channel in (10, 20):
        store.save_subscription(Subscription(1, channel, "09:00", "Asia/Tokyo"), NOW)
    store.close()
    (tmp_path / "backups").mkdir()
    backup = tmp_path / "backups" / "before.db"
    backup_state(path, backup)
    return path, backup


@pytest.mark.parametrize("cut", ["empty", "half", "one page", "overwritten"])
def test_a_truncated_or_overwritten_state_db_is_refused_naming_the_last_good_backup(
    tmp_path: Path, cut: str
) -> None:
    from bot.state import check_sqlite_state

    path, backup = _state_with_a_backup(tmp_path)
    size = path.stat().st_size
    if cut == "overwritten":
        path.write_bytes(random.Random(7).randbytes(size))
    else:
        os.truncate(path, {"empty": 0, "half": size // 2, "one page": 4096}[cut])
    with pytest.raises(StateDamaged) as refused:
        SqliteStateStore(path)
    message = str(refused.value)
    assert message.startswith(f"{path} is not a usable state database (")
    assert f"the last good backup is {backup}" in message
    assert f"copy the backup to {path}" in message
    problem = check_sqlite_state(path)  # what `technyan-bot health` says
    assert problem is not None and problem.startswith(f"state: {path} is not a usable")
    assert f"the last good backup is {backup}" in problem
    restored = SqliteStateStore(backup)  # the backup named is sound and complete
    assert [s.channel_id for s in restored.list_subscriptions()] == [10, 20]
    restored.close()


def test_the_damage_error_names_the_newest_good_backup_or_says_there_is_none(
    tmp_path: Path,
) -> None:
    from bot.state_backup import daily_snapshot, last_good_backup

    path = tmp_path / "state.db"
    SqliteStateStore(path).close()
    assert last_good_backup(path) is None
    os.truncate(path, 0)
    with pytest.raises(StateDamaged, match="no good backup of it was found"):
        SqliteStateStore(path)
    path.unlink()
    store = SqliteStateStore(path)
    store.save_subscription(Subscription(1, 10, "09:00", "UTC"), NOW)
    snapshot = daily_snapshot(path, NOW)
    assert snapshot == tmp_path / "backups" / "state-2025-11-18.db"
    assert daily_snapshot(path, NOW) is None  # one a day
    store.close()
    garbage = tmp_path / "backups" / "state-2025-11-19.db"
    garbage.write_bytes(b"not a database at all" * 300)  # newer, but not good
    os.utime(garbage, (snapshot.stat().st_mtime + 60,) * 2)
    found = last_good_backup(path)
    assert found is not None and found[0] == snapshot


@pytest.mark.parametrize("damage", ["overwritten", "emptied", "replaced", "removed"])
def test_a_write_into_a_state_db_damaged_while_open_is_never_reported_done(
    tmp_path: Path, damage: str
) -> None:
    """SQLite would take the write into its WAL and say done; the store checks the file
    first and refuses, and the change is not kept."""
    path, backup = _state_with_a_backup(tmp_path)
    store = SqliteStateStore(path)
    size = path.stat().st_size
    if damage == "overwritten":
        with path.open("r+b") as file:
            file.write(random.Random(3).randbytes(size))
    elif damage == "emptied":
        os.truncate(path, 0)
    elif damage == "replaced":
        other = tmp_path / "other.db"
        other.write_bytes(random.Random(5).randbytes(size))
        os.replace(other, path)
    else:
        path.unlink()
    with pytest.raises(StateDamaged, match=f"the last good backup is {re.escape(str(backup))}"):
        store.save_subscription(Subscription(1, 30, "09:00", "UTC"), NOW)
    with pytest.raises(StateDamaged):
        claim(store, "a", channel_id=30)
    store.close()


def test_a_schema_missing_a_column_table_or_unique_key_is_damaged(backend: Backend) -> None:
    backend.open().close()
    backend.raw("ALTER TABLE digest_ledger DROP COLUMN stories")
    with pytest.raises(StateDamaged, match="table digest_ledger lacks stories"):
        backend.open()
    backend.raw("ALTER TABLE subscriptions RENAME TO subscriptions_old")
    with pytest.raises(StateDamaged, match="table subscriptions is missing"):
        backend.open()


def test_a_ledger_without_its_unique_key_is_damaged(postgres_url: str) -> None:
    """The exactly-once promise rests on UNIQUE(channel_id, digest_date)."""
    backend = Backend("postgres", postgres_url)
    backend.open().close()
    [(name,)] = backend.raw(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'digest_ledger'::regclass "
        "AND contype = 'u'"
    )
    backend.raw(f'ALTER TABLE digest_ledger DROP CONSTRAINT "{name}"')
    with pytest.raises(StateDamaged, match=r"lacks its unique key \(channel_id, digest_date\)"):
        backend.open()
    from bot.state_postgres import check_postgres

    problem = check_postgres(postgres_url)
    assert problem is not None and "lacks its unique key" in problem


def test_the_request_budget_spaces_request_starts_across_processes(backend: Backend) -> None:
    """Two stores on one database (two processes) reserve from one budget: each start is
    one interval after the previous one, whoever reserved it. (An interval of 10 s keeps
    every reservation queued however slow the machine is.)"""
    first, second = backend.open(), backend.open()
    waits = [
        store.reserve_request_slot("discord-global:1", 10.0)
        for _ in range(4)
        for store in (first, second)
    ]
    for index, wait in enumerate(waits):
        assert index * 10.0 - 5.0 < wait <= index * 10.0
    assert second.reserve_request_slot("another-bot", 10.0) == 0.0  # budgets are apart
    [(name, count)] = backend.raw(
        "SELECT name, count(*) FROM request_budget WHERE name = 'discord-global:1' GROUP BY name"
    )
    assert (name, count) == ("discord-global:1", 1)
    first.close()
    second.close()


def test_process_leases_age_on_the_database_clock(backend: Backend) -> None:
    store = backend.open()
    store.register_process("host/1/abc", "host", 1, "boot/pid:[1]")
    lease = store.process("host/1/abc")
    assert lease is not None and lease.stopped_at is None
    assert (lease.host, lease.pid, lease.host_key) == ("host", 1, "boot/pid:[1]")
    assert 0.0 <= lease.heartbeat_age < 60.0
    assert store.heartbeat("host/1/abc")
    store.retire_process("host/1/abc")
    retired = store.process("host/1/abc")
    assert retired is not None and retired.stopped_at is not None
    assert not store.heartbeat("host/1/abc")  # stopped: register again to come back
    assert store.process("someone-else") is None
    claim(store, "host/1/abc")  # a lease that still owns an intent row is kept
    assert store.prune_processes(older_than=-1.0) == 0
    store.finish(10, DAY, "host/1/abc", "posted", NOW)
    assert store.prune_processes(older_than=-1.0) == 1
    store.close()


def test_postgres_sessions_wait_for_locks_and_statements_a_bounded_time(
    postgres_url: str,
) -> None:
    """A held table lock fails the call in seconds (StateUnavailable), not never; the
    URL's own choices win."""
    import psycopg

    from bot.state import StateUnavailable
    from bot.state_postgres import PostgresStateStore

    store = PostgresStateStore(postgres_url, lock_timeout="200ms")
    settings = {
        name: store._select(f"SHOW {name}")[0][name]
        for name in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
    }
    assert settings == {
        "lock_timeout": "200ms",
        "statement_timeout": "15s",
        "idle_in_transaction_session_timeout": "1min",
    }
    parameters = store._connection.info.get_parameters()  # libpq's, for this connection
    assert (parameters["keepalives_idle"], parameters["tcp_user_timeout"]) == ("10", "30000")
    with psycopg.connect(postgres_url) as holder:
        holder.execute("LOCK TABLE subscriptions IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(StateUnavailable, match="lock timeout"):
            store.save_subscription(Subscription(1, 10, "09:00", "UTC"), NOW)
        holder.rollback()
    assert store.save_subscription(Subscription(1, 10, "09:00", "UTC"), NOW).channel_id == 10
    store.close()
    chosen = PostgresStateStore(postgres_url + "?options=-c%20statement_timeout%3D3s")
    assert chosen._select("SHOW statement_timeout")[0]["statement_timeout"] == "3s"
    chosen.close()
