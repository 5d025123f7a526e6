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
* A subscription's ``StoryFilter`` keeps only stories of its categories (none: all), that
  name one of its keywords to include (none: all) and none of its keywords to exclude.

Ranking (most important first): ``impactLevel`` (critical > high > medium > low; none
counts as medium, as in search), then recency (the story's newest date), then breadth
(tags + related companies of the shown document), then story id for a stable order.
At most ``max_items`` stories, each shown in the subscription's locale (or its only
language, with technyan's note).

``compose_digest`` is pure given the index: the same window, locale, filter and channel
give the same digest, persona lines included (chosen from channel and date).
``SelectionCache`` lets a fan-out of many channels due at the same minute select the
stories once per ``(locale, dates, max_items, exclusions, filter)``.

``render_digest_messages`` is the one function that turns a digest into what Discord
receives — the scheduled post, ``/digest preview``, the test post and the terminal's
preview all show its ``DigestMessage``s. One message per ``STORIES_PER_MESSAGE`` stories:
technyan's opening line (after the role mention, if any) as the content, and one embed
whose title names the day, whose description holds the numbered stories (linked title,
a summary, technyan's comment) and, in the last message, technyan's closing line, and
whose footer is the marker ``🐾 テクにゃん. digest YYYY-MM-DD · i/n`` that
``parse_marker`` reads back, so a restarted bot recognises digests it already posted.
Discord's limits (docs/resources/message#create-message-jsonform-params: content 2000
characters; docs/resources/message#embed-object-embed-limits: title 256, description
4096, footer 2048, 6000 for all of a message's embeds; docs/resources/channel#start-
thread-in-forum-or-media-channel: a forum post's name 1–100 characters) are met by
construction: stories are whole when they fit, else cut so that five stories and the
closing line fit one description (each keeps at least ``STORY_BUDGET`` characters), in
either language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.replies import Reply, StoryCard
from bot.search import IMPACT_RANK, StoryHit
from bot.search_results import without_restated
from bot.service import NewsService
from bot.text import normalize

__all__ = [
    "CANDIDATE_LIMIT",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_TITLE_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "MAX_WINDOW_DAYS",
    "MESSAGE_LIMIT",
    "POST_TITLE_LIMIT",
    "STORIES_PER_MESSAGE",
    "STORY_BUDGET",
    "Digest",
    "DigestMarker",
    "DigestMessage",
    "SelectionCache",
    "StoryFilter",
    "as_test_post",
    "compose_digest",
    "digest_dates",
    "discord_length",
    "parse_marker",
    "preview_text",
    "render_digest_messages",
    "select_stories",
    "shorten",
    "standalone_digest",
]

#: Message content, in characters (docs/resources/message#create-message-jsonform-params).
#: Discord counts UTF-16 code units; so do we (``discord_length``), which is never less.
MESSAGE_LIMIT = 2000
#: Embed title and description, and all of one message's embeds together
#: (docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_TOTAL_LIMIT = 6000
#: A forum post's name (docs/resources/channel#start-thread-in-forum-or-media-channel:
#: "1-100 character channel name").
POST_TITLE_LIMIT = 100
#: Stories per message: a day's digest of up to five stories is one message.
STORIES_PER_MESSAGE = 5
#: Room kept in the last message's description for technyan's closing line.
CLOSING_RESERVE = 300
#: A story's fair share of a full message: five of them and the closing line fit one
#: description (the blank lines between blocks included). Stories shorter than their
#: share leave the rest to longer ones (``_fit_blocks``).
STORY_BUDGET = (EMBED_DESCRIPTION_LIMIT - CLOSING_RESERVE) // STORIES_PER_MESSAGE - 2
#: Caps per field of a story block (a long comment gets what the summary leaves).
TITLE_LIMIT = 200
SUMMARY_LIMIT = 300
COMMENT_LIMIT = 600
#: The most one story's block takes when there is room for everything.
BLOCK_LIMIT = 1400
#: A link longer than this is left out (the title is shown without it).
URL_LIMIT = 512
#: Room for technyan's opening line in the content, after a role mention.
OPENING_LIMIT = 1800
#: technyan's pink, the colour of the bot's cards.
DIGEST_COLOUR = 0xFF7EB6
#: How far back (days before the digest date) a digest may reach.
MAX_WINDOW_DAYS = 7
#: Newest stories of the index considered (``SearchEngine.latest`` returns at most 100);
#: a window older than the newest 100 stories finds nothing.
CANDIDATE_LIMIT = 100
DEFAULT_IMPACT = 1  # no impactLevel counts as "medium", as in bot.search

_MARKER_RE = re.compile(r"テクにゃん\. digest (\d{4}-\d{2}-\d{2}) · (\d+)/(\d+)")
_SENTENCE_END = "。．.!?！？"
_MARKDOWN_SPECIAL = re.compile(r"([\\*_~`|\[\]])")
_WORDLIKE = re.compile(r"[0-9a-z][0-9a-z .+#&'-]*")


def discord_length(text: str) -> int:
    """Length of ``text`` as Discord counts it: UTF-16 code units (an emoji outside the
    BMP counts 2). Never smaller than ``len(text)``."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units, at a sentence end or a space when
    one is near the end, with an ellipsis. Text within the limit is returned unchanged;
    a ``limit`` below 1 gives ``""``."""
    if discord_length(text) <= limit:
        return text
    if limit < 1:
        return ""
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


def _link_target(url: str) -> str | None:
    """``url`` usable inside a markdown link (spaces and parentheses encoded), or None
    when it is too long to spend a digest's room on."""
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return target if 0 < discord_length(target) <= URL_LIMIT else None


def format_date(day: dt.date, locale: str, *, year: bool = False) -> str:
    """The digest date as technyan says it: ``11月18日`` or ``November 18`` (with
    ``year``: ``2025年11月18日``, ``November 18, 2025``)."""
    if locale == "ja":
        return f"{day.year}年{day.month}月{day.day}日" if year else f"{day.month}月{day.day}日"
    return f"{day:%B} {day.day}, {day.year}" if year else f"{day:%B} {day.day}"


# --------------------------------------------------------------------------- filters


def _keyword_pattern(keyword: str) -> re.Pattern[str] | None:
    """A keyword as a pattern over ``normalize``d text: a Latin word (or words) matches
    whole words (``AI`` is not in ``OpenAI``), anything else (Japanese) as written."""
    folded = normalize(keyword)
    if not folded:
        return None
    escaped = re.escape(folded)
    if _WORDLIKE.fullmatch(folded):
        return re.compile(rf"(?<![0-9a-z]){escaped}(?![0-9a-z])")
    return re.compile(escaped)


@dataclass(frozen=True)
class StoryFilter:
    """Which stories a subscription wants: ``categories`` (the corpus's names; empty:
    every category), ``include`` (keywords; empty: every story, else a story must name at
    least one) and ``exclude`` (a story naming any is left out). Categories are matched
    without regard to case or width; keywords against the title, description, tags,
    companies and category of both language versions of a story (``_keyword_pattern``).
    Hashable: part of the selection cache's key."""

    categories: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """True when the filter leaves anything out."""
        return bool(self.categories or self.include or self.exclude)

    def accepts(self, hit: StoryHit) -> bool:
        """Whether the story of ``hit`` passes the filter."""
        documents = list(hit.documents.values())
        if self.categories:
            wanted = {normalize(c) for c in self.categories}
            if not any(normalize(d.category) in wanted for d in documents):
                return False
        if not (self.include or self.exclude):
            return True
        text = normalize(
            " ".join(
                " ".join((d.title, d.description, d.category, *d.tags, *d.related_companies))
                for d in documents
            )
        )

        def names(keyword: str) -> bool:
            pattern = _keyword_pattern(keyword)
            return pattern is not None and pattern.search(text) is not None

        if self.include and not any(names(k) for k in self.include):
            return False
        return not any(names(k) for k in self.exclude)


# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class Digest:
    """One channel's digest for one local date.

    ``window_start``/``window_end`` are UTC instants (see the module docstring); ``since``
    and ``until`` the story dates covered (inclusive). ``title`` names the day
    (``2025年11月18日のAIニュースまとめ``); ``opening`` is technyan's opening line (or the
    "no news today" line when ``cards`` is empty), ``closing`` the closing line (empty
    for an empty day). ``post_empty`` says whether an empty day is posted.
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
    title: str = ""

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
    story_filter: StoryFilter = StoryFilter(),
) -> tuple[StoryCard, ...]:
    """The ``max_items`` most important articles dated in ``[since, until]`` (a story's
    newest date) among the index's ``CANDIDATE_LIMIT`` newest stories, not in
    ``exclude`` and passing ``story_filter``, as cards in ``locale`` (ranking in the
    module docstring)."""
    candidates = without_restated(
        hit
        for hit in service.engine.latest(CANDIDATE_LIMIT, keep_restated=True)
        if since <= max(d.date for d in hit.documents.values()) <= until
        and hit.story not in exclude
        and all(d.collection != "aiTimeline" for d in hit.documents.values())
        and story_filter.accepts(hit)
    )
    candidates.sort(key=lambda hit: _importance(hit, locale))
    return tuple(service.card(hit, locale) for hit in candidates[: max(1, max_items)])


class SelectionCache:
    """Story selections of one index, shared by the digests of one fan-out.

    Keyed by ``(locale, since, until, max_items, exclusions, filter)``; emptied when the
    service switches to a new index. Thread-safe.
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
        story_filter: StoryFilter = StoryFilter(),
    ) -> tuple[StoryCard, ...]:
        """``select_stories`` with the result remembered for the current index."""
        engine = service.engine
        key = (locale, since, until, max_items, frozenset(exclude), story_filter)
        with self._lock:
            if engine is not self._engine:
                self._engine, self._entries = engine, {}
            cached = self._entries.get(key)
        if cached is not None:
            return cached
        cards = select_stories(
            service,
            locale=locale,
            since=since,
            until=until,
            max_items=max_items,
            exclude=exclude,
            story_filter=story_filter,
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
    story_filter: StoryFilter = StoryFilter(),
    cache: SelectionCache | None = None,
) -> Digest:
    """The digest of ``channel_id`` for the window ``(window_start, window_end]`` (aware
    datetimes; see the module docstring) in ``locale`` and the IANA ``timezone``, of the
    stories ``story_filter`` accepts. Deterministic for a given index. Raises
    ``ZoneInfoNotFoundError`` for a bad zone."""
    zone = ZoneInfo(timezone)
    since, until = digest_dates(window_start, window_end, zone)
    select = cache.select if cache is not None else select_stories
    cards = select(
        service,
        locale=locale,
        since=since,
        until=until,
        max_items=max_items,
        exclude=exclude,
        story_filter=story_filter,
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
    title = persona.say(
        "digest_title", locale, seed=seed, date=format_date(until, locale, year=True)
    )
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
        title=title,
    )


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class DigestMessage:
    """One message of a digest, as Discord receives it (the adapter only converts it).

    ``content`` is the message text (the role mention and technyan's opening line in the
    first message, else empty); the one embed has ``title``, ``description``, ``footer``
    (the marker), ``colour`` (0xRRGGBB) and ``timestamp`` (the digest's scheduled
    instant, which every reader's client shows in their own zone). ``mention_role_id``
    is the only role the message may ping (None: it pings nobody); ``post_title`` names
    the post in a forum channel (the day). ``part`` of ``total``, from 1.
    """

    content: str
    title: str
    description: str
    footer: str
    colour: int
    timestamp: dt.datetime
    mention_role_id: int | None
    post_title: str
    part: int
    total: int

    def text(self) -> str:
        """The message for a terminal: content, the embed's title in brackets, its
        description and its footer."""
        lines = [self.content] if self.content else []
        lines.append(f"【{self.title}】")
        if self.description:
            lines.append(self.description)
        lines.append(self.footer)
        return "\n".join(lines)


def _fitted(text: str, room: int, render: Callable[[str], str]) -> str:
    """``render(shorten(text, n))`` for the largest ``n`` whose result fits ``room``
    UTF-16 units, or ``""`` when nothing of ``text`` fits."""
    limit = room
    while limit > 0:
        rendered = render(shorten(text, limit))
        over = discord_length(rendered) - room
        if over <= 0:
            return rendered
        limit -= over
    return ""


def _story_block(card: StoryCard, position: int, locale: str, budget: int = STORY_BUDGET) -> str:
    """One story: numbered title linked to the story, summary, technyan's comment and the
    language note, within ``budget`` UTF-16 units (the comment gives way first, then the
    summary)."""
    title = " ".join(card.title.split())
    target = _link_target(card.url)

    def heading(text: str) -> str:
        shown = _escape(text)
        return f"**{position}. [{shown}]({target})**" if target else f"**{position}. {shown}**"

    head = _fitted(title, min(TITLE_LIMIT, budget), heading) or heading("…")
    lines = [head]
    note = f"*{_escape(card.note)}*" if card.note else ""
    room = budget - discord_length(head) - (discord_length(note) + 1 if note else 0)
    if card.description:
        summary = _fitted(" ".join(card.description.split()), min(SUMMARY_LIMIT, room - 1), _escape)
        if summary:
            lines.append(summary)
            room -= discord_length(summary) + 1
    if card.technyan_comment:
        opening, closing = ("🐾 「", "」") if locale == "ja" else ("🐾 “", "”")
        comment = _fitted(
            " ".join(card.technyan_comment.split()),
            min(COMMENT_LIMIT, room - 1),
            lambda text: f"{opening}{_escape(text)}{closing}",
        )
        if comment:
            lines.append(comment)
    if note:
        lines.append(note)
    return "\n".join(lines)


def _fit_blocks(cards: Sequence[tuple[int, StoryCard]], locale: str, room: int) -> list[str]:
    """The blocks of ``(position, card)`` within ``room`` UTF-16 units together (blank
    lines between them included): each whole when they fit, else every block cut to one
    cap, the largest that fits (stories under it keep their length, longer ones share
    the rest). Never below ``STORY_BUDGET`` for up to ``STORIES_PER_MESSAGE`` stories."""
    natural = [_story_block(card, position, locale, BLOCK_LIMIT) for position, card in cards]
    available = room - 2 * max(0, len(natural) - 1)
    sizes = sorted(discord_length(block) for block in natural)
    if sum(sizes) <= available:
        return natural
    cap, spent = available, 0
    for index, size in enumerate(sizes):  # the water level: shorter blocks stay whole
        share = (available - spent) // (len(sizes) - index)
        if size > share:
            cap = share
            break
        spent += size
    return [
        block if discord_length(block) <= cap else _story_block(card, position, locale, cap)
        for block, (position, card) in zip(natural, cards, strict=True)
    ]


def _marker(day: dt.date, part: int, total: int) -> str:
    return f"🐾 テクにゃん. digest {day.isoformat()} · {part}/{total}"


def _parts(count: int) -> list[int]:
    """Stories per message for ``count`` stories: as few messages as
    ``STORIES_PER_MESSAGE`` allows, as even as possible (7 → 4 + 3)."""
    if count <= 0:
        return [0]
    messages = -(-count // STORIES_PER_MESSAGE)
    base, extra = divmod(count, messages)
    return [base + (1 if index < extra else 0) for index in range(messages)]


def render_digest_messages(digest: Digest, *, role_id: int | None = None) -> list[DigestMessage]:
    """The messages that post ``digest`` (empty list: nothing to post); ``role_id``: the
    role the first message mentions (an empty day mentions nobody). Up to
    ``STORIES_PER_MESSAGE`` stories per message, every message within Discord's limits
    (see the module docstring) and ending with its marker. Used for the post, the preview
    and the test post alike."""
    if not digest.postable:
        return []
    numbered = list(enumerate(digest.cards, start=1))
    mention = role_id if digest.cards and role_id else None
    opening = shorten(" ".join(digest.opening.split()), OPENING_LIMIT)
    closing = shorten(digest.closing, CLOSING_RESERVE - 2)
    sizes = _parts(len(numbered))
    total = len(sizes)
    base_title = shorten(digest.title, EMBED_TITLE_LIMIT - 12)
    messages: list[DigestMessage] = []
    taken = 0
    for part, size in enumerate(sizes, start=1):
        room = EMBED_DESCRIPTION_LIMIT - CLOSING_RESERVE
        chunk = _fit_blocks(numbered[taken : taken + size], digest.locale, room)
        taken += size
        if part == total and closing:
            chunk = [*chunk, closing]
        content = ""
        if part == 1:
            content = f"<@&{mention}> {opening}" if mention else opening
        messages.append(
            DigestMessage(
                content=content,
                title=f"{base_title} ({part}/{total})" if total > 1 else base_title,
                description="\n\n".join(chunk),
                footer=_marker(digest.digest_date, part, total),
                colour=DIGEST_COLOUR,
                timestamp=digest.window_end,
                mention_role_id=mention if part == 1 else None,
                post_title=shorten(digest.title, POST_TITLE_LIMIT),
                part=part,
                total=total,
            )
        )
    return messages


def as_test_post(messages: Sequence[DigestMessage], note: str) -> list[DigestMessage]:
    """``messages`` as a test post: the same embeds with the marker changed so that no
    digest is ever taken for a test (``🐾 テクにゃん. test digest …``), ``note`` (technyan
    saying it is a test) in the first message's content, and no mention."""
    tested = []
    for message in messages:
        content = message.content
        if message.mention_role_id:
            content = content.removeprefix(f"<@&{message.mention_role_id}> ")
        if message.part == 1:
            content = shorten(f"{note}\n{content}" if content else note, MESSAGE_LIMIT)
        tested.append(
            dataclasses.replace(
                message,
                content=content,
                footer=message.footer.replace("テクにゃん. digest", "テクにゃん. test digest"),
                mention_role_id=None,
            )
        )
    return tested


@dataclass(frozen=True)
class DigestMarker:
    """What a digest message's marker line says: its digest date and part ``i`` of
    ``total``."""

    digest_date: dt.date
    part: int
    total: int


def parse_marker(text: str) -> DigestMarker | None:
    """The marker of a message made by ``render_digest_messages`` (found anywhere in
    ``text``: a message's content and embed footers together), or None. Test posts carry
    none."""
    match = _MARKER_RE.search(text or "")
    if not match:
        return None
    try:
        day = dt.date.fromisoformat(match[1])
    except ValueError:
        return None
    return DigestMarker(day, int(match[2]), int(match[3]))


def preview_text(messages: Sequence[DigestMessage | str]) -> str:
    """Rendered messages as one terminal text, with a rule between messages."""
    return "\n\n────────\n\n".join(
        message if isinstance(message, str) else message.text() for message in messages
    )


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
