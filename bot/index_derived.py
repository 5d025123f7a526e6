"""Tables of ``index.db`` derived from all of its documents: built whole by a full build,
updated by difference after an incremental one.

* ``stories`` — one row per story: newest date, impact, collection, locales (sorted);
* ``collection_runs`` — the documents in id order cut into runs of one collection in
  path order each (collection, first id, last id): a full build gives each collection
  one run, and each update adds the runs of the files it inserted, which take new ids
  after all others;
* ``story_categories`` — (lowercased category, newest date, story) for ``latest``;
* ``entity_spellings`` — how many documents mention each (key, spelling, kind);
* ``entities`` — tags, companies, categories (kind ``tag``/``company``/``category``) and
  names found in the text (``name``), one row per ``key`` (``text.squash``): the most
  frequent spelling as ``name`` (ties: the first in binary order), the best kind
  (company, tag, category, name), the number of stories and of documents mentioning it,
  ``normalized`` (``text.normalize`` of the name, for autocomplete) and ``skeleton``
  (``text.consonant_skeleton`` of the key, for katakana);
* ``term_stats`` — the number of documents holding each indexed term (FTS5's
  ``fts5vocab`` ``row`` count);
* ``katakana_terms`` — katakana terms by consonant skeleton, for English → katakana.

A full build reads them out of ``entity_mentions`` and ``docs_vocab`` (``rebuild_derived``,
about 15 s at 100,000 documents). An update changes a few documents but touches most
entities' source rows (a common name is in a third of the corpus), so it applies the
difference instead (``RemovedDocuments``, ``update_derived``): the mentions and terms of
the documents it removes (read before they go) against those of the documents it inserts,
and story by story which keys a story held before and after. ``stories``,
``story_categories`` and ``collection_runs`` are cheap and always rebuilt. The tables of
``DERIVED_TABLES`` are then the full build's, row for row (``tests/test_index_derived.py``
and ``tests/test_index.py`` compare them); ``collection_runs`` records where the files of
each update begin, so it differs from a full build's by design (as the ids do).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot import text
from bot.forward_index import split_head, unpack_body

__all__ = ["DERIVED_TABLES", "RemovedDocuments", "rebuild_derived", "update_derived"]

DERIVED_TABLES = (
    "stories",
    "story_categories",
    "entity_spellings",
    "entities",
    "term_stats",
    "katakana_terms",
)
# The kind an entity takes when its mentions differ: the lowest rank wins.
_KIND_RANK = {"company": 0, "tag": 1, "category": 2, "name": 3}
_SPELLING = tuple[str, str, str]  # (key, name, kind)
# Values bound per ``IN (…)`` list: well under SQLite's 32,766 host parameters
# (SQLITE_MAX_VARIABLE_NUMBER, "Limits In SQLite").
_CHUNK = 500


def _rebuild_story_tables(connection: sqlite3.Connection) -> None:
    """``stories`` and ``story_categories``, from ``documents``."""
    connection.execute("DROP TABLE IF EXISTS stories")
    connection.execute("DROP TABLE IF EXISTS story_categories")
    connection.execute(
        "CREATE TABLE stories AS SELECT story, collection, max(date) AS newest, "
        "max(CASE impact_level WHEN 'critical' THEN 3 WHEN 'high' THEN 2 "
        "WHEN 'medium' THEN 1 WHEN 'low' THEN 0 ELSE 1 END) AS impact, "
        "group_concat(locale) AS locales "
        # Locales in order, whatever order the documents were inserted in.
        "FROM (SELECT * FROM documents ORDER BY story, locale) GROUP BY story"
    )
    connection.execute("CREATE UNIQUE INDEX stories_story ON stories(story)")
    connection.execute("CREATE INDEX stories_newest ON stories(newest, story)")
    connection.execute(
        "CREATE TABLE story_categories AS SELECT DISTINCT lower(d.category) AS category, "
        "s.newest AS newest, s.story AS story FROM documents d JOIN stories s USING (story)"
    )
    connection.execute("CREATE INDEX story_categories_newest ON story_categories(category, newest)")


def _rebuild_collection_runs(connection: sqlite3.Connection) -> None:
    """``collection_runs``, from ``documents``."""
    connection.execute("DROP TABLE IF EXISTS collection_runs")
    # A run ends where the next document (by id) is of another collection or has a path
    # before its own: each build or update inserts its files in path order, so that is
    # where the files an update inserted begin (ids freed by deleted documents are no
    # break). Paths compare folder by folder, as the corpus is listed
    # (``corpus.discover_files``): "/" read as char(1), below any character of a name, so
    # "gemini-3/en.md" comes before "gemini-3-pro/en.md".
    connection.execute(
        "CREATE TABLE collection_runs AS SELECT collection, min(id) AS first_id, "
        "max(id) AS last_id FROM (SELECT id, collection, sum(starts) OVER (ORDER BY id) AS run "
        "FROM (SELECT id, collection, CASE WHEN collection IS lag(collection) OVER by_id "
        "AND replace(path, '/', char(1)) >= lag(replace(path, '/', char(1))) OVER by_id "
        "THEN 0 ELSE 1 END AS starts FROM documents WINDOW by_id AS (ORDER BY id))) "
        "GROUP BY run ORDER BY first_id"
    )


def _entity_row(
    key: str,
    spellings: Iterable[tuple[str, str, int]],
    stories: int,
    skeleton: str | None = None,
) -> tuple[str, str, str, int, int, str, str]:
    """The ``entities`` row of ``key`` from its (name, kind, documents) spellings in binary
    order of (name, kind); ``skeleton`` when already known (it depends on the key only)."""
    listed = list(spellings)
    if len(listed) == 1:  # most keys: one spelling, one kind
        name, kind, mentions = listed[0]
    else:
        by_name: Counter[str] = Counter()
        kind = "name"
        for spelling, spelling_kind, documents in listed:
            by_name[spelling] += documents
            if _KIND_RANK[spelling_kind] < _KIND_RANK[kind]:
                kind = spelling_kind
        name = by_name.most_common(1)[0][0]
        mentions = sum(by_name.values())
    if skeleton is None:
        skeleton = text.consonant_skeleton(key) if key.isalpha() and len(key) >= 3 else ""
    return (key, name, kind, stories, mentions, text.normalize(name), skeleton)


def _katakana_row(term: str, documents: int) -> tuple[str, str, int] | None:
    """The ``katakana_terms`` row of an indexed term, or None for a term that is not a
    katakana word of two characters or more."""
    if not ("ァ" <= term < "ー") or len(term) < 2 or not text.is_katakana_word(term):
        return None
    return (text.consonant_skeleton(text.romanize_katakana(term)), term, documents)


def rebuild_derived(connection: sqlite3.Connection) -> None:
    """Drop and recompute every table of ``DERIVED_TABLES`` from ``documents``,
    ``entity_mentions`` and ``docs_vocab``. Runs inside the caller's transaction."""
    for table in DERIVED_TABLES:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
    _rebuild_story_tables(connection)
    _rebuild_collection_runs(connection)
    connection.execute(
        "CREATE TABLE entity_spellings (key TEXT, name TEXT, kind TEXT, documents INTEGER, "
        "PRIMARY KEY (key, name, kind)) WITHOUT ROWID"
    )
    connection.execute(
        "INSERT INTO entity_spellings SELECT key, name, kind, count(*) FROM entity_mentions "
        "GROUP BY key, name, kind"
    )
    story_counts = dict(
        connection.execute(
            "SELECT m.key, count(DISTINCT d.story) FROM entity_mentions m "
            "JOIN documents d ON d.id = m.document_id GROUP BY m.key"
        ).fetchall()
    )
    connection.execute(
        "CREATE TABLE entities (key TEXT PRIMARY KEY, name TEXT, kind TEXT, stories INTEGER, "
        "mentions INTEGER, normalized TEXT, skeleton TEXT)"
    )
    spellings = connection.execute(
        "SELECT key, name, kind, documents FROM entity_spellings ORDER BY key, name, kind"
    )
    connection.executemany(
        "INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            _entity_row(key, [row[1:] for row in rows], story_counts.get(key, 0))
            for key, rows in itertools.groupby(spellings, key=lambda row: row[0])
        ),
    )
    connection.execute("CREATE INDEX entities_stories ON entities(stories)")
    connection.execute("CREATE INDEX entities_normalized ON entities(normalized, name)")

    connection.execute(
        "CREATE TABLE term_stats (term TEXT PRIMARY KEY, documents INTEGER) WITHOUT ROWID"
    )
    connection.execute("INSERT INTO term_stats SELECT term, doc FROM docs_vocab")
    connection.execute(
        "CREATE TABLE katakana_terms (skeleton TEXT, term TEXT, documents INTEGER, "
        "PRIMARY KEY (skeleton, term)) WITHOUT ROWID"
    )
    katakana = connection.execute(
        "SELECT term, documents FROM term_stats WHERE term >= 'ァ' AND term < 'ー'"
    ).fetchall()
    connection.executemany(
        "INSERT INTO katakana_terms VALUES (?, ?, ?)",
        [row for term, documents in katakana if (row := _katakana_row(term, documents))],
    )


def _document_terms(head: str, packed_body: bytes | None) -> set[str]:
    """The distinct terms of a document's four analyzed columns (``document_terms``)."""
    terms = set(" ".join(split_head(head)).split())
    if packed_body:
        terms.update(unpack_body(packed_body).split())
    return terms


def _marks(values: Sequence[object]) -> str:
    """``?, ?, …``: one SQL parameter per value."""
    return ", ".join("?" * len(values))


@dataclass
class RemovedDocuments:
    """What documents about to be deleted contributed to the derived tables, read from the
    index before they go (``capture``): their stories, their mentions as (story, key,
    name, kind) rows and how many of them hold each term."""

    stories: set[str] = field(default_factory=set)
    mentions: list[tuple[str, str, str, str]] = field(default_factory=list)
    terms: Counter[str] = field(default_factory=Counter)

    @classmethod
    def capture(
        cls, connection: sqlite3.Connection, document_ids: Sequence[int]
    ) -> RemovedDocuments:
        """Read the contribution of ``document_ids`` (ids of ``documents``; unknown ids
        contribute nothing). Call before deleting them."""
        removed = cls()
        for start in range(0, len(document_ids), _CHUNK):
            chunk = list(document_ids[start : start + _CHUNK])
            marks = _marks(chunk)
            removed.stories.update(
                story
                for (story,) in connection.execute(
                    f"SELECT story FROM documents WHERE id IN ({marks})", chunk
                )
            )
            removed.mentions += connection.execute(
                "SELECT d.story, m.key, m.name, m.kind FROM entity_mentions m "
                f"JOIN documents d ON d.id = m.document_id WHERE m.document_id IN ({marks})",
                chunk,
            ).fetchall()
            for head, body in connection.execute(
                f"SELECT head, body FROM document_terms WHERE document_id IN ({marks})", chunk
            ):
                removed.terms.update(_document_terms(head, body))
        return removed


def update_derived(
    connection: sqlite3.Connection, removed: RemovedDocuments, first_new_id: int
) -> None:
    """Bring the tables of a previous ``rebuild_derived`` up to date after the documents
    of ``removed`` were deleted and documents with ids from ``first_new_id`` on were
    inserted. Runs inside the caller's transaction; the result equals ``rebuild_derived``.
    """
    _rebuild_story_tables(connection)
    _rebuild_collection_runs(connection)
    added_mentions = connection.execute(
        "SELECT d.story, m.key, m.name, m.kind FROM entity_mentions m "
        "JOIN documents d ON d.id = m.document_id WHERE m.document_id >= ?",
        [first_new_id],
    ).fetchall()
    _update_entities(connection, removed, added_mentions, first_new_id)
    added_terms: Counter[str] = Counter()
    for head, body in connection.execute(
        "SELECT head, body FROM document_terms WHERE document_id >= ?", [first_new_id]
    ):
        added_terms.update(_document_terms(head, body))
    _update_terms(connection, removed.terms, added_terms)


def _update_entities(
    connection: sqlite3.Connection,
    removed: RemovedDocuments,
    added_mentions: list[tuple[str, str, str, str]],
    first_new_id: int,
) -> None:
    spelling_change: Counter[_SPELLING] = Counter(row[1:] for row in added_mentions)
    spelling_change.subtract(row[1:] for row in removed.mentions)
    # Keys each touched story held before (its kept documents and the removed ones) and
    # holds now (its kept documents and the inserted ones).
    stories = removed.stories | {row[0] for row in added_mentions}
    kept: dict[str, set[str]] = defaultdict(set)
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, set[str]] = defaultdict(set)
    story_list = sorted(stories)
    for start in range(0, len(story_list), _CHUNK):
        chunk = story_list[start : start + _CHUNK]
        for story, key in connection.execute(
            "SELECT d.story, m.key FROM documents d JOIN entity_mentions m "
            f"ON m.document_id = d.id WHERE d.story IN ({_marks(chunk)}) AND d.id < ?",
            [*chunk, first_new_id],
        ):
            kept[story].add(key)
    for story, key, _name, _kind in removed.mentions:
        before[story].add(key)
    for story, key, _name, _kind in added_mentions:
        after[story].add(key)
    story_change: Counter[str] = Counter()
    for story in stories:
        held_before = kept[story] | before[story]
        held_after = kept[story] | after[story]
        story_change.update(held_after - held_before)
        story_change.subtract(held_before - held_after)

    changed = [(spelling, n) for spelling, n in spelling_change.items() if n]
    connection.executemany(
        "INSERT INTO entity_spellings VALUES (?, ?, ?, ?) ON CONFLICT (key, name, kind) "
        "DO UPDATE SET documents = documents + excluded.documents",
        [(*spelling, n) for spelling, n in changed],
    )
    connection.executemany(
        "DELETE FROM entity_spellings WHERE key = ? AND name = ? AND kind = ? AND documents <= 0",
        [spelling for spelling, n in changed if n < 0],
    )
    keys = {spelling[0] for spelling, _ in changed} | {k for k, n in story_change.items() if n}
    for key in sorted(keys):
        old = connection.execute(
            "SELECT stories, skeleton FROM entities WHERE key = ?", [key]
        ).fetchone()
        spellings = connection.execute(
            "SELECT name, kind, documents FROM entity_spellings WHERE key = ? ORDER BY name, kind",
            [key],
        ).fetchall()
        if not spellings:
            connection.execute("DELETE FROM entities WHERE key = ?", [key])
            continue
        stories_before, skeleton = old if old is not None else (0, None)
        row = _entity_row(key, spellings, stories_before + story_change[key], skeleton)
        connection.execute("INSERT OR REPLACE INTO entities VALUES (?, ?, ?, ?, ?, ?, ?)", row)


def _update_terms(
    connection: sqlite3.Connection, removed: Counter[str], added: Counter[str]
) -> None:
    change = Counter(added)
    change.subtract(removed)
    changed = sorted((term, n) for term, n in change.items() if n)
    connection.executemany(
        "INSERT INTO term_stats VALUES (?, ?) ON CONFLICT (term) "
        "DO UPDATE SET documents = documents + excluded.documents",
        changed,
    )
    for term, _ in changed:
        (documents,) = connection.execute(
            "SELECT documents FROM term_stats WHERE term = ?", [term]
        ).fetchone()
        if documents <= 0:
            connection.execute("DELETE FROM term_stats WHERE term = ?", [term])
        katakana = _katakana_row(term, documents)
        if katakana is not None:
            connection.execute(
                "DELETE FROM katakana_terms WHERE skeleton = ? AND term = ?", katakana[:2]
            )
            if documents > 0:
                connection.execute("INSERT INTO katakana_terms VALUES (?, ?, ?)", katakana)
