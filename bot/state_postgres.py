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
start together migrate once. A dropped connection (server restart, network failure) fails
the call in progress — the scheduler logs it and the ledger's recovery resolves what it
left — and is reopened by the next call.

Errors opening the store are ``StateError`` with one line naming the host, port and
database and the server's reason, never the password.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bot.state import SCHEMA_VERSION, Dialect, SqlStateStore, StateError, utc_instant

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "POSTGRES",
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
    },
    placeholder="%s",
    instant=utc_instant,
    day=lambda day: day,
    json_list=lambda values: Jsonb(list(values)),
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
    """The first line of an error's message, without any of ``secrets``."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
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
    ``idle_check_seconds`` is checked before its next use. Opening connects and applies
    pending migrations. Raises ``StateError`` (one line, never the password) for a bad
    URL, a server that cannot be reached or refuses the login, or a database newer than
    this code.
    """

    dialect = POSTGRES

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
        idle_check_seconds: float = IDLE_CHECK_SECONDS,
    ) -> None:
        self.name = describe_url(url)
        self._url = url
        self._secrets = _secrets(url)
        self._connect_timeout = max(1, int(connect_timeout))
        self.idle_check_seconds = idle_check_seconds
        self._lock = threading.RLock()
        self._connection = self._connect()
        self._used = time.monotonic()
        try:
            self._migrate()
        except psycopg.Error as error:
            self._connection.close()
            reason = _one_line(error, self._secrets)
            raise StateError(f"PostgreSQL {self.name}: cannot migrate ({reason})") from error
        except BaseException:
            self._connection.close()
            raise

    def _connect(self) -> psycopg.Connection[dict[str, Any]]:
        options: dict[str, Any] = {"connect_timeout": self._connect_timeout}
        if "application_name" not in conninfo_to_dict(self._url):
            options["application_name"] = "technyan-bot"
        try:
            return psycopg.connect(self._url, autocommit=True, row_factory=dict_row, **options)
        except psycopg.Error as error:
            reason = _one_line(error, self._secrets)
            raise StateError(f"cannot connect to PostgreSQL {self.name}: {reason}") from None

    def _ready(self) -> psycopg.Connection[dict[str, Any]]:
        """The connection, reopened first when it is closed or broken, or when it was idle
        for ``idle_check_seconds`` and no longer answers. Nothing of the caller's has been
        sent yet, so reopening here never repeats a write."""
        connection = self._connection
        idle = time.monotonic() - self._used
        if not (connection.closed or connection.broken) and idle >= self.idle_check_seconds:
            with contextlib.suppress(psycopg.OperationalError):  # broken: reopened below
                connection.execute("SELECT 1")
        if connection.closed or connection.broken:
            log.warning("the connection to PostgreSQL %s was lost; reconnecting", self.name)
            connection.close()
            self._connection = connection = self._connect()
        self._used = time.monotonic()
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """One transaction (committed, or rolled back on error)."""
        with self._lock:
            connection = self._ready()
            with connection.transaction(), connection.cursor() as cursor:
                yield cursor

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        with self._lock, self._ready().cursor() as cursor:
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
            writable = conn.execute(
                "SELECT has_table_privilege('digest_ledger', 'INSERT, UPDATE') "
                "AND has_table_privilege('subscriptions', 'INSERT, UPDATE, DELETE')"
            ).fetchone()
            if not (writable and writable[0]):
                return f"state: PostgreSQL {name}: this user may not write the state tables"
    except psycopg.Error as error:
        return f"state: cannot use PostgreSQL {name}: {_one_line(error, _secrets(url))}"
    return None
