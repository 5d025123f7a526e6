"""What admins type into ``/digest subscribe`` and ``edit``: times, zones, lists,
categories, keywords, roles and publishing, validated, and the target judged — each
refusal in technyan's words, in the admin's language."""

from __future__ import annotations

import pytest

from bot.admin import ChannelCheck, DigestOptions
from bot.digest_options import (
    KEYWORD_LENGTH,
    MAX_KEYWORDS,
    Refused,
    SubscriptionForm,
    digest_locale,
    parse_list,
    parse_time,
    resolve_timezone,
)
from bot.service import NewsService
from bot.state import Subscription
from tests.digest_support import make_settings, write_story

BASE = Subscription(1, 2, "09:00", "Asia/Tokyo", "ja", include_keywords=("Claude",), role_id=9)


@pytest.fixture(scope="module")
def form(tmp_path_factory: pytest.TempPathFactory) -> SubscriptionForm:
    root = tmp_path_factory.mktemp("digest-options")
    write_story(root / "corpus", "2025-11-18", "story")  # category "News"
    service = NewsService(make_settings(root))
    return SubscriptionForm(service, service.persona)


def test_times_zones_locales_and_lists() -> None:
    assert [parse_time(t) for t in ("9:05", "09:05", "０９：０５", " 23:59 ")] == [
        "09:05",
        "09:05",
        "09:05",
        "23:59",
    ]
    assert [parse_time(t) for t in ("24:00", "9", "9:5", "nine", "", None)] == [None] * 6
    assert resolve_timezone("asia/tokyo") == "Asia/Tokyo"
    assert resolve_timezone("America/New_York") == "America/New_York"
    assert resolve_timezone("Mars/Olympus") is None and resolve_timezone("") is None
    assert [digest_locale(v, "ja") for v in (None, " ", "EN-us", "ja-JP", "fr")] == [
        "ja",
        "ja",
        "en",
        "ja",
        None,
    ]
    assert parse_list(None) is None and parse_list(" - ") == () and parse_list("なし") == ()
    assert parse_list("Claude、 gemini ,CLAUDE,,ＧＰＴ") == ("Claude", "gemini", "GPT")


async def test_only_what_is_given_changes(form: SubscriptionForm) -> None:
    same = await form.apply("en", BASE, DigestOptions(), ChannelCheck("text"))
    assert same == BASE
    changed = await form.apply(
        "en",
        BASE,
        DigestOptions(time="７:５０", categories="news", include="-", no_role=True, locale="en"),
        ChannelCheck("text"),
    )
    assert (changed.time, changed.categories, changed.include_keywords) == ("07:50", ("News",), ())
    assert (changed.role_id, changed.locale, changed.timezone) == (None, "en", "Asia/Tokyo")
    published = await form.apply(
        "en", BASE, DigestOptions(publish=True, role_id=11), ChannelCheck("announcement")
    )
    assert published.publish and published.role_id == 11


@pytest.mark.parametrize(
    ("options", "check", "said"),
    [
        (DigestOptions(time="25:00"), ChannelCheck(), "25:00"),
        (DigestOptions(timezone="Tokyo"), ChannelCheck(), "Tokyo"),
        (DigestOptions(locale="fr"), ChannelCheck(), "fr"),
        (DigestOptions(max_items=0), ChannelCheck(), "1 to 10"),
        (DigestOptions(categories="News, Gossip"), ChannelCheck(), "Gossip"),
        (DigestOptions(include=",".join("k" * n for n in range(1, 12))), ChannelCheck(),
         f"{MAX_KEYWORDS} keywords"),
        (DigestOptions(exclude="x" * (KEYWORD_LENGTH + 1)), ChannelCheck(), f"{KEYWORD_LENGTH}"),
        (DigestOptions(publish=True), ChannelCheck("forum"), "announcement channels only"),
        (DigestOptions(), ChannelCheck("thread", missing=("send_messages_in_threads",)),
         "Send Messages in Threads"),
        (DigestOptions(), ChannelCheck("text", problems=("thread_locked",)), "locked"),
        (DigestOptions(role_id=1), ChannelCheck("text", problems=("role_everyone",)),
         "@everyone"),
    ],
)  # fmt: skip
async def test_what_is_wrong_is_said(
    form: SubscriptionForm, options: DigestOptions, check: ChannelCheck, said: str
) -> None:
    with pytest.raises(Refused) as refused:
        await form.apply("en", BASE, options, check)
    assert said in refused.value.text and "nya" in refused.value.text


async def test_refusals_speak_japanese_too(form: SubscriptionForm) -> None:
    check = ChannelCheck("forum", missing=("view_channel", "create_posts", "embed_links"))
    with pytest.raises(Refused) as refused:
        await form.apply("ja", BASE, DigestOptions(), check)
    text = refused.value.text
    assert "チャンネルを見る、投稿の作成、埋め込みリンク" in text and "<#2>" in text


def test_every_problem_and_permission_has_words() -> None:
    from bot.digest_notices import PERMISSION_ORDER
    from bot.persona import Persona

    lines = Persona.load().lines
    problems = ("not_messageable", "thread_locked", "forum_requires_tag", "role_everyone",
                "role_not_mentionable")  # fmt: skip
    for locale in ("ja", "en"):
        assert all(f"permission_{code}" in lines[locale] for code in PERMISSION_ORDER)
        assert all(f"problem_{problem}" in lines[locale] for problem in problems)


def test_a_minute_past_59_is_not_a_time() -> None:
    assert [parse_time(t) for t in ("09:60", "23:61", "00:59")] == [None, None, "00:59"]


async def test_every_reason_a_channel_is_refused_is_said_in_order(
    form: SubscriptionForm,
) -> None:
    check = ChannelCheck("thread", missing=("send_messages_in_threads",),
                         problems=("thread_locked", "role_everyone"))  # fmt: skip
    with pytest.raises(Refused) as refused:
        await form.apply("en", BASE, DigestOptions(), check)
    persona = form.persona
    details = (
        persona.say("missing_permissions_line", "en", permissions="Send Messages in Threads")
        + persona.say("problem_thread_locked", "en")
        + persona.say("problem_role_everyone", "en")
    )
    assert details in refused.value.text and "<#2>" in refused.value.text


async def test_a_refusal_keeps_its_words_for_a_channel_and_varies_them_across_channels(
    form: SubscriptionForm,
) -> None:
    """technyan words a refused channel one way each time it is tried, and not the same
    way for every channel (the persona's variants, chosen by channel)."""
    check = ChannelCheck("text", problems=("thread_locked",))

    async def refusal(channel_id: int) -> str:
        base = Subscription(1, channel_id, "09:00", "Asia/Tokyo", "en")
        with pytest.raises(Refused) as refused:
            await form.apply("en", base, DigestOptions(), check)
        return refused.value.text.replace(f"<#{channel_id}>", "<#…>")

    assert await refusal(2) == await refusal(2)
    wordings = {await refusal(channel_id) for channel_id in range(1, 9)}
    assert len(wordings) == 2 == len(form.persona.variants("cannot_post", "en"))
