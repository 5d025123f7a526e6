"""What the ``/digest`` subcommands mean: ``DigestAdmin`` (bot/admin.py) over the
state store and the digest scheduler.

Input is validated here and every answer is a ``Reply`` in technyan's voice, in the
admin's language (never an exception for bad input):

* ``time``: ``HH:MM`` or ``H:MM`` (full-width digits and colon accepted), 00:00–23:59;
* ``timezone``: an IANA name known to ``zoneinfo`` (case-insensitive; default
  ``digest.default_timezone``);
* ``locale``: ``ja`` or ``en`` (default: the admin's language);
* ``max_items``: 1–10 (default 5); ``post_empty``: default off (a day without news posts
  nothing), or the subscription's current value.

Every state store call runs off the event loop (``StateCalls``, one attempt: an admin is
waiting). When the store cannot answer — a lock held past its timeout, a lost connection,
a damaged file — the admin is told in technyan's voice that nothing could be confirmed
(``state_unavailable``) or that the operator must restore a backup (``state_damaged``);
a change that did not commit is never answered as done.

Subscriptions declared in config.toml belong to the operator: subscribe and unsubscribe
refuse to change them (resume works, since pausing is a runtime state). Subscribing a
channel again replaces its settings and makes it active. Unsubscribing keeps the ledger,
so a channel unsubscribed and subscribed again on the same day does not get that day's
digest twice. Who may use them is the Discord adapter's business (``/digest`` defaults to
Manage Server, and Discord enforces it).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import unicodedata
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from bot.persona import reply_locale
from bot.replies import Reply
from bot.schedule import DigestScheduler
from bot.state import StateDamaged, StateError, Subscription

__all__ = ["MAX_ITEMS_RANGE", "DigestAdminService", "parse_time", "resolve_timezone"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

MAX_ITEMS_RANGE = (1, 10)
DEFAULT_MAX_ITEMS = 5
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")


def parse_time(text: str | None) -> str | None:
    """``text`` as a local time ``HH:MM`` (``9:05``, ``09:05`` and full-width ``０９：０５``
    accepted), or None when it is not a time of day."""
    normalized = unicodedata.normalize("NFKC", text or "").strip()
    match = _TIME_RE.fullmatch(normalized)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


@functools.cache
def _zones_by_key() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def resolve_timezone(name: str | None) -> str | None:
    """The canonical IANA name for ``name`` (exact, else case-insensitive), or None."""
    wanted = unicodedata.normalize("NFKC", name or "").strip()
    if not wanted:
        return None
    try:
        zoneinfo.ZoneInfo(wanted)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return _zones_by_key().get(wanted.casefold())
    return wanted


def _digest_locale(value: str | None, fallback: str) -> str | None:
    """``ja``/``en`` (``ja-JP``, ``en-US`` … accepted), ``fallback`` for None, else None."""
    if value is None or not value.strip():
        return fallback
    key = value.strip().casefold()
    if key == "ja" or key.startswith("ja-"):
        return "ja"
    if key == "en" or key.startswith("en-"):
        return "en"
    return None


def _channel(channel_id: int) -> str:
    return f"<#{channel_id}>"


class DigestAdminService:
    """``DigestAdmin`` over ``scheduler`` (its store, service, settings and clock). The
    scheduler need not be started: before ``start`` (or in tests) next runs are computed
    from the subscription's ``CronTrigger`` and no job is touched."""

    def __init__(self, scheduler: DigestScheduler) -> None:
        self.scheduler = scheduler
        self.store = scheduler.store
        self.calls = scheduler.calls
        self.settings = scheduler.settings
        self.persona = scheduler.service.persona

    async def _db(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """One store call off the event loop (raises ``StateError``)."""
        return await self.calls.run(call, *args, **kwargs)

    async def _answer(self, speak: str, work: Awaitable[Reply]) -> Reply:
        """``work``'s reply, or technyan's explanation when the state store failed."""
        try:
            return await work
        except StateDamaged as error:
            log.error("admin command: the state store is damaged: %s", error)
            return self._reply(speak, self._say("state_damaged", speak))
        except StateError as error:
            log.warning("admin command: the state store did not answer: %s", error)
            return self._reply(speak, self._say("state_unavailable", speak))

    def _say(self, key: str, speak: str, seed: object = "", **values: object) -> str:
        return self.persona.say(key, speak, seed=str(seed), **values)

    def _reply(self, locale: str, header: str, footer: str = "") -> Reply:
        return Reply("admin", locale, header, footer=footer)

    @staticmethod
    def _local(instant: dt.datetime | None, zone: str) -> str | None:
        if instant is None:
            return None
        return instant.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")

    def _reason(self, code: str | None, locale: str) -> str:
        key = f"reason_{code}"
        if code and key in self.persona.lines["ja"]:
            return self._say(key, locale)
        return self._say("reason_other", locale, reason=code or "?")

    # -- DigestAdmin ----------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        guild_id: int,
        channel_id: int,
        time: str,
        timezone: str | None,
        locale: str | None,
        max_items: int | None,
        post_empty: bool | None,
        user_locale: str,
    ) -> Reply:
        """Subscribe (or re-subscribe) ``channel_id``; see the module docstring."""
        speak = reply_locale(user_locale, self.settings.default_locale)
        return await self._answer(
            speak,
            self._subscribe(
                speak, guild_id, channel_id, time, timezone, locale, max_items, post_empty
            ),
        )

    async def _subscribe(
        self,
        speak: str,
        guild_id: int,
        channel_id: int,
        time: str,
        timezone: str | None,
        locale: str | None,
        max_items: int | None,
        post_empty: bool | None,
    ) -> Reply:
        channel = _channel(channel_id)
        hhmm = parse_time(time)
        if hhmm is None:
            return self._reply(speak, self._say("invalid_time", speak, time, time=time))
        zone = resolve_timezone(timezone or self.settings.default_timezone)
        if zone is None:
            shown = timezone or self.settings.default_timezone
            return self._reply(speak, self._say("invalid_timezone", speak, shown, timezone=shown))
        digest_locale = _digest_locale(locale, speak)
        if digest_locale is None:
            return self._reply(speak, self._say("invalid_locale", speak, locale, value=locale))
        items = DEFAULT_MAX_ITEMS if max_items is None else max_items
        if not MAX_ITEMS_RANGE[0] <= items <= MAX_ITEMS_RANGE[1]:
            return self._reply(speak, self._say("invalid_max_items", speak, items, max_items=items))
        existing = await self._db(self.store.get_subscription, channel_id)
        if existing is not None and existing.source == "config":
            return self._reply(
                speak, self._say("config_managed", speak, channel_id, channel=channel)
            )
        now = self.scheduler.clock()
        subscription = await self._db(
            self.store.save_subscription,
            Subscription(
                guild_id=guild_id,
                channel_id=channel_id,
                time=hhmm,
                timezone=zone,
                locale=digest_locale,
                max_items=items,
                post_empty=(
                    post_empty
                    if post_empty is not None
                    else (existing.post_empty if existing is not None else False)
                ),
                source="command",
            ),
            now,
        )
        self.scheduler.schedule(subscription)
        header = self._say(
            "subscribed", speak, channel_id, channel=channel, time=hhmm, timezone=zone
        )
        next_run = self._local(self.scheduler.next_run(subscription), zone)
        if next_run:
            header += "\n" + self._say("next_run_line", speak, channel_id, next_run=next_run)
        return self._reply(speak, header)

    async def unsubscribe(
        self, *, guild_id: int, channel_id: int | None, user_locale: str
    ) -> Reply:
        """Remove one subscription of the guild, or (``channel_id`` None) every one made
        with the command."""
        speak = reply_locale(user_locale, self.settings.default_locale)
        return await self._answer(speak, self._unsubscribe(speak, guild_id, channel_id))

    async def _unsubscribe(self, speak: str, guild_id: int, channel_id: int | None) -> Reply:
        if channel_id is None:
            listed = await self._db(self.store.list_subscriptions, guild_id)
            removable = [s for s in listed if s.source == "command"]
            if not removable:
                return self._reply(speak, self._say("no_subscriptions", speak, guild_id))
            for removed in removable:
                await self._db(self.store.delete_subscription, removed.channel_id)
                self.scheduler.unschedule(removed.channel_id)
            count = len(removable)
            return self._reply(speak, self._say("unsubscribed_all", speak, guild_id, count=count))
        channel = _channel(channel_id)
        subscription = await self._db(self.store.get_subscription, channel_id)
        if subscription is None or subscription.guild_id != guild_id:
            return self._reply(
                speak, self._say("not_subscribed", speak, channel_id, channel=channel)
            )
        if subscription.source == "config":
            return self._reply(
                speak, self._say("config_managed", speak, channel_id, channel=channel)
            )
        await self._db(self.store.delete_subscription, channel_id)
        self.scheduler.unschedule(channel_id)
        return self._reply(speak, self._say("unsubscribed", speak, channel_id, channel=channel))

    async def subscriptions(self, *, guild_id: int, user_locale: str) -> Reply:
        """The guild's subscriptions, one line each: time, zone, language, size, next run,
        last post and state (active, or paused with the reason); the first paused one is
        explained below the list."""
        speak = reply_locale(user_locale, self.settings.default_locale)
        return await self._answer(speak, self._subscriptions(speak, guild_id))

    async def _subscriptions(self, speak: str, guild_id: int) -> Reply:
        subscriptions = await self._db(self.store.list_subscriptions, guild_id)
        if not subscriptions:
            return self._reply(speak, self._say("no_subscriptions", speak, guild_id))
        lines = [self._say("subscriptions_header", speak, guild_id, count=len(subscriptions))]
        footer = ""
        for subscription in subscriptions:
            zone = subscription.timezone
            last = await self._db(
                self.store.last_entry, subscription.channel_id, statuses=["posted"]
            )
            if subscription.active:
                state = self._say("state_active", speak)
            else:
                reason = self._reason(subscription.paused_reason, speak)
                state = self._say("state_paused", speak, reason=reason)
                footer = footer or self._say(
                    "paused",
                    speak,
                    subscription.channel_id,
                    channel=_channel(subscription.channel_id),
                    reason=reason,
                )
            lines.append(
                self._say(
                    "subscription_line",
                    speak,
                    channel=_channel(subscription.channel_id),
                    time=subscription.time,
                    timezone=zone,
                    language=self._say(f"language_{subscription.locale}", speak),
                    max_items=subscription.max_items,
                    next_run=self._local(self.scheduler.next_run(subscription), zone)
                    or self._say("no_next_run", speak),
                    last_post=self._local(last.updated_at if last else None, zone)
                    or self._say("never_posted", speak),
                    state=state,
                )
            )
        return self._reply(speak, "\n".join(lines), footer)

    async def preview(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """The digest the channel's subscription would post now (new since its last
        digest), or with default settings in the admin's language when the channel has
        none. Posts and records nothing."""
        speak = reply_locale(user_locale, self.settings.default_locale)
        return await self._answer(speak, self._preview(speak, guild_id, channel_id))

    async def _preview(self, speak: str, guild_id: int, channel_id: int) -> Reply:
        now = self.scheduler.clock()
        subscription = await self._db(self.store.get_subscription, channel_id)
        if subscription is None or subscription.guild_id != guild_id:
            zone = resolve_timezone(self.settings.default_timezone) or "UTC"
            subscription = Subscription(
                guild_id=guild_id,
                channel_id=channel_id,
                time=now.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%H:%M"),
                timezone=zone,
                locale=speak,
                max_items=DEFAULT_MAX_ITEMS,
                post_empty=True,
            )
        digest = await self.scheduler.preview(subscription, now)
        note = self._say("digest_preview_note", digest.locale, channel_id)
        return digest.reply(footer_note=note)

    async def resume(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """Reactivate a paused subscription, schedule it again and (in the background)
        post today's digest if it failed and is still within the grace time."""
        speak = reply_locale(user_locale, self.settings.default_locale)
        return await self._answer(speak, self._resume(speak, guild_id, channel_id))

    async def _resume(self, speak: str, guild_id: int, channel_id: int) -> Reply:
        channel = _channel(channel_id)
        subscription = await self._db(self.store.get_subscription, channel_id)
        if subscription is None or subscription.guild_id != guild_id:
            return self._reply(
                speak, self._say("not_subscribed", speak, channel_id, channel=channel)
            )
        if subscription.active:
            return self._reply(
                speak, self._say("already_active", speak, channel_id, channel=channel)
            )
        resumed = await self._db(
            self.store.set_state, channel_id, "active", None, self.scheduler.clock()
        )
        if resumed is not None:
            self.scheduler.schedule(resumed)
            if self.scheduler.running:
                self.scheduler.spawn(self.scheduler.catch_up([channel_id]))
        return self._reply(speak, self._say("resumed", speak, channel_id, channel=channel))
