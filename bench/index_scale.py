"""Index build cost as the corpus grows, beside an FTS5-trigram baseline built in the same run.

    python bench/index_scale.py [--sizes 1000,10000,100000] [--work bench/out]
                                [--lag-sizes LARGEST] [--seed 1]

For each size: a synthetic corpus (``bench/make_corpus.py``, cached in the work folder),
then, each in its own subprocess so its peak memory is its own:

1. full build of the bot's index (``bot.index.build_index(full=True)``, which spreads
   parsing and analysis over a process pool, one worker per core);
2. full build of the baseline (plain FTS5 trigram over title, description, tags, body);
3. 1 % of the files rewritten with one changed sentence, then the incremental update of
   each (the bot's ``build_index`` and the baseline's delete + insert of changed rows).

Printed per size and kind of build: wall seconds and CPU seconds (the building process
and every worker it waited for, user + system), documents per second (all documents for
a full build, changed ones for an update), database size, peak RSS of the building
process and of its largest pool worker (``VmHWM`` from ``/proc``: each process's own,
sampled every 0.2 s for the workers), each beside the baseline's figure and the ratio
baseline / bot (above 1: the bot is faster or smaller). The machine's load average is
printed before and after: on a shared machine wall seconds stretch, CPU seconds much less.

Then the event loop's lag while the bot rebuilds (sizes in ``--lag-sizes``, default the
largest): a subprocess runs an asyncio loop with a 10 ms ticker while
``await asyncio.to_thread(build_index, …)`` runs a full build and then an update after
1 % changes; the lag is how late each tick fires. Targets are marked PASS/FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    DEFAULT_SIZES,
    DEFAULT_WORK,
    build_trigram,
    ensure_corpus,
    file_mb,
    index_path,
    load_average,
    machine,
    parse_sizes,
    percentile,
    proc_memory_mb,
    ratio,
    run_child,
    table,
    touch_files,
    trigram_path,
)

TARGET_FULL_SECONDS_100K = 120.0
TARGET_CPU_RATIO = 1.0  # the bot's full build in no more CPU seconds than the baseline's
TARGET_INCREMENTAL_SHARE = 0.10
TARGET_DB_MB_100K = 1000.0
TARGET_LAG_MS = 50.0
CHANGED_SHARE = 0.01
TICK_SECONDS = 0.010


# -- children (each measured in its own process) ------------------------------------------------


class _WorkerPeaks:
    """Samples the resident peak (``VmHWM``) of this process's children every 0.2 s, while
    it runs as a context manager; ``peak_mb`` is the largest seen."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(0.2):
            for child in me.children(recursive=True):
                self.peak_mb = max(self.peak_mb, proc_memory_mb(child.pid).get("VmHWM", 0.0))

    def __enter__(self) -> _WorkerPeaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_seconds() -> float:
    """User + system seconds of this process and of every child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child_build(corpus: Path, db: Path, full: bool) -> dict[str, object]:
    """Build the bot's index; wall and CPU seconds, counts, and peak RSS (MB) of this
    process and of its largest pool worker."""
    from bot.index import build_index

    cpu = _cpu_seconds()
    started = time.perf_counter()
    with _WorkerPeaks() as workers:
        report = build_index(corpus, db, full=full)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        "documents": report.documents,
        "changed": report.changed if not report.rebuilt else report.documents,
        "skipped": len(report.skipped),
        "rss_mb": proc_memory_mb().get("VmHWM", 0.0),
        "worker_rss_mb": workers.peak_mb,
    }


def child_trigram(corpus: Path, db: Path, full: bool) -> dict[str, object]:
    """Build or update the FTS5-trigram baseline; wall and CPU seconds, counts and peak RSS
    (MB)."""
    cpu = _cpu_seconds()
    started = time.perf_counter()
    counts = build_trigram(corpus, db, full=full)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": _cpu_seconds() - cpu,
        **counts,
        "rss_mb": proc_memory_mb().get("VmHWM", 0.0),
        "worker_rss_mb": 0.0,
    }


async def _lagged_build(corpus: Path, db: Path, full: bool) -> dict[str, object]:
    from bot.config import load_settings
    from bot.refresh import IndexRefresher
    from bot.service import NewsService

    if full:
        db.unlink(missing_ok=True)
    settings = load_settings(None, environ={}).with_paths(corpus=corpus, index=db)
    service = NewsService(settings)
    if not full:
        service.engine  # noqa: B018 - the bot is serving from the current index
    refresher = IndexRefresher(service, interval=3600.0)
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    done = False

    async def ticker() -> None:
        expected = loop.time() + TICK_SECONDS
        while not done:
            await asyncio.sleep(TICK_SECONDS)
            now = loop.time()
            lags.append(max(0.0, now - expected))
            expected = now + TICK_SECONDS

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    started = time.perf_counter()
    report = await refresher.refresh_in_subprocess() or {}
    seconds = time.perf_counter() - started
    done = True
    await task
    changed = sum(int(report.get(key, 0)) for key in ("added", "updated", "removed"))
    return {
        "seconds": seconds,
        "changed": changed,
        "ticks": len(lags),
        "max_ms": max(lags, default=0.0) * 1000,
        "p99_ms": percentile(lags, 0.99) * 1000,
        "over_50ms": sum(1 for lag in lags if lag > TARGET_LAG_MS / 1000),
    }


def child_lag(corpus: Path, db: Path, full: bool) -> dict[str, object]:
    """Run the bot's own refresh (``IndexRefresher``: the build in a child process, then
    the index reopened in a thread) under an asyncio loop with a 10 ms ticker; the
    ticker's lag (ms): max, p99 and ticks later than 50 ms."""
    return asyncio.run(_lagged_build(corpus, db, full))


# -- the parent ---------------------------------------------------------------------------------


RETRIES: list[str] = []


def _child(kind: str, corpus: Path, db: Path, full: bool) -> dict[str, object]:
    """Run one measurement in a fresh process; a failed run is reported (printed under the
    tables) and run once more."""
    args = [str(Path(__file__)), "--child", kind, str(corpus), str(db)]
    if full:
        args.append("--full")
    try:
        return run_child(args)
    except RuntimeError as error:
        last = str(error).strip().splitlines()[-1]
        what = f"{kind} {'full' if full else 'update'} of {corpus.name}"
        RETRIES.append(f"{what} failed once ({last}) and was run again")
        print(f"# {RETRIES[-1]}", file=sys.stderr, flush=True)
        return run_child(args)


def _status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure_size(work: Path, size: int, seed: int) -> list[list[object]]:
    """Full and incremental builds of the bot and the baseline at ``size`` documents;
    table rows."""
    corpus, _manifest = ensure_corpus(work, size, seed)
    index, trigram = index_path(work, size), trigram_path(work, size)
    print(f"# {size}: full builds", file=sys.stderr, flush=True)
    full = _child("build", corpus, index, True)
    base_full = _child("trigram", corpus, trigram, True)
    touched = touch_files(corpus, CHANGED_SHARE, seed=size)
    print(f"# {size}: {touched} files changed, updates", file=sys.stderr, flush=True)
    update = _child("build", corpus, index, False)
    base_update = _child("trigram", corpus, trigram, False)
    rows = []
    full_seconds = float(full["seconds"])  # type: ignore[arg-type]
    full_cpu = float(full["cpu_seconds"])  # type: ignore[arg-type]
    for kind, product, base in (("full", full, base_full), ("1% update", update, base_update)):
        seconds = float(product["seconds"])  # type: ignore[arg-type]
        cpu = float(product["cpu_seconds"])  # type: ignore[arg-type]
        base_seconds = float(base["seconds"])  # type: ignore[arg-type]
        base_cpu = float(base["cpu_seconds"])  # type: ignore[arg-type]
        processed = int(product["changed"])  # type: ignore[call-overload]
        db_mb, base_mb = file_mb(index), file_mb(trigram)
        targets = []
        if kind == "full" and size >= 100_000:
            targets.append(
                f"≤{TARGET_FULL_SECONDS_100K:.0f} s wall "
                f"{_status(seconds <= TARGET_FULL_SECONDS_100K)}"
            )
            targets.append(f"CPU ≤ trigram's {_status(cpu <= TARGET_CPU_RATIO * base_cpu)}")
            targets.append(f"≤1 GB {_status(db_mb <= TARGET_DB_MB_100K)}")
        if kind != "full":
            share = seconds / full_seconds if full_seconds else 0.0
            cpu_share = cpu / full_cpu if full_cpu else 0.0
            targets.append(
                f"{share:.0%} of full wall, {cpu_share:.0%} of its CPU (≤10 %) "
                f"{_status(share <= TARGET_INCREMENTAL_SHARE)}"
            )
        rows.append(
            [
                size,
                kind,
                processed,
                f"{seconds:.2f}",
                f"{cpu:.2f}",
                f"{base_seconds:.2f}",
                f"{base_cpu:.2f}",
                ratio(base_seconds, seconds),
                ratio(base_cpu, cpu),
                f"{processed / seconds:.0f}" if seconds else "–",
                f"{db_mb:.1f}",
                f"{base_mb:.1f}",
                f"{float(product['rss_mb']):.0f}",  # type: ignore[arg-type]
                f"{float(product['worker_rss_mb']):.0f}",  # type: ignore[arg-type]
                f"{float(base['rss_mb']):.0f}",  # type: ignore[arg-type]
                "; ".join(targets) or "–",
            ]
        )
    return rows


def measure_lag(work: Path, size: int, seed: int) -> list[list[object]]:
    """Event-loop lag during a full build and a 1 % update at ``size``; table rows."""
    corpus, _ = ensure_corpus(work, size, seed)
    db = work / f"lag-{size}.db"
    print(f"# {size}: event-loop lag during a full build", file=sys.stderr, flush=True)
    rows = []
    full = _child("lag", corpus, db, True)
    touch_files(corpus, CHANGED_SHARE, seed=size + 1)
    update = _child("lag", corpus, db, False)
    for kind, result in (("full", full), ("1% update", update)):
        max_ms = float(result["max_ms"])  # type: ignore[arg-type]
        rows.append(
            [
                size,
                kind,
                f"{float(result['seconds']):.1f}",  # type: ignore[arg-type]
                result["ticks"],
                f"{float(result['p99_ms']):.1f}",  # type: ignore[arg-type]
                f"{max_ms:.1f}",
                result["over_50ms"],
                f"≤50 ms {_status(max_ms <= TARGET_LAG_MS)}",
            ]
        )
    db.unlink(missing_ok=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--lag-sizes", default="", help="sizes to measure loop lag at")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "CORPUS", "DB"), help=argparse.SUPPRESS
    )
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, corpus, db = args.child
        runner = {"build": child_build, "trigram": child_trigram, "lag": child_lag}[kind]
        print(json.dumps(runner(Path(corpus), Path(db), args.full)))
        return 0

    sizes = parse_sizes(args.sizes)
    lag_sizes = parse_sizes(args.lag_sizes) if args.lag_sizes else sizes[-1:]
    load_before = load_average()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        for size in sorted(set(sizes) | set(lag_sizes)):
            ensure_corpus(work, size, args.seed)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    rows: list[list[object]] = []
    for size in sizes:
        rows += measure_size(work, size, args.seed)
    lag_rows: list[list[object]] = []
    for size in lag_sizes:
        lag_rows += measure_lag(work, size, args.seed)

    print(f"## Index build — {machine()}\n")
    print(f"Load average (1, 5, 15 min): {load_before} before, {load_average()} after.\n")
    print(
        table(
            [
                "docs",
                "build",
                "docs processed",
                "bot wall s",
                "bot CPU s",
                "trigram wall s",
                "trigram CPU s",
                "wall ratio",
                "CPU ratio",
                "bot docs/s",
                "bot MB",
                "trigram MB",
                "bot peak RSS MB",
                "bot worker peak RSS MB",
                "trigram peak RSS MB",
                "targets",
            ],
            rows,
        )
    )
    print(
        "\nRatios are trigram / bot (above 1: the bot is faster). The bot builds with a "
        "process pool (one worker per core); the trigram baseline in one process, so CPU "
        "seconds compare the work, wall seconds the wait. Peak RSS is VmHWM from /proc."
    )
    print(
        "\n## Event-loop lag during a rebuild (10 ms ticker; the bot's refresh: the build in"
        " a child process, then the index reopened in a thread)\n"
    )
    print(
        table(
            [
                "docs",
                "build",
                "build s",
                "ticks",
                "p99 lag ms",
                "max lag ms",
                "ticks > 50 ms",
                "target",
            ],
            lag_rows,
        )
    )
    for note in RETRIES:
        print(f"\nNote: {note}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
