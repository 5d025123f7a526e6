"""Logging: one setup for every command, text or JSON lines, never a secret.

``configure_logging(level, fmt)`` installs one handler on the root logger (discord.py's
loggers propagate to it). ``fmt="json"`` writes one JSON object per line with ``time``
(UTC, ISO 8601), ``level``, ``logger``, ``message`` and any ``extra`` fields; ``"text"``
writes ``time level logger: message``. A filter on the handler replaces the Discord token
(from ``DISCORD_TOKEN``) and anything shaped like a bot token with ``[token]``, in the
message, its arguments and tracebacks, so no log line ever carries it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
from typing import Any, TextIO

__all__ = ["JsonFormatter", "RedactingFilter", "configure_logging"]

# Discord bot tokens: base64 user id, a dot, a timestamp part, a dot, an HMAC part.
TOKEN_PATTERN = re.compile(r"[MNO][A-Za-z\d_-]{23,}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}")
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record (message, arguments, exception text) with
    ``[token]``: the given ``secrets`` (default: ``DISCORD_TOKEN``) and token-shaped text."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        token = os.environ.get("DISCORD_TOKEN", "")
        self.secrets = [s for s in (secrets if secrets is not None else [token]) if s]

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "[token]")
        return TOKEN_PATTERN.sub("[token]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self.redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC ISO 8601), level, logger, message, the
    record's ``extra`` fields, and ``exception`` when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                payload[key] = (
                    value if isinstance(value, (int, float, bool, type(None))) else str(value)
                )
        if record.exc_text:
            payload["exception"] = record.exc_text
        elif record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(
    level: str = "INFO", fmt: str = "text", stream: TextIO | None = None
) -> logging.Handler:
    """Send all logging to ``stream`` (default stderr) at ``level`` (DEBUG, INFO, WARNING,
    ERROR) as ``fmt`` (``text`` or ``json``), with secrets redacted. Replaces handlers a
    previous call installed. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_technyan", False):
            root.removeHandler(existing)
    handler._technyan = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
