"""The per-user command budget (bot/discord_app/cooldowns.py)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from discord import app_commands

from bot.discord_app.cooldowns import UserCooldown

START = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def interaction(user_id: int, seconds: float) -> Any:
    """A stand-in for ``discord.Interaction``: what the budget reads of one."""
    return SimpleNamespace(
        user=SimpleNamespace(id=user_id), created_at=START + dt.timedelta(seconds=seconds)
    )


def test_a_user_gets_the_budget_back_after_the_window() -> None:
    cooldown = UserCooldown(rate=2, per=10.0)
    cooldown.check(interaction(1, 0.0))
    cooldown.check(interaction(1, 1.0))
    with pytest.raises(app_commands.CommandOnCooldown) as refused:
        cooldown.check(interaction(1, 2.0))
    assert refused.value.retry_after == pytest.approx(8.0)
    cooldown.check(interaction(2, 2.5))  # another user has a budget of their own
    cooldown.check(interaction(1, 10.5))


def test_only_users_active_in_the_last_window_are_remembered() -> None:
    cooldown = UserCooldown(rate=5, per=10.0)
    for user in range(100):
        cooldown.check(interaction(user, user * 0.01))
    assert len(cooldown._buckets) == 100
    cooldown.check(interaction(1000, 15.0))  # every other user idle for over 10 s
    assert set(cooldown._buckets) == {1000}
    cooldown.check(interaction(1001, 20.0))
    assert set(cooldown._buckets) == {1000, 1001}
