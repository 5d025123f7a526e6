"""The admin subcommands' meaning: validation, config-owned subscriptions, listing,
preview and resume, answered in technyan's voice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import SubscriptionConfig
from bot.digest_admin import DigestAdminService, parse_time, resolve_timezone
from bot.replies import Reply
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

GUILD, CHANNEL = 7 << 22, 70


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


def test_parse_time_and_zone() -> None:
    assert [parse_time(t) for t in ("9:05", "09:05", "０９：０５", " 23:59 ")] == ["09:05"] * 3 + [
        "23:59"
    ]
    assert [parse_time(t) for t in ("24:00", "9", "9:5", "nine", "", None)] == [None] * 6
    assert resolve_timezone("asia/tokyo") == "Asia/Tokyo"
    assert resolve_timezone("America/New_York") == "America/New_York"
    assert resolve_timezone("Mars/Olympus") is None and resolve_timezone("") is None


async def subscribe(admin: DigestAdminService, **overrides: object) -> Reply:
    arguments: dict[str, object] = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "time": "09:00",
        "timezone": None,
        "locale": None,
        "max_items": None,
        "post_empty": None,
        "user_locale": "ja",
    }
    arguments.update(overrides)
    return await admin.subscribe(**arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "shown"),
    [
        ("time", "25:00", "25:00"),
        ("timezone", "Tokyo", "Tokyo"),
        ("locale", "fr", "fr"),
        ("max_items", 11, "11"),
    ],
)
async def test_bad_input_is_explained_not_stored(
    admin: DigestAdminService, field: str, value: object, shown: str
) -> None:
    reply = await subscribe(admin, **{field: value})
    assert shown in reply.header and "にゃ" in reply.header
    assert admin.store.get_subscription(CHANNEL) is None


async def test_subscribe_defaults_and_next_run(admin: DigestAdminService) -> None:
    reply = await subscribe(admin)
    subscription = admin.store.get_subscription(CHANNEL)
    assert subscription is not None
    assert (subscription.timezone, subscription.locale, subscription.max_items) == (
        "Asia/Tokyo",
        "ja",
        5,
    )
    assert not subscription.post_empty and subscription.source == "command"
    assert f"<#{CHANNEL}>" in reply.header and "2025-11-19 09:00" in reply.header
    english = await subscribe(admin, user_locale="en-US", time="21:30", post_empty=True)
    again = admin.store.get_subscription(CHANNEL)
    assert again is not None and (again.locale, again.time, again.post_empty) == (
        "en",
        "21:30",
        True,
    )
    assert "2025-11-18 21:30" in english.header


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


async def test_listing_shows_next_run_last_post_and_state(admin: DigestAdminService) -> None:
    await subscribe(admin, user_locale="en")
    admin.store.set_state(99, "paused", "unknown_channel", admin.scheduler.clock())
    admin.scheduler.clock.set(local("Asia/Tokyo", 2025, 11, 19, 9, 0))  # type: ignore[attr-defined]
    assert await admin.scheduler.run_due(CHANNEL) == "posted"
    reply = await admin.subscriptions(guild_id=GUILD, user_locale="en")
    mine, config = reply.header.splitlines()[1:3], reply.header.splitlines()[3:5]
    assert f"<#{CHANNEL}>: daily at 09:00 (Asia/Tokyo)" in mine[0]
    assert "next 2025-11-20 09:00 / last 2025-11-19 09:00 / active" in mine[1]
    assert "<#99>: daily at 07:00 (UTC) · English" in config[0]
    assert "next none (paused) / last not yet / paused: the channel no longer exists" in config[1]
    assert "<#99>" in reply.footer
    empty = await admin.subscriptions(guild_id=GUILD + 1, user_locale="ja")
    assert "まだ" in empty.header or "ゼロ" in empty.header or "いない" in empty.header


async def test_preview_posts_nothing(admin: DigestAdminService) -> None:
    reply = await admin.preview(guild_id=GUILD, channel_id=12345, user_locale="en-US")
    assert reply.kind == "digest" and reply.locale == "en"
    assert [card.title for card in reply.cards] == ["Gemini 3"]
    assert "preview" in reply.footer or "try-out" in reply.footer or "only you" in reply.footer
    assert admin.store.entries(12345) == []
    assert admin.scheduler.poster.sent == []  # type: ignore[attr-defined]


async def test_resume_answers(admin: DigestAdminService) -> None:
    missing = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert f"<#{CHANNEL}>" in missing.header and "subscri" in missing.header
    await subscribe(admin)
    active = await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert "already" in active.header or "fine" in active.header
    admin.store.set_state(CHANNEL, "paused", "missing_access", admin.scheduler.clock())
    other_guild = await admin.resume(guild_id=GUILD + 1, channel_id=CHANNEL, user_locale="en")
    assert admin.store.get_subscription(CHANNEL).state == "paused"  # type: ignore[union-attr]
    assert "subscri" in other_guild.header
    await admin.resume(guild_id=GUILD, channel_id=CHANNEL, user_locale="en")
    assert admin.store.get_subscription(CHANNEL).active  # type: ignore[union-attr]
