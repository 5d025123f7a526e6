"""Shared test fixtures: small corpora written by the tests, and the real site snapshot."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

REAL_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus-technyan"
EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"


def frontmatter_text(fields: dict[str, object]) -> str:
    """YAML frontmatter for ``fields``: strings double-quoted (JSON escapes are valid YAML),
    lists as flow sequences, anything else written as given (``raw:`` prefix keeps text
    exactly, e.g. ``{"date": "raw:2025-11-18"}``)."""
    lines = ["---"]
    for key, value in fields.items():
        if isinstance(value, str) and value.startswith("raw:"):
            lines.append(f"{key}: {value[4:]}")
        elif isinstance(value, (list, tuple)):
            lines.append(f"{key}: {json.dumps(list(value), ensure_ascii=False)}")
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


ArticleWriter = Callable[..., Path]


@pytest.fixture
def write_article(tmp_path: Path) -> ArticleWriter:
    """Write one article file under ``tmp_path / "corpus"`` and return its path.

    ``write_article("articles/20251118/slug/en.md", title=..., body=...)``; defaults fill
    the required fields so each test states only what it is about."""

    def write(relative: str, body: str = "## Summary\n\nText.\n", **fields: object) -> Path:
        locale = "ja" if relative.endswith(("ja.md", "-ja.md")) else "en"
        defaults: dict[str, object] = {
            "title": f"Title of {relative}",
            "description": f"Description of {relative}",
            "date": "raw:2025-11-18",
            "category": "Other",
            "tags": ["AI"],
            "locale": locale,
        }
        defaults.update(fields)
        defaults = {k: v for k, v in defaults.items() if v is not None}
        path = tmp_path / "corpus" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(frontmatter_text(defaults) + "\n" + body, encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def real_corpus() -> Path:
    """The snapshot of the real site (../shared/corpus-technyan); skips when absent."""
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {REAL_CORPUS} (../shared is absent)")
    return REAL_CORPUS


@pytest.fixture(scope="session")
def real_index(real_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the real corpus, built once per test session."""
    from bot.index import build_index

    path = tmp_path_factory.mktemp("real-index") / "index.db"
    build_index(real_corpus, path)
    return path
