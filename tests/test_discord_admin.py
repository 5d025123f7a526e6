"""The command tree as Discord receives it at sync (who sees what, where, in which
language) and ``/digest``, the admins' commands, end to end against the fake Discord."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.admin import ChannelCheck, DigestOptions, DigestPreview
from bot.digest import compose_digest, render_digest_messages
from tests.discord_support import (
    EPHEMERAL,
    JSON,
    MANAGE_GUILD,
    Env,
    RecordingAdmin,
    admin_slash,
    answered,
    build_corpus_and_index,
    buttons,
    lines,
    rejected,
    running,
)

MEMBER = discord.Permissions(send_messages=True, use_application_commands=True).value
ADMINISTRATOR = discord.Permissions(administrator=True).value


@pytest.fixture(scope="module")
def corpus_and_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_corpus_and_index(tmp_path_factory.mktemp("discord-admin"))


@pytest.fixture
async def env(corpus_and_index: tuple[Path, Path]) -> AsyncIterator[Env]:
    async with running(corpus_and_index, digest_admin=RecordingAdmin()) as environment:
        yield environment


def walk(options: list[JSON], path: str) -> list[tuple[str, JSON]]:
    found = []
    for option in options:
        found.append((f"{path} {option['name']}", option))
        found.extend(walk(option.get("options") or [], f"{path} {option['name']}"))
    return found


# --------------------------------------------------------------------------- the synced tree


async def test_members_see_news_everywhere_and_only_admins_see_digest(env: Env) -> None:
    synced = await env.bot.tree.sync()
    assert sorted(c.name for c in synced) == ["digest", "news"]
    assert env.fake.requests[-1].status == 200  # the fake checks names and descriptions
    by_name = {c["name"]: c for c in env.fake.global_commands}
    news, digest = by_name["news"], by_name["digest"]

    assert news["default_member_permissions"] is None  # for everyone
    assert news["contexts"] == [0, 1, 2]  # servers, the bot's DMs, private channels
    assert news["integration_types"] == [0, 1]  # installed to a server or to a user
    assert {o["name"] for o in news["options"]} == {"latest", "about", "ask", "trend", "help"}

    assert int(digest["default_member_permissions"]) == MANAGE_GUILD  # Manage Server
    assert digest["contexts"] == [0] and digest["dm_permission"] is False  # servers only
    assert digest["integration_types"] == [0]
    assert {o["name"] for o in digest["options"]} == {
        "subscribe",
        "edit",
        "unsubscribe",
        "subscriptions",
        "resume",
        "preview",
    }
    subscribe = dict(walk(digest["options"], "digest"))["digest subscribe"]
    assert [(o["name"], o.get("required", False)) for o in subscribe["options"]] == [
        ("channel", True),
        ("time", True),
        ("timezone", False),
        ("locale", False),
        ("max_items", False),
        ("post_empty", False),
        ("categories", False),
        ("include", False),
        ("exclude", False),
        ("role", False),
        ("publish", False),
    ]
    # Text, announcement, announcement thread, public and private thread, forum.
    assert subscribe["options"][0]["channel_types"] == [0, 5, 10, 11, 12, 15]
    assert subscribe["options"][9]["type"] == 8  # a role
    assert subscribe["options"][6]["autocomplete"] is True  # categories
    edit = dict(walk(digest["options"], "digest"))["digest edit"]
    assert [o["name"] for o in edit["options"] if o.get("required")] == ["channel"]


async def test_every_visible_word_of_the_tree_has_a_japanese_version(env: Env) -> None:
    await env.bot.tree.sync()
    by_name = {c["name"]: c for c in env.fake.global_commands}
    assert by_name["news"]["name_localizations"] == {"ja": "ニュース"}
    assert by_name["digest"]["name_localizations"] == {"ja": "まとめ配信"}
    for top in by_name.values():
        assert top["description_localizations"].get("ja")
        for path, option in walk(top["options"], top["name"]):
            assert option["name_localizations"].get("ja"), path
            assert option["description_localizations"].get("ja"), path
            assert len(option["description"]) <= 100, path
            for choice in option.get("choices") or []:
                assert choice["name_localizations"].get("ja"), (path, choice)
    options = dict(walk(by_name["news"]["options"], "news"))
    category = options["news latest category"]
    assert [(c["value"], c["name_localizations"]["ja"]) for c in category["choices"]] == [
        ("Model Release", "モデル発表"),
        ("Business", "ビジネス"),
        ("Hardware", "ハードウェア"),
        ("Product", "製品"),
    ]
    count = options["news latest count"]
    assert (count["min_value"], count["max_value"]) == (1, 25)
    assert options["news about query"]["autocomplete"] is True
    locale = dict(walk(by_name["digest"]["options"], "digest"))["digest subscribe locale"]
    assert [c["name_localizations"]["ja"] for c in locale["choices"]] == ["日本語", "英語"]


async def test_discord_keeps_digest_from_members_and_out_of_dms(env: Env) -> None:
    await env.bot.tree.sync()
    fake = env.fake
    with pytest.raises(PermissionError):  # a member's client does not offer /digest
        await admin_slash(fake, "digest subscriptions", permissions=MEMBER)
    with pytest.raises(PermissionError):  # nor does a DM
        await admin_slash(fake, "digest subscriptions", dm=True)
    for permissions in (MANAGE_GUILD, ADMINISTRATOR):
        it = await admin_slash(fake, "digest subscriptions", permissions=permissions)
        await answered(it)
        assert it.ephemeral and it.content == "subscriptions done, nya!"
    it = await fake.slash("news latest", {"count": 1}, permissions=MEMBER, dm=True)
    await it.wait_acknowledged()  # /news is for everyone, everywhere
    assert it.embeds


#: Every /digest subcommand: its options (a channel added where it takes one) and the
#: ``DigestAdmin`` method it calls.
DIGEST_COMMANDS = [
    ("digest subscribe", {"time": "09:00"}, True, "subscribe"),
    ("digest edit", {"time": "10:00"}, True, "edit"),
    ("digest unsubscribe", {}, True, "unsubscribe"),
    ("digest subscriptions", {}, False, "subscriptions"),
    ("digest resume", {}, True, "resume"),
    ("digest preview", {}, True, "preview"),
]


@pytest.mark.parametrize(("command", "options", "with_channel", "call"), DIGEST_COMMANDS)
async def test_who_may_run_each_digest_command_is_what_the_server_decides(
    env: Env, command: str, options: dict[str, Any], with_channel: bool, call: str
) -> None:
    await env.bot.tree.sync()
    fake, admin = env.fake, env.admin
    assert admin is not None
    channel = fake.channel if with_channel else None
    member, moderator = fake.add_user("member"), fake.add_user("moderator")

    async def run(user: Any, permissions: int) -> None:
        it = await admin_slash(
            fake, command, dict(options), channel=channel, permissions=permissions, user=user
        )
        await answered(it)
        assert it.ephemeral
        assert admin.calls[-1][0] == call

    # By default: not a member without Manage Server; anyone with it, or Administrator.
    with pytest.raises(PermissionError):
        await admin_slash(fake, command, dict(options), channel=channel, permissions=MEMBER,
                          user=member)  # fmt: skip
    assert admin.calls == []
    await run(moderator, MANAGE_GUILD)
    await run(moderator, ADMINISTRATOR)
    # A server that gives /digest to a member, or takes it from a moderator, is obeyed:
    # the bot has no check of its own that would overrule it.
    fake.set_command_permission(fake.guild, "digest", member, True)
    await run(member, MEMBER)
    fake.set_command_permission(fake.guild, "digest", moderator, False)
    with pytest.raises(PermissionError):
        await admin_slash(fake, command, dict(options), channel=channel,
                          permissions=MANAGE_GUILD, user=moderator)  # fmt: skip
    assert len(admin.calls) == 3


# --------------------------------------------------------------------------- /digest


async def test_digest_outside_a_server_says_it_needs_a_server(env: Env) -> None:
    it = await admin_slash(env.fake, "digest subscriptions", dm=True, locale="ja")
    await it.wait_acknowledged()
    assert it.ephemeral and it.content in lines("needs_server", "ja")
    assert not any("サーバー管理" in line for line in lines("needs_server", "ja"))
    assert env.admin is not None and env.admin.calls == []


async def test_digest_commands_delegate_to_the_digest_admin(env: Env) -> None:
    fake, news, admin = env.fake, env.ja_guild.channels[1], env.admin
    assert admin is not None
    it = await admin_slash(
        fake,
        "digest subscribe",
        {"time": "08:30", "timezone": "Asia/Tokyo", "locale": "en", "max_items": 3},
        channel=news,
        locale="ja",
    )
    await answered(it)
    assert it.ephemeral and it.content == "subscribe done, nya!"
    name, kwargs = admin.calls[-1]
    assert name == "subscribe" and kwargs == {
        "guild_id": env.ja_guild.id,
        "channel_id": news.id,
        "options": DigestOptions(time="08:30", timezone="Asia/Tokyo", locale="en", max_items=3),
        "check": ChannelCheck("text"),  # the bot may post there
        "user_id": fake.user.id,
        "user_locale": "ja",
    }
    for command, channel, expected in (
        ("digest unsubscribe", None, {"guild_id": env.ja_guild.id, "channel_id": None}),
        ("digest resume", news, {"guild_id": env.ja_guild.id, "channel_id": news.id}),
        ("digest subscriptions", None, {"guild_id": env.ja_guild.id}),
        ("digest preview", None, {"guild_id": env.ja_guild.id, "channel_id": env.channel.id}),
    ):
        it = await admin_slash(fake, command, channel=channel)
        await answered(it)
        assert it.ephemeral
        assert admin.calls[-1][1] == expected | {"user_locale": "en"}


async def test_categories_autocomplete_and_japanese_names(env: Env) -> None:
    fake, news, admin = env.fake, env.ja_guild.channels[1], env.admin
    assert admin is not None
    options: dict[str, Any] = {"channel": news, "time": "09:00", "categories": "Business, モデル"}
    it = await fake.autocomplete("digest subscribe", options, "categories", locale="ja")
    await it.wait_until(lambda i: i.choices is not None)
    assert {"name": "Business, モデル発表", "value": "Business, Model Release"} in [
        {"name": c["name"], "value": c["value"]} for c in it.choices or []
    ]
    # After a Japanese 、 the last name is completed too, and the names typed stay.
    options["categories"] = "ビジネス、モデル"
    it = await fake.autocomplete("digest subscribe", options, "categories", locale="ja")
    await it.wait_until(lambda i: i.choices is not None)
    assert {"name": "ビジネス, モデル発表", "value": "ビジネス, Model Release"} in [
        {"name": c["name"], "value": c["value"]} for c in it.choices or []
    ]
    for typed in ("ビジネス、モデル発表", "ビジネス；モデル発表", "ビジネス, Model Release"):
        japanese = {"time": "09:00", "categories": typed}
        it = await admin_slash(fake, "digest subscribe", japanese, channel=news, locale="ja")
        await answered(it)
        name, kwargs = admin.calls[-1]
        assert name == "subscribe" and kwargs["options"].categories == "Business, Model Release"


async def test_the_digest_preview_is_the_note_then_the_messages(env: Env) -> None:
    fake, news, admin = env.fake, env.ja_guild.channels[1], env.admin
    assert admin is not None
    day = dt.datetime(2025, 11, 18, tzinfo=dt.UTC)
    arguments: dict[str, Any] = {"channel_id": news.id, "locale": "en", "timezone": "UTC",
                                 "max_items": 7, "post_empty": True}  # fmt: skip
    empty = compose_digest(env.service, window_start=day, window_end=day, **arguments)
    cards = env.service.about("Quasar", "en").cards
    digest = dataclasses.replace(empty, cards=cards, closing="Bye!")
    messages = tuple(render_digest_messages(digest, role_id=5))
    assert len(messages) == 2
    admin.preview_answer = DigestPreview("en", "Here's the digest, nya!", messages, offer_test=True)
    it = await admin_slash(fake, "digest preview", channel=news)
    await it.wait_until(lambda i: len(i.messages) == 3 and not i.loading)
    note, first, second = it.messages
    assert note["content"] == "Here's the digest, nya!" and all(
        m["flags"] & EPHEMERAL for m in it.messages
    )
    assert [b["label"] for b in buttons(note)] == ["🧪 Post a test digest now"]
    assert (
        first["content"] == messages[0].content and first["embeds"][0]["title"] == messages[0].title
    )
    assert second["embeds"][0]["footer"]["text"] == messages[1].footer
    assert first["mention_roles"] == []  # a preview pings nobody
    assert admin.calls[-1] == (
        "preview",
        {"guild_id": env.ja_guild.id, "channel_id": news.id, "user_locale": "en"},
    )
    click = await fake.click(int(note["id"]), label="🧪 Post a test digest now")
    await click.wait_until(lambda i: bool(i.messages) and not i.loading)
    assert click.messages[-1]["content"] == "post_test done, nya!" and click.ephemeral
    assert admin.calls[-1] == (
        "post_test",
        {"guild_id": env.ja_guild.id, "channel_id": news.id, "user_locale": "en"},
    )
    admin.fail = True  # a test post that fails unexpectedly: the admin gets the apology
    click = await fake.click(int(note["id"]), label="🧪 Post a test digest now")
    await click.wait_until(lambda i: bool(i.messages) and not i.loading)
    assert click.messages[-1]["content"] in lines("error", "en") and click.ephemeral
    assert rejected(fake) == []


async def test_digest_without_a_digest_subsystem_or_when_it_fails(
    corpus_and_index: tuple[Path, Path],
) -> None:
    async with running(corpus_and_index) as env:
        it = await admin_slash(env.fake, "digest subscriptions", locale="ja")
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("digest_unavailable", "ja")
    admin = RecordingAdmin(fail=True)
    async with running(corpus_and_index, digest_admin=admin) as env:
        it = await admin_slash(env.fake, "digest subscriptions")
        await it.wait_acknowledged()
        assert it.ephemeral and it.content in lines("error", "en")
