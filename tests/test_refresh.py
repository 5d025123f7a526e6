"""The background refresher: what the build reported (skipped files, warnings), a corpus
pulled with git, and failures that leave the current index serving."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
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


@pytest.fixture
def serving(tmp_path: Path, write_article: ArticleWriter) -> NewsService:
    """A service answering from an index of one story, "Quasarine launches"."""
    write_article("articles/20251118/quasarine/en.md", title="Quasarine launches",
                  tags=["Quasarine"])  # fmt: skip
    settings = load_settings(None).with_paths(
        corpus=tmp_path / "corpus", index=tmp_path / "index.db"
    )
    service = NewsService(settings)
    service.ensure_index()
    assert service.about("Quasarine", "en").found
    return service


async def test_a_corpus_gone_missing_keeps_the_current_index_serving(
    serving: NewsService, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.rmtree(serving.settings.corpus_path)
    refresher = IndexRefresher(serving, interval=3600)
    with caplog.at_level(logging.WARNING, logger="bot.refresh"):
        assert await refresher.refresh_in_subprocess() is None
    assert "index refresh failed (exit 2)" in caplog.text
    assert "corpus folder not found" in caplog.text
    assert refresher.refreshes == 0
    assert serving.about("Quasarine", "en").found  # the old index still answers


async def test_an_emptied_corpus_is_refused_and_the_index_kept(
    serving: NewsService, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.rmtree(serving.settings.corpus_path / "articles")
    (serving.settings.corpus_path / "articles").mkdir()
    refresher = IndexRefresher(serving, interval=3600)
    with caplog.at_level(logging.WARNING, logger="bot.refresh"):
        report = await refresher.refresh_in_subprocess()
    assert report is not None and "no article files" in report["refused"]
    assert "index refresh refused: no article files" in caplog.text
    assert serving.about("Quasarine", "en").found
    assert serving.engine.document_count == 1


async def test_a_failing_refresh_is_logged_and_the_loop_goes_on(
    serving: NewsService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    refresher = IndexRefresher(serving, interval=0)
    attempts: list[int] = []
    second = asyncio.Event()

    async def refresh() -> None:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise OSError("no more processes")
        second.set()

    monkeypatch.setattr(refresher, "refresh_in_subprocess", refresh)
    with caplog.at_level(logging.ERROR, logger="bot.refresh"):
        await refresher.start(None)
        await asyncio.wait_for(second.wait(), 60)
        await refresher.stop()
    assert "index refresh failed; the current index keeps serving" in caplog.text
    assert "no more processes" in caplog.text
    await refresher.stop()  # stopping twice is fine


def git(*arguments: str, cwd: Path) -> str:
    """Run git with a fixed identity; returns its output."""
    identity = {
        "GIT_AUTHOR_NAME": "Editor",
        "GIT_AUTHOR_EMAIL": "editor@example.com",
        "GIT_COMMITTER_NAME": "Editor",
        "GIT_COMMITTER_EMAIL": "editor@example.com",
    }
    done = subprocess.run(
        ["git", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, **identity},
    )
    return done.stdout


async def test_git_pull_brings_the_sites_new_stories_into_the_index(
    tmp_path: Path, write_article: ArticleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    # The site's repository, and the bot's checkout of it.
    write_article("articles/20251118/quasarine/en.md", title="Quasarine launches")
    site = tmp_path / "corpus"
    git("init", "-q", "-b", "main", cwd=site)
    git("add", ".", cwd=site)
    git("commit", "-q", "-m", "first story", cwd=site)
    checkout = tmp_path / "checkout"
    git("clone", "-q", str(site), str(checkout), cwd=tmp_path)
    settings = load_settings(None).with_paths(corpus=checkout, index=tmp_path / "index.db")
    service = NewsService(settings)
    service.ensure_index()
    # The editors publish a story on the site.
    write_article("articles/20251119/zephyrine/en.md", title="Zephyrine arrives",
                  tags=["Zephyrine"])  # fmt: skip
    git("add", ".", cwd=site)
    git("commit", "-q", "-m", "second story", cwd=site)
    assert not service.about("Zephyrine", "en").found

    refresher = IndexRefresher(service, interval=3600, git_pull=True)
    report = await refresher.refresh_in_subprocess()
    assert report is not None and report["added"] == 1
    assert service.about("Zephyrine", "en").found
    assert (checkout / "articles/20251119/zephyrine/en.md").is_file()

    # A checkout that cannot pull (here: its remote is gone) is logged; the refresh
    # still indexes what is there.
    shutil.rmtree(site)
    with caplog.at_level(logging.WARNING, logger="bot.refresh"):
        report = await refresher.refresh_in_subprocess()
    assert report is not None and report["added"] == 0
    assert f"git pull in {checkout} failed" in caplog.text
    assert service.about("Zephyrine", "en").found
