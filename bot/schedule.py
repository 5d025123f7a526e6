"""Daily digests on time: the APScheduler wiring around the exactly-once protocol of
``bot/digest_delivery.py``. (The corpus refresh is ``bot.refresh.IndexRefresher``, a
separate ``BackgroundService``.)

``DigestScheduler`` is a ``BackgroundService`` (bot/admin.py) started once from the bot's
``setup_hook``. It owns one APScheduler 3 ``AsyncIOScheduler`` with

* one job per active subscription: ``CronTrigger(hour, minute, timezone=<the
  subscription's IANA zone>)``, an ``async`` job, ``coalesce=True``, ``max_instances=1``
  and ``misfire_grace_time = settings.misfire_grace_seconds`` (default 6 h). A job woken
  later than the grace time (a suspended machine, a blocked loop) is not run by
  APScheduler; the ``EVENT_JOB_MISSED`` listener logs it and records the day as
  ``skipped``/``missed`` in the ledger;
* an interval job that resolves ``intent`` rows no live run is working on (``recover``:
  a dead process's, or this process's own left behind by a long store outage) and does
  the store's housekeeping (old process leases; the daily snapshot of a SQLite state);
* an interval job renewing this process's lease in the store (``heartbeat_seconds``).

Clock and time zones. "Now" comes from an injectable ``clock`` (UTC). A run computes the
occurrence it serves from the clock: the latest instant at or before now at which the
subscription's wall-clock time occurs in its zone (``scheduled_at_or_before``). Its *local
date* is the digest date, the ledger's key. Across DST changes this follows
``CronTrigger``: a time inside a spring-forward gap (02:30 in New York on the second Sunday
of March) fires once, shifted forward by the gap (03:30 local); a time that occurs twice
on the fall-back day (01:30) fires twice, and the second run finds the day in the ledger
and posts nothing.

Downtime. The job store is in memory, so a process that was down at the scheduled time
has no pending run when it comes back. On start-up (and on ``resume``) ``catch_up`` runs
every active subscription's latest occurrence: within the grace time it is posted now,
once; beyond it the day is recorded as ``skipped``/``missed`` and logged. Occurrences
before the subscription was created are not caught up.

The store is never called on the event loop: every call goes through ``StateCalls`` (a
thread of its own), retried through a short outage within each run's grace time
(bot/digest_delivery.py). At most ``concurrency`` channels post at once; the Discord
poster also keeps every process of the bot together under Discord's global rate limit
(bot/discord_app/delivery.py). Digests due at the same time share one story selection per
``(locale, dates, max_items, exclusions)``.

Sharding: with ``bot.shard_count`` and ``bot.shard_ids`` set, a process schedules,
catches up and recovers only the guilds of its shards (``(guild_id >> 22) %
shard_count``, docs/DISCORD.md); processes holding the same shard by mistake still post
once, through the ledger (docs/SCALING.md).

The core never imports discord.py: posting goes through the ``Poster`` protocol, built
from the bot by ``poster_factory`` in ``start``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.digest import Digest, SelectionCache
from bot.digest_delivery import DeliveryError, DigestDelivery, Occurrence, Poster
from bot.process_lease import ProcessIdentity
from bot.service import NewsService
from bot.state import StateError, StateStore, Subscription
from bot.state_calls import StateCalls

__all__ = [
    "Clock",
    "DeliveryError",
    "DigestScheduler",
    "Occurrence",
    "Poster",
    "ProcessIdentity",
    "next_fire_time",
    "next_occurrence",
    "scheduled_at_or_before",
    "utc_now",
]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
#: How long start-up waits for an unavailable store, in seconds.
START_RETRY_SECONDS = 60.0
#: Process leases not renewed for this long are deleted (when they own no row).
PRUNE_AFTER = dt.timedelta(days=7)


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- time


def _instants(day: dt.date, hour: int, minute: int, zone: ZoneInfo) -> list[dt.datetime]:
    """The UTC instants at which the wall-clock time ``hour:minute`` occurs on ``day`` in
    ``zone``: one normally, two on a fall-back day, and for a time inside a spring-forward
    gap the instant ``fold=0`` names (the time shifted forward by the gap), which is when
    APScheduler's ``CronTrigger`` fires."""
    found = []
    for fold in (0, 1):
        local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone, fold=fold)
        instant = local.astimezone(dt.UTC)
        if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            found.append(instant)
    if not found:
        local = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
        found.append(local.astimezone(dt.UTC))
    return sorted(set(found))


def scheduled_at_or_before(now: dt.datetime, hour: int, minute: int, zone: ZoneInfo) -> Occurrence:
    """The latest occurrence of the daily local time ``hour:minute`` in ``zone`` at or
    before the aware instant ``now``."""
    today = now.astimezone(zone).date()
    utc_now_ = now.astimezone(dt.UTC)
    for back in range(3):
        day = today - dt.timedelta(days=back)
        due = [instant for instant in _instants(day, hour, minute, zone) if instant <= utc_now_]
        if due:
            return Occurrence(due[-1], day)
    raise AssertionError("a daily time occurs at least once in three days")


def next_fire_time(subscription: Subscription, now: dt.datetime) -> dt.datetime | None:
    """When the subscription's ``CronTrigger`` fires next strictly after ``now`` (aware,
    in the subscription's zone), or None for a bad zone."""
    try:
        trigger = CronTrigger(
            hour=subscription.hour, minute=subscription.minute, timezone=subscription.zone
        )
    except Exception:  # a zone that no longer exists: shown as no next run
        return None
    # The trigger counts in whole seconds and includes ``now`` itself when it matches.
    fire: dt.datetime | None = trigger.get_next_fire_time(None, now + dt.timedelta(microseconds=1))
    return fire


def next_occurrence(subscription: Subscription, now: dt.datetime) -> Occurrence | None:
    """The run of ``subscription`` after ``now``, as its job's ``CronTrigger`` computes it
    (whether or not it is paused), or None for a bad zone."""
    fire = next_fire_time(subscription, now)
    if fire is None:
        return None
    return Occurrence(fire.astimezone(dt.UTC), fire.astimezone(subscription.zone).date())


# --------------------------------------------------------------------------- scheduler


class DigestScheduler:
    """Posts each subscription's daily digest (see the module docstring).

    ``store`` holds subscriptions and the ledger; ``poster_factory(bot)`` builds the
    ``Poster`` in ``start``; ``clock`` gives "now" (aware, UTC). ``retry_delays`` are the
    waits in seconds before each retry of a transient Discord failure; ``concurrency``
    bounds the channels posting at once; ``lease_seconds`` is how long a process's
    heartbeat (every ``heartbeat_seconds``) keeps its ledger rows alive, judged once this
    process has renewed its own for ``watch_seconds`` (default: ``lease_seconds``);
    ``min_retry_seconds`` the least time store writes of a started digest are retried;
    ``recovery_interval_seconds`` how often abandoned rows are looked for;
    ``stop_timeout`` bounds, in seconds, how long ``stop`` waits for runs in flight.
    ``identity`` is this process (default: a new ``ProcessIdentity``); ``calls`` runs the
    store's calls off the event loop (default: a new ``StateCalls``); ``housekeeping(now)``
    runs on the store's thread with each recovery pass (e.g. the daily snapshot of a
    SQLite state). ``close_store`` closes the store (and ``calls``) in ``stop``.
    """

    def __init__(
        self,
        settings: Settings,
        service: NewsService,
        store: StateStore,
        *,
        poster_factory: Callable[[Any], Poster],
        clock: Clock = utc_now,
        retry_delays: Sequence[float] = (2.0, 8.0),
        concurrency: int = 8,
        lease_seconds: float = 90.0,
        watch_seconds: float | None = None,
        heartbeat_seconds: float = 15.0,
        min_retry_seconds: float = 300.0,
        recovery_interval_seconds: float = 300.0,
        stop_timeout: float = 5.0,
        identity: ProcessIdentity | None = None,
        calls: StateCalls | None = None,
        housekeeping: Callable[[dt.datetime], object] | None = None,
        close_store: bool = False,
    ) -> None:
        self.settings = settings
        self.service = service
        self.store = store
        self.clock = clock
        self.calls = calls or StateCalls()
        self.grace = dt.timedelta(seconds=settings.misfire_grace_seconds)
        self.heartbeat_seconds = heartbeat_seconds
        self.recovery_interval_seconds = recovery_interval_seconds
        self.stop_timeout = stop_timeout
        self.housekeeping = housekeeping
        self.close_store = close_store
        self.delivery = DigestDelivery(
            settings,
            service,
            store,
            self.calls,
            clock=clock,
            identity=identity or ProcessIdentity.current(),
            retry_delays=retry_delays,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            watch_seconds=watch_seconds,
            min_retry_seconds=min_retry_seconds,
            on_pause=self.unschedule,
        )
        self._poster_factory = poster_factory
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def owner(self) -> str:
        """This process's owner string in the ledger (``ProcessIdentity.owner``)."""
        return self.delivery.owner

    @property
    def cache(self) -> SelectionCache:
        """The story selections shared by digests due together."""
        return self.delivery.content.cache

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._scheduler is not None

    @property
    def poster(self) -> Poster:
        """The poster built in ``start``. Raises ``RuntimeError`` before that."""
        if self.delivery.posting.poster is None:
            raise RuntimeError("DigestScheduler is not started")
        return self.delivery.posting.poster

    async def start(self, bot: Any) -> None:
        """Take this process's lease, sync config subscriptions into the store, schedule
        every active subscription, start the scheduler, and (in the background) recover
        abandoned ledger rows and catch up on digests missed while the bot was down.
        Called once, from ``setup_hook``; a second call is ignored with a warning.
        Raises ``StateError`` when the store stays unavailable for
        ``START_RETRY_SECONDS``."""
        if self._scheduler is not None:
            log.warning("DigestScheduler.start called twice; ignored")
            return
        deadline = time.monotonic() + START_RETRY_SECONDS
        await self.delivery.lease.register()
        await self.calls.run_until(
            deadline,
            self.store.sync_config_subscriptions,
            [
                Subscription(
                    guild_id=entry.guild_id,
                    channel_id=entry.channel_id,
                    time=entry.time,
                    timezone=entry.timezone,
                    locale=entry.locale,
                    max_items=entry.max_items,
                    post_empty=entry.post_empty,
                    source="config",
                )
                for entry in self.settings.subscriptions
            ],
            self.clock(),
        )
        poster = self._poster_factory(bot)
        self.delivery.posting.poster = poster
        self.delivery.notices.teller = poster
        scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": max(1, self.settings.misfire_grace_seconds),
            },
        )
        scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self._scheduler = scheduler
        active = await self.calls.run_until(deadline, self.store.list_subscriptions, state="active")
        for subscription in active:
            self.schedule(subscription)
        scheduler.add_job(
            self._recovery_job,
            IntervalTrigger(seconds=self.recovery_interval_seconds),
            id="ledger-recovery",
            name="ledger recovery",
        )
        scheduler.add_job(
            self.delivery.lease.heartbeat,
            IntervalTrigger(seconds=self.heartbeat_seconds),
            id="process-heartbeat",
            name="process heartbeat",
        )
        scheduler.start()
        log.info(
            "digest scheduler started (%d subscriptions, owner %s)",
            len(self.jobs()),
            self.owner,
        )
        self.spawn(self._start_up())

    async def _start_up(self) -> None:
        await self.recover()
        await self.catch_up()

    async def stop(self) -> None:
        """Stop scheduling, wait up to ``stop_timeout`` seconds for runs in flight (then
        cancel them; their rows are recovered by the next start), mark this process
        stopped in the store (so another may take its rows over at once)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        scheduler.shutdown(wait=False)
        await self.delivery.lease.retire()
        if self.close_store:
            self.calls.close()
            self.store.close()
        log.info("digest scheduler stopped")

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coroutine`` as a task that ``stop`` and ``wait_idle`` wait for."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def wait_idle(self, timeout: float = 30.0) -> None:
        """Wait until no run started by this scheduler is in flight (for tests and
        shutdown). Raises ``TimeoutError`` after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while pending := [t for t in self._tasks if t is not asyncio.current_task()]:
                await asyncio.wait(pending)

    # -- jobs ---------------------------------------------------------------------------

    def owns(self, guild_id: int) -> bool:
        """Whether this process schedules ``guild_id``'s digests (its shard is ours)."""
        count, ids = self.settings.shard_count, self.settings.shard_ids
        return not (count and ids) or (guild_id >> 22) % count in ids

    @staticmethod
    def job_id(channel_id: int) -> str:
        """The APScheduler job id of a channel's digest."""
        return f"digest:{channel_id}"

    def jobs(self) -> dict[int, dt.datetime | None]:
        """Scheduled digests: channel id → next run time (aware)."""
        if self._scheduler is None:
            return {}
        return {
            int(job.id.split(":", 1)[1]): job.next_run_time
            for job in self._scheduler.get_jobs()
            if job.id.startswith("digest:")
        }

    def schedule(self, subscription: Subscription) -> None:
        """Add, replace or remove the job of ``subscription`` to match it (active and of
        our shards: scheduled; otherwise not). No-op before ``start``."""
        if self._scheduler is None:
            return
        if not subscription.active or not self.owns(subscription.guild_id):
            self.unschedule(subscription.channel_id)
            return
        self._scheduler.add_job(
            self._digest_job,
            CronTrigger(
                hour=subscription.hour, minute=subscription.minute, timezone=subscription.zone
            ),
            args=[subscription.channel_id],
            id=self.job_id(subscription.channel_id),
            name=f"digest for channel {subscription.channel_id}",
            replace_existing=True,
        )

    def unschedule(self, channel_id: int) -> None:
        """Remove a channel's job, if any."""
        if self._scheduler is not None and self._scheduler.get_job(self.job_id(channel_id)):
            self._scheduler.remove_job(self.job_id(channel_id))

    async def _digest_job(self, channel_id: int) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._run_isolated(channel_id)
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _recovery_job(self) -> None:
        await self.recover()
        now = self.clock()
        try:
            await self.calls.run(self.store.prune_processes, PRUNE_AFTER.total_seconds())
            if self.housekeeping is not None:
                await self.calls.run(self.housekeeping, now)
        except Exception:
            log.exception("state store housekeeping failed")

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """APScheduler skipped a run woken later than the grace time: log it and record
        the day as missed (in a task: the store is not called on the event loop)."""
        if not event.job_id.startswith("digest:"):
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            return
        channel_id = int(event.job_id.split(":", 1)[1])
        self.spawn(self._record_missed(channel_id, event.scheduled_run_time.astimezone(dt.UTC)))

    async def _record_missed(self, channel_id: int, at: dt.datetime) -> None:
        try:
            deadline = time.monotonic() + self.delivery.min_retry_seconds
            subscription = await self.calls.run_until(
                deadline, self.store.get_subscription, channel_id
            )
            if subscription is not None:
                occurrence = Occurrence(at, at.astimezone(subscription.zone).date())
                await self.delivery.record_missed(subscription, occurrence, deadline)
        except StateError as error:
            log.error(
                "the missed digest of channel %s at %s is not recorded: %s", channel_id, at, error
            )

    # -- runs ---------------------------------------------------------------------------

    async def catch_up(self, channel_ids: Sequence[int] | None = None) -> dict[int, str]:
        """Run the latest occurrence of every active subscription (or of
        ``channel_ids``): posted if within the grace time and not yet in the ledger,
        recorded as missed past it. Returns channel id → outcome (see ``run_due``)."""
        if channel_ids is None:
            try:
                active = await self.calls.run_until(
                    time.monotonic() + self.delivery.min_retry_seconds,
                    self.store.list_subscriptions,
                    state="active",
                )
            except StateError as error:
                log.error("catch-up skipped: %s", error)
                return {}
            channel_ids = [s.channel_id for s in active]
        outcomes = await asyncio.gather(*(self._run_isolated(c) for c in channel_ids))
        return dict(zip(channel_ids, outcomes, strict=True))

    async def _run_isolated(self, channel_id: int) -> str:
        """``run_due`` with any unexpected error (a state store that stayed away, a
        damaged one …) logged and answered ``error``, so one channel never stops the
        others."""
        try:
            return await self.run_due(channel_id)
        except StateError as error:
            log.error("digest run for channel %s failed: %s", channel_id, error)
            return "error"
        except Exception:
            log.exception("digest run for channel %s failed", channel_id)
            return "error"

    async def run_due(self, channel_id: int, now: dt.datetime | None = None) -> str:
        """Serve the latest occurrence at or before ``now`` (default: the clock) of the
        channel's subscription. Never raises for a delivery problem. Returns the outcome:
        ``posted``, ``empty`` (nothing new, nothing posted), ``missed`` (past the grace
        time), ``done`` (already in the ledger), ``busy`` (another live run is posting),
        ``recovered`` (found already in the channel), ``paused``, ``failed``, ``error``
        (the state store failed past the run's deadline: the row is left to recovery),
        ``inactive`` (no active subscription of our shards), ``not-due`` (the occurrence
        predates the subscription). Raises ``StateError`` when the subscription cannot be
        read within the grace time."""
        now = now or self.clock()
        deadline = time.monotonic() + max(
            self.grace.total_seconds(), self.delivery.min_retry_seconds
        )
        subscription = await self.calls.run_until(deadline, self.store.get_subscription, channel_id)
        if subscription is None or not subscription.active or not self.owns(subscription.guild_id):
            return "inactive"
        occurrence = scheduled_at_or_before(
            now, subscription.hour, subscription.minute, subscription.zone
        )
        if subscription.created_at is not None and subscription.created_at > occurrence.at:
            return "not-due"
        return await self.delivery.deliver(subscription, occurrence, now)

    def compose(
        self,
        subscription: Subscription,
        window_start: dt.datetime,
        window_end: dt.datetime,
        *,
        include_today: bool = False,
    ) -> Digest:
        """The digest of ``subscription`` for a window (UTC instants), leaving out stories
        the channel already received in it (``DigestContent.compose``; reads the store
        on the calling thread)."""
        return self.delivery.content.compose(
            subscription, window_start, window_end, include_today=include_today
        )

    async def preview(self, subscription: Subscription, occurrence: Occurrence) -> Digest:
        """The digest ``subscription`` will post at ``occurrence`` if nothing changes
        before then — what that run computes. Writes nothing. Raises ``StateError`` when
        the store cannot answer."""
        return await self.delivery.content.preview(subscription, occurrence)

    async def post_test(self, subscription: Subscription, digest: Digest, note: str) -> list[int]:
        """Post ``digest`` in ``subscription``'s channel as a test (not recorded, never
        a digest for the ledger). Returns the message ids. Raises ``DeliveryError``, or
        ``RuntimeError`` before ``start``."""
        return await self.delivery.posting.post_test(subscription, digest, note)

    async def pause(self, channel_id: int, reason: str) -> None:
        """Pause a subscription with a reason code and remove its job."""
        await self.delivery.posting.pause(channel_id, reason)

    async def recover(self) -> dict[tuple[int, dt.date], str]:
        """Resolve every ``intent`` row of our shards that no live run is working on (see
        bot/digest_delivery.py). Returns (channel id, date) → outcome ({} when the store
        cannot be read)."""
        try:
            return await self.delivery.recover(self.owns)
        except StateError as error:
            log.error("ledger recovery skipped: %s", error)
            return {}
