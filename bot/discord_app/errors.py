"""What the bot does when something fails while answering an interaction or a message.

The user gets technyan's apology (ephemeral for interactions) and never a traceback; the
log gets the cause with the interaction's context (command, guild, channel, user id,
locale) and never a token. An interaction Discord no longer accepts (10062 "Unknown
interaction" after the 3-second window, 50027 "Invalid Webhook Token" after 15 minutes) is
logged and dropped: nothing can be sent for it any more.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.persona import Persona, reply_locale

__all__ = [
    "ANSWERED",
    "RESULTS",
    "UNKNOWN_INTERACTION",
    "WEBHOOK_TOKEN_EXPIRED",
    "answer_failure",
    "interaction_context",
    "is_gone",
    "message_context",
    "unwrap",
]

log = logging.getLogger("bot.discord_app")

#: docs/topics/opcodes-and-status-codes#json: "Unknown interaction" (the first response
#: came after 3 seconds, or the interaction was already answered elsewhere).
UNKNOWN_INTERACTION = 10062
#: docs/topics/opcodes-and-status-codes#json: "Invalid Webhook Token" (the interaction's
#: 15 minutes are over).
WEBHOOK_TOKEN_EXPIRED = 50027
#: Key of ``Interaction.extras`` set once the bot's real answer was delivered after a
#: defer, so a later failure does not delete it.
ANSWERED = "technyan_answered"
#: ``interaction.extras`` key: how many stories (or answers) the reply carried, for the log.
RESULTS = "technyan_results"


def unwrap(error: BaseException) -> BaseException:
    """The exception behind discord.py's wrappers (``CommandInvokeError`` and friends)."""
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ or getattr(error, "original", None)
        if inner is None or inner is error:
            break
        error = inner
    return error


def is_gone(error: BaseException) -> bool:
    """True when Discord no longer accepts anything for the interaction: 10062 "Unknown
    interaction" or 401/50027 "Invalid Webhook Token"."""
    error = unwrap(error)
    return isinstance(error, discord.HTTPException) and (
        error.code in (UNKNOWN_INTERACTION, WEBHOOK_TOKEN_EXPIRED)
    )


def _command_name(interaction: discord.Interaction) -> str:
    command = interaction.command
    if command is not None:
        return command.qualified_name
    data: dict[str, Any] = dict(interaction.data or {})
    if "custom_id" in data:
        return f"component {data.get('custom_id')}"
    return str(data.get("name") or interaction.type.name)


def interaction_context(interaction: discord.Interaction) -> str:
    """``command=… guild=… channel=… user=… locale=…`` for a log line (ids only; never the
    interaction's token)."""
    return (
        f"command={_command_name(interaction)!r} guild={interaction.guild_id} "
        f"channel={interaction.channel_id} user={interaction.user.id} "
        f"locale={interaction.locale.value}"
    )


def message_context(message: discord.Message) -> str:
    """``message=… guild=… channel=… user=…`` for a log line."""
    guild = message.guild.id if message.guild else None
    return (
        f"message={message.id} guild={guild} channel={message.channel.id} user={message.author.id}"
    )


async def answer_failure(
    interaction: discord.Interaction,
    error: BaseException,
    persona: Persona,
    *,
    what: str = "interaction",
) -> None:
    """Log ``error`` with the interaction's context and answer technyan's ephemeral
    apology (persona ``error``, in the user's language).

    Not yet answered: the apology is the response. Deferred ("thinking…") and not yet
    answered: the thinking message is removed and the apology follows ephemerally, so the
    channel is left with nothing. Otherwise the apology is an ephemeral followup.
    Autocomplete cannot show text, and an interaction that is gone (``is_gone``) cannot be
    answered: both are only logged. Never raises."""
    cause = unwrap(error)
    context = interaction_context(interaction)
    if is_gone(cause):
        log.warning("%s no longer answerable (%s): %s", what, context, cause)
        return
    log.error("%s failed (%s)", what, context, exc_info=cause)
    if interaction.type is discord.InteractionType.autocomplete:
        return
    apology = persona.say("error", reply_locale(interaction.locale.value), seed=str(interaction.id))
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(apology, ephemeral=True)
            return
        deferred = interaction.response.type is (
            discord.InteractionResponseType.deferred_channel_message
        )
        if deferred and not interaction.extras.get(ANSWERED):
            try:
                await interaction.delete_original_response()
            except discord.HTTPException as delete_error:
                log.info("could not remove the thinking message (%s): %s", context, delete_error)
        await interaction.followup.send(apology, ephemeral=True)
    except discord.HTTPException as send_error:
        log.warning("could not send the apology (%s): %s", context, send_error)
