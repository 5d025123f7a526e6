"""Japanese names and descriptions for every command, group, option and fixed choice.

discord.py asks an ``app_commands.Translator`` for each locale when it builds the command
payload for a sync; the answers become ``name_localizations`` / ``description_
localizations``, so a Japanese client shows ``/ニュース 検索`` while interactions still
carry the default names. The Japanese text lives in ``bot/data/commands.toml`` (keyed by
the command path, e.g. ``"news latest count"``; choices and the corpus's category names by
value); it is checked against Discord's naming rules when loaded (constants in
``bot.discord_app.embeds``). The category names also name categories in Japanese cards.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Location

from bot.discord_app.embeds import (
    CHOICE_NAME_LIMIT,
    COMMAND_DESCRIPTION_LIMIT,
    COMMAND_NAME_PATTERN,
)

__all__ = ["CommandLocalizations", "TechnyanTranslator", "command_key"]


@dataclass(frozen=True)
class CommandLocalizations:
    """Localized ``names``, ``descriptions`` (both keyed by command path), fixed
    ``choices`` (keyed by the choice's value) and ``categories`` (the corpus's category
    names, keyed by the name the corpus uses) of one locale."""

    names: Mapping[str, str]
    descriptions: Mapping[str, str]
    choices: Mapping[str, str]
    categories: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, locale: str = "ja") -> CommandLocalizations:
        """The ``[locale]`` tables of ``bot/data/commands.toml``. Raises ``ValueError`` when
        a name breaks Discord's naming rule (1–32 letters, digits, ``-``, ``_``; lowercase)
        or a description or choice name is empty or too long (docs/interactions/
        application-commands#application-command-object-application-command-naming)."""
        raw = resources.files("bot").joinpath("data", "commands.toml").read_bytes()
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8")).get(locale, {})
        names = {str(k): str(v) for k, v in data.get("names", {}).items()}
        descriptions = {str(k): str(v) for k, v in data.get("descriptions", {}).items()}
        choices = {str(k): str(v) for k, v in data.get("choices", {}).items()}
        categories = {str(k): str(v) for k, v in data.get("categories", {}).items()}
        for key, name in names.items():
            if not COMMAND_NAME_PATTERN.match(name) or name != name.lower():
                raise ValueError(f"commands.toml [{locale}.names] {key!r}: invalid name {name!r}")
        for key, text in descriptions.items():
            if not 1 <= len(text) <= COMMAND_DESCRIPTION_LIMIT:
                raise ValueError(
                    f"commands.toml [{locale}.descriptions] {key!r}: "
                    f"needs 1–{COMMAND_DESCRIPTION_LIMIT} characters, has {len(text)}"
                )
        for table, entries in (("choices", choices), ("categories", categories)):
            for key, text in entries.items():
                if not 1 <= len(text) <= CHOICE_NAME_LIMIT:
                    raise ValueError(
                        f"commands.toml [{locale}.{table}] {key!r}: "
                        f"needs 1–{CHOICE_NAME_LIMIT} characters, has {len(text)}"
                    )
        return cls(names, descriptions, choices, categories)


def command_key(context: app_commands.TranslationContextTypes) -> str | None:
    """The command path a translation context refers to: ``"news latest"`` for a command
    or group, ``"news latest count"`` for an option, the value for a choice; None for
    anything else."""
    data = context.data
    if context.location in (
        Location.command_name,
        Location.command_description,
        Location.group_name,
        Location.group_description,
    ):
        return str(getattr(data, "qualified_name", "")) or None
    if context.location in (Location.parameter_name, Location.parameter_description):
        command = getattr(data, "command", None)
        name = getattr(data, "name", None)
        if command is None or name is None:
            return None
        return f"{command.qualified_name} {name}"
    if context.location is Location.choice_name:
        value = getattr(data, "value", None)
        return None if value is None else str(value)
    return None


class TechnyanTranslator(app_commands.Translator):
    """Gives the Japanese (``discord.Locale.japanese``) names and descriptions of the
    commands, and the Japanese names of fixed choices (languages, categories), from
    ``bot/data/commands.toml``; every other locale keeps the default English strings
    (``None``)."""

    def __init__(self, localizations: CommandLocalizations | None = None) -> None:
        self.localizations = localizations or CommandLocalizations.load("ja")

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The Japanese text for ``string`` at ``context``, or None (keep the default)."""
        if locale is not discord.Locale.japanese:
            return None
        key = command_key(context)
        if key is None:
            return None
        if context.location in (Location.command_name, Location.group_name):
            return self.localizations.names.get(key)
        if context.location is Location.parameter_name:
            return self.localizations.names.get(key)
        if context.location is Location.choice_name:
            return self.localizations.choices.get(key) or self.localizations.categories.get(key)
        return self.localizations.descriptions.get(key)
