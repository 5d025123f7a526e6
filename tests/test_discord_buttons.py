"""Reply buttons that outlive the bot: Previous / Next, the list/cards switch and "did you
mean" keep working after the bot restarts (a new client in this process, and a real bot
process killed and started again), still only for the person who asked."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.discord_app.views import CUSTOM_ID_LIMIT
from tests.discord_support import (
    answered,
    bot_on,
    build_corpus_and_index,
    buttons,
    lines,
    rejected,
    said,
    shown,
)
from tests.fakes import FakeDiscord, FakeInteraction

REPO = Path(__file__).resolve().parents[1]
READY_SECONDS = 60.0


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_corpus_and_index(tmp_path_factory.mktemp("discord-buttons"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(guilds=0) as world:
        world.add_guild("ねこ部", preferred_locale="ja")
        yield world


def message_id(it: FakeInteraction) -> int:
    return int(shown(it)["id"])


async def test_pages_and_the_layout_switch_work_after_a_restart(
    fake: FakeDiscord, corpus_and_index: tuple[Path, Path]
) -> None:
    async with bot_on(fake, corpus_and_index) as before:
        about = await fake.slash("news about", {"query": "Quasar"}, locale="en-US")
        await answered(about)
        latest = await fake.slash("news latest", locale="ja")
        await latest.wait_acknowledged()
        first_page = [e["title"] for e in about.embeds]
        for it in (about, latest):
            for button in buttons(shown(it)):
                assert len(button["custom_id"]) <= CUSTOM_ID_LIMIT
        assert before.persistent_views == []  # nothing is kept in memory per message
    # The first client is gone; a new one (nothing in memory) gets the clicks.
    async with bot_on(fake, corpus_and_index):
        click = await fake.click(message_id(about), label="Next ▶")
        await click.wait_acknowledged()
        assert click.response_type == 7
        second_page = [e["title"] for e in about.embeds]
        assert len(second_page) == 5 and not set(second_page) & set(first_page)
        assert [b["label"] for b in buttons(shown(about))] == ["◀ Previous", "2 / 2", "Next ▶"]

        bob = fake.add_user("bob")
        intruder = await fake.click(message_id(about), label="◀ Previous", user=bob, locale="ja")
        await intruder.wait_acknowledged()
        assert intruder.ephemeral and intruder.content in lines("not_your_buttons", "ja")
        assert [e["title"] for e in about.embeds] == second_page  # nothing moved

        switch = await fake.click(message_id(latest), label="🗂 カードで見る", locale="ja")
        await switch.wait_acknowledged()
        assert all(e.get("fields") for e in latest.embeds)  # full cards now
        assert said(latest.content, "latest_header", "ja", count="5")
    assert rejected(fake) == []


async def test_did_you_mean_works_after_a_restart(
    fake: FakeDiscord, corpus_and_index: tuple[Path, Path]
) -> None:
    async with bot_on(fake, corpus_and_index):
        weak = await fake.slash("news about", {"query": "Claud Sonet"}, locale="en-US")
        await answered(weak)
        missing = await fake.slash("news about", {"query": "Quasr Labz"}, locale="en-US")
        await answered(missing)
        assert missing.ephemeral
    async with bot_on(fake, corpus_and_index):
        bob = fake.add_user("bob")
        other = await fake.click(message_id(weak), label="🔎 Claude 3.5 Sonnet", user=bob)
        await answered(other)
        assert other.ephemeral and other.embeds  # someone else: their own answer
        before = weak.content

        mine = await fake.click(message_id(weak), label="🔎 Claude 3.5 Sonnet")
        await mine.wait_acknowledged()
        await weak.wait_until(lambda i: i.content != before)
        assert said(weak.content, "about_header", "en", query="Claude 3.5 Sonnet")
        assert weak.embeds[0]["title"] == "Anthropic Releases Claude 3.5 Sonnet"
        assert weak.components == []  # the old suggestions are gone with the old results

        again = await fake.click(message_id(missing), label="🔎 Quasar Labs")
        await answered(again)
        assert not again.ephemeral  # found: for everyone, as a new message
        assert said(shown(again)["content"], "about_header", "en", query="Quasar Labs")
    assert rejected(fake) == []


async def test_a_query_too_long_for_a_button_is_remembered_until_a_restart(
    fake: FakeDiscord, corpus_and_index: tuple[Path, Path]
) -> None:
    query = " ".join(["Quasar"] * 12)  # 83 characters: more than a custom_id has room for
    async with bot_on(fake, corpus_and_index):
        it = await fake.slash("news about", {"query": query}, locale="en-US")
        await answered(it)
        assert all(len(b["custom_id"]) <= CUSTOM_ID_LIMIT for b in buttons(shown(it)))
        click = await fake.click(message_id(it), label="Next ▶")
        await click.wait_acknowledged()
        assert click.response_type == 7  # the same process remembers the query
    async with bot_on(fake, corpus_and_index):
        late = await fake.click(message_id(it), label="◀ Previous")
        await late.wait_acknowledged()
        assert late.ephemeral and late.content in lines("buttons_expired", "en")


# --------------------------------------------------------------------------- a real process


class BotProcess:
    """``python -m tests.shard_worker``: a whole technyan-bot process (NewsBot, digest
    scheduler, SQLite state) connected to the fake in this process."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path) -> None:
        self.process = process
        self.log = log

    @classmethod
    async def start(cls, fake: FakeDiscord, paths: tuple[Path, Path], name: str) -> BotProcess:
        corpus, index = paths
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DISCORD_TOKEN": fake.token,
            "FAKE_DISCORD_API": fake.api_url,
            "FAKE_DISCORD_GATEWAY": fake.ws_url,
            "SHARD_WORKER_NAME": name,
            "SHARD_WORKER_CLOCK": f"{time.time()} 2025-11-18T00:00:00+00:00",
            "SHARD_WORKER_LIFETIME": "90",
            "TECHNYAN_CORPUS_PATH": str(corpus),
            "TECHNYAN_CORPUS_REFRESH_MINUTES": "0",
            "TECHNYAN_INDEX_PATH": str(index),
            "TECHNYAN_STATE_PATH": str(index.parent / "state.db"),
        }
        env.pop("TECHNYAN_STATE_URL", None)
        log = index.parent / f"{name}.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.shard_worker",
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log.open("w"),
        )
        started = cls(process, log)
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), READY_SECONDS)
        except TimeoutError:
            await started.kill()
            raise AssertionError(f"{name} not ready\n{log.read_text()[-3000:]}") from None
        event: dict[str, Any] = json.loads(line or b"{}")
        assert event.get("event") == "ready", f"{event}\n{log.read_text()[-3000:]}"
        return started

    async def kill(self) -> None:
        """SIGKILL: the process dies wherever it is."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


async def test_buttons_work_after_the_bot_process_is_killed_and_started_again(
    fake: FakeDiscord, corpus_and_index: tuple[Path, Path]
) -> None:
    first = await BotProcess.start(fake, corpus_and_index, "first")
    try:
        it = await fake.slash("news about", {"query": "Quasar"}, locale="ja")
        await answered(it)
        first_page = [e["title"] for e in it.embeds]
    finally:
        await first.kill()
    second = await BotProcess.start(fake, corpus_and_index, "second")
    try:
        click = await fake.click(message_id(it), label="つぎへ ▶", locale="ja")
        await click.wait_acknowledged()
        assert first.process.returncode is not None  # only the new process was there
        assert len(it.embeds) == 5 and not {e["title"] for e in it.embeds} & set(first_page)
        bob = fake.add_user("bob")
        intruder = await fake.click(message_id(it), label="◀ まえへ", user=bob)
        await intruder.wait_acknowledged()
        assert intruder.ephemeral and intruder.content in lines("not_your_buttons", "en")
    finally:
        await second.kill()
    assert rejected(fake) == []
