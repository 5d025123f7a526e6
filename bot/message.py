"""Message understanding before search: what a Discord message says, without its markup.

People paste mentions, emoji, links and markdown around the words that matter
(``<@123> **Sora** 出たって！！🎉 https://…``). ``clean_message`` removes what carries no
topic so that the query planner sees only words:

* the bot's own name (``@テクにゃん``, ``テクにゃん、``, ``@technyan``): who is asked, not
  what about;
* Discord markup (Discord's "Message Formatting" reference,
  https://discord.com/developers/docs/reference#message-formatting): user, role and
  channel mentions, slash-command mentions, timestamps, custom emoji ``<:name:id>`` and
  ``<a:name:id>``, ``@everyone`` and ``@here``;
* URLs (a link names a page, not what the user asks about), and a masked link
  ``[text](url)`` becomes its text;
* markdown (Discord's "Markdown Text 101"): emphasis, strike-through, spoilers, inline
  code marks, fenced code blocks, block quotes, headings and ``-#`` subtext;
* unicode emoji (the ``emoji`` package knows every sequence of the Unicode standard) and
  ``:shortcode:`` emoji as typed;
* runs of ``!`` / ``?`` and stretched long vowels (``きたーーー`` → ``きた``).

The rest, including filler words, is left to the query planner, which weighs them.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["clean_message"]

_CODE_BLOCK_RE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
# <@123>, <@!123>, <@&123>, <#123>, </cmd sub:123>, <t:1700000000:R>, <:name:123>, <a:name:123>
_DISCORD_TOKEN_RE = re.compile(
    r"</[^<>:]{1,100}:\d+>|<(?:@[!&]?|#)\d+>|<t:-?\d+(?::[a-zA-Z])?>|<a?:\w+:\d+>"
)
_EVERYONE_RE = re.compile(r"@(?:everyone|here)\b")
# The bot's own name, typed as a plain-text mention or to call it ("@テクにゃん",
# "テクにゃん、", "@technyan"): who is asked, never what about.
_BOT_NAME_RE = re.compile(r"[@＠]?\s?(?:テクにゃん\.?|(?<![\w])technyan(?![\w]))", re.IGNORECASE)
_MASKED_LINK_RE = re.compile(r"\[([^\]\n]{1,200})\]\(<?\s*https?://[^\s)>]+>?\)")
_URL_RE = re.compile(r"<?(?:https?://|www\.)[^\s<>]+>?", re.IGNORECASE)
_LINE_MARK_RE = re.compile(r"^\s*(?:>>>\s?|>\s?|#{1,3}\s+|-#\s+)", re.MULTILINE)
_MARKUP_RE = re.compile(r"\*{1,3}|~~|\|\||`+|(?<!\w)_{1,2}|_{1,2}(?!\w)")
_SHORTCODE_RE = re.compile(r"(?<!\w):[a-z0-9_+\-]{2,40}:(?!\w)")
_PUNCTUATION_RUN_RE = re.compile(r"([!?！？])[!?！？]+")
_STRETCHED_RE = re.compile(r"([ぁ-ゖァ-ヺ])[ー〜~]{2,}")
_SPACES_RE = re.compile(r"\s+")
# Characters that can be (or start) an emoji: symbols from General Punctuation to
# Miscellaneous Symbols and Arrows, the few emoji of the CJK blocks, the supplementary
# pictograph planes, variation selector 16 and the keycap mark.
_MAYBE_EMOJI_RE = re.compile(
    "[\u00a9\u00ae\u203c-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff\ufe0f\u20e3]"
)


def _without_emoji(text: str) -> str:
    if not _MAYBE_EMOJI_RE.search(text):
        return text
    import emoji  # imported on first use: most messages have no emoji

    kept = emoji.replace_emoji(text, replace=" ")
    # Symbols that are not emoji but carry no words either (arrows, dingbats, stars).
    return "".join(" " if unicodedata.category(ch) == "So" else ch for ch in kept)


def clean_message(message: str) -> str:
    """``message`` as words only: Discord markup, links, markdown and emoji removed, runs
    of ``!``/``?`` and stretched long vowels shortened, whitespace collapsed to single
    spaces. Never raises; returns ``""`` when nothing but markup was there.

    ``clean_message("<@1> **Sora** 出たって！！🎉 https://x.y/z")`` → ``"Sora 出たって！"``.
    """
    text = _CODE_BLOCK_RE.sub(" ", message)
    text = _DISCORD_TOKEN_RE.sub(" ", text)
    text = _EVERYONE_RE.sub(" ", text)
    text = _BOT_NAME_RE.sub(" ", text)
    text = _MASKED_LINK_RE.sub(r" \1 ", text)
    text = _URL_RE.sub(" ", text)
    text = _LINE_MARK_RE.sub(" ", text)
    text = _MARKUP_RE.sub(" ", text)
    text = _SHORTCODE_RE.sub(" ", text)
    text = _without_emoji(text)
    text = _PUNCTUATION_RUN_RE.sub(r"\1", text)
    text = _STRETCHED_RE.sub(r"\1", text)
    return _SPACES_RE.sub(" ", text).strip()
