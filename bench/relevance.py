"""Relevance of search and ask on the hand-judged sets, side by side with two anchors.

    python bench/relevance.py [--corpus ../shared/corpus-technyan] [--eval ../shared/eval]

Runs, on the same corpus and queries:
* technyan-bot's search (``SearchEngine.about``) and ask (``answer_question``);
* the site's own search: case-insensitive substring of title or description, in the
  query's locale, newest first;
* SQLite FTS5 trigram, bm25 weights title 10 / description 5 / tags 3 / body 1, the
  query's whitespace-separated terms quoted and ORed.

Prints per kind and overall MRR@10 and recall@5 (results deduplicated by story), how
many no-answer queries were answered "nothing", and ask accuracy (the answer cites the
expected story and contains one of ``answer_contains`` after NFKC). Works on any eval
folder of the same format (the held-back set included).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answer import answer_question  # noqa: E402
from bot.corpus import Article, CorpusError, discover, parse_article  # noqa: E402
from bot.index import build_index  # noqa: E402
from bot.search import SearchEngine  # noqa: E402

SHARED = ROOT.parent / "shared"
Searcher = Callable[[str, str], list[str]]


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


def product_search(engine: SearchEngine) -> Searcher:
    def search(query: str, lang: str) -> list[str]:
        return [hit.story for hit in engine.about(query, limit=10).hits]

    return search


def dedupe(stories: list[str]) -> list[str]:
    seen: list[str] = []
    for story in stories:
        if story not in seen:
            seen.append(story)
    return seen


def evaluate(
    searcher: Searcher, queries: list[dict[str, object]]
) -> dict[str, list[tuple[float, float]]]:
    """Per kind: (reciprocal rank within 10, hit within 5) for each query."""
    per_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for item in queries:
        ranked = dedupe(searcher(str(item["query"]), str(item["lang"])))[:10]
        relevant = set(item["relevant"])  # type: ignore[arg-type]
        rank = next((i + 1 for i, story in enumerate(ranked) if story in relevant), None)
        per_kind[str(item["kind"])].append(
            (1.0 / rank if rank else 0.0, 1.0 if rank and rank <= 5 else 0.0)
        )
    return per_kind


def read_jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus-technyan")
    parser.add_argument("--eval", type=Path, default=SHARED / "eval")
    parser.add_argument("--split", default="dev", help="file suffix: search_<split>.jsonl …")
    args = parser.parse_args()
    if not args.corpus.is_dir() or not args.eval.is_dir():
        print(f"needs {args.corpus} and {args.eval} (../shared)", file=sys.stderr)
        return 2
    searches = read_jsonl(args.eval / f"search_{args.split}.jsonl")
    no_answer = read_jsonl(args.eval / f"no_answer_{args.split}.jsonl")
    questions = read_jsonl(args.eval / f"qa_{args.split}.jsonl")

    with tempfile.TemporaryDirectory() as folder:
        articles = load_articles(args.corpus)
        build_index(args.corpus, Path(folder) / "index.db")
        engine = SearchEngine(Path(folder) / "index.db")
        systems: dict[str, Searcher] = {
            "technyan-bot": product_search(engine),
            "site substring": site_search(articles),
            "FTS5 trigram": fts5_trigram(articles, Path(folder)),
        }
        results = {name: evaluate(searcher, searches) for name, searcher in systems.items()}
        nothing = {
            name: sum(
                1 for item in no_answer if not searcher(str(item["query"]), str(item["lang"]))
            )
            for name, searcher in systems.items()
        }
        correct = 0
        timings = []
        for item in questions:
            started = time.perf_counter()
            answer = answer_question(engine, str(item["question"]), str(item["lang"]))
            timings.append(time.perf_counter() - started)
            if answer is None or answer.hit.story != item["story"]:
                continue
            text = unicodedata.normalize("NFKC", answer.text)
            wanted = [unicodedata.normalize("NFKC", str(a)) for a in item["answer_contains"]]  # type: ignore[attr-defined]
            correct += any(w in text for w in wanted)
        ask_nothing = sum(
            1
            for item in no_answer
            if answer_question(engine, str(item["query"]), str(item["lang"])) is None
        )

    names = list(systems)
    kinds = sorted({kind for result in results.values() for kind in result})
    print(f"search: {len(searches)} queries ({args.split}), MRR@10 / recall@5 per kind\n")
    print(f"{'kind':<16}" + "".join(f"{name:>22}" for name in names))
    for kind in [*kinds, "overall"]:
        cells = []
        for name in names:
            rows = (
                [r for rs in results[name].values() for r in rs]
                if kind == "overall"
                else results[name].get(kind, [])
            )
            mrr = statistics.fmean(r for r, _ in rows) if rows else 0.0
            recall = statistics.fmean(h for _, h in rows) if rows else 0.0
            cells.append(f"{mrr:>13.3f} / {recall:.2f}")
        print(f"{kind:<16}" + "".join(f"{cell:>22}" for cell in cells))
    print(f"\nno-answer queries answered 'nothing' (of {len(no_answer)}):")
    for name in names:
        print(f"  {name:<16} {nothing[name]}")
    print(
        f"\nask: {correct} of {len(questions)} correct; no-answer questions answered null: "
        f"{ask_nothing} of {len(no_answer)}; median {statistics.median(timings) * 1000:.1f} ms"
        if timings
        else "\nask: no questions"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
