"""Periods in what people type, resolved against the day they ask (bot/periods.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.periods import parse_period
from bot.text import normalize

# The evaluation sets are judged as asked in February 2026.
AS_OF = dt.date(2026, 2, 15)


def period(query: str, as_of: dt.date = AS_OF) -> tuple[str, str, str] | None:
    found, _rest = parse_period(normalize(query), as_of)
    if found is None:
        return None
    return found.start.isoformat(), found.end.isoformat(), found.granularity


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # days and months, with and without a year
        ("2025年12月16日に発表", ("2025-12-16", "2025-12-16", "day")),
        ("december 11 2025", ("2025-12-11", "2025-12-11", "day")),
        ("4 march 2023", ("2023-03-04", "2023-03-04", "day")),
        ("gpt-4 march 2023", ("2023-03-01", "2023-03-31", "month")),  # a version, not a day
        ("12月5日のニュース", ("2025-12-05", "2025-12-05", "day")),
        ("2026年1月にAnthropicが", ("2026-01-01", "2026-01-31", "month")),
        # a year cut to two digits after an apostrophe
        ("what did openai ship in h1 '24?", ("2024-01-01", "2024-06-30", "half")),
        ("launches in spring ’25.", ("2025-03-01", "2025-05-31", "season")),
        # a year joined to its month by の, written or relative
        ("2025年の1月のOpenAI", ("2025-01-01", "2025-01-31", "month")),
        ("来年の1月", ("2027-01-01", "2027-01-31", "month")),
        ("去年の12月11日", ("2025-12-11", "2025-12-11", "day")),
        ("去年の12月の第2週", ("2025-12-08", "2025-12-14", "week")),
        ("model releases last december", ("2025-12-01", "2025-12-31", "month")),
        ("why did it tank in late nov", ("2025-11-01", "2025-11-30", "month")),
        ("先月出てたMetaの新しいモデル", ("2026-01-01", "2026-01-31", "month")),
        ("last month", ("2026-01-01", "2026-01-31", "month")),
        # weeks start on Monday
        ("先週のニュース", ("2026-02-02", "2026-02-08", "week")),
        ("this week", ("2026-02-09", "2026-02-15", "week")),
        # quarters
        ("AI news from Q4 2023", ("2023-10-01", "2023-12-31", "quarter")),
        ("2025 q1", ("2025-01-01", "2025-03-31", "quarter")),
        ("fourth quarter of 2024", ("2024-10-01", "2024-12-31", "quarter")),
        ("2025年第1四半期", ("2025-01-01", "2025-03-31", "quarter")),
        ("2023年10-12月期", ("2023-10-01", "2023-12-31", "quarter")),
        ("2025年Q1", ("2025-01-01", "2025-03-31", "quarter")),
        ("2025年 Q1のニュース", ("2025-01-01", "2025-03-31", "quarter")),
        ("2025年Q4のGemini", ("2025-10-01", "2025-12-31", "quarter")),
        ("去年出た2025年のq3モデル", ("2025-07-01", "2025-09-30", "quarter")),
        ("q4 releases", ("2025-10-01", "2025-12-31", "quarter")),
        # halves
        ("H2 2025", ("2025-07-01", "2025-12-31", "half")),
        ("second half of 2025", ("2025-07-01", "2025-12-31", "half")),
        ("2025年下半期に出たClaude", ("2025-07-01", "2025-12-31", "half")),
        ("2025年H2のOpenAI", ("2025-07-01", "2025-12-31", "half")),
        ("去年の前半", ("2025-01-01", "2025-06-30", "half")),
        # seasons (meteorological, northern hemisphere)
        ("what happened back in spring 2024?", ("2024-03-01", "2024-05-31", "season")),
        ("autumn 2025", ("2025-09-01", "2025-11-30", "season")),
        ("last summer", ("2025-06-01", "2025-08-31", "season")),
        ("去年の冬", ("2025-12-01", "2026-02-28", "season")),
        # Japanese eras, relative years, parts of a year, fiscal years
        ("令和6年の夏に出たAIモデル", ("2024-06-01", "2024-08-31", "season")),
        ("令和7年", ("2025-01-01", "2025-12-31", "year")),
        ("平成31年4月", ("2019-04-01", "2019-04-30", "month")),
        ("令和元年", ("2019-01-01", "2019-12-31", "year")),
        ("this year", ("2026-01-01", "2026-12-31", "year")),
        ("去年", ("2025-01-01", "2025-12-31", "year")),
        ("2025年末", ("2025-12-01", "2025-12-31", "month")),
        ("年末のニュース", ("2025-12-01", "2025-12-31", "month")),
        ("early 2026", ("2026-01-01", "2026-04-30", "month")),
        ("2025年度", ("2025-04-01", "2026-03-31", "year")),
        # relative spans
        ("past 3 months", ("2025-11-16", "2026-02-15", "month")),
        ("3 days ago", ("2026-02-12", "2026-02-12", "day")),
    ],
)
def test_periods_resolve_against_the_day_asked(query: str, expected: tuple[str, str, str]) -> None:
    assert period(query) == expected


def test_relative_periods_follow_the_day_asked() -> None:
    assert period("last december", dt.date(2026, 11, 29))[:2] == ("2025-12-01", "2025-12-31")
    assert period("last december", dt.date(2027, 1, 10))[:2] == ("2026-12-01", "2026-12-31")
    assert period("先週", dt.date(2026, 11, 29))[:2] == ("2026-11-16", "2026-11-22")


@pytest.mark.parametrize(
    "query",
    [
        "gpt-4o",
        "sora 2",
        "claude 3.5 sonnet",
        "Nano Banana Proって1枚いくら",
        "3ヶ月間使える",
        "1月5〜6日の分析で",
        # a deadline is a fact the user repeats, not the period asked about
        "a free plan that runs until 2027",
        "2027年まで無料",
        "2000円のプラン",  # a counter after the number: an amount
        "it took '24 hours' to train",  # a quoted number
        "scored '24.5 points'",
    ],
)
def test_numbers_that_are_not_periods_stay_words(query: str) -> None:
    assert period(query) is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # US Thanksgiving: the fourth Thursday of November (2025-11-27); its week Mon–Sun
        ("the week of thanksgiving last year", ("2025-11-24", "2025-11-30", "week")),
        ("thanksgiving 2024", ("2024-11-25", "2024-12-04", "week")),
        ("what shipped the week before christmas 2023", ("2023-12-17", "2023-12-23", "week")),
        ("right after xmas", ("2025-12-26", "2026-01-04", "week")),
        ("over the christmas break", ("2025-12-24", "2025-12-25", "week")),
        # Golden Week (29 April – 6 May): 明け is the ten days after it
        ("2024年のGW明けに出たモデル", ("2024-05-07", "2024-05-16", "week")),
        ("ゴールデンウィーク中の発表", ("2025-04-29", "2025-05-06", "week")),
        ("去年のお盆休み", ("2025-08-13", "2025-08-16", "week")),
        ("一昨年の年末にあったこと", ("2024-12-01", "2024-12-31", "month")),
        # Japanese holidays: 成人の日 is the second Monday of January (2026-01-12)
        ("成人の日あたりの発表", ("2026-01-09", "2026-01-15", "week")),
        ("去年のこどもの日", ("2025-05-02", "2025-05-08", "week")),
        ("right around new year's", ("2025-12-29", "2026-01-06", "week")),
        # Valentine's Day (14 February), and the day before or after a holiday
        ("一昨年のバレンタインの翌日に出た動画モデル", ("2024-02-15", "2024-02-15", "day")),
        ("what dropped the day before valentine's", ("2026-02-13", "2026-02-13", "day")),
        ("the day after christmas 2024", ("2024-12-26", "2024-12-26", "day")),
        ("ホワイトデー前日の発表", ("2025-03-13", "2025-03-13", "day")),
        ("松の内明けのニュース", ("2026-01-08", "2026-01-17", "week")),
        # a week of a month
        ("the first week of feb", ("2026-02-01", "2026-02-07", "week")),
        ("the last week of january 2025", ("2025-01-25", "2025-01-31", "week")),
        ("2025年3月の第2週", ("2025-03-08", "2025-03-14", "week")),
        ("3月頭のニュース", ("2025-03-01", "2025-03-07", "week")),
    ],
)
def test_holidays_date_what_people_remember_by_them(
    query: str, expected: tuple[str, str, str]
) -> None:
    assert period(query) == expected


def test_a_year_before_a_japanese_particle_is_a_year() -> None:
    assert period("WWDC 2024の発表") == ("2024-01-01", "2024-12-31", "year")


@pytest.mark.parametrize(
    "query",
    [
        "merry christmas! anything new on gemini?",
        "happy thanksgiving all",
        "happy valentines everyone",
        "今年の言葉は何だった？",  # an award's name
        "去年の漢字",
        "メリークリスマス！",
        "gw",
    ],
)
def test_greetings_award_names_and_a_bare_abbreviation_are_no_period(query: str) -> None:
    assert period(query) is None


def test_since_after_a_period_goes_with_it() -> None:
    found, rest = parse_period(normalize("今月に入ってからOpenAIが出したもの"), AS_OF)
    assert found is not None and found.start == dt.date(2026, 2, 1)
    assert rest == "openaiが出したもの"


def test_the_period_is_taken_out_of_the_words() -> None:
    _found, rest = parse_period(normalize("model releases last december"), AS_OF)
    assert rest == "model releases"
    # "今年の1月" is one period: no year is left behind as a word to search.
    _found, rest = parse_period(normalize("今年の1月のOpenAIの動き"), AS_OF)
    assert "年" not in rest and "2026" not in rest
