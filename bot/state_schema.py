"""The state database's schema, once for SQLite and PostgreSQL: ``Dialect`` (how each
database stores what the store writes), the ordered ``MIGRATIONS`` and the tables, columns
and unique keys a database at ``SCHEMA_VERSION`` must have (``REQUIRED_COLUMNS``,
``REQUIRED_UNIQUE_KEYS``), which opening a store and ``technyan-bot health`` verify.

Each migration is one list of SQL texts whose column types are placeholders that each
dialect fills in (bot/state.py shows the table of types).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.state_records import utc_instant

__all__ = [
    "MIGRATIONS",
    "REQUIRED_COLUMNS",
    "REQUIRED_UNIQUE_KEYS",
    "SCHEMA_TABLE",
    "SCHEMA_VERSION",
    "SQLITE",
    "Dialect",
    "Migration",
]


@dataclass(frozen=True)
class Dialect:
    """How one database stores what ``SqlStateStore`` writes.

    ``name`` is ``sqlite`` or ``postgres``; ``types`` fills the placeholders of the
    migrations and statements (``{id}``, ``{ts}``, ``{date}``, ``{json}``, ``{bool}``,
    ``{real}``, ``{false}``, ``{json_array}``; ``{epoch_now}`` and ``{ts_now}``: the
    database's clock in Unix seconds and as a ``{ts}`` value, one value per statement);
    ``epoch_of`` turns the ``{ts}`` column named ``COLUMN`` into Unix seconds;
    ``placeholder`` is the driver's parameter
    marker (``?`` or ``%s``); ``instant``, ``day`` and ``json_list`` turn an aware
    datetime, a date and a list into the value the driver stores in a ``{ts}``,
    ``{date}`` and ``{json}`` column. ``columns_sql`` lists the columns of the table
    named by its one parameter (rows with ``name``); ``unique_keys_sql`` the columns of
    its unique indexes (rows with ``index_name`` and ``name``, in key order).
    """

    name: str
    types: Mapping[str, str]
    placeholder: str
    instant: Callable[[dt.datetime], Any]
    day: Callable[[dt.date], Any]
    json_list: Callable[[Sequence[Any]], Any]
    columns_sql: str
    unique_keys_sql: str
    epoch_of: str

    def seconds_since(self, column: str) -> str:
        """SQL for the seconds from the ``{ts}`` column ``column`` to the database's now."""
        return f"({self.types['epoch_now']} - {self.epoch_of.replace('COLUMN', column)})"

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` markers) in this driver's parameter style."""
        if self.placeholder == "?":
            return text
        return text.replace("%", "%%").replace("?", self.placeholder)


def _iso_instant(value: dt.datetime) -> str:
    """An aware datetime as an ISO 8601 string in UTC (SQLite's ``{ts}``)."""
    return utc_instant(value).isoformat()


SQLITE = Dialect(
    name="sqlite",
    types={
        "id": "INTEGER",
        "ts": "TEXT",
        "date": "TEXT",
        "json": "TEXT",
        "bool": "INTEGER",
        "real": "REAL",
        "false": "0",
        "json_array": "json_array",
        # 'now' is fixed for the whole statement (https://sqlite.org/lang_datefunc.html).
        "epoch_now": "((julianday('now') - 2440587.5) * 86400.0)",
        "ts_now": "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')",
    },
    placeholder="?",
    instant=_iso_instant,
    day=dt.date.isoformat,
    json_list=lambda values: json.dumps(list(values), ensure_ascii=False),
    columns_sql="SELECT name FROM pragma_table_info(?)",
    # An INTEGER PRIMARY KEY is the rowid itself, with no index: listed from table_info.
    unique_keys_sql=(
        "SELECT index_name, name FROM (SELECT il.name AS index_name, ii.seqno AS position, "
        "ii.name AS name FROM pragma_index_list(?1) AS il "
        'JOIN pragma_index_info(il.name) AS ii WHERE il."unique" = 1 '
        "UNION ALL SELECT 'primary key', pk, name FROM pragma_table_info(?1) WHERE pk > 0) "
        "ORDER BY index_name, position"
    ),
    epoch_of="((julianday(COLUMN) - 2440587.5) * 86400.0)",
)


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
    Migration(
        3,
        "process leases (a random identity per process start, with a heartbeat) and the "
        "request budget that processes of one bot share (Discord's global rate limit)",
        (
            """
            CREATE TABLE processes (
                owner TEXT PRIMARY KEY,
                host TEXT NOT NULL,
                pid {id} NOT NULL,
                host_key TEXT,
                started_at {ts} NOT NULL,
                heartbeat_at {ts} NOT NULL,
                stopped_at {ts}
            )
            """,
            """
            CREATE TABLE request_budget (
                name TEXT PRIMARY KEY,
                next_at {real} NOT NULL,
                reserved_at {real} NOT NULL
            )
            """,
        ),
    ),
    Migration(
        4,
        "subscriptions managed like a feed: category and keyword filters, the one role a "
        "digest mentions, publishing in announcement channels, the admin who subscribed and "
        "when the guild was told of a pause",
        (
            "ALTER TABLE subscriptions ADD COLUMN categories {json} NOT NULL DEFAULT '[]'",
            "ALTER TABLE subscriptions ADD COLUMN include_keywords {json} NOT NULL DEFAULT '[]'",
            "ALTER TABLE subscriptions ADD COLUMN exclude_keywords {json} NOT NULL DEFAULT '[]'",
            "ALTER TABLE subscriptions ADD COLUMN role_id {id}",
            "ALTER TABLE subscriptions ADD COLUMN publish {bool} NOT NULL DEFAULT {false}",
            "ALTER TABLE subscriptions ADD COLUMN subscribed_by {id}",
            "ALTER TABLE subscriptions ADD COLUMN pause_notified_at {ts}",
        ),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
SCHEMA_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at {ts})"
)

#: The columns each table has at ``SCHEMA_VERSION`` (a database may have more).
REQUIRED_COLUMNS: Mapping[str, frozenset[str]] = {
    "schema_version": frozenset({"version", "applied_at"}),
    "subscriptions": frozenset(
        {
            "channel_id",
            "guild_id",
            "time",
            "timezone",
            "locale",
            "max_items",
            "state",
            "created_at",
            "post_empty",
            "source",
            "paused_reason",
            "updated_at",
            "categories",
            "include_keywords",
            "exclude_keywords",
            "role_id",
            "publish",
            "subscribed_by",
            "pause_notified_at",
        }
    ),
    "digest_ledger": frozenset(
        {
            "channel_id",
            "digest_date",
            "guild_id",
            "status",
            "created_at",
            "message_ids",
            "window_start",
            "window_end",
            "owner",
            "updated_at",
            "reason",
            "attempts",
            "stories",
        }
    ),
    "processes": frozenset(
        {"owner", "host", "pid", "host_key", "started_at", "heartbeat_at", "stopped_at"}
    ),
    "request_budget": frozenset({"name", "next_at", "reserved_at"}),
}

#: Unique keys the exactly-once promise rests on: table → key columns in order.
REQUIRED_UNIQUE_KEYS: Mapping[str, tuple[str, ...]] = {
    "subscriptions": ("channel_id",),
    "digest_ledger": ("channel_id", "digest_date"),
    "processes": ("owner",),
    "request_budget": ("name",),
}
