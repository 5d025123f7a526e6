"""Which candidate documents hold which query words, at a cost that follows the number of
candidates rather than the length of the posting lists.

A contentless FTS5 table answers "which documents match" from its posting lists, and
"does this one document match" only by running the query again. So presence is planned
per query: the rarest alternatives are listed by FTS5 within the candidates' id runs while
a postings budget (PRESENCE_MATCH_POSTINGS) allows, the others are checked in memory
against the candidates' stored analyzed columns (``bot.forward_index``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence

from bot import text
from bot.forward_index import DocumentTerms, Phrase
from bot.query import Alternative
from bot.term_statistics import TermStatistics

__all__ = ["PRESENCE_MATCH_POSTINGS", "PresencePlanner"]

# Postings FTS5 may read per query to tell which candidates hold the rarest alternatives
# (see PresencePlanner.presence); the others are checked against the candidates' stored
# terms.
PRESENCE_MATCH_POSTINGS = 6000


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
        number of candidates, not the posting lists. The alternatives whose words are in
        fewest documents between the first and the last candidate (estimated from that
        range's share of all documents) are listed by FTS5 within that range, while the
        PRESENCE_MATCH_POSTINGS they read in all allow (a rare word, or candidates close
        together such as the newest documents); the others are checked in memory against
        the candidates' analyzed columns (``bot.forward_index``: FTS5's phrase and NEAR
        rules; a body is unpacked only when its head lacks what is looked for). A term that
        is not one FTS5 token (never made by the analyzer) is left to FTS5 itself."""
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
        budget = float(PRESENCE_MATCH_POSTINGS)
        wanted = set(document_ids)
        for cost, alternative in sorted(
            {(self._statistics.postings(a) * span, a) for a in alternatives},
            key=lambda item: item[0],
        ):
            if alternative in found:
                continue
            terms = alternative.terms
            plain = all(text.is_plain_term(t) or text.fts5_tokens(t) == (t,) for t in terms)
            if not plain:
                found[alternative] = self.matching(alternative.fts(), document_ids)
            elif cost <= budget:
                budget -= cost
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
