"""The terminal adapter and the command line, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run(
    *arguments: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("DISCORD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=REPO,
        env=environment,
    )


@pytest.fixture(scope="module")
def real_db(real_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    db = tmp_path_factory.mktemp("cli") / "index.db"
    done = run("index", str(real_corpus), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return str(db)


def test_news_latest_lists_the_newest_story_first(real_db: str) -> None:
    done = run("news", "latest", "--db", real_db, "--json")
    payload = json.loads(done.stdout)
    assert payload["results"][0]["story"] == "articles/20260208/claude-cowork-saaspocalypse"
    assert payload["results"][0]["url"] == (
        "https://technyanai.com/articles/en/20260208/claude-cowork-saaspocalypse"
    )


def test_news_about_json_shape_and_locale(real_db: str) -> None:
    done = run("news", "about", "DeepSeek", "--db", real_db, "--json", "--locale", "ja")
    payload = json.loads(done.stdout)
    assert payload["query"] == "DeepSeek"
    first = payload["results"][0]
    assert set(first) == {"story", "locale", "title", "date", "url", "score"}
    assert "deepseek" in first["story"]
    assert first["locale"] == "ja"
    timeline = [r for r in payload["results"] if r["story"].startswith("aiTimeline/")]
    assert all(r["url"] == "https://technyanai.com/history" for r in timeline)


def test_news_about_text_shows_title_comment_and_link(real_db: str) -> None:
    done = run("news", "about", "Moltbook", "--db", real_db)
    assert done.returncode == 0
    assert "Moltbook" in done.stdout
    assert "🐾" in done.stdout
    assert (
        "https://technyanai.com/articles/en/20260201/moltbook-ai-agent-social-network"
        in done.stdout
    )


def test_search_stdin_answers_one_json_line_per_query_in_order(real_db: str) -> None:
    queries = ["DeepSeek", "", "Kimi K2 from Moonshot AI", "ジェミニ3"]
    done = run("search", "--stdin", "--json", "--db", real_db, stdin="\n".join(queries) + "\n")
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["query"] for line in lines] == queries
    assert lines[0]["results"]
    assert lines[1]["results"] == []
    assert lines[2]["results"] == []
    assert "gemini" in lines[3]["results"][0]["story"]


def test_ask_stdin_answers_or_says_null(real_db: str) -> None:
    questions = ["How many total parameters does DeepSeek-V3 have?", "Kimi K2 from Moonshot AI"]
    done = run("ask", "--stdin", "--json", "--db", real_db, stdin="\n".join(questions) + "\n")
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["question"] == questions[0]
    assert first["answer"]["story"] == "aiTimeline/202412-deepseek-v3"
    assert "671B" in first["answer"]["text"]
    assert set(first["answer"]) >= {"story", "locale", "text", "passage", "score"}
    assert second["answer"] is None


def test_nothing_found_is_said_in_technyans_voice(real_db: str) -> None:
    done = run("news", "about", "Huawei Ascend chips", "--db", real_db, "--locale", "ja")
    assert "にゃ" in done.stdout
    assert "Traceback" not in done.stderr


def test_console_on_the_bundled_corpus(tmp_path: Path) -> None:
    env = {"TECHNYAN_INDEX_PATH": str(tmp_path / "index.db")}
    lines = "/news latest count:2\n/news about DeepSeek\n/locale ja\n/news about 中国\n/quit\n"
    done = run("console", stdin=lines, env=env)
    assert done.returncode == 0, done.stderr
    assert "> /news about DeepSeek" in done.stdout
    assert "DeepSeek" in done.stdout
    assert "locale: ja" in done.stdout
    assert "中国" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_start_without_token_opens_the_console(tmp_path: Path) -> None:
    env = {"TECHNYAN_INDEX_PATH": str(tmp_path / "index.db")}
    done = run(stdin="/news help\n", env=env)
    assert done.returncode == 0, done.stderr
    assert "/news about" in done.stdout


def test_a_bad_config_is_reported_with_file_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[index]\npath = "x.db"\nspeed = 3\n', encoding="utf-8")
    done = run("news", "latest", "--config", str(config))
    assert done.returncode == 2
    assert f"{config}:3 index.speed: unknown key" in done.stderr
    assert "Traceback" not in done.stderr


def test_options_before_the_subcommand_count_too(real_db: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[bot]\ndefault_locale = "ja"\n', encoding="utf-8")
    done = run("--config", str(config), "--db", real_db, "news", "latest", "--count", "1")
    assert done.returncode == 0, done.stderr
    assert "claude-cowork-saaspocalypse" in done.stdout
    assert "にゃ" in done.stdout


@pytest.mark.parametrize("count", ["0", "-3", "26", "many"])
def test_a_count_outside_1_to_25_is_refused(real_db: str, count: str) -> None:
    done = run("news", "latest", "--count", count, "--db", real_db)
    assert done.returncode == 2
    assert "expected a number from 1 to 25" in done.stderr


@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_an_unknown_category_exits_2_listing_the_ones_there_are(
    real_db: str, json_flag: tuple[str, ...]
) -> None:
    done = run("news", "latest", "--category", "Nonexistent", "--db", real_db, *json_flag)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "unknown category 'Nonexistent'" in done.stderr
    assert "ChatGPT" in done.stderr and "Claude" in done.stderr
    assert "Traceback" not in done.stderr


def test_weak_matches_are_labelled_before_their_title(real_db: str) -> None:
    from bot.config import load_settings
    from bot.console import render_reply
    from bot.service import NewsService

    settings = load_settings(None, environ={}).with_paths(index=Path(real_db))
    service = NewsService(settings)
    reply = service.about("EU AI Act", "en")
    assert reply.weak and reply.cards
    text = render_reply(reply)
    label = service.persona.variants("weak_label", "en")
    assert all(any(f"{i}. {v} " in text for v in label) for i in range(1, len(reply.cards) + 1))


def test_the_console_accepts_flags_and_refuses_an_unknown_locale(tmp_path: Path) -> None:
    env = {"TECHNYAN_INDEX_PATH": str(tmp_path / "index.db")}
    lines = "/news latest --count 1 --category Claude\n/locale fr\n/quit\n"
    done = run("console", stdin=lines, env=env)
    assert done.returncode == 0
    assert "1. " in done.stdout and "2. " not in done.stdout
    assert "locale: en (ja or en, not 'fr')" in done.stdout


def test_a_japanese_query_is_answered_in_japanese_without_locale(real_db: str) -> None:
    about = json.loads(run("news", "about", "ディープシーク", "--db", real_db, "--json").stdout)
    assert about["results"][0]["locale"] == "ja"
    ask = json.loads(run("news", "ask", "Cursor 2.1の新機能は？", "--db", real_db, "--json").stdout)
    assert ask["answer"]["locale"] == "ja"
    english = json.loads(run("news", "about", "DeepSeek", "--db", real_db, "--json").stdout)
    assert english["results"][0]["locale"] == "en"


@pytest.mark.parametrize(
    ("question", "story", "expected"),
    [
        # the verb of a Japanese question (入る) does not outweigh the names it asks about
        ("Geminiに広告は入る？", "articles/20260120/google-gemini-no-ads", "Gemini"),
        # "when" wants a date, not any number
        ("Sam Altmanはいつ復帰した？", "aiTimeline/202311-openai-crisis", "11月22日"),
        # a question in another wording than the story's ("buy" for "acquire")
        ("Why did Meta buy Manus?", "articles/20251230/meta-acquires-manus-ai", "Manus"),
        # an amount the question states is not its answer
        (
            "DeepSeek-V3 has 671B parameters in all, but how many are active per token?",
            "aiTimeline/202412-deepseek-v3",
            "37B",
        ),
    ],
)
def test_ask_fixed_failures_on_the_real_corpus(
    real_db: str, question: str, story: str, expected: str
) -> None:
    payload = json.loads(run("news", "ask", question, "--db", real_db, "--json").stdout)
    assert payload["answer"]["story"] == story
    assert expected in payload["answer"]["text"]


def test_one_story_is_not_announced_as_stories(real_db: str) -> None:
    done = run("news", "latest", "--count", "1", "--db", real_db)
    assert done.returncode == 0, done.stderr
    header = done.stdout.splitlines()[0]
    assert "1 new stories" not in header and "stories" not in header
    japanese = run("news", "latest", "--count", "1", "--locale", "ja", "--db", real_db)
    assert "1件" not in japanese.stdout.splitlines()[0]


def test_ask_names_the_story_once_in_its_breadcrumb(real_db: str) -> None:
    done = run("news", "ask", "How many total parameters does DeepSeek-V3 have?", "--db", real_db)
    assert done.returncode == 0, done.stderr
    crumb = " ".join(line.strip() for line in done.stdout.split("— ", 1)[1].splitlines()[:3])
    assert crumb.startswith("DeepSeek-V3: China's Open Source AI Shock › DeepSeek-V3 Features")
    assert crumb.count("China's Open Source AI Shock") == 1


def test_index_of_a_file_says_it_is_not_a_folder(tmp_path: Path) -> None:
    article = tmp_path / "en.md"
    article.write_text("---\ntitle: x\n---\n", encoding="utf-8")
    done = run("index", str(article), "--db", str(tmp_path / "index.db"))
    assert done.returncode == 2
    assert f"not a folder: {article}" in done.stderr
    assert "not found" not in done.stderr
    assert not (tmp_path / "index.db").exists()


@pytest.mark.parametrize("command", ["search", "ask"])
def test_batch_lines_that_are_not_utf8_are_answered_as_json(real_db: str, command: str) -> None:
    """Invalid UTF-8 and encoded lone surrogates on stdin: one valid JSON line each, in
    order, the bad bytes shown as U+FFFD, no error and no traceback."""
    lines = [b"DeepSeek", b"Deep\xffSeek", b"\xed\xa0\x80\xed\xb0\x80", b"\xc3", b"\xff" * 600]
    done = subprocess.run(
        [sys.executable, "-m", "bot", command, "--stdin", "--json", "--db", real_db],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0
    assert b"Traceback" not in done.stderr
    answers = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines()]
    key = "query" if command == "search" else "question"
    assert [answer[key] for answer in answers[:4]] == [
        "DeepSeek",
        "Deep\ufffdSeek",
        "\ufffd" * 6,
        "\ufffd",
    ]
    assert all("error" not in answer for answer in answers)
    assert len(answers) == len(lines)
    if command == "search":
        assert answers[0]["results"]


def test_arguments_that_are_not_utf8_are_cleaned(real_db: str) -> None:
    arguments = [b"news", b"about", b"Deep\xffSeek", b"--db", real_db.encode(), b"--json"]
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"bot", *arguments],
        capture_output=True,
        timeout=180,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout.decode("utf-8"))
    assert payload["query"] == "Deep\ufffdSeek"
    assert b"Traceback" not in done.stderr


def test_the_index_report_counts_one_story_in_the_singular(
    write_article: Callable[..., Path], tmp_path: Path
) -> None:
    write_article("articles/20251118/only-one/en.md")
    done = run("index", str(tmp_path / "corpus"), "--db", str(tmp_path / "index.db"))
    assert done.returncode == 0, done.stderr
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    assert "articles 1 story" in lines and "articles/en 1 document" in lines
    assert not any(line.endswith(("1 stories", "1 documents")) for line in lines)


def test_search_json_keeps_confident_results_and_weak_matches_apart(real_db: str) -> None:
    lines = "DeepSeek\nMistral\n"
    done = run("search", "--stdin", "--json", "--db", real_db, stdin=lines)
    confident, weak = (json.loads(line) for line in done.stdout.splitlines())
    assert confident["results"] and confident["weak"] == []
    assert weak["results"] == [] and weak["weak"]  # mentioned in passing only
    assert set(weak["weak"][0]) == set(confident["results"][0])


def test_as_of_reads_relative_periods_as_asked_that_day(real_db: str) -> None:
    def first_story(as_of: str) -> str:
        done = run("news", "about", "last december", "--as-of", as_of, "--db", real_db, "--json")
        results = json.loads(done.stdout)["results"]
        return str(results[0]["story"]) if results else ""

    assert "/202512" in first_story("2026-02-15") or "20251" in first_story("2026-02-15")
    assert first_story("2025-02-15").startswith("aiTimeline/202412")  # December 2024
    assert first_story("２０２５－０２－１５") == first_story("2025-02-15")  # as --date reads it
    refused = run("news", "about", "x", "--as-of", "soon", "--db", real_db)
    assert refused.returncode == 2 and "YYYY-MM-DD" in refused.stderr


def test_output_that_cannot_be_written_is_reported_without_a_traceback(real_db: str) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "bot", "news", "latest", "--db", real_db],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
            check=False,
            cwd=REPO,
        )
    assert done.returncode == 1
    assert "cannot write the output" in done.stderr and "Traceback" not in done.stderr
    # A terminal that cannot show Japanese gets escapes.
    ascii_only = run(
        "news", "latest", "--locale", "ja", "--db", real_db, env={"PYTHONIOENCODING": "ascii"}
    )
    assert ascii_only.returncode == 0 and "Traceback" not in ascii_only.stderr
    assert "\\u" in ascii_only.stdout


def test_a_damaged_state_database_is_named_as_the_state_database(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    state.write_bytes(b"not a database at all" * 300)
    config = tmp_path / "config.toml"
    config.write_text(f'[state]\npath = "{state}"\n', encoding="utf-8")
    done = run("--config", str(config), "backup", str(tmp_path / "copy.db"))
    assert done.returncode == 2
    assert "the state database is damaged" in done.stderr and "rebuild the index" not in done.stderr
