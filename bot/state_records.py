"""What the state store holds and how it fails: the records it returns (``Subscription``,
``LedgerEntry``, ``Claim``, ``ProcessRecord``) and its errors.

The errors say what the caller may do next:

* ``StateError`` — the store cannot be used as configured (a database newer than this
  code, a bad ``state.url``, a server that refuses the login). Fix the configuration.
* ``StateUnavailable`` (a ``StateError``) — the call failed for a reason that passes: a
  lock held past the timeout, a dropped or refused connection, a statement cancelled by
  ``statement_timeout``, a full disk, an I/O error. Nothing the call wrote is promised to
  be kept (a commit whose answer was lost may or may not have happened; every write of
  the store is safe to repeat). Retry later.
* ``StateDamaged`` (a ``StateError``) — the database itself is broken: a truncated or
  overwritten file, a failed integrity check, a schema missing tables or columns. The
  message names the last good backup when one is known. Retrying does not help.

Every message is one line and never holds a password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

__all__ = [
    "LEDGER_STATUSES",
    "Claim",
    "LedgerEntry",
    "ProcessRecord",
    "StateDamaged",
    "StateError",
    "StateUnavailable",
    "Subscription",
    "utc_instant",
]

LEDGER_STATUSES = ("intent", "posted", "skipped", "failed")


class StateError(Exception):
    """The state store cannot be used: a database newer than this code, a file that is
    not a state database, a bad ``state.url`` or a PostgreSQL server that cannot be
    reached. The message is one line and never holds a password."""


class StateUnavailable(StateError):
    """A store call failed for a passing reason (lock or statement timeout, lost or
    refused connection, full disk, I/O error); retrying later may succeed. What the call
    wrote may or may not have been committed."""


class StateDamaged(StateError):
    """The state database is damaged (truncated, overwritten, failed integrity check,
    missing tables or columns); the message names the last good backup when known."""


def utc_instant(value: dt.datetime) -> dt.datetime:
    """``value`` in UTC. Raises ``ValueError`` for a naive datetime (the store keeps
    instants, and a naive one names none)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: the state store keeps UTC instants")
    return value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Subscription:
    """One channel's daily digest.

    ``time`` is the local wall-clock time ``HH:MM`` in ``timezone`` (an IANA name);
    ``locale`` ``ja`` or ``en``; ``max_items`` 1–10 stories; ``post_empty`` whether a day
    without news gets a short line (else nothing). Filters: ``categories`` (empty: every
    category), ``include_keywords`` (empty: every story; else a story must name one) and
    ``exclude_keywords`` (a story naming one is left out). ``role_id`` is the one role the
    digest mentions (None: it pings nobody); ``publish`` publishes each digest of an
    announcement channel to the channels that follow it. ``subscribed_by`` is the user id
    of the admin who subscribed (told by DM when delivery pauses; None for ``config``).
    ``source`` is ``command`` (made with ``/digest subscribe``) or ``config`` (declared in
    config.toml: the operator's file is authoritative for it). ``state`` is ``active`` or
    ``paused`` with ``paused_reason``; ``pause_notified_at`` is when the guild was told of
    the current pause (None: not yet). ``created_at``/``updated_at`` are UTC instants (None
    before the row is stored).
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
    categories: tuple[str, ...] = ()
    include_keywords: tuple[str, ...] = ()
    exclude_keywords: tuple[str, ...] = ()
    role_id: int | None = None
    publish: bool = False
    subscribed_by: int | None = None
    pause_notified_at: dt.datetime | None = None

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
    digest belongs to. ``message_ids`` are the posted parts in order. ``owner`` is the
    process id (``ProcessRecord.owner``) that claimed or took over the row.
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


@dataclass(frozen=True)
class ProcessRecord:
    """One bot process that may own ledger rows (a ``processes`` row).

    ``owner`` is the process's identity, unique per start (it ends with a random token
    made at start, so two processes never share one even with the same host name and
    pid); ``host`` and ``pid`` are shown to operators only. ``host_key`` names the
    process table the pid belongs to (boot id and pid namespace; None where unknown):
    only a process with the same ``host_key`` may judge the pid. ``heartbeat_at`` is
    renewed every few seconds while the process runs and ``stopped_at`` set when it
    stopped cleanly (UTC instants, both by the database's clock); ``heartbeat_age`` is
    the seconds since the last heartbeat when the row was read, by the database's clock
    too, so processes whose own clocks differ or jump still agree on it.
    """

    owner: str
    host: str
    pid: int
    host_key: str | None
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    stopped_at: dt.datetime | None = None
    heartbeat_age: float = 0.0
