"""Extractive answers: the sentence or bullet of a story that answers a question.

The bot never composes a fact. ``answer_question`` finds the stories the question is
about (the same search as ``about``), splits their passages into sentences and bullets,
and scores each one by how much of the question's concepts it holds (weighted by idf, the
passage heading counting as context), whether it holds the kind of thing asked for (a
number for "how many", a date for "when", a percentage for "what score"), and how well its
story matched. The best one above the confidence threshold is quoted verbatim.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace

from bot import text
from bot.answer_types import asked_type, counted_thing, type_strength
from bot.query import Alternative, Concept
from bot.search import Document, SearchEngine, StoryHit

__all__ = ["ExtractedAnswer", "answer_question", "quotable_units"]

CONFIDENT_ANSWER = 0.45
STORIES_CONSIDERED = 3
# The user's language is quoted when its best sentence scores at least this share of the
# best sentence in the other language (the fact usually stands in both).
OWN_LANGUAGE_SHARE = 0.85
# A weak match (below the search's threshold) may still answer a question that names
# what it asks about, down to this confidence.
WEAK_ANSWER_CONFIDENCE = 0.3
# A unit's score when the question asks for a kind of thing: the weighted share of the
# question's concepts it holds beyond the title (own), the same with its heading and lead-in
# as context, how clearly it holds the kind (type), and its story's match (prior). A unit
# that does not hold the kind keeps W_MISSING of its score.
W_OWN, W_CONTEXT, W_TYPE, W_PRIOR, W_MISSING = 0.3, 0.2, 0.3, 0.2, 0.6
# A lead-in ("… stated:") holding what is asked for this clearly is an answer itself.
LEAD_IN_ANSWERS = 0.6
# The same without a kind asked for: own, context and prior only.
W_OWN_UNTYPED, W_CONTEXT_UNTYPED, W_PRIOR_UNTYPED = 0.55, 0.25, 0.2

# A number with a percent sign or a magnitude (in the normalized question).
_STATED_AMOUNT_RE = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*"
    r"(?=[%％]|(?:bn|b|m|k|t|billion|million|thousand|trillion)(?![a-z])|億|万|千)"
)
# What the question gives, which ``type_strength`` reads: its names and stated amounts,
# its Latin words (casefolded), and what a count question counts.
Given = tuple[list[str], frozenset[str], tuple[str, ...]]
_LATIN_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]+")
_BULLET_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_SENTENCE_END_RE = re.compile(r"(?<=[。！？!?])|(?<=[.])(?=\s+[A-Z\"“(])")
_MARKUP_RE = re.compile(r"\*\*|__|`")


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


def _is_rule(line: str) -> bool:
    """A horizontal rule or a table's separator row (``---``, ``|---|:--|``)."""
    return set(line) <= {"-", "*", "_", "|", ":", " "}


def quotable_units(passage: str) -> list[str]:
    """The units an answer quotes from a markdown ``passage``: its sentences, bullets and
    table rows, as written, in order (empty lines, horizontal rules and a table's header
    row are none)."""
    units: list[str] = []
    lines = passage.split("\n")
    for position, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or _is_rule(stripped):
            continue
        if stripped.startswith("|") and position + 1 < len(lines):
            following = lines[position + 1].strip()
            if following.startswith("|") and _is_rule(following):
                continue  # a table's header row names columns, it states nothing
        if _BULLET_RE.match(stripped) or stripped.startswith(("|", ">")):
            units.append(stripped)
            continue
        units.extend(part.strip() for part in _SENTENCE_END_RE.split(stripped) if part.strip())
    return units


def _matches(term: str, terms: set[str]) -> bool:
    """``term`` (a question's analyzed term) is in a sentence's ``terms``, exactly or, for
    English stems of four letters or more, as a shared stem (``creat`` for "created" and
    ``creator``)."""
    if term in terms:
        return True
    if len(term) < 4 or not term.isascii():
        return False
    return any(
        len(other) >= 4 and (other.startswith(term) or term.startswith(other))
        for other in terms
        if other[:1] == term[:1]
    )


def _holds(alternative: Alternative, terms: set[str], sequence: str) -> bool:
    """A unit holds ``alternative``: its words in a row for a phrase (``sequence`` is the
    unit's analyzed text, space-padded), anywhere for a NEAR group or a single word."""
    if not alternative.terms or not all(_matches(term, terms) for term in alternative.terms):
        return False
    if alternative.near or len(alternative.terms) == 1:
        return True
    return f" {' '.join(alternative.terms)} " in sequence


def _holds_concept(concept: Concept, terms: set[str], sequence: str) -> bool:
    """Any alternative of ``concept`` is held (see ``_holds``; phrases word by word when
    ``sequence`` is empty)."""
    if not sequence:
        return any(
            a.terms and all(_matches(t, terms) for t in a.terms) for a in concept.alternatives
        )
    return any(_holds(alternative, terms, sequence) for alternative in concept.alternatives)


def _concept_share(
    concepts: list[Concept], weights: list[float], terms: set[str], sequence: str = ""
) -> float:
    """Weighted share of ``concepts`` a unit holds (its ``terms``; phrases are checked in a
    row against ``sequence`` when given, else only word by word)."""
    total = sum(weights) or 1.0
    found = 0.0
    for concept, weight in zip(concepts, weights, strict=True):
        trust = max(
            (
                a.trust
                for a in concept.alternatives
                if (
                    _holds(a, terms, sequence)
                    if sequence
                    else all(_matches(t, terms) for t in a.terms) and a.terms
                )
            ),
            default=0.0,
        )
        found += weight * trust
    return found / total


def answer_question(
    engine: SearchEngine, question: str, locale: str, *, as_of: dt.date | None = None
) -> ExtractedAnswer | None:
    """The best-supported sentence or bullet answering ``question`` in the stories the
    search is confident about (the threshold ``about`` uses), or None when none is, or
    when no sentence answers confidently. The sentence must hold what is asked for
    (``bot.answer_types``: a person for "who", an amount for "how much"…) where the
    question asks for a kind of thing; both language versions of a story are read, and
    the one in ``locale`` (``ja``/``en``) is quoted when its best sentence is nearly as
    good. Periods in the question are resolved against ``as_of`` (default today)."""
    outcome = engine.about(question, limit=STORIES_CONSIDERED, as_of=as_of)
    if outcome.plan.missing_versions:
        return None  # nothing is known about that version; its neighbours are no answer
    if not outcome.hits and outcome.plan.date_range is not None:
        # A date in a question is more often part of the fact asked about ("how much did
        # it grow from August to November") than the period of the story.
        outcome = engine.about(question, limit=STORIES_CONSIDERED, periods=False)
    # A question says more than a search: a weak match can still answer it when it holds
    # every name the question gives and most of the rest. Without names (general knowledge,
    # off-topic questions) only confident stories count.
    candidates = [*outcome.hits, *(hit for hit in outcome.weak if _holds_the_names(hit))]
    candidates = candidates[:STORIES_CONSIDERED]
    if not candidates:
        return None
    concepts = outcome.plan.concepts
    asked = [c for c in concepts if c.role in ("topic", "unknown")]
    if asked and all(c.role == "unknown" for c in asked):
        # Everything the question asks about besides its names is a word the corpus never
        # uses ("the capital of France", "エベレストの標高"): no story can answer it.
        return None
    weights = [engine.concept_weight(c) for c in concepts]
    kind = asked_type(question)
    known = [c.label for c in concepts if c.role == "entity"]
    # Amounts the question states ("72%", "671B total", "chrome was like 6M+") are what
    # the user already knows: the answer is another number.
    known += _STATED_AMOUNT_RE.findall(text.normalize(question))
    asked_words = frozenset(w.casefold() for w in _LATIN_WORD_RE.findall(question))
    given = (known, asked_words, counted_thing(question) if kind == "count" else ())
    best: ExtractedAnswer | None = None
    for rank, hit in enumerate(candidates):
        story_prior = (0.5 * hit.score + 0.5 * hit.coverage) * (1.0 - 0.15 * rank)
        by_locale = {
            document_locale: _best_in_document(
                engine, document, concepts, weights, kind, given, story_prior, hit
            )
            for document_locale, document in hit.documents.items()
        }
        found = [answer for answer in by_locale.values() if answer is not None]
        if not found:
            continue
        choice = max(found, key=lambda answer: answer.score)
        own = by_locale.get(locale)
        if own is not None and own.score >= OWN_LANGUAGE_SHARE * choice.score:
            choice = own
        elif choice.locale != locale and locale in hit.documents:
            # The fact stands only in the other language: it is quoted, a little less sure.
            choice = replace(choice, score=choice.score * 0.9)
        if best is None or choice.score > best.score:
            best = choice
    if best is None or best.score < CONFIDENT_ANSWER:
        return None
    return replace(best, score=min(1.0, best.score))


def _holds_the_names(hit: StoryHit) -> bool:
    """The story holds every name of the question, half its key weight or more, and its
    confidence is at least WEAK_ANSWER_CONFIDENCE."""
    evidence = hit.evidence
    if evidence is None:
        return False
    names = evidence.name_coverage()
    return (
        names is not None
        and names >= 0.99
        and evidence.key_coverage() >= 0.5
        and hit.confidence >= WEAK_ANSWER_CONFIDENCE
    )


def _label_answers(unit: str, concepts: list[Concept], kind: str, given: Given) -> bool:
    """A "label: value" line whose label holds a word of the question and whose value holds
    what is asked for ("**Co-founder**: Jane Smith" for "who is the co-founder")."""
    label, colon, value = _clean(unit).partition(":")
    if not colon:
        label, colon, value = _clean(unit).partition("：")
    if not colon or len(label) > 40 or not value.strip():
        return False
    label_terms = set(text.analyze(label))
    # An English label names what the question names as a word of it (or its plural), not
    # as a stem: "Tokenizer: 128K" is no label for "how many tokens".
    label_words = {_singular(word) for word in _LATIN_WORD_RE.findall(label.casefold())}
    says_it = bool(label_words & {_singular(word) for word in given[1]})
    holds = any(
        all(_matches(term, label_terms) for term in alternative.terms)
        and (says_it or not any(term.isascii() for term in alternative.terms))
        for concept in concepts
        if concept.role != "entity"
        for alternative in concept.alternatives
        if alternative.terms
    )
    return holds and type_strength(value, kind, *given) >= 0.6


def _singular(word: str) -> str:
    """``word`` without a plural "s" (``tokens`` → ``token``; not ``ss``, short words)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _best_in_document(
    engine: SearchEngine,
    document: Document,
    concepts: list[Concept],
    weights: list[float],
    kind: str | None,
    given: Given,
    story_prior: float,
    hit: StoryHit,
) -> ExtractedAnswer | None:
    """The best unit of one document for the question, scored by the concepts it holds
    that the title does not already say (0.35), the concepts with its heading and lead-in
    as context (0.25), what is asked for (0.2; else the concepts again) and the story's
    match (0.2). ``given``: the question's names and numbers, and its Latin words
    (casefolded), which ``type_strength`` never takes for the answer, and what a count
    question counts."""
    title_terms = set(text.analyze(document.title))
    # What the title already says counts less in the sentence: it must hold the rest.
    residual = [
        weight * (1.0 if _concept_share([concept], [1.0], title_terms) < 1.0 else 0.4)
        for concept, weight in zip(concepts, weights, strict=True)
    ]
    # The words asked about besides the names ("capital" in "the capital of France").
    topics = [i for i, c in enumerate(concepts) if c.role == "topic" and weights[i] > 0]
    best: ExtractedAnswer | None = None
    for heading, passage in engine.passages(document.id):
        heading_terms = set(text.analyze(heading)) | title_terms
        lead_in: set[str] = set()
        # A heading can state the fact itself ("Model X (code name: bluefinch)").
        last = heading.split(" › ")[-1].strip() if heading else ""
        headed = bool(last) and last != document.title
        units = ([last] if headed else []) + quotable_units(passage)
        for position, unit in enumerate(units):
            analyzed = text.analyze(unit)
            terms = set(analyzed)
            sequence = f" {' '.join(analyzed)} "
            own = _concept_share(concepts, residual, terms, sequence)
            context = _concept_share(concepts, weights, terms | heading_terms | lead_in)
            is_lead_in = _clean(unit).endswith((":", "："))
            if is_lead_in:
                lead_in = terms
            if kind is None:
                score = (
                    W_OWN_UNTYPED * own
                    + W_CONTEXT_UNTYPED * context
                    + W_PRIOR_UNTYPED * story_prior
                )
            else:
                # A lead-in's answer is in what follows it ("Main results:").
                following = " ".join(units[position + 1 : position + 4]) if is_lead_in else ""
                strength = type_strength(_clean(f"{unit} {following}"), kind, *given)
                score = (
                    W_OWN * own + W_CONTEXT * context + W_TYPE * strength + W_PRIOR * story_prior
                )
                if strength == 0:
                    score *= W_MISSING  # it does not hold what is asked for
                elif _label_answers(unit, concepts, kind, given):
                    score += 0.15
            if position == 0 and headed:
                score *= 0.9  # the same fact in a sentence reads better than in a heading
            if kind is None and topics:
                surroundings = terms | heading_terms | lead_in
                if not any(_holds_concept(concepts[i], surroundings, "") for i in topics):
                    # "What is the capital of France?": a sentence about France that says
                    # nothing of a capital answers nothing.
                    score *= 0.5
            if len(unit) < 6:
                score *= 0.5  # a fragment is not an answer
            elif is_lead_in and not (
                # "In September 2025, OpenAI announced Sora 2:" answers "when" by itself.
                kind is not None and type_strength(_clean(unit), kind, *given) >= LEAD_IN_ANSWERS
            ):
                # A lead-in ("Main results:") answers only with what follows it.
                score *= 0.6 if position + 1 < len(units) else 0.3
            if best is None or score > best.score:
                quoted = [unit]
                if is_lead_in:
                    # "Main results:" answers nothing alone: quote what it leads to.
                    quoted += units[position + 1 : position + 4]
                best = ExtractedAnswer(
                    hit=hit,
                    locale=document.locale,
                    text="\n".join(_clean(u) for u in quoted),
                    passage=passage,
                    heading=heading,
                    score=score,
                )
    return best
