"""Search over ``index.db``: latest stories, fuzzy bilingual ``about``, autocomplete.

Ranking, for a query turned into concepts by ``bot.query.plan_query``:

1. Candidate documents: one FTS5 ``MATCH`` of all concept alternatives ORed, ranked by
   ``bm25`` (weights title 10, description 5, tags 3, body 1); documents in the query's date
   range join the candidates.
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
import json
import math
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot import text
from bot.query import Concept, Entity, EntityVocabulary, QueryPlan, plan_query

__all__ = ["Document", "IndexMissingError", "SearchEngine", "SearchOutcome", "Suggestion"]

BM25_WEIGHTS = (10.0, 5.0, 3.0, 1.0)
CANDIDATE_LIMIT = 300
# A story is a confident result when it holds at least this share of the query's concept
# weight; below WEAK_COVERAGE it is not shown at all.
CONFIDENT_COVERAGE = 0.62
WEAK_COVERAGE = 0.3
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
    """A ranked story: its documents by locale, score in [0, 1], coverage in [0, 1]."""

    story: str
    documents: dict[str, Document]
    score: float
    coverage: float

    def document_for(self, locale: str) -> Document:
        """The document in ``locale``, or the other one when the story lacks it."""
        return self.documents.get(locale) or next(iter(self.documents.values()))


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
    are the adapter's business), ``kind`` (``title`` or an entity kind)."""

    name: str
    value: str
    kind: str


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


class SearchEngine:
    """Read-only search over one ``index.db``.

    Opens the database read-only and loads the entity vocabulary and the title list into
    memory (for fuzzy names and autocomplete). Thread-safe: queries are serialized on one
    connection. Raises ``IndexMissingError`` when ``db_path`` is missing or not an index.
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        if not self.db_path.is_file():
            raise IndexMissingError(f"index not found: {self.db_path}")
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                f"file:{self.db_path}?mode=ro", uri=True, check_same_thread=False
            )
            self.document_count = int(
                self._db.execute("SELECT count(*) FROM documents").fetchone()[0]
            )
            entity_rows = self._db.execute(
                "SELECT name, key, kind, stories FROM entities ORDER BY stories DESC, key"
            ).fetchall()
            title_rows = self._db.execute(
                "SELECT title, story, date FROM documents ORDER BY date DESC, story DESC"
            ).fetchall()
        except sqlite3.Error as error:
            raise IndexMissingError(f"not a technyan-bot index: {self.db_path} ({error})") from None
        self.vocabulary = EntityVocabulary(
            [Entity(name, key, kind, stories) for name, key, kind, stories in entity_rows]
        )
        self._titles = [(title, story) for title, story, _ in title_rows]
        self._title_keys = [text.normalize(title) for title, _ in self._titles]
        self._suggest_names = [e.name for e in self.vocabulary.entities if e.kind != "name"]
        self._suggest_names += [
            e.name for e in self.vocabulary.entities if e.kind == "name" and e.stories >= 2
        ]
        self._suggest_keys = [text.normalize(name) for name in self._suggest_names]
        self._df_cache: dict[tuple[str, ...], int] = {}
        self._japanese_vocabulary: list[str] | None = None
        self._katakana_skeletons: dict[str, list[str]] | None = None

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    # -- statistics ---------------------------------------------------------------------

    def document_frequency(self, terms: tuple[str, ...]) -> int:
        """Number of documents containing the phrase ``terms`` (analyzed terms)."""
        if not terms:
            return 0
        cached = self._df_cache.get(terms)
        if cached is not None:
            return cached
        with self._lock:
            if len(terms) == 1:
                row = self._db.execute(
                    "SELECT doc FROM docs_vocab WHERE term = ?", [terms[0]]
                ).fetchone()
                count = int(row[0]) if row else 0
            else:
                phrase = '"' + " ".join(terms).replace('"', '""') + '"'
                count = int(
                    self._db.execute(
                        "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?", [phrase]
                    ).fetchone()[0]
                )
        if len(self._df_cache) > 100_000:
            self._df_cache.clear()
        self._df_cache[terms] = count
        return count

    def idf(self, document_frequency: int) -> float:
        """bm25's idf for a term found in ``document_frequency`` documents (≥ 0)."""
        n = self.document_count
        return math.log((n - document_frequency + 0.5) / (document_frequency + 0.5) + 1.0)

    def japanese_vocabulary(self) -> list[str]:
        """Japanese terms of two or more characters in the index (for typo correction and
        transliteration), loaded on first use."""
        if self._japanese_vocabulary is None:
            with self._lock:
                rows = self._db.execute(
                    "SELECT term FROM docs_vocab WHERE length(term) >= 2"
                ).fetchall()
            self._japanese_vocabulary = [t for (t,) in rows if text.is_japanese(t)]
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
            return [
                (str(h), str(t))
                for h, t in self._db.execute(
                    "SELECT heading, text FROM passages WHERE document_id = ? ORDER BY position",
                    [document_id],
                ).fetchall()
            ]

    def categories(self) -> list[tuple[str, int]]:
        """Categories with their number of stories, most common first."""
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
        return list(merged.values())

    def latest(
        self,
        count: int = 5,
        category: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> list[StoryHit]:
        """Newest stories first (by the newest date of their documents, then story id),
        optionally of one category (case- and width-insensitive, either language's
        category) and within ``[since, until]``. ``count`` is clamped to 1–100."""
        count = max(1, min(int(count), 100))
        clauses, values = [], []
        if category:
            wanted = text.normalize(category)
            names = [name for name, _ in self.categories() if text.normalize(name) == wanted]
            names = names or [category]
            clauses.append("lower(category) IN (SELECT lower(value) FROM json_each(?))")
            values.append(json.dumps(names))
        if since:
            clauses.append("date >= ?")
            values.append(since.isoformat())
        if until:
            clauses.append("date <= ?")
            values.append(until.isoformat())
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT story, max(date) AS newest FROM documents {where} GROUP BY story "
                "ORDER BY newest DESC, story DESC LIMIT ?",
                [*values, count],
            ).fetchall()
        stories = [story for story, _ in rows]
        documents = self.documents_of(stories)
        return [StoryHit(s, documents[s], 1.0, 1.0) for s in stories if documents.get(s)]

    # -- about --------------------------------------------------------------------------

    def plan(self, query: str) -> QueryPlan:
        """Parse ``query`` against this index's vocabulary (see ``bot.query``)."""
        return plan_query(
            query,
            self.vocabulary,
            self.document_frequency,
            self.japanese_vocabulary,
            self.katakana_spellings,
        )

    def katakana_spellings(self, word: str) -> list[str]:
        """Katakana terms of the index that transliterate the English ``word`` (same
        consonant skeleton, at least four consonants): ``california`` → ``["カリフォルニア"]``.
        The skeleton table is built on first use."""
        skeleton = text.consonant_skeleton(word)
        if len(skeleton) < 4:
            return []
        if self._katakana_skeletons is None:
            table: dict[str, list[str]] = defaultdict(list)
            for term in self.japanese_vocabulary():
                if text.is_katakana_word(term):
                    table[text.consonant_skeleton(text.romanize_katakana(term))].append(term)
            self._katakana_skeletons = table
        return self._katakana_skeletons.get(skeleton, [])[:3]

    def about(self, query: str, limit: int = 10) -> SearchOutcome:
        """Stories about ``query``, best first, one per story (both languages fused).

        Never raises on user text: any string, including FTS5 syntax, quotes, mentions or
        blank input, is treated as words. Returns confident hits (at most ``limit``), weak
        matches, and "did you mean" suggestions when nothing is confident.
        """
        plan = self.plan(query)
        outcome = SearchOutcome(plan=plan)
        if not plan.concepts and plan.date_range is None:
            if plan.recency:
                outcome.hits = self.latest(limit)
            return outcome
        if not plan.concepts:
            hits = self._date_only(plan, limit)
            outcome.hits = hits
            return outcome
        scored = self._rank(plan)
        for hit in scored:
            if hit.coverage >= CONFIDENT_COVERAGE:
                outcome.hits.append(hit)
            elif hit.coverage >= WEAK_COVERAGE:
                outcome.weak.append(hit)
        outcome.hits = outcome.hits[:limit]
        outcome.weak = outcome.weak[:3]
        if not outcome.hits:
            outcome.suggestions = self._did_you_mean(plan)
        return outcome

    def _date_only(self, plan: QueryPlan, limit: int) -> list[StoryHit]:
        assert plan.date_range is not None
        date_range = plan.date_range
        slack = dt.timedelta(days=1 if date_range.granularity == "day" else 0)
        hits = self.latest(500, since=date_range.start - slack, until=date_range.end + slack)
        mentioning: set[int] = set()
        if date_range.granularity == "day" and hits:
            day = date_range.start
            phrases = [f"{day.month}月{day.day}日", f"{calendar.month_name[day.month]} {day.day}"]
            expression = " OR ".join(
                '"' + " ".join(text.analyze(phrase)) + '"' for phrase in phrases
            )
            ids = [d.id for hit in hits for d in hit.documents.values()]
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? AND rowid IN "
                    "(SELECT value FROM json_each(?))",
                    [expression, json.dumps(ids)],
                ).fetchall()
            mentioning = {int(rowid) for (rowid,) in rows}

        def closeness(hit: StoryHit) -> tuple[int, int, int, dt.date]:
            """Stories whose text names the day, then those dated on it, then by impact."""
            dates = [d.date for d in hit.documents.values()]
            mentions = any(d.id in mentioning for d in hit.documents.values())
            exact = any(date_range.start <= d <= date_range.end for d in dates)
            impact = max(IMPACT_RANK.get(d.impact_level or "", 1) for d in hit.documents.values())
            return (int(mentions), int(exact), impact, max(dates))

        hits.sort(key=closeness, reverse=True)
        return hits[:limit]

    def _candidates(self, plan: QueryPlan) -> dict[int, float]:
        """Candidate document ids with their bm25 strength (positive, larger is better).
        Alternatives found in more than half of the documents are left out of retrieval
        (bm25 would score most of the index) unless nothing else is found."""
        frequencies = {
            a.fts(): self.document_frequency(a.terms) for c in plan.concepts for a in c.alternatives
        }
        common = {fts for fts, df in frequencies.items() if df > 0.5 * self.document_count}
        selective = {fts for fts, df in frequencies.items() if df > 0 and fts not in common}
        alternatives = selective or set(frequencies)
        expression = " OR ".join(sorted(alternatives))
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, -bm25(docs_fts, {weights}) AS strength FROM docs_fts "
                "WHERE docs_fts MATCH ? ORDER BY bm25(docs_fts, "
                f"{weights}) LIMIT ?",
                [expression, CANDIDATE_LIMIT],
            ).fetchall()
        candidates = {int(rowid): float(strength) for rowid, strength in rows}
        if plan.date_range is not None:
            slack = dt.timedelta(days=1 if plan.date_range.granularity == "day" else 0)
            with self._lock:
                rows = self._db.execute(
                    "SELECT id FROM documents WHERE date BETWEEN ? AND ?",
                    [
                        (plan.date_range.start - slack).isoformat(),
                        (plan.date_range.end + slack).isoformat(),
                    ],
                ).fetchall()
            for (rowid,) in rows:
                candidates.setdefault(int(rowid), 0.0)
        return candidates

    def _matches(
        self, concept: Concept, document_ids: list[int], columns: str = ""
    ) -> dict[int, float]:
        """For each candidate containing the concept (in ``columns``, e.g. ``"title"``, or
        anywhere), the best trust among the alternatives it contains."""
        found: dict[int, float] = {}
        ids = json.dumps(document_ids)
        for alternative in concept.alternatives:
            expression = alternative.fts()
            if columns:
                expression = f"{{{columns}}} : {expression}"
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? AND rowid IN "
                    "(SELECT value FROM json_each(?))",
                    [expression, ids],
                ).fetchall()
            for (rowid,) in rows:
                found[int(rowid)] = max(found.get(int(rowid), 0.0), alternative.trust)
        return found

    def _concept_weight(self, concept: Concept) -> float:
        frequencies = [self.document_frequency(a.terms) for a in concept.alternatives]
        known = [f for f in frequencies if f > 0]
        return self.idf(max(known) if known else 0)

    def _rank(self, plan: QueryPlan) -> list[StoryHit]:
        candidates = self._candidates(plan)
        if not candidates:
            return []
        ids = list(candidates)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id IN "
                "(SELECT value FROM json_each(?))",
                [json.dumps(ids)],
            ).fetchall()
        documents = {d.id: d for d in map(_document, rows)}
        if plan.date_range is not None:
            in_range = [i for i, d in documents.items() if plan.date_range.contains(d.date)]
            documents = {i: documents[i] for i in in_range}
            ids = in_range
        if not ids:
            return []
        weights = [self._concept_weight(c) for c in plan.concepts]
        total_weight = sum(weights) or 1.0
        tables: dict[str, dict[str, list[float]]] = {
            columns: defaultdict(lambda: [0.0] * len(weights))
            for columns in ("", "title", "description tags")
        }
        for position, concept in enumerate(plan.concepts):
            for columns, table in tables.items():
                for document_id, trust in self._matches(concept, ids, columns).items():
                    current = table[documents[document_id].story]
                    current[position] = max(current[position], trust)

        def share(columns: str, story: str) -> float:
            matched = tables[columns].get(story)
            if matched is None:
                return 0.0
            return sum(w * m for w, m in zip(weights, matched, strict=True)) / total_weight

        strength: dict[str, float] = defaultdict(float)
        for document_id in ids:
            story = documents[document_id].story
            strength[story] = max(strength[story], candidates.get(document_id, 0.0))
        best_strength = max(strength.values(), default=0.0) or 1.0
        stories = set(strength)
        newest = {s: max(d.date for d in documents.values() if d.story == s) for s in stories}
        recency_rank: dict[str, float] = {}
        if plan.recency:
            ordered = sorted(stories, key=lambda s: newest[s], reverse=True)
            recency_rank = {s: 1.0 - i / max(1, len(ordered)) for i, s in enumerate(ordered)}
        hits: list[tuple[float, float, str]] = []
        for story in stories:
            coverage = share("", story)
            focus = 0.6 * share("title", story) + 0.4 * share("description tags", story)
            score = 0.45 * coverage + 0.3 * focus + 0.25 * (strength[story] / best_strength)
            if plan.recency and coverage >= CONFIDENT_COVERAGE and focus >= 0.4:
                score = 0.5 * score + 0.5 * recency_rank[story]
            hits.append((score, coverage, story))
        hits.sort(key=lambda h: (h[0], newest[h[2]], h[2]), reverse=True)
        hits = hits[:CANDIDATE_LIMIT]
        all_documents = self.documents_of([story for _, _, story in hits[:50]])
        return [
            StoryHit(story, all_documents[story], min(1.0, score), coverage)
            for score, coverage, story in hits[:50]
            if all_documents.get(story)
        ]

    def _did_you_mean(self, plan: QueryPlan) -> list[str]:
        """Names close to what the user typed: corrections made while parsing, then
        entities resembling any window of one to three words of the query (ratio ≥ 75),
        best first. Names the user typed exactly are not suggested back."""
        scored: dict[str, float] = {}
        words = plan.normalized.split(" ")
        typed = {text.squash(word) for word in words}
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                key = text.squash(" ".join(words[start : start + size]))
                if len(key) < 4:
                    continue
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

    def suggest(self, prefix: str, limit: int = 25) -> list[Suggestion]:
        """Autocomplete choices for what the user has typed so far: names and story titles
        in both languages that start with it, contain it, or resemble it (rapidfuzz
        ``partial_ratio`` ≥ 70 on normalized text). Empty input gives the newest titles."""
        typed = text.normalize(prefix)
        if not typed:
            return [Suggestion(t, t, "title") for t, _ in self._titles[:limit]]
        results: list[Suggestion] = []
        seen: set[str] = set()

        def add(name: str, kind: str) -> None:
            if name not in seen and len(results) < limit:
                seen.add(name)
                results.append(Suggestion(name, name, kind))

        for name, key in zip(self._suggest_names, self._suggest_keys, strict=True):
            if key.startswith(typed):
                add(name, "name")
        for (title, _story), key in zip(self._titles, self._title_keys, strict=True):
            if typed in key:
                add(title, "title")
        if len(results) < limit and len(typed) >= 2:
            for name, score, _ in process.extract(
                typed,
                self._suggest_keys,
                scorer=fuzz.partial_ratio,
                processor=None,
                score_cutoff=70,
                limit=limit,
            ):
                del score
                add(self._suggest_names[self._suggest_keys.index(name)], "name")
            for name, _score, position in process.extract(
                typed,
                self._title_keys,
                scorer=fuzz.partial_ratio,
                processor=None,
                score_cutoff=75,
                limit=limit,
            ):
                del name
                add(self._titles[position][0], "title")
        return results[:limit]
