"""The ``/news trend`` chart: a ``Trend`` drawn as a PNG bar chart with matplotlib.

Drawing uses matplotlib's object API on the non-interactive Agg canvas (no pyplot, no
display), one figure at a time behind a lock, so it is safe in a worker thread. Fonts come
from Python packages only, never from the system: IPAexGothic from ``matplotlib-fontja``
for Japanese and DejaVu Sans bundled with matplotlib for Latin text, each the other's
fallback glyph by glyph. Characters neither font has (emoji, rare symbols) are left out of
the labels, so no label ever shows a missing-glyph box.

The picture: one bar per month (or week) and topic, bars of up to three topics side by
side in one colour each with a legend (topic and total); the counts above the bars; the
marked stories' short titles in a band above the tallest bar, each joined by a thin line
to a dot on its bar; title, axis labels and tick labels in the user's language.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib_fontja
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

from bot import text
from bot.trend import Trend, TrendReply, TrendService

__all__ = [
    "CHART_DPI",
    "CHART_HEIGHT",
    "CHART_WIDTH",
    "MAX_PNG_BYTES",
    "ChartImage",
    "TrendAnswer",
    "answer_trend",
    "chart_filename",
    "chart_fonts",
    "draw_trend",
    "font_families",
    "printable",
    "render_png",
]

#: Size of the PNG in pixels (a 2:1 picture Discord shows in full in a channel).
CHART_WIDTH, CHART_HEIGHT, CHART_DPI = 1200, 600, 100
#: Largest PNG the chart may be: far under Discord's 10 MiB upload limit for any server.
MAX_PNG_BYTES = 500 * 1024
#: One colour per topic (Okabe–Ito: told apart with any colour vision).
TOPIC_COLOURS = ("#0072B2", "#D55E00", "#009E73")
INK, MUTED, GRID = "#222222", "#666666", "#E6E6E6"
#: Narrowest bar, in pixels, that gets its count written above it.
COUNT_LABEL_MIN_PIXELS = 18
#: Height of the count written above a bar; widest bar drawn; rows of story labels; the
#: space around a story label's text and between two labels (all in pixels).
COUNT_LABEL_PIXELS = 16.0
MAX_BAR_PIXELS = 56.0
LABEL_ROW_PIXELS = 24.0
LABEL_PADDING = 4.0
#: Font size of a marked story's label, in points.
LABEL_POINTS = 10
LABEL_GAP = 6.0

JAPANESE_FAMILY = matplotlib_fontja.matplotlib_fontja.FONT_NAME  # "IPAexGothic"
LATIN_FAMILY = "DejaVu Sans"

_DRAW_LOCK = threading.Lock()


@dataclass(frozen=True)
class ChartImage:
    """A drawn chart: ``png`` bytes of ``width`` × ``height`` pixels, the ``filename`` to
    attach it as, and its ``description`` (alt text, at most 1024 characters)."""

    png: bytes
    width: int
    height: int
    filename: str
    description: str


@cache
def chart_fonts() -> dict[str, Path]:
    """The font files the chart uses, by family, after registering the packaged Japanese
    font with matplotlib: ``{"IPAexGothic": …/matplotlib_fontja/fonts/ipaexg.ttf,
    "DejaVu Sans": …/matplotlib/mpl-data/fonts/ttf/DejaVuSans.ttf}``."""
    japanese = Path(matplotlib_fontja.get_font_ttf_path())
    font_manager.fontManager.addfont(str(japanese))
    latin = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return {JAPANESE_FAMILY: japanese, LATIN_FAMILY: latin}


def font_families(locale: str) -> list[str]:
    """The font family list for ``locale``: Japanese first for ``ja`` (its punctuation
    and spacing), Latin first otherwise; each falls back to the other per glyph."""
    if locale == "ja":
        return [JAPANESE_FAMILY, LATIN_FAMILY]
    return [LATIN_FAMILY, JAPANESE_FAMILY]


@cache
def _covered() -> frozenset[int]:
    """Code points at least one of the chart's fonts has a glyph for."""
    points: set[int] = set()
    for path in chart_fonts().values():
        points.update(FT2Font(str(path)).get_charmap())
    return frozenset(points)


def printable(text: str) -> str:
    """``text`` without the characters no chart font can draw (newlines are kept)."""
    covered = _covered()
    return "".join(c for c in text if c == "\n" or ord(c) in covered)


def _tick_step(count: int, *, weekly: bool) -> int:
    """Label every n-th bar so labels never crowd: all up to 30 bars, then every 2nd,
    3rd (quarters), 6th or 12th month, or enough weeks to keep about 26 labels."""
    if weekly:
        return max(1, -(-count // 26))
    for step in (1, 2, 3, 6):
        if count <= 30 * step:
            return step
    return 12


def _label_positions(trend: Trend) -> list[int]:
    """Indexes of the bars whose tick carries a label: the first, and every step-th
    month counted from January (so years stay visible) or step-th week."""
    step = _tick_step(len(trend.buckets), weekly=trend.weekly)
    if step == 1:
        return list(range(len(trend.buckets)))
    shown = [0]
    for index, bucket in enumerate(trend.buckets[1:], start=1):
        position = index if trend.weekly else bucket.start.month - 1
        if position % step == 0:
            shown.append(index)
    return shown


def draw_trend(trend: Trend) -> Figure:
    """``trend`` as a matplotlib ``Figure`` of CHART_WIDTH × CHART_HEIGHT pixels on an Agg
    canvas (not yet rendered to PNG). Every text on it is in ``font_families(trend.locale)``
    and passed through ``printable``."""
    chart_fonts()
    families = font_families(trend.locale)
    figure = Figure(figsize=(CHART_WIDTH / CHART_DPI, CHART_HEIGHT / CHART_DPI), dpi=CHART_DPI)
    canvas = FigureCanvasAgg(figure)
    font: dict[str, Any] = {"family": families}
    axes = figure.add_axes((0.06, 0.13, 0.91, 0.70))
    bars = len(trend.buckets)
    topics = len(trend.topics)
    slot_pixels = CHART_WIDTH * 0.91 / bars
    width = min(0.8 / topics, MAX_BAR_PIXELS / slot_pixels)
    tallest = max(max(t.counts) for t in trend.topics)
    # Counts above the bars only where a bar is wide enough for two digits.
    show_counts = slot_pixels * width >= COUNT_LABEL_MIN_PIXELS
    tops: dict[tuple[int, int], tuple[float, int]] = {}
    for number, topic in enumerate(trend.topics):
        colour = TOPIC_COLOURS[number % len(TOPIC_COLOURS)]
        offset = (number - (topics - 1) / 2) * width
        xs = [index + offset for index in range(bars)]
        axes.bar(
            xs,
            topic.counts,
            width=width * 0.92,
            color=colour,
            label=printable(f"{topic.topic} ({topic.total})"),
            zorder=2,
        )
        for index, (x, count) in enumerate(zip(xs, topic.counts, strict=True)):
            tops[number, index] = (x, count)
            if show_counts and count:
                axes.text(
                    x, count, f"{count}", ha="center", va="bottom", fontsize=9,
                    color=MUTED, fontdict=font, zorder=3,
                )  # fmt: skip
    axes.set_xlim(-0.6, bars - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    axes.grid(axis="y", color=GRID, linewidth=0.8, zorder=0)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color("#999999")
    axes.tick_params(axis="y", length=0, labelsize=10, labelcolor=MUTED)
    axes.tick_params(axis="x", length=3, labelsize=10, labelcolor=INK, color="#999999")
    shown = _label_positions(trend)
    axes.set_xticks(shown, [printable(trend.labels[i]) for i in shown], fontdict=font)
    for label in axes.get_yticklabels():
        label.set_fontfamily(families)
    axes.set_ylabel(printable(trend.y_label), fontdict=font, fontsize=11, color=MUTED)
    axes.set_xlabel(printable(trend.x_label), fontdict=font, fontsize=11, color=MUTED)
    figure.text(
        0.055, 0.95, printable(trend.title), fontdict=font, fontsize=18, color=INK,
        ha="left", va="center",
    )  # fmt: skip
    legend = figure.legend(
        loc="center left",
        bbox_to_anchor=(0.05, 0.885),
        ncol=topics,
        frameon=False,
        prop=font_manager.FontProperties(family=families, size=11),
        handlelength=1.2,
        columnspacing=1.6,
    )
    for label in legend.get_texts():
        label.set_color(INK)
    _mark_stories(axes, canvas, trend, tops, tallest, families, counted=show_counts)
    return figure


def _mark_stories(
    axes: Any,
    canvas: FigureCanvasAgg,
    trend: Trend,
    tops: dict[tuple[int, int], tuple[float, int]],
    tallest: int,
    families: Sequence[str],
    *,
    counted: bool,
) -> None:
    """Label each marked story in a band above the tallest bar, joined by a thin line to
    the top of its bar (above its count when ``counted``). A label is centred over its
    bar where it fits inside the plot, else moved in from the edge; labels that would
    overlap go one row up; the band is made tall enough for the rows used; lower rows
    are drawn last so their boxes cover the lines passing behind them."""
    marks: list[tuple[float, int, str, str]] = []
    for number, topic in enumerate(trend.topics):
        colour = TOPIC_COLOURS[number % len(TOPIC_COLOURS)]
        for story in topic.marked:
            index = next(i for i, b in enumerate(trend.buckets) if b.contains(story.date))
            x, count = tops[number, index]
            marks.append((x, count, printable(story.short_title), colour))
    count_gap = COUNT_LABEL_PIXELS if counted else 0.0
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    box = axes.get_window_extent(renderer)
    if not marks:
        top = tallest * (1 + (count_gap + 12) / box.height) + 0.3
        axes.set_ylim(0, top)
        return
    font = font_manager.FontProperties(family=list(families), size=LABEL_POINTS)
    # The box's pad is given to matplotlib as a fraction of the font size.
    pad = LABEL_PADDING / (LABEL_POINTS * CHART_DPI / 72)
    rows: list[list[tuple[float, float]]] = []
    placed: list[tuple[float, int, str, str, int, float]] = []
    for x, count, label, colour in sorted(marks, key=lambda mark: mark[0]):
        probe = axes.text(0, 0, label, fontproperties=font)
        width = probe.get_window_extent(renderer).width + 2 * LABEL_PADDING + 1
        probe.remove()
        centre = axes.transData.transform((x, 0))[0]
        left = min(max(centre - width / 2, box.x0), box.x1 - width)
        span = (left - LABEL_GAP, left + width + LABEL_GAP)
        row_number = next(
            (n for n, row in enumerate(rows) if all(span[1] <= a or span[0] >= b for a, b in row)),
            len(rows),
        )
        if row_number == len(rows):
            rows.append([])
        rows[row_number].append(span)
        label_x = axes.transData.inverted().transform((left + width / 2, 0))[0]
        placed.append((x, count, label, colour, row_number, label_x))
    # The band above the tallest bar (and its count) holds the rows of labels.
    band = (count_gap + 8 + len(rows) * LABEL_ROW_PIXELS) / box.height
    axes.set_ylim(0, (tallest + 0.05) / (1 - band))
    transform = axes.get_xaxis_transform()
    base = 1 - band + (count_gap + 8) / box.height
    for x, count, label, colour, row_number, label_x in sorted(placed, key=lambda m: -m[4]):
        axes.annotate(
            label,
            xy=(x, count),
            xycoords="data",
            xytext=(label_x, base + row_number * LABEL_ROW_PIXELS / box.height),
            textcoords=transform,
            ha="center",
            va="bottom",
            fontproperties=font,
            color=INK,
            zorder=5,
            bbox={"boxstyle": f"round,pad={pad:.3f}", "facecolor": "white",
                  "edgecolor": colour, "linewidth": 0.8},
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.8,
                        "shrinkA": 0, "shrinkB": count_gap * 72 / CHART_DPI + 1},
        )  # fmt: skip


def chart_filename(topics: Sequence[str]) -> str:
    """A file name for the chart of ``topics``, in ASCII letters, digits and hyphens (a
    name Discord and every file system keep as it is), so different topics get different
    files: ``trend-claude-gemini-3.png``; a topic in kana is romanized
    (``ディープシーク`` → ``trend-deipushiku.png``), one with kanji or other scripts
    becomes ``t`` and 8 hex digits of its SHA-1 (``開発`` → ``trend-t2dfb21e5.png``, the
    same every time), after the ASCII it holds (``生成AI`` → ``trend-ai-t…``);
    ``trend.png`` for no topic."""
    slugs = [_ascii_slug(topic) for topic in topics]
    if not slugs:
        return "trend.png"
    return "trend-" + "-".join(slugs)[:80].strip("-") + ".png"


# Hiragana, katakana, the long-vowel mark and the middle dot, and spaces.
_KANA_ONLY_RE = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\s]+")


def _ascii_slug(topic: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", topic.casefold()).strip("-")
    if slug and not any(ch.isalnum() and not ch.isascii() for ch in topic):
        return slug
    if _KANA_ONLY_RE.fullmatch(topic):
        romanized = re.sub(r"[^a-z0-9]+", "-", text.romanize_katakana(topic)).strip("-")
        if romanized:
            return romanized
    # Letters the slug cannot hold ("生成AI" and "画像AI" are both "ai"): a hash keeps
    # the topics apart.
    digest = "t" + hashlib.sha1(topic.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-{digest}" if slug else digest


def render_png(trend: Trend) -> ChartImage:
    """Draw ``trend`` and encode it as a CHART_WIDTH × CHART_HEIGHT PNG with its alt text.
    Serialized by a lock (one figure at a time); meant for a worker thread, never the
    event loop. Raises ``ValueError`` when the PNG would exceed MAX_PNG_BYTES (it is
    tens of kilobytes in practice)."""
    with _DRAW_LOCK:
        figure = draw_trend(trend)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=CHART_DPI, facecolor="white",
                       metadata={"Software": None})  # fmt: skip
    png = buffer.getvalue()
    if len(png) > MAX_PNG_BYTES:
        raise ValueError(f"trend chart is {len(png)} bytes, over {MAX_PNG_BYTES}")
    return ChartImage(
        png=png,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        filename=chart_filename([topic.topic for topic in trend.topics]),
        description=trend.alt_text,
    )


@dataclass(frozen=True)
class TrendAnswer:
    """``/news trend`` answered: technyan's ``reply`` and its chart (``image`` None when
    there is nothing to draw: no stories, an empty query, an unknown period)."""

    reply: TrendReply
    image: ChartImage | None

    @property
    def stories(self) -> int:
        """Stories counted on the chart, all topics together (0 without a chart)."""
        trend = self.reply.trend
        return sum(topic.total for topic in trend.topics) if trend is not None else 0


def answer_trend(
    service: TrendService, query: str, period: str | None, locale: str | None
) -> TrendAnswer:
    """The whole ``/news trend`` answer for every adapter: the trend of ``query`` over
    ``period`` in ``locale`` (see ``TrendService.trend``) and, when there is one, its
    chart. Blocking (searches, then drawing): run it in a worker thread from async code."""
    reply = service.trend(query, period, locale)
    image = render_png(reply.trend) if reply.trend is not None else None
    return TrendAnswer(reply, image)
