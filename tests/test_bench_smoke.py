"""Smoke runs of the scale benchmarks (bench/): each runs on a tiny synthetic corpus, exits
0 and prints its table. No timing is asserted here: the figures are in bench/RESULTS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.corpus import discover
from tests.conftest import REAL_CORPUS

ROOT = Path(__file__).resolve().parents[1]
SIZE = 60

pytestmark = pytest.mark.skipif(
    not REAL_CORPUS.is_dir(),
    reason=f"the benchmarks recombine the real corpus, not found at {REAL_CORPUS} "
    "(../shared is absent)",
)


def run(script: str, *args: str) -> str:
    """Run ``bench/<script>`` with ``args``; assert exit 0 and return its stdout."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work folder shared by the runs, so the corpus and indexes are made once."""
    return tmp_path_factory.mktemp("bench")


def test_make_corpus_writes_n_documents_in_the_site_layout(tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    stdout = run("make_corpus.py", str(SIZE), str(out), "--seed", "3")
    assert "| documents | stories |" in stdout
    files = [path.relative_to(out).as_posix() for path, _ in discover(out)]
    assert len(files) == SIZE
    assert all(f.endswith(("/ja.md", "/en.md")) for f in files)
    assert any(f.startswith("articles/") for f in files)
    manifest = json.loads((out / "bench-manifest.json").read_text(encoding="utf-8"))
    assert manifest["documents"] == SIZE and manifest["names"]
    again = tmp_path / "again"
    run("make_corpus.py", str(SIZE), str(again), "--seed", "3")
    first = sorted(p.read_bytes() for p in out.rglob("*.md"))
    assert first == sorted(p.read_bytes() for p in again.rglob("*.md"))


def test_index_scale_prints_build_and_lag_tables(work: Path) -> None:
    stdout = run("index_scale.py", "--sizes", str(SIZE), "--work", str(work))
    assert "| docs | build | docs processed | bot wall s | bot CPU s | trigram wall s |" in stdout
    assert f"| {SIZE} | full |" in stdout and f"| {SIZE} | 1% update |" in stdout
    assert "| docs | build | build s | ticks | p99 lag ms | max lag ms |" in stdout


def test_query_scale_prints_latency_tables_beside_each_baselines_relevance(work: Path) -> None:
    stdout = run("query_scale.py", "--sizes", str(SIZE), "--work", str(work), "--quick")
    assert "| system | search_dev MRR@10 / recall@5 |" in stdout
    assert "| op | queries | bot first p50 ms | bot first tail ms |" in stdout
    for op in ("about", "latest", "autocomplete", "ask"):
        assert f"| {op} |" in stdout
    assert "#### about per kind of query" in stdout
    assert "| OR+bm25 |" in stdout and "AND newest" in stdout


def test_startup_prints_its_tables(work: Path) -> None:
    stdout = run("startup.py", "--size", str(SIZE), "--work", str(work), "--runs", "1")
    assert "| docs | runs | `news about` cold s (median) |" in stdout
    assert "| docs | runs | imports done s | engine open s | first answer s |" in stdout
    # Answering and printing loads only the printer (rich): no numpy, no index builder.
    assert (
        "Heavy modules loaded by `import bot.cli`: none; by then answering `news about` and "
        "printing the reply: rich." in stdout
    )


def test_memory_prints_its_table(work: Path) -> None:
    stdout = run("memory.py", "--size", str(SIZE), "--work", str(work), "--commands", "20")
    assert "| docs | commands | n | start VmRSS MB (anon + file) |" in stdout
    assert stdout.count(f"| {SIZE} | about, latest, ask, autocomplete") == 3
    # The start reading depends on the mapped files' pages being cached: first measured
    # with the dictionary and the libraries evicted, then with the dictionary cached.
    assert stdout.count("; dictionary and libraries evicted |") == 1
    assert stdout.count("; dictionary cached |") == 2
