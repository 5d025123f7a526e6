"""SQLite URI filenames built with proper escaping.

``sqlite3.connect(f"file:{path}?mode=ro", uri=True)`` breaks on a path holding ``#``
(the rest is taken as a URI fragment: SQLite opens, and may create, a file of the shorter
name), ``?`` (the query starts early) or ``%`` (read as an escape). SQLite's URI rules
(https://www.sqlite.org/uri.html) want those percent-encoded; ``pathlib.Path.as_uri``
does that (``urllib.parse.quote``), and the parameters are encoded with
``urllib.parse.urlencode``. Every URI connection of the bot goes through here.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

__all__ = ["connect_uri", "sqlite_uri"]


def sqlite_uri(path: str | os.PathLike[str], **parameters: str) -> str:
    """The ``file:`` URI of the database file ``path`` (made absolute, every reserved
    character percent-encoded) with ``parameters`` as its query:
    ``sqlite_uri("data/in#dex.db", mode="ro")`` →
    ``"file:///…/data/in%23dex.db?mode=ro"``."""
    uri = Path(os.path.abspath(path)).as_uri()
    return f"{uri}?{urlencode(parameters)}" if parameters else uri


def connect_uri(
    path: str | os.PathLike[str], *, mode: str = "ro", **connect_arguments: Any
) -> sqlite3.Connection:
    """``sqlite3.connect`` on ``sqlite_uri(path, mode=mode)`` (``ro``: read-only, never
    creates the file; ``rw``; ``rwc``). ``connect_arguments`` go to ``sqlite3.connect``
    (``timeout``, ``check_same_thread``, …). Raises ``sqlite3.OperationalError`` when the
    file cannot be opened in that mode."""
    connection: sqlite3.Connection = sqlite3.connect(
        sqlite_uri(path, mode=mode), uri=True, **connect_arguments
    )
    return connection
