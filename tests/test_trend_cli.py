"""`technyan-bot news trend` and the console's `/news trend`, run as a user runs them."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SPARKLINE = re.compile(r"[▁▂▃▄▅▆▇█]{2,}")


def run(
    *arguments: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("DISCORD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=cwd,
        env=environment,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_cli_writes_the_png_and_prints_its_path_and_sparklines(
    real_index: Path, tmp_path: Path
) -> None:
    out = tmp_path / "charts" / "claude-gemini.png"
    out.parent.mkdir()
    done = run(
        "news", "trend", "Claude,", "Gemini", "--db", str(real_index), "--out", str(out),
        "--locale", "en", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == str(out)
    assert png_size(out) == (1200, 600) and out.stat().st_size <= 500 * 1024
    summaries = [line for line in lines if SPARKLINE.search(line)]
    assert [line.split()[0] for line in summaries] == ["Claude", "Gemini"]
    assert all(re.search(r"\d+ stories", line) for line in summaries)


def test_the_default_file_is_named_after_the_topic_in_the_current_folder(
    real_index: Path, tmp_path: Path
) -> None:
    done = run("news", "trend", "DeepSeek", "--db", str(real_index), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "trend-deepseek.png"
    assert png_size(tmp_path / "trend-deepseek.png") == (1200, 600)
    # A Japanese topic is answered in Japanese without --locale.
    done = run("news", "trend", "ディープシーク", "--db", str(real_index), cwd=tmp_path)
    assert done.returncode == 0 and "件" in done.stdout and "にゃ" in done.stdout


def test_nothing_to_chart_writes_nothing_and_exits_1_or_2_for_a_bad_period(
    real_index: Path, tmp_path: Path
) -> None:
    done = run("news", "trend", "Zyxqwv", "--db", str(real_index), cwd=tmp_path)
    assert done.returncode == 1
    assert "Zyxqwv" in done.stdout and not list(tmp_path.glob("*.png"))
    # A period it cannot read is a usage error, as any other option's.
    done = run(
        "news", "trend", "DeepSeek", "--period", "someday", "--db", str(real_index), cwd=tmp_path
    )
    assert done.returncode == 2 and "someday" in done.stdout
    assert not list(tmp_path.glob("*.png"))


def test_an_unwritable_out_file_is_named_with_exit_2_and_no_traceback(
    real_index: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "charts"
    folder.mkdir()
    done = run(
        "news", "trend", "Claude", "--db", str(real_index), "--out", str(folder),
        "--locale", "en", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"cannot write the chart to {folder}" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_console_draws_the_trend_and_says_where_it_is(
    real_index: Path, real_corpus: Path, tmp_path: Path, locale: str
) -> None:
    env = {"TMPDIR": str(tmp_path), "TECHNYAN_CORPUS_PATH": str(real_corpus)}
    lines = "/news trend DeepSeek, Gemini period:6m\n/news trend Zyxqwv\n/quit\n"
    done = run(
        "console", "--db", str(real_index), "--locale", locale, stdin=lines, env=env, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    chart = tmp_path / "technyan-bot"  # tempfile.gettempdir() follows TMPDIR
    written = chart / "trend-deepseek-gemini.png"
    assert png_size(written) == (1200, 600)
    assert str(written) in done.stdout
    assert len(SPARKLINE.findall(done.stdout)) == 2
    assert not (chart / "trend-zyxqwv.png").exists()
