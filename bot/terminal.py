"""Text laid out for a terminal: wrapped by display width, printed through rich.

Lines are broken only where the Unicode line-breaking algorithm (UAX #14) allows it, and
measured in terminal cells (East Asian Width: a kanji or kana takes two cells, a Latin
letter one), both from unicode-segmentation-rs (Rust's unicode-linebreak and unicode-width
crates). So a Latin word, a hyphenated name such as ``GPT-4`` or ``o1-mini``, a URL or a
file path is never split, no line starts with closing punctuation (``。、）」``) or a small
kana, and a Japanese line fits the terminal as an English one does. rich detects the terminal (its
width, colours, hyperlinks) and writes plain text when the output is not a terminal.

rich is imported on first use, so a command that prints nothing pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, TextIO

from unicode_segmentation_rs import line_break_units, text_width

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = ["DEFAULT_WIDTH", "MIN_WIDTH", "Terminal", "display_width", "styled_lines", "wrap"]

#: Width in cells when the output is not a terminal and ``COLUMNS`` is not set (rich's).
DEFAULT_WIDTH = 80
#: No line is laid out narrower than this many cells, however narrow the terminal.
MIN_WIDTH = 20

#: Places UAX #14 allows a break where this layout keeps text together: inside a URL or a
#: file path, between a markdown link's ``]`` and ``(``, after a hyphen inside a word.
_LINK_RE = re.compile(r"https?://[^\s<>\"')\]]+|[A-Za-z0-9._~-]*(?:/[A-Za-z0-9._~%+@:#?=&,-]+)+/?")
_MARKDOWN_LINK_RE = re.compile(r"\]\(")
_INNER_HYPHEN_RE = re.compile(r"(?<=\w)-(?=\w)")


def display_width(text: str) -> int:
    """Cells ``text`` takes on a terminal (``"テクにゃん"`` is 10, ``"AI"`` is 2)."""
    return int(text_width(text))


def _kept_together(text: str) -> set[int]:
    """Character offsets of ``text`` where no line may start although UAX #14 allows it."""
    offsets: set[int] = set()
    for url in _LINK_RE.finditer(text):
        offsets.update(range(url.start() + 1, url.end()))
    offsets.update(match.start() + 1 for match in _MARKDOWN_LINK_RE.finditer(text))
    offsets.update(match.end() for match in _INNER_HYPHEN_RE.finditer(text))
    return offsets


def _break_units(text: str) -> Iterator[str]:
    """``text`` cut where a line may break: each piece ends at a UAX #14 break
    opportunity that is not kept together."""
    kept = _kept_together(text)
    pending, offset = "", 0
    for unit in line_break_units(text):
        pending += unit
        offset += len(unit)
        if offset not in kept:
            yield pending
            pending = ""
    if pending:
        yield pending


def _wrap_paragraph(text: str, width: int) -> Iterator[str]:
    """One line of ``text`` as lines of at most ``width`` cells, filled greedily; a piece
    wider than ``width`` gets a line of its own. Trailing spaces are dropped."""
    line, used = "", 0
    for unit in _break_units(text):
        if line and used + display_width(unit.rstrip()) > width:
            yield line.rstrip()
            line, used = "", 0
        line += unit
        used += display_width(unit)
    if line.strip():
        yield line.rstrip()


def wrap(
    text: str, width: int, indent: str = "", subsequent_indent: str | None = None
) -> list[str]:
    """``text`` as lines of at most ``width`` terminal cells (a word or URL longer than a
    line stays whole, on a line of its own). Each line of ``text`` is wrapped on its own;
    the first output line of each starts with ``indent``, the others with
    ``subsequent_indent`` (default: as many spaces as ``indent`` is wide). Trailing spaces
    are dropped; an empty line of ``text`` stays an empty line (its indent stripped).
    Lines are never laid out narrower than ``MIN_WIDTH`` cells."""
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
        if self.console.width < MIN_WIDTH:
            # rich prints nothing at all at width 0 (COLUMNS=0): lay out at the minimum.
            self.console.width = MIN_WIDTH

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
