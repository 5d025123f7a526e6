"""Relevance of search and ask on every hand-judged set, side by side with two anchors.

    python bench/relevance.py [--corpus ../shared/corpus-technyan] [--eval ../shared/eval]
                              [--as-of 2026-02-15] [--calibrate]

Reads every set of the eval folder by its file name (any folder of the same format, a
held-back one included): search sets ``search*.jsonl`` (per ``kind``) and
``realistic_search*.jsonl`` (per ``style``), no-answer sets ``no_answer*.jsonl`` and
``realistic_no_answer*.jsonl``, question sets ``qa*.jsonl`` and ``realistic_ask*.jsonl``
(per ``answer_type``). For each it prints, on the same corpus and queries:

* technyan-bot's search (``SearchEngine.about``, confident results only) and ask
  (``answer_question``);
* the site's own search: case-insensitive substring of title or description, in the
  query's locale, newest first;
* SQLite FTS5 trigram, bm25 weights title 10 / description 5 / tags 3 / body 1, the
  query's whitespace-separated terms quoted and ORed;

with MRR@10 and recall@5 per kind or style (results deduplicated by story), how many
no-answer queries each answers with nothing (ask: a null answer), ask accuracy (the
answer cites the expected story and contains one of ``answer_contains`` after NFKC) and
the bot's latency per set: p50 and max over each query's first run in this process.

Relative periods ("last december", "先月") are resolved against ``--as-of``; the eval
sets are judged as asked in February 2026 (../shared/eval/README.md), hence the default.
``--calibrate`` sweeps the confidence threshold over the same sets and prints the curve
the threshold of ``bot/confidence.py`` was chosen from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import answer_question  # noqa: E402
from bot.corpus import Article, CorpusError, discover, parse_article  # noqa: E402
from bot.index import build_index  # noqa: E402
from bot.search import SearchEngine  # noqa: E402

SHARED = ROOT.parent / "shared"
AS_OF = dt.date(2026, 2, 15)
Searcher = Callable[[str, str], list[str]]
Item = dict[str, object]


@dataclass
class EvalSet:
    """One file of the eval folder: its name, kind of set and items."""

    name: str
    role: str  # "search", "no_answer" or "ask"
    items: list[Item] = field(default_factory=list)


def read_sets(folder: Path) -> list[EvalSet]:
    """Every set of ``folder``, by file name, in a stable order (older sets first)."""
    roles = (
        ("search", ("search_*.jsonl", "realistic_search*.jsonl")),
        ("no_answer", ("no_answer_*.jsonl", "realistic_no_answer*.jsonl")),
        ("ask", ("qa_*.jsonl", "realistic_ask*.jsonl")),
    )
    sets = []
    for role, patterns in roles:
        for pattern in patterns:
            for path in sorted(folder.glob(pattern)):
                lines = path.read_text(encoding="utf-8").splitlines()
                items = [json.loads(line) for line in lines if line.strip()]
                sets.append(EvalSet(path.stem, role, items))
    return sets


def load_articles(corpus: Path) -> list[Article]:
    """Every parseable article of ``corpus``."""
    articles = []
    for path, location in discover(corpus):
        try:
            articles.append(parse_article(path, location, path.relative_to(corpus).as_posix()))
        except CorpusError:
            continue
    return articles


def site_search(articles: list[Article]) -> Searcher:
    """The site's search: substring of title or description in the query's locale."""

    def search(query: str, lang: str) -> list[str]:
        needle = query.strip().casefold()
        if not needle:
            return []
        found = [
            a
            for a in articles
            if a.locale == lang
            and (needle in a.title.casefold() or needle in a.description.casefold())
        ]
        found.sort(key=lambda a: a.date, reverse=True)
        return [a.story for a in found]

    return search


def fts5_trigram(articles: list[Article], folder: Path) -> Searcher:
    """FTS5 trigram bm25 (10, 5, 3, 1) over title, description, tags, body; terms ORed."""
    connection = sqlite3.connect(folder / "trigram.db")
    connection.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(title, description, tags, body, story UNINDEXED, "
        "tokenize='trigram')"
    )
    connection.executemany(
        "INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
        [(a.title, a.description, " ".join(a.tags), a.body, a.story) for a in articles],
    )
    connection.commit()

    def search(query: str, lang: str) -> list[str]:
        terms = [t for t in unicodedata.normalize("NFKC", query).split() if t]
        if not terms:
            return []
        expression = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        try:
            rows = connection.execute(
                "SELECT story FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 10, 5, 3, 1) "
                "LIMIT 50",
                [expression],
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [story for (story,) in rows]

    return search


def product_search(engine: SearchEngine, as_of: dt.date, timings: list[float]) -> Searcher:
    """The bot's confident results; each call's duration is appended to ``timings``."""

    def search(query: str, lang: str) -> list[str]:
        started = time.perf_counter()
        hits = engine.about(query, limit=10, as_of=as_of).hits
        timings.append(time.perf_counter() - started)
        return [hit.story for hit in hits]

    return search


def dedupe(stories: list[str]) -> list[str]:
    seen: list[str] = []
    for story in stories:
        if story not in seen:
            seen.append(story)
    return seen


def group_of(item: Item) -> str:
    """The row an item is reported in: its ``kind``, ``style`` or ``answer_type``, else
    ``all``."""
    return str(item.get("kind") or item.get("style") or item.get("answer_type") or "all")


def evaluate(searcher: Searcher, items: list[Item]) -> dict[str, list[tuple[float, float]]]:
    """Per kind or style: (reciprocal rank within 10, hit within 5) for each query."""
    per_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for item in items:
        ranked = dedupe(searcher(str(item["query"]), str(item["lang"])))[:10]
        relevant = set(item["relevant"])  # type: ignore[arg-type]
        rank = next((i + 1 for i, story in enumerate(ranked) if story in relevant), None)
        per_group[group_of(item)].append(
            (1.0 / rank if rank else 0.0, 1.0 if rank and rank <= 5 else 0.0)
        )
    return per_group


def answered(engine: SearchEngine, item: Item, as_of: dt.date) -> bool:
    """The bot's answer cites the expected story and holds one of ``answer_contains``."""
    answer = answer_question(engine, str(item["question"]), str(item["lang"]), as_of=as_of)
    if answer is None or answer.hit.story != item["story"]:
        return False
    quoted = unicodedata.normalize("NFKC", answer.text)
    wanted = [unicodedata.normalize("NFKC", str(a)) for a in item["answer_contains"]]  # type: ignore[attr-defined]
    return any(w in quoted for w in wanted)


def cell(rows: list[tuple[float, float]]) -> str:
    """``MRR@10 / recall@5`` of ``(reciprocal rank, hit within 5)`` rows, as a table cell."""
    mrr = statistics.fmean(r for r, _ in rows) if rows else 0.0
    recall = statistics.fmean(h for _, h in rows) if rows else 0.0
    return f"{mrr:.3f} / {recall:.2f}"


def latency(timings: list[float]) -> str:
    """Median and worst of ``timings`` (seconds), in milliseconds, as a table cell."""
    if not timings:
        return "-"
    return (
        f"p50 {statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms "
        f"({len(timings)} first runs)"
    )


def report(
    engine: SearchEngine, systems: dict[str, Searcher], sets: list[EvalSet], as_of: dt.date
) -> None:
    """Print the tables of every set."""
    for eval_set in sets:
        if eval_set.role == "search":
            timings: list[float] = []
            runs = {"technyan-bot": product_search(engine, as_of, timings), **systems}
            results = {name: evaluate(searcher, eval_set.items) for name, searcher in runs.items()}
            groups = sorted({g for result in results.values() for g in result})
            print(f"\n## {eval_set.name}: {len(eval_set.items)} queries, MRR@10 / recall@5\n")
            print(f"{'kind/style':<16}" + "".join(f"{name:>22}" for name in runs))
            for group in [*groups, "overall"]:
                cells = []
                for name in runs:
                    per = results[name]
                    rows = (
                        [r for rs in per.values() for r in rs]
                        if group == "overall"
                        else per.get(group, [])
                    )
                    cells.append(cell(rows))
                print(f"{group:<16}" + "".join(f"{c:>22}" for c in cells))
            print(f"latency (technyan-bot): {latency(timings)}")
        elif eval_set.role == "no_answer":
            timings = []
            runs = {"technyan-bot": product_search(engine, as_of, timings), **systems}
            total = len(eval_set.items)
            print(f"\n## {eval_set.name}: answered with nothing (of {total})\n")
            for name, searcher in runs.items():
                nothing = sum(
                    1
                    for item in eval_set.items
                    if not searcher(str(item["query"]), str(item["lang"]))
                )
                print(f"  {name:<16} {nothing}")
            null = sum(
                1
                for item in eval_set.items
                if answer_question(engine, str(item["query"]), str(item["lang"]), as_of=as_of)
                is None
            )
            print(f"  technyan-bot ask: null answer {null} of {total}")
            print(f"latency (technyan-bot search): {latency(timings)}")
        else:
            per_group: dict[str, list[bool]] = defaultdict(list)
            timings = []
            for item in eval_set.items:
                started = time.perf_counter()
                per_group[group_of(item)].append(answered(engine, item, as_of))
                timings.append(time.perf_counter() - started)
            correct = sum(sum(v) for v in per_group.values())
            print(f"\n## {eval_set.name}: ask {correct} of {len(eval_set.items)} correct\n")
            if len(per_group) > 1:
                print(
                    "  " + ", ".join(f"{g} {sum(v)}/{len(v)}" for g, v in sorted(per_group.items()))
                )
            print(f"latency (technyan-bot ask): {latency(timings)}")


def calibrate(engine: SearchEngine, sets: list[EvalSet], as_of: dt.date) -> None:
    """Sweep the confidence threshold: MRR@10 of confident results on the search sets and
    the share of no-answer queries answered with nothing, per threshold."""
    searches = [s for s in sets if s.role == "search"]
    empties = [s for s in sets if s.role == "no_answer"]
    # One ranking per query, kept: the threshold only decides what is confident.
    print("\n## confidence threshold: MRR@10 (search sets) and 'nothing' (no-answer sets)\n")
    header = "threshold  " + "  ".join(f"{s.name:>26}" for s in searches + empties)
    print(header)
    chosen = engine.confidence_threshold
    for step in range(20, 72, 4):
        engine.confidence_threshold = step / 100
        cells = []
        for eval_set in searches:
            rows = [
                r
                for rs in evaluate(product_search(engine, as_of, []), eval_set.items).values()
                for r in rs
            ]
            cells.append(f"{statistics.fmean(r for r, _ in rows):>26.3f}")
        for eval_set in empties:
            nothing = sum(
                1
                for item in eval_set.items
                if not engine.about(str(item["query"]), as_of=as_of).hits
            )
            cells.append(f"{nothing:>21} / {len(eval_set.items):<2}")
        mark = " <" if abs(step / 100 - chosen) < 0.02 else ""
        print(f"{step / 100:>9.2f}  " + "  ".join(cells) + mark)
    engine.confidence_threshold = chosen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus-technyan")
    parser.add_argument("--eval", type=Path, default=SHARED / "eval")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    parser.add_argument("--calibrate", action="store_true", help="print the threshold curve")
    args = parser.parse_args()
    if not args.corpus.is_dir() or not args.eval.is_dir():
        print(f"needs {args.corpus} and {args.eval} (../shared)", file=sys.stderr)
        return 2
    sets = read_sets(args.eval)
    if not sets:
        print(f"no eval sets in {args.eval}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        articles = load_articles(args.corpus)
        build_index(args.corpus, Path(folder) / "index.db")
        engine = SearchEngine(Path(folder) / "index.db")
        systems: dict[str, Searcher] = {
            "site substring": site_search(articles),
            "FTS5 trigram": fts5_trigram(articles, Path(folder)),
        }
        documents = len(articles)
        print(f"corpus {args.corpus} ({documents} documents), eval {args.eval}, as of {args.as_of}")
        report(engine, systems, sets, args.as_of)
        if args.calibrate:
            calibrate(engine, sets, args.as_of)
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
