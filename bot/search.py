"""Search over ``index.db``: latest stories, fuzzy bilingual ``about``, autocomplete.

``SearchEngine`` is the one entry point; it opens the index and composes the parts, each
in its own module:

* ``bot.term_statistics``: document frequencies and idf of terms, phrases, NEAR groups;
* ``bot.retrieval``: candidate documents, one FTS5 ``MATCH`` of the alternatives of the
  rarest concepts ORed (concepts are taken rarest first until their postings exceed a
  budget, so a common word never makes bm25 score most of the index), restricted to the
  query's date range, ranked by ``bm25`` (weights title 10, description 5, tags 3,
  body 1), best 100; the newest holders for very common words;
* ``bot.presence``: which candidates hold each alternative, at a cost that follows the
  candidates;
* ``bot.ranking``: coverage, focus and strength per story (both language versions
  together), mixed with recency when the user asked for the latest;
* ``bot.did_you_mean`` and ``bot.autocomplete``: names close to what the user typed.

Stories below the confidence threshold are not results; they are returned as weak
matches, and close names as "did you mean". The result types live in
``bot.search_results`` and are importable from here.
"""

from __future__ import annotations

import calendar
import datetime as dt
import gc
import json
import shlex
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bot import text
from bot.autocomplete import Autocomplete
from bot.confidence import CONFIDENCE_THRESHOLD, WEAK_THRESHOLD
from bot.did_you_mean import did_you_mean
from bot.document_cache import StoryDocumentCache
from bot.fuzzy_index import FuzzyPool
from bot.passage_store import unpack_passages
from bot.presence import PresencePlanner
from bot.query import (
    FUZZY_POOL_LIMIT,
    Alternative,
    Concept,
    DateRange,
    Entity,
    EntityVocabulary,
    QueryPlan,
    plan_query,
)
from bot.ranking import StoryRanker
from bot.retrieval import CANDIDATE_LIMIT, CandidateRetriever
from bot.search_results import (
    DOCUMENT_COLUMNS,
    Document,
    RankedStory,
    SearchOutcome,
    StoryHit,
    Suggestion,
    document_from_row,
    without_restated,
)
from bot.sqlite_uri import connect_uri
from bot.term_statistics import TermStatistics

__all__ = [
    "IMPACT_RANK",
    "Document",
    "IndexMissingError",
    "SearchEngine",
    "SearchOutcome",
    "StoryHit",
    "Suggestion",
    "rebuild_command",
]

# A message with this many names and topic words besides a period may mention the period
# in passing; see ``about``.
INCIDENTAL_PERIOD_CONCEPTS = 4
IMPACT_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}
# Stories read past a list's length, to stand in for those that restate another story
# under the same title (``without_restated``).
RESTATED_SPARE = 2


class IndexMissingError(FileNotFoundError):
    """The index database does not exist or is not an index built by this version."""


def rebuild_command(db_path: Path | str | None) -> str:
    """The command that rebuilds the index at ``db_path`` from scratch, the path quoted for
    a shell (``technyan-bot index --full --db PATH``; without ``--db`` for None, the
    configured index)."""
    where = f" --db {shlex.quote(str(db_path))}" if db_path else ""
    return f"technyan-bot index --full{where}"


def _return_freed_memory() -> None:
    """Ask glibc to give freed heap memory back to the system (``malloc_trim(0)``): the
    arrays built while warming leave tens of MB of it. Does nothing where there is no
    glibc."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class SearchEngine:
    """Read-only search over one ``index.db``.

    Opens the database read-only and loads the entity vocabulary and the title list into
    memory (for fuzzy names and autocomplete). Thread-safe: queries are serialized on one
    connection. Raises ``IndexMissingError`` when ``db_path`` is missing or not an index.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.is_file():
            raise IndexMissingError(
                f"index not found: {self.db_path} (build it with `technyan-bot index`)"
            )
        self._lock = threading.RLock()
        try:
            self._db = connect_uri(self.db_path, mode="ro", check_same_thread=False)
            self.document_count = int(
                self._db.execute("SELECT count(*) FROM documents").fetchone()[0]
            )
            # A large vocabulary is held in memory only for names seen in two stories or
            # more (fuzzy matching and autocomplete use no others); the rest are looked up
            # by key when a query names them exactly.
            entity_count = int(self._db.execute("SELECT count(*) FROM entities").fetchone()[0])
            self.last_document_id = int(
                self._db.execute("SELECT coalesce(max(id), 0) FROM documents").fetchone()[0]
            )
            # Tables a query reads: an index of an older format lacks one.
            self._db.execute("SELECT count(*) FROM document_terms WHERE document_id = 0")
            self._db.execute("SELECT rowid FROM title_fts WHERE rowid = 0")
        except sqlite3.Error as error:
            raise IndexMissingError(
                f"not a usable technyan-bot index: {self.db_path} ({error}); rebuild it "
                f"with `{rebuild_command(self.db_path)}`"
            ) from None
        self._held = "stories >= 2" if entity_count > FUZZY_POOL_LIMIT else "1"
        # Nothing is loaded here: names are read by key, prefix and version from the
        # index, and held in memory on the first query that needs them fuzzily.
        self.vocabulary = EntityVocabulary(
            loader=self._held_entities,
            lookup=self._entity_by_key,
            versions=self._entities_with_version,
        )
        # The cut between results and weak matches (bot.confidence); one value for about
        # and ask alike, an attribute so that a calibration can sweep it.
        self.confidence_threshold = CONFIDENCE_THRESHOLD
        self._japanese_vocabulary: FuzzyPool | None = None
        self._categories: list[tuple[str, int]] | None = None
        self._date_span: tuple[dt.date, dt.date] | None = None
        # The parts share the connection and its lock; none of them refers back here.
        self._statistics = TermStatistics(self._db, self._lock, self.document_count)
        self._retriever = CandidateRetriever(
            self._db, self._lock, self._statistics, self.document_count
        )
        self._presence = PresencePlanner(
            self._db, self._lock, self._statistics, self.last_document_id
        )
        self._ranker = StoryRanker(
            self._db, self._lock, self._statistics, self._retriever, self._presence
        )
        self._autocomplete = Autocomplete(
            self._db, self._lock, self._held, self.vocabulary, self._statistics
        )
        self._documents = StoryDocumentCache()

    def _held_entities(self) -> list[Entity]:
        """The names held in memory for fuzzy matching, most mentioned first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, key, kind, stories, skeleton FROM entities "
                f"WHERE {self._held} ORDER BY stories DESC, key"
            ).fetchall()
        return [Entity(*row) for row in rows]

    def _entities_with_version(self, name_key: str, version_key: str) -> list[Entity]:
        """The held names whose key starts with ``name_key`` and ends with ``version_key``,
        by key (GLOB on the key index: squashed keys hold letters and digits only)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, key, kind, stories, skeleton FROM entities WHERE key GLOB ? "
                f"AND {self._held} ORDER BY key",
                [f"{name_key}*{version_key}"],
            ).fetchall()
        return [Entity(*row) for row in rows]

    def warm(self) -> None:
        """Load now what the first queries would otherwise load (the held names, their
        n-gram filters and those with the version first, autocomplete's names and theirs,
        the Japanese vocabulary, the emoji table, the runs of each collection's document ids
        and the documents' dates), for a process about to serve, so no user waits for it;
        then move everything loaded so far out of the cyclic garbage collector's reach
        (``gc.freeze``): these objects live as long as the process serves, and a full
        collection scanning them would stall a query for tens of milliseconds; and give the
        memory the building freed back to the system (glibc's ``malloc_trim``; elsewhere
        nothing). The collector is off while loading: a collection among the objects just
        loaded holds the GIL, and so stalls the event loop of a bot warming a new index in
        a thread, for up to tens of milliseconds. Safe to call from a worker thread."""
        collecting = gc.isenabled()
        gc.disable()
        try:
            self.vocabulary.ensure_loaded()
            self.vocabulary.similar_scored("warming", cutoff=75, limit=1)
            self.vocabulary.katakana_name("ウォーミングアップ", aliases=False)
            self.vocabulary.versions_before_name("warming", "0")
            self.japanese_vocabulary().ngram_filter()
            self._autocomplete.suggestion_pool().ngram_filter()
            self._retriever.warm()
            self.plan("warming up 🙂")
        finally:
            gc.freeze()
            _return_freed_memory()
            if collecting:
                gc.enable()

    def _entity_by_key(self, key: str) -> Entity | None:
        """The entity of squashed ``key`` from the index (for names not held in memory)."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, key, kind, stories, skeleton FROM entities WHERE key = ?", [key]
            ).fetchone()
        return Entity(*row) if row else None

    def close(self) -> None:
        """Close the database connection and let go of what was loaded (the vocabulary's
        callbacks point back at this engine: the cycle is broken here, since objects
        ``warm`` froze are never collected as a cycle)."""
        with self._lock:
            self._db.close()
        self.vocabulary.detach()
        self._documents.clear()

    # -- statistics ---------------------------------------------------------------------

    def document_frequency(self, terms: tuple[str, ...]) -> int:
        """Number of documents containing the phrase ``terms`` (analyzed terms); see
        ``TermStatistics.document_frequency``."""
        return self._statistics.document_frequency(terms)

    def alternative_frequency(self, alternative: Alternative) -> int:
        """Documents matching ``alternative`` (a phrase or NEAR group); see
        ``TermStatistics.alternative_frequency``."""
        return self._statistics.alternative_frequency(alternative)

    def idf(self, document_frequency: int) -> float:
        """bm25's idf for a term found in ``document_frequency`` documents (≥ 0)."""
        return self._statistics.idf(document_frequency)

    def concept_weight(self, concept: Concept) -> float:
        """The weight of ``concept`` in coverage (idf × importance × role weight); see
        ``StoryRanker.concept_weight``."""
        return self._ranker.concept_weight(concept)

    @property
    def common_postings(self) -> int:
        """Documents above which the rarest concept counts as very common and candidates
        are its newest holders (``CandidateRetriever.common_postings``)."""
        return self._retriever.common_postings

    @common_postings.setter
    def common_postings(self, documents: int) -> None:
        self._retriever.common_postings = documents

    def japanese_vocabulary(self) -> FuzzyPool:
        """Japanese terms of two or more characters in the index (for typo correction and
        transliteration), loaded on first use."""
        if self._japanese_vocabulary is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT term FROM term_stats WHERE term >= 'ぁ' AND length(term) >= 2"
                ).fetchall()
            self._japanese_vocabulary = FuzzyPool([t for (t,) in rows if text.is_japanese(t)])
        return self._japanese_vocabulary

    # -- documents ----------------------------------------------------------------------

    def documents_of(self, stories: Sequence[str]) -> dict[str, dict[str, Document]]:
        """All documents of ``stories``: ``{story: {locale: Document}}`` (stories without
        documents are left out); those of recently shown stories come from memory
        (``bot.document_cache``, at most STORY_CACHE_CAPACITY stories)."""
        if not stories:
            return {}
        return self._documents.documents_of(stories, self._read_documents)

    def _read_documents(self, stories: Sequence[str]) -> list[Document]:
        """The documents of ``stories`` read from the index."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {DOCUMENT_COLUMNS} FROM documents WHERE story IN "
                "(SELECT value FROM json_each(?))",
                [json.dumps(list(stories))],
            ).fetchall()
        return [document_from_row(row) for row in rows]

    def passages(self, document_id: int) -> list[tuple[str, str]]:
        """``(heading, text)`` passages of one document, in order."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM passages WHERE document_id = ?", [document_id]
            ).fetchone()
        return unpack_passages(row[0]) if row else []

    def categories(self) -> list[tuple[str, int]]:
        """Categories with their number of stories, most common first (computed once)."""
        if self._categories is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT category, count(DISTINCT story) AS n FROM documents "
                    "GROUP BY category ORDER BY n DESC, category"
                ).fetchall()
            merged: dict[str, tuple[str, int]] = {}
            for name, count in rows:
                key = text.normalize(name)
                if key not in merged:
                    merged[key] = (name, count)
            self._categories = list(merged.values())
        return self._categories

    def date_span(self) -> tuple[dt.date, dt.date] | None:
        """The dates of the oldest and the newest document (as their frontmatter writes
        them), or None for an index without documents. Read once (the index's
        ``documents(date, collection)`` index gives both ends)."""
        if self._date_span is None:
            with self._lock:
                oldest, newest = self._db.execute(
                    "SELECT min(date), max(date) FROM documents"
                ).fetchone()
            if oldest is None:
                return None
            self._date_span = (dt.date.fromisoformat(oldest), dt.date.fromisoformat(newest))
        return self._date_span

    def latest(
        self, count: int = 5, category: str | None = None, *, keep_restated: bool = False
    ) -> list[StoryHit]:
        """Newest stories first (by the newest date of their documents, then story id),
        optionally of one category (case-insensitive, either language's category), without
        a story that restates a newer one's title (``without_restated``) unless
        ``keep_restated`` (a caller that filters the list first, as the digest does).
        ``count`` is clamped to 1–100."""
        count = max(1, min(int(count), 100))
        with self._lock:
            if category:
                rows = self._db.execute(
                    "SELECT story FROM story_categories WHERE category = ? "
                    "ORDER BY newest DESC, story DESC LIMIT ?",
                    [category.strip().lower(), count + RESTATED_SPARE],
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT story FROM stories ORDER BY newest DESC, story DESC LIMIT ?",
                    [count + RESTATED_SPARE],
                ).fetchall()
        stories = [story for (story,) in rows]
        if keep_restated:
            return self._story_hits(stories[:count])
        return self._listed(stories, count)

    def _story_hits(self, stories: Sequence[str]) -> list[StoryHit]:
        """``stories`` as list entries (no search behind them), those the index holds."""
        documents = self.documents_of(stories)
        return [StoryHit(s, documents[s], 1.0, 1.0) for s in stories if documents.get(s)]

    def _listed(self, stories: Sequence[str], limit: int) -> list[StoryHit]:
        """The first ``limit`` of ``stories`` (in order, RESTATED_SPARE more at most) as
        list entries, without those that restate a story above them (``without_restated``);
        the spares are read only when one of the first restates another."""
        first = self._story_hits(stories[:limit])
        kept = without_restated(first)
        if len(kept) < len(first):
            kept = without_restated(first + self._story_hits(stories[limit:]))
        return kept[:limit]

    # -- about --------------------------------------------------------------------------

    def plan(self, query: str, *, as_of: dt.date | None = None, periods: bool = True) -> QueryPlan:
        """Parse ``query`` against this index's vocabulary (see ``bot.query``); periods
        are resolved against ``as_of`` (default today)."""
        return plan_query(
            query,
            self.vocabulary,
            self._statistics.document_frequency,
            self.japanese_vocabulary,
            self.katakana_spellings,
            as_of=as_of,
            periods=periods,
            alternative_frequency=self._statistics.alternative_frequency,
        )

    def katakana_spellings(self, word: str) -> list[str]:
        """Katakana terms of the index that transliterate the English ``word`` (same
        consonant skeleton, at least four consonants), most frequent first:
        ``california`` → ``["カリフォルニア"]``."""
        skeleton = text.consonant_skeleton(word)
        if len(skeleton) < 4:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT term FROM katakana_terms WHERE skeleton = ? ORDER BY documents DESC "
                "LIMIT 3",
                [skeleton],
            ).fetchall()
        return [term for (term,) in rows]

    def about(
        self,
        query: str,
        limit: int = 10,
        *,
        candidates: int = CANDIDATE_LIMIT,
        as_of: dt.date | None = None,
        periods: bool = True,
    ) -> SearchOutcome:
        """Stories about ``query``, best first, one per story (both languages fused).

        Never raises on user text: any string, including FTS5 syntax, quotes, mentions or
        blank input, is treated as words. Returns confident hits (at most ``limit``), weak
        matches (at most 3), and "did you mean" suggestions when nothing is confident.
        ``candidates`` bounds the documents retrieved for ranking (CANDIDATE_LIMIT for a
        page of results; more when every story about a topic is wanted, as for a trend).
        Periods are resolved against ``as_of`` (default today), or not read at all when
        ``periods`` is false (their words are then searched as words).
        """
        plan = self.plan(query, as_of=as_of, periods=periods)
        outcome = SearchOutcome(plan=plan)
        if not plan.concepts:
            if plan.date_range is not None:
                outcome.hits = self._date_only(plan.date_range, limit)
            elif plan.recency:
                outcome.hits = self.latest(limit)
            return outcome
        ranked = self._rank(plan, candidates)
        period = plan.date_range
        if (
            period is not None
            and not any(r.confidence >= self.confidence_threshold for r in ranked)
            and (
                len([c for c in plan.concepts if c.role in ("entity", "topic")])
                >= INCIDENTAL_PERIOD_CONCEPTS
                or (period.granularity == "month" and period.end > (as_of or dt.date.today()))
            )
        ):
            # In a long message a period is often chatter ("at today's meeting…"); and a
            # month not over yet is often when the thing asked about happens, announced
            # before it ("GPT-4.1も2月で引退？" asked in February, of a retirement told in
            # January). A day, a week, a quarter or a year stays: "today's weather" is
            # today's, "news from 2026" this year's. When nothing in the period answers,
            # the message is searched without it.
            ranked = self._rank(replace(plan, date_range=None), candidates)
        threshold = self.confidence_threshold
        # A story or two past the limit stand in for one that restates another.
        confident = [r for r in ranked if r.confidence >= threshold][: limit + RESTATED_SPARE]
        weak = [r for r in ranked if WEAK_THRESHOLD <= r.confidence < threshold][:3]
        if plan.missing_versions:
            # A version the corpus does not have: stories about its other versions are
            # shown, but as weak matches only.
            neighbours = [
                replace(c, alternatives=c.unversioned) if c.unversioned else c
                for c in plan.concepts
            ]
            ranked = self._rank(replace(plan, concepts=neighbours), candidates)
            weak = [r for r in ranked if r.confidence >= WEAK_THRESHOLD][:3]
            confident = []
        # The spare stories past the limit are read only when a story restates another.
        documents = self.documents_of([r.story for r in confident[:limit] + weak])
        hits = [r.hit(documents[r.story]) for r in confident[:limit] if documents.get(r.story)]
        outcome.hits = without_restated(hits)
        if len(outcome.hits) < len(hits) and len(confident) > limit:
            documents.update(self.documents_of([r.story for r in confident[limit:]]))
            outcome.hits = without_restated(
                r.hit(documents[r.story]) for r in confident if documents.get(r.story)
            )[:limit]
        outcome.weak = without_restated(
            (r.hit(documents[r.story]) for r in weak if documents.get(r.story)), outcome.hits
        )
        if not outcome.hits:
            outcome.suggestions = did_you_mean(plan, self.vocabulary)
        return outcome

    def _date_only(self, date_range: DateRange, limit: int) -> list[StoryHit]:
        """Stories dated in the range: those whose text names the day first (for a day),
        then those dated exactly in it (day ranges have a day of slack), by impact, newest."""
        slack = dt.timedelta(days=1 if date_range.granularity == "day" else 0)
        with self._lock:
            rows = self._db.execute(
                "SELECT d.id, d.story, d.date, s.impact FROM documents d JOIN stories s "
                "USING (story) WHERE d.date BETWEEN ? AND ? ORDER BY d.date DESC LIMIT 5000",
                [(date_range.start - slack).isoformat(), (date_range.end + slack).isoformat()],
            ).fetchall()
        mentioning: set[int] = set()
        if date_range.granularity == "day" and rows:
            day = date_range.start
            phrases = [f"{day.month}月{day.day}日", f"{calendar.month_name[day.month]} {day.day}"]
            mentioning = self._presence.holding_any(
                [tuple(text.analyze(phrase)) for phrase in phrases], [int(r[0]) for r in rows]
            )
        keys: dict[str, tuple[int, int, int, str]] = {}
        first, last = date_range.start.isoformat(), date_range.end.isoformat()
        for document_id, story, date, impact in rows:
            exact = first <= date <= last
            key = (int(document_id in mentioning), int(exact), int(impact), date)
            keys[story] = max(keys.get(story, key), key)
        ordered = sorted(keys, key=lambda s: (keys[s], s), reverse=True)
        return self._listed(ordered[: limit + RESTATED_SPARE], limit)

    def _rank(self, plan: QueryPlan, limit: int) -> list[RankedStory]:
        """The candidate stories of at most ``limit`` documents, best first, at this
        engine's confidence threshold."""
        return self._ranker.rank(plan, limit, confidence_threshold=self.confidence_threshold)

    # -- autocomplete -------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 25, locale: str | None = None) -> list[Suggestion]:
        """Autocomplete choices for what the user has typed so far, at most ``limit``, one
        per story, in the user's ``locale`` (``ja`` or ``en``; None: ``en``) first: names
        starting with the text, the names Japanese words resolve to, story titles holding
        its words, then names resembling it (``Autocomplete.suggest`` gives the order).
        Empty text gives the newest stories' titles in ``locale``."""
        wanted = locale if locale in ("ja", "en") else "en"
        typed = text.normalize(prefix)[:100]
        if not typed:
            return [
                Suggestion(
                    hit.document_for(wanted).title,
                    hit.document_for(wanted).title,
                    "title",
                    story=hit.story,
                )
                for hit in self.latest(limit)
            ]
        return self._autocomplete.suggest(typed, limit, wanted, self.plan)
