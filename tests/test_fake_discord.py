"""The fake Discord server drives a real discord.py bot: gateway, interactions, REST, faults."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes import DEADLINE_SECONDS, FakeDiscord

MANAGE_GUILD = discord.Permissions(manage_guild=True).value


@dataclass
class Probe:
    """What reached the bot's code."""

    messages: list[discord.Message] = field(default_factory=list)
    message_seen: asyncio.Event = field(default_factory=asyncio.Event)
    clicked: asyncio.Event = field(default_factory=asyncio.Event)
    http_errors: list[discord.HTTPException] = field(default_factory=list)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)


class NewsView(discord.ui.View):
    def __init__(self, probe: Probe) -> None:
        super().__init__(timeout=60)
        self.probe = probe

    @discord.ui.button(label="More", custom_id="news:more")
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.probe.clicked.set()
        await interaction.response.edit_message(content="more news", view=None)


class FastBot(commands.Bot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s before every non-initial IDENTIFY


class FastShardedBot(commands.AutoShardedBot):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


AnyBot = commands.Bot | commands.AutoShardedBot


def make_bot(probe: Probe, *, sharded: bool = False) -> AnyBot:
    options: dict[str, Any] = {
        "command_prefix": "!",
        "intents": discord.Intents.default(),  # no privileged intents
        "guild_ready_timeout": 0.05,  # on_ready waits this long after the last GUILD_CREATE
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    bot: AnyBot = FastShardedBot(**options) if sharded else FastBot(**options)
    news = app_commands.Group(name="news", description="AI news")

    @news.command(name="ping", description="pong, ephemerally")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    @news.command(name="about", description="news about a topic")
    async def about(interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(f"about {query} ({interaction.locale.value})")

    @about.autocomplete("query")
    async def about_query(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        count = 30 if current == "many" else 3
        return [
            app_commands.Choice(name=f"{current} {i}", value=f"{current}{i}") for i in range(count)
        ]

    @news.command(name="big", description="an embed over Discord's limit")
    async def big(interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_message(embed=discord.Embed(description="x" * 5000))
        except discord.HTTPException as exc:
            probe.http_errors.append(exc)
            await interaction.response.send_message("too long, sorry", ephemeral=True)

    @news.command(name="latest", description="with a button")
    async def latest(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("latest news", view=NewsView(probe))

    @news.command(name="slow", description="defer then follow up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done")

    @news.command(name="sleepy", description="answers too late")
    async def sleepy(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.HTTPException as exc:
            probe.http_errors.append(exc)

    @news.command(name="admin", description="admins only")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok admin", ephemeral=True)

    @news.command(name="multi", description="followups, edits and deletes")
    async def multi(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("first")
        await interaction.followup.send("second", ephemeral=True)
        await interaction.edit_original_response(content="first, edited")
        third = await interaction.followup.send("third", wait=True)
        await third.delete()
        original = await interaction.original_response()
        await interaction.followup.send(f"original says {original.content!r}")

    bot.tree.add_command(news)

    async def on_app_command_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            await interaction.response.send_message("no permission", ephemeral=True)

    bot.tree.on_error = on_app_command_error  # type: ignore[method-assign]

    async def on_message(message: discord.Message) -> None:
        probe.messages.append(message)
        probe.message_seen.set()

    async def on_resumed() -> None:
        probe.resumed.set()

    bot.add_listener(on_message, "on_message")
    bot.add_listener(on_resumed, "on_resumed")
    return bot


@dataclass
class Env:
    fake: FakeDiscord
    bot: AnyBot
    probe: Probe


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    async with FakeDiscord() as fake:
        probe = Probe()
        bot = make_bot(probe)
        async with fake.run_bot(bot):
            yield Env(fake, bot, probe)


async def test_ready_and_guild_create_reach_the_bot(env: Env) -> None:
    fake, bot = env.fake, env.bot
    assert bot.user is not None and bot.user.id == fake.bot_user.id
    assert [g.id for g in bot.guilds] == [fake.guild.id]
    guild = bot.guilds[0]
    assert guild.get_channel(fake.channel.id) is not None
    assert guild.me is not None and guild.me.guild_permissions.send_messages
    assert fake.identifies == [(0, 1)]
    assert fake.connections == ["/gateway"]
    assert [r.route for r in fake.requests[:2]] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    ]


async def test_slash_command_reply_is_recorded(env: Env) -> None:
    it = await env.fake.slash("news ping", locale="ja")
    await it.wait_acknowledged()
    assert it.content == "pong"
    assert it.ephemeral
    assert it.callbacks == [{"type": 4, "data": it.callbacks[0]["data"]}]
    assert env.fake.channel_messages(env.fake.channel.id) == []  # ephemeral: not in history

    it = await env.fake.slash("news about", {"query": "DeepSeek"}, locale="ja")
    await it.wait_acknowledged()
    assert it.content == "about DeepSeek (ja)"
    assert not it.ephemeral
    assert env.fake.channel_messages(env.fake.channel.id)[-1]["content"] == it.content
    assert it.payload["data"]["options"] == [
        {"name": "about", "type": 1, "options": [{"name": "query", "type": 3, "value": "DeepSeek"}]}
    ]


async def test_oversized_embed_is_rejected_with_50035(env: Env) -> None:
    it = await env.fake.slash("news big")
    await it.wait_acknowledged()
    [exc] = env.probe.http_errors
    assert exc.status == 400 and exc.code == 50035
    assert "embeds.0.description" in exc.text
    rejected = await env.fake.wait_for(lambda r: r.status == 400)
    assert rejected.route == "POST /interactions/{interaction_id}/{token}/callback"
    assert it.content == "too long, sorry" and it.ephemeral


async def test_autocomplete_choices_are_recorded(env: Env) -> None:
    it = await env.fake.autocomplete("news about", {"query": "Deep"}, focused="query")
    await it.wait_acknowledged()
    assert it.choices == [{"name": f"Deep {i}", "value": f"Deep{i}"} for i in range(3)]

    too_many = await env.fake.autocomplete("news about", {"query": "many"}, focused="query")
    request = await env.fake.wait_for(lambda r: r.params.get("interaction_id") == str(too_many.id))
    assert (request.status, request.code) == (400, 50035)
    assert not too_many.acknowledged


async def test_button_click_reaches_the_view(env: Env) -> None:
    it = await env.fake.slash("news latest")
    await it.wait_acknowledged()
    assert it.original is not None
    assert it.components[0]["components"][0]["custom_id"] == "news:more"

    click = await env.fake.click(int(it.original["id"]), label="More", locale="en-US")
    await asyncio.wait_for(env.probe.clicked.wait(), DEADLINE_SECONDS)
    await click.wait_acknowledged()
    assert click.response_type == 7
    assert it.content == "more news" and it.components == []  # the same message, updated


async def test_defer_then_followup_fills_the_thinking_message(env: Env) -> None:
    it = await env.fake.slash("news slow")
    await it.wait_until(lambda i: i.content == "done")
    assert it.response_type == 5 and not it.loading and it.followups == []


async def test_followups_edits_and_deletes(env: Env) -> None:
    it = await env.fake.slash("news multi")
    await it.wait_until(lambda i: any("original says" in m["content"] for m in i.followups))
    assert it.content == "first, edited" and not it.ephemeral
    assert [(m["content"], bool(m["flags"] & 64)) for m in it.followups] == [
        ("second", True),
        ("original says 'first, edited'", False),
    ]
    routes = [r.route.split(" ")[0] + " " + r.path.rsplit("/", 1)[-1] for r in env.fake.requests]
    assert "GET @original" in routes and "PATCH @original" in routes
    assert any(r.method == "DELETE" and r.status == 204 for r in env.fake.requests)
    visible = [m["content"] for m in env.fake.channel_messages(env.fake.channel.id)]
    assert visible == ["first, edited", "original says 'first, edited'"]


async def test_dm_interaction_and_file_upload(env: Env) -> None:
    it = await env.fake.slash("news about", {"query": "DM"}, dm=True)
    await it.wait_acknowledged()
    assert it.content == "about DM (en-US)"
    assert "user" in it.payload and "member" not in it.payload

    channel = env.bot.get_channel(env.fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("report", file=discord.File(io.BytesIO(b"digest"), "digest.txt"))
    upload = env.fake.requests[-1]
    assert upload.json["content"] == "report"
    assert [(f.filename, f.data) for f in upload.files] == [("digest.txt", b"digest")]
    assert env.fake.channel_messages(channel.id)[-1]["attachments"][0]["size"] == 6


async def test_late_answer_gets_unknown_interaction(env: Env) -> None:
    env.fake.callback_deadline = 0.1
    it = await env.fake.slash("news sleepy")
    await env.fake.wait_until(lambda: env.probe.http_errors)
    [exc] = env.probe.http_errors
    assert isinstance(exc, discord.NotFound) and exc.code == 10062
    assert not it.acknowledged


async def test_manage_guild_check_uses_member_permissions(env: Env) -> None:
    it = await env.fake.slash("news admin")
    await it.wait_acknowledged()
    assert it.content == "no permission"
    it = await env.fake.slash("news admin", permissions=MANAGE_GUILD)
    await it.wait_acknowledged()
    assert it.content == "ok admin"


async def test_channel_post_and_injected_faults(env: Env) -> None:
    fake = env.fake
    channel = env.bot.get_channel(fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("hello @everyone")
    assert fake.channel_messages(channel.id)[-1]["content"] == "hello @everyone"
    assert not sent.mention_everyone  # AllowedMentions.none() reached the fake
    history = [m.content async for m in channel.history(limit=5)]
    assert history == ["hello @everyone"]

    fake.fault(channel.id, "missing_access")
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("again")
    assert forbidden.value.code == 50001
    fake.clear_faults(channel.id)
    fake.fault(channel.id, "missing_permissions", times=1)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("again")
    assert forbidden.value.code == 50013
    fake.fault(channel.id, "unknown_channel")
    with pytest.raises(discord.NotFound) as not_found:
        await channel.send("again")
    assert not_found.value.code == 10003
    fake.clear_faults()
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.code == 50035
    assert fake.invalid_request_count == 2  # the two 403s (404 is not counted)


async def test_429_is_retried_after_retry_after(env: Env) -> None:
    channel = env.bot.get_channel(env.fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    env.fake.fault(channel.id, "rate_limited", times=1, retry_after=0.2)
    since = env.fake.mark()
    started = time.monotonic()
    await channel.send("after the 429")
    assert time.monotonic() - started >= 0.2
    statuses = [r.status for r in env.fake.requests[since:]]
    assert statuses == [429, 200]
    assert env.fake.requests[since].response["retry_after"] == 0.2


async def test_server_error_is_retried(env: Env) -> None:
    channel = env.bot.get_channel(env.fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    env.fake.fault(channel.id, "server_error", status=502, times=1)
    since = env.fake.mark()
    await channel.send("after the 502")  # discord.py sleeps 1 s before retrying
    assert [r.status for r in env.fake.requests[since:]] == [502, 200]


async def test_global_rate_limit(env: Env) -> None:
    env.fake.global_rate_limit = 3
    channel = env.bot.get_channel(env.fake.channel.id)
    assert isinstance(channel, discord.TextChannel)
    for i in range(4):
        await channel.send(f"post {i}")
    assert env.fake.global_429_count >= 1
    assert [m["content"] for m in env.fake.channel_messages(channel.id)] == [
        f"post {i}" for i in range(4)
    ]
    global_429 = next(r for r in env.fake.requests if r.status == 429)
    assert global_429.response["global"] is True
    # Interaction callbacks are exempt from the global limit.
    it = await env.fake.slash("news ping")
    await it.wait_acknowledged()


async def test_mention_reaches_on_message(env: Env) -> None:
    await env.fake.message_create("no mention here")
    await env.fake.mention("question")
    await env.fake.wait_until(lambda: len(env.probe.messages) == 2)
    plain, mention = env.probe.messages
    assert plain.content == ""  # message-content intent is privileged
    assert env.bot.user is not None
    assert mention.content == f"<@{env.bot.user.id}> question"
    assert env.bot.user in mention.mentions
    assert mention.guild is not None and mention.guild.id == env.fake.guild.id


async def test_resume_after_forced_reconnect(env: Env) -> None:
    fake = env.fake
    await fake.force_reconnect()
    # Dispatched while the bot is away: replayed on RESUME.
    it = await fake.slash("news ping")
    await asyncio.wait_for(env.probe.resumed.wait(), DEADLINE_SECONDS)
    await it.wait_acknowledged()
    assert fake.connections == ["/gateway", "/gateway-resume"]
    assert len(fake.resumes) == 1 and fake.identifies == [(0, 1)]

    await fake.force_reconnect(how="op7")
    await fake.wait_until(lambda: len(fake.resumes) == 2)


async def test_invalid_session_reidentifies(env: Env) -> None:
    fake = env.fake
    since = len(fake.gateway_log)
    await fake.invalidate_session()
    await fake.wait_for_gateway(lambda f: f.t == "READY", since=since)
    await fake.wait_connected()
    assert fake.identifies == [(0, 1), (0, 1)]
    assert fake.connections[-1] == "/gateway"
    it = await fake.slash("news ping")
    await it.wait_acknowledged()


async def test_tree_sync_is_echoed_with_ids(env: Env) -> None:
    synced = await env.bot.tree.sync()
    assert [c.name for c in synced] == ["news"]
    assert env.fake.global_commands[0]["id"] == str(synced[0].id)
    guild = discord.Object(env.fake.guild.id)
    env.bot.tree.copy_global_to(guild=guild)
    assert [c.name for c in await env.bot.tree.sync(guild=guild)] == ["news"]
    assert env.fake.guild_commands[env.fake.guild.id][0]["guild_id"] == str(env.fake.guild.id)


async def test_auto_sharded_bot_identifies_each_shard() -> None:
    async with FakeDiscord(guilds=0, shards=2) as fake:
        first = fake.add_guild("shard zero", guild_id=(1000 << 22) | 1)
        second = fake.add_guild("shard one", guild_id=(1001 << 22) | 1)
        probe = Probe()
        bot = make_bot(probe, sharded=True)
        async with fake.run_bot(bot):
            assert sorted(fake.identifies) == [(0, 2), (1, 2)]
            assert {g.id for g in bot.guilds} == {first.id, second.id}
            assert any(r.route == "GET /gateway/bot" for r in fake.requests)
            it = await fake.slash("news ping", channel_id=second.channel.id)
            await it.wait_acknowledged()
            frame = await fake.wait_for_gateway(lambda f: f.t == "INTERACTION_CREATE")
            assert frame.shard_id == 1


async def test_callback_rules_over_raw_http() -> None:
    """Second callback → 40060, expired → 10062, expired token → 401 50027 (no bot code)."""
    async with FakeDiscord() as fake:
        bot = make_bot(Probe())
        async with fake.run_bot(bot), aiohttp.ClientSession() as http:
            # A command the bot doesn't know: discord.py never answers it.
            it = await fake.slash("unknown")
            url = f"{fake.api_url}/interactions/{it.id}/{it.token}/callback"
            body = {"type": 4, "data": {"content": "hi"}}
            async with http.post(url, json=body) as first:
                assert first.status == 200
                assert first.headers["content-type"] == "application/json"
            async with http.post(url, json=body) as second:
                assert second.status == 400
                assert (await second.json())["code"] == 40060

            late = await fake.slash("unknown")
            fake.expire_interaction(late.id)
            late_url = f"{fake.api_url}/interactions/{late.id}/{late.token}/callback"
            async with http.post(late_url, json=body) as expired:
                assert expired.status == 404
                assert (await expired.json())["code"] == 10062

            fake.expire_interaction(it.id, token=True)
            followup = f"{fake.api_url}/webhooks/{fake.application_id}/{it.token}"
            async with http.post(followup, json={"content": "later"}) as gone:
                assert gone.status == 401
                assert (await gone.json())["code"] == 50027


@pytest.mark.parametrize(
    ("payload", "error_path"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t"}] * 11}, "embeds"),
        ({"embeds": [{"title": "t" * 257}]}, "title"),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, "author"),
        ({"embeds": [{"description": "d" * 4097}]}, "description"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "fields"),
        ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, "name"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "value"),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "footer"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        (
            {"components": [{"type": 1, "components": [{"type": 2, "custom_id": "c" * 101}]}]},
            "custom_id",
        ),
        (
            {
                "components": [
                    {"type": 1, "components": [{"type": 2, "custom_id": "c", "label": "l" * 81}]}
                ]
            },
            "label",
        ),
        ({"components": [{"type": 1, "components": []}] * 6}, "components"),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [{"type": 2, "custom_id": str(i)} for i in range(6)],
                    }
                ]
            },
            "components",
        ),
    ],
)
async def test_message_limits(payload: dict[str, Any], error_path: str) -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        url = f"{fake.api_url}/channels/{fake.channel.id}/messages"
        headers = {"Authorization": f"Bot {fake.token}"}
        async with http.post(url, json=payload, headers=headers) as response:
            body = await response.json()
        assert response.status == 400
        assert body["code"] == 50035 and body["message"] == "Invalid Form Body"
        assert error_path in str(body["errors"])
        async with http.post(url, json={"content": "ok"}, headers=headers) as ok:
            assert ok.status == 200
        async with http.get(f"{fake.api_url}/nope", headers=headers) as missing:
            assert missing.status == 404
        assert fake.requests[-1].route == "" and fake.requests[-1].status == 404


async def test_patches_are_restored() -> None:
    def current() -> tuple[str, str]:
        return discord.http.Route.BASE, str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)

    before = current()
    async with FakeDiscord() as fake:
        assert current() == (fake.api_url, fake.ws_url)
    assert current() == before


async def test_channel_permissions_threads_forums_and_crossposts_over_raw_http() -> None:
    """Discord's rules for the bot's posts, without bot code: overwrites, Embed Links,
    Read Message History, Send Messages in Threads, forum posts, crossposts, DMs, roles."""
    from tests.fakes.discord_server import ANNOUNCEMENT, FLAG_CROSSPOSTED, FORUM
    from tests.fakes.permissions import (
        EMBED_LINKS,
        READ_MESSAGE_HISTORY,
        SEND_MESSAGES,
        SEND_MESSAGES_IN_THREADS,
        VIEW_CHANNEL,
    )

    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        guild = fake.guild
        text, hidden = guild.channels
        news = fake.add_channel(guild, "news", type=ANNOUNCEMENT)
        forum = fake.add_channel(guild, "posts", type=FORUM)
        tagged = fake.add_channel(guild, "tagged", type=FORUM, require_tag=True, tags=["AI"])
        thread = fake.add_thread(text, "daily", archived=True)
        ping, quiet = fake.add_role(guild, "ping"), fake.add_role(guild, "quiet", mentionable=False)
        fake.overwrite(hidden, deny=VIEW_CHANNEL)
        headers = {"Authorization": f"Bot {fake.token}"}
        embed = {"embeds": [{"title": "t"}]}

        async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
            async with http.request(
                method, f"{fake.api_url}{path}", json=body, headers=headers
            ) as response:
                return response.status, await response.json(content_type=None)

        assert (await call("POST", f"/channels/{hidden.id}/messages", embed))[1]["code"] == 50001
        fake.overwrite(text, deny=EMBED_LINKS | READ_MESSAGE_HISTORY)
        status, body = await call("POST", f"/channels/{text.id}/messages", embed)
        assert (status, body["code"]) == (403, 50013)  # only an embed, no Embed Links
        status, kept = await call(
            "POST", f"/channels/{text.id}/messages", {"content": "x", **embed}
        )
        assert status == 200 and kept["embeds"] == []  # the text stays, the embed is dropped
        assert await call("GET", f"/channels/{text.id}/messages") == (200, [])  # no history
        assert fake.bot_permissions(thread) & SEND_MESSAGES_IN_THREADS
        status, _ = await call("POST", f"/channels/{thread.id}/messages", {"content": "x"})
        assert status == 200 and not thread.archived  # a message reopens it
        fake.overwrite(text, deny=SEND_MESSAGES_IN_THREADS)
        assert (await call("POST", f"/channels/{thread.id}/messages", {"content": "y"}))[0] == 403

        assert (await call("POST", f"/channels/{forum.id}/messages", {"content": "x"}))[0] == 400
        status, body = await call(
            "POST", f"/channels/{forum.id}/threads", {"name": "", "message": embed}
        )
        assert (status, body["code"]) == (400, 50035)
        status, post = await call(
            "POST", f"/channels/{forum.id}/threads", {"name": "Day", "message": embed}
        )
        assert (
            status == 200
            and post["message"]["id"] == post["id"]
            and post["parent_id"] == str(forum.id)
        )
        status, body = await call(
            "POST", f"/channels/{tagged.id}/threads", {"name": "Day", "message": embed}
        )
        assert (status, body["code"]) == (400, 40067)
        status, active = await call("GET", f"/guilds/{guild.id}/threads/active")
        assert {t["id"] for t in active["threads"]} == {post["id"], str(thread.id)}

        allowed = {"parse": [], "roles": [str(ping.id), str(quiet.id)]}
        mentions = {
            "content": f"<@&{ping.id}> <@&{quiet.id}> @everyone",
            "allowed_mentions": allowed,
        }
        status, message = await call("POST", f"/channels/{news.id}/messages", mentions)
        assert message["mention_roles"] == [str(ping.id)] and not message["mention_everyone"]
        crosspost = f"/channels/{news.id}/messages/{message['id']}/crosspost"
        status, published = await call("POST", crosspost)
        assert status == 200 and published["flags"] & FLAG_CROSSPOSTED
        assert (await call("POST", crosspost))[1]["code"] == 40033  # once
        fake.overwrite(text, deny=0)
        status, plain = await call("POST", f"/channels/{text.id}/messages", {"content": "x"})
        status, body = await call("POST", f"/channels/{text.id}/messages/{plain['id']}/crosspost")
        assert (status, body["code"]) == (400, 50024)  # not an announcement channel

        shy = fake.add_user("shy")
        shy.accepts_dms = False
        dm = fake.dm_channel(shy)
        assert (await call("POST", f"/channels/{dm.id}/messages", {"content": "x"}))[1][
            "code"
        ] == 50007
        assert fake.bot_permissions(text) & SEND_MESSAGES
