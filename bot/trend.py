"""How topics moved through the news: stories per month (or week), for ``/news trend``.

A topic's stories are exactly the confident results of the search behind ``/news about``
(``SearchEngine.about``, same confidence threshold, one result per story), asked for every
story rather than a page of them. Each story is counted once, in the bucket of its date in
the language shown to the user (the user's locale when the story has it, else its only
language). Periods end at the newest story in the index, so a corpus that stopped
updating still shows its last months. Up to ``MAX_TOPICS`` topics are compared.

This module decides what the chart says (counts, marked stories, titles, alt text) as
plain data; ``bot.chart`` only draws it.
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from sparklines import sparklines

from bot import text
from bot.persona import reply_locale
from bot.search import IMPACT_RANK, StoryHit
from bot.service import MAX_QUERY_CHARACTERS, NewsService

__all__ = [
    "MAX_TOPICS",
    "PERIOD_CHOICES",
    "Bucket",
    "Period",
    "PeriodError",
    "TopicTrend",
    "Trend",
    "TrendReply",
    "TrendService",
    "TrendStory",
    "parse_trend_period",
    "split_topics",
]

#: Topics one chart compares (``/news trend DeepSeek, Gemini, Claude``).
MAX_TOPICS = 3
#: Documents the search may rank per topic: every story about a topic, not a page of them.
TREND_CANDIDATES = 5000
#: Periods shorter than this many months are counted per week, longer ones per month.
WEEKLY_BELOW_MONTHS = 3
#: Stories marked with their short title on the chart, by number of topics compared.
MARKS_BY_TOPICS = {1: 4, 2: 2, 3: 1}
#: A story is marked only when its search score is at least this share of the topic's best.
MARK_RELEVANCE = 0.75
#: Widest short title on the chart, in columns (a CJK character takes two).
SHORT_TITLE_COLUMNS = 30
#: Discord's limit on an attachment's description (alt text): docs/resources/message#
#: attachment-object-attachment-request-structure.
ALT_TEXT_LIMIT = 1024
#: The periods offered as choices in Discord, longest first; ``all`` is the default.
PERIOD_CHOICES = ("all", "1y", "6m", "3m", "1m")

_TOPIC_SEPARATORS = re.compile(r"\s*(?:[,、，;；/／]|\s+(?:vs\.?|VS\.?|versus)\s+)\s*")
_PERIOD_PATTERN = re.compile(
    r"^(\d{1,3})\s*(d|days?|日|日間|w|weeks?|週|週間|m|months?|か月|ヶ月|カ月|ケ月|箇月|y|years?|年|年間)$"
)
_PERIOD_UNITS = {
    **dict.fromkeys(("d", "day", "days", "日", "日間"), "d"),
    **dict.fromkeys(("w", "week", "weeks", "週", "週間"), "w"),
    **dict.fromkeys(("m", "month", "months", "か月", "ヶ月", "カ月", "ケ月", "箇月"), "m"),
    **dict.fromkeys(("y", "year", "years", "年", "年間"), "y"),
}
_TITLE_BREAK = re.compile(r"\s*(?:[:：|｜]|\s[-–—]\s)\s*")


class PeriodError(ValueError):
    """A period the trend cannot read; ``value`` is the text as given."""

    def __init__(self, value: str) -> None:
        super().__init__(f"unknown period {value!r} (all, 1y, 6m, 3m, 1m, 8w, 90d …)")
        self.value = value


@dataclass(frozen=True)
class Period:
    """How far back a trend looks: ``days`` before the newest story, or everything
    (``days`` None). ``key`` is the normalized spelling (``all``, ``6m``, ``8w``, ``90d``)."""

    key: str
    days: int | None

    @property
    def weekly(self) -> bool:
        """Whether the period is short enough to count per week (under three months)."""
        return self.days is not None and self.days < WEEKLY_BELOW_MONTHS * 30

    @property
    def bar_count(self) -> int | None:
        """How many bars the period spans, ending with the newest story's: weeks for a
        weekly period, else calendar months (a year is twelve); None for everything."""
        if self.days is None:
            return None
        if self.weekly:
            return math.ceil(self.days / 7)
        return max(WEEKLY_BELOW_MONTHS, round(self.days * 12 / 365))


def parse_trend_period(value: str | None) -> Period:
    """Read a period: empty or ``all`` (``全期間``) for everything, else a number and a unit,
    ``d``/``w``/``m``/``y`` or their English and Japanese words (``3m``, ``8 weeks``, ``6か月``,
    ``1年``), from one week to ten years. Months count 30 days, years 365. Raises
    ``PeriodError`` for anything else."""
    raw = value or ""
    normalized = text.normalize(raw).replace(" ", "")
    if normalized in ("", "all", "全期間", "すべて", "全部"):
        return Period("all", None)
    match = _PERIOD_PATTERN.match(normalized)
    if match is None:
        raise PeriodError(raw)
    number, unit = int(match.group(1)), _PERIOD_UNITS[match.group(2)]
    days = number * {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
    if not 7 <= days <= 3650:
        raise PeriodError(raw)
    return Period(f"{number}{unit}", days)


def split_topics(query: str) -> list[str]:
    """The topics of ``query``: split at commas (``,`` ``、`` ``，``), semicolons, slashes
    and ``vs``, whitespace collapsed, empty parts and repeats (ignoring case and width)
    dropped, in the order given."""
    topics: list[str] = []
    seen: set[str] = set()
    for part in _TOPIC_SEPARATORS.split(query or ""):
        topic = " ".join(part.split())
        key = text.normalize(topic)
        if topic and key not in seen:
            seen.add(key)
            topics.append(topic)
    return topics


@dataclass(frozen=True)
class Bucket:
    """One bar of the chart: the stories dated ``start`` to ``end`` (inclusive), a
    calendar month or a week starting on Monday."""

    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls in this bucket."""
        return self.start <= day <= self.end


@dataclass(frozen=True)
class TrendStory:
    """A story counted in a trend, as shown to the user: its ``title`` (and the
    ``short_title`` the chart marks it with) and ``date`` in the shown ``locale``, its
    ``collection`` (``articles`` or ``aiTimeline``), timeline ``impact_level``, search
    ``score`` in [0, 1] and page ``url``."""

    story: str
    locale: str
    title: str
    short_title: str
    date: dt.date
    collection: str
    impact_level: str | None
    score: float
    url: str

    @property
    def milestone(self) -> tuple[int, int]:
        """``(1, impact rank)`` for a timeline entry (critical 3 … low 0, unknown -1),
        ``(0, -1)`` for an article: how the site itself ranks the story."""
        if self.collection != "aiTimeline":
            return (0, -1)
        return (1, IMPACT_RANK.get((self.impact_level or "").casefold(), -1))


@dataclass(frozen=True)
class TopicTrend:
    """One topic's line of the chart: ``counts[i]`` stories in bucket ``i``; ``stories``
    counted (oldest first); ``marked`` the ones the chart labels."""

    topic: str
    counts: tuple[int, ...]
    stories: tuple[TrendStory, ...]
    marked: tuple[TrendStory, ...]

    @property
    def total(self) -> int:
        """Stories counted in the period."""
        return sum(self.counts)

    @property
    def peak(self) -> int:
        """Index of the busiest bucket (the latest of equals)."""
        best = max(self.counts)
        return max(i for i, count in enumerate(self.counts) if count == best)


@dataclass(frozen=True)
class Trend:
    """Everything the chart shows, already in the user's ``locale``.

    ``buckets`` are the bars' periods (oldest first) and ``labels`` their tick labels;
    ``weekly`` says whether they are weeks (else months). ``title``, ``y_label``,
    ``x_label`` and ``alt_text`` (at most ALT_TEXT_LIMIT characters) are the chart's text;
    ``period`` the period asked for.
    """

    locale: str
    period: Period
    weekly: bool
    buckets: tuple[Bucket, ...]
    labels: tuple[str, ...]
    topics: tuple[TopicTrend, ...]
    title: str
    y_label: str
    x_label: str
    alt_text: str

    def counts_by_bucket(self, topic: int = 0) -> dict[str, int]:
        """``{"YYYY-MM" or "YYYY-MM-DD" (week start): count}`` for topic number ``topic``:
        every bucket, zeros included."""
        return {
            bucket.start.isoformat() if self.weekly else bucket.start.strftime("%Y-%m"): count
            for bucket, count in zip(self.buckets, self.topics[topic].counts, strict=True)
        }


@dataclass(frozen=True)
class TrendReply:
    """The answer to ``/news trend``: technyan's ``header`` (one line), ``summary`` (one line
    per topic with its counts as a sparkline), ``notes`` (topics left out and why), and the
    ``trend`` to draw, or None when there is nothing to draw (``header`` then says why and
    ``suggestions`` offers "did you mean" names)."""

    locale: str
    header: str
    query: str
    trend: Trend | None = None
    summary: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = field(default=())

    @property
    def found(self) -> bool:
        """True when there is a chart to show."""
        return self.trend is not None

    @property
    def text(self) -> str:
        """The reply's text: header, summary lines, notes."""
        return "\n".join([self.header, *self.summary, *self.notes])


def _columns(value: str) -> int:
    """Display width of ``value``: two columns for wide and full-width characters."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in value)


def short_title(title: str) -> str:
    """``title`` as a chart label: the part before its first ``:``, ``：``, ``|`` or
    spaced dash, cut to SHORT_TITLE_COLUMNS at a word boundary (any boundary between CJK
    characters) with ``…``."""
    head = _TITLE_BREAK.split(title.strip(), maxsplit=1)[0].strip() or title.strip()
    if _columns(head) <= SHORT_TITLE_COLUMNS:
        return head
    cut = ""
    for character in head:
        if _columns(cut + character) > SHORT_TITLE_COLUMNS - 1:
            break
        cut += character
    space = cut.rfind(" ")
    if space >= len(cut) // 2 and not text.is_japanese(cut[space + 1 : space + 2]):
        cut = cut[:space]
    return cut.rstrip(" 、,・-") + "…"


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def make_buckets(start: dt.date, end: dt.date, *, weekly: bool) -> tuple[Bucket, ...]:
    """Months (or Monday-based weeks) from the one holding ``start`` to the one holding
    ``end``, oldest first."""
    buckets: list[Bucket] = []
    if weekly:
        cursor = start - dt.timedelta(days=start.weekday())
        while cursor <= end:
            buckets.append(Bucket(cursor, cursor + dt.timedelta(days=6)))
            cursor += dt.timedelta(days=7)
    else:
        cursor = _month_start(start)
        while cursor <= end:
            following = _next_month(cursor)
            buckets.append(Bucket(cursor, following - dt.timedelta(days=1)))
            cursor = following
    return tuple(buckets)


def bucket_label(bucket: Bucket, locale: str, *, weekly: bool, first: bool) -> str:
    """The tick label of ``bucket``: a month (``1月``/``Jan``) with its year below on
    January and on the first bar (unless a January follows within two bars, whose year
    would crowd it), or a week's Monday (``12/8``/``Dec 8``)."""
    start = bucket.start
    if weekly:
        if locale == "ja":
            return f"{start.month}/{start.day}"
        return f"{calendar.month_abbr[start.month]} {start.day}"
    month = f"{start.month}月" if locale == "ja" else calendar.month_abbr[start.month]
    if (first and start.month <= 10) or start.month == 1:
        return f"{month}\n{start.year}" if locale != "ja" else f"{month}\n{start.year}年"
    return month


def period_label(bucket: Bucket, locale: str, *, weekly: bool) -> str:
    """A bucket in running text: ``2025年1月``/``Jan 2025`` or ``2025年12月8日の週``/
    ``week of Dec 8, 2025``."""
    start = bucket.start
    if weekly:
        if locale == "ja":
            return f"{start.year}年{start.month}月{start.day}日の週"
        return f"week of {calendar.month_abbr[start.month]} {start.day}, {start.year}"
    if locale == "ja":
        return f"{start.year}年{start.month}月"
    return f"{calendar.month_abbr[start.month]} {start.year}"


def period_start(period: Period, newest: dt.date | None) -> dt.date | None:
    """The first day a ``period`` ending at ``newest`` counts: the start of its first
    week (Monday) or month, ``period.bar_count`` bars back including the newest's; None
    for everything."""
    bars = period.bar_count
    if bars is None or newest is None:
        return None
    if period.weekly:
        return newest - dt.timedelta(days=newest.weekday() + 7 * (bars - 1))
    month = newest.year * 12 + newest.month - 1 - (bars - 1)
    return dt.date(month // 12, month % 12 + 1, 1)


def sparkline(counts: Sequence[int]) -> str:
    """``counts`` as one line of block characters (``▁`` for none, ``█`` for the most)."""
    return str(sparklines(list(counts), minimum=0)[0])


class TrendService:
    """``/news trend`` over the core's ``NewsService`` (its search engine, card URLs and
    persona). Thread-safe as the service is; the work is a few searches (tens of
    milliseconds on the site's corpus), meant to run off the event loop."""

    def __init__(self, news: NewsService) -> None:
        self.news = news
        self.persona = news.persona

    def topic_stories(self, topic: str, locale: str) -> tuple[list[TrendStory], list[str]]:
        """The stories about ``topic`` (the confident results of ``about``, one per story,
        all of them) as shown in ``locale``, and "did you mean" names when there are none."""
        outcome = self.news.engine.about(
            topic[:MAX_QUERY_CHARACTERS], limit=TREND_CANDIDATES, candidates=TREND_CANDIDATES
        )
        stories = [self._story(hit, locale) for hit in outcome.hits]
        return sorted(stories, key=lambda s: (s.date, s.story)), list(outcome.suggestions)

    def _story(self, hit: StoryHit, locale: str) -> TrendStory:
        card = self.news.card(hit, locale)
        return TrendStory(
            story=hit.story,
            locale=card.locale,
            title=card.title,
            short_title=short_title(card.title),
            date=card.date,
            collection=card.collection,
            impact_level=card.impact_level,
            score=hit.score,
            url=card.url,
        )

    def newest_date(self) -> dt.date | None:
        """The date of the newest story in the index (where periods end), or None when the
        index is empty."""
        hits = self.news.engine.latest(1)
        if not hits:
            return None
        return max(document.date for document in hits[0].documents.values())

    def trend(
        self, query: str, period: str | Period | None = None, locale: str | None = None
    ) -> TrendReply:
        """The trend of the topics in ``query`` (see ``split_topics``; the first
        MAX_TOPICS) over ``period`` (see ``parse_trend_period``; default everything), in
        ``locale``. Never raises on user text: an empty query, an unknown period, or topics
        without stories are answered in technyan's words with no ``trend``."""
        locale = reply_locale(locale, self.news.settings.default_locale)
        say = self.persona.say
        query = (query or "")[:MAX_QUERY_CHARACTERS]
        shown = " ".join(query.split())
        topics = split_topics(query)
        if not topics:
            return TrendReply(locale, say("empty_query", locale), shown)
        try:
            wanted = period if isinstance(period, Period) else parse_trend_period(period)
        except PeriodError as error:
            header = say("trend_bad_period", locale, seed=shown, period=error.value)
            return TrendReply(locale, header, shown)
        notes: list[str] = []
        if len(topics) > MAX_TOPICS:
            dropped = self._join(topics[MAX_TOPICS:], locale)
            notes.append(
                say("trend_too_many", locale, seed=shown, count=MAX_TOPICS, topics=dropped)
            )
            topics = topics[:MAX_TOPICS]
        newest = self.newest_date()
        since = period_start(wanted, newest) if newest is not None else None
        found: dict[str, list[TrendStory]] = {}
        suggestions: list[str] = []
        earlier = False
        for topic in topics:
            stories, names = self.topic_stories(topic, locale)
            if since is not None and newest is not None:
                earlier = earlier or any(s.date < since for s in stories)
                stories = [s for s in stories if since <= s.date <= newest]
            if stories:
                found[topic] = stories
            else:
                suggestions.extend(n for n in names if n not in suggestions)
        if not found or newest is None:
            return self._not_found(topics, wanted, suggestions, locale, shown, earlier=earlier)
        missing = [t for t in topics if t not in found]
        if missing:
            notes.append(
                say("trend_missing", locale, seed=shown, topics=self._join(missing, locale))
            )
        trend = self._build(found, wanted, newest, locale)
        summary = tuple(self._summary(trend, topic, locale) for topic in trend.topics)
        header = self._comment(trend, locale, shown)
        return TrendReply(locale, header, shown, trend, summary, tuple(notes))

    # -- building ---------------------------------------------------------------------------

    def _build(
        self, found: dict[str, list[TrendStory]], period: Period, newest: dt.date, locale: str
    ) -> Trend:
        since = period_start(period, newest)
        if since is not None:
            start, weekly = since, period.weekly
        else:
            start = min(s.date for stories in found.values() for s in stories)
            weekly = (newest - start).days < WEEKLY_BELOW_MONTHS * 30
        buckets = make_buckets(start, newest, weekly=weekly)
        labels = tuple(
            bucket_label(b, locale, weekly=weekly, first=i == 0) for i, b in enumerate(buckets)
        )
        marks = MARKS_BY_TOPICS[len(found)]
        topics: list[TopicTrend] = []
        for topic, stories in found.items():
            counts = [0] * len(buckets)
            for story in stories:
                counts[self._bucket_of(buckets, story.date)] += 1
            marked = self._marked(stories, buckets, counts, marks)
            topics.append(TopicTrend(topic, tuple(counts), tuple(stories), marked))
        say = self.persona.say
        names = self._join(list(found), locale, compare=True)
        seed = names + period.key
        unit_key = "trend_axis_week" if weekly else "trend_axis_month"
        title_key = "trend_chart_title_weekly" if weekly else "trend_chart_title_monthly"
        draft = Trend(
            locale=locale,
            period=period,
            weekly=weekly,
            buckets=buckets,
            labels=labels,
            topics=tuple(topics),
            title=say(title_key, locale, seed=seed, topics=names),
            y_label=say("trend_axis_stories", locale, seed=seed),
            x_label=say(unit_key, locale, seed=seed),
            alt_text="",
        )
        return dataclasses.replace(draft, alt_text=self._alt_text(draft))

    @staticmethod
    def _bucket_of(buckets: Sequence[Bucket], day: dt.date) -> int:
        for index, bucket in enumerate(buckets):
            if bucket.contains(day):
                return index
        raise ValueError(f"{day} is outside the chart")  # filtered before; never for users

    def _marked(
        self,
        stories: Sequence[TrendStory],
        buckets: Sequence[Bucket],
        counts: Sequence[int],
        marks: int,
    ) -> tuple[TrendStory, ...]:
        """The topic's most notable stories, at most ``marks`` and one per bar, oldest
        first. Only stories the search ranks close to the topic's best (at least
        MARK_RELEVANCE of its score) qualify, so a story that mentions the topic in passing
        is counted but not marked. Among them timeline milestones come first by impact
        level, then articles; equals go to the busier bar, then the more relevant, then the
        newer story."""
        best = max(s.score for s in stories)
        relevant = [s for s in stories if s.score >= MARK_RELEVANCE * best]

        def rank(story: TrendStory) -> tuple[int, int, int, float, dt.date]:
            timeline, impact = story.milestone
            bar = counts[self._bucket_of(buckets, story.date)]
            return (timeline, impact, bar, story.score, story.date)

        chosen: list[TrendStory] = []
        taken: set[int] = set()
        for story in sorted(relevant, key=rank, reverse=True):
            index = self._bucket_of(buckets, story.date)
            if index not in taken:
                taken.add(index)
                chosen.append(story)
            if len(chosen) == marks:
                break
        return tuple(sorted(chosen, key=lambda s: s.date))

    # -- words ------------------------------------------------------------------------------

    @staticmethod
    def _join(names: Sequence[str], locale: str, *, compare: bool = False) -> str:
        """Topic names in running text (``「A」、「B」`` / ``A, B``) or, for a comparison
        title, ``「A」と「B」`` / ``A vs B``."""
        if locale == "ja":
            return ("と" if compare else "、").join(f"「{n}」" for n in names)
        return (" vs " if compare else ", ").join(names)

    def _span(self, trend: Trend) -> tuple[str, str]:
        first, last = trend.buckets[0], trend.buckets[-1]
        return (
            period_label(first, trend.locale, weekly=trend.weekly),
            period_label(last, trend.locale, weekly=trend.weekly),
        )

    def _summary(self, trend: Trend, topic: TopicTrend, locale: str) -> str:
        start, end = self._span(trend)
        peak = trend.buckets[topic.peak]
        return self.persona.say(
            "trend_summary",
            locale,
            seed=topic.topic,
            topic=topic.topic,
            sparkline=sparkline(topic.counts),
            total=topic.total,
            start=start,
            end=end,
            peak=period_label(peak, locale, weekly=trend.weekly),
            peak_count=topic.counts[topic.peak],
            count=topic.total,  # selects the singular line for one story
        )

    def _comment(self, trend: Trend, locale: str, seed: str) -> str:
        """technyan's one line on the shape: the leader when topics are compared; for one
        topic, a single story, a peak in the latest bar (rising), a peak followed by two
        empty bars (quiet since), or the peak."""
        say = self.persona.say
        topics = trend.topics
        if len(topics) > 1:
            leader = max(topics, key=lambda t: t.total)
            tied = [t for t in topics if t.total == leader.total]
            if len(tied) > 1:
                return say(
                    "trend_comment_tie", locale, seed=seed,
                    topics=self._join([t.topic for t in tied], locale), total=leader.total,
                    count=leader.total,
                )  # fmt: skip
            return say(
                "trend_comment_compare", locale, seed=seed, topic=leader.topic, total=leader.total
            )
        topic = topics[0]
        peak = period_label(trend.buckets[topic.peak], locale, weekly=trend.weekly)
        values = {"topic": topic.topic, "peak": peak, "count": topic.counts[topic.peak]}
        if topic.total == 1:
            key = "trend_comment_single"
        elif topic.peak == len(topic.counts) - 1:
            key = "trend_comment_rising"
        elif len(topic.counts) >= 3 and topic.counts[-1] == topic.counts[-2] == 0:
            key = "trend_comment_quiet"
        else:
            key = "trend_comment_peak"
        return say(key, locale, seed=seed, **values)

    def _alt_text(self, trend: Trend) -> str:
        """The chart in words for screen readers: what is counted, per what, over which
        span, each topic's total, the count of every non-empty bar and the marked stories,
        cut to ALT_TEXT_LIMIT."""
        locale = trend.locale
        say = self.persona.say
        start, end = self._span(trend)
        unit_key = "trend_alt_weekly" if trend.weekly else "trend_alt_monthly"
        parts = [say(unit_key, locale, seed=trend.title, start=start, end=end)]
        separator = "、" if locale == "ja" else ", "
        for topic in trend.topics:
            bars = [
                say(
                    "trend_alt_bar",
                    locale,
                    period=period_label(bucket, locale, weekly=trend.weekly),
                    count=count,
                )
                for bucket, count in zip(trend.buckets, topic.counts, strict=True)
                if count
            ]
            parts.append(
                say(
                    "trend_alt_topic",
                    locale,
                    seed=topic.topic,
                    topic=topic.topic,
                    total=topic.total,
                    bars=separator.join(bars),
                )
            )
            if topic.marked:
                marked = separator.join(
                    f"{story.short_title} ({story.date.isoformat()})" for story in topic.marked
                )
                parts.append(say("trend_alt_marked", locale, seed=topic.topic, marked=marked))
        whole = ("" if locale == "ja" else " ").join(parts)
        if len(whole) <= ALT_TEXT_LIMIT:
            return whole
        return whole[: ALT_TEXT_LIMIT - 1].rstrip() + "…"

    def _not_found(
        self,
        topics: Sequence[str],
        period: Period,
        suggestions: Sequence[str],
        locale: str,
        shown: str,
        *,
        earlier: bool,
    ) -> TrendReply:
        """Nothing to draw: no topic has a story (``trend_not_found``, with "did you mean"
        names), or none in the period though some before it (``trend_none_in_period``)."""
        say = self.persona.say
        names = self._join(topics, locale)
        key = "trend_none_in_period" if earlier else "trend_not_found"
        header = say(key, locale, seed=shown, topics=names, period=period.key)
        if suggestions:
            joined = self._join(suggestions[:3], locale)
            header += "\n" + say("did_you_mean", locale, seed=shown, suggestions=joined)
        return TrendReply(locale, header, shown, suggestions=tuple(suggestions[:3]))
