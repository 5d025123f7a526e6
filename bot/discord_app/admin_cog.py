"""``/digest``: the daily digest's settings, for server admins.

``/digest subscribe``, ``unsubscribe``, ``subscriptions``, ``resume`` and ``preview`` form
their own top-level command, so Discord can keep it from members: its
``default_member_permissions`` is Manage Server (members do not see it; server admins can
give it to other roles, or take it away, per command under Server Settings → Integrations,
and Discord enforces that — docs/interactions/application-commands#permissions), and its
only context is a server (``guild_only``; installable to servers only). Because Discord
decides who may run it, there is no permission check in code that would overrule a
server's own settings; a use outside a server (an old sync, a client that ignores
contexts) is answered with technyan's ``needs_server``.

Each subcommand delegates to the digest subsystem through ``DigestAdmin``
(bot/admin.py) and answers ephemerally. New subcommands or options are a method (and a
``DigestAdmin`` method) away: declare them here like the others, and give their Japanese
names in bot/data/commands.toml.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import DigestAdmin
from bot.discord_app.responder import ReplySender
from bot.discord_app.views import ReplySource
from bot.replies import Reply

__all__ = ["DigestAdminCog"]

_LOCALE_CHOICES = [
    app_commands.Choice(name="Japanese", value="ja"),
    app_commands.Choice(name="English", value="en"),
]


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)
class DigestAdminCog(
    commands.GroupCog,
    name="digest",
    group_name="digest",
    group_description="Daily AI news digests in this server's channels (Manage Server)",
):
    """The ``/digest`` group. ``digest_admin`` answers it (None: every subcommand says
    digests are unavailable), ``sender`` sends the replies. Channel options accept text
    and announcement channels (``discord.TextChannel``), where a digest can be posted."""

    def __init__(self, sender: ReplySender, digest_admin: DigestAdmin | None) -> None:
        self.sender = sender
        self.persona = sender.persona
        self.digest_admin = digest_admin
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        """Refuse a use outside a server (raises ``app_commands.NoPrivateMessage``, which
        the tree answers with ``needs_server``)."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage("/digest works in a server only")
        return True

    async def _delegate(
        self,
        interaction: discord.Interaction,
        call: Callable[[DigestAdmin, int, str], Awaitable[Reply]],
        source: ReplySource | None = None,
    ) -> None:
        """Answer ephemerally with what ``call(admin, guild_id, user_locale)`` returns."""
        locale = self.sender.locale_of(interaction)
        admin, guild_id = self.digest_admin, interaction.guild_id or 0

        async def work() -> Reply:
            if admin is None:
                text = self.persona.say("digest_unavailable", locale, seed=str(interaction.id))
                return Reply("digest", locale, text)
            return await call(admin, guild_id, locale)

        await self.sender.answer(interaction, work, source=source, visibility="ephemeral")

    @app_commands.command(name="subscribe", description="Post a daily AI news digest in a channel")
    @app_commands.describe(
        channel="Where to post the digest",
        time="Local time to post, HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Asia/Tokyo (default: the bot's setting)",
        locale="Language of the digest",
        max_items="Stories per digest (1–10)",
        post_empty="Post a short note on days without news",
    )
    @app_commands.choices(locale=_LOCALE_CHOICES)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str | None = None,
        locale: str | None = None,
        max_items: app_commands.Range[int, 1, 10] | None = None,
        post_empty: bool | None = None,
    ) -> None:
        """``/digest subscribe``: delegate to ``DigestAdmin.subscribe``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.subscribe(
                guild_id=guild_id,
                channel_id=channel.id,
                time=time,
                timezone=timezone,
                locale=locale,
                max_items=max_items,
                post_empty=post_empty,
                user_locale=user_locale,
            ),
        )

    @app_commands.command(name="unsubscribe", description="Stop the daily digest")
    @app_commands.describe(channel="Which channel (default: every channel of this server)")
    async def unsubscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """``/digest unsubscribe``: delegate to ``DigestAdmin.unsubscribe``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.unsubscribe(
                guild_id=guild_id,
                channel_id=channel.id if channel is not None else None,
                user_locale=user_locale,
            ),
        )

    @app_commands.command(name="subscriptions", description="This server's digest subscriptions")
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        """``/digest subscriptions``: delegate to ``DigestAdmin.subscriptions``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.subscriptions(
                guild_id=guild_id, user_locale=user_locale
            ),
        )

    @app_commands.command(name="resume", description="Resume a paused digest")
    @app_commands.describe(channel="The channel whose digest to resume")
    async def resume(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        """``/digest resume``: delegate to ``DigestAdmin.resume``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.resume(
                guild_id=guild_id, channel_id=channel.id, user_locale=user_locale
            ),
        )

    @app_commands.command(
        name="preview", description="Preview the digest as it would be posted now"
    )
    @app_commands.describe(channel="Preview this channel's subscription (default: this channel)")
    async def preview(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
    ) -> None:
        """``/digest preview``: delegate to ``DigestAdmin.preview`` for ``channel``
        (default: the channel the command was used in); its pages keep working after a
        restart (the button computes the preview again)."""
        channel_id = channel.id if channel is not None else int(interaction.channel_id or 0)
        source = ReplySource("preview", self.sender.locale_of(interaction), channel_id)
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.preview(
                guild_id=guild_id, channel_id=channel_id, user_locale=user_locale
            ),
            source,
        )
