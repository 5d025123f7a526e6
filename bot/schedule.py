"""Daily digests on time, exactly once: APScheduler wiring, the ledger protocol and
recovery. (The corpus refresh is ``bot.refresh.IndexRefresher``, a separate
``BackgroundService``.)

``DigestScheduler`` is a ``BackgroundService`` (bot/admin.py) started once from the bot's
``setup_hook``. It owns one APScheduler 3 ``AsyncIOScheduler`` with

* one job per active subscription: ``CronTrigger(hour, minute, timezone=<the
  subscription's IANA zone>)``, an ``async`` job, ``coalesce=True``, ``max_instances=1``
  and ``misfire_grace_time = settings.misfire_grace_seconds`` (default 6 h). A job woken
  later than the grace time (a suspended machine, a blocked loop) is not run by
  APScheduler; the ``EVENT_JOB_MISSED`` listener logs it and records the day as
  ``skipped``/``missed`` in the ledger;
* an interval job that resolves ledger rows abandoned by a dead process (``recover``).

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

Exactly once per channel and local date (see bot/state.py for the ledger):

1. A run claims the day by inserting an ``intent`` row; the database's unique key
   (channel, local date) lets one insert through (bot/state.py). A second run — in this
   process, in another process on the same ``state.db``, or in a process on another
   machine sharing the PostgreSQL state — fails to claim and posts nothing.
2. The owner posts each part of the digest, recording each message id in the row right
   after Discord answered, then marks the row ``posted``. Every message ends with a marker
   naming the digest date and part (bot/digest.py), and carries a nonce derived from
   channel, date and part, which Discord uses to drop a duplicate create within minutes
   (``enforce_nonce``), covering discord.py's own retries.
3. An ``intent`` row whose owner is dead — same host: the process is gone (or, in this
   process, the scheduler has stopped); another host, where no pid can be checked: no
   write for ``lease_seconds`` (a lease renewed by every recorded part; it assumes the
   hosts' clocks agree to well within it, as NTP keeps them) — is
   recovered by reading the channel's recent messages from the bot (``Poster.
   own_messages``): parts found by their marker are recorded, so a crash between the post
   and the ledger write neither loses nor repeats the digest; missing parts are posted if
   the occurrence is still within the grace time (a partly posted digest is always
   completed); a digest with nothing in the channel and past the grace time is recorded
   as missed. Recovery runs at start-up and every ``recovery_interval_seconds``.
4. Writes after the claim are fenced on the owner, so a poster whose row was taken over
   stops.

Failures, per channel (one task per channel; errors are caught, logged and recorded, never
raised into other channels' runs): ``DeliveryError`` with ``permanent`` (403 Missing Access
or Missing Permissions, 404 Unknown Channel, not a text channel) pauses the subscription
with the reason and removes its job until an admin resumes it; a transient error (5xx after
discord.py's own retries, a timeout, a dropped connection) is retried up to
``len(retry_delays)`` more times with those delays (seconds), after checking the channel
for the part in case the failed attempt reached Discord; 429 is waited out by discord.py.
At most ``concurrency`` channels post at once; the Discord poster also spaces requests
under Discord's global rate limit (bot/discord_app/delivery.py). Digests due at the same
time share one story selection per ``(locale, dates, max_items, exclusions)``.

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
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import Settings
from bot.digest import (
    Digest,
    SelectionCache,
    compose_digest,
    digest_dates,
    parse_marker,
    render_digest_messages,
)
from bot.service import NewsService
from bot.state import LedgerEntry, StateStore, Subscription

__all__ = [
    "Clock",
    "DeliveryError",
    "DigestScheduler",
    "Occurrence",
    "Poster",
    "next_fire_time",
    "scheduled_at_or_before",
    "utc_now",
]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
#: Attempts at one channel's digest on one date (the first run, then failed-row retries
#: by catch-up or resume).
MAX_DAY_ATTEMPTS = 3
#: Newest messages read from a channel when looking for a digest already posted.
HISTORY_LIMIT = 100

# Owners (``host/pid/token``) of the schedulers running in this process.
_LIVE_OWNERS: set[str] = set()
_HOST = socket.gethostname()


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


# --------------------------------------------------------------------------- time


@dataclass(frozen=True)
class Occurrence:
    """One scheduled run: ``at`` the UTC instant, ``day`` its local date (the digest
    date)."""

    at: dt.datetime
    day: dt.date


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


def _nonce(channel_id: int, day: dt.date, part: int) -> int:
    """A message nonce unique to (channel, date, part): a positive 63-bit integer."""
    digest = hashlib.sha256(f"{channel_id}|{day.isoformat()}|{part}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


# --------------------------------------------------------------------------- delivery


class DeliveryError(Exception):
    """Posting to (or reading) a channel failed.

    ``reason`` is a short code shown to admins (``missing_access``,
    ``missing_permissions``, ``unknown_channel``, ``not_messageable``, ``server_error``,
    ``timeout``, ``rejected``…). ``permanent``: the same request will fail tomorrow too
    (403, 404 Unknown Channel): the subscription is paused. ``retryable``: a transient
    failure worth a bounded retry (5xx, timeouts, dropped connections).
    """

    def __init__(
        self, reason: str, detail: str = "", *, permanent: bool = False, retryable: bool = False
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.permanent = permanent
        self.retryable = retryable


class Poster(Protocol):
    """Posts to and reads from channels (the Discord adapter implements it)."""

    async def send(self, channel_id: int, content: str, *, nonce: int) -> int:
        """Post ``content`` (≤ 2000 characters, mentions disabled) and return the new
        message id. Raises ``DeliveryError``."""
        ...

    async def own_messages(self, channel_id: int, limit: int) -> list[tuple[int, str]]:
        """``(message id, content)`` of the bot's own messages among the channel's
        ``limit`` newest messages. Raises ``DeliveryError``."""
        ...


# --------------------------------------------------------------------------- scheduler


class DigestScheduler:
    """Posts each subscription's daily digest (see the module docstring).

    ``store`` holds subscriptions and the ledger; ``poster_factory(bot)`` builds the
    ``Poster`` in ``start``; ``clock`` gives "now" (aware, UTC). ``retry_delays`` are the
    waits in seconds before each retry of a transient failure; ``concurrency`` bounds the
    channels posting at once; ``lease_seconds`` is how long an ``intent`` row of a process
    on another host is presumed alive without a write; ``stop_timeout`` bounds, in
    seconds, how long ``stop`` waits for runs in flight. ``close_store`` closes the store
    in ``stop``.
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
        lease_seconds: float = 600.0,
        recovery_interval_seconds: float = 300.0,
        stop_timeout: float = 5.0,
        close_store: bool = False,
    ) -> None:
        self.settings = settings
        self.service = service
        self.store = store
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.grace = dt.timedelta(seconds=settings.misfire_grace_seconds)
        self.recovery_interval_seconds = recovery_interval_seconds
        self.stop_timeout = stop_timeout
        self.close_store = close_store
        self.owner = f"{_HOST}/{os.getpid()}/{secrets.token_hex(6)}"
        self.cache = SelectionCache()
        self._poster_factory = poster_factory
        self._poster: Poster | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._scheduler is not None

    @property
    def poster(self) -> Poster:
        """The poster built in ``start``. Raises ``RuntimeError`` before that."""
        if self._poster is None:
            raise RuntimeError("DigestScheduler is not started")
        return self._poster

    async def start(self, bot: Any) -> None:
        """Sync config subscriptions into the store, schedule every active subscription,
        start the scheduler, and (in the background) recover abandoned ledger rows and
        catch up on digests missed while the bot was down. Called once, from
        ``setup_hook``; a second call is ignored with a warning."""
        if self._scheduler is not None:
            log.warning("DigestScheduler.start called twice; ignored")
            return
        _LIVE_OWNERS.add(self.owner)
        self.store.sync_config_subscriptions(
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
        self._poster = self._poster_factory(bot)
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
        for subscription in self.store.list_subscriptions(state="active"):
            self.schedule(subscription)
        scheduler.add_job(
            self._recovery_job,
            IntervalTrigger(seconds=self.recovery_interval_seconds),
            id="ledger-recovery",
            name="ledger recovery",
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
        cancel them; their rows are recovered by the next start), release the owner."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.stop_timeout)
            for task in late:
                task.cancel()
        scheduler.shutdown(wait=False)
        _LIVE_OWNERS.discard(self.owner)
        if self.close_store:
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

    def next_run(self, subscription: Subscription) -> dt.datetime | None:
        """When the subscription's digest runs next after the clock's now (aware, in its
        zone; what its job's ``CronTrigger`` computes), or None when paused."""
        if not subscription.active:
            return None
        return next_fire_time(subscription, self.clock())

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

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """APScheduler skipped a run woken later than the grace time: log it and record
        the day as missed."""
        if not event.job_id.startswith("digest:"):
            log.warning("job %s missed its run at %s", event.job_id, event.scheduled_run_time)
            return
        channel_id = int(event.job_id.split(":", 1)[1])
        subscription = self.store.get_subscription(channel_id)
        if subscription is None:
            return
        at = event.scheduled_run_time.astimezone(dt.UTC)
        self._record_missed(subscription, Occurrence(at, at.astimezone(subscription.zone).date()))

    def _record_missed(self, subscription: Subscription, occurrence: Occurrence) -> None:
        now = self.clock()
        written = self.store.record_skipped(
            channel_id=subscription.channel_id,
            guild_id=subscription.guild_id,
            digest_date=occurrence.day,
            owner=self.owner,
            window_start=None,
            window_end=occurrence.at,
            reason="missed",
            now=now,
        )
        if written:
            log.warning(
                "digest for channel %s on %s skipped: due at %s, now %s is past the grace "
                "time of %s",
                subscription.channel_id,
                occurrence.day,
                occurrence.at.isoformat(),
                now.isoformat(),
                self.grace,
            )

    # -- runs ---------------------------------------------------------------------------

    async def catch_up(self, channel_ids: Sequence[int] | None = None) -> dict[int, str]:
        """Run the latest occurrence of every active subscription (or of
        ``channel_ids``): posted if within the grace time and not yet in the ledger,
        recorded as missed past it. Returns channel id → outcome (see ``run_due``)."""
        if channel_ids is None:
            channel_ids = [s.channel_id for s in self.store.list_subscriptions(state="active")]
        outcomes = await asyncio.gather(*(self._run_isolated(c) for c in channel_ids))
        return dict(zip(channel_ids, outcomes, strict=True))

    async def _run_isolated(self, channel_id: int) -> str:
        """``run_due`` with any unexpected error (a locked or broken state.db …) logged
        and answered ``error``, so one channel never stops the others."""
        try:
            return await self.run_due(channel_id)
        except Exception:
            log.exception("digest run for channel %s failed", channel_id)
            return "error"

    async def run_due(self, channel_id: int, now: dt.datetime | None = None) -> str:
        """Serve the latest occurrence at or before ``now`` (default: the clock) of the
        channel's subscription. Never raises for a delivery problem. Returns the outcome:
        ``posted``, ``empty`` (nothing new, nothing posted), ``missed`` (past the grace
        time), ``done`` (already in the ledger), ``busy`` (another live owner is posting),
        ``paused``, ``failed``, ``inactive`` (no active subscription of our shards),
        ``not-due`` (the occurrence predates the subscription)."""
        now = now or self.clock()
        subscription = self.store.get_subscription(channel_id)
        if subscription is None or not subscription.active or not self.owns(subscription.guild_id):
            return "inactive"
        occurrence = scheduled_at_or_before(
            now, subscription.hour, subscription.minute, subscription.zone
        )
        if subscription.created_at is not None and subscription.created_at > occurrence.at:
            return "not-due"
        if now - occurrence.at <= self.grace:
            return await self._claim_and_post(subscription, occurrence, now)
        existing = self.store.entry(channel_id, occurrence.day)
        if existing is None:
            self._record_missed(subscription, occurrence)
            return "missed"
        if existing.status == "intent":  # a partly posted digest is completed even late
            alive = self._owner_alive(existing, now)
            return "busy" if alive else await self._recover_entry(existing, now)
        return "done"

    def _window_start(
        self, channel_id: int, before: dt.date, window_end: dt.datetime
    ) -> dt.datetime:
        """Start of the window ending at ``window_end``: the previous delivered digest's
        scheduled instant, or 24 hours before ``window_end`` for a first digest."""
        previous = self.store.last_entry(channel_id, before=before, delivered=True)
        if previous is not None and previous.window_end is not None:
            return previous.window_end
        return window_end - dt.timedelta(hours=24)

    async def _claim_and_post(
        self, subscription: Subscription, occurrence: Occurrence, now: dt.datetime
    ) -> str:
        window_start = self._window_start(subscription.channel_id, occurrence.day, occurrence.at)
        claim_args: dict[str, Any] = {
            "channel_id": subscription.channel_id,
            "guild_id": subscription.guild_id,
            "digest_date": occurrence.day,
            "owner": self.owner,
            "window_start": window_start,
            "window_end": occurrence.at,
            "now": now,
        }
        claim = self.store.claim(**claim_args)
        entry = claim.entry
        if not claim.claimed and entry.status == "failed" and entry.attempts < MAX_DAY_ATTEMPTS:
            claim = self.store.claim(**claim_args, retry_failed=True)
        if claim.claimed:
            return await self._post(subscription, claim.entry, {})
        if entry.status == "intent":
            if self._owner_alive(entry, now):
                log.info(
                    "digest for channel %s on %s is being posted by %s",
                    entry.channel_id,
                    entry.digest_date,
                    entry.owner,
                )
                return "busy"
            return await self._recover_entry(entry, now)
        log.debug(
            "digest for channel %s on %s already %s",
            entry.channel_id,
            entry.digest_date,
            entry.status,
        )
        return "done"

    def compose(
        self,
        subscription: Subscription,
        window_start: dt.datetime,
        window_end: dt.datetime,
        *,
        include_today: bool = False,
    ) -> Digest:
        """The digest of ``subscription`` for a window (UTC instants), leaving out stories
        the channel already received in it (``include_today``: counting digests dated on
        the window's last day too, for a preview after today's digest)."""
        since, until = digest_dates(window_start, window_end, subscription.zone)
        before = until + dt.timedelta(days=1) if include_today else until
        exclude = self.store.posted_stories(subscription.channel_id, since, before)
        return compose_digest(
            self.service,
            channel_id=subscription.channel_id,
            locale=subscription.locale,
            timezone=subscription.timezone,
            max_items=subscription.max_items,
            post_empty=subscription.post_empty,
            window_start=window_start,
            window_end=window_end,
            exclude=exclude,
            cache=self.cache,
        )

    def preview(self, subscription: Subscription, now: dt.datetime | None = None) -> Digest:
        """The digest ``subscription`` would post if it ran at ``now`` (default: the
        clock): new since its last delivered digest, or the last 24 hours. Writes
        nothing."""
        now = now or self.clock()
        day = now.astimezone(subscription.zone).date()
        start = self._window_start(subscription.channel_id, day + dt.timedelta(days=1), now)
        return self.compose(subscription, min(start, now), now, include_today=True)

    async def _post(
        self, subscription: Subscription, entry: LedgerEntry, found: dict[int, int]
    ) -> str:
        """Post the parts of ``entry``'s digest not yet in the channel (``found``: part →
        message id already there), recording each; finish the row."""
        channel_id, day = entry.channel_id, entry.digest_date
        posted = dict(enumerate(entry.message_ids, start=1)) | found
        async with self._slots:
            try:
                assert entry.window_end is not None
                window_start = entry.window_start or entry.window_end - dt.timedelta(hours=24)
                digest = self.compose(subscription, window_start, entry.window_end)
                messages = render_digest_messages(digest)
                if not messages:
                    self.store.finish(
                        channel_id,
                        day,
                        self.owner,
                        "skipped",
                        self.clock(),
                        reason="empty",
                        stories=(),
                    )
                    log.info(
                        "digest for channel %s on %s: no new story, nothing posted", channel_id, day
                    )
                    return "empty"
                for part, content in enumerate(messages, start=1):
                    if part in posted:
                        continue
                    posted[part] = await self._send_part(channel_id, day, part, content)
                    if not self.store.record_messages(
                        channel_id,
                        day,
                        self.owner,
                        [posted[p] for p in sorted(posted)],
                        self.clock(),
                    ):
                        log.error(
                            "digest for channel %s on %s was taken over by another process; stop",
                            channel_id,
                            day,
                        )
                        return "busy"
                self.store.finish(
                    channel_id,
                    day,
                    self.owner,
                    "posted",
                    self.clock(),
                    stories=digest.stories,
                    message_ids=[posted[p] for p in sorted(posted)],
                )
            except DeliveryError as error:
                return self._fail(subscription, entry, error, posted)
            except Exception as error:  # one channel's bug must not stop the others
                log.exception("digest for channel %s on %s failed", channel_id, day)
                return self._fail(subscription, entry, DeliveryError("error", repr(error)), posted)
        log.info(
            "digest posted: guild %s channel %s for %s (%s), %d stories in %d message(s)",
            subscription.guild_id,
            channel_id,
            day,
            subscription.locale,
            len(digest.cards),
            len(messages),
        )
        return "posted"

    def _fail(
        self,
        subscription: Subscription,
        entry: LedgerEntry,
        error: DeliveryError,
        posted: dict[int, int],
    ) -> str:
        now = self.clock()
        self.store.finish(
            entry.channel_id,
            entry.digest_date,
            self.owner,
            "failed",
            now,
            reason=error.reason,
            message_ids=[posted[p] for p in sorted(posted)],
        )
        if error.permanent:
            self.pause(subscription.channel_id, error.reason)
            log.warning(
                "digest for channel %s (guild %s) paused: %s; it stays paused until an "
                "admin runs /news resume",
                entry.channel_id,
                subscription.guild_id,
                error,
            )
            return "paused"
        log.error(
            "digest for channel %s on %s failed: %s", entry.channel_id, entry.digest_date, error
        )
        return "failed"

    def pause(self, channel_id: int, reason: str) -> None:
        """Pause a subscription with a reason code and remove its job."""
        self.store.set_state(channel_id, "paused", reason, self.clock())
        self.unschedule(channel_id)

    async def _send_part(self, channel_id: int, day: dt.date, part: int, content: str) -> int:
        """Send one part with the bounded retry of transient failures; before a retry, look
        for the part in the channel in case the failed attempt reached Discord."""
        nonce = _nonce(channel_id, day, part)
        attempt = 0
        while True:
            try:
                return await self.poster.send(channel_id, content, nonce=nonce)
            except DeliveryError as error:
                if attempt >= len(self.retry_delays) or not error.retryable:
                    raise
                delay = self.retry_delays[attempt]
                attempt += 1
                log.warning(
                    "digest part %d for channel %s failed (attempt %d: %s); retrying in %.1f s",
                    part,
                    channel_id,
                    attempt,
                    error,
                    delay,
                )
            await asyncio.sleep(delay)
            try:
                landed, _ = await self._find_parts(channel_id, day)
            except DeliveryError as error:
                if error.permanent:
                    raise
                landed = {}
            if part in landed:
                return landed[part]

    async def _find_parts(self, channel_id: int, day: dt.date) -> tuple[dict[int, int], int]:
        """Parts of the digest dated ``day`` already in the channel (part → message id,
        from the markers of the bot's recent messages) and the part count they state (0
        when none was found)."""
        found: dict[int, int] = {}
        total = 0
        for message_id, content in await self.poster.own_messages(channel_id, HISTORY_LIMIT):
            marker = parse_marker(content)
            if marker is not None and marker.digest_date == day:
                found.setdefault(marker.part, message_id)
                total = max(total, marker.total)
        return found, total

    # -- recovery -----------------------------------------------------------------------

    def _owner_alive(self, entry: LedgerEntry, now: dt.datetime) -> bool:
        """Whether the process that owns an ``intent`` row may still be posting it."""
        if entry.owner == self.owner:
            return True
        host, _, rest = entry.owner.partition("/")
        pid_text, _, _ = rest.partition("/")
        if host == _HOST and pid_text.isdigit():
            pid = int(pid_text)
            if pid == os.getpid():
                return entry.owner in _LIVE_OWNERS
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            except PermissionError:
                return True
            return True
        updated = entry.updated_at or entry.created_at
        return updated is not None and now - updated < self.lease

    async def recover(self) -> dict[tuple[int, dt.date], str]:
        """Resolve every ``intent`` row whose owner is dead (see the module docstring).
        Returns (channel id, date) → outcome."""
        now = self.clock()
        outcomes: dict[tuple[int, dt.date], str] = {}
        for entry in self.store.entries(status="intent"):
            if not self.owns(entry.guild_id) or self._owner_alive(entry, now):
                continue
            try:
                outcome = await self._recover_entry(entry, now)
            except Exception:
                log.exception(
                    "recovering channel %s on %s failed", entry.channel_id, entry.digest_date
                )
                outcome = "error"
            outcomes[entry.channel_id, entry.digest_date] = outcome
        return outcomes

    async def _recover_entry(self, entry: LedgerEntry, now: dt.datetime) -> str:
        channel_id, day = entry.channel_id, entry.digest_date
        subscription = self.store.get_subscription(channel_id)
        try:
            found, total = await self._find_parts(channel_id, day)
        except DeliveryError as error:
            if error.permanent:
                if not self.store.take_over(channel_id, day, entry.owner, self.owner, now):
                    return "busy"
                if subscription is not None:
                    return self._fail(subscription, entry, error, {})
                self.store.finish(channel_id, day, self.owner, "failed", now, reason=error.reason)
                return "inactive"
            log.warning(
                "cannot check channel %s for the digest of %s yet: %s", channel_id, day, error
            )
            return "busy"  # the row stays; the next recovery pass tries again
        if not self.store.take_over(channel_id, day, entry.owner, self.owner, now):
            return "busy"
        entry = self.store.entry(channel_id, day) or entry
        window_end = entry.window_end or now
        if found and set(found) >= set(range(1, total + 1)):
            stories: tuple[str, ...] = ()
            if subscription is not None and entry.window_end is not None:
                start = entry.window_start or entry.window_end - dt.timedelta(hours=24)
                stories = self.compose(subscription, start, entry.window_end).stories
            self.store.finish(
                channel_id,
                day,
                self.owner,
                "posted",
                now,
                stories=stories,
                message_ids=[found[p] for p in sorted(found)],
            )
            log.info(
                "digest for channel %s on %s was already in the channel; ledger completed",
                channel_id,
                day,
            )
            return "recovered"
        if subscription is None or not subscription.active:
            self.store.finish(
                channel_id,
                day,
                self.owner,
                "failed",
                now,
                reason="unsubscribed" if subscription is None else "paused",
            )
            return "inactive"
        if not found and now - window_end > self.grace:
            self.store.finish(channel_id, day, self.owner, "skipped", now, reason="missed")
            log.warning(
                "digest for channel %s on %s was never posted and is past the grace time; skipped",
                channel_id,
                day,
            )
            return "missed"
        log.info("digest for channel %s on %s was interrupted; posting it now", channel_id, day)
        return await self._post(subscription, entry, found)
