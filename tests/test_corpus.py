"""Reading the corpus: every layout the site used, and every kind of bad input."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from bot.corpus import (
    CorpusError,
    discover,
    parse_article,
    parse_date,
    read_inside,
    split_passages,
    story_location,
)
from bot.index import build_index
from bot.search import SearchEngine
from tests.conftest import ArticleWriter, frontmatter_text


def _articles(root: Path) -> dict[str, object]:
    found = {}
    for path, location in discover(root):
        relative = path.relative_to(root).as_posix()
        found[relative] = parse_article(path, location, relative)
    return found


def test_every_layout_maps_both_languages_to_one_story(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/folder-story/ja.md")
    write_article("articles/20251118/folder-story/en.md")
    write_article("aiTimeline/202412-milestone/ja.md", impactLevel="high")
    write_article("aiTimeline/202412-milestone/en.md", impactLevel="high")
    write_article("articles/20251119/suffixed-ja.md")
    write_article("articles/20251119/suffixed-en.md")
    write_article("articles/20251120/bare-ja.md")
    write_article("articles/20251120/bare.md", locale=None)
    write_article("articles/flat-ja.md")
    write_article("articles/flat.md", locale=None)
    articles = _articles(tmp_path / "corpus")
    stories = {(a.story, a.locale) for a in articles.values()}  # type: ignore[attr-defined]
    assert stories == {
        ("articles/20251118/folder-story", "ja"),
        ("articles/20251118/folder-story", "en"),
        ("aiTimeline/202412-milestone", "ja"),
        ("aiTimeline/202412-milestone", "en"),
        ("articles/20251119/suffixed", "ja"),
        ("articles/20251119/suffixed", "en"),
        ("articles/20251120/bare", "ja"),
        ("articles/20251120/bare", "en"),
        ("articles/flat", "ja"),
        ("articles/flat", "en"),
    }


def test_frontmatter_locale_wins_over_the_file_name(write_article: ArticleWriter) -> None:
    path = write_article("articles/20251118/story/en.md", locale="ja")
    root = path.parents[3]
    (article,) = _articles(root).values()
    assert article.locale == "ja"  # type: ignore[attr-defined]


def test_control_characters_never_reach_a_reader(write_article: ArticleWriter) -> None:
    # An ESC sequence would recolour the console; a NUL cuts strings in some terminals.
    path = write_article(
        "articles/20251118/escape/en.md",
        technyanComment="nya\x1b[31m red\x00!",
        body="## Summary\n\nText\x1b[2J with\ttab.\n",
    )
    article = parse_article(path, story_location(Path("articles/20251118/escape/en.md")), "x")
    assert article.technyan_comment == "nya[31m red!"
    assert "\x1b" not in article.body and "\twith" not in article.body and "\ttab" in article.body


def test_files_outside_the_collections_are_not_articles(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/story/en.md")
    root = tmp_path / "corpus"
    (root / "README.md").write_text("# About this corpus\n", encoding="utf-8")
    (root / "TAGS.md").write_text("- OpenAI\n", encoding="utf-8")
    (root / "articles" / "README.md").write_text("notes\n", encoding="utf-8")
    (root / "articles" / "20251118" / "story" / "image.png").write_bytes(b"\x89PNG")
    report = build_index(root, tmp_path / "index.db")
    assert report.documents == 1
    assert report.skipped == []


def test_author_text_is_kept_exactly_where_yaml_1_1_would_convert_it(
    write_article: ArticleWriter,
) -> None:
    path = write_article(
        "articles/20251118/story/en.md",
        title="raw:no",
        description="raw:1.10",
        category="raw:on",
        tags="raw:[no, on, yes, 1.10, 0123, 1:30, Off]",
        technyanComment="raw:0123",
    )
    (article,) = _articles(path.parents[3]).values()
    assert article.title == "no"  # type: ignore[attr-defined]
    assert article.description == "1.10"  # type: ignore[attr-defined]
    assert article.category == "on"  # type: ignore[attr-defined]
    assert article.tags == ("no", "on", "yes", "1.10", "0123", "1:30", "Off")  # type: ignore[attr-defined]
    assert article.technyan_comment == "0123"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-18", dt.date(2025, 11, 18)),
        ('"2025-11-18"', dt.date(2025, 11, 18)),
        ("2025-11-18T09:30:00+09:00", dt.date(2025, 11, 18)),
        ('"2025-11-18 23:30:00Z"', dt.date(2025, 11, 18)),
        ("2025/1/5", dt.date(2025, 1, 5)),
        # The date as written in its own zone, never the UTC date: 08:00 in Tokyo is
        # still the 16th in UTC, 23:30 in New York already the 19th.
        ("2026-01-17T08:00:00+09:00", dt.date(2026, 1, 17)),
        ('"2025-11-18 23:30:00-05:00"', dt.date(2025, 11, 18)),
        ("2025-11-18T00:15:00+14:00", dt.date(2025, 11, 18)),
    ],
)
def test_dates_in_every_written_form(
    write_article: ArticleWriter, value: str, expected: dt.date
) -> None:
    path = write_article("articles/20251118/story/en.md", date=f"raw:{value}")
    (article,) = _articles(path.parents[3]).values()
    assert article.date == expected  # type: ignore[attr-defined]


def test_a_date_with_a_zone_given_as_a_datetime_keeps_its_own_day() -> None:
    tokyo = dt.timezone(dt.timedelta(hours=9))
    written = dt.datetime(2026, 1, 17, 8, 0, tzinfo=tokyo)
    assert parse_date(written, "articles/x/en.md") == dt.date(2026, 1, 17)
    assert parse_date(dt.date(2026, 1, 17), "articles/x/en.md") == dt.date(2026, 1, 17)


@pytest.mark.parametrize("value", ["2025-02-30", "2025-13-01", "yesterday", "2025-11-18T25:00"])
def test_an_impossible_date_is_an_error_naming_path_field_and_value(value: str) -> None:
    with pytest.raises(CorpusError) as caught:
        parse_date(value, "articles/x/en.md")
    assert caught.value.path == "articles/x/en.md"
    assert caught.value.field == "date"
    assert caught.value.value == value
    assert value in str(caught.value)


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "articles" / "20251118" / "story" / "ja.md"
    path.parent.mkdir(parents=True)
    text = '---\r\ntitle: "BOM付き"\r\ndescription: "説明"\r\ndate: 2025-11-18\r\n'
    text += 'category: "Other"\r\ntags: ["AI"]\r\nlocale: "ja"\r\n---\r\n'
    text += "\r\n## 見出し\r\n\r\n本文。\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (article,) = _articles(tmp_path / "corpus").values()
    assert article.title == "BOM付き"  # type: ignore[attr-defined]
    assert article.passages[0].heading == "見出し"  # type: ignore[attr-defined]
    assert "\r" not in article.body  # type: ignore[attr-defined]


def test_frontmatter_mangled_into_a_heading_is_recovered(tmp_path: Path) -> None:
    path = tmp_path / "corpus" / "articles" / "20251118" / "mangled" / "en.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\n"
        '## title: "Gemini 3 arrives" description: "Google ships Gemini 3." date: 2025-11-18 '
        'category: "Gemini" tags: ["Google", "Gemini"] locale: "en" '
        'technyanComment: "So fast, nya!"\n\n'
        "## What happened\n\nGoogle released Gemini 3 today.\n",
        encoding="utf-8",
    )
    (article,) = _articles(tmp_path / "corpus").values()
    assert article.title == "Gemini 3 arrives"  # type: ignore[attr-defined]
    assert article.description == "Google ships Gemini 3."  # type: ignore[attr-defined]
    assert article.tags == ("Google", "Gemini")  # type: ignore[attr-defined]
    assert article.technyan_comment == "So fast, nya!"  # type: ignore[attr-defined]
    assert "Google released Gemini 3 today." in article.body  # type: ignore[attr-defined]


def test_a_horizontal_rule_in_the_body_swallows_nothing(write_article: ArticleWriter) -> None:
    body = "## First\n\nBefore the rule.\n\n---\n\n## Second\n\nAfter the rule.\n\n---\n"
    path = write_article("articles/20251118/story/en.md", body=body)
    (article,) = _articles(path.parents[3]).values()
    assert article.title == "Title of articles/20251118/story/en.md"  # type: ignore[attr-defined]
    texts = " ".join(p.text for p in article.passages)  # type: ignore[attr-defined]
    assert "Before the rule." in texts
    assert "After the rule." in texts


def test_passages_split_at_headings_and_sources_are_kept_as_links() -> None:
    body = (
        "Lead paragraph.\n\n## Features\n\n### Speed\n\nIt is fast.\n\n"
        "```\n## not a heading\n```\n\n## ソース\n\n- [Official blog](https://example.com/blog)\n"
        "- https://example.com/bare\n"
    )
    passages, sources = split_passages(body)
    assert [p.heading for p in passages] == ["", "Features › Speed"]
    assert "## not a heading" in passages[1].text
    assert sources == (
        ("Official blog", "https://example.com/blog"),
        ("https://example.com/bare", "https://example.com/bare"),
    )


@pytest.mark.parametrize(
    ("fields", "field", "body"),
    [
        ({"title": None}, "title", None),
        ({"description": ""}, "description", None),
        ({"date": "raw:2025-02-30"}, "date", None),
        ({"locale": "fr"}, "locale", None),
        ({"tags": "raw:{a: 1}"}, "tags", None),
        ({"impactLevel": "enormous"}, "impactLevel", None),
        ({"title": "raw:[unclosed"}, "frontmatter", None),
    ],
)
def test_each_bad_file_is_one_error_and_the_rest_is_indexed(
    tmp_path: Path,
    write_article: ArticleWriter,
    fields: dict[str, object],
    field: str,
    body: str | None,
) -> None:
    write_article("articles/20251118/good/en.md")
    bad = write_article("articles/20251118/bad/en.md", **fields)
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.documents == 1
    assert len(report.skipped) == 1
    path, reason = report.skipped[0]
    assert path == bad.relative_to(tmp_path / "corpus").as_posix()
    assert reason.startswith(f"{field}=")


def test_a_file_without_frontmatter_or_not_utf8_is_reported(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/good/en.md")
    root = tmp_path / "corpus"
    plain = root / "articles" / "20251118" / "plain" / "en.md"
    plain.parent.mkdir(parents=True)
    plain.write_text("# Just markdown\n", encoding="utf-8")
    latin1 = root / "articles" / "20251118" / "latin1" / "en.md"
    latin1.parent.mkdir(parents=True)
    latin1.write_bytes('---\ntitle: "café"\n---\n'.encode("latin-1"))
    report = build_index(root, tmp_path / "index.db")
    reasons = dict(report.skipped)
    assert report.documents == 1
    assert reasons["articles/20251118/plain/en.md"].startswith("frontmatter=")
    assert "not UTF-8" in reasons["articles/20251118/latin1/en.md"]


# --------------------------------------------------------------------- hostile input


def test_a_corpus_error_survives_pickle_with_every_attribute() -> None:
    for value in (None, "2025-02-30", b"\xff\xfe", {"a": [1, 2]}, ["x"] * 1000):
        error = CorpusError("articles/x/en.md", "tags", value, "expected a list of text")
        copy = pickle.loads(pickle.dumps(error))
        assert (copy.path, copy.field, copy.value, copy.shown, copy.reason) == (
            error.path,
            error.field,
            error.value,
            error.shown,
            error.reason,
        )
        assert str(copy) == str(error)


_ALIAS_BOMB = "\n".join(
    [
        "---",
        'title: "bomb"',
        'description: "d"',
        "date: 2025-11-18",
        'category: "c"',
        'l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)),
        "tags: *l8",
        "---",
        "body",
        "",
    ]
)

_MEASURE_BOMB = """
import json, sys, time, tracemalloc
from pathlib import Path
from bot.corpus import CorpusError, parse_article, story_location
relative = "articles/20251118/bomb/en.md"
tracemalloc.start()
started = time.perf_counter()
try:
    parse_article(Path(sys.argv[1]) / relative, story_location(Path(relative)), relative)
    outcome = "parsed"
except CorpusError as error:
    outcome = str(error)
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started,
                  "peak_bytes": tracemalloc.get_traced_memory()[1]}))
"""


def test_a_yaml_alias_bomb_is_rejected_without_expanding_it(tmp_path: Path) -> None:
    # 500 bytes that expand to 9**9 strings: before, 150 s and 3 GB to report.
    bomb = tmp_path / "corpus" / "articles" / "20251118" / "bomb" / "en.md"
    bomb.parent.mkdir(parents=True)
    bomb.write_text(_ALIAS_BOMB, encoding="utf-8")
    assert len(_ALIAS_BOMB.encode()) < 600
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE_BOMB, str(tmp_path / "corpus")],
        capture_output=True,
        text=True,
        timeout=120,  # a generous deadline: expanding the bomb would take minutes
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    measured = json.loads(done.stdout)
    assert "frontmatter" in measured["outcome"]
    assert "aliases" in measured["outcome"]
    assert len(measured["outcome"]) < 300
    assert measured["peak_bytes"] < 5_000_000  # expanding it needs gigabytes
    print(f"alias bomb rejected in {measured['seconds'] * 1000:.2f} ms")


def test_a_field_named_like_a_python_argument_is_just_a_field(
    write_article: ArticleWriter,
) -> None:
    path = write_article("articles/20251118/story/en.md", content="x", handler="y")
    (article,) = _articles(path.parents[3]).values()
    assert article.title == "Title of articles/20251118/story/en.md"  # type: ignore[attr-defined]


def test_a_link_to_a_file_outside_the_corpus_is_skipped_and_never_read(
    tmp_path: Path, write_article: ArticleWriter, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:SECRET-FIRST-LINE\n", encoding="utf-8")
    write_article("articles/20251118/story/en.md")
    link = tmp_path / "corpus" / "articles" / "20251118" / "story" / "ja.md"
    link.symlink_to(secret)
    outside_folder = tmp_path / "outside" / "folder"
    outside_folder.mkdir()
    (outside_folder / "en.md").write_text(
        frontmatter_text({"title": "SECRET-TITLE", "description": "d", "date": "raw:2025-11-18",
                          "category": "c"}),
        encoding="utf-8",
    )  # fmt: skip
    (tmp_path / "corpus" / "articles" / "20251118" / "linked").symlink_to(outside_folder)
    inside = tmp_path / "corpus" / "articles" / "20251118" / "alias" / "en.md"
    inside.parent.mkdir()
    inside.symlink_to(tmp_path / "corpus" / "articles" / "20251118" / "story" / "en.md")
    with caplog.at_level(logging.WARNING):
        report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    reasons = dict(report.skipped)
    assert report.documents == 2  # the story and the link that stays inside the corpus
    assert "outside the corpus folder" in reasons["articles/20251118/story/ja.md"]
    shown = repr(report.__dict__) + caplog.text
    assert "SECRET" not in shown
    assert "articles/20251118/story/ja.md" in caplog.text
    # A folder link leading outside is named, and not followed at all.
    assert "linked folder: not followed" in reasons["articles/20251118/linked"]
    assert not any(path.startswith("articles/20251118/linked/") for path, _ in report.skipped)
    again = build_index(tmp_path / "corpus", tmp_path / "index.db")
    # The two stories, the refused link to a file and the linked folder: none changed.
    assert again.unchanged == 4 and "articles/20251118/story/ja.md" in dict(again.skipped)


def test_a_corpus_reached_through_a_linked_folder_is_indexed_and_links_out_still_refused(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # A deployment's `current -> releases/N`: the build resolves the root once and checks
    # every file against that.
    for number in range(3):
        write_article(f"articles/20251118/story-{number}/en.md")
    secret = tmp_path / "outside.md"
    secret.write_text("SECRET", encoding="utf-8")
    (tmp_path / "corpus" / "articles" / "20251118" / "story-0" / "ja.md").symlink_to(secret)
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "corpus")
    report = build_index(current, tmp_path / "index.db")
    assert report.documents == 3
    assert "outside the corpus folder" in dict(report.skipped)["articles/20251118/story-0/ja.md"]


def test_a_collection_folder_linked_outside_the_corpus_is_refused_file_by_file(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # No file is a link here: the check has to be of the file actually opened.
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "20251118" / "story").mkdir(parents=True)
    (elsewhere / "20251118" / "story" / "en.md").write_text(
        frontmatter_text({"title": "SECRET-TITLE", "description": "d", "date": "raw:2025-11-18",
                          "category": "c"}),
        encoding="utf-8",
    )  # fmt: skip
    write_article("aiTimeline/202511-kept/en.md")
    (tmp_path / "corpus" / "articles").symlink_to(elsewhere)
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.documents == 1
    reason = dict(report.skipped)["articles/20251118/story/en.md"]
    assert "outside the corpus folder" in reason and "SECRET" not in reason


def test_what_stands_at_an_articles_place_but_is_no_file_is_named_in_the_report(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article("articles/20251118/kept/en.md")
    story = tmp_path / "corpus" / "articles" / "20251118"
    (story / "pipe").mkdir()
    os.mkfifo(story / "pipe" / "en.md")  # opened for reading, it would wait for a writer
    (story / "folder" / "en.md").mkdir(parents=True)
    (story / "dangling").mkdir()
    (story / "dangling" / "ja.md").symlink_to(tmp_path / "gone.md")
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    reasons = dict(report.skipped)
    assert report.documents == 1
    assert "not a regular file" in reasons["articles/20251118/pipe/en.md"]
    assert "a folder, not a file" in reasons["articles/20251118/folder/en.md"]
    assert "leads nowhere" in reasons["articles/20251118/dangling/ja.md"]
    # discover() (what benchmarks and tools read) still lists article files only.
    assert [p.name for p, _ in discover(tmp_path / "corpus")] == ["en.md"]


def test_read_inside_reads_files_inside_and_names_why_others_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "a").mkdir(parents=True)
    (root / "a" / "en.md").write_bytes(b"inside")
    (root / "a" / "link.md").symlink_to(root / "a" / "en.md")
    (root / "a" / "dangling.md").symlink_to(root / "a" / "gone.md")
    (tmp_path / "secret.md").write_bytes(b"SECRET")
    (root / "a" / "out.md").symlink_to(tmp_path / "secret.md")
    resolved = root.resolve()
    assert read_inside(root / "a" / "en.md", "a/en.md", resolved) == b"inside"
    assert read_inside(root / "a" / "link.md", "a/link.md", resolved) == b"inside"
    with pytest.raises(CorpusError, match="leads nowhere") as nowhere:
        read_inside(root / "a" / "dangling.md", "a/dangling.md", resolved)
    assert nowhere.value.path == "a/dangling.md" and nowhere.value.field == "file"
    with pytest.raises(CorpusError, match="outside the corpus folder") as outside:
        read_inside(root / "a" / "out.md", "a/out.md", resolved)
    assert "SECRET" not in str(outside.value)
    (root / "a" / "folder.md").mkdir()
    with pytest.raises(CorpusError, match="not a regular file"):
        read_inside(root / "a" / "folder.md", "a/folder.md", resolved)
    os.mkfifo(root / "a" / "pipe.md")  # no writer: a blocking open would wait for ever
    with pytest.raises(CorpusError, match="not a regular file"):
        read_inside(root / "a" / "pipe.md", "a/pipe.md", resolved)


# --------------------------------------------------------------------- formatter damage


def test_a_mangled_frontmatter_after_a_blank_line_with_escaped_brackets_is_recovered(
    tmp_path: Path,
) -> None:
    path = tmp_path / "corpus" / "articles" / "20251030" / "cursor" / "ja.md"
    path.parent.mkdir(parents=True)
    path.write_text(
        "---\n\n"
        '## title: "Cursor 2.0、独自モデル「Composer」を発表" '
        'description: "AIエディタの大型更新。" '
        'date: 2025-10-30 category: "AI Tools" tags: \\["Cursor", "AI"\\] locale: "ja" '
        'technyanComment: "速いにゃ\\!"\n\n'
        "## 概要\n\nCursorは本日、バージョン2.0を公開した。\n",
        encoding="utf-8",
    )
    (article,) = _articles(tmp_path / "corpus").values()
    assert article.title == "Cursor 2.0、独自モデル「Composer」を発表"  # type: ignore[attr-defined]
    assert article.tags == ("Cursor", "AI")  # type: ignore[attr-defined]
    assert article.technyan_comment == "速いにゃ!"  # type: ignore[attr-defined]
    assert article.passages[0].heading == "概要"  # type: ignore[attr-defined]


@pytest.mark.parametrize("field", ["title", "description", "category"])
def test_a_required_field_of_only_spaces_is_an_error(
    tmp_path: Path, write_article: ArticleWriter, field: str
) -> None:
    write_article("articles/20251118/good/en.md")
    write_article("articles/20251118/blank/en.md", **{field: "  \u3000 "})
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.documents == 1
    ((path, reason),) = report.skipped
    assert path == "articles/20251118/blank/en.md"
    assert reason.startswith(f"{field}=") and "only spaces" in reason


def test_a_very_long_unpunctuated_japanese_run_is_indexed(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    run = "日本語の長い文章が続きます" * 1500 + "量子計算機"  # 19,505 characters, ~58 KB
    assert len(run.encode("utf-8")) > 49_149
    write_article("articles/20251118/long/ja.md", body=f"## 本文\n\n{run}\n")
    report = build_index(tmp_path / "corpus", tmp_path / "index.db")
    assert report.skipped == []
    assert report.documents == 1
    outcome = SearchEngine(tmp_path / "index.db").about("量子計算機")
    # Found (a word in passing is a weak match: the story is not about it).
    assert [hit.story for hit in outcome.hits + outcome.weak] == ["articles/20251118/long"]


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("articles/20251118/folder-story/ja.md",
         ("articles/20251118/folder-story", "articles", "folder-story", "20251118", "ja")),
        ("aiTimeline/202412-milestone/en.md",
         ("aiTimeline/202412-milestone", "aiTimeline", "202412-milestone", None, "en")),
        ("articles/20251119/suffixed-ja.md",
         ("articles/20251119/suffixed", "articles", "suffixed", "20251119", "ja")),
        ("articles/20251120/bare.md",
         ("articles/20251120/bare", "articles", "bare", "20251120", "en")),
        ("articles/flat-ja.md", ("articles/flat", "articles", "flat", None, "ja")),
    ],
)  # fmt: skip
def test_where_a_file_sits_gives_its_story_slug_folder_date_and_locale(
    relative: str, expected: tuple[str, str, str, str | None, str]
) -> None:
    location = story_location(Path(relative))
    assert location is not None
    shown = (location.story, location.collection, location.slug, location.folder_date,
             location.filename_locale)  # fmt: skip
    assert shown == expected


@pytest.mark.parametrize(
    "relative", ["docs/notes.md", "README.md", "articles/20251118/story/en.txt", "TAGS.md"]
)
def test_a_path_outside_the_collections_has_no_story(relative: str) -> None:
    assert story_location(Path(relative)) is None


def test_a_lowercase_z_is_utc_as_well() -> None:
    assert parse_date("2025-11-18T23:30:00z", "articles/x/en.md") == dt.date(2025, 11, 18)


@pytest.mark.parametrize("value", ["yesterday", "18/11/2025", "", None, ["2025-11-18"]])
def test_a_date_not_written_as_one_says_how_to_write_it(value: object) -> None:
    with pytest.raises(CorpusError) as caught:
        parse_date(value, "articles/x/en.md")
    assert caught.value.reason == "expected a date like 2025-11-18"
    assert caught.value.value == (value if isinstance(value, str) else repr(value))


def test_a_required_field_missing_or_blank_says_which_with_its_value(
    write_article: ArticleWriter,
) -> None:
    missing = write_article("articles/20251118/missing/en.md", title=None)
    blank = write_article("articles/20251118/blank/en.md", description="  ")
    for path, field, value, reason in (
        (missing, "title", "None", "missing"),
        (blank, "description", "  ", "empty or only spaces"),
    ):
        relative = path.relative_to(path.parents[3]).as_posix()
        location = story_location(Path(relative))
        assert location is not None
        with pytest.raises(CorpusError) as caught:
            parse_article(path, location, relative)
        assert (caught.value.field, caught.value.value, caught.value.reason) == (
            field,
            value,
            reason,
        )


def test_a_list_field_that_is_not_a_list_of_text_names_its_value(
    write_article: ArticleWriter,
) -> None:
    path = write_article("articles/20251118/story/en.md", tags="raw:{name: AI}")
    relative = path.relative_to(path.parents[3]).as_posix()
    location = story_location(Path(relative))
    assert location is not None
    with pytest.raises(CorpusError) as caught:
        parse_article(path, location, relative)
    assert (caught.value.field, caught.value.reason) == ("tags", "expected a list of text")
    assert caught.value.value == "{'name': 'AI'}"


@pytest.mark.parametrize(
    "relative",
    ["articles/20251118/story/de.md", "articles/20251118/story/notes.md", "aiTimeline/story/fr.md"],
)
def test_a_stray_file_in_a_story_folder_is_refused_not_made_a_story(
    tmp_path: Path, relative: str
) -> None:
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(
        '---\ntitle: "T"\ndescription: "D"\ndate: 2025-11-18\ncategory: "C"\n---\nBody\n'
    )
    location = story_location(Path(relative))
    assert location is not None and location.stray
    with pytest.raises(CorpusError) as caught:
        parse_article(path, location, relative)
    assert (caught.value.field, caught.value.value) == ("file", Path(relative).name)
    assert "ja.md or en.md" in caught.value.reason


@pytest.mark.parametrize(
    "relative",
    ["articles/20251118/story/en.md", "articles/20251118/bare.md", "articles/flat.md",
     "aiTimeline/story/ja.md", "aiTimeline/flat-ja.md", "articles/20251118/story-ja.md"],
)  # fmt: skip
def test_the_site_layouts_are_not_stray(relative: str) -> None:
    location = story_location(Path(relative))
    assert location is not None and not location.stray
