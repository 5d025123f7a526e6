"""Progress of long index builds: bars on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from bot.index import IndexProgress
from bot.index_progress import PlainProgress
from tests.conftest import ArticleWriter


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_show_counts_rate_and_time_left_every_interval() -> None:
    stream, clock = io.StringIO(), _Clock()
    show = PlainProgress(stream, interval=5.0, clock=clock)
    show(IndexProgress("parse", 0, 40_000))
    for second in range(1, 13):
        clock.now = 100.0 + second
        show(IndexProgress("parse", second * 1_000, 40_000))
    clock.now = 140.0
    show(IndexProgress("parse", 40_000, 40_000))
    lines = stream.getvalue().splitlines()
    assert lines == [
        "index: parsing files 5,000/40,000 (1,000 files/s, about 35 s left)",
        "index: parsing files 10,000/40,000 (1,000 files/s, about 30 s left)",
        "index: parsing files 40,000/40,000 (1,000 files/s, 40.0 s)",
    ]


def _command(tmp_path: Path) -> list[str]:
    return [
        sys.executable, "-m", "bot", "index", str(tmp_path / "corpus"),
        "--db", str(tmp_path / "index.db"),
    ]  # fmt: skip


def test_index_prints_plain_progress_lines_when_not_on_a_terminal(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for number in range(3):
        write_article(f"articles/20251118/story-{number}/en.md")
    done = subprocess.run(
        _command(tmp_path), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "index: parsing files 3/3" in done.stderr
    assert "index: writing documents 3/3" in done.stderr
    assert "\x1b[" not in done.stderr  # no terminal codes in a log
    assert "documents 3" in done.stdout


def test_index_draws_progress_bars_on_a_terminal(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for number in range(3):
        write_article(f"articles/20251118/story-{number}/en.md")
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        _command(tmp_path),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"},
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not chunk:
            break
        output += chunk
    os.close(leader)
    assert child.wait(timeout=120) == 0
    shown = output.decode("utf-8", "replace")
    assert "parsing files" in shown and "writing documents" in shown
    assert "━" in shown  # a bar
    assert "3/3" in shown
    assert "index: parsing" not in shown  # not the plain lines
    assert "documents 3" in shown
