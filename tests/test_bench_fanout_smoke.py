"""A small run of the digest fan-out benchmark: it runs and prints its table (no timing
is asserted; figures live in bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_digest_fanout_benchmark_runs(real_corpus: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "bench" / "digest_fanout.py"),
            "--subscriptions",
            "60",
            "--post",
            "12",
            "--guilds",
            "2",
            "--corpus",
            str(real_corpus),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| compose 60 digests (s) |" in done.stdout
    assert "| post 12 digests" in done.stdout
    assert "each once: PASS" in done.stdout
