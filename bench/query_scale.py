"""Query latency at scale, each query's first run, beside every form of an FTS5-trigram
baseline and the relevance of each.

    python bench/query_scale.py [--sizes 100000] [--work bench/out] [--per-kind 100]
                                [--quick] [--json FILE]

For each size the bot's index and the trigram baseline (``bench/common.py``; built here when
missing) are opened, both read into the OS page cache, and the process is pinned to one
core. The queries (``bench/query_set.py``: about a hundred distinct ones per kind, made from
the corpus) are each timed the first time they are run (``first``: no cache of the bot has
seen them), then all again (``repeat``), reported apart. Bot and baseline alternate query
by query, so load on the machine falls on both.

* ``about``: ``SearchEngine.about``, beside each form of ``bench/baselines.py`` (trigram
  OR+bm25, AND+bm25, AND newest-first, OR newest-first; LIMIT 10). The forms' MRR@10 on the
  development sets is printed beside them: a form is an anchor when it reaches at least
  half the bot's, and the bot must be faster than every anchor in every kind.
* ``latest``: ``SearchEngine.latest`` over every count (1–100) with every category;
  baseline ``SELECT … FROM docs [WHERE category = ?] ORDER BY date DESC LIMIT n`` (indexed).
* ``autocomplete``: ``SearchEngine.suggest`` on every distinct prefix of the queries as
  typed; baseline: the titles starting with the prefix through an index on ``title COLLATE
  NOCASE`` (``title LIKE 'prefix%'``, LIMIT 25).
* ``ask``: ``bot.answer.answer_question`` on the questions (the bot only).

Percentiles are nearest-rank; p99 is printed only over at least 1,000 samples, else the
maximum (``max``). The machine and its load (``/proc/loadavg`` before and after) are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import baselines  # noqa: E402
from bench.common import (  # noqa: E402
    DEFAULT_WORK,
    SHARED_CORPUS,
    ensure_indexes,
    ensure_title_index,
    load_average,
    machine,
    parse_sizes,
    percentile,
    table,
    warm_page_cache,
)
from bench.query_set import KINDS, build_queries, prefixes  # noqa: E402

TARGET_ABOUT_P99_MS = 15.0
TARGET_SUGGEST_P99_MS = 3.0
TARGET_LATEST_P99_MS = 1.0
TARGET_SIZE = 100_000
P99_MIN_SAMPLES = 1000
WARM_UP_QUERIES = ("Microsoft", "量子コンピュータ", "Meta AI", "xAI Grok", "ロボット")


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def tail(samples: Sequence[float]) -> tuple[str, float]:
    """``("p99", ms)`` over at least P99_MIN_SAMPLES samples, else ``("max", ms)``."""
    if len(samples) >= P99_MIN_SAMPLES:
        return "p99", percentile(samples, 0.99) * 1000
    return "max", max(samples, default=0.0) * 1000


def _ms(samples: Sequence[float], share: float) -> float:
    return percentile(samples, share) * 1000


def _tail_cell(samples: Sequence[float]) -> str:
    label, value = tail(samples)
    return f"{value:.2f} ({label})"


class Samples:
    """Latencies in seconds, by operation, system and kind, for first runs and repeats."""

    def __init__(self) -> None:
        self.data: dict[str, list[float]] = defaultdict(list)

    def add(self, key: str, seconds: float) -> None:
        """Record one latency of ``key``, in seconds."""
        self.data[key].append(seconds)

    def get(self, key: str) -> list[float]:
        """The latencies of ``key`` in seconds, in the order recorded (none: ``[]``)."""
        return self.data.get(key, [])


def measure_size(
    work: Path, size: int, seed: int, per_kind: int, quick: bool
) -> tuple[Samples, list[tuple[str, str]]]:
    """Time every operation at ``size`` documents; the samples and the about queries."""
    from bot.answer import answer_question
    from bot.search import SearchEngine

    index, trigram, manifest = ensure_indexes(work, size, seed)
    ensure_title_index(trigram)
    warm_page_cache(index, trigram)
    queries = build_queries(index, manifest, SHARED_CORPUS, per_kind=per_kind)
    if quick:
        queries = queries[::10]
    engine = SearchEngine(index)
    engine.warm()  # as the bot does when it starts (bot.refresh)
    base = sqlite3.connect(f"file:{trigram}?mode=ro", uri=True)
    # Every count the engine accepts (1-100) with every category: over a thousand calls.
    categories = [name for name, _ in engine.categories()[:40]]
    latest_calls = [
        (count, category) for category in [None, *categories] for count in range(1, 101)
    ]
    typed = prefixes([q for _, q in queries], 200 if quick else 1200)
    questions = [q for kind, q in queries if kind == "question"]
    if quick:
        latest_calls, questions = latest_calls[::20], questions[:3]

    def base_latest(count: int, category: str | None) -> object:
        if category:
            return base.execute(
                "SELECT story, title, date FROM docs WHERE category = ? ORDER BY date DESC LIMIT ?",
                [category, count],
            ).fetchall()
        return base.execute(
            "SELECT story, title, date FROM docs ORDER BY date DESC LIMIT ?", [count]
        ).fetchall()

    def base_suggest(prefix: str) -> object:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return base.execute(
            "SELECT title FROM docs WHERE title LIKE ? ESCAPE '\\' LIMIT 25", [escaped + "%"]
        ).fetchall()

    # Warm-up on queries outside the measured set: Sudachi, lazy tables, both page caches.
    for query in WARM_UP_QUERIES:
        engine.about(query)
        for form in baselines.FORMS:
            baselines.search(base, form, query)
        engine.suggest(query[:3])
        base_suggest(query[:3])
    engine.latest(5)
    base_latest(5, None)

    samples = Samples()
    for run in ("first", "repeat"):
        # The baseline keeps nothing between queries: its repeats would time the same work.
        forms = list(baselines.FORMS) if run == "first" else []
        for kind, query in queries:
            samples.add(f"about/{run}/bot/{kind}", _timed(lambda q=query: engine.about(q)))  # type: ignore[misc]
            for form in forms:
                samples.add(
                    f"about/{run}/{form}/{kind}",
                    _timed(lambda q=query, f=form: baselines.search(base, f, q)),  # type: ignore[misc]
                )
        for count, category in latest_calls:
            samples.add(
                f"latest/{run}/bot",
                _timed(lambda c=count, g=category: engine.latest(c, category=g)),  # type: ignore[misc]
            )
            if forms:
                samples.add(
                    f"latest/{run}/trigram",
                    _timed(lambda c=count, g=category: base_latest(c, g)),  # type: ignore[misc]
                )
        for prefix in typed:
            samples.add(
                f"autocomplete/{run}/bot",
                _timed(lambda p=prefix: engine.suggest(p)),  # type: ignore[misc]
            )
            if forms:
                samples.add(
                    f"autocomplete/{run}/trigram",
                    _timed(lambda p=prefix: base_suggest(p)),  # type: ignore[misc]
                )
        for question in questions:
            locale = "ja" if any(ord(ch) > 0x3000 for ch in question) else "en"
            samples.add(
                f"ask/{run}/bot",
                _timed(lambda q=question, lo=locale: answer_question(engine, q, lo)),  # type: ignore[misc]
            )
    engine.close()
    base.close()
    return samples, queries


def report(
    size: int,
    samples: Samples,
    relevance: dict[str, dict[str, tuple[float, float]]] | None,
) -> str:
    """The tables of one size as markdown."""
    forms = list(baselines.FORMS)
    kept = baselines.anchors(relevance) if relevance else forms[:1]
    lines: list[str] = []

    def about_all(system: str, run: str) -> list[float]:
        return [s for kind in KINDS for s in samples.get(f"about/{run}/{system}/{kind}")]

    # Summary per operation.
    rows = []
    bot_first = about_all("bot", "first")
    rows.append(
        [
            "about",
            len(bot_first),
            f"{_ms(bot_first, 0.5):.2f}",
            _tail_cell(bot_first),
            f"{_ms(about_all('bot', 'repeat'), 0.5):.2f}",
            _tail_cell(about_all("bot", "repeat")),
            "; ".join(
                f"{form} {_ms(about_all(form, 'first'), 0.5):.2f} / "
                f"{_tail_cell(about_all(form, 'first'))}"
                for form in forms
            ),
            _about_targets(size, bot_first),
        ]
    )
    for op, target in (
        ("latest", TARGET_LATEST_P99_MS),
        ("autocomplete", TARGET_SUGGEST_P99_MS),
        ("ask", None),
    ):
        first = samples.get(f"{op}/first/bot")
        repeat = samples.get(f"{op}/repeat/bot")
        baseline = samples.get(f"{op}/first/trigram")
        label, value = tail(first)
        status = "–"
        if target is not None:
            status = f"{label} ≤{target:g} ms {'PASS' if value <= target else 'FAIL'}"
        rows.append(
            [
                op,
                len(first),
                f"{_ms(first, 0.5):.2f}",
                _tail_cell(first),
                f"{_ms(repeat, 0.5):.2f}",
                _tail_cell(repeat),
                f"trigram {_ms(baseline, 0.5):.2f} / {_tail_cell(baseline)}" if baseline else "–",
                status,
            ]
        )
    lines.append(f"### {size} documents\n")
    lines.append(
        table(
            [
                "op",
                "queries",
                "bot first p50 ms",
                "bot first tail ms",
                "bot repeat p50 ms",
                "bot repeat tail ms",
                "baseline p50 / tail ms (first runs)",
                "target",
            ],
            rows,
        )
    )
    # about per kind.
    rows = []
    for kind in KINDS:
        mine = samples.get(f"about/first/bot/{kind}")
        if not mine:
            continue
        cells: list[object] = [
            kind,
            len(mine),
            f"{_ms(mine, 0.5):.2f} / {_ms(mine, 0.9):.2f} / {_tail_cell(mine)}",
        ]
        for form in forms:
            theirs = samples.get(f"about/first/{form}/{kind}")
            cells.append(f"{_ms(theirs, 0.5):.2f} / {_ms(theirs, 0.9):.2f} / {_tail_cell(theirs)}")

        cells.append(_verdict(samples, kind, mine, kept))
        if relevance:
            cells.append(
                _verdict(samples, kind, mine, baselines.anchors(relevance, f"kind:{kind}"))
            )
        rows.append(cells)
    lines.append("\n#### about per kind of query (first runs; ms: p50 / p90 / tail)\n")
    lines.append(
        table(
            [
                "kind",
                "queries",
                "bot",
                *forms,
                "bot tail below the anchors' (overall MRR)",
                *(["bot tail below the anchors' (that kind's MRR)"] if relevance else []),
            ],
            rows,
        )
    )
    if relevance:
        lines.append("\nMRR@10 of each system on the development kinds each kind stands for:\n")
        lines.append(
            table(
                ["kind", *relevance],
                [
                    [kind, *(f"{relevance[s][f'kind:{kind}'][0]:.3f}" for s in relevance)]
                    for kind in KINDS
                ],
            )
        )
    return "\n".join(lines)


def _verdict(
    samples: Samples, kind: str, mine: Sequence[float], anchor_forms: Sequence[str]
) -> str:
    """Whether the bot's tail in ``kind`` is below every anchor form's."""
    slower = [
        form
        for form in anchor_forms
        if tail(samples.get(f"about/first/{form}/{kind}"))[1] <= tail(mine)[1]
    ]
    names = ", ".join(anchor_forms) or "no form"
    return f"{names}: " + ("PASS" if not slower else f"FAIL ({', '.join(slower)})")


def _about_targets(size: int, first: Sequence[float]) -> str:
    label, value = tail(first)
    if size < TARGET_SIZE:
        return "–"
    ok = value <= TARGET_ABOUT_P99_MS
    return f"{label} ≤{TARGET_ABOUT_P99_MS:g} ms {'PASS' if ok else 'FAIL'}"


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--per-kind", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a tenth of the queries")
    parser.add_argument("--json", type=Path, help="also write every sample (seconds) here")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    described = machine()
    load_before = load_average()
    try:
        relevance = baselines.development_relevance()
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    _pin_to_one_core()
    sections = []
    dump: dict[str, object] = {}
    for size in parse_sizes(args.sizes):
        try:
            samples, queries = measure_size(work, size, args.seed, args.per_kind, args.quick)
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 2
        sections.append(report(size, samples, relevance))
        dump[str(size)] = {"samples": samples.data, "queries": queries}
    load_after = load_average()
    print(f"## Queries — {described}; pinned to one core")
    print(f"\nLoad average (1, 5, 15 min): {load_before} before, {load_after} after.\n")
    print("Relevance of each system on the development search sets (real corpus):\n")
    print(baselines.relevance_table(relevance))
    print()
    print("\n\n".join(sections))
    print(
        '\n"tail" is p99 over at least 1,000 samples, else the maximum; "first" is each '
        'query\'s first run in the process, "repeat" the same queries run again.'
    )
    if args.json:
        args.json.write_text(json.dumps(dump), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
