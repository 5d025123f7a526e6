"""State store calls off the event loop, and retried through a short outage.

A store call can block for seconds — SQLite waiting for another process's write lock (up
to its busy timeout), PostgreSQL waiting for a table lock (up to ``lock_timeout``) or for
a server that went away — while the event loop must keep answering Discord (an
interaction gets 3 seconds). ``StateCalls`` runs every call on a thread of its own, so a
slow store never holds the loop, nor the default executor's threads that searches and
answers run on.

``run`` makes one attempt. ``run_until`` retries a call that failed with
``StateUnavailable`` (a lock or statement timeout, a lost connection, a full disk) until
a deadline, so a digest's claim and records are retried within its grace time and a
short outage delays digests instead of losing them; every store write is safe to repeat
after a lost answer (bot/state_sql.py). While the store fails, one call at a time probes
it — after a backoff that doubles from ``first_delay`` up to ``max_delay``, with jitter —
and the others wait for that probe to succeed instead of each queueing its own attempt:
with thousands of digests due during an outage, the store sees one attempt at a time, and
everything resumes as soon as it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.state_records import StateUnavailable

__all__ = ["StateCalls"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class StateCalls:
    """Runs state store calls on a thread of their own (the store serializes its calls;
    one thread keeps them in order) and retries them through outages.

    ``first_delay`` and ``max_delay`` (seconds) shape the backoff between probes of a
    failing store: ``first_delay``, doubling, at most ``max_delay``, plus up to
    ``first_delay`` of jitter so processes sharing the store do not probe in step.
    """

    def __init__(self, *, first_delay: float = 0.25, max_delay: float = 30.0) -> None:
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="state-store")
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._answering = asyncio.Event()
        self._answering.set()
        self._probe = asyncio.Lock()
        self._down = False  # written on the store's thread, read anywhere
        self._failing_since: float | None = None
        self._last_error: StateUnavailable | None = None
        self._closed = False
        #: Attempts that reached the store and met ``StateUnavailable`` (calls failed at
        #: once while another probed are not counted).
        self.unavailable_attempts = 0

    @property
    def failing(self) -> bool:
        """True while the store's last answer was ``StateUnavailable``."""
        return self._down

    def _attempt(self, through: bool, work: Callable[[], T]) -> T:
        """On the store's thread: ``work()``, unless the store is failing and this call is
        not a probe (then it fails at once, without touching the store)."""
        if self._down and not through:
            raise StateUnavailable(f"the state store is unavailable ({self._last_error})")
        try:
            result = work()
        except StateUnavailable as error:
            self._last_error = error
            self._down = True
            self.unavailable_attempts += 1
            raise
        self._down = False
        return result

    async def _submit(self, through: bool, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        try:
            result = await loop.run_in_executor(self._executor, self._attempt, through, work)
        except StateUnavailable as error:
            if self._failing_since is None:
                self._failing_since = time.monotonic()
                log.warning("the state store is unavailable: %s", error)
            self._answering.clear()
            raise
        if self._failing_since is not None:
            log.info(
                "the state store answers again after %.1f s",
                time.monotonic() - self._failing_since,
            )
            self._failing_since = None
        self._answering.set()
        return result

    async def run(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``call(*args, **kwargs)`` on the store's thread, awaited: one attempt (none
        while another call is probing a failing store: it fails at once). Its errors
        propagate (``StateUnavailable``, ``StateDamaged`` …). If the awaiting task is
        cancelled the call still finishes on its thread."""
        return await self._submit(
            not self._probe.locked(), functools.partial(call, *args, **kwargs)
        )

    def _backoff(self, failures: int) -> float:
        delay = min(self.max_delay, self.first_delay * float(2 ** max(0, failures - 1)))
        return delay + random.uniform(0, self.first_delay)

    async def run_until(
        self, deadline: float, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``call(*args, **kwargs)`` on the store's thread, retried after
        ``StateUnavailable`` while ``time.monotonic()`` is before ``deadline``; then the last
        ``StateUnavailable`` propagates. Other errors propagate at once. While the store
        fails, this call waits for another call's probe to succeed, or probes itself (see
        the module docstring)."""
        work = functools.partial(call, *args, **kwargs)
        failures = 0
        while True:
            if not self.failing:
                try:
                    return await self._submit(False, work)
                except StateUnavailable:
                    if time.monotonic() >= deadline:
                        raise
                    continue  # probe, or wait for another call's probe
            if self._probe.locked():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise StateUnavailable(f"the state store is unavailable ({self._last_error})")
                # The store's thread may have found it failing before the loop heard of
                # it: wait for the next answer, not for one from before. Looks again now
                # and then, in case the probing call gave up and none probes any more.
                if self.failing:
                    self._answering.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(min(remaining, self.max_delay)):
                        await self._answering.wait()
                continue
            async with self._probe:
                try:
                    return await self._submit(True, work)
                except StateUnavailable:
                    failures += 1
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise
                    delay = min(self._backoff(failures), remaining)
                    log.debug(
                        "state store call %s failed %d times; next attempt in %.1f s",
                        getattr(call, "__name__", "?"),
                        failures,
                        delay,
                    )
                    await asyncio.sleep(delay)  # the others keep waiting for this probe

    def close(self) -> None:
        """Stop taking calls; a call in progress finishes on its thread."""
        if not self._closed:
            self._closed = True
            self._executor.shutdown(wait=False)
