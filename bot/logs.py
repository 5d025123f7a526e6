"""Logging: one setup for every command, text or JSON lines, never a secret.

``configure_logging(settings, secrets)`` installs one handler on the root logger through
``discord.utils.setup_logging`` (discord.py's loggers and ours all propagate to it), at
``bot.log_level``, as text or (``bot.log_format = "json"``) one JSON object per line with
``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and any ``extra`` fields a
call passed (``command``, ``guild``, ``locale``, ``results``, ``ms`` …).

A ``RedactingFilter`` on the handler replaces, in each record's message, arguments,
traceback and stack: the given secrets (the bot token), anything shaped like a Discord bot
token, and interaction tokens (in webhook and callback URLs and in ``token`` fields of
logged payloads), with ``[REDACTED]``. Filters sit on the handler because a logger's own
filters do not see records that propagate from child loggers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.config import Settings

__all__ = ["REDACTED", "JsonFormatter", "RedactingFilter", "configure_logging"]

REDACTED = "[REDACTED]"
# Discord bot tokens: base64 user id, a dot, a timestamp part, a dot, an HMAC part.
_BOT_TOKEN_RE = re.compile(r"[MNO][A-Za-z\d_-]{23,}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}")
# Interaction tokens travel in webhook and callback URLs, and in the INTERACTION_CREATE
# payloads discord.py logs at DEBUG (``'token': '…'``).
_URL_TOKEN_RE = re.compile(r"(/(?:webhooks|interactions)/\d+/)[\w.\-]{20,}")
_FIELD_TOKEN_RE = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class RedactingFilter(logging.Filter):
    """Replaces each of ``secrets``, token-shaped text and interaction tokens with
    ``[REDACTED]`` in a record's message, arguments, exception text and stack."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        """``text`` with every secret and token replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        text = _BOT_TOKEN_RE.sub(REDACTED, text)
        text = _URL_TOKEN_RE.sub(lambda m: m.group(1) + REDACTED, text)
        return _FIELD_TOKEN_RE.sub(lambda m: m.group(1) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact ``record`` in place; always keeps it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw text
            message = str(record.msg)
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC ISO 8601), ``level``, ``logger``,
    ``message``, the record's ``extra`` fields, and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                plain = isinstance(value, (int, float, bool, type(None)))
                entry[key] = value if plain else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


_installed: logging.Handler | None = None


def _drop_voice_notices(record: logging.LogRecord) -> bool:
    """discord.py warns at every start that voice libraries are missing; the bot has no
    voice features, so those lines are noise."""
    return not (record.name == "discord.client" and "voice will NOT be supported" in record.msg)


def configure_logging(
    settings: Settings, secrets: Iterable[str] = (), *, stream: TextIO | None = None
) -> logging.Handler:
    """Log to ``stream`` (default stderr) at ``settings.log_level`` as
    ``settings.log_format`` through ``discord.utils.setup_logging`` (root logger), with a
    ``RedactingFilter`` for ``secrets``. Calling it again replaces the handler it installed
    before. Returns the handler."""
    import discord

    global _installed
    root = logging.getLogger()
    if _installed is not None:
        root.removeHandler(_installed)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    handler.addFilter(_drop_voice_notices)
    json_lines = settings.log_format == "json"
    # A plain formatter: discord.py's default adds colour codes even into files and pipes.
    plain = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    discord.utils.setup_logging(
        handler=handler,
        formatter=JsonFormatter() if json_lines else plain,
        level=logging.getLevelName(settings.log_level),
        root=True,
    )
    _installed = handler
    return handler
