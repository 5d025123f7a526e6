"""One technyan-bot process for the sharding tests (tests/test_shards.py).

Run as ``python -m tests.shard_worker`` from the repository root. It builds what
``technyan-bot run`` builds — a ``NewsService`` over its own ``index.db`` (built from the
corpus when missing), the digest components of ``build_digest_components`` (the state
store from the settings, the ``DigestScheduler`` posting through ``DiscordPoster`` paced
by the bot's shared request budget, the ``DigestAdminService``) and a ``NewsBot`` (an
``AutoShardedBot``) with ``bot.shard_count`` / ``bot.shard_ids`` from the settings —
against a fake Discord that runs in the test's process. Everything comes from the
environment:

* ``FAKE_DISCORD_API`` and ``FAKE_DISCORD_GATEWAY``: the fake's REST base and gateway URL.
  The fake patches discord.py only in its own process, so the worker sets
  ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` itself;
* ``DISCORD_TOKEN`` and the ``TECHNYAN_*`` settings (corpus, index, ``state.url``, shards);
* ``SHARD_WORKER_NAME``: added to the ``User-Agent`` of every request, so the test tells
  the processes apart in the fake's request log;
* ``SHARD_WORKER_CLOCK``: ``"REAL VIRTUAL"`` — the scheduler's clock reads the ISO instant
  ``VIRTUAL`` at the Unix time ``REAL`` and runs at real speed from there;
* ``SHARD_WORKER_POST_RATE``: the request budget all processes share, per second
  (default 45, the bot's own);
* ``SHARD_WORKER_IDENTITY``: ``"HOST PID"`` — the process calls itself that host name and
  pid, in a pid space of its own (as in a container), instead of its real ones.

Protocol, one JSON object per line. On stdout: ``{"event": "ready", "pid": …, "shards":
[…], "jobs": [channel ids]}`` once connected and done with start-up recovery and catch-up,
``{"event": "fired", "jobs": n}`` after a ``fire``, ``{"event": "stopped"}`` before a
clean exit, ``{"event": "error", "error": …}`` when the bot
stops on its own (exit status 1). On stdin: ``{"cmd": "fire", "at": REAL}`` re-anchors the
clock so that it reads ``VIRTUAL`` at ``REAL`` and makes every digest job due at that
moment (APScheduler then runs them: the cron job's own path); ``{"cmd": "stop"}`` or the end
of stdin closes the bot (the scheduler stops and closes the store) and exits 0. The worker
also gives up by itself after ``SHARD_WORKER_LIFETIME`` seconds (default 120), so a test
that dies never leaves it running.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import secrets
import sys
import time
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl

from bot.config import load_settings
from bot.discord_app.client import NewsBot
from bot.discord_app.digests import build_digest_components
from bot.schedule import DigestScheduler, ProcessIdentity
from bot.service import NewsService

log = logging.getLogger("tests.shard_worker")


class AnchoredClock:
    """Virtual time running at real speed: ``virtual`` at the Unix time ``real``."""

    def __init__(self, real: float, virtual: dt.datetime) -> None:
        self.real = real
        self.virtual = virtual

    def __call__(self) -> dt.datetime:
        return self.virtual + dt.timedelta(seconds=time.time() - self.real)


class WorkerBot(NewsBot):
    """``NewsBot`` without discord.py's five-second wait between IDENTIFYs (a real
    gateway needs it; the fake does not)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def emit(event: str, **fields: Any) -> None:
    """One JSON line on stdout."""
    print(json.dumps({"event": event, **fields}), flush=True)


def fire(scheduler: DigestScheduler, clock: AnchoredClock, at: float) -> int:
    """Make every digest job due at the Unix time ``at``, when the clock reads its virtual
    instant. Returns the number of jobs."""
    clock.real = at
    apscheduler = scheduler._scheduler
    assert apscheduler is not None
    due = dt.datetime.fromtimestamp(at, dt.UTC)
    jobs = [job for job in apscheduler.get_jobs() if job.id.startswith("digest:")]
    for job in jobs:
        apscheduler.modify_job(job.id, next_run_time=due)
    return len(jobs)


async def serve() -> int:
    name = os.environ["SHARD_WORKER_NAME"]
    discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])
    real, virtual = os.environ["SHARD_WORKER_CLOCK"].split()
    clock = AnchoredClock(float(real), dt.datetime.fromisoformat(virtual))
    rate = float(os.environ.get("SHARD_WORKER_POST_RATE", "45"))
    lifetime = float(os.environ.get("SHARD_WORKER_LIFETIME", "120"))

    settings = load_settings(None)
    service = NewsService(settings)
    service.ensure_index()  # this process's own index.db, built from the corpus
    identity = None
    if os.environ.get("SHARD_WORKER_IDENTITY"):
        host, pid = os.environ["SHARD_WORKER_IDENTITY"].split()
        identity = ProcessIdentity(host, int(pid), f"container-{name}", secrets.token_hex(8))
    admin, background = build_digest_components(
        settings, service, clock=clock, requests_per_second=rate, identity=identity
    )
    scheduler = background[0]
    assert isinstance(scheduler, DigestScheduler)
    bot = WorkerBot(
        settings,
        service,
        digest_admin=admin,
        background=background,
        guild_ready_timeout=0.05,
    )
    bot.http.user_agent += f" technyan-shard-worker/{name}"
    token = settings.discord_token
    assert token, "DISCORD_TOKEN is not set"

    commands = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(commands), sys.stdin
    )
    running = asyncio.create_task(bot.start(token))
    deadline = time.monotonic() + lifetime
    try:
        while not bot.is_ready():
            if running.done():
                running.result()
                raise RuntimeError("the bot stopped before it was ready")
            if time.monotonic() > deadline:
                raise TimeoutError("not ready in time")
            await asyncio.sleep(0.02)
        await scheduler.wait_idle()  # start-up recovery and catch-up
        emit(
            "ready",
            pid=os.getpid(),
            owner=scheduler.owner,
            shards=sorted(bot.shards),
            jobs=sorted(scheduler.jobs()),
        )
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.error("lifetime of %.0f s is over; stopping", lifetime)
                break
            getter = asyncio.ensure_future(commands.readline())
            done, _ = await asyncio.wait(
                {getter, running}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            if running in done:
                getter.cancel()
                running.result()
                raise RuntimeError("the bot stopped on its own")
            if getter not in done:
                getter.cancel()
                continue
            line = getter.result()
            command: dict[str, Any] = json.loads(line) if line.strip() else {"cmd": "stop"}
            log.info("command from the test: %s", command)
            if command.get("cmd") == "fire":
                emit("fired", jobs=fire(scheduler, clock, float(command["at"])))
            elif command.get("cmd") == "stop":
                break
    except Exception as error:
        log.exception("worker %s failed", name)
        emit("error", error=repr(error))
        await bot.close()
        return 1
    await bot.close()
    await asyncio.wait({running}, timeout=10)
    emit("stopped")
    return 0


def main() -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s {os.environ.get('SHARD_WORKER_NAME', '?')}[%(process)d] "
        "%(levelname)s %(name)s: %(message)s",
    )
    return asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
