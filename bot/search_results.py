"""What a search returns: stored documents, ranked stories and their results.

``Document`` is one stored document (a story in one locale), read from the ``documents``
table of ``index.db`` by ``document_from_row``; ``RankedStory`` is a candidate story while
``bot.ranking`` orders them; ``StoryHit``, ``SearchOutcome`` and ``Suggestion`` are what
``bot.search.SearchEngine`` hands to its callers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.confidence import StoryEvidence
from bot.query import QueryPlan

__all__ = [
    "DOCUMENT_COLUMNS",
    "Document",
    "RankedStory",
    "SearchOutcome",
    "StoryHit",
    "Suggestion",
    "document_from_row",
    "without_restated",
]


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


def without_restated(hits: Iterable[StoryHit], shown: Iterable[StoryHit] = ()) -> list[StoryHit]:
    """``hits`` in order without the stories that restate an earlier one (in ``hits``, or
    in ``shown``, a list already on screen): a title equal to an earlier story's title
    (titles are stored stripped, ``bot.corpus``). The site writes some events twice, as an
    article and as a timeline entry under the same title; a list showing both reads as the
    same line posted twice. (Titles compare as written: folding each one cost ``latest``,
    whose budget is a millisecond, more than a third of its time.)"""
    seen = {document.title for hit in shown for document in hit.documents.values()}
    kept: list[StoryHit] = []
    for hit in hits:
        titles = [document.title for document in hit.documents.values()]
        if seen.isdisjoint(titles):
            seen.update(titles)
            kept.append(hit)
    return kept


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


# The columns of ``documents`` that ``document_from_row`` reads, in its order.
DOCUMENT_COLUMNS = (
    "id, story, locale, collection, slug, folder_date, title, description, date, category, "
    "tags, technyan_comment, impact_level, related_companies, sources"
)


def _json_tuple(column: object) -> tuple[Any, ...]:
    """The items of a JSON array column; the empty array, the most common value, without
    parsing it."""
    if column == "[]":
        return ()
    return tuple(json.loads(str(column)))


def document_from_row(row: Sequence[object]) -> Document:
    """The ``Document`` of one row of ``SELECT {DOCUMENT_COLUMNS} FROM documents`` (tags,
    companies and sources are stored as JSON arrays)."""
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
        tags=_json_tuple(tags),
        technyan_comment=comment if isinstance(comment, str) else None,
        impact_level=impact if isinstance(impact, str) else None,
        related_companies=_json_tuple(companies),
        sources=tuple(tuple(pair) for pair in _json_tuple(sources)),  # type: ignore[misc]
    )
