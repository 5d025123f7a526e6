"""The ``/news`` commands end to end: a real discord.py client (NewsBot) connected to the
fake Discord, driven with INTERACTION_CREATE and MESSAGE_CREATE like a user would,
asserting what the user sees and that Discord never had to reject anything."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.discord_app.embeds import (
    CHOICE_NAME_LIMIT,
    CHOICE_VALUE_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    MESSAGE_CONTENT_LIMIT,
    columns,
)
from bot.replies import Reply
from tests.discord_corpus import OVERSIZED
from tests.discord_support import (
    EPHEMERAL,
    JSON,
    Env,
    answered,
    assert_pings_nobody,
    assert_within_limits,
    build_corpus_and_index,
    buttons,
    field_value,
    lines,
    rejected,
    running,
    said,
    shown,
)

PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)


def hold(monkeypatch: pytest.MonkeyPatch, service: Any, name: str) -> threading.Event:
    """Make ``service.<name>`` wait (a slow index) until the returned event is set."""
    release = threading.Event()
    real = getattr(service, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, name, held)
    return release


def timestamp(year: int, month: int, day: int, style: str = "D") -> str:
    """A date as the Discord timestamp the bot writes: 12:00 UTC of that day."""
    moment = dt.datetime(year, month, day, 12, tzinfo=dt.UTC)
    return f"<t:{int(moment.timestamp())}:{style}>"


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_corpus_and_index(tmp_path_factory.mktemp("discord"))


@pytest.fixture
async def env(corpus_and_index: tuple[Path, Path]) -> AsyncIterator[Env]:
    async with running(corpus_and_index) as environment:
        yield environment


# --------------------------------------------------------------------------- lifecycle


async def test_ready_runs_setup_once_and_background_once_across_reconnects(
    corpus_and_index: tuple[Path, Path],
) -> None:
    async with running(corpus_and_index) as env:
        fake, bot = env.fake, env.bot
        assert {g.id for g in bot.guilds} == {env.ja_guild.id, env.en_guild.id}
        assert bot.setup_count == 1 and env.background.starts == 1
        assert env.background.bots == [bot]
        identify = next(f for f in fake.gateway_log if f.direction == "recv" and f.op == 2)
        assert identify.d["intents"] & PRIVILEGED_INTENTS == 0  # no privileged intent

        since = len(fake.gateway_log)
        await fake.invalidate_session()  # a fresh IDENTIFY and READY: on_ready fires again
        await fake.wait_for_gateway(lambda f: f.t == "READY", since=since)
        await fake.wait_connected()
        await fake.force_reconnect()  # RESUME
        await fake.wait_until(lambda: len(fake.resumes) == 1)
        assert len(fake.identifies) == 2
        await bot.setup_hook()  # a second call (by mistake) changes nothing
        assert bot.setup_count == 1 and env.background.starts == 1
        assert sorted(c.name for c in bot.tree.get_commands()) == ["digest", "news"]

        it = await fake.slash("news help")
        await it.wait_acknowledged()
        assert env.background.stops == 0
    assert env.background.stops == 1


async def test_sharded_by_settings(corpus_and_index: tuple[Path, Path]) -> None:
    environ = {"TECHNYAN_BOT_SHARD_COUNT": "2"}
    async with running(corpus_and_index, environ=environ) as env:
        assert sorted(env.fake.identifies) == [(0, 2), (1, 2)]
        for guild in (env.ja_guild, env.en_guild):
            it = await env.fake.slash("news help", channel_id=guild.channel.id)
            await it.wait_acknowledged()


# --------------------------------------------------------------------------- /news latest


async def test_latest_up_to_three_is_full_cards(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 2}, locale="en-US")
    await it.wait_acknowledged()
    assert it.response_type == 4 and not it.ephemeral  # answered at once, for everyone
    assert said(it.content, "latest_header", "en", count="2")
    assert len(it.embeds) == 2 and it.components == []
    first = it.embeds[0]
    assert first["title"] == "Lonelyword Project Launches in English Only"
    assert first["url"] == "https://technyanai.com/articles/en/20250303/english-only-story"
    assert "footer" not in first  # English is the story's own language
    assert field_value(first, "📅 Date") == timestamp(2025, 3, 3)
    assert field_value(first, "🏷️ Category") == "Business"
    assert field_value(first, "🐾 Technyan says") == "> Only in English this time, nya!"
    assert field_value(first, "🔖 Tags") == "Lonelyword"
    assert it.embeds[1]["title"] == "Pingtrap story"
    assert all(e["url"].startswith("https://technyanai.com/articles/en/") for e in it.embeds)
    assert rejected(env.fake) == []


async def test_latest_by_default_is_one_compact_list_with_cards_behind_a_button(
    env: Env,
) -> None:
    fake = env.fake
    it = await fake.slash("news latest", locale="en-US")
    await it.wait_acknowledged()
    assert said(it.content, "latest_header", "en", count="5")
    [listing] = it.embeds  # one embed, not five cards
    assert "fields" not in listing and "title" not in listing
    entries = listing["description"].split("\n\n")
    assert len(entries) == 5
    assert entries[0] == (
        "[Lonelyword Project Launches in English Only]"
        "(https://technyanai.com/articles/en/20250303/english-only-story)"
        f" · {timestamp(2025, 3, 3, 'd')}\n"
        "The Lonelyword project launched; this story exists only in English."
    )
    assert all(len(entry.split("\n")) == 2 for entry in entries)  # title line, one line more
    assert all(columns(entry.split("\n")[1]) <= 72 for entry in entries)  # about one line
    [cards_button] = buttons(it.original or {})
    assert cards_button["label"] == "🗂 Cards"

    message_id = int((it.original or {})["id"])
    click = await fake.click(message_id, label="🗂 Cards")
    await click.wait_acknowledged()
    assert click.response_type == 7  # the same message, now cards
    # Full cards, paged within 6000 characters (the oversized story needs a page).
    assert all(e.get("fields") for e in it.embeds)
    assert [e["title"] for e in it.embeds] == [
        "Lonelyword Project Launches in English Only",
        "Pingtrap story",
    ]
    assert said(it.content, "latest_header", "en", count="5")  # the text stays
    assert [b["label"] for b in buttons(it.original or {})] == [
        "◀ Previous",
        "1 / 3",
        "Next ▶",
        "📋 List",
    ]
    back = await fake.click(message_id, label="📋 List")
    await back.wait_acknowledged()
    assert len(it.embeds) == 1 and it.embeds[0]["description"] == listing["description"]
    assert rejected(fake) == []


async def test_latest_25_is_a_list_in_pages(env: Env) -> None:
    fake = env.fake
    it = await fake.slash("news latest", {"count": 25}, locale="ja")
    await it.wait_acknowledged()
    assert [b["label"] for b in buttons(it.original or {})] == [
        "◀ まえへ",
        "1 / 3",
        "つぎへ ▶",
        "🗂 カードで見る",
    ]
    seen = [it.embeds[0]["description"].count("\n\n") + 1]
    message_id = int((it.original or {})["id"])
    for _ in range(2):
        click = await fake.click(message_id, label="つぎへ ▶", locale="ja")
        await click.wait_acknowledged()
        seen.append(it.embeds[0]["description"].count("\n\n") + 1)
    assert seen == [10, 10, 5]
    cards = await fake.click(message_id, label="🗂 カードで見る", locale="ja")
    await cards.wait_acknowledged()
    assert it.embeds[0]["title"] == "Lonelyword Project Launches in English Only"
    assert all(e.get("fields") for e in it.embeds)  # full cards now, paged within limits
    labels = [b["label"] for b in buttons(it.original or {})]
    assert labels[0] == "◀ まえへ" and labels[1].startswith("1 / ") and labels[3] == "📋 一覧で見る"
    assert_within_limits([it.original or {}])
    assert rejected(fake) == []


async def test_latest_in_japanese_is_japanese_throughout(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 2}, locale="ja")
    await it.wait_acknowledged()
    assert said(it.content, "latest_header", "ja", count="2")
    english_only, ping = it.embeds
    assert english_only["title"] == "Lonelyword Project Launches in English Only"
    assert english_only["url"].endswith("/articles/en/20250303/english-only-story")
    assert said(english_only["footer"]["text"], "other_locale_only", "ja")
    assert field_value(english_only, "🏷️ カテゴリ") == "ビジネス"  # the category in Japanese
    assert field_value(english_only, "📅 日付") == timestamp(2025, 3, 3)  # the reader's format
    assert ping["title"] == "ピングトラップの記事" and "footer" not in ping
    assert ping["url"].endswith("/articles/ja/20250302/everyone-ping-story")

    it = await env.fake.slash("news about", {"query": "Claude"}, locale="ja")
    await answered(it)
    claude = it.embeds[0]
    assert claude["title"] == "Anthropic、Claude 3.5 Sonnetを公開"
    assert claude["url"] == (
        "https://technyanai.com/articles/ja/20240620/anthropic-claude-3-5-sonnet"
    )
    assert field_value(claude, "⚡ インパクト") == "超重大"
    assert field_value(claude, "🏷️ カテゴリ") == "モデル発表"
    assert claude["color"] == 0xE53935  # critical
    for embed in it.embeds:  # no English label, category or impact level on a Japanese card
        for fld in embed.get("fields", []):
            assert fld["name"] in {
                "🐾 テクにゃんのひとこと",
                "📅 日付",
                "🏷️ カテゴリ",
                "⚡ インパクト",
                "🔖 タグ",
            }
            if fld["name"] in ("🏷️ カテゴリ", "⚡ インパクト"):
                assert fld["value"] in {"モデル発表", "超重大", "大", "中", "小"}
    assert rejected(env.fake) == []


async def test_latest_with_a_category_choice(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 3, "category": "Business"})
    await it.wait_acknowledged()
    assert [field_value(e, "🏷️ Category") for e in it.embeds] == ["Business"] * 3
    assert it.embeds[2]["title"] == "DeepSeek-R1 Shakes Wall Street"


async def test_an_unknown_category_is_told_only_to_the_asker(env: Env) -> None:
    it = await env.fake.slash("news latest", {"category": "Astrology"}, locale="en-US")
    await it.wait_acknowledged()
    assert it.ephemeral and it.embeds == []
    assert said(it.content, "unknown_category", "en", category="Astrology")


async def test_latest_works_in_a_direct_message(env: Env) -> None:
    it = await env.fake.slash("news latest", {"count": 1}, dm=True, locale="ja")
    await it.wait_acknowledged()
    assert len(it.embeds) == 1 and said(it.content, "latest_header_one", "ja")


async def test_latest_defers_when_the_index_is_slow(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = hold(monkeypatch, env.service, "latest")
    it = await env.fake.slash("news latest", {"count": 2}, locale="en-US")
    await it.wait_acknowledged()  # acknowledged while the index is still busy
    assert it.response_type == 5 and it.loading and not release.is_set()
    release.set()
    await answered(it)
    assert len(it.embeds) == 2 and not it.ephemeral
    assert [r.code for r in env.fake.requests if r.code == 10062] == []


# --------------------------------------------------------------------------- /news about


async def test_about_shows_the_story_for_everyone(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
    await answered(it)
    assert not it.ephemeral
    assert said(it.content, "about_header", "ja", query="DeepSeek")
    assert it.embeds[0]["title"] == "DeepSeek-R1がウォール街を直撃"
    assert it.embeds[0]["url"].endswith("/articles/ja/20250127/deepseek-r1-market-shock")
    assert it.components == []  # one page, nothing to press


async def test_a_slow_search_that_finds_nothing_leaves_the_channel_clean(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = hold(monkeypatch, env.service, "about")
    it = await env.fake.slash("news about", {"query": "xyzzy plugh"}, locale="en-US")
    await it.wait_until(lambda i: i.loading)  # a public "thinking…" first
    release.set()
    await answered(it)
    assert it.original is None  # the public "thinking…" is gone
    [answer] = it.followups
    assert answer["flags"] & EPHEMERAL
    assert said(answer["content"], "not_found", "en", query="xyzzy plugh")
    assert env.fake.channel_messages(env.channel.id) == []  # nothing left for everyone


async def test_oversized_article_is_cut_not_rejected(env: Env) -> None:
    for locale in ("en-US", "ja"):
        it = await env.fake.slash("news about", {"query": "Zephyrine"}, locale=locale)
        await answered(it)
        embed = next(e for e in it.embeds if e["url"].split("/")[-1] in OVERSIZED)
        assert len(embed["title"]) <= EMBED_TITLE_LIMIT and embed["title"].endswith("…")
        assert len(embed["description"]) <= EMBED_DESCRIPTION_LIMIT
        assert embed["description"].endswith("…")
        if locale == "en-US":  # cut after a whole word, not inside one
            words = ("Oversized", "headline", "about", "the", "Zephyrine", "accelerator")
            assert embed["title"][:-1].rstrip().endswith(words)
            assert embed["description"][:-1].rstrip().endswith(".")  # after a sentence
        comment = field_value(
            embed, "🐾 Technyan says" if locale == "en-US" else "🐾 テクにゃんのひとこと"
        )
        assert comment is not None and comment.endswith("…")
        assert_within_limits(it.messages)
    assert rejected(env.fake) == []


async def test_a_query_of_10000_characters(env: Env) -> None:
    for query, locale in (("Quasar " * 1430, "en-US"), ("ゼフィリン" * 2000, "ja")):
        assert len(query) >= 10_000
        it = await env.fake.slash("news about", {"query": query}, locale=locale)
        await answered(it)
        assert len(shown(it)["content"]) <= MESSAGE_CONTENT_LIMIT
        assert_within_limits(it.messages)
    assert rejected(env.fake) == []


@pytest.mark.parametrize("query", ["", "   "])
async def test_an_empty_query_is_told_only_to_the_asker(env: Env, query: str) -> None:
    it = await env.fake.slash("news about", {"query": query}, locale="ja")
    await answered(it)
    assert it.ephemeral and it.content in lines("empty_query", "ja")
    it = await env.fake.slash("news ask", {"question": query}, locale="en-US")
    await answered(it)
    assert it.ephemeral and it.content in lines("empty_question", "en")
    assert env.fake.channel_messages(env.channel.id) == []


async def test_nothing_found_is_ephemeral_with_did_you_mean_buttons(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "Quasr Labz"}, locale="en-US")
    await answered(it)
    assert it.ephemeral and it.embeds == []
    assert said(it.content, "not_found", "en", query="Quasr Labz")
    assert "Quasar Labs" in (it.content or "")  # did you mean, in words
    labels = [b["label"] for b in buttons(it.original or {})]
    assert labels[:2] == ["🔎 Quasar", "🔎 Quasar Labs"]

    mine = await env.fake.click(int((it.original or {})["id"]), label="🔎 Quasar Labs")
    await answered(mine)
    assert not mine.ephemeral  # found: the results are for everyone
    assert said(shown(mine)["content"], "about_header", "en", query="Quasar Labs")
    assert rejected(env.fake) == []


async def test_weak_matches_never_look_confident(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "Claud Sonet"}, locale="en-US")
    await answered(it)
    content = it.content or ""
    assert not said(content, "about_header", "en", query="Claud Sonet")
    weak_header = [v.format(query="Claud Sonet") for v in lines("about_weak_header", "en")]
    assert any(header in content for header in weak_header)  # one line says: only guesses
    assert it.embeds
    for card in it.embeds:  # every weak card carries the mark, the label and grey
        assert card["author"]["name"] == "❔ Not sure (close match)"
        assert card["title"].startswith(lines("weak_label", "en"))
        assert card["color"] == 0x99AAB5
    labels = [b["label"] for b in buttons(it.original or {})]
    assert labels == ["🔎 Claude", "🔎 Claude 3.5 Sonnet"]


async def test_a_weak_reply_built_by_the_core_is_marked_on_every_card(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    weak_cards = tuple(
        env.service.card(hit, "ja", weak=True) for hit in env.service.engine.about("Quasar").hits
    )[:7]
    weak = Reply(
        "about",
        "ja",
        "「量子」のニュースは見つからなかったにゃ…",
        weak_cards,
        query="量子",
        weak=True,
        footer=lines("about_weak_header", "ja")[0].format(query="量子"),
    )
    assert len(weak_cards) == 7
    monkeypatch.setattr(env.service, "about", lambda *args, **kwargs: weak)
    it = await env.fake.slash("news about", {"query": "量子"}, locale="ja")
    await answered(it)
    assert "量子" in (it.content or "") and not it.ephemeral
    message_id = int((it.original or {})["id"])
    pages = [it.embeds]
    click = await env.fake.click(message_id, label="つぎへ ▶", locale="ja")
    await click.wait_acknowledged()
    pages.append(it.embeds)
    cards = [card for page in pages for card in page]
    assert len(cards) == 7
    for card in cards:
        assert card["author"]["name"] == "❔ 自信なし（近いかも）"
        assert card["title"].startswith(lines("weak_label", "ja"))
        assert card["color"] == 0x99AAB5


async def test_timeline_entries_are_labelled_and_share_no_link(env: Env) -> None:
    for locale, label, impact in (("en-US", "📜 AI Timeline", "High"), ("ja", "📜 AI年表", "大")):
        it = await env.fake.slash("news about", {"query": "Orbitron"}, locale=locale)
        await answered(it)
        first, second = it.embeds
        for card in (first, second):
            assert card["author"]["name"] == label
            assert "Orbitron" in card["description"]  # the entry's summary
            assert impact in [f["value"] for f in card["fields"]]
        assert first["url"] == "https://technyanai.com/history"
        assert "url" not in second  # the same page is linked once per reply
    assert rejected(env.fake) == []


async def test_a_folder_name_with_a_space_gives_an_encoded_link(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "Northwind"}, locale="en-US")
    await answered(it)
    assert it.embeds[0]["url"] == ("https://technyanai.com/articles/en/20240105/northwind%20office")
    it = await env.fake.slash("news latest", {"count": 25}, locale="ja")
    await it.wait_acknowledged()
    assert (
        "(https://technyanai.com/articles/ja/20240105/northwind%20office)"
        in (it.embeds[0]["description"])
    )
    assert rejected(env.fake) == []  # the fake refuses links Discord would refuse


async def test_the_fake_refuses_a_link_discord_would_refuse(env: Env) -> None:
    import discord

    channel = env.bot.get_channel(env.channel.id)
    assert isinstance(channel, discord.TextChannel)
    bad = discord.Embed(title="x", url="https://technyanai.com/articles/en/2024/northwind office")
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send(embed=bad)
    assert refused.value.code == 50035


async def test_a_query_echo_is_never_a_link_a_mention_or_formatting(env: Env) -> None:
    fake = env.fake
    for query in (
        "[click](https://example.org)",
        f"@everyone <@{fake.user.id}> **Pingtrap** __x__",
    ):
        it = await fake.slash("news about", {"query": query}, locale="en-US")
        await answered(it)
        content = shown(it)["content"]
        assert query not in content  # never verbatim
        assert "](" not in content.replace("\\](", "").replace("]\\(", "")
        assert "https://" not in content and "<@" not in content
        assert "@everyone" not in content.replace("\\@everyone", "")
        assert "**" not in content.replace("\\*\\*", "")
    escaped = r"\[click\]\(https\://example.org\)"
    it = await fake.slash("news ask", {"question": "[click](https://example.org)"})
    await answered(it)
    assert escaped in shown(it)["content"]
    assert_pings_nobody(fake)


async def test_everyone_in_a_story_pings_nobody(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "Pingtrap"})
    await answered(it)
    assert "@everyone" in it.embeds[0]["description"] and "<@123>" in it.embeds[0]["description"]
    stored = env.fake.message(int((it.original or {})["id"]))
    assert not stored["mention_everyone"] and stored["mentions"] == []
    assert_pings_nobody(env.fake)


# --------------------------------------------------------------------------- autocomplete


async def test_autocomplete_with_60_candidate_stories(env: Env) -> None:
    for typed, locale in (("Quasar", "en-US"), ("quasar", "ja"), ("", "ja")):
        it = await env.fake.autocomplete(
            "news about", {"query": typed}, focused="query", locale=locale
        )
        await it.wait_acknowledged()  # within the fake's 3 seconds, or it would be 10062
        assert it.choices is not None and len(it.choices) == 25
        for choice in it.choices:
            assert 1 <= len(choice["name"]) <= CHOICE_NAME_LIMIT
            assert 1 <= len(choice["value"]) <= CHOICE_VALUE_LIMIT
        if typed:
            assert all("quasar" in c["name"].casefold() for c in it.choices)
    it = await env.fake.autocomplete("news about", {"query": "very long name"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices and all(len(c["name"]) <= CHOICE_NAME_LIMIT for c in it.choices)
    assert any(c["name"].endswith("…") for c in it.choices)  # titles over 100 cut
    it = await env.fake.autocomplete("news about", {"query": "x" * 10_000}, focused="query")
    await it.wait_acknowledged()
    assert it.choices is not None
    assert rejected(env.fake) == []


async def test_autocomplete_gives_one_choice_per_story_in_the_users_language(env: Env) -> None:
    async def choices(typed: str, locale: str) -> list[str]:
        it = await env.fake.autocomplete(
            "news about", {"query": typed}, focused="query", locale=locale
        )
        await it.wait_acknowledged()
        return [c["name"] for c in it.choices or []]

    newest_ja = await choices("", "ja")
    assert len(newest_ja) == 25
    assert newest_ja[1:4] == [
        "ピングトラップの記事",
        "ゼフィリン加速器についての長すぎる見出し。" * 4 + "…",
        "DeepSeek-R1がウォール街を直撃",
    ]
    assert newest_ja[0] == "Lonelyword Project Launches in English Only"  # no Japanese one
    japanese = [name for name in newest_ja if any("\u3040" <= ch <= "\u9fff" for ch in name)]
    assert len(japanese) >= 23  # every story that has a Japanese title shows it
    newest_en = await choices("", "en-US")
    assert newest_en[1] == "Pingtrap story"

    deepseek = await choices("DeepSeek-R1", "ja")
    titles = [name for name in deepseek if "ウォール街" in name or "Wall Street" in name]
    assert titles == ["DeepSeek-R1がウォール街を直撃"]  # one story, one choice, in Japanese
    deepseek_en = await choices("DeepSeek-R1", "en-US")
    assert "DeepSeek-R1 Shakes Wall Street" in deepseek_en
    assert "DeepSeek-R1がウォール街を直撃" not in deepseek_en

    # Japanese words: one that only the article text holds, and a katakana name.
    assert "DeepSeek-R1がウォール街を直撃" in await choices("時価総額", "ja")
    assert (await choices("クロード", "ja"))[:2] == ["Claude", "Anthropic、Claude 3.5 Sonnetを公開"]


async def test_autocomplete_failure_answers_no_choices(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(prefix: str, limit: int = 25, locale: str | None = None) -> list[Any]:
        raise RuntimeError("index gone")

    monkeypatch.setattr(env.service, "suggest", broken)
    it = await env.fake.autocomplete("news about", {"query": "Qu"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices == []


# --------------------------------------------------------------------------- ask and help


async def test_ask_quotes_the_answering_sentence(env: Env) -> None:
    it = await env.fake.slash("news ask", {"question": "What did DeepSeek release?"})
    await answered(it)
    assert not it.ephemeral
    assert said(it.content, "ask_header", "en", question="What did DeepSeek release?")
    [embed] = it.embeds
    assert embed["title"] == "DeepSeek-R1 Shakes Wall Street"
    assert embed["description"].startswith("> ") and "DeepSeek" in embed["description"]
    assert field_value(embed, "📍 Section") == "What happened"

    it = await env.fake.slash("news ask", {"question": "Blackwellって何？"}, locale="ja")
    await answered(it)
    assert it.embeds[0]["title"] == "エヌビディア、GTC 2024でBlackwellを発表"
    assert field_value(it.embeds[0], "📍 見出し") == "何が起きたか"


async def test_ask_without_an_answer_is_told_only_to_the_asker(env: Env) -> None:
    it = await env.fake.slash("news ask", {"question": "xyzzy plugh"}, locale="ja")
    await answered(it)
    assert it.ephemeral and it.embeds == []
    assert said(it.content, "ask_not_found", "ja", question="xyzzy plugh")


async def test_help_names_commands_as_the_reader_sees_them(env: Env) -> None:
    it = await env.fake.slash("news help", locale="ja")  # nothing synced: localized names
    await it.wait_acknowledged()
    assert it.ephemeral and said(it.content, "discord_help", "ja")
    text = it.content or ""
    for name in ("/ニュース 最新", "/ニュース 検索", "/ニュース 質問", "/ニュース トレンド"):
        assert name in text
    assert "/news" not in text
    assert (
        "/まとめ配信 登録 チャンネル 時刻 [タイムゾーン] [言語] [最大件数] [ニュースなしでも投稿]"
        in text
    )

    for locale in ("en-GB", "fr"):
        it = await env.fake.slash("news help", locale=locale)
        await it.wait_acknowledged()
        assert said(it.content, "discord_help", "en")
        assert "/digest subscribe channel time [timezone] [locale] [max_items] [post_empty]" in (
            it.content or ""
        )


async def test_help_mentions_the_synced_commands(env: Env) -> None:
    await env.bot.tree.sync()
    ids = {c["name"]: c["id"] for c in env.fake.global_commands}
    it = await env.fake.slash("news help", locale="ja")
    await it.wait_acknowledged()
    text = it.content or ""
    for qualified in ("news latest", "news about", "news ask", "news trend", "news help"):
        assert f"</{qualified}:{ids['news']}>" in text
    for qualified in ("digest subscribe", "digest resume", "digest preview"):
        assert f"</{qualified}:{ids['digest']}>" in text
    assert f"</digest subscribe:{ids['digest']}> チャンネル 時刻 [タイムゾーン]" in text


# --------------------------------------------------------------------------- mentions


async def test_a_mention_is_answered_like_ask(env: Env) -> None:
    fake = env.fake
    question = await fake.mention("DeepSeekって何？")
    reply = await fake.wait_until(
        lambda: next(
            (m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")),
            None,
        )
    )
    assert str(reply["message_reference"]["message_id"]) == question["id"]
    assert said(reply["content"], "ask_header", "ja", question="DeepSeekって何？")
    assert reply["embeds"][0]["title"] == "DeepSeek-R1がウォール街を直撃"
    assert reply["mentions"] == []  # the reply does not ping its author
    assert_pings_nobody(fake)


async def test_mention_language_follows_the_guild_then_the_text(env: Env) -> None:
    fake = env.fake
    channel = env.en_guild.channel.id
    asked = [
        await fake.mention("What did DeepSeek release?", channel_id=channel),
        await fake.mention("Blackwellって何？", channel_id=channel),
        await fake.mention("What did DeepSeek release?"),  # a Japanese guild: Japanese
    ]

    def replies() -> dict[str, JSON] | None:
        found = {
            str(m["message_reference"]["message_id"]): m
            for c in (channel, env.channel.id)
            for m in fake.channel_messages(c)
            if m.get("message_reference")
        }
        return found if len(found) == 3 else None

    by_question = await fake.wait_until(replies)
    english, japanese, in_japanese_guild = (by_question[q["id"]]["content"] for q in asked)
    assert said(english, "ask_header", "en", question="What did DeepSeek release?")
    assert said(japanese, "ask_header", "ja", question="Blackwellって何？")
    assert said(in_japanese_guild, "ask_header", "ja", question="What did DeepSeek release?")


async def test_mention_without_a_question_and_messages_not_for_the_bot(env: Env) -> None:
    fake = env.fake
    robot = fake.add_user("robot", bot=True)
    await fake.message_create("DeepSeek news anyone?")  # no mention: not for the bot
    await fake.message_create(f"{fake.bot_user.mention} DeepSeek", user=robot)  # bots ignored
    await fake.message_create("@everyone DeepSeek")  # @everyone is not a mention of the bot
    last = await fake.mention("")
    # The ignored messages came first and are dropped without waiting on anything, so
    # once the last one is answered there is nothing else to come.
    reply = await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )
    assert [str(m["message_reference"]["message_id"]) for m in reply] == [last["id"]]
    assert reply[0]["content"] in lines("mention_no_question", "ja")


async def test_mention_with_everyone_pings_nobody(env: Env) -> None:
    await env.fake.mention("@everyone <@123> Pingtrap")
    await env.fake.wait_until(lambda: len(env.fake.channel_messages(env.channel.id)) == 2)
    assert_pings_nobody(env.fake)


# --------------------------------------------------------------------------- failures


async def test_a_failure_after_defer_is_an_ephemeral_apology_with_a_logged_cause(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()

    def boom(query: str, locale: str | None = None, limit: int = 10) -> Reply:
        release.wait(10)  # slow: deferred first
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(env.service, "about", boom)
    caplog.set_level(logging.INFO, logger="bot")
    it = await env.fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
    await it.wait_until(lambda i: i.loading)  # the public "thinking…"
    release.set()
    await it.wait_until(lambda i: bool(i.followups))
    assert it.response_type == 5
    [apology] = it.followups
    assert apology["flags"] & EPHEMERAL and apology["content"] in lines("error", "ja")
    assert it.original is None  # the public "thinking…" message was removed
    assert env.fake.channel_messages(env.channel.id) == []
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    text = record.getMessage()
    assert "command='news about'" in text and f"guild={env.ja_guild.id}" in text
    assert f"user={env.fake.user.id}" in text and "locale=ja" in text
    assert record.exc_info is not None and "secret internal detail" in str(record.exc_info[1])
    assert "secret" not in apology["content"] and "Traceback" not in apology["content"]


async def test_a_failure_before_answering_is_an_ephemeral_apology(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Reply:
        raise ValueError("nope")

    monkeypatch.setattr(env.service, "latest", boom)
    it = await env.fake.slash("news latest", locale="en-US")
    await it.wait_acknowledged()
    assert it.ephemeral and it.content in lines("error", "en")


async def test_a_failing_mention_gets_an_apology(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> Reply:
        raise RuntimeError("nope")

    monkeypatch.setattr(env.service, "ask", boom)
    await env.fake.mention("DeepSeekって何？")
    replies = await env.fake.wait_until(lambda: env.fake.channel_messages(env.channel.id)[1:])
    assert replies[0]["content"] in lines("error", "ja")


async def test_an_expired_interaction_is_logged_and_the_bot_keeps_serving(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    env.fake.callback_deadline = 0.0  # every first response is now too late
    it = await env.fake.slash("news about", {"query": "DeepSeek"})
    late = await env.fake.wait_for(lambda r: r.code == 10062)
    assert late.route.endswith("/callback") and not it.acknowledged
    await env.fake.wait_until(lambda: any("10062" in r.getMessage() for r in caplog.records))
    env.fake.callback_deadline = 3.0
    again = await env.fake.slash("news about", {"query": "DeepSeek"})
    await answered(again)
    assert again.embeds


async def test_a_reply_after_the_token_expired(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    release = hold(monkeypatch, env.service, "about")
    it = await env.fake.slash("news about", {"query": "DeepSeek"})
    await it.wait_acknowledged()
    assert it.loading
    env.fake.expire_interaction(it.id, token=True)  # 15 minutes pass
    release.set()
    gone = await env.fake.wait_for(lambda r: r.code == 50027)
    assert gone.status == 401
    await env.fake.wait_until(lambda: any("50027" in r.getMessage() for r in caplog.records))
    assert it.loading and it.followups == []  # nothing else was attempted
    again = await env.fake.slash("news about", {"query": "DeepSeek"})
    await answered(again)


async def test_missing_permissions_on_a_mention_reply_is_logged(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot")
    fake = env.fake
    fake.fault(env.channel.id, "missing_permissions")
    await fake.mention("DeepSeekって何？")
    refused = await fake.wait_for(lambda r: r.code == 50013)
    assert refused.status == 403
    await fake.wait_until(lambda: any("50013" in r.getMessage() for r in caplog.records))
    fake.clear_faults()
    await fake.mention("DeepSeekって何？")
    await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )


async def test_a_429_with_retry_after_is_waited_out(env: Env) -> None:
    fake = env.fake
    fake.fault(env.channel.id, "rate_limited", times=1, retry_after=0.2)
    since = fake.mark()
    started = time.monotonic()
    await fake.mention("DeepSeekって何？")
    await fake.wait_until(
        lambda: [m for m in fake.channel_messages(env.channel.id) if m.get("message_reference")]
    )
    assert time.monotonic() - started >= 0.2
    posts = [r.status for r in fake.requests[since:] if r.route.startswith("POST /channels")]
    assert posts == [429, 200]


async def test_a_5xx_on_the_followup_is_retried(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    release = hold(monkeypatch, env.service, "about")  # deferred: the answer is a followup
    fake = env.fake
    fake.fault("/webhooks/", "server_error", status=500, times=1)
    it = await fake.slash("news about", {"query": "DeepSeek"})
    await it.wait_until(lambda i: i.loading)
    release.set()
    await answered(it)
    followups = [r.status for r in fake.requests if r.route.startswith("POST /webhooks")]
    assert followups == [500, 200]
    assert it.embeds


async def test_each_command_served_logs_one_line_without_the_query(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.discord_app")
    it = await env.fake.slash("news about", {"query": "DeepSeek secret words"}, locale="ja")
    await answered(it)

    def served() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("served /news about")]

    [record] = await env.fake.wait_until(served)  # the completion event follows the reply
    assert record.command == "news about"  # type: ignore[attr-defined]
    assert record.guild == env.ja_guild.id  # type: ignore[attr-defined]
    assert record.locale == "ja"  # type: ignore[attr-defined]
    assert isinstance(record.results, int)  # type: ignore[attr-defined]
    assert record.ms >= 0  # type: ignore[attr-defined]
    assert "secret words" not in record.getMessage()


async def test_commands_arriving_during_shutdown_get_an_apology(env: Env) -> None:
    env.bot.closing = True  # what close() sets first, before stopping the scheduler
    try:
        it = await env.fake.slash("news latest", {}, locale="ja")
        await it.wait_acknowledged()
        assert it.ephemeral
        assert said(it.content, "error", "ja")
        assert it.embeds == []
    finally:
        env.bot.closing = False


# --------------------------------------------------------------------------- cooldown


async def test_a_user_over_the_budget_is_asked_to_slow_down(env: Env) -> None:
    fake = env.fake
    answers = []
    for _ in range(6):
        it = await fake.slash("news latest", {"count": 1}, locale="ja")
        answers.append(await it.wait_acknowledged())
    assert all(not it.ephemeral and it.embeds for it in answers[:5])
    refused = answers[5]
    assert refused.ephemeral and refused.embeds == []
    assert said(refused.content, "slow_down", "ja")
    seconds = int("".join(ch for ch in refused.content or "" if ch.isdigit()))
    assert 1 <= seconds <= 10
    bob = fake.add_user("bob")
    other = await fake.slash("news latest", {"count": 1}, user=bob, locale="en-US")
    await other.wait_acknowledged()
    assert other.embeds and not other.ephemeral  # someone else is not slowed down
    it = await fake.autocomplete("news about", {"query": "Qu"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices  # autocomplete is not counted


async def test_a_flood_from_one_user_does_not_cost_another_users_answers(env: Env) -> None:
    fake = env.fake
    flood = await asyncio.gather(
        *(fake.slash("news about", {"query": "Quasar"}, locale="en-US") for _ in range(60))
    )
    bob = fake.add_user("bob")
    others = [
        await fake.slash("news latest", {"count": 1}, user=bob, locale="en-US") for _ in range(5)
    ]
    for it in [*flood, *others]:
        await it.wait_acknowledged()
    for it in others:
        await answered(it)
        assert it.embeds and not it.ephemeral
    slowed = [it for it in flood if it.ephemeral and said(it.content, "slow_down", "en")]
    served = [it for it in flood if not it.ephemeral]
    assert len(served) == 5 and len(slowed) == 55
    assert [r.code for r in fake.requests if r.code == 10062] == []
