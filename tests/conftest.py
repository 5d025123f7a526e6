"""Shared test fixtures: small corpora written by the tests, the real site snapshot, and a
PostgreSQL server with a fresh database per test."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import postgres_support

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


@pytest.fixture(scope="session")
def bundled_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the project's own corpus/ (54 documents), built once per test session."""
    from bot.index import build_index

    path = tmp_path_factory.mktemp("bundled-index") / "index.db"
    build_index(Path(__file__).resolve().parents[1] / "corpus", path)
    return path


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server whose user may create databases:
    ``TECHNYAN_TEST_POSTGRES_URL`` when set, else a throwaway server started from Debian's
    binaries for this session (tests/postgres_support.py). Without any server binary the
    tests that need one are skipped with the reason — except under CI (``CI=true``), where
    that is a failure: CI installs PostgreSQL (.ci/run)."""
    given = os.environ.get(postgres_support.ENV_URL)
    if given:
        yield given
        return
    try:
        server = postgres_support.ThrowawayServer()
    except postgres_support.PostgresUnavailable as error:
        if postgres_support.in_ci():
            pytest.fail(f"PostgreSQL is required under CI: {error}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {error}")
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of an empty database of its own on ``postgres_server``, dropped after the
    test."""
    url = postgres_support.fresh_database(postgres_server)
    try:
        yield url
    finally:
        postgres_support.drop_database(postgres_server, url)
