"""Running technyan-bot on Discord (``technyan-bot run``) and registering its commands
(``technyan-bot sync``).

The token comes from ``DISCORD_TOKEN`` only (``Settings.discord_token``) and never reaches a
log line: ``bot.logs.configure_logging`` sets up ``discord.utils.setup_logging`` with a
filter that redacts the token and interaction tokens wherever they appear. A
missing or rejected token ends with one line on stderr and exit status 2, never a
traceback. Commands are synced on purpose, never on start: ``sync --guild ID`` for a
development guild (instant), ``sync`` globally for production; never both for one guild,
or every command shows twice there (``sync --guild ID --clear`` removes a guild's copy).
After a sync, ``sync`` looks at the other scope (the global commands after a guild sync;
the guilds' own copies, in up to ``SYNC_CHECK_GUILDS`` guilds, after a global sync) and
warns about each guild that now shows a command twice, naming the ``--clear`` fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

import aiohttp
import discord
from discord import app_commands

from bot.admin import BackgroundService, DigestAdmin
from bot.config import Settings
from bot.discord_app.client import NewsBot
from bot.discord_app.translator import CommandLocalizations
from bot.logs import JsonFormatter, RedactingFilter, configure_logging
from bot.refresh import IndexRefresher
from bot.service import NewsService

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "EXIT_OK",
    "SYNC_CHECK_GUILDS",
    "JsonFormatter",
    "RedactingFilter",
    "configure_logging",
    "default_background",
    "default_components",
    "run_bot",
    "sync_commands",
    "sync_commands_async",
]

log = logging.getLogger("bot.discord_app")
# JsonFormatter, RedactingFilter and configure_logging live in bot.logs (one setup for
# every command); they are re-exported here for the adapter's callers.

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
#: Guilds whose own command copies a global sync checks (one page of ``GET
#: /users/@me/guilds``, docs/resources/user#get-current-user-guilds: at most 200).
SYNC_CHECK_GUILDS = 200

_MISSING_TOKEN = (
    "technyan-bot: DISCORD_TOKEN is not set; put the bot token from the Developer Portal "
    "in the environment (never in a file)"
)
_REJECTED_TOKEN = (
    "technyan-bot: Discord rejected the token in DISCORD_TOKEN (401 Unauthorized); "
    "reset it in the Developer Portal and try again"
)
_PRIVILEGED = (
    "technyan-bot: Discord refused the gateway intents; technyan-bot needs no privileged "
    "intent, so check that nothing else changed them"
)


def default_background(settings: Settings, service: NewsService) -> list[BackgroundService]:
    """The index refresher when ``corpus.refresh_minutes`` is above 0 (else nothing)."""
    if settings.corpus_refresh_minutes <= 0:
        return []
    return [
        IndexRefresher(
            service, settings.corpus_refresh_minutes * 60.0, git_pull=settings.corpus_git_pull
        )
    ]


def default_components(
    settings: Settings, service: NewsService
) -> tuple[DigestAdmin, list[BackgroundService]]:
    """What a plain ``run`` wires in: the digest subsystem (its ``DigestAdmin`` and
    scheduler, from ``bot.discord_app.digests``) and the index refresher. Raises
    ``bot.state.StateError`` when ``state.db`` cannot be used."""
    from bot.discord_app.digests import build_digest_components

    admin, services = build_digest_components(settings, service)
    return admin, [*default_background(settings, service), *services]


def _prepare(settings: Settings, err: TextIO) -> tuple[str, NewsService] | int:
    """The token and a service with a ready index, or an exit status after one line."""
    token = settings.discord_token
    if not token:
        print(_MISSING_TOKEN, file=err)
        return EXIT_BAD_INPUT
    service = NewsService(settings)
    try:
        service.ensure_index()
    except FileNotFoundError:
        print(
            f"technyan-bot: no index at {settings.index_path} and no corpus at "
            f"{settings.corpus_path}",
            file=err,
        )
        return EXIT_BAD_INPUT
    return token, service


async def _serve(bot: NewsBot, token: str) -> None:
    async with bot:
        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):  # not everywhere
                    loop.add_signal_handler(sig, lambda: asyncio.ensure_future(bot.close()))
        await bot.start(token)


def run_bot(
    settings: Settings,
    *,
    digest_admin: DigestAdmin | None = None,
    background: Sequence[BackgroundService] | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the exit status.

    The token is ``settings.discord_token`` (from ``DISCORD_TOKEN`` only). Missing token,
    missing corpus and index, a token Discord rejects (``discord.LoginFailure``) or refused
    intents, an unusable ``state.db``: one line on ``err`` (default stderr), status 2. A
    failure to reach Discord: one line, status 1 (the details are logged at DEBUG).
    ``background`` None (the command line) wires in :func:`default_components` (digest
    admin, digest scheduler, index refresher); given, it is used as is, with
    ``digest_admin`` answering the admin subcommands."""
    err = err or sys.stderr
    prepared = _prepare(settings, err)
    if isinstance(prepared, int):
        return prepared
    token, service = prepared
    configure_logging(settings, [token])
    services: Sequence[BackgroundService] = () if background is None else background
    if background is None:
        from bot.state import StateError

        try:
            wired_admin, services = default_components(settings, service)
        except StateError as error:
            print(f"technyan-bot: {error}", file=err)
            return EXIT_BAD_INPUT
        digest_admin = digest_admin or wired_admin
    bot = NewsBot(settings, service, digest_admin=digest_admin, background=services)
    try:
        asyncio.run(_serve(bot, token))
    except discord.LoginFailure:
        print(_REJECTED_TOKEN, file=err)
        return EXIT_BAD_INPUT
    except discord.PrivilegedIntentsRequired:
        print(_PRIVILEGED, file=err)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
    except (OSError, aiohttp.ClientError, discord.DiscordException) as error:
        log.debug("stopped by an error", exc_info=error)
        print(f"technyan-bot: could not stay connected to Discord: {error}", file=err)
        return EXIT_FAILURE
    return EXIT_OK


def _describe(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> list[str]:
    """One line per command of the tree with its Japanese name:
    ``/news latest  (ja: /ニュース 最新)``."""
    names = CommandLocalizations.load("ja").names
    lines = []
    for command in tree.walk_commands(guild=guild):
        if isinstance(command, app_commands.Group):
            continue
        parts = command.qualified_name.split()
        japanese = " ".join(
            names.get(" ".join(parts[: i + 1]), part) for i, part in enumerate(parts)
        )
        lines.append(f"/{command.qualified_name}  (ja: /{japanese})")
    return sorted(lines)


async def _twice_shown(
    bot: NewsBot, guild_id: int | None, names: set[str]
) -> tuple[list[str], list[str]]:
    """After a sync of ``names`` to ``guild_id`` (None: globally), the warnings about
    guilds where a command is now registered in both scopes, and notes about what could
    not be checked."""
    warnings: list[str] = []
    notes: list[str] = []
    if guild_id is not None:
        both = sorted(names & {c.name for c in await bot.tree.fetch_commands()})
        if both:
            shown = ", ".join(f"/{name}" for name in both)
            warnings.append(
                f"{shown} also registered globally: guild {guild_id} shows each twice; "
                f"keep one: `technyan-bot sync --guild {guild_id} --clear` removes this "
                "guild's copy"
            )
        return warnings, notes
    guilds = [guild async for guild in bot.fetch_guilds(limit=SYNC_CHECK_GUILDS)]
    if len(guilds) >= SYNC_CHECK_GUILDS:
        notes.append(f"checked the first {SYNC_CHECK_GUILDS} guilds for their own copies")
    for guild in guilds:
        try:
            own = {c.name for c in await bot.tree.fetch_commands(guild=guild)}
        except discord.HTTPException as error:
            notes.append(f"could not read the commands of guild {guild.id} ({error.status})")
            continue
        both = sorted(names & own)
        if both:
            shown = ", ".join(f"/{name}" for name in both)
            warnings.append(
                f"guild {guild.id} ({guild.name}) also has its own {shown}: it shows each "
                f"twice; remove its copy with `technyan-bot sync --guild {guild.id} --clear`"
            )
    return warnings, notes


async def sync_commands_async(
    settings: Settings,
    guild_id: int | None,
    *,
    clear: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Log in (REST only, no gateway), then sync the ``/news`` commands: to one guild
    (the global commands copied there; ``clear`` removes that guild's copy instead) or
    globally, and print what was synced on ``out``; then warn on ``err`` about every guild
    that shows a command twice (registered in that guild and globally), with the fix.
    Returns the exit status: 2 for a missing or rejected token, 1 when Discord refuses
    the sync (e.g. 403 50001: the bot is not in that guild, or was invited without
    ``applications.commands``)."""
    out = out or sys.stdout
    err = err or sys.stderr
    prepared = _prepare(settings, err)
    if isinstance(prepared, int):
        return prepared
    token, service = prepared
    bot = NewsBot(settings, service)
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    try:
        async with bot:
            await bot.login(token)
            if guild is not None:
                bot.tree.clear_commands(guild=guild)
                if not clear:
                    bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            lines = _describe(bot.tree, guild) if synced else []
            warnings: list[str] = []
            notes: list[str] = []
            if synced:
                try:
                    warnings, notes = await _twice_shown(bot, guild_id, {c.name for c in synced})
                except discord.HTTPException as error:
                    notes.append(f"could not check the other scope ({error.status} {error.code})")
    except discord.LoginFailure:
        print(_REJECTED_TOKEN, file=err)
        return EXIT_BAD_INPUT
    except discord.HTTPException as error:
        where = f"guild {guild_id}" if guild_id is not None else "all guilds"
        print(
            f"technyan-bot: Discord refused the command sync for {where} "
            f"({error.status} {error.code}: {error.text})",
            file=err,
        )
        return EXIT_FAILURE
    except (OSError, aiohttp.ClientError) as error:
        print(f"technyan-bot: could not reach Discord: {error}", file=err)
        return EXIT_FAILURE
    where = (
        f"to guild {guild_id}"
        if guild_id is not None
        else "globally (every guild; a Discord client may need a restart to show changes)"
    )
    if clear:
        print(f"removed the commands from guild {guild_id}", file=out)
    else:
        print(f"synced {len(synced)} command(s) {where}:", file=out)
        for line in lines:
            print(f"  {line}", file=out)
        for warning in warnings:
            print(f"technyan-bot: warning: {warning}", file=err)
        for note in notes:
            print(f"technyan-bot: note: {note}", file=err)
    return EXIT_OK


def sync_commands(
    settings: Settings,
    guild_id: int | None,
    *,
    clear: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """:func:`sync_commands_async` in its own event loop (for the command line)."""
    return asyncio.run(sync_commands_async(settings, guild_id, clear=clear, out=out, err=err))
