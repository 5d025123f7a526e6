"""Start-up cost on a big index: a cold command-line answer, a service's first answer, and
the memory of each.

    python bench/startup.py [--size 100000] [--work bench/out] [--runs 10]

Three measurements, each in fresh processes, beside an FTS5-trigram process doing the same
with the baseline database:

1. ``technyan-bot news about QUERY --db INDEX`` (as ``python -m bot``), from spawn to exit
   (every import, the index opened, the query answered and printed): median and worst of
   ``--runs``. The package's modules are byte-compiled first (``compileall``, as ``pip
   install`` does), so the figure is a deployed bot's, not a checkout's that compiles its
   sources on every start.
2. A process that imports the bot, opens ``NewsService`` and answers one ``about`` query:
   seconds to imports done, engine open and first answer, and its resident memory then,
   ``VmRSS`` and ``VmHWM`` from ``/proc/self/status`` (the process's own figures:
   ``ru_maxrss`` of a child carries its parent's peak across fork and exec).
3. The heavy modules loaded by ``import bot.cli``, and those loaded once ``news about``
   has answered and printed its reply: the index builder's sqlite-utils, numpy,
   matplotlib, rich (the printer, expected only once a reply is printed), discord,
   psycopg.

Both databases are read into the OS page cache first, as on a bot restart (a cold cache
adds the disk's read time). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import compileall
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
    load_average,
    machine,
    ratio,
    table,
    warm_page_cache,
)

TARGET_CLI_SECONDS = 0.4
TARGET_RSS_MB = 150.0
QUERY = "OpenAI 規制"
HEAVY_MODULES = ("sqlite_utils", "numpy", "matplotlib", "rich", "discord", "psycopg")

# The children: run with ``python -c``; argv[1] is the database, argv[2] the repository.
_BOT_CHILD = """
import json, sys, time
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
from bench.common import proc_memory_mb
print(json.dumps({"imported": imported, "opened": opened, "answered": answered,
    "cards": len(reply.cards), **proc_memory_mb()}), flush=True)
"""
_BASELINE_CHILD = """
import json, sqlite3, sys, time
sys.path.insert(0, sys.argv[2])
from bench.baselines import search
imported = time.time()
connection = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
opened = time.time()
rows = search(connection, "OR+bm25", sys.argv[3])
titles = connection.execute(
    f"SELECT title FROM docs WHERE id IN ({','.join('?' * len(rows))})", rows
).fetchall()
answered = time.time()
from bench.common import proc_memory_mb
print(json.dumps({"imported": imported, "opened": opened, "answered": answered,
    "cards": len(titles), **proc_memory_mb()}), flush=True)
"""
_IMPORTS_CHILD = """
import contextlib, io, json, sys
heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & set(%r))
import bot.cli
imported = heavy()
with contextlib.redirect_stdout(io.StringIO()):
    bot.cli.main(["news", "about", sys.argv[2], "--db", sys.argv[1]])
print(json.dumps({"import": imported, "answer": heavy()}))
"""


def run_service(child: str, db: Path) -> dict[str, float]:
    """Spawn one child on ``db``; seconds (from spawn) to imports done, engine open and
    answer, the number of results, and VmRSS / VmHWM in MB. Raises ``RuntimeError`` when
    the child fails."""
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
        "rss": result.get("VmRSS", 0.0),
        "hwm": result.get("VmHWM", 0.0),
    }


def run_cli(db: Path) -> float:
    """Seconds from spawning ``technyan-bot news about QUERY --db DB`` to its exit.
    Raises ``RuntimeError`` when it fails."""
    # ``python -m bot`` is the ``technyan-bot`` command (bot/__main__.py), run from this
    # checkout's code whatever the environment installed.
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "news", "about", QUERY, "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"technyan-bot news about failed:\n{done.stderr[-3000:]}")
    return seconds


def run_trigram_cli(db: Path) -> float:
    """Seconds for a Python process to open the baseline, answer QUERY and print titles."""
    started = time.perf_counter()
    run_service(_BASELINE_CHILD, db)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--runs", type=int, default=10)
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
    compileall.compile_dir(str(ROOT / "bot"), quiet=1)
    warm_page_cache(index, trigram)
    load_before = load_average()
    heavy = json.loads(
        subprocess.run(
            [sys.executable, "-c", _IMPORTS_CHILD % (HEAVY_MODULES,), str(index), QUERY],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    )
    cli = [run_cli(index) for _ in range(runs)]
    base_cli = [run_trigram_cli(trigram) for _ in range(runs)]
    bot = [run_service(_BOT_CHILD, index) for _ in range(max(1, runs // 2))]
    base = [run_service(_BASELINE_CHILD, trigram) for _ in range(max(1, runs // 2))]
    load_after = load_average()

    def median(results: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in results)

    cli_median, cli_worst = statistics.median(cli), max(cli)
    rss, hwm = max(r["rss"] for r in bot), max(r["hwm"] for r in bot)
    base_rss = max(r["rss"] for r in base)
    print(f"## Start-up — {machine()}\n")
    print(f"Load average (1, 5, 15 min): {load_before} before, {load_after} after.\n")
    print(
        table(
            [
                "docs",
                "runs",
                "`news about` cold s (median)",
                "worst s",
                "trigram process s (median)",
                "ratio",
                "target",
            ],
            [
                [
                    args.size,
                    runs,
                    f"{cli_median:.3f}",
                    f"{cli_worst:.3f}",
                    f"{statistics.median(base_cli):.3f}",
                    ratio(statistics.median(base_cli), cli_median),
                    f"≤{TARGET_CLI_SECONDS:g} s "
                    f"{'PASS' if cli_median <= TARGET_CLI_SECONDS else 'FAIL'} (median); "
                    f"worst {'PASS' if cli_worst <= TARGET_CLI_SECONDS else 'FAIL'}",
                ]
            ],
        )
    )
    print()
    print(
        table(
            [
                "docs",
                "runs",
                "imports done s",
                "engine open s",
                "first answer s",
                "trigram first answer s",
                "VmRSS MB",
                "VmHWM MB",
                "trigram VmRSS MB",
                "target",
            ],
            [
                [
                    args.size,
                    len(bot),
                    f"{median(bot, 'imported'):.3f}",
                    f"{median(bot, 'opened'):.3f}",
                    f"{median(bot, 'ready'):.3f}",
                    f"{median(base, 'ready'):.3f}",
                    f"{rss:.1f}",
                    f"{hwm:.1f}",
                    f"{base_rss:.1f}",
                    f"RSS ≤{TARGET_RSS_MB:g} MB {'PASS' if hwm <= TARGET_RSS_MB else 'FAIL'}",
                ]
            ],
        )
    )
    print(
        "\nSeconds from spawning each process, the interpreter's start included. Memory "
        "from /proc/self/status of the measured process itself. Heavy modules loaded by "
        f"`import bot.cli`: {', '.join(heavy['import']) or 'none'}; by then answering "
        f"`news about` and printing the reply: {', '.join(heavy['answer']) or 'none'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
