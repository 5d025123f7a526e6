"""How the index stores a document's passages: zlib-compressed JSON, one row per document.

Kept apart from the builder (``bot.index``) so that reading passages for an answer never
imports what building needs.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.corpus import Passage

__all__ = ["pack_passages", "unpack_passages"]


def pack_passages(passages: Iterable[Passage]) -> bytes:
    """A document's passages as stored: zlib-compressed JSON ``[[heading, text], …]``
    (bodies are most of an index; compressed they take about a third)."""
    rows = [[p.heading, p.text] for p in passages]
    return zlib.compress(json.dumps(rows, ensure_ascii=False).encode("utf-8"), 6)


def unpack_passages(packed: bytes) -> list[tuple[str, str]]:
    """``(heading, text)`` pairs of a document, as ``pack_passages`` stored them."""
    return [(heading, text) for heading, text in json.loads(zlib.decompress(packed))]
