"""Logging never carries a token, and JSON lines are one object per line with the
fields a command log carries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.config import load_settings
from bot.logs import configure_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    settings = load_settings(None, environ={"TECHNYAN_BOT_LOG_FORMAT": "json"})
    handler = configure_logging(settings, [TOKEN], stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_the_token_never_reaches_a_log_line(captured: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    other = TOKEN[:-2] + "ZZ"  # token-shaped but not the configured one
    log.info("connecting with %s", TOKEN)
    log.warning("header Authorization: Bot %s", other)
    try:
        raise RuntimeError(f"login failed for {TOKEN}")
    except RuntimeError:
        log.exception("gateway error")
    output = captured.getvalue()
    assert TOKEN not in output
    assert other not in output
    assert output.count("[REDACTED]") >= 3


def test_json_lines_carry_the_fields_of_a_command(captured: io.StringIO) -> None:
    logging.getLogger("bot.discord").info(
        "served",
        extra={"command": "news about", "guild": 42, "locale": "ja", "results": 3, "ms": 12.5},
    )
    line = json.loads(captured.getvalue().splitlines()[-1])
    assert line["message"] == "served"
    fields = (line["command"], line["guild"], line["locale"], line["results"], line["ms"])
    assert fields == ("news about", 42, "ja", 3, 12.5)
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
