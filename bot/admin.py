"""Interfaces between the Discord adapter and the digest subsystem.

The Discord adapter declares every application command (names, options, localization,
``/digest``'s default Manage Server permission), checks what only it can see (the kind
of a channel, the bot's permissions there, a role) and renders replies; the digest
subsystem decides what subscribing, editing, listing, previewing, test posts and
resuming mean. They meet here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.digest import DigestMessage
from bot.replies import Reply

if TYPE_CHECKING:
    from discord.ext import commands

__all__ = [
    "TARGET_KINDS",
    "BackgroundService",
    "ChannelCheck",
    "DigestAdmin",
    "DigestOptions",
    "DigestPreview",
]

#: Channels a digest can go to: a text channel, an announcement channel, a thread (of
#: either), a forum channel (one post per digest).
TARGET_KINDS = ("text", "announcement", "thread", "forum")


@dataclass(frozen=True)
class ChannelCheck:
    """What the Discord adapter found out about a digest's target channel and role, for
    ``subscribe`` and ``edit`` to judge before anything is stored.

    ``kind`` is one of ``TARGET_KINDS``; ``missing`` the permissions the bot lacks there
    that a digest needs (codes of ``bot.digest_notices.PERMISSION_ORDER``); ``problems``
    anything else that would stop a digest: ``thread_locked`` (an archived, locked thread
    the bot cannot reopen), ``forum_requires_tag`` (a forum that refuses posts without a
    tag), ``role_everyone`` (the role is @everyone, which a digest never pings),
    ``role_not_mentionable`` (neither mentionable nor may the bot mention every role)."""

    kind: str = "text"
    missing: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when a digest can be posted there as asked."""
        return not (self.missing or self.problems)


@dataclass(frozen=True)
class DigestOptions:
    """The settings an admin gave to ``/digest subscribe`` or ``/digest edit``; None (and
    False for ``no_role``) means "not given": the default for a new subscription, the
    current value for an edit.

    ``time`` ``HH:MM``; ``timezone`` an IANA name; ``locale`` ``ja``/``en``;
    ``max_items`` 1–10; ``post_empty``; ``categories``, ``include`` and ``exclude``
    comma-separated lists (``-`` clears one); ``role_id`` the role to mention with each
    digest, ``no_role`` to stop mentioning one; ``publish`` publishes each digest of an
    announcement channel to the channels following it."""

    time: str | None = None
    timezone: str | None = None
    locale: str | None = None
    max_items: int | None = None
    post_empty: bool | None = None
    categories: str | None = None
    include: str | None = None
    exclude: str | None = None
    role_id: int | None = None
    no_role: bool = False
    publish: bool | None = None


@dataclass(frozen=True)
class DigestPreview:
    """What ``/digest preview`` shows: ``note`` (technyan saying whose digest of which day
    this is and when it is posted, or why there is none) and ``messages``, exactly the
    messages that will be posted (``bot.digest.render_digest_messages``), in ``locale``
    (the admin's for the note). ``offer_test``: whether to offer "post a test digest
    now" (the channel has a subscription)."""

    locale: str
    note: str
    messages: tuple[DigestMessage, ...] = ()
    offer_test: bool = False


class DigestAdmin(Protocol):
    """What the ``/digest`` subcommands do. Every method answers in ``user_locale`` (the
    admin's language) and never raises for bad input (a bad time or zone, a missing
    permission, is answered with technyan's explanation). A reply of kind ``subscribed``
    (a subscription made or changed) offers "post a test digest now"."""

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
        """Subscribe ``channel_id`` (``check`` says what kind it is and what the bot
        lacks there: nothing is stored unless it can post) to a daily digest with
        ``options`` (``time`` required); ``user_id`` is told by DM if delivery pauses."""
        ...

    async def edit(
        self,
        *,
        guild_id: int,
        channel_id: int,
        options: DigestOptions,
        check: ChannelCheck,
        user_locale: str,
    ) -> Reply:
        """Change the given settings of ``channel_id``'s subscription; its ledger (what
        was posted when) stays, so no day is posted twice."""
        ...

    async def unsubscribe(
        self, *, guild_id: int, channel_id: int | None, user_locale: str
    ) -> Reply:
        """Remove the subscription of ``channel_id`` (None: every one of the guild)."""
        ...

    async def subscriptions(self, *, guild_id: int, user_locale: str) -> Reply:
        """The guild's subscriptions with next and last delivery, filters and state."""
        ...

    async def preview(self, *, guild_id: int, channel_id: int, user_locale: str) -> DigestPreview:
        """The messages ``channel_id``'s subscription will post at its next delivery (or,
        with none, a digest with default settings in ``user_locale``, as of now)."""
        ...

    async def post_test(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """Post the next digest in ``channel_id`` now as a test (not counted as a
        delivery) and say how it went."""
        ...

    async def resume(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """Resume a paused subscription."""
        ...


class BackgroundService(Protocol):
    """Work that runs beside the bot (scheduler, index refresh): started once from
    ``setup_hook`` (never from ``on_ready``), stopped when the bot closes."""

    async def start(self, bot: commands.Bot) -> None:
        """Start the work; called once per process."""
        ...

    async def stop(self) -> None:
        """Stop the work and wait for anything in flight (bounded by a few seconds)."""
        ...
