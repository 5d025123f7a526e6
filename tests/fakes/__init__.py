"""Test doubles for the Discord side: a fake Discord server a real discord.py client uses."""

from .discord_server import (
    DEFAULT_MEMBER_PERMISSIONS,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeRole,
    FakeUser,
    FaultKind,
    GatewayFrame,
    RecordedFile,
    RecordedRequest,
    fake_discord,
    fake_discord_server,
)

__all__ = [
    "DEFAULT_MEMBER_PERMISSIONS",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeRole",
    "FakeUser",
    "FaultKind",
    "GatewayFrame",
    "RecordedFile",
    "RecordedRequest",
    "fake_discord",
    "fake_discord_server",
]
