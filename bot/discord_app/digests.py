"""The digest subsystem for the Discord bot, built in one call for the runner.

``build_digest_components(settings, service)`` opens the state store
(``open_state_store``: SQLite at ``state.path``, or PostgreSQL at ``state.url``) and
returns the ``DigestAdmin`` behind the admin subcommands and the background services to
start in ``setup_hook``: the ``DigestScheduler`` posting through ``DiscordPoster``. The caller
passes them to ``NewsBot(settings, service, digest_admin=…, background=…)`` (next to the
index refresher of ``bot.refresh``).
"""

from __future__ import annotations

from bot.admin import BackgroundService, DigestAdmin
from bot.config import Settings
from bot.digest_admin import DigestAdminService
from bot.discord_app.delivery import DiscordPoster
from bot.schedule import Clock, DigestScheduler, utc_now
from bot.service import NewsService
from bot.state import open_state_store

__all__ = ["build_digest_components"]


def build_digest_components(
    settings: Settings, service: NewsService, *, clock: Clock = utc_now
) -> tuple[DigestAdmin, list[BackgroundService]]:
    """The digest admin and the scheduler over the store ``settings`` name (the store is
    closed when the scheduler stops). Raises ``bot.state.StateError`` (one line, never a
    password) when the store cannot be used: a ``state.db`` newer than this code or not
    SQLite; a bad ``state.url``, or a PostgreSQL server that cannot be reached, refuses
    the login or holds a newer schema."""
    scheduler = DigestScheduler(
        settings,
        service,
        open_state_store(settings),
        poster_factory=DiscordPoster,
        clock=clock,
        close_store=True,
    )
    return DigestAdminService(scheduler), [scheduler]
