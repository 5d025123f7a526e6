"""Property-based fuzz of the corpus reader: generated files (valid, damaged and hostile
frontmatter, odd encodings, markdown bodies) never crash it.

Every file either becomes an article or a ``CorpusError`` with a bounded message, and
whatever comes out survives pickle (the index parses in worker processes). Fixed seed
(``derandomize``), bounded input sizes and a fixed number of files, so it runs the same
in CI every time.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.corpus import CorpusError
from bot.index import PreparedDocument, prepare_document

FILES = 2_000

_FIELDS = (
    "title",
    "description",
    "date",
    "category",
    "tags",
    "locale",
    "technyanComment",
    "impactLevel",
    "relatedCompanies",
    "content",
    "handler",
)
# Pieces of YAML and markdown that have broken readers: anchors and aliases, tags, flow
# and block collections, block scalars, document markers, directives, tabs, escapes.
_SNIPPETS = (
    "&a",
    "*a",
    "&a [x, *a]",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGk=",
    "{",
    "[",
    "]",
    "}",
    "? ",
    ": ",
    "- ",
    "|",
    ">-",
    "---",
    "...",
    "%YAML 1.2",
    "\t",
    '"\\x"',
    "'",
    '"',
    "#",
    "<<: *a",
    "2025-02-30",
    "2025-11-18T25:00",
    "no",
    "~",
    "null",
    "1e400",
    "0x1F",
    "\\[",
    "\\]",
    "## title:",
    "C++",
    "C#",
    ".NET",
    "\u3000",
    "\ufeff",
    "\u202e",
    "\x00",
)
_LAYOUTS = (
    "articles/20251118/story/ja.md",
    "articles/20251118/story/en.md",
    "articles/20251118/story-ja.md",
    "articles/20251118/story.md",
    "aiTimeline/202412-story/en.md",
    "articles/story-ja.md",
)

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be UTF-8
    max_size=60,
)
_japanese = st.text(alphabet="日本語の記事ですAIモデルを発表した。、「」ーァヶ々〆・", max_size=200)
_piece = st.one_of(_text, _japanese, st.sampled_from(_SNIPPETS))
_quoted = st.one_of(_text, _japanese).map(lambda value: json.dumps(value, ensure_ascii=False))
_value = st.one_of(
    _quoted,
    _quoted,
    _piece,
    st.lists(_piece, max_size=5).map(lambda items: " ".join(items)),
    st.lists(_piece, max_size=5).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(_text, max_size=4).map(lambda items: "".join(f"\n  - {i}" for i in items)),
    st.just(""),
)
_valid = {
    "title": '"A story about Gemini"',
    "description": '"What happened."',
    "date": "2025-11-18",
    "category": '"Other"',
}


@st.composite
def _frontmatter(draw: st.DrawFn) -> str:
    fields = dict(_valid) if draw(st.integers(0, 3)) else {}
    for _ in range(draw(st.integers(0, 4))):
        fields[draw(st.sampled_from(_FIELDS))] = draw(_value)
    lines = [f"{key}: {value}" for key, value in fields.items()]
    if draw(st.integers(0, 3)) == 0:
        lines += draw(st.lists(_piece, max_size=3))
    if draw(st.integers(0, 4)) == 0:  # a formatter turned it into a heading
        return "---\n\n## " + " ".join(lines) + "\n\n"
    closing = draw(st.sampled_from(["---\n"] * 4 + ["---", "", "...\n", "--- \n"]))
    return "---\n" + "\n".join(draw(st.permutations(lines))) + "\n" + closing


_body = st.lists(
    st.one_of(
        _text,
        _japanese,
        st.sampled_from(["## 見出し", "# Title", "```", "~~~", "---", "## ソース", "## Sources"]),
        st.builds(lambda label, url: f"- [{label}](https://{url})", _text, _text),
        st.integers(0, 20_000).map(lambda n: "日本語" * (n // 3)),  # long unpunctuated runs
    ),
    max_size=12,
).map("\n".join)


@st.composite
def _file_bytes(draw: st.DrawFn) -> bytes:
    text = draw(_frontmatter()) + draw(_body)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    data = text.replace("\n", newline).encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        position = draw(st.integers(0, len(data)))
        data = data[:position] + draw(st.binary(min_size=1, max_size=8)) + data[position:]
    return data


def test_the_corpus_reader_never_crashes_on_generated_files(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    outcomes = {"articles": 0, "errors": 0}

    @settings(
        max_examples=FILES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(layout=st.sampled_from(_LAYOUTS), data=_file_bytes())
    def read_one(layout: str, data: bytes) -> None:
        path = root / layout
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        try:
            prepared = prepare_document(path, root)
        except CorpusError as error:
            outcomes["errors"] += 1
            assert len(str(error)) < 1_000
            copy = pickle.loads(pickle.dumps(error))
            assert str(copy) == str(error)
            return
        finally:
            path.unlink()
        outcomes["articles"] += 1
        assert isinstance(prepared, PreparedDocument)
        article = prepared.article
        assert article.title.strip() and article.description.strip() and article.category
        assert article.locale in ("ja", "en")
        assert pickle.loads(pickle.dumps(prepared)) == prepared

    read_one()
    total = outcomes["articles"] + outcomes["errors"]
    print(f"fuzz: {total} files, {outcomes['articles']} articles, {outcomes['errors']} errors")
    assert total >= FILES
    assert outcomes["articles"] >= FILES // 10  # the generator reaches valid articles too
