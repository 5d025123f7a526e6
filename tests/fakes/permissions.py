"""Roles and permissions as Discord computes them, for the fake Discord.

Discord's algorithm (docs/topics/permissions#permission-overwrites): the base is the
@everyone role's permissions OR the member's roles'; Administrator grants everything;
then the channel's overwrites apply — @everyone's deny then allow, the member's roles'
denies then allows together, the member's own — and a thread takes its parent channel's
overwrites. Without View Channel a member has no permission in the channel at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "CREATE_PUBLIC_THREADS",
    "EMBED_LINKS",
    "MANAGE_MESSAGES",
    "MANAGE_THREADS",
    "MENTION_EVERYONE",
    "READ_MESSAGE_HISTORY",
    "SEND_MESSAGES",
    "SEND_MESSAGES_IN_THREADS",
    "VIEW_CHANNEL",
    "FakeRole",
    "Overwrite",
    "channel_permissions",
]

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_MESSAGES = 1 << 13
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1


@dataclass
class FakeRole:
    """A guild role: ``mentionable`` says whether anyone may ping it (else only members
    with Mention Everyone can)."""

    id: int
    name: str
    permissions: int = 0
    mentionable: bool = False
    position: int = 1

    def payload(self) -> dict[str, Any]:
        """The role object as Discord sends it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Overwrite:
    """A channel's permission overwrite for one role (``type`` 0) or member (1)."""

    id: int
    allow: int = 0
    deny: int = 0
    type: int = 0

    def payload(self) -> dict[str, Any]:
        """The overwrite object as Discord sends it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class PermissionSubject:
    """Who the permissions are for: the @everyone role's id (the guild's), the
    permissions of @everyone and of the member's roles, the member's id."""

    everyone_id: int
    everyone: int
    roles: dict[int, int] = field(default_factory=dict)
    member_id: int = 0


def channel_permissions(subject: PermissionSubject, overwrites: list[Overwrite]) -> int:
    """The permissions of ``subject`` in a channel with ``overwrites`` (see the module
    docstring)."""
    base = subject.everyone
    for permissions in subject.roles.values():
        base |= permissions
    if base & ADMINISTRATOR:
        return ALL_PERMISSIONS
    by_id = {o.id: o for o in overwrites}
    everyone = by_id.get(subject.everyone_id)
    if everyone is not None:
        base = (base & ~everyone.deny) | everyone.allow
    deny = allow = 0
    for role_id in subject.roles:
        overwrite = by_id.get(role_id)
        if overwrite is not None and overwrite.type == 0:
            deny |= overwrite.deny
            allow |= overwrite.allow
    base = (base & ~deny) | allow
    member = by_id.get(subject.member_id)
    if member is not None and member.type == 1:
        base = (base & ~member.deny) | member.allow
    if not base & VIEW_CHANNEL:
        return 0
    return base
