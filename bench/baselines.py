"""The FTS5-trigram baseline's query forms, and how well each finds the right stories.

    python bench/baselines.py [--corpus ../shared/corpus-technyan] [--eval ../shared/eval]

A baseline that answers fast but finds the wrong stories is no anchor for speed, so every
form the scale benchmarks time is also scored here, on the development search sets of
``../shared/eval`` over the real corpus, beside technyan-bot (the same MRR@10 and recall@5
as ``bench/relevance.py``, whose helpers this reuses). The forms, each over FTS5
``trigram`` on title, description, tags and body, the query split on whitespace and each
term quoted (a phrase of trigrams):

* ``OR+bm25``: terms ORed, ranked by ``bm25(10, 5, 3, 1)`` (the site-search-like form);
* ``AND+bm25``: all terms required, ranked by bm25 (cheaper: FTS5 intersects the lists);
* ``AND newest``: all terms required, newest first (``ORDER BY rowid DESC``: FTS5 walks its
  posting lists backwards and stops at the limit, the treatment technyan-bot gives very
  common words);
* ``OR newest``: any term, newest first (the cheapest form).

Rowids follow the corpus's file order, which is by date for articles (as the bot's own
document ids do), so "newest" is the same approximation on both sides.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BM25 = "10, 5, 3, 1"
SHARED = ROOT.parent / "shared"

# name: (operator between terms, ORDER BY clause)
FORMS: dict[str, tuple[str, str]] = {
    "OR+bm25": (" OR ", f"bm25(docs_fts, {BM25})"),
    "AND+bm25": (" ", f"bm25(docs_fts, {BM25})"),
    "AND newest": (" ", "rowid DESC"),
    "OR newest": (" OR ", "rowid DESC"),
}


def expression(query: str, operator: str) -> str:
    """The MATCH expression of ``query``: NFKC, split on whitespace, each term quoted
    (inner quotes doubled), joined by ``operator``. ``""`` for blank input."""
    terms = [t for t in unicodedata.normalize("NFKC", query).split() if t]
    return operator.join('"' + t.replace('"', '""') + '"' for t in terms)


def search(connection: sqlite3.Connection, form: str, query: str, limit: int = 10) -> list[int]:
    """Rowids of ``docs_fts`` for ``query`` in ``form`` (see ``FORMS``), at most ``limit``;
    none for blank input or an expression FTS5 refuses."""
    operator, order = FORMS[form]
    match = expression(query, operator)
    if not match:
        return []
    try:
        rows = connection.execute(
            f"SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY {order} LIMIT ?",
            [match, limit],
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    return [int(rowid) for (rowid,) in rows]


# Which kinds and styles of the development sets each kind of the scale benchmark's
# queries (bench/query_set.py) stands for: a form is an anchor for a kind when it reaches
# half the bot's MRR@10 on those.
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "common_en": ("en_topic", "exact_entity", "person_company", "news_word"),
    "rare_en": ("en_topic", "exact_entity", "person_company", "news_word"),
    "common_ja": ("ja_topic",),
    "rare_ja": ("ja_topic",),
    "katakana": ("katakana", "spoken_ja"),
    "typo": ("typo",),
    "date": ("date", "period"),
    "question": ("question", "descriptive"),
    "noise": ("fullwidth_noise", "discord_noise"),
    "cross_lang": ("cross_lang", "mixed_lang"),
    "chatty": ("chatty", "long_message"),
    "invented_rare": ("exact_entity", "version", "abbrev"),
    "invented_common": ("exact_entity", "version", "abbrev"),
}


def development_relevance(
    corpus: Path = SHARED / "corpus-technyan", eval_folder: Path = SHARED / "eval"
) -> dict[str, dict[str, tuple[float, float]]]:
    """MRR@10 and recall@5 of technyan-bot and of every form, per development search set,
    over all of them (``"all"``) and per kind of benchmark query (``"kind:<kind>"``, over
    the development kinds and styles of ``KIND_GROUPS``): ``{system: {name: (mrr,
    recall)}}``. Raises ``FileNotFoundError`` when the corpus or the eval folder is
    missing."""
    from bench.relevance import AS_OF, evaluate, load_articles, read_sets
    from bot.index import build_index
    from bot.search import SearchEngine

    if not corpus.is_dir() or not eval_folder.is_dir():
        raise FileNotFoundError(f"needs {corpus} and {eval_folder}")
    sets = [s for s in read_sets(eval_folder) if s.role == "search"]
    articles = load_articles(corpus)
    results: dict[str, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "trigram.db")
        connection.execute(
            "CREATE VIRTUAL TABLE docs_fts USING fts5(title, description, tags, body, "
            "tokenize='trigram')"
        )
        connection.executemany(
            "INSERT INTO docs_fts(rowid, title, description, tags, body) VALUES (?, ?, ?, ?, ?)",
            [
                (number, a.title, a.description, " ".join(a.tags), a.body)
                for number, a in enumerate(articles, start=1)
            ],
        )
        connection.commit()
        story_of = {number: a.story for number, a in enumerate(articles, start=1)}
        build_index(corpus, Path(folder) / "index.db")
        engine = SearchEngine(Path(folder) / "index.db")
        searchers: dict[str, Callable[[str, str], list[str]]] = {
            "technyan-bot": lambda query, _lang: [
                hit.story for hit in engine.about(query, limit=10, as_of=AS_OF).hits
            ],
        }
        for form in FORMS:
            searchers[form] = lambda query, _lang, f=form: [  # type: ignore[misc]
                story_of[rowid] for rowid in search(connection, f, query, 50)
            ]
        for name, searcher in searchers.items():
            per_set: dict[str, tuple[float, float]] = {}
            every: list[tuple[float, float]] = []
            groups: dict[str, list[tuple[float, float]]] = {}
            for eval_set in sets:
                evaluated = evaluate(searcher, eval_set.items)
                rows = [r for group in evaluated.values() for r in group]
                every += rows
                per_set[eval_set.name] = _means(rows)
                for group, group_rows in evaluated.items():
                    groups.setdefault(group, []).extend(group_rows)
            per_set["all"] = _means(every)
            for kind, members in KIND_GROUPS.items():
                per_set[f"kind:{kind}"] = _means(
                    [r for member in members for r in groups.get(member, [])]
                )
            results[name] = per_set
        engine.close()
        connection.close()
    return results


def _means(rows: list[tuple[float, float]]) -> tuple[float, float]:
    if not rows:
        return 0.0, 0.0
    return statistics.fmean(r for r, _ in rows), statistics.fmean(h for _, h in rows)


def anchors(relevance: dict[str, dict[str, tuple[float, float]]], scope: str = "all") -> list[str]:
    """The forms whose MRR@10 over the development search queries of ``scope`` (``"all"``,
    or ``"kind:<kind>"``) is at least half technyan-bot's: the baselines its speed is held
    against."""
    bot = relevance["technyan-bot"][scope][0]
    return [form for form in FORMS if relevance[form][scope][0] >= 0.5 * bot]


def relevance_table(relevance: dict[str, dict[str, tuple[float, float]]]) -> str:
    """The relevance of every system as a markdown table (MRR@10 / recall@5 per set)."""
    from bench.common import table

    names = [name for name in next(iter(relevance.values())) if not name.startswith("kind:")]
    kept = set(anchors(relevance))
    rows = [
        [
            system,
            *(f"{relevance[system][n][0]:.3f} / {relevance[system][n][1]:.2f}" for n in names),
            "–" if system == "technyan-bot" else ("yes" if system in kept else "no"),
        ]
        for system in relevance
    ]
    headers = ["system", *(f"{n} MRR@10 / recall@5" for n in names), "anchor (≥ ½ bot MRR)"]
    return table(headers, rows)


def main(argv: list[str] | None = None) -> int:
    """Print the relevance table; exit 2 when ../shared is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus-technyan")
    parser.add_argument("--eval", type=Path, default=SHARED / "eval")
    args = parser.parse_args(argv)
    try:
        relevance = development_relevance(args.corpus, args.eval)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 2
    print(relevance_table(relevance))
    return 0


if __name__ == "__main__":
    sys.exit(main())
