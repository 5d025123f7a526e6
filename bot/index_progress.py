"""Showing an index build's progress: rich progress bars on a terminal, plain lines
elsewhere.

``build_index`` reports ``IndexProgress`` events (files scanned, files parsed, documents
written, finishing); ``index_progress(stream)`` gives the callback that shows them on
``stream`` (the command's stderr, so ``--json`` output on stdout stays clean). On a
terminal each stage is a rich bar with counts, rate and time left; otherwise a line per
stage when it ends, and one every ``PLAIN_INTERVAL_SECONDS`` while it runs, so a log of
a long build shows it moving.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from bot.index import IndexProgress, ProgressCallback

__all__ = ["PLAIN_INTERVAL_SECONDS", "STAGE_LABELS", "PlainProgress", "index_progress"]

#: What each stage counts, as shown (``IndexProgress.stage`` → label, unit).
STAGE_LABELS = {
    "scan": ("checking files", "files"),
    "parse": ("parsing files", "files"),
    "write": ("writing documents", "documents"),
    "finish": ("finishing the index", "steps"),
}
#: Seconds between two plain progress lines of one running stage.
PLAIN_INTERVAL_SECONDS = 5.0


class _RateColumn(ProgressColumn):  # type: ignore[misc]
    """Items per second of a task (rich's own speed column counts bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


class PlainProgress:
    """Progress as plain lines on ``stream``: ``index: parsing files 1,200/40,000 (310
    files/s, about 2 min left)``. A stage's line is written when it ends and at most every
    ``interval`` seconds while it runs; ``clock`` gives seconds (monotonic)."""

    def __init__(
        self,
        stream: TextIO,
        *,
        interval: float = PLAIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self._started: dict[str, float] = {}
        self._last_line: dict[str, float] = {}

    def __call__(self, event: IndexProgress) -> None:
        now = self.clock()
        started = self._started.setdefault(event.stage, now)
        finished = event.total > 0 and event.done >= event.total
        last = self._last_line.get(event.stage, started)
        if not finished and now - last < self.interval:
            return
        self._last_line[event.stage] = now
        label, unit = STAGE_LABELS.get(event.stage, (event.stage, "items"))
        elapsed = now - started
        line = f"index: {label} {event.done:,}/{event.total:,}"
        if event.stage == "finish":
            line += f" ({elapsed:.1f} s)" if finished else ""
        elif elapsed > 0 and event.done:
            rate = event.done / elapsed
            line += f" ({rate:,.0f} {unit}/s"
            if finished:
                line += f", {elapsed:.1f} s)"
            else:
                line += f", about {_duration((event.total - event.done) / rate)} left)"
        self.stream.write(line + "\n")
        self.stream.flush()


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@contextmanager
def index_progress(stream: TextIO) -> Iterator[ProgressCallback]:
    """The progress callback for a build shown on ``stream``: rich bars when ``stream``
    is a terminal, else ``PlainProgress`` lines. The bars are closed on exit."""
    if not stream.isatty():
        yield PlainProgress(stream)
        return
    columns = (
        TextColumn("{task.description:<20}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=Console(file=stream)) as bars:

        def show(event: IndexProgress) -> None:
            task = tasks.get(event.stage)
            if task is None:
                label = STAGE_LABELS.get(event.stage, (event.stage, ""))[0]
                task = tasks[event.stage] = bars.add_task(label, total=event.total)
            bars.update(task, completed=event.done, total=event.total)

        # Log lines (a skipped file) are printed above the bars, not through them: rich
        # redirects sys.stderr while it draws, but logging handlers hold the stream they
        # were given, so those are pointed at the redirected one meanwhile.
        handlers = [
            handler
            for handler in logging.getLogger().handlers
            if isinstance(handler, logging.StreamHandler) and handler.stream is stream
        ]
        for handler in handlers:
            handler.setStream(sys.stderr)
        try:
            yield show
        finally:
            for handler in handlers:
                handler.setStream(stream)
