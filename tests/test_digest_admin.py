"""The admin subcommands' meaning: validation, what stops a digest, config-owned
subscriptions, editing without losing the ledger, listing with Discord timestamps, the
preview as the next delivery, test posts and resume, answered in technyan's voice."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.admin import ChannelCheck, DigestOptions
from bot.config import SubscriptionConfig
from bot.digest import parse_marker
from bot.digest_admin import DigestAdminService, discord_timestamp
from bot.replies import Reply
from bot.schedule import DeliveryError
from bot.service import NewsService
from bot.state import Subscription
from tests.digest_support import (
    Clock,
    FakePoster,
    local,
    make_scheduler,
    make_settings,
    write_story,
)
from tests.discord_support import said

GUILD, CHANNEL, ADMIN = 7 << 22, 70, 4242
TEXT, ANNOUNCEMENT = ChannelCheck("text"), ChannelCheck("announcement")


def timestamps(instant: dt.datetime) -> str:
    seconds = int(instant.timestamp())
    assert discord_timestamp(instant) == f"<t:{seconds}:F> (<t:{seconds}:R>)"
    return discord_timestamp(instant)


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[DigestAdminService]:
    write_story(tmp_path / "corpus", "2025-11-18", "gemini", impact="high", title="Gemini 3")
    config = SubscriptionConfig(GUILD, 99, "07:00", "UTC", "en", 5, False)
    settings = make_settings(tmp_path, subscriptions=(config,))
    clock = Clock(local("Asia/Tokyo", 2025, 11, 18, 10, 0))
    scheduler = make_scheduler(settings, NewsService(settings), clock, poster=FakePoster())
    scheduler.store.sync_config_subscriptions(
        [Subscription(GUILD, 99, "07:00", "UTC", "en", source="config")], clock()
    )
    await scheduler.start(object())
    await scheduler.wait_idle()
    yield DigestAdminService(scheduler)
    await scheduler.stop()
    scheduler.store.close()


async def subscribe(
    admin: DigestAdminService, check: ChannelCheck = TEXT, user_locale: str = "ja", **given: Any
) -> Reply:
    channel_id = given.pop("channel_id", CHANNEL)
    return await admin.subscribe(
        guild_id=GUILD,
        channel_id=channel_id,
        options=DigestOptions(**({"time": "09:00"} | given)),
        check=check,
        user_id=ADMIN,
        user_locale=user_locale,
    )


async def edit(admin: DigestAdminService, check: ChannelCheck = TEXT, **given: Any) -> Reply:
    return await admin.edit(
        guild_id=GUILD,
        channel_id=CHANNEL,
        options=DigestOptions(**given),
        check=check,
        user_locale="en",
    )


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("time", "25:00", "25:00"),
        ("timezone", "Tokyo", "Tokyo"),
        ("locale", "fr", "fr"),
        ("max_items", 11, "11"),
        ("categories", "Gossip, News", "Gossip"),
        ("include", ",".join(f"k{n}" for n in range(11)), "10"),
        ("publish", True, "アナウンス"),
    ],
)
async def test_bad_input_is_explained_not_stored(
    admin: DigestAdminService, field: str, value: object, shown: str
) -> None:
    reply = await subscribe(admin, **{field: value})
    assert shown in reply.header and "にゃ" in reply.header and reply.kind == "admin"
    assert admin.store.get_subscription(CHANNEL) is None


async def test_what_stops_a_digest_is_named_and_nothing_is_stored(
    admin: DigestAdminService,
) -> None:
    lacking = ChannelCheck("forum", missing=("create_posts", "embed_links", "read_message_history"))
    reply = await subscribe(admin, lacking)
    assert "投稿の作成" in reply.header and "埋め込みリンク" in reply.header
    assert "メッセージ履歴を読む" in reply.header and "権限" in reply.header
    english = await subscribe(admin, ChannelCheck("thread", missing=("send_messages_in_threads",)),
                              user_locale="en-US")  # fmt: skip
    assert "Send Messages in Threads" in english.header and "Edit Channel" in english.header
    role = await subscribe(admin, ChannelCheck("text", problems=("role_not_mentionable",)),
                           user_locale="en", role_id=5)  # fmt: skip
    assert "Allow anyone to @mention this role" in role.header
    assert admin.store.get_subscription(CHANNEL) is None


async def test_subscribe_defaults_filters_and_next_delivery(admin: DigestAdminService) -> None:
    reply = await subscribe(admin)
    subscription = admin.store.get_subscription(CHANNEL)
    assert subscription is not None and reply.kind == "subscribed"  # offers a test post
    assert (subscription.timezone, subscription.locale, subscription.max_items) == (
        "Asia/Tokyo",
        "ja",
        5,
    )
    assert not subscription.post_empty and subscription.source == "command"
    assert subscription.subscribed_by == ADMIN
    tomorrow_nine = local("Asia/Tokyo", 2025, 11, 19, 9, 0)
    assert f"<#{CHANNEL}>" in reply.header and timestamps(tomorrow_nine) in reply.header
    english = await subscribe(
        admin,
        ANNOUNCEMENT,
        user_locale="en-US",
        time="21:30",
        post_empty=True,
        categories="news",
        include="Gemini, Claude、gemini",
        exclude="rumor",
        role_id=777,
        publish=True,
    )
    again = admin.store.get_subscription(CHANNEL)
    assert again is not None and (again.locale, again.time, again.post_empty) == (
        "en",
        "21:30",
        True,
    )
    assert (again.categories, again.include_keywords) == (("News",), ("Gemini", "Claude"))
    assert (again.exclude_keywords, again.role_id, again.publish) == (("rumor",), 777, True)
    assert timestamps(local("Asia/Tokyo", 2025, 11, 18, 21, 30)) in english.header
    assert "categories: News" in english.header and "pinging <@&777>" in english.header


async def test_edit_changes_only_what_is_given_and_keeps_the_ledger(
    admin: DigestAdminService,
) -> None:
    await subscribe(admin, include="Gemini", role_id=777)
    scheduler = admin.scheduler
    scheduler.clock.set(local("Asia/Tokyo", 2025, 11, 19, 9, 0))  # type: ignore[attr-defined]
    assert await scheduler.run_due(CHANNEL) == "posted"
    before = admin.store.entries(CHANNEL)
    created = admin.store.get_subscription(CHANNEL).created_at  # type: ignore[union-attr]
    reply = await edit(admin, time="18:00", timezone="asia/tokyo", no_role=True, include="-")
    assert reply.kind == "subscribed" and said(reply.header, "edited", "en")
    edited = admin.store.get_subscription(CHANNEL)
    assert edited is not None and (edited.time, edited.role_id, edited.include_keywords) == (
        "18:00",
        None,
        (),
    )
    assert (edited.locale, edited.created_at) == ("ja", created)  # untouched, kept
    # The day already posted at 09:00 is not posted again at the new time.
    scheduler.clock.set(local("Asia/Tokyo", 2025, 11, 19, 18, 0))  # type: ignore[attr-defined]
    assert await scheduler.run_due(CHANNEL) == "done"
    assert admin.store.entries(CHANNEL) == before
    assert len(scheduler.poster.sent) == 1  # type: ignore[attr-defined]
    paused = admin.store.set_state(CHANNEL, "paused", "missing_access", scheduler.clock())
    assert paused is not None
    await edit(admin, max_items=3)
    still = admin.store.get_subscription(CHANNEL)
    assert still is not None and (still.state, still.max_items) == ("paused", 3)
    missing = await admin.edit(guild_id=GUILD + 1, channel_id=CHANNEL, options=DigestOptions(),
                               check=TEXT, user_locale="en")  # fmt: skip
    # Another guild's channel is not this one: technyan says it is not subscribed.
    assert said(missing.header, "not_subscribed", "en", channel=f"<#{CHANNEL}>")
    assert missing.kind == "admin"


async def test_config_subscriptions_belong_to_the_operator(admin: DigestAdminService) -> None:
    reply = await subscribe(admin, channel_id=99, time="10:00")
    assert "<#99>" in reply.header and "設定ファイル" in reply.header
    removed = await admin.unsubscribe(guild_id=GUILD, channel_id=99, user_locale="ja")
    assert "設定ファイル" in removed.header
    config = admin.store.get_subscription(99)
    assert config is not None and config.time == "07:00"
    await subscribe(admin)
    everyone = await admin.unsubscribe(guild_id=GUILD, channel_id=None, user_locale="en")
    assert "1 channel" in everyone.header
    assert [s.channel_id for s in admin.store.list_subscriptions(GUILD)] == [99]


async def test_listing_shows_next_and_last_delivery_filters_and_state(
    admin: DigestAdminService,
) -> None:
    await subscribe(admin, user_locale="en", exclude="rumor")
    admin.store.set_state(99, "paused", "unknown_channel", admin.scheduler.clock())
    posted_at = local("Asia/Tokyo", 2025, 11, 19, 9, 0)
    admin.scheduler.clock.set(posted_at)  # type: ignore[attr-defined]
    assert await admin.scheduler.run_due(CHANNEL) == "posted"
    reply = await admin.subscriptions(guild_id=GUILD, user_locale="en")
    mine, config = reply.header.splitlines()[1:4], reply.header.splitlines()[4:7]
    assert f"<#{CHANNEL}>: daily at 09:00 (Asia/Tokyo)" in mine[0]
    assert "leaving out: rumor" in mine[0]
    assert mine[1].strip() == f"next {timestamps(local('Asia/Tokyo', 2025, 11, 20, 9, 0))}"
    assert mine[2].strip() == f"last {timestamps(posted_at)} / active"
    assert "<#99>: daily at 07:00 (UTC) · English" in config[0]
    assert config[1].strip() == "next none (paused)"
    assert "not yet / paused: the channel no longer exists" in config[2]
    assert "<#99>" in reply.footer and "/digest subscribe another channel" in reply.footer
    empty = await admin.subscriptions(guild_id=GUILD + 1, user_locale="ja")
    assert said(empty.header, "no_subscriptions", "ja")


async def test_preview_is_the_next_delivery_and_posts_nothing(admin: DigestAdminService) -> None:
    await subscribe(admin, user_locale="en", locale="en", role_id=777)
    shown = await admin.preview(guild_id=GUILD, channel_id=CHANNEL, user_locale="en-US")
    # At 10:00 today's 09:00 has passed: the preview is tomorrow's digest, as listed.
    tomorrow = local("Asia/Tokyo", 2025, 11, 19, 9, 0)
    assert shown.offer_test and timestamps(tomorrow) in shown.note
    assert "November 19, 2025" in shown.note
    [message] = shown.messages
    assert message.content.startswith("<@&777> ") and "Gemini 3" in message.description
    assert message.timestamp == tomorrow
    assert admin.store.entries(CHANNEL) == [] and admin.scheduler.poster.sent == []  # type: ignore[attr-defined]
    # The run at that time posts exactly these messages.
    admin.scheduler.clock.set(tomorrow)  # type: ignore[attr-defined]
    assert await admin.scheduler.run_due(CHANNEL) == "posted"
    assert admin.scheduler.poster.posted[CHANNEL] == list(shown.messages)  # type: ignore[attr-defined]
    unsubscribed = await admin.preview(guild_id=GUILD, channel_id=12345, user_locale="ja")
    assert not unsubscribed.offer_test
    assert said(unsubscribed.note, "preview_note_unsubscribed", "ja", channel="<#12345>")
    assert unsubscribed.messages and admin.store.entries(12345) == []


async def test_a_test_post_is_posted_now_and_never_counted(admin: DigestAdminService) -> None:
    poster = admin.scheduler.poster
    nothing = await admin.post_test(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert said(nothing.header, "not_subscribed", "en", channel=f"<#{CHANNEL}>")
    assert poster.sent == []  # type: ignore[attr-defined]
    await subscribe(admin, role_id=777)
    reply = await admin.post_test(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert said(reply.header, "test_posted", "en", channel=f"<#{CHANNEL}>")
    [test] = poster.posted[CHANNEL]  # type: ignore[attr-defined]
    assert test.mention_role_id is None and "<@&777>" not in test.content
    assert parse_marker(test.text()) is None and "🧪" in test.content
    assert admin.store.entries(CHANNEL) == []
    poster.errors[CHANNEL] = [DeliveryError("missing_access", permanent=True)]  # type: ignore[attr-defined]
    failed = await admin.post_test(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert "Missing Access" in failed.header and "View Channel" in failed.header
    assert admin.store.get_subscription(CHANNEL).active  # type: ignore[union-attr]


async def test_a_test_post_before_the_scheduler_starts_says_digests_are_unavailable(
    tmp_path: Path,
) -> None:
    write_story(tmp_path / "corpus", "2025-11-18", "gemini", impact="high", title="Gemini 3")
    settings = make_settings(tmp_path)
    clock = Clock(local("Asia/Tokyo", 2025, 11, 18, 10, 0))
    poster = FakePoster()
    scheduler = make_scheduler(settings, NewsService(settings), clock, poster=poster)
    admin = DigestAdminService(scheduler)
    try:
        await subscribe(admin)
        reply = await admin.post_test(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
        assert said(reply.header, "digest_unavailable", "en") and poster.sent == []
    finally:
        scheduler.store.close()


async def test_resume_answers(admin: DigestAdminService) -> None:
    missing = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert said(missing.header, "not_subscribed", "en", channel=f"<#{CHANNEL}>")
    await subscribe(admin)
    active = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert said(active.header, "already_active", "en", channel=f"<#{CHANNEL}>")
    admin.store.set_state(CHANNEL, "paused", "missing_access", admin.scheduler.clock())
    other_guild = await admin.resume(guild_id=GUILD + 1, channel_id=CHANNEL, user_locale="en")
    assert admin.store.get_subscription(CHANNEL).state == "paused"  # type: ignore[union-attr]
    assert said(other_guild.header, "not_subscribed", "en", channel=f"<#{CHANNEL}>")
    resumed = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert said(resumed.header, "resumed", "en", channel=f"<#{CHANNEL}>")
    assert admin.store.get_subscription(CHANNEL).active  # type: ignore[union-attr]
