"""NewsBot: the discord.py client of technyan-bot.

Intents are the defaults (no privileged intent: messages that mention the bot carry their
content without the message-content intent); ``AllowedMentions.none()`` on the client, so
nothing the bot sends pings anyone, whatever the corpus or a user typed. ``setup_hook``
runs once per process, before the gateway connects: it sets the translator, registers the
persistent reply buttons, adds the ``/news`` and ``/digest`` cogs and starts the
background services; ``on_ready`` fires again after every reconnect and starts nothing.
The command tree counts each user's commands against a shared budget and answers any
failure with technyan's ephemeral line (slow down, needs a server, an apology) and logs the
cause with the interaction's context.

Imports run one way: this module builds the cogs; no cog imports it.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence
from typing import Any, cast

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import BackgroundService, DigestAdmin
from bot.config import Settings
from bot.discord_app.admin_cog import DigestAdminCog, TestPostButton
from bot.discord_app.command_help import CommandDirectory
from bot.discord_app.cooldowns import UserCooldown
from bot.discord_app.errors import RESULTS, answer_failure, interaction_context, is_gone
from bot.discord_app.news_cog import NewsCog
from bot.discord_app.responder import ReplySender
from bot.discord_app.translator import CommandLocalizations, TechnyanTranslator
from bot.discord_app.trend_cog import TrendCog
from bot.discord_app.views import CounterButton, PageButton, SuggestionButton
from bot.persona import reply_locale
from bot.service import NewsService
from bot.trend import TrendService

__all__ = ["BACKGROUND_STOP_SECONDS", "NewsBot", "NewsTree", "refusal"]

log = logging.getLogger("bot.discord_app")

#: Seconds each background service gets to stop when the bot closes.
BACKGROUND_STOP_SECONDS = 10.0


class ShuttingDown(app_commands.CheckFailure):
    """A command that arrived after the bot began to shut down (SIGTERM/SIGINT)."""


def refusal(error: app_commands.CheckFailure) -> tuple[str, dict[str, object]]:
    """The persona key (and values) that answers a refused command: ``slow_down`` with
    the ``seconds`` to wait for a user over the command budget, ``needs_server`` for a
    server command used elsewhere, ``error`` during shutdown, ``admin_only`` for a
    missing permission."""
    if isinstance(error, app_commands.CommandOnCooldown):
        return "slow_down", {"seconds": max(1, math.ceil(error.retry_after))}
    if isinstance(error, app_commands.NoPrivateMessage):
        return "needs_server", {}
    if isinstance(error, ShuttingDown):
        return "error", {}
    return "admin_only", {}


class NewsTree(app_commands.CommandTree["NewsBot"]):
    """The command tree. ``interaction_check`` refuses commands while the bot shuts down
    and counts each command against its user's budget (``NewsBot.cooldown``); ``on_error``
    answers a refused command with technyan's ephemeral line (:func:`refusal`) and any
    other failure with technyan's apology (persona ``error``), and logs the cause with
    command, guild, channel, user id and locale. An interaction that is gone (10062, or an
    expired token) is logged and dropped; the bot keeps serving."""

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Refuse commands once the bot is shutting down (autocomplete gets no choices, a
        command gets technyan's apology), and commands of a user over the budget
        (``app_commands.CommandOnCooldown``: "slow down"; autocomplete is not counted)."""
        autocomplete = interaction.type is discord.InteractionType.autocomplete
        if self.client.closing:
            if autocomplete:
                return False
            raise ShuttingDown("the bot is shutting down")
        if not autocomplete:
            self.client.cooldown.check(interaction)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Handle a failed application command (see the class docstring). Never raises."""
        persona = self.client.service.persona
        if isinstance(error, app_commands.CheckFailure) and not is_gone(error):
            log.info("check failed (%s): %s", interaction_context(interaction), error)
            locale = reply_locale(interaction.locale.value)
            key, values = refusal(error)
            text = persona.say(key, locale, seed=str(interaction.id), **values)
            try:
                if interaction.response.is_done():
                    await interaction.followup.send(text, ephemeral=True)
                else:
                    await interaction.response.send_message(text, ephemeral=True)
            except discord.HTTPException as send_error:
                log.warning(
                    "could not answer a failed check (%s): %s",
                    interaction_context(interaction),
                    send_error,
                )
            return
        await answer_failure(interaction, error, persona, what="application command")


class NewsBot(commands.AutoShardedBot):
    """technyan-bot on Discord.

    ``settings`` gives the shards (``bot.shard_count`` / ``bot.shard_ids`` when set; else
    Discord recommends the count), ``service`` the core, ``digest_admin`` the digest
    subsystem behind ``/digest`` (None: it says digests are unavailable), ``background``
    the services started once in ``setup_hook`` and stopped in ``close``. Other keyword
    ``options`` go to ``commands.AutoShardedBot`` (tests pass ``guild_ready_timeout``).
    ``button_actions`` (the ``ReplySender``) answers the persistent reply buttons,
    ``cooldown`` holds each user's command budget, ``directory`` the synced command ids
    for the help.
    Prefix commands are not used: ``command_prefix`` is the mention only so discord.py
    does not warn about the missing message-content intent, and ``on_message`` never
    processes commands (the cog answers mentions).
    """

    def __init__(
        self,
        settings: Settings,
        service: NewsService,
        *,
        digest_admin: DigestAdmin | None = None,
        background: Sequence[BackgroundService] = (),
        **options: Any,
    ) -> None:
        if settings.shard_count > 0:
            options.setdefault("shard_count", settings.shard_count)
            if settings.shard_ids:
                options.setdefault("shard_ids", list(settings.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            tree_cls=NewsTree,
            **options,
        )
        self.settings = settings
        self.service = service
        self.closing = False
        self.digest_admin = digest_admin
        self.background = tuple(background)
        self.localizations = CommandLocalizations.load("ja")
        self.button_actions = ReplySender(
            service, digest_admin=digest_admin, localizations=self.localizations
        )
        self.cooldown = UserCooldown()
        self.directory = CommandDirectory(self.tree, self.localizations)
        self.setup_count = 0
        self._started: list[BackgroundService] = []
        self._setup_done = False

    async def setup_hook(self) -> None:
        """Once per process, before the gateway connects: set the translator, register
        the persistent reply buttons, add the ``/news`` cog (its category choices read
        from the core in a worker thread) and the ``/digest`` cog, and start each
        background service once. A second call does nothing. A background service that
        fails to start is logged; the commands keep working."""
        if self._setup_done:
            return
        self._setup_done = True
        self.setup_count += 1
        await self.tree.set_translator(TechnyanTranslator(self.localizations))
        self.add_dynamic_items(PageButton, CounterButton, SuggestionButton, TestPostButton)
        try:
            categories = await asyncio.to_thread(self.service.categories)
        except Exception:
            log.exception("could not read the categories; /news latest offers none")
            categories = []
        news = NewsCog(
            self,
            self.service,
            sender=self.button_actions,
            directory=self.directory,
            categories=categories,
        )
        await self.add_cog(news)
        await self.add_cog(TrendCog(self, TrendService(self.service)))
        await self.add_cog(DigestAdminCog(self.button_actions, self.digest_admin))
        for service in self.background:
            try:
                # The protocol names commands.Bot; an AutoShardedBot offers the same API
                # (discord.py does not derive one from the other).
                await service.start(cast(commands.Bot, self))
            except Exception:
                log.exception("background service %s failed to start", type(service).__name__)
                continue
            self._started.append(service)

    async def on_ready(self) -> None:
        """Log who is connected. Fires again after reconnects, so it starts nothing."""
        user = self.user
        log.info(
            "connected as %s (id %s) to %d guilds",
            user,
            user.id if user else None,
            len(self.guilds),
        )

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        """One log line per command served: command, guild, locale, result count and
        milliseconds since Discord created the interaction (the query text is not logged)."""
        elapsed = discord.utils.utcnow() - interaction.created_at
        fields = {
            "command": command.qualified_name,
            "guild": interaction.guild_id,
            "locale": interaction.locale.value,
            "results": interaction.extras.get(RESULTS),
            "ms": round(elapsed.total_seconds() * 1000, 1),
        }
        log.info(
            "served /%s guild=%s locale=%s results=%s ms=%s",
            *fields.values(),
            extra=fields,
        )

    async def on_message(self, message: discord.Message) -> None:
        """Prefix commands are not used; mentions are answered by the cog's listener."""
        return None

    async def close(self) -> None:
        """Stop taking commands, stop the background services (each bounded by
        ``BACKGROUND_STOP_SECONDS``, in reverse start order), then disconnect."""
        self.closing = True
        started, self._started = self._started, []
        for service in reversed(started):
            try:
                await asyncio.wait_for(service.stop(), BACKGROUND_STOP_SECONDS)
            except Exception:
                log.exception("background service %s failed to stop", type(service).__name__)
        await super().close()
