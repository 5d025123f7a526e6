"""Operations: health check and online backup of the state database.

``check_health`` is what ``technyan-bot health`` (and the container's HEALTHCHECK) runs:
the index must open and answer a query, and the state database must be writable (the
SQLite file, or with ``state.url`` the PostgreSQL database: reachable, not newer than the
code, its tables writable by the bot's user). ``backup_state`` copies state.db with
SQLite's online backup API, so it is safe while the bot runs and writes
(https://www.sqlite.org/backup.html); a PostgreSQL state is backed up with ``pg_dump``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from bot.config import Settings
from bot.search import SearchEngine
from bot.sqlite_uri import connect_uri

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


def _check_state(state_path: Path) -> str | None:
    if not state_path.exists():
        folder = state_path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent  # created with its folders on first start
        if os.access(folder, os.W_OK | os.X_OK):
            return None
        return f"state: {state_path} cannot be created: {folder} is not writable"
    try:
        connection = sqlite3.connect(state_path, timeout=5)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"state: {state_path} is not writable: {error}"
    return None


def check_health(settings: Settings) -> list[str]:
    """Problems that stop the bot from serving, one sentence each (empty: healthy).

    Checks that ``settings.index_path`` exists, opens as an index and answers ``latest``
    and an ``about`` query, and that ``settings.state_path`` can take a write lock (or can
    be created) — or, when ``settings.state_url`` is set, that the PostgreSQL database
    answers and may be written (``bot.state_postgres.check_postgres``)."""
    if settings.state_url:
        from bot.state_postgres import check_postgres

        state = check_postgres(settings.state_url)
    else:
        state = _check_state(settings.state_path)
    checks = (_check_index(settings.index_path), state)
    return [problem for problem in checks if problem]


def backup_state(state_path: Path, destination: Path) -> int:
    """Copy the SQLite database ``state_path`` to ``destination`` with the online backup
    API (consistent even while another process writes). Returns the destination's size in
    bytes. Raises ``FileNotFoundError`` when ``state_path`` does not exist or the
    destination's folder does not, ``ValueError`` when the destination is a folder or the
    state database itself, and ``sqlite3.Error`` when the database cannot be read."""
    if not state_path.is_file():
        raise FileNotFoundError(f"state database not found: {state_path}")
    if destination.is_dir():
        raise ValueError(
            f"{destination} is a folder; give a file name, e.g. {destination}/state.db"
        )
    if destination.resolve() == state_path.resolve():
        raise ValueError(f"{destination} is the state database itself; give another file")
    if not destination.parent.is_dir():
        raise FileNotFoundError(f"folder not found: {destination.parent}")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    source = connect_uri(state_path, mode="ro", timeout=10)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=256)
        finally:
            target.close()
    finally:
        source.close()
    os.replace(partial, destination)
    return destination.stat().st_size
