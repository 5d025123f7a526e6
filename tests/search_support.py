"""A small index built from articles a test writes, opened the way ``SearchEngine`` opens
it, so each part of the search can be tested on its own."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.index import build_index
from bot.sqlite_uri import connect_uri


def build(tmp_path: Path) -> Path:
    """Index ``tmp_path / "corpus"`` (written with ``write_article``) into a new database
    and return its path."""
    db_path = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db_path)
    return db_path


def open_index(db_path: Path) -> tuple[sqlite3.Connection, threading.RLock]:
    """A read-only connection to ``db_path`` and the lock its users share."""
    return connect_uri(db_path, mode="ro", check_same_thread=False), threading.RLock()


def story_of(db: sqlite3.Connection, document_id: int) -> str:
    """The story id of one document."""
    return str(db.execute("SELECT story FROM documents WHERE id = ?", [document_id]).fetchone()[0])
