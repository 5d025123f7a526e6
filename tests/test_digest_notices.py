"""Why a digest could not be delivered and what fixes it, in technyan's words, and a pause
told to the guild once however many runs or processes meet it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.digest_notices import (
    PauseNotices,
    fix_text,
    permission_names,
    permissions_reason,
    reason_text,
    split_reason,
)
from bot.persona import Persona
from bot.state import SqliteStateStore, Subscription
from bot.state_calls import StateCalls

PERSONA = Persona.load()
NOW = dt.datetime(2025, 11, 18, tzinfo=dt.UTC)


def test_reasons_name_the_permissions_in_discords_order() -> None:
    code = permissions_reason(["read_message_history", "embed_links", "view_channel"])
    assert code == "missing_permissions:view_channel,embed_links,read_message_history"
    assert split_reason(code) == (
        "missing_permissions",
        ("view_channel", "embed_links", "read_message_history"),
    )
    assert split_reason("unknown_channel") == ("unknown_channel", ())
    assert permission_names(PERSONA, ["embed_links", "view_channel"], "en") == (
        "View Channel, Embed Links"
    )
    assert reason_text(PERSONA, code, "ja") == (
        "テクにゃんにチャンネルを見る、埋め込みリンク、メッセージ履歴を読むの権限がない"
    )
    assert "Missing Access" in reason_text(PERSONA, "missing_access", "en")
    assert "server_error" in reason_text(PERSONA, "server_error", "en")
    assert "Embed Links" in fix_text(PERSONA, "missing_permissions:embed_links", "en", "<#1>")
    assert "/digest subscribe another" in fix_text(PERSONA, "unknown_channel", "en", "<#1>")
    assert "/まとめ配信 再開" in fix_text(PERSONA, "rejected", "ja", "<#1>")


class Teller:
    def __init__(self) -> None:
        self.told: list[tuple[int, int | None, str]] = []

    async def tell_guild(self, guild_id: int, user_id: int | None, text: str) -> str | None:
        self.told.append((guild_id, user_id, text))
        return "dm"


async def test_a_pause_is_told_once_across_processes(tmp_path: Path) -> None:
    stores = [SqliteStateStore(tmp_path / "state.db") for _ in range(2)]
    stores[0].save_subscription(
        Subscription(7, 70, "09:00", "UTC", "en", subscribed_by=5), NOW - dt.timedelta(days=1)
    )
    stores[0].set_state(70, "paused", "missing_permissions:embed_links", NOW)
    tellers = [Teller(), Teller()]
    notices = []
    for store, teller in zip(stores, tellers, strict=True):
        notice = PauseNotices(store, StateCalls(), PERSONA, clock=lambda: NOW)
        notice.teller = teller
        notices.append(notice)
    assert [await n.paused(70) for n in notices] == ["dm", None]
    assert await notices[0].paused(70) is None
    [(guild, user, text)] = tellers[0].told + tellers[1].told
    assert (guild, user) == (7, 5) and "<#70>" in text and "Embed Links" in text
    assert await notices[1].paused(71) is None  # no such subscription: nobody to tell
    for notice in notices:
        notice.calls.close()
    for store in stores:
        store.close()


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_notice_names_channel_reason_and_fix(locale: str) -> None:
    notices = PauseNotices(None, None, PERSONA, clock=lambda: NOW)  # type: ignore[arg-type]
    paused = Subscription(7, 70, "09:00", "UTC", locale, state="paused",
                          paused_reason="unknown_channel")  # fmt: skip
    text = notices.text(paused)
    assert "<#70>" in text
    assert reason_text(PERSONA, "unknown_channel", locale) in text
    assert fix_text(PERSONA, "unknown_channel", locale, "<#70>") in text
