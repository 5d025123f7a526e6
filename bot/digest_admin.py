"""What the ``/digest`` subcommands mean: ``DigestAdmin`` (bot/admin.py) over the
state store and the digest scheduler.

Input is validated by ``SubscriptionForm`` (bot/digest_options.py: time, zone, locale,
size, categories, keywords, role, publishing, and the target channel), and every answer is
in technyan's voice, in the admin's language (never an exception for bad input). A new
subscription defaults to ``digest.default_timezone``, the admin's language, five stories,
nothing on a day without news, no filter and no role.

Before anything is stored, the Discord adapter's ``ChannelCheck`` must say the bot can
post there: a missing permission (View Channel, Send Messages or Create Posts, Send
Messages in Threads, Embed Links, Read Message History) is named, with where to grant it.
A subscription made or changed is answered with kind ``subscribed``, which offers "post a
test digest now" (``post_test``: the next digest, posted at once with a test marker,
never counted as that day's delivery). Times are Discord timestamps (``<t:…:F>``,
``<t:…:R>``), so every reader sees their own zone; "next delivery" and the preview name
the same run (``bot.schedule.next_occurrence``).

Every state store call runs off the event loop (``StateCalls``, one attempt: an admin is
waiting). When the store cannot answer — a lock held past its timeout, a lost connection,
a damaged file — the admin is told in technyan's voice that nothing could be confirmed
(``state_unavailable``) or that the operator must restore a backup (``state_damaged``);
a change that did not commit is never answered as done.

Subscriptions declared in config.toml belong to the operator: subscribe, edit and
unsubscribe refuse to change them (resume works, since pausing is a runtime state).
Subscribing a channel again replaces its settings and makes it active; editing changes
only what is given and keeps its state. Neither touches the ledger (nor does
unsubscribing), so a channel never gets one day's digest twice. Who may use them is the
Discord adapter's business (``/digest`` defaults to Manage Server, and Discord enforces
it).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from bot.admin import ChannelCheck, DigestOptions, DigestPreview
from bot.digest import format_date
from bot.digest_delivery import DeliveryError, Occurrence
from bot.digest_notices import fix_text, reason_text
from bot.digest_options import DEFAULT_MAX_ITEMS, Refused, SubscriptionForm, resolve_timezone
from bot.persona import reply_locale
from bot.replies import Reply
from bot.schedule import DigestScheduler, next_occurrence, scheduled_at_or_before
from bot.state import StateDamaged, StateError, Subscription

__all__ = ["DigestAdminService", "discord_timestamp"]

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def discord_timestamp(instant: dt.datetime) -> str:
    """``instant`` as Discord timestamps, full and relative (``<t:…:F> (<t:…:R>)``):
    every reader's client shows it in their own zone and language
    (docs/reference#message-formatting-timestamp-styles)."""
    seconds = int(instant.timestamp())
    return f"<t:{seconds}:F> (<t:{seconds}:R>)"


def _channel(channel_id: int) -> str:
    return f"<#{channel_id}>"


class DigestAdminService:
    """``DigestAdmin`` over ``scheduler`` (its store, service, settings and clock). The
    scheduler need not be started: before ``start`` (or in tests) next runs are computed
    from the subscription's ``CronTrigger`` and no job is touched; a test post needs it
    started (its poster)."""

    def __init__(self, scheduler: DigestScheduler) -> None:
        self.scheduler = scheduler
        self.store = scheduler.store
        self.calls = scheduler.calls
        self.settings = scheduler.settings
        self.service = scheduler.service
        self.persona = scheduler.service.persona
        self.form = SubscriptionForm(scheduler.service, self.persona)

    async def _db(self, call: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """One store call off the event loop (raises ``StateError``)."""
        return await self.calls.run(call, *args, **kwargs)

    async def _attempt(self, speak: str, work: Awaitable[T]) -> T | str:
        """``work``'s result, or technyan's explanation of refused input or of a state
        store that failed."""
        try:
            return await work
        except Refused as refused:
            return refused.text
        except StateDamaged as error:
            log.error("admin command: the state store is damaged: %s", error)
            return self._say("state_damaged", speak)
        except StateError as error:
            log.warning("admin command: the state store did not answer: %s", error)
            return self._say("state_unavailable", speak)

    async def _answer(self, speak: str, work: Awaitable[Reply]) -> Reply:
        """``work``'s reply, or ``_attempt``'s explanation as one."""
        result = await self._attempt(speak, work)
        return self._reply(speak, result) if isinstance(result, str) else result

    def _say(self, key: str, speak: str, seed: object = "", **values: object) -> str:
        return self.persona.say(key, speak, seed=str(seed), **values)

    def _reply(self, locale: str, header: str, footer: str = "", kind: str = "admin") -> Reply:
        return Reply(kind, locale, header, footer=footer)

    def _speak(self, user_locale: str) -> str:
        return reply_locale(user_locale, self.settings.default_locale)

    # -- words --------------------------------------------------------------------------

    def _filters(self, subscription: Subscription, speak: str) -> str:
        """The settings beyond time, language and size, as ``・…`` (empty: none)."""
        separator = "、" if speak == "ja" else ", "
        pieces = []
        if subscription.categories:
            categories = separator.join(subscription.categories)
            pieces.append(self._say("filter_categories", speak, categories=categories))
        if subscription.include_keywords:
            keywords = separator.join(subscription.include_keywords)
            pieces.append(self._say("filter_include", speak, keywords=keywords))
        if subscription.exclude_keywords:
            keywords = separator.join(subscription.exclude_keywords)
            pieces.append(self._say("filter_exclude", speak, keywords=keywords))
        if subscription.role_id:
            pieces.append(self._say("filter_role", speak, role=f"<@&{subscription.role_id}>"))
        if subscription.publish:
            pieces.append(self._say("filter_publish", speak))
        if subscription.post_empty:
            pieces.append(self._say("filter_post_empty", speak))
        joiner = "・" if speak == "ja" else " · "
        return "".join(joiner + piece for piece in pieces)

    def _next_delivery(self, subscription: Subscription) -> Occurrence | None:
        return next_occurrence(subscription, self.scheduler.clock())

    def _saved_reply(self, speak: str, key: str, subscription: Subscription) -> Reply:
        channel = _channel(subscription.channel_id)
        lines = [
            self._say(
                key,
                speak,
                subscription.channel_id,
                channel=channel,
                time=subscription.time,
                timezone=subscription.timezone,
            )
        ]
        language = self._say(f"language_{subscription.locale}", speak)
        lines.append(
            self._say(
                "settings_line",
                speak,
                language=language,
                max_items=subscription.max_items,
                filters=self._filters(subscription, speak),
            )
        )
        occurrence = self._next_delivery(subscription) if subscription.active else None
        if occurrence is not None:
            when = discord_timestamp(occurrence.at)
            lines.append(self._say("next_run_line", speak, subscription.channel_id, next_run=when))
        elif not subscription.active:
            reason = reason_text(self.persona, subscription.paused_reason, speak)
            lines.append(
                self._say("paused", speak, subscription.channel_id, channel=channel, reason=reason)
            )
        lines.append(self._say("offer_test", speak, subscription.channel_id, channel=channel))
        return self._reply(speak, "\n".join(lines), kind="subscribed")

    # -- DigestAdmin ----------------------------------------------------------------------

    async def subscribe(
        self,
        *,
        guild_id: int,
        channel_id: int,
        options: DigestOptions,
        check: ChannelCheck,
        user_id: int,
        user_locale: str,
    ) -> Reply:
        """Subscribe (or re-subscribe) ``channel_id``; see the module docstring."""
        speak = self._speak(user_locale)
        return await self._answer(
            speak, self._subscribe(speak, guild_id, channel_id, options, check, user_id)
        )

    async def _subscribe(
        self,
        speak: str,
        guild_id: int,
        channel_id: int,
        options: DigestOptions,
        check: ChannelCheck,
        user_id: int,
    ) -> Reply:
        channel = _channel(channel_id)
        if options.time is None:
            raise Refused(self._say("invalid_time", speak, "", time=""))
        default_zone = self.settings.default_timezone
        base = Subscription(
            guild_id=guild_id,
            channel_id=channel_id,
            time="00:00",
            timezone=resolve_timezone(default_zone) or default_zone,
            locale=speak,
            max_items=DEFAULT_MAX_ITEMS,
            post_empty=False,
            source="command",
            subscribed_by=user_id,
        )
        if options.timezone is None and resolve_timezone(default_zone) is None:
            raise Refused(self._say("invalid_timezone", speak, default_zone, timezone=default_zone))
        subscription = await self.form.apply(speak, base, options, check)
        existing = await self._db(self.store.get_subscription, channel_id)
        if existing is not None and existing.source == "config":
            raise Refused(self._say("config_managed", speak, channel_id, channel=channel))
        saved = await self._db(self.store.save_subscription, subscription, self.scheduler.clock())
        self.scheduler.schedule(saved)
        return self._saved_reply(speak, "subscribed", saved)

    async def edit(
        self,
        *,
        guild_id: int,
        channel_id: int,
        options: DigestOptions,
        check: ChannelCheck,
        user_locale: str,
    ) -> Reply:
        """Change the given settings of a subscription, keeping its state and ledger."""
        speak = self._speak(user_locale)
        return await self._answer(speak, self._edit(speak, guild_id, channel_id, options, check))

    async def _edit(
        self,
        speak: str,
        guild_id: int,
        channel_id: int,
        options: DigestOptions,
        check: ChannelCheck,
    ) -> Reply:
        channel = _channel(channel_id)
        existing = await self._db(self.store.get_subscription, channel_id)
        if existing is None or existing.guild_id != guild_id:
            raise Refused(self._say("not_subscribed", speak, channel_id, channel=channel))
        if existing.source == "config":
            raise Refused(self._say("config_managed", speak, channel_id, channel=channel))
        changed = await self.form.apply(speak, existing, options, check)
        saved = await self._db(
            self.store.save_subscription, changed, self.scheduler.clock(), keep_state=True
        )
        self.scheduler.schedule(saved)
        return self._saved_reply(speak, "edited", saved)

    async def unsubscribe(
        self, *, guild_id: int, channel_id: int | None, user_locale: str
    ) -> Reply:
        """Remove one subscription of the guild, or (``channel_id`` None) every one made
        with the command."""
        speak = self._speak(user_locale)
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
        """The guild's subscriptions, one entry each: time, zone, language, size, filters,
        next and last delivery (Discord timestamps) and state (active, or paused with the
        reason); the first paused one is explained below the list, with its fix."""
        speak = self._speak(user_locale)
        return await self._answer(speak, self._subscriptions(speak, guild_id))

    async def _subscriptions(self, speak: str, guild_id: int) -> Reply:
        subscriptions = await self._db(self.store.list_subscriptions, guild_id)
        if not subscriptions:
            return self._reply(speak, self._say("no_subscriptions", speak, guild_id))
        lines = [self._say("subscriptions_header", speak, guild_id, count=len(subscriptions))]
        footer = ""
        for subscription in subscriptions:
            channel = _channel(subscription.channel_id)
            last = await self._db(
                self.store.last_entry, subscription.channel_id, statuses=["posted"]
            )
            occurrence = self._next_delivery(subscription) if subscription.active else None
            if subscription.active:
                state = self._say("state_active", speak)
            else:
                reason = reason_text(self.persona, subscription.paused_reason, speak)
                state = self._say("state_paused", speak, reason=reason)
                fix = fix_text(self.persona, subscription.paused_reason, speak, channel)
                footer = footer or self._say(
                    "paused", speak, subscription.channel_id, channel=channel, reason=reason
                ) + ("\n" + fix if fix else "")
            lines.append(
                self._say(
                    "subscription_line",
                    speak,
                    channel=channel,
                    time=subscription.time,
                    timezone=subscription.timezone,
                    language=self._say(f"language_{subscription.locale}", speak),
                    max_items=subscription.max_items,
                    filters=self._filters(subscription, speak),
                    next_run=discord_timestamp(occurrence.at)
                    if occurrence
                    else self._say("no_next_run", speak),
                    last_post=discord_timestamp(last.updated_at)
                    if last and last.updated_at
                    else self._say("never_posted", speak),
                    state=state,
                )
            )
        return self._reply(speak, "\n".join(lines), footer)

    async def _preview_digest(
        self, speak: str, guild_id: int, channel_id: int
    ) -> tuple[Subscription, Occurrence, bool]:
        """The subscription a preview or test shows (a default one, as of now, when the
        channel has none; ``True`` when it is the channel's own) and the run it shows."""
        now = self.scheduler.clock()
        subscription = await self._db(self.store.get_subscription, channel_id)
        if subscription is not None and subscription.guild_id == guild_id:
            occurrence = self._next_delivery(subscription)
            if occurrence is not None:
                return subscription, occurrence, True
        zone = resolve_timezone(self.settings.default_timezone) or "UTC"
        local = now.astimezone(zoneinfo.ZoneInfo(zone))
        default = Subscription(
            guild_id=guild_id,
            channel_id=channel_id,
            time=local.strftime("%H:%M"),
            timezone=zone,
            locale=speak,
            max_items=DEFAULT_MAX_ITEMS,
            post_empty=True,
        )
        occurrence = scheduled_at_or_before(now, local.hour, local.minute, default.zone)
        return default, occurrence, False

    async def preview(self, *, guild_id: int, channel_id: int, user_locale: str) -> DigestPreview:
        """The messages the channel's subscription will post at its next delivery (what
        ``subscriptions`` names as next), or with default settings in the admin's
        language as of now when the channel has none. Posts and records nothing."""
        speak = self._speak(user_locale)
        result = await self._attempt(speak, self._preview(speak, guild_id, channel_id))
        return DigestPreview(speak, result) if isinstance(result, str) else result

    async def _preview(self, speak: str, guild_id: int, channel_id: int) -> DigestPreview:
        subscription, occurrence, own = await self._preview_digest(speak, guild_id, channel_id)
        digest = await self.scheduler.preview(subscription, occurrence)
        messages = self.scheduler.delivery.content.render(subscription, digest)
        channel = _channel(channel_id)
        if not own:
            note = self._say("preview_note_unsubscribed", speak, channel_id, channel=channel)
            return DigestPreview(speak, note, tuple(messages))
        note = self._say(
            "preview_note",
            speak,
            channel_id,
            channel=channel,
            date=format_date(occurrence.day, speak, year=True),
            when=discord_timestamp(occurrence.at),
        )
        if not messages:
            note += "\n" + self._say("preview_nothing", speak, channel_id)
        return DigestPreview(speak, note, tuple(messages), offer_test=True)

    async def post_test(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """Post the channel's next digest now as a test: the same messages, no mention,
        a test marker (never counted as that day's delivery), nothing recorded. A
        failure is explained with its reason and fix; nothing is paused."""
        speak = self._speak(user_locale)
        return await self._answer(speak, self._post_test(speak, guild_id, channel_id))

    async def _post_test(self, speak: str, guild_id: int, channel_id: int) -> Reply:
        channel = _channel(channel_id)
        subscription = await self._db(self.store.get_subscription, channel_id)
        if subscription is None or subscription.guild_id != guild_id:
            raise Refused(self._say("not_subscribed", speak, channel_id, channel=channel))
        occurrence = self._next_delivery(subscription)
        if occurrence is None or not self.scheduler.running:  # not started: no poster yet
            raise Refused(self._say("digest_unavailable", speak, channel_id))
        digest = await self.scheduler.preview(subscription, occurrence)
        note = self._say(
            "test_post_note",
            subscription.locale,
            channel_id,
            when=discord_timestamp(occurrence.at),
        )
        try:
            await self.scheduler.post_test(subscription, digest, note)
        except DeliveryError as error:
            log.info("test digest for channel %s not posted: %s", channel_id, error)
            return self._reply(
                speak,
                self._say(
                    "test_failed",
                    speak,
                    channel_id,
                    channel=channel,
                    reason=reason_text(self.persona, error.reason, speak),
                    fix=fix_text(self.persona, error.reason, speak, channel),
                ),
            )
        return self._reply(speak, self._say("test_posted", speak, channel_id, channel=channel))

    async def resume(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """Reactivate a paused subscription, schedule it again and (in the background)
        post today's digest if it failed and is still within the grace time."""
        speak = self._speak(user_locale)
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
