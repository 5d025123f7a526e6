"""The background refresher reports what the build reported: skipped files and warnings."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.refresh import IndexRefresher
from bot.service import NewsService
from tests.conftest import ArticleWriter


async def test_a_refresh_logs_skipped_files_and_warnings(
    tmp_path: Path, write_article: ArticleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    write_article("articles/20251118/first/en.md")
    settings = load_settings(None).with_paths(
        corpus=tmp_path / "corpus", index=tmp_path / "index.db"
    )
    service = NewsService(settings)
    service.ensure_index()
    write_article("articles/20250301/late/en.md", date="raw:2024-12-01")
    write_article("articles/20251118/blank/en.md", title="   ")
    refresher = IndexRefresher(service, interval=3600)
    with caplog.at_level(logging.WARNING, logger="bot.refresh"):
        report = await refresher.refresh_in_subprocess()
    assert report is not None and report["added"] == 1
    assert "corpus file skipped: articles/20251118/blank/en.md: title=" in caplog.text
    assert "indexed with a warning: articles/20250301/late/en.md: date 2024-12-01" in caplog.text
    assert service.engine.document_count == 2
