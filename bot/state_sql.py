"""Every state store method, once, in SQL that SQLite and PostgreSQL both run.

``SqlStateStore`` is assembled from one class per table group, each a seam of its own:

* ``SchemaSql`` — plumbing, migrations and the schema check every open runs;
* ``SubscriptionsSql`` — the ``subscriptions`` table;
* ``LedgerSql`` — the ``digest_ledger``: claims, fenced writes, queries;
* ``ProcessesSql`` — process leases (``processes``) and the shared request budget
  (``request_budget``).

A backend (bot/state.py for SQLite, bot/state_postgres.py for PostgreSQL) supplies the
connection, its transactions and how values are stored (``Dialect``), and turns its
driver's errors into ``StateUnavailable`` (passing) or ``StateDamaged`` (broken).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

from bot.state_records import (
    Claim,
    LedgerEntry,
    ProcessRecord,
    StateDamaged,
    StateError,
    Subscription,
)
from bot.state_schema import (
    MIGRATIONS,
    REQUIRED_COLUMNS,
    REQUIRED_UNIQUE_KEYS,
    SCHEMA_TABLE,
    SCHEMA_VERSION,
    SQLITE,
    Dialect,
)

__all__ = [
    "LEDGER_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "SqlStateStore",
    "schema_problems",
    "subscription_values",
]


# --------------------------------------------------------------------------- values


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


_DELIVERED = "(status = 'posted' OR (status = 'skipped' AND reason = 'empty'))"
_FENCE = "WHERE channel_id = ? AND digest_date = ? AND owner = ? AND status = 'intent'"
LEDGER_COLUMNS = (
    "channel_id, digest_date, guild_id, status, message_ids, window_start, window_end, "
    "owner, attempts, created_at, updated_at, reason, stories"
)


def _marks(count: int) -> str:
    """``?, ?, ?`` for ``count`` parameters."""
    return ", ".join("?" * count)


def _optional_id(value: object) -> int | None:
    return None if value is None else int(str(value))


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
        categories=tuple(str(c) for c in _parse_list(row["categories"])),
        include_keywords=tuple(str(k) for k in _parse_list(row["include_keywords"])),
        exclude_keywords=tuple(str(k) for k in _parse_list(row["exclude_keywords"])),
        role_id=_optional_id(row["role_id"]),
        publish=bool(row["publish"]),
        subscribed_by=_optional_id(row["subscribed_by"]),
        pause_notified_at=_parse_instant(row["pause_notified_at"]),
    )


#: The subscription columns a save writes, in order (``SUBSCRIPTION_COLUMNS`` holds
#: them all, as ``copy_state`` copies them).
_SETTINGS_COLUMNS = (
    "guild_id",
    "channel_id",
    "time",
    "timezone",
    "locale",
    "max_items",
    "post_empty",
    "source",
    "categories",
    "include_keywords",
    "exclude_keywords",
    "role_id",
    "publish",
    "subscribed_by",
)
SUBSCRIPTION_COLUMNS = (
    *_SETTINGS_COLUMNS,
    "state",
    "paused_reason",
    "pause_notified_at",
    "created_at",
    "updated_at",
)


def subscription_values(dialect: Dialect, subscription: Subscription) -> list[Any]:
    """The values of ``SUBSCRIPTION_COLUMNS`` for ``subscription``, as ``dialect`` stores
    them."""

    def instant(value: dt.datetime | None) -> Any:
        return None if value is None else dialect.instant(value)

    return [
        *_settings_values(dialect, subscription),
        subscription.state,
        subscription.paused_reason,
        instant(subscription.pause_notified_at),
        instant(subscription.created_at),
        instant(subscription.updated_at),
    ]


def _settings_values(dialect: Dialect, subscription: Subscription) -> list[Any]:
    return [
        subscription.guild_id,
        subscription.channel_id,
        subscription.time,
        subscription.timezone,
        subscription.locale,
        subscription.max_items,
        bool(subscription.post_empty),
        subscription.source,
        dialect.json_list(list(subscription.categories)),
        dialect.json_list(list(subscription.include_keywords)),
        dialect.json_list(list(subscription.exclude_keywords)),
        subscription.role_id,
        bool(subscription.publish),
        subscription.subscribed_by,
    ]


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


def _process(row: Any) -> ProcessRecord:
    started = _parse_instant(row["started_at"])
    heartbeat = _parse_instant(row["heartbeat_at"])
    assert started is not None and heartbeat is not None  # NOT NULL columns
    return ProcessRecord(
        owner=str(row["owner"]),
        host=str(row["host"]),
        pid=int(row["pid"]),
        host_key=row["host_key"],
        started_at=started,
        heartbeat_at=heartbeat,
        stopped_at=_parse_instant(row["stopped_at"]),
        heartbeat_age=float(row["heartbeat_age"]),
    )


def _equal_to(**columns: object) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause requiring each given column (value not None) to equal its value,
    and its parameters; ``("", [])`` when none is given. Column names come from code."""
    given = {name: value for name, value in columns.items() if value is not None}
    if not given:
        return "", []
    return "WHERE " + " AND ".join(f"{name} = ?" for name in given), list(given.values())


def schema_problems(
    dialect: Dialect, fetch: Callable[[str, Sequence[Any]], list[Any]]
) -> list[str]:
    """What a database at ``SCHEMA_VERSION`` lacks, one phrase each (empty: nothing):
    tables, columns (``REQUIRED_COLUMNS``) and unique keys (``REQUIRED_UNIQUE_KEYS``).
    ``fetch(sql, params)`` runs a query (``?`` markers) and returns rows addressable by
    column name."""
    problems: list[str] = []
    for table, required in REQUIRED_COLUMNS.items():
        present = {str(row["name"]) for row in fetch(dialect.columns_sql, [table])}
        if not present:
            problems.append(f"table {table} is missing")
            continue
        missing = sorted(required - present)
        if missing:
            problems.append(f"table {table} lacks {', '.join(missing)}")
            continue
        key = REQUIRED_UNIQUE_KEYS.get(table)
        if key is None:
            continue
        keys: dict[str, list[str]] = {}
        for row in fetch(dialect.unique_keys_sql, [table]):
            keys.setdefault(str(row["index_name"]), []).append(str(row["name"]))
        if list(key) not in keys.values():
            problems.append(f"table {table} lacks its unique key ({', '.join(key)})")
    return problems


# --------------------------------------------------------------------------- schema


class SchemaSql:
    """Plumbing shared by every table group, migrations and the schema check.

    A backend sets ``dialect`` and ``name`` (how messages name the database) and supplies
    ``_transaction`` (one write transaction: committed on success, rolled back on any
    error; on SQLite ``BEGIN IMMEDIATE``), ``_reading`` (a cursor for single-statement
    reads) and ``close``; ``_lock_schema`` serializes migrations where the transaction
    alone does not; ``_damaged`` builds the error for a broken database (SQLite adds the
    last good backup); ``driver_error`` is its driver's base exception and ``_translate``
    maps one to the store's error, which ``_errors`` raises in its place. Cursors return
    rows addressable by column name.
    """

    dialect: Dialect = SQLITE
    name: str = "state store"
    driver_error: type[Exception] = Exception

    # -- backend hooks ------------------------------------------------------------------

    def _translate(self, error: Any) -> StateError | None:
        """The store's error for a driver error (None: not a database failure, let
        through as it is)."""
        return None

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Driver errors raised inside become the store's (``_translate``)."""
        try:
            yield
        except self.driver_error as error:
            translated = self._translate(error)
            if translated is None:
                raise
            raise translated from error

    def _transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _lock_schema(self, cursor: Any) -> None:
        """Make concurrent migrations wait for each other (no-op where the write
        transaction already does)."""

    def _unsynced_transaction(self) -> AbstractContextManager[Any]:
        """A write transaction whose commit need not survive a crash (the request budget:
        dozens a second, worthless after a restart); by default an ordinary one (SQLite:
        switching ``synchronous`` off and on around it cost more than the synced commit
        it saved, measured on this project's machines)."""
        return self._transaction()

    def _damaged(self, reason: str) -> StateDamaged:
        """The error for a damaged database (one line)."""
        return StateDamaged(f"{self.name} is damaged: {reason}")

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
        """Apply the missing ``MIGRATIONS`` in one transaction, then check the schema.
        Raises ``StateError`` for a database newer than this code (left unchanged) and
        ``StateDamaged`` for one that lacks a table, column or unique key it should have."""
        now = self.dialect.instant(dt.datetime.now(dt.UTC))
        with self._transaction() as cursor:
            self._lock_schema(cursor)
            self._run(cursor, SCHEMA_TABLE.format_map(self.dialect.types))
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
            problems = schema_problems(
                self.dialect, lambda sql, params: self._fetch(cursor, sql, params)
            )
            if problems:
                raise self._damaged("; ".join(problems))

    def schema_version(self) -> int:
        """The version of the database's schema (``SCHEMA_VERSION`` once opened)."""
        [row] = self._select("SELECT max(version) AS version FROM schema_version")
        return int(row["version"] or 0)


# --------------------------------------------------------------------------- subscriptions


class SubscriptionsSql(SchemaSql):
    """The ``subscriptions`` table."""

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
        processes saving the same channel cannot interleave) and read it back. Its
        settings (every column but state, pause and times) are replaced; with
        ``keep_state`` an existing row keeps its state, pause reason and pause notice,
        else it becomes active."""
        stamp = self.dialect.instant(now)
        kept = (
            "state = subscriptions.state, paused_reason = subscriptions.paused_reason, "
            "pause_notified_at = subscriptions.pause_notified_at"
            if keep_state
            else "state = excluded.state, paused_reason = excluded.paused_reason, "
            "pause_notified_at = excluded.pause_notified_at"
        )
        settings = ", ".join(
            f"{column} = excluded.{column}"
            for column in _SETTINGS_COLUMNS
            if column != "channel_id"
        )
        self._run(
            cursor,
            f"INSERT INTO subscriptions ({', '.join(_SETTINGS_COLUMNS)}, state, paused_reason, "
            f"pause_notified_at, created_at, updated_at) "
            f"VALUES ({_marks(len(_SETTINGS_COLUMNS))}, 'active', NULL, NULL, ?, ?) "
            f"ON CONFLICT (channel_id) DO UPDATE SET {settings}, {kept}, "
            "updated_at = excluded.updated_at",
            [*_settings_values(self.dialect, subscription), stamp, stamp],
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
        """Pause (with a reason code) or reactivate a subscription; None if unknown. A
        change of state forgets that the guild was told of a pause (a new pause is told
        again); pausing a paused one keeps it. Raises ``ValueError`` for a state other
        than ``active`` or ``paused``."""
        if state not in ("active", "paused"):
            raise ValueError(f"unknown subscription state {state!r}")
        with self._transaction() as cursor:
            self._run(
                cursor,
                "UPDATE subscriptions SET pause_notified_at = CASE WHEN state = ? "
                "THEN pause_notified_at ELSE NULL END, state = ?, paused_reason = ?, "
                "updated_at = ? WHERE channel_id = ?",
                [
                    state,
                    state,
                    reason if state == "paused" else None,
                    self.dialect.instant(now),
                    channel_id,
                ],
            )
            rows = self._fetch(
                cursor, "SELECT * FROM subscriptions WHERE channel_id = ?", [channel_id]
            )
        return _subscription(rows[0]) if rows else None

    def claim_pause_notice(self, channel_id: int, now: dt.datetime) -> Subscription | None:
        """Take the duty of telling the guild that the subscription of ``channel_id`` is
        paused: the paused subscription for the one caller that marks it told (an UPDATE
        one process wins), None for everyone else and for an active or unknown one."""
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                "UPDATE subscriptions SET pause_notified_at = ? WHERE channel_id = ? "
                "AND state = 'paused' AND pause_notified_at IS NULL",
                [self.dialect.instant(now), channel_id],
            )
            if changed != 1:
                return None
            [row] = self._fetch(
                cursor, "SELECT * FROM subscriptions WHERE channel_id = ?", [channel_id]
            )
        return _subscription(row)

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


# --------------------------------------------------------------------------- ledger


class LedgerSql(SchemaSql):
    """The ``digest_ledger``: exclusive claims, writes fenced on the owner, queries.
    Every write is safe to repeat after a call whose answer was lost (a repeated
    ``take_over`` or ``finish`` by the same owner succeeds again)."""

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
                f"INSERT INTO digest_ledger ({LEDGER_COLUMNS}) "
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
        (attempts + 1). True when this caller won the row (also when it already holds
        it: a repeated call after a lost answer)."""
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                "UPDATE digest_ledger SET owner = ?, updated_at = ?, "
                "attempts = attempts + CASE WHEN owner = ? THEN 0 ELSE 1 END "
                "WHERE channel_id = ? AND digest_date = ? AND status = 'intent' "
                "AND owner IN (?, ?)",
                [
                    new_owner,
                    self.dialect.instant(now),
                    new_owner,
                    channel_id,
                    self.dialect.day(digest_date),
                    old_owner,
                    new_owner,
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
        """Store the ids of the parts posted so far (also renews ``updated_at``). False
        when ``owner`` no longer holds the intent."""
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
        ``owner`` no longer holds it (True again when the owner already closed it with
        the same status). Raises ``ValueError`` for another status."""
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
                f"UPDATE digest_ledger SET {', '.join(sets)} "
                "WHERE channel_id = ? AND digest_date = ? AND owner = ? "
                "AND status IN ('intent', ?)",
                [*params, channel_id, self.dialect.day(digest_date), owner, status],
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
                f"INSERT INTO digest_ledger ({LEDGER_COLUMNS}) "
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


# --------------------------------------------------------------------------- processes


class ProcessesSql(SchemaSql):
    """Process leases and the request budget shared by the processes of one bot."""

    def register_process(self, owner: str, host: str, pid: int, host_key: str | None) -> None:
        """Take (or renew, clearing ``stopped_at``) the lease of ``owner``, started and
        renewed now by the database's clock."""
        now = self.dialect.types["ts_now"]
        with self._transaction() as cursor:
            self._run(
                cursor,
                "INSERT INTO processes (owner, host, pid, host_key, started_at, heartbeat_at, "
                f"stopped_at) VALUES (?, ?, ?, ?, {now}, {now}, NULL) ON CONFLICT (owner) DO "
                "UPDATE SET heartbeat_at = excluded.heartbeat_at, stopped_at = NULL",
                [owner, host, pid, host_key],
            )

    def heartbeat(self, owner: str) -> bool:
        """Renew the lease of a running process (the database's clock). False when it has
        no lease (never registered, pruned, or stopped): register it again."""
        with self._transaction() as cursor:
            changed = self._run(
                cursor,
                f"UPDATE processes SET heartbeat_at = {self.dialect.types['ts_now']} "
                "WHERE owner = ? AND stopped_at IS NULL",
                [owner],
            )
            return changed == 1

    def retire_process(self, owner: str) -> None:
        """Mark a process stopped (cleanly): its ``intent`` rows may be taken over at once."""
        with self._transaction() as cursor:
            self._run(
                cursor,
                f"UPDATE processes SET stopped_at = {self.dialect.types['ts_now']} WHERE owner = ?",
                [owner],
            )

    def process(self, owner: str) -> ProcessRecord | None:
        """The lease of ``owner`` with its heartbeat's age, or None (an owner from before
        leases, or pruned)."""
        rows = self._select(
            f"SELECT *, {self.dialect.seconds_since('heartbeat_at')} AS heartbeat_age "
            "FROM processes WHERE owner = ?",
            [owner],
        )
        return _process(rows[0]) if rows else None

    def prune_processes(self, older_than: float) -> int:
        """Delete leases not renewed for ``older_than`` seconds that own no ``intent`` row.
        Returns how many were deleted."""
        with self._transaction() as cursor:
            return self._run(
                cursor,
                f"DELETE FROM processes WHERE {self.dialect.seconds_since('heartbeat_at')} > ? "
                "AND owner NOT IN (SELECT owner FROM digest_ledger WHERE status = 'intent' "
                "AND owner IS NOT NULL)",
                [float(older_than)],
            )

    def reserve_request_slot(self, budget: str, interval: float) -> float:
        """Reserve the next start of a request under the budget named ``budget``, which
        lets one request start every ``interval`` seconds across every process sharing
        this database. Returns the seconds to wait before starting it (≥ 0). The clock is
        the database's (PostgreSQL's ``statement_timestamp()``, SQLite's ``now``), so
        processes on machines whose clocks differ still share one timeline. On PostgreSQL
        the commit does not wait for the WAL flush (``_unsynced_transaction``)."""
        now = self.dialect.types["epoch_now"]
        with self._unsynced_transaction() as cursor:
            [row] = self._fetch(
                cursor,
                "INSERT INTO request_budget (name, next_at, reserved_at) "
                f"VALUES (?, {now} + ?, {now}) ON CONFLICT (name) DO UPDATE SET "
                "reserved_at = excluded.reserved_at, next_at = CASE WHEN "
                "request_budget.next_at > excluded.reserved_at THEN request_budget.next_at "
                "ELSE excluded.reserved_at END + ? RETURNING next_at - reserved_at - ? AS wait",
                [budget, float(interval), float(interval), float(interval)],
            )
        return max(0.0, float(row["wait"]))


class SqlStateStore(SubscriptionsSql, LedgerSql, ProcessesSql):
    """``StateStore`` in SQL both SQLite and PostgreSQL run (see the module docstring).
    Every method is one short transaction, safe to call from several threads (the
    backend serializes them). Driver errors surface as ``StateUnavailable`` (passing:
    retry later) or ``StateDamaged`` (a broken database)."""

    dialect: Dialect = SQLITE
