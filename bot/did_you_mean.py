"""Did you mean: names of the index close to what the user typed, offered when a search
finds nothing confident (``bot.search.SearchEngine.about``).
"""

from __future__ import annotations

from bot import text
from bot.lexicon import lexicon
from bot.query import Entity, EntityVocabulary, QueryPlan

__all__ = ["DID_YOU_MEAN_LOOKUPS", "did_you_mean"]

# Fuzzy lookups of the vocabulary per query (one per window of words).
DID_YOU_MEAN_LOOKUPS = 6


def did_you_mean(plan: QueryPlan, vocabulary: EntityVocabulary) -> list[str]:
    """Names close to what the user typed: corrections made while parsing, then
    entities resembling windows of one to three Latin words of the query (ratio ≥ 75;
    windows holding a word the index lacks first, then longer ones; at most
    DID_YOU_MEAN_LOOKUPS of them), best first, then the names the query spells exactly
    beside other words, most stories first ("Mistral Large": Mistral alone is worth a
    try; a query that is one name is not offered back). A name inside words the index
    holds is no correction (not "SLA" for "Tesla"); a longer one may be ("Sora 2").
    Japanese text is left out: names written in kana were resolved while parsing.
    ``vocabulary`` is the index's names. Returns at most five names (entity display
    names)."""
    scored: dict[str, float] = {}
    words = [
        word
        for word in plan.normalized.split(" ")
        if word and not text.is_japanese(word) and not lexicon().is_stopword(word)
    ]
    typed = {text.squash(word) for word in words}
    unknown = {text.squash(word) for label in plan.unknown for word in label.split()}
    # Each window with whether it holds a word the index lacks: those first, then the
    # longer ones.
    spans = [
        words[start : start + size] for size in (3, 2, 1) for start in range(len(words) - size + 1)
    ]
    windows = sorted(
        ((window, bool(unknown & {text.squash(word) for word in window})) for window in spans),
        key=lambda item: (not item[1], -len(item[0])),
    )
    spelled: list[Entity] = []  # names spelled exactly, beside other words
    for window, misspelled in windows[:DID_YOU_MEAN_LOOKUPS]:
        size = len(window)
        key = text.squash(" ".join(window))
        if len(key) < 4:
            continue
        exact = vocabulary.exact(key)
        if exact is not None and size < len(words) and exact.stories > 0:
            spelled.append(exact)
        # A word the index holds is spelled as meant: a shorter name inside it ("SLA"
        # in "Tesla") is no correction (an unknown "Anthropicc" may hide one).
        for entity, score in vocabulary.similar_scored(key, cutoff=75, limit=3):
            if entity.key in typed or entity.key == key:
                continue
            if not misspelled and entity.key in key:
                continue
            bonus = 0.5 * size  # longer windows carry more of what was meant
            scored[entity.name] = max(scored.get(entity.name, 0.0), score + bonus)
    ranked = sorted(scored, key=lambda name: -scored[name])
    for entity in sorted(spelled, key=lambda entity: -entity.stories):
        if entity.name not in ranked:
            ranked.append(entity.name)
    for _typed, corrected in reversed(plan.corrections):
        if corrected in ranked:
            ranked.remove(corrected)
        ranked.insert(0, corrected)
    return ranked[:5]
