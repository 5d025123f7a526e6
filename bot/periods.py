"""Periods in what people type: dates, months, quarters, halves, seasons, eras and
relative phrases, resolved to a calendar range against the day the question is asked.

``parse_period(normalized_text, as_of)`` finds the first period expression in text that
``bot.text.normalize`` has folded (NFKC, lowercase) and returns it as a ``DateRange`` with
the text that remains. Understood, in English and Japanese:

* days: ``2025-12-11``, ``2025/12/11``, ``2025年12月11日``, ``december 11 2025``,
  ``11 dec 2025``, and without a year ``3月14日`` / ``march 14`` (the latest one on or
  before ``as_of``); ``today``/``今日``, ``yesterday``/``昨日``, ``N days ago``/``N日前``;
* weeks: ``this week``/``今週``, ``last week``/``先週`` (weeks start on Monday, ISO 8601);
* months: ``2025年12月`` (or ``2025年の12月``, ``去年の12月``), ``december 2025``,
  ``2025-12``, a month alone (``last december``, ``this march``, ``12月``: the latest such
  month on or before ``as_of``, or before the current month for ``last``), ``this
  month``/``今月``, ``last month``/``先月``;
* quarters: ``q3 2024``, ``2024 q3``, ``3q 2024``, ``third quarter of 2024``,
  ``2024年第3四半期``, ``2024年Q3``, ``2024年7-9月期``, and ``last quarter``;
* halves: ``h2 2025``, ``second half of 2025``, ``2025年下半期`` (上半期, 下半期, 上期, 下期,
  前半, 後半);
* seasons (northern hemisphere, meteorological: spring is March–May, summer June–August,
  autumn September–November, winter December to February): ``spring 2024``, ``2024年の夏``,
  ``this summer``, ``去年の冬``;
* parts of a year: ``early 2026`` (January–April), ``mid 2025`` (May–August), ``late
  2025`` / ``end of 2025`` (September–December), ``2025年末`` / ``年末`` (December),
  ``2026年初め`` / ``年始`` (January–February), fiscal ``2025年度`` (April 2025–March
  2026, the Japanese fiscal year);
* years: ``2025``, ``2025年``, ``this year``/``今年``, ``last year``/``去年``/``昨年``,
  ``一昨年``, and Japanese era years ``令和7年`` (= 2025), ``平成31年``, ``昭和64年``,
  ``令和元年`` (era first years from the Cabinet Office's era proclamations: 昭和 1926,
  平成 1989, 令和 2019), and a year cut to two digits after an apostrophe in any of the
  forms above (``h1 '24``, ``spring ’25``; not a quoted ``'24 hours'``);
* ``past/last N days|weeks|months``, ``ここN日``, ``直近Nヶ月``;
* holidays: Christmas, US Thanksgiving (the fourth Thursday of November) and Black
  Friday, Golden Week (29 April – 6 May), お盆, 正月 and 三が日 (1–3 January), 松の内 (1–7
  January), Halloween, Valentine's Day and White Day (14 February, 14 March), with a year
  or the latest one begun: the holiday and three days either side, ``the week of``/``週``
  the week it falls in, ``the week before``/``前`` the seven days before,
  ``after``/``明け`` the ten days after, ``break``/``休み``/``中`` the holiday itself,
  ``the day before``/``前日`` and ``the day after``/``翌日`` that day (``the week before
  christmas 2024``, ``2024年のGW明け``, ``バレンタインの翌日``); Japanese national holidays
  (祝日法: 成人の日 the second Monday of January, 文化の日 3 November…). A greeting
  (``merry christmas``) dates nothing;
* a week of a month: ``the first week of feb``, ``the last week of january 2025``,
  ``3月の第2週``, ``3月頭`` (days 1–7, 8–14…; the last seven days for ``last``).

``に入ってから`` and ``以降`` right after a period are taken out with it.

A period written as a deadline (``until 2027``, ``2027年まで``) is not taken: it is a fact
the message repeats, not the period it asks about.

Relative phrases are rewritten to absolute ones first (``去年の夏`` → ``2025年の夏``), so
every combination of a relative year with a season, half or month works the same way.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["DateRange", "parse_period"]


@dataclass(frozen=True)
class DateRange:
    """Inclusive calendar range asked for by a query, with its granularity (``day``,
    ``week``, ``month``, ``quarter``, ``half``, ``season`` or ``year``). Day ranges are
    widened by one day on each side when matched, since a story's date depends on the
    author's time zone."""

    start: dt.date
    end: dt.date
    granularity: str

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` falls in the range (one day of slack for day ranges)."""
        slack = dt.timedelta(days=1 if self.granularity == "day" else 0)
        return self.start - slack <= day <= self.end + slack


_MONTHS = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "1st": 1, "2nd": 2, "3rd": 3,
             "4th": 4, "一": 1, "二": 2, "三": 3, "四": 4}  # fmt: skip
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12,
            "春": 3, "夏": 6, "秋": 9, "冬": 12}  # fmt: skip
_ERAS = {"昭和": 1925, "平成": 1988, "令和": 2018}
_HALVES = {"上半期": 1, "上期": 1, "前半": 1, "前期": 1, "下半期": 2, "下期": 2, "後半": 2,
           "後期": 2}  # fmt: skip
_YEAR = r"((?:19|20)\d{2})"
_NOT_NUMBER_BEFORE = r"(?<![\w.\-])"
# A hiragana particle may follow a year ("CES 2027の日程"); a counter may not ("2000円").
_NOT_NUMBER_AFTER = r"(?:(?![\w.\-])|(?=[\u3041-\u309f]))"


def _month_range(year: int, month: int, months: int = 1, granularity: str = "month") -> DateRange:
    """``months`` calendar months starting with ``year``-``month`` (may cross a year)."""
    start = dt.date(year, month, 1)
    end_month0 = month - 1 + months - 1
    end_year, end_month = year + end_month0 // 12, end_month0 % 12 + 1
    end = dt.date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    return DateRange(start, end, granularity)


def _day_range(year: int, month: int, day: int) -> DateRange | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    return DateRange(date, date, "day")


def _latest_month(month: int, as_of: dt.date, *, before_current: bool = False) -> int:
    """The year of the latest ``month`` on or before ``as_of`` (strictly before the
    current month when ``before_current``)."""
    if month < as_of.month or (month == as_of.month and not before_current):
        return as_of.year
    return as_of.year - 1


def _latest_day(month: int, day: int, as_of: dt.date) -> DateRange | None:
    year = as_of.year if (month, day) <= (as_of.month, as_of.day) else as_of.year - 1
    return _day_range(year, month, day)


def _season(year: int, season: str) -> DateRange:
    return _month_range(year, _SEASONS[season], 3, "season")


def _latest_season(season: str, as_of: dt.date) -> DateRange:
    first = _SEASONS[season]
    year = as_of.year
    if first == 12:  # winter starts in December: this winter began last December
        year = as_of.year if as_of.month == 12 else as_of.year - 1
    elif as_of.month < first:
        year -= 1
    return _season(year, season)


def _quarter(year: int, quarter: int) -> DateRange:
    return _month_range(year, 3 * (quarter - 1) + 1, 3, "quarter")


def _half(year: int, half: int) -> DateRange:
    return _month_range(year, 1 if half == 1 else 7, 6, "half")


def _year(year: int) -> DateRange:
    return DateRange(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def _week(monday: dt.date) -> DateRange:
    return DateRange(monday, monday + dt.timedelta(days=6), "week")


def _last_days(days: int, as_of: dt.date) -> DateRange:
    return DateRange(
        as_of - dt.timedelta(days=max(0, days - 1)), as_of, "day" if days <= 1 else "week"
    )


def _ago(amount: int, unit: str, as_of: dt.date) -> DateRange | None:
    """A day, week or month ``amount`` units before ``as_of`` (``3 days ago``)."""
    if unit.startswith(("day", "日")):
        day = as_of - dt.timedelta(days=amount)
        return DateRange(day, day, "day")
    if unit.startswith(("week", "週")):
        monday = as_of - dt.timedelta(days=as_of.weekday() + 7 * amount)
        return _week(monday)
    index = as_of.year * 12 + as_of.month - 1 - amount
    return _month_range(index // 12, index % 12 + 1)


def _past(amount: int, unit: str, as_of: dt.date) -> DateRange:
    """The last ``amount`` days, weeks or months up to ``as_of`` (``past 3 months``)."""
    if unit.startswith(("day", "日")):
        return _last_days(amount, as_of)
    days = 7 * amount if unit.startswith(("week", "週")) else round(30.44 * amount)
    return DateRange(as_of - dt.timedelta(days=days), as_of, "week" if days <= 31 else "month")


_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
                 "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}  # fmt: skip
_COUNT = r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_UNIT = r"(days?|weeks?|months?)"
_JA_UNIT = r"(日|週間|週|ヶ月|か月|カ月|ヵ月|箇月|ケ月)"


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _absolute_years(text: str, as_of: dt.date) -> str:
    """Relative years, era years and years cut to two digits written as ``YYYY年`` /
    ``YYYY`` (``去年`` → ``2025年``, ``令和6年`` → ``2024年``, ``last year`` → ``2025``,
    ``h1 '24`` → ``h1 2024``)."""

    def era(match: re.Match[str]) -> str:
        number = 1 if match[2] == "元" else int(match[2])
        return f"{_ERAS[match[1]] + number}年"

    text = re.sub(r"(昭和|平成|令和)\s*(元|\d{1,2})\s*年", era, text)
    relative = {"一昨年": -2, "おととし": -2, "去年": -1, "昨年": -1, "今年": 0, "本年": 0,
                "来年": 1}  # fmt: skip
    for word, offset in relative.items():
        if word in text:
            # "今年の言葉" and "今年の漢字" are awards' names, not a period.
            text = re.sub(
                rf"{word}(?!の(?:言葉|単語|漢字|一字|新語))", f"{as_of.year + offset}年", text
            )
    for phrase, offset in (("the year before last", -2), ("last year", -1), ("this year", 0),
                           ("next year", 1)):  # fmt: skip
        text = re.sub(rf"\b(?:of\s+)?{phrase}\b", f"{as_of.year + offset}", text)
    # A year cut to two digits after an apostrophe ("h1 '24", "spring '25", "dec ’23"),
    # never a quoted number ("'24 hours'").
    return _SHORT_YEAR_RE.sub(lambda match: f"20{match[1]}", text)


_SHORT_YEAR_RE = re.compile(
    r"(?<![\w'’])['’](\d{2})(?![\w'’%]|[.,]\d|\s*(?:hours?|days?|weeks?|months?|years?|minutes?))"
)


Builder = Callable[[re.Match[str], dt.date], DateRange | None]


def _number(match: re.Match[str], group: int) -> int:
    """Group ``group`` of ``match`` as a number (digits, or 一二三四 and ordinals)."""
    value = match[group]
    return _ORDINALS[value] if value in _ORDINALS else int(value)


def _month_of(match: re.Match[str], group: int) -> int:
    return _MONTHS[match[group]]


def _checked_month(year: int, month: int) -> DateRange | None:
    return _month_range(year, month) if 1 <= month <= 12 else None


def _quarter_by_months(match: re.Match[str]) -> DateRange | None:
    """``2023年10-12月期``: the quarter whose first and last months are given."""
    first, last = _number(match, 2), _number(match, 3)
    return _quarter(_number(match, 1), (first + 2) // 3) if last == first + 2 else None


def _latest_quarter(quarter: int, as_of: dt.date) -> DateRange:
    """The latest quarter ``quarter`` that has begun by ``as_of`` (a bare ``q4``)."""
    current = (as_of.month - 1) // 3 + 1
    return _quarter(as_of.year if current >= quarter else as_of.year - 1, quarter)


def _latest_half(half: int, as_of: dt.date) -> DateRange:
    """The latest half ``half`` that has begun by ``as_of`` (a bare ``h2``, ``下半期``)."""
    begun = half == 1 or as_of.month >= 7
    return _half(as_of.year if begun else as_of.year - 1, half)


def _patterns() -> list[tuple[re.Pattern[str], Builder]]:
    """Period patterns, most specific first. Each builder gets the match and ``as_of``."""
    quarter_ja = r"第?\s*([1-4一二三四])\s*四半期"
    seasons = "(spring|summer|autumn|fall|winter)"
    table: list[tuple[str, Builder]] = [
        # -- days
        (
            r"(\d{4})年\s*の?\s*(\d{1,2})月\s*(\d{1,2})日",
            lambda m, a: _day_range(_number(m, 1), _number(m, 2), _number(m, 3)),
        ),
        (
            r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})",
            lambda m, a: _day_range(_number(m, 1), _number(m, 2), _number(m, 3)),
        ),
        (
            rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b",
            lambda m, a: _day_range(_number(m, 3), _month_of(m, 1), _number(m, 2)),
        ),
        (
            # Not a version's number: "GPT-4 March 2023" is GPT-4 in March, not March 4.
            rf"{_NOT_NUMBER_BEFORE}(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(\d{{4}})\b",
            lambda m, a: _day_range(_number(m, 3), _month_of(m, 2), _number(m, 1)),
        ),
        (
            r"(?<!\d)(\d{1,2})月\s*(\d{1,2})日",
            lambda m, a: _latest_day(_number(m, 1), _number(m, 2), a),
        ),
        (
            rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*(?:%|percent|billion|million))",
            lambda m, a: _latest_day(_month_of(m, 1), _number(m, 2), a),
        ),
        (r"\btoday\b|今日|本日", lambda m, a: DateRange(a, a, "day")),
        (r"\byesterday\b|昨日", lambda m, a: _ago(1, "day", a)),
        (r"一昨日|おととい", lambda m, a: _ago(2, "day", a)),
        (rf"\b{_COUNT}\s+{_UNIT}\s+ago\b", lambda m, a: _ago(_count(m[1]), m[2], a)),
        (rf"(\d{{1,3}})\s*{_JA_UNIT}前", lambda m, a: _ago(_number(m, 1), m[2], a)),
        (
            rf"\b(?:past|last|previous)\s+{_COUNT}\s+{_UNIT}\b",
            lambda m, a: _past(_count(m[1]), m[2], a),
        ),
        (
            rf"(?:ここ|直近|過去)\s*(\d{{1,3}})\s*{_JA_UNIT}",
            lambda m, a: _past(_number(m, 1), m[2], a),
        ),
        # -- a week of a month ("the first week of feb", "2月の第1週", "3月頭")
        (
            rf"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|fourth|4th|last)\s+week\s+of\s+"
            rf"{_MONTH}(?:,?\s+(\d{{4}}))?",
            lambda m, a: _week_of_month(m[3], _month_of(m, 2), m[1], a),
        ),
        (
            r"(?:(\d{4})\s*年\s*の?\s*)?(\d{1,2})\s*月\s*の?\s*(?:第\s*([1-4一二三四])\s*週|(頭|初め|はじめ))",
            lambda m, a: _week_of_month(m[1], _number(m, 2), m[3] or "1", a),
        ),
        # -- holidays ("the week before christmas 2024", "2024年のGW明け")
        (_HOLIDAY_PATTERN, _holiday),
        # -- weeks
        (r"\bthis week\b|今週", lambda m, a: _ago(0, "week", a)),
        (r"\b(?:last|past|previous) week\b|先週", lambda m, a: _ago(1, "week", a)),
        # -- quarters, halves, seasons, parts of a year (with a year)
        (
            rf"\bq([1-4])\s*(?:of\s+)?'?{_YEAR}\b",
            lambda m, a: _quarter(_number(m, 2), _number(m, 1)),
        ),
        (rf"\b{_YEAR}\s*-?\s*q([1-4])\b", lambda m, a: _quarter(_number(m, 1), _number(m, 2))),
        (rf"\b([1-4])q\s*{_YEAR}\b", lambda m, a: _quarter(_number(m, 2), _number(m, 1))),
        (
            rf"\b(first|second|third|fourth|1st|2nd|3rd|4th) quarter(?: of)?,? {_YEAR}\b",
            lambda m, a: _quarter(_number(m, 2), _number(m, 1)),
        ),
        (
            rf"{_YEAR}\s*年?\s*(?:度\s*)?の?\s*{quarter_ja}",
            lambda m, a: _quarter(_number(m, 1), _number(m, 2)),
        ),
        # 2025年Q1, 2025年 q4のGemini: a Japanese year with the Latin quarter (a word
        # boundary would miss it between kanji and digits).
        (
            rf"(?<!\d){_YEAR}\s*年\s*(?:度\s*)?の?\s*q([1-4])(?![0-9a-z])",
            lambda m, a: _quarter(_number(m, 1), _number(m, 2)),
        ),
        (
            rf"{_YEAR}\s*年?\s*(1|4|7|10)\s*[-~〜～]\s*(3|6|9|12)\s*月期?",
            lambda m, a: _quarter_by_months(m),
        ),
        (rf"\bh([12])\s*'?{_YEAR}\b", lambda m, a: _half(_number(m, 2), _number(m, 1))),
        (rf"\b{_YEAR}\s*-?\s*h([12])\b", lambda m, a: _half(_number(m, 1), _number(m, 2))),
        (
            rf"(?<!\d){_YEAR}\s*年\s*(?:度\s*)?の?\s*h([12])(?![0-9a-z])",
            lambda m, a: _half(_number(m, 1), _number(m, 2)),
        ),
        (
            rf"\b(first|second|1st|2nd) half(?: of)?,? {_YEAR}\b",
            lambda m, a: _half(_number(m, 2), _number(m, 1)),
        ),
        (
            rf"{_YEAR}\s*年?\s*の?\s*(上半期|下半期|上期|下期|前半|後半|前期|後期)",
            lambda m, a: _half(_number(m, 1), _HALVES[m[2]]),
        ),
        (rf"\b{seasons}(?: of)?,? {_YEAR}\b", lambda m, a: _season(_number(m, 2), m[1])),
        (rf"\b{_YEAR}'?s? {seasons}\b", lambda m, a: _season(_number(m, 1), m[2])),
        (rf"{_YEAR}\s*年?\s*の?\s*(春|夏|秋|冬)", lambda m, a: _season(_number(m, 1), m[2])),
        (
            rf"\b(?:early|beginning of|start of)\s+{_YEAR}\b",
            lambda m, a: _month_range(_number(m, 1), 1, 4),
        ),
        (rf"\b(?:mid|middle of)\s*-?\s*{_YEAR}\b", lambda m, a: _month_range(_number(m, 1), 5, 4)),
        (
            rf"\b(?:late|end of|the end of)\s+{_YEAR}\b",
            lambda m, a: _month_range(_number(m, 1), 9, 4),
        ),
        (
            rf"{_YEAR}\s*年\s*(?:の)?\s*(?:年末|末|暮れ|終わり|年の瀬)",
            lambda m, a: _month_range(_number(m, 1), 12),
        ),
        (
            rf"{_YEAR}\s*年\s*(?:の)?\s*(?:初め|はじめ|初頭|年始|年初|始め)",
            lambda m, a: _month_range(_number(m, 1), 1, 2),
        ),
        (rf"{_YEAR}\s*年度", lambda m, a: _month_range(_number(m, 1), 4, 12, "year")),
        (rf"\bfy\s*'?{_YEAR}\b", lambda m, a: _month_range(_number(m, 1), 4, 12, "year")),
        # -- months
        (
            rf"\b(?:early|mid|late|the end of|end of|beginning of)\s*-?\s*{_MONTH},?\s+(\d{{4}})\b",
            lambda m, a: _month_range(_number(m, 2), _month_of(m, 1)),
        ),
        (
            r"(\d{4})年\s*の?\s*(\d{1,2})月",
            lambda m, a: _checked_month(_number(m, 1), _number(m, 2)),
        ),
        (
            rf"\b{_MONTH},?\s+(?:of\s+)?(\d{{4}})\b",
            lambda m, a: _month_range(_number(m, 2), _month_of(m, 1)),
        ),
        (rf"\b(\d{{4}})\s+{_MONTH}\b", lambda m, a: _month_range(_number(m, 1), _month_of(m, 2))),
        (r"\b(\d{4})[-/](\d{1,2})\b", lambda m, a: _checked_month(_number(m, 1), _number(m, 2))),
        (r"\bthis month\b|今月", lambda m, a: _month_range(a.year, a.month)),
        (r"\b(?:last|past|previous) month\b|先月", lambda m, a: _ago(1, "month", a)),
        (r"先々月", lambda m, a: _ago(2, "month", a)),
        (r"\b(?:last|past|previous) quarter\b|前四半期", lambda m, a: _ago_quarter(a)),
        (
            rf"\b(?:in\s+)?(?:early|mid|late|the end of|end of|beginning of)\s*-?\s*{_MONTH}"
            r"(?!\s*\d)",
            lambda m, a: _month_range(_latest_month(_month_of(m, 1), a), _month_of(m, 1)),
        ),
        (
            rf"\blast\s+{_MONTH}(?!\s*\d)",
            lambda m, a: _month_range(
                _latest_month(_month_of(m, 1), a, before_current=True), _month_of(m, 1)
            ),
        ),
        (rf"\bthis\s+{_MONTH}(?!\s*\d)", lambda m, a: _month_range(a.year, _month_of(m, 1))),
        (
            rf"\b(?:in|since|during|from|back in)\s+{_MONTH}(?!\s*\d)",
            lambda m, a: _month_range(_latest_month(_month_of(m, 1), a), _month_of(m, 1)),
        ),
        (
            r"(?<![\d年])(\d{1,2})月(?!\d|期)",
            lambda m, a: _checked_month(_latest_month(_number(m, 1), a), _number(m, 1)),
        ),
        # -- seasons and parts of a year without a year
        (rf"\b(?:last|this past) {seasons}\b", lambda m, a: _previous_season(m[1], a)),
        (rf"\bthis {seasons}\b", lambda m, a: _latest_season(m[1], a)),
        (rf"\b(?:in|during|over) the {seasons}\b", lambda m, a: _latest_season(m[1], a)),
        (r"(?:この|今年の)(春|夏|秋|冬)", lambda m, a: _latest_season(m[1], a)),
        (r"年末|年の瀬", lambda m, a: _month_range(a.year if a.month == 12 else a.year - 1, 12)),
        (r"年始|年明け|年初", lambda m, a: _month_range(a.year, 1, 2)),
        (r"\bq([1-4])\b", lambda m, a: _latest_quarter(_number(m, 1), a)),
        (r"\bh([12])\b", lambda m, a: _latest_half(_number(m, 1), a)),
        (r"(上半期|下半期|上期|下期)", lambda m, a: _latest_half(_HALVES[m[1]], a)),
        # -- years
        (r"(\d{4})\s*年", lambda m, a: _year(_number(m, 1))),
        (rf"{_NOT_NUMBER_BEFORE}{_YEAR}{_NOT_NUMBER_AFTER}", lambda m, a: _year(_number(m, 1))),
    ]
    return [(re.compile(pattern), build) for pattern, build in table]


def _ago_quarter(as_of: dt.date) -> DateRange:
    index = as_of.year * 4 + (as_of.month - 1) // 3 - 1
    return _quarter(index // 4, index % 4 + 1)


def _previous_season(season: str, as_of: dt.date) -> DateRange:
    """The latest ``season`` that has ended before ``as_of`` ("last summer")."""
    latest = _latest_season(season, as_of)
    return _season(latest.start.year - 1, season) if latest.end >= as_of else latest


_DEADLINE_BEFORE_RE = re.compile(r"\b(?:until|till|til|by|through|thru|before|due|deadline)\s*$")
_DEADLINE_AFTER_RE = re.compile(r"^\s*(?:まで|迄)")


def _is_a_deadline(text: str, match: re.Match[str]) -> bool:
    """A period written as a deadline or an end (``runs until 2027``, ``2027年まで``) is a
    fact the user repeats, not the period they ask about."""
    return bool(
        _DEADLINE_BEFORE_RE.search(text[max(0, match.start() - 12) : match.start()])
        or _DEADLINE_AFTER_RE.match(text[match.end() : match.end() + 4])
    )


# Japanese national holidays (祝日法) on a fixed day, and on a Monday of a month (the "Happy
# Monday" rule): (month, day, days) and (month, week). Each is named as written.
_JAPANESE_FIXED_HOLIDAYS = {"建国記念の日": (2, 11, 1), "天皇誕生日": (2, 23, 1),
                            "憲法記念日": (5, 3, 1), "こどもの日": (5, 5, 1),
                            "山の日": (8, 11, 1), "文化の日": (11, 3, 1),
                            "勤労感謝の日": (11, 23, 1)}  # fmt: skip
_MONDAY_HOLIDAYS = {"成人の日": (1, 2), "海の日": (7, 3), "敬老の日": (9, 3),
                    "スポーツの日": (10, 2), "体育の日": (10, 2)}  # fmt: skip
# Holidays people date things by, each as (first month, first day, days) in a year, or a
# rule: US Thanksgiving is the fourth Thursday of November (5 U.S.C. § 6103), Black
# Friday the day after it. Golden Week is 29 April – 6 May, お盆 13–16 August.
_FIXED_HOLIDAYS = {"christmas": (12, 24, 2), "golden week": (4, 29, 8), "obon": (8, 13, 4),
                   "new year": (1, 1, 3), "halloween": (10, 31, 1), "valentine": (2, 14, 1),
                   "white day": (3, 14, 1), "松の内": (1, 1, 7),
                   **_JAPANESE_FIXED_HOLIDAYS}  # fmt: skip
_HOLIDAY_NAMES = {
    "christmas": "christmas", "xmas": "christmas", "x'mas": "christmas", "クリスマス": "christmas",
    "thanksgiving": "thanksgiving", "感謝祭": "thanksgiving", "black friday": "black friday",
    "ブラックフライデー": "black friday", "golden week": "golden week",
    "ゴールデンウィーク": "golden week", "ゴールデンウイーク": "golden week", "gw": "golden week",
    "お盆": "obon", "盆休み": "obon", "お正月": "new year", "正月": "new year",
    "new year's": "new year", "new years": "new year",
    "元旦": "new year", "元日": "new year",
    "halloween": "halloween", "ハロウィン": "halloween", "ハロウィーン": "halloween",
    "三が日": "new year", "三箇日": "new year", "正月三が日": "new year", "松の内": "松の内",
    "valentine's day": "valentine", "valentines day": "valentine", "valentine's": "valentine",
    "valentines": "valentine", "バレンタインデー": "valentine", "バレンタイン": "valentine",
    "white day": "white day", "ホワイトデー": "white day",
    **{name: name for name in (*_JAPANESE_FIXED_HOLIDAYS, *_MONDAY_HOLIDAYS)},
}  # fmt: skip
_HOLIDAY = "|".join(
    # "gw" only before Japanese text (GW明け, GWの): in English chat it is rarely the holiday.
    re.escape(name) if name != "gw" else r"(?<![a-z])gw(?=[\u3040-\u30ff\u4e00-\u9fff])"
    for name in sorted(_HOLIDAY_NAMES, key=len, reverse=True)
)
_HOLIDAY_PATTERN = (
    r"(?:(?:(?:the\s+)?(?P<day_relation>day\s+(?:before|after))|"
    r"(?:the\s+)?(?:week|weekend|days)\s+(?P<relation>of|before|after|following|"
    r"leading up to|around)|(?P<bare>after|following|around))\s+)?"
    r"(?:(?P<year_before>(?:19|20)\d{2})\s*(?:年\s*の?|'s)?\s*)?"
    # A greeting ("merry christmas", "happy thanksgiving") dates nothing.
    rf"(?:the\s+)?(?<!merry )(?<!happy )(?<!メリー)(?P<holiday>{_HOLIDAY})"
    r"(?:\s*の?(?P<suffix>前日|翌日|次の日|前の日|明け|直前|前|直後|後|休み|中|週|"
    r"week(?:end)?|break|holidays?)(?![a-z]))?(?:,?\s+(?:of\s+)?(?P<year_after>(?:19|20)\d{2})\b)?"
)
_HOLIDAY_RELATIONS = {"of": "week", "週": "week", "week": "week", "weekend": "week",
                      "before": "before", "leading up to": "before", "前": "before",
                      "直前": "before", "after": "after", "following": "after", "明け": "after",
                      "後": "after", "直後": "after", "休み": "during", "中": "during",
                      "break": "during", "holiday": "during", "holidays": "during",
                      "around": "around", "day before": "day before", "前日": "day before",
                      "前の日": "day before", "day after": "day after", "翌日": "day after",
                      "次の日": "day after"}  # fmt: skip


_WEEK_NUMBERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
                 "fourth": 4, "4th": 4, "一": 1, "二": 2, "三": 3, "四": 4}  # fmt: skip


def _week_of_month(year: str | None, month: int, week: str, as_of: dt.date) -> DateRange | None:
    """Days 1–7 of ``month`` for its first week, 8–14 for the second… and its last seven
    days for ``last``; in ``year``, else the latest such month begun by ``as_of``."""
    if not 1 <= month <= 12:
        return None
    resolved = int(year) if year else _latest_month(month, as_of)
    last_day = calendar.monthrange(resolved, month)[1]
    if week == "last":
        return DateRange(
            dt.date(resolved, month, last_day - 6), dt.date(resolved, month, last_day), "week"
        )
    number = int(week) if week.isdigit() else _WEEK_NUMBERS[week]
    first = dt.date(resolved, month, 7 * (number - 1) + 1)
    return DateRange(first, first + dt.timedelta(days=6), "week")


def _holiday_days(holiday: str, year: int) -> tuple[dt.date, dt.date]:
    """The first and last day of ``holiday`` (a value of ``_HOLIDAY_NAMES``) in ``year``."""
    if holiday in _MONDAY_HOLIDAYS:
        month, week = _MONDAY_HOLIDAYS[holiday]
        first_day = dt.date(year, month, 1)
        monday = first_day + dt.timedelta(days=(-first_day.weekday()) % 7 + 7 * (week - 1))
        return monday, monday
    if holiday in ("thanksgiving", "black friday"):
        first_of_november = dt.date(year, 11, 1)
        thursday = first_of_november + dt.timedelta(days=(3 - first_of_november.weekday()) % 7 + 21)
        if holiday == "black friday":
            friday = thursday + dt.timedelta(days=1)
            return friday, friday
        return thursday, thursday + dt.timedelta(days=3)
    month, day, days = _FIXED_HOLIDAYS[holiday]
    first = dt.date(year, month, day)
    return first, first + dt.timedelta(days=days - 1)


def _holiday(match: re.Match[str], as_of: dt.date) -> DateRange:
    """The period a holiday names: its own days for "over the holidays" (休み, break),
    the week before or after it (前, 明け: ten days), the week it falls in (週, "the week
    of"), the day before or after it (前日, 翌日, "the day after": a day), else the holiday
    and three days either side. Without a year, the latest one begun by ``as_of``."""
    holiday = _HOLIDAY_NAMES[match["holiday"]]
    year = match["year_before"] or match["year_after"]
    if year:
        first, last = _holiday_days(holiday, int(year))
    else:
        first, last = _holiday_days(holiday, as_of.year)
        if first > as_of:
            first, last = _holiday_days(holiday, as_of.year - 1)
    said = match["relation"] or match["bare"] or match["suffix"] or ""
    if match["day_relation"]:
        said = " ".join(match["day_relation"].split())
    relation = _HOLIDAY_RELATIONS.get(said, "around")
    day = dt.timedelta(days=1)
    if relation == "day before":
        return DateRange(first - day, first - day, "day")
    if relation == "day after":
        return DateRange(last + day, last + day, "day")
    if relation == "during":
        return DateRange(first, last, "week")
    if relation == "before":
        return DateRange(first - 7 * day, first - day, "week")
    if relation == "after":
        return DateRange(last + day, last + 10 * day, "week")
    if relation == "week":
        monday = first - first.weekday() * day
        return DateRange(monday, max(last, monday + 6 * day), "week")
    return DateRange(first - 3 * day, last + 3 * day, "week")


_PERIOD_TAIL_RE = re.compile(r"\s*(?:に)?(?:入って(?:から)?|以降)")
_COMPILED: list[tuple[re.Pattern[str], Builder]] | None = None


def parse_period(normalized: str, as_of: dt.date | None = None) -> tuple[DateRange | None, str]:
    """The first period expression in ``normalized`` (text folded by
    ``bot.text.normalize``) as a ``DateRange`` resolved against ``as_of`` (default: today,
    local date), with the text that remains once it is taken out. Returns ``(None,
    normalized)`` when there is none. Never raises."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = _patterns()
    today = as_of or dt.date.today()
    text = _absolute_years(normalized, today)
    for pattern, build in _COMPILED:
        for match in pattern.finditer(text):
            if _is_a_deadline(text, match):
                continue
            try:
                found = build(match, today)
            except (ValueError, KeyError, OverflowError):
                found = None
            if found is not None:
                # "今月に入ってから", "2月以降": the words after say "since", nothing more.
                tail = _PERIOD_TAIL_RE.match(text, match.end())
                rest = text[: match.start()] + " " + text[tail.end() if tail else match.end() :]
                return found, re.sub(r"\s+", " ", rest).strip()
    return None, normalized
