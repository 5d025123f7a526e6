"""Shared pieces of the scale benchmarks: work folders, the FTS5-trigram baseline, timing
statistics, markdown tables and a description of the machine.

The baseline is plain SQLite FTS5 with the ``trigram`` tokenizer, as measured in
``../shared/docs/SEARCH.md``: one FTS5 table ``docs_fts(title, description, tags, body)``
storing its content (queried in the forms of ``bench/baselines.py``), beside a plain table
``docs`` (display fields, indexed by date, by category and date, and by ``title COLLATE
NOCASE`` for prefix autocomplete) and a ``files`` table (size, mtime) so it can be updated
incrementally. It is built in one process (SQLite inserts are single-threaded) with the
same frontmatter parser as the bot.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The real corpus the synthetic ones are recombined from (TECHNYAN_REAL_CORPUS overrides).
SHARED_CORPUS = Path(
    os.environ.get("TECHNYAN_REAL_CORPUS") or ROOT.parent / "shared" / "corpus-technyan"
)
DEFAULT_WORK = ROOT / "bench" / "out"
DEFAULT_SIZES = (1_000, 10_000, 100_000)
MANIFEST = "bench-manifest.json"
_UPDATE_RE = re.compile(r"\n(?:Update|追記) [0-9a-f]+: [^\n]*\n?$")


def parse_sizes(text: str) -> list[int]:
    """``"1000,10k,100k"`` → ``[1000, 10000, 100000]``."""
    sizes = []
    for part in text.split(","):
        part = part.strip().casefold()
        if not part:
            continue
        factor = 1_000 if part.endswith("k") else 1
        sizes.append(int(float(part.rstrip("k")) * factor))
    return sizes


def corpus_dir(work: Path, size: int) -> Path:
    """Where the synthetic corpus of ``size`` documents lives."""
    return work / f"corpus-{size}"


def index_path(work: Path, size: int) -> Path:
    """The bot's index of the corpus of ``size`` documents."""
    return work / f"index-{size}.db"


def trigram_path(work: Path, size: int) -> Path:
    """The FTS5-trigram baseline database of the corpus of ``size`` documents."""
    return work / f"trigram-{size}.db"


def ensure_corpus(work: Path, size: int, seed: int = 1) -> tuple[Path, dict[str, object]]:
    """The synthetic corpus of ``size`` documents (made by ``make_corpus`` unless a corpus
    of that size and seed is already there) and its manifest. Raises ``FileNotFoundError``
    when the real corpus (../shared/corpus-technyan) is missing."""
    from bench.make_corpus import make_corpus

    folder = corpus_dir(work, size)
    manifest_file = folder / MANIFEST
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        if manifest.get("documents") == size and manifest.get("seed") == seed:
            return folder, manifest
    if not SHARED_CORPUS.is_dir():
        raise FileNotFoundError(f"real corpus not found at {SHARED_CORPUS}")
    print(f"# generating a corpus of {size} documents in {folder}", file=sys.stderr, flush=True)
    return folder, make_corpus(size, folder, seed=seed, source_dir=SHARED_CORPUS)


def ensure_indexes(work: Path, size: int, seed: int = 1) -> tuple[Path, Path, dict[str, object]]:
    """The bot's index (brought up to date) and the trigram baseline (built if missing)
    for ``size`` documents, untimed. Returns ``(index path, trigram path, manifest)``."""
    from bot.index import build_index

    corpus, manifest = ensure_corpus(work, size, seed)
    index = index_path(work, size)
    # Incremental: a no-op on an up-to-date index, a full build for a missing one or one
    # made by another analyzer version.
    print(f"# updating {index}", file=sys.stderr, flush=True)
    build_index(corpus, index)
    trigram = trigram_path(work, size)
    if not trigram.exists():
        print(f"# building {trigram}", file=sys.stderr, flush=True)
        build_trigram(corpus, trigram, full=True)
    return index, trigram, manifest


def touch_files(corpus: Path, share: float, seed: int) -> int:
    """Rewrite ``share`` of the corpus files (chosen by ``seed``) with one changed sentence
    at the end (replacing the one a previous run added). Returns the number of files."""
    from bot.corpus import discover

    paths = [path for path, _ in discover(corpus)]
    count = max(1, round(len(paths) * share))
    chosen = random.Random(seed).sample(paths, count)
    token = f"{time.time_ns():x}"
    for path in chosen:
        text = _UPDATE_RE.sub("\n", path.read_text(encoding="utf-8")).rstrip("\n") + "\n"
        if path.stem == "ja" or path.stem.endswith("-ja"):
            text += f"\n追記 {token}: 数値を最新の発表に合わせて更新しました。\n"
        else:
            text += f"\nUpdate {token}: the figures were revised after the latest announcement.\n"
        path.write_text(text, encoding="utf-8")
    return count


# -- the FTS5 trigram baseline ---------------------------------------------------------------


def _create_trigram(connection: sqlite3.Connection) -> None:
    connection.executescript(
        """
        CREATE TABLE docs (id INTEGER PRIMARY KEY, path TEXT UNIQUE, story TEXT, locale TEXT,
            title TEXT, description TEXT, date TEXT, category TEXT, tags TEXT);
        CREATE INDEX docs_date ON docs(date);
        CREATE INDEX docs_category_date ON docs(category, date);
        CREATE INDEX docs_title_nocase ON docs(title COLLATE NOCASE);
        CREATE TABLE files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER);
        CREATE VIRTUAL TABLE docs_fts USING fts5(title, description, tags, body,
            tokenize='trigram');
        """
    )


def build_trigram(corpus: Path, db_path: Path, *, full: bool) -> dict[str, int]:
    """Build (``full``) or update the FTS5-trigram baseline of ``corpus`` at ``db_path``:
    parse changed files with the bot's parser and insert them; an update deletes and
    re-inserts changed rows. Returns ``{"documents": …, "changed": …}``."""
    from bot.corpus import CorpusError, discover, parse_article

    if full:
        db_path.unlink(missing_ok=True)
    fresh = not db_path.exists()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    if fresh:
        _create_trigram(connection)
    known = {
        path: (size, mtime)
        for path, size, mtime in connection.execute("SELECT path, size, mtime_ns FROM files")
    }
    current = {}
    for path, location in discover(corpus):
        stat = path.stat()
        current[path.relative_to(corpus).as_posix()] = (path, location, stat)
    changed = 0
    with connection:
        for relative in set(known) - set(current):
            _delete_trigram(connection, relative)
            changed += 1
        for relative, (path, location, stat) in current.items():
            if known.get(relative) == (stat.st_size, stat.st_mtime_ns):
                continue
            if relative in known:
                _delete_trigram(connection, relative)
            changed += 1
            connection.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?)",
                [relative, stat.st_size, stat.st_mtime_ns],
            )
            try:
                article = parse_article(path, location, relative)
            except CorpusError:
                continue
            tags = " ".join(article.tags)
            cursor = connection.execute(
                "INSERT INTO docs (path, story, locale, title, description, date, category, "
                "tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    relative,
                    article.story,
                    article.locale,
                    article.title,
                    article.description,
                    article.date.isoformat(),
                    article.category,
                    tags,
                ],
            )
            connection.execute(
                "INSERT INTO docs_fts (rowid, title, description, tags, body) "
                "VALUES (?, ?, ?, ?, ?)",
                [cursor.lastrowid, article.title, article.description, tags, article.body],
            )
    documents = int(connection.execute("SELECT count(*) FROM docs").fetchone()[0])
    connection.close()
    return {"documents": documents, "changed": changed}


def ensure_title_index(db_path: Path) -> None:
    """Give a baseline database built before its autocomplete and category indexes had
    them (untimed)."""
    connection = sqlite3.connect(db_path)
    with connection:
        connection.execute(
            "CREATE INDEX IF NOT EXISTS docs_title_nocase ON docs(title COLLATE NOCASE)"
        )
        connection.execute("CREATE INDEX IF NOT EXISTS docs_category_date ON docs(category, date)")
    connection.close()


def _delete_trigram(connection: sqlite3.Connection, relative: str) -> None:
    row = connection.execute("SELECT id FROM docs WHERE path = ?", [relative]).fetchone()
    if row is not None:
        connection.execute("DELETE FROM docs_fts WHERE rowid = ?", [row[0]])
        connection.execute("DELETE FROM docs WHERE id = ?", [row[0]])
    connection.execute("DELETE FROM files WHERE path = ?", [relative])


# -- measuring ----------------------------------------------------------------------------------


def load_average() -> str:
    """The machine's load average over 1, 5 and 15 minutes (``/proc/loadavg``)."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def proc_memory_mb(pid: int | str = "self") -> dict[str, float]:
    """``VmRSS`` (resident now), ``VmHWM`` (resident peak), and the resident memory split
    into ``RssAnon`` (the process's own allocations) and ``RssFile`` (pages of mapped files,
    such as the Japanese dictionary: shared, and given back under memory pressure), in MB
    (10^6 bytes), from ``/proc/PID/status``: the process's own figures, unlike
    ``ru_maxrss``, which a child inherits from its parent across fork and exec."""
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0]) * 1024 / 1e6
    except (OSError, ValueError):
        pass
    return found


def warm_page_cache(*paths: Path) -> None:
    """Read ``paths`` once so the operating system caches them: queries are measured with
    the databases in memory, the bot's and the baseline's alike (this VM's disk reads about
    200 MB/s, so a cold 100k index turns first queries into disk waits)."""
    for path in paths:
        with open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass


def run_child(args: Sequence[str], timeout: float = 7200) -> dict[str, object]:
    """Run ``python <args>`` and return the JSON object it prints on its last stdout line.
    Raises ``RuntimeError`` with its stderr when it fails."""
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in [0, 1]) of ``samples``; 0.0 when empty."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def ratio(baseline: float, product: float) -> str:
    """``baseline / product`` as ``"12.3×"`` (bigger means the product is faster or
    smaller); ``"–"`` when undefined."""
    if product <= 0 or baseline <= 0:
        return "–"
    value = baseline / product
    return f"{value:.1f}×" if value < 100 else f"{value:.0f}×"


def file_mb(path: Path) -> float:
    """Size of ``path`` in MB (10^6 bytes), 0.0 when missing."""
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table of ``rows`` under ``headers``."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line describing this machine: cores, CPU model, RAM, Python and SQLite."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "? GB"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{usable} cores ({os.cpu_count()} online), {model}, {memory} RAM, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}; {code_version()}"
    )


def code_version() -> str:
    """Which bot code is measured: the commit of a snapshot (``.bench-commit`` beside
    ``bot/``, written when the benchmark runs on an exported commit), else the checkout's
    commit, marked ``+ local changes`` when ``bot/`` differs from it."""
    marker = ROOT / ".bench-commit"
    if marker.exists():
        return f"bot at commit {marker.read_text().strip()}"
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "bot"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "bot at an unknown commit"
    return f"bot at commit {commit}" + (" + local changes" if dirty else "")
