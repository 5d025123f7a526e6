"""Subscriptions and the digest ledger: the bot's precious state, in SQLite or PostgreSQL.

The state is not derived: nothing in indexing touches it, and a schema change migrates
the data, never drops it. Callers see the ``StateStore`` protocol; ``open_state_store``
picks the backend from the settings:

* ``SqliteStateStore`` — the default, nothing to install: the file ``state.path``
  (``data/state.db``), one connection in WAL mode with a busy timeout, so several
  processes on one machine can share it;
* ``PostgresStateStore`` (``bot/state_postgres.py``, psycopg 3) — ``state.url =
  "postgresql://…"`` (or ``TECHNYAN_STATE_URL``), for processes on several machines.

Both are ``SqlStateStore``: one implementation of every method, in SQL that both
databases run (written with ``?`` parameters, which the PostgreSQL backend turns into
psycopg's ``%s``), over a backend that only supplies the connection, its transactions and
how values are stored (``Dialect``). Both apply the same ordered ``MIGRATIONS``: each
step is one list of SQL texts whose column types are placeholders (``{id}``, ``{ts}``,
``{date}``, ``{json}``, ``{bool}``) that each dialect fills in:

============  =========================  ==============
placeholder   SQLite                     PostgreSQL
============  =========================  ==============
``{id}``      INTEGER                    BIGINT
``{ts}``      TEXT, ISO 8601 in UTC      TIMESTAMPTZ
``{date}``    TEXT, ``YYYY-MM-DD``       DATE
``{json}``    TEXT (a JSON list)         JSONB
``{bool}``    INTEGER 0/1                BOOLEAN
============  =========================  ==============

Tables (schema version 2):

* ``subscriptions`` — one row per subscribed channel: ``channel_id`` (primary key),
  ``guild_id``, ``time`` (local ``HH:MM``), ``timezone`` (IANA), ``locale`` (``ja``/``en``),
  ``max_items`` (1–10), ``post_empty`` (post a short line on a day without news),
  ``source`` (``command`` or ``config``), ``state`` (``active`` or ``paused``),
  ``paused_reason`` (a reason code such as ``missing_permissions``), ``created_at``,
  ``updated_at``.
* ``digest_ledger`` — one row per channel and *local* digest date, ``UNIQUE(channel_id,
  digest_date)``: ``guild_id``, ``status`` (see below), ``message_ids`` (JSON list, one id
  per posted part, in order), ``window_start``/``window_end`` (UTC instants the digest
  covers; ``window_end`` is the scheduled instant), ``owner`` (the process that claimed
  it: ``host/pid/token``), ``attempts``, ``created_at``, ``updated_at``, ``reason``,
  ``stories`` (JSON list of the story ids the digest carried).
* ``schema_version`` — one row per applied migration (``version``, ``applied_at``).

Every timestamp is a UTC instant; an aware datetime goes in and comes out (a naive one is
refused with ``ValueError``).

Ledger statuses: ``intent`` (claimed, being posted; ``message_ids`` grows as parts go out),
``posted`` (every part is in the channel), ``skipped`` (nothing to post: ``reason`` is
``empty`` for a day without news, ``missed`` for a run later than the grace time),
``failed`` (``reason`` says why; a paused subscription's failure, or a transient error that
outlasted the retries).

Exactly once: claiming a digest is ``INSERT … ON CONFLICT (channel_id, digest_date) DO
NOTHING`` of the ``intent`` row; the database's unique constraint makes a second claim for
the same channel and date — from this process, another process on the same file (SQLite,
inside ``BEGIN IMMEDIATE``) or a process on another machine (PostgreSQL, where the second
insert waits for the first transaction and then does nothing) — insert nothing, so only
one poster ever starts. Later writes by the poster (``record_messages``, ``finish``) are
fenced on ``owner`` and ``status = 'intent'``, so a poster whose row was taken over stops
writing; ``take_over`` is itself a fenced UPDATE, so one process wins it.

Migrations: opening a store applies the missing ones in one transaction (on PostgreSQL
under an advisory lock, so processes starting together migrate once). Version 1 was the first shape
(a ledger with a single ``message_id``); version 2 adds delivery bookkeeping (several
message ids, window, owner, attempts, reason, stories) and the subscription's
``post_empty``, ``source``, ``paused_reason`` and ``updated_at``. A database newer than the
code is refused, never altered.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.config import Settings

__all__ = [
    "LEDGER_STATUSES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLITE",
    "Claim",
    "Dialect",
    "LedgerEntry",
    "Migration",
    "SqlStateStore",
    "SqliteStateStore",
    "StateError",
    "StateStore",
    "Subscription",
    "copy_state",
    "open_state_store",
    "utc_instant",
]

LEDGER_STATUSES = ("intent", "posted", "skipped", "failed")
#: Seconds SQLite waits for another connection's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0


class StateError(Exception):
    """The state store cannot be used: a database newer than this code, a file that is
    not a state database, a bad ``state.url`` or a PostgreSQL server that cannot be
    reached. The message is one line and never holds a password."""


def utc_instant(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC. Raises ``ValueError`` for a naive datetime (the store keeps
    instants, and a naive one names none)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the state store keeps UTC instants")
    return value.astimezone(dt.UTC)


def _iso_instant(value: dt.datetime) -> str:
    """An aware datetime as an ISO 8601 string in UTC (SQLite's ``{ts}``)."""
    return utc_instant(value).isoformat()


def _parse_instant(value: object) -> dt.datetime | None:
    """A stored instant (an ISO string from SQLite, a datetime from PostgreSQL) as an
    aware UTC datetime; None for NULL or an empty string."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _parse_day(value: object) -> dt.date:
    """A stored digest date (``YYYY-MM-DD`` text from SQLite, a date from PostgreSQL)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _parse_list(value: object) -> list[Any]:
    """A stored JSON list (text from SQLite, already decoded by psycopg from JSONB)."""
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        decoded = json.loads(value)
        return list(decoded) if decoded else []
    if isinstance(value, list | tuple):
        return list(value)
    raise TypeError(f"not a stored JSON list: {value!r}")


@dataclass(frozen=True)
class Subscription:
    """One channel's daily digest.

    ``time`` is the local wall-clock time ``HH:MM`` in ``timezone`` (an IANA name);
    ``locale`` ``ja`` or ``en``; ``max_items`` 1–10 stories; ``post_empty`` whether a day
    without news gets a short line (else nothing). ``source`` is ``command`` (made with
    ``/news subscribe``) or ``config`` (declared in config.toml: the operator's file is
    authoritative for it). ``state`` is ``active`` or ``paused`` with ``paused_reason``.
    ``created_at``/``updated_at`` are UTC instants (None before the row is stored).
    """

    guild_id: int
    channel_id: int
    time: str
    timezone: str
    locale: str = "ja"
    max_items: int = 5
    post_empty: bool = False
    source: str = "command"
    state: str = "active"
    paused_reason: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def hour(self) -> int:
        """The local hour (0–23)."""
        return int(self.time.split(":")[0])

    @property
    def minute(self) -> int:
        """The local minute (0–59)."""
        return int(self.time.split(":")[1])

    @property
    def zone(self) -> ZoneInfo:
        """The subscription's time zone. Raises ``ZoneInfoNotFoundError`` for a bad name."""
        return ZoneInfo(self.timezone)

    @property
    def active(self) -> bool:
        """True unless paused."""
        return self.state == "active"


@dataclass(frozen=True)
class LedgerEntry:
    """One digest of one channel on one local date (a ``digest_ledger`` row).

    ``window_start``/``window_end`` are UTC; ``window_end`` is the scheduled instant the
    digest belongs to. ``message_ids`` are the posted parts in order.
    """

    channel_id: int
    digest_date: dt.date
    guild_id: int
    status: str
    owner: str
    message_ids: tuple[int, ...] = ()
    window_start: dt.datetime | None = None
    window_end: dt.datetime | None = None
    attempts: int = 1
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    reason: str | None = None
    stories: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Claim:
    """The result of ``claim``: ``claimed`` is True when this caller now owns the digest
    (a new ``intent`` row, or a ``failed`` one taken back with ``retry_failed``);
    ``entry`` is the row as it stands after the attempt."""

    claimed: bool
    entry: LedgerEntry


class StateStore(Protocol):
    """Subscriptions and the digest ledger (``SqliteStateStore``, ``PostgresStateStore``).
    Every method is one short transaction and is safe to call from several threads; times
    are aware datetimes (stored as UTC instants). Writes after a claim are fenced on the
    owner; the uniqueness of (channel, digest date) is the database's."""

    def close(self) -> None:
        """Close the store."""
        ...

    def schema_version(self) -> int:
        """The version of the database's schema (``SCHEMA_VERSION`` once opened)."""
        ...

    # -- subscriptions ----------------------------------------------------------------

    def get_subscription(self, channel_id: int) -> Subscription | None:
        """The subscription of ``channel_id``, or None."""
        ...

    def list_subscriptions(
        self, guild_id: int | None = None, *, state: str | None = None
    ) -> list[Subscription]:
        """Subscriptions (of one guild, in one state), ordered by guild and channel."""
        ...

    def save_subscription(
        self, subscription: Subscription, now: dt.datetime, *, keep_state: bool = False
    ) -> Subscription:
        """Insert or replace the subscription of its channel (``created_at`` is kept for
        an existing row). With ``keep_state`` an existing row keeps its state and pause
        reason; otherwise the saved subscription is active. Returns the stored row."""
        ...

    def delete_subscription(self, channel_id: int) -> bool:
        """Remove a subscription (its ledger rows stay). Returns whether one existed."""
        ...

    def set_state(
        self, channel_id: int, state: str, reason: str | None, now: dt.datetime
    ) -> Subscription | None:
        """Pause (with a reason code) or reactivate a subscription; None if unknown."""
        ...

    def sync_config_subscriptions(
        self, subscriptions: Sequence[Subscription], now: dt.datetime
    ) -> None:
        """Make the ``config`` subscriptions equal ``subscriptions``: each is saved with
        source ``config`` (keeping the state of an existing row) and config rows no
        longer declared are removed."""
        ...

    # -- ledger -----------------------------------------------------------------------

    def claim(
        self,
        *,
        channel_id: int,
        guild_id: int,
        digest_date: dt.date,
        owner: str,
        window_start: dt.datetime,
        window_end: dt.datetime,
        now: dt.datetime,
        retry_failed: bool = False,
    ) -> Claim:
        """Record the intent to post the digest of ``channel_id`` for ``digest_date``.
        Exactly one caller per channel and date gets ``claimed=True``."""
        ...

    def take_over(
        self,
        channel_id: int,
        digest_date: dt.date,
        old_owner: str,
        new_owner: str,
        now: dt.datetime,
    ) -> bool:
        """Move an ``intent`` row from ``old_owner`` (a dead process) to ``new_owner``
        (attempts + 1). True when this caller won the row."""
        ...

    def record_messages(
        self,
        channel_id: int,
        digest_date: dt.date,
        owner: str,
        message_ids: Sequence[int],
        now: dt.datetime,
    ) -> bool:
        """Store the ids of the parts posted so far (also renews ``updated_at``). False
        when ``owner`` no longer holds the intent."""
        ...

    def finish(
        self,
        channel_id: int,
        digest_date: dt.date,
        owner: str,
        status: str,
        now: dt.datetime,
        *,
        reason: str | None = None,
        stories: Sequence[str] | None = None,
        message_ids: Sequence[int] | None = None,
    ) -> bool:
        """Close an ``intent`` row as ``posted``, ``skipped`` or ``failed``. False when
        ``owner`` no longer holds it."""
        ...

    def record_skipped(
        self,
        *,
        channel_id: int,
        guild_id: int,
        digest_date: dt.date,
        owner: str,
        window_start: dt.datetime | None,
        window_end: dt.datetime,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Record that a digest was not posted (``missed`` …) unless the date already has
        a row. True when the row was written."""
        ...

    def entry(self, channel_id: int, digest_date: dt.date) -> LedgerEntry | None:
        """The ledger row of one channel and date."""
        ...

    def entries(
        self, channel_id: int | None = None, *, status: str | None = None
    ) -> list[LedgerEntry]:
        """Ledger rows, oldest date first (of one channel, in one status)."""
        ...

    def last_entry(
        self,
        channel_id: int,
        *,
        before: dt.date | None = None,
        delivered: bool = False,
        statuses: Iterable[str] | None = None,
    ) -> LedgerEntry | None:
        """The newest row of a channel dated before ``before``; with ``delivered`` only
        ``posted`` rows and ``skipped`` rows of an empty day (the digests that covered
        their window); with ``statuses`` only rows in those statuses."""
        ...

    def posted_stories(self, channel_id: int, since: dt.date, before: dt.date) -> set[str]:
        """Story ids posted to ``channel_id`` by digests dated in ``[since, before)``."""
        ...


# --------------------------------------------------------------------------- dialects


@dataclass(frozen=True)
class Dialect:
    """How one database stores what ``SqlStateStore`` writes.

    ``name`` is ``sqlite`` or ``postgres``; ``types`` fills the placeholders of the
    migrations (``{id}``, ``{ts}``, ``{date}``, ``{json}``, ``{bool}``, ``{false}``,
    ``{json_array}``); ``placeholder`` is the driver's parameter marker (``?`` or ``%s``);
    ``instant``, ``day`` and ``json_list`` turn an aware datetime, a date and a list into
    the value the driver stores in a ``{ts}``, ``{date}`` and ``{json}`` column.
    """

    name: str
    types: Mapping[str, str]
    placeholder: str
    instant: Callable[[dt.datetime], Any]
    day: Callable[[dt.date], Any]
    json_list: Callable[[Sequence[Any]], Any]

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` markers) in this driver's parameter style."""
        if self.placeholder == "?":
            return text
        return text.replace("%", "%%").replace("?", self.placeholder)


SQLITE = Dialect(
    name="sqlite",
    types={
        "id": "INTEGER",
        "ts": "TEXT",
        "date": "TEXT",
        "json": "TEXT",
        "bool": "INTEGER",
        "false": "0",
        "json_array": "json_array",
    },
    placeholder="?",
    instant=_iso_instant,
    day=dt.date.isoformat,
    json_list=lambda values: json.dumps(list(values), ensure_ascii=False),
)


# --------------------------------------------------------------------------- migrations


@dataclass(frozen=True)
class Migration:
    """One step of the schema: ``statements`` bring a database from ``version - 1`` to
    ``version``. Each is SQL both databases run once ``Dialect.types`` has filled its
    placeholders."""

    version: int
    description: str
    statements: tuple[str, ...]

    def sql(self, dialect: Dialect) -> list[str]:
        """The statements for ``dialect``, in order."""
        return [statement.format_map(dialect.types) for statement in self.statements]


#: Ordered migrations: ``MIGRATIONS[n - 1]`` brings a database from version n - 1 to n.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "the first schema: subscriptions and a ledger with one message id",
        (
            """
            CREATE TABLE subscriptions (
                channel_id {id} PRIMARY KEY,
                guild_id {id} NOT NULL,
                time TEXT NOT NULL,
                timezone TEXT NOT NULL,
                locale TEXT NOT NULL DEFAULT 'ja',
                max_items INTEGER NOT NULL DEFAULT 5,
                state TEXT NOT NULL DEFAULT 'active',
                created_at {ts}
            )
            """,
            """
            CREATE TABLE digest_ledger (
                channel_id {id} NOT NULL,
                digest_date {date} NOT NULL,
                guild_id {id} NOT NULL,
                status TEXT NOT NULL,
                message_id {id},
                created_at {ts},
                UNIQUE (channel_id, digest_date)
            )
            """,
        ),
    ),
    Migration(
        2,
        "delivery bookkeeping: several message ids per digest (a digest may need several "
        "messages), window, owner, attempts, reason and stories; subscriptions gain "
        "post_empty, source, paused_reason and updated_at",
        (
            "ALTER TABLE subscriptions ADD COLUMN post_empty {bool} NOT NULL DEFAULT {false}",
            "ALTER TABLE subscriptions ADD COLUMN source TEXT NOT NULL DEFAULT 'command'",
            "ALTER TABLE subscriptions ADD COLUMN paused_reason TEXT",
            "ALTER TABLE subscriptions ADD COLUMN updated_at {ts}",
            "UPDATE subscriptions SET updated_at = created_at",
            "ALTER TABLE digest_ledger ADD COLUMN message_ids {json} NOT NULL DEFAULT '[]'",
            "UPDATE digest_ledger SET message_ids = {json_array}(message_id) "
            "WHERE message_id IS NOT NULL",
            "ALTER TABLE digest_ledger DROP COLUMN message_id",
            "ALTER TABLE digest_ledger ADD COLUMN window_start {ts}",
            "ALTER TABLE digest_ledger ADD COLUMN window_end {ts}",
            "ALTER TABLE digest_ledger ADD COLUMN owner TEXT",
            "ALTER TABLE digest_ledger ADD COLUMN updated_at {ts}",
            "ALTER TABLE digest_ledger ADD COLUMN reason TEXT",
            "ALTER TABLE digest_ledger ADD COLUMN attempts INTEGER NOT NULL DEFAULT 1",
            "ALTER TABLE digest_ledger ADD COLUMN stories {json} NOT NULL DEFAULT '[]'",
            "UPDATE digest_ledger SET owner = 'v1', updated_at = created_at",
            "CREATE INDEX digest_ledger_status ON digest_ledger (status)",
        ),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
_SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at {ts})"
)


# --------------------------------------------------------------------------- shared SQL


_DELIVERED = "(status = 'posted' OR (status = 'skipped' AND reason = 'empty'))"
_FENCE = "WHERE channel_id = ? AND digest_date = ? AND owner = ? AND status = 'intent'"
_LEDGER_COLUMNS = (
    "channel_id, digest_date, guild_id, status, message_ids, window_start, window_end, "
    "owner, attempts, created_at, updated_at, reason, stories"
)


def _marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        guild_id=int(row["guild_id"]),
        channel_id=int(row["channel_id"]),
        time=str(row["time"]),
        timezone=str(row["timezone"]),
        locale=str(row["locale"]),
        max_items=int(row["max_items"]),
        post_empty=bool(row["post_empty"]),
        source=str(row["source"]),
        state=str(row["state"]),
        paused_reason=row["paused_reason"],
        created_at=_parse_instant(row["created_at"]),
        updated_at=_parse_instant(row["updated_at"]),
    )


def _entry(row: Any) -> LedgerEntry:
    return LedgerEntry(
        channel_id=int(row["channel_id"]),
        digest_date=_parse_day(row["digest_date"]),
        guild_id=int(row["guild_id"]),
        status=str(row["status"]),
        owner=str(row["owner"] or ""),
        message_ids=tuple(int(m) for m in _parse_list(row["message_ids"])),
        window_start=_parse_instant(row["window_start"]),
        window_end=_parse_instant(row["window_end"]),
        attempts=int(row["attempts"]),
        created_at=_parse_instant(row["created_at"]),
        updated_at=_parse_instant(row["updated_at"]),
        reason=row["reason"],
        stories=tuple(str(s) for s in _parse_list(row["stories"])),
    )


def _equal_to(**columns: object) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause requiring each given column (value not None) to equal its value,
    and its parameters; ``("", [])`` when none is given. Column names come from code."""
    given = {name: value for name, value in columns.items() if value is not None}
    if not given:
        return "", []
    return "WHERE " + " AND ".join(f"{name} = ?" for name in given), list(given.values())


class SqlStateStore:
    """Every ``StateStore`` method, once, in SQL that SQLite and PostgreSQL both run.

    A backend sets ``dialect`` and ``name`` (how messages name the database) and supplies
    ``_transaction`` (one write transaction: committed on success, rolled back on any
    error; on SQLite ``BEGIN IMMEDIATE``), ``_reading`` (a cursor for single-statement
    reads) and ``close``; ``_lock_schema`` serializes migrations where the transaction
    alone does not. Cursors return rows addressable by column name. Every method is one
    short transaction, safe to call from several threads (the backend serializes them).
    Driver errors (``sqlite3.Error``, ``psycopg.Error``) other than those documented
    propagate.
    """

    dialect: Dialect = SQLITE
    name: str = "state store"

    # -- backend hooks ------------------------------------------------------------------

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _lock_schema(self, cursor: Any) -> None:
        """Make concurrent migrations wait for each other (no-op where the write
        transaction already does)."""

    def close(self) -> None:
        """Close the store."""
        raise NotImplementedError

    # -- plumbing -----------------------------------------------------------------------

    def _run(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> int:
        """Execute one statement; returns the number of rows it changed."""
        if params:
            cursor.execute(self.dialect.sql(sql), tuple(params))
        else:
            cursor.execute(sql)
        return int(cursor.rowcount)

    def _fetch(self, cursor: Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        self._run(cursor, sql, params)
        return list(cursor.fetchall())

    def _select(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._reading() as cursor:
            return self._fetch(cursor, sql, params)

    def _migrate(self) -> None:
        """Apply the missing ``MIGRATIONS`` in one transaction. Raises ``StateError`` for
        a database newer than this code (left unchanged)."""
        now = self.dialect.instant(dt.datetime.now(dt.UTC))
        with self._transaction() as cursor:
            self._lock_schema(cursor)
            self._run(cursor, _SCHEMA_TABLE.format_map(self.dialect.types))
            [row] = self._fetch(cursor, "SELECT max(version) AS version FROM schema_version")
            current = int(row["version"] or 0)
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"{self.name} has schema version {current}, newer than this "
                    f"technyan-bot (version {SCHEMA_VERSION}); upgrade the bot"
                )
            for migration in MIGRATIONS[current:]:
                for statement in migration.sql(self.dialect):
                    self._run(cursor, statement)
                self._run(
                    cursor,
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    [migration.version, now],
                )

    def schema_version(self) -> int:
        """The version of the database's schema (``SCHEMA_VERSION`` once opened)."""
        [row] = self._select("SELECT max(version) AS version FROM schema_version")
        return int(row["version"] or 0)

    # -- subscriptions ------------------------------------------------------------------

    def get_subscription(self, channel_id: int) -> Subscription | None:
        """The subscription of ``channel_id``, or None."""
        rows = self._select("SELECT * FROM subscriptions WHERE channel_id = ?", [channel_id])
        return _subscription(rows[0]) if rows else None

    def list_subscriptions(
        self, guild_id: int | None = None, *, state: str | None = None
    ) -> list[Subscription]:
        """Subscriptions (of one guild, in one state), ordered by guild and channel."""
        where, params = _equal_to(guild_id=guild_id, state=state)
        rows = self._select(
            f"SELECT * FROM subscriptions {where} ORDER BY guild_id, channel_id", params
        )
        return [_subscription(row) for row in rows]

    def _save(
        self, cursor: Any, subscription: Subscription, now: dt.datetime, keep_state: bool
    ) -> Subscription:
        """Upsert one subscription in ``cursor``'s transaction (one statement, so two
        processes saving the same channel cannot interleave) and read it back."""
        stamp = self.dialect.instant(now)
        kept = (
            "state = subscriptions.state, paused_reason = subscriptions.paused_reason"
            if keep_state
            else "state = excluded.state, paused_reason = excluded.paused_reason"
        )
        self._run(
            cursor,
            "INSERT INTO subscriptions (guild_id, channel_id, time, timezone, locale, "
            "max_items, post_empty, source, state, paused_reason, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, "
            "time = excluded.time, timezone = excluded.timezone, locale = excluded.locale, "
            "max_items = excluded.max_items, post_empty = excluded.post_empty, "
            f"source = excluded.source, {kept}, updated_at = excluded.updated_at",
            [
                subscription.guild_id,
                subscription.channel_id,
                subscription.time,
                subscription.timezone,
                subscription.locale,
                subscription.max_items,
                bool(subscription.post_empty),
                subscription.source,
                stamp,
                stamp,
            ],
        )
        [row] = self._fetch(
            cursor, "SELECT * FROM subscriptions WHERE channel_id = ?", [subscription.channel_id]
        )
        return _subscription(row)

    def save_subscription(
        self, subscription: Subscription, now: dt.datetime, *, keep_state: bool = False
    ) -> Subscription:
        """Insert or replace the subscription of its channel (``created_at`` is kept for
        an existing row). With ``keep_state`` an existing row keeps its state and pause
        reason; otherwise the saved subscription is active. Returns the stored row."""
        with self._transaction() as cursor:
            return self._save(cursor, subscription, now, keep_state)

    def delete_subscription(self, channel_id: int) -> bool:
        """Remove a subscription (its ledger rows stay, so a re-subscription the same day
        does not post that day's digest twice). Returns whether one existed."""
        with self._transaction() as cursor:
            return (
                self._run(cursor, "DELETE FROM subscriptions WHERE channel_id = ?", [channel_id])
                > 0
            )

    def set_state(
        self, channel_id: int, state: str, reason: str | None, now: dt.datetime
    ) -> Subscription | None:
        """Pause (with a reason code) or reactivate a subscription; None if unknown.
        Raises ``ValueError`` for a state other than ``active`` or ``paused``."""
        if state not in ("active", "paused"):
            raise ValueError(f"unknown subscription state {state!r}")
        with self._transaction() as cursor:
            self._run(
                cursor,
                "UPDATE subscriptions SET state = ?, paused_reason = ?, updated_at = ? "
                "WHERE channel_id = ?",
                [
                    state,
                    reason if state == "paused" else None,
                    self.dialect.instant(now),
                    channel_id,
                ],
            )
        return self.get_subscription(channel_id)

    def sync_config_subscriptions(
        self, subscriptions: Sequence[Subscription], now: dt.datetime
    ) -> None:
        """Make the ``config`` subscriptions equal ``subscriptions``: each is saved with
        source ``config`` (keeping the state of an existing row) and config rows no
        longer declared are removed. One transaction."""
        declared = sorted({s.channel_id: s for s in subscriptions}.items())
        with self._transaction() as cursor:
            for _, subscription in declared:  # in key order: concurrent syncs never deadlock
                config = replace(subscription, source="config")
                self._save(cursor, config, now, keep_state=True)
            ids = [channel_id for channel_id, _ in declared]
            not_declared = f" AND channel_id NOT IN ({_marks(len(ids))})" if ids else ""
            self._run(
                cursor, f"DELETE FROM subscriptions WHERE source = 'config'{not_declared}", ids
            )

    # -- ledger -------------------------------------------------------------------------

    def _entry_in(self, cursor: Any, channel_id: int, day: dt.date) -> LedgerEntry | None:
        rows = self._fetch(
            cursor,
            "SELECT * FROM digest_ledger WHERE channel_id = ? AND digest_date = ?",
            [channel_id, self.dialect.day(day)],
        )
        return _entry(rows[0]) if rows else None

    def claim(
        self,
        *,
        channel_id: int,
        guild_id: int,
        digest_date: dt.date,
        owner: str,
        window_start: dt.datetime,
        window_end: dt.datetime,
        now: dt.datetime,
        retry_failed: bool = False,
    ) -> Claim:
        """Record the intent to post the digest of ``channel_id`` for ``digest_date``.
        Exactly one caller per channel and date gets ``claimed=True``, whatever process or
        machine it runs on: the INSERT does nothing when the unique key (channel, date)
        already has a row — committed, or being committed by another transaction, which
        it waits for — and the caller gets that row with ``claimed=False``. With
        ``retry_failed`` a ``failed`` row is taken back (attempts + 1) by one caller."""
        stamp = self.dialect.instant(now)
        day = self.dialect.day(digest_date)
        with self._transaction() as cursor:
            inserted = self._run(
                cursor,
                f"INSERT INTO digest_ledger ({_LEDGER_COLUMNS}) "
                "VALUES (?, ?, ?, 'intent', ?, ?, ?, ?, 1, ?, ?, NULL, ?) "
                "ON CONFLICT (channel_id, digest_date) DO NOTHING",
                [
                    channel_id,
                    day,
                    guild_id,
                    self.dialect.json_list([]),
                    self.dialect.instant(window_start),
                    self.dialect.instant(window_end),
                    owner,
                    stamp,
                    stamp,
                    self.dialect.json_list([]),
                ],
            )
            if not inserted:
                existing = self._entry_in(cursor, channel_id, digest_date)
                if existing is None:  # pragma: no cover - the conflicting row was deleted
                    raise StateError(f"{self.name}: the ledger row of {channel_id} vanished")
                if not (retry_failed and existing.status == "failed"):
                    return Claim(False, existing)
                taken = self._run(
                    cursor,
                    "UPDATE digest_ledger SET status = 'intent', owner = ?, "
                    "attempts = attempts + 1, reason = NULL, window_start = ?, "
                    "window_end = ?, updated_at = ? "
                    "WHERE channel_id = ? AND digest_date = ? AND status = 'failed'",
                    [
                        owner,
                        self.dialect.instant(window_start),
                        self.dialect.instant(window_end),
                        stamp,
                        channel_id,
                        day,
                    ],
                )
                if not taken:  # another process took it back first
                    current = self._entry_in(cursor, channel_id, digest_date)
                    return Claim(False, current or existing)
            claimed = self._entry_in(cursor, channel_id, digest_date)
            assert claimed is not None
            return Claim(True, claimed)

    def take_over(
        self,
        channel_id: int,
        digest_date: dt.date,
        old_owner: str,
        new_owner: str,
        now: dt.datetime,
    ) -> bool:
        """Move an ``intent`` row from ``old_owner`` (a dead process) to ``new_owner``
        (attempts + 1). True when this caller won the row."""
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                "UPDATE digest_ledger SET owner = ?, attempts = attempts + 1, updated_at = ? "
                + _FENCE,
                [
                    new_owner,
                    self.dialect.instant(now),
                    channel_id,
                    self.dialect.day(digest_date),
                    old_owner,
                ],
            )
            return changed == 1

    def record_messages(
        self,
        channel_id: int,
        digest_date: dt.date,
        owner: str,
        message_ids: Sequence[int],
        now: dt.datetime,
    ) -> bool:
        """Store the ids of the parts posted so far (also renews ``updated_at``, the
        owner's lease). False when ``owner`` no longer holds the intent."""
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                "UPDATE digest_ledger SET message_ids = ?, updated_at = ? " + _FENCE,
                [
                    self.dialect.json_list([int(m) for m in message_ids]),
                    self.dialect.instant(now),
                    channel_id,
                    self.dialect.day(digest_date),
                    owner,
                ],
            )
            return changed == 1

    def finish(
        self,
        channel_id: int,
        digest_date: dt.date,
        owner: str,
        status: str,
        now: dt.datetime,
        *,
        reason: str | None = None,
        stories: Sequence[str] | None = None,
        message_ids: Sequence[int] | None = None,
    ) -> bool:
        """Close an ``intent`` row as ``posted``, ``skipped`` or ``failed``. False when
        ``owner`` no longer holds it. Raises ``ValueError`` for another status."""
        if status not in ("posted", "skipped", "failed"):
            raise ValueError(f"cannot finish a digest as {status!r}")
        sets = ["status = ?", "reason = ?", "updated_at = ?"]
        params: list[Any] = [status, reason, self.dialect.instant(now)]
        if stories is not None:
            sets.append("stories = ?")
            params.append(self.dialect.json_list(list(stories)))
        if message_ids is not None:
            sets.append("message_ids = ?")
            params.append(self.dialect.json_list([int(m) for m in message_ids]))
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                f"UPDATE digest_ledger SET {', '.join(sets)} " + _FENCE,
                [*params, channel_id, self.dialect.day(digest_date), owner],
            )
            return changed == 1

    def record_skipped(
        self,
        *,
        channel_id: int,
        guild_id: int,
        digest_date: dt.date,
        owner: str,
        window_start: dt.datetime | None,
        window_end: dt.datetime,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Record that a digest was not posted (``missed`` …) unless the date already has
        a row. True when the row was written."""
        stamp = self.dialect.instant(now)
        with self._transaction() as cursor:
            inserted = self._run(
                cursor,
                f"INSERT INTO digest_ledger ({_LEDGER_COLUMNS}) "
                "VALUES (?, ?, ?, 'skipped', ?, ?, ?, ?, 0, ?, ?, ?, ?) "
                "ON CONFLICT (channel_id, digest_date) DO NOTHING",
                [
                    channel_id,
                    self.dialect.day(digest_date),
                    guild_id,
                    self.dialect.json_list([]),
                    self.dialect.instant(window_start) if window_start else None,
                    self.dialect.instant(window_end),
                    owner,
                    stamp,
                    stamp,
                    reason,
                    self.dialect.json_list([]),
                ],
            )
            return inserted == 1

    def entry(self, channel_id: int, digest_date: dt.date) -> LedgerEntry | None:
        """The ledger row of one channel and date."""
        with self._reading() as cursor:
            return self._entry_in(cursor, channel_id, digest_date)

    def entries(
        self, channel_id: int | None = None, *, status: str | None = None
    ) -> list[LedgerEntry]:
        """Ledger rows, oldest date first (of one channel, in one status)."""
        where, params = _equal_to(channel_id=channel_id, status=status)
        rows = self._select(
            f"SELECT * FROM digest_ledger {where} ORDER BY digest_date, channel_id", params
        )
        return [_entry(row) for row in rows]

    def last_entry(
        self,
        channel_id: int,
        *,
        before: dt.date | None = None,
        delivered: bool = False,
        statuses: Iterable[str] | None = None,
    ) -> LedgerEntry | None:
        """The newest row of a channel dated before ``before``; with ``delivered`` only
        ``posted`` rows and ``skipped`` rows of an empty day (the digests that covered
        their window); with ``statuses`` only rows in those statuses."""
        clauses: list[str] = ["channel_id = ?"]
        params: list[Any] = [channel_id]
        if before is not None:
            clauses.append("digest_date < ?")
            params.append(self.dialect.day(before))
        if delivered:
            clauses.append(_DELIVERED)
        if statuses is not None:
            wanted = list(statuses)
            if not wanted:
                return None
            clauses.append(f"status IN ({_marks(len(wanted))})")
            params.extend(wanted)
        rows = self._select(
            f"SELECT * FROM digest_ledger WHERE {' AND '.join(clauses)} "
            "ORDER BY digest_date DESC LIMIT 1",
            params,
        )
        return _entry(rows[0]) if rows else None

    def posted_stories(self, channel_id: int, since: dt.date, before: dt.date) -> set[str]:
        """Story ids posted to ``channel_id`` by digests dated in ``[since, before)``."""
        rows = self._select(
            "SELECT stories FROM digest_ledger WHERE channel_id = ? AND status = 'posted' "
            "AND digest_date >= ? AND digest_date < ?",
            [channel_id, self.dialect.day(since), self.dialect.day(before)],
        )
        return {str(story) for row in rows for story in _parse_list(row["stories"])}


# --------------------------------------------------------------------------- SQLite


class SqliteStateStore(SqlStateStore):
    """``StateStore`` over one SQLite file (see the module docstring for the schema).

    Opening creates the file and its folder when missing and applies pending migrations.
    One connection (autocommit, so every transaction is explicit) is shared by all threads
    behind a lock; writes run in ``BEGIN IMMEDIATE`` transactions, so a competing process
    waits up to ``BUSY_TIMEOUT_SECONDS`` for the write lock. Commits are synced
    (``synchronous = FULL``) even in WAL mode: a committed claim must survive a power cut.
    Raises ``StateError`` for a database newer than this code or a file that is not
    SQLite.
    """

    dialect = SQLITE

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        connection = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_SECONDS,
            check_same_thread=False,
            isolation_level=None,
        )
        connection.row_factory = sqlite3.Row
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            connection.execute("PRAGMA journal_mode = wal")
            connection.execute("PRAGMA synchronous = FULL")
            self._connection = connection
            self._migrate()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StateError(f"{self.path}: not a usable state database ({error})") from error
        except BaseException:
            connection.close()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One ``BEGIN IMMEDIATE`` transaction (committed, or rolled back on error)."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            yield self._connection.cursor()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._connection.close()


# --------------------------------------------------------------------------- copying


def copy_state(source: StateStore, target: SqlStateStore) -> tuple[int, int]:
    """Copy every subscription and ledger row of ``source`` into ``target`` — e.g. a
    ``state.db`` into a new PostgreSQL database, when one process becomes several — with
    every column as it is (states, owners, windows, message ids, stories), in one
    transaction of ``target``. Returns (subscriptions, ledger rows) copied. Raises
    ``StateError`` when ``target`` already holds any, and changes nothing then."""
    subscriptions = source.list_subscriptions()
    entries = source.entries()
    d = target.dialect

    def instant(value: dt.datetime | None) -> Any:
        return None if value is None else d.instant(value)

    with target._transaction() as cursor:
        [row] = target._fetch(
            cursor,
            "SELECT (SELECT count(*) FROM subscriptions) + (SELECT count(*) FROM digest_ledger) "
            "AS n",
        )
        if int(row["n"]):
            raise StateError(f"{target.name} already holds subscriptions or digests; not copied")
        for sub in subscriptions:
            target._run(
                cursor,
                "INSERT INTO subscriptions (guild_id, channel_id, time, timezone, locale, "
                "max_items, post_empty, source, state, paused_reason, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sub.guild_id,
                    sub.channel_id,
                    sub.time,
                    sub.timezone,
                    sub.locale,
                    sub.max_items,
                    bool(sub.post_empty),
                    sub.source,
                    sub.state,
                    sub.paused_reason,
                    instant(sub.created_at),
                    instant(sub.updated_at),
                ],
            )
        for entry in entries:
            target._run(
                cursor,
                f"INSERT INTO digest_ledger ({_LEDGER_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    entry.channel_id,
                    d.day(entry.digest_date),
                    entry.guild_id,
                    entry.status,
                    d.json_list(list(entry.message_ids)),
                    instant(entry.window_start),
                    instant(entry.window_end),
                    entry.owner,
                    entry.attempts,
                    instant(entry.created_at),
                    instant(entry.updated_at),
                    entry.reason,
                    d.json_list(list(entry.stories)),
                ],
            )
    return len(subscriptions), len(entries)


# --------------------------------------------------------------------------- factory


def open_state_store(settings: Settings) -> StateStore:
    """The store ``settings`` name: PostgreSQL when ``state.url`` is set (a
    ``postgresql://`` URL), else SQLite at ``state.path``. Raises ``StateError`` (one line,
    never the password) for a bad URL, a server that cannot be reached or refuses the
    login, or a database that cannot be used."""
    if settings.state_url:
        from bot.state_postgres import PostgresStateStore

        return PostgresStateStore(settings.state_url)
    return SqliteStateStore(settings.state_path)
