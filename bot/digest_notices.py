"""Words about a digest that cannot be delivered, and telling the guild once.

A subscription pauses when Discord refuses its channel for good (403 Missing Access or
Missing Permissions, 404 Unknown Channel: docs/topics/opcodes-and-status-codes#json;
docs/DISCORD.md: "tell the guild's admins where possible"). ``PauseNotices`` then tells
the guild, once per pause and in the subscription's language: the admin who subscribed,
by DM, or else the guild's system channel (``Poster.tell_guild``), naming the channel,
the reason and the fix (``/digest resume`` once it is fixed). "Once" holds across
processes: the store's ``claim_pause_notice`` lets one caller take the duty; resuming
(or subscribing again) forgets it, so the next pause is told again.

Reason codes are what ``DeliveryError.reason`` and ``Subscription.paused_reason`` hold:
``missing_access``, ``missing_permissions`` (optionally ``missing_permissions:`` and the
permissions by their discord.py names, comma-separated, e.g.
``missing_permissions:embed_links,read_message_history``), ``unknown_channel``,
``not_messageable`` and any other code (said as an error with its code).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from bot.persona import Persona
from bot.state import StateError, StateStore, Subscription
from bot.state_calls import StateCalls

__all__ = [
    "PERMISSION_ORDER",
    "PauseNotices",
    "Teller",
    "fix_text",
    "permission_names",
    "permissions_reason",
    "reason_text",
    "split_reason",
]

log = logging.getLogger(__name__)

#: Permissions a digest may need, in the order Discord's channel settings list them;
#: codes are discord.py's ``Permissions`` names, ``create_posts`` being what a forum
#: channel calls ``send_messages`` (docs/topics/permissions#permissions-bitwise-
#: permission-flags).
PERMISSION_ORDER = (
    "view_channel",
    "send_messages",
    "create_posts",
    "send_messages_in_threads",
    "embed_links",
    "read_message_history",
    "mention_everyone",
)


class Teller(Protocol):
    """Says something to a guild's admins (the Discord adapter implements it)."""

    async def tell_guild(self, guild_id: int, user_id: int | None, text: str) -> str | None:
        """Send ``text`` to ``user_id`` by DM, or else to the guild's system channel.
        Returns where it went (``dm``, ``system_channel``) or None when nowhere would
        take it. Never raises."""
        ...


def permissions_reason(missing: Sequence[str]) -> str:
    """The reason code of a pause for lack of ``missing`` permissions."""
    ordered = sorted(set(missing), key=_permission_rank)
    return "missing_permissions:" + ",".join(ordered) if ordered else "missing_permissions"


def _permission_rank(code: str) -> tuple[int, str]:
    try:
        return (PERMISSION_ORDER.index(code), code)
    except ValueError:
        return (len(PERMISSION_ORDER), code)


def split_reason(code: str | None) -> tuple[str, tuple[str, ...]]:
    """A reason code as (base code, permissions it names): ``missing_permissions:
    embed_links`` → (``missing_permissions``, (``embed_links``,))."""
    base, _, rest = (code or "").partition(":")
    return base, tuple(p for p in rest.split(",") if p)


def permission_names(persona: Persona, codes: Sequence[str], locale: str) -> str:
    """Permissions as Discord's settings name them in ``locale``, joined (``View
    Channel, Embed Links``; ``チャンネルを見る、埋め込みリンク``)."""
    lines = persona.lines["ja" if locale == "ja" else "en"]
    names = [
        persona.say(f"permission_{code}", locale) if f"permission_{code}" in lines else code
        for code in sorted(codes, key=_permission_rank)
    ]
    return ("、" if locale == "ja" else ", ").join(names)


def reason_text(persona: Persona, code: str | None, locale: str) -> str:
    """Why a digest could not be delivered, in technyan's words (``reason_<code>``)."""
    base, permissions = split_reason(code)
    if base == "missing_permissions" and permissions:
        names = permission_names(persona, permissions, locale)
        return persona.say("reason_missing_named_permissions", locale, permissions=names)
    key = f"reason_{base}"
    if base and key in persona.lines["ja"]:
        return persona.say(key, locale)
    return persona.say("reason_other", locale, reason=code or "?")


def fix_text(persona: Persona, code: str | None, locale: str, channel: str) -> str:
    """What an admin does about ``code`` (``fix_<code>``; ``fix_other`` for the rest)."""
    base, permissions = split_reason(code)
    key = f"fix_{base}" if base and f"fix_{base}" in persona.lines["ja"] else "fix_other"
    names = permission_names(persona, permissions or ("view_channel", "send_messages"), locale)
    return persona.say(key, locale, channel=channel, permissions=names)


class PauseNotices:
    """Tells a guild once that one of its digests paused (see the module docstring).

    ``store`` and ``calls`` reach the state; ``persona`` speaks; ``clock`` gives "now"
    (aware, UTC); ``teller`` is set once the bot is up. ``retry_seconds`` bounds how long
    the claim is retried through a store outage."""

    def __init__(
        self,
        store: StateStore,
        calls: StateCalls,
        persona: Persona,
        *,
        clock: Callable[[], dt.datetime],
        retry_seconds: float = 60.0,
    ) -> None:
        self.store = store
        self.calls = calls
        self.persona = persona
        self.clock = clock
        self.retry_seconds = retry_seconds
        self.teller: Teller | None = None

    def text(self, subscription: Subscription) -> str:
        """The notice for ``subscription``'s pause, in its locale."""
        locale, channel = subscription.locale, f"<#{subscription.channel_id}>"
        code = subscription.paused_reason
        return self.persona.say(
            "pause_notice",
            locale,
            seed=str(subscription.channel_id),
            channel=channel,
            reason=reason_text(self.persona, code, locale),
            fix=fix_text(self.persona, code, locale, channel),
        )

    async def paused(self, channel_id: int) -> str | None:
        """Tell the guild of ``channel_id``'s pause unless it was told already (by this or
        another process). Returns where the notice went, or None (told before, nobody to
        tell, or the store did not answer). Never raises."""
        if self.teller is None:
            return None
        try:
            subscription = await self.calls.run_until(
                time.monotonic() + self.retry_seconds,
                self.store.claim_pause_notice,
                channel_id,
                self.clock(),
            )
        except StateError as error:
            log.warning("the pause of channel %s is not told: %s", channel_id, error)
            return None
        if subscription is None:
            return None
        where = await self.teller.tell_guild(
            subscription.guild_id, subscription.subscribed_by, self.text(subscription)
        )
        log.info(
            "pause of channel %s (guild %s, %s) told: %s",
            channel_id,
            subscription.guild_id,
            subscription.paused_reason,
            where or "nowhere (no DM, no system channel)",
        )
        return where
