"""What a Discord message says once its markup is gone (bot/message.py)."""

from __future__ import annotations

import pytest

from bot.message import clean_message


@pytest.mark.parametrize(
    ("message", "words"),
    [
        # mentions of users, nicknames, roles and channels; slash commands; timestamps
        ("<@111111111111> any news on sora??", "any news on sora?"),
        ("<@!222222222222> <@&333333333333> <#444444444444> gemini", "gemini"),
        ("</news about:123456789012> claude", "claude"),
        ("due <t:1767225600:R> grok", "due grok"),
        ("@everyone @here deepseek", "deepseek"),
        # the bot's own name, as a plain-text mention or a call: who is asked
        ("@テクにゃん DeepSeekって何？", "DeepSeekって何？"),
        ("＠テクにゃん. Soraは？", "Soraは？"),
        ("@technyan what is deepseek", "what is deepseek"),
        ("technyanbot rocks", "technyanbot rocks"),
        # custom and unicode emoji, keycaps, flags and skin tones
        ("<:pepe:123456789> <a:dance:987654321> opus", "opus"),
        ("Sora出たって！！🎉🎉", "Sora出たって！"),
        ("🔥🔥 runway gen 4.5 🇯🇵 👍🏽 ✨", "runway gen 4.5"),
        (":fire: :thumbsup: veo", "veo"),
        # links: a masked link keeps its text, a bare one goes
        ("see https://blog.google/products/gemini/ deep research", "see deep research"),
        ("[Anthropic raises](https://example.org/x) funding", "Anthropic raises funding"),
        ("<https://example.org> llama", "llama"),
        # markdown: emphasis, strike-through, spoilers, code, quotes, headings, subtext
        (
            "**ChatGPTのアプリストア** ~~old~~ ||spoiler|| `gpt-5`",
            "ChatGPTのアプリストア old spoiler gpt-5",
        ),
        ("> quoted reply\nmy question about MCP", "quoted reply my question about MCP"),
        ("# heading\n-# small print\ncodex", "heading small print codex"),
        ("```python\nprint('x')\n``` what is this", "what is this"),
        # words made of underscores and symbols stay whole
        ("snake_case C++ C# F#", "snake_case C++ C# F#"),
        # stretched vowels and runs of punctuation
        ("Claude Opus 4.5きたーーー！！！", "Claude Opus 4.5きた！"),
        ("is it out?!?!", "is it out?"),
        # nothing but markup
        ("<@1> 🎉 https://x.y", ""),
        ("", ""),
    ],
)
def test_markup_goes_and_words_stay(message: str, words: str) -> None:
    assert clean_message(message) == words
