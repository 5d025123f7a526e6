"""Search over ``index.db``: latest stories, fuzzy bilingual ``about``, autocomplete.

Ranking, for a query turned into concepts by ``bot.query.plan_query``:

1. Candidate documents: one FTS5 ``MATCH`` of the alternatives of the rarest concepts
   ORed (concepts are taken rarest first until their postings exceed a budget, so a common
   word never makes bm25 score most of the index), restricted to the query's date range,
   ranked by ``bm25`` (weights title 10, description 5, tags 3, body 1), best 100.
2. Per story (both language versions together), *coverage*: the share of the query's
   concepts it contains, each concept weighted by its idf; a concept found only through a
   corrected or translated spelling counts with that alternative's trust. *Focus* is the
   same share counted in titles (0.6) and in descriptions and tags (0.4): a story about X
   beats one that mentions X in passing.
3. Score = 0.45·coverage + 0.3·focus + 0.25·(bm25 relative to the best candidate), mixed
   half and half with recency when the user asked for the latest (for stories whose focus
   is at least 0.4, so "latest X" means the newest story about X). Stories below the
   confidence threshold are not results; they are returned as weak matches, and close
   names as "did you mean".
"""

from __future__ import annotations

import calendar
import datetime as dt
import gc
import json
import math
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot import text
from bot.confidence import CONFIDENCE_THRESHOLD, WEAK_THRESHOLD, StoryEvidence
from bot.forward_index import DocumentTerms, Phrase
from bot.fuzzy_index import FuzzyPool, extract_partial
from bot.lexicon import lexicon
from bot.passage_store import unpack_passages
from bot.query import (
    FUZZY_POOL_LIMIT,
    ROLE_WEIGHTS,
    UNKNOWN_WORD_WEIGHT,
    Alternative,
    Concept,
    DateRange,
    Entity,
    EntityVocabulary,
    QueryPlan,
    plan_query,
)
from bot.sqlite_uri import connect_uri

__all__ = ["Document", "IndexMissingError", "SearchEngine", "SearchOutcome", "Suggestion"]

BM25_WEIGHTS = (10.0, 5.0, 3.0, 1.0)
CANDIDATE_LIMIT = 100
# Postings (documents per alternative) retrieval may touch before it stops adding concepts.
RETRIEVAL_POSTINGS = 2000
# When even the rarest concept is in more documents than this, candidates are the newest
# documents that hold it (see _retrieve_newest) instead of bm25's best: bm25 reads every
# posting of its words, whatever the limit.
COMMON_POSTINGS = 2000
# Such words' candidates are the title matches among this many times as many of the newest
# documents holding them, then the newest of those.
NEWEST_POOL = 3
# Above this many documents for its rarest term, a phrase's frequency is estimated by that
# term's instead of counted (the count would read long posting lists).
PHRASE_COUNT_LIMIT = 1000
# Postings FTS5 may read per query to tell which candidates hold the rarest alternatives
# (see _presence); the others are checked against the candidates' stored terms.
PRESENCE_MATCH_POSTINGS = 6000
SUGGEST_FUZZY_POOL = 5000
# Document frequencies remembered (cleared when full: a few MB at most).
DF_CACHE_LIMIT = 20_000
DID_YOU_MEAN_LOOKUPS = 6
# A message with this many names and topic words besides a period may mention the period
# in passing; see ``about``.
INCIDENTAL_PERIOD_CONCEPTS = 4
IMPACT_RANK = {"critical": 3, "high": 2, "medium": 1, "low": 0}


class IndexMissingError(FileNotFoundError):
    """The index database does not exist or is not an index built by this version."""


@dataclass(frozen=True)
class Document:
    """One stored document (a story in one locale) with its display fields."""

    id: int
    story: str
    locale: str
    collection: str
    slug: str
    folder_date: str | None
    title: str
    description: str
    date: dt.date
    category: str
    tags: tuple[str, ...]
    technyan_comment: str | None
    impact_level: str | None
    related_companies: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StoryHit:
    """A ranked story: its documents by locale, score in [0, 1], coverage in [0, 1] and
    confidence in [0, 1] (1.0 for lists that are not searches), and for a search the
    ``evidence`` behind them."""

    story: str
    documents: dict[str, Document]
    score: float
    coverage: float
    confidence: float = 1.0
    evidence: StoryEvidence | None = None

    def document_for(self, locale: str) -> Document:
        """The document in ``locale``, or the other one when the story lacks it."""
        return self.documents.get(locale) or next(iter(self.documents.values()))


@dataclass
class RankedStory:
    """A candidate story while ranking: its ``evidence`` (what it holds of each concept),
    its newest document date (ISO), and ``recency`` in [0, 1] when the query asks for the
    newest (1 for the newest story about the subject)."""

    story: str
    evidence: StoryEvidence
    newest: str
    recency: float | None = None

    @property
    def score(self) -> float:
        """The ranking score: the evidence's, mixed half and half with recency when the
        query asks for the newest."""
        base = self.evidence.score()
        return base if self.recency is None else 0.5 * base + 0.5 * self.recency

    @property
    def confidence(self) -> float:
        """How sure the bot is that this story answers the query (``bot.confidence``)."""
        return self.evidence.confidence()

    def hit(self, documents: dict[str, Document]) -> StoryHit:
        """The ranked story as a result carrying its documents."""
        return StoryHit(
            self.story,
            documents,
            min(1.0, self.score),
            self.evidence.coverage(),
            self.confidence,
            self.evidence,
        )


@dataclass
class SearchOutcome:
    """Result of ``about``: confident ``hits`` (best first), ``weak`` matches below the
    confidence threshold, ``suggestions`` (names for "did you mean"), and the ``plan``."""

    plan: QueryPlan
    hits: list[StoryHit] = field(default_factory=list)
    weak: list[StoryHit] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    """An autocomplete choice: ``name`` shown, ``value`` inserted (both ≤ 100 characters
    are the adapter's business), ``kind`` (``title`` or an entity kind), ``story`` the
    story a title belongs to (None for names)."""

    name: str
    value: str
    kind: str
    story: str | None = None


_DOCUMENT_COLUMNS = (
    "id, story, locale, collection, slug, folder_date, title, description, date, category, "
    "tags, technyan_comment, impact_level, related_companies, sources"
)


def _document(row: Sequence[object]) -> Document:
    (id_, story, locale, collection, slug, folder_date, title, description, date, category,
     tags, comment, impact, companies, sources) = row  # fmt: skip
    return Document(
        id=int(id_),  # type: ignore[call-overload]
        story=str(story),
        locale=str(locale),
        collection=str(collection),
        slug=str(slug),
        folder_date=folder_date if isinstance(folder_date, str) else None,
        title=str(title),
        description=str(description),
        date=dt.date.fromisoformat(str(date)),
        category=str(category),
        tags=tuple(json.loads(str(tags))),
        technyan_comment=comment if isinstance(comment, str) else None,
        impact_level=impact if isinstance(impact, str) else None,
        related_companies=tuple(json.loads(str(companies))),
        sources=tuple(tuple(pair) for pair in json.loads(str(sources))),  # type: ignore[misc]
    )


def _id_runs(ids: Sequence[int], most: int = 32) -> list[tuple[int, int]]:
    """Sorted ``ids`` as at most ``most`` ranges ``(first, last)``, split at the widest
    gaps: the stretches of the index a period's documents fill."""
    if not ids:
        return []
    gaps = sorted(
        ((ids[i + 1] - ids[i], i) for i in range(len(ids) - 1) if ids[i + 1] - ids[i] > 1),
        reverse=True,
    )[: most - 1]
    runs: list[tuple[int, int]] = []
    start = ids[0]
    for i in sorted(i for _, i in gaps):
        runs.append((start, ids[i]))
        start = ids[i + 1]
    runs.append((start, ids[-1]))
    return runs


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


def _share_in_field(alternative: Alternative, needle: str, terms: list[str], field: str) -> float:
    """How much of ``alternative`` a title or headline (analyzed, space-padded) holds: 1 for
    the phrase (or, for a NEAR group, all its words), else the share of its words when at
    least half of them are there ("GPT-5.2" in a title for "gpt-5.2 thinking"), else 0."""
    if (all(t in field for t in terms)) if alternative.near else needle in field:
        return 1.0
    if len(terms) < 2:
        return 0.0
    share = sum(1 for t in terms if t in field) / len(terms)
    return share if share >= 0.5 else 0.0


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
                f"not a usable technyan-bot index: {self.db_path} ({error}); "
                "rebuild it with `technyan-bot index --full`"
            ) from None
        self._held = "stories >= 2" if entity_count > FUZZY_POOL_LIMIT else "1"
        # Nothing is loaded here: names are read by key, prefix and version from the
        # index, and held in memory on the first query that needs them fuzzily.
        self.vocabulary = EntityVocabulary(
            loader=self._held_entities,
            lookup=self._entity_by_key,
            versions=self._entities_with_version,
        )
        self._suggest_pool: FuzzyPool | None = None
        self._suggest_names: list[str] = []
        self.common_postings = COMMON_POSTINGS
        # The cut between results and weak matches (bot.confidence); one value for about
        # and ask alike, an attribute so that a calibration can sweep it.
        self.confidence_threshold = CONFIDENCE_THRESHOLD
        self._df_cache: dict[tuple[str, ...], int] = {}
        self._japanese_vocabulary: FuzzyPool | None = None
        self._categories: list[tuple[str, int]] | None = None
        self._ranges: list[tuple[int, int]] | None = None

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
        """Load now what the first queries would otherwise load (the held names and their
        n-gram filters, the Japanese vocabulary, the emoji table), for a process about to
        serve, so no user waits for it; then move everything loaded so far out of the
        cyclic garbage collector's reach (``gc.freeze``): these objects live as long as
        the process serves, and a full collection scanning them would stall a query for
        tens of milliseconds; and give the memory the building freed back to the system
        (glibc's ``malloc_trim``; elsewhere nothing). Safe to call from a worker thread."""
        self.vocabulary.ensure_loaded()
        self.vocabulary.similar_scored("warming", cutoff=75, limit=1)
        self.vocabulary.katakana_name("ウォーミングアップ", aliases=False)
        self.japanese_vocabulary().ngram_filter()
        self._suggestion_pool()
        self.plan("warming up 🙂")
        gc.freeze()
        _return_freed_memory()

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

    # -- statistics ---------------------------------------------------------------------

    def document_frequency(self, terms: tuple[str, ...]) -> int:
        """Number of documents containing the phrase ``terms`` (analyzed terms). Exact for
        single terms and for phrases whose rarest term is in at most PHRASE_COUNT_LIMIT
        documents; above that, the rarest term's count (an upper bound)."""
        if not terms:
            return 0
        cached = self._df_cache.get(terms)
        if cached is not None:
            return cached
        if len(terms) == 1:
            with self._lock:
                row = self._db.execute(
                    "SELECT documents FROM term_stats WHERE term = ?", [terms[0]]
                ).fetchone()
            count = int(row[0]) if row else 0
        else:
            count = min(self.document_frequency((term,)) for term in terms)
            if 0 < count <= PHRASE_COUNT_LIMIT:
                phrase = '"' + " ".join(terms).replace('"', '""') + '"'
                with self._lock:
                    count = int(
                        self._db.execute(
                            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?", [phrase]
                        ).fetchone()[0]
                    )
        if len(self._df_cache) >= DF_CACHE_LIMIT:
            self._df_cache.clear()
        self._df_cache[terms] = count
        return count

    def alternative_frequency(self, alternative: Alternative) -> int:
        """Documents matching ``alternative``: its phrase's frequency, or for a NEAR group
        the count of documents matching it (estimated like long phrases)."""
        if not alternative.near:
            return self.document_frequency(alternative.terms)
        key = ("NEAR", alternative.fts())
        cached = self._df_cache.get(key)
        if cached is None:
            cached = min(self.document_frequency((term,)) for term in alternative.terms)
            if 0 < cached <= PHRASE_COUNT_LIMIT:
                with self._lock:
                    cached = int(
                        self._db.execute(
                            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?",
                            [alternative.fts()],
                        ).fetchone()[0]
                    )
            self._df_cache[key] = cached
        return cached

    def idf(self, document_frequency: int) -> float:
        """bm25's idf for a term found in ``document_frequency`` documents (≥ 0)."""
        n = self.document_count
        return math.log((n - document_frequency + 0.5) / (document_frequency + 0.5) + 1.0)

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
        """All documents of ``stories``: ``{story: {locale: Document}}``."""
        found: dict[str, dict[str, Document]] = defaultdict(dict)
        if not stories:
            return found
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE story IN "
                "(SELECT value FROM json_each(?))",
                [json.dumps(list(stories))],
            ).fetchall()
        for row in rows:
            document = _document(row)
            found[document.story][document.locale] = document
        return found

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

    def latest(self, count: int = 5, category: str | None = None) -> list[StoryHit]:
        """Newest stories first (by the newest date of their documents, then story id),
        optionally of one category (case-insensitive, either language's category).
        ``count`` is clamped to 1–100."""
        count = max(1, min(int(count), 100))
        with self._lock:
            if category:
                rows = self._db.execute(
                    "SELECT story FROM story_categories WHERE category = ? "
                    "ORDER BY newest DESC, story DESC LIMIT ?",
                    [category.strip().lower(), count],
                ).fetchall()
            else:
                rows = self._db.execute(
                    "SELECT story FROM stories ORDER BY newest DESC, story DESC LIMIT ?",
                    [count],
                ).fetchall()
        stories = [story for (story,) in rows]
        documents = self.documents_of(stories)
        return [StoryHit(s, documents[s], 1.0, 1.0) for s in stories if documents.get(s)]

    # -- about --------------------------------------------------------------------------

    def plan(self, query: str, *, as_of: dt.date | None = None, periods: bool = True) -> QueryPlan:
        """Parse ``query`` against this index's vocabulary (see ``bot.query``); periods
        are resolved against ``as_of`` (default today)."""
        return plan_query(
            query,
            self.vocabulary,
            self.document_frequency,
            self.japanese_vocabulary,
            self.katakana_spellings,
            as_of=as_of,
            periods=periods,
            alternative_frequency=self.alternative_frequency,
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
        if (
            plan.date_range is not None
            and len([c for c in plan.concepts if c.role in ("entity", "topic")])
            >= INCIDENTAL_PERIOD_CONCEPTS
            and not any(r.confidence >= self.confidence_threshold for r in ranked)
        ):
            # In a long message a period is often chatter ("at today's meeting…"): when
            # nothing in it answers, the message is searched without it.
            ranked = self._rank(replace(plan, date_range=None), candidates)
        threshold = self.confidence_threshold
        confident = [r for r in ranked if r.confidence >= threshold][:limit]
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
        documents = self.documents_of([r.story for r in confident + weak])
        outcome.hits = [r.hit(documents[r.story]) for r in confident if documents.get(r.story)]
        outcome.weak = [r.hit(documents[r.story]) for r in weak if documents.get(r.story)]
        if not outcome.hits:
            outcome.suggestions = self._did_you_mean(plan)
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
            mentioning = self._holding_any(
                [tuple(text.analyze(phrase)) for phrase in phrases], [int(r[0]) for r in rows]
            )
        keys: dict[str, tuple[int, int, int, str]] = {}
        first, last = date_range.start.isoformat(), date_range.end.isoformat()
        for document_id, story, date, impact in rows:
            exact = first <= date <= last
            key = (int(document_id in mentioning), int(exact), int(impact), date)
            keys[story] = max(keys.get(story, key), key)
        ordered = sorted(keys, key=lambda s: (keys[s], s), reverse=True)[:limit]
        documents = self.documents_of(ordered)
        return [StoryHit(s, documents[s], 1.0, 1.0) for s in ordered if documents.get(s)]

    def _holding_any(
        self, phrases: Sequence[tuple[str, ...]], document_ids: Sequence[int]
    ) -> set[int]:
        """Which of ``document_ids`` hold any of ``phrases`` (analyzed terms), checked
        against their analyzed columns."""
        found: set[int] = set()
        ids = list(document_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    "SELECT document_id, head, body FROM document_terms "
                    f"WHERE document_id IN ({marks})",
                    chunk,
                ).fetchall()
            prepared = [Phrase(terms) for terms in phrases if terms]
            for document_id, head, body in rows:
                document = DocumentTerms(head, body)
                if any(document.holds(phrase) for phrase in prepared):
                    found.add(int(document_id))
        return found

    def _present(self, expression: str, document_ids: Sequence[int]) -> set[int]:
        """Which of ``document_ids`` match the FTS5 ``expression`` (looked up per rowid, so
        the cost follows the number of ids, not the length of the posting lists)."""
        found: set[int] = set()
        ids = list(document_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                rows = self._db.execute(
                    f"SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? AND rowid IN ({marks})",
                    [expression, *chunk],
                ).fetchall()
            found.update(int(rowid) for (rowid,) in rows)
        return found

    def _cost(self, alternative: Alternative) -> int:
        """Postings FTS5 reads to match ``alternative``: the documents of each of its words."""
        return sum(self.document_frequency((term,)) for term in alternative.terms)

    def _presence(
        self,
        alternatives: Sequence[Alternative],
        document_ids: Sequence[int],
        forward: dict[int, DocumentTerms],
    ) -> dict[Alternative, set[int]]:
        """Which of ``document_ids`` hold each of ``alternatives``, the cost following the
        number of candidates, not the posting lists. The alternatives whose words are in
        fewest documents between the first and the last candidate (estimated from that
        range's share of all documents) are listed by FTS5 within that range, while the
        PRESENCE_MATCH_POSTINGS they read in all allow (a rare word, or candidates close
        together such as the newest documents); the others are checked in memory against
        the candidates' analyzed columns (``bot.forward_index``: FTS5's phrase and NEAR
        rules; a body is unpacked only when its head lacks what is looked for). A term that
        is not one FTS5 token (never made by the analyzer) is left to FTS5 itself."""
        found: dict[Alternative, set[int]] = {}
        if not document_ids:
            return {alternative: set() for alternative in alternatives}
        # Candidates come in runs of close ids (the newest of each collection, a period):
        # FTS5 reads each run's stretch of the posting lists.
        ordered = sorted(document_ids)
        gap = max(1, self.last_document_id // 20)
        runs: list[list[int]] = [[ordered[0], ordered[0]]]
        for document_id in ordered[1:]:
            if document_id - runs[-1][1] > gap:
                runs.append([document_id, document_id])
            else:
                runs[-1][1] = document_id
        span = sum(high - low + 1 for low, high in runs) / max(1, self.last_document_id)
        budget = float(PRESENCE_MATCH_POSTINGS)
        wanted = set(document_ids)
        for cost, alternative in sorted(
            {(self._cost(a) * span, a) for a in alternatives}, key=lambda item: item[0]
        ):
            if alternative in found:
                continue
            terms = alternative.terms
            plain = all(text.is_plain_term(t) or text.fts5_tokens(t) == (t,) for t in terms)
            if not plain:
                found[alternative] = self._present(alternative.fts(), document_ids)
            elif cost <= budget:
                budget -= cost
                holding: set[int] = set()
                for low, high in runs:
                    with self._lock:
                        rows = self._db.execute(
                            "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? "
                            "AND rowid BETWEEN ? AND ?",
                            [alternative.fts(), low, high],
                        ).fetchall()
                    holding.update(int(rowid) for (rowid,) in rows if rowid in wanted)
                found[alternative] = holding
            elif alternative.near:
                distance = alternative.near_window()
                found[alternative] = {
                    i for i in document_ids if forward[i].holds_near(terms, distance)
                }
            else:
                phrase = Phrase(terms)
                found[alternative] = {i for i in document_ids if forward[i].holds(phrase)}
        return found

    def _retrieve(self, plan: QueryPlan, limit: int = CANDIDATE_LIMIT) -> dict[int, float]:
        """Candidate document ids with their bm25 strength (positive, larger is better):
        the alternatives of the rarest concepts, rarest first, until their postings pass
        RETRIEVAL_POSTINGS (at least one concept), within the date range if any."""
        concept_alternatives = []
        for concept in plan.concepts:
            known = [(self.alternative_frequency(a), a) for a in concept.alternatives]
            known = [(df, a) for df, a in known if df > 0]
            # A phrase costs the posting lists of all its words: leave out phrases of
            # common words when the concept has another way to be found.
            cheap = [(df, a) for df, a in known if self._cost(a) <= 2 * RETRIEVAL_POSTINGS]
            known = cheap or known
            if known:
                concept_alternatives.append((min(df for df, _ in known), known))
        chosen: set[str] = set()
        alternatives: list[Alternative] = []
        postings = 0
        rarest = 0
        for _, known in sorted(concept_alternatives, key=lambda item: item[0]):
            size = sum(df for df, _ in known)
            if chosen and postings + size > RETRIEVAL_POSTINGS:
                break
            chosen.update(a.fts() for _, a in known)
            alternatives += [a for _, a in known]
            postings += size
            rarest = rarest or size
        if not chosen:
            return {}
        expression = " OR ".join(sorted(chosen))
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Within a period, each match is checked against its document's date as FTS5
        # yields it (FTS5 the outer loop: CROSS JOIN keeps SQLite from probing FTS5 once
        # per document of the period, which costs as much as the whole query each time).
        join, clause, values = "", "", []
        if plan.date_range is not None:
            slack = dt.timedelta(days=1 if plan.date_range.granularity == "day" else 0)
            join = " CROSS JOIN documents d ON d.id = docs_fts.rowid"
            clause = " AND d.date BETWEEN ? AND ?"
            values = [
                (plan.date_range.start - slack).isoformat(),
                (plan.date_range.end + slack).isoformat(),
            ]
        if rarest <= self.common_postings:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT docs_fts.rowid, -bm25(docs_fts, {weights}) FROM docs_fts{join} "
                    f"WHERE docs_fts MATCH ?{clause} ORDER BY bm25(docs_fts, {weights}) LIMIT ?",
                    [expression, *values, limit],
                ).fetchall()
            return {int(rowid): float(strength) for rowid, strength in rows}
        return self._retrieve_newest(
            plan, alternatives, expression, join, clause, values, postings, limit
        )

    def _retrieve_newest(
        self,
        plan: QueryPlan,
        alternatives: Sequence[Alternative],
        expression: str,
        join: str,
        clause: str,
        values: list[str],
        postings: int,
        limit: int = CANDIDATE_LIMIT,
    ) -> dict[int, float]:
        """Candidates for a query made only of common words, where bm25 would read most of
        the index (its idf alone scans every posting of every phrase): among the newest
        NEWEST_POOL × ``limit`` documents matching ``expression`` (``alternatives`` ORed),
        those whose title holds one of ``alternatives`` (strength 1), then the others
        (strength 0.5), newest first. ``postings`` (how many documents hold them at most)
        sizes the walk.

        Document ids follow the corpus's file order, by date within each collection, so
        each collection's ids (within a period, each run of the period's ids: a
        collection's documents of those dates, and files added or changed later, which
        take new ids) are read apart and the results merged by date. FTS5 reads a
        posting list cheaply forward from a given id, not backwards from one (that reads
        the whole list, and so does a column filter), so each stretch's newest ids are
        read forward, over a window sized from how common the words are and widened
        until it holds enough matches; titles are checked here, against the stored
        analyzed heads."""
        if plan.date_range is not None:
            with self._lock:
                ids = sorted(
                    int(document_id)
                    for (document_id,) in self._db.execute(
                        "SELECT id FROM documents WHERE date BETWEEN ? AND ?", values
                    ).fetchall()
                )
            ranges = _id_runs(ids)
        else:
            ranges = self._collection_ranges()
        pool = NEWEST_POOL * limit
        share = min(1.0, max(1, postings) / max(1, self.document_count))
        dated = join or " CROSS JOIN documents d ON d.id = docs_fts.rowid"
        found: list[tuple[int, str]] = []
        for low, high in ranges:
            window = max(pool, int(2 * pool / share))
            end = high
            matched: list[tuple[int, str]] = []
            while end >= low and len(matched) < pool:
                start = max(low, end - window + 1)
                with self._lock:
                    rows = self._db.execute(
                        f"SELECT docs_fts.rowid, d.date FROM docs_fts{dated} "
                        f"WHERE docs_fts MATCH ? AND docs_fts.rowid BETWEEN ? AND ?{clause} "
                        "ORDER BY docs_fts.rowid",
                        [expression, start, end, *values],
                    ).fetchall()
                matched = [(int(rowid), str(date)) for rowid, date in rows] + matched
                end, window = start - 1, window * 4
            found += matched[-pool:]
        newest = [
            document_id
            for document_id, _date in sorted(found, key=lambda row: (row[1], row[0]), reverse=True)
        ][:pool]
        if not newest:
            return {}
        marks = ",".join("?" * len(newest))
        with self._lock:
            heads = dict(
                self._db.execute(
                    f"SELECT document_id, head FROM document_terms WHERE document_id IN ({marks})",
                    newest,
                ).fetchall()
            )
        phrases = [Phrase(a.terms) for a in alternatives if not a.near]
        near = [(a.terms, a.near_window()) for a in alternatives if a.near]
        titled: list[int] = []
        others: list[int] = []
        for document_id in newest:
            document = DocumentTerms(heads.get(document_id, ""), None)
            holds = any(phrase.text in document.title for phrase in phrases) or any(
                document.title_holds_near(terms, distance) for terms, distance in near
            )
            (titled if holds else others).append(int(document_id))
        candidates = {document_id: 1.0 for document_id in titled[:limit]}
        for document_id in others[: limit - len(candidates)]:
            candidates[document_id] = 0.5
        return candidates

    def _collection_ranges(self) -> list[tuple[int, int]]:
        """The first and last document id of each collection (computed once)."""
        if self._ranges is None:
            with self._lock:
                self._ranges = [
                    (int(low), int(high))
                    for low, high in self._db.execute(
                        "SELECT min(id), max(id) FROM documents GROUP BY collection"
                    ).fetchall()
                ]
        return self._ranges

    def concept_weight(self, concept: Concept) -> float:
        """The weight of ``concept`` in coverage: the idf of its most common alternative
        found, times its importance and the weight of its role (``ROLE_WEIGHTS``). A
        concept the corpus lacks weighs the idf of an unseen word: fully for a name (a
        story cannot answer about a name it never mentions), UNKNOWN_WORD_WEIGHT of it for
        an ordinary word."""
        frequencies = [self.alternative_frequency(a) for a in concept.alternatives]
        known = [f for f in frequencies if f > 0]
        weight = self.idf(max(known) if known else 0) * concept.importance
        if not known and concept.role != "entity":
            return weight * UNKNOWN_WORD_WEIGHT
        return weight * ROLE_WEIGHTS[concept.role]

    def _rank(self, plan: QueryPlan, limit: int = CANDIDATE_LIMIT) -> list[RankedStory]:
        """The candidate stories of at most ``limit`` documents with their evidence, best
        first."""
        candidates = self._retrieve(plan, limit)
        if not candidates:
            return []
        ids = list(candidates)
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                "SELECT d.id, d.story, d.date, t.head, t.body FROM documents d "
                f"JOIN document_terms t ON t.document_id = d.id WHERE d.id IN ({marks})",
                ids,
            ).fetchall()
        stories = {int(r[0]): str(r[1]) for r in rows}
        dates = {int(r[0]): str(r[2]) for r in rows}
        forward = {int(r[0]): DocumentTerms(r[3], r[4]) for r in rows}
        ids = [document_id for document_id in ids if document_id in forward]
        weights = [self.concept_weight(c) for c in plan.concepts]
        # found[story][field][concept] = best trust; fields: 0 anywhere, 1 title, 2 headline
        found: dict[str, list[list[float]]] = defaultdict(
            lambda: [[0.0] * len(weights) for _ in range(3)]
        )
        holding = self._presence(
            [a for c in plan.concepts for a in c.alternatives if self.alternative_frequency(a)],
            ids,
            forward,
        )
        for position, concept in enumerate(plan.concepts):
            for alternative in concept.alternatives:
                if self.alternative_frequency(alternative) == 0:
                    continue
                needle = " " + " ".join(alternative.terms) + " "
                terms = [f" {t} " for t in alternative.terms]
                for document_id in ids:
                    document = forward[document_id]
                    fields = found[stories[document_id]]
                    for field_index, field_text in ((1, document.title), (2, document.headline)):
                        share = _share_in_field(alternative, needle, terms, field_text)
                        value = alternative.trust * share
                        if value > fields[field_index][position]:
                            fields[field_index][position] = value
                for document_id in holding[alternative]:
                    fields = found[stories[document_id]]
                    fields[0][position] = max(fields[0][position], alternative.trust)
        # A word no candidate holds (a long message's "train", "podcast") is most likely
        # chatter: it weighs like an ordinary word the corpus lacks. Names keep their
        # weight: a story that never mentions a name the user asked about is no answer.
        long_message = sum(1 for c in plan.concepts if c.role in ("entity", "topic")) >= 6
        for position, concept in enumerate(plan.concepts):
            if concept.role == "entity":
                continue
            holders = any(f[0][position] for f in found.values())
            # In a long message, a word no candidate is about (in a title, description or
            # tags) is the message's chatter ("dinner", "friend", "closely"), whatever
            # stories hold it in passing.
            about = any(f[1][position] or f[2][position] for f in found.values())
            if not holders or (long_message and not about):
                weights[position] *= UNKNOWN_WORD_WEIGHT
        strength: dict[str, float] = defaultdict(float)
        newest: dict[str, str] = {}
        for document_id in ids:
            story = stories[document_id]
            strength[story] = max(strength[story], candidates[document_id])
            newest[story] = max(newest.get(story, ""), dates[document_id])
        best_strength = max(strength.values(), default=0.0) or 1.0
        roles = [c.role for c in plan.concepts]
        people = [c.person for c in plan.concepts]
        ranked = [
            RankedStory(
                story=story,
                evidence=StoryEvidence(
                    weights=weights,
                    roles=roles,
                    anywhere=found[story][0],
                    title=found[story][1],
                    headline=found[story][2],
                    strength=strength[story] / best_strength,
                    people=people,
                ),
                newest=newest[story],
            )
            for story in strength
        ]
        holdings = sorted((r.evidence.held() for r in ranked), reverse=True)
        best_name_focus = max(r.evidence.name_focus() for r in ranked)
        for item in ranked:
            own = item.evidence.held()
            first = holdings[0]
            item.evidence.runner_up = holdings[1] if own == first and len(holdings) > 1 else first
            item.evidence.best_name_focus = best_name_focus
        if plan.recency:
            threshold = self.confidence_threshold
            about_subject = [r for r in ranked if r.evidence.about_subject(threshold)]
            ordered = sorted(about_subject, key=lambda r: r.newest, reverse=True)
            for position, item in enumerate(ordered):
                item.recency = 1.0 - position / max(1, len(ordered))
        ranked.sort(key=lambda r: (r.score, r.newest, r.story), reverse=True)
        return ranked

    def _did_you_mean(self, plan: QueryPlan) -> list[str]:
        """Names close to what the user typed: corrections made while parsing, then
        entities resembling windows of one to three Latin words of the query (ratio ≥ 75;
        windows holding a word the index lacks first, then longer ones; at most
        DID_YOU_MEAN_LOOKUPS of them), best first. Names the user typed exactly are not
        suggested back. Japanese text is left out: names written in kana were resolved
        while parsing."""
        scored: dict[str, float] = {}
        words = [
            word
            for word in plan.normalized.split(" ")
            if word and not text.is_japanese(word) and not lexicon().is_stopword(word)
        ]
        typed = {text.squash(word) for word in words}
        unknown = {text.squash(word) for label in plan.unknown for word in label.split()}
        windows = [
            (size, words[start : start + size])
            for size in (3, 2, 1)
            for start in range(len(words) - size + 1)
        ]
        # Windows holding a word the index lacks first, then the longer ones.
        windows.sort(key=lambda w: (not unknown & {text.squash(x) for x in w[1]}, -w[0]))
        for size, window in windows[:DID_YOU_MEAN_LOOKUPS]:
            key = text.squash(" ".join(window))
            if len(key) >= 4:
                for entity, score in self.vocabulary.similar_scored(key, cutoff=75, limit=3):
                    if entity.key in typed or entity.key == key:
                        continue
                    bonus = 0.5 * size  # longer windows carry more of what was meant
                    scored[entity.name] = max(scored.get(entity.name, 0.0), score + bonus)
        ranked = sorted(scored, key=lambda name: -scored[name])
        for _typed, corrected in reversed(plan.corrections):
            if corrected in ranked:
                ranked.remove(corrected)
            ranked.insert(0, corrected)
        return ranked[:5]

    # -- autocomplete -------------------------------------------------------------------

    def suggest(self, prefix: str, limit: int = 25, locale: str | None = None) -> list[Suggestion]:
        """Autocomplete choices for what the user has typed so far, at most ``limit``, one
        per story, in the user's ``locale`` (``ja`` or ``en``; None: ``en``) first.

        Order: names that start with the text (bisection over names sorted in normalized
        form); for Japanese text, the names its words resolve to (クロード → Claude); story
        titles holding its words (the last one as a prefix; FTS5 on the title column,
        newest documents first), one per story: the title in ``locale`` when it matches,
        and stories matched in ``locale`` before the others; for Japanese text with room
        left, stories holding the words anywhere (description, tags, body), so a word
        that titles never use still gives choices; then names resembling the text
        (rapidfuzz ``partial_ratio`` ≥ 80 over the most mentioned names). Empty text gives
        the newest stories' titles in ``locale``."""
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
        expressions: list[str] = []
        terms = text.analyze(typed)
        if terms:
            quoted = ['"' + t.replace('"', '""') + '"' for t in terms]
            if typed[-1].isalnum() and len(terms[-1]) >= 2:
                # A one-letter prefix would expand to a large part of the vocabulary.
                quoted[-1] += "*"
            expressions.append(" AND ".join(quoted))
        if japanese:
            plan = self.plan(typed)
            for concept in plan.concepts:
                entity = self.vocabulary.exact(text.squash(concept.label))
                if entity is not None and text.normalize(entity.name) != typed:
                    add(entity.name, "name")
            resolved = [
                "(" + " OR ".join(a.fts() for a in concept.alternatives) + ")"
                for concept in plan.concepts
                if concept.alternatives
            ]
            if resolved:
                expressions.append(" AND ".join(resolved))
        # Titles from the titles' own FTS5 table (small, with prefix indexes: a prefix such
        # as "co*" is one lookup); the whole text, for Japanese, from the main one.
        tables = ["title_fts"] + (["docs_fts"] if japanese else [])
        for table in tables:
            for expression in expressions:
                if len(results) >= limit:
                    break
                matched = self._suggest_titles(table, f"({expression})", limit, wanted)
                for story, title in matched:
                    add(title, "title", story)
        if len(results) < limit and len(typed) >= 3:
            pool = self._suggestion_pool()
            for _name, _score, position in extract_partial(pool, typed, 80, limit):
                add(self._suggest_names[position], "name")
        return results[:limit]

    def _suggestion_pool(self) -> FuzzyPool:
        """The SUGGEST_FUZZY_POOL most mentioned names autocomplete may offer, by
        normalized form (loaded on first use; ``_suggest_names`` holds their names)."""
        if self._suggest_pool is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT normalized, name FROM entities WHERE (kind != 'name' OR stories >= 2) "
                    f"AND {self._held} ORDER BY stories DESC, key LIMIT ?",
                    [SUGGEST_FUZZY_POOL],
                ).fetchall()
            self._suggest_names = [str(name) for _, name in rows]
            self._suggest_pool = FuzzyPool([str(normalized) for normalized, _ in rows])
        return self._suggest_pool

    def _suggest_titles(
        self, table: str, expression: str, limit: int, locale: str
    ) -> list[tuple[str, str]]:
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
