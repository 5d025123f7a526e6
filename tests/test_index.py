"""Building index.db: counts on the real corpus, incremental updates, the atomic swap."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from bot import index, text
from bot.index import build_index
from bot.index_derived import DERIVED_TABLES
from bot.ops import _check_index
from bot.search import SearchEngine
from tests.conftest import ArticleWriter


def test_real_corpus_report(real_corpus: Path, tmp_path: Path) -> None:
    report = build_index(real_corpus, tmp_path / "index.db")
    assert report.documents == 224
    assert report.stories == 113
    assert report.stories_by_collection == {"aiTimeline": 23, "articles": 90}
    assert report.single_locale_stories == [
        "articles/20260110/chatgpt-health-launch",
        "articles/20260110/gmail-gemini-ai-upgrade",
    ]
    assert report.skipped == []


def test_cli_index_prints_the_report_and_exit_codes(real_corpus: Path, tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "bot",
        "index",
        str(real_corpus),
        "--db",
        str(tmp_path / "i.db"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "documents 224" in done.stdout
    assert "stories   113" in done.stdout
    assert "skipped   0" in done.stdout
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "index",
            str(tmp_path / "nowhere"),
            "--db",
            str(tmp_path / "j.db"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert "corpus folder not found" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_nothing_indexable_exits_2(tmp_path: Path) -> None:
    (tmp_path / "corpus" / "articles").mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "bot",
        "index",
        str(tmp_path / "corpus"),
        "--db",
        str(tmp_path / "i.db"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2


def test_second_run_over_unchanged_corpus_parses_and_writes_nothing(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/one/en.md")
    write_article("articles/20251118/one/ja.md")
    db = tmp_path / "index.db"
    first = build_index(tmp_path / "corpus", db)
    assert first.added == 2
    stamp = db.stat().st_mtime_ns
    second = build_index(tmp_path / "corpus", db)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 2)
    assert db.stat().st_mtime_ns == stamp


def test_changed_and_deleted_files_are_updated_and_removed(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/keep/en.md", title="Keep this story")
    changing = write_article("articles/20251118/change/en.md", title="Old headline about Gemini")
    doomed = write_article("articles/20251118/doomed/en.md", title="Doomed story about Llama")
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    write_article("articles/20251118/change/en.md", title="New headline about DeepSeek")
    os.utime(changing, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    doomed.unlink()
    report = build_index(tmp_path / "corpus", db)
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    engine = SearchEngine(db)
    assert [h.story for h in engine.about("DeepSeek").hits] == ["articles/20251118/change"]
    assert engine.about("Gemini").hits == []
    assert engine.about("Llama").hits == []
    assert engine.about("Keep this story").hits[0].story == "articles/20251118/keep"


def test_an_updated_index_derives_the_same_names_and_statistics_as_a_full_build(
    real_corpus: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(real_corpus, corpus)
    updated = tmp_path / "updated.db"
    build_index(corpus, updated, workers=1)
    changed = sorted(corpus.rglob("ja.md"))[:3] + sorted(corpus.rglob("en.md"))[:3]
    for path in changed:
        path.write_text(
            path.read_text(encoding="utf-8").replace("title:", "title: Zorblax Quantum 社の", 1)
            + "\nZorblax Quantum とクオンタムゾーブラックスの発表。\n",
            encoding="utf-8",
        )
    sorted(corpus.rglob("en.md"))[-1].unlink()
    (corpus / "articles/20251130/zorblax/en.md").parent.mkdir(parents=True)
    shutil.copyfile(changed[-1], corpus / "articles/20251130/zorblax/en.md")
    report = build_index(corpus, updated, workers=1)
    assert (report.added, report.updated, report.removed) == (1, 6, 1)
    fresh = tmp_path / "fresh.db"
    build_index(corpus, fresh, full=True, workers=1)
    tables = DERIVED_TABLES
    with sqlite3.connect(updated) as a, sqlite3.connect(fresh) as b:
        assert a.execute("SELECT name FROM entities WHERE key = 'zorblaxquantum'").fetchall()
        for table in tables:
            query = f"SELECT * FROM {table}"
            assert sorted(a.execute(query)) == sorted(b.execute(query)), table


def test_a_file_that_becomes_broken_is_skipped_and_its_old_version_dropped(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    path = write_article("articles/20251118/story/en.md", title="Working story about Mistral")
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    path.write_text("---\ntitle: [broken\n---\n", encoding="utf-8")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    report = build_index(tmp_path / "corpus", db)
    assert report.documents == 0
    assert [p for p, _ in report.skipped] == ["articles/20251118/story/en.md"]
    # The report of an unchanged run still lists the broken file.
    again = build_index(tmp_path / "corpus", db)
    assert [p for p, _ in again.skipped] == ["articles/20251118/story/en.md"]


def test_readers_see_the_old_or_the_new_index_never_an_error(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for number in range(40):
        write_article(
            f"articles/20251118/story-{number}/en.md", title=f"Story {number} about Claude"
        )
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    errors: list[BaseException] = []
    counts: set[int] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                engine = SearchEngine(db)
                counts.add(engine.document_count)
                engine.about("Claude")
                engine.close()
            except BaseException as error:  # any error is the failure under test
                errors.append(error)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for number in range(40, 60):
            write_article(f"articles/20251118/story-{number}/en.md", title=f"Story {number}")
            build_index(tmp_path / "corpus", db)
        build_index(tmp_path / "corpus", db, full=True)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert counts <= set(range(40, 61))
    assert not list(tmp_path.glob("index.db.building-*"))


def test_indexing_never_touches_the_state_database(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/story/en.md")
    state = tmp_path / "state.db"
    with sqlite3.connect(state) as connection:
        connection.execute("CREATE TABLE subscriptions (channel_id INTEGER)")
        connection.execute("INSERT INTO subscriptions VALUES (42)")
    before = state.read_bytes()
    build_index(tmp_path / "corpus", tmp_path / "index.db", full=True)
    assert state.read_bytes() == before


def test_an_empty_corpus_never_replaces_a_working_index(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/story/en.md", title="A story about Gemini")
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    before = db.read_bytes()
    empty = tmp_path / "empty"
    (empty / "articles").mkdir(parents=True)
    report = build_index(empty, db)
    assert report.refused
    assert db.read_bytes() == before
    broken = tmp_path / "broken"
    (broken / "articles" / "x").mkdir(parents=True)
    (broken / "articles" / "x" / "en.md").write_text("no frontmatter\n", encoding="utf-8")
    assert build_index(broken, db).refused
    assert SearchEngine(db).about("Gemini").hits


def test_a_damaged_index_is_rebuilt_and_queries_say_so_in_one_line(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for number in range(30):
        write_article(f"articles/20251118/story-{number}/en.md", title=f"Story {number} on Claude")
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    with db.open("r+b") as damaged:
        damaged.seek(db.stat().st_size // 3)
        damaged.write(b"\x00" * (db.stat().st_size // 3))
    query = subprocess.run(
        [sys.executable, "-m", "bot", "news", "about", "Claude", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert query.returncode == 2
    assert "technyan-bot index --full" in query.stderr
    assert "Traceback" not in query.stderr
    report = build_index(tmp_path / "corpus", db)
    assert report.rebuilt and report.documents == 30
    assert SearchEngine(db).about("Claude").hits


# --------------------------------------------------------------------- process pool


def _write_many(write_article: ArticleWriter, count: int) -> None:
    for number in range(count):
        write_article(
            f"articles/20251118/story-{number:03d}/en.md",
            title=f"Story {number} about Gemini",
            body=f"## Summary\n\nStory number {number}.\n",
        )


def test_one_invalid_file_among_400_in_a_process_pool_is_skipped_the_rest_indexed(
    tmp_path: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_many(write_article, 400)
    write_article("articles/20251118/untitled/en.md", title=None)
    pools: list[object] = []

    class CountedPool(ProcessPoolExecutor):
        def __init__(self, max_workers: int, **options: Any) -> None:
            super().__init__(max_workers=max_workers, **options)
            pools.append(self)

    monkeypatch.setattr(index, "ProcessPoolExecutor", CountedPool)
    report = build_index(tmp_path / "corpus", tmp_path / "index.db", workers=2)
    assert len(pools) == 1  # the files went through worker processes
    assert report.documents == 400 and report.stories == 400
    assert report.skipped == [("articles/20251118/untitled/en.md", "title=None: missing")]
    assert len(SearchEngine(tmp_path / "index.db").about("Gemini").hits) > 0


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the dying worker is patched in before the pool forks",
)
def test_a_worker_process_that_dies_does_not_stop_the_build(
    tmp_path: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_many(write_article, 420)
    parent = os.getpid()
    real_prepare = index.prepare_document

    def dying_in_workers(
        path: Path, root: Path, resolved_root: Path | None = None
    ) -> index.PreparedDocument:
        if os.getpid() != parent and path.parent.name == "story-200":
            os._exit(1)  # a worker killed mid-file (out of memory, a crash in C)
        return real_prepare(path, root, resolved_root)

    monkeypatch.setattr(index, "prepare_document", dying_in_workers)
    report = build_index(tmp_path / "corpus", tmp_path / "index.db", workers=2)
    assert report.documents == 420
    assert report.skipped == []


# --------------------------------------------------------------------- paths with # and %


def test_an_index_path_with_hash_and_percent_works_and_updates_incrementally(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/story/en.md", title="A story about Gemini")
    folder = tmp_path / "data #1 100%"
    folder.mkdir()
    db = folder / "index#2%41.db"
    first = build_index(tmp_path / "corpus", db)
    assert first.rebuilt
    again = build_index(tmp_path / "corpus", db)
    assert not again.rebuilt and again.rebuild_reason == ""
    assert again.unchanged == 1
    assert sorted(p.name for p in folder.iterdir()) == ["index#2%41.db"]  # no stray file
    assert SearchEngine(db).about("Gemini").hits
    assert _check_index(db) is None


# --------------------------------------------------------------------- analyzer identity


def test_a_changed_dictionary_forces_a_full_rebuild_and_search_keeps_working(
    tmp_path: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_article("articles/20251118/one/ja.md", title="コンピューターの話", body="本文。\n")
    changing = write_article("articles/20251118/two/ja.md", title="コンピューター速報")
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    # A new dictionary release normalizes the word differently.
    real_terms = text._japanese_terms
    text.set_run_cache_limit(text.set_run_cache_limit(0))  # forget the analyzed runs

    def new_dictionary(run: str) -> tuple[str, ...]:
        return tuple("電子計算機" if term == "コンピュータ" else term for term in real_terms(run))

    identity = dict(text.analyzer_identity())
    identity["dictionary"] = "sudachidict-small 29990101 0000000000000000"
    monkeypatch.setattr(text, "_japanese_terms", new_dictionary)
    monkeypatch.setattr(text, "analyzer_identity", lambda: identity)
    write_article("articles/20251118/two/ja.md", title="コンピューター続報")
    os.utime(changing, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    report = build_index(tmp_path / "corpus", db)
    assert report.rebuilt
    assert "dictionary changed" in report.rebuild_reason
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        connection.execute("INSERT INTO docs_fts(docs_fts) VALUES ('integrity-check')")
    hits = SearchEngine(db).about("コンピューター").hits
    assert sorted(hit.story for hit in hits) == ["articles/20251118/one", "articles/20251118/two"]


def test_the_analyzer_identity_names_every_component() -> None:
    identity = index.index_identity()
    assert set(identity) == {"format", "analyzer", "sudachipy", "dictionary", "pystemmer"}
    assert identity["sudachipy"] == metadata.version("SudachiPy")
    assert identity["pystemmer"] == metadata.version("PyStemmer")
    assert metadata.version("sudachidict-small") in identity["dictionary"]


# --------------------------------------------------------------------- names with symbols


def test_names_do_not_begin_with_the_word_that_begins_a_sentence(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    english = write_article(
        "articles/20251118/race/en.md",
        body="While OpenAI Research shipped, If Anthropic Labs waits. Both Google DeepMind "
        "and Meta AI Research agree; Through Microsoft Azure it runs.",
    )
    japanese = write_article(
        "articles/20251118/race/ja.md", body="While OpenAIとThe Informationが報じた。"
    )
    root = tmp_path / "corpus"
    names = index.prepare_document(english, root).names
    assert {"OpenAI Research", "Anthropic Labs", "Google DeepMind", "Microsoft Azure"} <= set(names)
    assert not any(name.split()[0] in {"While", "If", "Both", "Through"} for name in names)
    assert {"OpenAI", "Information"} <= set(index.prepare_document(japanese, root).names)


def test_a_persons_name_is_kept_without_the_job_title_beside_it(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    english = write_article(
        "articles/20251118/people/en.md",
        body="Acme CFO Jane Doakes spoke first. Later Chief Research Officer Omar Haddad "
        "agreed, and Lena Park CEO closed.",
    )
    japanese = write_article(
        "articles/20251118/people/ja.md", body="AcmeのCFO Jane Doakes氏とLena Park CEOが登壇した。"
    )
    root = tmp_path / "corpus"
    names = set(index.prepare_document(english, root).names)
    assert {"Jane Doakes", "Omar Haddad", "Lena Park"} <= names
    assert not any(word in name for name in names for word in ("CFO", "CEO", "Officer"))
    assert {"Jane Doakes", "Lena Park"} <= set(index.prepare_document(japanese, root).names)


def test_a_name_that_begins_with_new_keeps_it_inside_a_sentence(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    english = write_article(
        "articles/20251118/press/en.md",
        title="New Gemini Features Arrive",
        body="Amodei spoke to the New York Times about it. New Gemini Tools reached users "
        "in New Zealand first, and the board named a New CEO.",
    )
    names = set(index.prepare_document(english, tmp_path / "corpus").names)
    assert {"New York Times", "New Zealand"} <= names
    assert "York Times" not in names and "New" not in names
    # opening a sentence or in the title, "New" is a word, not part of the name
    assert {"Gemini Features Arrive", "Gemini Tools"} <= names


def test_names_made_of_a_letter_and_symbols_are_terms(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20251118/cpp/en.md",
        title="New C++ compiler assistant",
        body="An AI tool that writes C++ code.\n",
    )
    write_article(
        "articles/20251118/csharp/en.md",
        title="C# gets an AI pair programmer",
        body="Microsoft adds AI to C# and .NET developers.\n",
    )
    write_article(
        "articles/20251118/fsharp/ja.md", title="F#でAI開発", body="関数型言語F#のライブラリ。\n"
    )
    write_article("articles/20251118/usbc/en.md", title="A phone with USB-C charging")
    write_article("articles/20251118/club/en.md", title="F.C. Barcelona uses C analytics")
    build_index(tmp_path / "corpus", tmp_path / "index.db")
    engine = SearchEngine(tmp_path / "index.db")

    def stories(query: str) -> list[str]:
        # Found at all (a name only in the body of its one story is a weak match).
        outcome = engine.about(query)
        return [hit.story.rsplit("/", 1)[1] for hit in outcome.hits + outcome.weak]

    assert stories("C++") == ["cpp"]
    assert stories("C#") == ["csharp"]
    assert stories("Ｃ＃") == ["csharp"]
    assert stories(".NET") == ["csharp"]
    assert stories("F#") == ["fsharp"]
    assert text.analyze("C++とC#と.NET、ASP.NETとUSB-C") == [
        "cplusplus",
        "csharp",
        "dotnet",
        "asp",
        "net",
        "usb",
        "c",
    ]


# --------------------------------------------------------------------- warnings


def test_a_date_far_from_the_folder_and_two_files_of_one_locale_are_warned_not_skipped(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20250105/close/en.md", date="raw:2024-12-20")
    write_article("articles/20250201/far/en.md", date="raw:2024-12-01")
    write_article("articles/20251118/twice/en.md")
    write_article("articles/20251118/twice-en.md")
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.documents == 4 and report.skipped == []
    warnings = dict(report.warnings)
    assert set(warnings) == {
        "articles/20250201/far/en.md",
        "articles/20251118/twice-en.md",
        "articles/20251118/twice/en.md",
    }
    assert "62 days from the folder's date 20250201" in warnings["articles/20250201/far/en.md"]
    assert "articles/20251118/twice-en.md" in warnings["articles/20251118/twice/en.md"]
    # An unchanged run still reports them.
    assert build_index(tmp_path / "corpus", tmp_path / "index.db").warnings == report.warnings


def test_a_file_of_megabytes_is_indexed_and_warned(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # A base64 image pasted into an article: every search reads through it.
    pasted = "![chart](data:image/png;base64," + "QUJD" * 300_000 + ")\n"
    write_article("articles/20251118/pasted/en.md", body="## Summary\n\nA launch.\n\n" + pasted)
    write_article("articles/20251118/plain/en.md")
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.documents == 2 and report.skipped == []
    assert [path for path, _ in report.warnings] == ["articles/20251118/pasted/en.md"]
    assert "1.2 MB, larger than an article should be (over 1 MB)" in report.warnings[0][1]


# --------------------------------------------------------------------- content hash


def test_a_file_touched_without_change_is_not_parsed_again(
    tmp_path: Path, write_article: ArticleWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [write_article(f"articles/20251118/story-{n}/en.md") for n in range(3)]
    db = tmp_path / "index.db"
    build_index(tmp_path / "corpus", db)
    stamp = db.stat().st_mtime_ns
    later = time.time_ns() + 10_000_000_000
    for path in paths:  # a fresh checkout: same bytes, new mtimes
        os.utime(path, ns=(later, later))

    def never(*args: object) -> object:
        raise AssertionError("an unchanged file was parsed")

    monkeypatch.setattr(index, "parse_article", never)
    report = build_index(tmp_path / "corpus", db)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 0, 3)
    assert db.stat().st_mtime_ns == stamp  # nothing written
    monkeypatch.undo()
    # With a real change the new mtimes are recorded, and later runs do not even hash.
    write_article("articles/20251118/story-0/en.md", title="Changed title")
    os.utime(paths[0], ns=(later + 10**9, later + 10**9))
    assert build_index(tmp_path / "corpus", db).updated == 1
    hashed: list[Path] = []
    real_hash = index._file_sha256
    monkeypatch.setattr(index, "_file_sha256", lambda path: hashed.append(path) or real_hash(path))
    assert build_index(tmp_path / "corpus", db).unchanged == 3
    assert hashed == []


# --------------------------------------------------------------------- progress


def test_progress_reports_files_parsed_and_documents_written(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for number in range(5):
        write_article(f"articles/20251118/story-{number}/en.md")
    write_article("articles/20251118/broken/en.md", title=None)
    events: list[index.IndexProgress] = []
    build_index(tmp_path / "corpus", tmp_path / "index.db", progress=events.append)
    by_stage: dict[str, list[tuple[int, int]]] = {}
    for event in events:
        by_stage.setdefault(event.stage, []).append((event.done, event.total))
    assert list(by_stage) == ["scan", "parse", "write", "finish"]
    assert by_stage["scan"][-1] == (6, 6)
    assert by_stage["parse"] == [(n, 6) for n in range(1, 7)]
    assert by_stage["write"][-1] == (5, 6)
    assert by_stage["finish"][-1] == (1, 1)
