"""User input cleaned and validated once, in the core: text from outside made valid
Unicode, story counts and digest dates checked the same way for every adapter."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.service import NewsService
from bot.user_input import (
    MAX_LATEST,
    InvalidOption,
    clean_text,
    parse_digest_date,
    parse_story_count,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (b"Deep\xffSeek", "Deep\ufffdSeek"),
        (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate is not UTF-8
        ("Deep\udcffSeek", "Deep\ufffdSeek"),  # os.fsdecode of a bad argument byte
        ("\ud83d", "\ufffd"),  # half of an emoji, as JSON "\\ud83d" decodes
        ("a\x00b\x1bc\x7fd", "a b c d"),
        ("tab\tand\nline", "tab\tand\nline"),
        ("ディープシーク 🐾", "ディープシーク 🐾"),
    ],
)
def test_clean_text_is_always_encodable(raw: str | bytes, clean: str) -> None:
    assert clean_text(raw) == clean
    clean.encode("utf-8")  # never raises


@pytest.mark.parametrize(
    ("value", "count"), [(None, 5), ("", 5), ("1", 1), (25, 25), ("２５", 25), (" 3 ", 3)]
)
def test_story_counts_that_are_read(value: int | str | None, count: int) -> None:
    assert parse_story_count(value) == count


@pytest.mark.parametrize(
    "value", [0, 26, -1, True, "0", "26", "2.5", "abc", "1e3", "٣٣", "9" * 5000, "0" * 5000 + "3"]
)
def test_story_counts_that_are_refused(value: int | str) -> None:
    with pytest.raises(InvalidOption) as raised:
        parse_story_count(value)
    assert raised.value.option == "count" and raised.value.persona_key == "invalid_count"
    assert str(raised.value).startswith(f"expected a number from 1 to {MAX_LATEST}, got ")
    assert len(str(raised.value)) < 100  # a long value is shown cut


@pytest.mark.parametrize(
    ("value", "day"),
    [("2026-02-08", dt.date(2026, 2, 8)), ("２０２６－０２－０８", dt.date(2026, 2, 8))],
)
def test_digest_dates_that_are_read(value: str, day: dt.date) -> None:
    assert parse_digest_date(value) == day


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "08/02/2026",
        "2026/02/08",
        "2026-2-8",
        "yesterday",
        "",
        "x" * 10_000,
        "0001-01-01",
        "9999-12-31",
    ],
)
def test_digest_dates_that_are_refused(value: str) -> None:
    with pytest.raises(InvalidOption) as raised:
        parse_digest_date(value)
    assert raised.value.persona_key == "invalid_date"
    assert len(str(raised.value)) < 100


@pytest.fixture(scope="module")
def service(bundled_index: Path) -> NewsService:
    return NewsService(load_settings(None, environ={}).with_paths(index=bundled_index))


def test_the_core_cleans_what_discord_options_carry(service: NewsService) -> None:
    """A Discord option is JSON text, and JSON may hold a lone surrogate (``"\\ud800"``):
    every entry point of the core cleans it, so replies can be encoded and sent."""
    text = json.loads('"\\ud800DeepSeek"')
    for reply in (
        service.about(text, "en"),
        service.ask(text + " V3 cost?", "en"),
        service.latest(1, text, "en"),
    ):
        reply.header.encode("utf-8")
        reply.query.encode("utf-8")
    assert service.about(text, "en").cards
    assert service.latest(1, text, "en").invalid == "category"
    assert any("DeepSeek" in suggestion.name for suggestion in service.suggest(text))
