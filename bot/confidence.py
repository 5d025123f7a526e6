"""How well one story answers a query, and how sure the bot is of it.

``StoryEvidence`` holds, for one candidate story (both language versions together), what
it holds of each concept of the query (``bot.query``): the best trust of an alternative
found anywhere, in a title, and in a description or tags, with each concept's weight
(idf × role) and role. From it:

* ``coverage``: the weighted share of the query's concepts the story holds;
* ``focus``: the same share in titles (0.6) and descriptions/tags (0.4), so a story
  *about* a name ranks above one that mentions it in passing;
* ``score`` (ranking): 0.45·coverage + 0.3·focus + 0.25·bm25 relative to the best
  candidate;
* ``confidence`` (the cut between results, weak matches and "nothing found"), the larger
  of two readings of the same evidence:

  - *share*: how much of what the query names the story holds, counting only names and
    topic words (``key`` concepts; chat filler and words that only say "news" are left
    out), mixed with how much of it the story is about: ``(0.7·key coverage + 0.3·key
    focus)``, scaled by the share of the query's names the story holds (``0.5 + 0.5·name
    coverage``) or, for a query without names, by its focus (``min(1, 0.3 + focus)``: a
    story that only mentions "rainfall" and "Canada" in passing answers no question
    about them);
  - *evidence*: for a long message, whose many words no story holds all of, the key
    weight the story holds (``min(1, held / EVIDENCE_WEIGHT)``, in idf units) times its
    lead over the runner-up candidate (``(held / runner-up − 1) / (LEAD − 1)``, clipped
    to [0, 1]): the story clearly best at what the message is about. It counts fully
    from six names and topic words on, not at all below four, and a story missing the
    message's names keeps half of it at worst (``0.5 + 0.5·name coverage``).

The constants were chosen on the development sets (``../shared/eval``: the older sets and
the realistic ones) by ``bench/relevance.py --calibrate``, which prints, for a range of
thresholds, MRR@10 of confident results and the share of no-answer queries answered
"nothing"; docs/ARCHITECTURE.md records the curve. One threshold decides for ``about``
and ``ask`` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import mul
from typing import NamedTuple

__all__ = ["CONFIDENCE_THRESHOLD", "WEAK_THRESHOLD", "ConceptGroups", "StoryEvidence"]

# At or above: a result. Between WEAK_THRESHOLD and it: a weak match, shown labelled as such.
CONFIDENCE_THRESHOLD = 0.40
WEAK_THRESHOLD = 0.15
# Key weight (idf units) a story must hold to be sure of a long message, and the lead over
# the runner-up (held key weight, as a ratio) at which that certainty is full.
EVIDENCE_WEIGHT = 15.0
LEAD = 1.5
# What a story that only mentions the query's names in passing keeps of its share.
NAME_MENTION = 0.5
_KEY_ROLES = frozenset({"entity", "topic"})
_NAME_ROLES = frozenset({"entity"})
_TOPIC_ROLES = frozenset({"topic"})


@dataclass
class StoryEvidence:
    """What one story holds of a query's concepts. Sequences are aligned with the
    query's concepts: ``weights`` (≥ 0), ``roles`` (``entity``/``topic``/``context``),
    and the best trust in [0, 1] of an alternative found ``anywhere``, in a ``title``, and
    in a ``headline`` (description or tags). ``strength`` is the story's bm25 relative to
    the best candidate, in [0, 1]. ``runner_up`` is the key weight held by the best other
    candidate and ``best_name_focus`` the best ``name_focus`` among the candidates; the
    ranking sets both once every candidate is known. ``people`` marks the concepts that
    are people's names (aligned with the concepts; empty: none). ``groups``: the query's
    ``ConceptGroups`` for these ``weights`` and ``roles``, shared by every candidate (made
    here when absent or made for other weights)."""

    weights: Sequence[float]
    roles: Sequence[str]
    anywhere: Sequence[float]
    title: Sequence[float]
    headline: Sequence[float]
    strength: float
    runner_up: float = 0.0
    best_name_focus: float = 0.0
    people: Sequence[bool] = ()
    groups: ConceptGroups | None = field(default=None, repr=False, compare=False)
    # Ranking reads these many times per story: the shares are computed once (they are
    # fixed once the evidence is made), confidence with the runner-up and best name
    # focus it was computed for.
    _summary: _Summary | None = field(default=None, init=False, repr=False, compare=False)
    _confidence: tuple[float, float, float] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def _shares(self) -> _Summary:
        summary = self._summary
        if summary is None:
            summary = self._summary = _summarize(self)
        return summary

    def name_coverage(self) -> float | None:
        """The weighted share of the query's names the story holds; None without names."""
        return self._shares().name_coverage

    def key_coverage(self) -> float:
        """The weighted share of the query's names and topic words the story holds."""
        return self._shares().key_coverage

    def name_focus(self) -> float:
        """The weighted share of the query's names held in titles, descriptions or tags."""
        return self._shares().name_focus

    def _about_names(self) -> float:
        """1 for a story as much about the query's names as the best candidate is (title,
        description or tags), down to NAME_MENTION for one that only mentions them. When no
        candidate is about them, a mention counts fully only for people (``people``, a
        person quoted in stories about something else: "Lisa Su"); a company, product
        or topic mentioned in passing ("Mistral", "quantum computing") keeps NAME_MENTION,
        raised by the share of the query's topic words the story also holds."""
        if self.best_name_focus <= 0:
            names = [
                p for p, role in zip(self.people, self.roles, strict=False) if role == "entity"
            ]
            if names and all(names):
                return 1.0
            # A mention in passing that also holds the rest of the question ("Texas chatbot
            # disclosure bill vote") is an answer; a bare name mentioned once is a guess.
            topics = self._shares().topic_coverage or 0.0
            return NAME_MENTION + (1 - NAME_MENTION) * topics
        share = min(1.0, self.name_focus() / self.best_name_focus)
        return NAME_MENTION + (1 - NAME_MENTION) * share

    def held(self) -> float:
        """The key weight the story holds: the sum over names and topic words of weight ×
        trust found anywhere (idf units)."""
        return self._shares().held

    def coverage(self) -> float:
        """The weighted share of the query's concepts the story holds, in [0, 1]."""
        return self._shares().coverage

    def focus(self) -> float:
        """The weighted share held in titles (0.6) and descriptions or tags (0.4)."""
        return self._shares().focus

    def score(self) -> float:
        """The ranking score in [0, 1]: 0.45·coverage + 0.3·focus + 0.25·bm25."""
        return self._shares().score

    def about_subject(self, threshold: float = CONFIDENCE_THRESHOLD) -> bool:
        """The story is about what the query names: a result (``threshold``) that holds it
        in titles, descriptions or tags (for "the latest X": among these, the newest ranks
        first)."""
        return self.confidence() >= threshold and self.focus() >= 0.4

    def confidence(self) -> float:
        """How sure the bot is that the story answers the query, in [0, 1]: the larger of
        the share and evidence readings (see the module docstring)."""
        cached = self._confidence
        if cached is not None and cached[:2] == (self.runner_up, self.best_name_focus):
            return cached[2]
        value = self._confidence_now()
        self._confidence = (self.runner_up, self.best_name_focus, value)
        return value

    def _confidence_now(self) -> float:
        shares = self._shares()
        key_coverage = shares.key_coverage
        key_focus = shares.key_focus
        name_coverage = shares.name_coverage
        share = 0.7 * key_coverage + 0.3 * key_focus
        if name_coverage is None:
            share *= min(1.0, 0.3 + key_focus)
        else:
            share *= (0.5 + 0.5 * name_coverage) * self._about_names()
        held = self.held()
        lead = held / self.runner_up if self.runner_up > 0 else (2 * LEAD if held > 0 else 0.0)
        evidence = min(1.0, held / EVIDENCE_WEIGHT) * min(1.0, max(0.0, (lead - 1) / (LEAD - 1)))
        if name_coverage is not None:
            evidence *= 0.5 + 0.5 * name_coverage
        # Evidence speaks for long messages only: a short query names what it asks about,
        # and the share reading says whether a story holds it.
        evidence *= min(1.0, max(0.0, (shares.key_concepts - 3) / 3))
        return min(1.0, max(share, evidence))


class _Summary(NamedTuple):
    """The shares of one story's evidence that do not depend on the other candidates
    (a tuple: ranking makes one per candidate story, about a hundred per query)."""

    coverage: float
    focus: float
    score: float
    name_coverage: float | None
    topic_coverage: float | None
    key_coverage: float
    key_focus: float
    name_focus: float
    held: float
    key_concepts: int


@dataclass(frozen=True)
class ConceptGroups:
    """A query's concepts grouped by role, with each group's total weight: the same for
    every candidate story, so ranking builds it once per query (``of``) and hands it to
    each story's evidence. Positions index the query's concepts; totals are sums of
    ``weights`` (idf units) over a group's positions."""

    weights: Sequence[float]
    every: tuple[int, ...]
    keys: tuple[int, ...]
    names: tuple[int, ...]
    topics: tuple[int, ...]
    every_total: float
    key_total: float
    name_total: float
    topic_total: float

    @classmethod
    def of(cls, weights: Sequence[float], roles: Sequence[str]) -> ConceptGroups:
        """The groups of concepts with ``weights`` and ``roles`` (aligned sequences)."""
        every = tuple(range(len(weights)))
        keys = tuple(i for i in every if roles[i] in _KEY_ROLES)
        names = tuple(i for i in every if roles[i] in _NAME_ROLES)
        topics = tuple(i for i in every if roles[i] in _TOPIC_ROLES)
        return cls(
            weights,
            every,
            keys,
            names,
            topics,
            *(sum([weights[i] for i in group]) for group in (every, keys, names, topics)),
        )


def _summarize(evidence: StoryEvidence) -> _Summary:
    """The story's shares: each concept's weight times what the story holds of it,
    multiplied once and summed over each group in the concepts' order."""
    weights, roles = evidence.weights, evidence.roles
    anywhere, title, headline = evidence.anywhere, evidence.title, evidence.headline
    size = len(weights)
    lengths = (len(roles), len(anywhere), len(title), len(headline))
    if lengths != (size, size, size, size):
        raise ValueError(f"evidence sequences differ in length: {size}, {lengths}")
    groups = evidence.groups
    if groups is None or groups.weights is not weights:
        groups = ConceptGroups.of(weights, roles)
    keys, names, topics = groups.keys, groups.names, groups.topics
    every_total, key_total = groups.every_total, groups.key_total
    name_total, topic_total = groups.name_total, groups.topic_total
    held_by = list(map(mul, weights, anywhere))
    focus_by = [w * max(t, 0.67 * h) for w, t, h in zip(weights, title, headline, strict=True)]
    held = sum([held_by[i] for i in keys])
    coverage = focus = 0.0
    if every_total > 0:
        coverage = sum(held_by) / every_total
        focus = 0.6 * (sum(map(mul, weights, title)) / every_total) + 0.4 * (
            sum(map(mul, weights, headline)) / every_total
        )
    return _Summary(
        coverage=coverage,
        focus=focus,
        score=0.45 * coverage + 0.3 * focus + 0.25 * evidence.strength,
        name_coverage=sum([held_by[i] for i in names]) / name_total if name_total > 0 else None,
        topic_coverage=(
            sum([held_by[i] for i in topics]) / topic_total if topic_total > 0 else None
        ),
        key_coverage=held / key_total if key_total > 0 else 0.0,
        key_focus=sum([focus_by[i] for i in keys]) / key_total if key_total > 0 else 0.0,
        name_focus=sum([focus_by[i] for i in names]) / name_total if name_total > 0 else 0.0,
        held=held,
        key_concepts=len(keys),
    )
