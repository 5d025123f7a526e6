"""Interfaces between the Discord adapter and the digest subsystem.

The Discord adapter declares every application command (names, options, localization,
``/digest``'s default Manage Server permission) and renders replies; the digest subsystem
decides what subscribing, listing, previewing and resuming mean. They meet here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from bot.replies import Reply

if TYPE_CHECKING:
    from discord.ext import commands

__all__ = ["BackgroundService", "DigestAdmin"]


class DigestAdmin(Protocol):
    """What the ``/digest`` subcommands do. Every method answers with a ``Reply``
    in ``user_locale`` (the admin's language) and never raises for bad input (a bad time
    or zone is answered with technyan's explanation)."""

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
        """Subscribe ``channel_id`` to a daily digest at ``time`` (HH:MM) in ``timezone``
        (IANA; default from config), in ``locale`` with at most ``max_items`` stories."""
        ...

    async def unsubscribe(
        self, *, guild_id: int, channel_id: int | None, user_locale: str
    ) -> Reply:
        """Remove the subscription of ``channel_id`` (None: every one of the guild)."""
        ...

    async def subscriptions(self, *, guild_id: int, user_locale: str) -> Reply:
        """The guild's subscriptions with next run, last post and state."""
        ...

    async def preview(self, *, guild_id: int, channel_id: int, user_locale: str) -> Reply:
        """The digest as it would be posted now in ``channel_id``'s subscription (or, with
        none, with default settings in ``user_locale``)."""
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
