"""A per-user budget of application commands, shared by every command of the bot.

One user sending commands as fast as a script can would otherwise take the bot's worker
threads from everyone else. Each user gets ``COMMANDS_PER_USER`` commands per
``COOLDOWN_SECONDS`` across all commands together (a token bucket per user id: discord.py's
``app_commands.Cooldown``, the same bucket its ``app_commands.checks.cooldown`` decorator
keeps, held here once for the whole tree instead of once per command); a command over the
budget raises discord.py's ``app_commands.CommandOnCooldown`` before any work is done, and
the tree answers it with technyan's ephemeral "slow down". Autocomplete and buttons are not
counted.
"""

from __future__ import annotations

import discord
from discord import app_commands

__all__ = ["COMMANDS_PER_USER", "COOLDOWN_SECONDS", "UserCooldown"]

#: Commands one user may run per ``COOLDOWN_SECONDS``: enough for a person reading news
#: (a search, a page of results, another search), far below a script.
COMMANDS_PER_USER = 5
#: The window of the per-user budget, in seconds.
COOLDOWN_SECONDS = 10.0


class UserCooldown:
    """Per-user command budgets: ``rate`` commands per ``per`` seconds for each user id.
    Buckets whose budget is whole again (no command in their last window: discord.py's
    ``Cooldown.get_tokens``) are dropped, as a new bucket would behave the same, so memory
    follows the users active in the last window. Time is the interaction's creation time
    (from its snowflake, in UTC seconds), as discord.py's own cooldown check uses."""

    def __init__(self, rate: int = COMMANDS_PER_USER, per: float = COOLDOWN_SECONDS) -> None:
        self.rate = rate
        self.per = per
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def check(self, interaction: discord.Interaction) -> None:
        """Count one command of ``interaction.user``. Raises
        ``app_commands.CommandOnCooldown`` (with ``retry_after`` in seconds) when the user
        is over the budget; the refused command does not count."""
        now = interaction.created_at.timestamp()
        idle = [
            user for user, bucket in self._buckets.items() if bucket.get_tokens(now) >= self.rate
        ]
        for user in idle:
            del self._buckets[user]
        bucket = self._buckets.setdefault(
            interaction.user.id, app_commands.Cooldown(self.rate, self.per)
        )
        retry_after = bucket.update_rate_limit(now)
        if retry_after is not None:
            raise app_commands.CommandOnCooldown(bucket, retry_after)
