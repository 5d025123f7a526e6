"""Names as people write them: hiragana, nicknames, tickers, versions (bot/vocabulary.py)."""

from __future__ import annotations

import pytest

from bot import text
from bot.vocabulary import (
    Entity,
    EntityVocabulary,
    clipped_alias,
    hiragana_names,
    known_name,
    nickname,
    spelled_letters,
)


def entity(name: str, stories: int = 3, kind: str = "tag") -> Entity:
    key = text.squash(name)
    skeleton = text.consonant_skeleton(name) if key.isalpha() and len(key) >= 3 else ""
    return Entity(name, key, kind, stories, skeleton)


@pytest.fixture(scope="module")
def vocabulary() -> EntityVocabulary:
    names = ["Claude", "Claude Opus 4.5", "Claude Sonnet 4.5", "Claude 3.4", "Gemini", "Meta",
             "Llama", "Sam Altman", "Geoffrey Hinton", "DeepSeek", "Moltbook"]  # fmt: skip
    return EntityVocabulary([entity(name) for name in names])


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("くろーどのはいく", "クロードのハイク"),
        ("じぇみに", "ジェミニ"),
        ("めたのらま", "メタのラマ"),
        ("さむあるとまん解任騒動", "サムアルトマン解任騒動"),
        ("ひんとんのノーベル賞", "ヒントンのノーベル賞"),
        ("じーぴーてぃー", "ジーピーティー"),
        ("でぃーぷしーく", "ディープシーク"),
        ("おーぷんえーあいのそら、無料だと", "オープンエーアイのソラ、無料だと"),
        ("ちゃっぴーの新機能", "チャッピーの新機能"),
        ("じぇみにってどうなった", "ジェミニってどうなった"),
    ],
)
def test_names_written_in_hiragana_are_read_as_katakana(
    vocabulary: EntityVocabulary, typed: str, read: str
) -> None:
    assert hiragana_names(typed, vocabulary) == read


@pytest.fixture(scope="module")
def people() -> EntityVocabulary:
    names = ["Mike Krieger", "Clare Liguori", "Simon Willison", "Sarah Friar", "Claude Code",
             "Gemini", "Deep Research", "Patrick Collison", "Merge Labs",
             "Jeff Bezos"]  # fmt: skip
    return EntityVocabulary([entity(name) for name in names])


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        # a long vowel for an English "r", and syllables only loanwords spell
        ("まいくくりーがーの移籍", "マイククリーガーの移籍"),
        ("さらふらいやーが話してた", "サラフライヤーが話してた"),
        # two names with a Japanese word between them
        (
            "さいもんうぃりそんがぶろぐでくろーどこーどのこと",
            "サイモンウィリソンがぶろぐでクロードコードのこと",
        ),
        # a foreign full name with a middle dot, and a soft g and a plural z (Merge Labs)
        ("ぱとりっく・ころりそんもほめてた", "パトリック・コロリソンもほめてた"),
        ("まーじ・らぼずってなにする会社", "マージ・ラボズってなにする会社"),
        # a name, a particle and chatter: not one long name one consonant off another
        ("まいくくりーがーがらぼずに移った", "マイククリーガーがらぼずに移った"),
        # no loanword mark, but no Japanese reading either (single kana, at a high cost)
        ("べぞすの新会社", "ベゾスの新会社"),
        # a stretch too long to read in one piece
        (
            "じぇみにのでぃーぷりさーちでぐらふとかしみゅれーしょんまで",
            "ジェミニのディープリサーチでぐらふとかしみゅれーしょんまで",
        ),
    ],
)
def test_names_of_people_and_products_written_in_hiragana_are_read(
    people: EntityVocabulary, typed: str, read: str
) -> None:
    assert hiragana_names(typed, people) == read


@pytest.mark.parametrize(
    "japanese", ["まーじでやばい", "ねぇねぇ聞いて", "すごーいね", "くりーがーさん"]
)
def test_long_vowels_in_chatter_stay_japanese(people: EntityVocabulary, japanese: str) -> None:
    assert hiragana_names(japanese, people) == japanese


@pytest.mark.parametrize(
    "japanese",
    [
        "はじめたばかりのサービス",  # めた after a kanji is its inflection, not Meta
        "ほんとにすごいね",
        "まじでやばい",
        "あれってどうなった",
        "そらってどうなった",  # そら alone is Japanese; only after a name is it Sora
        "記事があった気がするんだけど、どれだっけ？",
        "あのさーちょっといい？",
        "すげーな",
        "やべーじゃん",
        "バブルについて話してた",  # に / つい / て: single kana, yet cheap to read
        "ニュースになってるって",
        "ブログでどれだっけって",
    ],
)
def test_japanese_written_in_hiragana_stays_japanese(
    vocabulary: EntityVocabulary, japanese: str
) -> None:
    assert hiragana_names(japanese, vocabulary) == japanese


def test_loanwords_the_corpus_writes_in_katakana_are_read_as_katakana(
    vocabulary: EntityVocabulary,
) -> None:
    corpus_words = {"ブラウザ", "スマホ"}
    read = hiragana_names("ぶらうざとかすまほから", vocabulary, corpus_words.__contains__)
    assert read == "ブラウザとかスマホから"


def test_a_clipped_katakana_spelling_names_its_product(vocabulary: EntityVocabulary) -> None:
    assert vocabulary.katakana_name("コパイ") == ("Copilot", "alias")


def test_a_katakana_name_clipped_the_japanese_way_is_read_as_that_name(
    vocabulary: EntityVocabulary,
) -> None:
    # the head of the name, or two kana of each of its parts
    assert vocabulary.katakana_name("アンスロ") == ("Anthropic", "clipping")
    assert vocabulary.katakana_name("スノフレ") == ("Snowflake", "clipping")
    # a word Sudachi knows is that word, whatever name it begins
    assert clipped_alias("マイクロ") == "Microsoft"
    assert vocabulary.katakana_name("マイクロ") is None
    # the head of two names (DeepSeek, DeepMind) and three kana name nothing
    assert clipped_alias("ディープ") is None
    assert clipped_alias("アンス") is None


def test_a_name_spelled_out_letter_by_letter_in_kana_is_that_name() -> None:
    names = EntityVocabulary([entity("R1"), entity("GPT-4o"), entity("DeepSeek")])
    assert spelled_letters("アールワン") == "r1" and spelled_letters("ワイン") is None
    assert names.katakana_name("アールワン") == ("R1", "spelling")
    assert names.katakana_name("ジーピーティーフォーオー") == ("GPT-4o", "spelling")
    # in hiragana too, after another name
    assert hiragana_names("でぃーぷしーくのあーるわん", names) == "ディープシークのアールワン"
    # letters that spell no name of the index are no name
    assert names.katakana_name("ブイナイン") is None


def test_a_person_called_by_the_surname_in_katakana_is_found_by_that_surname() -> None:
    people = EntityVocabulary(
        [entity("Andrej Karpathy"), entity("Jeff Bezos"), entity("Grace Blackwell")]
    )
    assert people.katakana_name("カルパシー") == ("Karpathy", "transliteration")
    assert people.katakana_name("ベゾス") == ("Bezos", "transliteration")
    # a place Sudachi does not know sharing Blackwell's consonants (brkr) is not him
    assert people.katakana_name("ブレッチリー") is None


def test_a_loanword_sudachi_knows_is_no_surname() -> None:
    people = EntityVocabulary([entity("Anna Bijness")])
    assert people.katakana_name("ビジネス") is None


def test_older_names_with_the_version_first_are_found_by_name_and_version() -> None:
    names = EntityVocabulary(
        [entity("Claude 3.7 Sonnet"), entity("Claude Sonnet 4.5"), entity("Sonnet")]
    )
    assert [e.name for e in names.versions_before_name("sonnet", "37")] == ["Claude 3.7 Sonnet"]
    assert names.versions_before_name("sonnet", "45") == []


def test_a_product_line_is_known_by_its_numbered_names() -> None:
    names = EntityVocabulary([entity("Pixel 9"), entity("Pixel 8 Pro"), entity("Pixelmator")])
    assert names.has_numbered_names("pixel")
    assert not names.has_numbered_names("pix") and not names.has_numbered_names("pixelmator")


def test_nicknames_and_tickers_name_companies() -> None:
    assert nickname("oai", "oai") == "OpenAI"
    assert nickname("nvda", "NVDA") == "Nvidia"
    assert nickname("ds", "DS") == "DeepSeek" and nickname("ds", "ds") is None
    assert nickname("gh", "GH") == "GitHub"
    assert nickname("crm", "CRM") == "Salesforce"
    assert nickname("nvda", "nvda") == "Nvidia"
    assert nickname("ms", "MS") == "Microsoft"
    assert nickname("ms", "ms") is None  # "200 ms" is no company
    assert nickname("deepseek", "deepseek") is None


def test_institutions_by_their_initials_only_as_initials_are_written() -> None:
    assert nickname("boe", "BoE") == "Bank of England"
    assert nickname("wsj", "WSJ") == "Wall Street Journal"
    assert nickname("sec", "SEC") == "Securities and Exchange Commission"
    assert nickname("sec", "sec") is None  # "wait a sec"
    assert nickname("oai", "OAI") == "OpenAI"  # the table writes it lowercase: any case


def test_names_of_the_alias_table_are_names_even_unseen() -> None:
    assert known_name("windsurf") and known_name("Devin")
    assert not known_name("vegetable")


def test_a_version_is_found_with_the_words_a_name_puts_before_it(
    vocabulary: EntityVocabulary,
) -> None:
    found = {e.name for e in vocabulary.named_versions("claude", "45")}
    assert found == {"Claude Opus 4.5", "Claude Sonnet 4.5"}
    assert vocabulary.named_versions("claude", "4") == []  # never Claude 3.4
