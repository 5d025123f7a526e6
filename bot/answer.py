"""Extractive answers: the sentence or bullet of a story that answers a question.

The bot never composes a fact. ``answer_question`` finds the stories the question is
about (the same search as ``about``), splits their passages into sentences and bullets,
and scores each one by how much of the question's concepts it holds (weighted by idf, the
passage heading counting as context), whether it holds the kind of thing asked for (a
number for "how many", a date for "when", a percentage for "what score"), and how well its
story matched. The best one above the confidence threshold is quoted verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import text
from bot.query import Concept
from bot.search import SearchEngine, StoryHit

__all__ = ["ExtractedAnswer", "answer_question"]

CONFIDENT_ANSWER = 0.45
STORIES_CONSIDERED = 3

_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?])|(?<=[.])(?=\s+[A-Z\"“(])")
_NUMBER_RE = re.compile(r"\d")
_PERCENT_RE = re.compile(r"\d\s*%|パーセント|percent", re.IGNORECASE)
_DATE_RE = re.compile(
    r"\d{4}年|\d{1,2}月\d{1,2}日|\d+日後|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"[a-z]*\.? \d{1,2}\b|\b\d{4}\b|\d+ days?\b",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(
    r"how (?:many|much|large|big|far|long|fast|high|low)|what (?:share|percentage|score|"
    r"price|amount|number)|\bscore\b|いくつ|いくら|何人|何個|何件|何枚|何%|何パーセント|"
    r"どのくらい|どれくらい|約何|何倍|何日|スコア|何億|何万|総額|数は",
    re.IGNORECASE,
)
_ASKS_PERCENT = re.compile(r"\bscore\b|\bshare\b|percentage|スコア|割合|率|何%", re.IGNORECASE)
_ASKS_DATE = re.compile(r"\bwhen\b|\bwhat date\b|いつ|何日後|何月|何年", re.IGNORECASE)
_MARKUP_RE = re.compile(r"\*\*|__|`")
_FULL_DATE_RE = re.compile(
    r"\d{4}年\d{1,2}月\d{1,2}日|\d{1,2}月\d{1,2}日|\d+日後|"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b|"
    r"\b\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\d+ days?\b",
    re.IGNORECASE,
)


def _clean(unit: str) -> str:
    """A unit as quoted: bullet markers and markdown emphasis removed, words untouched."""
    return _MARKUP_RE.sub("", _BULLET_RE.sub("", unit)).strip()


@dataclass(frozen=True)
class ExtractedAnswer:
    """The quoted unit (``text``), its ``passage`` and ``heading``, the story ``hit`` and
    ``locale`` it was quoted from, and ``score`` in [0, 1]."""

    hit: StoryHit
    locale: str
    text: str
    passage: str
    heading: str
    score: float


def _units(passage: str) -> list[str]:
    """Sentences and bullets of a markdown passage, as written (tables rows count as
    units; empty lines and horizontal rules do not)."""
    units: list[str] = []
    for line in passage.split("\n"):
        stripped = line.strip()
        if not stripped or set(stripped) <= {"-", "*", "_", "|", ":", " "}:
            continue
        if _BULLET_RE.match(stripped) or stripped.startswith(("|", ">")):
            units.append(stripped)
            continue
        units.extend(part.strip() for part in _SENTENCE_END_RE.split(stripped) if part.strip())
    return units


def _concept_share(concepts: list[Concept], weights: list[float], terms: set[str]) -> float:
    """Weighted share of ``concepts`` whose alternative terms all occur in ``terms``."""
    total = sum(weights) or 1.0
    found = 0.0
    for concept, weight in zip(concepts, weights, strict=True):
        trust = max(
            (a.trust for a in concept.alternatives if a.terms and set(a.terms) <= terms),
            default=0.0,
        )
        found += weight * trust
    return found / total


def answer_question(engine: SearchEngine, question: str, locale: str) -> ExtractedAnswer | None:
    """The best-supported sentence or bullet answering ``question``, preferring documents
    in ``locale`` (``ja``/``en``), or None when no passage answers it confidently."""
    outcome = engine.about(question, limit=STORIES_CONSIDERED)
    candidates = (outcome.hits + outcome.weak)[:STORIES_CONSIDERED]
    if not candidates:
        return None
    concepts = outcome.plan.concepts
    weights = [engine.concept_weight(c) for c in concepts]
    asks_number = bool(_ASKS_NUMBER.search(question))
    asks_percent = bool(_ASKS_PERCENT.search(question))
    asks_date = bool(_ASKS_DATE.search(question))
    best: ExtractedAnswer | None = None
    for rank, hit in enumerate(candidates):
        story_prior = (0.5 * hit.score + 0.5 * hit.coverage) * (1.0 - 0.15 * rank)
        for document_locale, document in hit.documents.items():
            # The user's language first; the other one only where it answers clearly better.
            in_language = document_locale == locale or locale not in hit.documents
            language_factor = 1.0 if in_language else 0.75
            title_terms = set(text.analyze(document.title))
            # What the title already says counts less in the sentence: it must hold the rest.
            residual = [
                weight * (1.0 if _concept_share([concept], [1.0], title_terms) < 1.0 else 0.4)
                for concept, weight in zip(concepts, weights, strict=True)
            ]
            for heading, passage in engine.passages(document.id):
                heading_terms = set(text.analyze(heading)) | title_terms
                lead_in: set[str] = set()
                units = _units(passage)
                for position, unit in enumerate(units):
                    terms = set(text.analyze(unit))
                    own = _concept_share(concepts, residual, terms)
                    context = _concept_share(concepts, weights, terms | heading_terms | lead_in)
                    is_lead_in = _clean(unit).endswith((":", "："))
                    if is_lead_in:
                        lead_in = terms
                    number = 0.0
                    if asks_number and _NUMBER_RE.search(unit):
                        number = 0.4 if asks_percent and not _PERCENT_RE.search(unit) else 1.0
                    if asks_date:  # a date (or a count of days) over any number
                        date = 1.0 if _FULL_DATE_RE.search(unit) else 0.0
                        date = date or (0.5 if _DATE_RE.search(unit) else 0.0)
                        kind = max(date, 0.5 * number)
                    else:
                        kind = number
                    wants_kind = asks_number or asks_date
                    score = (
                        0.35 * own
                        + 0.25 * context
                        + (0.2 * kind if wants_kind else 0.2 * own)
                        + 0.2 * story_prior
                    ) * language_factor
                    if len(unit) < 6:
                        score *= 0.5  # a fragment is not an answer
                    elif is_lead_in:
                        # A lead-in ("Main results:") answers only with what follows it.
                        score *= 0.6 if position + 1 < len(units) else 0.3
                    if best is None or score > best.score:
                        quoted = [unit]
                        if is_lead_in:
                            # "Main results:" answers nothing alone: quote what it leads to.
                            quoted += units[position + 1 : position + 4]
                        best = ExtractedAnswer(
                            hit=hit,
                            locale=document_locale,
                            text="\n".join(_clean(u) for u in quoted),
                            passage=passage,
                            heading=heading,
                            score=min(1.0, score),
                        )
    if best is None or best.score < CONFIDENT_ANSWER:
        return None
    return best
