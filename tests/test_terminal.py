"""Terminal layout: lines wrapped by display width with the Unicode line-breaking rules, so
a Japanese reply fits the terminal, no Latin word or number is split, and no line starts
with closing punctuation."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.console import render_reply
from bot.replies import Reply
from bot.service import NewsService
from bot.terminal import MIN_WIDTH, Terminal, display_width, wrap

REPO = Path(__file__).resolve().parents[1]
BOT = [sys.executable, "-m", "bot"]

#: Characters a Japanese line must not start with (kinsoku): closing brackets and
#: punctuation, the prolonged sound mark, small kana, the middle dot.
NO_LINE_START = set("。、，．）」』】〕〉》｝！？：；ー・")
NO_LINE_START |= set("ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")

ISSUE_SENTENCE = (
    "OpenAIがGPT-4を発表した。これは、AnthropicのClaude 3.5 Sonnetに対抗する（とされる）"
    "モデルで、「推論能力」が大幅に向上したにゃ。"
)


def break_positions(text: str, lines: list[str]) -> list[int]:
    """Where in ``text`` each line after the first begins (the spaces a break drops are
    skipped); fails when the lines are not ``text`` in order."""
    position, positions = 0, []
    for number, line in enumerate(lines):
        if number:
            while text[position] == " ":
                position += 1
            positions.append(position)
        assert text.startswith(line, position), (line, text[position:])
        position += len(line)
    assert text[position:].strip() == ""
    return positions


def assert_laid_out(text: str, lines: list[str], width: int) -> None:
    """``lines`` are ``text`` wrapped to ``width`` cells as a reader expects."""
    for line in lines:
        assert display_width(line) <= width or " " not in line.strip(), line
        assert line[:1] not in NO_LINE_START, f"line starts with {line[:1]!r}: {line!r}"
    for position in break_positions(text, lines):
        before, after = text[position - 1], text[position]
        split_word = before.isascii() and before.isalnum() and after.isascii() and after.isalnum()
        assert not split_word, f"word split: {text[position - 8 : position + 8]!r}"
        assert not (before == "-" and after.isdigit()), f"number split: {text[position - 8 :]!r}"


@pytest.mark.parametrize("width", range(20, 61))
def test_a_japanese_sentence_with_english_names_wraps_at_every_width(width: int) -> None:
    lines = wrap(ISSUE_SENTENCE, width)
    assert len(lines) > 1 or width >= display_width(ISSUE_SENTENCE)
    assert_laid_out(ISSUE_SENTENCE, lines, width)


def test_width_is_counted_in_cells_not_characters() -> None:
    lines = wrap("あ" * 100, 40)
    assert [display_width(line) for line in lines] == [40] * 5
    assert [len(line) for line in lines] == [20] * 5


def test_a_url_longer_than_the_line_stays_whole() -> None:
    url = "https://technyanai.com/articles/ja/20260205/anthropic-claude-opus-4-6"
    lines = wrap(f"詳しくはこちらを読んでにゃ {url} 🐾", 30)
    assert url in lines


def test_a_file_path_stays_whole() -> None:
    path = "/tmp/pytest-of-root/pytest-12/test_trend0/technyan-bot/trend-deepseek-gemini.png"
    lines = wrap(f"📈 グラフを保存したにゃ：{path}", 40)
    assert lines[-1].endswith(path) and len(lines) == 2


def test_indents_start_every_line() -> None:
    lines = wrap(ISSUE_SENTENCE, 30, "1. ")
    assert lines[0].startswith("1. ") and all(line.startswith("   ") for line in lines[1:])
    assert all(display_width(line) <= 30 for line in lines)


@pytest.fixture(scope="module")
def service(bundled_index: Path) -> NewsService:
    return NewsService(load_settings(None, environ={}).with_paths(index=bundled_index))


@pytest.mark.parametrize("width", [40, 60, 80])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_story_of_the_bundled_corpus_fits_the_width(
    service: NewsService, width: int, locale: str
) -> None:
    cards = service.latest(25, locale=locale).cards
    assert len(cards) == 25
    for card in cards:
        text = render_reply(Reply("latest", locale, "", (card,)), width)
        lines = text.splitlines()
        for line in lines:
            if line.strip() != card.url:
                assert display_width(line) <= width, line
            assert line.strip()[:1] not in NO_LINE_START, line
        body = [line.strip() for line in lines]
        words = re.findall(r"[A-Za-z0-9][A-Za-z0-9.+#-]*[A-Za-z0-9+#]", card.description)
        for word in words:  # every Latin word and number is whole on one line
            assert any(word in line for line in body), (word, text)
        description = wrap(card.description, width - 3)
        assert_laid_out(card.description, [line.strip() for line in description], width - 3)


def test_the_command_line_wraps_to_the_terminal_width(bundled_index: Path) -> None:
    environment = {**os.environ, "COLUMNS": "50"}
    environment.pop("DISCORD_TOKEN", None)
    done = subprocess.run(
        [*BOT, "news", "latest", "--count", "5", "--locale", "ja", "--db", str(bundled_index)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 30
    for line in lines:
        assert display_width(line) <= 50 or line.strip().startswith("https://"), line


@pytest.mark.parametrize("columns", ["0", "3"])
def test_a_terminal_narrower_than_the_minimum_still_gets_every_reply(columns: str) -> None:
    # rich prints nothing at width 0: the layout falls back to MIN_WIDTH cells.
    stream = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", columns)
        terminal = Terminal(stream)
    terminal.print("DeepSeekが新しいモデルを公開したにゃ")
    assert terminal.width == MIN_WIDTH
    assert stream.getvalue().strip() == "DeepSeekが新しいモデルを公開したにゃ"
