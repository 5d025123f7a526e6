"""Candidate documents for a query: at most ``limit`` document ids of ``index.db`` with a
strength, read with one FTS5 query whose cost stays bounded whatever the words.

The alternatives of the rarest concepts are ORed, rarest first, until their postings pass
RETRIEVAL_POSTINGS, and ranked by ``bm25`` (weights BM25_WEIGHTS: title 10, description
5, tags 3, body 1), within the query's date range if any. When even the rarest concept is
in more than ``common_postings`` documents, bm25 would read every posting of its words
whatever the limit: the candidates are then the newest documents holding them, those with
them in the title first (``CandidateRetriever.retrieve_newest``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import sqlite3
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from bot.query import QueryPlan
from bot.term_statistics import TermStatistics

if TYPE_CHECKING:
    import numpy

__all__ = [
    "BM25_WEIGHTS",
    "CANDIDATE_LIMIT",
    "COMMON_POSTINGS",
    "NEWEST_POOL",
    "PERIOD_RUNS_CACHED",
    "RETRIEVAL_POSTINGS",
    "TITLE_RUNS",
    "CandidateRetriever",
    "id_runs",
]

BM25_WEIGHTS = (10.0, 5.0, 3.0, 1.0)
CANDIDATE_LIMIT = 100
# Postings (documents per alternative) retrieval may touch before it stops adding concepts.
RETRIEVAL_POSTINGS = 2000
# When even the rarest concept is in more documents than this, candidates are the newest
# documents that hold it (see CandidateRetriever.retrieve_newest) instead of bm25's best:
# bm25 reads every posting of its words, whatever the limit.
COMMON_POSTINGS = 2000
# Such words' candidates are the title matches among this many times as many of the newest
# documents holding them, then the newest of those.
NEWEST_POOL = 3
# Periods whose runs of document ids are kept (each at most 32 pairs of ids; a period such
# as "2025" holds a quarter of a 100,000-document index, and cutting its ids into runs
# again takes about a millisecond).
PERIOD_RUNS_CACHED = 256
# Stretches of ids the title check of the newest holders reads (``title_matches``): one
# FTS5 query each. Over the 100k benchmark's queries, 2 gave the smallest p99 (1 the
# smallest total, 4 and more both larger).
TITLE_RUNS = 2


def _in_period(
    rows: list[tuple[int]], dates_by_id: numpy.ndarray, period: tuple[str, str] | None
) -> list[tuple[int, bytes]]:
    """Matched ``rows`` (``(rowid,)``) as ``(id, date)`` from the dates by id, only those
    dated within ``period`` (first and last ISO date, inclusive) when one is given."""
    import numpy

    ids = numpy.array(rows, dtype=numpy.int64).reshape(-1)
    dates = dates_by_id[ids]
    if period is not None:
        inside = (dates >= period[0].encode()) & (dates <= period[1].encode())
        ids, dates = ids[inside], dates[inside]
    return list(zip(ids.tolist(), dates.tolist(), strict=True))


def _run_groups(
    runs: Sequence[tuple[int, int]], most_ids: int
) -> tuple[list[list[tuple[int, int]]], list[tuple[int, int]]]:
    """``runs`` (ascending ``(first id, last id)``) as groups of consecutive runs spanning
    at most ``most_ids`` ids from the first's first to the last's last, and the runs
    longer than that on their own."""
    groups: list[list[tuple[int, int]]] = []
    long_runs: list[tuple[int, int]] = []
    for low, high in runs:
        if high - low + 1 > most_ids:
            long_runs.append((low, high))
        elif groups and high - groups[-1][0][0] + 1 <= most_ids:
            groups[-1].append((low, high))
        else:
            groups.append([(low, high)])
    return groups, long_runs


def id_runs(ids: Sequence[int] | numpy.ndarray, most: int = 32) -> list[tuple[int, int]]:
    """Sorted ``ids`` (a list or an int array) as at most ``most`` ranges ``(first,
    last)``, split at the widest gaps (of equal gaps, the later first): the stretches of
    the index a period's documents fill. A list's gaps are found in Python (the few
    hundred ids of a title check: importing numpy would cost a cold command about 80 ms);
    an array's, tens of thousands of a period's ids, with array operations, in well under
    a millisecond."""
    if len(ids) == 0:
        return []
    cuts = _list_cuts(ids, most) if isinstance(ids, Sequence) else _array_cuts(ids, most)
    runs: list[tuple[int, int]] = []
    start = int(ids[0])
    for position in cuts:
        runs.append((start, int(ids[position])))
        start = int(ids[position + 1])
    runs.append((start, int(ids[-1])))
    return runs


def _list_cuts(ids: Sequence[int], most: int) -> list[int]:
    """Ascending positions after which ``id_runs`` cuts a list of ids."""
    positions = [i for i in range(len(ids) - 1) if ids[i + 1] - ids[i] > 1]
    if len(positions) <= most - 1:
        return positions
    return sorted(heapq.nlargest(most - 1, positions, key=lambda i: (ids[i + 1] - ids[i], i)))


def _array_cuts(ids: numpy.ndarray, most: int) -> list[int]:
    """Ascending positions after which ``id_runs`` cuts an array of ids."""
    import numpy

    array = numpy.asarray(ids, dtype=numpy.int64)
    gaps = numpy.diff(array)
    positions = numpy.nonzero(gaps > 1)[0]
    if positions.size > most - 1:
        widest = numpy.lexsort((positions, gaps[positions]))[::-1][: most - 1]
        positions = numpy.sort(positions[widest])
    return [int(position) for position in positions.tolist()]


class CandidateRetriever:
    """Candidate retrieval over one open index.

    ``db`` is a read-only connection to ``index.db`` used only under ``lock``;
    ``statistics`` gives the document frequencies that choose the concepts retrieved;
    ``document_count`` is the number of rows of ``documents``. ``common_postings`` (a
    number of documents, COMMON_POSTINGS unless set) is where retrieval turns from bm25's
    best to the newest holders.
    """

    def __init__(
        self,
        db: sqlite3.Connection,
        lock: threading.RLock,
        statistics: TermStatistics,
        document_count: int,
    ) -> None:
        self._db = db
        self._lock = lock
        self._statistics = statistics
        self.document_count = document_count
        self.common_postings = COMMON_POSTINGS
        self._runs: list[tuple[int, int]] | None = None
        self._dated_ids: tuple[Any, Any] | None = None
        # Each document's date by id (b"" for ids no document has), read with _dated_ids.
        self._dates_by_id: Any = None
        self._ranks: Any = None  # _date_ranks
        self._period_runs: LRUCache[tuple[str, str], list[tuple[int, int]]] = LRUCache(
            maxsize=PERIOD_RUNS_CACHED
        )

    def retrieve(self, plan: QueryPlan, limit: int = CANDIDATE_LIMIT) -> dict[int, float]:
        """Candidate document ids with their bm25 strength (positive, larger is better):
        the alternatives of the rarest concepts, rarest first, until their postings pass
        RETRIEVAL_POSTINGS (at least one concept), within the date range if any."""
        concept_alternatives = []
        for concept in plan.concepts:
            known = [(self._statistics.alternative_frequency(a), a) for a in concept.alternatives]
            known = [(df, a) for df, a in known if df > 0]
            # A phrase costs the posting lists of all its words: leave out phrases of
            # common words when the concept has another way to be found.
            cheap = [
                (df, a) for df, a in known if self._statistics.postings(a) <= 2 * RETRIEVAL_POSTINGS
            ]
            known = cheap or known
            if known:
                concept_alternatives.append((min(df for df, _ in known), known))
        chosen: set[str] = set()
        postings = 0
        rarest = 0
        for _, known in sorted(concept_alternatives, key=lambda item: item[0]):
            size = sum(df for df, _ in known)
            if chosen and postings + size > RETRIEVAL_POSTINGS:
                break
            chosen.update(a.fts() for _, a in known)
            postings += size
            rarest = rarest or size
        if not chosen:
            return {}
        expression = " OR ".join(sorted(chosen))
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Within a period, each match is checked against its document's date as FTS5
        # yields it (FTS5 the outer loop: CROSS JOIN keeps SQLite from probing FTS5 once
        # per document of the period, which costs as much as the whole query each time).
        join, clause, period = "", "", None
        if plan.date_range is not None:
            slack = dt.timedelta(days=1 if plan.date_range.granularity == "day" else 0)
            join = " CROSS JOIN documents d ON d.id = docs_fts.rowid"
            clause = " AND d.date BETWEEN ? AND ?"
            period = (
                (plan.date_range.start - slack).isoformat(),
                (plan.date_range.end + slack).isoformat(),
            )
        if rarest <= self.common_postings:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT docs_fts.rowid, -bm25(docs_fts, {weights}) FROM docs_fts{join} "
                    f"WHERE docs_fts MATCH ?{clause} ORDER BY bm25(docs_fts, {weights}) LIMIT ?",
                    [expression, *(period or ()), limit],
                ).fetchall()
            return {int(rowid): float(strength) for rowid, strength in rows}
        return self.retrieve_newest(expression, period, postings, limit)

    def newest_matches(
        self, expression: str, period: tuple[str, str] | None, postings: int, pool: int
    ) -> list[int]:
        """The ids of the ``pool`` newest documents matching ``expression`` (by date,
        then id), dated within ``period`` (first and last ISO date) if given, read run by
        run as ``retrieve_newest`` describes; ``postings`` (how many documents hold the
        words at most) sizes the windows. Once ``pool`` are in hand, the ids of a stretch
        dated before the oldest of them are not read (``_pool_floor``, ``_first_above``):
        after updates, most of each update's run."""
        ranges = self.period_runs(*period) if period is not None else self.collection_runs()
        share = min(1.0, max(1, postings) / max(1, self.document_count))
        found: list[tuple[int, bytes]] = []
        # Runs short enough to be read whole (no more ids together than hold about
        # ``pool`` matches: a period's, or the files each update added) are listed by one
        # query over their span, split by run: each FTS5 query costs as much as reading a
        # hundred-odd matches.
        groups, walked = _run_groups(ranges, int(pool / share))
        ranks = None if self._dates_by_id is None else self._date_ranks()
        if ranks is not None:  # the stretches ending on the newest dates first
            walked.sort(key=lambda run: int(ranks[run[1]]), reverse=True)
        for low, high in walked:
            window = max(pool, int(2 * pool / share))
            end = high
            low = self._first_above(self._pool_floor(found, pool, ranks), low, high, ranks)
            matched: list[tuple[int, bytes]] = []
            while end >= low and len(matched) < pool:
                start = max(low, end - window + 1)
                matched = self._dated_rows(expression, start, end, period) + matched
                end = start - 1
                window = self._next_window(window, pool - len(matched), len(matched), high - end)
            found += matched[-pool:]
        for group in groups:
            floor = self._pool_floor(found, pool, ranks)
            worth = [(self._first_above(floor, low, high, ranks), high) for low, high in group]
            group = [(low, high) for low, high in worth if low <= high]
            if not group:
                continue
            rows = self._dated_rows(expression, group[0][0], group[-1][1], period)
            ids = [document_id for document_id, _date in rows]
            for low, high in group:
                last = bisect.bisect_right(ids, high)
                first = max(bisect.bisect_left(ids, low), last - pool)
                found += rows[first:last]
        return [
            document_id
            for document_id, _date in sorted(found, key=lambda row: (row[1], row[0]), reverse=True)
        ][:pool]

    def retrieve_newest(
        self,
        expression: str,
        period: tuple[str, str] | None,
        postings: int,
        limit: int = CANDIDATE_LIMIT,
    ) -> dict[int, float]:
        """Candidates for a query made only of common words, where bm25 would read most of
        the index (its idf alone scans every posting of every phrase): among the newest
        NEWEST_POOL × ``limit`` documents matching ``expression`` (the alternatives of the
        query's rarest concepts, ORed) and dated within ``period`` (first and last ISO
        date, inclusive) if given, those whose title matches it (strength 1), then the
        others (strength 0.5), newest first. ``postings`` (how many documents hold them at
        most) sizes the walk. Each match's date comes from memory once the documents'
        dates are loaded (``dated_ids``: by ``warm`` or a period), not from a join with
        ``documents`` (a row lookup per match, about a third of the walk); a cold process
        asking once (``technyan-bot news about``) joins rather than load 100,000 dates.

        Document ids follow the corpus's file order, by date within each collection, and
        files an update adds or changes take new ids after all others, so each run of
        one collection's ids (``collection_runs``; within a period, each run of the
        period's ids) is read apart and the results merged by date. FTS5 reads a
        posting list cheaply forward from a given id, not backwards from one (that reads
        the whole list, and so does a column filter), so each stretch's newest ids are
        read forward, over a window sized from how common the words are, then while too
        few matched over the ids before it (``_next_window``). Runs too short to need
        that (a period's, an update's) are listed together, one query over their span
        (``_run_groups``), each keeping its newest matches as its walk would
        (``newest_matches``). Titles are checked by ``title_matches``."""
        newest = self.newest_matches(expression, period, postings, NEWEST_POOL * limit)
        if not newest:
            return {}
        in_title = self.title_matches(expression, newest)
        titled = [document_id for document_id in newest if document_id in in_title]
        others = [document_id for document_id in newest if document_id not in in_title]
        candidates = {document_id: 1.0 for document_id in titled[:limit]}
        for document_id in others[: limit - len(candidates)]:
            candidates[document_id] = 0.5
        return candidates

    def title_matches(self, expression: str, document_ids: Sequence[int]) -> set[int]:
        """Which of ``document_ids`` hold ``expression`` (an FTS5 expression of phrases
        and NEAR groups) in their title, read from ``title_fts`` (the analyzed titles
        alone, the same tokens as ``docs_fts``'s title column) over the stretches of ids
        they fill (``id_runs``, at most TITLE_RUNS): titles are short, so the stretches
        hold few other title matches, and one FTS5 query per stretch costs less than
        reading each document's stored head (0.24 ms against 1.5–1.9 ms for 300 ids,
        median over the 100k benchmark's queries)."""
        wanted = set(document_ids)
        found: set[int] = set()
        for low, high in id_runs(sorted(wanted), TITLE_RUNS):
            with self._lock:
                rows = self._db.execute(
                    "SELECT rowid FROM title_fts WHERE title_fts MATCH ? AND rowid BETWEEN ? AND ?",
                    [expression, low, high],
                ).fetchall()
            found.update(int(rowid) for (rowid,) in rows if rowid in wanted)
        return found

    def _matches(self, expression: str, first_id: int, last_id: int) -> list[tuple[int]]:
        """Rows ``(rowid,)`` of the documents matching ``expression`` with ids ``first_id``
        to ``last_id``, by id."""
        with self._lock:
            rows: list[tuple[int]] = self._db.execute(
                "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? "
                "AND rowid BETWEEN ? AND ? ORDER BY rowid",
                [expression, first_id, last_id],
            ).fetchall()
        return rows

    def _dated_rows(
        self, expression: str, first_id: int, last_id: int, period: tuple[str, str] | None
    ) -> list[tuple[int, bytes]]:
        """``(id, date)`` (ISO date, bytes) of the documents matching ``expression`` with
        ids ``first_id`` to ``last_id``, by id, dated within ``period`` if given: dates
        from memory once loaded (``dated_ids``; a period's runs load them), else joined
        from ``documents`` (a cold process, never with a period)."""
        if self._dates_by_id is None:
            return self._dated_matches(expression, first_id, last_id)
        return _in_period(self._matches(expression, first_id, last_id), self._dates_by_id, period)

    def _dated_matches(
        self, expression: str, first_id: int, last_id: int
    ) -> list[tuple[int, bytes]]:
        """``_matches`` with each document's date (ISO, bytes), joined from ``documents``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT docs_fts.rowid, d.date FROM docs_fts "
                "CROSS JOIN documents d ON d.id = docs_fts.rowid "
                "WHERE docs_fts MATCH ? AND docs_fts.rowid BETWEEN ? AND ? "
                "ORDER BY docs_fts.rowid",
                [expression, first_id, last_id],
            ).fetchall()
        return [(int(rowid), str(date).encode()) for rowid, date in rows]

    @staticmethod
    def _pool_floor(found: Sequence[tuple[int, bytes]], pool: int, ranks: Any) -> int | None:
        """The rank (``_date_ranks``) of the oldest date among the ``pool`` newest of
        ``found``; None while fewer are found or without ranks."""
        if ranks is None or len(found) < pool:
            return None
        import numpy

        held = ranks[numpy.fromiter((i for i, _ in found), numpy.int64, len(found))]
        return int(numpy.partition(held, len(held) - pool)[len(held) - pool])

    @staticmethod
    def _first_above(floor: int | None, low: int, high: int, ranks: Any) -> int:
        """The lowest id from ``low`` to ``high`` dated ``floor`` or later (``ranks``):
        every id below it is older, so reading it cannot change a pool whose oldest date
        is ``floor``, whatever order the dates are in. ``low`` without a floor; ``high +
        1`` when no id is that new."""
        if floor is None:
            return low
        import numpy

        worth = numpy.flatnonzero(ranks[low : high + 1] >= floor)
        return low + int(worth[0]) if worth.size else high + 1

    def _date_ranks(self) -> Any:
        """Each id's date as a rank: its position among ``dated_ids``' sorted dates, the
        first of equal ones (-1 for an id no document has), so dates compare as integers.
        Int32 array by id (4 bytes an id), computed once with the dates."""
        if self._ranks is None:
            import numpy

            dates, ids = self.dated_ids()
            ranks = numpy.full(len(self._dates_by_id), -1, dtype=numpy.int32)
            ranks[ids] = numpy.searchsorted(dates, dates, side="left")
            self._ranks = ranks
        return self._ranks

    @staticmethod
    def _next_window(window: int, needed: int, matched: int, read: int) -> int:
        """The ids to read next in a walk back through a stretch of the index: enough
        for the ``needed`` matches still wanted at the density seen so far (``matched``
        in ``read`` ids), with a quarter to spare; four times ``window`` (the last one)
        when nothing matched yet. Sized by density rather than by a fixed factor, the
        last window holds few matches beyond those wanted (each costs FTS5 a posting and
        SQLite a date lookup)."""
        if matched == 0:
            return window * 4
        return max(1, needed) * read * 5 // (matched * 4) + 1

    def period_runs(self, first: str, last: str) -> list[tuple[int, int]]:
        """The ids of the documents dated ``first`` to ``last`` (ISO dates, inclusive) as at
        most 32 ranges ``(first id, last id)`` (``id_runs``); the runs of the last
        PERIOD_RUNS_CACHED periods asked for are kept (the index does not change while
        open)."""
        import numpy

        dates, ids = self.dated_ids()
        key = (first, last)
        with self._lock:  # an LRU cache reorders itself on every read
            runs = self._period_runs.get(key)
            if runs is None:
                low = int(numpy.searchsorted(dates, first.encode(), side="left"))
                high = int(numpy.searchsorted(dates, last.encode(), side="right"))
                runs = self._period_runs[key] = id_runs(numpy.sort(ids[low:high]))
        return runs

    def dated_ids(self) -> tuple[Any, Any]:
        """Every document's date and id, by date then id, as two numpy arrays (ISO dates
        as 10-byte strings, ids as int64; 18 bytes a document), read once: a period's ids
        are then a slice, not a query returning tens of thousands of rows. Also fills the
        dates by id that ``retrieve_newest`` reads (10 bytes an id)."""
        if self._dated_ids is None:
            import numpy

            with self._lock:
                rows = self._db.execute(
                    "SELECT date, id FROM documents ORDER BY date, id"
                ).fetchall()
            dates = numpy.array([str(date).encode() for date, _ in rows], dtype="S10")
            ids = numpy.fromiter((int(i) for _, i in rows), dtype=numpy.int64, count=len(rows))
            by_id = numpy.zeros(int(ids.max()) + 1 if ids.size else 1, dtype="S10")
            by_id[ids] = dates
            self._dates_by_id = by_id
            self._dated_ids = (dates, ids)
        return self._dated_ids

    def warm(self) -> None:
        """Read now what the first queries of a kind would otherwise read: the runs of
        each collection's ids, the documents' dates and their ranks."""
        self.collection_runs()
        self.dated_ids()
        self._date_ranks()

    def collection_runs(self) -> list[tuple[int, int]]:
        """The documents' ids as runs ``(first id, last id)``, by id, each of one
        collection's files in path order (``collection_runs`` of ``bot.index_derived``:
        a full build's collections and the files each update inserted; read once). Within
        a run, ids follow the dates of dated article folders; runs never overlap, so no
        stretch of the index is walked twice."""
        if self._runs is None:
            with self._lock:
                self._runs = [
                    (int(low), int(high))
                    for low, high in self._db.execute(
                        "SELECT first_id, last_id FROM collection_runs ORDER BY first_id"
                    ).fetchall()
                ]
        return self._runs
