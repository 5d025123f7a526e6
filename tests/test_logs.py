"""Logging never carries the token, and JSON lines are one object per line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logs import configure_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    stream = io.StringIO()
    handler = configure_logging("INFO", "json", stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_the_token_never_reaches_a_log_line(captured: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    log.info("connecting with %s", TOKEN)
    log.warning("header Authorization: Bot %s", TOKEN[:-2] + "ZZ")
    try:
        raise RuntimeError(f"login failed for {TOKEN}")
    except RuntimeError:
        log.exception("gateway error")
    output = captured.getvalue()
    assert TOKEN not in output
    assert TOKEN[:-2] + "ZZ" not in output
    assert output.count("[token]") >= 3


def test_json_lines_carry_the_fields_of_a_command(captured: io.StringIO) -> None:
    logging.getLogger("bot.discord").info(
        "served",
        extra={"command": "news about", "guild": 42, "locale": "ja", "results": 3, "ms": 12.5},
    )
    line = json.loads(captured.getvalue().splitlines()[-1])
    assert line["message"] == "served"
    assert (line["command"], line["guild"], line["locale"], line["results"], line["ms"]) == (
        "news about",
        42,
        "ja",
        3,
        12.5,
    )
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
