"""What each way Discord can refuse or fail a digest post becomes (``DeliveryError``):
permanent (the subscription pauses), retryable (the scheduler tries again), rate limited
(sent again after the wait Discord asked for) or rejected (the day is recorded as failed).
The real ``DiscordPoster`` posts through discord.py to the fake Discord, which answers as
Discord does."""

from __future__ import annotations

import asyncio
import datetime as dt
import types
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from bot.digest import DigestMessage
from bot.digest_delivery import DeliveryError
from bot.discord_app import delivery
from bot.discord_app.delivery import (
    DiscordPoster,
    RequestSpacer,
    SharedRequestBudget,
    translate_errors,
)
from bot.discord_app.digest_targets import target_kind
from tests.digest_support import DigestBot
from tests.fakes import FakeDiscord


def digest_message(description: str = "Gemini 3 is out, nya.") -> DigestMessage:
    return DigestMessage(
        content="今日のAIニュースだにゃ",
        title="AI news · 2025-11-18",
        description=description,
        footer="technyan-digest 2025-11-18 1/1",
        colour=0xF5A623,
        timestamp=dt.datetime(2025, 11, 18, 0, 0, tzinfo=dt.UTC),
        mention_role_id=None,
        post_title="2025-11-18",
        part=1,
        total=1,
    )


@pytest.fixture
async def world() -> AsyncIterator[tuple[FakeDiscord, DigestBot]]:
    async with FakeDiscord() as fake:
        bot = DigestBot([])
        async with fake.run_bot(bot):
            yield fake, bot


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """discord.py's own waits between its retries of a 5xx (1, 3, 5, 7 and 9 s) taken at
    once; everything else about them is kept."""
    real_sleep = asyncio.sleep

    async def no_wait(delay: float, *arguments: Any) -> Any:
        return await real_sleep(0, *arguments)

    shim = types.SimpleNamespace(**{n: getattr(asyncio, n) for n in dir(asyncio)})
    shim.sleep = no_wait
    monkeypatch.setattr(discord.http, "asyncio", shim)


async def post(bot: DigestBot, channel_id: int, message: DigestMessage | None = None,
               *, send_timeout: float = 60.0) -> DeliveryError:  # fmt: skip
    """Post one message with the real poster; the ``DeliveryError`` it must raise."""
    poster = DiscordPoster(bot, send_timeout=send_timeout, spacer=RequestSpacer(1000.0))
    with pytest.raises(DeliveryError) as raised:
        await poster.send(channel_id, message or digest_message(), nonce=1)
    return raised.value


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("missing_access", "missing_access"),
        ("missing_permissions", "missing_permissions"),
        ("unknown_channel", "unknown_channel"),
    ],
)
async def test_a_refused_channel_is_permanent(
    world: tuple[FakeDiscord, DigestBot], fault: Any, reason: str
) -> None:
    fake, bot = world
    fake.fault(fake.channel.id, fault)
    error = await post(bot, fake.channel.id)
    assert (error.reason, error.permanent, error.retryable) == (reason, True, False)
    assert fake.channel_messages(fake.channel.id) == []


@pytest.mark.usefixtures("quick_retries")
async def test_a_5xx_that_outlasts_discord_pys_retries_is_retryable(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    fake.fault(fake.channel.id, "server_error", status=502, times=5)
    error = await post(bot, fake.channel.id)
    assert (error.reason, error.permanent, error.retryable) == ("server_error", False, True)
    assert error.detail.startswith("502")
    posts = [r for r in fake.requests if r.route == "POST /channels/{channel_id}/messages"]
    assert [r.status for r in posts] == [502] * 5  # discord.py tried five times


@pytest.mark.usefixtures("quick_retries")
async def test_a_5xx_that_passes_within_discord_pys_retries_is_posted(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    fake.fault(fake.channel.id, "server_error", times=2)
    poster = DiscordPoster(bot, send_timeout=60.0, spacer=RequestSpacer(1000.0))
    message_id = await poster.send(fake.channel.id, digest_message(), nonce=7)
    [posted] = fake.channel_messages(fake.channel.id)
    assert int(posted["id"]) == message_id


async def test_429s_beyond_discord_pys_attempts_are_rate_limited_with_the_wait_asked(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    fake.fault(fake.channel.id, "rate_limited", times=5, retry_after=0.05)
    error = await post(bot, fake.channel.id)
    assert error.reason == "rate_limited" and not error.permanent
    assert error.retry_after == pytest.approx(0.05)
    assert fake.channel_messages(fake.channel.id) == []


async def test_a_message_discord_rejects_is_neither_permanent_nor_retried(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    too_long = digest_message(description="x" * 5000)  # an embed holds 4096 characters
    error = await post(bot, fake.channel.id, too_long)
    assert (error.reason, error.permanent, error.retryable) == ("rejected", False, False)
    assert error.detail.startswith("400 50035")
    assert error.retry_after is None


async def test_a_post_that_gets_no_answer_times_out_and_is_retryable(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    held = fake.hold(channel_id=fake.channel.id)
    try:
        error = await post(bot, fake.channel.id, send_timeout=0.5)
    finally:
        held.release()
    assert (error.reason, error.retryable, error.permanent) == ("timeout", True, False)
    assert str(fake.channel.id) in error.detail


async def test_a_dropped_connection_is_retryable(world: tuple[FakeDiscord, DigestBot]) -> None:
    fake, bot = world
    fake.fault(fake.channel.id, "disconnect")
    error = await post(bot, fake.channel.id)
    assert (error.reason, error.retryable, error.permanent) == ("connection", True, False)


async def test_a_channel_a_digest_cannot_go_to_is_permanent(
    world: tuple[FakeDiscord, DigestBot],
) -> None:
    fake, bot = world
    category = fake.add_channel(fake.guild, "news-category", type=4)
    error = await post(bot, category.id)
    assert (error.reason, error.permanent) == ("not_messageable", True)


class FakeResponse:
    """What discord.py's exceptions read from an aiohttp response."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.reason = "reason"
        self.headers = headers or {}


@pytest.mark.parametrize(
    ("raised", "reason", "permanent", "retryable", "retry_after"),
    [
        (discord.Forbidden(FakeResponse(403), {"code": 50001, "message": "Missing Access"}),
         "missing_access", True, False, None),
        (discord.Forbidden(FakeResponse(403), {"code": 50013, "message": "Missing Permissions"}),
         "missing_permissions", True, False, None),
        (discord.Forbidden(FakeResponse(403), {"code": 20001, "message": "Bots cannot"}),
         "forbidden_20001", True, False, None),
        (discord.NotFound(FakeResponse(404), {"code": 10003, "message": "Unknown Channel"}),
         "unknown_channel", True, False, None),
        (discord.NotFound(FakeResponse(404), {"code": 10008, "message": "Unknown Message"}),
         "not_found_10008", False, False, None),
        (discord.DiscordServerError(FakeResponse(503), "busy"), "server_error", False, True, None),
        (discord.RateLimited(12.5), "rate_limited", False, True, 12.5),
        (discord.HTTPException(FakeResponse(429, {"Retry-After": "3"}), "slow down"),
         "rate_limited", False, False, 3.0),
        (discord.HTTPException(FakeResponse(429, {"X-RateLimit-Reset-After": "0.25",
                                                  "Retry-After": "1"}), "slow down"),
         "rate_limited", False, False, 0.25),
        (discord.HTTPException(FakeResponse(429), "slow down"), "rate_limited", False, False, 1.0),
        (discord.HTTPException(FakeResponse(400), {"code": 50035, "message": "Invalid Form"}),
         "rejected", False, False, None),
        (TimeoutError(), "timeout", False, True, None),
        (aiohttp.ServerDisconnectedError(), "connection", False, True, None),
        (ConnectionResetError(104, "reset by peer"), "connection", False, True, None),
    ],
)  # fmt: skip
def test_every_error_of_discord_py_and_the_network_has_its_outcome(
    raised: BaseException, reason: str, permanent: bool, retryable: bool,
    retry_after: float | None,
) -> None:  # fmt: skip
    with pytest.raises(DeliveryError) as caught, translate_errors(42):
        raise raised
    error = caught.value
    assert (error.reason, error.permanent, error.retryable) == (reason, permanent, retryable)
    assert error.retry_after == retry_after
    assert error.__cause__ is raised


def test_a_delivery_error_passes_unchanged_and_other_errors_are_not_swallowed() -> None:
    original = DeliveryError("missing_permissions:embed_links", "Embed Links", permanent=True)
    with pytest.raises(DeliveryError) as caught, translate_errors(42):
        raise original
    assert caught.value is original
    with pytest.raises(ZeroDivisionError), translate_errors(42):
        raise ZeroDivisionError


# --------------------------------------------------------------------------- pacing


async def test_a_spacer_starts_requests_one_interval_apart() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    spacer = RequestSpacer(10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        await spacer.wait()
    assert slept == [0.1, 0.1]  # the first at once, then every 0.1 s
    now[0] += 5.0  # idle for a while: the next starts at once
    await spacer.wait()
    assert slept == [0.1, 0.1]


async def test_the_shared_budget_reserves_in_the_store_and_waits_what_it_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reserved: list[tuple[str, float]] = []
    waits = iter([0.0, 0.5, 0.0])

    async def reserve(budget: str, interval: float) -> float:
        reserved.append((budget, interval))
        return next(waits)

    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    shim = types.SimpleNamespace(**{n: getattr(asyncio, n) for n in dir(asyncio)})
    shim.sleep = sleep
    monkeypatch.setattr(delivery, "asyncio", shim)
    fallback = CountingPacer()
    budget = SharedRequestBudget(reserve, budget="bot", rate=40.0, fallback=fallback)
    for _ in range(3):
        await budget.wait()
    assert reserved == [("bot", 0.025)] * 3
    assert slept == [0.5]
    assert (budget.fell_back, fallback.waits) == (0, 0)


class CountingPacer:
    """A fallback pacer that counts its waits."""

    def __init__(self) -> None:
        self.waits = 0

    async def wait(self) -> None:
        self.waits += 1


async def test_the_shared_budget_paces_alone_while_the_store_fails_or_hangs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.state import StateUnavailable

    calls: list[str] = []
    failing = True

    async def reserve(budget: str, interval: float) -> float:
        calls.append(budget)
        if len(calls) == 1:
            raise StateUnavailable("database is locked")
        await asyncio.Event().wait()  # never answers
        return 0.0

    fallback = CountingPacer()
    budget = SharedRequestBudget(
        reserve, budget="bot", timeout=0.05, fallback=fallback, store_failing=lambda: failing
    )
    await budget.wait()  # the store is known to be down: no reservation is tried
    assert (calls, fallback.waits) == ([], 1)
    failing = False
    with caplog.at_level("WARNING", logger="bot.discord_app.delivery"):
        await budget.wait()  # refused
        await budget.wait()  # no answer within the timeout
    assert len(calls) == 2 and fallback.waits == 3
    assert budget.fell_back == 3
    assert caplog.text.count("pacing alone") == 0  # said once, when it first fell back


async def test_the_shared_budget_says_once_that_it_paces_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.state import StateUnavailable

    async def reserve(budget: str, interval: float) -> float:
        raise StateUnavailable("database is locked")

    budget = SharedRequestBudget(reserve, budget="bot", fallback=CountingPacer())
    with caplog.at_level("WARNING", logger="bot.discord_app.delivery"):
        for _ in range(3):
            await budget.wait()
    assert caplog.text.count("request budget bot unavailable") == 1
    assert budget.fell_back == 3


def test_a_429_without_readable_headers_waits_one_second() -> None:
    class Bare:
        status = 429
        reason = "Too Many Requests"

    error = discord.HTTPException(Bare(), "slow down")  # type: ignore[arg-type]
    with pytest.raises(DeliveryError) as caught, translate_errors(42):
        raise error
    assert caught.value.retry_after == 1.0


def test_only_channels_a_digest_can_go_to_have_a_kind() -> None:
    assert target_kind(object()) is None  # no type at all
