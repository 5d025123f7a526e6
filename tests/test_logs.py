"""Logging never carries a token, and JSON lines are one object per line with the
fields a command log carries."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs
from bot.config import load_settings
from bot.logs import configure_logging

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Logging configured into a string; afterwards the root logger is as it was (level,
    handlers) and ``configure_logging`` has no handler of its own to replace."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    monkeypatch.setattr(logs, "_installed", None)
    stream = io.StringIO()
    settings = load_settings(None, environ={"TECHNYAN_BOT_LOG_FORMAT": "json"})
    configure_logging(settings, [TOKEN], stream=stream)
    yield stream
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


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


def test_interaction_tokens_in_urls_and_payloads_never_reach_a_log_line(
    captured: io.StringIO,
) -> None:
    token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZmdoaWprbG1ub3BxcnN0"
    log = logging.getLogger("discord.http")
    log.debug("ignored below INFO %s", token)
    log.info("POST /webhooks/1234/%s/messages/@original has returned 404", token)
    log.warning("POST /interactions/5678/%s/callback failed", token)
    log.warning("payload {'type': 2, 'token': '%s', 'id': '9'}", token)
    output = captured.getvalue()
    assert token not in output
    assert "/webhooks/1234/[REDACTED]" in output and "/interactions/5678/[REDACTED]" in output
    assert "'token': '[REDACTED]'" in output
    assert len(output.splitlines()) == 3  # DEBUG is below the configured INFO


def test_text_lines_and_a_second_setup_replaces_the_first(captured: io.StringIO) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    stream = io.StringIO()
    handler = configure_logging(load_settings(None), [TOKEN], stream=stream)
    assert handler in root.handlers
    assert len(root.handlers) == len(before)  # the JSON handler was replaced, not kept
    logging.getLogger("bot.refresh").warning("reindexed %d documents with %s", 3, TOKEN)
    logging.getLogger("discord.client").warning(
        "PyNaCl is not installed, voice will NOT be supported"
    )
    [line] = stream.getvalue().splitlines()
    assert line.endswith("WARNING bot.refresh: reindexed 3 documents with [REDACTED]")
    assert captured.getvalue() == ""  # nothing more goes to the replaced handler
