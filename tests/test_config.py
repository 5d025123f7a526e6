"""Configuration problems: every one in a single run, each as ``SOURCE:LINE key: problem``
with SOURCE the file or the environment variable the value came from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, check_settings, load_settings

REPO = Path(__file__).resolve().parents[1]
PROBLEM_LINE = re.compile(r"^(?P<source>\S+):(?P<line>\d+) (?P<key>[\w.\[\]]+): (?P<problem>.+)$")


def problems(config: Path | None, **environ: str) -> list[str]:
    return [str(problem) for problem in check_settings(config, environ)]


def cli(*arguments: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """``technyan-bot ARGUMENTS`` with ``environ`` instead of this process's TECHNYAN_*
    variables and token."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TECHNYAN_")}
    environment.pop("DISCORD_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**environment, **environ},
    )


def write(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    (tmp_path / "corpus").mkdir(exist_ok=True)
    return config


def test_an_environment_variable_is_blamed_not_the_file(tmp_path: Path) -> None:
    config = write(tmp_path, '[index]\npath = "index.db"\n\n[corpus]\npath = "corpus"\n')
    found = problems(config, TECHNYAN_CORPUS_PATH="/nonexistent")
    assert found == ["TECHNYAN_CORPUS_PATH:0 corpus.path: not a folder: /nonexistent"]


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "[corpus]\n"
        'path = "missing-corpus"\n'  # 2: a path problem
        'refresh_minutes = "often"\n'  # 3: a type problem
        "[bot]\n"
        "shard_ids = [0]\n",  # 5: needs shard_count
    )
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    found = problems(
        config,
        TECHNYAN_DIGEST_MISFIRE_GRACE_SECONDS="soon",
        TECHNYAN_BOT_LOG_FORMAT="xml",
        TECHNYAN_INDEX_PATH=str(tmp_path / "a-file" / "index.db"),
    )
    assert found == [
        f"{config}:3 corpus.refresh_minutes: expected int, got str 'often'",
        "TECHNYAN_BOT_LOG_FORMAT:0 bot.log_format: expected text or json, got 'xml'",
        "TECHNYAN_DIGEST_MISFIRE_GRACE_SECONDS:0 digest.misfire_grace_seconds: "
        "expected int, got str 'soon'",
        f"{config}:5 bot.shard_ids: needs bot.shard_count as well",
        f"{config}:2 corpus.path: not a folder: {tmp_path / 'missing-corpus'}",
        f"TECHNYAN_INDEX_PATH:0 index.path: not in a folder: {tmp_path / 'a-file'} is a file",
    ]


def test_each_subscription_problem_points_at_its_own_line(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "[[digest.subscriptions]]\n"  # 1
        "guild_id = 1\n"
        "channel_id = 2\n"
        'time = "09:00"\n'
        "\n"
        "[[digest.subscriptions]]\n"  # 6: the second entry, without a guild_id
        "channel_id = 3\n"
        'time = "25:00"\n'  # 8
        'locale = "fr"\n'  # 9
        "colour = 1\n",  # 10
    )
    assert problems(config) == [
        f"{config}:6 digest.subscriptions[1].guild_id: missing",
        f"{config}:8 digest.subscriptions[1].time: expected HH:MM, got '25:00'",
        f"{config}:9 digest.subscriptions[1].locale: expected ja or en, got 'fr'",
        f"{config}:10 digest.subscriptions[1].colour: unknown key",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("TECHNYAN_CORPUS_GIT_PULL", "maybe", "corpus.git_pull: expected bool, got str 'maybe'"),
        ("TECHNYAN_CORPUS_REFRESH_MINUTES", "-5", "corpus.refresh_minutes: must not be negative"),
        ("TECHNYAN_BOT_DEFAULT_LOCALE", "fr", "bot.default_locale: expected ja or en, got 'fr'"),
        ("TECHNYAN_BOT_LOG_LEVEL", "LOUD", "bot.log_level: expected DEBUG, INFO, WARNING or"),
        ("TECHNYAN_DIGEST_DEFAULT_TIMEZONE", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("TECHNYAN_BOT_SHARD_IDS", "0,one", "bot.shard_ids: expected a list of integers"),
        ("TECHNYAN_BOT_SHARD_COUNT", "-2", "bot.shard_count: must not be negative, got -2"),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    tmp_path: Path, variable: str, value: str, problem: str
) -> None:
    config = write(tmp_path, '[corpus]\npath = "corpus"\n')
    found = problems(config, **{variable: value})
    assert [line for line in found if line.startswith(f"{variable}:0 ")] == found
    assert len(found) == 1 and problem in found[0], found


def test_good_environment_values_are_read_as_their_types(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        environ={
            "TECHNYAN_CORPUS_GIT_PULL": "yes",
            "TECHNYAN_CORPUS_REFRESH_MINUTES": "0",
            "TECHNYAN_BOT_SHARD_COUNT": "4",
            "TECHNYAN_BOT_SHARD_IDS": "1, 3",
            "TECHNYAN_BOT_LOG_LEVEL": "debug",
        },
    )
    assert settings.corpus_git_pull is True and settings.corpus_refresh_minutes == 0
    assert (settings.shard_count, list(settings.shard_ids)) == (4, [1, 3])
    assert settings.origins["bot.shard_ids"].source == "TECHNYAN_BOT_SHARD_IDS"
    off = load_settings(None, environ={"TECHNYAN_CORPUS_GIT_PULL": "off"})
    assert off.corpus_git_pull is False


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('guild_id = "1"\nchannel_id = 2', "[0].guild_id: expected int, got '1'"),
        ("guild_id = 1", "[0].channel_id: missing"),
        ('guild_id = 1\nchannel_id = 2\ntimezone = "Tokyo"', "[0].timezone: unknown time zone"),
        ("guild_id = 1\nchannel_id = 2\nmax_items = 11", "[0].max_items: expected 1–10, got 11"),
        ("guild_id = 1\nchannel_id = 2\nmax_items = 0", "[0].max_items: expected 1–10, got 0"),
        ('guild_id = 1\nchannel_id = 2\ntime = "9:00am"', "[0].time: expected HH:MM"),
    ],
)
def test_each_subscription_entry_check(tmp_path: Path, entry: str, problem: str) -> None:
    config = write(tmp_path, f"[[digest.subscriptions]]\n{entry}\n")
    found = problems(config)
    assert len(found) == 1 and found[0].startswith(f"{config}:"), found
    assert f"digest.subscriptions{problem}" in found[0]


def test_a_good_subscription_entry_becomes_a_subscription(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "[[digest.subscriptions]]\nguild_id = 1\nchannel_id = 2\n"
        'time = "07:30"\ntimezone = "Europe/Paris"\nlocale = "en"\nmax_items = 10\n',
    )
    assert problems(config) == []
    [entry] = load_settings(config, environ={}).subscriptions
    assert (entry.guild_id, entry.channel_id, entry.time, entry.timezone) == (
        1,
        2,
        "07:30",
        "Europe/Paris",
    )
    assert (entry.locale, entry.max_items) == ("en", 10)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('[corpus]\npath = "corpus\n', ":2 file: invalid TOML: "),
        ("[corpus]\npath = corpus\n", ":2 file: invalid TOML: "),
        ("[colours]\nred = 1\n", ":1 colours: unknown section"),
        ('corpus = "flat"\n', ":1 corpus: expected a table"),
        ("[digest]\nsubscriptions = 3\n", "digest.subscriptions: expected an array of tables"),
        ("[[digest.subscriptions]]\n[[digest.subscriptions]]\nguild_id = 1\nchannel_id = 1\n",
         "digest.subscriptions[0].guild_id: missing"),
        ('[bot]\ntoken = "abc"\n', ":2 token: a Discord token must not be in a file"),
    ],
)  # fmt: skip
def test_a_file_that_cannot_be_used_is_named_with_its_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    config = write(tmp_path, text)
    found = problems(config)
    assert any(line.startswith(str(config)) and problem in line for line in found), found
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    assert problem in str(raised.value)


def test_a_file_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b'[corpus]\npath = "corpus"\n# caf\xe9\n')
    assert problems(config)[0] == f"{config}:3 file: not UTF-8 text"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql://bot:pw@db:notaport/technyan", "port 'notaport' is not a number"),
        ("postgresql://bot:pw@db:70000/technyan", "port '70000' is not a number"),
        ("postgresql://bot:pw@db/technyan?sslmode=bogus", "sslmode 'bogus' is not one of"),
        ("postgresql://bot:pw@db/technyan?connect_timeout=soon", "connect_timeout 'soon'"),
        ("postgresql://bot:pw@db/technyan?colour=pink", 'invalid URI query parameter: "colour"'),
        ("postgresql://bot:pw@[::1/technyan", "not a valid PostgreSQL URL"),
        ("mysql://bot:pw@db/technyan", "expected a postgresql://"),
    ],
)
def test_a_state_url_run_would_refuse_is_reported(tmp_path: Path, url: str, problem: str) -> None:
    config = write(tmp_path, f'[state]\nurl = "{url}"\n')
    from_file = problems(config)
    assert len(from_file) == 1 and from_file[0].startswith(f"{config}:2 state.url: ")
    assert problem in from_file[0]
    from_environment = problems(None, TECHNYAN_STATE_URL=url, TECHNYAN_CORPUS_PATH=str(tmp_path))
    assert len(from_environment) == 1
    assert from_environment[0].startswith("TECHNYAN_STATE_URL:0 state.url: ")
    assert "pw" not in from_file[0] + from_environment[0]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://bot:pw@db:5432/technyan?sslmode=verify-full&connect_timeout=5",
        "postgres://db1:5432,db2:5433/technyan?target_session_attrs=read-write",
        "postgresql:///technyan?host=/run/postgresql",
    ],
)
def test_a_good_state_url_passes(tmp_path: Path, url: str) -> None:
    assert problems(None, TECHNYAN_STATE_URL=url, TECHNYAN_CORPUS_PATH=str(tmp_path)) == []


def test_a_missing_file_is_one_problem_in_the_same_format(tmp_path: Path) -> None:
    found = problems(tmp_path / "nope.toml")
    assert found == [f"{tmp_path / 'nope.toml'}:0 file: not found (No such file or directory)"]


def test_a_default_path_says_how_to_set_it(tmp_path: Path) -> None:
    config = write(tmp_path, '[bot]\ndefault_locale = "ja"\n')
    (tmp_path / "corpus").rmdir()
    assert problems(config) == [
        f"{config}:0 corpus.path: not a folder: {tmp_path / 'corpus'} "
        "(the default; set corpus.path or TECHNYAN_CORPUS_PATH)"
    ]


def test_subscriptions_cannot_come_from_the_environment(tmp_path: Path) -> None:
    found = problems(None, TECHNYAN_DIGEST_SUBSCRIPTIONS="[]", TECHNYAN_CORPUS_PATH=str(tmp_path))
    assert found == [
        "TECHNYAN_DIGEST_SUBSCRIPTIONS:0 digest.subscriptions: not read from the environment; "
        "use the config file"
    ]


def test_load_settings_raises_every_problem_but_not_paths(tmp_path: Path) -> None:
    config = write(tmp_path, '[corpus]\npath = "nowhere"\nrefresh_minutes = -1\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config, {"TECHNYAN_BOT_SHARD_COUNT": "x"})
    assert [str(p) for p in raised.value.problems] == [
        f"{config}:3 corpus.refresh_minutes: must not be negative, got -1",
        "TECHNYAN_BOT_SHARD_COUNT:0 bot.shard_count: expected int, got str 'x'",
    ]


def test_check_config_prints_one_format_for_everything(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[corpus]\npath = "corpus"\nrefresh_minutes = "often"\n[colours]\nmain = "pink"\n'
        '[[digest.subscriptions]]\nguild_id = 1\nchannel_id = 2\ntime = "7pm"\n',
    )
    done = cli(
        "check-config",
        str(config),
        TECHNYAN_CORPUS_GIT_PULL="perhaps",
        TECHNYAN_STATE_URL="postgresql://u:secret@h:port/db",
        TECHNYAN_CORPUS_PATH="/nonexistent",
    )
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert len(lines) == 6, lines
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    sources = [PROBLEM_LINE.match(line)["source"] for line in lines]  # type: ignore[index]
    assert sources.count(str(config)) == 3
    assert set(sources) - {str(config)} == {
        "TECHNYAN_CORPUS_GIT_PULL",
        "TECHNYAN_STATE_URL",
        "TECHNYAN_CORPUS_PATH",
    }
    assert "secret" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_run_reports_every_problem_before_it_connects(tmp_path: Path) -> None:
    config = write(tmp_path, '[corpus]\npath = "nowhere"\nrefresh_minutes = "often"\n')
    done = cli(
        "run",
        "--config",
        str(config),
        DISCORD_TOKEN="MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB",
        TECHNYAN_STATE_URL="postgresql://bot@db/technyan?sslmode=bogus",
    )
    assert done.returncode == 2
    assert f"{config}:3 corpus.refresh_minutes: expected int, got str 'often'" in done.stderr
    assert f"{config}:2 corpus.path: not a folder: {tmp_path / 'nowhere'}" in done.stderr
    assert "TECHNYAN_STATE_URL:0 state.url: sslmode 'bogus' is not one of" in done.stderr


def test_a_misspelt_or_unknown_technyan_variable_is_a_problem(tmp_path: Path) -> None:
    config = write(tmp_path, '[corpus]\npath = "corpus"\n')
    found = problems(
        config,
        TECHNYAN_BOT_DEFAULTLOCALE="ja",
        TECHNYAN_FOO_BAR="1",
        TECHNYAN_LOCALE="ja",  # the console's language: known
        OTHER_TOOL_SETTING="x",  # not ours
    )
    assert found == [
        "TECHNYAN_BOT_DEFAULTLOCALE:0 environment: unknown variable; "
        "did you mean TECHNYAN_BOT_DEFAULT_LOCALE?",
        "TECHNYAN_FOO_BAR:0 environment: unknown variable",
    ]
    assert all(PROBLEM_LINE.match(line) for line in found)
