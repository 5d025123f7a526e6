"""Daily digests exactly once per channel and local date: claim, post, record, recover.

This module is the ledger protocol on its own (``bot/schedule.py`` decides *when* a
digest is due; this module decides how it reaches the channel once, whatever fails):

1. **Claim** (``DigestDelivery``). A run claims the day by inserting an ``intent`` row;
   the database's unique key (channel, local date) lets one insert through
   (bot/state.py). A second run — in this process, in another process on the same
   ``state.db``, or in a process on another machine sharing the PostgreSQL state — fails
   to claim and posts nothing. Within a process, a (channel, date) being worked on is
   *in flight*; a second run of it here answers ``busy`` at once.
2. **Post and record** (``DigestPosting``). The owner posts each part of the digest,
   recording each message id in the row right after Discord answered, then marks the row
   ``posted``. Every message ends with a marker naming the digest date and part
   (bot/digest.py) and carries a nonce derived from channel, date and part, which Discord
   uses to drop a duplicate create within minutes (``enforce_nonce``).
3. **Recover** (``DigestDelivery.recover``). An ``intent`` row that no live run is
   working on — its owner is dead (bot/process_lease.py), or it is this process's own,
   left behind when the store failed for longer than a run could wait — is resolved by
   reading the channel's recent messages from the bot (``Poster.own_messages``): parts
   found by their marker are recorded, so a crash between the post and the ledger write
   neither loses nor repeats the digest; missing parts are posted if the occurrence is
   still within the grace time (a partly posted digest is always completed); a digest
   with nothing in the channel and past the grace time is recorded as missed. A dead
   owner's row is taken over first, with a fenced UPDATE that one process wins.
4. **Fence.** Writes after the claim are fenced on the owner, so a poster whose row was
   taken over stops.

Store failures. Every store call runs off the event loop (``StateCalls``) and is retried
through ``StateUnavailable`` until the run's deadline (``run_deadline``): the occurrence
plus the grace time, and at least ``min_retry_seconds`` for the writes of a digest
already started. A store that stays away longer leaves the row ``intent``; recovery
finishes it later. A damaged store (``StateDamaged``) stops the run with an error in the
log.

Discord failures, per channel (errors are caught, logged and recorded, never raised into
other channels' runs): ``DeliveryError`` with ``permanent`` (403, 404 Unknown Channel,
not a channel a digest can go to, a permission the bot lacks there) pauses the
subscription and tells the guild once (bot/digest_notices.py); a transient one (5xx
after discord.py's own retries, a timeout, a dropped connection) is retried up to
``len(retry_delays)`` more times with those delays, after checking the channel for the
part in case the failed attempt reached Discord; a 429 (``retry_after`` set: Discord did
not process the request) is always sent again after that wait, within the deadline.

Targets. The poster knows the channel: a text or announcement channel or a thread gets
the messages (in an announcement channel, published to its followers when the
subscription asks); a forum channel gets one post per digest, opened by part 1 and
titled with the day, whose later parts go into that post (``first_part``: the id of
part 1, which is the post's). The ledger records the ids either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.config import Settings
from bot.digest import (
    Digest,
    DigestMessage,
    SelectionCache,
    StoryFilter,
    as_test_post,
    compose_digest,
    digest_dates,
    parse_marker,
    render_digest_messages,
)
from bot.digest_notices import PauseNotices, Teller
from bot.process_lease import ProcessIdentity, ProcessLease
from bot.service import NewsService
from bot.state import LedgerEntry, StateError, StateStore, Subscription
from bot.state_calls import StateCalls

__all__ = [
    "HISTORY_LIMIT",
    "MAX_DAY_ATTEMPTS",
    "DeliveryError",
    "DigestContent",
    "DigestDelivery",
    "DigestPosting",
    "Occurrence",
    "Poster",
    "run_deadline",
]

log = logging.getLogger(__name__)

#: Attempts at one channel's digest on one date (the first run, then failed-row retries
#: by catch-up or resume).
MAX_DAY_ATTEMPTS = 3
#: Newest messages read from a channel when looking for a digest already posted.
HISTORY_LIMIT = 100


@dataclass(frozen=True)
class Occurrence:
    """One scheduled run: ``at`` the UTC instant, ``day`` its local date (the digest
    date)."""

    at: dt.datetime
    day: dt.date


class DeliveryError(Exception):
    """Posting to (or reading) a channel failed.

    ``reason`` is a short code shown to admins (``missing_access``,
    ``missing_permissions``, ``unknown_channel``, ``not_messageable``, ``server_error``,
    ``timeout``, ``rate_limited``, ``rejected``…). ``permanent``: the same request will
    fail tomorrow too (403, 404 Unknown Channel): the subscription is paused.
    ``retryable``: a transient failure worth a bounded retry (5xx, timeouts, dropped
    connections). ``retry_after`` (seconds) marks a 429: Discord did not process the
    request and asks to wait that long; it is always sent again.
    """

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        permanent: bool = False,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.permanent = permanent
        self.retryable = retryable
        self.retry_after = retry_after


class Poster(Teller, Protocol):
    """Posts to and reads from channels, and tells guilds (the Discord adapter implements
    it)."""

    async def send(
        self,
        channel_id: int,
        message: DigestMessage,
        *,
        nonce: int,
        first_part: int | None = None,
        publish: bool = False,
    ) -> int:
        """Post ``message`` (one part of a digest; mentions limited to its
        ``mention_role_id``) and return the new message's id. In a forum channel part 1
        opens a post titled ``message.post_title`` (its id is returned) and later parts go
        into the post ``first_part``; in an announcement channel ``publish`` publishes
        the message to following channels. Raises ``DeliveryError``."""
        ...

    async def own_messages(self, channel_id: int, limit: int) -> list[tuple[int, str]]:
        """``(message id, text)`` of the bot's own messages among the channel's ``limit``
        newest (in a forum: of its recent posts), ``text`` being the content and the
        embeds' footers, where a digest's marker is. Raises ``DeliveryError``."""
        ...


def _nonce(channel_id: int, day: dt.date, part: int) -> int:
    """A message nonce unique to (channel, date, part): a positive 63-bit integer."""
    digest = hashlib.sha256(f"{channel_id}|{day.isoformat()}|{part}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def run_deadline(
    at: dt.datetime, now: dt.datetime, grace: dt.timedelta, min_retry_seconds: float
) -> float:
    """The ``time.monotonic()`` instant until which the store calls of the run for the
    occurrence at ``at`` are retried: the end of its grace time as seen at ``now``, and
    at least ``min_retry_seconds`` away."""
    remaining = (at + grace - now).total_seconds()
    return time.monotonic() + max(remaining, min_retry_seconds)


# --------------------------------------------------------------------------- content


class DigestContent:
    """What a channel's digest holds: ``compose_digest`` over ``service`` for a window,
    minus the stories the ledger says the channel already got, with the selections of
    digests due together shared through ``cache``."""

    def __init__(self, service: NewsService, store: StateStore, calls: StateCalls) -> None:
        self.service = service
        self.store = store
        self.calls = calls
        self.cache = SelectionCache()

    def _compose_with(
        self,
        subscription: Subscription,
        window_start: dt.datetime,
        window_end: dt.datetime,
        exclude: set[str],
    ) -> Digest:
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
            story_filter=self.story_filter(subscription),
            cache=self.cache,
        )

    @staticmethod
    def story_filter(subscription: Subscription) -> StoryFilter:
        """The stories ``subscription`` wants (its categories and keywords)."""
        return StoryFilter(
            subscription.categories, subscription.include_keywords, subscription.exclude_keywords
        )

    @staticmethod
    def render(subscription: Subscription, digest: Digest) -> list[DigestMessage]:
        """The messages that post ``digest`` for ``subscription`` (its role mentioned):
        the one rendering the post, the preview and the test post share."""
        return render_digest_messages(digest, role_id=subscription.role_id)

    @staticmethod
    def _excluded_dates(
        subscription: Subscription,
        window_start: dt.datetime,
        window_end: dt.datetime,
        include_today: bool,
    ) -> tuple[dt.date, dt.date]:
        since, until = digest_dates(window_start, window_end, subscription.zone)
        return since, until + dt.timedelta(days=1) if include_today else until

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
        the window's last day too). Reads the store on the calling thread."""
        since, before = self._excluded_dates(subscription, window_start, window_end, include_today)
        exclude = self.store.posted_stories(subscription.channel_id, since, before)
        return self._compose_with(subscription, window_start, window_end, exclude)

    async def compose_off_loop(
        self,
        subscription: Subscription,
        window_start: dt.datetime,
        window_end: dt.datetime,
        deadline: float,
        *,
        include_today: bool = False,
    ) -> Digest:
        """``compose``, reading the store through ``calls`` (retried until ``deadline``)."""
        since, before = self._excluded_dates(subscription, window_start, window_end, include_today)
        exclude = await self.calls.run_until(
            deadline, self.store.posted_stories, subscription.channel_id, since, before
        )
        return self._compose_with(subscription, window_start, window_end, exclude)

    async def window_start(
        self, channel_id: int, before: dt.date, window_end: dt.datetime, deadline: float
    ) -> dt.datetime:
        """Start of the window ending at ``window_end``: the previous delivered digest's
        scheduled instant, or 24 hours before ``window_end`` for a first digest."""
        previous = await self.calls.run_until(
            deadline, self.store.last_entry, channel_id, before=before, delivered=True
        )
        if previous is not None and previous.window_end is not None:
            return previous.window_end
        return window_end - dt.timedelta(hours=24)

    async def preview(self, subscription: Subscription, occurrence: Occurrence) -> Digest:
        """The digest ``subscription`` will post at ``occurrence`` if nothing changes
        before then: from its last delivered digest dated before that day (or the 24
        hours before it), minus the stories the channel already got — what the run at
        ``occurrence`` computes. Writes nothing; one attempt at each store read (raises
        ``StateError`` when the store cannot answer: an admin is waiting)."""
        deadline = time.monotonic()
        start = await self.window_start(
            subscription.channel_id, occurrence.day, occurrence.at, deadline
        )
        return await self.compose_off_loop(subscription, start, occurrence.at, deadline)


# --------------------------------------------------------------------------- posting


class DigestPosting:
    """Posts a claimed digest's parts, records each, and finishes its ledger row.

    ``owner`` is this process's owner string; ``retry_delays`` the waits in seconds
    before each retry of a transient Discord failure; ``concurrency`` bounds the channels
    posting at once; writes after a part was posted are retried for at least
    ``min_retry_seconds``; ``on_pause(channel_id)`` is called when a subscription is
    paused, and ``notices`` then tells its guild. ``poster`` is set once the bot is up."""

    def __init__(
        self,
        store: StateStore,
        calls: StateCalls,
        content: DigestContent,
        *,
        clock: Callable[[], dt.datetime],
        owner: str,
        retry_delays: Sequence[float] = (2.0, 8.0),
        concurrency: int = 8,
        min_retry_seconds: float = 300.0,
        on_pause: Callable[[int], None] = lambda channel_id: None,
        notices: PauseNotices | None = None,
    ) -> None:
        self.store = store
        self.calls = calls
        self.content = content
        self.notices = notices
        self.clock = clock
        self.owner = owner
        self.retry_delays = tuple(retry_delays)
        self.min_retry_seconds = min_retry_seconds
        self.on_pause = on_pause
        self.poster: Poster | None = None
        self._slots = asyncio.Semaphore(max(1, concurrency))

    def later(self, deadline: float) -> float:
        """A deadline for writes after a part was posted: never sooner than
        ``min_retry_seconds`` from now (a started digest is always completed)."""
        return max(deadline, time.monotonic() + self.min_retry_seconds)

    @property
    def _poster(self) -> Poster:
        if self.poster is None:
            raise RuntimeError("no poster yet: the scheduler is not started")
        return self.poster

    async def post(
        self,
        subscription: Subscription,
        entry: LedgerEntry,
        found: dict[int, int],
        deadline: float,
    ) -> str:
        """Post the parts of ``entry``'s digest not yet in the channel (``found``: part →
        message id already there), recording each; finish the row. Returns ``posted``,
        ``empty``, ``busy`` (taken over), ``paused``, ``failed`` or ``error`` (the store
        stayed unavailable: the row is left to recovery)."""
        channel_id, day = entry.channel_id, entry.digest_date
        posted = dict(enumerate(entry.message_ids, start=1)) | found
        async with self._slots:
            try:
                assert entry.window_end is not None
                window_start = entry.window_start or entry.window_end - dt.timedelta(hours=24)
                digest = await self.content.compose_off_loop(
                    subscription, window_start, entry.window_end, deadline
                )
                messages = self.content.render(subscription, digest)
                if not messages:
                    await self.calls.run_until(
                        deadline,
                        self.store.finish,
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
                for message in messages:
                    part = message.part
                    if part in posted:
                        continue
                    posted[part] = await self._send_part(
                        channel_id,
                        day,
                        message,
                        deadline,
                        first_part=posted.get(1),
                        publish=subscription.publish,
                    )
                    deadline = self.later(deadline)
                    recorded = await self.calls.run_until(
                        deadline,
                        self.store.record_messages,
                        channel_id,
                        day,
                        self.owner,
                        [posted[p] for p in sorted(posted)],
                        self.clock(),
                    )
                    if not recorded:
                        log.error(
                            "digest for channel %s on %s was taken over by another process; stop",
                            channel_id,
                            day,
                        )
                        return "busy"
                await self.calls.run_until(
                    deadline,
                    self.store.finish,
                    channel_id,
                    day,
                    self.owner,
                    "posted",
                    self.clock(),
                    stories=digest.stories,
                    message_ids=[posted[p] for p in sorted(posted)],
                )
            except DeliveryError as error:
                return await self.fail(subscription, entry, error, posted, deadline)
            except StateError as error:
                log.error(
                    "digest for channel %s on %s: the state store failed (%s); its ledger "
                    "row stays and recovery finishes it",
                    channel_id,
                    day,
                    error,
                )
                return "error"
            except Exception as error:  # one channel's bug must not stop the others
                log.exception("digest for channel %s on %s failed", channel_id, day)
                failure = DeliveryError("error", repr(error))
                return await self.fail(subscription, entry, failure, posted, deadline)
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

    async def fail(
        self,
        subscription: Subscription,
        entry: LedgerEntry,
        error: DeliveryError,
        posted: dict[int, int],
        deadline: float,
    ) -> str:
        """Close ``entry`` as ``failed`` with the error's reason (pausing the subscription
        for a permanent one). Returns ``paused``, ``failed`` or ``error`` (the store
        failed too)."""
        try:
            await self.calls.run_until(
                self.later(deadline),
                self.store.finish,
                entry.channel_id,
                entry.digest_date,
                self.owner,
                "failed",
                self.clock(),
                reason=error.reason,
                message_ids=[posted[p] for p in sorted(posted)],
            )
            if error.permanent:
                await self.pause(subscription.channel_id, error.reason, deadline)
                if self.notices is not None:
                    await self.notices.paused(subscription.channel_id)
        except StateError as store_error:
            log.error(
                "digest for channel %s on %s failed (%s) and the state store failed too (%s)",
                entry.channel_id,
                entry.digest_date,
                error,
                store_error,
            )
            return "error"
        if error.permanent:
            log.warning(
                "digest for channel %s (guild %s) paused: %s; it stays paused until an "
                "admin runs /digest resume",
                entry.channel_id,
                subscription.guild_id,
                error,
            )
            return "paused"
        log.error(
            "digest for channel %s on %s failed: %s", entry.channel_id, entry.digest_date, error
        )
        return "failed"

    async def pause(self, channel_id: int, reason: str, deadline: float | None = None) -> None:
        """Pause a subscription with a reason code and remove its job."""
        await self.calls.run_until(
            deadline or time.monotonic() + self.min_retry_seconds,
            self.store.set_state,
            channel_id,
            "paused",
            reason,
            self.clock(),
        )
        self.on_pause(channel_id)

    async def _send_part(
        self,
        channel_id: int,
        day: dt.date,
        message: DigestMessage,
        deadline: float,
        *,
        first_part: int | None,
        publish: bool,
    ) -> int:
        """Send one part. A 429 is sent again after its ``retry_after`` until
        ``deadline``; another transient failure gets the bounded retry of
        ``retry_delays``, each after looking for the part in the channel in case the
        failed attempt reached Discord."""
        part = message.part
        nonce = _nonce(channel_id, day, part)
        attempt = 0
        while True:
            try:
                return await self._poster.send(
                    channel_id, message, nonce=nonce, first_part=first_part, publish=publish
                )
            except DeliveryError as error:
                if error.retry_after is not None:  # not processed by Discord: send again
                    wait = max(0.0, error.retry_after)
                    if time.monotonic() + wait > deadline:
                        raise
                    log.info(
                        "digest part %d for channel %s rate limited; again in %.2f s",
                        part,
                        channel_id,
                        wait,
                    )
                    await asyncio.sleep(wait)
                    continue
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
                landed, _ = await self.find_parts(channel_id, day)
            except DeliveryError as error:
                if error.permanent:
                    raise
                landed = {}
            if part in landed:
                return landed[part]

    async def post_test(self, subscription: Subscription, digest: Digest, note: str) -> list[int]:
        """Post ``digest`` in ``subscription``'s channel as a test (``as_test_post``: no
        mention, no marker a run could take for a digest, never published, nothing
        recorded). Returns the message ids. Raises ``DeliveryError`` (nothing is paused:
        the admin who asked is told)."""
        messages = as_test_post(self.content.render(subscription, digest), note)
        if not messages:
            messages = as_test_post(
                render_digest_messages(dataclasses.replace(digest, post_empty=True)), note
            )
        posted: list[int] = []
        for message in messages:
            nonce = secrets.randbits(62)
            first = posted[0] if posted else None
            posted.append(
                await self._poster.send(
                    subscription.channel_id, message, nonce=nonce, first_part=first
                )
            )
        return posted

    async def find_parts(self, channel_id: int, day: dt.date) -> tuple[dict[int, int], int]:
        """Parts of the digest dated ``day`` already in the channel (part → message id,
        from the markers of the bot's recent messages) and the part count they state (0
        when none was found). Raises ``DeliveryError``."""
        found: dict[int, int] = {}
        total = 0
        for message_id, content in await self._poster.own_messages(channel_id, HISTORY_LIMIT):
            marker = parse_marker(content)
            if marker is not None and marker.digest_date == day:
                found.setdefault(marker.part, message_id)
                total = max(total, marker.total)
        return found, total


# --------------------------------------------------------------------------- delivery


class DigestDelivery:
    """The exactly-once protocol for one process (see the module docstring): claims,
    in-flight keys, recovery, over ``DigestContent``, ``DigestPosting`` and this
    process's ``ProcessLease``.

    ``store`` holds subscriptions and the ledger, reached through ``calls``; ``clock``
    gives "now" (aware, UTC); ``identity`` is this process. ``retry_delays``,
    ``concurrency`` and ``on_pause`` go to ``DigestPosting``; ``lease_seconds`` and
    ``watch_seconds`` to ``ProcessLease``; ``min_retry_seconds`` is the least time store
    calls of a run are retried.
    """

    def __init__(
        self,
        settings: Settings,
        service: NewsService,
        store: StateStore,
        calls: StateCalls,
        *,
        clock: Callable[[], dt.datetime],
        identity: ProcessIdentity,
        retry_delays: Sequence[float] = (2.0, 8.0),
        concurrency: int = 8,
        lease_seconds: float = 90.0,
        watch_seconds: float | None = None,
        min_retry_seconds: float = 300.0,
        on_pause: Callable[[int], None] = lambda channel_id: None,
    ) -> None:
        self.store = store
        self.calls = calls
        self.clock = clock
        self.grace = dt.timedelta(seconds=settings.misfire_grace_seconds)
        self.min_retry_seconds = min_retry_seconds
        self.lease = ProcessLease(
            store,
            calls,
            identity,
            lease_seconds=lease_seconds,
            watch_seconds=watch_seconds,
            register_seconds=min_retry_seconds,
        )
        self.content = DigestContent(service, store, calls)
        self.notices = PauseNotices(store, calls, service.persona, clock=clock)
        self.posting = DigestPosting(
            store,
            calls,
            self.content,
            clock=clock,
            owner=identity.owner,
            retry_delays=retry_delays,
            concurrency=concurrency,
            min_retry_seconds=min_retry_seconds,
            on_pause=on_pause,
            notices=self.notices,
        )
        self._in_flight: set[tuple[int, dt.date]] = set()

    @property
    def owner(self) -> str:
        """This process's owner string."""
        return self.lease.owner

    @property
    def identity(self) -> ProcessIdentity:
        """This process."""
        return self.lease.identity

    def deadline(self, at: dt.datetime, now: dt.datetime) -> float:
        """``run_deadline`` for the occurrence at ``at`` with this delivery's grace."""
        return run_deadline(at, now, self.grace, self.min_retry_seconds)

    async def deliver(
        self, subscription: Subscription, occurrence: Occurrence, now: dt.datetime
    ) -> str:
        """Serve one occurrence of ``subscription``: claim and post it within the grace
        time; past it, record it missed, or finish a started digest. Returns the outcome
        (see ``DigestScheduler.run_due``)."""
        key = (subscription.channel_id, occurrence.day)
        if key in self._in_flight:
            return "busy"
        self._in_flight.add(key)
        try:
            deadline = self.deadline(occurrence.at, now)
            if now - occurrence.at <= self.grace:
                return await self._claim_and_post(subscription, occurrence, now, deadline)
            existing = await self.calls.run_until(
                deadline, self.store.entry, subscription.channel_id, occurrence.day
            )
            if existing is None:
                await self.record_missed(subscription, occurrence, deadline)
                return "missed"
            if existing.status == "intent":  # a partly posted digest is completed even late
                return await self._resolve_intent(existing, now, deadline)
            return "done"
        finally:
            self._in_flight.discard(key)

    async def _claim_and_post(
        self,
        subscription: Subscription,
        occurrence: Occurrence,
        now: dt.datetime,
        deadline: float,
    ) -> str:
        window_start = await self.content.window_start(
            subscription.channel_id, occurrence.day, occurrence.at, deadline
        )
        claim_args: dict[str, Any] = {
            "channel_id": subscription.channel_id,
            "guild_id": subscription.guild_id,
            "digest_date": occurrence.day,
            "owner": self.owner,
            "window_start": window_start,
            "window_end": occurrence.at,
            "now": now,
        }
        claim = await self.calls.run_until(deadline, self.store.claim, **claim_args)
        entry = claim.entry
        if not claim.claimed and entry.status == "failed" and entry.attempts < MAX_DAY_ATTEMPTS:
            claim = await self.calls.run_until(
                deadline, self.store.claim, **claim_args, retry_failed=True
            )
        if claim.claimed:
            return await self.posting.post(subscription, claim.entry, {}, deadline)
        if entry.status == "intent":
            return await self._resolve_intent(entry, now, deadline)
        log.debug(
            "digest for channel %s on %s already %s",
            entry.channel_id,
            entry.digest_date,
            entry.status,
        )
        return "done"

    async def _resolve_intent(self, entry: LedgerEntry, now: dt.datetime, deadline: float) -> str:
        """An ``intent`` row met by a run that holds its key: this process's own (a claim
        whose answer was lost, or a row left when the store failed) is resumed; another
        live owner's is left to it; a dead owner's is recovered."""
        if entry.owner != self.owner and await self.lease.alive(entry, now, deadline):
            log.info(
                "digest for channel %s on %s is being posted by %s",
                entry.channel_id,
                entry.digest_date,
                entry.owner,
            )
            return "busy"
        return await self._recover_entry(entry, now, deadline)

    async def record_missed(
        self, subscription: Subscription, occurrence: Occurrence, deadline: float | None = None
    ) -> None:
        """Record the occurrence as ``skipped``/``missed`` (past the grace time) and log it
        (once: nothing is written when the date already has a row)."""
        now = self.clock()
        written = await self.calls.run_until(
            deadline or self.deadline(occurrence.at, now),
            self.store.record_skipped,
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

    # -- recovery -----------------------------------------------------------------------

    async def recover(self, owns: Callable[[int], bool]) -> dict[tuple[int, dt.date], str]:
        """Resolve every ``intent`` row of the guilds ``owns`` accepts that no live run
        is working on: a dead owner's, or this process's own left behind (see the module
        docstring). Returns (channel id, date) → outcome. Raises ``StateError`` when the
        ledger cannot be read for ``min_retry_seconds``."""
        now = self.clock()
        entries = await self.calls.run_until(
            time.monotonic() + self.min_retry_seconds, self.store.entries, status="intent"
        )
        outcomes: dict[tuple[int, dt.date], str] = {}
        for entry in entries:
            key = (entry.channel_id, entry.digest_date)
            if not owns(entry.guild_id) or key in self._in_flight:
                continue
            deadline = self.deadline(entry.window_end or now, now)
            try:
                if entry.owner != self.owner and await self.lease.alive(entry, now, deadline):
                    continue
                if key in self._in_flight:  # a run took it up meanwhile
                    continue
                self._in_flight.add(key)
                try:
                    outcome = await self._recover_entry(entry, now, deadline)
                finally:
                    self._in_flight.discard(key)
            except Exception:
                log.exception(
                    "recovering channel %s on %s failed", entry.channel_id, entry.digest_date
                )
                outcome = "error"
            outcomes[key] = outcome
        return outcomes

    async def _take(self, entry: LedgerEntry, now: dt.datetime, deadline: float) -> bool:
        """Make ``entry`` this process's (a fenced takeover unless it already is)."""
        if entry.owner == self.owner:
            return True
        return await self.calls.run_until(
            deadline,
            self.store.take_over,
            entry.channel_id,
            entry.digest_date,
            entry.owner,
            self.owner,
            now,
        )

    async def _finish(
        self, entry: LedgerEntry, status: str, now: dt.datetime, deadline: float, **fields: Any
    ) -> None:
        await self.calls.run_until(
            deadline,
            self.store.finish,
            entry.channel_id,
            entry.digest_date,
            self.owner,
            status,
            now,
            **fields,
        )

    async def _recover_entry(self, entry: LedgerEntry, now: dt.datetime, deadline: float) -> str:
        channel_id, day = entry.channel_id, entry.digest_date
        subscription = await self.calls.run_until(deadline, self.store.get_subscription, channel_id)
        try:
            found, total = await self.posting.find_parts(channel_id, day)
        except DeliveryError as error:
            if not error.permanent:
                log.warning(
                    "cannot check channel %s for the digest of %s yet: %s", channel_id, day, error
                )
                return "busy"  # the row stays; the next recovery pass tries again
            if not await self._take(entry, now, deadline):
                return "busy"
            if subscription is not None:
                return await self.posting.fail(subscription, entry, error, {}, deadline)
            await self._finish(entry, "failed", now, deadline, reason=error.reason)
            return "inactive"
        if not await self._take(entry, now, deadline):
            return "busy"
        current = await self.calls.run_until(deadline, self.store.entry, channel_id, day)
        entry = current or entry
        if found and set(found) >= set(range(1, total + 1)):
            stories: tuple[str, ...] = ()
            if subscription is not None and entry.window_end is not None:
                start = entry.window_start or entry.window_end - dt.timedelta(hours=24)
                digest = await self.content.compose_off_loop(
                    subscription, start, entry.window_end, deadline
                )
                stories = digest.stories
            message_ids = [found[p] for p in sorted(found)]
            later = self.posting.later(deadline)
            await self._finish(
                entry, "posted", now, later, stories=stories, message_ids=message_ids
            )
            log.info(
                "digest for channel %s on %s was already in the channel; ledger completed",
                channel_id,
                day,
            )
            return "recovered"
        if subscription is None or not subscription.active:
            reason = "unsubscribed" if subscription is None else "paused"
            await self._finish(entry, "failed", now, deadline, reason=reason)
            return "inactive"
        window_end = entry.window_end or now
        if not found and not entry.message_ids and now - window_end > self.grace:
            await self._finish(entry, "skipped", now, deadline, reason="missed")
            log.warning(
                "digest for channel %s on %s was never posted and is past the grace time; skipped",
                channel_id,
                day,
            )
            return "missed"
        log.info("digest for channel %s on %s was interrupted; posting it now", channel_id, day)
        return await self.posting.post(subscription, entry, found, self.posting.later(deadline))
