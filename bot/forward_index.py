"""Each document's analyzed terms, kept beside the FTS5 index, and FTS5's phrase and NEAR
rules applied to them in memory.

The FTS5 table is contentless: it answers "which documents match" from its posting lists,
but "does this one document match" costs as much as the whole query (``MATCH ? AND rowid
IN (…)`` runs the query again for each rowid). Ranking asks exactly that, for each
alternative of each concept and each of the ≤ 100 candidates of a search, so the index
also stores each document's four analyzed columns (``document_terms``: the text inserted
into FTS5, terms separated by spaces): title, description and tags as text (``head``, read
for every candidate), the body LZ4-compressed (``body``, unpacked only for alternatives
the head lacks). The same text is what FTS5 must be given to delete a contentless row, so
an update deletes a changed document's old version without analyzing it again.

Matching gives FTS5's answer, because every analyzed term is one unicode61 token
(``bot.text.fts5_tokens``):

* a phrase matches when its terms stand next to each other, in order, in one column;
* ``NEAR(t1 … tk, N)`` matches when one column holds an instance of each distinct term
  within a window whose first and last instances have at most N tokens between them
  (instances may coincide: ``NEAR(a a, 0)`` matches one ``a``), as FTS5 does for groups
  of one-token phrases.

``tests/test_forward_index.py`` checks both against FTS5 itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import AnyStr

import lz4.block

__all__ = ["DocumentTerms", "Phrase", "pack_body", "pack_head", "split_head", "unpack_body"]

# Columns in the head, separated by a character no term holds, so no phrase spans two.
_COLUMN_BREAK = "\n"


def pack_head(title: str, description: str, tags: str) -> str:
    """The head as stored: the analyzed title, description and tags (each terms separated
    by single spaces), one per line."""
    return _COLUMN_BREAK.join((title, description, tags))


def split_head(head: str) -> tuple[str, str, str]:
    """The analyzed title, description and tags of a stored head."""
    title, description, tags = ([*head.split(_COLUMN_BREAK, 2), "", ""])[:3]
    return title, description, tags


def pack_body(body: str) -> bytes:
    """The analyzed body as stored: UTF-8, compressed as an LZ4 block (its high-compression
    mode; the original size in front). LZ4 rather than zlib: ranking unpacks up to 100
    bodies per query, and LZ4 gives one back about six times faster (3 µs for an average
    4.5 KB body against 19 µs) for a third more bytes (58 % of the text against 42 %)."""
    packed: bytes = lz4.block.compress(body.encode("utf-8"), mode="high_compression")
    return packed


def unpack_body(packed: bytes) -> str:
    """The analyzed body that ``pack_body`` stored."""
    unpacked: bytes = lz4.block.decompress(packed)
    return unpacked.decode("utf-8")


class Phrase:
    """Terms to find next to each other, prepared once for many documents: ``text`` is
    `` t1 t2 `` (space-delimited) and ``utf8`` the same in UTF-8."""

    __slots__ = ("terms", "text", "utf8")

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = tuple(terms)
        self.text = " " + " ".join(self.terms) + " "
        self.utf8 = self.text.encode("utf-8")


class DocumentTerms:
    """One document's analyzed columns, from a ``document_terms`` row: ``head`` (title,
    description and tags, one per line) and ``body`` (``pack_body``; None for an empty
    body). The body is unpacked on first need."""

    __slots__ = ("_body", "_body_utf8", "_head", "_packed_body", "columns", "headline", "title")

    def __init__(self, head: str, body: bytes | None) -> None:
        self.columns = split_head(head)
        title, description, tags = self.columns
        # Padded with spaces, as ranking matches " term " in them (bot.ranking).
        self.title = f" {title} "
        self.headline = f" {description} {tags} "
        self._head = f" {title} \n {description} \n {tags} "
        self._packed_body = body
        self._body_utf8: bytes | None = None
        self._body: str | None = None

    def packed_body_size(self) -> int:
        """Bytes of the compressed body still to unpack (0 once unpacked, or for none)."""
        if self._body_utf8 is not None or not self._packed_body:
            return 0
        return len(self._packed_body)

    def body_utf8(self) -> bytes:
        """The analyzed body in UTF-8, padded with a space at both ends."""
        if self._body_utf8 is None:
            body = lz4.block.decompress(self._packed_body) if self._packed_body else b""
            self._body_utf8 = b" " + body + b" "
        return self._body_utf8

    def body(self) -> str:
        """The analyzed body (terms separated by spaces)."""
        if self._body is None:
            self._body = self.body_utf8()[1:-1].decode("utf-8")
        return self._body

    def holds_phrase(self, terms: Sequence[str]) -> bool:
        """True when one column holds ``terms`` next to each other, in order (FTS5's
        phrase ``"t1 t2 …"``). No terms: False."""
        return bool(terms) and self.holds(Phrase(terms))

    def holds(self, phrase: Phrase) -> bool:
        """True when one column holds ``phrase`` (see ``holds_phrase``). The body is
        searched in UTF-8, where a space-delimited phrase matches exactly where it does in
        the text."""
        return phrase.text in self._head or phrase.utf8 in self.body_utf8()

    def holds_prefix(self, prefix: str) -> bool:
        """True when a column holds a term starting with ``prefix`` (an analyzed term, or
        its start: FTS5's prefix query ``"prefix"*``). The body is unpacked only when the
        head has none."""
        needle = " " + prefix
        return needle in self._head or needle.encode("utf-8") in self.body_utf8()

    def holds_near(self, terms: Sequence[str], distance: int) -> bool:
        """True when one column holds an instance of every one of ``terms`` with at most
        ``distance`` tokens between the first and the last (FTS5's ``NEAR("t1" "t2" …,
        distance)`` of one-term phrases). No terms: False."""
        wanted = sorted(set(terms))
        if not wanted:
            return False
        for column in self.columns:
            if _near_in(f" {column} ", [f" {term} " for term in wanted], distance, " "):
                return True
        needles = [f" {term} ".encode() for term in wanted]
        return _near_in(self.body_utf8(), needles, distance, b" ")


def _near_in(padded: AnyStr, needles: Sequence[AnyStr], distance: int, space: AnyStr) -> bool:
    """True when ``padded`` (space-separated tokens with a space at both ends) holds every
    one of ``needles`` (distinct tokens, space-delimited) in a window whose first and last
    tokens have at most ``distance`` tokens between them. Such a window holds an instance
    of the rarest needle and lies within ``distance + 1`` tokens of it on either side, so
    only those neighbourhoods are searched (``_near_window``): a common word's instances
    all over a long body are never listed one by one."""
    counts = [padded.count(needle) for needle in needles]
    if not all(counts):
        return False
    if len(needles) == 1:
        return True
    rarest = needles[counts.index(min(counts))]
    reach = distance + 1
    at = padded.find(rarest)
    while at >= 0:
        low = at  # the space before the rarest's instance, then before each token back
        for _ in range(reach):
            low = padded.rfind(space, 0, low)
            if low < 0:
                low = 0
                break
        high = at + len(rarest) - 1  # the space after it, then after each token on
        for _ in range(reach):
            high = padded.find(space, high + 1)
            if high < 0:
                high = len(padded) - 1
                break
        neighbourhood = padded[low : high + 1]
        if all(needle in neighbourhood for needle in needles) and _near_window(
            neighbourhood, needles, distance, space
        ):
            return True
        at = padded.find(rarest, at + 1)
    return False


def _near_window(padded: AnyStr, needles: Sequence[AnyStr], distance: int, space: AnyStr) -> bool:
    """``_near_in`` by listing every instance: found with ``find``, their token positions
    by counting the spaces before them; then the smallest window ending at each
    instance, in one pass."""
    occurrences: list[tuple[int, int]] = []
    for which, needle in enumerate(needles):
        at = padded.find(needle)
        if at < 0:
            return False
        while at >= 0:
            occurrences.append((at, which))
            at = padded.find(needle, at + 1)
    occurrences.sort()
    positions: list[tuple[int, int]] = []
    tokens_before = previous = 0
    for at, which in occurrences:
        tokens_before += padded.count(space, previous, at)
        previous = at
        positions.append((tokens_before, which))
    held = [0] * len(needles)
    distinct = start = 0
    for end_position, end_term in positions:
        if held[end_term] == 0:
            distinct += 1
        held[end_term] += 1
        if distinct < len(needles):
            continue
        # Drop instances from the left while the window still holds every term.
        while held[positions[start][1]] > 1:
            held[positions[start][1]] -= 1
            start += 1
        if end_position - positions[start][0] - 1 <= distance:
            return True
    return False
