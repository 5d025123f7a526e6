"""Backups of a SQLite ``state.db`` and finding the last good one.

Two kinds of backup are known for a state file ``data/state.db``:

* copies made with ``technyan-bot backup OUT`` (``copy_state_file``), each remembered in
  ``data/state.db.backups`` (one JSON object per line: ``path``, ``at``);
* daily snapshots the running bot makes itself (``daily_snapshot``):
  ``data/backups/state-YYYY-MM-DD.db`` (UTC date), the newest ``SNAPSHOTS_KEPT`` kept.

Every copy is made with SQLite's online backup API (consistent while the bot writes,
https://www.sqlite.org/backup.html), written beside its destination and renamed over it
only once ``PRAGMA quick_check`` passed on it. ``last_good_backup`` checks candidates
newest first (integrity, and the state tables present) and returns the first good one,
which the error for a damaged ``state.db`` names (``backup_hint``).

Files are only ever opened through SQLite here: closing a plain file descriptor on a
database releases the POSIX locks SQLite holds on it in this process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
from pathlib import Path

from bot.sqlite_uri import connect_uri

__all__ = [
    "SNAPSHOTS_KEPT",
    "backup_hint",
    "copy_state_file",
    "daily_snapshot",
    "last_good_backup",
    "registry_path",
    "sqlite_copy_problem",
]

log = logging.getLogger(__name__)

#: Daily snapshots kept beside state.db (the oldest are removed).
SNAPSHOTS_KEPT = 7
_STATE_TABLES = ("subscriptions", "digest_ledger", "schema_version")


def registry_path(state_path: Path) -> Path:
    """Where backups made with ``technyan-bot backup`` are remembered."""
    return state_path.with_name(state_path.name + ".backups")


def snapshot_folder(state_path: Path) -> Path:
    """The folder of the bot's daily snapshots, beside ``state_path``."""
    return state_path.parent / "backups"


def sqlite_copy_problem(path: Path) -> str | None:
    """Why ``path`` is not a good copy of a state database (None when it is): it does
    not open as SQLite, fails ``PRAGMA quick_check`` or lacks a state table."""
    try:
        connection = connect_uri(path, mode="ro", timeout=5)
    except sqlite3.Error as error:
        return str(error)
    try:
        [result] = connection.execute("PRAGMA quick_check").fetchone()
        if result != "ok":
            return f"integrity check: {result}"
        names = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = [table for table in _STATE_TABLES if table not in names]
        if missing:
            return f"no {', '.join(missing)} table"
    except sqlite3.Error as error:
        return str(error)
    finally:
        connection.close()
    return None


def _copy(source: Path, destination: Path) -> int:
    """Online-backup ``source`` into ``destination`` through a checked partial file."""
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    reader = connect_uri(source, mode="ro", timeout=10)
    try:
        target = sqlite3.connect(partial)
        try:
            reader.backup(target, pages=256)
            [result] = target.execute("PRAGMA quick_check").fetchone()
        finally:
            target.close()
    finally:
        reader.close()
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise sqlite3.DatabaseError(f"the copy of {source} fails its integrity check: {result}")
    os.replace(partial, destination)
    return destination.stat().st_size


def copy_state_file(state_path: Path, destination: Path, now: dt.datetime | None = None) -> int:
    """Copy the SQLite database ``state_path`` to ``destination`` with the online backup
    API and remember it in ``registry_path(state_path)`` (skipped with a warning when
    that file cannot be written). Returns the destination's size in bytes. Raises
    ``FileNotFoundError`` when ``state_path`` or the destination's folder does not
    exist, ``ValueError`` when the destination is a folder or the state database itself,
    and ``sqlite3.Error`` when the database cannot be read or the copy is not sound."""
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
    size = _copy(state_path, destination)
    made = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    line = json.dumps({"path": str(destination.resolve()), "at": made.isoformat()})
    try:
        with registry_path(state_path).open("a", encoding="utf-8") as registry:
            registry.write(line + "\n")
    except OSError as error:
        log.warning("backup made but not remembered in %s: %s", registry_path(state_path), error)
    return size


def daily_snapshot(
    state_path: Path, now: dt.datetime, *, keep: int = SNAPSHOTS_KEPT
) -> Path | None:
    """Make today's (UTC) snapshot of ``state_path`` unless it exists, and remove all but
    the newest ``keep``. Returns the new snapshot, or None when there was nothing to do.
    Raises ``OSError`` or ``sqlite3.Error`` when the copy cannot be made."""
    if not state_path.is_file():
        return None
    folder = snapshot_folder(state_path)
    target = folder / f"{state_path.stem}-{now.astimezone(dt.UTC).date().isoformat()}.db"
    if target.exists():
        return None
    folder.mkdir(parents=True, exist_ok=True)
    _copy(state_path, target)
    snapshots = sorted(folder.glob(f"{state_path.stem}-????-??-??.db"))
    for old in snapshots[: max(0, len(snapshots) - keep)]:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


def _candidates(state_path: Path) -> list[Path]:
    """Every known backup of ``state_path`` that exists, newest first."""
    found: set[Path] = set()
    with contextlib.suppress(OSError):
        for line in registry_path(state_path).read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                found.add(Path(json.loads(line)["path"]))
    with contextlib.suppress(OSError):
        found.update(snapshot_folder(state_path).glob(f"{state_path.stem}-????-??-??.db"))
    existing = []
    for path in found:
        with contextlib.suppress(OSError):
            if path.is_file() and path.resolve() != state_path.resolve():
                existing.append((path.stat().st_mtime, path))
    return [path for _, path in sorted(existing, reverse=True)]


def last_good_backup(state_path: Path) -> tuple[Path, dt.datetime] | None:
    """The newest backup of ``state_path`` that passes ``sqlite_copy_problem``, with its
    modification time (UTC), or None."""
    for path in _candidates(state_path):
        if sqlite_copy_problem(path) is None:
            made = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
            return path, made
    return None


def backup_hint(state_path: Path) -> str:
    """What to do about a damaged ``state_path``, naming the last good backup (one
    sentence, for error messages)."""
    found = last_good_backup(state_path)
    if found is None:
        return (
            "no good backup of it was found (`technyan-bot backup OUT` makes one; the bot "
            f"also keeps daily copies in {snapshot_folder(state_path)})"
        )
    path, made = found
    return (
        f"the last good backup is {path} ({made:%Y-%m-%d %H:%M} UTC): stop the bot, move "
        f"the damaged file aside and copy the backup to {state_path}"
    )
