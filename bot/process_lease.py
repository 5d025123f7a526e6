"""Who a bot process is, and whether another one is still alive: ``ProcessIdentity`` and
``ProcessLease``.

A process is identified by a random token made at start, carried in its ``owner``
string (``host/pid/token``; the host name and pid are there for people). Two containers
with the same host name and pid — each bot PID 1 — are still two owners, and nothing
here concludes anything from a host name.

Each process keeps a lease in the state store (``processes``): registered at start,
renewed by a heartbeat every few seconds, marked stopped on a clean stop. Times are the
database's, so processes whose clocks differ or jump agree on a lease's age. The owner of
a ledger row is dead when

* its lease says it stopped (at once: a clean stop or a restart of the same process);
* it shares this process's ``host_key`` (the same boot and pid namespace, where its pid
  names the same process) and its pid is gone (at once: a crash on this machine or in
  this container);
* its last heartbeat is older than ``lease_seconds`` — judged only once this process has
  renewed its own lease without a failure for ``watch_seconds``, so the end of a store
  outage, when every lease looks stale, does not make every other process look dead.

Rows of an owner without a lease (written before leases existed) fall back to their last
write plus ``LEGACY_LEASE_SECONDS``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from bot.state import LedgerEntry, StateError, StateStore
from bot.state_calls import StateCalls

__all__ = [
    "LEGACY_LEASE_SECONDS",
    "ProcessIdentity",
    "ProcessLease",
    "current_host_key",
    "pid_running",
]

log = logging.getLogger(__name__)

#: How long the last write of an owner without a lease (from before leases) keeps its
#: rows alive, in seconds.
LEGACY_LEASE_SECONDS = 600.0


def current_host_key() -> str | None:
    """This process's pid space: the kernel's boot id and the pid namespace (Linux), or
    None where they cannot be read. Two processes with the same key see the same pids."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def pid_running(pid: int) -> bool:
    """Whether a process with ``pid`` exists in this pid namespace."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ProcessIdentity:
    """Who this process is to the ledger: ``owner`` is ``host/pid/token`` with a random
    ``token`` made at start (unique even for equal host names and pids); ``host_key``
    names the pid space (``current_host_key``)."""

    host: str
    pid: int
    host_key: str | None
    token: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process, with a fresh random token."""
        return cls(socket.gethostname(), os.getpid(), current_host_key(), secrets.token_hex(8))

    @property
    def owner(self) -> str:
        """The owner string of this process's ledger rows and lease."""
        return f"{self.host}/{self.pid}/{self.token}"


class ProcessLease:
    """This process's lease in ``store`` (reached through ``calls``) and the judgement of
    other owners' (see the module docstring). ``lease_seconds``: how long a heartbeat
    keeps a process alive; ``watch_seconds``: how long this process must have renewed its
    own lease without a failure before it judges another's stale (default:
    ``lease_seconds``); ``register_seconds``: how long ``register`` retries an
    unavailable store."""

    def __init__(
        self,
        store: StateStore,
        calls: StateCalls,
        identity: ProcessIdentity,
        *,
        lease_seconds: float = 90.0,
        watch_seconds: float | None = None,
        register_seconds: float = 300.0,
    ) -> None:
        self.store = store
        self.calls = calls
        self.identity = identity
        self.lease_seconds = lease_seconds
        self.watch_seconds = lease_seconds if watch_seconds is None else watch_seconds
        self.register_seconds = register_seconds
        self._watching_since: float | None = None  # time.monotonic()

    @property
    def owner(self) -> str:
        """This process's owner string."""
        return self.identity.owner

    async def _register(self, deadline: float) -> None:
        identity = self.identity
        await self.calls.run_until(
            deadline,
            self.store.register_process,
            identity.owner,
            identity.host,
            identity.pid,
            identity.host_key,
        )

    async def register(self) -> None:
        """Take this process's lease (retried for ``register_seconds``). Raises
        ``StateError`` when the store stays unavailable."""
        await self._register(time.monotonic() + self.register_seconds)
        self._watching_since = time.monotonic()

    async def heartbeat(self) -> None:
        """Renew the lease (one attempt; registered again when it was lost). A failure
        is logged, and restarts the watch before other leases may be judged stale."""
        try:
            if not await self.calls.run(self.store.heartbeat, self.owner):
                await self._register(time.monotonic())
        except StateError as error:
            log.warning("heartbeat of %s not recorded: %s", self.owner, error)
            self._watching_since = None
            return
        if self._watching_since is None:
            self._watching_since = time.monotonic()

    async def retire(self, timeout: float = 2.0) -> None:
        """Mark this process stopped in the store (bounded by ``timeout`` seconds; when
        the store does not answer, other processes wait for the lease to expire)."""
        try:
            async with asyncio.timeout(timeout):
                await self.calls.run(self.store.retire_process, self.owner)
        except (StateError, TimeoutError) as error:
            log.warning("could not record that %s stopped: %s", self.owner, error)

    async def alive(self, entry: LedgerEntry, now: dt.datetime, deadline: float) -> bool:
        """Whether another process that owns the ``intent`` row ``entry`` may still be
        posting it (store reads retried until ``deadline``, monotonic). ``now`` (UTC)
        only ages rows of owners without a lease."""
        lease = await self.calls.run_until(deadline, self.store.process, entry.owner)
        if lease is None:  # written before leases: its last write is its lease
            updated = entry.updated_at or entry.created_at
            return updated is not None and (now - updated).total_seconds() < LEGACY_LEASE_SECONDS
        if lease.stopped_at is not None:
            return False
        same_pids = lease.host_key is not None and lease.host_key == self.identity.host_key
        if same_pids and not pid_running(lease.pid):
            return False
        if lease.heartbeat_age < self.lease_seconds:
            return True
        watched = self._watching_since is not None and (
            time.monotonic() - self._watching_since >= self.watch_seconds
        )
        return not watched
