"""The terminal console as a user types into it: its own help, Discord-only commands,
digest dates, story counts, and input that is not valid UTF-8."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.console import parse_slash_command, render_reply, run_console
from bot.persona import Persona
from bot.replies import Answer, Reply, StoryCard
from bot.service import NewsService

REPO = Path(__file__).resolve().parents[1]
PERSONA = Persona.load()
#: A day of the bundled corpus with one article: DeepSeek-R1's market shock.
STORY_DAY = "2025-01-27"


@pytest.fixture(scope="module")
def service(bundled_index: Path) -> NewsService:
    return NewsService(load_settings(None, environ={}).with_paths(index=bundled_index))


def console(service: NewsService, *lines: str, locale: str = "en") -> list[str]:
    """What the console prints for ``lines`` typed in ``locale``, one block per command
    (the text between one ``> command`` echo and the next)."""
    stdout = io.StringIO()
    run_console(service, locale, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=stdout)
    blocks = stdout.getvalue().split("\n> ")[1:]
    assert len(blocks) == len(lines), stdout.getvalue()
    return [block.split("\n", 1)[1].strip() for block in blocks]


def is_line(text: str, key: str, locale: str, **values: object) -> bool:
    """Whether ``text`` (wrapped or not) is one of the persona's ``key`` lines."""
    flat = "".join(text.split())
    return any(
        flat == "".join(variant.format(**values).split())
        for variant in PERSONA.variants(key, locale)
    )


# -- help and Discord-only commands ------------------------------------------------------


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_help_offers_only_what_works_in_the_terminal(service: NewsService, locale: str) -> None:
    (help_text,) = console(service, "/news help", locale=locale)
    assert is_line(help_text, "console_help", locale, low=1, high=25)
    usable = [line for line in help_text.splitlines() if line.startswith("/")]
    assert any(line.startswith("/digest preview [YYYY-MM-DD]") for line in usable)
    assert any(line.startswith("/news trend") for line in usable)
    for command in ("subscribe", "unsubscribe", "subscriptions", "resume"):
        assert not any(line.startswith(f"/digest {command}") for line in usable)
        assert not any(line.startswith(f"/news {command}") for line in usable)
    discord_only = help_text.split("\n\n")[-1]
    assert "Discord" in discord_only
    assert all(command in discord_only for command in ("subscribe", "subscriptions", "resume"))


@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize(
    ("typed", "named"),
    [
        ("/digest subscribe", "/digest subscribe"),
        ("/digest unsubscribe", "/digest unsubscribe"),
        ("/digest subscriptions", "/digest subscriptions"),
        ("/digest resume #general", "/digest resume"),
        ("/news subscribe channel:#news", "/digest subscribe"),
        ("/news resume", "/digest resume"),
        ("@テクにゃん DeepSeekって何？", "@テクにゃん"),
        ("<@1234567890> DeepSeekって何？", "<@1234567890>"),
        ("/digest edit #news", "/digest edit"),
    ],
)
def test_a_discord_only_command_says_so_instead_of_the_help(
    service: NewsService, locale: str, typed: str, named: str
) -> None:
    (reply,) = console(service, typed, locale=locale)
    assert is_line(reply, "discord_only", locale, command=named)
    assert not is_line(reply, "console_help", locale, low=1, high=25)


def test_locale_without_a_language_keeps_the_reply_language_and_says_how(
    service: NewsService,
) -> None:
    asked, switched, latest = console(service, "/locale", "/locale ja", "/news latest 1")
    assert asked == "locale: en (/locale ja or /locale en)"
    assert switched == "locale: ja"
    assert latest.splitlines()[0] in "".join(PERSONA.variants("latest_header_one", "ja"))


def test_an_unknown_command_is_named_not_answered_with_the_help(service: NewsService) -> None:
    replies = console(service, "/news trending", "/digest later")
    assert is_line(replies[0], "unknown_command", "en", command="/news trending")
    assert is_line(replies[1], "unknown_command", "en", command="/digest later")


def test_words_without_a_command_are_shown_how_to_search_them(service: NewsService) -> None:
    (reply,) = console(service, "DeepSeek 規制")
    assert is_line(reply, "console_search_hint", "en", words="DeepSeek 規制")
    assert "/news about DeepSeek 規制" in reply
    (long,) = console(service, "x" * 500)
    assert "x" * 79 + "…" in long and "x" * 80 not in long


# -- digest dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        f"/digest preview {STORY_DAY}",
        f"/digest preview date:{STORY_DAY}",
        "/digest preview ２０２５－０１－２７",
        f"/news digest preview {STORY_DAY}",
        f"/news digest preview date:{STORY_DAY}",
    ],
)
def test_digest_preview_shows_the_day_asked_for(service: NewsService, typed: str) -> None:
    (digest,) = console(service, typed)
    assert digest.splitlines()[-1] == f"🐾 テクにゃん. digest {STORY_DAY} · 1/1"
    assert "DeepSeek-R1" in digest


@pytest.mark.parametrize(
    "date", ["27/01/2025", "tomorrow", "2025-02-30", "2025-1-27", "2025-01-27 extra"]
)
def test_digest_preview_refuses_another_date_form_in_one_line(
    service: NewsService, date: str
) -> None:
    (reply,) = console(service, f"/digest preview {date}", locale="ja")
    assert is_line(reply, "invalid_date", "ja", value=date)
    assert "digest" not in reply


def test_digest_preview_without_a_date_is_the_last_day(service: NewsService) -> None:
    (digest,) = console(service, "/digest preview")
    assert digest.splitlines()[-1].startswith("🐾 テクにゃん. digest ")


# -- counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", ["0", "-3", "26", "count:abc", "count:2.5"])
def test_a_count_outside_1_to_25_is_refused_not_clamped(service: NewsService, count: str) -> None:
    (reply,) = console(service, f"/news latest {count}", locale="ja")
    value = count.removeprefix("count:")
    assert is_line(reply, "invalid_count", "ja", value=value, low=1, high=25)
    assert "https://" not in reply


def test_a_full_width_count_is_read(service: NewsService) -> None:
    (reply,) = console(service, "/news latest ２")
    assert "1. " in reply and "2. " in reply and "3. " not in reply


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_one_story_is_announced_in_the_singular(service: NewsService, locale: str) -> None:
    one = service.latest(1, locale=locale)
    assert one.header in PERSONA.variants("latest_header_one", locale)
    assert "1" not in one.header and "stories" not in one.header
    two = service.latest(2, locale=locale)
    assert two.header in [v.format(count=2) for v in PERSONA.variants("latest_header", locale)]


def test_no_english_line_hedges_its_plural() -> None:
    for key, variants in PERSONA.lines["en"].items():
        for variant in variants:
            assert "(s)" not in variant, key
    assert PERSONA.say("subscriptions_header", "en", count=1) in PERSONA.variants(
        "subscriptions_header_one", "en"
    )
    assert PERSONA.say("unsubscribed_all", "en", count=1) in PERSONA.variants(
        "unsubscribed_all_one", "en"
    )


COUNTS = ["1", "25", "５", "+3", "0", "26", "-1", "2.5", "abc", "", " 7 "]


@pytest.mark.parametrize("count", COUNTS)
def test_console_command_line_and_core_accept_the_same_counts(
    service: NewsService, count: str
) -> None:
    """One validator: the command line's ``--count``, the console's ``/news latest N`` and
    the core that the Discord cog calls agree on every value."""
    from bot.cli import build_parser

    try:
        build_parser().parse_args(["news", "latest", "--count", count])
        cli_accepts = True
    except SystemExit:
        cli_accepts = False
    core_accepts = service.latest(count, locale="en").invalid == ""
    typed = parse_slash_command(f"/news latest count:{count}").options.get("count", "")
    console_accepts = service.latest(typed or None, locale="en").invalid == ""
    if count.strip():
        assert cli_accepts == core_accepts == console_accepts
    else:  # left out: the default of 5 in the console and the core, an error in argparse
        assert core_accepts and console_accepts and not cli_accepts


# -- input that is not valid UTF-8 -----------------------------------------------------------


def test_the_console_reads_bytes_that_are_not_utf8(bundled_index: Path) -> None:
    environment = {**os.environ, "TECHNYAN_INDEX_PATH": str(bundled_index)}
    environment.pop("DISCORD_TOKEN", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=b"/news about Deep\xffSeek\n/news about \xed\xa0\x80\n/news latest 1\n",
        capture_output=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env=environment,
    )
    assert done.returncode == 0
    stdout = done.stdout.decode("utf-8")
    assert "Traceback" not in stdout + done.stderr.decode("utf-8", "replace")
    assert "> /news about Deep\ufffdSeek" in stdout
    assert not any(apology in stdout for apology in PERSONA.variants("error", "en"))
    assert stdout.count("https://") >= 2  # DeepSeek's stories and the latest one


# -- ask ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("heading", "crumb"),
    [
        ("DeepSeek-V3 › Features › MoE", "DeepSeek-V3 › Features › MoE"),
        ("deepseek-v3 › Features", "DeepSeek-V3 › Features"),  # the title again, other case
        ("Features", "DeepSeek-V3 › Features"),
        ("DeepSeek-V3", "DeepSeek-V3"),
        ("", "DeepSeek-V3"),
    ],
)
def test_the_answer_names_its_story_once(heading: str, crumb: str) -> None:
    card = StoryCard(
        story="aiTimeline/deepseek-v3",
        locale="en",
        requested_locale="en",
        title="DeepSeek-V3",
        description="",
        date=dt.date(2024, 12, 26),
        category="Model Release",
        tags=(),
        url="https://technyanai.com/history",
    )
    answer = Answer(card=card, text="It has 671B parameters.", passage="", heading=heading, score=1)
    text = render_reply(Reply("ask", "en", "header", (card,), answer=answer))
    assert f"  — {crumb}\n" in text


# -- questions and failures ---------------------------------------------------------------


def test_ask_quotes_the_sentence_that_answers_with_its_link(service: NewsService) -> None:
    question = "How much did DeepSeek spend to train its model?"
    expected = service.ask(question, "en")
    assert expected.answer is not None
    [shown] = console(service, f"/news ask {question}")
    # The sentence is quoted whole (wrapped, each line marked "> "), then its story.
    quoted = [line.strip()[2:] for line in shown.splitlines() if line.strip().startswith("> ")]
    assert " ".join(quoted) == f"“{expected.answer.text}”"
    flat = "".join(shown.split())
    assert "".join(expected.header.split()) in flat
    assert "".join(expected.answer.card.title.split()) in flat
    assert shown.splitlines()[-1].strip() == expected.answer.card.url


def test_a_damaged_index_is_an_apology_and_a_log_line_naming_the_fix(
    bundled_index: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    damaged = tmp_path / "index.db"
    damaged.write_bytes(bundled_index.read_bytes())
    service = NewsService(load_settings(None, environ={}).with_paths(index=damaged))
    assert service.latest(1, None, "en").cards  # opened and answering
    with damaged.open("r+b") as file:  # then overwritten while the console runs
        file.seek(4096)
        file.write(b"\xff" * 64 * 1024)
    with caplog.at_level("ERROR", logger="bot.console"):
        shown = console(service, "/news about DeepSeek", "/news latest 3")
    assert all(is_line(block, "error", "en") for block in shown), shown
    assert "rebuild it with `technyan-bot index --full --db " in caplog.text
    assert "Traceback" not in "".join(shown)


def test_any_other_failure_is_an_apology_without_a_traceback(
    service: NewsService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*arguments: object) -> Reply:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "latest", broken)
    with caplog.at_level("ERROR", logger="bot.console"):
        [shown] = console(service, "/news latest")
    assert is_line(shown, "error", "en")
    assert "secret internal detail" not in shown and "Traceback" not in shown
    assert "console command failed: /news latest" in caplog.text


@pytest.mark.parametrize(
    "line",
    ["／news about DeepSeek R1", "/news\tabout\tDeepSeek R1", "／ｎｅｗｓ　about　DeepSeek R1",
     "/News About DeepSeek R1"],
)  # fmt: skip
def test_a_command_typed_on_a_japanese_keyboard_or_with_tabs_is_understood(line: str) -> None:
    command = parse_slash_command(line)
    assert (command.name, command.options) == ("about", {"query": "DeepSeek R1"})


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("/news latest category:Model Release", "Model Release"),
        ("/news latest 3 category:Model Release", "Model Release"),
        ('/news latest category:"Model Release"', "Model Release"),
        ("/news latest Model Release", "Model Release"),
    ],
)
def test_a_category_of_two_words_needs_no_quotes(line: str, category: str) -> None:
    assert parse_slash_command(line).options["category"] == category


def test_quit_with_words_after_it_quits(service: NewsService) -> None:
    stdout = io.StringIO()
    typed = "/quit now\n/news latest\n"
    run_console(service, "en", stdin=io.StringIO(typed), stdout=stdout)
    assert "> /news latest" not in stdout.getvalue()
    # A bare "exit" with words is a search, not a way out.
    assert "exit polls" in console(service, "exit polls")[0]
