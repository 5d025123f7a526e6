"""The analyzer's folding of names and symbols: what a typed name is matched by."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import text


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.text(max_size=24))
def test_squash_keeps_exactly_the_letters_and_digits_of_the_normalized_text(typed: str) -> None:
    expected = "".join(ch for ch in text.normalize(typed) if ch.isalnum())
    assert text.squash(typed) == expected


def test_squash_folds_width_case_and_punctuation() -> None:
    assert text.squash("ＧＰＴ‐5.2 Turbo") == "gpt52turbo"
    assert text.squash("Claude_Opus 4.6!") == "claudeopus46"
    assert text.squash("ディープ・シーク") == "ディープシーク"


def test_a_katakana_name_and_its_latin_spelling_share_a_skeleton() -> None:
    assert text.consonant_skeleton(text.romanize_katakana("ディープシーク")) == "dpsk"
    assert text.consonant_skeleton("DeepSeek") == "dpsk"
    assert text.consonant_skeleton("Philosophy") == "frsf"  # ph→f, l→r, doubled letters once
    # a soft g written ジ and a plural s written ズ
    pairs = [
        ("storage", "ストレージ"),
        ("labs", "ラボズ"),
        ("digital", "デジタル"),
        ("edge", "エッジ"),
    ]
    for latin, katakana in pairs:
        assert text.consonant_skeleton(latin) == text.consonant_skeleton(
            text.romanize_katakana(katakana)
        )


def test_symbol_names_are_kept_and_plus_signs_alone_are_not_names() -> None:
    assert text.analyze("C++ and C# on .NET") == ["cplusplus", "and", "csharp", "on", "dotnet"]
    assert text.analyze("20+ languages, 3+ levels") == ["20", "languag", "3", "level"]
    assert text.analyze("x+y") == ["x", "y"]


def test_a_foreign_name_in_hiragana_costs_more_to_read_than_japanese() -> None:
    for name in ("べぞす", "ぷろめてうす", "えぬびでぃあ"):
        assert text.reading_cost_per_character(name) > 3_000, name
    for japanese in ("について", "どうなった", "やばすぎ", "ちょっとまって", "しらなかった"):
        assert text.reading_cost_per_character(japanese) < 2_000, japanese
    assert text.reading_cost_per_character("") == 0.0
