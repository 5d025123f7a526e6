"""``/digest``: the daily digest's settings, for server admins.

``/digest subscribe``, ``edit``, ``unsubscribe``, ``subscriptions``, ``resume`` and
``preview`` form their own top-level command, so Discord can keep it from members: its
``default_member_permissions`` is Manage Server (members do not see it; server admins can
give it to other roles, or take it away, per command under Server Settings →
Integrations, and Discord enforces that — docs/interactions/application-commands#
permissions), and its only context is a server (``guild_only``; installable to servers
only). Because Discord decides who may run it, there is no permission check in code that
would overrule a server's own settings; a use outside a server (an old sync, a client
that ignores contexts) is answered with technyan's ``needs_server``.

What only Discord can tell is found out here and handed to the digest subsystem
(``DigestAdmin``, bot/admin.py) as a ``ChannelCheck``: the kind of the target (text,
announcement, thread, forum; bot/discord_app/digest_targets.py), the permissions the bot
lacks there and whether the role can be pinged. Channel options accept every kind a
digest can go to and are resolved when the command runs (an archived thread is not in
the cache). Categories autocomplete from the index, in the admin's language. When Discord
says a channel or thread was deleted, its subscription is removed (the ledger stays).

Replies are ephemeral. A subscription made or changed (a reply of kind ``subscribed``)
and a preview carry a "post a test digest now" button (``TestPostButton``, a
``DynamicItem`` registered by the client, so it works after a restart; only the admin who
got it may press it). ``/digest preview`` shows technyan's note, then exactly the
messages the channel will get (``message_options``, the conversion the poster uses).
New subcommands or options are a method (and a ``DigestAdmin`` method) away: declare them
here like the others, and give their Japanese names in bot/data/commands.toml.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.admin import ChannelCheck, DigestAdmin, DigestOptions
from bot.digest_options import LIST_SEPARATORS, parse_list
from bot.discord_app.delivery import message_options
from bot.discord_app.digest_targets import check_target, target_kind
from bot.discord_app.errors import answer_failure
from bot.discord_app.responder import ReplySender
from bot.replies import Reply
from bot.text import normalize

__all__ = ["DigestAdminCog", "TargetChannel", "TestPostButton"]

log = logging.getLogger("bot.discord_app")

_LOCALE_CHOICES = [
    app_commands.Choice(name="Japanese", value="ja"),
    app_commands.Choice(name="English", value="en"),
]
#: Autocomplete choices Discord shows (docs/interactions/application-commands#
#: autocomplete: "up to 25 choices"), each name and value at most 100 characters.
_CHOICES, _CHOICE_LENGTH = 25, 100

Target = app_commands.AppCommandChannel | app_commands.AppCommandThread


class TargetChannel(app_commands.Transformer):
    """A channel option offering every kind a digest can go to — text, announcement,
    thread, forum — passed to the command as Discord sent it (``AppCommandChannel`` or
    ``AppCommandThread``), to be resolved when the command runs."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """A channel option."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """The channel kinds Discord offers in the picker (``bot.admin.TARGET_KINDS``)."""
        return [
            discord.ChannelType.text,
            discord.ChannelType.news,
            discord.ChannelType.news_thread,
            discord.ChannelType.public_thread,
            discord.ChannelType.private_thread,
            discord.ChannelType.forum,
        ]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        """``value`` unchanged (resolved when the command runs: ``_check``)."""
        return value


Channel = app_commands.Transform[Target, TargetChannel]


class TestPostButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"technyan:digest-test:(?P<channel>\d+):(?P<user>\d+)",
):
    """ "Post a test digest now" for one channel, pressable by the admin it was shown to;
    its ``custom_id`` holds both, so it works after a restart."""

    def __init__(self, channel_id: int, user_id: int, label: str = "🧪") -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                style=discord.ButtonStyle.primary,
                custom_id=f"technyan:digest-test:{channel_id}:{user_id}",
            )
        )
        self.channel_id = channel_id
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> TestPostButton:
        """The button of a click (channel and admin read back from the ``custom_id``)."""
        label = getattr(item, "label", None) or "🧪"
        return cls(int(match["channel"]), int(match["user"]), label)

    async def callback(self, interaction: discord.Interaction) -> None:
        """Post the test through the bot's ``DigestAdmin`` and say how it went."""
        client: Any = interaction.client
        sender: ReplySender | None = getattr(client, "button_actions", None)
        admin: DigestAdmin | None = getattr(client, "digest_admin", None)
        if sender is None:
            return
        if interaction.user.id != self.user_id:
            await sender.refuse(interaction)
            return
        guild_id = interaction.guild_id or 0
        channel_id = self.channel_id

        async def work() -> Reply:
            locale = sender.locale_of(interaction)
            if admin is None:
                return Reply("admin", locale, sender.persona.say("digest_unavailable", locale))
            return await admin.post_test(
                guild_id=guild_id, channel_id=channel_id, user_locale=locale
            )

        try:
            await sender.answer(interaction, work, visibility="ephemeral")
        except Exception as error:  # the admin gets technyan's apology, never a traceback
            await answer_failure(interaction, error, sender.persona, what="button")


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
@app_commands.allowed_installs(guilds=True, users=False)
class DigestAdminCog(
    commands.GroupCog,
    name="digest",
    group_name="digest",
    group_description="Daily AI news digests in this server's channels (Manage Server)",
):
    """The ``/digest`` group. ``digest_admin`` answers it (None: every subcommand says
    digests are unavailable), ``sender`` sends the replies."""

    def __init__(self, sender: ReplySender, digest_admin: DigestAdmin | None) -> None:
        self.sender = sender
        self.persona = sender.persona
        self.digest_admin = digest_admin
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction) -> bool:  # type: ignore[override]
        """Refuse a use outside a server (raises ``app_commands.NoPrivateMessage``, which
        the tree answers with ``needs_server``)."""
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage("/digest works in a server only")
        return True

    # -- channels that go away -----------------------------------------------------------

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        """A deleted channel's digest is unsubscribed (its ledger stays); one the bot did
        not see go is paused at its next run as ``unknown_channel`` instead."""
        await self._forget(channel.guild.id, channel.id)

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        """A deleted thread's (or forum post's) digest is unsubscribed, like a channel's."""
        await self._forget(payload.guild_id, payload.thread_id)

    async def _forget(self, guild_id: int, channel_id: int) -> None:
        admin = self.digest_admin
        if admin is None:
            return
        try:
            await admin.unsubscribe(guild_id=guild_id, channel_id=channel_id, user_locale="en")
        except Exception:  # a listener must not raise into discord.py's dispatch
            log.exception("could not unsubscribe deleted channel %s", channel_id)

    def _test_view(self, channel_id: int, user_id: int, locale: str) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        label = self.persona.say("button_test_post", locale)
        view.add_item(TestPostButton(channel_id, user_id, label))
        return view

    async def _delegate(
        self,
        interaction: discord.Interaction,
        call: Callable[[DigestAdmin, int, str], Awaitable[Reply]],
        *,
        test_channel: int | None = None,
    ) -> None:
        """Answer ephemerally with what ``call(admin, guild_id, user_locale)`` returns; a
        ``subscribed`` reply gets the test button for ``test_channel``."""
        locale = self.sender.locale_of(interaction)
        admin, guild_id = self.digest_admin, interaction.guild_id or 0

        async def work() -> Reply:
            if admin is None:
                text = self.persona.say("digest_unavailable", locale, seed=str(interaction.id))
                return Reply("digest", locale, text)
            return await call(admin, guild_id, locale)

        def test_button(reply: Reply) -> discord.ui.View | None:
            if test_channel is None or reply.kind != "subscribed":
                return None
            return self._test_view(test_channel, interaction.user.id, reply.locale)

        await self.sender.answer(interaction, work, visibility="ephemeral", extra_view=test_button)

    # -- what only Discord knows --------------------------------------------------------

    async def _check(
        self, interaction: discord.Interaction, channel: Target, role: discord.Role | None
    ) -> ChannelCheck:
        """The ``ChannelCheck`` of ``channel`` and ``role`` for the bot in this guild."""
        guild = interaction.guild
        kind = target_kind(channel) or "text"
        if guild is None or guild.me is None:
            return ChannelCheck(kind)
        resolved: Any = guild.get_channel_or_thread(channel.id)
        if resolved is None:
            try:
                resolved = await interaction.client.fetch_channel(channel.id)
            except discord.Forbidden:
                return ChannelCheck(kind, missing=("view_channel",))
            except discord.HTTPException:
                return ChannelCheck(kind)
        return check_target(resolved, guild.me, role)

    def _corpus_categories(self, text: str | None) -> str | None:
        """``categories`` with the Japanese names of categories replaced by the corpus's,
        read as the digest options read lists (``parse_list``: any of its separators;
        None, and ``-`` or an empty text that clear the list, are passed on as given)."""
        items = parse_list(text)
        if not items:
            return text
        by_japanese = {
            normalize(ja): name for name, ja in self.sender.localizations.categories.items()
        }
        return ", ".join(by_japanese.get(normalize(item), item) for item in items)

    # -- subcommands --------------------------------------------------------------------

    @app_commands.command(name="subscribe", description="Post a daily AI news digest in a channel")
    @app_commands.describe(
        channel="Where to post: a text, announcement, thread or forum channel",
        time="Local time to post, HH:MM (e.g. 09:00)",
        timezone="IANA time zone, e.g. Asia/Tokyo (default: the bot's setting)",
        locale="Language of the digest",
        max_items="Stories per digest (1–10)",
        post_empty="Post a short note on days without news",
        categories="Only these categories, comma-separated (default: all)",
        include="Only stories naming one of these keywords, comma-separated",
        exclude="Leave out stories naming any of these keywords, comma-separated",
        role="A role to mention with each digest (it alone is pinged)",
        publish="In an announcement channel, publish each digest to following servers",
    )
    @app_commands.choices(locale=_LOCALE_CHOICES)
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: Channel,
        time: str,
        timezone: str | None = None,
        locale: str | None = None,
        max_items: app_commands.Range[int, 1, 10] | None = None,
        post_empty: bool | None = None,
        categories: str | None = None,
        include: str | None = None,
        exclude: str | None = None,
        role: discord.Role | None = None,
        publish: bool | None = None,
    ) -> None:
        """``/digest subscribe``: check the target, then ``DigestAdmin.subscribe``."""
        options = DigestOptions(
            time=time,
            timezone=timezone,
            locale=locale,
            max_items=max_items,
            post_empty=post_empty,
            categories=self._corpus_categories(categories),
            include=include,
            exclude=exclude,
            role_id=role.id if role is not None else None,
            publish=publish,
        )

        async def call(admin: DigestAdmin, guild_id: int, user_locale: str) -> Reply:
            return await admin.subscribe(
                guild_id=guild_id,
                channel_id=channel.id,
                options=options,
                check=await self._check(interaction, channel, role),
                user_id=interaction.user.id,
                user_locale=user_locale,
            )

        await self._delegate(interaction, call, test_channel=channel.id)

    @app_commands.command(name="edit", description="Change a digest's settings (its history stays)")
    @app_commands.describe(
        channel="The subscribed channel",
        time="Local time to post, HH:MM",
        timezone="IANA time zone, e.g. Asia/Tokyo",
        locale="Language of the digest",
        max_items="Stories per digest (1–10)",
        post_empty="Post a short note on days without news",
        categories="Only these categories, comma-separated (- for all)",
        include="Only stories naming one of these keywords (- for all)",
        exclude="Leave out stories naming any of these keywords (- for none)",
        role="A role to mention with each digest",
        no_role="Stop mentioning a role",
        publish="In an announcement channel, publish each digest to following servers",
    )
    @app_commands.choices(locale=_LOCALE_CHOICES)
    async def edit(
        self,
        interaction: discord.Interaction,
        channel: Channel,
        time: str | None = None,
        timezone: str | None = None,
        locale: str | None = None,
        max_items: app_commands.Range[int, 1, 10] | None = None,
        post_empty: bool | None = None,
        categories: str | None = None,
        include: str | None = None,
        exclude: str | None = None,
        role: discord.Role | None = None,
        no_role: bool | None = None,
        publish: bool | None = None,
    ) -> None:
        """``/digest edit``: check the target, then ``DigestAdmin.edit``."""
        options = DigestOptions(
            time=time,
            timezone=timezone,
            locale=locale,
            max_items=max_items,
            post_empty=post_empty,
            categories=self._corpus_categories(categories),
            include=include,
            exclude=exclude,
            role_id=role.id if role is not None else None,
            no_role=bool(no_role),
            publish=publish,
        )

        async def call(admin: DigestAdmin, guild_id: int, user_locale: str) -> Reply:
            return await admin.edit(
                guild_id=guild_id,
                channel_id=channel.id,
                options=options,
                check=await self._check(interaction, channel, role),
                user_locale=user_locale,
            )

        await self._delegate(interaction, call, test_channel=channel.id)

    @subscribe.autocomplete("categories")
    @edit.autocomplete("categories")
    async def categories_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The index's categories completing the last name typed (after a comma, ``、`` or
        semicolon: ``LIST_SEPARATORS``), shown in the admin's language (a name Discord
        cannot take whole is not offered)."""
        locale = self.sender.locale_of(interaction)
        names = self.sender.service.categories()
        shown = self.sender.localizations.categories if locale == "ja" else {}
        *head, last = LIST_SEPARATORS.split(current)
        typed = [item.strip() for item in head if item.strip()]
        prefix = "".join(f"{item}, " for item in typed)
        wanted = normalize(last)
        choices = []
        for name in names:
            label = shown.get(name, name)
            if wanted and wanted not in normalize(name) and wanted not in normalize(label):
                continue
            value = prefix + name
            display = prefix + label
            if len(value) <= _CHOICE_LENGTH and len(display) <= _CHOICE_LENGTH:
                choices.append(app_commands.Choice(name=display, value=value))
        return choices[:_CHOICES]

    @app_commands.command(name="unsubscribe", description="Stop the daily digest")
    @app_commands.describe(channel="Which channel (default: every channel of this server)")
    async def unsubscribe(
        self, interaction: discord.Interaction, channel: Channel | None = None
    ) -> None:
        """``/digest unsubscribe``: delegate to ``DigestAdmin.unsubscribe``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.unsubscribe(
                guild_id=guild_id,
                channel_id=channel.id if channel is not None else None,
                user_locale=user_locale,
            ),
        )

    @app_commands.command(name="subscriptions", description="This server's digest subscriptions")
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        """``/digest subscriptions``: delegate to ``DigestAdmin.subscriptions``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.subscriptions(
                guild_id=guild_id, user_locale=user_locale
            ),
        )

    @app_commands.command(name="resume", description="Resume a paused digest")
    @app_commands.describe(channel="The channel whose digest to resume")
    async def resume(self, interaction: discord.Interaction, channel: Channel) -> None:
        """``/digest resume``: delegate to ``DigestAdmin.resume``."""
        await self._delegate(
            interaction,
            lambda admin, guild_id, user_locale: admin.resume(
                guild_id=guild_id, channel_id=channel.id, user_locale=user_locale
            ),
        )

    @app_commands.command(
        name="preview", description="Preview the next digest exactly as it will be posted"
    )
    @app_commands.describe(channel="Preview this channel's subscription (default: this channel)")
    async def preview(
        self, interaction: discord.Interaction, channel: Channel | None = None
    ) -> None:
        """``/digest preview``: technyan's note (with "post a test digest now" for a
        subscribed channel), then the channel's next digest exactly as it will be posted,
        each message an ephemeral followup."""
        channel_id = channel.id if channel is not None else int(interaction.channel_id or 0)
        locale = self.sender.locale_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        admin = self.digest_admin
        if admin is None:
            text = self.persona.say("digest_unavailable", locale, seed=str(interaction.id))
            await interaction.followup.send(text, ephemeral=True)
            return
        shown = await admin.preview(
            guild_id=interaction.guild_id or 0, channel_id=channel_id, user_locale=locale
        )
        first: dict[str, Any] = {"content": shown.note, "ephemeral": True, "wait": True}
        if shown.offer_test:
            first["view"] = self._test_view(channel_id, interaction.user.id, shown.locale)
        await interaction.followup.send(**first)
        for message in shown.messages:
            await interaction.followup.send(**message_options(message), ephemeral=True, wait=True)
