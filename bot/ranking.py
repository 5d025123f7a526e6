"""Ranking of a query's candidate stories (``bot.retrieval``) by their evidence.

Per story (both language versions together), *coverage*: the share of the query's
concepts it contains, each concept weighted by its idf (``StoryRanker.concept_weight``); a
concept found only through a corrected or translated spelling counts with that
alternative's trust. *Focus* is the same share counted in titles (0.6) and in descriptions
and tags (0.4): a story about X beats one that mentions X in passing. Score = 0.45·coverage
+ 0.3·focus + 0.25·(bm25 relative to the best candidate) (``bot.confidence``), mixed half
and half with recency when the user asked for the latest (for stories about the subject,
so "latest X" means the newest story about X).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict

from bot.confidence import CONFIDENCE_THRESHOLD, ConceptGroups, StoryEvidence
from bot.forward_index import DocumentTerms
from bot.presence import PresencePlanner
from bot.query import ROLE_WEIGHTS, UNKNOWN_WORD_WEIGHT, Alternative, Concept, QueryPlan
from bot.retrieval import CANDIDATE_LIMIT, CandidateRetriever
from bot.search_results import RankedStory
from bot.term_statistics import TermStatistics

__all__ = ["StoryRanker", "share_in_field"]


def share_in_field(alternative: Alternative, needle: str, terms: list[str], field: str) -> float:
    """How much of ``alternative`` a title or headline (analyzed, space-padded) holds: 1 for
    the phrase (or, for a NEAR group, all its words), else the share of its words when at
    least half of them are there ("GPT-5.2" in a title for "gpt-5.2 thinking"), else 0."""
    if (all(t in field for t in terms)) if alternative.near else needle in field:
        return 1.0
    if len(terms) < 2:
        return 0.0
    share = sum(1 for t in terms if t in field) / len(terms)
    return share if share >= 0.5 else 0.0


class StoryRanker:
    """Orders the candidate stories of a query plan, best first.

    ``db`` is a read-only connection to ``index.db`` used only under ``lock`` (the
    candidates' stored analyzed columns are read from ``document_terms``); ``statistics``
    weighs concepts, ``retriever`` gives the candidates and ``presence`` which of them hold
    each alternative.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        statistics: TermStatistics,
        retriever: CandidateRetriever,
        presence: PresencePlanner,
    ) -> None:
        self._db = db
        self._lock = lock
        self._statistics = statistics
        self._retriever = retriever
        self._presence = presence

    def concept_weight(self, concept: Concept) -> float:
        """The weight of ``concept`` in coverage: the idf of its most common alternative
        found, times its importance and the weight of its role (``ROLE_WEIGHTS``). A
        concept the corpus lacks weighs the idf of an unseen word: fully for a name (a
        story cannot answer about a name it never mentions), UNKNOWN_WORD_WEIGHT of it for
        an ordinary word."""
        frequencies = [self._statistics.alternative_frequency(a) for a in concept.alternatives]
        known = [f for f in frequencies if f > 0]
        weight = self._statistics.idf(max(known) if known else 0) * concept.importance
        if not known and concept.role != "entity":
            return weight * UNKNOWN_WORD_WEIGHT
        return weight * ROLE_WEIGHTS[concept.role]

    def rank(
        self,
        plan: QueryPlan,
        limit: int = CANDIDATE_LIMIT,
        *,
        confidence_threshold: float = CONFIDENCE_THRESHOLD,
    ) -> list[RankedStory]:
        """The candidate stories of at most ``limit`` documents with their evidence, best
        first; for a query asking for the newest, recency in [0, 1] among the stories about
        the subject at ``confidence_threshold`` (in [0, 1], ``bot.confidence``)."""
        frequency = self._statistics.alternative_frequency
        candidates = self._retriever.retrieve(plan, limit)
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
        holding = self._presence.presence(
            [a for c in plan.concepts for a in c.alternatives if frequency(a)],
            ids,
            forward,
        )
        for position, concept in enumerate(plan.concepts):
            for alternative in concept.alternatives:
                if frequency(alternative) == 0:
                    continue
                needle = " " + " ".join(alternative.terms) + " "
                terms = [f" {t} " for t in alternative.terms]
                for document_id in ids:
                    document = forward[document_id]
                    fields = found[stories[document_id]]
                    for field_index, field_text in ((1, document.title), (2, document.headline)):
                        share = share_in_field(alternative, needle, terms, field_text)
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
        groups = ConceptGroups.of(weights, roles)
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
                    groups=groups,
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
            threshold = confidence_threshold
            about_subject = [r for r in ranked if r.evidence.about_subject(threshold)]
            ordered = sorted(about_subject, key=lambda r: r.newest, reverse=True)
            for position, item in enumerate(ordered):
                item.recency = 1.0 - position / max(1, len(ordered))
        ranked.sort(key=lambda r: (r.score, r.newest, r.story), reverse=True)
        return ranked
