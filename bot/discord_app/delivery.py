"""Posting digests to Discord: the ``Poster`` of bot/digest_delivery.py over discord.py.

``DiscordPoster`` finds the channel (``bot.get_channel``, else ``await
bot.fetch_channel``) and posts each ``DigestMessage`` as ``message_options`` renders it —
the one conversion ``/digest preview`` uses too, so the preview is the post. By kind
(bot/discord_app/digest_targets.py): a text channel or a thread gets the message; an
announcement channel too, then publishes it to following channels when asked
(``Message.publish``, docs/resources/message#crosspost-message; a refused publish is
logged, the digest stays posted); a forum channel gets a new post titled with the day for
part 1 (``ForumChannel.create_thread``, docs/resources/channel#start-thread-in-forum-or-
media-channel; the post's id is its first message's) and later parts inside that post.
Before posting it checks the bot's permissions there from the cache (no request): a
missing one is a permanent ``missing_permissions:<names>``. Mentions: only the message's
``mention_role_id`` may ping (``AllowedMentions`` naming that one role), so corpus text
never pings anyone. ``own_messages`` reads the bot's recent messages (content and embed
footers, where the marker is), in a forum those of its newest posts, for recovery;
``tell_guild`` DMs the admin who subscribed, else writes in the guild's system channel.

It turns discord.py's errors into ``DeliveryError`` (docs/DISCORD.md):

* 403 (``discord.Forbidden``; 50001 Missing Access, 50013 Missing Permissions, any other
  403) and 404 Unknown Channel (10003): ``permanent`` — the subscription is paused, since
  the same post would fail again tomorrow. A channel a digest cannot go to (a category, a
  voice channel) is permanent too.
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

from bot.digest import DigestMessage
from bot.digest_delivery import DeliveryError
from bot.digest_notices import permissions_reason
from bot.discord_app.digest_targets import missing_permissions, target_kind
from bot.state import StateError

__all__ = [
    "GLOBAL_REQUESTS_PER_SECOND",
    "DiscordPoster",
    "RequestPacer",
    "RequestSpacer",
    "SharedRequestBudget",
    "message_options",
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
#: A forum's newest posts by the bot read for recovery.
RECENT_POSTS = 5


def message_options(message: DigestMessage) -> dict[str, Any]:
    """The keyword arguments of discord.py's ``send`` (and ``create_thread``, and an
    interaction followup) for one digest message: ``content``, one ``embed`` and the
    ``allowed_mentions`` that let only its role ping (``AllowedMentions.none()`` without
    one). The scheduled post, the test post and ``/digest preview`` all use it."""
    embed = discord.Embed(
        title=message.title,
        description=message.description or None,
        colour=message.colour,
        timestamp=message.timestamp,
    )
    embed.set_footer(text=message.footer)
    if message.mention_role_id:
        allowed = discord.AllowedMentions(
            everyone=False,
            users=False,
            roles=[discord.Object(message.mention_role_id)],
            replied_user=False,
        )
    else:
        allowed = discord.AllowedMentions.none()
    return {"content": message.content or None, "embed": embed, "allowed_mentions": allowed}


def _footers(message: discord.Message) -> str:
    """What a digest's marker may be in: the content and every embed's footer."""
    return "\n".join([message.content, *(e.footer.text or "" for e in message.embeds)])


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
        self.fell_back = 0
        self._alone = False

    async def wait(self) -> None:
        """Return when the next request may start. Each time the budget stops answering
        is logged (a warning), and each time it answers again (info)."""
        if not self.store_failing():
            try:
                async with asyncio.timeout(self.timeout):
                    delay = await self.reserve(self.budget, self.interval)
            except (StateError, TimeoutError) as error:
                if not self._alone:
                    log.warning(
                        "request budget %s unavailable (%r); pacing alone", self.budget, error
                    )
            else:
                if self._alone:
                    log.info("request budget %s answers again; pacing shared", self.budget)
                    self._alone = False
                if delay > 0:
                    await asyncio.sleep(delay)
                return
        self._alone = True
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

    async def _channel(self, channel_id: int) -> Any:
        """The channel or thread ``channel_id`` (from the cache, else fetched)."""
        channel: Any = self.bot.get_channel(channel_id)
        if channel is None:
            await self.spacer.wait()
            channel = await asyncio.wait_for(self.bot.fetch_channel(channel_id), self.send_timeout)
        return channel

    async def _target(self, channel_id: int) -> tuple[Any, str]:
        """The channel and its kind; raises a permanent ``DeliveryError`` for a channel a
        digest cannot go to, or (from the cached guild) lacking a permission."""
        channel = await self._channel(channel_id)
        kind = target_kind(channel)
        if kind is None:
            raise DeliveryError(
                "not_messageable", f"{type(channel).__name__} {channel_id}", permanent=True
            )
        guild = getattr(channel, "guild", None)
        me = guild.me if guild is not None else None
        if me is not None:
            try:
                missing = missing_permissions(kind, channel.permissions_for(me))
            except discord.ClientException:  # a thread whose parent is not cached
                missing = ()
            if missing:
                raise DeliveryError(permissions_reason(missing), ", ".join(missing), permanent=True)
        return channel, kind

    async def send(
        self,
        channel_id: int,
        message: DigestMessage,
        *,
        nonce: int,
        first_part: int | None = None,
        publish: bool = False,
    ) -> int:
        """Post one digest message (see the module docstring); returns its id. Raises
        ``DeliveryError``."""
        options = message_options(message)
        with translate_errors(channel_id):
            channel, kind = await self._target(channel_id)
            if kind == "forum":
                if first_part is None:  # part 1 opens the post
                    await self.spacer.wait()
                    created = await asyncio.wait_for(
                        channel.create_thread(name=message.post_title, **options),
                        self.send_timeout,
                    )
                    return int(created.message.id)
                channel = await self._channel(first_part)
            await self.spacer.wait()
            posted = await asyncio.wait_for(channel.send(**options, nonce=nonce), self.send_timeout)
        if publish and kind == "announcement":
            await self._publish(channel_id, posted)
        return int(posted.id)

    async def _publish(self, channel_id: int, message: discord.Message) -> None:
        """Publish ``message`` to the channels following its announcement channel; a
        refusal is logged (the digest is posted all the same)."""
        try:
            await self.spacer.wait()
            await asyncio.wait_for(message.publish(), self.send_timeout)
        except (discord.HTTPException, TimeoutError) as error:
            log.warning("digest in channel %s posted but not published: %s", channel_id, error)

    async def own_messages(self, channel_id: int, limit: int) -> list[tuple[int, str]]:
        """``(id, text)`` of the bot's messages among the ``limit`` newest of the channel
        (one request up to 100), ``text`` being the content and embed footers; in a forum,
        of the bot's ``RECENT_POSTS`` newest posts. Raises ``DeliveryError`` (a 403, or a
        permission the cache shows missing, is permanent like a post's)."""
        me = self.bot.user

        async def read(channel: Any) -> list[tuple[int, str]]:
            await self.spacer.wait()
            return [
                (message.id, _footers(message))
                async for message in channel.history(limit=limit)
                if me is not None and message.author.id == me.id
            ]

        with translate_errors(channel_id):
            # Without Read Message History Discord answers an empty history: never take
            # that for "nothing was posted" (the permission check raises first).
            channel, kind = await self._target(channel_id)
            if kind != "forum":
                return await asyncio.wait_for(read(channel), self.send_timeout)
            found: list[tuple[int, str]] = []
            for post in await self._recent_posts(channel):
                found += await asyncio.wait_for(read(post), self.send_timeout)
            return found

    async def _recent_posts(self, forum: discord.ForumChannel) -> list[discord.Thread]:
        """The bot's newest posts in ``forum``: its active ones and the newest archived."""
        me = self.bot.user
        await self.spacer.wait()
        active = await asyncio.wait_for(forum.guild.active_threads(), self.send_timeout)
        posts = {t.id: t for t in active if t.parent_id == forum.id}
        await self.spacer.wait()

        async def archived() -> None:
            async for thread in forum.archived_threads(limit=RECENT_POSTS):
                posts.setdefault(thread.id, thread)

        await asyncio.wait_for(archived(), self.send_timeout)
        mine = [t for t in posts.values() if me is not None and t.owner_id == me.id]
        return sorted(mine, key=lambda thread: thread.id, reverse=True)[:RECENT_POSTS]

    async def tell_guild(self, guild_id: int, user_id: int | None, text: str) -> str | None:
        """Send ``text`` to ``user_id`` by DM, else to the guild's system channel when the
        bot may write there. Returns ``dm``, ``system_channel`` or None. Never raises."""
        quiet = discord.AllowedMentions.none()
        if user_id is not None:
            try:
                user = self.bot.get_user(user_id)
                if user is None:
                    await self.spacer.wait()
                    user = await asyncio.wait_for(self.bot.fetch_user(user_id), self.send_timeout)
                await self.spacer.wait()
                await asyncio.wait_for(user.send(text, allowed_mentions=quiet), self.send_timeout)
                return "dm"
            except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
                log.info("could not DM user %s about guild %s: %s", user_id, guild_id, error)
        guild = self.bot.get_guild(guild_id)
        channel = guild.system_channel if guild is not None else None
        if guild is None or channel is None:
            return None
        if not channel.permissions_for(guild.me).send_messages:
            return None
        try:
            await self.spacer.wait()
            await asyncio.wait_for(channel.send(text, allowed_mentions=quiet), self.send_timeout)
        except (discord.HTTPException, TimeoutError, aiohttp.ClientError, OSError) as error:
            log.info("could not tell guild %s in its system channel: %s", guild_id, error)
            return None
        return "system_channel"
