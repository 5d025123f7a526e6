"""A small corpus in the site's format for the Discord tests, written into a folder.

Stories (``articles/YYYYMMDD/<slug>/{ja,en}.md``):

* a few ordinary bilingual stories (DeepSeek, Gemini, Claude, Blackwell) with impact levels;
* ``OVERSIZED``: a 300-character title and a 5,000-character description in both languages;
* ``EVERYONE``: ``@everyone``, ``@here``, ``<@123>`` and ``<@&456>`` in its description and
  technyan's comment;
* ``ENGLISH_ONLY``: a story with no Japanese document;
* ``QUASAR_COUNT`` stories about the fictional "Quasar" model family, for autocomplete (60+
  candidates) and pagination; some titles are longer than 100 characters;
* ``SPACED``: a story whose folder name holds a space (its link must be percent-encoded);
* ``TIMELINE``: two AI timeline entries about the fictional "Orbitron" (the site has no page
  per entry: both link to the history page).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

__all__ = [
    "ENGLISH_ONLY",
    "EVERYONE",
    "OVERSIZED",
    "QUASAR_COUNT",
    "SPACED",
    "TIMELINE",
    "write_corpus",
]

OVERSIZED = "articles/20250301/oversized-article"
EVERYONE = "articles/20250302/everyone-ping-story"
ENGLISH_ONLY = "articles/20250303/english-only-story"
QUASAR_COUNT = 64
SPACED = "articles/20240105/northwind office"
TIMELINE = ("aiTimeline/202203-orbitron-launch", "aiTimeline/202204-orbitron-two")


def _frontmatter(fields: dict[str, object]) -> str:
    lines = ["---"]
    for key, value in fields.items():
        if key == "date":
            lines.append(f"date: {value}")
        else:
            lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _write(root: Path, story: str, locale: str, body: str, **fields: object) -> None:
    path = root / story / f"{locale}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    fields.setdefault(
        "date",
        story.split("/")[1][:4] + "-" + story.split("/")[1][4:6] + "-" + story.split("/")[1][6:],
    )
    fields["locale"] = locale
    path.write_text(_frontmatter(fields) + "\n" + body, encoding="utf-8")


def _sentences(word: str, count: int) -> str:
    return " ".join(
        f"Sentence {i} explains the {word} story in more detail for patient readers."
        for i in range(count)
    )


def write_corpus(root: Path) -> Path:
    """Write the test corpus under ``root`` and return ``root``."""
    ordinary = [
        (
            "articles/20250127/deepseek-r1-market-shock",
            "DeepSeek-R1 Shakes Wall Street",
            "DeepSeek-R1がウォール街を直撃",
            "DeepSeek released the open reasoning model R1 and Nvidia lost $589 billion.",
            "DeepSeekがオープンな推論モデルR1を公開し、エヌビディアの時価総額が5890億ドル減少した。",
            "Business",
            ["DeepSeek", "R1", "Nvidia"],
            "high",
        ),
        (
            "articles/20240208/google-bard-becomes-gemini",
            "Google Renames Bard to Gemini",
            "グーグル、BardをGeminiに改名",
            "Google retired the Bard brand and put its chatbot under the Gemini name.",
            "グーグルはBardの名前をやめ、チャットボットをGeminiに統一した。",
            "Product",
            ["Google", "Gemini"],
            None,
        ),
        (
            "articles/20240318/nvidia-blackwell-gtc-2024",
            "Nvidia Unveils Blackwell at GTC 2024",
            "エヌビディア、GTC 2024でBlackwellを発表",
            "Nvidia announced the Blackwell GPU architecture for training large models.",
            "エヌビディアは大規模モデルの学習向けGPUアーキテクチャBlackwellを発表した。",
            "Hardware",
            ["Nvidia", "Blackwell", "GPU"],
            "medium",
        ),
        (
            "articles/20240620/anthropic-claude-3-5-sonnet",
            "Anthropic Releases Claude 3.5 Sonnet",
            "Anthropic、Claude 3.5 Sonnetを公開",
            "Anthropic released Claude 3.5 Sonnet, a faster model that beats Claude 3 Opus.",
            "AnthropicはClaude 3 Opusを上回る高速モデルClaude 3.5 Sonnetを公開した。",
            "Model Release",
            ["Anthropic", "Claude"],
            "critical",
        ),
    ]
    for story, en_title, ja_title, en_desc, ja_desc, category, tags, impact in ordinary:
        extra: dict[str, object] = {"impactLevel": impact} if impact else {}
        _write(
            root,
            story,
            "en",
            f"## What happened\n\n{en_desc} The company said more details follow.\n",
            title=en_title,
            description=en_desc,
            category=category,
            tags=tags,
            technyanComment=f"{en_title}, nya! Big news 🐾",
            **extra,
        )
        _write(
            root,
            story,
            "ja",
            f"## 何が起きたか\n\n{ja_desc}詳細は今後発表される。\n",
            title=ja_title,
            description=ja_desc,
            category=category,
            tags=tags,
            technyanComment=f"{ja_title}、大ニュースだにゃ！🐾",
            **extra,
        )

    long_title_en = ("Oversized headline about the Zephyrine accelerator " * 10)[:300]
    long_title_ja = ("ゼフィリン加速器についての長すぎる見出し。" * 20)[:300]
    _write(
        root,
        OVERSIZED,
        "en",
        "## Body\n\nThe Zephyrine accelerator is described here.\n",
        title=long_title_en,
        description=_sentences("Zephyrine", 80)[:5000],
        category="Hardware",
        tags=["Zephyrine"] * 3 + [f"tag{i}" for i in range(200)],
        technyanComment="Zephyrine is huge, nya! " * 80,
    )
    _write(
        root,
        OVERSIZED,
        "ja",
        "## 本文\n\nゼフィリン加速器について説明する。\n",
        title=long_title_ja,
        description=("ゼフィリン加速器はとても大きな発表で、多くの人が驚いた。" * 200)[:5000],
        category="Hardware",
        tags=["Zephyrine"],
        technyanComment="ゼフィリンはすごいにゃ！" * 150,
    )

    for locale, title in (("en", "Pingtrap story"), ("ja", "ピングトラップの記事")):
        _write(
            root,
            EVERYONE,
            locale,
            "## Body\n\nHey @everyone and <@123>, the Pingtrap story is here.\n",
            title=title,
            description="Pingtrap: @everyone @here <@123> <@&456> should ping nobody.",
            category="Business",
            tags=["Pingtrap"],
            technyanComment="@everyone <@123> look at Pingtrap, nya!",
        )

    _write(
        root,
        ENGLISH_ONLY,
        "en",
        "## Body\n\nThe Lonelyword project only has an English article.\n",
        title="Lonelyword Project Launches in English Only",
        description="The Lonelyword project launched; this story exists only in English.",
        category="Business",
        tags=["Lonelyword"],
        technyanComment="Only in English this time, nya!",
    )

    for locale, title, description in (
        ("en", "Northwind Office Opens an AI Lab", "Northwind opened an AI lab in its office."),
        ("ja", "Northwind、オフィスにAIラボを開設", "NorthwindがオフィスにAIラボを開設した。"),
    ):
        _write(
            root,
            SPACED,
            locale,
            f"## Body\n\n{description}\n",
            title=title,
            description=description,
            category="Business",
            tags=["Northwind"],
        )

    for story, day, en_title, ja_title in (
        (TIMELINE[0], "2022-03-01", "Orbitron 1 Launches", "Orbitron 1 登場"),
        (TIMELINE[1], "2022-04-01", "Orbitron 2 Doubles the Context", "Orbitron 2 で文脈が倍に"),
    ):
        for locale, title, summary in (
            ("en", en_title, f"{en_title}: a milestone of the Orbitron model line."),
            ("ja", ja_title, f"{ja_title}。Orbitronシリーズの節目となった。"),
        ):
            _write(
                root,
                story,
                locale,
                f"## Summary\n\n{summary}\n",
                title=title,
                description=summary,
                category="Model Release",
                tags=["Orbitron"],
                impactLevel="high",
                relatedCompanies=["Orbitron Labs"],
                technyanComment="Orbitron, nya!" if locale == "en" else "Orbitronだにゃ！",
                date=day,
            )

    start = dt.date(2023, 1, 1)
    for n in range(QUASAR_COUNT):
        day = start + dt.timedelta(days=n)
        story = f"articles/{day:%Y%m%d}/quasar-model-{n}"
        if n % 7 == 0:
            en_title = (
                f"Quasar Labs ships Quasar-{n}, a model with a very long name that keeps going "
                f"well past one hundred characters for the autocomplete test number {n}"
            )
        else:
            en_title = f"Quasar Labs ships Quasar-{n}"
        for locale, title in ((("en", en_title)), ("ja", f"Quasar Labs、Quasar-{n}を公開")):
            _write(
                root,
                story,
                locale,
                f"## Summary\n\nQuasar-{n} is model number {n} of the Quasar family.\n",
                title=title,
                description=f"Quasar Labs released Quasar-{n}, the Quasar family's model {n}.",
                category="Model Release",
                tags=["Quasar", f"Quasar-{n}"],
                technyanComment=f"Quasar-{n}, nya!",
                date=f"{day:%Y-%m-%d}",
            )
    return root
