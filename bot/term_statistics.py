"""How many documents of ``index.db`` hold a term, a phrase or a NEAR group, and their idf.

Single terms are read from ``term_stats`` (one row per analyzed term); a phrase or NEAR
group whose rarest word is in at most PHRASE_COUNT_LIMIT documents is counted with one
FTS5 ``MATCH`` on ``docs_fts``, a more common one is estimated by that word's count (an
upper bound: counting would read long posting lists). Counts are remembered per phrase.
"""

from __future__ import annotations

import math
import sqlite3
import threading

from bot.query import Alternative

__all__ = ["DF_CACHE_LIMIT", "PHRASE_COUNT_LIMIT", "TermStatistics"]

# Above this many documents for its rarest term, a phrase's frequency is estimated by that
# term's instead of counted (the count would read long posting lists).
PHRASE_COUNT_LIMIT = 1000
# Document frequencies remembered (cleared when full: under a megabyte). 5,000 keys hold
# the words of a thousand-odd queries; each miss costs one indexed lookup (tens of µs).
DF_CACHE_LIMIT = 5_000


class TermStatistics:
    """Document frequencies and bm25 idf over one open index.

    ``db`` is a read-only connection to ``index.db``, shared with the other parts of the
    search and used only under ``lock``; ``document_count`` is the number of rows of
    ``documents`` (the N of idf). Raises only what ``sqlite3`` raises on a broken index.
    """

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock, document_count: int) -> None:
        self._db = db
        self._lock = lock
        self.document_count = document_count
        self._df_cache: dict[tuple[str, ...], int] = {}

    def clear_cache(self) -> None:
        """Forget the remembered frequencies (they are recounted on the next request)."""
        self._df_cache.clear()

    def document_frequency(self, terms: tuple[str, ...]) -> int:
        """Number of documents containing the phrase ``terms`` (analyzed terms). Exact for
        single terms and for phrases whose rarest term is in at most PHRASE_COUNT_LIMIT
        documents; above that, the rarest term's count (an upper bound)."""
        if not terms:
            return 0
        cached = self._df_cache.get(terms)
        if cached is not None:
            return cached
        if len(terms) == 1:
            with self._lock:
                row = self._db.execute(
                    "SELECT documents FROM term_stats WHERE term = ?", [terms[0]]
                ).fetchone()
            count = int(row[0]) if row else 0
        else:
            count = min(self.document_frequency((term,)) for term in terms)
            if 0 < count <= PHRASE_COUNT_LIMIT:
                phrase = '"' + " ".join(terms).replace('"', '""') + '"'
                with self._lock:
                    count = int(
                        self._db.execute(
                            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?", [phrase]
                        ).fetchone()[0]
                    )
        self._remember(terms, count)
        return count

    def _remember(self, key: tuple[str, ...], count: int) -> None:
        if len(self._df_cache) >= DF_CACHE_LIMIT:
            self._df_cache.clear()
        self._df_cache[key] = count

    def alternative_frequency(self, alternative: Alternative) -> int:
        """Documents matching ``alternative``: its phrase's frequency, or for a NEAR group
        the count of documents matching it (estimated like long phrases)."""
        if not alternative.near:
            return self.document_frequency(alternative.terms)
        key = ("NEAR", alternative.fts())
        cached = self._df_cache.get(key)
        if cached is None:
            cached = min(self.document_frequency((term,)) for term in alternative.terms)
            if 0 < cached <= PHRASE_COUNT_LIMIT:
                with self._lock:
                    cached = int(
                        self._db.execute(
                            "SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?",
                            [alternative.fts()],
                        ).fetchone()[0]
                    )
            self._remember(key, cached)
        return cached

    def idf(self, document_frequency: int) -> float:
        """bm25's idf for a term found in ``document_frequency`` documents (≥ 0)."""
        n = self.document_count
        return math.log((n - document_frequency + 0.5) / (document_frequency + 0.5) + 1.0)

    def postings(self, alternative: Alternative) -> int:
        """Postings FTS5 reads to match ``alternative``: the documents of each of its words."""
        return sum(self.document_frequency((term,)) for term in alternative.terms)
