"""Autocomplete for ``/news about``: names and story titles of ``index.db`` for what the
user has typed so far (Discord's autocomplete shows at most 25 choices:
https://discord.com/developers/docs/interactions/application-commands#autocomplete).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from bot import text
from bot.fuzzy_index import FuzzyPool, extract_partial
from bot.query import Alternative, EntityVocabulary, QueryPlan
from bot.search_results import Suggestion
from bot.term_statistics import TermStatistics

__all__ = [
    "DOCS_COMMON_WORD",
    "DOCS_PREFIX_COMPLETIONS",
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
        ``_words_expression``), so a word that titles never use still gives choices; then,
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
            words = self._words_expression(terms, prefix, table) if terms else None
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

    def _words_expression(self, terms: list[str], prefix: bool, table: str) -> str | None:
        """The FTS5 expression of the analyzed words ``terms`` ANDed, the last one as a
        prefix when ``prefix``: ``"co"*`` in ``title_fts``; in ``docs_fts``, which has no
        prefix index (FTS5 would merge the postings of every completion: over a thousand
        words start with "ma" at 100,000 documents), the word's DOCS_PREFIX_COMPLETIONS
        most frequent completions ORed (the same as the prefix when it has no more), and
        only the whole words in at most DOCS_COMMON_WORD documents (None when there is no
        such word: common words alone are no search worth its cost)."""
        quoted = [_quoted(term) for term in terms]
        if table == "title_fts":
            if prefix:
                quoted[-1] += "*"
            return " AND ".join(quoted)
        whole = terms[:-1] if prefix else terms
        rare = [
            _quoted(term)
            for term in whole
            if self._statistics.document_frequency((term,)) <= DOCS_COMMON_WORD
        ]
        if not rare:
            return None
        if prefix:
            rare.append(self._completions(terms[-1]))
        return " AND ".join(rare)

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

    def _completions(self, prefix: str) -> str:
        """The DOCS_PREFIX_COMPLETIONS terms of the index starting with ``prefix`` found in
        the most documents (``term_stats``), as an FTS5 OR group; the prefix itself when no
        term starts with it (it then matches nothing, as the prefix would)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT term FROM term_stats WHERE term >= ? AND term < ? "
                "ORDER BY documents DESC, term LIMIT ?",
                [prefix, prefix + "\U0010ffff", DOCS_PREFIX_COMPLETIONS],
            ).fetchall()
        if not rows:
            return _quoted(prefix)
        return "(" + " OR ".join(_quoted(str(term)) for (term,) in rows) + ")"

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
        titles: dict[str, dict[str, str]] = {}
        for story, document_locale, title in rows:
            titles.setdefault(str(story), {}).setdefault(str(document_locale), str(title))
        own = [(story, by[locale]) for story, by in titles.items() if locale in by]
        other = [
            (story, next(iter(by.values()))) for story, by in titles.items() if locale not in by
        ]
        return own + other
