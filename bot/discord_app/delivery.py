"""Posting digests to Discord channels: the ``Poster`` of bot/schedule.py over discord.py.

``DiscordPoster`` finds the channel (``bot.get_channel``, else ``await bot.fetch_channel``),
sends with ``AllowedMentions.none()`` (corpus text never pings anyone) and suppressed link
embeds, and reads the bot's own recent messages for recovery. It turns discord.py's errors
into ``DeliveryError`` (docs/DISCORD.md):

* 403 (``discord.Forbidden``; 50001 Missing Access, 50013 Missing Permissions, any other
  403) and 404 Unknown Channel (10003): ``permanent`` — the subscription is paused, since
  the same post would fail again tomorrow. A channel that is not messageable (a category,
  a forum) is permanent too.
* 5xx (``discord.DiscordServerError``, raised after discord.py's own retries of 500, 502,
  504 and 524), a timeout (``send_timeout`` seconds per request) and a dropped connection
  (``aiohttp.ClientError``, ``OSError``): ``retryable``; the scheduler retries with
  backoff.
* 429 — ``discord.RateLimited``, or the ``HTTPException`` discord.py raises when its own
  five attempts all met a 429: ``rate_limited`` with ``retry_after`` (seconds, from the
  response's ``X-RateLimit-Reset-After`` or ``Retry-After``). Discord did not process the
  request; the scheduler always sends it again after that wait, within the grace time.
* Anything else Discord rejects (400 …): neither — the day's digest is recorded as failed.

Pacing. Discord allows a bot 50 requests per second in all, across every process that
uses its token (the global rate limit, docs/topics/rate-limits#global-rate-limit);
interaction responses are exempt and keep their headroom. Every request this poster makes
first waits for its pacer:

* ``SharedRequestBudget`` — what the bot runs with: one budget per bot in the state store
  (``StateStore.reserve_request_slot``), so all its processes together start at most
  ``GLOBAL_REQUESTS_PER_SECOND`` (45) requests a second, on the database's clock. When the
  store does not answer within a second, the process paces itself alone at half that
  rate until it does;
* ``RequestSpacer`` — one process alone: at most ``rate`` starts per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

import aiohttp
import discord
from discord.ext import commands

from bot.digest_delivery import DeliveryError
from bot.state import StateError

__all__ = [
    "GLOBAL_REQUESTS_PER_SECOND",
    "DiscordPoster",
    "RequestPacer",
    "RequestSpacer",
    "SharedRequestBudget",
    "translate_errors",
]

log = logging.getLogger(__name__)

#: Discord's error codes that mean "this will fail again tomorrow" (docs/topics/
#: opcodes-and-status-codes#json-json-error-codes).
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
UNKNOWN_CHANNEL = 10003
#: Requests per second all processes of one bot start together: under Discord's global
#: limit of 50 (docs/topics/rate-limits#global-rate-limit), with room for the bot's
#: other requests.
GLOBAL_REQUESTS_PER_SECOND = 45.0


class RequestPacer(Protocol):
    """Decides when the poster's next request may start."""

    async def wait(self) -> None:
        """Return when the next request may start."""
        ...


class RequestSpacer:
    """Spaces request starts at least ``1 / rate`` seconds apart (so at most ``rate`` start
    in any second). ``clock`` is monotonic seconds; ``sleep`` an ``asyncio.sleep``-like
    coroutine function (both injectable for tests)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may start."""
        async with self._lock:
            now = self._clock()
            if self._next > now:
                await self._sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


class SharedRequestBudget:
    """Discord's global rate limit shared by every process of one bot: each request
    reserves its start in the state store (``reserve(budget, interval)`` returns the
    seconds to wait; ``StateStore.reserve_request_slot``), one every ``1 / rate`` seconds
    across all processes. A reservation that fails or takes longer than ``timeout``
    seconds — or any while ``store_failing()`` says the store is down — falls back to
    ``fallback``, this process's own spacing (default: half the rate)."""

    def __init__(
        self,
        reserve: Callable[[str, float], Awaitable[float]],
        *,
        budget: str,
        rate: float = GLOBAL_REQUESTS_PER_SECOND,
        timeout: float = 1.0,
        fallback: RequestPacer | None = None,
        store_failing: Callable[[], bool] = lambda: False,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.reserve = reserve
        self.budget = budget
        self.interval = 1.0 / rate
        self.timeout = timeout
        self.fallback = fallback or RequestSpacer(rate / 2)
        self.store_failing = store_failing
        self.reserved = 0
        self.fell_back = 0

    async def wait(self) -> None:
        """Return when the next request may start."""
        if not self.store_failing():
            try:
                async with asyncio.timeout(self.timeout):
                    delay = await self.reserve(self.budget, self.interval)
            except (StateError, TimeoutError) as error:
                if not self.fell_back:
                    log.warning(
                        "request budget %s unavailable (%r); pacing alone", self.budget, error
                    )
            else:
                self.reserved += 1
                if delay > 0:
                    await asyncio.sleep(delay)
                return
        self.fell_back += 1
        await self.fallback.wait()


def _retry_after(error: discord.HTTPException) -> float:
    """Seconds a 429 asks to wait (``X-RateLimit-Reset-After``, else ``Retry-After``;
    1 when neither is readable)."""
    headers = getattr(error.response, "headers", None) or {}
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        value = headers.get(name)
        with contextlib.suppress(TypeError, ValueError):
            return max(0.0, float(str(value)))
    return 1.0


@contextlib.contextmanager
def translate_errors(channel_id: int) -> Iterator[None]:
    """Turn discord.py and network errors raised inside into ``DeliveryError`` (see the
    module docstring for the mapping)."""
    try:
        yield
    except DeliveryError:
        raise
    except discord.Forbidden as error:
        reason = {
            MISSING_ACCESS: "missing_access",
            MISSING_PERMISSIONS: "missing_permissions",
        }.get(error.code, f"forbidden_{error.code}")
        raise DeliveryError(reason, error.text, permanent=True) from error
    except discord.NotFound as error:
        if error.code == UNKNOWN_CHANNEL:
            raise DeliveryError("unknown_channel", error.text, permanent=True) from error
        raise DeliveryError(f"not_found_{error.code}", error.text) from error
    except discord.DiscordServerError as error:
        raise DeliveryError(
            "server_error", f"{error.status} {error.text}", retryable=True
        ) from error
    except discord.RateLimited as error:
        raise DeliveryError(
            "rate_limited",
            f"retry after {error.retry_after:.1f} s",
            retryable=True,
            retry_after=error.retry_after,
        ) from error
    except discord.HTTPException as error:
        if error.status == 429:
            wait = _retry_after(error)
            raise DeliveryError(
                "rate_limited", f"429 {error.text}; retry after {wait:.1f} s", retry_after=wait
            ) from error
        raise DeliveryError("rejected", f"{error.status} {error.code}: {error.text}") from error
    except TimeoutError as error:
        raise DeliveryError("timeout", f"channel {channel_id}", retryable=True) from error
    except (aiohttp.ClientError, OSError) as error:
        raise DeliveryError("connection", repr(error), retryable=True) from error


class DiscordPoster:
    """``Poster`` over a logged-in discord.py bot (see the module docstring).

    ``send_timeout`` bounds each request in seconds (discord.py's own 5xx retries and 429
    waits happen inside it); ``spacer`` paces every request (default: a ``RequestSpacer``
    of ``requests_per_second``, for one process alone; the bot passes its
    ``SharedRequestBudget``).
    """

    def __init__(
        self,
        bot: commands.Bot | commands.AutoShardedBot,
        *,
        send_timeout: float = 90.0,
        requests_per_second: float = 40.0,
        spacer: RequestPacer | None = None,
    ) -> None:
        self.bot = bot
        self.send_timeout = send_timeout
        self.spacer: RequestPacer = spacer or RequestSpacer(requests_per_second)

    async def _channel(self, channel_id: int) -> discord.abc.Messageable:
        channel: Any = self.bot.get_channel(channel_id)
        if channel is None:
            await self.spacer.wait()
            channel = await asyncio.wait_for(self.bot.fetch_channel(channel_id), self.send_timeout)
        if not isinstance(channel, discord.abc.Messageable):
            raise DeliveryError(
                "not_messageable", f"{type(channel).__name__} {channel_id}", permanent=True
            )
        return channel

    async def send(self, channel_id: int, content: str, *, nonce: int) -> int:
        """Post ``content`` in the channel; returns the message id. Raises
        ``DeliveryError``."""
        with translate_errors(channel_id):
            channel = await self._channel(channel_id)
            await self.spacer.wait()
            message = await asyncio.wait_for(
                channel.send(
                    content,
                    allowed_mentions=discord.AllowedMentions.none(),
                    suppress_embeds=True,
                    nonce=nonce,
                ),
                self.send_timeout,
            )
        return message.id

    async def own_messages(self, channel_id: int, limit: int) -> list[tuple[int, str]]:
        """``(id, content)`` of the bot's messages among the ``limit`` newest of the
        channel (one request up to 100). Raises ``DeliveryError`` (403 here means the bot
        cannot read the channel, which is permanent like a post's 403)."""
        me = self.bot.user

        async def read(channel: discord.abc.Messageable) -> list[tuple[int, str]]:
            return [
                (message.id, message.content)
                async for message in channel.history(limit=limit)
                if me is not None and message.author.id == me.id
            ]

        with translate_errors(channel_id):
            channel = await self._channel(channel_id)
            await self.spacer.wait()
            return await asyncio.wait_for(read(channel), self.send_timeout)
