"""Which candidate documents hold which query words, at a cost that follows the number of
candidates rather than the length of the posting lists.

A contentless FTS5 table answers "which documents match" from its posting lists, and
"does this one document match" only by running the query again. So presence is planned
per query: every alternative is listed by FTS5 within the candidates' id runs when that
reads fewer postings than unpacking the candidates' stored bodies would cost (at
PACKED_BYTES_PER_POSTING), else every alternative is checked in memory against the
candidates' stored analyzed columns (``bot.forward_index``), the bodies unpacked once for
all alternatives.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence

from bot import text
from bot.forward_index import DocumentTerms, Phrase
from bot.query import Alternative
from bot.term_statistics import TermStatistics

__all__ = ["PACKED_BYTES_PER_POSTING", "PresencePlanner"]

# FTS5 listing one posting costs about what unpacking and searching this many bytes of a
# compressed body does. Measured on the 1,300 queries of the 100,000-document benchmark,
# each call's presence timed both ways: with zlib bodies, 0.135 µs a posting against
# 0.008 µs a compressed byte; with LZ4 bodies (unpacked six times faster, but a third
# larger, and the search of each body for each alternative, about 3.7 µs, now the larger
# part) any value from 20 to 45 gives the least total time (0.74 s, against 0.64 s for a
# choice that knew each call's cheaper way beforehand) and 45 the smallest worst call.
PACKED_BYTES_PER_POSTING = 45


class PresencePlanner:
    """Tells which of a set of document ids hold given phrases or alternatives.

    ``db`` is a read-only connection to ``index.db`` used only under ``lock``;
    ``statistics`` gives each word's postings; ``last_document_id`` is the largest id of
    ``documents`` (the span candidates are measured against). Document ids are the rowids
    of ``documents``, ``docs_fts`` and ``document_terms`` alike.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        statistics: TermStatistics,
        last_document_id: int,
    ) -> None:
        self._db = db
        self._lock = lock
        self._statistics = statistics
        self.last_document_id = last_document_id

    def holding_any(
        self, phrases: Sequence[tuple[str, ...]], document_ids: Sequence[int]
    ) -> set[int]:
        """Which of ``document_ids`` hold any of ``phrases`` (analyzed terms), checked
        against their analyzed columns."""
        found: set[int] = set()
        for chunk, marks in _id_chunks(document_ids):
            with self._lock:
                rows = self._db.execute(
                    "SELECT document_id, head, body FROM document_terms "
                    f"WHERE document_id IN ({marks})",
                    chunk,
                ).fetchall()
            prepared = [Phrase(terms) for terms in phrases if terms]
            for document_id, head, body in rows:
                document = DocumentTerms(head, body)
                if any(document.holds(phrase) for phrase in prepared):
                    found.add(int(document_id))
        return found

    def matching(self, expression: str, document_ids: Sequence[int]) -> set[int]:
        """Which of ``document_ids`` match the FTS5 ``expression`` (looked up per rowid, so
        the cost follows the number of ids, not the length of the posting lists)."""
        found: set[int] = set()
        for chunk, marks in _id_chunks(document_ids):
            with self._lock:
                rows = self._db.execute(
                    f"SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? AND rowid IN ({marks})",
                    [expression, *chunk],
                ).fetchall()
            found.update(int(rowid) for (rowid,) in rows)
        return found

    def presence(
        self,
        alternatives: Sequence[Alternative],
        document_ids: Sequence[int],
        forward: dict[int, DocumentTerms],
    ) -> dict[Alternative, set[int]]:
        """Which of ``document_ids`` hold each of ``alternatives``, the cost following the
        number of candidates, not the posting lists. The postings FTS5 would read for all
        alternatives within the candidates' runs of ids (each word's documents times the
        runs' share of all ids) are weighed against unpacking the candidates' bodies
        (``forward``, PACKED_BYTES_PER_POSTING): the cheaper way answers for every
        alternative — FTS5 listing within the runs (rare words, or candidates close
        together such as the newest documents), or the candidates' analyzed columns in
        memory (``bot.forward_index``: FTS5's phrase and NEAR rules; a body is unpacked
        only when its head lacks what is looked for, once for all alternatives). A term
        that is not one FTS5 token (never made by the analyzer) is left to FTS5 itself."""
        found: dict[Alternative, set[int]] = {}
        if not document_ids:
            return {alternative: set() for alternative in alternatives}
        # Candidates come in runs of close ids (the newest of each collection, a period):
        # FTS5 reads each run's stretch of the posting lists.
        ordered = sorted(document_ids)
        gap = max(1, self.last_document_id // 20)
        runs: list[list[int]] = [[ordered[0], ordered[0]]]
        for document_id in ordered[1:]:
            if document_id - runs[-1][1] > gap:
                runs.append([document_id, document_id])
            else:
                runs[-1][1] = document_id
        span = sum(high - low + 1 for low, high in runs) / max(1, self.last_document_id)
        wanted = set(document_ids)
        plain = {
            a: all(text.is_plain_term(t) or text.fts5_tokens(t) == (t,) for t in a.terms)
            for a in alternatives
        }
        listing = sum(self._statistics.postings(a) * span for a in plain if plain[a])
        unpacking = sum(forward[i].packed_body_size() for i in document_ids)
        listed = listing * PACKED_BYTES_PER_POSTING <= unpacking
        for alternative in alternatives:
            if alternative in found:
                continue
            terms = alternative.terms
            if not plain[alternative]:
                found[alternative] = self.matching(alternative.fts(), document_ids)
            elif listed:
                holding: set[int] = set()
                for low, high in runs:
                    with self._lock:
                        rows = self._db.execute(
                            "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? "
                            "AND rowid BETWEEN ? AND ?",
                            [alternative.fts(), low, high],
                        ).fetchall()
                    holding.update(int(rowid) for (rowid,) in rows if rowid in wanted)
                found[alternative] = holding
            elif alternative.near:
                distance = alternative.near_window()
                found[alternative] = {
                    i for i in document_ids if forward[i].holds_near(terms, distance)
                }
            else:
                phrase = Phrase(terms)
                found[alternative] = {i for i in document_ids if forward[i].holds(phrase)}
        return found


#: Ids bound per ``IN (…)`` list: well under SQLite's 32,766 host parameters (SQLite's
#: "Limits In SQLite", SQLITE_MAX_VARIABLE_NUMBER) and small enough to keep each statement cheap.
ID_CHUNK = 500


def _id_chunks(document_ids: Sequence[int]) -> Iterator[tuple[list[int], str]]:
    """``document_ids`` in chunks of at most ``ID_CHUNK``, each with its ``?,?,…`` marks."""
    ids = list(document_ids)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        yield chunk, ",".join("?" * len(chunk))
