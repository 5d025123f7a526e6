"""Which stories go into a channel's daily digest, and the digest as Discord messages.

Stories carry only a calendar date (their frontmatter ``date``), not a publication
instant, so "new since the previous digest" is defined on dates:

* A digest belongs to one scheduled instant ``window_end`` (UTC); its *digest date* is
  that instant's local date in the subscription's zone. ``window_start`` is the scheduled
  instant of the channel's previous delivered digest (posted, or skipped because the day
  was empty), or ``window_end - 24 h`` for a first digest.
* The digest covers stories dated from the local date of ``window_start`` to the digest
  date, both included — a first digest therefore covers the day before and the same day
  — and at most ``MAX_WINDOW_DAYS`` back, so a channel that was paused for weeks does not
  get a backlog.
* Because the previous digest's date is included, a story dated that day but added after
  that digest went out is not lost; stories the channel already received
  (``exclude``, from the ledger) are left out, so nothing is posted twice.
* Timeline entries (``aiTimeline``) are history summaries without a page of their own;
  digests carry articles only.

Ranking (most important first): ``impactLevel`` (critical > high > medium > low; none
counts as medium, as in search), then recency (the story's newest date), then breadth
(tags + related companies of the shown document), then story id for a stable order.
At most ``max_items`` stories, each shown in the subscription's locale (or its only
language, with technyan's note).

``compose_digest`` is pure given the index: the same window, locale and channel give the
same digest, persona lines included (chosen from channel and date). ``SelectionCache``
lets a fan-out of many channels due at the same minute select the stories once per
``(locale, dates, max_items, exclusions)``.

``render_digest_messages`` turns a digest into message contents within Discord's limits
(2000 characters of content per message; docs/resources/message#create-message, see
docs/DISCORD.md): technyan's opening line, one block per story (numbered title with the
link, a one-line summary, technyan's comment), technyan's closing line, split into as
many messages as needed. Each message ends with a marker line
``-# 🐾 テクにゃん. digest YYYY-MM-DD · i/n`` that ``parse_marker`` reads back, so a
restarted bot recognises digests it already posted.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.replies import Reply, StoryCard
from bot.search import IMPACT_RANK, StoryHit
from bot.service import NewsService

__all__ = [
    "CANDIDATE_LIMIT",
    "MAX_WINDOW_DAYS",
    "MESSAGE_LIMIT",
    "Digest",
    "DigestMarker",
    "SelectionCache",
    "compose_digest",
    "digest_dates",
    "discord_length",
    "parse_marker",
    "render_digest_messages",
    "select_stories",
    "shorten",
    "standalone_digest",
]

#: Message content limit, in characters (Discord counts UTF-16 code units; we do too).
#: Source: Discord developer docs, resources/message "Create Message" (docs/DISCORD.md).
MESSAGE_LIMIT = 2000
#: Caps per field so that one story block always fits in one message.
TITLE_LIMIT = 256
SUMMARY_LIMIT = 280
COMMENT_LIMIT = 400
URL_LIMIT = 600
#: Room kept at the end of every message for the marker line.
MARKER_RESERVE = 64
#: How far back (days before the digest date) a digest may reach.
MAX_WINDOW_DAYS = 7
#: Newest stories of the index considered (``SearchEngine.latest`` returns at most 100);
#: a window older than the newest 100 stories finds nothing.
CANDIDATE_LIMIT = 100
DEFAULT_IMPACT = 1  # no impactLevel counts as "medium", as in bot.search

_MARKER_RE = re.compile(r"テクにゃん\. digest (\d{4}-\d{2}-\d{2}) · (\d+)/(\d+)")
_SENTENCE_END = "。．.!?！？"
_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|\[\]])")


def discord_length(text: str) -> int:
    """Length of ``text`` as Discord counts it: UTF-16 code units (an emoji outside the
    BMP counts 2). Never smaller than ``len(text)``."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, at a sentence end or a space when
    one is near the end, with an ellipsis. Text within the limit is returned unchanged."""
    if discord_length(text) <= limit:
        return text
    room = limit - 1  # the ellipsis
    cut, used = 0, 0
    for position, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > room:
            break
        used += width
        cut = position + 1
    head = text[:cut]
    floor = int(len(head) * 0.6)
    sentence = max(head.rfind(mark, floor) for mark in _SENTENCE_END)
    if sentence >= floor and sentence > 0:
        return head[: sentence + 1]  # whole sentences read as a complete summary
    space = head.rfind(" ", floor)
    if space > 0:
        head = head[:space]
    return head.rstrip() + "…"


def _escape(text: str) -> str:
    """Discord markdown characters escaped, whitespace collapsed to single spaces."""
    flat = " ".join(text.split())
    flat = _MARKDOWN_SPECIAL.sub(r"\\\1", flat)
    return re.sub(r"^([#>-])", r"\\\1", flat)


def _link_target(url: str) -> str:
    return shorten(url.replace(" ", "%20").replace("(", "%28").replace(")", "%29"), URL_LIMIT)


def format_date(day: dt.date, locale: str) -> str:
    """The digest date as technyan says it: ``11月18日`` or ``November 18``."""
    if locale == "ja":
        return f"{day.month}月{day.day}日"
    return f"{day:%B} {day.day}"


@dataclass(frozen=True)
class Digest:
    """One channel's digest for one local date.

    ``window_start``/``window_end`` are UTC instants (see the module docstring); ``since``
    and ``until`` the story dates covered (inclusive). ``opening`` is technyan's opening
    line (or the "no news today" line when ``cards`` is empty), ``closing`` the closing
    line (empty for an empty day). ``post_empty`` says whether an empty day is posted.
    """

    channel_id: int
    digest_date: dt.date
    locale: str
    window_start: dt.datetime
    window_end: dt.datetime
    since: dt.date
    until: dt.date
    cards: tuple[StoryCard, ...]
    opening: str
    closing: str
    post_empty: bool

    @property
    def stories(self) -> tuple[str, ...]:
        """Ids of the stories in the digest, in order."""
        return tuple(card.story for card in self.cards)

    @property
    def empty(self) -> bool:
        """True when no story is new in the window."""
        return not self.cards

    @property
    def postable(self) -> bool:
        """Whether anything goes to the channel: stories, or the empty-day line when the
        subscription asked for it."""
        return bool(self.cards) or self.post_empty

    def reply(self, *, footer_note: str = "") -> Reply:
        """The digest as a transport-neutral ``Reply`` (kind ``digest``): the opening as
        header, the stories as cards, the closing (and ``footer_note``) as footer."""
        footer = "\n".join(part for part in (self.closing, footer_note) if part)
        return Reply("digest", self.locale, self.opening, self.cards, footer=footer)


def digest_dates(
    window_start: dt.datetime, window_end: dt.datetime, zone: ZoneInfo
) -> tuple[dt.date, dt.date]:
    """The story dates ``(since, until)`` a window covers in ``zone``: the local dates of
    its two ends, ``since`` no earlier than ``MAX_WINDOW_DAYS`` before ``until``."""
    until = window_end.astimezone(zone).date()
    since = min(window_start.astimezone(zone).date(), until)
    return max(since, until - dt.timedelta(days=MAX_WINDOW_DAYS)), until


def _importance(hit: StoryHit, locale: str) -> tuple[int, int, int, str]:
    """Sort key, most important first: impact, recency, breadth, story id."""
    documents = hit.documents.values()
    impact = max(IMPACT_RANK.get((d.impact_level or "").lower(), DEFAULT_IMPACT) for d in documents)
    newest = max(d.date for d in documents)
    shown = hit.document_for(locale)
    breadth = len(shown.tags) + len(shown.related_companies)
    return (-impact, -newest.toordinal(), -breadth, hit.story)


def select_stories(
    service: NewsService,
    *,
    locale: str,
    since: dt.date,
    until: dt.date,
    max_items: int,
    exclude: Collection[str] = (),
) -> tuple[StoryCard, ...]:
    """The ``max_items`` most important articles dated in ``[since, until]`` (a story's
    newest date) among the index's ``CANDIDATE_LIMIT`` newest stories and not in
    ``exclude``, as cards in ``locale`` (ranking in the module docstring)."""
    candidates = [
        hit
        for hit in service.engine.latest(CANDIDATE_LIMIT)
        if since <= max(d.date for d in hit.documents.values()) <= until
        and hit.story not in exclude
        and all(d.collection != "aiTimeline" for d in hit.documents.values())
    ]
    candidates.sort(key=lambda hit: _importance(hit, locale))
    return tuple(service.card(hit, locale) for hit in candidates[: max(1, max_items)])


class SelectionCache:
    """Story selections of one index, shared by the digests of one fan-out.

    Keyed by ``(locale, since, until, max_items, exclusions)``; emptied when the service
    switches to a new index. Thread-safe.
    """

    def __init__(self) -> None:
        self._engine: object | None = None
        self._entries: dict[tuple[object, ...], tuple[StoryCard, ...]] = {}
        self._lock = threading.Lock()
        self.misses = 0

    def select(
        self,
        service: NewsService,
        *,
        locale: str,
        since: dt.date,
        until: dt.date,
        max_items: int,
        exclude: Collection[str] = (),
    ) -> tuple[StoryCard, ...]:
        """``select_stories`` with the result remembered for the current index."""
        engine = service.engine
        key = (locale, since, until, max_items, frozenset(exclude))
        with self._lock:
            if engine is not self._engine:
                self._engine, self._entries = engine, {}
            cached = self._entries.get(key)
        if cached is not None:
            return cached
        cards = select_stories(
            service, locale=locale, since=since, until=until, max_items=max_items, exclude=exclude
        )
        with self._lock:
            self.misses += 1
            if engine is self._engine:
                self._entries[key] = cards
        return cards


def compose_digest(
    service: NewsService,
    *,
    channel_id: int,
    locale: str,
    timezone: str,
    max_items: int,
    post_empty: bool,
    window_start: dt.datetime,
    window_end: dt.datetime,
    exclude: Collection[str] = (),
    cache: SelectionCache | None = None,
) -> Digest:
    """The digest of ``channel_id`` for the window ``(window_start, window_end]`` (aware
    datetimes; see the module docstring) in ``locale`` and the IANA ``timezone``.
    Deterministic for a given index. Raises ``ZoneInfoNotFoundError`` for a bad zone."""
    zone = ZoneInfo(timezone)
    since, until = digest_dates(window_start, window_end, zone)
    select = cache.select if cache is not None else select_stories
    cards = select(
        service, locale=locale, since=since, until=until, max_items=max_items, exclude=exclude
    )
    persona = service.persona
    seed = f"{channel_id}|{until.isoformat()}"
    spoken = format_date(until, locale)
    if cards:
        opening = persona.say("digest_open", locale, seed=seed, date=spoken)
        closing = persona.say("digest_close", locale, seed=seed)
    else:
        opening = persona.say("digest_empty", locale, seed=seed, date=spoken)
        closing = ""
    return Digest(
        channel_id=channel_id,
        digest_date=until,
        locale=locale,
        window_start=window_start.astimezone(dt.UTC),
        window_end=window_end.astimezone(dt.UTC),
        since=since,
        until=until,
        cards=cards,
        opening=opening,
        closing=closing,
        post_empty=post_empty,
    )


# --------------------------------------------------------------------------- rendering


def _story_block(card: StoryCard, position: int, locale: str) -> str:
    title = _escape(shorten(" ".join(card.title.split()), TITLE_LIMIT))
    lines = [f"**{position}. [{title}]({_link_target(card.url)})**"]
    if card.description:
        lines.append(_escape(shorten(" ".join(card.description.split()), SUMMARY_LIMIT)))
    if card.technyan_comment:
        comment = _escape(shorten(" ".join(card.technyan_comment.split()), COMMENT_LIMIT))
        lines.append(f"🐾 「{comment}」" if locale == "ja" else f"🐾 “{comment}”")
    if card.note:
        lines.append(f"*{_escape(card.note)}*")
    return "\n".join(lines)


def _marker(day: dt.date, part: int, total: int) -> str:
    return f"-# 🐾 テクにゃん. digest {day.isoformat()} · {part}/{total}"


def render_digest_messages(digest: Digest) -> list[str]:
    """The message contents that post ``digest`` (empty list: nothing to post), each at
    most ``MESSAGE_LIMIT`` UTF-16 units and ending with its marker line. Blocks (opening,
    one per story, closing) are never split across messages; a block is cut with an
    ellipsis only if it alone exceeds a message, which the field caps prevent."""
    if not digest.postable:
        return []
    blocks = [digest.opening]
    blocks += [
        _story_block(card, position, digest.locale)
        for position, card in enumerate(digest.cards, start=1)
    ]
    if digest.closing:
        blocks.append(digest.closing)
    budget = MESSAGE_LIMIT - MARKER_RESERVE
    parts: list[list[str]] = [[]]
    used = 0
    for block in blocks:
        block = shorten(block, budget)
        size = discord_length(block) + (2 if parts[-1] else 0)
        if parts[-1] and used + size > budget:
            parts.append([])
            size = discord_length(block)
            used = 0
        parts[-1].append(block)
        used += size
    total = len(parts)
    return [
        "\n\n".join(blocks) + "\n" + _marker(digest.digest_date, number, total)
        for number, blocks in enumerate(parts, start=1)
    ]


@dataclass(frozen=True)
class DigestMarker:
    """What a digest message's marker line says: its digest date and part ``i`` of
    ``total``."""

    digest_date: dt.date
    part: int
    total: int


def parse_marker(content: str) -> DigestMarker | None:
    """The marker of a message posted by ``render_digest_messages``, or None."""
    match = _MARKER_RE.search(content or "")
    if not match:
        return None
    try:
        day = dt.date.fromisoformat(match[1])
    except ValueError:
        return None
    return DigestMarker(day, int(match[2]), int(match[3]))


def preview_text(messages: Sequence[str]) -> str:
    """Rendered messages as one terminal text, with a rule between messages."""
    return "\n\n────────\n\n".join(messages)


def standalone_digest(
    service: NewsService,
    *,
    locale: str,
    timezone: str,
    max_items: int = 5,
    day: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Digest:
    """The first digest a new subscription would get (no previous digest, so the day
    before and the day itself), for ``day`` in ``timezone`` (default: the 24 hours up to
    ``now``, itself defaulting to the current time). An empty day renders its "no news"
    line. Used by ``technyan-bot digest preview`` and the console."""
    zone = ZoneInfo(timezone)
    if day is not None:
        end = dt.datetime.combine(day, dt.time(23, 59), tzinfo=zone)
    else:
        end = now or dt.datetime.now(dt.UTC)
    return compose_digest(
        service,
        channel_id=0,
        locale=locale,
        timezone=timezone,
        max_items=max_items,
        post_empty=True,
        window_start=end - dt.timedelta(hours=24),
        window_end=end,
    )
