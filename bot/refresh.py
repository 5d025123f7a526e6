"""Keeping the index up to date while the bot runs: a ``BackgroundService`` that, every few
minutes, optionally pulls the corpus with git, brings the index up to date incrementally
and reopens it. The update runs in a separate process (``technyan-bot index``), so no
Python work of the build competes with the event loop for the interpreter lock; only the
reopening runs in a worker thread.

Started once from ``NewsBot.setup_hook`` (never from ``on_ready``) and stopped when the bot
closes. A failed refresh is logged and retried at the next interval; the old index keeps
serving (a rebuild swaps in atomically).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import subprocess
import sys
from typing import Any

from bot.service import NewsService

__all__ = ["GIT_PULL_SECONDS", "IndexRefresher"]

log = logging.getLogger("bot.refresh")

#: Seconds ``git pull --ff-only`` may take before it is abandoned.
GIT_PULL_SECONDS = 120


class IndexRefresher:
    """Refresh ``service``'s index every ``interval`` seconds (``corpus.refresh_minutes``
    × 60); with ``git_pull``, run ``git pull --ff-only`` in the corpus first
    (``corpus.git_pull``). Implements ``bot.admin.BackgroundService``."""

    def __init__(self, service: NewsService, interval: float, *, git_pull: bool = False) -> None:
        self.service = service
        self.interval = interval
        self.git_pull = git_pull
        self.refreshes = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self, bot: Any) -> None:
        """Start the refresh loop (the first refresh after one interval). Starting twice
        does not start a second loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="technyan-index-refresh")

    async def stop(self) -> None:
        """Stop the loop; an index build already running in its child process finishes
        on its own (it swaps the new index in atomically)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        # What the first fuzzy query would load (names, n-gram filters), loaded now in a
        # worker thread, so no user waits for it.
        try:
            await asyncio.to_thread(self._warm)
        except Exception:
            log.exception("could not prepare the index's lookups; the first queries will")
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh_in_subprocess()
            except Exception:
                log.exception("index refresh failed; the current index keeps serving")

    async def refresh_in_subprocess(self) -> dict[str, Any] | None:
        """One refresh without blocking the event loop: git pull when configured and
        ``technyan-bot index CORPUS --db INDEX --json`` as a child process, then the
        search engine reopened in a worker thread. Returns the child's report (a dict),
        or None when it failed (logged; the current index keeps serving)."""
        settings = self.service.settings
        if self.git_pull:
            await asyncio.to_thread(self._git_pull)
        command = [
            sys.executable, "-m", "bot", "index", str(settings.corpus_path),
            "--db", str(settings.index_path), "--json",
        ]  # fmt: skip
        child = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await child.communicate()
        try:
            report: dict[str, Any] = json.loads(out.decode("utf-8"))
        except ValueError:
            log.warning("index refresh failed (exit %s): %s", child.returncode, err.decode()[-500:])
            return None
        if report.get("refused"):
            log.warning("index refresh refused: %s", report["refused"])
        elif report.get("added") or report.get("updated") or report.get("removed"):
            await asyncio.to_thread(self._reopen)
            log.info(
                "index refreshed: %d added, %d updated, %d removed in %.2f s",
                report["added"],
                report["updated"],
                report["removed"],
                report["seconds"],
                extra={
                    "changed": report["added"] + report["updated"] + report["removed"],
                    "seconds": round(report["seconds"], 3),
                },
            )
            for path, reason in report.get("skipped", []):
                log.warning("corpus file skipped: %s: %s", path, reason)
            for path, message in report.get("warnings", []):
                log.warning("corpus file indexed with a warning: %s: %s", path, message)
        self.refreshes += 1
        return report

    def _reopen(self) -> None:
        self.service.reload()
        self._warm()  # open the new index here, not on the event loop

    def _warm(self) -> None:
        self.service.engine.warm()

    def _git_pull(self) -> None:
        corpus = self.service.settings.corpus_path
        try:
            done = subprocess.run(
                ["git", "-C", str(corpus), "pull", "--ff-only", "--quiet"],
                capture_output=True,
                text=True,
                timeout=GIT_PULL_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            log.warning("git pull in %s failed: %s", corpus, error)
            return
        if done.returncode != 0:
            log.warning("git pull in %s failed: %s", corpus, done.stderr.strip()[:500])
