"""A small index built from articles a test writes, opened the way ``SearchEngine`` opens
it, so each part of the search can be tested on its own."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from bot.index import build_index
from bot.sqlite_uri import connect_uri
from bot.term_statistics import TermStatistics
from tests.conftest import ArticleWriter


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


def index_of_bodies(
    tmp_path: Path, write_article: ArticleWriter, bodies: Sequence[str]
) -> tuple[sqlite3.Connection, threading.RLock, TermStatistics]:
    """An open index of one English story per body (document ids 1, 2, … in order, one
    day apart from 2025-01-01), with its term statistics."""
    for number, body in enumerate(bodies, start=1):
        write_article(
            f"articles/2025010{number}/story-{number}/en.md",
            body=f"## Body\n\n{body}\n",
            title=f"Story {number}",
            description="A story.",
            date=f"raw:2025-01-0{number}",
        )
    db, lock = open_index(build(tmp_path))
    count = int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    return db, lock, TermStatistics(db, lock, count)
