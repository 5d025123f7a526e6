"""An update's derived tables (names, term statistics, katakana terms, stories) equal a
full build's, whatever the files added, changed and deleted."""

from __future__ import annotations

import itertools
import os
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from bot.index import build_index
from bot.index_derived import DERIVED_TABLES
from tests.conftest import frontmatter_text

# Spellings that squash to one key (so the most frequent spelling can change hands),
# names that are tags in one article and companies or text in another, katakana words.
NAMES = ["OpenAI", "Openai", "OPENAI", "DeepSeek", "Deep Seek", "Mistral AI", "Anthropic"]
KATAKANA = ["ディープシーク", "クロード", "ジェミニ", "ミストラル"]
SLOTS = [
    f"articles/2025111{day}/{slug}/{locale}.md"
    for day, slug in ((1, "alpha"), (2, "beta"), (3, "gamma"))
    for locale in ("en", "ja")
]

article = st.fixed_dictionaries(
    {
        "tags": st.lists(st.sampled_from(NAMES), max_size=2),
        "companies": st.lists(st.sampled_from(NAMES), max_size=2),
        "category": st.sampled_from(["Model", "Anthropic", "Other"]),
        "names": st.lists(st.sampled_from(NAMES), max_size=3),
        "katakana": st.lists(st.sampled_from(KATAKANA), max_size=2),
    }
)
# Each step writes some slots (None: deletes the file) and runs an update.
steps = st.lists(
    st.dictionaries(st.sampled_from(SLOTS), st.none() | article, min_size=1, max_size=4),
    min_size=1,
    max_size=3,
)


def _write(corpus: Path, relative: str, fields: dict[str, list[str] | str] | None) -> None:
    path = corpus / relative
    if fields is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    locale = "ja" if relative.endswith("ja.md") else "en"
    names = " and ".join(fields["names"]) or "nobody"
    katakana = "と".join(fields["katakana"]) or "なにか"
    header = {
        "title": f"News about {names}",
        "description": "A story.",
        "date": "raw:2025-11-18",
        "category": fields["category"],
        "tags": fields["tags"],
        "relatedCompanies": fields["companies"],
        "locale": locale,
    }
    body = f"## Summary\n\nThe {names} update. {katakana}の発表。\n"
    path.write_text(frontmatter_text(header) + "\n" + body, encoding="utf-8")
    stamp = os.stat(path).st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


def _derived(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(db) as connection:
        return {
            table: sorted(connection.execute(f"SELECT * FROM {table}").fetchall())
            for table in DERIVED_TABLES
        }


def _assert_runs_partition_the_documents(db: Path) -> None:
    """Every document is in exactly one of ``collection_runs``, whose documents are of its
    collection and in path order by id (compared folder by folder, as the corpus is
    listed)."""
    with sqlite3.connect(db) as connection:
        runs = connection.execute(
            "SELECT collection, first_id, last_id FROM collection_runs ORDER BY first_id"
        ).fetchall()
        documents = connection.execute(
            "SELECT id, collection, path FROM documents ORDER BY id"
        ).fetchall()
    assert all(a[2] < b[1] for a, b in itertools.pairwise(runs))
    covered = 0
    for collection, first_id, last_id in runs:
        inside = [d for d in documents if first_id <= d[0] <= last_id]
        assert inside and {d[1] for d in inside} == {collection}
        paths = [d[2] for d in inside]
        assert paths == sorted(paths, key=lambda path: path.split("/"))  # folder by folder
        covered += len(inside)
    assert covered == len(documents)


@seed(20261130)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=st.dictionaries(st.sampled_from(SLOTS), article, min_size=1), changes=steps)
def test_an_update_derives_what_a_full_build_derives(
    tmp_path_factory: object,
    first: dict[str, dict[str, list[str] | str]],
    changes: list[dict[str, dict[str, list[str] | str] | None]],
) -> None:
    root: Path = tmp_path_factory.mktemp("derived")  # type: ignore[attr-defined]
    corpus = root / "corpus"
    for relative, fields in first.items():
        _write(corpus, relative, fields)
    updated = root / "updated.db"
    build_index(corpus, updated, workers=1)
    for number, change in enumerate(changes):
        for relative, fields in change.items():
            _write(corpus, relative, fields)
        if not any(corpus.rglob("*.md")):
            return  # an empty corpus never replaces an index
        report = build_index(corpus, updated, workers=1)
        assert not report.rebuilt
        fresh = root / f"fresh-{number}.db"
        build_index(corpus, fresh, full=True, workers=1)
        assert _derived(updated) == _derived(fresh)
        _assert_runs_partition_the_documents(updated)
        _assert_runs_partition_the_documents(fresh)
