"""Build and update ``index.db`` from a corpus.

The index is derived data: it can be deleted and rebuilt at any time. A build never writes
the live file: it works on a copy beside it (``index.db.building-<pid>``) and swaps it in
with ``os.replace``, so a reader sees the old index or the new one, never half of one.
An update is incremental: a file whose size and modification time are unchanged is not
read; one whose modification time changed but whose content did not (a ``git checkout``,
an archive unpacked again) is read and hashed (SHA-256), not parsed; changed files are
re-parsed, deleted ones removed. A run over an unchanged corpus writes nothing at all.
Files that resolve outside the corpus folder (symbolic links) are never read.

Tables (created with sqlite-utils; the FTS5 table with SQL because sqlite-utils only makes
external-content tables and this one is contentless to keep the file small). Rows are
written with plain ``executemany``; sqlite-utils is imported only when a build runs, so the
query path never loads it:

* ``documents`` — one row per article file (a story in one locale): display fields.
* ``document_terms`` — each document's analyzed FTS columns (``bot.forward_index``): the
  title, description and tags as text, the body compressed; ranking checks its candidates
  against them in memory, and an update deletes a document's FTS row with them.
* ``passages`` — each document's body split at headings, for answers (one compressed row
  per document, ``pack_passages``).
* ``entity_mentions`` — names each document mentions (tags, companies, category, names
  found in the text); read only by the build, for the derived ``entities``.
* ``files`` — size, mtime and SHA-256 of each corpus file, with its document or its error.
* ``docs_fts`` — contentless FTS5 over analyzed text (``bot.text.analyze``), columns
  title, description, tags, body; ``docs_vocab`` — its fts5vocab ``row`` table;
  ``title_fts`` — the analyzed titles alone with prefix indexes, for autocomplete.
* ``meta`` — analyzer identity (``index_identity``), corpus root, build time.
* derived from all of the above (``bot.index_derived``): ``stories``,
  ``story_categories``, ``entity_spellings``, ``entities``, ``term_stats``,
  ``katakana_terms`` — recomputed by a full build, updated by difference by an update.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import sqlite3
import stat
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import text
from bot.corpus import (
    LINK_LEADS_NOWHERE,
    Article,
    CorpusError,
    check_inside,
    discover_files,
    parse_article,
    read_inside,
    story_location,
)
from bot.forward_index import pack_body, pack_head, split_head, unpack_body
from bot.index_derived import RemovedDocuments, rebuild_derived, update_derived
from bot.passage_store import pack_passages, unpack_passages
from bot.sqlite_uri import connect_uri

if TYPE_CHECKING:
    import sqlite_utils

__all__ = [
    "DATE_WARNING_DAYS",
    "INDEX_FORMAT",
    "IndexProgress",
    "IndexReport",
    "PreparedDocument",
    "ProgressCallback",
    "build_index",
    "index_identity",
    "pack_passages",
    "prepare_document",
    "unpack_passages",
]

log = logging.getLogger(__name__)

# Bump when the tables, the FTS column layout or what is stored in them change (16:
# control characters dropped from articles; 15: a name that begins with "New" inside a
# sentence keeps it). Together with the analyzer's own
# identity (bot.text.analyzer_identity: its source, SudachiPy, dictionary, PyStemmer) it
# decides whether an index can be updated: a contentless FTS5 table can only delete a row
# given the exact terms it was indexed with, so any change means a full rebuild.
INDEX_FORMAT = "16"
#: A frontmatter date further than this many days from the article folder's date
#: (``articles/YYYYMMDD/…``) is reported as a warning.
DATE_WARNING_DAYS = 30
#: An article file larger than this (bytes) is indexed but reported as a warning: the
#: site's largest is about 25 KB, so a file of megabytes usually holds something pasted or
#: embedded by mistake (an image as base64, a log), which every search then reads through.
LARGE_ARTICLE_BYTES = 1_000_000
FTS_COLUMNS = ("title", "description", "tags", "body")
# Workers for parsing and analysis; processes only pay off on large change sets.
PARALLEL_THRESHOLD = 400
# Japanese runs whose terms a building process keeps (``text.set_run_cache_limit``): runs
# repeat across documents, and Sudachi is most of the analysis. About 100 MB per process.
BUILD_RUN_CACHE = 300_000

_LATIN_NAME_RE = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9.+\-]*(?:[ ][A-Za-z0-9][A-Za-z0-9.+\-]*){0,4}",
)
# Two to four capitalized words, the first not preceded by a letter, digit or dot. The
# first capital comes before the look-behind (which then spans it): a pattern that opens
# with a character class lets the regex engine skip to the next capital in C.
_CAPITALIZED_RUN_RE = re.compile(
    r"[A-Z](?<![A-Za-z0-9.].)[A-Za-z0-9+\-]*[A-Za-z0-9](?: |$)"
    r"(?:[A-Z][A-Za-z0-9+\-]*[A-Za-z0-9](?: |$)){1,3}"
)
# Single words shaped like product names: an inner capital (OpenAI, DeepSeek) or letters,
# a hyphen and a digit (GPT-5.2, Claude-3).
_INNER_CAPITAL_RE = re.compile(
    r"(?<![A-Za-z0-9.+\-])"
    r"([A-Za-z]*[a-z][A-Z][A-Za-z0-9\-]*|[A-Za-z]+-[A-Za-z0-9.\-]*\d(?:[A-Za-z0-9\-]|\.\d)*)"
    r"(?![A-Za-z0-9])"
)
_LIST_NUMBER_RE = re.compile(r"^\d+[.)]\s+")
# Job titles written before a person's name ("OpenAI CFO Sarah Friar", "Chief Research
# Officer Mark Chen"): the name is what follows the last of them.
_JOB_TITLE_WORDS = frozenset(
    "ceo cfo cto coo cpo cmo ciso cso chief officer officers president vp founder co-founder "
    "cofounder chairman chairwoman chair director".split()
)
_TITLED_NAME_RE = re.compile(
    r"\b(?:CEO|CFO|CTO|COO|CPO|CMO|CISO|VP|[Pp]resident|[Ff]ounder|[Cc]o-?[Ff]ounder|"
    r"[Cc]hairman|[Cc]hairwoman|Officer|[Dd]irector)\s+"
    r"([A-Z][a-z][A-Za-z\-]* [A-Z][a-z][A-Za-z\-]*)(?![A-Za-z'’])"
)
# Words that begin or end a capitalized run without being part of a name: articles,
# conjunctions, prepositions, pronouns and sentence adverbs ("While OpenAI …", "If
# Anthropic …", "Meanwhile Google …" name OpenAI, Anthropic and Google).
_STOP_NAME_WORDS = frozenset(
    "the a an and or of in on for to with by from at as is are was be this that its it "
    "how what why when who new if while after before although though because since unless "
    "until whether but so yet also then once both all some many most more other these those "
    "our their his her we they you no not only just even still during into over under about "
    "between through via amid despite across within without against toward towards per "
    "unlike including following meanwhile however today now here there where which whose".split()
)


@dataclass(frozen=True)
class PreparedDocument:
    """An article with its analyzed FTS columns and the names found in it: everything the
    index needs, computed without touching the database (so it can run in a worker).
    ``packed_passages`` and ``packed_body`` are the compressed rows of ``passages`` and
    ``document_terms`` (compressed in the worker too); ``sha256`` the file's hash
    (computed in the worker for a file the index has not seen)."""

    article: Article
    fts: tuple[str, str, str, str]
    names: tuple[str, ...]
    packed_passages: bytes = b""
    packed_body: bytes = b""
    sha256: str | None = None


@dataclass(frozen=True)
class IndexProgress:
    """How far a build is, for a progress display.

    ``stage`` is ``"scan"`` (corpus files checked against the index), ``"parse"`` (files
    parsed and analyzed), ``"write"`` (documents written to the new index) or
    ``"finish"`` (derived tables and the swap; ``total`` 1). ``done`` of ``total`` are
    counts of that stage; ``total`` is known when the stage starts.
    """

    stage: str
    done: int
    total: int


#: Called by ``build_index`` from the building thread as work advances.
ProgressCallback = Callable[[IndexProgress], None]


@dataclass
class IndexReport:
    """What a build did and what the index holds.

    Counts are of the index after the build. ``stories_by_collection`` maps a collection to
    its number of stories; ``documents_by_locale`` maps ``collection/locale`` to documents.
    ``skipped`` lists ``(path, reason)`` for every file that could not be indexed (including
    ones skipped by earlier runs and unchanged since). ``warnings`` lists ``(path,
    message)`` for files that were indexed but look wrong: a frontmatter date more than
    ``DATE_WARNING_DAYS`` from the folder's date, a second file for one story and locale,
    a file larger than ``LARGE_ARTICLE_BYTES``. ``seconds`` is wall-clock time.
    ``refused`` says why nothing was written when the corpus held no article at all.
    ``rebuild_reason`` says why the run rebuilt from scratch (``""`` for an incremental
    run).
    """

    corpus: str
    db_path: str
    documents: int = 0
    stories: int = 0
    stories_by_collection: dict[str, int] = field(default_factory=dict)
    documents_by_locale: dict[str, int] = field(default_factory=dict)
    single_locale_stories: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    rebuild_reason: str = ""
    refused: str = ""

    @property
    def changed(self) -> int:
        """Documents added, updated or removed by this run."""
        return self.added + self.updated + self.removed


# Names of the Latin runs of Japanese text, by run: the same runs (OpenAI, GPT-5) come
# back in document after document. Emptied when full, so a build's memory stays bounded.
_NAME_OF_LATIN_RUN: dict[str, str | None] = {}
_NAME_CACHE_LIMIT = 100_000
_UNSEEN = ""  # never a name (names have two characters or more)


def _name_of_latin_run(run: str) -> str | None:
    """The name a Latin run of Japanese text gives (``"1. The OpenAI API"`` → ``"OpenAI
    API"``: list number and stop words trimmed), or None when what is left is no name (shorter
    than two or longer than 40 characters, or without a letter). Remembered."""
    stripped = _LIST_NUMBER_RE.sub("", run) if run[0].isdigit() else run
    words = stripped.strip(" .-").split(" ")
    while words and words[-1].casefold() in _STOP_NAME_WORDS:
        words.pop()
    while words and words[0].casefold() in _STOP_NAME_WORDS:
        words.pop(0)
    words = _after_job_titles(words)
    name: str | None = " ".join(words)
    if not (name and 2 <= len(name) <= 40 and any(ch.isalpha() for ch in name)):
        name = None
    if len(_NAME_OF_LATIN_RUN) >= _NAME_CACHE_LIMIT:
        _NAME_OF_LATIN_RUN.clear()
    _NAME_OF_LATIN_RUN[run] = name
    return name


def _after_job_titles(words: list[str]) -> list[str]:
    """The words of a capitalized run without its job titles: after the last one ("CFO
    Sarah Friar" → Sarah Friar; none when fewer than two follow it: a title is no name),
    titles at its end left out first ("Dario Amodei CEO" → Dario Amodei); the run as it is
    when it holds no title."""
    while words and words[-1].casefold() in _JOB_TITLE_WORDS:
        words = words[:-1]
    last = max(
        (i for i, word in enumerate(words) if word.casefold() in _JOB_TITLE_WORDS), default=-1
    )
    if last < 0:
        return words
    rest = words[last + 1 :]
    return rest if len(rest) >= 2 else []


def _opens_sentence(source: str, start: int) -> bool:
    """True when ``source[start:]`` begins the text, a line or a sentence (after ``.``,
    ``!``, ``?`` or ``:``)."""
    before = source[:start].rstrip(" ")
    return not before or before[-1] in ".!?:\n"


def _names_in(article: Article, folded: Sequence[str] | None = None) -> tuple[str, ...]:
    """Names mentioned in an article: Latin runs inside Japanese text (the site writes
    names in Latin letters), and in English text runs of two to four capitalized words
    plus single words shaped like product names (``OpenAI``, ``GPT-5.2``). ``folded``:
    the title, description and passage texts already in NFKC, when the caller has them."""
    found: list[str] = []
    if folded is None:
        sources = [article.title, article.description] + [p.text for p in article.passages]
        folded = [unicodedata.normalize("NFKC", source) for source in sources]
    for position, source in enumerate(folded):
        source = source.replace("*", "")
        if article.locale == "ja":
            names_of_runs = _NAME_OF_LATIN_RUN
            for run in _LATIN_NAME_RE.findall(source):
                name = names_of_runs.get(run, _UNSEEN)
                if name == _UNSEEN:
                    name = _name_of_latin_run(run)
                if name is not None:
                    found.append(name)
        else:
            runs = []
            prose = position > 0  # the title capitalizes every word
            for match in _CAPITALIZED_RUN_RE.finditer(source):
                words = match.group(0).strip().split(" ")
                # "New" written with a capital inside a sentence begins a name (the New
                # York Times, New Zealand); opening a sentence or a title, it is a word.
                if prose and words[0] == "New" and not _opens_sentence(source, match.start()):
                    named = _after_job_titles(words)
                    if len(named) >= 2:
                        runs.append(" ".join(named))
                    continue
                while words and words[0].casefold() in _STOP_NAME_WORDS:
                    words.pop(0)
                words = _after_job_titles(words)
                if len(words) >= 2:
                    runs.append(" ".join(words))
            # A name after a title that the runs above cut ("… Officer Mark Chen").
            runs += [name for name in _TITLED_NAME_RE.findall(source) if name not in runs]
            found += runs
            found.extend(token for token in _INNER_CAPITAL_RE.findall(source) if len(token) <= 40)
    return tuple(found)


def prepare_document(path: Path, root: Path, resolved_root: Path | None = None) -> PreparedDocument:
    """Parse one corpus file and analyze its searchable fields. The returned article
    carries no body or passages: they are in ``packed_passages`` (``unpack_passages``).
    ``resolved_root``: ``root`` resolved once by a caller preparing many files.

    Raises ``CorpusError`` for a file that is not a valid article or that resolves outside
    ``root``; ``ValueError`` when the path is not an article location (callers pass paths
    from ``discover_files``).
    """
    relative = path.relative_to(root).as_posix()
    location = story_location(Path(relative))
    if location is None:
        raise ValueError(f"{relative} is not an article location")
    if resolved_root is None:
        try:
            resolved_root = root.resolve(strict=True)
        except (OSError, RuntimeError):
            raise CorpusError(relative, "file", relative, LINK_LEADS_NOWHERE) from None
    raw = read_inside(path, relative, resolved_root)
    article = parse_article(path, location, relative, raw)
    # NFKC once for the name finder and the analyzer, whose own NFKC then finds the text
    # already folded (a newline between passages never composes with its neighbours).
    nfkc = unicodedata.normalize
    title, description = nfkc("NFKC", article.title), nfkc("NFKC", article.description)
    passages = [(nfkc("NFKC", p.heading), nfkc("NFKC", p.text)) for p in article.passages]
    body = "\n".join(f"{heading}\n{passage}" for heading, passage in passages)
    fts = _fts_columns(
        title,
        description,
        article.tags,
        article.category,
        article.related_companies,
        body,
    )
    names = _names_in(article, [title, description, *(passage for _, passage in passages)])
    return PreparedDocument(
        # The body and passages travel packed (cheaper to pass between processes).
        article=dataclasses.replace(article, body="", passages=()),
        fts=fts,
        names=names,
        packed_passages=pack_passages(article.passages),
        packed_body=pack_body(fts[3]),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _prepare_safely(
    path: Path, root: Path, resolved_root: Path | None = None
) -> PreparedDocument | CorpusError:
    try:
        return prepare_document(path, root, resolved_root)
    except CorpusError as error:
        return error
    except Exception as error:  # one broken file never stops a run
        relative = path.relative_to(root).as_posix()
        return CorpusError(relative, "file", type(error).__name__, f"unexpected error: {error}")


def _file_sha256(path: Path) -> str | None:
    """Hex SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def index_identity() -> dict[str, str]:
    """What an index's terms depend on: ``INDEX_FORMAT`` and
    ``bot.text.analyzer_identity()``. Stored in ``meta`` as JSON; an index built under
    another identity is rebuilt in full."""
    return {"format": INDEX_FORMAT, **text.analyzer_identity()}


def _identity_change(meta: dict[str, str]) -> str:
    """Why an index with ``meta`` cannot be updated under the current identity (``""``
    when it can): the first component that differs, old and new."""
    try:
        stored = json.loads(meta["identity"])
    except (KeyError, ValueError):
        return "built by an older version of the bot"
    current = index_identity()
    for component, value in current.items():
        if stored.get(component) != value:
            return f"{component} changed ({stored.get(component)} -> {value})"
    return ""


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
        },
        pk="id",
        not_null={"path", "story", "locale", "title", "date"},
    )
    db.table("documents").create_index(["path"], unique=True)
    db.table("documents").create_index(["story"])
    # By date, with the collection: the id ranges of a period (bot.search) read it alone.
    db.table("documents").create_index(["date", "collection"])
    db.table("passages").create({"document_id": int, "body": bytes}, pk="document_id")
    db.table("document_terms").create(
        {"document_id": int, "head": str, "body": bytes}, pk="document_id"
    )
    db.table("files").create(
        {
            "path": str,
            "size": int,
            "mtime_ns": int,
            "sha256": str,
            "document_id": int,
            "error": str,
        },
        pk="path",
    )
    # Keyed by document (no rowid, no second index): the table is large at scale.
    db.execute(
        "CREATE TABLE entity_mentions (document_id INTEGER, key TEXT, name TEXT, kind TEXT, "
        "PRIMARY KEY (document_id, key, name)) WITHOUT ROWID"
    )
    db.table("meta").create({"key": str, "value": str}, pk="key")
    columns = ", ".join(FTS_COLUMNS)
    db.execute(
        f"CREATE VIRTUAL TABLE docs_fts USING fts5({columns}, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE VIRTUAL TABLE docs_vocab USING fts5vocab(docs_fts, row)")
    # The analyzed titles alone, with prefix indexes, for autocomplete: a two- or
    # three-letter prefix is one lookup instead of a merge of every term it starts.
    db.execute(
        "CREATE VIRTUAL TABLE title_fts USING fts5(title, content='', "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )


def _fts_columns(
    title: str,
    description: str,
    tags: Sequence[str],
    category: str,
    companies: Sequence[str],
    body: str,
) -> tuple[str, str, str, str]:
    """The four FTS5 columns of a document as analyzed text."""
    return (
        text.analyze_to_text(title),
        text.analyze_to_text(description),
        text.analyze_to_text(" ".join((*tags, category, *companies))),
        text.analyze_to_text(body),
    )


_DOCUMENT_FIELDS = (
    "id, path, story, collection, slug, folder_date, locale, title, description, date, "
    "category, tags, technyan_comment, impact_level, related_companies, sources"
)


def _insert_documents(db: sqlite_utils.Database, batch: list[tuple[int, PreparedDocument]]) -> None:
    """Insert prepared documents with the given ids: rows, passages, analyzed columns, FTS
    rows, names (plain ``executemany``: one statement per table and batch)."""
    documents: list[tuple[object, ...]] = []
    passages: list[tuple[int, bytes]] = []
    terms: list[tuple[int, str, bytes]] = []
    mentions: list[tuple[int, str, str, str]] = []
    fts_rows: list[tuple[object, ...]] = []
    for document_id, prepared in batch:
        article = prepared.article
        documents.append(
            (
                document_id,
                article.path,
                article.story,
                article.collection,
                article.slug,
                article.folder_date,
                article.locale,
                article.title,
                article.description,
                article.date.isoformat(),
                article.category,
                json.dumps(article.tags, ensure_ascii=False),
                article.technyan_comment,
                article.impact_level,
                json.dumps(article.related_companies, ensure_ascii=False),
                json.dumps(article.sources, ensure_ascii=False),
            )
        )
        passages.append((document_id, prepared.packed_passages))
        title, description, tags, _body = prepared.fts
        terms.append(
            (
                document_id,
                pack_head(title, description, tags),
                prepared.packed_body,
            )
        )
        labelled = [(t, "tag") for t in article.tags]
        labelled += [(c, "company") for c in article.related_companies]
        labelled += [(article.category, "category")] if article.category else []
        labelled += [(n, "name") for n in prepared.names]
        seen: set[tuple[str, str]] = set()
        for name, kind in labelled:
            key = _squash_cached(name)
            if len(key) < 2 or key.isdigit() or (key, name) in seen:
                continue
            seen.add((key, name))
            mentions.append((document_id, key, name.strip(), kind))
        fts_rows.append((document_id, *prepared.fts))
    connection = db.conn
    marks = ", ".join("?" * 16)
    connection.executemany(
        f"INSERT INTO documents ({_DOCUMENT_FIELDS}) VALUES ({marks})", documents
    )
    connection.executemany("INSERT INTO passages(document_id, body) VALUES (?, ?)", passages)
    connection.executemany(
        "INSERT INTO document_terms(document_id, head, body) VALUES (?, ?, ?)", terms
    )
    connection.executemany(
        "INSERT OR IGNORE INTO entity_mentions(document_id, key, name, kind) VALUES (?, ?, ?, ?)",
        mentions,
    )
    connection.executemany(
        "INSERT INTO docs_fts(rowid, title, description, tags, body) VALUES (?, ?, ?, ?, ?)",
        fts_rows,
    )
    connection.executemany(
        "INSERT INTO title_fts(rowid, title) VALUES (?, ?)", [row[:2] for row in fts_rows]
    )


_SQUASHED: dict[str, str] = {}


def _squash_cached(name: str) -> str:
    key = _SQUASHED.get(name)
    if key is None:
        key = text.squash(name)
        if len(_SQUASHED) < 500_000:
            _SQUASHED[name] = key
    return key


def _delete_document(db: sqlite_utils.Database, document_id: int) -> None:
    """Remove a document; its contentless FTS5 row is deleted with the exact analyzed
    columns it was indexed with, kept in ``document_terms`` (same ``index_identity``
    guaranteed)."""
    row = db.execute(
        "SELECT head, body FROM document_terms WHERE document_id = ?", [document_id]
    ).fetchone()
    if row is not None:
        head, packed_body = row
        columns = split_head(head)
        body = unpack_body(packed_body) if packed_body else ""
        db.execute(
            "INSERT INTO docs_fts(docs_fts, rowid, title, description, tags, body) "
            "VALUES ('delete', ?, ?, ?, ?, ?)",
            [document_id, *columns, body],
        )
        db.execute(
            "INSERT INTO title_fts(title_fts, rowid, title) VALUES ('delete', ?, ?)",
            [document_id, columns[0]],
        )
    for table in ("passages", "entity_mentions", "document_terms"):
        db.execute(f"DELETE FROM {table} WHERE document_id = ?", [document_id])
    db.execute("DELETE FROM documents WHERE id = ?", [document_id])


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
    report.warnings = _warnings(db)
    return report


def _warnings(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """``(path, message)`` for indexed files that look wrong, sorted by path: a date more
    than ``DATE_WARNING_DAYS`` from the folder's date (the site had ``2024-12-xx`` dates in
    ``2025xxxx`` folders), and two files for one story in one locale (two layouts of the
    same article, or a frontmatter ``locale`` that contradicts the file name), and files
    larger than ``LARGE_ARTICLE_BYTES``."""
    found: list[tuple[str, str]] = []
    for path, size in db.execute(
        "SELECT path, size FROM files WHERE size > ? AND document_id IS NOT NULL",
        [LARGE_ARTICLE_BYTES],
    ).fetchall():
        found.append(
            (
                path,
                f"{size / 1_000_000:.1f} MB, larger than an article should be (over "
                f"{LARGE_ARTICLE_BYTES / 1_000_000:g} MB); indexed all the same: is "
                "something pasted or embedded in it?",
            )
        )
    for path, date_text, folder_date in db.execute(
        "SELECT path, date, folder_date FROM documents WHERE folder_date IS NOT NULL"
    ).fetchall():
        try:
            date = dt.date.fromisoformat(date_text)
            folder = dt.datetime.strptime(folder_date, "%Y%m%d").date()
        except ValueError:
            continue
        days = abs((date - folder).days)
        if days > DATE_WARNING_DAYS:
            found.append(
                (path, f"date {date_text} is {days} days from the folder's date {folder_date}")
            )
    for story, locale, paths in db.execute(
        "SELECT story, locale, group_concat(path, char(10)) FROM documents "
        "GROUP BY story, locale HAVING count(*) > 1"
    ).fetchall():
        ordered = sorted(paths.split("\n"))
        for path in ordered:
            others = ", ".join(p for p in ordered if p != path)
            found.append(
                (path, f"story {story} has another {locale} file: {others}; both are indexed")
            )
    return sorted(found)


def _prepare_all(
    paths: Sequence[Path], root: Path, workers: int | None
) -> Iterator[PreparedDocument | CorpusError]:
    """Parse and analyze ``paths`` in order. Large sets go to a process pool and are
    yielded as they complete, so the caller writes to the database while workers analyze.

    Every outcome crosses the process boundary by pickle (``CorpusError`` round-trips). If
    a worker process dies all the same (killed, out of memory), the files not yet parsed
    are parsed in this process, so the build still completes."""
    if workers is None:
        workers = min(os.cpu_count() or 1, 8)
    try:
        resolved_root: Path | None = root.resolve(strict=True)
    except (OSError, RuntimeError):  # each file's check reports it
        resolved_root = None
    if workers <= 1 or len(paths) < PARALLEL_THRESHOLD:
        yield from (_prepare_safely(path, root, resolved_root) for path in paths)
        return
    chunk = max(1, min(64, len(paths) // (workers * 8)))
    done = 0
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=text.set_run_cache_limit, initargs=(BUILD_RUN_CACHE,)
    )
    try:
        for outcome in pool.map(
            _prepare_safely,
            paths,
            [root] * len(paths),
            [resolved_root] * len(paths),
            chunksize=chunk,
        ):
            done += 1
            yield outcome
    except BrokenProcessPool as broken:
        log.warning(
            "a parsing process died (%s); parsing the remaining %d files in this process",
            broken,
            len(paths) - done,
        )
        yield from (_prepare_safely(path, root, resolved_root) for path in paths[done:])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class _KnownFile:
    size: int
    mtime_ns: int
    sha256: str | None
    document_id: int | None


def _read_known_files(db_path: Path) -> dict[str, _KnownFile]:
    """The files an index was built from, by path. Raises ``sqlite3.DatabaseError`` for a
    damaged index."""
    with contextlib.closing(connect_uri(db_path, mode="ro")) as connection:
        connection.execute("PRAGMA quick_check").fetchall()
        return {
            path_text: _KnownFile(size, mtime_ns, sha256, known_id)
            for path_text, size, mtime_ns, sha256, known_id in connection.execute(
                "SELECT path, size, mtime_ns, sha256, document_id FROM files"
            )
        }


def _read_meta(db_path: Path) -> dict[str, str]:
    if not db_path.exists():
        return {}
    try:
        with contextlib.closing(connect_uri(db_path, mode="ro")) as connection:
            return dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.Error:
        return {}


@dataclass
class _CorpusFile:
    """A corpus file as found by this run: where it is, its stat, its hash when it was
    read, and an error that stops it from being read (a link outside the corpus)."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str | None = None
    refused: CorpusError | None = None


def _not_a_file(path: Path, relative: str, mode: int) -> CorpusError:
    """Why the entry at ``path`` (``relative`` in the corpus; ``mode`` from its
    ``lstat``) is no article file."""
    if stat.S_ISDIR(mode):
        reason = "a folder, not a file"
    elif stat.S_ISLNK(mode) and os.path.isdir(path):
        reason = "a linked folder: not followed, its stories are not indexed"
    elif stat.S_ISLNK(mode):
        reason = LINK_LEADS_NOWHERE
    else:
        reason = "not a regular file (a FIFO, socket or device); not read"
    return CorpusError(relative, "file", relative, reason)


def _scan(corpus: Path, progress: ProgressCallback | None) -> dict[str, _CorpusFile]:
    """Every article file of ``corpus`` by relative path, with its stat (of the link itself
    for a link outside the corpus, which is never read). Files that vanish while scanning
    are left out.

    ``discover_files`` does not descend into linked folders, so only a file itself can
    be a link: one ``lstat`` per file tells, and only links are resolved. What stands at
    an article's place but is no file (a folder or FIFO named ``en.md``, a link to
    nothing), and a linked folder anywhere in a collection, is kept as refused, never
    opened or entered, so the report names it."""
    not_files: list[tuple[Path, str]] = []
    found = list(discover_files(corpus, not_files))
    current: dict[str, _CorpusFile] = {}
    for path, relative in not_files:
        try:
            info = path.lstat()
        except OSError:
            continue
        current[relative] = _CorpusFile(
            path, info.st_size, info.st_mtime_ns, refused=_not_a_file(path, relative, info.st_mode)
        )
    for number, (path, relative, _location) in enumerate(found, start=1):
        if progress is not None and (number % 500 == 0 or number == len(found)):
            progress(IndexProgress("scan", number, len(found)))
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                try:
                    check_inside(path, corpus, relative)
                except CorpusError as outside:
                    current[relative] = _CorpusFile(
                        path, info.st_size, info.st_mtime_ns, refused=outside
                    )
                    continue
                info = path.stat()
        except OSError:
            continue
        current[relative] = _CorpusFile(path, info.st_size, info.st_mtime_ns)
    return current


def build_index(
    corpus: Path,
    db_path: Path,
    *,
    full: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> IndexReport:
    """Bring ``db_path`` up to date with the corpus at ``corpus`` and return the report.

    Incremental unless ``full`` is true, the index is missing or unreadable, it indexed
    another folder, or it was built under another ``index_identity`` (format, analyzer
    source, SudachiPy, dictionary, PyStemmer): ``IndexReport.rebuild_reason`` says which.
    A file is parsed again only when its content changed (size, then SHA-256 when the
    mtime moved). The new index is written beside ``db_path`` and swapped in atomically;
    with no change nothing is written. ``workers`` processes parse and analyze large change
    sets (default: one per core). ``progress``, when given, is called with an
    ``IndexProgress`` as files are scanned, parsed and written.

    A corpus with no article file, or none that parses, never replaces an existing index
    (``IndexReport.refused`` says so). A damaged index is rebuilt from scratch.

    Raises ``FileNotFoundError`` when ``corpus`` is not a directory. Bad files never raise:
    each becomes a ``(path, reason)`` entry in ``IndexReport.skipped``.
    """
    import sqlite_utils  # the builder's only: the query path never loads it

    started = time.perf_counter()
    corpus = corpus.resolve()
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {corpus}")
    report = IndexReport(corpus=str(corpus), db_path=str(db_path))
    meta = _read_meta(db_path)
    if full:
        report.rebuild_reason = "a full build was asked for"
    elif not meta:
        report.rebuild_reason = "no index yet"
    elif meta.get("corpus") != str(corpus):
        report.rebuild_reason = f"the index was built from {meta.get('corpus')}"
    else:
        report.rebuild_reason = _identity_change(meta)

    # Reading what the index holds checks every page of it for damage (1–2 s at 100,000
    # documents), mostly in SQLite without the GIL: in a thread beside the scan.
    with ThreadPoolExecutor(max_workers=1) as reader:
        known_files = None if report.rebuild_reason else reader.submit(_read_known_files, db_path)
        current = _scan(corpus, progress)
    if not current:
        # An empty or unmounted corpus folder must not blank a working index.
        report.refused = f"no article files under {corpus}; the index was left as it was"
        report.seconds = time.perf_counter() - started
        return report

    known: dict[str, _KnownFile] = {}
    if known_files is not None:
        try:
            known = known_files.result()
        except sqlite3.DatabaseError as damage:
            log.warning("index %s is damaged (%s); rebuilding it from scratch", db_path, damage)
            report.rebuild_reason = f"the index is damaged ({damage})"
    rebuild = report.rebuilt = bool(report.rebuild_reason)

    to_parse: list[str] = []
    touched: list[str] = []  # mtime moved, content the same: recorded, not parsed
    for relative, found in current.items():
        old = known.get(relative)
        if old is not None and (old.size, old.mtime_ns) == (found.size, found.mtime_ns):
            continue
        if old is not None and found.refused is None:
            # Hashed here only to compare with the version indexed; a new file is hashed
            # by the process that parses it.
            found.sha256 = _file_sha256(found.path)
        if (
            old is not None
            and found.refused is None
            and old.size == found.size
            and found.sha256 is not None
            and old.sha256 == found.sha256
        ):
            touched.append(relative)
        else:
            to_parse.append(relative)
    removed = [relative for relative in known if relative not in current]
    report.unchanged = len(current) - len(to_parse)

    if not rebuild and not to_parse and not removed:
        # Nothing to index. Files only touched are hashed again next run, until a real
        # change writes the index and records their new mtime.
        with contextlib.closing(connect_uri(db_path, mode="ro")) as connection:
            _report_from_db(sqlite_utils.Database(connection), report)
        report.seconds = time.perf_counter() - started
        return report

    parsed = _prepare_all(
        [current[r].path for r in to_parse if current[r].refused is None], corpus, workers
    )

    def outcomes() -> Iterator[PreparedDocument | CorpusError]:
        for relative in to_parse:
            refused = current[relative].refused
            yield refused if refused is not None else next(parsed)

    db_path.parent.mkdir(parents=True, exist_ok=True)
    building = db_path.with_name(f"{db_path.name}.building-{os.getpid()}")
    building.unlink(missing_ok=True)
    if not rebuild:
        shutil.copyfile(db_path, building)
    connection = sqlite3.connect(building)
    db = sqlite_utils.Database(connection)
    # Files parsed in this process (small change sets) share the building cache too.
    previous_run_cache = text.set_run_cache_limit(BUILD_RUN_CACHE)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        if rebuild:
            _create_schema(db)
        with connection:
            # What the documents about to go contributed, for an update's derived tables.
            first_new_id = _next_document_id(connection)
            removed_documents = None
            if not rebuild:
                removed_ids = [
                    old.document_id
                    for relative in [*removed, *to_parse]
                    if (old := known.get(relative)) is not None and old.document_id is not None
                ]
                removed_documents = RemovedDocuments.capture(connection, removed_ids)
            for relative in removed:
                removed_id = known[relative].document_id
                if removed_id is not None:
                    _delete_document(db, removed_id)
                    report.removed += 1
                db.execute("DELETE FROM files WHERE path = ?", [relative])
            for relative in touched:
                db.execute(
                    "UPDATE files SET mtime_ns = ? WHERE path = ?",
                    [current[relative].mtime_ns, relative],
                )
            _write_changes(db, report, to_parse, outcomes(), current, known, progress, first_new_id)
            if progress is not None:
                progress(IndexProgress("finish", 0, 1))
            if removed_documents is None:
                rebuild_derived(connection)
            else:
                update_derived(connection, removed_documents, first_new_id)
            db.table("meta").upsert_all(
                [
                    {"key": "identity", "value": json.dumps(index_identity(), sort_keys=True)},
                    {"key": "corpus", "value": str(corpus)},
                    {
                        "key": "built_at",
                        "value": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                ],
                pk="key",
            )
        if rebuild:  # merging every segment rewrites the whole index: full builds only
            db.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
            db.execute("INSERT INTO title_fts(title_fts) VALUES ('optimize')")
        _report_from_db(db, report)
    except BaseException:
        connection.close()
        building.unlink(missing_ok=True)
        raise
    finally:
        text.set_run_cache_limit(previous_run_cache)
    connection.close()
    if report.documents == 0 and db_path.exists():
        building.unlink(missing_ok=True)
        report.refused = f"no article of {corpus} could be indexed; the index was left as it was"
        report.seconds = time.perf_counter() - started
        return report
    os.replace(building, db_path)
    if progress is not None:
        progress(IndexProgress("finish", 1, 1))
    parsed_now = set(to_parse)
    for path, message in report.warnings:
        if path in parsed_now:
            log.warning("%s: %s", path, message)
    report.seconds = time.perf_counter() - started
    return report


def _next_document_id(connection: sqlite3.Connection) -> int:
    """One past the largest document id: the first id of the documents a build inserts
    (taken before it deletes any, so every inserted document has this id or a larger
    one, and no id of a deleted document is given again in the same run)."""
    return int(connection.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]) + 1


def _write_changes(
    db: sqlite_utils.Database,
    report: IndexReport,
    to_parse: Sequence[str],
    outcomes: Iterator[PreparedDocument | CorpusError],
    current: dict[str, _CorpusFile],
    known: dict[str, _KnownFile],
    progress: ProgressCallback | None,
    first_id: int,
) -> None:
    """Write the parse outcomes of ``to_parse`` (in order) into ``db``: old versions
    deleted, documents inserted in batches with ids from ``first_id`` on, one ``files`` row
    each (with its error for a skipped file). Counts go into ``report``."""
    next_id = first_id - 1
    batch: list[tuple[int, PreparedDocument]] = []
    file_rows: list[tuple[object, ...]] = []
    written = 0

    def flush() -> None:
        nonlocal batch, written
        _insert_documents(db, batch)
        written += len(batch)
        batch = []
        if progress is not None:
            progress(IndexProgress("write", written, len(to_parse)))

    for parsed_count, (relative, outcome) in enumerate(zip(to_parse, outcomes, strict=True), 1):
        if progress is not None:
            progress(IndexProgress("parse", parsed_count, len(to_parse)))
        found = current[relative]
        old = known.get(relative)
        if old is not None and old.document_id is not None:
            _delete_document(db, old.document_id)
        document_id: int | None = None
        error: str | None = None
        if isinstance(outcome, CorpusError):
            error = outcome.describe()
            log.warning("skipped %s", outcome)
        else:
            next_id += 1
            document_id = next_id
            batch.append((document_id, outcome))
            if old is not None and old.document_id is not None:
                report.updated += 1
            else:
                report.added += 1
        sha256 = found.sha256
        if sha256 is None and isinstance(outcome, PreparedDocument):
            sha256 = outcome.sha256
        file_rows.append((relative, found.size, found.mtime_ns, sha256, document_id, error))
        if len(batch) >= 500:
            flush()
    flush()
    db.conn.executemany(
        "INSERT OR REPLACE INTO files(path, size, mtime_ns, sha256, document_id, error) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        file_rows,
    )
