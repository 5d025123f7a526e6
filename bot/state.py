"""Subscriptions and the digest ledger: the bot's precious state, in SQLite or PostgreSQL.

The state is not derived: nothing in indexing touches it, and a schema change migrates
the data, never drops it. Callers see the ``StateStore`` protocol; ``open_state_store``
picks the backend from the settings:

* ``SqliteStateStore`` — the default, nothing to install: the file ``state.path``
  (``data/state.db``), one connection in WAL mode with a bounded busy timeout, so several
  processes on one machine can share it;
* ``PostgresStateStore`` (``bot/state_postgres.py``, psycopg 3) — ``state.url =
  "postgresql://…"`` (or ``TECHNYAN_STATE_URL``), for processes on several machines.

Both are ``SqlStateStore`` (``bot/state_sql.py``): one implementation of every method, in
SQL that both databases run (written with ``?`` parameters, which the PostgreSQL backend
turns into psycopg's ``%s``), over a backend that only supplies the connection, its
transactions and how values are stored (``Dialect``, ``bot/state_schema.py``). Both apply
the same ordered ``MIGRATIONS``: each step is one list of SQL texts whose column types are
placeholders (``{id}``, ``{ts}``, ``{date}``, ``{json}``, ``{bool}``, ``{real}``) that each
dialect fills in:

============  =========================  ==============
placeholder   SQLite                     PostgreSQL
============  =========================  ==============
``{id}``      INTEGER                    BIGINT
``{ts}``      TEXT, ISO 8601 in UTC      TIMESTAMPTZ
``{date}``    TEXT, ``YYYY-MM-DD``       DATE
``{json}``    TEXT (a JSON list)         JSONB
``{bool}``    INTEGER 0/1                BOOLEAN
``{real}``    REAL                       DOUBLE PRECISION
============  =========================  ==============

Modules import one way: ``state`` → ``state_postgres`` → ``state_sql`` → ``state_schema``
→ ``state_records``.

Tables (schema version 4):

* ``subscriptions`` — one row per subscribed channel: ``channel_id`` (primary key),
  ``guild_id``, ``time`` (local ``HH:MM``), ``timezone`` (IANA), ``locale`` (``ja``/``en``),
  ``max_items`` (1–10), ``post_empty`` (post a short line on a day without news),
  ``source`` (``command`` or ``config``), ``state`` (``active`` or ``paused``),
  ``paused_reason`` (a reason code such as ``missing_permissions``), ``created_at``,
  ``updated_at``; the filters ``categories``, ``include_keywords`` and
  ``exclude_keywords`` (JSON lists), ``role_id`` (the one role a digest mentions),
  ``publish`` (publish to following channels), ``subscribed_by`` (the admin's user id)
  and ``pause_notified_at`` (when the guild was told of the current pause).
* ``digest_ledger`` — one row per channel and *local* digest date, ``UNIQUE(channel_id,
  digest_date)``: ``guild_id``, ``status`` (see below), ``message_ids`` (JSON list, one id
  per posted part, in order), ``window_start``/``window_end`` (UTC instants the digest
  covers; ``window_end`` is the scheduled instant), ``owner`` (the process that claimed
  it, see ``processes``), ``attempts``, ``created_at``, ``updated_at``, ``reason``,
  ``stories`` (JSON list of the story ids the digest carried).
* ``processes`` — one lease per process start: ``owner`` (primary key: ``host/pid/`` and a
  random token made at start, so it is unique even for two containers with the same host
  name and pid), ``host``, ``pid``, ``host_key`` (boot id and pid namespace: who may judge
  the pid), ``started_at``, ``heartbeat_at`` (renewed every few seconds), ``stopped_at``.
* ``request_budget`` — one row per shared rate budget: ``name`` (primary key),
  ``next_at`` (the database clock's Unix seconds at which the next request may start),
  ``reserved_at``. Every process of one bot reserves its Discord requests here, so
  together they stay under Discord's global limit.
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
writing; ``take_over`` is itself a fenced UPDATE, so one process wins it. Every write is
safe to repeat after a call whose answer was lost (a dropped connection during COMMIT).

Failures: a call that fails for a passing reason raises ``StateUnavailable`` (SQLite:
busy past the busy timeout, full disk, I/O error; PostgreSQL: ``lock_timeout``,
``statement_timeout``, a lost or refused connection); a damaged database raises
``StateDamaged``, naming the last good backup (``bot/state_backup.py``). Opening a SQLite
store verifies the file (not empty, SQLite's header, ``PRAGMA quick_check``) and, for both
backends, the schema (every table, column and unique key of ``SCHEMA_VERSION``); each
SQLite write checks, before it commits, that the file it writes is still the one it
opened and still starts with SQLite's header, so a write into a replaced, truncated or
overwritten file is never reported as done.

Migrations: opening a store applies the missing ones in one transaction (on PostgreSQL
under an advisory lock, so processes starting together migrate once). Version 1 was the
first shape (a ledger with a single ``message_id``); version 2 adds delivery bookkeeping
(several message ids, window, owner, attempts, reason, stories) and the subscription's
``post_empty``, ``source``, ``paused_reason`` and ``updated_at``; version 3 adds
``processes`` and ``request_budget``; version 4 the subscription's filters, role,
``publish``, ``subscribed_by`` and ``pause_notified_at``. A database newer than the code
is refused, never altered.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol

from bot.config import Settings
from bot.sqlite_uri import connect_uri
from bot.state_backup import backup_hint
from bot.state_records import (
    LEDGER_STATUSES,
    Claim,
    LedgerEntry,
    ProcessRecord,
    StateDamaged,
    StateError,
    StateUnavailable,
    Subscription,
    utc_instant,
)
from bot.state_schema import MIGRATIONS, SCHEMA_VERSION, SQLITE, Dialect, Migration
from bot.state_sql import (
    LEDGER_COLUMNS,
    SUBSCRIPTION_COLUMNS,
    SqlStateStore,
    schema_problems,
    subscription_values,
)

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "LEDGER_STATUSES",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLITE",
    "Claim",
    "Dialect",
    "LedgerEntry",
    "Migration",
    "ProcessRecord",
    "SqlStateStore",
    "SqliteStateStore",
    "StateDamaged",
    "StateError",
    "StateStore",
    "StateUnavailable",
    "Subscription",
    "check_sqlite_state",
    "copy_state",
    "open_state_store",
    "utc_instant",
]

#: Seconds SQLite waits for another connection's write lock before a call fails with
#: ``StateUnavailable`` (the caller retries or reports it).
BUSY_TIMEOUT_SECONDS = 5.0


class StateStore(Protocol):
    """Subscriptions, the digest ledger, process leases and the shared request budget
    (``SqliteStateStore``, ``PostgresStateStore``). Every method is one short transaction
    and is safe to call from several threads; times are aware datetimes (stored as UTC
    instants). Writes after a claim are fenced on the owner; the uniqueness of (channel,
    digest date) is the database's. Methods block (a lock, a slow server): call them off
    the event loop (``bot.state_calls.StateCalls``). Errors: ``StateUnavailable`` (passing:
    retry later), ``StateDamaged`` (a broken database)."""

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

    def claim_pause_notice(self, channel_id: int, now: dt.datetime) -> Subscription | None:
        """The paused subscription of ``channel_id`` for the one caller that takes the duty
        of telling its guild (marks it told); None for everyone else."""
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

    # -- processes --------------------------------------------------------------------

    def register_process(self, owner: str, host: str, pid: int, host_key: str | None) -> None:
        """Take (or renew, clearing ``stopped_at``) the lease of ``owner`` (the database's
        clock)."""
        ...

    def heartbeat(self, owner: str) -> bool:
        """Renew the lease of a running process; False when it has none (register it)."""
        ...

    def retire_process(self, owner: str) -> None:
        """Mark a process stopped cleanly: its ``intent`` rows may be taken over at once."""
        ...

    def process(self, owner: str) -> ProcessRecord | None:
        """The lease of ``owner`` with its heartbeat's age, or None (an owner from before
        leases, or pruned)."""
        ...

    def prune_processes(self, older_than: float) -> int:
        """Delete leases not renewed for ``older_than`` seconds that own no ``intent`` row."""
        ...

    def reserve_request_slot(self, budget: str, interval: float) -> float:
        """Reserve the next request start of the budget ``budget`` (one start every
        ``interval`` seconds across all processes sharing the database); returns the
        seconds to wait before starting it."""
        ...


# --------------------------------------------------------------------------- SQLite

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: Error codes (``sqlite3.Error.sqlite_errorname``) of failures that pass.
_PASSING = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_FULL",
    "SQLITE_IOERR",
    "SQLITE_CANTOPEN",
    "SQLITE_PROTOCOL",
    "SQLITE_INTERRUPT",
    "SQLITE_READONLY",
)
#: Error codes of a damaged file (checked first: ``SQLITE_READONLY_DBMOVED`` is one).
_BROKEN = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_READONLY_DBMOVED")


def _header_problem(header: bytes) -> str | None:
    """Why the first 100 bytes of a file are not a SQLite database's header (None when
    they are)."""
    if not header:
        return "the file is empty (truncated)"
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return "the file does not start with SQLite's header (overwritten or truncated)"
    return None


class _FileWatch:
    """The state file as SQLite opened it: its identity (device, inode) and a read-only
    descriptor to read its header through. Descriptors are shared per file and closed
    when the last store on it closes: closing a descriptor releases the POSIX locks
    SQLite holds on that file in this process, so none is closed while a store is open."""

    _shared: ClassVar[dict[tuple[int, int], list[int]]] = {}  # (dev, ino) → [fd, users]
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path
        status = os.stat(path)
        self.key = (status.st_dev, status.st_ino)
        with self._guard:
            shared = self._shared.get(self.key)
            if shared is None:
                shared = self._shared[self.key] = [os.open(path, os.O_RDONLY), 0]
            shared[1] += 1
            self.fd = shared[0]
        self._closed = False

    def problem(self) -> str | None:
        """Why the file at ``path`` is no longer the sound database SQLite opened (None
        when it is): removed, replaced by another file, emptied or overwritten."""
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            return "the file was removed while the bot ran"
        if (status.st_dev, status.st_ino) != self.key:
            return "the file was replaced by another one while the bot ran"
        return _header_problem(os.pread(self.fd, 100, 0))

    def close(self) -> None:
        with self._guard:
            if self._closed:
                return
            self._closed = True
            shared = self._shared[self.key]
            shared[1] -= 1
            if shared[1] == 0:
                del self._shared[self.key]
                os.close(shared[0])


class SqliteStateStore(SqlStateStore):
    """``StateStore`` over one SQLite file (see the module docstring for the schema).

    Opening creates the file and its folder when missing, verifies an existing file (not
    empty, SQLite's header, ``PRAGMA quick_check``), applies pending migrations and
    checks the schema. One connection (autocommit, so every transaction is explicit) is
    shared by all threads behind a lock; writes run in ``BEGIN IMMEDIATE`` transactions,
    so a competing process waits up to ``busy_timeout`` seconds for the write lock, then
    the call fails with ``StateUnavailable``. Commits are synced (``synchronous = FULL``)
    even in WAL mode: a committed claim must survive a power cut. Raises ``StateError``
    for a database newer than this code and ``StateDamaged`` (naming the last good
    backup) for a file that is not a sound state database.
    """

    dialect = SQLITE
    driver_error = sqlite3.Error

    def __init__(self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        if self.path.exists() and self.path.stat().st_size == 0:
            raise self._damaged(
                "the file is empty (truncated?); if this is a new installation, delete it"
            )
        connection = sqlite3.connect(
            self.path, timeout=busy_timeout, check_same_thread=False, isolation_level=None
        )
        connection.row_factory = sqlite3.Row
        self._connection = connection
        self._watch: _FileWatch | None = None
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            connection.execute("PRAGMA journal_mode = wal")  # writes the header of a new file
            connection.execute("PRAGMA synchronous = FULL")
            self._watch = _FileWatch(self.path)
            problem = self._watch.problem()
            if problem:
                raise self._damaged(problem)
            [result] = connection.execute("PRAGMA quick_check").fetchone()
            if result != "ok":
                raise self._damaged(f"integrity check: {result}")
            self._migrate()
        except sqlite3.DatabaseError as error:
            self._close_quietly()
            translated = self._translate(error)
            if isinstance(translated, StateUnavailable):
                raise translated from error
            raise self._damaged(str(error)) from error
        except BaseException:
            self._close_quietly()
            raise

    def _damaged(self, reason: str) -> StateDamaged:
        return StateDamaged(
            f"{self.path} is not a usable state database ({reason}); {backup_hint(self.path)}"
        )

    def _translate(self, error: sqlite3.Error) -> StateError | None:
        """The store's error for a driver error (None: not a database failure)."""
        code = str(getattr(error, "sqlite_errorname", "") or "")
        if code.startswith(_BROKEN):
            return self._damaged(str(error))
        if code.startswith(_PASSING):
            return StateUnavailable(f"{self.path}: {error}")
        return None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        """One ``BEGIN IMMEDIATE`` transaction, committed when the file is still the
        sound one this store opened, else (or on any error) rolled back."""
        with self._lock, self._errors():
            cursor = self._connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
                problem = self._watch.problem() if self._watch is not None else None
                if problem:
                    raise self._damaged(problem)
                self._connection.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # none active after some errors
                    self._connection.execute("ROLLBACK")
                raise

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Cursor]:
        with self._lock, self._errors():
            yield self._connection.cursor()

    def _close_quietly(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._connection.close()
        if self._watch is not None:
            self._watch.close()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._close_quietly()


def check_sqlite_state(state_path: Path, *, timeout: float = 5.0) -> str | None:
    """Why the SQLite state database at ``state_path`` cannot serve the bot, in one line
    starting ``state:`` (None when it can): an empty (truncated) file, one that is not
    SQLite, fails ``PRAGMA integrity_check``, holds a schema newer than this code or
    missing tables, columns or unique keys, or cannot take a write lock within
    ``timeout`` seconds. A missing file is fine when its folder can be created or
    written. Damage names the last good backup. Changes nothing."""
    if not state_path.exists():
        folder = state_path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # created with its folders on first start
        if os.access(folder, os.W_OK | os.X_OK):
            return None
        return f"state: {state_path} cannot be created: {folder} is not writable"

    def damaged(reason: str) -> str:
        return (
            f"state: {state_path} is not a usable state database ({reason}); "
            f"{backup_hint(state_path)}"
        )

    if state_path.stat().st_size == 0:
        return damaged("the file is empty (truncated)")
    try:
        reader = connect_uri(state_path, mode="ro", timeout=timeout)
        reader.row_factory = sqlite3.Row
        try:
            [result] = reader.execute("PRAGMA integrity_check(1)").fetchone()
            if result != "ok":
                return damaged(f"integrity check: {result}")
            version_table = reader.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
            if version_table is None:
                return damaged("it has no schema_version table")
            [version] = reader.execute("SELECT max(version) FROM schema_version").fetchone()
            version = int(version or 0)
            if version > SCHEMA_VERSION:
                return (
                    f"state: {state_path} has schema version {version}, newer than this "
                    f"technyan-bot (version {SCHEMA_VERSION})"
                )
            if version == SCHEMA_VERSION:
                problems = schema_problems(
                    SQLITE, lambda sql, params: list(reader.execute(sql, tuple(params)))
                )
                if problems:
                    return damaged("; ".join(problems))
        finally:
            reader.close()
        writer = sqlite3.connect(state_path, timeout=timeout)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
        finally:
            writer.close()
    except sqlite3.DatabaseError as error:
        code = str(getattr(error, "sqlite_errorname", "") or "")
        if code.startswith(_BROKEN):
            return damaged(str(error))
        return f"state: {state_path} is not writable: {error}"
    return None


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
                f"INSERT INTO subscriptions ({', '.join(SUBSCRIPTION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(SUBSCRIPTION_COLUMNS))})",
                subscription_values(d, sub),
            )
        for entry in entries:
            target._run(
                cursor,
                f"INSERT INTO digest_ledger ({LEDGER_COLUMNS}) "
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
    login, or a database that cannot be used (``StateDamaged`` for a damaged one, naming
    the last good backup)."""
    if settings.state_url:
        from bot.state_postgres import PostgresStateStore

        return PostgresStateStore(settings.state_url)
    return SqliteStateStore(settings.state_path)
