"""SQLite URIs for paths holding characters that URIs reserve."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.ops import backup_state
from bot.sqlite_uri import connect_uri, sqlite_uri


@pytest.mark.parametrize(
    "name", ["a#b.db", "100%.db", "what?.db", "sp ace.db", "索引.db", "%23.db"]
)
def test_a_read_only_uri_opens_exactly_that_file_and_creates_none(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (v)")
        connection.execute("INSERT INTO t VALUES (?)", [name])
    connection.close()
    reader = connect_uri(path, mode="ro")
    try:
        assert reader.execute("SELECT v FROM t").fetchone() == (name,)
        with pytest.raises(sqlite3.OperationalError):
            reader.execute("INSERT INTO t VALUES ('x')")  # read-only, as asked
    finally:
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_missing_file_is_an_error_in_read_only_mode(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        connect_uri(tmp_path / "in#dex.db", mode="ro")
    assert list(tmp_path.iterdir()) == []


def test_the_uri_escapes_reserved_characters() -> None:
    uri = sqlite_uri("/data/a#b%c?d.db", mode="ro")
    assert uri == "file:///data/a%23b%25c%3Fd.db?mode=ro"


def test_a_state_backup_works_with_hash_and_percent_in_both_paths(tmp_path: Path) -> None:
    state = tmp_path / "state #1" / "state%20.db"
    state.parent.mkdir()
    with sqlite3.connect(state) as connection:
        connection.execute("CREATE TABLE subscriptions (channel_id INTEGER)")
        connection.execute("INSERT INTO subscriptions VALUES (42)")
    connection.close()
    target = tmp_path / "backup#2.db"
    assert backup_state(state, target) > 0
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT channel_id FROM subscriptions").fetchall() == [(42,)]
    copy.close()
    # No stray file of a shorter name; the backup is remembered beside the state.
    assert sorted(p.name for p in state.parent.iterdir()) == ["state%20.db", "state%20.db.backups"]
