"""``technyan-bot run`` and ``sync`` against the fake Discord: the token from the
environment only, one line and status 2 for a missing or rejected token, no token in any
log line, commands synced on purpose (guild or global); and the index refresher."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings, load_settings
from bot.discord_app.runner import (
    RedactingFilter,
    configure_logging,
    default_components,
    run_bot,
    sync_commands,
)
from bot.index import build_index
from bot.refresh import IndexRefresher
from bot.service import NewsService
from tests.discord_corpus import write_corpus
from tests.fakes import FakeDiscord

REPO = Path(__file__).resolve().parents[1]
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.secret-token-value-for-the-tests_0123456789"


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runner")
    corpus = write_corpus(root / "corpus")
    index = root / "index.db"
    build_index(corpus, index)
    return corpus, index


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def settings_for(paths: tuple[Path, Path], token: str | None, **environ: str) -> Settings:
    if token is not None:
        environ["DISCORD_TOKEN"] = token
    corpus, index = paths
    return load_settings(None, environ=environ).with_paths(corpus=corpus, index=index)


# --------------------------------------------------------------------------- logging


def test_the_filter_redacts_tokens_everywhere() -> None:
    redactor = RedactingFilter([TOKEN])
    try:
        raise RuntimeError(f"failed with {TOKEN}")
    except RuntimeError:
        record = logging.LogRecord(
            "discord.http",
            logging.DEBUG,
            __file__,
            1,
            "token %s in %s",
            (TOKEN, "args"),
            sys.exc_info(),
        )
    assert redactor.filter(record)
    assert TOKEN not in record.getMessage() and "[REDACTED]" in record.getMessage()
    assert record.exc_text is not None and TOKEN not in record.exc_text
    url = "POST https://discord.com/api/v10/webhooks/123/aW50ZXJhY3Rpb24abcdefghijklmnopqrstuvwxyz"
    record = logging.LogRecord("discord.http", logging.DEBUG, __file__, 1, url, None, None)
    redactor.filter(record)
    assert record.getMessage() == "POST https://discord.com/api/v10/webhooks/123/[REDACTED]"
    payload = "WebSocket Event: {'id': '1', 'token': 'aW50ZXJhY3Rpb24xyz', 'type': 2}"
    assert (
        redactor.redact(payload) == "WebSocket Event: {'id': '1', 'token': '[REDACTED]', 'type': 2}"
    )


def test_json_log_format(paths: tuple[Path, Path]) -> None:
    stream = io.StringIO()
    settings = settings_for(paths, TOKEN, TECHNYAN_BOT_LOG_FORMAT="json")
    configure_logging(settings, [TOKEN], stream=stream)
    logging.getLogger("bot.test").warning("hello %s", TOKEN)
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["logger"] == "bot.test" and entry["message"] == "hello [REDACTED]"


# --------------------------------------------------------------------------- run


def test_run_without_a_token_is_one_line_and_status_2(paths: tuple[Path, Path]) -> None:
    err = io.StringIO()
    assert run_bot(settings_for(paths, None), err=err) == 2
    assert err.getvalue().count("\n") == 1 and "DISCORD_TOKEN" in err.getvalue()


async def test_run_with_a_rejected_token(
    paths: tuple[Path, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    async with FakeDiscord(token="the-real-token") as fake:
        err = io.StringIO()
        settings = settings_for(paths, TOKEN, TECHNYAN_BOT_LOG_LEVEL="DEBUG")
        status = await asyncio.to_thread(run_bot, settings, background=[], err=err)
        assert status == 2
        assert err.getvalue().count("\n") == 1 and "rejected" in err.getvalue()
        assert "Traceback" not in err.getvalue()
        assert fake.requests[0].status == 401
    logged = capfd.readouterr()
    assert TOKEN not in logged.out + logged.err
    assert "Traceback" not in logged.err


class CloseWhenConnected:
    """A background service that closes the bot once it has seen its guilds."""

    def __init__(self) -> None:
        self.started = self.stopped = 0

    async def start(self, bot: Any) -> None:
        self.started += 1

        async def close_later() -> None:
            for _ in range(3000):  # up to 30 seconds, checked every 10 ms
                if bot.guilds:
                    break
                await asyncio.sleep(0.01)
            await bot.close()

        self._task = asyncio.create_task(close_later())

    async def stop(self) -> None:
        self.stopped += 1


async def test_run_serves_until_closed_and_never_logs_the_token(
    paths: tuple[Path, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    service = CloseWhenConnected()
    async with FakeDiscord(token=TOKEN) as fake:
        settings = settings_for(paths, TOKEN, TECHNYAN_BOT_LOG_LEVEL="DEBUG")
        status = await asyncio.to_thread(run_bot, settings, background=[service])
        assert status == 0
        assert fake.identifies == [(0, 1)]
    assert (service.started, service.stopped) == (1, 1)
    logged = capfd.readouterr()
    assert "DEBUG" in logged.err  # discord.py's debug lines went through our handler
    assert TOKEN not in logged.out + logged.err


async def test_refused_intents_are_one_line_and_status_2(
    paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that asked for a privileged intent the Developer Portal does not grant
    (Discord closes the gateway with 4014) is told so in one line, not a traceback."""
    import discord

    asking_for_members = discord.Intents.default()
    asking_for_members.members = True
    monkeypatch.setattr(discord.Intents, "default", classmethod(lambda cls: asking_for_members))
    async with FakeDiscord(token=TOKEN) as fake:
        err = io.StringIO()
        status = await asyncio.to_thread(run_bot, settings_for(paths, TOKEN), background=[],
                                         err=err)  # fmt: skip
        assert status == 2
        assert fake.identifies == []  # refused at IDENTIFY
    [line] = err.getvalue().splitlines()
    assert "refused the gateway intents" in line and "no privileged intent" in line


async def test_discord_out_of_reach_is_one_line_and_status_1(
    paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    import discord

    async with FakeDiscord(token=TOKEN) as fake:
        port = int(fake.api_url.split(":")[2].split("/")[0])
    # The fake has stopped: nothing listens on its port any more.
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    settings = settings_for(paths, TOKEN)
    err = io.StringIO()
    assert await asyncio.to_thread(run_bot, settings, background=[], err=err) == 1
    [line] = err.getvalue().splitlines()
    assert line.startswith("technyan-bot: could not stay connected to Discord:")
    err = io.StringIO()
    assert await asyncio.to_thread(sync_commands, settings, None, err=err) == 1
    [line] = err.getvalue().splitlines()
    assert line.startswith("technyan-bot: could not reach Discord:")
    assert TOKEN not in line


def test_the_command_line_needs_the_token_from_the_environment(tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    environment["TECHNYAN_INDEX_PATH"] = str(tmp_path / "index.db")
    for arguments in (["run"], ["sync", "--guild", "1"]):
        done = subprocess.run(
            [sys.executable, "-m", "bot", *arguments],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
            env=environment,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and "DISCORD_TOKEN" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bot", "sync", "--clear"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env=environment,
    )
    assert done.returncode == 2 and "--clear needs --guild" in done.stderr


# --------------------------------------------------------------------------- sync


async def test_sync_to_a_guild_then_globally_then_clear_the_guild(
    paths: tuple[Path, Path],
) -> None:
    async with FakeDiscord(token=TOKEN) as fake:
        settings = settings_for(paths, TOKEN)
        out, err = io.StringIO(), io.StringIO()
        guild = fake.guild.id
        assert await asyncio.to_thread(sync_commands, settings, guild, out=out, err=err) == 0
        assert sorted(c["name"] for c in fake.guild_commands[guild]) == ["digest", "news"]
        assert fake.global_commands == []
        text = out.getvalue()
        assert f"to guild {guild}" in text
        assert "/news about  (ja: /ニュース 検索)" in text
        assert "/digest preview  (ja: /まとめ配信 プレビュー)" in text
        assert err.getvalue() == ""  # nothing registered twice yet
        assert not any(r.route.startswith("GET /gateway") for r in fake.requests)  # REST only

        out, err = io.StringIO(), io.StringIO()
        assert await asyncio.to_thread(sync_commands, settings, None, out=out, err=err) == 0
        assert sorted(c["name"] for c in fake.global_commands) == ["digest", "news"]
        assert "globally" in out.getvalue()
        [warning] = err.getvalue().splitlines()  # the guild now shows each command twice
        assert f"guild {guild}" in warning and "/digest, /news" in warning
        assert f"technyan-bot sync --guild {guild} --clear" in warning

        out, err = io.StringIO(), io.StringIO()
        assert await asyncio.to_thread(sync_commands, settings, guild, clear=True, out=out) == 0
        assert fake.guild_commands[guild] == []  # the guild no longer shows /news twice
        assert "removed" in out.getvalue()

        # The other way round: global first, then a guild sync warns as well.
        err = io.StringIO()
        assert await asyncio.to_thread(sync_commands, settings, guild, err=err) == 0
        [warning] = err.getvalue().splitlines()
        assert "also registered globally" in warning and f"guild {guild}" in warning
        assert f"technyan-bot sync --guild {guild} --clear" in warning


async def test_sync_with_a_rejected_token(paths: tuple[Path, Path]) -> None:
    async with FakeDiscord(token="the-real-token"):
        err = io.StringIO()
        settings = settings_for(paths, TOKEN)
        assert await asyncio.to_thread(sync_commands, settings, None, err=err) == 2
        assert err.getvalue().count("\n") == 1 and TOKEN not in err.getvalue()


async def test_a_sync_discord_refuses_names_the_guild_and_the_reason(
    paths: tuple[Path, Path],
) -> None:
    """403 Missing Access: the bot is not in that guild, or was invited without the
    applications.commands scope."""
    async with FakeDiscord(token=TOKEN) as fake:
        fake.fault("/applications/", "missing_access")
        out, err = io.StringIO(), io.StringIO()
        settings = settings_for(paths, TOKEN)
        assert await asyncio.to_thread(sync_commands, settings, 1234, out=out, err=err) == 1
        [line] = err.getvalue().splitlines()
        assert line == (
            "technyan-bot: Discord refused the command sync for guild 1234 "
            "(403 50001: Missing Access)"
        )
        assert out.getvalue() == "" and fake.guild_commands.get(1234) is None
        err = io.StringIO()
        assert await asyncio.to_thread(sync_commands, settings, None, out=out, err=err) == 1
        assert "refused the command sync for all guilds" in err.getvalue()


# --------------------------------------------------------------------------- refresh


async def test_the_index_refresher_picks_up_new_stories(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    settings = load_settings(None, environ={}).with_paths(
        corpus=corpus, index=tmp_path / "index.db"
    )
    service = NewsService(settings)
    service.ensure_index()
    assert not service.about("Brandnewword", "en").found
    story = corpus / "articles" / "20260101" / "brand-new" / "en.md"
    story.parent.mkdir(parents=True)
    story.write_text(
        '---\ntitle: "Brandnewword arrives"\ndescription: "Brandnewword is new."\n'
        'date: 2026-01-01\ncategory: "Product"\ntags: ["Brandnewword"]\nlocale: "en"\n---\n\n'
        "## Body\n\nBrandnewword is new.\n",
        encoding="utf-8",
    )
    refresher = IndexRefresher(service, interval=0.05)
    await refresher.start(None)
    await refresher.start(None)  # a second start does not start a second loop
    for _ in range(1500):  # up to 30 seconds (a reindex runs in a child process)
        if refresher.refreshes:
            break
        await asyncio.sleep(0.02)
    await refresher.stop()
    assert refresher.refreshes >= 1
    assert service.about("Brandnewword", "en").found


def test_a_plain_run_wires_in_the_digests_and_the_refresher(
    paths: tuple[Path, Path], tmp_path: Path
) -> None:
    settings = settings_for(paths, TOKEN, TECHNYAN_STATE_PATH=str(tmp_path / "state.db"))
    admin, services = default_components(settings, NewsService(settings))
    assert callable(getattr(admin, "subscribe", None))
    assert isinstance(services[0], IndexRefresher) and len(services) == 2

    (tmp_path / "broken.db").write_text("not a database " * 100, encoding="utf-8")
    broken = settings_for(paths, TOKEN, TECHNYAN_STATE_PATH=str(tmp_path / "broken.db"))
    err = io.StringIO()
    assert run_bot(broken, err=err) == 2
    assert err.getvalue().count("\n") == 1 and "broken.db" in err.getvalue()


def test_the_documented_invite_permissions_are_the_ones_needed() -> None:
    import discord

    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,  # digests in threads and forum posts
        embed_links=True,
        read_message_history=True,
    ).value
    for document in ("README.md", "docs/DISCORD_SETUP.md"):
        text = (REPO / document).read_text(encoding="utf-8")
        assert f"scope=bot+applications.commands&permissions={needed}" in text, document
