"""Text laid out for a terminal: wrapped by display width, printed through rich.

Lines are broken where the Unicode line-breaking algorithm (UAX #14, as implemented by
uniseg) allows it, and measured in terminal cells (East Asian Width: a kanji or kana takes
two cells, a Latin letter one). So a Latin word, a number such as ``GPT-4`` or a URL is
never split, no line starts with closing punctuation (``。、）」``) or a small kana, and a
Japanese line fits the terminal as an English one does. rich detects the terminal (its
width, colours, hyperlinks) and writes plain text when the output is not a terminal.

Both libraries are imported on first use, so a command that prints nothing pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = ["DEFAULT_WIDTH", "Terminal", "display_width", "wrap"]

#: Width in cells when the output is not a terminal and ``COLUMNS`` is not set (rich's).
DEFAULT_WIDTH = 80
#: No line is laid out narrower than this many cells, however narrow the terminal.
MIN_WIDTH = 20

_URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")
_MARKDOWN_LINK_RE = re.compile(r"\]\(")


def display_width(text: str) -> int:
    """Cells ``text`` takes on a terminal (``"テクにゃん"`` is 10, ``"AI"`` is 2)."""
    from rich.cells import cell_len

    return cell_len(text)


@lru_cache(maxsize=1)
def _line_breaking() -> tuple[object, object]:
    from uniseg.linebreak import line_break_breakables
    from uniseg.wrap import tt_wrap

    return line_break_breakables, tt_wrap


def _breakables_outside_urls(text: str) -> list[int]:
    """UAX #14 break opportunities of ``text`` (1 before a code point where a line may
    start), with none inside a URL or between a markdown link's ``]`` and ``(``, so links
    stay whole and clickable."""
    line_break_breakables, _ = _line_breaking()
    breakables = list(line_break_breakables(text))  # type: ignore[operator]
    for url in _URL_RE.finditer(text):
        breakables[url.start() + 1 : url.end()] = [0] * (url.end() - url.start() - 1)
    for link in _MARKDOWN_LINK_RE.finditer(text):
        breakables[link.start() + 1] = 0
    return breakables


def _wrap_paragraph(text: str, width: int) -> Iterator[str]:
    _, tt_wrap = _line_breaking()
    for line in tt_wrap(text, width, iter_breakables=_breakables_outside_urls):  # type: ignore[operator]
        yield line.rstrip()


def wrap(
    text: str, width: int, indent: str = "", subsequent_indent: str | None = None
) -> list[str]:
    """``text`` as lines of at most ``width`` terminal cells (a word or URL longer than a
    line stays whole, on a line of its own). Each line of ``text`` is wrapped on its own;
    the first output line of each starts with ``indent``, the others with
    ``subsequent_indent`` (default: as many spaces as ``indent`` is wide). Trailing spaces
    are dropped; an empty line of ``text`` stays an empty line (its indent stripped)."""
    if subsequent_indent is None:
        subsequent_indent = " " * display_width(indent)
    room = max(width - max(display_width(indent), display_width(subsequent_indent)), MIN_WIDTH)
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        paragraph = paragraph.rstrip()
        if not paragraph:
            lines.append(indent.rstrip())
            continue
        for number, line in enumerate(_wrap_paragraph(paragraph, room)):
            lines.append((indent if number == 0 else subsequent_indent) + line)
    return lines


class Terminal:
    """Where the console and the command line print: a rich ``Console`` on ``stream``
    (default standard output) that writes the lines it is given as they are (no wrapping
    or cropping of its own, no markup or emoji codes interpreted).

    ``width`` is the layout width in cells: the terminal's, or ``COLUMNS``, or 80 when
    the output is not a terminal; ``width=`` fixes it."""

    def __init__(self, stream: TextIO | None = None, width: int | None = None) -> None:
        from rich.console import Console

        self.console: Console = Console(
            file=stream,
            width=width,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        )

    @property
    def width(self) -> int:
        """Cells available on one line (at least ``MIN_WIDTH``)."""
        return max(self.console.width, MIN_WIDTH)

    @property
    def is_terminal(self) -> bool:
        """True when the output is an interactive terminal."""
        return self.console.is_terminal

    def print(self, text: str | Text = "") -> None:
        """Write ``text`` (plain or styled) and a newline, and flush."""
        self.console.print(text)
        self.console.file.flush()

    def print_wrapped(self, text: str) -> None:
        """Write plain ``text`` wrapped to the terminal's width."""
        self.print("\n".join(wrap(text, self.width)))

    def write(self, text: str) -> None:
        """Write ``text`` as it is, without a newline (a prompt), and flush."""
        self.console.file.write(text)
        self.console.file.flush()


def styled_lines(lines: Iterable[tuple[str, str]]) -> Text:
    """Lines with a rich style each (``""`` for none), joined into one ``Text``."""
    from rich.text import Text

    text = Text()
    for number, (line, style) in enumerate(lines):
        if number:
            text.append("\n")
        text.append(line, style=style or None)
    return text
