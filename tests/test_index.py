"""Building index.db: counts on the real corpus, incremental updates, the atomic swap."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.index import build_index
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
