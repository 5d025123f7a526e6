"""Subscriptions and the digest ledger: ``state.db``, the bot's precious data.

``state.db`` is not derived: nothing in indexing touches it, and a schema change migrates
the data, never drops it. The store is reached through the ``StateStore`` protocol (a
PostgreSQL backend can implement the same methods); ``SqliteStateStore`` is the SQLite
implementation, built with sqlite-utils on one connection in WAL mode with a busy timeout,
so several processes can open the same file.

Tables (schema version 2):

* ``subscriptions`` — one row per subscribed channel: ``channel_id`` (primary key),
  ``guild_id``, ``time`` (local ``HH:MM``), ``timezone`` (IANA), ``locale`` (``ja``/``en``),
  ``max_items`` (1–10), ``post_empty`` (0/1: post a short line on a day without news),
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

Every timestamp is stored as an ISO 8601 string in UTC; ``digest_date`` as ``YYYY-MM-DD``.

Ledger statuses: ``intent`` (claimed, being posted; ``message_ids`` grows as parts go out),
``posted`` (every part is in the channel), ``skipped`` (nothing to post: ``reason`` is
``empty`` for a day without news, ``missed`` for a run later than the grace time),
``failed`` (``reason`` says why; a paused subscription's failure, or a transient error that
outlasted the retries).

Exactly once: claiming a digest is an INSERT of the ``intent`` row inside ``BEGIN
IMMEDIATE``; the unique constraint makes a second claim for the same channel and date —
from this process or another one on the same file — fail, so only one poster ever starts.
Later writes by the poster (``record_messages``, ``finish``) are fenced on ``owner`` and
``status = 'intent'``, so a poster whose row was taken over stops writing.

Migrations are ordered functions in ``MIGRATIONS``; ``open`` applies the missing ones in
one transaction. Version 1 was the first shape (a ledger with a single ``message_id``);
version 2 adds delivery bookkeeping (several message ids, window, owner, attempts, reason,
stories) and the subscription's ``post_empty``, ``source``, ``paused_reason`` and
``updated_at``. A database newer than the code is refused, never altered.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import sqlite_utils

from bot.config import Settings

__all__ = [
    "LEDGER_STATUSES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Claim",
    "LedgerEntry",
    "SqliteStateStore",
    "StateError",
    "StateStore",
    "Subscription",
    "open_state_store",
]

LEDGER_STATUSES = ("intent", "posted", "skipped", "failed")
#: Seconds SQLite waits for another connection's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 5.0


class StateError(Exception):
    """``state.db`` cannot be used: newer than this code, or not a state database."""


def _ts(value: dt.datetime) -> str:
    """An aware datetime as an ISO string in UTC. Raises ``ValueError`` for naive ones."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: state.db keeps UTC instants")
    return value.astimezone(dt.UTC).isoformat()


def _parse_ts(value: object) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


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
    """Subscriptions and the digest ledger. Every method is one short transaction and is
    safe to call from several threads; times are aware datetimes (stored as UTC)."""

    def close(self) -> None:
        """Close the store."""
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


# --------------------------------------------------------------------------- migrations


def _migrate_1(db: sqlite_utils.Database) -> None:
    """The first schema: subscriptions and a ledger with one message id."""
    db.table("subscriptions").create(
        {
            "channel_id": int,
            "guild_id": int,
            "time": str,
            "timezone": str,
            "locale": str,
            "max_items": int,
            "state": str,
            "created_at": str,
        },
        pk="channel_id",
        not_null={"guild_id", "time", "timezone", "locale", "max_items", "state"},
        defaults={"locale": "ja", "max_items": 5, "state": "active"},
    )
    db.execute(
        """
        CREATE TABLE digest_ledger (
            channel_id INTEGER NOT NULL,
            digest_date TEXT NOT NULL,
            guild_id INTEGER NOT NULL,
            status TEXT NOT NULL,
            message_id INTEGER,
            created_at TEXT,
            UNIQUE (channel_id, digest_date)
        )
        """
    )


def _migrate_2(db: sqlite_utils.Database) -> None:
    """Delivery bookkeeping: several message ids per digest (a digest may need several
    messages), window, owner, attempts, reason and stories; subscriptions gain
    ``post_empty``, ``source``, ``paused_reason`` and ``updated_at``."""
    subscriptions = db.table("subscriptions")
    subscriptions.add_column("post_empty", int, not_null_default=0)
    subscriptions.add_column("source", str, not_null_default="command")
    subscriptions.add_column("paused_reason", str)
    subscriptions.add_column("updated_at", str)
    db.execute("UPDATE subscriptions SET updated_at = created_at")
    ledger = db.table("digest_ledger")
    ledger.add_column("message_ids", str, not_null_default="[]")
    db.execute(
        "UPDATE digest_ledger SET message_ids = json_array(message_id) WHERE message_id IS NOT NULL"
    )
    db.execute("ALTER TABLE digest_ledger DROP COLUMN message_id")
    for name, kind in (
        ("window_start", str),
        ("window_end", str),
        ("owner", str),
        ("updated_at", str),
        ("reason", str),
    ):
        ledger.add_column(name, kind)
    ledger.add_column("attempts", int, not_null_default=1)
    ledger.add_column("stories", str, not_null_default="[]")
    db.execute("UPDATE digest_ledger SET owner = 'v1', updated_at = created_at")
    db.execute("CREATE INDEX digest_ledger_status ON digest_ledger (status)")


#: Ordered migrations: ``MIGRATIONS[n - 1]`` brings a database from version n - 1 to n.
MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_migrate_1, _migrate_2)
SCHEMA_VERSION = len(MIGRATIONS)


# --------------------------------------------------------------------------- SQLite


_SUBSCRIPTION_COLUMNS = (
    "guild_id",
    "channel_id",
    "time",
    "timezone",
    "locale",
    "max_items",
    "post_empty",
    "source",
    "state",
    "paused_reason",
    "created_at",
    "updated_at",
)
_DELIVERED = "(status = 'posted' OR (status = 'skipped' AND reason = 'empty'))"


def _subscription(row: dict[str, Any]) -> Subscription:
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
        created_at=_parse_ts(row["created_at"]),
        updated_at=_parse_ts(row["updated_at"]),
    )


def _entry(row: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        channel_id=int(row["channel_id"]),
        digest_date=dt.date.fromisoformat(str(row["digest_date"])),
        guild_id=int(row["guild_id"]),
        status=str(row["status"]),
        owner=str(row["owner"] or ""),
        message_ids=tuple(int(m) for m in json.loads(row["message_ids"] or "[]")),
        window_start=_parse_ts(row["window_start"]),
        window_end=_parse_ts(row["window_end"]),
        attempts=int(row["attempts"]),
        created_at=_parse_ts(row["created_at"]),
        updated_at=_parse_ts(row["updated_at"]),
        reason=row["reason"],
        stories=tuple(json.loads(row["stories"] or "[]")),
    )


class SqliteStateStore:
    """``StateStore`` over one SQLite file (see the module docstring for the schema).

    Opening creates the file and its folder when missing and applies pending migrations.
    One connection is shared by all threads behind a lock; writes run in ``BEGIN
    IMMEDIATE`` transactions, so a competing process waits up to
    ``BUSY_TIMEOUT_SECONDS`` for the write lock. Raises ``StateError`` for a database
    newer than this code or a file that is not SQLite.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
        )
        try:
            self.db = sqlite_utils.Database(connection)
            self.db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            self.db.enable_wal()
            # The ledger is the promise of exactly-once: a committed claim must survive a
            # power cut, so commits are synced (FULL) even in WAL mode.
            self.db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.DatabaseError as error:
            connection.close()
            raise StateError(f"{self.path}: not a usable state database ({error})") from error
        except BaseException:
            connection.close()
            raise

    # -- plumbing -----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """One ``BEGIN IMMEDIATE`` transaction (committed, or rolled back on error)."""
        with self._lock:
            self.db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.execute("ROLLBACK")
                raise
            self.db.conn.execute("COMMIT")

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.db.query(sql, params))

    def schema_version(self) -> int:
        """The version of the database's schema (0 for an empty file)."""
        with self._lock:
            if not self.db["schema_version"].exists():
                return 0
            row = self.db.execute("SELECT max(version) FROM schema_version").fetchone()
            return int(row[0] or 0)

    def _migrate(self) -> None:
        with self._write() as db:
            if not db["schema_version"].exists():
                db.table("schema_version").create({"version": int, "applied_at": str}, pk="version")
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            current = int(row[0] or 0)
            if current > SCHEMA_VERSION:
                raise StateError(
                    f"{self.path} has schema version {current}, newer than this "
                    f"technyan-bot (version {SCHEMA_VERSION}); upgrade the bot"
                )
            now = _ts(dt.datetime.now(dt.UTC))
            for version in range(current + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version - 1](db)
                db.table("schema_version").insert({"version": version, "applied_at": now})

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self.db.close()

    # -- subscriptions ------------------------------------------------------------------

    def get_subscription(self, channel_id: int) -> Subscription | None:
        """The subscription of ``channel_id``, or None."""
        rows = self._rows("SELECT * FROM subscriptions WHERE channel_id = ?", [channel_id])
        return _subscription(rows[0]) if rows else None

    def list_subscriptions(
        self, guild_id: int | None = None, *, state: str | None = None
    ) -> list[Subscription]:
        """Subscriptions (of one guild, in one state), ordered by guild and channel."""
        clauses: list[str] = []
        params: list[Any] = []
        if guild_id is not None:
            clauses.append("guild_id = ?")
            params.append(guild_id)
        if state is not None:
            clauses.append("state = ?")
            params.append(state)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._rows(
            f"SELECT * FROM subscriptions {where} ORDER BY guild_id, channel_id", params
        )
        return [_subscription(row) for row in rows]

    def _save(
        self,
        db: sqlite_utils.Database,
        subscription: Subscription,
        now: dt.datetime,
        keep_state: bool,
    ) -> Subscription:
        existing = db.execute(
            "SELECT created_at, state, paused_reason FROM subscriptions WHERE channel_id = ?",
            [subscription.channel_id],
        ).fetchone()
        stored = replace(
            subscription,
            created_at=_parse_ts(existing[0]) if existing else now,
            updated_at=now,
            state=existing[1] if existing and keep_state else "active",
            paused_reason=existing[2] if existing and keep_state else None,
        )
        db.table("subscriptions").upsert(
            {
                "guild_id": stored.guild_id,
                "channel_id": stored.channel_id,
                "time": stored.time,
                "timezone": stored.timezone,
                "locale": stored.locale,
                "max_items": stored.max_items,
                "post_empty": int(stored.post_empty),
                "source": stored.source,
                "state": stored.state,
                "paused_reason": stored.paused_reason,
                "created_at": _ts(stored.created_at or now),
                "updated_at": _ts(now),
            },
            pk="channel_id",
        )
        return stored

    def save_subscription(
        self, subscription: Subscription, now: dt.datetime, *, keep_state: bool = False
    ) -> Subscription:
        """Insert or replace the subscription of its channel (see ``StateStore``)."""
        with self._write() as db:
            return self._save(db, subscription, now, keep_state)

    def delete_subscription(self, channel_id: int) -> bool:
        """Remove a subscription (its ledger rows stay, so a re-subscription the same day
        does not post that day's digest twice). Returns whether one existed."""
        with self._write() as db:
            cursor = db.execute("DELETE FROM subscriptions WHERE channel_id = ?", [channel_id])
            return cursor.rowcount > 0

    def set_state(
        self, channel_id: int, state: str, reason: str | None, now: dt.datetime
    ) -> Subscription | None:
        """Pause (with a reason code) or reactivate a subscription; None if unknown."""
        if state not in ("active", "paused"):
            raise ValueError(f"unknown subscription state {state!r}")
        with self._write() as db:
            db.execute(
                "UPDATE subscriptions SET state = ?, paused_reason = ?, updated_at = ? "
                "WHERE channel_id = ?",
                [state, reason if state == "paused" else None, _ts(now), channel_id],
            )
        return self.get_subscription(channel_id)

    def sync_config_subscriptions(
        self, subscriptions: Sequence[Subscription], now: dt.datetime
    ) -> None:
        """Make the ``config`` subscriptions equal ``subscriptions`` (see ``StateStore``)."""
        with self._write() as db:
            declared = []
            for subscription in subscriptions:
                self._save(db, replace(subscription, source="config"), now, keep_state=True)
                declared.append(subscription.channel_id)
            db.execute(
                "DELETE FROM subscriptions WHERE source = 'config' "
                "AND channel_id NOT IN (SELECT value FROM json_each(?))",
                [json.dumps(declared)],
            )

    # -- ledger -------------------------------------------------------------------------

    def _entry_in(
        self, db: sqlite_utils.Database, channel_id: int, day: dt.date
    ) -> LedgerEntry | None:
        rows = list(
            db.query(
                "SELECT * FROM digest_ledger WHERE channel_id = ? AND digest_date = ?",
                [channel_id, day.isoformat()],
            )
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
        """Record the intent to post (see ``StateStore.claim``). The INSERT relies on the
        unique constraint: when another connection committed a row first, the insert fails
        and the caller gets that row with ``claimed=False``."""
        stamp = _ts(now)
        with self._write() as db:
            try:
                db.table("digest_ledger").insert(
                    {
                        "channel_id": channel_id,
                        "digest_date": digest_date.isoformat(),
                        "guild_id": guild_id,
                        "status": "intent",
                        "message_ids": "[]",
                        "window_start": _ts(window_start),
                        "window_end": _ts(window_end),
                        "owner": owner,
                        "attempts": 1,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "reason": None,
                        "stories": "[]",
                    }
                )
            except sqlite3.IntegrityError:
                existing = self._entry_in(db, channel_id, digest_date)
                assert existing is not None
                if not (retry_failed and existing.status == "failed"):
                    return Claim(False, existing)
                db.execute(
                    "UPDATE digest_ledger SET status = 'intent', owner = ?, "
                    "attempts = attempts + 1, reason = NULL, window_start = ?, "
                    "window_end = ?, updated_at = ? "
                    "WHERE channel_id = ? AND digest_date = ? AND status = 'failed'",
                    [
                        owner,
                        _ts(window_start),
                        _ts(window_end),
                        stamp,
                        channel_id,
                        digest_date.isoformat(),
                    ],
                )
            claimed = self._entry_in(db, channel_id, digest_date)
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
        """Move an ``intent`` row from a dead owner to ``new_owner`` (see ``StateStore``)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE digest_ledger SET owner = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE channel_id = ? AND digest_date = ? AND owner = ? AND status = 'intent'",
                [new_owner, _ts(now), channel_id, digest_date.isoformat(), old_owner],
            )
            return cursor.rowcount == 1

    def record_messages(
        self,
        channel_id: int,
        digest_date: dt.date,
        owner: str,
        message_ids: Sequence[int],
        now: dt.datetime,
    ) -> bool:
        """Store the ids of the parts posted so far (see ``StateStore``)."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE digest_ledger SET message_ids = ?, updated_at = ? "
                "WHERE channel_id = ? AND digest_date = ? AND owner = ? AND status = 'intent'",
                [
                    json.dumps([int(m) for m in message_ids]),
                    _ts(now),
                    channel_id,
                    digest_date.isoformat(),
                    owner,
                ],
            )
            return cursor.rowcount == 1

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
        """Close an ``intent`` row (see ``StateStore``)."""
        if status not in ("posted", "skipped", "failed"):
            raise ValueError(f"cannot finish a digest as {status!r}")
        sets = ["status = ?", "reason = ?", "updated_at = ?"]
        params: list[Any] = [status, reason, _ts(now)]
        if stories is not None:
            sets.append("stories = ?")
            params.append(json.dumps(list(stories), ensure_ascii=False))
        if message_ids is not None:
            sets.append("message_ids = ?")
            params.append(json.dumps([int(m) for m in message_ids]))
        with self._write() as db:
            cursor = db.execute(
                f"UPDATE digest_ledger SET {', '.join(sets)} "
                "WHERE channel_id = ? AND digest_date = ? AND owner = ? AND status = 'intent'",
                [*params, channel_id, digest_date.isoformat(), owner],
            )
            return cursor.rowcount == 1

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
        """Record a digest that was not posted, unless the date has a row already."""
        stamp = _ts(now)
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO digest_ledger (channel_id, digest_date, guild_id, "
                "status, message_ids, window_start, window_end, owner, attempts, created_at, "
                "updated_at, reason, stories) "
                "VALUES (?, ?, ?, 'skipped', '[]', ?, ?, ?, 0, ?, ?, ?, '[]')",
                [
                    channel_id,
                    digest_date.isoformat(),
                    guild_id,
                    _ts(window_start) if window_start else None,
                    _ts(window_end),
                    owner,
                    stamp,
                    stamp,
                    reason,
                ],
            )
            return cursor.rowcount == 1

    def entry(self, channel_id: int, digest_date: dt.date) -> LedgerEntry | None:
        """The ledger row of one channel and date."""
        with self._lock:
            return self._entry_in(self.db, channel_id, digest_date)

    def entries(
        self, channel_id: int | None = None, *, status: str | None = None
    ) -> list[LedgerEntry]:
        """Ledger rows, oldest date first (of one channel, in one status)."""
        clauses: list[str] = []
        params: list[Any] = []
        if channel_id is not None:
            clauses.append("channel_id = ?")
            params.append(channel_id)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._rows(
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
        """The newest row of a channel dated before ``before`` (see ``StateStore``)."""
        clauses: list[str] = ["channel_id = ?"]
        params: list[Any] = [channel_id]
        if before is not None:
            clauses.append("digest_date < ?")
            params.append(before.isoformat())
        if delivered:
            clauses.append(_DELIVERED)
        if statuses is not None:
            clauses.append("status IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(statuses)))
        rows = self._rows(
            f"SELECT * FROM digest_ledger WHERE {' AND '.join(clauses)} "
            "ORDER BY digest_date DESC LIMIT 1",
            params,
        )
        return _entry(rows[0]) if rows else None

    def posted_stories(self, channel_id: int, since: dt.date, before: dt.date) -> set[str]:
        """Story ids posted to ``channel_id`` by digests dated in ``[since, before)``."""
        rows = self._rows(
            "SELECT stories FROM digest_ledger WHERE channel_id = ? AND status = 'posted' "
            "AND digest_date >= ? AND digest_date < ?",
            [channel_id, since.isoformat(), before.isoformat()],
        )
        return {story for row in rows for story in json.loads(row["stories"] or "[]")}


def open_state_store(settings: Settings) -> StateStore:
    """The store ``settings`` ask for: SQLite at ``state.path``. Raises ``StateError``
    when ``state.url`` names a PostgreSQL database (that backend is not built yet)."""
    if settings.state_url:
        raise StateError(
            "state.url is set, but this technyan-bot keeps state in SQLite only; "
            "unset state.url to use state.path"
        )
    return SqliteStateStore(settings.state_path)
