"""Operations: health check and online backup of the state database.

``check_health`` is what ``technyan-bot health`` (and the container's HEALTHCHECK) runs:
the index must open and answer a query, and the state database must be sound and
writable — the SQLite file: not empty, passing ``PRAGMA integrity_check``, with every
table, column and unique key of the current schema, and taking a write lock
(``bot.state.check_sqlite_state``; damage names the last good backup); or with
``state.url`` the PostgreSQL database: reachable, not newer than the code, its schema
complete and its tables writable by the bot's user. ``backup_state`` copies state.db with
SQLite's online backup API, so it is safe while the bot runs and writes
(https://www.sqlite.org/backup.html), and remembers the copy (bot/state_backup.py); a
PostgreSQL state is backed up with ``pg_dump``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.config import Settings
from bot.search import SearchEngine
from bot.state import check_sqlite_state
from bot.state_backup import copy_state_file

__all__ = ["backup_state", "check_health"]


def _check_index(index_path: Path) -> str | None:
    if not index_path.exists():
        return f"index: {index_path} does not exist (run `technyan-bot index`)"
    try:
        engine = SearchEngine(index_path)
    except (OSError, sqlite3.Error) as error:
        return f"index: {index_path} does not open: {error}"
    try:
        if not engine.latest(1):
            return f"index: {index_path} holds no story"
        engine.about("AI")
    except sqlite3.Error as error:
        return f"index: {index_path} does not answer a query: {error}"
    finally:
        engine.close()
    return None


def check_health(settings: Settings) -> list[str]:
    """Problems that stop the bot from serving, one sentence each (empty: healthy).

    Checks that ``settings.index_path`` exists, opens as an index and answers ``latest``
    and an ``about`` query, and that ``settings.state_path`` is a sound state database
    that can take a write lock, or can be created (``bot.state.check_sqlite_state``) — or,
    when ``settings.state_url`` is set, that the PostgreSQL database answers, has a
    complete schema and may be written (``bot.state_postgres.check_postgres``)."""
    if settings.state_url:
        from bot.state_postgres import check_postgres

        state = check_postgres(settings.state_url)
    else:
        state = check_sqlite_state(settings.state_path)
    checks = (_check_index(settings.index_path), state)
    return [problem for problem in checks if problem]


def backup_state(state_path: Path, destination: Path) -> int:
    """Copy the SQLite database ``state_path`` to ``destination`` with the online backup
    API (consistent even while another process writes) and remember it as a backup of
    ``state_path`` (``bot.state_backup``: the error for a damaged state.db names the last
    good one). Returns the destination's size in bytes. Raises ``FileNotFoundError`` when
    ``state_path`` does not exist or the destination's folder does not, ``ValueError``
    when the destination is a folder or the state database itself, and ``sqlite3.Error``
    when the database cannot be read or the copy fails its integrity check."""
    return copy_state_file(state_path, destination)
