"""What the words of a message do, in English and Japanese (``bot/data/lexicon.toml``).

``Lexicon`` answers, for one word, whether it is a stopword (dropped), context (kept with
a small weight: chat filler, hedges, "news", "マジ"), a generic news word, or a recency
word. English words are looked up as typed and by their Snowball stem; Japanese words by
Sudachi's normalized form.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from bot import text

__all__ = ["Lexicon", "lexicon"]


@dataclass(frozen=True)
class Lexicon:
    """Word sets by role. English sets hold both the word and its stem."""

    stopwords: frozenset[str]
    context: frozenset[str]
    generic_news: frozenset[str]
    recency: frozenset[str]

    def is_stopword(self, word: str) -> bool:
        """A function or question word (``the``, ``what's``, ``何``)."""
        return word in self.stopwords

    def is_context(self, word: str) -> bool:
        """Chat filler or a news word: weighed lightly, never required (``news``,
        ``anyone``, ``話題``, ``まじ``). ``word`` is a normalized word or its stem."""
        return word in self.context or text.stem(word) in self.context

    def is_generic_news(self, word: str) -> bool:
        """A word that only asks for news (``news``, ``launch``, ``ニュース``, ``発表``)."""
        return word in self.generic_news or text.stem(word) in self.generic_news


def _words(raw: str) -> set[str]:
    return {word for word in raw.split() if word}


def _with_stems(words: set[str]) -> set[str]:
    return words | {text.stem(word) for word in words if word.isascii() and word.isalpha()}


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon of ``bot/data/lexicon.toml`` (read once)."""
    raw = resources.files("bot").joinpath("data", "lexicon.toml").read_bytes()
    table = tomllib.loads(raw.decode("utf-8"))
    english, japanese = table["english"], table["japanese"]
    return Lexicon(
        stopwords=frozenset(_words(english["stopwords"]) | _words(japanese["stopwords"])),
        context=frozenset(_with_stems(_words(english["context"])) | _words(japanese["context"])),
        generic_news=frozenset(
            _with_stems(_words(english["generic_news"])) | _words(japanese["generic_news"])
        ),
        recency=frozenset(_words(english["recency"]) | _words(japanese["recency"])),
    )
