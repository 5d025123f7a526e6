"""Autocomplete for ``/news about``: names and story titles of ``index.db`` for what the
user has typed so far (Discord's autocomplete shows at most 25 choices:
https://discord.com/developers/docs/interactions/application-commands#autocomplete).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from bot import text
from bot.forward_index import DocumentTerms
from bot.fuzzy_index import FuzzyPool, extract_partial
from bot.query import Alternative, EntityVocabulary, QueryPlan
from bot.search_results import Suggestion
from bot.term_statistics import TermStatistics

__all__ = [
    "DOCS_COMMON_WORD",
    "DOCS_PREFIX_CHECK",
    "DOCS_PREFIX_COMPLETIONS",
    "POSTINGS_PER_DOCUMENT_READ",
    "SUGGEST_FUZZY_POOL",
    "SUGGEST_FUZZY_TEXT",
    "Autocomplete",
]

# The most mentioned names autocomplete matches fuzzily (rapidfuzz partial_ratio).
SUGGEST_FUZZY_POOL = 5000
# The longest text (characters, normalized) compared with names fuzzily: longer than any
# name of the pool but a few, so a longer text is a sentence, not a name being typed, and
# partial_ratio would find some name inside almost any sentence (at the cost of
# milliseconds per call).
SUGGEST_FUZZY_TEXT = 32
# A word in more documents than this is left out of a search in the whole text of the
# stories (``docs_fts``) when a rarer word is there to search with: ANDing it filters
# little, and FTS5 reads every posting of it (several milliseconds for the commonest
# words at 100,000 documents). The same bound as retrieval's ``COMMON_POSTINGS``.
DOCS_COMMON_WORD = 2000
# The completions of a partly typed last word searched in the whole text of the stories
# (``docs_fts``), most frequent first: enough for the word being typed, few enough that
# the search stays within a millisecond or two at 100,000 documents (they are ANDed with a
# rarer word, and FTS5 advances every completion's postings to each of its documents:
# 64 of them took 6–7 ms).
DOCS_PREFIX_COMPLETIONS = 16
# A partly typed last word after rarer ones is looked for in the stored terms
# (``bot.forward_index``) of the documents holding those, every completion of it, rather
# than ORing its commonest completions in ``docs_fts``, when they are at most this many
# and FTS5 would read more than POSTINGS_PER_DOCUMENT_READ of the completions' postings
# per document. Measured on the autocomplete prefixes of the 100,000-document benchmark:
# FTS5 about 13 ns a posting ("rogo" AND 16 completions of "ma": 229,000 postings, 2.9
# ms), the stored terms 6-10 µs a document (its 73 documents: 0.5-0.9 ms).
DOCS_PREFIX_CHECK = 128
POSTINGS_PER_DOCUMENT_READ = 800


def _quoted(term: str) -> str:
    """``term`` as an FTS5 string (double quotes doubled)."""
    return '"' + term.replace('"', '""') + '"'


class Autocomplete:
    """Autocomplete choices over one open index.

    ``db`` is a read-only connection to ``index.db`` used only under ``lock``; ``held`` is
    the SQL condition on ``entities`` for the names held in memory (``"1"``: all of
    them); ``vocabulary`` resolves Japanese words to names; ``statistics`` gives how many
    documents hold a word. It keeps no reference to the engine that owns it (the query
    parser is passed per call), so closing the engine leaves no cycle behind.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        held: str,
        vocabulary: EntityVocabulary,
        statistics: TermStatistics,
    ) -> None:
        self._db = db
        self._lock = lock
        self._held = held
        self._vocabulary = vocabulary
        self._statistics = statistics
        self._pool: FuzzyPool | None = None
        self._names: list[str] = []

    def suggest(
        self, typed: str, limit: int, locale: str, plan: Callable[[str], QueryPlan]
    ) -> list[Suggestion]:
        """Autocomplete choices for ``typed`` (non-empty text in ``text.normalize`` form,
        at most 100 characters), at most ``limit``, one per story, in ``locale`` (``ja``
        or ``en``) first; ``plan`` parses Japanese text against the index.

        Order: names that start with the text (bisection over names sorted in normalized
        form); for Japanese text, the names its words resolve to (クロード → Claude); story
        titles holding its words (the last one as a prefix; FTS5 on the title column,
        newest documents first), one per story: the title in ``locale`` when it matches,
        and stories matched in ``locale`` before the others; for Japanese text with room
        left, stories holding its less common words anywhere (description, tags, body;
        ``_whole_text_words``), so a word that titles never use still gives choices; then,
        for a text of 3 to SUGGEST_FUZZY_TEXT characters, names resembling it (rapidfuzz
        ``partial_ratio`` ≥ 80 over the SUGGEST_FUZZY_POOL most mentioned names)."""
        results: list[Suggestion] = []
        seen: set[str] = set()
        stories: set[str] = set()

        def add(name: str, kind: str, story: str | None = None) -> None:
            if name in seen or len(results) >= limit or (story and story in stories):
                return
            seen.add(name)
            if story:
                stories.add(story)
            results.append(Suggestion(name, name, kind, story=story))

        with self._lock:
            starting = self._db.execute(
                "SELECT name FROM entities WHERE normalized >= ? AND normalized < ? "
                f"AND (kind != 'name' OR stories >= 2) AND {self._held} "
                "ORDER BY normalized, name LIMIT ?",
                [typed, typed + "\U0010ffff", limit],
            ).fetchall()
        for (name,) in starting:
            add(str(name), "name")
        japanese = text.is_japanese(typed)
        terms = text.analyze(typed)
        # The last word is matched as a prefix, unless it is a single letter (which would
        # expand to a large part of the vocabulary).
        prefix = bool(terms) and typed[-1].isalnum() and len(terms[-1]) >= 2
        concepts: list[list[Alternative]] = []
        if japanese:
            parsed = plan(typed)
            for concept in parsed.concepts:
                entity = self._vocabulary.exact(text.squash(concept.label))
                if entity is not None and text.normalize(entity.name) != typed:
                    add(entity.name, "name")
            concepts = [list(c.alternatives) for c in parsed.concepts if c.alternatives]
        # Titles from the titles' own FTS5 table (small, with prefix indexes: a prefix such
        # as "co*" is one lookup); the whole text, for Japanese, from the main one, with
        # its common words left out.
        tables = ["title_fts"] + (["docs_fts"] if japanese else [])
        for table in tables:
            if len(results) >= limit:
                break
            words = None
            if terms and table == "title_fts":
                words = self._title_words_expression(terms, prefix)
            elif terms:
                words, checked = self._whole_text_words(terms, prefix, limit, locale)
                for story, title in checked:
                    add(title, "title", story)
            resolved = self._concepts_expression(concepts, table)
            for expression in (words, resolved):
                if not expression or len(results) >= limit:
                    continue
                for story, title in self.titles(table, f"({expression})", limit, locale):
                    add(title, "title", story)
        if len(results) < limit and 3 <= len(typed) <= SUGGEST_FUZZY_TEXT:
            pool = self.suggestion_pool()
            for _name, _score, position in extract_partial(pool, typed, 80, limit):
                add(self._names[position], "name")
        return results[:limit]

    def _title_words_expression(self, terms: list[str], prefix: bool) -> str:
        """The FTS5 expression of the analyzed words ``terms`` ANDed in ``title_fts``, the
        last one as a prefix (``"co"*``, one lookup in its prefix index) when ``prefix``."""
        quoted = [_quoted(term) for term in terms]
        if prefix:
            quoted[-1] += "*"
        return " AND ".join(quoted)

    def _whole_text_words(
        self, terms: list[str], prefix: bool, limit: int, locale: str
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """Stories whose whole text (``docs_fts``) holds the analyzed words ``terms``, the
        last one as a prefix when ``prefix``: ``(expression, titles)``, one of them empty.

        Only the whole words in at most DOCS_COMMON_WORD documents count (none: no
        search, common words alone are no search worth its cost). ``docs_fts`` has no
        prefix index (FTS5 would merge the postings of every completion: over a thousand
        words start with "ma" at 100,000 documents), so a partly typed word is either its
        DOCS_PREFIX_COMPLETIONS commonest completions ORed in the expression (the same as
        the prefix when it has no more), or, when that would read more postings than
        reading the stored terms of the few documents holding the rarer words costs
        (at most DOCS_PREFIX_CHECK documents, POSTINGS_PER_DOCUMENT_READ each), looked
        for in those (every completion counts): the titles (``titles_with_prefix``)."""
        whole = terms[:-1] if prefix else terms
        frequencies = {term: self._statistics.document_frequency((term,)) for term in whole}
        rare = [term for term in whole if frequencies[term] <= DOCS_COMMON_WORD]
        if not rare:
            return None, []
        rare_expression = " AND ".join(_quoted(term) for term in rare)
        if not prefix:
            return rare_expression, []
        completions, postings = self._completions(terms[-1])
        holders = min(frequencies[term] for term in rare)
        if holders <= DOCS_PREFIX_CHECK and holders * POSTINGS_PER_DOCUMENT_READ < postings:
            checked = self.titles_with_prefix(rare_expression, terms[-1], limit, locale)
            if checked is not None:
                return None, checked
        return f"{rare_expression} AND {completions}", []

    def _concepts_expression(self, concepts: list[list[Alternative]], table: str) -> str | None:
        """The FTS5 expression of a parsed Japanese text's ``concepts`` (each a list of
        alternatives, ORed), ANDed; in ``docs_fts`` only the concepts some alternative of
        which is in at most DOCS_COMMON_WORD documents (None when none is)."""
        if table == "docs_fts":
            concepts = [
                alternatives
                for alternatives in concepts
                if any(
                    self._statistics.alternative_frequency(a) <= DOCS_COMMON_WORD
                    for a in alternatives
                )
            ]
        if not concepts:
            return None
        return " AND ".join(
            "(" + " OR ".join(a.fts() for a in alternatives) + ")" for alternatives in concepts
        )

    def _completions(self, prefix: str) -> tuple[str, int]:
        """The DOCS_PREFIX_COMPLETIONS terms of the index starting with ``prefix`` found in
        the most documents (``term_stats``), as an FTS5 OR group, and their documents
        summed (the postings FTS5 reads for them); the prefix itself and 0 when no term
        starts with it (it then matches nothing, as the prefix would)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT term, documents FROM term_stats WHERE term >= ? AND term < ? "
                "ORDER BY documents DESC, term LIMIT ?",
                [prefix, prefix + "\U0010ffff", DOCS_PREFIX_COMPLETIONS],
            ).fetchall()
        if not rows:
            return _quoted(prefix), 0
        expression = "(" + " OR ".join(_quoted(str(term)) for term, _ in rows) + ")"
        return expression, sum(int(documents) for _, documents in rows)

    def suggestion_pool(self) -> FuzzyPool:
        """The SUGGEST_FUZZY_POOL most mentioned names autocomplete may offer, by
        normalized form (loaded on first use)."""
        if self._pool is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT normalized, name FROM entities WHERE (kind != 'name' OR stories >= 2) "
                    f"AND {self._held} ORDER BY stories DESC, key LIMIT ?",
                    [SUGGEST_FUZZY_POOL],
                ).fetchall()
            self._names = [str(name) for _, name in rows]
            self._pool = FuzzyPool([str(normalized) for normalized, _ in rows])
        return self._pool

    def titles_with_prefix(
        self, expression: str, prefix: str, limit: int, locale: str
    ) -> list[tuple[str, str]] | None:
        """``(story, title)`` as ``titles`` gives them for the documents matching the FTS5
        ``expression`` in ``docs_fts`` that hold a term starting with ``prefix`` (FTS5's
        ``expression AND "prefix"*``), checked in their stored terms newest first until
        ``4 * limit`` hold it. None when the expression matches more than
        DOCS_PREFIX_CHECK documents (the caller then asks FTS5); an expression FTS5 cannot
        parse gives nothing."""
        try:
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY rowid DESC LIMIT ?",
                    [expression, DOCS_PREFIX_CHECK + 1],
                ).fetchall()
        except sqlite3.OperationalError:
            return []
        if len(rows) > DOCS_PREFIX_CHECK:
            return None
        newest_first = [int(rowid) for (rowid,) in rows]
        holding: list[int] = []
        for start in range(0, len(newest_first), _TERMS_CHUNK):
            chunk = newest_first[start : start + _TERMS_CHUNK]
            marks = ", ".join("?" * len(chunk))
            with self._lock:
                stored = {
                    int(document_id): (str(head), body)
                    for document_id, head, body in self._db.execute(
                        "SELECT document_id, head, body FROM document_terms "
                        f"WHERE document_id IN ({marks})",
                        chunk,
                    )
                }
            for document_id in chunk:
                if document_id in stored and DocumentTerms(*stored[document_id]).holds_prefix(
                    prefix
                ):
                    holding.append(document_id)
            if len(holding) >= 4 * limit:
                break
        if not holding:
            return []
        holding = holding[: 4 * limit]
        marks = ", ".join("?" * len(holding))
        with self._lock:
            titled = self._db.execute(
                f"SELECT story, locale, title FROM documents WHERE id IN ({marks}) "
                "ORDER BY id DESC",
                holding,
            ).fetchall()
        return _one_per_story(titled, locale)

    def titles(self, table: str, expression: str, limit: int, locale: str) -> list[tuple[str, str]]:
        """``(story, title)`` of the newest documents matching the FTS5 ``expression`` in
        ``table`` (``title_fts``: titles; ``docs_fts``: all the text), one per story: the
        title in ``locale`` when that document matched, stories matched in ``locale``
        first (each group newest first). Reads at most ``4 * limit`` documents; an
        expression FTS5 cannot parse gives nothing."""
        try:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT d.story, d.locale, d.title FROM {table} "
                    f"JOIN documents d ON d.id = {table}.rowid "
                    f"WHERE {table} MATCH ? ORDER BY {table}.rowid DESC LIMIT ?",
                    [expression, 4 * limit],
                ).fetchall()
        except sqlite3.OperationalError:
            return []
        return _one_per_story(rows, locale)


# Stored terms read per query while looking for a prefix (``titles_with_prefix``).
_TERMS_CHUNK = 32


def _one_per_story(rows: list[tuple[object, object, object]], locale: str) -> list[tuple[str, str]]:
    """``(story, title)`` from ``(story, locale, title)`` rows, newest first: one per
    story, the title in ``locale`` when there is one, stories with a title in ``locale``
    first (each group in the rows' order)."""
    titles: dict[str, dict[str, str]] = {}
    for story, document_locale, title in rows:
        titles.setdefault(str(story), {}).setdefault(str(document_locale), str(title))
    own = [(story, by[locale]) for story, by in titles.items() if locale in by]
    other = [(story, next(iter(by.values()))) for story, by in titles.items() if locale not in by]
    return own + other
