"""The ``/news`` application commands, mentions of the bot, and how their replies are sent.

``/news latest [count] [category]``, ``/news about <query>`` (autocomplete on ``query``),
``/news ask <question>`` and ``/news help`` are for everyone; ``/news subscribe``,
``unsubscribe``, ``subscriptions``, ``resume`` and ``/news digest preview`` are for members
with Manage Server and delegate to a ``DigestAdmin``. A message mentioning the bot is
answered like ``/news ask``.

Every answer comes from the core (``NewsService`` or ``DigestAdmin``) as a ``Reply``; this
module only decides how it travels: deferred or direct, ephemeral or public, which buttons.
Slow work (``about``, ``ask``, admin commands) defers first and runs the core in a thread;
autocomplete answers from the core's in-memory data within a budget well inside Discord's
3 seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import DigestAdmin
from bot.discord_app.embeds import (
    AUTOCOMPLETE_CHOICES_LIMIT,
    INTERACTION_RESPONSE_SECONDS,
    EmbedLabels,
    RenderedReply,
    autocomplete_choices,
    message_content,
    option_choices,
    render_reply,
)
from bot.discord_app.errors import ANSWERED, RESULTS, message_context
from bot.discord_app.views import DEFAULT_VIEW_TIMEOUT, ReplyView
from bot.persona import reply_locale
from bot.replies import Reply
from bot.service import MAX_LATEST, NewsService

if TYPE_CHECKING:
    from bot.discord_app.client import NewsBot

__all__ = [
    "AUTOCOMPLETE_BUDGET_SECONDS",
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

_JAPANESE_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")

AnyMessage = discord.Message | discord.InteractionMessage | discord.WebhookMessage


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

    ``categories`` are the core's category names, most common first (at most 25 become
    choices). ``digest_admin`` answers the admin subcommands; without it they answer
    technyan's ``digest_unavailable`` ephemerally. ``view_timeout`` is the seconds after
    which reply buttons are removed.
    """

    def __init__(
        self,
        bot: NewsBot,
        service: NewsService,
        *,
        categories: Sequence[str] = (),
        digest_admin: DigestAdmin | None = None,
        view_timeout: float = DEFAULT_VIEW_TIMEOUT,
    ) -> None:
        self.bot = bot
        self.service = service
        self.persona = service.persona
        self.digest_admin = digest_admin
        self.view_timeout = view_timeout
        self.group = build_news_group(self, categories)

    async def cog_load(self) -> None:
        """Register the ``/news`` group on the bot's command tree."""
        self.bot.tree.add_command(self.group, override=True)

    async def cog_unload(self) -> None:
        """Remove the ``/news`` group from the command tree."""
        self.bot.tree.remove_command(self.group.name)

    # -- sending replies ------------------------------------------------------------------

    def render(self, reply: Reply) -> RenderedReply:
        """``reply`` laid out for Discord in the reply's own language."""
        return render_reply(reply, EmbedLabels.from_persona(self.persona, reply.locale))

    def make_view(self, owner_id: int, rendered: RenderedReply, locale: str) -> ReplyView:
        """The buttons for ``rendered``, owned by ``owner_id``."""
        return ReplyView(
            owner_id=owner_id,
            rendered=rendered,
            persona=self.persona,
            locale=locale,
            on_suggestion=self.run_suggestion,
            timeout=self.view_timeout,
        )

    async def send_reply(
        self, interaction: discord.Interaction, reply: Reply, *, ephemeral: bool = False
    ) -> None:
        """Answer ``interaction`` with ``reply``: as the response when it has not been
        answered yet, else as the followup that fills the deferred "thinking…" message.
        Pages and suggestions get a ``ReplyView`` owned by the user who asked."""
        rendered = self.render(reply)
        view = self.make_view(interaction.user.id, rendered, reply.locale)
        options: dict[str, Any] = {"content": rendered.content, "embeds": rendered.first_page}
        if view.has_buttons:
            options["view"] = view
        message: AnyMessage | None = None
        if interaction.response.is_done():
            message = await interaction.followup.send(**options, ephemeral=ephemeral, wait=True)
        else:
            callback = await interaction.response.send_message(**options, ephemeral=ephemeral)
            if isinstance(callback.resource, discord.InteractionMessage):
                message = callback.resource
        interaction.extras[ANSWERED] = True
        interaction.extras[RESULTS] = len(reply.cards) if not reply.weak else 0
        if view.has_buttons:
            view.message = message or await interaction.original_response()

    async def run_suggestion(
        self, interaction: discord.Interaction, suggestion: str, view: ReplyView
    ) -> None:
        """A "did you mean" button: run ``about`` for ``suggestion`` in the presser's
        language. For the person who asked, the message itself changes to the new results
        (its old buttons retire); anyone else gets the results ephemerally."""
        locale = reply_locale(interaction.locale.value, self.service.settings.default_locale)
        if interaction.user.id != view.owner_id:
            await interaction.response.defer(ephemeral=True, thinking=True)
            reply = await asyncio.to_thread(self.service.about, suggestion, locale)
            await self.send_reply(interaction, reply, ephemeral=True)
            return
        await interaction.response.defer()
        reply = await asyncio.to_thread(self.service.about, suggestion, locale)
        rendered = self.render(reply)
        new_view = self.make_view(interaction.user.id, rendered, reply.locale)
        view.stop()
        message = await interaction.edit_original_response(
            content=rendered.content,
            embeds=rendered.first_page,
            view=new_view if new_view.has_buttons else None,
        )
        interaction.extras[ANSWERED] = True
        if new_view.has_buttons:
            new_view.message = message

    def _locale(self, interaction: discord.Interaction) -> str:
        return reply_locale(interaction.locale.value, self.service.settings.default_locale)

    # -- commands for everyone ------------------------------------------------------------

    async def latest(
        self, interaction: discord.Interaction, count: int | None, category: str | None
    ) -> None:
        """``/news latest``: answered directly (a quick query in a worker thread)."""
        locale = self._locale(interaction)
        reply = await asyncio.to_thread(
            self.service.latest,
            DEFAULT_LATEST_COUNT if count is None else count,
            category,
            locale,
        )
        await self.send_reply(interaction, reply)

    async def about(self, interaction: discord.Interaction, query: str) -> None:
        """``/news about``: defer, search in a worker thread, follow up."""
        await interaction.response.defer(thinking=True)
        reply = await asyncio.to_thread(self.service.about, query, self._locale(interaction))
        await self.send_reply(interaction, reply)

    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        """``/news ask``: defer, find the answering sentence in a worker thread, follow up."""
        await interaction.response.defer(thinking=True)
        reply = await asyncio.to_thread(self.service.ask, question, self._locale(interaction))
        await self.send_reply(interaction, reply)

    async def help(self, interaction: discord.Interaction) -> None:
        """``/news help``: technyan's own description, ephemerally."""
        await self.send_reply(
            interaction, self.service.help(self._locale(interaction)), ephemeral=True
        )

    async def query_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Autocomplete for ``/news about query``: the core's suggestions (names and titles,
        both languages, fuzzy) as at most 25 choices of at most 100 characters. Answers no
        choices rather than late: the core gets ``AUTOCOMPLETE_BUDGET_SECONDS``."""
        try:
            suggestions = await asyncio.wait_for(
                asyncio.to_thread(self.service.suggest, current, AUTOCOMPLETE_CHOICES_LIMIT),
                AUTOCOMPLETE_BUDGET_SECONDS,
            )
        except TimeoutError:
            log.warning("autocomplete over budget for %r; answering no choices", current[:50])
            return []
        except Exception:
            log.exception("autocomplete failed for %r", current[:50])
            return []
        return autocomplete_choices((s.name, s.value) for s in suggestions)

    # -- admin commands -------------------------------------------------------------------

    async def _admin(self, interaction: discord.Interaction) -> DigestAdmin | None:
        """The ``DigestAdmin`` after deferring ephemerally, or None after telling the user
        why not (no digest subsystem; not in a guild)."""
        locale = self._locale(interaction)
        if interaction.guild_id is None:
            text = self.persona.say("admin_only", locale, seed=str(interaction.id))
            await interaction.response.send_message(message_content(text), ephemeral=True)
            return None
        if self.digest_admin is None:
            text = self.persona.say("digest_unavailable", locale, seed=str(interaction.id))
            await interaction.response.send_message(message_content(text), ephemeral=True)
            return None
        await interaction.response.defer(ephemeral=True, thinking=True)
        return self.digest_admin

    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.abc.GuildChannel,
        time: str,
        timezone: str | None,
        locale: str | None,
        max_items: int | None,
        post_empty: bool | None,
    ) -> None:
        """``/news subscribe``: delegate to ``DigestAdmin.subscribe``; reply ephemerally."""
        admin = await self._admin(interaction)
        if admin is None or interaction.guild_id is None:
            return
        reply = await admin.subscribe(
            guild_id=interaction.guild_id,
            channel_id=channel.id,
            time=time,
            timezone=timezone,
            locale=locale,
            max_items=max_items,
            post_empty=post_empty,
            user_locale=self._locale(interaction),
        )
        await self.send_reply(interaction, reply, ephemeral=True)

    async def unsubscribe(
        self, interaction: discord.Interaction, channel: discord.abc.GuildChannel | None
    ) -> None:
        """``/news unsubscribe``: delegate to ``DigestAdmin.unsubscribe``."""
        admin = await self._admin(interaction)
        if admin is None or interaction.guild_id is None:
            return
        reply = await admin.unsubscribe(
            guild_id=interaction.guild_id,
            channel_id=channel.id if channel is not None else None,
            user_locale=self._locale(interaction),
        )
        await self.send_reply(interaction, reply, ephemeral=True)

    async def subscriptions(self, interaction: discord.Interaction) -> None:
        """``/news subscriptions``: delegate to ``DigestAdmin.subscriptions``."""
        admin = await self._admin(interaction)
        if admin is None or interaction.guild_id is None:
            return
        reply = await admin.subscriptions(
            guild_id=interaction.guild_id, user_locale=self._locale(interaction)
        )
        await self.send_reply(interaction, reply, ephemeral=True)

    async def resume(
        self, interaction: discord.Interaction, channel: discord.abc.GuildChannel
    ) -> None:
        """``/news resume``: delegate to ``DigestAdmin.resume``."""
        admin = await self._admin(interaction)
        if admin is None or interaction.guild_id is None:
            return
        reply = await admin.resume(
            guild_id=interaction.guild_id,
            channel_id=channel.id,
            user_locale=self._locale(interaction),
        )
        await self.send_reply(interaction, reply, ephemeral=True)

    async def preview(
        self, interaction: discord.Interaction, channel: discord.abc.GuildChannel | None
    ) -> None:
        """``/news digest preview``: delegate to ``DigestAdmin.preview`` for ``channel``
        (default: the channel the command was used in)."""
        admin = await self._admin(interaction)
        if admin is None or interaction.guild_id is None:
            return
        channel_id = channel.id if channel is not None else interaction.channel_id
        reply = await admin.preview(
            guild_id=interaction.guild_id,
            channel_id=int(channel_id or 0),
            user_locale=self._locale(interaction),
        )
        await self.send_reply(interaction, reply, ephemeral=True)

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
        rendered = self.render(reply)
        view = self.make_view(message.author.id, rendered, reply.locale)
        options: dict[str, Any] = {"content": rendered.content, "embeds": rendered.first_page}
        if view.has_buttons:
            options["view"] = view
        sent = await message.channel.send(
            **options,
            reference=message.to_reference(fail_if_not_exists=False),
            mention_author=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        if view.has_buttons:
            view.message = sent

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
    """The ``/news`` group with its subcommands, bound to ``cog``.

    Built per cog (not declared on the class) because the ``category`` choices of
    ``latest`` are the core's categories, known only at run time. The admin subcommands
    carry ``has_permissions(manage_guild=True)``, a check in code: Discord ignores
    ``default_permissions`` on subcommands (docs/interactions/application-commands#
    permissions; discord.py: "this decorator does nothing in subcommands"), and putting it
    on ``/news`` would hide the commands for everyone. It is set on them anyway, which
    documents the intent and takes effect if they ever move to a top-level group.
    """
    group = app_commands.Group(name="news", description="AI news from Technyan")
    category_choices = option_choices(categories)
    locale_choices = [
        app_commands.Choice(name="Japanese", value="ja"),
        app_commands.Choice(name="English", value="en"),
    ]
    admin_check = app_commands.checks.has_permissions(manage_guild=True)
    admin_default = app_commands.default_permissions(manage_guild=True)

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

    @group.command(
        name="subscribe", description="Post a daily AI news digest in a channel (Manage Server)"
    )
    @app_commands.describe(
        channel="Where to post the digest",
        time="Local time to post, HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Asia/Tokyo (default: the bot's setting)",
        locale="Language of the digest",
        max_items="Stories per digest (1–10)",
        post_empty="Post a short note on days without news",
    )
    @app_commands.choices(locale=locale_choices)
    @admin_default
    @admin_check
    async def subscribe(
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str | None = None,
        locale: str | None = None,
        max_items: app_commands.Range[int, 1, 10] | None = None,
        post_empty: bool | None = None,
    ) -> None:
        await cog.subscribe(interaction, channel, time, timezone, locale, max_items, post_empty)

    @group.command(name="unsubscribe", description="Stop the daily digest (Manage Server)")
    @app_commands.describe(channel="Which channel (default: every channel of this server)")
    @admin_default
    @admin_check
    async def unsubscribe(
        interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        await cog.unsubscribe(interaction, channel)

    @group.command(
        name="subscriptions", description="This server's digest subscriptions (Manage Server)"
    )
    @admin_default
    @admin_check
    async def subscriptions(interaction: discord.Interaction) -> None:
        await cog.subscriptions(interaction)

    @group.command(name="resume", description="Resume a paused digest (Manage Server)")
    @app_commands.describe(channel="The channel whose digest to resume")
    @admin_default
    @admin_check
    async def resume(interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        await cog.resume(interaction, channel)

    digest = app_commands.Group(
        name="digest", description="Daily digest tools (Manage Server)", parent=group
    )

    @digest.command(
        name="preview", description="Preview the digest as it would be posted now (Manage Server)"
    )
    @app_commands.describe(channel="Preview this channel's subscription (default: this channel)")
    @admin_default
    @admin_check
    async def preview(
        interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        await cog.preview(interaction, channel)

    return group
