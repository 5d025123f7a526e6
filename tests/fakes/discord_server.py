"""A fake Discord (REST API + gateway websocket) that a real discord.py client connects to.

The fake is an aiohttp app on 127.0.0.1 (random free port). Inside ``async with
FakeDiscord() as fake`` discord.py is patched to talk to it (``Route.BASE`` and
``DiscordWebSocket.DEFAULT_GATEWAY``; both restored on exit), so a real ``commands.Bot`` or
``AutoShardedBot`` logs in, IDENTIFYs, receives READY and GUILD_CREATE, and then handles
INTERACTION_CREATE / MESSAGE_CREATE events that the test dispatches with the builders below.

Every REST request is recorded in :attr:`FakeDiscord.requests` (method, path, route template,
JSON body, uploaded files, status returned). The fake rejects what Discord rejects (limits in
docs/DISCORD.md) with Discord's HTTP status and error code, and can inject per-channel faults
(403/404/429/5xx) and a global rate limit.

Typical use::

    async with FakeDiscord() as fake, fake.run_bot(bot):
        it = await fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
        await it.wait_until(lambda i: i.content is not None)
        assert "DeepSeek" in it.content

discord.py details worth knowing when writing tests against this fake:

* JSON responses must carry exactly ``content-type: application/json`` (no charset), or
  discord.py treats the body as text.
* A 429 must carry a ``Via`` header, or discord.py assumes a Cloudflare ban and raises.
* ``on_ready`` fires ``guild_ready_timeout`` seconds (default 2 s) after the last GUILD_CREATE;
  pass ``guild_ready_timeout=0.05`` to the client in tests.
* Every IDENTIFY except the first sleeps 5 s in ``Client.before_identify_hook`` (re-identify
  after an invalid session, every shard after the first); override it in tests.
* discord.py retries 500/502/504 itself, sleeping 1 s, 3 s, 5 s ... between attempts.
* Import as ``from tests.fakes import FakeDiscord``: that needs the repo root on ``sys.path``
  (``python -m pytest`` adds it; plain ``pytest`` needs ``pythonpath = ["."]``).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import yarl
from aiohttp import web

from .permissions import (
    EMBED_LINKS,
    MANAGE_MESSAGES,
    MENTION_EVERYONE,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    FakeRole,
    Overwrite,
    PermissionSubject,
    channel_permissions,
)

__all__ = [
    "DEADLINE_SECONDS",
    "DEFAULT_MEMBER_PERMISSIONS",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeRole",
    "FakeUser",
    "FaultKind",
    "GatewayFrame",
    "HeldRequests",
    "RecordedFile",
    "RecordedRequest",
    "fake_discord",
    "fake_discord_server",
]

JSON = dict[str, Any]
FaultKind = Literal[
    "missing_access",
    "missing_permissions",
    "unknown_channel",
    "rate_limited",
    "server_error",
    "disconnect",
]
T = TypeVar("T")

DISCORD_EPOCH_MS = 1_420_070_400_000
#: How long a wait for the bot gives up after, by default: it returns as soon as what it
#: waits for happens, so the deadline only ends a test that is failing anyway; generous,
#: so a loaded machine never fails one that would pass.
DEADLINE_SECONDS = 60.0
API_VERSION = 10

# Permission bits (https://discord.com/developers/docs/topics/permissions; the ones
# channels are judged by live in .permissions).
ATTACH_FILES = 1 << 15
USE_EXTERNAL_EMOJIS = 1 << 18
ADD_REACTIONS = 1 << 6
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
#: What an ordinary member may do in a channel (no manage_guild, no administrator).
DEFAULT_MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
)
DEFAULT_BOT_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS | SEND_MESSAGES_IN_THREADS

# Channel types (docs/resources/channel#channel-object-channel-types).
TEXT, DM, ANNOUNCEMENT = 0, 1, 5
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, FORUM = 10, 11, 12, 15
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
#: A forum's flag: every post needs a tag
#: (docs/resources/channel#channel-object-channel-flags).
REQUIRE_TAG = 1 << 4
#: A message's flag: published to following channels
#: (docs/resources/message#message-object-message-flags).
FLAG_CROSSPOSTED = 1 << 0

# Gateway intents that must be enabled in the developer portal.
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_COMPONENTS_V2 = 1 << 15

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


# --------------------------------------------------------------------------- data types


@dataclass
class FakeUser:
    """A Discord user known to the fake."""

    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    accepts_dms: bool = True

    def payload(self) -> JSON:
        """The user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    @property
    def mention(self) -> str:
        """``<@id>``."""
        return f"<@{self.id}>"


@dataclass
class FakeChannel:
    """A channel: guild text (type 0), announcement (5), forum (15), a thread (10, 11, 12;
    ``parent_id`` its channel, ``owner_id`` who started it) or a DM (1). ``overwrites``
    are its permission overwrites (a thread uses its parent's)."""

    id: int
    name: str
    guild_id: int | None
    type: int = TEXT
    position: int = 0
    recipient: FakeUser | None = None
    parent_id: int | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    require_tag: bool = False
    tags: list[str] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        """True for a thread (or a forum post)."""
        return self.type in THREAD_TYPES

    def payload(self) -> JSON:
        """The channel object as Discord sends it."""
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.recipient.payload()] if self.recipient else [],
            }
        if self.is_thread:
            return {
                "id": str(self.id),
                "type": self.type,
                "guild_id": str(self.guild_id),
                "name": self.name,
                "parent_id": str(self.parent_id),
                "owner_id": str(self.owner_id),
                "last_message_id": None,
                "rate_limit_per_user": 0,
                "message_count": 0,
                "member_count": 1,
                "flags": 0,
                "thread_metadata": {
                    "archived": self.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": _now_iso(),
                    "locked": self.locked,
                },
            }
        payload: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.payload() for o in self.overwrites],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if self.type == FORUM:
            payload["flags"] = REQUIRE_TAG if self.require_tag else 0
            payload["available_tags"] = [
                {"id": str(1000 + i), "name": tag, "moderated": False, "emoji_id": None,
                 "emoji_name": None}
                for i, tag in enumerate(self.tags)
            ]  # fmt: skip
            payload["default_auto_archive_duration"] = 1440
        return payload


@dataclass
class FakeGuild:
    """A guild the bot is in. ``bot_permissions`` becomes the bot role and ``app_permissions``."""

    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    preferred_locale: str = "ja"
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS
    bot_role_id: int = 0
    roles: list[FakeRole] = field(default_factory=list)
    system_channel_id: int | None = None

    @property
    def channel(self) -> FakeChannel:
        """The first channel."""
        return self.channels[0]


#: An option's value in :meth:`FakeDiscord.slash`: a channel or a role is sent as Discord
#: sends them (an id, with the object in ``data.resolved``).
OptionValue = str | int | float | bool | FakeChannel | FakeRole


@dataclass
class RecordedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the fake answered.

    ``path`` has no ``/api/v10`` prefix; ``route`` is the template that matched, e.g.
    ``"POST /channels/{channel_id}/messages"`` (``""`` for unknown routes); ``params`` holds
    the template's values (strings). ``json`` is the JSON body, or ``payload_json`` of a
    multipart request. ``user_agent`` is the client's ``User-Agent`` header (tests that run
    several bot processes against one fake tell them apart by it).
    """

    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[RecordedFile]
    status: int
    response: Any
    at: float
    user_agent: str = ""

    @property
    def code(self) -> int | None:
        """Discord's error code of the response, if it was an error."""
        if isinstance(self.response, dict) and self.status >= 400:
            code = self.response.get("code")
            return int(code) if code is not None else None
        return None


@dataclass
class HeldRequests:
    """Requests the fake leaves unanswered, as a slow Discord would, until ``release()``
    (see :meth:`FakeDiscord.hold`). ``waiting`` counts the requests held right now."""

    route: str
    channel_id: int | None
    after: int
    released: asyncio.Event = field(default_factory=asyncio.Event)
    seen: int = 0
    waiting: int = 0

    def matches(self, route: str, params: Mapping[str, str]) -> bool:
        if route != self.route:
            return False
        return self.channel_id is None or params.get("channel_id") == str(self.channel_id)

    def release(self) -> None:
        """Answer the held requests and every later one."""
        self.released.set()


@dataclass
class GatewayFrame:
    """One gateway frame; ``direction`` is ``"send"`` (fake → bot) or ``"recv"``."""

    direction: Literal["send", "recv"]
    shard_id: int
    op: int
    t: str | None
    s: int | None
    d: Any


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int | None  # None: until cleared
    retry_after: float
    status: int


@dataclass
class FakeInteraction:
    """An interaction the fake dispatched, and what the user saw of the bot's answer.

    ``original`` is the message the first response created or (for a component interaction
    answered with type 6/7) the message the component was on; edits to ``@original`` change it
    in place. The first followup after a type-5 defer fills the "thinking" original, as Discord
    does; later followups are new messages in ``followups``.
    """

    id: int
    token: str
    type: int
    payload: JSON
    dispatched_at: float
    fake: FakeDiscord = field(repr=False)
    response_type: int | None = None
    callbacks: list[JSON] = field(default_factory=list)
    original: JSON | None = None
    followups: list[JSON] = field(default_factory=list)
    choices: list[JSON] | None = None
    modal: JSON | None = None
    expired: bool = False
    token_expired: bool = False

    @property
    def acknowledged(self) -> bool:
        """Whether a callback was accepted."""
        return self.response_type is not None

    @property
    def loading(self) -> bool:
        """True while the original response is a deferred "thinking…" message."""
        return self.original is not None and bool(self.original["flags"] & FLAG_LOADING)

    @property
    def content(self) -> str | None:
        """Content of the original response (``None`` if there is none)."""
        return None if self.original is None else str(self.original["content"])

    @property
    def embeds(self) -> list[JSON]:
        """Embeds of the original response."""
        return [] if self.original is None else list(self.original["embeds"])

    @property
    def components(self) -> list[JSON]:
        """Components of the original response."""
        return [] if self.original is None else list(self.original["components"])

    @property
    def ephemeral(self) -> bool:
        """Whether the original response carries flag 64 (only the invoking user sees it)."""
        return self.original is not None and bool(self.original["flags"] & FLAG_EPHEMERAL)

    @property
    def messages(self) -> list[JSON]:
        """Every message the user saw for this interaction: original, then followups."""
        return ([self.original] if self.original is not None else []) + self.followups

    async def wait_until(
        self, predicate: Callable[[FakeInteraction], bool], timeout: float = DEADLINE_SECONDS
    ) -> FakeInteraction:
        """Wait until ``predicate(self)`` holds (re-checked after every request/frame)."""
        await self.fake.wait_until(lambda: predicate(self), timeout)
        return self

    async def wait_acknowledged(self, timeout: float = DEADLINE_SECONDS) -> FakeInteraction:
        """Wait until a callback was accepted (any type)."""
        return await self.wait_until(lambda i: i.acknowledged, timeout)


@dataclass
class _Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Session:
    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    events: list[JSON] = field(default_factory=list)
    conn: _Conn | None = None
    valid: bool = True
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class _Conn:
    ws: web.WebSocketResponse
    path: str
    session: _Session | None = None
    shard_id: int = 0


class _Changed:
    """Lets waiters re-check a condition whenever the fake's state changes (and every 20 ms)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def pulse(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, cond: Callable[[], T | None], timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = cond()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            # Also poll: conditions on the bot's own state change without a request/frame.
            event = self._event
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.02))


# --------------------------------------------------------------------------- helpers


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _error(code: str, message: str) -> JSON:
    return {"_errors": [{"code": code, "message": message}]}


def _max_len(limit: int) -> JSON:
    return _error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _discord_error(status: int, code: int, message: str, errors: JSON | None = None) -> _Reply:
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return _Reply(status, body)


def _invalid_form_body(errors: JSON) -> _Reply:
    return _discord_error(400, 50035, "Invalid Form Body", errors)


#: What Discord accepts as an embed's ``url``: an absolute http(s) URL without spaces,
#: quotes or angle brackets (Discord answers others with 50035 "Not a well formed URL").
_WELL_FORMED_URL = re.compile(r"https?://[^\s/?#\"<>]+[^\s\"<>]*")


def _embed_errors(embeds: Any) -> JSON:
    errors: JSON = {}
    if not isinstance(embeds, list):
        return errors
    if len(embeds) > 10:
        return {"embeds": _max_len(10)}
    total = 0
    per_embed: JSON = {}
    for i, embed in enumerate(embeds):
        e: JSON = {}
        title = str(embed.get("title") or "")
        description = str(embed.get("description") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        footer = str((embed.get("footer") or {}).get("text") or "")
        total += len(title) + len(description) + len(author) + len(footer)
        if len(title) > 256:
            e["title"] = _max_len(256)
        url = embed.get("url")
        if url is not None and not _WELL_FORMED_URL.fullmatch(str(url)):
            e["url"] = _error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if len(description) > 4096:
            e["description"] = _max_len(4096)
        if len(author) > 256:
            e["author"] = {"name": _max_len(256)}
        if len(footer) > 2048:
            e["footer"] = {"text": _max_len(2048)}
        fields = embed.get("fields") or []
        if len(fields) > 25:
            e["fields"] = _max_len(25)
        else:
            field_errors: JSON = {}
            for j, fld in enumerate(fields):
                fe: JSON = {}
                name = str(fld.get("name") or "")
                value = str(fld.get("value") or "")
                total += len(name) + len(value)
                if not 1 <= len(name) <= 256:
                    fe["name"] = _error(
                        "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 256 in length."
                    )
                if not 1 <= len(value) <= 1024:
                    fe["value"] = _error(
                        "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1024 in length."
                    )
                if fe:
                    field_errors[str(j)] = fe
            if field_errors:
                e["fields"] = field_errors
        if e:
            per_embed[str(i)] = e
    if per_embed:
        errors["embeds"] = per_embed
    elif total > 6000:
        errors["embeds"] = _error(
            "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
        )
    return errors


def _component_errors(components: Any, flags: int) -> JSON:
    if not isinstance(components, list):
        return {}
    if not flags & FLAG_COMPONENTS_V2 and len(components) > 5:
        return {"components": _max_len(5)}

    def walk(comp: JSON) -> JSON:
        errs: JSON = {}
        custom_id = comp.get("custom_id")
        if custom_id is not None and not 1 <= len(str(custom_id)) <= 100:
            errs["custom_id"] = _error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        if comp.get("type") == 2 and len(str(comp.get("label") or "")) > 80:
            errs["label"] = _max_len(80)
        children = comp.get("components")
        if isinstance(children, list):
            if comp.get("type") == 1 and len(children) > 5:
                errs["components"] = _max_len(5)
            else:
                child_errs = {str(k): walk(c) for k, c in enumerate(children)}
                child_errs = {k: v for k, v in child_errs.items() if v}
                if child_errs:
                    errs["components"] = child_errs
        return errs

    row_errors = {str(i): walk(c) for i, c in enumerate(components)}
    row_errors = {k: v for k, v in row_errors.items() if v}
    return {"components": row_errors} if row_errors else {}


def _message_errors(payload: JSON) -> JSON:
    """Discord's validation of a message create/edit body (errors keyed like Discord's)."""
    errors: JSON = {}
    content = payload.get("content")
    if isinstance(content, str) and len(content) > 2000:
        errors["content"] = _max_len(2000)
    errors.update(_embed_errors(payload.get("embeds")))
    errors.update(_component_errors(payload.get("components"), int(payload.get("flags") or 0)))
    # An attachment's description (alt text) holds at most 1024 characters
    # (docs/resources/message#attachment-object-attachment-request-structure).
    attachments = payload.get("attachments")
    if isinstance(attachments, list):
        too_long = {
            str(i): {"description": _max_len(1024)}
            for i, a in enumerate(attachments)
            if isinstance(a, dict) and len(str(a.get("description") or "")) > 1024
        }
        if too_long:
            errors["attachments"] = too_long
    return errors


def _is_empty_message(payload: JSON, files: list[RecordedFile]) -> bool:
    return not (
        payload.get("content")
        or payload.get("embeds")
        or payload.get("components")
        or payload.get("sticker_ids")
        or payload.get("poll")
        or files
    )


def _choice_errors(choices: Any) -> JSON:
    if not isinstance(choices, list):
        return {"choices": _error("BASE_TYPE_REQUIRED", "This field is required")}
    if len(choices) > 25:
        return {"choices": _max_len(25)}
    errs: JSON = {}
    for i, choice in enumerate(choices):
        ce: JSON = {}
        if not 1 <= len(str(choice.get("name") or "")) <= 100:
            ce["name"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        value = choice.get("value")
        if isinstance(value, str) and len(value) > 100:
            ce["value"] = _max_len(100)
        if ce:
            errs[str(i)] = ce
    return {"choices": errs} if errs else {}


def _command_errors(commands: Any) -> JSON:
    if not isinstance(commands, list):
        return {"_errors": [{"code": "LIST_TYPE_CONVERT", "message": "Only iterables allowed"}]}
    errs: JSON = {}

    def check_name(name: Any) -> JSON | None:
        name = str(name or "")
        if not 1 <= len(name) <= 32 or name != name.lower() or " " in name:
            return _error("APPLICATION_COMMAND_INVALID_NAME", f"Command name is invalid: {name}")
        return None

    def check_options(options: Any) -> JSON:
        oe: JSON = {}
        if not isinstance(options, list):
            return oe
        if len(options) > 25:
            return _max_len(25)
        for i, opt in enumerate(options):
            e: JSON = {}
            if (ne := check_name(opt.get("name"))) is not None:
                e["name"] = ne
            if len(str(opt.get("description") or "")) > 100:
                e["description"] = _max_len(100)
            if (sub := check_options(opt.get("options"))) != {}:
                e["options"] = sub
            if e:
                oe[str(i)] = e
        return oe

    for i, cmd in enumerate(commands):
        e: JSON = {}
        if (ne := check_name(cmd.get("name"))) is not None and cmd.get("type", 1) == 1:
            e["name"] = ne
        if len(str(cmd.get("description") or "")) > 100:
            e["description"] = _max_len(100)
        if (oe := check_options(cmd.get("options"))) != {}:
            e["options"] = oe
        if e:
            errs[str(i)] = e
    return errs


def _option_type(value: OptionValue) -> int:
    if isinstance(value, FakeChannel):
        return 7
    if isinstance(value, FakeRole):
        return 8
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _find_component(components: list[JSON], pred: Callable[[JSON], bool]) -> JSON | None:
    for comp in components:
        if pred(comp):
            return comp
        found = _find_component(comp.get("components") or [], pred)
        if found is not None:
            return found
    return None


_MENTION_RE = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")


class _Router:
    def __init__(self) -> None:
        self._routes: list[tuple[str, str, re.Pattern[str], Callable[..., _Reply]]] = []

    def add(self, method: str, template: str, handler: Callable[..., _Reply]) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
        self._routes.append((method, template, re.compile(f"^{pattern}$"), handler))

    def match(
        self, method: str, path: str
    ) -> tuple[str, dict[str, str], Callable[..., _Reply] | None, bool]:
        """(route, params, handler, path_known)."""
        path_known = False
        for m, template, pattern, handler in self._routes:
            found = pattern.match(path)
            if found is None:
                continue
            path_known = True
            if m == method:
                return f"{m} {template}", found.groupdict(), handler, True
        return "", {}, None, path_known


# --------------------------------------------------------------------------- the fake


class FakeDiscord:
    """A fake Discord API + gateway on 127.0.0.1 for one test.

    Use as ``async with FakeDiscord(...) as fake:`` (starts the server and patches discord.py;
    stops and restores on exit) or call :meth:`start` / :meth:`stop` and :meth:`patch_discord`
    yourself. Constructor knobs:

    * ``guilds``: how many default guilds (each with channels ``general`` and ``news``).
    * ``shards``: what ``GET /gateway/bot`` recommends (``AutoShardedBot`` uses it).
    * ``token``: the bot token REST and IDENTIFY accept (others get 401 / close 4004).
    * ``callback_deadline``: seconds to answer an interaction (Discord: 3).
    * ``token_lifetime``: seconds an interaction token works for followups (Discord: 900).
    * ``global_rate_limit``: requests per second per bot token, counted across every client
      that uses the token (several bot processes share it, as on Discord), before a
      global 429 (``None`` disables). Interaction endpoints are exempt.
    * ``privileged_intents``: privileged intent bits enabled "in the developer portal";
      IDENTIFY asking for others is closed with 4014.
    """

    def __init__(
        self,
        *,
        guilds: int = 1,
        shards: int = 1,
        token: str = "fake.bot.token",
        callback_deadline: float = 3.0,
        token_lifetime: float = 900.0,
        global_rate_limit: int | None = 50,
        privileged_intents: int = 0,
        heartbeat_interval_ms: int = 41_250,
        bot_name: str = "technyan",
    ) -> None:
        self.token = token
        self.recommended_shards = shards
        self.callback_deadline = callback_deadline
        self.token_lifetime = token_lifetime
        self.global_rate_limit = global_rate_limit
        self.privileged_intents = privileged_intents
        self.heartbeat_interval_ms = heartbeat_interval_ms

        self._ids = itertools.count()
        self.bot_user = FakeUser(self.snowflake(), bot_name, bot=True)
        self.application_id = self.bot_user.id
        #: The application's owner (``bot.is_owner`` is true for this user only).
        self.owner = FakeUser(self.snowflake(), "owner")
        #: The default user who invokes commands: an ordinary member, not the owner.
        self.user = FakeUser(self.snowflake(), "alice")
        self.users: dict[int, FakeUser] = {u.id: u for u in (self.bot_user, self.owner, self.user)}
        self.guilds: list[FakeGuild] = []
        self.channels: dict[int, FakeChannel] = {}
        for i in range(guilds):
            self.add_guild(f"Fake Guild {i + 1}")

        #: Every REST request, in order.
        self.requests: list[RecordedRequest] = []
        #: Every gateway frame, both directions, in order.
        self.gateway_log: list[GatewayFrame] = []
        #: ``(shard_id, shard_count)`` of each IDENTIFY, in order.
        self.identifies: list[tuple[int, int]] = []
        #: Session ids of successful RESUMEs, in order.
        self.resumes: list[str] = []
        #: Paths of every websocket connection (``/gateway`` or ``/gateway-resume``).
        self.connections: list[str] = []
        #: Global 429s the fake had to send.
        self.global_429_count = 0
        #: Global application commands as last synced (with ids), and per guild.
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.interactions: dict[int, FakeInteraction] = {}

        self._messages: dict[int, JSON] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._faults: dict[int | str, list[_Fault]] = {}
        self._holds: list[HeldRequests] = []
        #: A server's own choice of who may use a command (Server Settings → Integrations):
        #: (guild id, command name) → user id → allowed.
        self._command_overrides: dict[tuple[int, str], dict[int, bool]] = {}
        #: Start times of the last second's requests, per bot token (Authorization header).
        self._windows: dict[str, deque[float]] = {}
        self._sessions: list[_Session] = []
        self._command_ids: dict[str, int] = {}
        self._changed: _Changed | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._router = self._build_router()
        self._exit_stack = ExitStack()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start serving on a random free port of 127.0.0.1."""
        self._changed = _Changed()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get("/gateway-resume", self._gateway_handler)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._rest_handler)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        """Close every websocket and stop the server."""
        for session in self._sessions:
            if session.conn is not None:
                await session.conn.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py (REST and gateway) at this fake; restore the originals after."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_url
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.ws_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self._exit_stack.enter_context(self.patch_discord())
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.stop()
        finally:
            self._exit_stack.close()

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/v10`` (what ``Route.BASE`` is set to)."""
        return f"http://127.0.0.1:{self._port}/api/v{API_VERSION}"

    @property
    def ws_url(self) -> str:
        """The gateway URL for IDENTIFY."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def resume_url(self) -> str:
        """The ``resume_gateway_url`` READY hands out (a different path, so tests can tell)."""
        return f"ws://127.0.0.1:{self._port}/gateway-resume"

    @asynccontextmanager
    async def run_bot(
        self, client: discord.Client, timeout: float = DEADLINE_SECONDS
    ) -> AsyncIterator[None]:
        """Run ``client.start(token)`` in a task until ``client.is_ready()``; close it after.

        Raises the client's exception if it stops before getting ready.
        """
        task = asyncio.create_task(client.start(self.token))
        try:
            deadline = time.monotonic() + timeout
            while not client.is_ready():
                if task.done():
                    task.result()
                    raise RuntimeError("client stopped before it was ready")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"client not ready after {timeout}s")
                await asyncio.sleep(0.01)
            yield
        finally:
            await client.close()
            try:
                await asyncio.wait_for(task, timeout)
            except (Exception, asyncio.CancelledError):
                task.cancel()

    # ------------------------------------------------------------------ world setup

    def snowflake(self) -> int:
        """A fresh, increasing snowflake id."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (1 << 17) | (next(self._ids) & 0xFFF)

    def add_user(self, username: str, *, bot: bool = False) -> FakeUser:
        """Make a user known (for ``GET /users/{id}``, mentions and as an invoker)."""
        user = FakeUser(self.snowflake(), username, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        guild_id: int | None = None,
        channels: Sequence[str] = ("general", "news"),
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
        preferred_locale: str = "ja",
    ) -> FakeGuild:
        """Add a guild with text channels. Call before the bot connects (or it won't see it)."""
        gid = guild_id if guild_id is not None else self.snowflake()
        guild = FakeGuild(
            gid,
            name,
            owner_id=self.owner.id,
            bot_permissions=bot_permissions,
            preferred_locale=preferred_locale,
            bot_role_id=self.snowflake(),
        )
        for pos, cname in enumerate(channels):
            channel = FakeChannel(self.snowflake(), cname, gid, position=pos)
            guild.channels.append(channel)
            self.channels[channel.id] = channel
        self.guilds.append(guild)
        return guild

    def add_channel(
        self,
        guild: FakeGuild,
        name: str,
        *,
        type: int = TEXT,
        require_tag: bool = False,
        tags: Sequence[str] = (),
    ) -> FakeChannel:
        """Add a text (0), announcement (5) or forum (15) channel to ``guild``."""
        channel = FakeChannel(
            self.snowflake(),
            name,
            guild.id,
            type=type,
            position=len(guild.channels),
            require_tag=require_tag,
            tags=list(tags),
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        archived: bool = False,
        locked: bool = False,
        owner: FakeUser | None = None,
    ) -> FakeChannel:
        """Start a thread in ``parent`` (public; an announcement thread in an announcement
        channel). Archived threads are not in the bot's cache, as on Discord."""
        kind = ANNOUNCEMENT_THREAD if parent.type == ANNOUNCEMENT else PUBLIC_THREAD
        thread = FakeChannel(
            self.snowflake(),
            name,
            parent.guild_id,
            type=kind,
            parent_id=parent.id,
            owner_id=(owner or self.user).id,
            archived=archived,
            locked=locked,
        )
        self.channels[thread.id] = thread
        return thread

    def add_role(
        self, guild: FakeGuild, name: str, *, mentionable: bool = True, permissions: int = 0
    ) -> FakeRole:
        """Add a role to ``guild`` (before the bot connects)."""
        role = FakeRole(self.snowflake(), name, permissions, mentionable)
        guild.roles.append(role)
        return role

    def overwrite(
        self, channel: FakeChannel, *, allow: int = 0, deny: int = 0, role_id: int | None = None
    ) -> None:
        """Set a permission overwrite on ``channel`` for ``role_id`` (default: the bot's
        role). Call before the bot connects, as the bot's cache does not learn of it."""
        guild = self._guild_of(channel)
        assert guild is not None, "overwrites are for guild channels"
        target = role_id if role_id is not None else guild.bot_role_id
        channel.overwrites = [o for o in channel.overwrites if o.id != target]
        channel.overwrites.append(Overwrite(target, allow, deny))

    async def delete_channel(self, channel: FakeChannel) -> None:
        """Delete a guild channel or thread, as an admin would: gone from the API, and
        CHANNEL_DELETE (THREAD_DELETE for a thread) sent to the bot."""
        guild = self._guild_of(channel)
        assert guild is not None, "only guild channels are deleted"
        self.channels.pop(channel.id, None)
        if channel in guild.channels:
            guild.channels.remove(channel)
        if channel.is_thread:
            event = {"id": str(channel.id), "guild_id": str(guild.id),
                     "parent_id": str(channel.parent_id), "type": channel.type}  # fmt: skip
            await self.dispatch("THREAD_DELETE", event, guild_id=guild.id)
        else:
            await self.dispatch("CHANNEL_DELETE", channel.payload(), guild_id=guild.id)

    def bot_permissions(self, channel: FakeChannel) -> int:
        """The bot's permissions in ``channel`` as Discord computes them (a thread: its
        parent's); everything in a DM."""
        guild = self._guild_of(channel)
        if guild is None:
            return DEFAULT_BOT_PERMISSIONS
        source = self.channels[channel.parent_id] if channel.parent_id else channel
        subject = PermissionSubject(
            guild.id,
            DEFAULT_MEMBER_PERMISSIONS,
            {guild.bot_role_id: guild.bot_permissions},
            self.bot_user.id,
        )
        return channel_permissions(subject, source.overwrites)

    def threads_of(self, guild: FakeGuild) -> list[FakeChannel]:
        """Every thread of ``guild``'s channels, oldest first."""
        return [c for c in self.channels.values() if c.is_thread and c.guild_id == guild.id]

    @property
    def guild(self) -> FakeGuild:
        """The first guild."""
        return self.guilds[0]

    @property
    def channel(self) -> FakeChannel:
        """The first channel of the first guild."""
        return self.guild.channel

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        for ch in self.channels.values():
            if ch.type == 1 and ch.recipient is not None and ch.recipient.id == user.id:
                return ch
        ch = FakeChannel(self.snowflake(), "", None, type=1, recipient=user)
        self.channels[ch.id] = ch
        return ch

    def shard_for(self, guild_id: int, shard_count: int) -> int:
        """Discord's shard of a guild: ``(guild_id >> 22) % shard_count``."""
        return (guild_id >> 22) % shard_count

    # ------------------------------------------------------------------ observation

    def channel_messages(self, channel_id: int) -> list[JSON]:
        """Messages in a channel, oldest first (bot posts, non-ephemeral interaction
        responses, and user messages sent with :meth:`message_create`)."""
        return [self._messages[m] for m in self._channel_messages.get(channel_id, [])]

    def message(self, message_id: int) -> JSON:
        """A stored message by id (``KeyError`` if unknown)."""
        return self._messages[message_id]

    @property
    def invalid_request_count(self) -> int:
        """401/403/429 responses so far (Discord bans an IP after 10,000 in 10 minutes)."""
        return sum(1 for r in self.requests if r.status in (401, 403, 429))

    def mark(self) -> int:
        """The current length of :attr:`requests`, to pass as ``since=`` to :meth:`wait_for`."""
        return len(self.requests)

    async def wait_until(
        self, cond: Callable[[], T | None], timeout: float = DEADLINE_SECONDS
    ) -> T:
        """Wait until ``cond()`` is truthy (re-checked on every request and gateway frame, and
        every 20 ms for conditions on the bot's side); returns its value."""
        assert self._changed is not None, "fake not started"
        return await self._changed.wait_until(cond, timeout, "condition")

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = DEADLINE_SECONDS,
        *,
        since: int = 0,
    ) -> RecordedRequest:
        """The first request (at index >= ``since``) matching ``predicate``, waiting for it."""
        assert self._changed is not None, "fake not started"

        def find() -> RecordedRequest | None:
            return next((r for r in self.requests[since:] if predicate(r)), None)

        return await self._changed.wait_until(find, timeout, "a matching request")

    async def wait_for_gateway(
        self,
        predicate: Callable[[GatewayFrame], bool],
        timeout: float = DEADLINE_SECONDS,
        *,
        since: int = 0,
    ) -> GatewayFrame:
        """The first gateway frame (at index >= ``since``) matching ``predicate``."""
        assert self._changed is not None, "fake not started"

        def find() -> GatewayFrame | None:
            return next((f for f in self.gateway_log[since:] if predicate(f)), None)

        return await self._changed.wait_until(find, timeout, "a matching gateway frame")

    # ------------------------------------------------------------------ faults

    def fault(
        self,
        target: int | str,
        kind: FaultKind,
        *,
        times: int | None = None,
        retry_after: float = 0.2,
        status: int = 500,
    ) -> None:
        """Make requests fail like Discord does.

        ``target`` is a channel id (faults every ``/channels/{id}...`` route) or a path prefix
        such as ``"/webhooks/"``. Kinds: ``missing_access`` (403, 50001),
        ``missing_permissions`` (403, 50013), ``unknown_channel`` (404, 10003) — these last
        until :meth:`clear_faults` unless ``times`` is given; ``rate_limited`` (429 with
        ``retry_after`` and rate-limit headers), ``server_error`` (``status``, 500 or 502)
        and ``disconnect`` (the connection is closed without an answer, as when a network
        drops) apply to the next ``times`` requests (default 1).
        """
        if times is None and kind in ("rate_limited", "server_error", "disconnect"):
            times = 1
        self._faults.setdefault(target, []).append(_Fault(kind, times, retry_after, status))

    def set_command_permission(
        self, guild: FakeGuild, command: str, user: FakeUser, allowed: bool
    ) -> None:
        """What a server's admins set under Server Settings → Integrations: ``user`` may
        (or may not) use the top-level ``command`` in ``guild``, whatever its
        ``default_member_permissions`` say (docs/interactions/application-commands#
        permissions)."""
        self._command_overrides.setdefault((guild.id, command), {})[user.id] = allowed

    def hold(
        self,
        route: str = "POST /channels/{channel_id}/messages",
        *,
        channel_id: int | None = None,
        after: int = 0,
    ) -> HeldRequests:
        """Leave requests of ``route`` (a route template; to ``channel_id`` when given)
        unanswered after the first ``after`` of them, until the returned object's
        ``release()``: a post in flight for as long as the test needs, without a clock."""
        held = HeldRequests(route, channel_id, after)
        self._holds.append(held)
        return held

    def clear_faults(self, target: int | str | None = None) -> None:
        """Remove the faults of one target, or all faults."""
        if target is None:
            self._faults.clear()
        else:
            self._faults.pop(target, None)

    def expire_interaction(self, interaction_id: int, *, token: bool = False) -> None:
        """Make the 3-second window of an interaction pass now (callback → 404 10062); with
        ``token=True`` also its 15-minute token (followups/edits → 401 50027)."""
        it = self.interactions[interaction_id]
        it.expired = True
        if token:
            it.token_expired = True

    # ------------------------------------------------------------------ gateway control

    def _live_sessions(self) -> list[_Session]:
        return [s for s in reversed(self._sessions) if s.valid]

    def _session_for(self, guild_id: int | None, shard_id: int | None = None) -> _Session:
        for s in self._live_sessions():
            if shard_id is not None:
                if s.shard_id == shard_id:
                    return s
            elif guild_id is None:
                if s.shard_id == 0:
                    return s
            elif self.shard_for(guild_id, s.shard_count) == s.shard_id:
                return s
        raise RuntimeError("no identified gateway session for that shard (is the bot ready?)")

    async def dispatch(
        self,
        event: str,
        data: JSON,
        *,
        guild_id: int | None = None,
        shard_id: int | None = None,
    ) -> None:
        """Send a DISPATCH event on the session owning ``guild_id`` (or ``shard_id``).

        If that session is disconnected, the event is kept and replayed on RESUME.
        """
        await self._dispatch(self._session_for(guild_id, shard_id), event, data)

    async def force_reconnect(
        self, shard_id: int = 0, *, how: Literal["close", "op7"] = "close"
    ) -> None:
        """Drop the connection in a resumable way: close with code 4000, or send op 7
        RECONNECT. The client then RESUMEs on ``resume_gateway_url``."""
        session = self._session_for(None, shard_id)
        conn = session.conn
        if conn is None:
            raise RuntimeError("shard is not connected")
        if how == "op7":
            await self._send(conn, {"op": 7, "d": None})
        else:
            await conn.ws.close(code=4000, message=b"fake: reconnect")

    async def invalidate_session(self, shard_id: int = 0, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION. Not resumable: the session is forgotten and the client
        IDENTIFYs again (discord.py sleeps 5 s first unless ``before_identify_hook`` is
        overridden) and gets a fresh READY."""
        session = self._session_for(None, shard_id)
        if not resumable:
            session.valid = False
        if session.conn is not None:
            await self._send(session.conn, {"op": 9, "d": resumable})

    async def wait_connected(self, shard_id: int = 0, timeout: float = DEADLINE_SECONDS) -> None:
        """Wait until ``shard_id`` has a valid session with a live connection."""

        def ok() -> bool:
            return any(s.shard_id == shard_id and s.conn for s in self._live_sessions())

        await self.wait_until(ok, timeout)

    # ------------------------------------------------------------------ event builders

    def _member_payload(self, user: FakeUser, permissions: int | None = None) -> JSON:
        member: JSON = {
            "user": user.payload(),
            "roles": [],
            "nick": None,
            "avatar": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            member["permissions"] = str(permissions)
        return member

    def _guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return next((g for g in self.guilds if g.id == channel.guild_id), None)

    async def _interaction(
        self,
        type_: int,
        data: JSON,
        *,
        channel_id: int | None,
        user: FakeUser | None,
        locale: str,
        permissions: int,
        dm: bool,
        message: JSON | None = None,
    ) -> FakeInteraction:
        user = user or self.user
        if dm:
            channel = self.dm_channel(user)
        else:
            channel = self.channels[channel_id] if channel_id is not None else self.channel
        guild = self._guild_of(channel)
        if type_ in (2, 4):
            self._check_usable(data, guild, permissions, user)
        iid = self.snowflake()
        token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "channel_id": str(channel.id),
            "channel": channel.payload(),
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if guild is not None:
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                guild_locale=guild.preferred_locale,
                member=self._member_payload(user, permissions),
                app_permissions=str(guild.bot_permissions),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=user.payload(),
                app_permissions=str(DEFAULT_BOT_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        it = FakeInteraction(iid, token, type_, payload, time.monotonic(), self)
        self.interactions[iid] = it
        session = self._session_for(guild.id if guild else None)
        it.dispatched_at = time.monotonic()
        await self._dispatch(session, "INTERACTION_CREATE", payload)
        return it

    def _check_usable(
        self, data: JSON, guild: FakeGuild | None, permissions: int, user: FakeUser | None = None
    ) -> None:
        """Raise ``PermissionError`` when Discord would not let this user run a synced
        command here: its ``contexts`` lack this one (guild 0, bot DM 1), or in a guild the
        server turned it off for the user (:meth:`set_command_permission`), or, without
        such a setting, its ``default_member_permissions`` are not all among the member's
        (Administrator passes). Commands the fake never saw synced are not checked."""
        guild_id = data.get("guild_id")
        synced = self.guild_commands.get(int(guild_id), []) if guild_id else self.global_commands
        command = next((c for c in synced if c["name"] == data["name"]), None)
        if command is None:
            return
        context = 0 if guild is not None else 1
        contexts = command.get("contexts")
        if contexts is not None and context not in contexts:
            raise PermissionError(f"/{data['name']} is not offered in context {context}")
        required = command.get("default_member_permissions")
        override = (
            self._command_overrides.get((guild.id, data["name"]), {}).get(user.id)
            if guild is not None and user is not None
            else None
        )
        if override is not None:  # the server's own setting wins over the default
            if not override:
                raise PermissionError(f"/{data['name']} is turned off for this member here")
            return
        if guild is not None and required is not None:
            needed = int(required)
            if permissions & ADMINISTRATOR == 0 and permissions & needed != needed:
                raise PermissionError(f"/{data['name']} is hidden from this member")

    def _command_data(
        self,
        command: str,
        options: Mapping[str, OptionValue] | None,
        focused: str | None,
        command_guild_id: int | None,
    ) -> JSON:
        parts = command.strip().lstrip("/").split()
        if not 1 <= len(parts) <= 3:
            raise ValueError(f"command path must have 1-3 words: {command!r}")
        leaf: list[JSON] = []
        resolved: JSON = {}
        for name, value in (options or {}).items():
            shown: Any = value
            if isinstance(value, FakeChannel):
                shown = str(value.id)
                # A thread comes whole (discord.py reads its owner and counts); a channel
                # as Discord's partial channel: id, name, type, permissions.
                payload = value.payload()
                keys = payload if value.is_thread else ("id", "name", "type", "guild_id")
                entry = {key: payload[key] for key in keys if payload.get(key) is not None}
                entry["permissions"] = str(MANAGE_GUILD | DEFAULT_MEMBER_PERMISSIONS)
                resolved.setdefault("channels", {})[shown] = entry
            elif isinstance(value, FakeRole):
                shown = str(value.id)
                resolved.setdefault("roles", {})[shown] = value.payload()
            opt: JSON = {"name": name, "type": _option_type(value), "value": shown}
            if name == focused:
                opt["focused"] = True
            leaf.append(opt)
        opts = leaf
        if len(parts) == 3:
            opts = [{"name": parts[1], "type": 2, "options": [{"name": parts[2], "type": 1}]}]
            opts[0]["options"][0]["options"] = leaf
        elif len(parts) == 2:
            opts = [{"name": parts[1], "type": 1, "options": leaf}]
        data: JSON = {
            "id": str(self._command_id(parts[0], command_guild_id)),
            "name": parts[0],
            "type": 1,
            "options": opts,
        }
        if command_guild_id is not None:
            data["guild_id"] = str(command_guild_id)
        if resolved:
            data["resolved"] = resolved
        return data

    def _command_id(self, name: str, guild_id: int | None) -> int:
        synced = self.guild_commands.get(guild_id, []) if guild_id else self.global_commands
        for cmd in synced:
            if cmd["name"] == name:
                return int(cmd["id"])
        return self._command_ids.setdefault(f"{guild_id}:{name}", self.snowflake())

    async def slash(
        self,
        command: str,
        options: Mapping[str, OptionValue] | None = None,
        *,
        channel_id: int | None = None,
        user: FakeUser | None = None,
        locale: str = "en-US",
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        dm: bool = False,
        command_guild_id: int | None = None,
    ) -> FakeInteraction:
        """Dispatch a type-2 APPLICATION_COMMAND, e.g. ``slash("news about", {"query": "x"})``.

        ``command`` is 1-3 words: command [group] subcommand. Option types come from the
        Python values (str 3, int 4, bool 5, float 10; a ``FakeChannel`` 7 and a
        ``FakeRole`` 8, resolved in ``data.resolved`` as Discord sends them). ``permissions``
        is the member's permission integer (use ``discord.Permissions(manage_guild=True).value``
        for admins).
        ``command_guild_id`` marks it as a guild command (``data.guild_id``).
        """
        data = self._command_data(command, options, None, command_guild_id)
        return await self._interaction(
            2,
            data,
            channel_id=channel_id,
            user=user,
            locale=locale,
            permissions=permissions,
            dm=dm,
        )

    async def autocomplete(
        self,
        command: str,
        options: Mapping[str, OptionValue],
        focused: str,
        *,
        channel_id: int | None = None,
        user: FakeUser | None = None,
        locale: str = "en-US",
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
        dm: bool = False,
        command_guild_id: int | None = None,
    ) -> FakeInteraction:
        """Dispatch a type-4 AUTOCOMPLETE with ``focused`` marked; the bot's choices end up in
        ``FakeInteraction.choices``."""
        if focused not in options:
            raise ValueError(f"focused option {focused!r} not in options")
        data = self._command_data(command, options, focused, command_guild_id)
        return await self._interaction(
            4,
            data,
            channel_id=channel_id,
            user=user,
            locale=locale,
            permissions=permissions,
            dm=dm,
        )

    async def click(
        self,
        message_id: int,
        custom_id: str | None = None,
        *,
        label: str | None = None,
        values: Sequence[str] | None = None,
        user: FakeUser | None = None,
        locale: str = "en-US",
        permissions: int = DEFAULT_MEMBER_PERMISSIONS,
    ) -> FakeInteraction:
        """Dispatch a type-3 MESSAGE_COMPONENT for a component of a stored message, found by
        ``custom_id`` or button ``label``; ``values`` for select menus."""
        message = self._messages[message_id]

        def pred(c: JSON) -> bool:
            if custom_id is not None:
                return c.get("custom_id") == custom_id
            return c.get("type") == 2 and c.get("label") == label

        comp = _find_component(message["components"], pred)
        if comp is None:
            raise LookupError(f"no component {custom_id or label!r} on message {message_id}")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id or label!r} is disabled")
        data: JSON = {"custom_id": comp["custom_id"], "component_type": comp["type"]}
        if values is not None:
            data["values"] = list(values)
        channel = self.channels[int(message["channel_id"])]
        return await self._interaction(
            3,
            data,
            channel_id=channel.id,
            user=user,
            locale=locale,
            permissions=permissions,
            dm=channel.type == 1,
            message=copy.deepcopy(message),
        )

    async def message_create(
        self,
        content: str,
        *,
        channel_id: int | None = None,
        user: FakeUser | None = None,
    ) -> JSON:
        """Dispatch MESSAGE_CREATE for a user's message (stored in the channel too).

        ``<@id>`` mentions of known users fill ``mentions``. As on Discord, without the
        privileged MESSAGE_CONTENT intent the bot gets empty content unless the message
        mentions it or is a DM.
        """
        user = user or self.user
        channel = self.channels[channel_id] if channel_id is not None else self.channel
        mentioned = [
            self.users[int(m)] for m in _MENTION_RE.findall(content) if int(m) in self.users
        ]
        msg = self._new_message(channel, {"content": content}, [], author=user, mentions=mentioned)
        guild = self._guild_of(channel)
        event = copy.deepcopy(msg)
        if guild is not None:
            member = self._member_payload(user)
            del member["user"]
            event["member"] = member
        session = self._session_for(guild.id if guild else None)
        sees_content = (
            session.intents & INTENT_MESSAGE_CONTENT
            or channel.type == 1
            or any(u.id == self.bot_user.id for u in mentioned)
        )
        if not sees_content:
            event.update(content="", embeds=[], attachments=[], components=[])
        await self._dispatch(session, "MESSAGE_CREATE", event)
        return msg

    async def mention(
        self, text: str, *, channel_id: int | None = None, user: FakeUser | None = None
    ) -> JSON:
        """A user message ``"<@BOT_ID> text"`` mentioning the bot."""
        return await self.message_create(
            f"{self.bot_user.mention} {text}", channel_id=channel_id, user=user
        )

    # ------------------------------------------------------------------ gateway internals

    def _log_frame(self, direction: Literal["send", "recv"], shard: int, frame: JSON) -> None:
        self.gateway_log.append(
            GatewayFrame(
                direction,
                shard,
                frame.get("op", -1),
                frame.get("t"),
                frame.get("s"),
                frame.get("d"),
            )
        )
        self._pulse()

    async def _send(self, conn: _Conn, frame: JSON) -> None:
        frame.setdefault("s", None)
        frame.setdefault("t", None)
        self._log_frame("send", conn.shard_id, frame)
        if not conn.ws.closed:
            await conn.ws.send_str(json.dumps(frame))

    async def _dispatch(self, session: _Session, event: str, data: JSON) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.events.append(frame)
            if session.conn is not None and not session.conn.ws.closed:
                await self._send(session.conn, frame)

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Conn(ws, request.path)
        self.connections.append(request.path)
        await self._send(conn, {"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
        finally:
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
            self._pulse()
        return ws

    async def _on_frame(self, conn: _Conn, frame: JSON) -> None:
        self._log_frame("recv", conn.shard_id, frame)
        op, raw = frame.get("op"), frame.get("d")
        d: JSON = raw if isinstance(raw, dict) else {}
        if op == 1:
            await self._send(conn, {"op": 11, "d": None})
        elif op == 2:
            await self._identify(conn, d)
        elif op == 6:
            await self._resume(conn, d)
        elif op == 8 and conn.session is not None:
            await self._dispatch(
                conn.session,
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": d["guild_id"],
                    "members": [self._member_payload(self.bot_user)],
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "nonce": d.get("nonce"),
                },
            )

    async def _identify(self, conn: _Conn, d: JSON) -> None:
        if d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = d.get("intents")
        if intents is None:
            await conn.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_id, shard_count = d.get("shard") or [0, 1]
        if shard_count < 1 or not 0 <= shard_id < shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        self.identifies.append((shard_id, shard_count))
        session = _Session(secrets.token_hex(16), shard_id, shard_count, intents)
        self._sessions.append(session)
        conn.session, conn.shard_id = session, shard_id
        session.conn = conn
        guilds = [g for g in self.guilds if self.shard_for(g.id, shard_count) == shard_id]
        flags = 0
        if self.privileged_intents & INTENT_GUILD_PRESENCES:
            flags |= 1 << 13
        if self.privileged_intents & INTENT_GUILD_MEMBERS:
            flags |= 1 << 15
        if self.privileged_intents & INTENT_MESSAGE_CONTENT:
            flags |= 1 << 19
        ready: JSON = {
            "v": API_VERSION,
            "user": self.bot_user.payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.resume_url,
            "application": {"id": str(self.application_id), "flags": flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "_trace": ["fake-gateway"],
        }
        if "shard" in d:
            ready["shard"] = [shard_id, shard_count]
        await self._dispatch(session, "READY", ready)
        for guild in guilds:
            await self._dispatch(session, "GUILD_CREATE", self._guild_create(guild))

    def _guild_payload(self, guild: FakeGuild) -> JSON:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "preferred_locale": guild.preferred_locale,
            "features": [],
            "roles": [
                {
                    "id": str(guild.id),
                    "name": "@everyone",
                    "permissions": str(DEFAULT_MEMBER_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                },
                {
                    "id": str(guild.bot_role_id),
                    "name": self.bot_user.username,
                    "permissions": str(guild.bot_permissions),
                    "position": 1,
                    "color": 0,
                    "hoist": False,
                    "managed": True,
                    "mentionable": False,
                    "flags": 0,
                    "tags": {"bot_id": str(self.bot_user.id)},
                },
                *(role.payload() for role in guild.roles),
            ],
            "emojis": [],
            "stickers": [],
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_id": (
                str(guild.system_channel_id) if guild.system_channel_id else None
            ),
        }

    def _guild_create(self, guild: FakeGuild) -> JSON:
        bot_member = self._member_payload(self.bot_user)
        bot_member["roles"] = [str(guild.bot_role_id)]
        return self._guild_payload(guild) | {
            "unavailable": False,
            "large": False,
            "member_count": 2,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "channels": [c.payload() for c in guild.channels],
            "threads": [t.payload() for t in self.threads_of(guild) if not t.archived],
            "members": [bot_member],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    async def _resume(self, conn: _Conn, d: JSON) -> None:
        session = next((s for s in self._sessions if s.id == d.get("session_id") and s.valid), None)
        if session is None or d.get("token") != self.token:
            await self._send(conn, {"op": 9, "d": False})
            return
        conn.session, conn.shard_id = session, session.shard_id
        async with session.lock:
            session.conn = conn
            last = int(d.get("seq") or 0)
            for frame in session.events:
                if frame["s"] > last:
                    await self._send(conn, dict(frame))
        self.resumes.append(session.id)
        await self._dispatch(session, "RESUMED", {"_trace": ["fake-gateway"]})

    # ------------------------------------------------------------------ REST internals

    def _pulse(self) -> None:
        if self._changed is not None:
            self._changed.pulse()

    def _build_router(self) -> _Router:
        r = _Router()
        r.add("GET", "/gateway", self._get_gateway)
        r.add("GET", "/gateway/bot", self._get_gateway_bot)
        r.add("GET", "/users/@me", lambda **_: _Reply(200, self.bot_user.payload()))
        r.add("GET", "/users/@me/guilds", self._get_my_guilds)
        r.add("POST", "/users/@me/channels", self._create_dm)
        r.add("GET", "/users/{user_id}", self._get_user)
        r.add("GET", "/applications/@me", self._app_info)
        r.add("GET", "/oauth2/applications/@me", self._app_info)
        r.add("GET", "/applications/{application_id}/commands", self._get_commands)
        r.add("PUT", "/applications/{application_id}/commands", self._put_commands)
        r.add(
            "GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands
        )
        r.add(
            "PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands
        )
        r.add("GET", "/guilds/{guild_id}", self._get_guild)
        r.add("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        r.add("GET", "/channels/{channel_id}", self._get_channel)
        r.add("GET", "/channels/{channel_id}/messages", self._list_messages)
        r.add("POST", "/channels/{channel_id}/messages", self._post_message)
        r.add("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r.add("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message)
        r.add("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r.add("POST", "/channels/{channel_id}/typing", lambda **_: _Reply(204))
        r.add("POST", "/channels/{channel_id}/threads", self._start_thread)
        r.add("POST", "/channels/{channel_id}/messages/{message_id}/crosspost", self._crosspost)
        r.add("GET", "/guilds/{guild_id}/threads/active", self._active_threads)
        r.add("GET", "/channels/{channel_id}/threads/archived/public", self._archived_threads)
        r.add("POST", "/interactions/{interaction_id}/{token}/callback", self._callback)
        r.add("POST", "/webhooks/{application_id}/{token}", self._followup)
        r.add("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._wh_get)
        r.add("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._wh_edit)
        r.add("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self._wh_delete)
        return r

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            payload: Any = None
            files: list[RecordedFile] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                data = await part.read(decode=True)
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    files.append(
                        RecordedFile(
                            part.name or "",
                            part.filename,
                            part.headers.get("Content-Type"),
                            bytes(data),
                        )
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    def _exempt_from_global(self, route: str) -> bool:
        # "Interaction endpoints are not bound to the bot's Global Rate Limit."
        # (Discord's docs; that covers the callback and the token's webhook routes.)
        return route.startswith("POST /interactions/") or " /webhooks/" in route

    def _global_limited(self, route: str, token: str) -> _Reply | None:
        """A global 429 when the token already started ``global_rate_limit`` requests in
        the last second, whichever clients sent them."""
        if self.global_rate_limit is None or self._exempt_from_global(route):
            return None
        window = self._windows.setdefault(token, deque())
        now = time.monotonic()
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) < self.global_rate_limit:
            window.append(now)
            return None
        self.global_429_count += 1
        retry_after = round(max(0.001, 1.0 - (now - window[0])), 3)
        return _Reply(
            429,
            {"message": "You are being rate limited.", "retry_after": retry_after, "global": True},
            {
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Global": "true",
                "X-RateLimit-Scope": "global",
                "Via": "1.1 google",
            },
        )

    async def _wait_if_held(self, route: str, params: dict[str, str]) -> None:
        for held in self._holds:
            if not held.matches(route, params):
                continue
            held.seen += 1
            if held.seen > held.after and not held.released.is_set():
                held.waiting += 1
                self._pulse()
                try:
                    await held.released.wait()
                finally:
                    held.waiting -= 1

    def _faulted(self, path: str, params: dict[str, str]) -> _Reply | None:
        keys: list[int | str] = []
        if "channel_id" in params and params["channel_id"].isdigit():
            keys.append(int(params["channel_id"]))
        keys.extend(k for k in self._faults if isinstance(k, str) and path.startswith(k))
        for key in keys:
            faults = self._faults.get(key, [])
            for fault in faults:
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        faults.remove(fault)
                return self._fault_reply(fault)
        return None

    def _fault_reply(self, fault: _Fault) -> _Reply:
        if fault.kind == "disconnect":
            return _Reply(0)  # closed in _rest_handler
        if fault.kind == "missing_access":
            return _discord_error(403, 50001, "Missing Access")
        if fault.kind == "missing_permissions":
            return _discord_error(403, 50013, "Missing Permissions")
        if fault.kind == "unknown_channel":
            return _discord_error(404, 10003, "Unknown Channel")
        if fault.kind == "rate_limited":
            reset = time.time() + fault.retry_after
            return _Reply(
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": fault.retry_after,
                    "global": False,
                },
                {
                    "Retry-After": str(math.ceil(fault.retry_after)),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{reset:.3f}",
                    "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                    "X-RateLimit-Bucket": "fakebucket" + secrets.token_hex(4),
                    "X-RateLimit-Scope": "user",
                    "Via": "1.1 google",
                },
            )
        if fault.status == 502:
            return _Reply(
                502,
                "<html><head><title>502 Bad Gateway</title></head></html>",
                {"Content-Type": "text/html"},
            )
        return _discord_error(fault.status, 0, f"{fault.status}: Internal Server Error")

    def _authorized(self, request: web.Request, route: str) -> bool:
        if route.startswith(("POST /interactions/", "GET /gateway")) or "/webhooks/" in route:
            return True
        return request.headers.get("Authorization") == f"Bot {self.token}"

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method
        payload, files = await self._read_body(request)
        route, params, handler, known = self._router.match(method, path)
        reply: _Reply | None
        if handler is None:
            reply = (
                _discord_error(405, 0, "405: Method Not Allowed")
                if known
                else _discord_error(404, 0, "404: Not Found")
            )
        elif not self._authorized(request, route):
            reply = _discord_error(401, 0, "401: Unauthorized")
        else:
            await self._wait_if_held(route, params)
            token = request.headers.get("Authorization", "")
            reply = self._global_limited(route, token) or self._faulted(path, params)
            if reply is None:
                reply = handler(
                    params=params, query=dict(request.query), payload=payload, files=files
                )
        self.requests.append(
            RecordedRequest(
                method,
                path,
                route,
                params,
                dict(request.query),
                payload,
                files,
                reply.status,
                reply.body,
                time.monotonic(),
                request.headers.get("User-Agent", ""),
            )
        )
        self._pulse()
        if reply.status == 0:  # a dropped connection: nothing reaches the client
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        return self._to_response(reply)

    @staticmethod
    def _to_response(reply: _Reply) -> web.Response:
        headers = dict(reply.headers)
        if reply.body is None:
            return web.Response(
                status=reply.status if reply.status != 200 else 204, headers=headers
            )
        if isinstance(reply.body, str):
            headers.setdefault("Content-Type", "text/plain")
            return web.Response(status=reply.status, body=reply.body.encode(), headers=headers)
        # Exactly "application/json": discord.py compares the header verbatim.
        headers["Content-Type"] = "application/json"
        return web.Response(
            status=reply.status, body=json.dumps(reply.body).encode(), headers=headers
        )

    # ------------------------------------------------------------------ messages

    def _role_mentions(self, channel: FakeChannel, content: str, allowed: JSON | None) -> list[str]:
        """Ids of the roles ``content`` pings in ``channel``: mentioned, let through by
        ``allowed`` (parse ``roles``, or named in ``roles``; everything without it), and
        mentionable or pinged by a bot that may Mention Everyone there."""
        guild = self._guild_of(channel)
        if guild is None:
            return []
        parse = (allowed or {}).get("parse") or []
        explicit = {str(r) for r in (allowed or {}).get("roles") or []}
        may_mention_all = bool(self.bot_permissions(channel) & MENTION_EVERYONE)
        known = {str(role.id): role for role in guild.roles}
        pinged = []
        for role_id in dict.fromkeys(_ROLE_MENTION_RE.findall(content)):
            role = known.get(role_id)
            if role is None:
                continue
            if allowed is not None and "roles" not in parse and role_id not in explicit:
                continue
            if role.mentionable or may_mention_all:
                pinged.append(role_id)
        return pinged

    def _resolve_mentions(self, content: str, allowed: JSON | None) -> tuple[list[FakeUser], bool]:
        users = [self.users[int(m)] for m in _MENTION_RE.findall(content) if int(m) in self.users]
        everyone = "@everyone" in content or "@here" in content
        if allowed is None:
            return users, everyone
        parse = allowed.get("parse") or []
        explicit = {int(u) for u in allowed.get("users") or []}
        users = [u for u in users if "users" in parse or u.id in explicit]
        return users, everyone and "everyone" in parse

    def _attachments(self, files: list[RecordedFile], payload: JSON | None = None) -> list[JSON]:
        """Attachment objects for uploaded ``files``, with the ``description`` (alt text)
        the payload's ``attachments`` gave for ``files[n]`` (its ``id`` is n)."""
        described = {
            str(a.get("id")): a.get("description")
            for a in (payload or {}).get("attachments") or []
            if isinstance(a, dict) and a.get("description")
        }
        out = []
        for index, f in enumerate(files):
            aid = self.snowflake()
            name = f.filename or "file"
            url = f"https://cdn.discordapp.com/attachments/0/{aid}/{name}"
            out.append(
                {
                    "id": str(aid),
                    "filename": name,
                    "size": len(f.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.content_type,
                }
            )
            number = f.field.removeprefix("files[").removesuffix("]")
            description = described.get(number, described.get(str(index)))
            if description:
                out[-1]["description"] = str(description)
        return out

    def _new_message(
        self,
        channel: FakeChannel,
        payload: JSON,
        files: list[RecordedFile],
        *,
        author: FakeUser,
        mentions: list[FakeUser] | None = None,
        flags: int = 0,
        type_: int = 0,
        interaction: FakeInteraction | None = None,
        store_in_channel: bool = True,
        message_id: int | None = None,
    ) -> JSON:
        content = str(payload.get("content") or "")
        everyone = False
        roles: list[str] = []
        if mentions is None:
            allowed = payload.get("allowed_mentions")
            mentions, everyone = self._resolve_mentions(content, allowed)
            roles = self._role_mentions(channel, content, allowed)
        mid = message_id if message_id is not None else self.snowflake()
        msg: JSON = {
            "id": str(mid),
            "channel_id": str(channel.id),
            "type": type_,
            "author": author.payload(),
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mention_everyone": everyone,
            "mentions": [u.payload() for u in mentions],
            "mention_roles": roles,
            "attachments": self._attachments(files, payload),
            "embeds": [dict(e, type=e.get("type", "rich")) for e in payload.get("embeds") or []],
            "components": copy.deepcopy(payload.get("components") or []),
            "pinned": False,
            "flags": flags | (int(payload.get("flags") or 0) & FLAG_SUPPRESS_EMBEDS),
        }
        if channel.guild_id is not None:
            msg["guild_id"] = str(channel.guild_id)
        if "message_reference" in payload:
            msg["message_reference"] = payload["message_reference"]
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            user = interaction.payload.get("member", {}).get("user") or interaction.payload["user"]
            msg["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": user,
                "authorizing_integration_owners": interaction.payload[
                    "authorizing_integration_owners"
                ],
            }
        self._messages[mid] = msg
        if store_in_channel and not msg["flags"] & FLAG_EPHEMERAL:
            self._channel_messages.setdefault(channel.id, []).append(mid)
        return msg

    def _edit_message(self, msg: JSON, payload: JSON, files: list[RecordedFile]) -> None:
        if "content" in payload:
            msg["content"] = str(payload["content"] or "")
            msg["mentions"] = [
                u.payload()
                for u in self._resolve_mentions(msg["content"], payload.get("allowed_mentions"))[0]
            ]
        if "embeds" in payload:
            msg["embeds"] = [dict(e, type=e.get("type", "rich")) for e in payload["embeds"] or []]
        if "components" in payload:
            msg["components"] = copy.deepcopy(payload["components"] or [])
        if "attachments" in payload or files:
            keep = {str(a.get("id")) for a in payload.get("attachments") or []}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in keep]
            msg["attachments"] += self._attachments(files, payload)
        if "flags" in payload and payload["flags"] is not None:
            suppress = int(payload["flags"]) & FLAG_SUPPRESS_EMBEDS
            msg["flags"] = (msg["flags"] & ~FLAG_SUPPRESS_EMBEDS) | suppress
        msg["flags"] &= ~FLAG_LOADING
        msg["edited_timestamp"] = _now_iso()

    def _delete(self, msg: JSON) -> None:
        mid = int(msg["id"])
        self._messages.pop(mid, None)
        ids = self._channel_messages.get(int(msg["channel_id"]), [])
        if mid in ids:
            ids.remove(mid)

    # ------------------------------------------------------------------ route handlers
    # Each takes params, query, payload, files as keywords and returns a _Reply.

    def _get_gateway(self, **_: Any) -> _Reply:
        return _Reply(200, {"url": self.ws_url})

    def _get_gateway_bot(self, **_: Any) -> _Reply:
        return _Reply(
            200,
            {
                "url": self.ws_url,
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.identifies),
                    "reset_after": 86_400_000,
                    "max_concurrency": 1,
                },
            },
        )

    def _get_user(self, *, params: dict[str, str], **_: Any) -> _Reply:
        user = self.users.get(int(params["user_id"])) if params["user_id"].isdigit() else None
        if user is None:
            return _discord_error(404, 10013, "Unknown User")
        return _Reply(200, user.payload())

    def _get_my_guilds(self, *, query: dict[str, str], **_: Any) -> _Reply:
        guilds = sorted(self.guilds, key=lambda g: g.id)
        if "after" in query:
            guilds = [g for g in guilds if g.id > int(query["after"])]
        if "before" in query:
            guilds = [g for g in guilds if g.id < int(query["before"])]
        limit = int(query.get("limit", "200"))
        return _Reply(
            200,
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "owner": False,
                    "permissions": str(g.bot_permissions),
                    "features": [],
                }
                for g in guilds[:limit]
            ],
        )

    def _create_dm(self, *, payload: Any, **_: Any) -> _Reply:
        user = self.users.get(int((payload or {}).get("recipient_id") or 0))
        if user is None:
            return _invalid_form_body(
                {"recipient_id": _error("NUMBER_TYPE_COERCE", "Value is not snowflake.")}
            )
        return _Reply(200, self.dm_channel(user).payload())

    def _app_info(self, **_: Any) -> _Reply:
        return _Reply(
            200,
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": self.owner.payload(),
                "team": None,
                "flags": 0,
                "bot": self.bot_user.payload(),
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
                "tags": [],
            },
        )

    def _get_commands(self, *, params: dict[str, str], **_: Any) -> _Reply:
        if "guild_id" in params:
            return _Reply(200, self.guild_commands.get(int(params["guild_id"]), []))
        return _Reply(200, self.global_commands)

    def _put_commands(self, *, params: dict[str, str], payload: Any, **_: Any) -> _Reply:
        if params["application_id"] != str(self.application_id):
            return _discord_error(403, 50001, "Missing Access")
        errors = _command_errors(payload)
        if errors:
            return _invalid_form_body(errors)
        guild_id = int(params["guild_id"]) if "guild_id" in params else None
        previous = self.guild_commands.get(guild_id, []) if guild_id else self.global_commands
        old_ids = {(c["name"], c.get("type", 1)): c["id"] for c in previous}
        synced = []
        for cmd in payload:
            key = (cmd["name"], cmd.get("type", 1))
            out = dict(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.setdefault("options", [])
            out["id"] = old_ids.get(key) or str(self.snowflake())
            out["application_id"] = str(self.application_id)
            out["version"] = str(self.snowflake())
            out.setdefault("default_member_permissions", None)
            out.setdefault("nsfw", False)
            if guild_id is not None:
                out["guild_id"] = str(guild_id)
            synced.append(out)
        if guild_id is not None:
            self.guild_commands[guild_id] = synced
        else:
            self.global_commands = synced
        return _Reply(200, synced)

    def _get_guild(self, *, params: dict[str, str], **_: Any) -> _Reply:
        guild = next((g for g in self.guilds if str(g.id) == params["guild_id"]), None)
        if guild is None:
            return _discord_error(404, 10004, "Unknown Guild")
        return _Reply(200, self._guild_payload(guild))

    def _get_guild_channels(self, *, params: dict[str, str], **_: Any) -> _Reply:
        guild = next((g for g in self.guilds if str(g.id) == params["guild_id"]), None)
        if guild is None:
            return _discord_error(404, 10004, "Unknown Guild")
        return _Reply(200, [c.payload() for c in guild.channels])

    def _channel(self, params: dict[str, str]) -> FakeChannel | None:
        cid = params["channel_id"]
        return self.channels.get(int(cid)) if cid.isdigit() else None

    def _get_channel(self, *, params: dict[str, str], **_: Any) -> _Reply:
        channel = self._channel(params)
        if channel is None:
            return _discord_error(404, 10003, "Unknown Channel")
        return _Reply(200, channel.payload())

    def _list_messages(self, *, params: dict[str, str], query: dict[str, str], **_: Any) -> _Reply:
        channel = self._channel(params)
        if channel is None:
            return _discord_error(404, 10003, "Unknown Channel")
        permissions = self.bot_permissions(channel)
        if not permissions & VIEW_CHANNEL:
            return _discord_error(403, 50001, "Missing Access")
        if not permissions & READ_MESSAGE_HISTORY:
            return _Reply(200, [])  # as Discord answers: no error, no history
        limit = int(query.get("limit", "50"))
        if not 1 <= limit <= 100:
            return _invalid_form_body(
                {
                    "limit": _error(
                        "NUMBER_TYPE_MAX", "int value should be less than or equal to 100."
                    )
                }
            )
        msgs = self.channel_messages(channel.id)
        if "before" in query:
            msgs = [m for m in msgs if int(m["id"]) < int(query["before"])]
        if "after" in query:
            msgs = [m for m in msgs if int(m["id"]) > int(query["after"])]
            return _Reply(200, list(reversed(msgs[:limit])))
        return _Reply(200, list(reversed(msgs))[:limit])

    def _post_message(
        self, *, params: dict[str, str], payload: Any, files: list[RecordedFile], **_: Any
    ) -> _Reply:
        channel = self._channel(params)
        if channel is None:
            return _discord_error(404, 10003, "Unknown Channel")
        payload = payload or {}
        errors = _message_errors(payload)
        if errors:
            return _invalid_form_body(errors)
        if _is_empty_message(payload, files):
            return _discord_error(400, 50006, "Cannot send an empty message")
        refused = self._refuse_post(channel, payload)
        if refused is not None:
            return refused
        if channel.type == FORUM:
            return _discord_error(400, 50008, "Cannot send messages in a non-text channel")
        if channel.is_thread and channel.archived:
            if channel.locked:
                return _discord_error(400, 50083, "Thread is archived")
            channel.archived = False  # a message reopens an archived thread
        payload = self._visible_embeds(channel, payload)
        return _Reply(200, self._new_message(channel, payload, files, author=self.bot_user))

    def _refuse_post(self, channel: FakeChannel, payload: JSON) -> _Reply | None:
        """Discord's refusal of the bot's message in ``channel``, or None: a DM to a user
        who does not accept them (50007); in a guild, no View Channel (50001 Missing
        Access), no Send Messages (Send Messages in Threads in a thread), or a message made
        only of embeds without Embed Links (50013 Missing Permissions)."""
        if channel.guild_id is None:
            if channel.recipient is not None and not channel.recipient.accepts_dms:
                return _discord_error(403, 50007, "Cannot send messages to this user")
            return None
        permissions = self.bot_permissions(channel)
        if not permissions & VIEW_CHANNEL:
            return _discord_error(403, 50001, "Missing Access")
        needed = SEND_MESSAGES_IN_THREADS if channel.is_thread else SEND_MESSAGES
        if not permissions & needed:
            return _discord_error(403, 50013, "Missing Permissions")
        if payload.get("embeds") and not payload.get("content") and not permissions & EMBED_LINKS:
            return _discord_error(403, 50013, "Missing Permissions")
        return None

    def _visible_embeds(self, channel: FakeChannel, payload: JSON) -> JSON:
        """``payload`` as Discord keeps it: the embeds of a bot without Embed Links in a
        guild channel are dropped (the text stays)."""
        if channel.guild_id is None or self.bot_permissions(channel) & EMBED_LINKS:
            return payload
        return {key: value for key, value in payload.items() if key != "embeds"}

    def _start_thread(
        self, *, params: dict[str, str], payload: Any, files: list[RecordedFile], **_: Any
    ) -> _Reply:
        """Start a post in a forum (docs/resources/channel#start-thread-in-forum-or-media-
        channel): ``name`` 1–100 characters, a ``message`` (whose id is the post's),
        ``applied_tags`` when the forum requires a tag (else 40067)."""
        forum = self._channel(params)
        if forum is None:
            return _discord_error(404, 10003, "Unknown Channel")
        if forum.type != FORUM:
            return _discord_error(400, 50024, "Cannot execute action on this channel type")
        payload = payload or {}
        name = str(payload.get("name") or "")
        if not 1 <= len(name) <= 100:
            return _invalid_form_body(
                {"name": _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")}
            )
        message = payload.get("message") or {}
        errors = _message_errors(message)
        if errors:
            return _invalid_form_body({"message": errors})
        if _is_empty_message(message, files):
            return _discord_error(400, 50006, "Cannot send an empty message")
        refused = self._refuse_post(forum, message)
        if refused is not None:
            return refused
        if forum.require_tag and not payload.get("applied_tags"):
            return _discord_error(400, 40067, "A tag is required to create a forum post")
        post = FakeChannel(
            self.snowflake(),
            name,
            forum.guild_id,
            type=PUBLIC_THREAD,
            parent_id=forum.id,
            owner_id=self.bot_user.id,
        )
        self.channels[post.id] = post
        message = self._visible_embeds(forum, message)
        first = self._new_message(post, message, files, author=self.bot_user, message_id=post.id)
        return _Reply(200, post.payload() | {"message": first})

    def _crosspost(self, *, params: dict[str, str], **_: Any) -> _Reply:
        """Publish a message of an announcement channel to its followers
        (docs/resources/message#crosspost-message): the bot's own message needs Send
        Messages, another's Manage Messages; once only (40033)."""
        channel = self._channel(params)
        if channel is None:
            return _discord_error(404, 10003, "Unknown Channel")
        message = self._channel_message(params)
        if message is None:
            return _discord_error(404, 10008, "Unknown Message")
        if channel.type != ANNOUNCEMENT:
            return _discord_error(400, 50024, "Cannot execute action on this channel type")
        permissions = self.bot_permissions(channel)
        mine = message["author"]["id"] == str(self.bot_user.id)
        if not permissions & (SEND_MESSAGES if mine else MANAGE_MESSAGES):
            return _discord_error(403, 50013, "Missing Permissions")
        if message["flags"] & FLAG_CROSSPOSTED:
            return _discord_error(400, 40033, "This message has already been crossposted")
        message["flags"] |= FLAG_CROSSPOSTED
        return _Reply(200, message)

    def _active_threads(self, *, params: dict[str, str], **_: Any) -> _Reply:
        guild = next((g for g in self.guilds if str(g.id) == params["guild_id"]), None)
        if guild is None:
            return _discord_error(404, 10004, "Unknown Guild")
        threads = [t.payload() for t in self.threads_of(guild) if not t.archived]
        return _Reply(200, {"threads": threads, "members": []})

    def _archived_threads(
        self, *, params: dict[str, str], query: dict[str, str], **_: Any
    ) -> _Reply:
        channel = self._channel(params)
        if channel is None:
            return _discord_error(404, 10003, "Unknown Channel")
        if not self.bot_permissions(channel) & READ_MESSAGE_HISTORY:
            return _discord_error(403, 50013, "Missing Permissions")
        limit = int(query.get("limit", "50"))
        archived = sorted(
            (t for t in self.channels.values() if t.parent_id == channel.id and t.archived),
            key=lambda thread: thread.id,
            reverse=True,
        )
        return _Reply(
            200,
            {
                "threads": [t.payload() for t in archived[:limit]],
                "members": [],
                "has_more": False,
            },
        )

    def _channel_message(self, params: dict[str, str]) -> JSON | None:
        mid = params["message_id"]
        msg = self._messages.get(int(mid)) if mid.isdigit() else None
        if msg is None or msg["channel_id"] != params["channel_id"]:
            return None
        return msg

    def _get_message(self, *, params: dict[str, str], **_: Any) -> _Reply:
        if self._channel(params) is None:
            return _discord_error(404, 10003, "Unknown Channel")
        msg = self._channel_message(params)
        if msg is None:
            return _discord_error(404, 10008, "Unknown Message")
        return _Reply(200, msg)

    def _patch_message(
        self, *, params: dict[str, str], payload: Any, files: list[RecordedFile], **_: Any
    ) -> _Reply:
        msg = self._channel_message(params)
        if msg is None:
            return _discord_error(404, 10008, "Unknown Message")
        if msg["author"]["id"] != str(self.bot_user.id):
            return _discord_error(403, 50005, "Cannot edit a message authored by another user")
        errors = _message_errors(payload or {})
        if errors:
            return _invalid_form_body(errors)
        self._edit_message(msg, payload or {}, files)
        return _Reply(200, msg)

    def _delete_message(self, *, params: dict[str, str], **_: Any) -> _Reply:
        msg = self._channel_message(params)
        if msg is None:
            return _discord_error(404, 10008, "Unknown Message")
        self._delete(msg)
        return _Reply(204)

    def _callback(
        self, *, params: dict[str, str], payload: Any, files: list[RecordedFile], **_: Any
    ) -> _Reply:
        iid = params["interaction_id"]
        it = self.interactions.get(int(iid)) if iid.isdigit() else None
        if it is None or it.token != params["token"]:
            return _discord_error(404, 10062, "Unknown interaction")
        if it.acknowledged:
            return _discord_error(400, 40060, "Interaction has already been acknowledged.")
        if it.expired or time.monotonic() - it.dispatched_at > self.callback_deadline:
            it.expired = True
            return _discord_error(404, 10062, "Unknown interaction")
        payload = payload or {}
        rtype = payload.get("type")
        data: JSON = payload.get("data") or {}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(it.type, set())
        if rtype not in allowed:
            return _invalid_form_body(
                {"type": _error("INTERACTION_RESPONSE_TYPE_INVALID", "Invalid response type.")}
            )
        if rtype in (4, 7):
            errors = _message_errors(data)
            if errors:
                return _invalid_form_body({"data": errors})
            if rtype == 4 and _is_empty_message(data, files):
                return _discord_error(400, 50006, "Cannot send an empty message")
        if rtype == 8:
            errors = _choice_errors(data.get("choices"))
            if errors:
                return _invalid_form_body({"data": errors})

        channel = self.channels[int(it.payload["channel_id"])]
        message: JSON | None = None
        clicked = self._messages.get(int(it.payload["message"]["id"])) if it.type == 3 else None
        if rtype == 4:
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            message = self._new_message(
                channel,
                data,
                files,
                author=self.bot_user,
                flags=flags,
                type_=20 if it.type == 2 else 0,
                interaction=it,
            )
        elif rtype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel,
                {"content": ""},
                [],
                author=self.bot_user,
                flags=flags,
                type_=20 if it.type == 2 else 0,
                interaction=it,
            )
        elif rtype in (6, 7):
            message = clicked
            if rtype == 7 and message is not None:
                self._edit_message(message, data, files)
        elif rtype == 8:
            it.choices = list(data.get("choices") or [])
        elif rtype == 9:
            it.modal = data
        it.response_type = rtype
        it.callbacks.append(payload)
        if message is not None:
            it.original = message
        body: JSON = {
            "interaction": {
                "id": str(it.id),
                "type": it.type,
                "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(message and message["flags"] & FLAG_EPHEMERAL),
            }
        }
        if message is not None:
            body["interaction"]["response_message_id"] = message["id"]
            if rtype in (4, 5, 7):
                body["resource"] = {"type": rtype, "message": message}
        return _Reply(200, body)

    def _webhook_interaction(self, params: dict[str, str]) -> FakeInteraction | _Reply:
        it = next((i for i in self.interactions.values() if i.token == params["token"]), None)
        if it is None or params["application_id"] != str(self.application_id):
            return _discord_error(404, 10015, "Unknown Webhook")
        if it.token_expired or time.monotonic() - it.dispatched_at > self.token_lifetime:
            it.token_expired = True
            return _discord_error(401, 50027, "Invalid Webhook Token")
        if not it.acknowledged:
            return _discord_error(404, 10015, "Unknown Webhook")
        return it

    def _followup(
        self,
        *,
        params: dict[str, str],
        query: dict[str, str],
        payload: Any,
        files: list[RecordedFile],
        **_: Any,
    ) -> _Reply:
        it = self._webhook_interaction(params)
        if isinstance(it, _Reply):
            return it
        payload = payload or {}
        errors = _message_errors(payload)
        if errors:
            return _invalid_form_body(errors)
        if _is_empty_message(payload, files):
            return _discord_error(400, 50006, "Cannot send an empty message")
        if it.response_type == 5 and it.loading and it.original is not None:
            # The first followup after a "thinking" defer replaces the loading message.
            self._edit_message(it.original, payload, files)
            msg = it.original
        else:
            channel = self.channels[int(it.payload["channel_id"])]
            msg = self._new_message(
                channel,
                payload,
                files,
                author=self.bot_user,
                flags=int(payload.get("flags") or 0) & FLAG_EPHEMERAL,
                interaction=it,
            )
            it.followups.append(msg)
        if query.get("wait", "false").lower() in ("1", "true"):
            return _Reply(200, msg)
        return _Reply(204)

    def _webhook_message(self, params: dict[str, str]) -> tuple[FakeInteraction, JSON] | _Reply:
        it = self._webhook_interaction(params)
        if isinstance(it, _Reply):
            return it
        mid = params["message_id"]
        if mid == "@original":
            msg = it.original
        else:
            msg = next((m for m in it.messages if m["id"] == mid), None)
        if msg is None or int(msg["id"]) not in self._messages:
            return _discord_error(404, 10008, "Unknown Message")
        return it, msg

    def _wh_get(self, *, params: dict[str, str], **_: Any) -> _Reply:
        found = self._webhook_message(params)
        return found if isinstance(found, _Reply) else _Reply(200, found[1])

    def _wh_edit(
        self, *, params: dict[str, str], payload: Any, files: list[RecordedFile], **_: Any
    ) -> _Reply:
        found = self._webhook_message(params)
        if isinstance(found, _Reply):
            return found
        errors = _message_errors(payload or {})
        if errors:
            return _invalid_form_body(errors)
        self._edit_message(found[1], payload or {}, files)
        return _Reply(200, found[1])

    def _wh_delete(self, *, params: dict[str, str], **_: Any) -> _Reply:
        found = self._webhook_message(params)
        if isinstance(found, _Reply):
            return found
        it, msg = found
        self._delete(msg)
        if it.original is msg:
            it.original = None
        else:
            it.followups.remove(msg)
        return _Reply(204)


# --------------------------------------------------------------------------- test helpers


@asynccontextmanager
async def fake_discord_server(**kwargs: Any) -> AsyncIterator[FakeDiscord]:
    """``async with fake_discord_server(guilds=2) as fake:`` — start a patched fake."""
    async with FakeDiscord(**kwargs) as fake:
        yield fake


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A started FakeDiscord with discord.py patched to use it (restored afterwards).

    Use it from another test module with ``from tests.fakes import fake_discord`` or by
    listing ``"tests.fakes.discord_server"`` in ``pytest_plugins`` of the root conftest.
    """
    async with FakeDiscord() as fake:
        yield fake
