"""What a message asks about: concepts, their roles, versions, periods (bot/query.py)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.query import Alternative, Concept, spelled_out_amounts
from bot.search import SearchEngine
from tests.conftest import ArticleWriter
from tests.search_support import build
from tests.test_search import make_engine

AS_OF = dt.date(2026, 2, 15)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    """The small two-language corpus of the search tests."""
    return make_engine(tmp_path_factory.mktemp("query") / "corpus")


def roles(engine: SearchEngine, query: str) -> dict[str, str]:
    return {c.label.casefold(): c.role for c in engine.plan(query, as_of=AS_OF).concepts}


def test_chat_filler_and_news_words_are_context_not_topics(engine: SearchEngine) -> None:
    found = roles(engine, "honestly anyone heard any update on deepseek lol")
    assert found["deepseek"] == "entity"
    assert {found[w] for w in ("honestly", "update", "lol") if w in found} == {"context"}
    japanese = roles(engine, "DeepSeekのニュースってマジ？")
    assert japanese["deepseek"] == "entity"
    assert all(role == "context" for word, role in japanese.items() if word != "deepseek")


def test_words_that_only_ask_for_a_periods_news_are_no_topic(engine: SearchEngine) -> None:
    # "milestones", "highlights", "takeaways" ask for what happened, as "news" does: a story
    # of the period need not say them.
    for query in ("ai milestones from fall 2024", "key highlights of 2025", "2025年のハイライト"):
        plan = engine.plan(query, as_of=AS_OF)
        assert plan.date_range is not None, query
        assert [c.role for c in plan.concepts if c.role not in ("context",)] == [], query
    assert "context" not in {c.role for c in engine.plan("AI developers conference").concepts[1:]}


def test_an_amount_written_short_is_read_as_written_in_full() -> None:
    assert spelled_out_amounts("4t") == ["4 trillion", "4兆"]
    assert spelled_out_amounts("10b") == ["10 billion", "100億"]
    assert spelled_out_amounts("1.5m") == ["1.5 million", "150万"]
    assert spelled_out_amounts("4o") == [] and spelled_out_amounts("r1") == []


def test_a_short_amount_finds_the_story_that_spells_it_out(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20260114/valuation/en.md",
        title="Alphabet Climbs on AI",
        body="## Summary\n\nAlphabet's valuation reached $4 trillion after the launch.\n",
    )
    write_article(
        "articles/20260114/valuation/ja.md",
        title="AlphabetがAIで上昇",
        body="## 概要\n\nAlphabetの時価総額は4兆ドルに達した。\n",
    )
    write_article("articles/20260110/other/en.md", title="Alphabet Opens an Office")
    engine = SearchEngine(build(tmp_path))
    for query in ("Alphabet 4T", "Alphabet 4 trillion", "Alphabetの4T"):
        plan = engine.plan(query)
        assert plan.missing_versions == [], query  # "4" is no version of Alphabet
        hits = engine.about(query).hits
        assert hits and hits[0].story == "articles/20260114/valuation", query


def test_a_version_after_a_maker_and_its_product_is_also_the_products_own(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # The corpus names "xAI Grok" (in Japanese text), and writes "Grok 5" alone.
    for day in (17, 18):
        write_article(
            f"articles/202511{day}/grok-{day}/en.md",
            title=f"xAI Grok 4.1, Day {day}",
            body="## Summary\n\nxAI says Grok 5 follows in the first quarter of 2026.\n",
            tags=["xAI", "Grok"],
            date=f"raw:2025-11-{day}",
        )
        write_article(
            f"articles/202511{day}/grok-{day}/ja.md",
            title=f"xAI Grok 4.1、{day}日",
            body="## 概要\n\nxAI Grokがベンチマークで首位に立った。\n",
            tags=["xAI", "Grok"],
            date=f"raw:2025-11-{day}",
        )
    engine = SearchEngine(build(tmp_path))
    plan = engine.plan("xAI said Grok 5 is out when?")
    assert plan.missing_versions == []
    assert {hit.story for hit in engine.about("xAI said Grok 5 is out when?").hits} == {
        "articles/20251117/grok-17",
        "articles/20251118/grok-18",
    }
    assert engine.plan("xAI Grok 6").missing_versions != []
    assert engine.about("xAI Grok 6").hits == []


def test_a_name_holding_a_stopword_is_one_name(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20251120/acme-teachers/ja.md",
        title="Acme for Teachersを発表",
        body="## 概要\n\nAcme for Teachersは教員向けの無料プランだ。\n",
    )
    write_article(
        "articles/20251120/acme-teachers/en.md",
        title="Acme for Teachers Launches",
        body="## Summary\n\nAcme for Teachers is free for verified teachers.\n",
    )
    write_article(
        "articles/20251121/acme-pricing/en.md",
        title="Acme Raises Prices",
        body="## Summary\n\nTeachers and students pay more for Acme from today.\n",
    )
    engine = SearchEngine(build(tmp_path))
    plan = engine.plan("is acme for teachers free")
    named = [c for c in plan.concepts if c.role == "entity"]
    assert len(named) == 1
    assert ("acm", "for", "teacher") in [a.terms for a in named[0].alternatives]
    assert [hit.story for hit in engine.about("is acme for teachers free").hits] == [
        "articles/20251120/acme-teachers"
    ]


def test_a_variant_the_corpus_never_names_is_a_missing_version(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    for day, title in ((18, "Acme Releases Zeta 3"), (19, "Acme Ships Zeta 3 Flash")):
        write_article(
            f"articles/202511{day}/zeta-{day}/en.md",
            title=title,
            body=f"## Summary\n\n{title.split(' ', 2)[2]} tops the benchmarks.\n",
            tags=["Acme", "Zeta 3"],
        )
    engine = SearchEngine(build(tmp_path))
    outcome = engine.about("zeta 3 ultra benchmarks")
    assert outcome.plan.missing_versions == ["Zeta 3 ultra"]
    assert outcome.hits == [] and outcome.weak  # its neighbours, as weak matches only
    assert engine.plan("is there a zeta 3 flash-lite yet").missing_versions == ["Zeta 3 flash-lite"]
    assert engine.plan("zeta 3 flash benchmarks").missing_versions == []
    assert engine.about("zeta 3 flash benchmarks").hits[0].story == "articles/20251119/zeta-19"


def test_a_number_after_a_stopword_or_before_a_unit_is_no_version(engine: SearchEngine) -> None:
    for query in ("I dropped DeepSeek after 2 days", "DeepSeek 3 hours of downtime"):
        plan = engine.plan(query, as_of=AS_OF)
        assert plan.missing_versions == [], query
        assert "deepseek" in [c.label.casefold() for c in plan.concepts], query


def test_a_katakana_typo_keeps_its_first_kana(tmp_path: Path, write_article: ArticleWriter) -> None:
    write_article(
        "articles/20251120/acme-coding/ja.md",
        title="Acmeのコーディング支援",
        body="## 概要\n\nAcmeはコーディングを速くする。\n",
    )
    engine = SearchEngine(build(tmp_path))

    def alternatives(query: str) -> list[tuple[str, ...]]:
        return [a.terms for c in engine.plan(query).concepts for a in c.alternatives]

    assert ("コーディング",) in alternatives("コーディンクの話")  # a kana typed wrong
    assert ("コーディング",) not in alternatives("トレーディングの話")  # another word


def test_pronouns_and_light_verbs_in_japanese_are_chatter(engine: SearchEngine) -> None:
    found = roles(engine, "うちの部署でDeepSeekやってるけど僕は知らない")
    assert found["deepseek"] == "entity"
    assert (found["うち"], found["やっ"], found.get("僕", "context")) == ("context",) * 3


def test_a_laugh_typed_as_w_is_chatter(engine: SearchEngine) -> None:
    assert roles(engine, "DeepSeekってやばいｗｗｗ")["www"] == "context"


def test_words_the_corpus_lacks_are_names_only_when_written_like_names(
    engine: SearchEngine,
) -> None:
    found = roles(engine, "did Perplexity Comet hit the vegetable market in 8th place")
    assert found["comet"] == "entity"  # capitalized: a name the corpus never mentions
    assert found["vegetable"] == "unknown"  # an ordinary word: it only lowers coverage
    assert found["8th"] == "unknown"  # an ordinal is no name
    assert roles(engine, "deepseek r7 benchmark")  # digits and letters: a version or model


def test_a_version_the_corpus_lacks_is_recorded(engine: SearchEngine) -> None:
    assert engine.plan("gemini 7").missing_versions == ["Gemini 7"]
    assert engine.plan("gemini 3").missing_versions == []
    assert engine.plan("GPT-5.2 70.9% on GDPval").missing_versions == []  # a score, not a version


def test_a_number_with_a_counter_is_a_quantity_not_a_version(engine: SearchEngine) -> None:
    plan = engine.plan("Gemini 3って1枚いくら？")
    assert plan.missing_versions == []
    assert plan.concepts[0].label == "gemini 3"


@pytest.mark.parametrize("message", ["was gemini #1 on the leaderboard", "gemini no. 7 in sales"])
def test_a_number_after_a_rank_sign_is_a_rank_not_a_version(
    engine: SearchEngine, message: str
) -> None:
    plan = engine.plan(message)
    assert plan.missing_versions == []
    assert all(concept.version is None for concept in plan.concepts)


@pytest.mark.parametrize("message", ["is 4o still in chatgpt", "o3ってもう使えない？"])
def test_a_version_with_a_letter_alone_names_a_model(engine: SearchEngine, message: str) -> None:
    plan = engine.plan(message)
    assert plan.concepts[0].role == "entity"


def test_an_unknown_word_before_ai_names_a_company(engine: SearchEngine) -> None:
    roles = {
        c.label.casefold(): c.role for c in engine.plan("anyone tried zorblat ai yet").concepts
    }
    assert roles["zorblat"] == "entity"
    compound = {c.label.casefold(): c.role for c in engine.plan("low-effort ai junk").concepts}
    assert compound.get("low-effort", compound.get("low effort")) != "entity"


def test_an_unknown_word_before_ai_is_a_name_though_a_katakana_word_shares_its_consonants(
    real_index: Path,
) -> None:
    engine = SearchEngine(real_index)
    assert engine.katakana_spellings("klang")  # チャレンジ: k, r, n, g
    plan = engine.plan("anyone tried klang ai yet")
    assert {c.label.casefold(): c.role for c in plan.concepts}["klang"] == "entity"


def test_a_word_the_corpus_lacks_is_not_spelled_as_a_loanword_sharing_its_consonants(
    real_index: Path,
) -> None:
    engine = SearchEngine(real_index)
    assert "ソリューション" in engine.katakana_spellings("sarasen")  # s, r, s, n
    [unknown] = engine.plan("sarasen").concepts
    assert [a.terms for a in unknown.alternatives] == [("sarasen",)]
    # a word of the corpus keeps its Japanese spelling
    [known] = engine.plan("storage").concepts
    assert ("ストレージ",) in [a.terms for a in known.alternatives]


def test_a_word_the_corpus_lacks_quoted_alone_is_a_name(engine: SearchEngine) -> None:
    assert roles(engine, "heard the codename is 'zorbleflux', any leaks?")["zorbleflux"] == "entity"
    # unquoted, the same word is just a word the corpus lacks
    assert roles(engine, "heard about zorbleflux, any leaks?")["zorbleflux"] == "unknown"


def test_a_product_line_named_only_with_numbers_has_versions(real_index: Path) -> None:
    engine = SearchEngine(real_index)  # the corpus names Pixel 9 and Pixel 8 Pro
    assert engine.plan("Pixel 11 launch date?").missing_versions == ["Pixel 11"]
    assert engine.plan("Pixel 9 launch date?").missing_versions == []
    assert engine.plan("Top 5 AI stories").missing_versions == []


def test_often_is_chatter_in_japanese(engine: SearchEngine) -> None:
    roles = {c.label: c.role for c in engine.plan("最近よく見るけどGeminiってどう？").concepts}
    assert roles.get("よく", "context") == "context" and roles.get("良く", "context") == "context"
    hedged = {c.label: c.role for c in engine.plan("もっと安くなるみたいな話、Geminiで").concepts}
    assert hedged["もっと"] == "context" and hedged["みたい"] == "context"


def test_what_an_article_wrote_is_chatter_in_japanese(engine: SearchEngine) -> None:
    plan = engine.plan("Geminiの記事に書かれてた料金、どこかで触れてた？")
    assert [c.role for c in plan.concepts if c.label[:1] in ("書", "触")] == ["context"] * 2


def test_an_amount_written_short_is_no_name(engine: SearchEngine) -> None:
    plan = engine.plan("did google put 13B+ into it")
    assert all(concept.role != "entity" for concept in plan.concepts if "13" in concept.label)


def test_names_apart_in_japanese_are_not_one_name(engine: SearchEngine) -> None:
    labels = [c.label for c in engine.plan("ClaudeってGeminiより速い？").concepts]
    assert "Claude" in labels and "Gemini" in labels


def test_markup_never_becomes_a_concept(engine: SearchEngine) -> None:
    plan = engine.plan("<@111111111111> **Sora** 🎉 https://openai.com/sora any news??")
    assert {c.label: c.role for c in plan.concepts} == {"Sora": "entity", "news": "context"}


def test_a_period_is_read_against_the_day_asked(engine: SearchEngine) -> None:
    plan = engine.plan("DeepSeek last december", as_of=AS_OF)
    assert plan.date_range is not None and plan.date_range.start == dt.date(2025, 12, 1)
    plan = engine.plan("DeepSeek last december", as_of=dt.date(2027, 3, 1))
    assert plan.date_range is not None and plan.date_range.start == dt.date(2026, 12, 1)


def test_nicknames_and_hiragana_link_to_names(engine: SearchEngine) -> None:
    assert ("oai", "OpenAI") in engine.plan("oai sora").corrections
    assert ("ジェミニ", "Gemini") in engine.plan("じぇみに3").corrections


def test_a_spelling_mixing_kana_and_latin_letters_is_one_name(engine: SearchEngine) -> None:
    plan = engine.plan("オープンAIの新しいモデル")
    assert plan.concepts[0].label == "openai" and plan.concepts[0].role == "entity"
    assert ("オープンai", "OpenAI") in plan.corrections
    plan = engine.plan("ちゃっとGPTの広告")  # the kana in hiragana
    assert plan.concepts[0].label == "chatgpt" and plan.concepts[0].role == "entity"


def test_a_name_and_version_joined_by_a_hyphen_is_found_where_the_corpus_writes_them_apart(
    engine: SearchEngine,
) -> None:
    # The corpus writes "DeepSeek releases the R1 reasoning model", never "DeepSeek-R1".
    hits = engine.about("DeepSeek-R1", as_of=AS_OF).hits
    assert [hit.story for hit in hits[:1]] == ["articles/20250120/deepseek-r1"]
    assert engine.plan("DeepSeek-R1の学習コストは？", as_of=AS_OF).missing_versions == []
    # A version it never writes is said to be unknown, not matched by R1.
    unknown = engine.about("DeepSeek-R9", as_of=AS_OF)
    assert unknown.hits == [] and unknown.plan.missing_versions == ["DeepSeek R9"]


# -- FTS5 expressions ------------------------------------------------------------------------

#: Rows of an FTS5 table with the index's tokenizer (unicode61), by rowid.
FTS_ROWS = {
    1: "open source weights released",
    2: "source code for the open letter",
    3: "weights that are open source",
    4: "you may or not agree near the end",
    5: "o k then",
}


def fts_matches(alternative: Alternative) -> set[int]:
    """Rowids of ``FTS_ROWS`` that ``alternative.fts()`` matches."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='unicode61')")
    db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)", FTS_ROWS.items())
    rows = db.execute("SELECT rowid FROM docs WHERE docs MATCH ?", [alternative.fts()])
    return {rowid for (rowid,) in rows}


def test_an_alternative_of_several_words_is_a_phrase_not_an_and_of_words() -> None:
    assert Alternative(("open", "source")).fts() == '"open source"'
    assert fts_matches(Alternative(("open", "source"))) == {1, 3}  # not 2: words apart
    assert fts_matches(Alternative(("source", "open"))) == set()  # in their order


def test_words_fts5_reads_as_operators_are_only_words() -> None:
    assert fts_matches(Alternative(("or", "not"))) == {4}
    assert fts_matches(Alternative(("near",))) == {4}
    assert fts_matches(Alternative(("and",))) == set()
    assert Alternative(('o"k',)).fts() == '"o""k"'  # a quote inside is doubled
    assert fts_matches(Alternative(('o"k',))) == {5}


def test_a_near_alternative_finds_its_words_close_in_any_order() -> None:
    near = Alternative(("letter", "open"), near=True)
    assert near.fts() == 'NEAR("letter" "open", 4)'
    assert fts_matches(near) == {2}
    assert fts_matches(Alternative(("weights", "released"), near=True, near_distance=1)) == {1}
    assert fts_matches(Alternative(("open", "released"), near=True, near_distance=1)) == set()
    assert Alternative(("a", "b", "c"), near=True).fts() == 'NEAR("a" "b" "c", 6)'


def test_a_near_alternative_with_a_quote_inside_is_still_words() -> None:
    near = Alternative(('o"k', "then"), near=True)
    assert near.fts() == 'NEAR("o""k" "then", 4)'
    assert fts_matches(near) == {5}


def test_a_concept_keeps_one_alternative_per_spelling() -> None:
    concept = Concept("DeepSeek", [])
    concept.add(Alternative(("deepseek",)))
    concept.add(Alternative(("deepseek",), how="typo", trust=0.5))  # same terms: kept once
    concept.add(Alternative(()))  # no terms: nothing to find
    concept.add(Alternative(("deepseek",), near=True))  # the same words near each other
    assert [(a.terms, a.how, a.near) for a in concept.alternatives] == [
        (("deepseek",), "exact", False),
        (("deepseek",), "exact", True),
    ]


def test_chat_filler_the_corpus_lacks_is_never_read_as_part_of_a_mistyped_name(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    # "Kumotra" is a tag of two stories. "ok kumotra" is as close to it as a typo would
    # be, but "ok" is chat filler (data/lexicon.toml): the name is typed right after it.
    for day in (1, 2):
        write_article(
            f"articles/2025110{day}/robots-{day}/en.md",
            title=f"Robots at work {day}",
            tags=["Kumotra"],
            date=f"raw:2025-11-0{day}",
        )
    engine = SearchEngine(build(tmp_path))
    plan = engine.plan("ok kumotra robots", as_of=AS_OF)
    assert plan.corrections == []
    assert [(c.label, c.role) for c in plan.concepts if c.role == "entity"] == [
        ("kumotra", "entity")
    ]
    typo = engine.plan("kumotraa robots", as_of=AS_OF)  # a real typo of the tag
    assert [corrected for _typed, corrected in typo.corrections] == ["Kumotra"]
