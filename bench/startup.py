"""Start-up cost: time from process start to the first answer, and memory, on a big index.

    python bench/startup.py [--size 100000] [--work bench/out] [--runs 3]

Each run starts a fresh Python process that imports the bot, opens ``NewsService`` on the
index of the synthetic corpus of ``--size`` documents (built by ``bench/index_scale.py``,
or here when missing) and answers one ``about`` query. Measured from just before the
process is spawned to the moment it prints its answer: the seconds to ready (median and
worst of the runs), when the imports were done, when the search engine was open, and the
peak RSS of the process (MB). The baseline beside it is a process that opens the
FTS5-trigram database and answers the same query with bm25. Both databases are read into
the OS page cache first, as on a bot restart (a cold cache adds the disk's read time).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    DEFAULT_WORK,
    ensure_indexes,
    machine,
    ratio,
    table,
    warm_page_cache,
)

TARGET_READY_SECONDS = 2.0
TARGET_RSS_MB = 400.0
QUERY = "OpenAI 規制"

# The children: run with ``python -c``; argv[1] is the database, argv[2] the repository.
_BOT_CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from bot.config import load_settings
from bot.service import NewsService
imported = time.time()
settings = load_settings(None, environ={}).with_paths(index=Path(sys.argv[1]))
service = NewsService(settings)
engine = service.engine
opened = time.time()
reply = service.about(sys.argv[3], locale="ja")
answered = time.time()
print(json.dumps({"imported": imported, "opened": opened, "answered": answered,
    "cards": len(reply.cards),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""
_BASELINE_CHILD = """
import json, resource, sqlite3, sys, time
sys.path.insert(0, sys.argv[2])
from bench.common import trigram_search
imported = time.time()
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
opened = time.time()
rows = trigram_search(connection, sys.argv[3])
answered = time.time()
print(json.dumps({"imported": imported, "opened": opened, "answered": answered,
    "cards": len(rows),
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def run_once(child: str, db: Path) -> dict[str, float]:
    """Spawn one child on ``db``; seconds (from spawn) to imports done, engine open and
    answer, the number of results and peak RSS in MB. Raises ``RuntimeError`` when the
    child fails."""
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, "-c", child, str(db), str(ROOT), QUERY],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0:
        raise RuntimeError(f"start-up child failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "imported": result["imported"] - spawned,
        "opened": result["opened"] - spawned,
        "ready": result["answered"] - spawned,
        "cards": result["cards"],
        "rss_mb": result["rss_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        index, trigram, _ = ensure_indexes(work, args.size, args.seed)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    runs = max(1, args.runs)
    warm_page_cache(index, trigram)
    bot = [run_once(_BOT_CHILD, index) for _ in range(runs)]
    base = [run_once(_BASELINE_CHILD, trigram) for _ in range(runs)]

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in results)

    ready, worst = median(bot, "ready"), max(r["ready"] for r in bot)
    rss = max(r["rss_mb"] for r in bot)
    base_ready, base_rss = median(base, "ready"), max(r["rss_mb"] for r in base)
    ready_ok = worst <= TARGET_READY_SECONDS
    rss_ok = rss <= TARGET_RSS_MB
    print(f"## Start-up — {machine()}\n")
    print(
        table(
            [
                "docs",
                "runs",
                "imports done s",
                "engine open s",
                "ready s (median)",
                "ready s (worst)",
                "trigram ready s",
                "ready ratio",
                "peak RSS MB",
                "trigram RSS MB",
                "RSS ratio",
                "targets",
            ],
            [
                [
                    args.size,
                    runs,
                    f"{median(bot, 'imported'):.2f}",
                    f"{median(bot, 'opened'):.2f}",
                    f"{ready:.2f}",
                    f"{worst:.2f}",
                    f"{base_ready:.2f}",
                    ratio(base_ready, ready),
                    f"{rss:.0f}",
                    f"{base_rss:.0f}",
                    ratio(base_rss, rss),
                    f"ready ≤{TARGET_READY_SECONDS:g} s {'PASS' if ready_ok else 'FAIL'}; "
                    f"RSS ≤{TARGET_RSS_MB:g} MB {'PASS' if rss_ok else 'FAIL'}",
                ]
            ],
        )
    )
    print(
        '\nSeconds from spawning the process to its first answer ("ready"), including the '
        "interpreter's start; ratios are trigram / bot (above 1: the bot is faster or smaller)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
