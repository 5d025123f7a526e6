"""The transport-neutral answer: what the bot says, as plain data.

The core returns a ``Reply``; the Discord cog and the terminal console only render it.
Nothing here knows Discord's limits (those live in ``bot.discord_app.embeds``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answer", "Reply", "StoryCard"]


@dataclass(frozen=True)
class StoryCard:
    """One story as shown to a user, in one locale.

    ``story`` is the story id; ``locale`` the language of the document shown; ``requested_
    locale`` the language the user asked for (they differ when the story exists only in the
    other language). ``date`` is the shown document's frontmatter date. ``score`` is the
    search score in [0, 1] (1.0 for lists that are not searches). ``weak`` marks a match
    the bot is not confident about; ``label`` (technyan's "maybe") then goes before the
    title wherever it is shown. ``note`` says, in technyan's voice, when the story exists
    only in the other language.
    """

    story: str
    locale: str
    requested_locale: str
    title: str
    description: str
    date: dt.date
    category: str
    tags: tuple[str, ...]
    url: str
    technyan_comment: str | None = None
    impact_level: str | None = None
    related_companies: tuple[str, ...] = ()
    collection: str = "articles"
    score: float = 1.0
    weak: bool = False
    note: str = ""
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        """The search result shape of ``--json``: story, locale, title, date, url, score."""
        return {
            "story": self.story,
            "locale": self.locale,
            "title": self.title,
            "date": self.date.isoformat(),
            "url": self.url,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Answer:
    """An extractive answer: ``text`` is a sentence or bullet quoted verbatim from the
    story's document (``card``), ``passage`` the whole passage it stands in (markdown),
    ``heading`` that passage's heading path, ``score`` the confidence in [0, 1]."""

    card: StoryCard
    text: str
    passage: str
    heading: str
    score: float

    def to_json(self) -> dict[str, Any]:
        """The ``answer`` object of ``ask --json``."""
        return {
            "story": self.card.story,
            "locale": self.card.locale,
            "text": self.text,
            "passage": self.passage,
            "score": round(self.score, 4),
            "title": self.card.title,
            "url": self.card.url,
        }


@dataclass(frozen=True)
class Reply:
    """Everything one command answers.

    ``kind`` names the command (``latest``, ``about``, ``ask``, ``help``, ``digest``,
    ``error``); ``locale`` the reply's language; ``header`` technyan's line above the cards
    and ``footer`` the line below (both already in the persona's voice); ``cards`` the
    stories (confident ones, or weak ones when ``weak`` is true); ``suggestions`` "did you
    mean" queries; ``answer`` the extractive answer of ``ask``; ``query`` the user's text;
    ``invalid`` the option the command refused (``count``, ``category``, ``date``; the
    header says why), empty when the command was answered.
    """

    kind: str
    locale: str
    header: str
    cards: tuple[StoryCard, ...] = ()
    suggestions: tuple[str, ...] = ()
    answer: Answer | None = None
    footer: str = ""
    query: str = ""
    weak: bool = False
    notes: tuple[str, ...] = field(default=())
    invalid: str = ""

    @property
    def found(self) -> bool:
        """True when the reply carries a confident result (cards or an answer)."""
        return (bool(self.cards) and not self.weak) or self.answer is not None

    @property
    def shows_stories(self) -> bool:
        """True when the reply shows stories or an answer, confident or weak; False for
        an empty query, nothing found, no answer, an unknown category or an error."""
        return bool(self.cards) or self.answer is not None
