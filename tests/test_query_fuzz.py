"""A property-based fuzz of the query path on an index of the bundled corpus, with strings
as Discord options, console lines, command-line arguments and batch lines deliver them:
10,000 generated queries through ``NewsService.about`` (cleaning, planning, FTS5
retrieval, ranking, did-you-mean, cards), 3,000 through ``NewsService.ask`` (the same
planning and retrieval, then answer extraction) and 50 long texts through both. No string
may raise, answer technyan's apology, or give a reply that cannot be encoded as UTF-8 and
JSON. Hypothesis runs with a fixed seed (``derandomize``) and a fixed number of examples,
so every run is the same run (about a minute on the 2-core machine the suite runs on)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.config import load_settings
from bot.persona import Persona
from bot.replies import Reply
from bot.service import NewsService
from bot.user_input import clean_text

REPO = Path(__file__).resolve().parents[1]
QUERY_EXAMPLES = 10_000
QUESTION_EXAMPLES = 3_000


def _corpus_words() -> list[str]:
    """Words of the bundled corpus's titles and tags: names, numbers, Japanese runs."""
    words: set[str] = set()
    for path in sorted((REPO / "corpus").rglob("*.md")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith(("title:", "tags:")):
                value = line.split(":", 1)[1]
                words.update(w for w in re.split(r"[\s\"',\[\]「」、。：:]+", value) if w)
    return sorted(words)


#: Pieces that reach the query parser's and FTS5's special cases: dates, recency words,
#: question words, operators and quotes of FTS5's syntax, names made of a letter and
#: symbols, markdown, mentions, invisible and full-width characters.
FRAGMENTS = [
    "2025年12月", "2025-01-27", "December 2025", "2024", "先週", "latest", "最新", "いつ",
    "何", "って何？", "how many", "when did", "why", "?", "？", "C++", "C#", ".NET", "F#",
    "GPT-4", "o1-mini", "NEAR", "OR", "AND", "NOT", "*", '"', "'", "(", ")", "^", "-", ":",
    "+", "{", "}", "%", "_", "\\", "@everyone", "[x](https://example.org)", "`", "\u200b",
    "\ufeff", "\u3000", "ｶﾀｶﾅ", "ＤｅｅｐＳｅｅｋ", "ー", "゛", "\u0301", "🐾", "👩‍💻", "\x00",
]  # fmt: skip

TOKENS = st.sampled_from(_corpus_words() + FRAGMENTS)
QUERIES = st.one_of(
    # arbitrary Unicode, lone surrogates included (JSON "\ud800" in a Discord option)
    st.text(st.one_of(st.characters(), st.characters(categories=["Cs"])), max_size=80),
    # arbitrary bytes, as a terminal or a pipe delivers them, cleaned as the edge does
    st.binary(max_size=80).map(clean_text),
    # command-line arguments: bytes that are not UTF-8 arrive surrogate-escaped
    st.binary(max_size=80).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    # words of the corpus and special pieces, run together or spaced
    st.lists(TOKENS, max_size=8).flatmap(
        lambda words: st.sampled_from(["", " ", "　"]).map(lambda glue: glue.join(words))
    ),
)
#: Long text, cut to 500 characters by the core: few examples, each costs ~0.1 s.
LONG_QUERIES = st.lists(TOKENS, min_size=80, max_size=160).map(" ".join)
LONG_EXAMPLES = 50


@pytest.fixture(scope="module")
def service(bundled_index: Path) -> NewsService:
    return NewsService(load_settings(None, environ={}).with_paths(index=bundled_index))


def assert_deliverable(reply: Reply, kind: str, apologies: set[str]) -> None:
    """The reply is an answer of ``kind`` (not the apology) that Discord and a terminal
    can carry: valid UTF-8, and the batch's JSON line."""
    assert reply.kind == kind
    assert reply.header not in apologies
    for text in (reply.header, reply.query, reply.footer, *reply.suggestions):
        text.encode("utf-8")
    payload = {
        "query": reply.query,
        "results": [card.to_json() for card in reply.cards],
        "answer": reply.answer.to_json() if reply.answer is not None else None,
    }
    line = json.dumps(payload, ensure_ascii=False)
    assert "\n" not in line
    line.encode("utf-8")


def _fuzz(
    service: NewsService, queries: st.SearchStrategy[str], examples: int, commands: list[str]
) -> int:
    """Run ``examples`` generated queries through each of ``commands`` (``about``,
    ``ask``); returns how many queries were run."""
    apologies = {
        line for locale in ("ja", "en") for line in Persona.load().variants("error", locale)
    }
    tried: list[str] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(query=queries, locale=st.sampled_from(["ja", "en"]))
    def check(query: str, locale: str) -> None:
        tried.append(query)
        for command in commands:
            reply = getattr(service, command)(query, locale)
            assert_deliverable(reply, command, apologies)

    check()
    return len(tried)


def test_ten_thousand_generated_queries_never_crash(service: NewsService) -> None:
    assert _fuzz(service, QUERIES, QUERY_EXAMPLES, ["about"]) >= QUERY_EXAMPLES


def test_generated_questions_never_crash(service: NewsService) -> None:
    assert _fuzz(service, QUERIES, QUESTION_EXAMPLES, ["ask"]) >= QUESTION_EXAMPLES


def test_long_generated_queries_never_crash(service: NewsService) -> None:
    assert _fuzz(service, LONG_QUERIES, LONG_EXAMPLES, ["about", "ask"]) >= LONG_EXAMPLES
