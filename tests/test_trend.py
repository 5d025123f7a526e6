"""/news trend in the core: which stories count, in which month or week, what is marked,
what technyan says; on the real site's corpus and on small corpora written here."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import load_settings
from bot.index import build_index
from bot.persona import Persona
from bot.service import NewsService
from bot.trend import (
    ALT_TEXT_LIMIT,
    MAX_TOPICS,
    TREND_CANDIDATES,
    Period,
    PeriodError,
    Trend,
    TrendService,
    parse_trend_period,
    split_topics,
)
from tests.conftest import REAL_CORPUS, ArticleWriter

PERSONA = Persona.load()
NEWEST_MONTH = "2026-02"  # the newest story of the snapshot is dated 2026-02-08


def said(text: str, key: str, locale: str) -> bool:
    """Whether ``text`` starts with one of the persona's ``key`` lines (up to its first
    placeholder)."""
    return any(text.startswith(v.split("{")[0]) for v in PERSONA.variants(key, locale))


@pytest.fixture(scope="module")
def trends(real_index: Path, real_corpus: Path) -> TrendService:
    settings = load_settings(None, environ={}).with_paths(corpus=real_corpus, index=real_index)
    return TrendService(NewsService(settings))


def frontmatter_date(story: str, locale: str) -> dt.date:
    """The date a story shows in ``locale`` (its only language when it lacks it), read
    straight from the corpus file."""
    folder = REAL_CORPUS / story
    path = folder / f"{locale}.md"
    if not path.is_file():
        path = next(folder.glob("*.md"))
    match = re.search(r"^date:\s*[\"']?(\d{4}-\d{2}-\d{2})", path.read_text("utf-8"), re.M)
    assert match, path
    return dt.date.fromisoformat(match.group(1))


def expected_months(trends: TrendService, topic: str, locale: str) -> Counter[str]:
    """Stories per month for ``topic``: every confident result of the search behind
    /news about, dated from its file in the shown language."""
    outcome = trends.news.engine.about(topic, limit=10_000, candidates=10_000)
    return Counter(frontmatter_date(h.story, locale).strftime("%Y-%m") for h in outcome.hits)


def months_between(first: str, last: str) -> list[str]:
    year, month = map(int, first.split("-"))
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def assert_counts(trend: Trend, number: int, expected: Counter[str]) -> None:
    counts = trend.counts_by_bucket(number)
    assert list(counts) == months_between(next(iter(counts)), NEWEST_MONTH)
    assert {month: n for month, n in counts.items() if n} == dict(expected)


# --------------------------------------------------------------------------- the real corpus


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_deepseek_stories_per_month_on_the_real_corpus(trends: TrendService, locale: str) -> None:
    reply = trends.trend("DeepSeek", locale=locale)
    assert reply.found and reply.trend is not None
    trend = reply.trend
    assert not trend.weekly and trend.locale == locale
    expected = expected_months(trends, "DeepSeek", locale)
    assert_counts(trend, 0, expected)
    # The chart starts with the month of the first story about DeepSeek.
    assert next(iter(trend.counts_by_bucket())) == min(expected)
    topic = trend.topics[0]
    # Both language versions of a story make one story.
    assert topic.total == len({s.story for s in topic.stories}) == sum(expected.values())
    counts = trend.counts_by_bucket()
    assert counts["2024-12"] >= 1 and counts["2025-01"] >= 1  # DeepSeek-V3, then R1
    milestones = {s.story for s in topic.marked}
    assert {"aiTimeline/202412-deepseek-v3", "aiTimeline/202501-deepseek-r1"} <= milestones


def test_claude_vs_gemini_each_counted_in_the_shown_languages_month(
    trends: TrendService,
) -> None:
    english = trends.trend("Claude, Gemini", locale="en").trend
    japanese = trends.trend("Claude, Gemini", locale="ja").trend
    assert english is not None and japanese is not None
    for trend, locale in ((english, "en"), (japanese, "ja")):
        assert [t.topic for t in trend.topics] == ["Claude", "Gemini"]
        assert_counts(trend, 0, expected_months(trends, "Claude", locale))
        assert_counts(trend, 1, expected_months(trends, "Gemini", locale))
    # This story's English frontmatter says 2024-12-17, its Japanese one 2025-12-17:
    # each chart counts it where its reader sees it.
    story = "articles/20251217/gemini-deep-research-visual-reports"
    dates = {
        trend.locale: next(s.date for s in trend.topics[1].stories if s.story == story)
        for trend in (english, japanese)
    }
    assert dates == {"en": dt.date(2024, 12, 17), "ja": dt.date(2025, 12, 17)}
    # Articles of a 2025 folder whose English date says December 2024 count there in English.
    moved = [
        s.story
        for s in english.topics[1].stories
        if (s.date.year, s.date.month) == (2024, 12) and s.story.startswith("articles/2025")
    ]
    assert story in moved
    english_count = english.counts_by_bucket(1)["2024-12"]
    assert english_count == japanese.counts_by_bucket(1)["2024-12"] + len(moved)


def test_a_trend_counts_every_confident_story_not_a_page_of_them(
    trends: TrendService,
) -> None:
    """OpenAI is in more documents than one page of search retrieves: the trend asks the
    same search for all of its confident results."""
    engine = trends.news.engine
    everything = engine.about("OpenAI", limit=10_000, candidates=TREND_CANDIDATES)
    page = engine.about("OpenAI", limit=10_000)
    trend = trends.trend("OpenAI", locale="en").trend
    assert trend is not None
    counted = {s.story for s in trend.topics[0].stories}
    assert counted == {hit.story for hit in everything.hits}
    assert len(counted) > len(page.hits)
    assert not counted & {hit.story for hit in everything.weak}


def test_a_topic_without_stories_gets_not_found_and_no_chart(trends: TrendService) -> None:
    for locale in ("ja", "en"):
        reply = trends.trend("Zyxqwv", locale=locale)
        assert not reply.found and reply.trend is None and reply.summary == ()
        assert said(reply.header, "trend_not_found", locale)


def test_a_misspelled_topic_counts_like_the_right_name(trends: TrendService) -> None:
    right = trends.trend("DeepSeek", locale="en").trend
    typo = trends.trend("Deepsek", locale="en").trend
    assert right is not None and typo is not None
    assert typo.counts_by_bucket() == right.counts_by_bucket()


def test_weak_matches_are_not_counted_and_close_names_are_offered(
    trends: TrendService,
) -> None:
    outcome = trends.news.engine.about("Sora Zzq", limit=10_000, candidates=TREND_CANDIDATES)
    assert outcome.weak and not outcome.hits  # only stories below the confidence threshold
    reply = trends.trend("Sora Zzq", locale="en")
    assert not reply.found and reply.suggestions == tuple(outcome.suggestions[:3])
    assert said(reply.header, "trend_not_found", "en") and "Sora 2" in reply.header


def test_comparing_up_to_three_topics_and_saying_what_was_left_out(
    trends: TrendService,
) -> None:
    reply = trends.trend("DeepSeek, Gemini、Claude, OpenAI", locale="ja")
    assert reply.trend is not None
    assert [t.topic for t in reply.trend.topics] == ["DeepSeek", "Gemini", "Claude"]
    assert len(reply.summary) == MAX_TOPICS
    assert any("OpenAI" in note for note in reply.notes)
    assert said(reply.header, "trend_comment_compare", "ja")
    assert "「Claude」" in reply.header  # the most stories of the three

    reply = trends.trend("DeepSeek, Zyxqwv", locale="en")
    assert reply.trend is not None and [t.topic for t in reply.trend.topics] == ["DeepSeek"]
    assert any("Zyxqwv" in note for note in reply.notes)


def test_short_periods_are_counted_per_week_longer_ones_per_month(
    trends: TrendService,
) -> None:
    monthly = trends.trend("Gemini", "3m", "en").trend
    assert monthly is not None and not monthly.weekly
    assert list(monthly.counts_by_bucket()) == ["2025-12", "2026-01", NEWEST_MONTH]
    whole = trends.trend("Gemini", None, "en").trend
    assert whole is not None
    for month, count in monthly.counts_by_bucket().items():
        assert whole.counts_by_bucket()[month] == count

    weekly = trends.trend("Gemini", "1m", "en").trend
    assert weekly is not None and weekly.weekly
    starts = [dt.date.fromisoformat(day) for day in weekly.counts_by_bucket()]
    assert len(starts) == 5 and all(day.weekday() == 0 for day in starts)
    assert starts[-1] <= dt.date(2026, 2, 8) < starts[-1] + dt.timedelta(days=7)
    days = {s.date for s in weekly.topics[0].stories}
    assert min(days) >= starts[0]
    assert weekly.topics[0].total == sum(
        1 for s in whole.topics[0].stories if starts[0] <= s.date <= dt.date(2026, 2, 8)
    )

    reply = trends.trend("DeepSeek", "1m", "ja")
    assert not reply.found and said(reply.header, "trend_none_in_period", "ja")
    reply = trends.trend("DeepSeek", "someday", "en")
    assert not reply.found and said(reply.header, "trend_bad_period", "en")


def test_the_reply_text_has_a_sparkline_per_topic_and_the_alt_text_fits(
    trends: TrendService,
) -> None:
    reply = trends.trend("Claude, Gemini", locale="en")
    assert reply.trend is not None
    for line, topic in zip(reply.summary, reply.trend.topics, strict=True):
        assert line.startswith(topic.topic)
        spark = re.search(r"[▁▂▃▄▅▆▇█]+", line)
        assert spark and len(spark.group()) == len(topic.counts)
        assert f"{topic.total} stories" in line
    assert reply.text.splitlines()[1:3] == list(reply.summary)
    alt = reply.trend.alt_text
    assert len(alt) <= ALT_TEXT_LIMIT
    for topic in reply.trend.topics:
        assert f"{topic.topic}: {topic.total} stories in all" in alt
    assert "Nov 2025: " in alt and "Marked: " in alt
    for story in reply.trend.topics[0].marked:
        assert story.short_title in alt


def test_japanese_chart_text_is_japanese(trends: TrendService) -> None:
    trend = trends.trend("DeepSeek", locale="ja").trend
    assert trend is not None
    assert trend.title.startswith("「DeepSeek」") and trend.y_label == "記事数"
    # the first bar carries its year, or the January that follows it within two bars
    assert any(label.endswith("年") for label in trend.labels[:3])
    assert all(re.fullmatch(r"\d{1,2}月(\n\d{4}年)?", label) for label in trend.labels)
    assert trend.alt_text.startswith("月ごと")


# --------------------------------------------------------------------------- small corpora


def small_service(tmp_path: Path) -> TrendService:
    corpus = tmp_path / "corpus"
    index = tmp_path / "index.db"
    report = build_index(corpus, index)
    assert not report.skipped, report.skipped
    settings = load_settings(None, environ={}).with_paths(corpus=corpus, index=index)
    return TrendService(NewsService(settings))


def test_each_story_counts_once_in_the_month_its_reader_sees(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    story = "articles/20250131/quokka-launch"
    write_article(f"{story}/en.md", title="Quokka model launches", date="raw:2025-01-31")
    write_article(f"{story}/ja.md", title="Quokkaモデル公開", date="raw:2025-02-01")
    write_article(
        "articles/20250310/quokka-update/en.md", title="Quokka update", date="raw:2025-03-10"
    )
    write_article("articles/20250520/other/en.md", title="Unrelated news", date="raw:2025-05-20")
    trends = small_service(tmp_path)
    english = trends.trend("Quokka", locale="en").trend
    japanese = trends.trend("Quokka", locale="ja").trend
    assert english is not None and japanese is not None
    # Months from the first story about the topic to the newest story of the corpus.
    assert english.counts_by_bucket() == {
        "2025-01": 1, "2025-02": 0, "2025-03": 1, "2025-04": 0, "2025-05": 0
    }  # fmt: skip
    assert japanese.counts_by_bucket() == {
        "2025-02": 1, "2025-03": 1, "2025-04": 0, "2025-05": 0
    }  # fmt: skip
    # The English-only story is shown (and dated) in English to a Japanese reader.
    assert {s.locale for s in japanese.topics[0].stories} == {"ja", "en"}


def test_timeline_milestones_are_marked_before_articles(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for month in range(1, 7):
        write_article(
            f"articles/2025{month:02d}10/walrus-{month}/en.md",
            title=f"Walrus news number {month}",
            date=f"raw:2025-{month:02d}-10",
        )
    write_article(
        "aiTimeline/202503-walrus/en.md",
        title="Walrus 2: A Milestone",
        date="raw:2025-03-20",
        impactLevel="critical",
    )
    trends = small_service(tmp_path)
    reply = trends.trend("Walrus", locale="en")
    assert reply.trend is not None
    marked = reply.trend.topics[0].marked
    assert "aiTimeline/202503-walrus" in {s.story for s in marked}
    assert len(marked) == 4 and len({s.date.month for s in marked}) == 4  # one per bar
    assert next(s for s in marked if s.collection == "aiTimeline").short_title == "Walrus 2"


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "key", "weekly", "bars"),
    [
        (None, "all", False, None),
        ("", "all", False, None),
        ("ALL", "all", False, None),
        ("全期間", "all", False, None),
        ("1y", "1y", False, 12),
        ("6m", "6m", False, 6),
        ("３ヶ月", "3m", False, 3),
        ("90d", "90d", False, 3),
        ("1m", "1m", True, 5),
        ("8 weeks", "8w", True, 8),
        ("2週間", "2w", True, 2),
    ],
)
def test_periods(text: str | None, key: str, weekly: bool, bars: int | None) -> None:
    period = parse_trend_period(text)
    assert (period.key, period.weekly, period.bar_count) == (key, weekly, bars)


@pytest.mark.parametrize("text", ["soon", "0d", "3d", "20y", "1.5m", "-3m", "m"])
def test_periods_it_cannot_read(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_trend_period(text)
    assert caught.value.value == text


def test_topics_are_split_at_commas_and_vs_without_repeats() -> None:
    assert split_topics("DeepSeek, Gemini、Claude") == ["DeepSeek", "Gemini", "Claude"]
    assert split_topics("Claude vs Gemini") == ["Claude", "Gemini"]
    assert split_topics(" claude ,CLAUDE,,  Ｃｌａｕｄｅ ; ") == ["claude"]
    assert split_topics("OpenAI o3") == ["OpenAI o3"]
    assert split_topics("  ,  ") == []


@settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    query=st.text(max_size=80),
    period=st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["1m", "6m", "all"])),
    locale=st.sampled_from(["ja", "en", "fr", ""]),
)
def test_any_text_gets_an_answer_never_an_exception(
    trends: TrendService, query: str, period: str | None, locale: str
) -> None:
    reply = trends.trend(query, period, locale)
    assert reply.header and reply.locale in ("ja", "en")
    if reply.trend is not None:
        assert 1 <= len(reply.trend.topics) <= MAX_TOPICS
        assert all(t.total > 0 for t in reply.trend.topics)
        assert len(reply.trend.alt_text) <= ALT_TEXT_LIMIT


def test_period_objects_pass_through(trends: TrendService) -> None:
    reply = trends.trend("Gemini", Period("3m", 90), "en")
    assert reply.trend is not None and len(reply.trend.buckets) == 3


def test_one_story_a_month_is_told_in_the_singular(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20250110/quokka-one/en.md", title="Quokka model launches", date="raw:2025-01-10"
    )
    write_article(
        "articles/20250310/quokka-two/en.md", title="Quokka update ships", date="raw:2025-03-10"
    )
    write_article("articles/20250520/other/en.md", title="Unrelated news", date="raw:2025-05-20")
    reply = small_service(tmp_path).trend("Quokka", locale="en")
    assert reply.found
    assert "1 stories" not in reply.text
    assert said(reply.header, "trend_comment_quiet_one", "en") or said(
        reply.header, "trend_comment_peak_one", "en"
    )
    assert "2 stories" in reply.summary[0]
