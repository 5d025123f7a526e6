"""Buttons under a reply that keep working after the bot restarts: Previous / Next through
the pages, the switch between the compact list and full cards, and "did you mean".

Each button is a ``discord.ui.DynamicItem``: everything it needs is in its ``custom_id``
(who asked, which page, which layout, and how to compute the reply again: the command, the
language and its arguments), so a click is answered by whichever bot process receives it,
whenever it comes (the classes are registered with ``Client.add_dynamic_items`` at start;
no view is kept in memory per message). Discord allows 100 characters in a ``custom_id``
(docs/components/reference#anatomy-of-a-component): a value that does not fit (a very long
query) is kept in this process's ``ButtonMemory`` instead, and after a restart that button
answers technyan's ``buttons_expired``.

Only the person who asked may turn pages or switch the layout; anyone may press a "did you
mean" button (they get their own, ephemeral answer). What a click does is the business of
a ``ButtonActions`` (the reply sender), found on the client: this module imports no cog and
no client, so imports run one way.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import discord

from bot.discord_app.embeds import BUTTONS_PER_ROW, Layout, RenderedReply, button_label
from bot.persona import Persona

__all__ = [
    "CUSTOM_ID_LIMIT",
    "ButtonActions",
    "ButtonMemory",
    "CounterButton",
    "PageButton",
    "ReplySource",
    "SuggestionButton",
    "actions_of",
    "reply_view",
]

log = logging.getLogger("bot.discord_app")

#: Characters of a component's ``custom_id`` (docs/components/reference#anatomy-of-a-
#: component: "max 100 characters").
CUSTOM_ID_LIMIT = 100
#: Values kept in memory for buttons whose state does not fit their ``custom_id``.
MEMORY_SIZE = 10_000
#: Prefix of every custom_id this bot makes ("technyan").
PREFIX = "tn"
_MEMORY_MARK = "~"
#: The command of a ``ReplySource`` as one letter in a ``custom_id``.
_SOURCE_CODES = {"latest": "l", "about": "a", "preview": "p"}


class ButtonMemory:
    """Values too long for a ``custom_id``, by a short key (a digest of the value), for the
    life of the process: at most ``size`` of them, the oldest forgotten first."""

    def __init__(self, size: int = MEMORY_SIZE) -> None:
        self.size = size
        self._values: OrderedDict[str, str] = OrderedDict()

    def keep(self, value: str) -> str:
        """Store ``value``; returns its reference (``~`` and 16 hex digits)."""
        key = hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return _MEMORY_MARK + key

    def recall(self, reference: str) -> str | None:
        """The value of ``reference``; the text itself when it is not a reference; None
        when the value was forgotten (another process, or a restart)."""
        if not reference.startswith(_MEMORY_MARK):
            return reference
        return self._values.get(reference[1:])

    def fit(self, head: str, value: str) -> str:
        """``head + value`` when it fits ``CUSTOM_ID_LIMIT``, else ``head`` and a
        reference to ``value`` kept here."""
        if len(head) + len(value) <= CUSTOM_ID_LIMIT and not value.startswith(_MEMORY_MARK):
            return head + value
        return head + self.keep(value)


@dataclass(frozen=True)
class ReplySource:
    """How to compute a reply again: ``command`` (``latest``, ``about``, or ``preview``
    for the digest preview), the reply's ``locale``, ``number`` (latest: the count;
    preview: the channel id) and ``text`` (latest: the category; about: the query).

    Encoded as ``CODE:LOCALE:NUMBER:TEXT`` with the free text last, so it may hold
    colons."""

    command: str
    locale: str
    number: int = 0
    text: str = ""

    def encode(self) -> str:
        """The source as text for a ``custom_id`` (see the class docstring)."""
        return f"{_SOURCE_CODES[self.command]}:{self.locale}:{self.number}:{self.text}"

    @classmethod
    def decode(cls, encoded: str) -> ReplySource | None:
        """The source of ``encoded``, or None when it is not one."""
        match = re.fullmatch(r"([lap]):(ja|en):(\d{1,20}):(.*)", encoded, re.DOTALL)
        if match is None:
            return None
        code, locale, number, text = match.groups()
        command = next(name for name, value in _SOURCE_CODES.items() if value == code)
        return cls(command, locale, int(number), text)


@runtime_checkable
class ButtonActions(Protocol):
    """What the buttons do; the reply sender implements it and the client carries it as
    ``button_actions``. Each method answers the interaction (and never raises)."""

    async def show_page(
        self, interaction: discord.Interaction, *, page: int, layout: Layout, source: str
    ) -> None:
        """Show page ``page`` (0-based) in ``layout`` of the reply ``source`` computes."""
        ...

    async def run_suggestion(
        self, interaction: discord.Interaction, *, owner_id: int, locale: str, suggestion: str
    ) -> None:
        """Search for ``suggestion`` (a "did you mean" name, or a memory reference)."""
        ...

    async def refuse(self, interaction: discord.Interaction) -> None:
        """Tell someone other than the asker, ephemerally, that the buttons are not theirs."""
        ...


def actions_of(interaction: discord.Interaction) -> ButtonActions | None:
    """The ``ButtonActions`` of the client that received ``interaction``, if it has one."""
    actions = getattr(interaction.client, "button_actions", None)
    return actions if isinstance(actions, ButtonActions) else None


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(
        rf"{PREFIX}:pg:(?P<role>[pnt]):(?P<owner>\d+):(?P<page>\d+):(?P<layout>[cl]):"
        r"(?P<source>.+)",
        re.DOTALL,
    ),
):
    """Previous (``p``), Next (``n``) or the list/cards switch (``t``): shows page
    ``page`` in ``layout`` of the reply ``source`` computes, for ``owner_id`` only."""

    def __init__(
        self,
        *,
        role: str,
        owner_id: int,
        page: int,
        layout: Layout,
        source: str,
        label: str,
        disabled: bool = False,
        row: int | None = None,
    ) -> None:
        self.role = role
        self.owner_id = owner_id
        self.page = page
        self.layout = layout
        self.source = source
        custom_id = f"{PREFIX}:pg:{role}:{owner_id}:{page}:{layout.value}:{source}"
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=custom_id,
                disabled=disabled,
                style=discord.ButtonStyle.secondary,
            ),
            row=row,
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PageButton:
        """The button of a click (its state read back from the ``custom_id``)."""
        return cls(
            role=match["role"],
            owner_id=int(match["owner"]),
            page=int(match["page"]),
            layout=Layout(match["layout"]),
            source=match["source"],
            label=str(getattr(item, "label", None) or "…"),
        )

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the asker may turn the pages; anyone else is told so, ephemerally."""
        if interaction.user.id == self.owner_id:
            return True
        actions = actions_of(interaction)
        if actions is not None:
            await actions.refuse(interaction)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Show the page."""
        actions = actions_of(interaction)
        if actions is not None:
            await actions.show_page(
                interaction, page=self.page, layout=self.layout, source=self.source
            )


class CounterButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"{PREFIX}:ct:(?P<owner>\d+):(?P<page>\d+):(?P<pages>\d+)",
):
    """The disabled "page / pages" label between Previous and Next. Dynamic only so that
    no view has to be remembered per message; a click (which Discord does not send for a
    disabled button) does nothing."""

    def __init__(self, *, owner_id: int, page: int, pages: int, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{page + 1} / {pages}",
                custom_id=f"{PREFIX}:ct:{owner_id}:{page}:{pages}",
                disabled=True,
            ),
            row=row,
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> CounterButton:
        """The counter of a click."""
        return cls(owner_id=int(match["owner"]), page=int(match["page"]), pages=int(match["pages"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Acknowledge without changing anything."""
        await interaction.response.defer()


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.compile(
        rf"{PREFIX}:dm:(?P<owner>\d+):(?P<locale>ja|en):(?P<suggestion>.+)", re.DOTALL
    ),
):
    """A "did you mean" button: searches for the suggestion. The asker's message changes
    to the new results; anyone else gets them ephemerally, in their own language."""

    def __init__(
        self, *, owner_id: int, locale: str, suggestion: str, label: str, row: int | None = None
    ) -> None:
        self.owner_id = owner_id
        self.locale = locale
        self.suggestion = suggestion
        super().__init__(
            discord.ui.Button(
                label=label,
                custom_id=f"{PREFIX}:dm:{owner_id}:{locale}:{suggestion}",
                style=discord.ButtonStyle.primary,
            ),
            row=row,
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SuggestionButton:
        """The button of a click."""
        return cls(
            owner_id=int(match["owner"]),
            locale=match["locale"],
            suggestion=match["suggestion"],
            label=str(getattr(item, "label", None) or "…"),
        )

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Run the search."""
        actions = actions_of(interaction)
        if actions is not None:
            await actions.run_suggestion(
                interaction,
                owner_id=self.owner_id,
                locale=self.locale,
                suggestion=self.suggestion,
            )


def reply_view(
    *,
    owner_id: int,
    rendered: RenderedReply,
    persona: Persona,
    locale: str,
    memory: ButtonMemory,
    source: ReplySource | None = None,
    page: int = 0,
    switch_layout: bool = False,
) -> discord.ui.View | None:
    """The buttons of ``rendered`` at ``page`` for ``owner_id``, or None when there are
    none. With a ``source`` (how to compute the reply again): Previous, "page / pages"
    and Next when there is more than one page, and with ``switch_layout`` the button to
    the other layout (list ↔ cards); each suggestion (up to one row) becomes a "did you
    mean" button. Labels come from ``persona`` in ``locale``. The view has no timeout and
    holds only dynamic items, so discord.py keeps nothing per message."""
    view = discord.ui.View(timeout=None)
    pages = len(rendered.pages)
    page = max(0, min(page, pages - 1))
    if source is not None:
        # The longest head of the page buttons (page numbers never exceed ``pages``).
        head = f"{PREFIX}:pg:p:{owner_id}:{pages}:{rendered.layout.value}:"
        encoded = memory.fit(head, source.encode())[len(head) :]
        if pages > 1:
            view.add_item(
                PageButton(
                    role="p",
                    owner_id=owner_id,
                    page=max(page - 1, 0),
                    layout=rendered.layout,
                    source=encoded,
                    label=button_label(persona.say("button_previous", locale)),
                    disabled=page == 0,
                    row=0,
                )
            )
            view.add_item(CounterButton(owner_id=owner_id, page=page, pages=pages, row=0))
            view.add_item(
                PageButton(
                    role="n",
                    owner_id=owner_id,
                    page=min(page + 1, pages - 1),
                    layout=rendered.layout,
                    source=encoded,
                    label=button_label(persona.say("button_next", locale)),
                    disabled=page == pages - 1,
                    row=0,
                )
            )
        if switch_layout:
            other = Layout.CARDS if rendered.layout is Layout.LIST else Layout.LIST
            key = "button_cards" if other is Layout.CARDS else "button_list"
            view.add_item(
                PageButton(
                    role="t",
                    owner_id=owner_id,
                    page=0,
                    layout=other,
                    source=encoded,
                    label=button_label(persona.say(key, locale)),
                    row=0,
                )
            )
    for suggestion in rendered.suggestions[:BUTTONS_PER_ROW]:
        head = f"{PREFIX}:dm:{owner_id}:{locale}:"
        label = persona.say("did_you_mean_button", locale, suggestion=suggestion)
        view.add_item(
            SuggestionButton(
                owner_id=owner_id,
                locale=locale,
                suggestion=memory.fit(head, suggestion)[len(head) :],
                label=button_label(label),
                row=1,
            )
        )
    return view if view.children else None
