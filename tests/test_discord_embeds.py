"""Reply → embeds within Discord's limits, cut at sentence and word boundaries; the
Japanese command names; no Discord connection needed."""

from __future__ import annotations

import datetime as dt

import discord
import pytest

from bot.discord_app.embeds import (
    AUTOCOMPLETE_CHOICES_LIMIT,
    CHOICE_NAME_LIMIT,
    CHOICE_VALUE_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FOOTER_TEXT_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBED_TOTAL_LIMIT,
    MESSAGE_CONTENT_LIMIT,
    OPTION_CHOICES_LIMIT,
    EmbedLabels,
    answer_embed,
    autocomplete_choices,
    colour_for,
    embed_size,
    option_choices,
    paginate,
    render_reply,
    shorten,
    story_embed,
)
from bot.discord_app.translator import CommandLocalizations, TechnyanTranslator
from bot.persona import Persona
from bot.replies import Answer, Reply, StoryCard

LABELS = EmbedLabels.from_persona(Persona.load(), "en")


def card(**changes: object) -> StoryCard:
    fields: dict[str, object] = {
        "story": "articles/20250127/deepseek",
        "locale": "en",
        "requested_locale": "en",
        "title": "DeepSeek-R1 Shakes Wall Street",
        "description": "DeepSeek released R1.",
        "date": dt.date(2025, 1, 27),
        "category": "Business",
        "tags": ("DeepSeek", "R1"),
        "url": "https://technyanai.com/articles/en/20250127/deepseek",
        "technyan_comment": "Wow, nya!",
    }
    fields.update(changes)
    return StoryCard(**fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- shorten


def test_text_that_fits_is_unchanged() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("x" * 10, 10) == "x" * 10


def test_english_is_cut_after_a_sentence_when_one_is_near() -> None:
    text = "First sentence here. Second sentence is much longer than the rest of it."
    cut = shorten(text, 40)
    assert cut == "First sentence here. …" and len(cut) <= 40


def test_english_is_cut_at_a_word_otherwise() -> None:
    text = "Supercalifragilistic expialidocious words keep going and going without a stop"
    cut = shorten(text, 50)
    assert len(cut) <= 50 and cut.endswith("…")
    assert text.startswith(cut[:-1].rstrip())
    assert text[len(cut[:-1].rstrip())] == " "  # the cut fell on a space


def test_japanese_is_cut_after_a_sentence_or_between_characters() -> None:
    text = "DeepSeekが推論モデルを公開した。市場は大きく揺れ、エヌビディアの株価は急落した。" * 3
    cut = shorten(text, 40)
    assert len(cut) <= 40 and cut.endswith("。…")
    no_stop = "あ" * 100
    assert shorten(no_stop, 20) == "あ" * 19 + "…"


def test_emoji_sequences_are_never_split() -> None:
    family = "👨\u200d👩\u200d👧"
    text = "a" * 8 + family * 5
    for limit in range(9, 20):
        cut = shorten(text, limit)
        assert len(cut) <= limit
        body = cut[:-1]
        assert not body.endswith("\u200d")
        assert body.count("\u200d") % 2 == 0  # whole families only


def test_tiny_limits() -> None:
    assert shorten("abcdef", 1) == "…"
    with pytest.raises(ValueError):
        shorten("abc", 0)


# --------------------------------------------------------------------------- embeds


def test_a_story_embed_within_every_limit() -> None:
    huge = card(
        title="T" * 300,
        description="Word " * 2000,
        technyan_comment="Nya! " * 500,
        tags=tuple(f"tag{i}" for i in range(500)),
        note="N" * 3000,
        impact_level="high",
    )
    embed = story_embed(huge, LABELS)
    assert len(embed.title or "") <= EMBED_TITLE_LIMIT and (embed.title or "").endswith("…")
    assert len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
    assert all(len(f.value or "") <= EMBED_FIELD_VALUE_LIMIT for f in embed.fields)
    assert len(embed.footer.text or "") <= EMBED_FOOTER_TEXT_LIMIT
    assert embed_size(embed) <= EMBED_TOTAL_LIMIT
    tags = next(f.value for f in embed.fields if f.name == LABELS.tags)
    assert tags is not None and tags.endswith(tuple(f"tag{i}" for i in range(500)))


def test_a_story_embed_shows_the_story() -> None:
    embed = story_embed(card(impact_level="critical", note="Only in Japanese"), LABELS)
    assert embed.title == "DeepSeek-R1 Shakes Wall Street"
    assert embed.url == "https://technyanai.com/articles/en/20250127/deepseek"
    assert embed.description == "DeepSeek released R1."
    fields = {f.name: f.value for f in embed.fields}
    assert fields == {
        "🐾 Technyan says": "> Wow, nya!",
        "📅 Date": "2025-01-27",
        "🏷️ Category": "Business",
        "⚡ Impact": "Critical",
        "🔖 Tags": "DeepSeek · R1",
    }
    assert embed.footer.text == "Only in Japanese"
    assert embed.colour == discord.Colour(0xE53935)


def test_colours_are_stable_per_category() -> None:
    assert colour_for(card(category="Hardware")) == colour_for(card(category="hardware"))
    assert colour_for(card(category="Hardware", impact_level="low")) == 0x43A047


def test_an_answer_embed_quotes_the_sentence() -> None:
    answer = Answer(card(), "DeepSeek released R1.\nIt was big.", "passage", "What happened", 0.9)
    embed = answer_embed(answer, LABELS)
    assert embed.description == "> DeepSeek released R1.\n> It was big."
    assert {f.name: f.value for f in embed.fields}["📍 Section"] == "What happened"


def test_pages_hold_at_most_five_embeds_and_6000_characters() -> None:
    small = [story_embed(card(title=f"Story {i}"), LABELS) for i in range(12)]
    assert [len(p) for p in paginate(small)] == [5, 5, 2]
    big = [story_embed(card(description="Word " * 1000), LABELS) for _ in range(3)]
    pages = paginate(big)
    assert all(sum(embed_size(e) for e in page) <= EMBED_TOTAL_LIMIT for page in pages)
    assert paginate([]) == [[]]


def test_a_reply_renders_header_footer_and_pages() -> None:
    reply = Reply("about", "en", "Header!", tuple(card() for _ in range(7)), footer="Footer.")
    rendered = render_reply(reply, LABELS)
    assert rendered.content == "Header!\n\nFooter."
    assert [len(p) for p in rendered.pages] == [5, 2]
    long = render_reply(Reply("help", "en", "x " * 3000), LABELS)
    assert len(long.content) <= MESSAGE_CONTENT_LIMIT and long.content.endswith("…")
    assert long.pages == ((),)


# --------------------------------------------------------------------------- choices


def test_autocomplete_choices_are_cut_deduplicated_and_capped() -> None:
    pairs = [(f"Story {i} " + "long " * 30, f"Story {i} " + "long " * 30) for i in range(60)]
    pairs.insert(1, pairs[0])
    pairs.insert(2, ("", "empty name"))
    choices = autocomplete_choices(pairs)
    assert len(choices) == AUTOCOMPLETE_CHOICES_LIMIT
    assert len({c.value for c in choices}) == len(choices)
    assert all(1 <= len(c.name) <= CHOICE_NAME_LIMIT for c in choices)
    assert all(1 <= len(c.value) <= CHOICE_VALUE_LIMIT for c in choices)
    assert autocomplete_choices([("Line\nbreak", "v")])[0].name == "Line break"


def test_option_choices_keep_exact_values_only() -> None:
    values = ["x" * 101] + [f"Category {i}" for i in range(30)]
    choices = option_choices(values)
    assert len(choices) == OPTION_CHOICES_LIMIT
    assert choices[0].value == "Category 0"


# --------------------------------------------------------------------------- translator


def test_japanese_command_names_follow_discords_naming_rule() -> None:
    localizations = CommandLocalizations.load("ja")
    assert localizations.names["news about"] == "検索"
    for name in localizations.names.values():
        assert 1 <= len(name) <= 32 and name == name.lower() and " " not in name


async def test_the_translator_knows_only_japanese() -> None:
    from discord import app_commands
    from discord.app_commands import TranslationContext, TranslationContextLocation

    group = app_commands.Group(name="news", description="AI news")
    context = TranslationContext(location=TranslationContextLocation.group_name, data=group)
    translator = TechnyanTranslator()
    string = app_commands.locale_str("news")
    assert await translator.translate(string, discord.Locale.japanese, context) == "ニュース"
    assert await translator.translate(string, discord.Locale.french, context) is None
