"""Several bot processes, one application: sharding end to end.

One fake Discord (in this process) holds 40 guilds, each with one subscribed text
channel, spread over two shards; real bot processes (tests/shard_worker.py: ``NewsBot``
with the digest scheduler, each with its own index.db) connect to it with
``bot.shard_count = 2`` and their own ``bot.shard_ids``, and share one PostgreSQL state
database. The digests are made due at once through the scheduler's own cron jobs and a
virtual clock reading 09:00 in Tokyo (2025-11-18). The fake's request log tells which
process sent what (each worker names itself in its User-Agent).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pytest

from bot.state import LedgerEntry, Subscription
from bot.state_postgres import PostgresStateStore
from tests.digest_support import digest_posts, write_story
from tests.fakes import FakeDiscord

REPO = Path(__file__).resolve().parents[1]
GUILDS = 40
SHARDS = 2
#: The instant the digests are due: 09:00 in Tokyo.
DUE = dt.datetime(2025, 11, 18, 0, 0, tzinfo=dt.UTC)
DAY = dt.date(2025, 11, 18)
#: Subscriptions made after the previous day's 09:00, so start-up catch-up has nothing to do.
SUBSCRIBED = dt.datetime(2025, 11, 17, 12, 0, tzinfo=dt.UTC)
READY_SECONDS = 120.0
POSTED_SECONDS = 120.0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shards") / "corpus"
    write_story(root, "2025-11-17", "claude-update", impact="high", tags=("Claude",))
    write_story(root, "2025-11-18", "gemini-three", impact="critical", companies=("Google",))
    write_story(root, "2025-11-18", "small-news", impact="low")
    return root


@dataclass
class Worker:
    """One bot process and what it said."""

    name: str
    shard_ids: list[int]
    process: asyncio.subprocess.Process
    log_path: Path
    log_file: TextIO
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def user_agent(self) -> str:
        return f"technyan-shard-worker/{self.name}"

    def log(self) -> str:
        self.log_file.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    async def event(self, kind: str, timeout: float) -> dict[str, Any]:
        """The next stdout event, which must be ``kind``."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no {kind} in {timeout} s\n{self.log()}") from None
        if not line:
            code = await self.process.wait()
            raise AssertionError(f"{self.name} exited ({code}) before {kind}\n{self.log()}")
        event: dict[str, Any] = json.loads(line)
        self.events.append(event)
        assert event["event"] == kind, f"{self.name}: {event}\n{self.log()}"
        return event

    async def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()

    async def stop(self) -> int:
        if self.process.returncode is None:
            with contextlib.suppress(ConnectionError):
                await self.send(cmd="stop")
            try:
                await asyncio.wait_for(self.process.wait(), 60)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self.log_file.close()
        return int(self.process.returncode or 0)

    async def kill(self) -> None:
        """SIGKILL: the process dies wherever it is."""
        self.process.kill()
        await self.process.wait()


class Cluster:
    """The fake Discord with 40 subscribed guilds, the shared PostgreSQL database, and
    the bot processes started on them."""

    def __init__(
        self, fake: FakeDiscord, url: str, corpus: Path, root: Path, guilds: int = GUILDS
    ) -> None:
        self.fake = fake
        self.guilds = guilds
        self.url = url
        self.corpus = corpus
        self.root = root
        self.workers: list[Worker] = []
        self.store = PostgresStateStore(url)
        base = 400_000_000_000  # milliseconds since Discord's epoch, in a guild id
        self.channel_of: dict[int, int] = {}  # guild → its subscribed channel
        self.shard_of: dict[int, int] = {}  # channel → the shard of its guild
        for i in range(guilds):
            guild = fake.add_guild(f"Guild {i}", guild_id=((base + i) << 22) | i, channels=["news"])
            channel = guild.channels[0].id
            self.channel_of[guild.id] = channel
            self.shard_of[channel] = fake.shard_for(guild.id, SHARDS)
            self.store.save_subscription(
                Subscription(guild.id, channel, "09:00", "Asia/Tokyo", ("ja", "en")[i % 2]),
                SUBSCRIBED,
            )
        assert sorted(self.shard_of.values()).count(0) == guilds // 2  # spread over both

    def channels(self, shard: int | None = None) -> set[int]:
        return {c for c, s in self.shard_of.items() if shard is None or s == shard}

    async def start(
        self,
        name: str,
        shard_ids: list[int],
        *,
        post_rate: float = 45.0,
        due_at: float | None = None,
        identity: str | None = None,
    ) -> Worker:
        """Start a bot process holding ``shard_ids``, all processes together posting at
        most ``post_rate`` requests a second (the bot's shared budget). Its clock reads
        09:00 in Tokyo at the Unix time ``due_at`` (default: an hour from now, so it
        starts at 08:00 and waits for ``fire``). ``identity`` (``"HOST PID"``) makes it
        call itself that, in a pid space of its own, as in a container."""
        anchor = time.time() + 3600 if due_at is None else due_at
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DISCORD_TOKEN": self.fake.token,
            "FAKE_DISCORD_API": self.fake.api_url,
            "FAKE_DISCORD_GATEWAY": self.fake.ws_url,
            "SHARD_WORKER_NAME": name,
            "SHARD_WORKER_CLOCK": f"{anchor} {DUE.isoformat()}",
            "SHARD_WORKER_POST_RATE": str(post_rate),
            "SHARD_WORKER_LIFETIME": "300",
            "TECHNYAN_CORPUS_PATH": str(self.corpus),
            "TECHNYAN_CORPUS_REFRESH_MINUTES": "0",
            "TECHNYAN_INDEX_PATH": str(folder / "index.db"),
            "TECHNYAN_STATE_PATH": str(folder / "unused-state.db"),
            "TECHNYAN_STATE_URL": self.url,
            "TECHNYAN_BOT_SHARD_COUNT": str(SHARDS),
            "TECHNYAN_BOT_SHARD_IDS": ",".join(map(str, shard_ids)),
        }
        if identity is not None:
            env["SHARD_WORKER_IDENTITY"] = identity
        log_path = folder / f"{name}-{len(self.workers)}.log"
        log_file = log_path.open("w", encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.shard_worker",
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
        worker = Worker(name, shard_ids, process, log_path, log_file)
        self.workers.append(worker)
        return worker

    async def fire(self, *workers: Worker) -> float:
        """Make every digest job of ``workers`` due at one moment, half a second away."""
        at = time.time() + 0.5
        for worker in workers:
            await worker.send(cmd="fire", at=at)
        for worker in workers:
            await worker.event("fired", READY_SECONDS)
        return at

    def posts(self) -> list[Any]:
        """Every successful digest post the fake received, in order."""
        return [
            r
            for r in self.fake.requests
            if r.route == "POST /channels/{channel_id}/messages" and r.status == 200
        ]

    def ledger(self) -> dict[int, LedgerEntry]:
        return {e.channel_id: e for e in self.store.entries() if e.digest_date == DAY}

    async def wait_all_posted(self) -> dict[int, LedgerEntry]:
        def done() -> dict[int, LedgerEntry] | None:
            ledger = self.ledger()
            finished = all(e.status == "posted" for e in ledger.values())
            return ledger if len(ledger) == self.guilds and finished else None

        try:
            return await self.fake.wait_until(done, timeout=POSTED_SECONDS * self.guilds / GUILDS)
        except TimeoutError:
            logs = "\n".join(f"--- {w.name}\n{w.log()}" for w in self.workers)
            raise AssertionError(f"not every digest was posted: {self.ledger()}\n{logs}") from None

    def assert_each_channel_got_one_digest(self) -> None:
        for channel in self.channels():
            assert digest_posts(self.fake.channel_messages(channel)) == [(DAY.isoformat(), 1, 1)]
        per_channel: dict[str, int] = {}
        for request in self.fake.requests:  # every attempt, whatever the fake answered
            if request.route == "POST /channels/{channel_id}/messages":
                channel = request.params["channel_id"]
                per_channel[channel] = per_channel.get(channel, 0) + 1
        assert sorted(per_channel) == sorted(str(c) for c in self.channels())
        assert set(per_channel.values()) == {1}  # not one repeated post, not even a refused one
        ledger = self.ledger()
        for channel in self.channels():
            [message] = self.fake.channel_messages(channel)
            assert ledger[channel].message_ids == (int(message["id"]),)

    def assert_each_channel_holds_one_digest(self) -> None:
        """Every channel holds its digest once and the ledger names that message (however
        many attempts Discord refused with a 429 on the way)."""
        ledger = self.ledger()
        for channel in self.channels():
            messages = self.fake.channel_messages(channel)
            assert digest_posts(messages) == [(DAY.isoformat(), 1, 1)]
            assert ledger[channel].message_ids == (int(messages[0]["id"]),)

    def poster_of(self, channel: int) -> str:
        [request] = [r for r in self.posts() if r.params["channel_id"] == str(channel)]
        return request.user_agent


@asynccontextmanager
async def cluster(
    postgres_url: str, corpus: Path, root: Path, guilds: int
) -> AsyncIterator[Cluster]:
    """A world of ``guilds`` guilds; its bot processes are stopped (or killed) after it."""
    async with FakeDiscord(guilds=0, shards=SHARDS) as fake:
        made = Cluster(fake, postgres_url, corpus, root, guilds)
        try:
            yield made
        finally:
            for worker in made.workers:
                await worker.stop()
            made.store.close()


@pytest.fixture
async def world(postgres_url: str, corpus: Path, tmp_path: Path) -> AsyncIterator[Cluster]:
    """The world of one test (40 guilds)."""
    async with cluster(postgres_url, corpus, tmp_path, GUILDS) as made:
        yield made


def owner_pid(entry: LedgerEntry) -> int:
    """The pid in a ledger owner ``host/pid/token``."""
    return int(entry.owner.split("/")[1])


def test_shard_settings_come_per_process_and_are_checked(tmp_path: Path) -> None:
    from bot.config import ConfigError, load_settings

    shared = tmp_path / "config.toml"
    shared.write_text("[bot]\nshard_count = 4\n", encoding="utf-8")
    # One file for every process; each process's own shards from its environment.
    mine = load_settings(shared, environ={"TECHNYAN_BOT_SHARD_IDS": "2,3"})
    assert (mine.shard_count, mine.shard_ids) == (4, (2, 3))
    for environ, problem in [
        ({"TECHNYAN_BOT_SHARD_IDS": "4"}, "bot.shard_ids: [4] outside 0..3 (bot.shard_count 4)"),
        ({"TECHNYAN_BOT_SHARD_IDS": "1 1"}, "bot.shard_ids: lists a shard twice: [1, 1]"),
        ({"TECHNYAN_BOT_SHARD_COUNT": "0", "TECHNYAN_BOT_SHARD_IDS": "1"}, "needs bot.shard_count"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(problem)):
            load_settings(shared, environ=environ)


async def test_each_process_posts_and_answers_for_its_own_shard_only(
    world: Cluster,
) -> None:
    zero, one = await asyncio.gather(world.start("zero", [0]), world.start("one", [1]))
    ready = await asyncio.gather(
        zero.event("ready", READY_SECONDS), one.event("ready", READY_SECONDS)
    )
    assert [r["shards"] for r in ready] == [[0], [1]]
    # Each process scheduled exactly the subscriptions of its shard's guilds.
    assert set(ready[0]["jobs"]) == world.channels(0)
    assert set(ready[1]["jobs"]) == world.channels(1)
    assert sorted(world.fake.identifies) == [(0, SHARDS), (1, SHARDS)]

    await world.fire(zero, one)
    ledger = await world.wait_all_posted()
    world.assert_each_channel_got_one_digest()
    by_pid = {zero.pid: 0, one.pid: 1}
    for channel, entry in ledger.items():
        shard = world.shard_of[channel]
        assert by_pid[owner_pid(entry)] == shard  # claimed by the process owning the guild
        assert world.poster_of(channel).endswith((zero, one)[shard].user_agent)
        assert entry.attempts == 1

    # Interactions reach the process of the guild's shard (Discord routes them so): the
    # fake sends each on the session of that shard, which only that process holds, and
    # it is answered once.
    for shard in (0, 1):
        channel = min(world.channels(shard))
        asked = await world.fake.slash("news latest", channel_id=channel)
        await asked.wait_acknowledged()
        [sent] = [
            f
            for f in world.fake.gateway_log
            if f.direction == "send" and f.t == "INTERACTION_CREATE" and f.d["id"] == str(asked.id)
        ]
        assert sent.shard_id == shard and ready[shard]["shards"] == [shard]
        assert len(asked.callbacks) == 1
    # Command sync is the CLI's job, run once for the application: no process syncs.
    assert not [r for r in world.fake.requests if r.route.startswith("PUT /applications")]
    assert [await zero.stop(), await one.stop()] == [0, 0]


async def test_a_process_killed_mid_fan_out_is_restarted_without_loss_or_repeat(
    world: Cluster,
) -> None:
    # Eight posts a second each, so the fan-out of twenty channels takes seconds.
    zero, one = await asyncio.gather(
        world.start("zero", [0], post_rate=8), world.start("one", [1], post_rate=8)
    )
    await asyncio.gather(zero.event("ready", READY_SECONDS), one.event("ready", READY_SECONDS))
    fired_at = await world.fire(zero, one)

    def posted_by_zero() -> int | None:
        count = len([r for r in world.posts() if r.user_agent.endswith(zero.user_agent)])
        return count if count >= 4 else None

    await world.fake.wait_until(posted_by_zero, timeout=POSTED_SECONDS)
    await zero.kill()
    shard_zero = world.channels(0)
    reached = {c for c in shard_zero if world.fake.channel_messages(c)}
    assert 4 <= len(reached) < len(shard_zero), "killed mid-fan-out"
    unfinished = [e for c, e in world.ledger().items() if c in shard_zero and e.status == "intent"]
    assert unfinished and all(owner_pid(e) == zero.pid for e in unfinished)

    # The same shard comes back: start-up recovery takes the dead process's rows over,
    # finds the parts already in the channels and posts the rest; catch-up does the others.
    again = await world.start("zero-again", [0], due_at=fired_at)
    await again.event("ready", READY_SECONDS)
    ledger = await world.wait_all_posted()
    world.assert_each_channel_got_one_digest()
    for channel, entry in ledger.items():
        if world.shard_of[channel] == 1:
            assert owner_pid(entry) == one.pid and world.poster_of(channel).endswith(one.user_agent)
            continue
        assert owner_pid(entry) in {zero.pid, again.pid}
        assert world.poster_of(channel).endswith((zero.user_agent, again.user_agent))
        if channel in {e.channel_id for e in unfinished}:
            assert owner_pid(entry) == again.pid and entry.attempts == 2  # taken over
    assert any(world.poster_of(c).endswith(again.user_agent) for c in shard_zero)
    assert [await again.stop(), await one.stop()] == [0, 0]


async def test_two_processes_owning_the_same_shards_post_each_digest_once(
    world: Cluster,
) -> None:
    # A resharding gone wrong, or an old deployment still running: both hold every shard.
    first, second = await asyncio.gather(
        world.start("first", [0, 1]), world.start("second", [0, 1])
    )
    ready = await asyncio.gather(
        first.event("ready", READY_SECONDS), second.event("ready", READY_SECONDS)
    )
    assert set(ready[0]["jobs"]) == set(ready[1]["jobs"]) == world.channels()
    await world.fire(first, second)
    ledger = await world.wait_all_posted()
    world.assert_each_channel_got_one_digest()
    assert {owner_pid(e) for e in ledger.values()} <= {first.pid, second.pid}
    for channel, entry in ledger.items():  # the claimant is the poster
        poster = first if owner_pid(entry) == first.pid else second
        assert world.poster_of(channel).endswith(poster.user_agent)
    assert [await first.stop(), await second.stop()] == [0, 0]


async def test_two_posting_processes_together_stay_under_discords_global_limit(
    postgres_url: str, corpus: Path, tmp_path: Path
) -> None:
    """200 guilds on two processes, every digest due at once, against a fake Discord that
    allows 50 requests a second per bot token across all its clients: the processes share
    one budget of 45 a second in PostgreSQL, and whatever 429 still comes is sent again.
    Nothing is lost, nothing posted twice."""
    async with cluster(postgres_url, corpus, tmp_path, 200) as world:
        zero, one = await asyncio.gather(world.start("zero", [0]), world.start("one", [1]))
        await asyncio.gather(zero.event("ready", READY_SECONDS), one.event("ready", READY_SECONDS))
        await world.fire(zero, one)
        ledger = await world.wait_all_posted()
        world.assert_each_channel_holds_one_digest()
        assert {e.status for e in ledger.values()} == {"posted"}
        posters = {r.user_agent.rsplit("/", 1)[-1] for r in world.posts()}
        assert posters == {"zero", "one"}  # both processes posted, under one budget
        [budget] = world.store._select("SELECT name FROM request_budget")
        assert budget["name"].startswith("discord-global:")
        print(f"global 429s: {world.fake.global_429_count}")
        assert [await zero.stop(), await one.stop()] == [0, 0]


async def test_two_processes_with_one_host_name_and_pid_post_each_digest_once(
    world: Cluster,
) -> None:
    """Two containers sharing one host name, each bot PID 1, both holding every shard (an
    overlap during a rollout): neither takes the other's rows for a dead process's."""
    first, second = await asyncio.gather(
        world.start("first", [0, 1], identity="bot 1", post_rate=10),
        world.start("second", [0, 1], identity="bot 1", post_rate=10),
    )
    ready = await asyncio.gather(
        first.event("ready", READY_SECONDS), second.event("ready", READY_SECONDS)
    )
    owners = {event["owner"] for event in ready}
    assert len(owners) == 2 and all(owner.startswith("bot/1/") for owner in owners)
    await world.fire(first, second)
    ledger = await world.wait_all_posted()
    world.assert_each_channel_holds_one_digest()
    assert {e.owner for e in ledger.values()} <= owners
    assert {e.attempts for e in ledger.values()} == {1}  # nothing taken over
    for channel, entry in ledger.items():  # the claimant is the poster
        poster = first if entry.owner == ready[0]["owner"] else second
        assert world.poster_of(channel).endswith(poster.user_agent)
    assert [await first.stop(), await second.stop()] == [0, 0]
