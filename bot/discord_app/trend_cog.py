"""``/news trend <topic> [period]``: how topics moved through the news, as a chart.

The command joins the ``/news`` group that ``NewsCog`` registers (this cog is added after
it). It defers first ("thinking…"), computes the trend and draws the chart in a worker
thread (``bot.chart.answer_trend``), then follows up with technyan's line and one PNG
attachment whose ``description`` is the chart's alt text. With nothing to draw the
follow-up is the text alone. ``topic`` autocompletes names for its last comma-separated
part, so ``DeepSeek, Gem`` offers ``DeepSeek, Gemini``.
"""

from __future__ import annotations

import asyncio
import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.embeds import (
    AUTOCOMPLETE_CHOICES_LIMIT,
    CHOICE_VALUE_LIMIT,
    autocomplete_choices,
    message_content,
)
from bot.discord_app.errors import ANSWERED, RESULTS
from bot.discord_app.news_cog import AUTOCOMPLETE_BUDGET_SECONDS
from bot.persona import reply_locale
from bot.trend import ALT_TEXT_LIMIT, PERIOD_CHOICES, TrendService, split_topics

__all__ = ["PERIOD_NAMES", "TrendCog", "build_trend_command", "topic_choices"]

log = logging.getLogger("bot.discord_app")

#: The English names of the ``period`` choices (Japanese ones: bot/data/commands.toml).
PERIOD_NAMES = {
    "all": "All time",
    "1y": "Past year",
    "6m": "Past 6 months",
    "3m": "Past 3 months",
    "1m": "Past month (per week)",
}


class TrendCog(commands.Cog, name="trend"):
    """Adds ``/news trend`` to the bot's ``/news`` group on load and removes it on unload.
    ``trends`` answers it; the group must already be on the command tree (``NewsCog``
    loaded first), else loading raises ``RuntimeError``."""

    def __init__(self, bot: commands.Bot | commands.AutoShardedBot, trends: TrendService) -> None:
        self.bot = bot
        self.trends = trends
        self.command = build_trend_command(self)

    def _group(self) -> app_commands.Group | None:
        group = self.bot.tree.get_command("news")
        return group if isinstance(group, app_commands.Group) else None

    async def cog_load(self) -> None:
        """Add ``trend`` to the ``/news`` group."""
        group = self._group()
        if group is None:
            raise RuntimeError("/news trend needs the /news group: add NewsCog first")
        group.add_command(self.command, override=True)

    async def cog_unload(self) -> None:
        """Take ``trend`` out of the ``/news`` group."""
        group = self._group()
        if group is not None:
            group.remove_command(self.command.name)

    def _locale(self, interaction: discord.Interaction) -> str:
        return reply_locale(interaction.locale.value, self.trends.news.settings.default_locale)

    async def trend(self, interaction: discord.Interaction, topic: str, period: str | None) -> None:
        """``/news trend``: defer, count and draw in a worker thread, follow up with the
        text and the chart as one attachment (alt text in its ``description``)."""
        await interaction.response.defer(thinking=True)
        from bot.chart import answer_trend  # matplotlib loads on the first chart, not at start

        answer = await asyncio.to_thread(
            answer_trend, self.trends, topic, period, self._locale(interaction)
        )
        content = message_content(answer.reply.text)
        if answer.image is None:
            await interaction.followup.send(content=content, wait=True)
        else:
            image = answer.image
            attachment = discord.File(
                io.BytesIO(image.png),
                filename=image.filename,
                description=image.description[:ALT_TEXT_LIMIT],
            )
            await interaction.followup.send(content=content, file=attachment, wait=True)
        interaction.extras[ANSWERED] = True
        interaction.extras[RESULTS] = answer.stories

    async def topic_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for ``topic``: names (not titles) completing the last
        comma-separated part, the earlier parts kept; no choices rather than late."""
        topics = split_topics(current)
        typing_new = current.rstrip().endswith((",", "、", "，"))
        earlier = topics if typing_new else topics[:-1]
        last = "" if typing_new or not topics else topics[-1]
        try:
            suggestions = await asyncio.wait_for(
                asyncio.to_thread(self.trends.news.suggest, last, AUTOCOMPLETE_CHOICES_LIMIT * 2),
                AUTOCOMPLETE_BUDGET_SECONDS,
            )
        except TimeoutError:
            log.warning("trend autocomplete over budget for %r", current[:50])
            return []
        except Exception:
            log.exception("trend autocomplete failed for %r", current[:50])
            return []
        names = [s.name for s in suggestions if s.kind != "title"]
        return topic_choices(earlier, names)


def topic_choices(earlier: list[str], names: list[str]) -> list[app_commands.Choice[str]]:
    """Choices that append each of ``names`` to the topics typed so far (``earlier``),
    joined by ``", "``, without repeating a topic, each at most CHOICE_VALUE_LIMIT
    characters whole (a choice cut short would name another topic)."""
    typed = {name.casefold() for name in earlier}
    pairs = []
    for name in names:
        if name.casefold() in typed:
            continue
        value = ", ".join([*earlier, name])
        if len(value) <= CHOICE_VALUE_LIMIT:
            pairs.append((value, value))
    return autocomplete_choices(pairs)


def build_trend_command(cog: TrendCog) -> app_commands.Command[app_commands.Group, ..., None]:
    """The ``trend`` subcommand bound to ``cog``: ``topic`` (autocompleted) and
    ``period`` (choices: all time, the past year, 6, 3 months, the past month per week)."""

    @app_commands.command(name="trend", description="A chart of how topics moved through the news")
    @app_commands.describe(
        topic="A topic, or up to three separated by commas (DeepSeek, Gemini, Claude)",
        period="How far back (default: all time)",
    )
    @app_commands.choices(
        period=[app_commands.Choice(name=PERIOD_NAMES[key], value=key) for key in PERIOD_CHOICES]
    )
    async def trend(
        interaction: discord.Interaction, topic: str, period: str | None = None
    ) -> None:
        await cog.trend(interaction, topic, period)

    @trend.autocomplete("topic")
    async def trend_topic(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await cog.topic_choices(interaction, current)

    return trend  # type: ignore[return-value]
