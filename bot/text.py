"""Text normalization and tokenization shared by the index and the search.

One analyzer serves both sides so that a query term and an indexed term meet:

* ``normalize`` folds width (NFKC), case, unicode hyphens and odd spaces.
* ``analyze`` splits normalized text into script runs. Latin and digit runs become words
  stemmed with the Snowball English stemmer (``announced`` → ``announc``); runs of Japanese
  script go through Sudachi (small dictionary, split mode C, normalized form), which unifies
  spelling variants such as コンピューター/コンピュータ. Particles, auxiliaries and symbols
  are dropped.
* ``squash`` reduces a name to lowercase letters and digits for fuzzy matching
  (``GPT‐5.2`` → ``gpt52``); ``consonant_skeleton`` and ``romanize_katakana`` serve the
  katakana fallback (ディープシーク → ``dipushiku`` → ``dpsk`` ≈ DeepSeek).

Measurements behind these choices are in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import jaconv
import Stemmer
from sudachipy import Dictionary, SplitMode

__all__ = [
    "analyze",
    "analyze_to_text",
    "consonant_skeleton",
    "is_japanese",
    "normalize",
    "romanize_katakana",
    "squash",
]

# Characters that NFKC leaves alone but that users type for "-" (hyphen, non-breaking hyphen,
# figure dash, en dash, em dash, horizontal bar, minus sign, katakana-hiragana prolonged sound
# mark is NOT included: it is part of Japanese words).
_HYPHEN_RE = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d]")
_SPACES_RE = re.compile(r"\s+")
_JAPANESE_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶー・"
JAPANESE_RUN = rf"[{_JAPANESE_CHARS}]+"
_RUN_RE = re.compile(rf"({JAPANESE_RUN})|([^\W_{_JAPANESE_CHARS}]+)")
_JAPANESE_RE = re.compile(JAPANESE_RUN)
_KATAKANA_WORD_RE = re.compile(r"^[\u30a0-\u30ffー・]+$")
# Sudachi parts of speech that carry no content for search.
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

_stemmer_lock = threading.Lock()
_stemmer = Stemmer.Stemmer("english")
_sudachi_local = threading.local()


def normalize(text: str) -> str:
    """Fold ``text`` for matching: NFKC, unicode hyphens to ``-``, casefold, single spaces.

    ``"ＤｅｅｐＳｅｅｋ　ＧＰＴ‐5.2 "`` → ``"deepseek gpt-5.2"``. Returns ``""`` for blank input.
    """
    folded = unicodedata.normalize("NFKC", text)
    if _HYPHEN_RE.search(folded):
        folded = _HYPHEN_RE.sub("-", folded)
    return _SPACES_RE.sub(" ", folded.casefold()).strip()


def is_japanese(text: str) -> bool:
    """True when ``text`` contains any kana or kanji."""
    return _JAPANESE_RE.search(text) is not None


def _sudachi() -> object:
    tokenizer = getattr(_sudachi_local, "tokenizer", None)
    if tokenizer is None:
        dictionary = _dictionary()
        # sudachipy 0.7 renamed create() to tokenizer(); 0.6 has only create().
        make = getattr(dictionary, "tokenizer", None) or dictionary.create
        tokenizer = make(mode=SplitMode.C)
        _sudachi_local.tokenizer = tokenizer
    return tokenizer


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary(dict="small")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    with _stemmer_lock:
        stemmed: str = _stemmer.stemWord(word)
    return stemmed


@lru_cache(maxsize=50_000)
def _japanese_terms(run: str) -> tuple[str, ...]:
    tokenizer = _sudachi()
    terms: list[str] = []
    for morpheme in tokenizer.tokenize(run):  # type: ignore[attr-defined]
        if morpheme.part_of_speech()[0] in _DROPPED_POS:
            continue
        form = morpheme.normalized_form().casefold()
        if form and _JAPANESE_RE.search(form):
            terms.append(form)
    return tuple(terms)


_LATIN_TERMS: dict[str, str] = {}


def _latin_term(run: str) -> str:
    """The index term of a Latin or digit run: the stem of an ASCII word, else the run."""
    term = _LATIN_TERMS.get(run)
    if term is None:
        term = _stem(run) if run.isascii() and run.isalpha() else run
        if len(_LATIN_TERMS) < 500_000:
            _LATIN_TERMS[run] = term
    return term


def analyze(text: str) -> list[str]:
    """Return the index terms of ``text`` in order: stemmed English words, numbers, and
    Sudachi-normalized Japanese words (without particles and symbols).

    ``analyze("OpenAIが規制を発表、GPT-5.2 launched")`` →
    ``["openai", "規制", "発表", "gpt", "5", "2", "launch"]``.
    """
    terms: list[str] = []
    latin_terms = _LATIN_TERMS
    for japanese, latin in _RUN_RE.findall(normalize(text)):
        if japanese:
            terms.extend(_japanese_terms(japanese))
        else:
            terms.append(latin_terms.get(latin) or _latin_term(latin))
    return terms


def analyze_to_text(text: str) -> str:
    """``analyze`` joined by spaces: the form stored in the FTS5 table (``unicode61``
    tokenizer), so SQLite sees exactly the terms the Python side computed."""
    return " ".join(analyze(text))


def squash(text: str) -> str:
    """Lowercase letters and digits only, after ``normalize``: the key for fuzzy name
    matching (``"Claude Opus 4.6"`` → ``"claudeopus46"``)."""
    return "".join(ch for ch in normalize(text) if ch.isalnum())


def is_katakana_word(text: str) -> bool:
    """True for a word written only in katakana (and ー・)."""
    return bool(_KATAKANA_WORD_RE.match(text))


def romanize_katakana(text: str) -> str:
    """Hepburn-like romanization of katakana via jaconv (``ディープシーク`` → ``dipushiku``).
    Long-vowel marks and middle dots are dropped."""
    hiragana = jaconv.kata2hira(text.replace("ー", "").replace("・", ""))
    return str(jaconv.kana2alphabet(hiragana)).casefold()


_SKELETON_REPLACEMENTS = (("ph", "f"), ("th", "s"), ("sh", "s"), ("ch", "c"), ("l", "r"))


def consonant_skeleton(text: str) -> str:
    """Consonants of a squashed name after spelling folds (ph→f, th→s, l→r, c→k; vowels and
    doubled letters dropped), so a romanized katakana name and its Latin spelling meet:
    ``dipushiku`` and ``deepseek`` both give ``dpsk``."""
    word = squash(text)
    for old, new in _SKELETON_REPLACEMENTS:
        word = word.replace(old, new)
    word = word.replace("c", "k").replace("q", "k").replace("x", "ks").replace("v", "b")
    skeleton = re.sub(r"[aeiouyhw]", "", word)
    return re.sub(r"(.)\1+", r"\1", skeleton)


def japanese_morphemes(run: str) -> list[tuple[str, str, str]]:
    """Sudachi morphemes of a Japanese run as ``(surface, normalized form, part of
    speech)``; the normalized form is casefolded. Used by the query parser, which needs the
    part of speech to drop question words."""
    tokenizer = _sudachi()
    return [
        (m.surface(), m.normalized_form().casefold(), m.part_of_speech()[0])
        for m in tokenizer.tokenize(run)  # type: ignore[attr-defined]
    ]


def stem(word: str) -> str:
    """Snowball English stem of one lowercase word (``launches`` → ``launch``); words with
    digits or non-ASCII letters are returned unchanged."""
    return _stem(word) if word.isascii() and word.isalpha() else word
