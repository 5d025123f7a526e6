"""Buttons under a reply: Previous / Next through the pages of story embeds (only the person
who asked may turn them), and "did you mean" buttons that run the corrected search.

When the view times out its buttons are removed from the message, so nobody presses a
button that no longer answers. Labels come from the persona; lengths and counts from the
limits in ``bot.discord_app.embeds``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.discord_app.embeds import (
    BUTTONS_PER_ROW,
    INTERACTION_TOKEN_SECONDS,
    RenderedReply,
    button_label,
)
from bot.discord_app.errors import answer_failure
from bot.persona import Persona, reply_locale

__all__ = ["DEFAULT_VIEW_TIMEOUT", "ReplyView", "SuggestionHandler"]

log = logging.getLogger("bot.discord_app")

#: Seconds without a click after which the buttons are removed. It must stay below the
#: interaction token's lifetime: removing them edits the message through that token.
DEFAULT_VIEW_TIMEOUT = 180.0
_TIMEOUT_CEILING = INTERACTION_TOKEN_SECONDS - 60

#: What a "did you mean" button runs: ``(interaction, suggestion, view)``.
SuggestionHandler = Callable[[discord.Interaction, str, "ReplyView"], Awaitable[None]]

AnyMessage = discord.Message | discord.InteractionMessage | discord.WebhookMessage


class _Button(discord.ui.Button["ReplyView"]):
    """A button whose click runs ``action(interaction)``."""

    def __init__(
        self, action: Callable[[discord.Interaction], Awaitable[None]], **options: Any
    ) -> None:
        super().__init__(**options)
        self._action = action

    async def callback(self, interaction: discord.Interaction) -> None:
        """Run the button's action."""
        await self._action(interaction)


class ReplyView(discord.ui.View):
    """The buttons of one reply.

    ``owner_id`` is the user who asked: only they may turn pages (anyone else gets
    technyan's ephemeral ``not_your_buttons``, in their own language). ``rendered`` gives
    the pages and the suggestions; Previous / Next appear when there is more than one page,
    with a disabled "page / pages" counter between them; each suggestion (up to one row)
    becomes a button that calls ``on_suggestion``. ``timeout`` is in seconds (capped below
    the interaction token's 15 minutes). Set ``message`` to the message the view is on so
    the timeout can remove the buttons. A view with no buttons (``has_buttons`` false) need
    not be sent.
    """

    def __init__(
        self,
        *,
        owner_id: int,
        rendered: RenderedReply,
        persona: Persona,
        locale: str,
        on_suggestion: SuggestionHandler | None = None,
        timeout: float = DEFAULT_VIEW_TIMEOUT,
    ) -> None:
        super().__init__(timeout=min(timeout, _TIMEOUT_CEILING))
        self.owner_id = owner_id
        self.pages = rendered.pages
        self.page = 0
        self.persona = persona
        self.locale = locale
        self.message: AnyMessage | None = None
        self._owner_only: set[str] = set()
        self._on_suggestion = on_suggestion

        row = 0
        if len(self.pages) > 1:
            self.previous = _Button(
                self._previous,
                label=button_label(persona.say("button_previous", locale)),
                style=discord.ButtonStyle.secondary,
                disabled=True,
                row=row,
            )
            self.counter = discord.ui.Button["ReplyView"](
                label=self._counter_label(), disabled=True, row=row
            )
            self.next = _Button(
                self._next,
                label=button_label(persona.say("button_next", locale)),
                style=discord.ButtonStyle.secondary,
                row=row,
            )
            for button in (self.previous, self.counter, self.next):
                self.add_item(button)
            self._owner_only = {str(self.previous.custom_id), str(self.next.custom_id)}
            row += 1
        if on_suggestion is not None:
            for suggestion in rendered.suggestions[:BUTTONS_PER_ROW]:
                label = persona.say("did_you_mean_button", locale, suggestion=suggestion)
                self.add_item(
                    _Button(
                        self._suggestion_action(suggestion),
                        label=button_label(label),
                        style=discord.ButtonStyle.primary,
                        row=row,
                    )
                )

    @property
    def has_buttons(self) -> bool:
        """Whether the view has anything to show."""
        return bool(self.children)

    def _counter_label(self) -> str:
        return f"{self.page + 1} / {len(self.pages)}"

    def _suggestion_action(
        self, suggestion: str
    ) -> Callable[[discord.Interaction], Awaitable[None]]:
        async def run(interaction: discord.Interaction) -> None:
            if self._on_suggestion is not None:
                await self._on_suggestion(interaction, suggestion, self)

        return run

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Let only the owner turn pages; tell anyone else, ephemerally, in their language.
        Suggestion buttons are open to everyone."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if custom_id in self._owner_only and interaction.user.id != self.owner_id:
            locale = reply_locale(interaction.locale.value)
            text = self.persona.say("not_your_buttons", locale, seed=str(interaction.user.id))
            await interaction.response.send_message(text, ephemeral=True)
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, page: int) -> None:
        self.page = max(0, min(page, len(self.pages) - 1))
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page == len(self.pages) - 1
        self.counter.label = self._counter_label()
        await interaction.response.edit_message(embeds=list(self.pages[self.page]), view=self)

    async def _previous(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, self.page - 1)

    async def _next(self, interaction: discord.Interaction) -> None:
        await self._turn(interaction, self.page + 1)

    async def on_timeout(self) -> None:
        """Remove the buttons from the message (a failure is logged, never raised)."""
        if self.message is None:
            return
        try:
            await self.message.edit(view=None)
        except discord.HTTPException as error:
            log.info("could not remove the buttons of message %s: %s", self.message.id, error)

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any],
    ) -> None:
        """A failing button answers technyan's ephemeral apology and logs the cause."""
        await answer_failure(interaction, error, self.persona, what="button")
