"""How a ``Reply`` travels to Discord: rendered in the reply's language, deferred only when
the work is slow, public or ephemeral, with persistent buttons.

* **Deferral**: the core runs in a worker thread (or the digest subsystem's coroutine); a
  command whose work is not done after ``DEFER_AFTER_SECONDS`` is deferred ("thinking…")
  and followed up, so it never misses Discord's 3-second window (10062) however slow the
  index or the database is; quick work is answered in one step.
* **Visibility**: results (stories or an answer, confident or weak) are public; an empty
  query, nothing found, no answer, an unknown category or an error are ephemeral: only the
  person who asked sees them. When a public "thinking…" had to be sent first, it is removed
  and the ephemeral answer follows.
* **Layout**: ``/news latest`` with more than ``CARD_LAYOUT_MAX`` stories is a compact list
  with a button to full cards (and back); everything else is cards.
* **Buttons**: :func:`bot.discord_app.views.reply_view`; this class is also their
  ``ButtonActions`` (pages, layout switch, "did you mean"), computing the reply again from
  the button's ``ReplySource``, so they work after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import discord

from bot.admin import DigestAdmin
from bot.discord_app.embeds import EmbedLabels, Layout, RenderedReply, render_reply
from bot.discord_app.errors import ANSWERED, RESULTS, answer_failure
from bot.discord_app.translator import CommandLocalizations
from bot.discord_app.views import ButtonMemory, ReplySource, reply_view
from bot.persona import reply_locale
from bot.replies import Reply
from bot.service import NewsService

__all__ = ["CARD_LAYOUT_MAX", "DEFER_AFTER_SECONDS", "ReplySender", "Visibility"]

log = logging.getLogger("bot.discord_app")

#: Seconds of work after which a command is deferred ("thinking…"): a third of Discord's
#: 3-second window (docs/interactions/receiving-and-responding#responding-to-an-
#: interaction), leaving the rest for the event loop and the network.
DEFER_AFTER_SECONDS = 1.0
#: ``/news latest`` shows full cards up to this many stories, the compact list above.
CARD_LAYOUT_MAX = 3

#: ``auto``: public when the reply shows stories, else ephemeral; ``ephemeral``: always.
Visibility = Literal["auto", "ephemeral"]


async def _deferring(
    work: Callable[[], Awaitable[Reply]], defer: Callable[[], Awaitable[object]]
) -> Reply:
    """The reply ``work`` computes, calling ``defer`` first when it is not done within
    ``DEFER_AFTER_SECONDS``; the work is cancelled when this fails or is cancelled."""
    task = asyncio.ensure_future(work())
    try:
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_SECONDS)
        if not done:
            await defer()
        return await task
    except BaseException:
        task.cancel()
        raise


class ReplySender:
    """Sends the core's replies for interactions, and answers the reply buttons.

    ``service`` is the core, ``digest_admin`` the digest subsystem (for the digest
    preview's pages; None when there is none), ``localizations`` the Japanese names of
    categories, ``memory`` the values too long for a button's ``custom_id``."""

    def __init__(
        self,
        service: NewsService,
        *,
        digest_admin: DigestAdmin | None = None,
        localizations: CommandLocalizations | None = None,
        memory: ButtonMemory | None = None,
    ) -> None:
        self.service = service
        self.persona = service.persona
        self.digest_admin = digest_admin
        self.localizations = localizations or CommandLocalizations.load("ja")
        self.memory = memory or ButtonMemory()

    # -- rendering -----------------------------------------------------------------------

    def locale_of(self, interaction: discord.Interaction) -> str:
        """The reply language for the person who triggered ``interaction``."""
        return reply_locale(interaction.locale.value, self.service.settings.default_locale)

    def labels(self, locale: str) -> EmbedLabels:
        """The embed labels in ``locale``, with the category names of that language."""
        categories = self.localizations.categories if locale == "ja" else {}
        return EmbedLabels.from_persona(self.persona, locale, categories)

    @staticmethod
    def layout_for(reply: Reply, source: ReplySource | None) -> Layout:
        """The first layout of ``reply``: the compact list for a ``latest`` of more than
        ``CARD_LAYOUT_MAX`` stories, else cards."""
        if source is not None and source.command == "latest":
            return Layout.LIST if len(reply.cards) > CARD_LAYOUT_MAX else Layout.CARDS
        return Layout.CARDS

    def render(self, reply: Reply, layout: Layout = Layout.CARDS) -> RenderedReply:
        """``reply`` laid out for Discord in the reply's own language."""
        return render_reply(reply, self.labels(reply.locale), layout=layout)

    def view(
        self,
        owner_id: int,
        reply: Reply,
        rendered: RenderedReply,
        source: ReplySource | None,
        page: int = 0,
    ) -> discord.ui.View | None:
        """The buttons of ``rendered`` at ``page`` for ``owner_id`` (None: no buttons)."""
        switch = self.layout_for(reply, source) is Layout.LIST  # a long latest: list ↔ cards
        return reply_view(
            owner_id=owner_id,
            rendered=rendered,
            persona=self.persona,
            locale=reply.locale,
            memory=self.memory,
            source=source,
            page=page,
            switch_layout=switch,
        )

    # -- answering commands ----------------------------------------------------------------

    async def answer(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Awaitable[Reply]],
        *,
        source: ReplySource | None = None,
        visibility: Visibility = "auto",
        extra_view: Callable[[Reply], discord.ui.View | None] | None = None,
    ) -> None:
        """Answer ``interaction`` with the reply ``work`` computes: in one response when
        the work is done within ``DEFER_AFTER_SECONDS``, else after a "thinking…" defer
        (ephemeral when ``visibility`` is). ``extra_view(reply)`` gives the buttons of a
        reply that has none of its own. Errors propagate to the caller's handler (the
        tree's ``on_error``, which apologizes)."""

        async def defer() -> None:
            await interaction.response.defer(ephemeral=visibility == "ephemeral", thinking=True)

        reply = await _deferring(work, defer)
        await self.send(
            interaction, reply, source=source, visibility=visibility, extra_view=extra_view
        )

    async def send(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        *,
        source: ReplySource | None = None,
        visibility: Visibility = "auto",
        extra_view: Callable[[Reply], discord.ui.View | None] | None = None,
    ) -> None:
        """Send ``reply`` for ``interaction``: as the response when none was sent yet, else
        as the followup that fills the deferred "thinking…" message; when the reply must be
        ephemeral but a public "thinking…" was sent, that message is removed and the reply
        follows ephemerally."""
        ephemeral = visibility == "ephemeral" or not reply.shows_stories
        rendered = self.render(reply, self.layout_for(reply, source))
        view = self.view(interaction.user.id, reply, rendered, source)
        if view is None and extra_view is not None:
            view = extra_view(reply)
        options: dict[str, Any] = {"content": rendered.content, "embeds": rendered.first_page}
        if view is not None:
            options["view"] = view
        interaction.extras[RESULTS] = len(reply.cards) if not reply.weak else 0
        if not interaction.response.is_done():
            await interaction.response.send_message(**options, ephemeral=ephemeral)
        else:
            deferred_public = (
                interaction.response.type
                is discord.InteractionResponseType.deferred_channel_message
                and visibility != "ephemeral"
            )
            if ephemeral and deferred_public:
                with contextlib.suppress(discord.NotFound):
                    await interaction.delete_original_response()
            await interaction.followup.send(**options, ephemeral=ephemeral, wait=True)
        interaction.extras[ANSWERED] = True

    # -- the buttons (ButtonActions) -------------------------------------------------------

    async def refuse(self, interaction: discord.Interaction) -> None:
        """Tell someone other than the asker that these buttons are not theirs."""
        text = self.persona.say(
            "not_your_buttons", self.locale_of(interaction), seed=str(interaction.user.id)
        )
        try:
            await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException as error:
            log.info("could not refuse a button press: %s", error)

    async def _expired(self, interaction: discord.Interaction) -> None:
        text = self.persona.say(
            "buttons_expired", self.locale_of(interaction), seed=str(interaction.id)
        )
        await interaction.response.send_message(text, ephemeral=True)

    async def recompute(self, source: ReplySource, interaction: discord.Interaction) -> Reply:
        """The reply ``source`` describes, computed again (the core in a worker thread)."""
        if source.command == "latest":
            return await asyncio.to_thread(
                self.service.latest, source.number, source.text or None, source.locale
            )
        if source.command == "about":
            return await asyncio.to_thread(self.service.about, source.text, source.locale)
        if self.digest_admin is None or interaction.guild_id is None:
            return Reply(
                "digest", source.locale, self.persona.say("digest_unavailable", source.locale)
            )
        preview = await self.digest_admin.preview(
            guild_id=interaction.guild_id, channel_id=source.number, user_locale=source.locale
        )
        return Reply("digest", preview.locale, preview.note)

    async def _update(
        self,
        interaction: discord.Interaction,
        work: Callable[[], Awaitable[Reply]],
        render: Callable[[Reply], tuple[dict[str, Any], discord.ui.View | None]],
    ) -> None:
        """Change the message the pressed button is on: compute the reply (a deferred
        update first when that is slow), then edit the message with what ``render``
        makes of it."""
        reply = await _deferring(work, interaction.response.defer)
        options, view = render(reply)
        if interaction.response.is_done():
            await interaction.edit_original_response(**options, view=view)
        else:
            await interaction.response.edit_message(**options, view=view)
        interaction.extras[ANSWERED] = True

    async def show_page(
        self, interaction: discord.Interaction, *, page: int, layout: Layout, source: str
    ) -> None:
        """Show page ``page`` in ``layout`` of the reply ``source`` computes (the message's
        text stays). A source forgotten since a restart answers ``buttons_expired``."""
        try:
            recalled = self.memory.recall(source)
            decoded = ReplySource.decode(recalled) if recalled is not None else None
            if decoded is None:
                await self._expired(interaction)
                return

            def render(reply: Reply) -> tuple[dict[str, Any], discord.ui.View | None]:
                rendered = self.render(reply, layout)
                shown = max(0, min(page, len(rendered.pages) - 1))
                view = self.view(interaction.user.id, reply, rendered, decoded, shown)
                return {"embeds": list(rendered.pages[shown])}, view

            await self._update(interaction, lambda: self.recompute(decoded, interaction), render)
        except Exception as error:
            await answer_failure(interaction, error, self.persona, what="button")

    async def run_suggestion(
        self, interaction: discord.Interaction, *, owner_id: int, locale: str, suggestion: str
    ) -> None:
        """Search for ``suggestion`` in the presser's language. Anyone but the asker gets
        the results as their own ephemeral message; the asker's public message changes to
        the new results, and an ephemeral one (nothing was found) is answered like a new
        ``/news about``."""
        try:
            recalled = self.memory.recall(suggestion)
            if recalled is None:
                await self._expired(interaction)
                return
            source = ReplySource("about", self.locale_of(interaction), 0, recalled)

            async def work() -> Reply:
                return await self.recompute(source, interaction)

            message = interaction.message
            private = message is not None and message.flags.ephemeral
            if interaction.user.id != owner_id:
                await self.answer(interaction, work, source=source, visibility="ephemeral")
                return
            if private:
                await self.answer(interaction, work, source=source)
                return

            def render(reply: Reply) -> tuple[dict[str, Any], discord.ui.View | None]:
                rendered = self.render(reply, self.layout_for(reply, source))
                view = self.view(interaction.user.id, reply, rendered, source)
                return {"content": rendered.content, "embeds": rendered.first_page}, view

            await self._update(interaction, work, render)
        except Exception as error:
            await answer_failure(interaction, error, self.persona, what="button")
