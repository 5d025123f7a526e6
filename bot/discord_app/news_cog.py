"""The ``/news`` application commands, for everyone, and mentions of the bot.

``/news latest [count] [category]``, ``/news about <query>`` (autocomplete on ``query``),
``/news ask <question>`` and ``/news help``. ``/news`` may be used in servers, in the bot's
DMs and in private channels, and installed to a server or to a user's own account
(``contexts`` and ``integration_types`` of the command). A message mentioning the bot is
answered like ``/news ask``.

Every answer comes from the core (``NewsService``) as a ``Reply``; how it travels (deferred
or not, public or ephemeral, which buttons) is the ``ReplySender``'s business. Autocomplete
answers from the core's in-memory data within a budget well inside Discord's 3 seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app.command_help import CommandDirectory
from bot.discord_app.embeds import (
    AUTOCOMPLETE_CHOICES_LIMIT,
    INTERACTION_RESPONSE_SECONDS,
    autocomplete_choices,
    message_content,
    option_choices,
)
from bot.discord_app.errors import message_context
from bot.discord_app.responder import ReplySender
from bot.discord_app.views import ReplySource
from bot.persona import reply_locale
from bot.replies import Reply
from bot.service import MAX_LATEST, NewsService

__all__ = [
    "AUTOCOMPLETE_BUDGET_SECONDS",
    "DEFAULT_LATEST_COUNT",
    "NEWS_CONTEXTS",
    "NEWS_INSTALLS",
    "NewsCog",
    "build_news_group",
    "mention_locale",
    "strip_mentions",
]

log = logging.getLogger("bot.discord_app")

#: Seconds autocomplete may spend in the core before answering no choices: half of the
#: interaction's response window, so the answer always arrives in time.
AUTOCOMPLETE_BUDGET_SECONDS = INTERACTION_RESPONSE_SECONDS / 2
#: Stories ``/news latest`` shows when ``count`` is not given.
DEFAULT_LATEST_COUNT = 5
#: Where ``/news`` may be used: servers, the bot's DMs, group DMs and other private
#: channels (docs/interactions/application-commands#interaction-contexts).
NEWS_CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
#: How ``/news`` may be installed: to a server, or by a user to their own account
#: (docs/resources/application#installation-context).
NEWS_INSTALLS = app_commands.AppInstallationType(guild=True, user=True)

_JAPANESE_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def strip_mentions(content: str, user_id: int, role_id: int | None = None) -> str:
    """``content`` without the mentions of the bot (``<@id>``, ``<@!id>`` and, when given,
    its managed role ``<@&role_id>``), whitespace collapsed."""
    pattern = rf"<@!?{user_id}>"
    if role_id is not None:
        pattern += rf"|<@&{role_id}>"
    return " ".join(re.sub(pattern, " ", content).split())


def mention_locale(guild_locale: str | None, text: str) -> str:
    """The reply language for a message: ``ja`` when the guild's preferred locale is
    Japanese, else ``ja`` when the text contains Japanese characters, else ``en``."""
    if guild_locale and reply_locale(guild_locale) == "ja":
        return "ja"
    return "ja" if _JAPANESE_RE.search(text) else "en"


class NewsCog(commands.Cog, name="news"):
    """The ``/news`` group (built by :func:`build_news_group` when the cog is made, with
    the category choices given) and the mention listener.

    ``bot`` is the client (a ``commands.Bot`` or ``AutoShardedBot``; a ``closing``
    attribute, when true, stops the cog answering mentions), ``sender`` sends replies,
    ``directory`` names commands for the help, ``categories`` are the core's category
    names, most common first (at most 25 become choices)."""

    def __init__(
        self,
        bot: commands.Bot | commands.AutoShardedBot,
        service: NewsService,
        *,
        sender: ReplySender,
        directory: CommandDirectory,
        categories: Sequence[str] = (),
    ) -> None:
        self.bot = bot
        self.service = service
        self.persona = service.persona
        self.sender = sender
        self.directory = directory
        self.group = build_news_group(self, categories)

    async def cog_load(self) -> None:
        """Register the ``/news`` group on the bot's command tree."""
        self.bot.tree.add_command(self.group, override=True)

    async def cog_unload(self) -> None:
        """Remove the ``/news`` group from the command tree."""
        self.bot.tree.remove_command(self.group.name)

    def _locale(self, interaction: discord.Interaction) -> str:
        return self.sender.locale_of(interaction)

    # -- commands ---------------------------------------------------------------------------

    async def latest(
        self, interaction: discord.Interaction, count: int | None, category: str | None
    ) -> None:
        """``/news latest``: the newest stories (compact list above three, cards up to
        three); an unknown category is answered ephemerally."""
        locale = self._locale(interaction)
        wanted = DEFAULT_LATEST_COUNT if count is None else count
        source = ReplySource("latest", locale, wanted, category or "")

        async def work() -> Reply:
            return await asyncio.to_thread(self.service.latest, wanted, category, locale)

        await self.sender.answer(interaction, work, source=source)

    async def about(self, interaction: discord.Interaction, query: str) -> None:
        """``/news about``: stories about ``query``; an empty query, or nothing found, is
        answered ephemerally (with "did you mean" buttons)."""
        locale = self._locale(interaction)
        source = ReplySource("about", locale, 0, " ".join(query.split()))

        async def work() -> Reply:
            return await asyncio.to_thread(self.service.about, query, locale)

        await self.sender.answer(interaction, work, source=source)

    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """``/news ask``: the sentence that answers ``question``, quoted; no answer is
        said ephemerally."""
        locale = self._locale(interaction)

        async def work() -> Reply:
            return await asyncio.to_thread(self.service.ask, question, locale)

        await self.sender.answer(interaction, work)

    async def help(self, interaction: discord.Interaction) -> None:
        """``/news help``: technyan's description of the commands, ephemerally, with
        clickable command mentions."""
        locale = self._locale(interaction)

        async def work() -> Reply:
            text = await self.directory.help_text(
                self.persona, locale, interaction.guild_id, seed=str(interaction.id)
            )
            return Reply("help", locale, text)

        await self.sender.answer(interaction, work, visibility="ephemeral")

    async def query_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for ``/news about query``: the core's suggestions (names, then one
        title per story in the user's language first) as at most 25 choices of at most 100
        characters. Answers no choices rather than late: the core gets
        ``AUTOCOMPLETE_BUDGET_SECONDS``."""
        locale = self._locale(interaction)
        try:
            suggestions = await asyncio.wait_for(
                asyncio.to_thread(
                    self.service.suggest, current, AUTOCOMPLETE_CHOICES_LIMIT, locale
                ),
                AUTOCOMPLETE_BUDGET_SECONDS,
            )
        except TimeoutError:
            log.warning("autocomplete over budget for %r; answering no choices", current[:50])
            return []
        except Exception:
            log.exception("autocomplete failed for %r", current[:50])
            return []
        return autocomplete_choices((s.name, s.value) for s in suggestions)

    # -- mentions -------------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a message that mentions the bot (or any direct message) like
        ``/news ask``, as a reply that pings nobody. Messages by bots are ignored."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return
        if getattr(self.bot, "closing", False):
            return  # shutting down: no new work
        role = message.guild.self_role if message.guild is not None else None
        mentioned = any(user.id == me.id for user in message.mentions) or (
            role is not None and role in message.role_mentions
        )
        if message.guild is not None and not mentioned:
            return
        try:
            await self.answer_message(message, me.id, role.id if role is not None else None)
        except discord.Forbidden as error:
            log.warning("cannot reply to a mention (%s): %s", message_context(message), error)
        except Exception:
            log.exception("answering a mention failed (%s)", message_context(message))
            await self._apologize(message)

    async def answer_message(
        self, message: discord.Message, bot_id: int, role_id: int | None
    ) -> None:
        """Reply to ``message`` with ``NewsService.ask`` on its text without the bot's
        mention (technyan's ``mention_no_question`` when nothing is left)."""
        question = strip_mentions(message.content, bot_id, role_id)
        guild_locale = message.guild.preferred_locale.value if message.guild else None
        locale = mention_locale(guild_locale, question)
        if question:
            reply = await asyncio.to_thread(self.service.ask, question, locale)
        else:
            reply = Reply(
                "ask", locale, self.persona.say("mention_no_question", locale, seed=str(message.id))
            )
        rendered = self.sender.render(reply)
        view = self.sender.view(message.author.id, reply, rendered, None)
        options: dict[str, Any] = {"content": rendered.content, "embeds": rendered.first_page}
        if view is not None:
            options["view"] = view
        await message.channel.send(
            **options,
            reference=message.to_reference(fail_if_not_exists=False),
            mention_author=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    async def _apologize(self, message: discord.Message) -> None:
        guild_locale = message.guild.preferred_locale.value if message.guild else None
        locale = mention_locale(guild_locale, message.content)
        text = self.persona.say("error", locale, seed=str(message.id))
        try:
            await message.channel.send(
                message_content(text),
                reference=message.to_reference(fail_if_not_exists=False),
                mention_author=False,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as error:
            log.warning("could not apologize (%s): %s", message_context(message), error)


def build_news_group(cog: NewsCog, categories: Sequence[str]) -> app_commands.Group:
    """The ``/news`` group with its subcommands, bound to ``cog``: usable in every context
    (``NEWS_CONTEXTS``) and installable to servers and users (``NEWS_INSTALLS``), with no
    default permission (everyone sees it).

    Built per cog (not declared on the class) because the ``category`` choices of
    ``latest`` are the core's categories, known only at run time (their Japanese names
    come from the translator)."""
    group = app_commands.Group(
        name="news",
        description="AI news from Technyan",
        allowed_contexts=NEWS_CONTEXTS,
        allowed_installs=NEWS_INSTALLS,
    )
    category_choices = option_choices(categories)

    @group.command(name="latest", description="The newest AI stories")
    @app_commands.describe(
        count=f"How many stories (1–{MAX_LATEST})", category="Only stories in this category"
    )
    @app_commands.choices(category=category_choices)
    async def latest(
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, MAX_LATEST] | None = None,
        category: str | None = None,
    ) -> None:
        await cog.latest(interaction, count, category)

    @group.command(name="about", description="Stories about a topic")
    @app_commands.describe(query="A company, model, person or keyword")
    async def about(interaction: discord.Interaction, query: str) -> None:
        await cog.about(interaction, query)

    @about.autocomplete("query")
    async def about_query(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await cog.query_choices(interaction, current)

    @group.command(
        name="ask", description="Ask a question; Technyan quotes the article that answers it"
    )
    @app_commands.describe(question="Your question")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await cog.ask(interaction, question)

    @group.command(name="help", description="What Technyan can do")
    async def help_(interaction: discord.Interaction) -> None:
        await cog.help(interaction)

    return group
