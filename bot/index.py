"""Build and update ``index.db`` from a corpus.

The index is derived data: it can be deleted and rebuilt at any time. A build never writes
the live file: it works on a copy beside it (``index.db.building-<pid>``) and swaps it in
with ``os.replace``, so a reader sees the old index or the new one, never half of one.
An update is incremental: files whose size and modification time are unchanged are not
parsed again; changed files are re-parsed, deleted ones removed. A run over an unchanged
corpus writes nothing at all.

Tables (created with sqlite-utils; the FTS5 table with SQL because sqlite-utils only makes
external-content tables and this one is contentless to keep the file small):

* ``documents`` — one row per article file (a story in one locale), display fields.
* ``passages`` — each document's body split at headings, for answers.
* ``entities`` — names for fuzzy matching and autocomplete (tags, companies, categories,
  names found in the text), with the number of stories that mention them.
* ``files`` — size and mtime of each corpus file, with its document or its error.
* ``docs_fts`` — contentless FTS5 over analyzed text (``bot.text.analyze``), columns
  title, description, tags, body; ``docs_vocab`` — its fts5vocab ``row`` table.
* ``meta`` — analyzer version, corpus root, build time.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from bot import text
from bot.corpus import Article, CorpusError, discover, parse_article

__all__ = [
    "ANALYZER_VERSION",
    "IndexReport",
    "PreparedDocument",
    "build_index",
    "prepare_document",
]

log = logging.getLogger(__name__)

# Bump when bot.text.analyze or the FTS column layout changes: a contentless FTS5 table can
# only delete a row given the exact terms it was indexed with, so a changed analyzer means a
# full rebuild.
ANALYZER_VERSION = "4"
FTS_COLUMNS = ("title", "description", "tags", "body")
# Workers for parsing and analysis; processes only pay off on large change sets.
PARALLEL_THRESHOLD = 400

_LATIN_NAME_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9.+\-]*(?:[ ][A-Za-z0-9][A-Za-z0-9.+\-]*){0,4}",
)
_CAPITALIZED_RUN_RE = re.compile(
    r"(?<![A-Za-z0-9.])(?:[A-Z][A-Za-z0-9+\-]*[A-Za-z0-9](?: |$)){2,4}"
)
_INNER_CAPITAL_RE = re.compile(
    r"^[A-Za-z]*[a-z][A-Z][A-Za-z0-9\-]*$|^[A-Za-z]+-[A-Za-z0-9.\-]*\d[A-Za-z0-9.\-]*$"
)
_LIST_NUMBER_RE = re.compile(r"^\d+[.)]\s+")
_STOP_NAME_WORDS = frozenset(
    "the a an and or of in on for to with by from at as is are was be this that its it "
    "how what why when who new".split()
)


@dataclass(frozen=True)
class PreparedDocument:
    """An article with its analyzed FTS columns and the names found in it: everything the
    index needs, computed without touching the database (so it can run in a worker)."""

    article: Article
    fts: tuple[str, str, str, str]
    names: tuple[str, ...]


@dataclass
class IndexReport:
    """What a build did and what the index holds.

    Counts are of the index after the build. ``stories_by_collection`` maps a collection to
    its number of stories; ``documents_by_locale`` maps ``collection/locale`` to documents.
    ``skipped`` lists ``(path, reason)`` for every file that could not be indexed (including
    ones skipped by earlier runs and unchanged since). ``seconds`` is wall-clock time.
    """

    corpus: str
    db_path: str
    documents: int = 0
    stories: int = 0
    stories_by_collection: dict[str, int] = field(default_factory=dict)
    documents_by_locale: dict[str, int] = field(default_factory=dict)
    single_locale_stories: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed(self) -> int:
        """Documents added, updated or removed by this run."""
        return self.added + self.updated + self.removed


def _names_in(article: Article) -> tuple[str, ...]:
    """Names mentioned in an article: Latin runs inside Japanese text (the site writes
    names in Latin letters), and in English text runs of two to four capitalized words
    plus single words shaped like product names (``OpenAI``, ``GPT-5.2``)."""
    found: list[str] = []
    sources = [article.title, article.description] + [p.text for p in article.passages]
    for source in sources:
        source = unicodedata.normalize("NFKC", source).replace("*", "")
        if article.locale == "ja":
            for match in _LATIN_NAME_RE.finditer(source):
                words = _LIST_NUMBER_RE.sub("", match.group(0)).strip(" .-").split(" ")
                while words and words[-1].casefold() in _STOP_NAME_WORDS:
                    words.pop()
                name = " ".join(words)
                if len(name) >= 2 and any(ch.isalpha() for ch in name) and len(name) <= 40:
                    found.append(name)
        else:
            for match in _CAPITALIZED_RUN_RE.finditer(source):
                words = match.group(0).strip().split(" ")
                while words and words[0].casefold() in _STOP_NAME_WORDS:
                    words.pop(0)
                if len(words) >= 2:
                    found.append(" ".join(words))
            for token in re.findall(r"[A-Za-z0-9.+\-]+", source):
                token = token.strip(".-")
                if _INNER_CAPITAL_RE.match(token) and len(token) <= 40:
                    found.append(token)
    return tuple(found)


def prepare_document(path: Path, root: Path) -> PreparedDocument:
    """Parse one corpus file and analyze its searchable fields.

    Raises ``CorpusError`` for a file that is not a valid article; ``ValueError`` when the
    path is not an article location (callers pass paths from ``discover``).
    """
    from bot.corpus import story_location

    relative = path.relative_to(root).as_posix()
    location = story_location(Path(relative))
    if location is None:
        raise ValueError(f"{relative} is not an article location")
    article = parse_article(path, location, relative)
    body = "\n".join(f"{p.heading}\n{p.text}" for p in article.passages)
    tags = " ".join((*article.tags, article.category, *article.related_companies))
    fts = (
        text.analyze_to_text(article.title),
        text.analyze_to_text(article.description),
        text.analyze_to_text(tags),
        text.analyze_to_text(body),
    )
    return PreparedDocument(article=article, fts=fts, names=_names_in(article))


def _prepare_safely(path: Path, root: Path) -> PreparedDocument | CorpusError:
    try:
        return prepare_document(path, root)
    except CorpusError as error:
        return error
    except Exception as error:  # one broken file never stops a run
        relative = path.relative_to(root).as_posix()
        return CorpusError(relative, "file", type(error).__name__, f"unexpected error: {error}")


def _create_schema(db: sqlite_utils.Database) -> None:
    db.table("documents").create(
        {
            "id": int,
            "path": str,
            "story": str,
            "collection": str,
            "slug": str,
            "folder_date": str,
            "locale": str,
            "title": str,
            "description": str,
            "date": str,
            "category": str,
            "tags": str,
            "technyan_comment": str,
            "impact_level": str,
            "related_companies": str,
            "sources": str,
            "names": str,
        },
        pk="id",
        not_null={"path", "story", "locale", "title", "date"},
    )
    db.table("documents").create_index(["path"], unique=True)
    db.table("documents").create_index(["story"])
    db.table("documents").create_index(["date"])
    db.table("passages").create(
        {"id": int, "document_id": int, "position": int, "heading": str, "text": str},
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
    )
    db.table("passages").create_index(["document_id"])
    db.table("files").create(
        {"path": str, "size": int, "mtime_ns": int, "document_id": int, "error": str},
        pk="path",
    )
    db.table("entities").create(
        {"name": str, "key": str, "kind": str, "stories": int, "mentions": int},
        pk="key",
    )
    db.table("meta").create({"key": str, "value": str}, pk="key")
    columns = ", ".join(FTS_COLUMNS)
    db.execute(
        f"CREATE VIRTUAL TABLE docs_fts USING fts5({columns}, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE docs_vocab USING fts5vocab(docs_fts, row)")


def _insert_document(db: sqlite_utils.Database, prepared: PreparedDocument) -> int:
    article = prepared.article
    row = {
        "path": article.path,
        "story": article.story,
        "collection": article.collection,
        "slug": article.slug,
        "folder_date": article.folder_date,
        "locale": article.locale,
        "title": article.title,
        "description": article.description,
        "date": article.date.isoformat(),
        "category": article.category,
        "tags": json.dumps(article.tags, ensure_ascii=False),
        "technyan_comment": article.technyan_comment,
        "impact_level": article.impact_level,
        "related_companies": json.dumps(article.related_companies, ensure_ascii=False),
        "sources": json.dumps(article.sources, ensure_ascii=False),
        "names": json.dumps(prepared.names, ensure_ascii=False),
    }
    document_id = int(db.table("documents").insert(row).last_pk or 0)
    db.table("passages").insert_all(
        {"document_id": document_id, "position": i, "heading": p.heading, "text": p.text}
        for i, p in enumerate(article.passages)
    )
    db.execute(
        "INSERT INTO docs_fts(rowid, title, description, tags, body) VALUES (?, ?, ?, ?, ?)",
        [document_id, *prepared.fts],
    )
    return document_id


def _delete_document(db: sqlite_utils.Database, document_id: int) -> None:
    """Remove a document; the contentless FTS5 row is deleted by re-deriving the exact terms
    it was indexed with from the stored fields (same ANALYZER_VERSION guaranteed)."""
    row = db.execute(
        "SELECT title, description, tags, category, related_companies FROM documents WHERE id = ?",
        [document_id],
    ).fetchone()
    if row is None:
        return
    title, description, tags_json, category, companies_json = row
    passages = db.execute(
        "SELECT heading, text FROM passages WHERE document_id = ? ORDER BY position",
        [document_id],
    ).fetchall()
    body = "\n".join(f"{heading}\n{passage}" for heading, passage in passages)
    tags = " ".join((*json.loads(tags_json), category, *json.loads(companies_json)))
    fts = (
        text.analyze_to_text(title),
        text.analyze_to_text(description),
        text.analyze_to_text(tags),
        text.analyze_to_text(body),
    )
    db.execute(
        "INSERT INTO docs_fts(docs_fts, rowid, title, description, tags, body) "
        "VALUES ('delete', ?, ?, ?, ?, ?)",
        [document_id, *fts],
    )
    db.execute("DELETE FROM passages WHERE document_id = ?", [document_id])
    db.execute("DELETE FROM documents WHERE id = ?", [document_id])


def _rebuild_entities(db: sqlite_utils.Database) -> None:
    """Recompute the entity vocabulary from the documents: tags, related companies and
    categories (kind ``tag``/``company``/``category``) and names found in text (``name``).
    A name's display form is its most frequent spelling; ``key`` is ``text.squash``."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    stories: dict[str, set[str]] = defaultdict(set)
    kinds: dict[str, str] = {}
    rank = {"company": 0, "tag": 1, "category": 2, "name": 3}
    rows = db.execute(
        "SELECT story, tags, related_companies, category, names FROM documents"
    ).fetchall()
    for story, tags_json, companies_json, category, names_json in rows:
        labelled: list[tuple[str, str]] = [(t, "tag") for t in json.loads(tags_json)]
        labelled += [(c, "company") for c in json.loads(companies_json)]
        labelled += [(category, "category")] if category else []
        labelled += [(n, "name") for n in json.loads(names_json)]
        for name, kind in labelled:
            key = text.squash(name)
            if len(key) < 2 or key.isdigit():
                continue
            spellings[key][name.strip()] += 1
            stories[key].add(story)
            if key not in kinds or rank[kind] < rank[kinds[key]]:
                kinds[key] = kind
    db.execute("DELETE FROM entities")
    db.table("entities").insert_all(
        {
            "name": spellings[key].most_common(1)[0][0],
            "key": key,
            "kind": kinds[key],
            "stories": len(stories[key]),
            "mentions": sum(spellings[key].values()),
        }
        for key in spellings
    )


def _report_from_db(db: sqlite_utils.Database, report: IndexReport) -> IndexReport:
    report.documents = db.table("documents").count
    report.stories = db.execute("SELECT count(DISTINCT story) FROM documents").fetchone()[0]
    report.stories_by_collection = dict(
        db.execute(
            "SELECT collection, count(DISTINCT story) FROM documents GROUP BY collection "
            "ORDER BY collection"
        ).fetchall()
    )
    report.documents_by_locale = {
        f"{collection}/{locale}": count
        for collection, locale, count in db.execute(
            "SELECT collection, locale, count(*) FROM documents GROUP BY collection, locale "
            "ORDER BY collection, locale"
        ).fetchall()
    }
    report.single_locale_stories = [
        story
        for (story,) in db.execute(
            "SELECT story FROM documents GROUP BY story HAVING count(DISTINCT locale) = 1 "
            "ORDER BY story"
        ).fetchall()
    ]
    report.skipped = [
        (path, error)
        for path, error in db.execute(
            "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path"
        ).fetchall()
    ]
    return report


def _prepare_all(
    paths: Sequence[Path], root: Path, workers: int | None
) -> list[PreparedDocument | CorpusError]:
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    if workers <= 1 or len(paths) < PARALLEL_THRESHOLD:
        return [_prepare_safely(path, root) for path in paths]
    chunk = max(1, len(paths) // (workers * 8))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_prepare_safely, paths, [root] * len(paths), chunksize=chunk))


def _read_meta(db_path: Path) -> dict[str, str]:
    if not db_path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
            return dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error:
        return {}


def build_index(
    corpus: Path,
    db_path: Path,
    *,
    full: bool = False,
    workers: int | None = None,
) -> IndexReport:
    """Bring ``db_path`` up to date with the corpus at ``corpus`` and return the report.

    Incremental unless ``full`` is true, the index is missing or unreadable, or it was built
    by another analyzer version. The new index is written beside ``db_path`` and swapped in
    atomically; with no change nothing is written. ``workers`` processes parse and analyze
    large change sets (default: one per core).

    Raises ``FileNotFoundError`` when ``corpus`` is not a directory. Bad files never raise:
    each becomes a ``(path, reason)`` entry in ``IndexReport.skipped``.
    """
    started = time.perf_counter()
    corpus = corpus.resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus}")
    report = IndexReport(corpus=str(corpus), db_path=str(db_path))
    meta = _read_meta(db_path)
    rebuild = (
        full
        or meta.get("analyzer_version") != ANALYZER_VERSION
        or meta.get("corpus") != str(corpus)
    )
    report.rebuilt = rebuild

    current: dict[str, tuple[Path, int, int]] = {}
    for path, _location in discover(corpus):
        stat = path.stat()
        current[path.relative_to(corpus).as_posix()] = (path, stat.st_size, stat.st_mtime_ns)

    known: dict[str, tuple[int, int, int | None]] = {}
    if not rebuild:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as connection:
            for path_text, size, mtime_ns, known_id in connection.execute(
                "SELECT path, size, mtime_ns, document_id FROM files"
            ):
                known[path_text] = (size, mtime_ns, known_id)

    to_parse = [
        relative
        for relative, (_, size, mtime_ns) in current.items()
        if relative not in known or known[relative][:2] != (size, mtime_ns)
    ]
    removed = [relative for relative in known if relative not in current]
    report.unchanged = len(current) - len(to_parse)

    if not rebuild and not to_parse and not removed:
        with sqlite_utils.Database(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as db:
            _report_from_db(db, report)
        report.seconds = time.perf_counter() - started
        return report

    prepared = _prepare_all([current[r][0] for r in to_parse], corpus, workers)

    db_path.parent.mkdir(parents=True, exist_ok=True)
    building = db_path.with_name(f"{db_path.name}.building-{os.getpid()}")
    building.unlink(missing_ok=True)
    if not rebuild:
        shutil.copyfile(db_path, building)
    connection = sqlite3.connect(building)
    db = sqlite_utils.Database(connection)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        if rebuild:
            _create_schema(db)
        with connection:
            for relative in removed:
                removed_id = known[relative][2]
                if removed_id is not None:
                    _delete_document(db, removed_id)
                    report.removed += 1
                db.execute("DELETE FROM files WHERE path = ?", [relative])
            for relative, outcome in zip(to_parse, prepared, strict=True):
                _, size, mtime_ns = current[relative]
                old = known.get(relative)
                if old is not None and old[2] is not None:
                    _delete_document(db, old[2])
                document_id: int | None = None
                error: str | None = None
                if isinstance(outcome, CorpusError):
                    error = f"{outcome.field}={outcome.value!r}: {outcome.reason}"
                    log.warning("skipped %s", outcome)
                else:
                    document_id = _insert_document(db, outcome)
                    if old is not None and old[2] is not None:
                        report.updated += 1
                    else:
                        report.added += 1
                db.table("files").upsert(
                    {
                        "path": relative,
                        "size": size,
                        "mtime_ns": mtime_ns,
                        "document_id": document_id,
                        "error": error,
                    },
                    pk="path",
                )
            _rebuild_entities(db)
            db.table("meta").upsert_all(
                [
                    {"key": "analyzer_version", "value": ANALYZER_VERSION},
                    {"key": "corpus", "value": str(corpus)},
                    {
                        "key": "built_at",
                        "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                ],
                pk="key",
            )
        db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
        _report_from_db(db, report)
    except BaseException:
        connection.close()
        building.unlink(missing_ok=True)
        raise
    connection.close()
    os.replace(building, db_path)
    report.seconds = time.perf_counter() - started
    return report


def iter_skipped(report: IndexReport) -> Iterable[str]:
    """Human lines for the skipped files of ``report``: ``path: reason``."""
    return (f"{path}: {reason}" for path, reason in report.skipped)
