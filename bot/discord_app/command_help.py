"""``/news help``: technyan's description of the commands, written the way the reader's
Discord shows them.

Each command is a clickable mention (``</news about:ID>``, docs/reference#message-
formatting) when the id Discord gave it at sync is known (fetched from Discord, guild
commands before global ones, cached for ``DIRECTORY_CACHE_SECONDS``), else its name as
the reader's client shows it (``/ニュース 検索`` for Japanese). ``/digest subscribe``'s
options are read from the command tree, so the help lists exactly the options it has,
in the reader's language (optional ones in brackets).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import discord
from discord import app_commands

from bot.discord_app.translator import CommandLocalizations
from bot.persona import Persona

__all__ = ["DIRECTORY_CACHE_SECONDS", "DIRECTORY_FETCH_SECONDS", "CommandDirectory"]

log = logging.getLogger("bot.discord_app")

#: Seconds the help waits for Discord's list of commands before it writes names instead.
DIRECTORY_FETCH_SECONDS = 1.0
#: Seconds a fetched list of command ids is used before it is fetched again (a sync
#: changes the ids).
DIRECTORY_CACHE_SECONDS = 600.0

#: The help's placeholders and the commands they name.
HELP_COMMANDS = {
    "latest": "news latest",
    "about": "news about",
    "ask": "news ask",
    "trend": "news trend",
    "help": "news help",
    "subscribe": "digest subscribe",
    "edit": "digest edit",
    "unsubscribe": "digest unsubscribe",
    "subscriptions": "digest subscriptions",
    "resume": "digest resume",
    "preview": "digest preview",
}


class CommandDirectory:
    """The commands of ``tree`` as a reader sees them: mentions with the ids Discord gave
    them, or localized names (``localizations``: the Japanese names)."""

    def __init__(
        self, tree: app_commands.CommandTree[Any], localizations: CommandLocalizations
    ) -> None:
        self.tree = tree
        self.localizations = localizations
        self._ids: dict[int | None, tuple[float, dict[str, int]]] = {}

    async def _fetch(self, guild_id: int | None) -> dict[str, int]:
        """Top-level command name → id, synced globally (``guild_id`` None) or to one
        guild; cached, empty when Discord does not answer in time."""
        cached = self._ids.get(guild_id)
        if cached is not None and time.monotonic() - cached[0] < DIRECTORY_CACHE_SECONDS:
            return cached[1]
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        try:
            commands = await asyncio.wait_for(
                self.tree.fetch_commands(guild=guild), DIRECTORY_FETCH_SECONDS
            )
        except (TimeoutError, discord.HTTPException) as error:
            log.info("could not read the synced commands (guild %s): %s", guild_id, error)
            return {}
        ids = {command.name: command.id for command in commands}
        self._ids[guild_id] = (time.monotonic(), ids)
        return ids

    async def command_ids(self, guild_id: int | None) -> dict[str, int]:
        """The ids of the commands a reader in ``guild_id`` (None: a DM) can use: the
        guild's own copies first, then the global ones."""
        ids = dict(await self._fetch(None))
        if guild_id is not None:
            ids.update(await self._fetch(guild_id))
        return ids

    def name(self, qualified_name: str, locale: str) -> str:
        """``/news about`` as the reader's client shows it: ``/ニュース 検索`` in
        Japanese."""
        if locale != "ja":
            return f"/{qualified_name}"
        parts = qualified_name.split()
        names = self.localizations.names
        return "/" + " ".join(
            names.get(" ".join(parts[: i + 1]), part) for i, part in enumerate(parts)
        )

    def options(self, qualified_name: str, locale: str) -> str:
        """The options of the command ``qualified_name`` in the reader's language,
        optional ones in brackets: ``channel time [timezone] …``; "" when the tree has
        no such command."""
        command = self.tree.get_command(qualified_name.split()[0])
        for part in qualified_name.split()[1:]:
            if not isinstance(command, app_commands.Group):
                return ""
            command = command.get_command(part)
        if not isinstance(command, app_commands.Command):
            return ""
        shown = []
        for parameter in command.parameters:
            name = parameter.name
            if locale == "ja":
                name = self.localizations.names.get(f"{qualified_name} {name}", name)
            shown.append(name if parameter.required else f"[{name}]")
        return " ".join(shown)

    async def help_text(
        self, persona: Persona, locale: str, guild_id: int | None, seed: str
    ) -> str:
        """technyan's help (persona ``discord_help``) in ``locale`` with every command as a
        mention or a localized name, and ``/digest subscribe``'s options."""
        ids = await self.command_ids(guild_id)
        values: dict[str, str] = {}
        for key, qualified in HELP_COMMANDS.items():
            top = qualified.split()[0]
            values[key] = (
                f"</{qualified}:{ids[top]}>" if top in ids else self.name(qualified, locale)
            )
        values["subscribe_options"] = self.options("digest subscribe", locale)
        return persona.say("discord_help", locale, seed=seed, **values)
