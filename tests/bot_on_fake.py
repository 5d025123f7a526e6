"""The ``technyan-bot`` command line in a process of its own, talking to a fake Discord
that runs in the test's process.

Run as ``python -m tests.bot_on_fake run`` (any arguments of ``technyan-bot``) from the
repository root, with ``FAKE_DISCORD_API`` and ``FAKE_DISCORD_GATEWAY`` naming the fake's
REST base and gateway URL (``FakeDiscord.api_url`` and ``ws_url``). The fake patches
discord.py only in its own process, so this sets ``discord.http.Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY`` the same way, then hands over to ``bot.cli.main``:
the process is the bot a user runs, signal handlers and exit status included.
"""

from __future__ import annotations

import os
import sys

import discord.gateway
import discord.http
import yarl

from bot.cli import main


def point_at_fake() -> None:
    """Send discord.py's REST requests and gateway connection to the fake."""
    discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])


if __name__ == "__main__":
    point_at_fake()
    sys.exit(main(sys.argv[1:]))
