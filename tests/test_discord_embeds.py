"""Reply → embeds within Discord's limits, cut at sentence and word boundaries; links
checked and encoded in one place; user text escaped; the Japanese command and category
names; the link of a story on the site; no Discord connection needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

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
    Layout,
    answer_embed,
    autocomplete_choices,
    colour_for,
    embed_size,
    escape_echo,
    escape_user_text,
    link_url,
    list_embed,
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
        "📅 Date": "<t:1737979200:D>",  # 2025-01-27 12:00 UTC, shown in the reader's format
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


def test_weak_and_timeline_cards_say_what_they_are() -> None:
    weak = story_embed(card(weak=True, label="Maybe:", impact_level="critical"), LABELS)
    assert weak.author.name == "❔ Not sure (close match)"
    assert weak.title == "Maybe: DeepSeek-R1 Shakes Wall Street"
    assert weak.colour == discord.Colour(0x99AAB5)  # grey, whatever the impact
    timeline = story_embed(
        card(collection="aiTimeline", url="https://technyanai.com/history", impact_level="high"),
        LABELS,
    )
    assert timeline.author.name == "📜 AI Timeline"
    assert {f.name: f.value for f in timeline.fields}["⚡ Impact"] == "High"
    both = story_embed(card(collection="aiTimeline", weak=True), LABELS)
    assert both.author.name == "📜 AI Timeline · ❔ Not sure (close match)"
    japanese = EmbedLabels.from_persona(Persona.load(), "ja")
    for label in ("近いかも：", "たぶん…"):  # no space after Japanese punctuation
        embed = story_embed(card(weak=True, label=label, title="Claude"), japanese)
        assert embed.title == f"{label}Claude"


def test_a_link_is_shown_once_per_reply() -> None:
    history = "https://technyanai.com/history"
    cards = (*(card(story=f"aiTimeline/{i}", url=history) for i in range(3)), card())
    rendered = render_reply(Reply("about", "en", "Header", cards), LABELS)
    assert [e.url for e in rendered.first_page] == [history, None, None, card().url]
    listing = render_reply(Reply("latest", "en", "Header", cards), LABELS, layout=Layout.LIST)
    [embed] = listing.first_page
    assert (embed.description or "").count(f"({history})") == 1


def test_the_compact_list_has_one_linked_title_and_one_line_per_story() -> None:
    cards = [
        card(title=f"Story [{i}] *bold*", description="First line.\nSecond line " * 20)
        for i in range(12)
    ]
    embed = list_embed(cards, LABELS)
    entries = (embed.description or "").split("\n\n")
    assert len(entries) == 12 and len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
    head, summary = entries[0].split("\n")
    assert head == (
        r"[Story \[0\] \*bold\*](https://technyanai.com/articles/en/20250127/deepseek)"
        " · <t:1737979200:d>"
    )
    assert len(summary) <= 72 and summary.endswith("…")  # one line of an embed
    japanese = list_embed([card(description="ディープシークが推論モデルを公開した。" * 9)], LABELS)
    line = (japanese.description or "").split("\n")[1]
    assert line == "ディープシークが推論モデルを公開した。…"  # 36 wide characters: 72 columns
    only_japanese = list_embed([card(note="only in Japanese", locale="ja")], LABELS)
    assert "(Japanese only)" in (only_japanese.description or "")
    pages = render_reply(
        Reply("latest", "en", "Header", tuple(cards)), LABELS, layout=Layout.LIST
    ).pages
    assert [len(p) for p in pages] == [1, 1]  # one embed per page, ten stories each
    assert (pages[1][0].description or "").count("\n\n") == 1


def test_links_are_checked_and_encoded_in_one_place() -> None:
    assert link_url("https://technyanai.com/articles/en/20240105/northwind office") == (
        "https://technyanai.com/articles/en/20240105/northwind%20office"
    )
    assert link_url("https://example.org/(paren)") == "https://example.org/%28paren%29"
    assert link_url("https://テク.example/記事") == ("https://xn--pck2b.example/%E8%A8%98%E4%BA%8B")
    for bad in ("", None, "javascript:alert(1)", "/relative/path", "not a url", "https://"):
        assert link_url(bad) is None
    embed = story_embed(card(url="javascript:alert(1)"), LABELS)
    assert embed.url is None  # a link Discord would refuse is left out, the card stays


def test_user_text_is_escaped_wherever_it_is_echoed() -> None:
    assert escape_user_text("[click](https://example.org)") == (
        r"\[click\]\(https\://example.org\)"
    )
    assert escape_user_text("@everyone <@123> **b** `c` ~~s~~ ||x|| > q") == (
        r"\@everyone \<\@123\> \*\*b\*\* \`c\` \~\~s\~\~ \|\|x\|\| \> q"
    )
    assert escape_user_text("ディープシーク DeepSeek") == "ディープシーク DeepSeek"
    line = 'Here is what I found about "[a](https://x.y)", nya!'
    assert escape_echo(line, "[a](https://x.y)") == (
        r'Here is what I found about "\[a\]\(https\://x.y\)", nya!'
    )
    reply = Reply("about", "en", 'Nothing about "**x**"', query="**x**")
    assert render_reply(reply, LABELS).content == r'Nothing about "\*\*x\*\*"'


def test_japanese_labels_name_categories_in_japanese() -> None:
    categories = CommandLocalizations.load("ja").categories
    labels = EmbedLabels.from_persona(Persona.load(), "ja", categories)
    embed = story_embed(card(category="Policy & Regulation", impact_level="high"), labels)
    fields = {f.name: f.value for f in embed.fields}
    assert fields["🏷️ カテゴリ"] == "政策・規制" and fields["⚡ インパクト"] == "大"
    unknown = story_embed(card(category="Brand New"), labels)
    assert {f.name: f.value for f in unknown.fields}["🏷️ カテゴリ"] == "Brand New"


def test_every_category_of_the_site_has_a_japanese_name() -> None:
    import re
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus-technyan"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus-technyan is absent")
    found = set()
    for path in corpus.rglob("*.md"):
        match = re.search(r'^category:\s*"?([^"\n]+)"?\s*$', path.read_text("utf-8"), re.M)
        if match:
            found.add(match.group(1).strip())
    assert len(found) == 12
    names = CommandLocalizations.load("ja").categories
    assert found <= set(names), found - set(names)


def test_a_story_link_on_the_site_is_percent_encoded(tmp_path: Path) -> None:
    from bot.config import load_settings
    from bot.search import Document
    from bot.service import NewsService

    settings = load_settings(None, environ={})
    service = NewsService(settings, Persona.load())

    def document(slug: str, collection: str = "articles") -> Document:
        return Document(
            1, f"{collection}/20240105/{slug}", "en", collection, slug, "20240105", "t", "d",
            dt.date(2024, 1, 5), "Other", (), None, None, (), (),
        )  # fmt: skip

    assert service.url_for(document("northwind office")) == (
        "https://technyanai.com/articles/en/20240105/northwind%20office"
    )
    assert service.url_for(document("tokyo#1 ai?")) == (
        "https://technyanai.com/articles/en/20240105/tokyo%231%20ai%3F"
    )
    assert service.url_for(document("日本")) == (
        "https://technyanai.com/articles/en/20240105/%E6%97%A5%E6%9C%AC"
    )
    assert service.url_for(document("x", "aiTimeline")) == "https://technyanai.com/history"


def test_the_discord_adapter_imports_run_one_way() -> None:
    """No module of bot/discord_app imports one that imports it back, directly or not,
    counting imports made only for type checking."""
    import ast

    package = Path(__file__).resolve().parents[1] / "bot" / "discord_app"
    graph: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("bot.discord_app."):
                imported.add(module.rsplit(".", 1)[1])
        graph[path.stem] = imported

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for name in graph.get(start, set()) - seen:
            if name == goal or reaches(name, goal, seen | {name}):
                return True
        return False

    assert graph["client"] >= {"news_cog", "admin_cog", "views", "responder"}
    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert cycles == []
