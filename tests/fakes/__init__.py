"""Test doubles for the Discord side: a fake Discord server a real discord.py client uses."""

from .discord_server import (
    DEADLINE_SECONDS,
    DEFAULT_MEMBER_PERMISSIONS,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeRole,
    FakeUser,
    FaultKind,
    GatewayFrame,
    HeldRequests,
    RecordedFile,
    RecordedRequest,
    fake_discord,
    fake_discord_server,
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
