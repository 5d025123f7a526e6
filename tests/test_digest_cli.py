"""``technyan-bot digest preview`` and ``/news digest preview`` at the console."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.digest_support import write_story

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("digest-cli")
    write_story(root / "corpus", "2025-11-17", "yesterday-story", title="Yesterday's model")
    write_story(root / "corpus", "2025-11-18", "today-story", impact="high", title="Today's model")
    environment = {
        **os.environ,
        "TECHNYAN_CORPUS_PATH": str(root / "corpus"),
        "TECHNYAN_INDEX_PATH": str(root / "index.db"),
        "TECHNYAN_STATE_PATH": str(root / "state.db"),
    }
    environment.pop("DISCORD_TOKEN", None)
    return environment


def run(
    environment: dict[str, str], *arguments: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env=environment,
    )


def test_digest_preview_prints_the_messages_of_a_date(environment: dict[str, str]) -> None:
    done = run(environment, "digest", "preview", "--locale", "en", "--date", "2025-11-18")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "November 18" in lines[0]  # technyan's opening, the message's text
    assert lines[1] == "【🐾 AI news digest · November 18, 2025】"  # the embed's title
    assert lines[2].startswith("**1. [Today's model](")  # the high-impact story first
    assert "**2. [Yesterday's model](" in done.stdout
    assert lines[-1] == "🐾 テクにゃん. digest 2025-11-18 · 1/1"  # its footer, the marker

    quiet = run(environment, "digest", "preview", "--locale", "ja", "--date", "2025-12-25")
    assert quiet.returncode == 0 and "12月25日" in quiet.stdout


@pytest.mark.parametrize(
    "arguments",
    [("--date", "18/11/2025"), ("--max-items", "11"), ("--timezone", "Mars/Olympus")],
)
def test_digest_preview_rejects_bad_input(
    environment: dict[str, str], arguments: tuple[str, str]
) -> None:
    done = run(environment, "digest", "preview", *arguments)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_console_digest_preview(environment: dict[str, str]) -> None:
    done = run(environment, "console", "--locale", "ja", stdin="/news digest preview\n")
    assert done.returncode == 0, done.stderr
    assert "🐾 テクにゃん. digest" in done.stdout
