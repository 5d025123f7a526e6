"""Query latency as the corpus grows, beside an FTS5-trigram baseline in the same run.

    python bench/query_scale.py [--sizes 1000,10000,100000] [--work bench/out]
                                [--rounds 3] [--quick]

For each size the bot's index and the baseline (built by ``bench/index_scale.py``, or here
when missing) are opened and each operation is timed per call, on one core (the process is
pinned to one CPU), with both databases read into the OS page cache first and after a
warm-up on other queries:

* ``about``: ``SearchEngine.about`` on a fixed mix of queries (rare and common terms,
  Japanese and English, typos, katakana, dates, questions, full-width and FTS5-hostile
  text) plus rare invented names of the synthetic corpus, their typos and katakana
  spellings; baseline: FTS5 trigram bm25 (10, 5, 3, 1) over the query's terms ORed,
  LIMIT 10.
* ``latest``: ``SearchEngine.latest`` (5, 10, 25 stories, and by category); baseline:
  ``SELECT … FROM docs ORDER BY date DESC LIMIT n`` on a plain table with a date index.
* ``autocomplete``: ``SearchEngine.suggest`` on every prefix of typed queries; baseline:
  ``title LIKE 'prefix%'`` over the titles, LIMIT 25.
* ``ask``: ``bot.answer.answer_question`` on questions (the bot only).

Each query runs ``--rounds`` times; the first round is each query's first sight in the
process (``first p99``), later rounds hit the bot's caches. Printed: p50/p99 ms and
queries per second (one core) for the bot and the baseline, the ratio of their p99
(baseline / bot: above 1 means the bot is faster), the targets with PASS/FAIL, and
``about`` per kind of query.
"""

from __future__ import annotations

import argparse
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

from bench.common import (  # noqa: E402
    DEFAULT_SIZES,
    DEFAULT_WORK,
    ensure_indexes,
    machine,
    parse_sizes,
    percentile,
    ratio,
    table,
    trigram_search,
    warm_page_cache,
)

TARGET_ABOUT_P99_MS = 15.0
TARGET_SUGGEST_P99_MS = 5.0
TARGET_LATEST_P99_MS = 2.0
TARGET_RATIO = 5.0
TARGET_SIZE = 100_000

# (kind, query): written for this benchmark, not taken from any evaluation set.
ABOUT_QUERIES: tuple[tuple[str, str], ...] = (
    ("common_en", "OpenAI"),
    ("common_en", "Google Gemini"),
    ("common_en", "AI agents"),
    ("common_en", "new ChatGPT features"),
    ("common_en", "Anthropic Claude"),
    ("common_ja", "生成AI"),
    ("common_ja", "人工知能の規制"),
    ("common_ja", "画像生成"),
    ("common_ja", "データセンター投資"),
    ("common_ja", "半導体"),
    ("rare_en", "humanoid robot"),
    ("rare_en", "subsidy search"),
    ("rare_en", "emotional intelligence"),
    ("rare_en", "Jensen Huang keynote"),
    ("rare_ja", "補助金検索"),
    ("rare_ja", "自動運転タクシー"),
    ("rare_ja", "省電力メモリー"),
    ("rare_ja", "行政サービス"),
    ("katakana", "オープンエーアイ"),
    ("katakana", "アンソロピック"),
    ("katakana", "ディープシーク"),
    ("katakana", "エヌビディア"),
    ("katakana", "ジェミニ"),
    ("katakana", "ソフトバンク"),
    ("typo", "antrhopic"),
    ("typo", "gemnii 3"),
    ("typo", "nvidai"),
    ("typo", "chatgtp group chat"),
    ("typo", "mircosoft copilot"),
    ("typo", "deepseak r1"),
    ("date", "2025年12月"),
    ("date", "November 2025"),
    ("date", "2024年のAIニュース"),
    ("date", "latest OpenAI news"),
    ("date", "最新のGemini"),
    ("question", "ChatGPTのグループチャットはどの地域で使える？"),
    ("question", "How long can Codex work on a single task?"),
    ("question", "Anthropicの評価額はいくら？"),
    ("question", "When did OpenAI announce o3?"),
    ("question", "What does MCP stand for?"),
    ("noise", "ＯｐｅｎＡＩ　規制"),
    ("noise", "GPT-5.1"),
    ("noise", "Claude Opus 4.5"),
    ("noise", '"Claude (Gemini C++ 100%'),
    ("noise", "<@123456> AND -OpenAI"),
    ("cross_lang", "OpenAI 規制"),
    ("cross_lang", "SoftBank ロボット"),
)
WARM_UP_QUERIES = ("Microsoft", "量子コンピュータ", "Meta AI", "xAI Grok", "ロボット")
TYPED_QUERIES = ("OpenAI", "クロード", "gemini 3", "生成AI", "anthropic ipo", "データセンター")
ASK_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("ja", "ChatGPTのグループチャットはどの地域で使える？"),
    ("en", "How long can Codex work on a single task?"),
    ("ja", "Anthropicの評価額はいくら？"),
    ("en", "When did OpenAI announce o3?"),
    ("en", "What does MCP stand for?"),
    ("ja", "DeepSeek R1の性能は？"),
    ("en", "How much cheaper is Claude Sonnet 5?"),
    ("ja", "CES 2026の基調講演はいつ？"),
    ("en", "Which regions got the group chat pilot?"),
    ("ja", "ソフトバンクのAIメモリーに参加した企業は？"),
)
LATEST_CALLS: tuple[tuple[int, str | None], ...] = (
    (5, None),
    (10, None),
    (25, None),
    (5, "Claude"),
    (5, "model release"),
)


def _mutate(name: str) -> str:
    """A typo of ``name``: two letters in its first word swapped (``Kasumira`` →
    ``Kasmuira``)."""
    word, _, rest = name.partition(" ")
    if len(word) >= 5:
        middle = len(word) // 2
        word = word[: middle - 1] + word[middle] + word[middle - 1] + word[middle + 1 :]
    return f"{word} {rest}".strip()


def corpus_queries(manifest: dict[str, object]) -> list[tuple[str, str]]:
    """Queries for names invented by the synthetic corpus: rare product and company
    names (one story), a typo and a katakana spelling of one, and the most common
    invented name."""
    names = manifest.get("names") or []
    assert isinstance(names, list)
    rare = [n for n in names if n["stories"] == 1 and n["kind"] in ("product", "company")]
    picked = [rare[int(i * (len(rare) - 1) / 3)] for i in range(4)] if len(rare) >= 4 else rare
    queries = [("invented_rare", str(n["name"])) for n in picked[:3]]
    if picked:
        queries.append(("invented_typo", _mutate(str(picked[-1]["name"]).split(" ")[0])))
        queries.append(("invented_katakana", str(picked[0]["katakana"])))
    if names:
        common = max(names, key=lambda n: n["stories"])
        queries.append(("invented_common", str(common["name"])))
    return queries


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


class Timings:
    """Per-call latencies (seconds) of one operation, with the first round apart."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.first: list[float] = []
        self.by_kind: dict[str, list[float]] = defaultdict(list)

    def time(self, call: Callable[[], object], kind: str = "", first: bool = False) -> None:
        """Run ``call`` once and record its latency."""
        started = time.perf_counter()
        call()
        elapsed = time.perf_counter() - started
        self.all.append(elapsed)
        if first:
            self.first.append(elapsed)
        if kind:
            self.by_kind[kind].append(elapsed)

    def p(self, share: float, samples: Sequence[float] | None = None) -> float:
        """Percentile in ms."""
        return percentile(self.all if samples is None else samples, share) * 1000

    @property
    def qps(self) -> float:
        """Calls per second of the recorded calls run back to back."""
        total = sum(self.all)
        return len(self.all) / total if total else 0.0


def measure_size(
    work: Path, size: int, seed: int, rounds: int, quick: bool
) -> tuple[list[list[object]], list[list[object]]]:
    """Time every operation at ``size`` documents; rows of the main and per-kind tables."""
    from bot.answer import answer_question
    from bot.search import SearchEngine

    index, trigram, manifest = ensure_indexes(work, size, seed)
    warm_page_cache(index, trigram)
    engine = SearchEngine(index)
    base = sqlite3.connect(f"file:{trigram}?mode=ro", uri=True)
    about_queries = list(ABOUT_QUERIES) + corpus_queries(manifest)
    typed = list(TYPED_QUERIES)
    asks = list(ASK_QUESTIONS)
    if quick:
        about_queries, typed, asks = about_queries[::8], typed[:2], asks[:2]
    prefixes = [q[:i] for q in typed for i in range(1, len(q) + 1)]

    def base_latest(count: int, category: str | None) -> object:
        if category:
            return base.execute(
                "SELECT story, title, date FROM docs WHERE lower(category) = lower(?) "
                "ORDER BY date DESC LIMIT ?",
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

    # Warm-up: lazy tables of the engine, Sudachi, the page cache of both databases.
    for query in WARM_UP_QUERIES:
        engine.about(query)
        trigram_search(base, query)
        engine.suggest(query[:3])
        base_suggest(query[:3])
    engine.katakana_spellings("california")
    engine.latest(5)
    base_latest(5, None)

    about, about_base = Timings(), Timings()
    latest, latest_base = Timings(), Timings()
    suggest, suggest_base = Timings(), Timings()
    ask = Timings()
    for round_index in range(rounds):
        first = round_index == 0
        for kind, query in about_queries:
            about.time(lambda q=query: engine.about(q), kind, first)  # type: ignore[misc]
            about_base.time(lambda q=query: trigram_search(base, q), kind, first)  # type: ignore[misc]
        for _ in range(2 if quick else 10):
            for count, category in LATEST_CALLS:
                latest.time(lambda c=count, g=category: engine.latest(c, category=g), "", first)  # type: ignore[misc]
                latest_base.time(lambda c=count, g=category: base_latest(c, g), "", first)  # type: ignore[misc]
        for prefix in prefixes:
            suggest.time(lambda p=prefix: engine.suggest(p), "", first)  # type: ignore[misc]
            suggest_base.time(lambda p=prefix: base_suggest(p), "", first)  # type: ignore[misc]
        for locale, question in asks:
            ask.time(
                lambda q=question, lo=locale: answer_question(engine, q, lo),  # type: ignore[misc]
                "",
                first,
            )
    engine.close()
    base.close()

    def targets(op: str, product: Timings, baseline: Timings | None) -> str:
        p99 = product.p(0.99)
        checks = []
        if op == "latest":
            checks.append((f"≤{TARGET_LATEST_P99_MS:g} ms", p99 <= TARGET_LATEST_P99_MS))
        absolute = {"about": TARGET_ABOUT_P99_MS, "autocomplete": TARGET_SUGGEST_P99_MS}
        if op in absolute:
            if size >= TARGET_SIZE:
                checks.append((f"≤{absolute[op]:g} ms", p99 <= absolute[op]))
            if baseline is not None:
                checks.append(
                    (f"≥{TARGET_RATIO:g}× trigram", baseline.p(0.99) >= TARGET_RATIO * p99)
                )
        if not checks:
            return "–"
        return "; ".join(f"{label} {'PASS' if ok else 'FAIL'}" for label, ok in checks)

    rows = []
    for op, product, baseline in (
        ("about", about, about_base),
        ("latest", latest, latest_base),
        ("autocomplete", suggest, suggest_base),
        ("ask", ask, None),
    ):
        rows.append(
            [
                size,
                op,
                len(product.all),
                f"{product.p(0.5):.2f}",
                f"{product.p(0.99):.2f}",
                f"{product.p(0.99, product.first):.2f}",
                f"{product.qps:.0f}",
                f"{baseline.p(0.5):.2f}" if baseline else "–",
                f"{baseline.p(0.99):.2f}" if baseline else "–",
                f"{baseline.qps:.0f}" if baseline else "–",
                ratio(baseline.p(0.99), product.p(0.99)) if baseline else "–",
                targets(op, product, baseline),
            ]
        )
    kind_rows = []
    for kind in dict.fromkeys(k for k, _ in about_queries):
        mine, theirs = about.by_kind[kind], about_base.by_kind[kind]
        kind_rows.append(
            [
                size,
                kind,
                len(mine) // max(1, rounds),
                f"{about.p(0.5, mine):.2f}",
                f"{about.p(0.99, mine):.2f}",
                f"{about_base.p(0.5, theirs):.2f}",
                f"{about_base.p(0.99, theirs):.2f}",
                ratio(about_base.p(0.99, theirs), about.p(0.99, mine)),
            ]
        )
    return rows, kind_rows


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a few queries (smoke runs)")
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    described = machine()
    _pin_to_one_core()
    rows: list[list[object]] = []
    kind_rows: list[list[object]] = []
    for size in parse_sizes(args.sizes):
        try:
            size_rows, size_kinds = measure_size(work, size, args.seed, args.rounds, args.quick)
        except FileNotFoundError as error:
            print(error, file=sys.stderr)
            return 2
        rows += size_rows
        kind_rows += size_kinds
    print(f"## Queries — {described}; pinned to one core\n")
    print(
        table(
            [
                "docs",
                "op",
                "calls",
                "bot p50 ms",
                "bot p99 ms",
                "bot first p99 ms",
                "bot qps",
                "trigram p50 ms",
                "trigram p99 ms",
                "trigram qps",
                "p99 ratio",
                "targets",
            ],
            rows,
        )
    )
    print(
        '\np99 ratio = trigram p99 / bot p99 (above 1: the bot is faster). "first" is each '
        "query's first run in the process; the other rounds hit the bot's caches."
    )
    print("\n## about per kind of query\n")
    print(
        table(
            [
                "docs",
                "kind",
                "queries",
                "bot p50 ms",
                "bot p99 ms",
                "trigram p50 ms",
                "trigram p99 ms",
                "p99 ratio",
            ],
            kind_rows,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
