"""Digest fan-out: many subscriptions due at the same minute, composed and posted through
the fake Discord enforcing Discord's global rate of 50 requests per second.

    python bench/digest_fanout.py [--subscriptions 10000] [--post 10000] [--guilds 100]
                                  [--corpus ../shared/corpus-technyan] [--work bench/out]

Two measurements, each beside a baseline run in the same process:

* compose: the digest of every subscription (locales and zones mixed, 5 stories each)
  through the scheduler, which selects stories once per distinct window and locale and
  shares the selection (``SelectionCache``); baseline: the same digests composed one by
  one without the cache. Seconds, digests per second, ratio.
* post: ``--post`` of those subscriptions are due at 09:00 in Asia/Tokyo; the scheduler's
  catch-up posts them all through a real discord.py client connected to the fake Discord
  (``tests/fakes``), which answers 429 with ``global: true`` above 50 requests per second.
  Printed: seconds until the last digest was posted, messages per second, the floor that
  Discord's limit allows (messages / 50) and the ratio to it, and the 429s the bot
  caused (must be 0). Each digest is checked posted exactly once.

Targets (issue: fast at every size): 10,000 digests composed in ≤ 5 s; posting at the rate
Discord allows, without a global 429.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402
from discord.ext import commands  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.digest import compose_digest, parse_marker, render_digest_messages  # noqa: E402
from bot.discord_app.delivery import DiscordPoster  # noqa: E402
from bot.schedule import DigestScheduler  # noqa: E402
from bot.service import NewsService  # noqa: E402
from bot.state import SqliteStateStore, Subscription  # noqa: E402
from tests.fakes import FakeDiscord  # noqa: E402

TOKYO = "Asia/Tokyo"
ZONES = ("Asia/Tokyo", "Asia/Tokyo", "Asia/Seoul")  # due at the same instant
DIGEST_DAY = dt.date(2026, 2, 8)  # the snapshot's newest day: every digest has stories
TARGET_COMPOSE_SECONDS = 5.0
DISCORD_GLOBAL_RATE = 50.0


class FanOutBot(commands.Bot):
    """A discord.py bot that starts the scheduler once in ``setup_hook`` (like NewsBot)."""

    def __init__(self, scheduler: DigestScheduler) -> None:
        super().__init__(
            command_prefix="!",
            intents=discord.Intents.default(),
            guild_ready_timeout=0.05,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.scheduler = scheduler

    async def setup_hook(self) -> None:
        await self.scheduler.start(self)

    async def close(self) -> None:
        await self.scheduler.stop()
        await super().close()


class FixedClock:
    """The scheduler's clock, set by the benchmark (UTC)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def subscriptions_for(channels: list[tuple[int, int]]) -> list[Subscription]:
    """One subscription per ``(guild id, channel id)``, 09:00 local, locales and zones
    mixed."""
    return [
        Subscription(
            guild_id,
            channel_id,
            "09:00",
            ZONES[index % len(ZONES)],
            "ja" if index % 2 else "en",
            5,
        )
        for index, (guild_id, channel_id) in enumerate(channels)
    ]


def nine_in_tokyo() -> dt.datetime:
    return dt.datetime.combine(DIGEST_DAY, dt.time(9, 0), ZoneInfo(TOKYO)).astimezone(dt.UTC)


def measure_compose(
    scheduler: DigestScheduler, service: NewsService, subscriptions: list[Subscription]
) -> dict[str, float]:
    """Seconds to compose and render every digest with the scheduler (shared selection)
    and without it (baseline: each digest selects its own stories)."""
    end = nine_in_tokyo()
    start = end - dt.timedelta(hours=24)
    started = time.perf_counter()
    for subscription in subscriptions:
        render_digest_messages(scheduler.compose(subscription, start, end))
    shared = time.perf_counter() - started
    sample = subscriptions[: min(len(subscriptions), 300)]
    started = time.perf_counter()
    for subscription in sample:
        render_digest_messages(
            compose_digest(
                service,
                channel_id=subscription.channel_id,
                locale=subscription.locale,
                timezone=subscription.timezone,
                max_items=subscription.max_items,
                post_empty=subscription.post_empty,
                window_start=start,
                window_end=end,
            )
        )
    per_digest = (time.perf_counter() - started) / len(sample)
    return {
        "shared": shared,
        "baseline": per_digest * len(subscriptions),
        "baseline_measured_on": float(len(sample)),
    }


async def measure_posting(
    settings: Any, service: NewsService, guilds: int, total: int
) -> dict[str, float]:
    """Post ``total`` digests due at the same minute through the fake Discord."""
    per_guild = max(1, -(-total // guilds))
    async with FakeDiscord(global_rate_limit=int(DISCORD_GLOBAL_RATE)) as fake:
        channels: list[tuple[int, int]] = []
        for number in range(guilds):
            if len(channels) >= total:
                break
            count = min(per_guild, total - len(channels))
            guild = fake.add_guild(f"guild-{number}", channels=[f"news-{i}" for i in range(count)])
            channels += [(guild.id, channel.id) for channel in guild.channels]
        store = SqliteStateStore(settings.state_path)
        for subscription in subscriptions_for(channels):  # new: nothing to catch up before
            store.save_subscription(subscription, nine_in_tokyo() - dt.timedelta(hours=2))
        clock = FixedClock(nine_in_tokyo() - dt.timedelta(hours=1))
        scheduler = DigestScheduler(
            settings, service, store, poster_factory=DiscordPoster, clock=clock
        )
        bot = FanOutBot(scheduler)
        async with fake.run_bot(bot):
            await scheduler.wait_idle(timeout=60)
            clock.now = nine_in_tokyo()
            since = fake.mark()
            started = time.perf_counter()
            outcomes = await scheduler.catch_up()
            elapsed = time.perf_counter() - started
        posts = [r for r in fake.requests[since:] if r.method == "POST" and "/messages" in r.path]
        once = True  # every channel got its digest, each part exactly once
        for _, channel_id in channels:
            markers = [
                parse_marker(" ".join(e["footer"]["text"] for e in m["embeds"]))
                for m in fake.channel_messages(channel_id)
            ]
            digests = [m for m in markers if m is not None and m.digest_date == DIGEST_DAY]
            once = once and bool(digests) and len(set(digests)) == len(digests)
        return {
            "digests": float(len(channels)),
            "posted_outcomes": float(sum(1 for o in outcomes.values() if o == "posted")),
            "messages": float(len([p for p in posts if p.status == 200])),
            "seconds": elapsed,
            "global_429": float(fake.global_429_count),
            "exactly_once": float(once),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--post", type=int, default=10_000, help="how many to post (0: none)")
    parser.add_argument("--guilds", type=int, default=100)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus-technyan")
    args = parser.parse_args()
    logging.getLogger("bot").setLevel(logging.ERROR)  # one line per digest is the log's job
    if not args.corpus.is_dir():
        print(f"needs the corpus at {args.corpus}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as folder:
        base = load_settings(None, environ={})
        settings = dataclasses.replace(
            base,
            corpus_path=args.corpus.resolve(),
            index_path=Path(folder) / "index.db",
            state_path=Path(folder) / "state.db",
        )
        service = NewsService(settings)
        service.ensure_index()
        compose_store = SqliteStateStore(Path(folder) / "compose.db")
        scheduler = DigestScheduler(settings, service, compose_store, poster_factory=DiscordPoster)
        channels = [(1000 + i // 100, 10_000 + i) for i in range(args.subscriptions)]
        composed = measure_compose(scheduler, service, subscriptions_for(channels))
        posting = (
            asyncio.run(measure_posting(settings, service, args.guilds, args.post))
            if args.post
            else None
        )

    n = args.subscriptions
    print(f"digest fan-out: {n} subscriptions due at 09:00 Asia/Tokyo on {DIGEST_DAY}\n")
    print("| measure | technyan-bot | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    verdict = "PASS" if composed["shared"] <= TARGET_COMPOSE_SECONDS else "FAIL"
    print(
        f"| compose {n} digests (s) | {composed['shared']:.2f} | {composed['baseline']:.1f} "
        f"(one selection per digest, from {int(composed['baseline_measured_on'])}) | "
        f"{composed['baseline'] / composed['shared']:.0f}x faster | ≤ {TARGET_COMPOSE_SECONDS:.0f} "
        f"s: {verdict} |"
    )
    if posting is not None:
        floor = posting["messages"] / DISCORD_GLOBAL_RATE
        rate = posting["messages"] / posting["seconds"]
        ok = posting["global_429"] == 0 and posting["exactly_once"] == 1.0
        print(
            f"| post {int(posting['digests'])} digests ({int(posting['messages'])} messages) "
            f"until the last (s) | {posting['seconds']:.1f} ({rate:.1f} msg/s) | "
            f"{floor:.1f} (Discord's 50/s floor) | {posting['seconds'] / floor:.2f}x the floor | "
            f"no global 429, each once: {'PASS' if ok else 'FAIL'} "
            f"({int(posting['global_429'])} global 429) |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
