"""The terminal adapter: type the slash commands as a Discord user would, see the reply.

``render_reply`` turns a ``Reply`` into plain text (used by ``technyan-bot news …`` too);
``run_console`` is the interactive prompt. Nothing here ranks, filters or phrases: the
words come from the core and the persona.
"""

from __future__ import annotations

import logging
import shlex
import sqlite3
import sys
import textwrap
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.replies import Reply, StoryCard
from bot.service import NewsService

__all__ = ["ConsoleCommandError", "parse_slash_command", "render_reply", "run_console"]

log = logging.getLogger(__name__)

WIDTH = 88


class ConsoleCommandError(ValueError):
    """A line typed at the console that is not a known command."""


def _wrap(text: str, indent: str = "   ") -> str:
    return "\n".join(
        textwrap.fill(line, WIDTH, initial_indent=indent, subsequent_indent=indent) or indent
        for line in text.splitlines()
    )


def render_card(card: StoryCard, position: int) -> str:
    """One story as text: number, title, date · category, description, technyan's comment,
    tags, link, and the card's note (weak match, other language only)."""
    meta = [card.date.isoformat(), card.category]
    if card.impact_level:
        meta.append(f"impact: {card.impact_level}")
    label = f"{card.label} " if card.label else ""
    lines = [
        f"{position}. {label}{card.title}",
        f"   {' · '.join(meta)}",
        _wrap(card.description),
    ]
    if card.technyan_comment:
        lines.append(_wrap(f"🐾 「{card.technyan_comment}」"))
    if card.tags:
        lines.append(f"   #{' #'.join(card.tags)}")
    lines.append(f"   {card.url}")
    if card.note:
        lines.append(f"   ({card.note})")
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    """A ``Reply`` as terminal text: header, the answer or the cards, footer."""
    parts = [reply.header]
    if reply.answer is not None:
        answer = reply.answer
        parts.append(_wrap(f"“{answer.text}”", "  > "))
        heading = f" › {answer.heading}" if answer.heading else ""
        parts.append(f"  — {answer.card.title}{heading}\n    {answer.card.url}")
    else:
        if reply.weak and reply.footer:
            parts.append(reply.footer)
        for position, card in enumerate(reply.cards, start=1):
            parts.append(render_card(card, position))
        if not reply.weak and reply.footer:
            parts.append(reply.footer)
    return "\n\n".join(part for part in parts if part)


def parse_slash_command(line: str) -> tuple[str, dict[str, str]]:
    """Parse ``/news about DeepSeek``, ``/news latest count:3 category:Claude`` or
    ``/news trend DeepSeek, Gemini period:6m`` into ``("about", {"query": "DeepSeek"})``.
    Raises ``ConsoleCommandError`` otherwise."""
    text = line.strip()
    if not text.startswith("/news"):
        raise ConsoleCommandError(text)
    rest = text[len("/news") :].strip()
    if not rest:
        return "help", {}
    name, _, argument = rest.partition(" ")
    argument = argument.strip()
    options: dict[str, str] = {}
    if name == "latest":
        try:
            words = shlex.split(argument)
        except ValueError:
            words = argument.split()
        free: list[str] = []
        pending = ""
        for word in words:
            key, sep, value = word.partition(":")
            if pending:
                options[pending], pending = word, ""
            elif word in ("--count", "--category"):
                pending = word[2:]
            elif sep and key in ("count", "category"):
                options[key] = value
            elif word.isdigit() and "count" not in options:
                options["count"] = word
            else:
                free.append(word)
        if free and "category" not in options:
            options["category"] = " ".join(free)
        return "latest", options
    if name == "trend":
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
        return "trend", options
    if name in ("about", "ask"):
        key = "query" if name == "about" else "question"
        prefix = f"{key}:"
        options[key] = argument[len(prefix) :].strip() if argument.startswith(prefix) else argument
        return name, options
    if name == "help":
        return "help", {}
    if name == "digest":
        return "digest", {"what": argument or "preview"}
    raise ConsoleCommandError(text)


def run_console(
    service: NewsService,
    locale: str,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    digest_preview: Callable[[str], str] | None = None,
    trend: Callable[[str, str | None, str], str] | None = None,
    banner: Iterable[str] = (),
) -> int:
    """Read slash commands line by line and print technyan's replies until EOF or
    ``/quit``. ``/locale ja`` switches the reply language. ``trend(query, period, locale)``
    answers ``/news trend`` (the chart written to a file, its path in the text). Returns
    the exit status (0)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    persona = service.persona

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    say(persona.say("greeting", locale))
    for line in banner:
        say(line)
    say(persona.say("console_hint", locale))
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        if not line:
            if interactive:
                stdout.write("\n")
            break
        line = line.strip()
        if not line:
            continue
        if line in ("/quit", "/exit", "quit", "exit"):
            break
        if line.startswith("/locale"):
            wanted = line.split()[-1].casefold()
            if wanted in ("ja", "en"):
                locale = wanted
                say(f"locale: {locale}")
            else:
                say(f"locale: {locale} (ja or en, not {wanted!r})")
            continue
        if not interactive:
            say(f"> {line}")
        try:
            command, options = parse_slash_command(line)
            if command == "latest":
                count = int(options["count"]) if options.get("count", "").isdigit() else 5
                reply = service.latest(count, options.get("category"), locale)
            elif command == "about":
                reply = service.about(options["query"], locale)
            elif command == "ask":
                reply = service.ask(options["question"], locale)
            elif command == "digest" and digest_preview is not None:
                say(digest_preview(locale))
                continue
            elif command == "trend" and trend is not None:
                say(trend(options["query"], options.get("period"), locale) + "\n")
                continue
            else:
                reply = service.help(locale)
        except ConsoleCommandError:
            reply = service.help(locale)
        except sqlite3.DatabaseError as error:
            log.error(
                "the index is damaged (%s); rebuild it with `technyan-bot index --full`", error
            )
            reply = service.error(locale)
        except Exception:  # the console, like Discord, never shows a traceback
            log.exception("console command failed: %s", line)
            reply = service.error(locale)
        say(render_reply(reply))
        say("")
    return 0
