"""The PostgreSQL backend of the state store: ``PostgresStateStore`` (psycopg 3).

Chosen by ``state.url = "postgresql://user:password@host:5432/database"`` in config.toml
or ``TECHNYAN_STATE_URL`` in the environment (docs/SCALING.md). It runs the same SQL and
the same migrations as the SQLite backend (``bot.state.SqlStateStore``), with PostgreSQL's
own types: BIGINT ids, TIMESTAMPTZ instants, DATE digest dates, JSONB lists, BOOLEAN flags.

One connection per process, in autocommit mode so every transaction is explicit
(``BEGIN … COMMIT`` around each store call), shared by the process's threads behind a lock
as the SQLite backend shares its file. READ COMMITTED is enough for the ledger: a claim is
``INSERT … ON CONFLICT (channel_id, digest_date) DO NOTHING`` (a second insert waits for
the first transaction and then does nothing), every later write is a single-row UPDATE
fenced on the owner, and migrations run under ``pg_advisory_xact_lock`` so processes that
start together migrate once.

No call waits without a bound: each session sets ``lock_timeout`` (``LOCK_TIMEOUT``),
``statement_timeout`` (``STATEMENT_TIMEOUT``) and ``idle_in_transaction_session_timeout``,
and the connection uses TCP keepalives and ``tcp_user_timeout`` (``KEEPALIVE_OPTIONS``),
so a held table lock, a stalled server or a silent network fails the call within
seconds. Parameters the URL sets itself (``?keepalives_idle=…``, or a timeout named in
``options``) are left as the URL says. A failed call raises ``StateUnavailable`` (the
caller retries; every write is safe to repeat); a dropped connection (server restart,
network failure) is reopened by the next call.

Errors opening the store are ``StateError`` with one line naming the host, port and
database and the server's reason, never the password.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg.errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bot.state_records import StateDamaged, StateError, StateUnavailable, utc_instant
from bot.state_schema import SCHEMA_VERSION, Dialect
from bot.state_sql import SqlStateStore, schema_problems

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "KEEPALIVE_OPTIONS",
    "LOCK_TIMEOUT",
    "POSTGRES",
    "STATEMENT_TIMEOUT",
    "PostgresStateStore",
    "check_postgres",
    "describe_url",
]

log = logging.getLogger(__name__)

#: Seconds to wait for the server when connecting.
CONNECT_TIMEOUT_SECONDS = 10
#: A connection idle longer than this many seconds is checked (``SELECT 1``) before use,
#: and reopened if the server closed it meanwhile (a restart, an idle timeout).
IDLE_CHECK_SECONDS = 30.0
#: How long a statement waits for a lock another session holds before it fails
#: (PostgreSQL's ``lock_timeout``).
LOCK_TIMEOUT = "5s"
#: How long any statement may run (``statement_timeout``).
STATEMENT_TIMEOUT = "15s"
#: A session idle inside a transaction this long is ended by the server.
IDLE_IN_TRANSACTION_TIMEOUT = "60s"
#: libpq's TCP settings: probe an idle connection after 10 s, every 5 s, give up after 3
#: missed probes; give up on unacknowledged data after 30 s (milliseconds).
KEEPALIVE_OPTIONS: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
#: The advisory lock held while migrating ("technyan" in ASCII; any constant would do).
MIGRATION_LOCK_KEY = 0x746563686E79616E
_SCHEMES = ("postgresql://", "postgres://")
_URL_HINT = "postgresql://user:password@host:5432/database"

POSTGRES = Dialect(
    name="postgres",
    types={
        "id": "BIGINT",
        "ts": "TIMESTAMPTZ",
        "date": "DATE",
        "json": "JSONB",
        "bool": "BOOLEAN",
        "false": "FALSE",
        "json_array": "jsonb_build_array",
        "real": "DOUBLE PRECISION",
        # The same value for the whole statement (the time it arrived).
        "epoch_now": "CAST(extract(epoch FROM statement_timestamp()) AS DOUBLE PRECISION)",
        "ts_now": "statement_timestamp()",
    },
    placeholder="%s",
    instant=utc_instant,
    day=lambda day: day,
    json_list=lambda values: Jsonb(list(values)),
    columns_sql=(
        "SELECT column_name AS name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = ?"
    ),
    unique_keys_sql=(
        "SELECT i.indexrelid::text AS index_name, a.attname AS name FROM pg_index AS i "
        "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) "
        "JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE i.indrelid = to_regclass(?) AND i.indisunique ORDER BY 1, k.position"
    ),
    epoch_of="CAST(extract(epoch FROM COLUMN) AS DOUBLE PRECISION)",
)


def _secrets(url: str) -> list[str]:
    """The password of ``url`` as written and decoded (to scrub it from messages)."""
    found: list[str] = []
    try:
        password = urllib.parse.urlsplit(url).password
    except ValueError:
        password = None
    if password:
        found += [password, urllib.parse.unquote(password)]
    return [secret for secret in found if secret]


def _one_line(error: BaseException, secrets: list[str]) -> str:
    """The first line of an error's message, without any of ``secrets``: each replaced
    where it stands whole, not inside a word (a password "p" leaves "port" alone, so a
    short one neither mangles the message nor shows where its letters are)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    for secret in secrets:
        text = re.sub(rf"(?<!\w){re.escape(secret)}(?!\w)", "***", text)
    return text


def describe_url(url: str) -> str:
    """``database 'name' on host:port`` for a ``postgresql://`` URL, for messages (no
    user name, no password). Raises ``StateError`` when ``url`` is not such a URL."""
    if not url.startswith(_SCHEMES):
        raise StateError(f"state.url must be a PostgreSQL URL like {_URL_HINT}")
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as error:
        reason = _one_line(error, _secrets(url))
        raise StateError(f"state.url is not a valid PostgreSQL URL ({reason})") from None
    host = str(params.get("host") or params.get("hostaddr") or "localhost")
    port = str(params.get("port") or 5432)
    dbname = str(params.get("dbname") or params.get("user") or "(default)")
    return f"database {dbname!r} on {host}:{port}"


class PostgresStateStore(SqlStateStore):
    """``StateStore`` in a PostgreSQL database (see the module docstring).

    ``url`` is a ``postgresql://`` URL (libpq's parameters may follow as a query string:
    ``?sslmode=require``); ``connect_timeout`` is in seconds; a connection idle for
    ``idle_check_seconds`` is checked before its next use; ``lock_timeout`` and
    ``statement_timeout`` are PostgreSQL intervals (``"5s"``). Opening connects, applies
    pending migrations and checks the schema. Raises ``StateError`` (one line, never the
    password) for a bad URL, a server that cannot be reached or refuses the login, or a
    database newer than this code, and ``StateDamaged`` for a schema missing a table,
    column or unique key. Later calls raise ``StateUnavailable`` when the server cannot
    answer in time or the connection is lost (reopened by the next call).
    """

    dialect = POSTGRES
    driver_error = psycopg.Error

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
        idle_check_seconds: float = IDLE_CHECK_SECONDS,
        lock_timeout: str = LOCK_TIMEOUT,
        statement_timeout: str = STATEMENT_TIMEOUT,
    ) -> None:
        self.name = describe_url(url)
        self._url = url
        self._url_params = conninfo_to_dict(url)
        self._secrets = _secrets(url)
        self._connect_timeout = max(1, int(connect_timeout))
        self._session = {
            "lock_timeout": lock_timeout,
            "statement_timeout": statement_timeout,
            "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_TIMEOUT,
        }
        self.idle_check_seconds = idle_check_seconds
        self._lock = threading.RLock()
        self._connection = self._connect()
        self._used = time.monotonic()
        try:
            self._migrate()
        except StateUnavailable as error:
            self._connection.close()
            raise StateError(f"PostgreSQL {self.name}: cannot migrate ({error})") from error
        except psycopg.Error as error:
            self._connection.close()
            reason = _one_line(error, self._secrets)
            raise StateError(f"PostgreSQL {self.name}: cannot migrate ({reason})") from error
        except BaseException:
            self._connection.close()
            raise

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        """A new connection with the session's timeouts set. Raises ``StateError``."""
        options: dict[str, Any] = {"connect_timeout": self._connect_timeout}
        if "application_name" not in self._url_params:
            options["application_name"] = "technyan-bot"
        options.update({k: v for k, v in KEEPALIVE_OPTIONS.items() if k not in self._url_params})
        try:
            connection = psycopg.connect(
                self._url, autocommit=True, row_factory=dict_row, **options
            )
        except psycopg.Error as error:
            reason = _one_line(error, self._secrets)
            raise StateError(f"cannot connect to PostgreSQL {self.name}: {reason}") from None
        chosen = str(self._url_params.get("options") or "")
        try:
            for setting, value in self._session.items():
                if setting not in chosen:  # the URL's own options win
                    connection.execute(f"SET {setting} = '{value}'")
        except psycopg.Error as error:
            connection.close()
            reason = _one_line(error, self._secrets)
            raise StateError(
                f"PostgreSQL {self.name}: cannot set up the session ({reason})"
            ) from None
        return connection

    def _ready(self) -> psycopg.Connection[dict[str, Any]]:
        """The connection, reopened first when it is closed or broken, or when it was idle
        for ``idle_check_seconds`` and no longer answers. Nothing of the caller's has been
        sent yet, so reopening here never repeats a write. Raises ``StateUnavailable``
        when the server cannot be reached."""
        connection = self._connection
        idle = time.monotonic() - self._used
        if not (connection.closed or connection.broken) and idle >= self.idle_check_seconds:
            with contextlib.suppress(psycopg.Error):  # broken: reopened below
                connection.execute("SELECT 1")
        if connection.closed or connection.broken:
            log.warning("the connection to PostgreSQL %s was lost; reconnecting", self.name)
            connection.close()
            try:
                self._connection = connection = self._connect()
            except StateError as error:
                raise StateUnavailable(str(error)) from error
        self._used = time.monotonic()
        return connection

    def _translate(self, error: psycopg.Error) -> StateError | None:
        """The store's error for a driver error (None: a bug to let through)."""
        reason = _one_line(error, self._secrets)
        if isinstance(error, psycopg.errors.DataCorrupted | psycopg.errors.IndexCorrupted):
            return StateDamaged(f"PostgreSQL {self.name} reports damage: {reason}")
        passing = (
            psycopg.OperationalError,
            psycopg.InterfaceError,
            psycopg.errors.IdleInTransactionSessionTimeout,
            psycopg.errors.ReadOnlySqlTransaction,  # a standby, during a failover
        )
        if isinstance(error, passing):
            return StateUnavailable(f"PostgreSQL {self.name}: {reason}")
        return None

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """One transaction (committed, or rolled back on error)."""
        with self._lock, self._errors():
            connection = self._ready()
            with connection.transaction(), connection.cursor() as cursor:
                yield cursor

    @contextmanager
    def _unsynced_transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """``_transaction`` whose commit does not wait for the WAL flush
        (``SET LOCAL synchronous_commit = off``)."""
        with self._transaction() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            yield cursor

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        with self._lock, self._errors(), self._ready().cursor() as cursor:
            yield cursor

    def _lock_schema(self, cursor: Any) -> None:
        """Processes opening the store together wait for each other's migration."""
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._connection.close()


def check_postgres(url: str, *, timeout: int = 5) -> str | None:
    """Why the PostgreSQL state database at ``url`` cannot serve the bot, in one line
    starting ``state:`` (None when it can): unreachable, login refused, a schema newer
    than this code, or a user that may not write the state tables (or, before the first
    start, create them). Changes nothing."""
    try:
        name = describe_url(url)
    except StateError as error:
        return f"state: {error}"
    try:
        with psycopg.connect(url, connect_timeout=max(1, timeout), autocommit=True) as conn:
            made = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
            if not (made and made[0]):
                row = conn.execute("SELECT has_schema_privilege(current_schema(), 'CREATE')")
                allowed = row.fetchone()
                if not (allowed and allowed[0]):
                    return f"state: PostgreSQL {name}: this user may not create the state tables"
                return None
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            if version and version[0] and int(version[0]) > SCHEMA_VERSION:
                return (
                    f"state: PostgreSQL {name} has schema version {version[0]}, newer than "
                    f"this technyan-bot (version {SCHEMA_VERSION})"
                )
            if version and version[0] and int(version[0]) == SCHEMA_VERSION:
                with conn.cursor(row_factory=dict_row) as cursor:

                    def fetch(sql: str, params: Sequence[Any]) -> list[Any]:
                        cursor.execute(POSTGRES.sql(sql), tuple(params))
                        return list(cursor.fetchall())

                    problems = schema_problems(POSTGRES, fetch)
                if problems:
                    return f"state: PostgreSQL {name} is damaged: {'; '.join(problems)}"
            tables = {"digest_ledger": "INSERT, UPDATE", "subscriptions": "INSERT, UPDATE, DELETE"}
            if version and version[0] and int(version[0]) >= 3:
                tables |= {
                    "processes": "INSERT, UPDATE, DELETE",
                    "request_budget": "INSERT, UPDATE",
                }
            writable = conn.execute(
                "SELECT "
                + " AND ".join(
                    f"has_table_privilege('{table}', '{rights}')"
                    for table, rights in tables.items()
                )
            ).fetchone()
            if not (writable and writable[0]):
                return f"state: PostgreSQL {name}: this user may not write the state tables"
    except psycopg.Error as error:
        return f"state: cannot use PostgreSQL {name}: {_one_line(error, _secrets(url))}"
    return None
