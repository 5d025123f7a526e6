"""Fuzzy lookups over large pools of keys without comparing the text with every key.

rapidfuzz's ``fuzz.ratio`` is the normalized InDel similarity: ``100 · (la + lb − d) /
(la + lb)`` for strings of lengths ``la`` and ``lb`` whose InDel distance (insertions and
deletions to turn one into the other) is ``d``. A ratio of at least ``c`` therefore allows
at most ``D = (1 − c/100)·(la + lb)`` edits, and each edit breaks at most two of the
n-grams the strings share (a deleted character ends two bigrams, an inserted one splits
one). So two strings within the cutoff share at least ``max(la, lb) − 1 − 2D`` bigrams
(counted with repeats), and at least ``(la + lb)·c/200`` characters, the longest common
subsequence's own bound. ``NgramFilter`` counts, for every key at once, the bigrams (or,
for short texts, the characters) it shares with a query, and hands rapidfuzz only the
keys that pass both bounds: the same matches as comparing every key, at the cost of a
few array operations. Lengths are bounded the same way (``la·c/(200 − c) ≤ lb``).

numpy does the counting; it is imported when the first large pool is built, never on the
query path of a small index.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rapidfuzz import fuzz, process

__all__ = [
    "FILTER_MIN_KEYS",
    "FuzzyPool",
    "NgramFilter",
    "extract",
    "extract_partial",
    "length_bounds",
    "partial_candidates",
]


def length_bounds(size: int, cutoff: float) -> tuple[int, int]:
    """The shortest and longest keys that can reach ``fuzz.ratio`` ≥ ``cutoff`` (0–100)
    with a text of ``size`` characters: ratio ≤ 2·min / (la + lb)."""
    low = max(1, int(size * cutoff / (200 - cutoff)))
    high = int(size * (200 - cutoff) / cutoff) + 1
    return low, high


def _grams(text: str, size: int) -> Counter[str]:
    return Counter(text[i : i + size] for i in range(len(text) - size + 1))


# A character held by at least one key in DENSE_SHARE is counted from a dense matrix
# (NgramFilter._dense_counts).
DENSE_SHARE = 16
# Keys left after the bigram pass, as a share of the keys of plausible length (one in
# FEW_LEFT or fewer), for which characters are counted key by key rather than by a pass
# over every holder of each character.
FEW_LEFT = 8


class NgramFilter:
    """An inverted index of the character n-grams of ``keys`` (bigrams and single
    characters), for ``candidates``: the positions of the keys that may reach a ratio
    cutoff with a text, in their original order. Keys are held ordered by length, so a
    lookup counts n-grams only over the keys of plausible length. Built with array
    operations (tens of milliseconds for tens of thousands of keys)."""

    def __init__(self, keys: Sequence[str]) -> None:
        import numpy

        self._numpy = numpy
        self.size = len(keys)
        lengths = numpy.fromiter((len(k) for k in keys), dtype=numpy.int32, count=len(keys))
        # Position i of the filter is key self._order[i]; lengths ascend.
        self._order = numpy.argsort(lengths, kind="stable").astype(numpy.int32)
        self.lengths = lengths[self._order]
        ordered = [keys[int(i)] for i in self._order]
        codes = numpy.frombuffer("".join(ordered).encode("utf-32-le"), dtype=numpy.uint32).astype(
            numpy.int64
        )
        owners = numpy.repeat(numpy.arange(self.size, dtype=numpy.int64), self.lengths)
        self._characters = self._postings(codes, owners)
        # A bigram is two characters of one key: code pairs packed in one integer.
        same_key = owners[1:] == owners[:-1]
        bigrams = (codes[:-1] << 21) | codes[1:]
        del codes
        self._bigrams = self._postings(bigrams[same_key], owners[1:][same_key])
        # The common characters' rows by code point and their matrix of counts. Bigrams
        # keep their postings: even the commonest are held by few of the keys of a given
        # length, where a matrix row costs a pass over all of them.
        self._dense_rows, self._dense = self._dense_counts()

    def _dense_counts(self) -> tuple[dict[int, int], Any]:
        """The characters held by one key in DENSE_SHARE or more, as a matrix of counts
        (one uint8 row per character, one column per key: about a megabyte for tens of
        thousands of keys) and each character's row by code point. Counting these common
        characters is then one slice of the matrix, not a pass over thousands of
        holders each. A character some key holds more than 255 times keeps its
        postings."""
        numpy = self._numpy
        grams, offsets, owners, counts = self._characters
        holders = numpy.diff(offsets)
        common = [
            int(index)
            for index in numpy.flatnonzero(holders * DENSE_SHARE >= self.size)
            if counts[offsets[index] : offsets[index + 1]].max() <= 255
        ]
        rows: dict[int, int] = {}
        matrix = numpy.zeros((len(common), self.size), dtype=numpy.uint8)
        for row, index in enumerate(common):
            start, end = int(offsets[index]), int(offsets[index + 1])
            matrix[row, owners[start:end]] = counts[start:end]
            rows[int(grams[index])] = row
        return rows, matrix

    def _text_grams(
        self, text: str, size: int, postings: tuple[Any, Any, Any, Any]
    ) -> tuple[Any, Any, list[tuple[int, int, int]]]:
        """The n-grams of ``size`` of ``text`` the keys hold: the common characters as
        ``(rows, counts)`` arrays (rows of the dense matrix) and the others as ``(start,
        end, count)``, their holders being ``postings``' ``keys[start:end]``."""
        numpy = self._numpy
        grams, offsets, _owners, _counts = postings
        dense_rows = self._dense_rows if size == 1 else {}
        rows: list[int] = []
        wanted: list[int] = []
        sparse: list[tuple[int, int, int]] = []
        for gram, count in _grams(text, size).items():
            code = ord(gram[0]) if size == 1 else (ord(gram[0]) << 21) | ord(gram[1])
            row = dense_rows.get(code)
            if row is not None:
                rows.append(row)
                wanted.append(count)
                continue
            index = int(numpy.searchsorted(grams, code))
            if index < len(grams) and grams[index] == code:
                sparse.append((int(offsets[index]), int(offsets[index + 1]), count))
        # The matrix holds counts up to 255: the smaller of one and a text's count is the
        # same with the text's count capped there, and uint8 arithmetic moves an eighth of
        # the bytes int64 would.
        return (
            numpy.array(rows, dtype=numpy.intp),
            numpy.minimum(numpy.array(wanted, dtype=numpy.int64), 255).astype(numpy.uint8),
            sparse,
        )

    def _postings(self, grams: Any, owners: Any) -> tuple[Any, Any, Any, Any]:
        """``(grams, offsets, keys, counts)``: the distinct n-grams sorted, and for the
        n-gram at index i the keys ``keys[offsets[i]:offsets[i + 1]]`` that hold it
        (ascending) and how many times (``counts``). Sorted as one integer per
        occurrence, the n-gram's code (42 bits at most) above the key's position (as
        many bits as the number of keys needs: 63 bits in all up to two million keys),
        so the build needs no index arrays."""
        numpy = self._numpy
        int32 = numpy.int32
        if len(grams) == 0:
            empty = numpy.zeros(0, dtype=int32)
            return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(1, dtype=int32), empty, empty
        shift = max(1, self.size.bit_length())
        packed = (grams << shift) | owners
        packed.sort()
        # One entry per (n-gram, key) with its count.
        starts = numpy.flatnonzero(numpy.concatenate(([True], packed[1:] != packed[:-1])))
        counts = numpy.diff(numpy.append(starts, len(packed))).astype(int32)
        packed = packed[starts]
        grams, owners = packed >> shift, (packed & ((1 << shift) - 1)).astype(int32)
        del packed
        firsts = numpy.flatnonzero(numpy.concatenate(([True], grams[1:] != grams[:-1])))
        offsets = numpy.append(firsts, len(grams)).astype(int32)
        return grams[firsts], offsets, owners, counts

    def _shared(
        self, text: str, size: int, postings: tuple[Any, Any, Any, Any], low: int, high: int
    ) -> Any:
        """For the keys at positions ``low`` to ``high`` (excluded), the n-grams of
        ``size`` each shares with ``text``, counted with repeats."""
        numpy = self._numpy
        _grams_sorted, _offsets, owners, counts = postings
        shared = numpy.zeros(high - low, dtype=numpy.int64)
        rows, wanted, sparse = self._text_grams(text, size, postings)
        if len(rows):
            block = self._dense[rows, low:high]
            shared += numpy.minimum(block, wanted[:, None]).sum(axis=0, dtype=numpy.int64)
        for start, end, count in sparse:
            holders = owners[start:end]
            first, last = numpy.searchsorted(holders, (low, high))
            shared[holders[first:last] - low] += numpy.minimum(
                counts[start + first : start + last], count
            )
        return shared

    def _shared_at(self, text: str, size: int, postings: tuple[Any, Any, Any, Any], at: Any) -> Any:
        """``_shared`` for the keys at the filter positions ``at`` (ascending) only: one
        binary search of them per n-gram of the text instead of a pass over every
        holder."""
        numpy = self._numpy
        _grams_sorted, _offsets, owners, counts = postings
        shared = numpy.zeros(len(at), dtype=numpy.int64)
        rows, wanted, sparse = self._text_grams(text, size, postings)
        if len(rows):
            block = self._dense[numpy.ix_(rows, at)]
            shared += numpy.minimum(block, wanted[:, None]).sum(axis=0, dtype=numpy.int64)
        for start, end, count in sparse:
            holders = owners[start:end]
            found = numpy.minimum(numpy.searchsorted(holders, at), len(holders) - 1)
            held = holders[found] == at
            shared[held] += numpy.minimum(counts[start + found[held]], count)
        return shared

    def candidates(self, text: str, cutoff: float) -> list[int]:
        """Positions (ascending) of the keys that may have ``fuzz.ratio(text, key)`` ≥
        ``cutoff``; every key that does is among them."""
        numpy = self._numpy
        size = len(text)
        if size == 0 or self.size == 0:
            return []
        shortest, longest = length_bounds(size, cutoff)
        low, high = (int(i) for i in numpy.searchsorted(self.lengths, (shortest, longest + 1)))
        if low >= high:
            return []
        lengths = self.lengths[low:high]
        total = lengths + size
        # Edits allowed, rounded up a little so float rounding never drops a match.
        edits = numpy.floor((1 - cutoff / 100) * total + 1e-6)
        characters_needed = numpy.ceil(total * cutoff / 200 - 1e-6)
        bigrams_needed = numpy.maximum(lengths, size) - 1 - 2 * edits
        if size >= 2 and bigrams_needed.max() > 0:
            # Bigrams first: their postings are shorter and they filter more; when few
            # keys are left, characters are counted for those keys only.
            bigrams = self._shared(text, 2, self._bigrams, low, high)
            left = numpy.flatnonzero(bigrams >= bigrams_needed)
            if len(left) * FEW_LEFT <= high - low:
                common = self._shared_at(text, 1, self._characters, low + left)
                left = left[common >= characters_needed[left]]
            else:
                common = self._shared(text, 1, self._characters, low, high)
                left = left[common[left] >= characters_needed[left]]
        else:
            common = self._shared(text, 1, self._characters, low, high)
            left = numpy.flatnonzero(common >= characters_needed)
        found = self._order[low + left]
        return [int(i) for i in numpy.sort(found)]


def partial_candidates(ngram_filter: NgramFilter, text: str, cutoff: float) -> list[int]:
    """Positions (ascending) of the keys that may have ``fuzz.partial_ratio(text, key)`` ≥
    ``cutoff``. partial_ratio is the best ``fuzz.ratio`` of the shorter string (``m``
    characters) against a stretch of the longer of at most ``m`` characters; reaching
    ``c`` needs a stretch of at least ``w = m·c/(200 − c)`` characters and so a common
    subsequence, and as many common characters, of at least ``m·c/(200 − c)``.

    Bigrams: a common subsequence of ``L`` characters between strings of ``m`` and ``w``
    characters keeps at least ``3L − 1 − m − w`` of its adjacent pairs adjacent in both
    (each gap skips an unmatched character of one string), so a ratio of ``c`` (``L ≥
    c(m + w)/200``) needs at least ``(3c/200 − 1)(m + w) − 1`` common bigrams with the
    stretch, hence with the whole longer string; with ``w`` at its least, that is
    ``(3c/200 − 1)·200m/(200 − c) − 1`` (a bound only for ``c`` above 200/3). For a
    long text, which shares characters with nearly every key, this is what filters."""
    numpy = ngram_filter._numpy
    size = len(text)
    if size == 0 or ngram_filter.size == 0:
        return []
    shortest = numpy.minimum(ngram_filter.lengths, size)
    needed = numpy.ceil(cutoff * shortest / (200 - cutoff) - 1e-6)
    common = ngram_filter._shared(text, 1, ngram_filter._characters, 0, ngram_filter.size)
    keep = common >= needed
    if size >= 2 and cutoff > 200 / 3:
        bigrams_needed = numpy.ceil(
            (3 * cutoff / 200 - 1) * shortest * 200 / (200 - cutoff) - 1 - 1e-6
        )
        bigrams = ngram_filter._shared(text, 2, ngram_filter._bigrams, 0, ngram_filter.size)
        keep &= bigrams >= bigrams_needed
    found = ngram_filter._order[numpy.flatnonzero(keep)]
    return [int(i) for i in numpy.sort(found)]


def extract_partial(
    pool: FuzzyPool, text: str, cutoff: float, limit: int
) -> list[tuple[str, float, int]]:
    """``process.extract(text, pool, scorer=fuzz.partial_ratio, processor=None,
    score_cutoff=cutoff, limit=limit)`` as ``(key, score, position)``, comparing only the
    keys ``partial_candidates`` lets through in a large pool: the same result."""
    ngram_filter = pool.ngram_filter()
    positions = (
        partial_candidates(ngram_filter, text, cutoff)
        if ngram_filter is not None
        else list(range(len(pool)))
    )
    found = process.extract(
        text,
        [pool.keys[i] for i in positions],
        scorer=fuzz.partial_ratio,
        processor=None,
        score_cutoff=cutoff,
        limit=limit,
    )
    return [(str(key), float(score), positions[index]) for key, score, index in found]


def extract(
    text: str,
    keys: Sequence[str],
    cutoff: float,
    limit: int,
    ngram_filter: NgramFilter | None = None,
) -> list[tuple[str, float, int]]:
    """``process.extract(text, keys, scorer=fuzz.ratio, processor=None,
    score_cutoff=cutoff, limit=limit)``: ``(key, score, position)`` best first, ties in
    the keys' order; with ``ngram_filter`` (built over ``keys``) only the keys it lets
    through are compared, with the same result."""
    if ngram_filter is None:
        return [
            (str(key), float(score), int(position))
            for key, score, position in process.extract(
                text, keys, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, limit=limit
            )
        ]
    positions = ngram_filter.candidates(text, cutoff)
    found = process.extract(
        text,
        [keys[i] for i in positions],
        scorer=fuzz.ratio,
        processor=None,
        score_cutoff=cutoff,
        limit=limit,
    )
    return [(str(key), float(score), positions[index]) for key, score, index in found]


# Below this many keys, comparing every key costs less than counting n-grams.
FILTER_MIN_KEYS = 5000


class FuzzyPool(Sequence[str]):
    """A list of keys for fuzzy lookups (``extract``) that builds its ``NgramFilter`` on
    the first lookup when it holds FILTER_MIN_KEYS keys or more."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        self._filter: NgramFilter | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: Any) -> Any:
        return self.keys[index]

    def ngram_filter(self) -> NgramFilter | None:
        """The filter over the keys, or None for a small pool."""
        if self._filter is None and len(self.keys) >= FILTER_MIN_KEYS:
            self._filter = NgramFilter(self.keys)
        return self._filter

    def extract(self, text: str, cutoff: float, limit: int) -> list[tuple[str, float, int]]:
        """The keys with ``fuzz.ratio`` ≥ ``cutoff``, best first (see ``extract``)."""
        return extract(text, self.keys, cutoff, limit, self.ngram_filter())
