"""Search as users type it: names, typos, katakana, width and noise, topics in both
languages, questions, dates, nothing-found, unsafe strings; and ask."""

from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest

from bot import presence
from bot.index import build_index
from bot.search import SearchEngine
from tests.conftest import ArticleWriter, frontmatter_text
from tests.search_support import build

STORIES: dict[str, dict[str, dict[str, object]]] = {
    "articles/20250120/deepseek-r1": {
        "en": {
            "title": "DeepSeek releases the R1 reasoning model",
            "description": "China's DeepSeek publishes R1 as open weights.",
            "date": "raw:2025-01-20",
            "tags": ["DeepSeek", "Open Source", "Reasoning"],
            "body": "## Cost\n\nDeepSeek said the final training run cost about $5.6 million.\n\n"
            "## Reaction\n\nChinese AI labs gained attention worldwide.\n",
        },
        "ja": {
            "title": "DeepSeekが推論モデルR1を公開",
            "description": "中国のDeepSeekがR1をオープンウェイトで公開した。",
            "date": "raw:2025-01-20",
            "tags": ["DeepSeek", "Open Source", "Reasoning"],
            "body": "## コスト\n\n最終的な学習コストは約560万ドルだったと発表した。\n\n"
            "## 反響\n\n中国のAI企業に世界の注目が集まった。\n",
        },
    },
    "articles/20251118/gemini-3": {
        "en": {
            "title": "Google launches Gemini 3",
            "description": "Gemini 3 tops several leaderboards.",
            "date": "raw:2025-11-18",
            "category": "Gemini",
            "tags": ["Google", "Gemini", "Gemini 3"],
            "body": "## Launch\n\nGoogle made Gemini 3 available in the Gemini app.\n",
        },
        "ja": {
            "title": "GoogleがGemini 3を発表",
            "description": "Gemini 3が複数のリーダーボードで首位に。",
            "date": "raw:2025-11-18",
            "category": "Gemini",
            "tags": ["Google", "Gemini", "Gemini 3"],
            "body": "## 発表\n\nGoogleはGeminiアプリでGemini 3の提供を始めた。\n",
        },
    },
    "articles/20251201/anthropic-ipo": {
        "en": {
            "title": "Anthropic prepares for an IPO",
            "description": "Anthropic has hired lawyers to prepare a listing.",
            "date": "raw:2025-12-01",
            "tags": ["Anthropic", "IPO", "Investment"],
            "body": "## Plans\n\nThe listing could come as early as 2026.\n",
        },
        "ja": {
            "title": "Anthropicが上場準備を開始",
            "description": "Anthropicが上場に向けて法律事務所を起用した。",
            "date": "raw:2025-12-01",
            "tags": ["Anthropic", "IPO", "Investment"],
            "body": "## 計画\n\n上場は早ければ2026年になる可能性がある。\n",
        },
    },
    "articles/20251212/gpt-5-2": {
        "en": {
            "title": "OpenAI releases GPT-5.2",
            "description": "GPT-5.2 improves long-context work for professionals.",
            "date": "raw:2025-12-11",
            "category": "ChatGPT",
            "tags": ["OpenAI", "ChatGPT", "GPT-5.2"],
            "body": "## Availability\n\nGPT-5.2 reached paid ChatGPT users first.\n",
        },
        "ja": {
            "title": "OpenAIがGPT-5.2をリリース",
            "description": "GPT-5.2は専門家の長文作業を改善する。",
            "date": "raw:2025-12-11",
            "category": "ChatGPT",
            "tags": ["OpenAI", "ChatGPT", "GPT-5.2"],
            "body": "## 提供\n\nまず有料のChatGPTユーザーに提供された。\n",
        },
    },
    "articles/20250202/eu-ai-act": {
        "en": {
            "title": "First bans of the EU AI Act apply",
            "description": "The EU's rules on AI begin with bans on some practices.",
            "date": "raw:2025-02-02",
            "category": "Policy & Regulation",
            "tags": ["EU", "Regulation"],
            "body": "## Scope\n\nSocial scoring systems are banned across the EU.\n",
        },
        "ja": {
            "title": "EU AI法の最初の禁止規定が適用開始",
            "description": "EUのAI規制が一部の行為の禁止から始まった。",
            "date": "raw:2025-02-02",
            "category": "Policy & Regulation",
            "tags": ["EU", "Regulation"],
            "body": "## 対象\n\nソーシャルスコアリングはEU全域で禁止される。\n",
        },
    },
    "articles/20251230/meta-manus": {
        "ja": {
            "title": "MetaがAIエージェントのManusを買収",
            "description": "MetaはAIエージェント企業Manusの買収を発表した。",
            "date": "raw:2025-12-30",
            "tags": ["Meta", "Agent AI", "Acquisition"],
            "body": "## 概要\n\nMetaはManusを買収し、エージェント機能を強化する。\n",
        },
    },
    "articles/20260105/claude-code-web": {
        "en": {
            "title": "Claude Code comes to the web browser",
            "description": "Anthropic lets developers run Claude Code from a browser tab.",
            "date": "raw:2026-01-05",
            "category": "Claude",
            "tags": ["Anthropic", "Claude", "Claude Code"],
            "body": "## Access\n\nClaude Code on the web is available to Pro and Max users.\n",
        },
    },
    "aiTimeline/202402-sora": {
        "en": {
            "title": "OpenAI unveils Sora",
            "description": "OpenAI shows Sora, a model that generates video from text.",
            "date": "raw:2024-02-15",
            "category": "Model Release",
            "impactLevel": "high",
            "tags": ["OpenAI", "Sora", "Video Generation"],
            "relatedCompanies": ["OpenAI"],
            "body": "## Capabilities\n\nSora can generate videos up to a minute long.\n",
        },
        "ja": {
            "title": "OpenAIがSoraを発表",
            "description": "テキストから動画を生成するモデルSoraをOpenAIが公開。",
            "date": "raw:2024-02-15",
            "category": "Model Release",
            "impactLevel": "high",
            "tags": ["OpenAI", "Sora", "Video Generation"],
            "relatedCompanies": ["OpenAI"],
            "body": "## 能力\n\nSoraは最長1分の動画を生成できる。\n",
        },
    },
}


def make_engine(root: Path) -> SearchEngine:
    """The stories above as a corpus under ``root`` and its index."""
    for story, versions in STORIES.items():
        for locale, fields in versions.items():
            fields = dict(fields)
            body = str(fields.pop("body"))
            fields.setdefault("category", "Other")
            fields["locale"] = locale
            path = root / story / f"{locale}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(frontmatter_text(fields) + "\n" + body, encoding="utf-8")
    db = root.parent / "index.db"
    build_index(root, db)
    return SearchEngine(db)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    return make_engine(tmp_path_factory.mktemp("search") / "corpus")


def top(engine: SearchEngine, query: str) -> str | None:
    hits = engine.about(query).hits
    return hits[0].story if hits else None


@pytest.mark.parametrize(
    ("query", "story"),
    [
        # names exactly, in full width, with odd spaces and unicode hyphens
        ("DeepSeek", "articles/20250120/deepseek-r1"),
        ("ＤｅｅｐＳｅｅｋ", "articles/20250120/deepseek-r1"),
        ("GPT‐5.2", "articles/20251212/gpt-5-2"),
        ("ＧＰＴ－５．２!!!", "articles/20251212/gpt-5-2"),
        ("  claude   code  ", "articles/20260105/claude-code-web"),
        ("🚀 Gemini 3 🚀", "articles/20251118/gemini-3"),
        # misspelled names
        ("deepseak", "articles/20250120/deepseek-r1"),
        ("antropic ipo", "articles/20251201/anthropic-ipo"),
        ("gemnini 3", "articles/20251118/gemini-3"),
        # katakana spellings the corpus never uses
        ("ディープシーク", "articles/20250120/deepseek-r1"),
        ("アンソロピック 上場", "articles/20251201/anthropic-ipo"),
        ("ジェミニ3", "articles/20251118/gemini-3"),
        ("メタ マナス", "articles/20251230/meta-manus"),
        # topics in Japanese, two-character words included, and in English
        ("中国", "articles/20250120/deepseek-r1"),
        ("規制", "articles/20250202/eu-ai-act"),
        ("買収", "articles/20251230/meta-manus"),
        ("動画生成", "aiTimeline/202402-sora"),
        ("social scoring ban", "articles/20250202/eu-ai-act"),
        # one language's query finds a story written only in the other
        ("Meta acquisition of Manus", "articles/20251230/meta-manus"),
        ("Claude Codeのブラウザ版", "articles/20260105/claude-code-web"),
        # questions: question words do not drown the content words
        ("What did DeepSeek release in January 2025?", "articles/20250120/deepseek-r1"),
        ("DeepSeek R1の学習コストは？", "articles/20250120/deepseek-r1"),
        ("When will Anthropic go public?", "articles/20251201/anthropic-ipo"),
        # dates filter or boost
        ("news from November 2025", "articles/20251118/gemini-3"),
        ("2024年2月のニュース", "aiTimeline/202402-sora"),
        # a period with words that only say "something big": the period's stories
        ("anything major going on in Q1 2024?", "aiTimeline/202402-sora"),
        ("2024年2月にあった重要なことって？", "aiTimeline/202402-sora"),
        ("what was announced on December 11 2025", "articles/20251212/gpt-5-2"),
        ("latest OpenAI release", "articles/20251212/gpt-5-2"),
        ("最新のAnthropic", "articles/20260105/claude-code-web"),
        # short names
        ("o3", None),
        ("EU", "articles/20250202/eu-ai-act"),
    ],
)
def test_query_kinds(engine: SearchEngine, query: str, story: str | None) -> None:
    assert top(engine, query) == story


def test_one_result_per_story_in_the_users_locale(engine: SearchEngine) -> None:
    hits = engine.about("OpenAI").hits
    stories = [hit.story for hit in hits]
    assert len(stories) == len(set(stories))
    assert {"articles/20251212/gpt-5-2", "aiTimeline/202402-sora"} <= set(stories)
    only_japanese = engine.about("Manus").hits[0]
    assert only_japanese.document_for("en").locale == "ja"


@pytest.mark.parametrize(
    "query",
    ["Kimi K2 from Moonshot AI", "Huawei Ascend chips", "トヨタの自動運転", "ソニーの作曲AI"],
)
def test_nothing_in_the_corpus_gives_no_confident_result(engine: SearchEngine, query: str) -> None:
    assert engine.about(query).hits == []


def test_a_near_miss_offers_did_you_mean(engine: SearchEngine) -> None:
    outcome = engine.about("Gemini 7 Ultra")
    assert outcome.hits == []
    assert "Gemini 3" in outcome.suggestions


@pytest.mark.parametrize(
    "query",
    [
        "GPT-4o",
        "C++",
        '"Claude',
        "-OpenAI",
        "o3-mini",
        "AND",
        "OR NOT",
        "title:x",
        "<@123>",
        "",
        "   ",
        "(Gemini",
        "Claude's",
        "100%",
        "https://x",
        "NEAR(a b)",
        "*",
        "a" * 10_000,
        "\x00\x1f",
    ],
)
def test_any_user_text_is_safe(engine: SearchEngine, query: str) -> None:
    outcome = engine.about(query)
    assert isinstance(outcome.hits, list)
    engine.suggest(query)


def test_short_words_find_what_contains_them(real_index: Path) -> None:
    engine = SearchEngine(real_index)
    # Each word, or its translation in the glossary (a story written in one language).
    spellings = {"中国": ("中国", "china"), "規制": ("規制", "regulat"), "AI": ("ai",),
                 "o3": ("o3",), "EU": ("eu",)}  # fmt: skip
    for word, forms in spellings.items():
        hits = engine.about(word).hits
        assert hits, word
        for hit in hits[:3]:
            texts = [
                " ".join([d.title, d.description, *d.tags, *(t for _, t in engine.passages(d.id))])
                for d in hit.documents.values()
            ]
            found = any(form in t.casefold() for t in texts for form in forms)
            assert found, (word, hit.story)


def test_real_corpus_answers(real_index: Path) -> None:
    engine = SearchEngine(real_index)
    assert engine.latest(1)[0].story == "articles/20260208/claude-cowork-saaspocalypse"
    assert "deepseek" in engine.about("DeepSeek").hits[0].story
    china = engine.about("中国").hits
    assert len(china) >= 3
    assert all(
        any("中国" in d.title + d.description for d in hit.documents.values()) for hit in china[:3]
    )


def test_autocomplete_matches_names_and_titles_in_both_languages(engine: SearchEngine) -> None:
    names = [s.name for s in engine.suggest("gem")]
    assert "Gemini 3" in names
    titles = [s.name for s in engine.suggest("上場")]
    assert "Anthropicが上場準備を開始" in titles
    fuzzy = [s.name for s in engine.suggest("deepsek")]
    assert any("DeepSeek" in name for name in fuzzy)
    assert len(engine.suggest("")) <= 25


@pytest.mark.parametrize(
    ("question", "locale", "story", "expected"),
    [
        (
            "How much did DeepSeek's final training run cost?",
            "en",
            "articles/20250120/deepseek-r1",
            "$5.6 million",
        ),
        ("DeepSeek R1の学習コストは？", "ja", "articles/20250120/deepseek-r1", "560万ドル"),
        ("How long can Sora videos be?", "en", "aiTimeline/202402-sora", "a minute"),
        ("Who can use Claude Code on the web?", "en", "articles/20260105/claude-code-web", "Max"),
    ],
)
def test_ask_quotes_the_sentence_that_answers(
    engine: SearchEngine, question: str, locale: str, story: str, expected: str
) -> None:
    from bot.answer import answer_question

    answer = answer_question(engine, question, locale)
    assert answer is not None
    assert answer.hit.story == story
    assert expected in answer.text
    assert answer.text.replace(" ", "") in answer.passage.replace("**", "").replace(" ", "")


@pytest.mark.parametrize(
    "question", ["What is the capital of France?", "Kimi K2の価格は？", "", "?"]
)
def test_ask_says_nothing_when_no_passage_answers(engine: SearchEngine, question: str) -> None:
    from bot.answer import answer_question

    assert answer_question(engine, question, "en") is None


@pytest.mark.parametrize(
    ("query", "expected_story_part"),
    [
        # a misspelling of a name that most documents contain still finds them
        ("opeani", "openai"),
        # katakana for a name with a common word in it
        ("クロード コード", "claude-code"),
        # a name with a version one word apart in the text
        ("claude 4.6", "claude-opus-4-6"),
        # an abbreviation the glossary spells out (monthly active users)
        ("ChatGPT MAU", "chatgpt-gemini-market-share"),
        # a stock ticker for its company (Salesforce)
        ("CRM boss moves to Gemini", "benioff"),
    ],
)
def test_real_corpus_fixed_failures(real_index: Path, query: str, expected_story_part: str) -> None:
    hits = SearchEngine(real_index).about(query).hits
    assert hits
    assert any(expected_story_part in hit.story for hit in hits[:3]), [h.story for h in hits[:3]]


@pytest.mark.parametrize("dotted", ["ニューヨーク・タイムズ", "ニューヨーク・タイムズの話"])
def test_a_katakana_name_written_with_a_middle_dot_finds_what_it_does_without(
    real_index: Path, dotted: str
) -> None:
    engine = SearchEngine(real_index)

    def stories(query: str) -> list[str]:
        outcome = engine.about(query)
        return [hit.story for hit in outcome.hits + outcome.weak]

    found = stories(dotted)
    assert found
    assert found == stories(dotted.replace("・", ""))


def test_a_version_the_corpus_lacks_is_not_answered_by_another_version(real_index: Path) -> None:
    outcome = SearchEngine(real_index).about("Llama 5")
    assert outcome.hits == []
    assert "LLaMA 3" in outcome.suggestions


def test_a_query_of_very_common_words_takes_the_newest_documents_holding_them(
    tmp_path: Path,
) -> None:
    root = tmp_path / "corpus"
    for day in range(1, 29):
        fields: dict[str, object] = {
            "title": f"OpenAI update number {day}" if day % 2 else f"Update {day}",
            "description": "OpenAI shipped something.",
            "date": f"raw:2025-02-{day:02d}",
            "category": "Other",
            "tags": ["AI"],
            "locale": "en",
        }
        path = root / "articles" / f"202502{day:02d}" / f"update-{day}" / "en.md"
        path.parent.mkdir(parents=True)
        path.write_text(frontmatter_text(fields) + "\n## Body\n\nOpenAI text.\n", encoding="utf-8")
    build_index(root, tmp_path / "index.db")
    engine = SearchEngine(tmp_path / "index.db")
    engine.common_postings = 10  # every document holds the word: the newest-first path
    hits = engine.about("OpenAI").hits
    assert hits
    assert hits[0].story == "articles/20250227/update-27"  # newest with it in the title
    assert all("OpenAI" in hit.document_for("en").title for hit in hits[:14])


def test_a_large_vocabulary_matches_typos_only_against_names_seen_twice() -> None:
    from bot.query import Entity, EntityVocabulary

    entities = [Entity(f"Name{i:05d}", f"name{i:05d}", "name", 1) for i in range(30)]
    entities.append(Entity("Anthropic", "anthropic", "company", 40))
    entities.append(Entity("Anthropix", "anthropix", "name", 1))
    vocabulary = EntityVocabulary(entities, fuzzy_pool_limit=10)
    found = vocabulary.fuzzy("antropic", cutoff=83)
    assert found is not None and found[0].name == "Anthropic"
    assert vocabulary.fuzzy("anthropixx", cutoff=90) is None  # seen once: not a candidate
    assert vocabulary.exact("anthropix") is not None  # still known exactly


def test_names_not_held_in_memory_are_still_found_exactly() -> None:
    from bot.query import Entity, EntityVocabulary

    rare = Entity("Moltbook", "moltbook", "name", 1)
    vocabulary = EntityVocabulary(
        [Entity("Anthropic", "anthropic", "company", 40)],
        lookup=lambda key: rare if key == rare.key else None,
    )
    assert vocabulary.exact("moltbook") == rare
    assert vocabulary.exact("nothing") is None


def test_a_phrase_of_common_words_is_still_found_when_checked_word_by_word(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.term_statistics

    expected = top(engine, "social scoring ban")
    monkeypatch.setattr(bot.term_statistics, "PHRASE_COUNT_LIMIT", 0)  # every word is common
    engine._statistics.clear_cache()
    try:
        assert top(engine, "social scoring ban") == expected == "articles/20250202/eu-ai-act"
        assert top(engine, "動画生成") == "aiTimeline/202402-sora"
    finally:
        engine._statistics.clear_cache()  # estimates made under the patched limit


def test_very_common_words_take_the_newest_documents_of_every_collection(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # Document ids follow the file order: every timeline entry comes after every article,
    # whatever its date. The newest holders are found in both.
    for day in range(1, 21):
        write_article(
            f"articles/202502{day:02d}/robots-{day}/en.md",
            title=f"Robots update {day}",
            date=f"raw:2025-02-{day:02d}",
        )
    for month in range(1, 7):
        write_article(
            f"aiTimeline/2024{month:02d}-robots/en.md",
            title=f"Robots milestone {month}",
            date=f"raw:2024-{month:02d}-15",
        )
    build_index(tmp_path / "corpus", tmp_path / "index.db")
    engine = SearchEngine(tmp_path / "index.db")
    engine.common_postings = 5  # every document holds the word: the newest-first path
    outcome = engine.about("robots", limit=30)
    stories = [hit.story for hit in outcome.hits]
    assert stories[0] == "articles/20250220/robots-20"  # newest first, though not last by id
    assert "aiTimeline/202406-robots" in stories
    within = engine.about("robots June 2024", limit=30, as_of=dt.date(2026, 2, 1))
    assert [hit.story for hit in within.hits] == ["aiTimeline/202406-robots"]


def test_listing_holders_with_fts5_or_checking_stored_terms_gives_the_same_ranking(
    real_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [
        "DeepSeek",
        "OpenAI 規制",
        "生成AIの著作権",
        "claude opsu 4.6",
        "Google AI glasses",
        "データセンター投資",
        "anyone know what happened with the EU AI Act this week?",
    ]

    def rankings() -> list[list[tuple[str, float]]]:
        engine = SearchEngine(real_index)
        found = []
        for query in queries:
            outcome = engine.about(query, as_of=dt.date(2026, 2, 15))
            found.append([(hit.story, round(hit.score, 9)) for hit in outcome.hits + outcome.weak])
        engine.close()
        return found

    monkeypatch.setattr(presence, "PACKED_BYTES_PER_POSTING", 10**9)  # every check in memory
    in_memory = rankings()
    monkeypatch.setattr(presence, "PACKED_BYTES_PER_POSTING", 0)  # every list from FTS5
    assert rankings() == in_memory
    assert any(in_memory)


def test_a_warmed_engine_answers_as_a_cold_one(real_index: Path) -> None:
    cold = SearchEngine(real_index)
    warm = SearchEngine(real_index)
    warm.warm()
    for query in ("DeepSeek", "ディープシーク", "antrhopic", "生成AIの規制", "claude opsu 4.6"):
        assert [h.story for h in warm.about(query).hits] == [
            h.story for h in cold.about(query).hits
        ]
        assert warm.suggest(query[:4]) == cold.suggest(query[:4])
    warm.close()
    cold.close()


def test_warming_loads_with_the_collector_off_and_leaves_it_as_it_found_it(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A collection while loading would hold the GIL and stall a bot's event loop.
    collector_on_while_loading: list[bool] = []
    load_names = engine.vocabulary.ensure_loaded

    def loading() -> None:
        collector_on_while_loading.append(gc.isenabled())
        load_names()

    monkeypatch.setattr(engine.vocabulary, "ensure_loaded", loading)
    engine.warm()
    assert collector_on_while_loading and not any(collector_on_while_loading)
    assert gc.isenabled()
    gc.disable()
    try:
        engine.warm()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_sentence_leading_into_a_list_answers_when_it_holds_what_is_asked(
    tmp_path: Path,
) -> None:
    from bot.answer import answer_question

    fields = {
        "title": "Acme widens its gadget line",
        "description": "The gadget family grows with a ninth model.",
        "date": "raw:2031-03-10",
        "category": "Other",
        "tags": ["Acme", "Gadgets"],
        "locale": "en",
    }
    body = (
        "## Background\n\nAcme opened a new factory on June 2, 2030.\n\n"
        "## The new model\n\nIn March 2031, Acme announced Widget 9:\n\n"
        "- a larger battery\n- a lighter frame\n"
    )
    path = tmp_path / "corpus" / "articles" / "20310310" / "acme-widget" / "en.md"
    path.parent.mkdir(parents=True)
    path.write_text(frontmatter_text(fields) + "\n" + body, encoding="utf-8")
    build_index(tmp_path / "corpus", tmp_path / "index.db")
    engine = SearchEngine(tmp_path / "index.db")
    answer = answer_question(engine, "When did Acme announce Widget 9?", "en")
    assert answer is not None and "March 2031" in answer.text


def test_a_month_not_over_yet_is_dropped_when_nothing_in_it_answers(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # A retirement in February, told in December; 2026's only story is another.
    write_article(
        "articles/20251230/model-retirement/en.md",
        title="OpenAI retires older ChatGPT models",
        body="## Retirement\n\nGPT-4.1 leaves ChatGPT on February 13.\n",
        date="raw:2025-12-30",
    )
    write_article(
        "articles/20260210/robot-fair/en.md",
        title="A robot fair opens in Tokyo",
        date="raw:2026-02-10",
    )
    engine = SearchEngine(build(tmp_path))
    question = "is GPT-4.1 retiring in February??"

    def stories(query: str, as_of: dt.date) -> list[str]:
        return [hit.story for hit in engine.about(query, as_of=as_of).hits]

    # Asked in February, the month may be when it happens, announced before.
    assert stories(question, dt.date(2026, 2, 15)) == ["articles/20251230/model-retirement"]
    # Once February is over, its stories are what is asked for: none answers.
    assert stories(question, dt.date(2026, 3, 10)) == []
    # A day is the news of that day, a year that year's, over or not.
    assert stories("GPT-4.1 retiring today??", dt.date(2026, 2, 15)) == []
    assert stories("GPT-4.1 retiring news from 2026", dt.date(2026, 2, 15)) == []


def test_a_model_asked_with_its_version_after_its_name_finds_the_older_name(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "aiTimeline/202502-claude37/en.md",
        title="Anthropic releases Claude 3.7 Sonnet",
        body="## Results\n\nClaude 3.7 Sonnet scores 62.3% on SWE-bench Verified.\n",
        tags=["Claude", "Sonnet", "Claude 3.7 Sonnet"],
    )
    write_article(
        "articles/20251001/sonnet-45/en.md",
        title="Claude Sonnet 4.5 arrives",
        body="## Results\n\nSonnet 4.5 scores 77.2% on SWE-bench.\n",
        tags=["Claude", "Sonnet"],
    )
    engine = SearchEngine(build(tmp_path))
    hits = engine.about("what did sonnet 3.7 get on swe-bench?").hits
    assert [hit.story for hit in hits][:1] == ["aiTimeline/202502-claude37"]
    # a version no name has either way round answers nothing
    assert engine.about("what did sonnet 3.9 get on swe-bench?").hits == []


def test_a_label_names_what_is_asked_as_a_word_not_as_a_stem(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    from bot.answer import answer_question

    write_article(
        "aiTimeline/202404-acme-lm/en.md",
        title="Acme releases the AcmeLM 3 language model",
        tags=["Acme", "AcmeLM"],
        body="## Specifications\n\n- Optimized Tokenizer: 128K vocabulary size\n"
        "- Trained on over 15 trillion tokens\n- Context: 8,192 tokens\n",
    )
    # Other stories say "trained": the tokens are what the question is most about.
    for number in range(3):
        write_article(
            f"articles/2024050{number}/robot-arm-{number}/en.md",
            title=f"Robot arm {number}",
            body="## Robots\n\nThe arm was trained on videos.\n",
        )
    engine = SearchEngine(build(tmp_path))
    answer = answer_question(engine, "how many tokens was AcmeLM 3 trained on?", "en")
    assert answer is not None and "15 trillion" in answer.text


def test_bought_in_japanese_finds_an_acquisition_told_in_english(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20251204/acme-acquires-bun/en.md",
        title="Acme acquires the Bun runtime",
        body="## Deal\n\nAcme acquired Bun to speed up its coding tools.\n",
    )
    write_article("articles/20251205/acme-hires/en.md", title="Acme hires a new chief of staff")
    engine = SearchEngine(build(tmp_path))
    hits = engine.about("Acmeが何か買ったって話").hits
    assert [hit.story for hit in hits][:1] == ["articles/20251204/acme-acquires-bun"]


def test_clipped_katakana_and_everyday_verbs_answer_questions_of_news_words(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20251121/acme-factory/ja.md",
        title="AcmeとFoxconnが提携",
        body=(
            "## 概要\n\nAcmeとFoxconnは米国でAIハードウェアを製造する。\n\n"
            "## 背景\n\nAcmeはAIに注力している。\n"
        ),
    )
    write_article("articles/20251205/acme-hires/ja.md", title="Acmeが新しい幹部を採用")
    write_article(
        "articles/20251204/acme-buys-bun/en.md",
        title="Acme acquires the Bun runtime",
        body="## Deal\n\nAcme acquired Bun, the JavaScript runtime, in December.\n",
    )
    from bot.answer import answer_question

    engine = SearchEngine(build(tmp_path))
    answer = answer_question(engine, "AcmeとFoxconnのAIハード、どこの国で作るの？", "ja")
    assert answer is not None and "米国" in answer.text
    answer = answer_question(engine, "who bought Bun?", "en")
    assert answer is not None and "Acme acquired Bun" in answer.text


def test_a_name_asked_in_katakana_is_quoted_from_the_japanese_story(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    from bot.answer import answer_question

    write_article(
        "articles/20260105/keynote/en.md",
        title="Nvidia Opens CES With a Data Center Keynote",
        body="## Summary\n\nNvidia CEO Jensen Huang used his CES keynote to talk about AI.\n",
    )
    write_article(
        "articles/20260105/keynote/ja.md",
        title="NvidiaがCESでデータセンターを語る",
        body="## 概要\n\nNvidiaのジェンスン・フアンCEOは基調講演でAIを語った。\n",
    )
    engine = SearchEngine(build(tmp_path))
    answer = answer_question(engine, "ジェンスン・フアンって誰？", "ja")
    assert answer is not None and answer.locale == "ja"
    assert "ジェンスン・フアン" in answer.text
