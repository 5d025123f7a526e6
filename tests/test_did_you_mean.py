"""Did you mean: close names offered when a search finds nothing confident."""

from __future__ import annotations

from pathlib import Path

from bot.did_you_mean import did_you_mean
from bot.query import Entity, EntityVocabulary, QueryPlan
from bot.search import SearchEngine
from tests.conftest import ArticleWriter
from tests.search_support import build

VOCABULARY = EntityVocabulary(
    [
        Entity("Gemini 3", "gemini3", "product", 5),
        Entity("Anthropic", "anthropic", "company", 9),
        Entity("DeepSeek", "deepseek", "company", 7),
        Entity("SLA", "sla", "product", 2),
        Entity("Tesla CEO", "teslaceo", "person", 1),
        Entity("Mistral", "mistral", "company", 3),
    ]
)


def plan(normalized: str, **fields: object) -> QueryPlan:
    return QueryPlan(original=normalized, normalized=normalized, **fields)  # type: ignore[arg-type]


def test_a_misspelled_name_is_offered() -> None:
    assert did_you_mean(plan("antrhopic news"), VOCABULARY)[0] == "Anthropic"


def test_a_name_typed_exactly_is_not_offered_back() -> None:
    assert "DeepSeek" not in did_you_mean(plan("deepseek"), VOCABULARY)


def test_a_name_beside_words_nothing_matched_is_offered_alone_after_closer_names() -> None:
    offered = did_you_mean(
        plan("mistral larg antrhopic", unknown=["larg", "antrhopic"]), VOCABULARY
    )
    assert offered == ["Anthropic", "Mistral"]


def test_no_shorter_name_inside_a_word_the_index_holds_is_offered() -> None:
    # "tesla" is a word of the index: the "sla" inside it was not meant.
    assert "SLA" not in did_you_mean(plan("tesla optimus", unknown=["optimus"]), VOCABULARY)
    # An unknown word may hide a name behind an extra letter.
    assert did_you_mean(plan("deepseekk", unknown=["deepseekk"]), VOCABULARY) == ["DeepSeek"]


def test_corrections_made_while_parsing_come_first() -> None:
    offered = did_you_mean(plan("antrhopic", corrections=[("gemnii", "Gemini 3")]), VOCABULARY)
    assert offered[:2] == ["Gemini 3", "Anthropic"]


def test_japanese_text_and_unrelated_words_offer_nothing() -> None:
    assert did_you_mean(plan("ディープシークの新モデル"), VOCABULARY) == []
    assert did_you_mean(plan("weather tomorrow"), VOCABULARY) == []


def test_an_index_offers_its_names_for_a_query_it_cannot_answer(
    tmp_path: Path, write_article: ArticleWriter
) -> None:
    write_article(
        "articles/20251118/gemini-3/en.md",
        title="Google launches Gemini 3",
        tags=["Gemini 3", "Google"],
        date="raw:2025-11-18",
    )
    engine = SearchEngine(build(tmp_path))
    query = engine.plan("Gemini 7 Ultra")
    assert "Gemini 3" in did_you_mean(query, engine.vocabulary)
    engine.close()


def test_at_most_five_names_are_offered_in_the_order_they_were_corrected() -> None:
    corrections = [(f"typo{n}", f"Name {n}") for n in range(7)]
    offered = did_you_mean(plan("antrhopic", corrections=corrections), VOCABULARY)
    assert offered == [f"Name {n}" for n in range(5)]


def test_a_longer_name_holding_a_name_typed_exactly_is_still_offered() -> None:
    vocabulary = EntityVocabulary(
        [Entity("Sora", "sora", "product", 4), Entity("Sora 2", "sora2", "product", 3)]
    )
    assert did_you_mean(plan("sora zzq", unknown=["zzq"]), vocabulary) == ["Sora 2", "Sora"]
