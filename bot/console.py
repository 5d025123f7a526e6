"""The terminal adapter: type the slash commands as a Discord user would, see the reply.

``render_reply`` turns a ``Reply`` into text laid out for a terminal (used by
``technyan-bot news …`` too); ``run_console`` is the interactive prompt. Nothing here ranks,
filters or phrases: the words come from the core and the persona. Text is wrapped by
display width with the Unicode line-breaking rules (``bot.terminal``), so Japanese and
English lines both fit the terminal.

Commands that exist only on Discord (``/digest subscribe``, ``unsubscribe``,
``subscriptions``, ``resume`` and questions by mention) are answered with technyan saying
so; the console's own help lists what works here.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import shlex
import sqlite3
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from bot import text as text_analysis
from bot.replies import Reply, StoryCard
from bot.search import rebuild_command
from bot.service import NewsService
from bot.terminal import DEFAULT_WIDTH, Terminal, styled_lines, wrap
from bot.user_input import MAX_LATEST, InvalidOption, clean_text, parse_digest_date

if TYPE_CHECKING:
    from rich.text import Text

__all__ = [
    "DISCORD_ONLY_COMMANDS",
    "ConsoleCommand",
    "DigestPreview",
    "digest_previewer",
    "parse_slash_command",
    "render_reply",
    "run_console",
    "styled_reply",
]

log = logging.getLogger(__name__)

#: ``/digest`` subcommands that need a Discord server (a channel, Manage Server); typed
#: under ``/news`` too, as they once were.
_MENTION_RE = re.compile(r"<@!?\d+>")
DISCORD_ONLY_COMMANDS = frozenset({"subscribe", "unsubscribe", "subscriptions", "resume", "edit"})
#: Characters of words typed without a command that the hint to search them repeats.
HINT_WORDS = 80
#: What ``/quit`` may be typed as.
QUIT_COMMANDS = frozenset({"/quit", "/exit", "quit", "exit"})

#: ``(locale, date or None for the last day)`` → the digest's messages as text.
DigestPreview = Callable[[str, dt.date | None], str]
#: ``(topics, period or None, locale)`` → the trend's text (the chart written to a file).
TrendAnswer = Callable[[str, str | None, str], str]

Lines = list[tuple[str, str]]  # (line, rich style)


@dataclass(frozen=True)
class ConsoleCommand:
    """One line typed at the console, parsed: ``name`` is ``latest``, ``about``, ``ask``,
    ``digest``, ``help``, ``discord_only`` (a command that needs Discord) or ``unknown``;
    ``options`` its options as typed (``count``, ``category``, ``query``, ``question``,
    ``date``, or ``command`` for the last two)."""

    name: str
    options: dict[str, str] = field(default_factory=dict)


# -- rendering -----------------------------------------------------------------------------


def _card_lines(card: StoryCard, position: int, width: int) -> Lines:
    meta = [card.date.isoformat(), card.category]
    if card.impact_level:
        meta.append(f"impact: {card.impact_level}")
    label = f"{card.label} " if card.label else ""
    lines: Lines = [(line, "bold") for line in wrap(f"{label}{card.title}", width, f"{position}. ")]
    indent = " " * len(f"{position}. ")
    lines += [(line, "dim") for line in wrap(" · ".join(meta), width, indent)]
    lines += [(line, "") for line in wrap(card.description, width, indent)]
    if card.technyan_comment:
        lines += [(line, "") for line in wrap(f"🐾 「{card.technyan_comment}」", width, indent)]
    if card.tags:
        lines += [(line, "dim") for line in wrap(f"#{' #'.join(card.tags)}", width, indent)]
    lines.append((f"{indent}{card.url}", f"link {card.url}"))
    if card.note:
        lines += [(line, "italic") for line in wrap(f"({card.note})", width, indent)]
    return lines


def _breadcrumb(title: str, heading: str) -> str:
    """``title › heading path``, leaving out leading heading parts that repeat the title
    (an article's first heading is often its title)."""
    parts = [part.strip() for part in heading.split("›")] if heading else []
    same = text_analysis.normalize(title)
    while parts and text_analysis.normalize(parts[0]) == same:
        parts.pop(0)
    return " › ".join([title, *parts])


def _reply_lines(reply: Reply, width: int) -> list[Lines]:
    """The reply as blocks of styled lines, blocks separated by a blank line."""
    blocks: list[Lines] = [[(line, "") for line in wrap(reply.header, width)]]
    if reply.answer is not None:
        answer = reply.answer
        blocks.append([(line, "") for line in wrap(f"“{answer.text}”", width, "  > ", "  > ")])
        blocks.append(
            [
                (line, "bold")
                for line in wrap(
                    _breadcrumb(answer.card.title, answer.heading), width, "  — ", "    "
                )
            ]
            + [(f"    {answer.card.url}", f"link {answer.card.url}")]
        )
        return blocks
    footer = [(line, "") for line in wrap(reply.footer, width)] if reply.footer else []
    if reply.weak and footer:
        blocks.append(footer)
    blocks += [_card_lines(card, position, width) for position, card in enumerate(reply.cards, 1)]
    if not reply.weak and footer:
        blocks.append(footer)
    return [block for block in blocks if any(line for line, _ in block)]


def styled_reply(reply: Reply, width: int = DEFAULT_WIDTH) -> Text:
    """A ``Reply`` as terminal text with styles (titles bold, links as hyperlinks), every
    line at most ``width`` cells (a URL or a word longer than a line excepted)."""
    lines: Lines = []
    for number, block in enumerate(_reply_lines(reply, width)):
        if number:
            lines.append(("", ""))
        lines += block
    return styled_lines(lines)


def render_reply(reply: Reply, width: int = DEFAULT_WIDTH) -> str:
    """A ``Reply`` as plain terminal text: header, the answer or the cards, footer, each
    line at most ``width`` cells (see ``styled_reply``)."""
    return styled_reply(reply, width).plain


# -- parsing -------------------------------------------------------------------------------


def _words(argument: str) -> list[str]:
    try:
        return shlex.split(argument)
    except ValueError:
        return argument.split()


def _looks_like_number(word: str) -> bool:
    digits = unicodedata.normalize("NFKC", word).lstrip("+-")
    return digits.isdigit()


def _parse_latest(argument: str) -> dict[str, str]:
    options: dict[str, str] = {}
    free: list[str] = []
    pending = ""
    for word in _words(argument):
        key, sep, value = word.partition(":")
        if pending:
            options[pending], pending = word, ""
        elif word in ("--count", "--category"):
            pending = word[2:]
        elif sep and key in ("count", "category"):
            options[key] = value
        elif _looks_like_number(word) and "count" not in options:
            options["count"] = word
        else:
            free.append(word)
    if free:
        # Words after "category:" go on with it: "category:Model Release" names one.
        options["category"] = " ".join(
            [options["category"], *free] if "category" in options else free
        )
    return options


def _parse_digest(argument: str) -> ConsoleCommand:
    """``preview [DATE | date:DATE]`` (``preview`` may be left out)."""
    words = _words(argument)
    if words and words[0] == "preview":
        words = words[1:]
    if not words:
        return ConsoleCommand("digest")
    if len(words) == 1:
        word = words[0]
        value = word.split(":", 1)[1] if word.startswith(("date:", "--date=")) else word
        return ConsoleCommand("digest", {"date": value})
    if len(words) == 2 and words[0] == "--date":
        return ConsoleCommand("digest", {"date": words[1]})
    return ConsoleCommand("digest", {"date": " ".join(words)})


def _parse_trend(argument: str) -> ConsoleCommand:
    """``TOPIC[, TOPIC…] [period:P | --period P]``."""
    options: dict[str, str] = {}
    parts = iter(argument.split())
    topics: list[str] = []
    for word in parts:
        if word.startswith("period:"):
            options["period"] = word[len("period:") :]
        elif word == "--period":
            options["period"] = next(parts, "")
        else:
            topics.append(word)
    options["query"] = " ".join(topics).removeprefix("topic:").strip()
    return ConsoleCommand("trend", options)


def command_word(word: str) -> str:
    """A command word as the console reads it: NFKC and lowercase, so what a Japanese
    keyboard types (``／ｎｅｗｓ``, ``／News``) is ``/news``. Lines are split into words at
    any whitespace, tabs and the ideographic space (U+3000) included."""
    return unicodedata.normalize("NFKC", word).casefold()


def parse_slash_command(line: str) -> ConsoleCommand:
    """Parse a console line: ``/news about DeepSeek``, ``/news latest count:3
    category:Claude``, ``/digest preview 2026-02-08`` (or ``/news digest preview …``) and so
    on. Never raises: a Discord-only command (named as Discord knows it, ``/digest
    subscribe``) or a mention becomes ``discord_only``, words without a command
    ``words`` (a hint to search them), anything else not known ``unknown``, each with its
    ``command``."""
    typed = line.strip()
    if typed.startswith("@") or _MENTION_RE.match(typed):
        # "@technyan …" as typed, or a mention as Discord sends it (<@123>, <@!123>).
        return ConsoleCommand("discord_only", {"command": typed.split()[0]})
    words = typed.split(maxsplit=2)
    head, name = (command_word(word) for word in [*words[:2], ""][:2])
    argument = words[2].strip() if len(words) > 2 else ""
    if head in ("/help", "help") and not name:
        return ConsoleCommand("help")
    if typed and not typed.startswith(("/", "／")):
        # Words typed without a command: most likely a search (echoed, if long, cut).
        shown = typed if len(typed) <= HINT_WORDS else typed[: HINT_WORDS - 1] + "…"
        return ConsoleCommand("words", {"words": shown})
    if head not in ("/news", "/digest"):
        return ConsoleCommand("unknown", {"command": head})
    if head == "/digest":
        if name in DISCORD_ONLY_COMMANDS:
            return ConsoleCommand("discord_only", {"command": f"/digest {name}"})
        if name in ("preview", ""):
            return _parse_digest(argument)
        return ConsoleCommand("unknown", {"command": f"/digest {name}"})
    if not name or name == "help":
        return ConsoleCommand("help")
    if name == "latest":
        return ConsoleCommand("latest", _parse_latest(argument))
    if name in ("about", "ask"):
        key = "query" if name == "about" else "question"
        prefix = f"{key}:"
        value = argument[len(prefix) :].strip() if argument.startswith(prefix) else argument
        return ConsoleCommand(name, {key: value})
    if name == "digest":
        return _parse_digest(argument)
    if name == "trend":
        return _parse_trend(argument)
    if name in DISCORD_ONLY_COMMANDS:
        return ConsoleCommand("discord_only", {"command": f"/digest {name}"})
    return ConsoleCommand("unknown", {"command": f"/news {name}"})


# -- the prompt ----------------------------------------------------------------------------


def digest_previewer(service: NewsService) -> DigestPreview:
    """``/news digest preview [DATE]`` at the console: the digest of ``DATE`` (default: the
    last 24 hours) in a locale, in the zone ``digest.default_timezone``, as the messages a
    new subscription would get (``technyan-bot digest preview`` prints the same)."""
    from bot.digest import preview_text, render_digest_messages, standalone_digest

    def preview(locale: str, day: dt.date | None) -> str:
        digest = standalone_digest(
            service, locale=locale, timezone=service.settings.default_timezone, day=day
        )
        return preview_text(render_digest_messages(digest))

    return preview


class _Session:
    """One console session: the service, the reply locale and where replies go."""

    def __init__(
        self,
        service: NewsService,
        locale: str,
        terminal: Terminal,
        preview: DigestPreview,
        trend: TrendAnswer | None,
    ) -> None:
        self.service = service
        self.persona = service.persona
        self.locale = locale
        self.terminal = terminal
        self.preview = preview
        self.trend = trend

    def say(self, line: str, seed: str = "", **values: object) -> Reply:
        return Reply("help", self.locale, self.persona.say(line, self.locale, seed, **values))

    def answer(self, command: ConsoleCommand) -> Reply | str:
        """The reply to ``command``, or the text of a digest preview or a trend."""
        options = command.options
        if command.name == "latest":
            return self.service.latest(options.get("count"), options.get("category"), self.locale)
        if command.name == "about":
            return self.service.about(options["query"], self.locale)
        if command.name == "ask":
            return self.service.ask(options["question"], self.locale)
        if command.name == "digest":
            return self.digest(options.get("date"))
        if command.name == "trend" and self.trend is not None:
            return self.trend(options["query"], options.get("period"), self.locale)
        if command.name == "trend":
            return self.say("unknown_command", "/news trend", command="/news trend")
        if command.name == "discord_only":
            return self.say("discord_only", options["command"], command=options["command"])
        if command.name == "unknown":
            return self.say("unknown_command", options["command"], command=options["command"])
        if command.name == "words":
            return self.say("console_search_hint", options["words"], words=options["words"])
        return self.say("console_help", low=1, high=MAX_LATEST)

    def digest(self, date: str | None) -> Reply | str:
        try:
            day = parse_digest_date(date) if date is not None else None
        except InvalidOption as error:
            return self.say(error.persona_key, error.value, value=error.value)
        return self.preview(self.locale, day)

    def run(self, line: str) -> None:
        try:
            reply = self.answer(parse_slash_command(line))
        except sqlite3.DatabaseError as error:
            log.error(
                "the index is damaged (%s); rebuild it with `%s`",
                error,
                rebuild_command(self.service.settings.index_path),
            )
            reply = self.service.error(self.locale)
        except Exception:  # the console, like Discord, never shows a traceback
            log.exception("console command failed: %s", line)
            reply = self.service.error(self.locale)
        if isinstance(reply, str):
            self.terminal.print_wrapped(reply)
        else:
            self.terminal.print(styled_reply(reply, self.terminal.width))
        self.terminal.print()


def _read_line(stdin: TextIO) -> str | None:
    """The next line of ``stdin`` as clean text, or None at the end (or on Ctrl-C)."""
    try:
        line = stdin.readline()
    except KeyboardInterrupt:
        return None
    return clean_text(line) if line else None


def run_console(
    service: NewsService,
    locale: str,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    digest_preview: DigestPreview | None = None,
    trend: TrendAnswer | None = None,
    banner: Iterable[str] = (),
    width: int | None = None,
) -> int:
    """Read slash commands line by line and print technyan's replies until EOF or
    ``/quit``. ``/locale ja`` switches the reply language. Replies are wrapped to
    ``width`` cells (default: the terminal's, or 80 when the output is not a terminal).
    ``digest_preview`` answers ``/news digest preview`` (default: ``digest_previewer``);
    ``trend(topics, period, locale)`` answers ``/news trend`` (the chart written to a file,
    its path in the text). Input that is not valid UTF-8 is read with the bad bytes
    replaced (U+FFFD). Returns the exit status (0)."""
    stdin = stdin or sys.stdin
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(errors="replace")
    terminal = Terminal(stdout, width)
    interactive = stdin.isatty()
    session = _Session(
        service, locale, terminal, digest_preview or digest_previewer(service), trend
    )
    persona = service.persona

    terminal.print_wrapped(persona.say("greeting", locale))
    for banner_line in banner:
        terminal.print(banner_line)
    terminal.print_wrapped(persona.say("console_hint", locale))
    while True:
        if interactive:
            terminal.write("> ")
        typed = _read_line(stdin)
        if typed is None:
            if interactive:
                terminal.write("\n")
            break
        line = typed.strip()
        if not line:
            continue
        if not interactive:
            terminal.print(f"> {line}")
        words = [command_word(word) for word in line.split()[:2]]
        # "/quit now" quits too; a bare "exit" only alone ("exit polls" is a search).
        if words[0] in QUIT_COMMANDS and (len(words) == 1 or words[0].startswith("/")):
            break
        if words[0] == "/locale":
            wanted = words[1] if len(words) > 1 else ""
            if wanted in ("ja", "en"):
                session.locale = wanted
                terminal.print(f"locale: {wanted}")
            elif wanted:
                terminal.print(f"locale: {session.locale} (ja or en, not {wanted!r})")
            else:
                terminal.print(f"locale: {session.locale} (/locale ja or /locale en)")
            continue
        session.run(line)
    return 0
