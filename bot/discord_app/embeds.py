"""Reply → Discord message parts (content, embeds, choices, button labels) within Discord's
limits.

Every limit Discord enforces on what the bot sends lives here, as a named constant with the
page of Discord's developer documentation that states it (paths below are relative to
https://discord.com/developers/). Exceeding one gets HTTP 400 with error code 50035
"Invalid Form Body" and the message is lost, and discord.py does not truncate, so every
text that reaches Discord passes through :func:`shorten` first: it cuts at a sentence or
word boundary (between two CJK characters counts as a word boundary) and ends with "…".

Two more rules hold for everything sent: every URL passes through :func:`link_url` (the one
place that checks and encodes links, so a corpus folder with a space never costs a reply),
and every piece of user text echoed back passes through :func:`escape_user_text` (a query
never becomes a masked link, a mention or formatting).

Nothing here ranks, filters or phrases: the words come from the core's ``Reply`` and the
persona's labels; this module only decides how they are laid out and where they are cut.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import discord
import yarl
from discord import app_commands

from bot.persona import Persona
from bot.replies import Answer, Reply, StoryCard

__all__ = [
    "AUTOCOMPLETE_CHOICES_LIMIT",
    "BUTTONS_PER_ROW",
    "BUTTON_LABEL_LIMIT",
    "CARDS_PER_PAGE",
    "CHOICE_NAME_LIMIT",
    "CHOICE_VALUE_LIMIT",
    "COMMAND_DESCRIPTION_LIMIT",
    "COMMAND_NAME_LIMIT",
    "COMMAND_NAME_PATTERN",
    "ELLIPSIS",
    "EMBEDS_PER_MESSAGE",
    "EMBED_AUTHOR_NAME_LIMIT",
    "EMBED_DESCRIPTION_LIMIT",
    "EMBED_FIELDS_LIMIT",
    "EMBED_FIELD_NAME_LIMIT",
    "EMBED_FIELD_VALUE_LIMIT",
    "EMBED_FOOTER_TEXT_LIMIT",
    "EMBED_TITLE_LIMIT",
    "EMBED_TOTAL_LIMIT",
    "INTERACTION_RESPONSE_SECONDS",
    "INTERACTION_TOKEN_SECONDS",
    "LIST_PER_PAGE",
    "MESSAGE_CONTENT_LIMIT",
    "OPTION_CHOICES_LIMIT",
    "ROWS_PER_MESSAGE",
    "EmbedLabels",
    "Layout",
    "RenderedReply",
    "answer_embed",
    "autocomplete_choices",
    "button_label",
    "colour_for",
    "columns",
    "discord_date",
    "embed_size",
    "escape_echo",
    "escape_user_text",
    "link_url",
    "list_embed",
    "message_content",
    "option_choices",
    "paginate",
    "render_reply",
    "shorten",
    "shorten_columns",
    "story_embed",
]

# -- messages: docs/resources/message ------------------------------------------------------

#: Characters of a message's ``content``
#: (docs/resources/message#create-message-jsonform-params: "up to 2000 characters").
MESSAGE_CONTENT_LIMIT = 2000
#: Embeds in one message (docs/resources/message#create-message-jsonform-params:
#: "Up to 10 rich embeds (up to 6000 characters)").
EMBEDS_PER_MESSAGE = 10

# -- embeds: docs/resources/message#embed-object-embed-limits ------------------------------

#: Embed title (docs/resources/message#embed-object-embed-limits).
EMBED_TITLE_LIMIT = 256
#: Embed description (docs/resources/message#embed-object-embed-limits).
EMBED_DESCRIPTION_LIMIT = 4096
#: Fields per embed (docs/resources/message#embed-object-embed-limits).
EMBED_FIELDS_LIMIT = 25
#: Field name; Discord also requires at least one character
#: (docs/resources/message#embed-object-embed-limits).
EMBED_FIELD_NAME_LIMIT = 256
#: Field value; Discord also requires at least one character
#: (docs/resources/message#embed-object-embed-limits).
EMBED_FIELD_VALUE_LIMIT = 1024
#: Footer text (docs/resources/message#embed-object-embed-limits).
EMBED_FOOTER_TEXT_LIMIT = 2048
#: Author name (docs/resources/message#embed-object-embed-limits).
EMBED_AUTHOR_NAME_LIMIT = 256
#: Title, description, field names and values, footer text and author name of *all* embeds
#: of one message together (docs/resources/message#embed-object-embed-limits).
EMBED_TOTAL_LIMIT = 6000

# -- application commands: docs/interactions/application-commands --------------------------

#: Choices of one option (docs/interactions/application-commands, section
#: #application-command-object-application-command-option-structure).
OPTION_CHOICES_LIMIT = 25
#: Choice name, and a string choice's value (docs/interactions/application-commands,
#: section #application-command-object-application-command-option-choice-structure).
CHOICE_NAME_LIMIT = 100
CHOICE_VALUE_LIMIT = 100
#: Command, group and option names: 1–32 characters of letters (any script), digits, ``-``
#: and ``_``, lowercase where the script has case
#: (docs/interactions/application-commands#application-command-object-application-command-naming).
COMMAND_NAME_LIMIT = 32
COMMAND_NAME_PATTERN = re.compile(r"^[-_\w]{1,32}$")
#: Command and option descriptions: 1–100 characters (docs/interactions/application-commands,
#: section #application-command-object-application-command-structure).
COMMAND_DESCRIPTION_LIMIT = 100

# -- interactions: docs/interactions/receiving-and-responding ------------------------------

#: Choices in one autocomplete answer
#: (docs/interactions/receiving-and-responding#interaction-response-object-autocomplete).
AUTOCOMPLETE_CHOICES_LIMIT = 25
#: Seconds to send the first response to an interaction, else 10062 "Unknown interaction"
#: (docs/interactions/receiving-and-responding#responding-to-an-interaction).
INTERACTION_RESPONSE_SECONDS = 3.0
#: Seconds an interaction token stays valid for followups and edits
#: (docs/interactions/receiving-and-responding#followup-messages: "valid for 15 minutes").
INTERACTION_TOKEN_SECONDS = 15 * 60

# -- components: docs/components/reference -------------------------------------------------

#: Button label (docs/components/reference#button: "max 80 characters").
BUTTON_LABEL_LIMIT = 80
#: Buttons in one action row, and action rows in one message
#: (docs/components/reference#action-row).
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5

# -- presentation choices (not Discord's limits) --------------------------------------------

#: Story embeds on one page of a reply; more become pages behind Previous / Next.
CARDS_PER_PAGE = 5
#: Stories on one page of the compact list (one embed, two lines per story).
LIST_PER_PAGE = 10
#: Characters of a title in the compact list.
LIST_TITLE_CHARACTERS = 100
#: Columns of the summary line in the compact list, a Japanese (wide) character counting
#: two: about one line of an embed on a desktop client, in either language.
LIST_SUMMARY_COLUMNS = 72
#: The ellipsis that ends every cut text.
ELLIPSIS = "…"

#: Embed colours by impact level (the site's levels), and the palette categories are
#: mapped onto when a story has no impact level.
IMPACT_COLOURS: Mapping[str, int] = {
    "critical": 0xE53935,
    "high": 0xFB8C00,
    "medium": 0xFDD835,
    "low": 0x43A047,
}
CATEGORY_PALETTE: tuple[int, ...] = (
    0x5C6BC0,
    0x26A69A,
    0xAB47BC,
    0x29B6F6,
    0xEC407A,
    0x8D6E63,
    0x66BB6A,
    0xFFA726,
)
DEFAULT_COLOUR = 0xFF7EB6
#: The colour of a weak match: grey, never an impact or category colour.
WEAK_COLOUR = 0x99AAB5
#: A date is shown as a Discord timestamp at 12:00 UTC of that day, which is the same
#: calendar day from UTC-12 to UTC+11 (Japan included) in the reader's own time zone.
DATE_HOUR_UTC = 12

_SENTENCE_END = "。．！？!?.…"
_CJK_PUNCTUATION = "、。，．！？」』）】"
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def _is_cjk(char: str) -> bool:
    """True for characters of scripts written without spaces (kana, kanji, hangul)."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x3400 <= code <= 0x4DBF  # CJK extension A
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0xFF66 <= code <= 0xFF9F  # half-width katakana
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF01 <= code <= 0xFF0F  # full-width punctuation
    )


def _safe_cut(text: str, end: int) -> int:
    """Move ``end`` back so the cut does not split a character from its combining mark,
    variation selector or zero-width joiner (an emoji sequence stays whole)."""
    while 0 < end < len(text) and (
        unicodedata.combining(text[end])
        or text[end] in _JOINERS
        or text[end - 1] in _JOINERS
        or 0xDC00 <= ord(text[end]) <= 0xDFFF
    ):
        end -= 1
    return end


def shorten(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` cut to at most ``limit`` characters (Python ``len``, i.e. code points, which
    is how Discord counts) at a sentence or word boundary, ending with ``ellipsis``.

    Text that fits is returned unchanged. The cut prefers the end of a sentence in the last
    half of the room, then a space or a boundary between CJK characters in the last half,
    then any character boundary that keeps emoji sequences whole. Raises ``ValueError`` for
    a ``limit`` below 1."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if len(text) <= limit:
        return text
    if limit <= len(ellipsis):
        return ellipsis[:limit]
    room = limit - len(ellipsis)
    floor = room // 2
    head = text[: _safe_cut(text, room)]

    # A sentence end: 。！？ anywhere, . ! ? followed by a space.
    for index in range(len(head) - 1, floor - 1, -1):
        char = head[index]
        if char in _SENTENCE_END and (
            char in "。．！？…" or index + 1 >= len(text) or text[index + 1].isspace()
        ):
            kept = head[: index + 1]
            joiner = " " if char.isascii() and len(kept) + 1 + len(ellipsis) <= limit else ""
            return kept + joiner + ellipsis
    # A word boundary: a space, CJK punctuation, or between two CJK characters.
    for index in range(len(head), floor - 1, -1):
        before = head[index - 1] if index > 0 else ""
        after = text[index] if index < len(text) else ""
        if after.isspace() or before.isspace():
            return head[:index].rstrip() + ellipsis
        if before in _CJK_PUNCTUATION or (before and after and _is_cjk(before) and _is_cjk(after)):
            return head[:index] + ellipsis
    return head.rstrip() + ellipsis


def columns(text: str) -> int:
    """The width of ``text`` in columns: wide and full-width characters (East Asian
    width ``W``/``F``: kanji, kana, full-width forms) count two, others one."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def shorten_columns(text: str, limit: int) -> str:
    """``text`` cut like :func:`shorten` so that it takes at most ``limit`` columns (see
    :func:`columns`)."""
    if columns(text) <= limit:
        return text
    used, fit = columns(ELLIPSIS), 0  # fit: how many characters fit before the ellipsis
    for char in text:
        used += columns(char)
        if used > limit:
            break
        fit += 1
    return shorten(text, fit + len(ELLIPSIS))


def message_content(text: str) -> str:
    """``text`` as a message's ``content`` (at most ``MESSAGE_CONTENT_LIMIT``)."""
    return shorten(text.strip(), MESSAGE_CONTENT_LIMIT)


def _one_line(text: str) -> str:
    """``text`` on one line (line breaks and tabs become spaces; other spaces stay)."""
    return re.sub(r"[\r\n\t\v\f]+", " ", text).strip()


def button_label(text: str) -> str:
    """``text`` on one line as a button label (at most ``BUTTON_LABEL_LIMIT``)."""
    return shorten(_one_line(text), BUTTON_LABEL_LIMIT)


#: Characters that start Discord markdown, a mention, a masked link or a bare URL
#: (``https://`` needs its colon): each is escaped with a backslash, which Discord shows as
#: the character itself.
_USER_TEXT_SPECIAL = re.compile(r"([\\*_~|`>#\-\[\]()<@:])")


def escape_user_text(text: str) -> str:
    """``text`` a user typed, safe to echo in a message: every character that could start
    markdown (``* _ ~ | ` > # -``), a masked link (``[ ] ( )``), a mention (``@``, ``<``)
    or a link (``:``) is escaped with a backslash, so ``[click](https://example.org)``
    shows as typed and is neither a link nor a preview, and ``@everyone`` or ``<@123>``
    is plain text. ``discord.utils.escape_markdown`` is not enough on its own: it leaves
    bare URLs live and mentions untouched. The source: Discord's markdown treats a
    backslash before any ASCII punctuation as an escape (docs/reference#message-formatting
    and support article "Markdown Text 101")."""
    return _USER_TEXT_SPECIAL.sub(r"\\\1", text)


def escape_echo(text: str, user_text: str) -> str:
    """``text`` (technyan's line) with each occurrence of ``user_text`` (the query it
    echoes) escaped by :func:`escape_user_text`. Escapes render invisibly, so a line that
    happens to contain the same characters elsewhere looks the same."""
    if not user_text or user_text not in text:
        return text
    return text.replace(user_text, escape_user_text(user_text))


#: Characters a URL may keep as they are when it goes into an embed or a markdown link;
#: everything else (spaces, quotes, parentheses that would end ``[title](url)``) is
#: percent-encoded (RFC 3986 section 2.2 reserved characters, and ``%`` of escapes
#: already made).
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


def link_url(url: str | None) -> str | None:
    """The one place a URL is checked before it goes to Discord: ``url`` parsed by yarl,
    normalized and percent-encoded (an internationalized host as punycode; ``(``, ``)``
    and spaces encoded, so it also works inside a markdown link), or None when it is not
    an absolute ``http``/``https`` URL with a host. Discord rejects a malformed link with
    50035 "Not a well formed URL" and the whole message is lost."""
    if not url:
        return None
    try:
        parsed = yarl.URL(url.strip())
    except (ValueError, TypeError):
        return None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return None
    return quote(str(parsed), safe=_URL_SAFE)


def discord_date(date: dt.date, style: str = "D") -> str:
    """``date`` as a Discord timestamp (``<t:UNIX:D>``), which every reader's client shows
    in their own language (``2025年1月27日``, ``January 27, 2025``); ``style`` is Discord's
    (``d`` short, ``D`` long; docs/reference#message-formatting-timestamp-styles). The
    instant is ``DATE_HOUR_UTC`` o'clock UTC of that day."""
    moment = dt.datetime(date.year, date.month, date.day, DATE_HOUR_UTC, tzinfo=dt.UTC)
    return discord.utils.format_dt(moment, style)  # type: ignore[arg-type]


def embed_size(embed: discord.Embed) -> int:
    """Characters of ``embed`` that count toward ``EMBED_TOTAL_LIMIT`` (title, description,
    field names and values, footer text, author name), as Discord counts them."""
    return len(embed)


def colour_for(card: StoryCard) -> int:
    """The embed colour of a story: grey for a weak match, else by impact level when it
    has one, else a stable colour per category (the same category always gets the same
    colour, in every process)."""
    if card.weak:
        return WEAK_COLOUR
    if card.impact_level and card.impact_level in IMPACT_COLOURS:
        return IMPACT_COLOURS[card.impact_level]
    if not card.category:
        return DEFAULT_COLOUR
    index = zlib.crc32(card.category.casefold().encode("utf-8")) % len(CATEGORY_PALETTE)
    return CATEGORY_PALETTE[index]


@dataclass(frozen=True)
class EmbedLabels:
    """The persona's words for the parts of a story embed, in one locale: field names,
    the names of impact levels, the marks of a timeline entry (``timeline``), of a weak
    match (``weak``) and of a story shown in the other language (``other_language``), the
    labels of an answer's source, and ``categories``: the corpus's category names in this
    locale (a category missing there is shown as the corpus names it)."""

    comment: str
    date: str
    category: str
    impact: str
    tags: str
    section: str
    impact_levels: Mapping[str, str] = field(default_factory=dict)
    timeline: str = ""
    weak: str = ""
    other_language: str = ""
    categories: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_persona(
        cls, persona: Persona, locale: str, categories: Mapping[str, str] | None = None
    ) -> EmbedLabels:
        """The labels of ``persona`` in ``locale`` (``ja`` or anything else → ``en``), with
        ``categories`` (corpus name → name in ``locale``). Raises ``KeyError`` when the
        persona lacks one of the ``label_*`` keys."""
        levels = ("critical", "high", "medium", "low")
        return cls(
            comment=persona.say("label_comment", locale),
            date=persona.say("label_date", locale),
            category=persona.say("label_category", locale),
            impact=persona.say("label_impact", locale),
            tags=persona.say("label_tags", locale),
            section=persona.say("label_section", locale),
            impact_levels={level: persona.say(f"impact_{level}", locale) for level in levels},
            timeline=persona.say("label_timeline", locale),
            weak=persona.say("label_weak", locale),
            other_language=persona.say("label_other_language", locale),
            categories=dict(categories or {}),
        )

    def category_name(self, category: str) -> str:
        """``category`` as this locale names it."""
        return self.categories.get(category, category)


def _field(embed: discord.Embed, name: str, value: str, *, inline: bool) -> None:
    """Add a field when both its name and value have text (Discord rejects empty ones)."""
    name, value = name.strip(), value.strip()
    if name and value and len(embed.fields) < EMBED_FIELDS_LIMIT:
        embed.add_field(
            name=shorten(name, EMBED_FIELD_NAME_LIMIT),
            value=shorten(value, EMBED_FIELD_VALUE_LIMIT),
            inline=inline,
        )


def _quote(text: str, limit: int) -> str:
    """``text`` as a Markdown block quote of at most ``limit`` characters."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    quoted = "\n".join(f"> {line}" for line in lines)
    return shorten(quoted, limit)


def _tags(tags: Iterable[str], limit: int) -> str:
    """Tags joined with " · ", cut after the last whole tag that fits."""
    shown = ""
    for tag in tags:
        tag = " ".join(tag.split())
        if not tag:
            continue
        candidate = f"{shown} · {tag}" if shown else tag
        if len(candidate) > limit:
            return shown or shorten(tag, limit)
        shown = candidate
    return shown


def _fit_description(embed: discord.Embed, description: str) -> None:
    """Set the description, cut so the embed stays within ``EMBED_DESCRIPTION_LIMIT`` and
    within ``EMBED_TOTAL_LIMIT`` on its own."""
    room = min(EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - embed_size(embed))
    if description.strip() and room > len(ELLIPSIS):
        embed.description = shorten(description.strip(), room)


def _meta_fields(embed: discord.Embed, card: StoryCard, labels: EmbedLabels) -> None:
    _field(embed, labels.date, discord_date(card.date), inline=True)
    _field(embed, labels.category, labels.category_name(card.category), inline=True)
    if card.impact_level:
        level = labels.impact_levels.get(card.impact_level, card.impact_level)
        _field(embed, labels.impact, level, inline=True)


def _labelled(label: str, title: str) -> str:
    """``title`` after the weak-match ``label``: a space after a Latin label (``Maybe:
    …``), none after one ending in Japanese punctuation (``たぶん…``, ``近いかも：``)."""
    label = label.strip()
    if not label:
        return title
    wide = unicodedata.east_asian_width(label[-1]) in ("F", "W") or label[-1] == ELLIPSIS
    return f"{label}{'' if wide else ' '}{title}"


def _link_text(title: str) -> str:
    """A corpus title as the text of a markdown link: its markdown escaped (discord.py's
    ``escape_markdown``) and its square brackets too, so the link ends where it should."""
    escaped = discord.utils.escape_markdown(title, ignore_links=False)
    return re.sub(r"([\[\]])", r"\\\1", escaped)


def _marks(card: StoryCard, labels: EmbedLabels) -> str:
    """What a card is, above its title: a timeline entry, a weak match (both may hold)."""
    marks = []
    if card.collection == "aiTimeline" and labels.timeline:
        marks.append(labels.timeline)
    if card.weak and labels.weak:
        marks.append(labels.weak)
    return " · ".join(marks)


def _titled_embed(card: StoryCard, labels: EmbedLabels, *, linked: bool = True) -> discord.Embed:
    """An embed titled with the story (after the weak-match label, if any), linking to
    its page unless ``linked`` is false, coloured by weakness, impact or category, with
    the card's marks (timeline entry, weak match) as the author line above the title."""
    title = _labelled(card.label, card.title.strip() or card.story)
    embed = discord.Embed(
        title=shorten(title, EMBED_TITLE_LIMIT),
        url=link_url(card.url) if linked else None,
        colour=colour_for(card),
    )
    marks = _marks(card, labels)
    if marks:
        embed.set_author(name=shorten(marks, EMBED_AUTHOR_NAME_LIMIT))
    return embed


def story_embed(card: StoryCard, labels: EmbedLabels, *, linked: bool = True) -> discord.Embed:
    """One story as an embed: the title linking to the story's page in the shown locale
    (no link when ``linked`` is false: another card of the reply already has it), the
    description (a timeline entry's summary), technyan's comment quoted as technyan's own,
    date (a Discord timestamp), category (in the labels' locale) and impact as fields
    (weakness, else impact, else category, as the colour), tags, the marks of a timeline
    entry or a weak match as the author line, and the card's note (other language only)
    as the footer. Within every embed limit and within ``EMBED_TOTAL_LIMIT`` on its own;
    the description is cut last, to what is left."""
    embed = _titled_embed(card, labels, linked=linked)
    if card.technyan_comment:
        comment = _quote(card.technyan_comment, EMBED_FIELD_VALUE_LIMIT)
        _field(embed, labels.comment, comment, inline=False)
    _meta_fields(embed, card, labels)
    _field(embed, labels.tags, _tags(card.tags, EMBED_FIELD_VALUE_LIMIT), inline=False)
    if card.note:
        embed.set_footer(text=shorten(card.note.strip(), EMBED_FOOTER_TEXT_LIMIT))
    _fit_description(embed, card.description)
    return embed


def answer_embed(answer: Answer, labels: EmbedLabels) -> discord.Embed:
    """An extractive answer: the quoted sentence as the description, under the title of
    the story it comes from (linked), with the passage's heading, date and category as
    fields and the card's note as the footer. Within every embed limit."""
    card = answer.card
    embed = _titled_embed(card, labels)
    if answer.heading:
        _field(embed, labels.section, answer.heading, inline=False)
    _meta_fields(embed, card, labels)
    if card.note:
        embed.set_footer(text=shorten(card.note.strip(), EMBED_FOOTER_TEXT_LIMIT))
    room = min(EMBED_DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - embed_size(embed))
    embed.description = _quote(answer.text, room)
    return embed


def paginate(
    embeds: Sequence[discord.Embed], per_page: int = CARDS_PER_PAGE
) -> list[list[discord.Embed]]:
    """Split ``embeds`` into pages, in order: at most ``per_page`` (and
    ``EMBEDS_PER_MESSAGE``) embeds per page, and at most ``EMBED_TOTAL_LIMIT`` characters of
    embeds per page. Every embed must fit the total on its own (the builders here ensure
    it). No embeds give one empty page."""
    per_page = max(1, min(per_page, EMBEDS_PER_MESSAGE))
    pages: list[list[discord.Embed]] = []
    page: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = embed_size(embed)
        if page and (len(page) >= per_page or size + length > EMBED_TOTAL_LIMIT):
            pages.append(page)
            page, size = [], 0
        page.append(embed)
        size += length
    pages.append(page)
    return pages


class Layout(enum.StrEnum):
    """How story cards are laid out: one embed per story (``CARDS``), or a compact list of
    linked titles with one line each (``LIST``). The values go into button ids."""

    CARDS = "c"
    LIST = "l"


def _list_entry(card: StoryCard, labels: EmbedLabels, *, linked: bool) -> str:
    """One story of the compact list: marks, the linked title and the date on one line,
    the summary cut to one line below it."""
    title = _link_text(shorten(_one_line(card.title) or card.story, LIST_TITLE_CHARACTERS))
    url = link_url(card.url) if linked else None
    head = f"[{title}]({url})" if url else f"**{title}**"
    marks = _marks(card, labels)
    if card.label:
        marks = f"{marks} {card.label.strip()}".strip()
    if card.note and labels.other_language:
        head += f" ({labels.other_language})"
    line = f"{marks} {head}".strip() + f" · {discord_date(card.date, 'd')}"
    summary = shorten_columns(_one_line(card.description), LIST_SUMMARY_COLUMNS)
    return f"{line}\n{summary}" if summary else line


def list_embed(
    cards: Sequence[StoryCard], labels: EmbedLabels, linked: Sequence[bool] | None = None
) -> discord.Embed:
    """The compact list: one embed whose description holds each story as a linked title
    with its date (a Discord timestamp) and one line of summary, in order; ``linked``
    says per card whether its title carries its link. Stories that do not fit
    ``EMBED_DESCRIPTION_LIMIT`` are left out (pages of ``LIST_PER_PAGE`` always fit)."""
    flags = list(linked) if linked is not None else [True] * len(cards)
    entries: list[str] = []
    size = 0
    for card, link in zip(cards, flags, strict=True):
        entry = _list_entry(card, labels, linked=link)
        if size + len(entry) + 2 > EMBED_DESCRIPTION_LIMIT:
            break
        entries.append(entry)
        size += len(entry) + 2
    return discord.Embed(description="\n\n".join(entries) or None, colour=DEFAULT_COLOUR)


@dataclass(frozen=True)
class RenderedReply:
    """A ``Reply`` laid out for Discord: ``content`` (technyan's lines, the echoed query
    escaped), ``pages`` of embeds (at least one page, possibly without embeds),
    ``suggestions`` ("did you mean" queries, each to become a button) and the ``layout``
    the pages are in."""

    content: str
    pages: tuple[tuple[discord.Embed, ...], ...]
    suggestions: tuple[str, ...] = ()
    layout: Layout = Layout.CARDS

    @property
    def first_page(self) -> list[discord.Embed]:
        """The embeds shown first."""
        return list(self.pages[0]) if self.pages else []


def _first_links(cards: Sequence[StoryCard]) -> list[bool]:
    """Per card, whether it carries its link: only the first card with a given URL does,
    so one reply never shows the same link twice (every timeline entry points at the same
    history page) and Discord never merges embeds that share a URL."""
    seen: set[str] = set()
    flags = []
    for card in cards:
        url = link_url(card.url) or ""
        flags.append(bool(url) and url not in seen)
        seen.add(url)
    return flags


def render_reply(
    reply: Reply,
    labels: EmbedLabels,
    *,
    layout: Layout = Layout.CARDS,
    per_page: int | None = None,
) -> RenderedReply:
    """Lay out ``reply``: header and footer as the content (a weak result's footer says
    the cards may not match, so it belongs above them, and Discord always shows content
    above embeds), with the query the user typed escaped wherever it is echoed; then the
    answer, or the cards: one embed per card (``Layout.CARDS``, ``per_page`` default
    ``CARDS_PER_PAGE``) or the compact list (``Layout.LIST``, ``per_page`` default
    ``LIST_PER_PAGE`` stories per page), paged. Each link appears once per reply."""
    text = "\n\n".join(part.strip() for part in (reply.header, reply.footer) if part.strip())
    text = escape_echo(text, reply.query)
    links = _first_links(reply.cards)
    if reply.answer is not None:
        pages = tuple(tuple(page) for page in paginate([answer_embed(reply.answer, labels)]))
    elif layout is Layout.LIST and reply.cards:
        size = max(1, per_page or LIST_PER_PAGE)
        pages = tuple(
            (list_embed(reply.cards[i : i + size], labels, links[i : i + size]),)
            for i in range(0, len(reply.cards), size)
        )
    else:
        embeds = [
            story_embed(card, labels, linked=link)
            for card, link in zip(reply.cards, links, strict=True)
        ]
        pages = tuple(tuple(page) for page in paginate(embeds, per_page or CARDS_PER_PAGE))
    return RenderedReply(message_content(text), pages, tuple(reply.suggestions), layout)


def autocomplete_choices(
    pairs: Iterable[tuple[str, str]], limit: int = AUTOCOMPLETE_CHOICES_LIMIT
) -> list[app_commands.Choice[str]]:
    """Autocomplete choices from ``(name, value)`` pairs in order: names and values cut to
    ``CHOICE_NAME_LIMIT`` / ``CHOICE_VALUE_LIMIT``, empty ones and repeated values
    skipped, at most ``min(limit, AUTOCOMPLETE_CHOICES_LIMIT)``."""
    limit = max(0, min(limit, AUTOCOMPLETE_CHOICES_LIMIT))
    choices: list[app_commands.Choice[str]] = []
    seen: set[str] = set()
    for name, value in pairs:
        if len(choices) >= limit:
            break
        name = shorten(_one_line(name), CHOICE_NAME_LIMIT)
        value = shorten(_one_line(value), CHOICE_VALUE_LIMIT)
        if not name or not value or value in seen:
            continue
        seen.add(value)
        choices.append(app_commands.Choice(name=name, value=value))
    return choices


def option_choices(values: Iterable[str]) -> list[app_commands.Choice[str]]:
    """Fixed choices of a string option from ``values`` (e.g. category names): the first
    ``OPTION_CHOICES_LIMIT`` that fit ``CHOICE_VALUE_LIMIT`` exactly (a value cannot be cut:
    it must equal the data it selects), each named as itself."""
    choices: list[app_commands.Choice[str]] = []
    seen: set[str] = set()
    for value in values:
        if len(choices) >= OPTION_CHOICES_LIMIT:
            break
        if not value or len(value) > CHOICE_VALUE_LIMIT or value in seen:
            continue
        seen.add(value)
        choices.append(app_commands.Choice(name=shorten(value, CHOICE_NAME_LIMIT), value=value))
    return choices
