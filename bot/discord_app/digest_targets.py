"""Where a digest can go on Discord, and what the bot needs there.

A digest goes to a text channel, an announcement channel (optionally published to the
channels following it), a thread of either, or a forum channel (a new post per digest).
Each kind needs its permissions (docs/topics/permissions#permissions-bitwise-permission-
flags; discord.py's names):

* text and announcement channels: View Channel, Send Messages, Embed Links (without it
  Discord refuses a message made only of an embed with 403 50013, or drops the embed of
  one with text) and Read Message History (without it Discord answers an empty history,
  so a restarted bot could not see the digest it already posted);
* threads: View Channel, Send Messages in Threads, Embed Links, Read Message History;
* forum channels: View Channel, Send Messages (which forums call Create Posts: docs/
  resources/channel#start-thread-in-forum-or-media-channel), Send Messages in Threads
  (for the later parts of a long digest), Embed Links, Read Message History.

A role mention pings only when the role is mentionable or the bot may Mention @everyone,
@here and All Roles; @everyone itself is never a digest's role.

``check_target`` answers ``/digest subscribe`` and ``edit`` with a ``ChannelCheck``;
``missing_permissions`` is also the poster's check before each post, from the cached
guild (no request), so a permission taken away pauses the subscription naming it.
"""

from __future__ import annotations

import discord

from bot.admin import ChannelCheck

__all__ = [
    "REQUIRED_PERMISSIONS",
    "check_target",
    "missing_permissions",
    "role_problems",
    "target_kind",
]

#: Permission codes each kind of target needs (``create_posts`` is ``send_messages`` in a
#: forum; the others are discord.py ``Permissions`` attributes).
REQUIRED_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "text": ("view_channel", "send_messages", "embed_links", "read_message_history"),
    "announcement": ("view_channel", "send_messages", "embed_links", "read_message_history"),
    "thread": ("view_channel", "send_messages_in_threads", "embed_links", "read_message_history"),
    "forum": (
        "view_channel",
        "create_posts",
        "send_messages_in_threads",
        "embed_links",
        "read_message_history",
    ),
}

_KINDS = {
    discord.ChannelType.text: "text",
    discord.ChannelType.news: "announcement",
    discord.ChannelType.public_thread: "thread",
    discord.ChannelType.private_thread: "thread",
    discord.ChannelType.news_thread: "thread",
    discord.ChannelType.forum: "forum",
    discord.ChannelType.media: "forum",
}


def target_kind(channel: object) -> str | None:
    """``text``, ``announcement``, ``thread`` or ``forum`` for a channel a digest can go
    to (a discord.py channel, or an ``AppCommandChannel``/``AppCommandThread``), else
    None (a voice channel, a category, a DM)."""
    return _KINDS.get(getattr(channel, "type", None))  # type: ignore[arg-type]


def missing_permissions(kind: str, permissions: discord.Permissions) -> tuple[str, ...]:
    """The permissions of ``REQUIRED_PERMISSIONS[kind]`` that ``permissions`` lacks."""
    missing = []
    for code in REQUIRED_PERMISSIONS[kind]:
        attribute = "send_messages" if code == "create_posts" else code
        if not getattr(permissions, attribute):
            missing.append(code)
    return tuple(missing)


def role_problems(role: discord.Role, permissions: discord.Permissions) -> tuple[str, ...]:
    """Why a digest could not ping ``role``: ``role_everyone`` or
    ``role_not_mentionable`` (not mentionable, and the bot may not mention every role);
    empty when it can."""
    if role.is_default():
        return ("role_everyone",)
    if not role.mentionable and not permissions.mention_everyone:
        return ("role_not_mentionable",)
    return ()


def check_target(
    channel: discord.abc.GuildChannel | discord.Thread,
    me: discord.Member,
    role: discord.Role | None = None,
) -> ChannelCheck:
    """What stops a digest in ``channel`` (a resolved guild channel or thread) posted by
    the bot's member ``me`` and mentioning ``role``: the missing permissions, a locked
    archived thread, a forum that requires tags, a role that cannot be pinged. A channel
    of another kind is ``not_messageable``."""
    kind = target_kind(channel)
    if kind is None:
        return ChannelCheck("text", problems=("not_messageable",))
    try:
        permissions = channel.permissions_for(me)
    except discord.ClientException:  # a thread whose parent is not cached
        return ChannelCheck(kind)
    problems: list[str] = []
    locked = isinstance(channel, discord.Thread) and channel.locked and channel.archived
    if locked and not permissions.manage_threads:
        problems.append("thread_locked")
    if isinstance(channel, discord.ForumChannel) and channel.flags.require_tag:
        problems.append("forum_requires_tag")
    if role is not None:
        problems.extend(role_problems(role, permissions))
    return ChannelCheck(kind, missing_permissions(kind, permissions), tuple(problems))
