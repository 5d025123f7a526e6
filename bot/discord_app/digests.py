"""The digest subsystem for the Discord bot, built in one call for the runner.

``build_digest_components(settings, service)`` opens the state store
(``open_state_store``: SQLite at ``state.path``, or PostgreSQL at ``state.url``, verified
as it opens) and returns the ``DigestAdmin`` behind the admin subcommands and the
background services to start in ``setup_hook``: the ``DigestScheduler`` posting through
``DiscordPoster``, paced by the bot's ``SharedRequestBudget`` in that store (so every
process of the bot together stays under Discord's global rate limit). Store calls run on
the scheduler's ``StateCalls`` thread. A SQLite state also gets a daily snapshot beside it
(``bot.state_backup.daily_snapshot``), made at start and with each recovery pass. The
caller passes them to ``NewsBot(settings, service, digest_admin=…, background=…)`` (next
to the index refresher of ``bot.refresh``).
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.admin import BackgroundService, DigestAdmin
from bot.config import Settings
from bot.digest_admin import DigestAdminService
from bot.discord_app.delivery import (
    GLOBAL_REQUESTS_PER_SECOND,
    DiscordPoster,
    SharedRequestBudget,
)
from bot.schedule import Clock, DigestScheduler, ProcessIdentity, utc_now
from bot.service import NewsService
from bot.state import SqliteStateStore, StateStore, open_state_store
from bot.state_backup import daily_snapshot
from bot.state_calls import StateCalls

__all__ = ["build_digest_components"]

log = logging.getLogger(__name__)


def _snapshots(state_path: Path) -> Callable[[dt.datetime], None]:
    """The daily snapshot of ``state_path``, logged and never raised."""

    def snapshot(now: dt.datetime) -> None:
        try:
            made = daily_snapshot(state_path, now)
        except (OSError, sqlite3.Error) as error:
            log.warning("daily snapshot of %s not made: %s", state_path, error)
            return
        if made is not None:
            log.info("daily snapshot of %s made: %s", state_path, made)

    return snapshot


def build_digest_components(
    settings: Settings,
    service: NewsService,
    *,
    clock: Clock = utc_now,
    requests_per_second: float = GLOBAL_REQUESTS_PER_SECOND,
    identity: ProcessIdentity | None = None,
    store: StateStore | None = None,
) -> tuple[DigestAdmin, list[BackgroundService]]:
    """The digest admin and the scheduler over the store ``settings`` name (or ``store``;
    it is closed when the scheduler stops). ``requests_per_second`` is the budget all the
    bot's processes share; ``identity`` this process (default: a new one). Raises
    ``bot.state.StateError`` (one line, never a password) when the store cannot be used:
    a ``state.db`` newer than this code, or damaged (``StateDamaged``, naming the last
    good backup); a bad ``state.url``, or a PostgreSQL server that cannot be reached,
    refuses the login or holds a newer schema."""
    store = store or open_state_store(settings)
    calls = StateCalls()
    housekeeping = None
    if isinstance(store, SqliteStateStore):
        housekeeping = _snapshots(store.path)
        housekeeping(clock())

    def poster(bot: Any) -> DiscordPoster:
        async def reserve(budget: str, interval: float) -> float:
            return await calls.run(store.reserve_request_slot, budget, interval)

        application = getattr(bot, "application_id", None) or "bot"
        budget = SharedRequestBudget(
            reserve,
            budget=f"discord-global:{application}",
            rate=requests_per_second,
            store_failing=lambda: calls.failing,
        )
        return DiscordPoster(bot, spacer=budget)

    scheduler = DigestScheduler(
        settings,
        service,
        store,
        poster_factory=poster,
        clock=clock,
        identity=identity,
        calls=calls,
        housekeeping=housekeeping,
        close_store=True,
    )
    return DigestAdminService(scheduler), [scheduler]
