"""Deployment and operations: configuration check, health, backup, the Docker recipe."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.config import SCHEMA, load_settings
from bot.ops import backup_state, check_health

REPO = Path(__file__).resolve().parents[1]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def cli(
    *arguments: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TECHNYAN_")}
    environment.pop("DISCORD_TOKEN", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=cwd,
        env=environment,
    )


def test_the_example_config_documents_every_key_and_is_clean() -> None:
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    for section, keys in SCHEMA.items():
        assert f"[{section}]" in example
        for key in keys:
            if key != "subscriptions":
                assert re.search(rf"^{key} = ", example, re.MULTILINE), f"{section}.{key}"
    done = cli("check-config", str(REPO / "config.example.toml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "configuration OK" in done.stdout


def test_check_config_reports_file_line_key_and_problem(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[corpus]\n"
        'path = "missing-corpus"\n'
        'refresh_minutes = "often"\n'
        "[index]\n"
        "size = 3\n"
        "[digest]\n"
        'default_timezone = "Mars/Olympus"\n'
        "[[digest.subscriptions]]\n"
        "guild_id = 1\n"
        "channel_id = 2\n"
        'time = "25:00"\n'
        "[colours]\n"
        'main = "pink"\n',
        encoding="utf-8",
    )
    done = cli("check-config", str(config))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert f"{config}:3 corpus.refresh_minutes: expected int, got str 'often'" in lines
    assert f"{config}:5 index.size: unknown key" in lines
    assert f"{config}:7 digest.default_timezone: unknown time zone 'Mars/Olympus'" in lines
    assert any("digest.subscriptions[0].time: expected HH:MM" in line for line in lines)
    assert f"{config}:12 colours: unknown section" in lines
    assert "Traceback" not in done.stdout + done.stderr


def test_check_config_refuses_a_token_written_in_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ndefault_locale = "ja"\ntoken = "{TOKEN}"\n', encoding="utf-8")
    done = cli("check-config", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:3 token: a Discord token must not be in a file; set DISCORD_TOKEN" in done.stdout
    )
    assert TOKEN not in done.stdout + done.stderr


def test_unreadable_paths_are_problems(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[corpus]\npath = "nowhere"\n', encoding="utf-8")
    done = cli("check-config", str(config))
    assert done.returncode == 2
    assert f"{config}:2 corpus.path: not a folder: {tmp_path / 'nowhere'}" in done.stdout


def test_run_checks_the_configuration_first(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[bot]\nshard_ids = [0]\n", encoding="utf-8")
    done = cli("run", "--config", str(config), env={"DISCORD_TOKEN": TOKEN})
    assert done.returncode == 2
    assert "bot.shard_ids: needs bot.shard_count as well" in done.stderr
    assert TOKEN not in done.stdout + done.stderr


def test_environment_overrides_every_key(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        environ={
            "TECHNYAN_CORPUS_PATH": str(tmp_path / "c"),
            "TECHNYAN_CORPUS_GIT_PULL": "yes",
            "TECHNYAN_INDEX_PATH": str(tmp_path / "i.db"),
            "TECHNYAN_STATE_PATH": str(tmp_path / "s.db"),
            "TECHNYAN_SITE_TIMELINE_URL": "https://example.org/history",
            "TECHNYAN_BOT_LOG_FORMAT": "json",
            "TECHNYAN_BOT_SHARD_COUNT": "4",
            "TECHNYAN_BOT_SHARD_IDS": "0,1",
            "TECHNYAN_DIGEST_MISFIRE_GRACE_SECONDS": "60",
        },
    )
    assert settings.corpus_path == tmp_path / "c"
    assert settings.corpus_git_pull is True
    assert settings.index_path == tmp_path / "i.db"
    assert settings.state_path == tmp_path / "s.db"
    assert settings.timeline_url == "https://example.org/history"
    assert settings.log_format == "json"
    assert (settings.shard_count, settings.shard_ids) == (4, (0, 1))
    assert settings.misfire_grace_seconds == 60


@pytest.fixture
def deployed(tmp_path: Path) -> dict[str, str]:
    """A deployment's environment: the bundled corpus, index and state under tmp."""
    env = {
        "TECHNYAN_CORPUS_PATH": str(REPO / "corpus"),
        "TECHNYAN_INDEX_PATH": str(tmp_path / "data" / "index.db"),
        "TECHNYAN_STATE_PATH": str(tmp_path / "data" / "state.db"),
    }
    assert cli("index", env=env).returncode == 0
    return env


def test_health_on_a_good_and_a_broken_index(deployed: dict[str, str]) -> None:
    good = cli("health", env=deployed)
    assert good.returncode == 0, good.stdout
    assert good.stdout.strip() == "healthy"
    Path(deployed["TECHNYAN_INDEX_PATH"]).write_bytes(b"this is not a database" * 100)
    broken = cli("health", env=deployed)
    assert broken.returncode == 1
    assert "index:" in broken.stdout
    assert "Traceback" not in broken.stdout + broken.stderr
    Path(deployed["TECHNYAN_INDEX_PATH"]).unlink()
    missing = cli("health", env=deployed)
    assert missing.returncode == 1
    assert "does not exist" in missing.stdout


def test_health_fails_when_state_is_locked(deployed: dict[str, str]) -> None:
    state = Path(deployed["TECHNYAN_STATE_PATH"])
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("CREATE TABLE IF NOT EXISTS t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        problems = check_health(load_settings(None, environ=deployed))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert any(p.startswith("state:") for p in problems)


def test_a_truncated_state_db_fails_health_and_start_naming_the_last_good_backup(
    deployed: dict[str, str],
) -> None:
    from bot.state import SqliteStateStore, Subscription

    state = Path(deployed["TECHNYAN_STATE_PATH"])
    store = SqliteStateStore(state)
    store.save_subscription(
        Subscription(1, 10, "09:00", "Asia/Tokyo"), dt.datetime(2025, 11, 18, tzinfo=dt.UTC)
    )
    store.close()
    backup = state.parent / "state-backup.db"
    assert cli("backup", str(backup), env=deployed).returncode == 0
    assert cli("health", env=deployed).returncode == 0
    os.truncate(state, 0)  # what a full disk or a bad copy leaves behind
    health = cli("health", env=deployed)
    assert health.returncode == 1
    assert f"state: {state} is not a usable state database (the file is empty" in health.stdout
    assert f"the last good backup is {backup}" in health.stdout
    started = cli("run", env={**deployed, "DISCORD_TOKEN": TOKEN})
    assert started.returncode == 2  # refused before connecting: no empty state is served
    assert f"the last good backup is {backup}" in started.stderr
    assert "Traceback" not in started.stderr and TOKEN not in started.stderr
    assert state.stat().st_size == 0  # left as found, for the operator


def test_backup_copies_state_while_it_is_written(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    writer = sqlite3.connect(state, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE digest_ledger (n INTEGER)")
    writer.commit()
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            writer.execute("INSERT INTO digest_ledger VALUES (?)", [n])
            writer.commit()
            n += 1
            time.sleep(0.001)

    thread = threading.Thread(target=write)
    thread.start()
    try:
        time.sleep(0.05)
        (tmp_path / "backup").mkdir()
        size = backup_state(state, tmp_path / "backup" / "state.db")
    finally:
        stop.set()
        thread.join()
        writer.close()
    assert size > 0
    copy = sqlite3.connect(tmp_path / "backup" / "state.db")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT count(*) FROM digest_ledger").fetchone()[0] > 0
    done = cli("backup", str(tmp_path / "b2.db"), env={"TECHNYAN_STATE_PATH": str(state)})
    assert done.returncode == 0
    assert (tmp_path / "b2.db").exists()


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _dockerfile_env() -> dict[str, str]:
    """The ENV of the Dockerfile's final stage, as written."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


@pytest.mark.skipif(os.environ.get("TECHNYAN_SKIP_IMAGE_RECIPE") == "1", reason="asked to skip")
def test_the_image_recipe_installs_and_starts_in_a_fresh_environment(tmp_path: Path) -> None:
    """The Dockerfile's steps without Docker: install the package into a fresh virtual
    environment the way the image does (dependencies, then the package without them),
    then the entrypoint with the image's environment, /data mapped to a temporary folder:
    it seeds the corpus, builds the index, and `health` passes."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(REPO)], check=True, timeout=600)
    data = tmp_path / "data"
    data.mkdir()
    env = {
        key: value.replace("/data", str(data)).replace("/app/corpus", str(REPO / "corpus"))
        for key, value in _dockerfile_env().items()
    }
    env["PATH"] = f"{venv / 'bin'}:{os.environ['PATH']}"
    entrypoint = REPO / "docker" / "entrypoint.sh"
    done = subprocess.run(
        ["sh", str(entrypoint), "technyan-bot", "health"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (data / "corpus" / "articles").is_dir()
    assert (data / "index.db").is_file()
    assert "healthy" in done.stdout
    no_token = subprocess.run(
        ["sh", str(entrypoint), "technyan-bot", "run"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert no_token.returncode == 2
    assert len(no_token.stderr.strip().splitlines()) == 1
    assert "DISCORD_TOKEN" in no_token.stderr


@pytest.mark.parametrize("target", ["folder", "missing-folder", "itself"])
def test_backup_refuses_a_folder_a_missing_folder_and_the_database_itself(
    tmp_path: Path, target: str
) -> None:
    state = tmp_path / "state.db"
    sqlite3.connect(state).execute("CREATE TABLE t (x)").connection.commit()
    destination = {
        "folder": tmp_path,
        "missing-folder": tmp_path / "nowhere" / "copy.db",
        "itself": state,
    }[target]
    done = cli("backup", str(destination), env={"TECHNYAN_STATE_PATH": str(state)})
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "nowhere").exists()
    assert not list(tmp_path.glob("*.partial"))
    assert sqlite3.connect(state).execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_check_config_on_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"[bot]\n\xff\xfe garbage\n")
    done = cli("check-config", str(config))
    assert done.returncode == 2
    assert done.stdout.strip() == f"{config}:2 file: not UTF-8 text"
