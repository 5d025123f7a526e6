"""The trend chart as a file and as text on a picture: size, fonts that have every glyph
of every label (no missing-glyph boxes), labels that do not collide."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import struct
import warnings
from pathlib import Path

import matplotlib
import matplotlib_fontja
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

from bot.chart import (
    CHART_HEIGHT,
    CHART_WIDTH,
    MAX_PNG_BYTES,
    chart_filename,
    draw_trend,
    printable,
    render_png,
)
from bot.config import load_settings
from bot.service import NewsService
from bot.trend import Trend, TrendService, make_buckets

PACKAGED_FONT_FOLDERS = (
    Path(matplotlib_fontja.get_font_path()).resolve(),
    (Path(matplotlib.get_data_path()) / "fonts" / "ttf").resolve(),
)


@pytest.fixture(scope="module")
def trends(real_index: Path, real_corpus: Path) -> TrendService:
    settings = load_settings(None, environ={}).with_paths(corpus=real_corpus, index=real_index)
    return TrendService(NewsService(settings))


def chart_of(trends: TrendService, query: str, locale: str, period: str | None = None) -> Trend:
    trend = trends.trend(query, period, locale).trend
    assert trend is not None, query
    return trend


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def drawn_texts(trend: Trend) -> list[Text]:
    """Every non-empty text artist of the drawn chart (title, axis and tick labels,
    legend, counts, marked stories)."""
    figure = draw_trend(trend)
    figure.canvas.draw()
    return [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def glyphs_for(text: Text) -> tuple[set[int], list[Path]]:
    """Code points the fonts matplotlib resolves for ``text`` can draw, and those fonts."""
    properties = text.get_fontproperties()
    paths = []
    for family in properties.get_family():
        wanted = properties.copy()
        wanted.set_family(family)
        paths.append(Path(font_manager.findfont(wanted, fallback_to_default=False)).resolve())
    covered: set[int] = set()
    for path in paths:
        covered.update(FT2Font(str(path)).get_charmap())
    return covered, paths


@pytest.mark.parametrize(
    ("query", "locale", "period"),
    [
        ("DeepSeek", "ja", None),
        ("DeepSeek", "en", None),
        ("Claude, Gemini", "ja", None),
        ("Claude, Gemini", "en", None),
        ("DeepSeek, Gemini, Claude", "ja", None),
        ("Gemini", "ja", "1m"),
    ],
)
def test_the_png_is_1200_by_600_and_small(
    trends: TrendService, query: str, locale: str, period: str | None
) -> None:
    image = render_png(chart_of(trends, query, locale, period))
    assert png_size(image.png) == (CHART_WIDTH, CHART_HEIGHT) == (1200, 600)
    assert len(image.png) <= MAX_PNG_BYTES == 500 * 1024
    assert image.description and len(image.description) <= 1024
    assert image.filename.endswith(".png")


@pytest.mark.parametrize("query", ["DeepSeek", "Claude, Gemini", "ディープシーク, OpenAI"])
def test_japanese_labels_use_fonts_that_have_every_glyph(trends: TrendService, query: str) -> None:
    trend = chart_of(trends, query, "ja")
    texts = drawn_texts(trend)
    shown = "".join(t.get_text() for t in texts)
    assert "記事数" in shown and "月" in shown and trend.title in shown
    japanese_seen = False
    for text in texts:
        covered, paths = glyphs_for(text)
        # Packaged fonts only: matplotlib-fontja's IPAexGothic first, matplotlib's own
        # DejaVu Sans as the fallback; never a system font.
        assert all(path.parent in PACKAGED_FONT_FOLDERS for path in paths), paths
        assert paths[0].name == "ipaexg.ttf"
        missing = {c for c in text.get_text() if c not in "\n" and ord(c) not in covered}
        assert not missing, (text.get_text(), missing)
        if any("\u3040" <= c <= "\u9fff" for c in text.get_text()):
            japanese_seen = True
            japanese = set(FT2Font(str(paths[0])).get_charmap())
            assert all(ord(c) in japanese for c in text.get_text() if "\u3040" <= c <= "\u9fff")
    assert japanese_seen


def test_no_glyph_goes_missing_while_rendering(trends: TrendService) -> None:
    """matplotlib warns "Glyph … missing from font(s)" when it draws a box instead."""
    trend = chart_of(trends, "Claude, Gemini", "ja")
    odd = dataclasses.replace(trend, title=trend.title + " 🚀🐾", x_label="月 ✨")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_png(odd)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    shown = "".join(t.get_text() for t in drawn_texts(odd))
    assert "🚀" not in shown and "✨" not in shown and "月" in shown


def test_printable_keeps_what_the_fonts_draw() -> None:
    assert printable("「Claude」の記事数 — 2025年\n12月") == "「Claude」の記事数 — 2025年\n12月"
    assert printable("Rocket 🚀 launch") == "Rocket  launch"


def test_tick_and_story_labels_never_overlap(trends: TrendService) -> None:
    """A ten-year monthly chart labels every sixth month at most; the marked stories'
    labels are stacked so none covers another."""
    trend = chart_of(trends, "DeepSeek, Gemini, Claude", "en")
    buckets = make_buckets(dt.date(2016, 1, 1), dt.date(2026, 2, 8), weekly=False)
    long = dataclasses.replace(
        trend,
        buckets=buckets,
        labels=tuple(f"{b.start:%b}\n{b.start.year}" for b in buckets),
        topics=tuple(
            dataclasses.replace(t, counts=tuple((i * (n + 3)) % 7 for i in range(len(buckets))))
            for n, t in enumerate(trend.topics)
        ),
    )
    for chart in (trend, long, chart_of(trends, "Gemini", "ja", "1m")):
        figure = draw_trend(chart)
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
        axes = figure.axes[0]
        ticks = [t.get_window_extent(renderer) for t in axes.get_xticklabels() if t.get_text()]
        assert len(ticks) <= 30
        for left, right in itertools.pairwise(ticks):
            assert left.x1 <= right.x0, (left, right)
        boxes = [
            child.get_bbox_patch().get_window_extent(renderer)
            for child in axes.texts
            if child.get_bbox_patch() is not None
        ]
        marked = sum(len(t.marked) for t in chart.topics)
        assert len(boxes) == marked
        for i, first in enumerate(boxes):
            for second in boxes[i + 1 :]:
                assert not first.overlaps(second), (first, second)
            assert axes.get_window_extent(renderer).x0 - 1 <= first.x0
            assert first.x1 <= axes.get_window_extent(renderer).x1 + 1


def test_file_names_say_the_topics() -> None:
    assert chart_filename(["Claude", "Gemini 3"]) == "trend-claude-gemini-3.png"
    assert chart_filename(["ディープシーク"]) == "trend-deipushiku.png"
    assert chart_filename(["くろーど", "Gemini"]) == "trend-kurodo-gemini.png"
    # Topics whose kanji the name cannot hold stay apart, and apart from their ASCII part.
    assert len({chart_filename([topic]) for topic in ("生成AI", "画像AI", "AI")}) == 3
    # Kanji topics: one name per topic, the same every time, never another topic's.
    assert chart_filename(["開発"]) == "trend-t2dfb21e5.png"
    assert chart_filename(["生成"]) not in (chart_filename(["開発"]), "trend.png")
    assert chart_filename([]) == "trend.png"
