"""The documents of recently shown stories, kept in memory while an index is open.

An open ``index.db`` never changes (a refreshed index is opened by a new
``bot.search.SearchEngine``), so a story's documents read once stay true until the engine
is closed. ``/news latest`` shows the same newest stories again and again, and reading
and decoding them (three JSON columns per row) is most of its time at 100,000 documents.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from cachetools import LRUCache

from bot.search_results import Document

__all__ = ["STORY_CACHE_CAPACITY", "StoryDocumentCache"]

# Stories whose documents are kept: five pages of the longest ``/news latest`` (100) and
# every story a few searches showed. A story's two documents take about 4.6 KB (measured
# at 100,000 documents: 2,000 newest stories 9.2 MB, the 2,000 longest 12.3 MB), so the
# cache holds at most about 3 MB.
STORY_CACHE_CAPACITY = 500


class StoryDocumentCache:
    """A least-recently-used map ``{story: {locale: Document}}`` of at most ``capacity``
    stories (≥ 1). Thread-safe. It keeps no reference to what reads the index (the reader
    is passed per call), so the engine owning it makes no reference cycle with it. Raises
    ``ValueError`` for a capacity below 1."""

    def __init__(self, capacity: int = STORY_CACHE_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"story cache capacity must be at least 1, not {capacity}")
        self.capacity = capacity
        self._stories: LRUCache[str, dict[str, Document]] = LRUCache(maxsize=capacity)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """The number of stories held (≤ ``capacity``)."""
        return len(self._stories)

    def documents_of(
        self, stories: Sequence[str], read: Callable[[Sequence[str]], Iterable[Document]]
    ) -> dict[str, dict[str, Document]]:
        """``{story: {locale: Document}}`` for those of ``stories`` that have documents
        (each story's dict is a fresh copy the caller may change). The stories not held
        are read in one call of ``read``, which returns their documents in any order (a
        story it returns nothing for is not held); it is called outside the cache's lock,
        and its errors reach the caller."""
        found: dict[str, dict[str, Document]] = {}
        missing: list[str] = []
        with self._lock:
            for story in stories:
                held = self._stories.get(story)  # a hit counts as a use
                if held is None:
                    missing.append(story)
                else:
                    found[story] = dict(held)
        if not missing:
            return found
        loaded: dict[str, dict[str, Document]] = {}
        for document in read(missing):
            loaded.setdefault(document.story, {})[document.locale] = document
        with self._lock:
            for story, by_locale in loaded.items():
                self._stories[story] = by_locale  # the least recently used leave first
        for story, by_locale in loaded.items():
            found[story] = dict(by_locale)
        return found

    def clear(self) -> None:
        """Let go of every story held."""
        with self._lock:
            self._stories.clear()
