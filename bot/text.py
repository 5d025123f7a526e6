"""Text normalization and tokenization shared by the index and the search.

One analyzer serves both sides so that a query term and an indexed term meet:

* ``normalize`` folds width (NFKC), case, unicode hyphens and odd spaces.
* ``analyze`` splits normalized text into script runs. Latin and digit runs become words
  stemmed with the Snowball English stemmer (``announced`` → ``announc``); runs of Japanese
  script go through Sudachi (small dictionary, split mode C, normalized form), which unifies
  spelling variants such as コンピューター/コンピュータ. Particles, auxiliaries and symbols
  are dropped.
* Names made of a letter and symbols, which the split into runs would reduce to one
  letter, are kept as terms of their own: ``C++`` → ``cplusplus``, ``C#`` → ``csharp``,
  ``F#`` → ``fsharp``, ``.NET`` → ``dotnet`` (``symbol_names``). Index and query both
  analyze through here, so both sides agree.
* Japanese runs longer than ``MAX_SUDACHI_CHARS`` are split (at a particle where one is
  near) before Sudachi, which refuses input over 49,149 bytes.
* Every term is one token of FTS5's ``unicode61`` tokenizer as the index configures it
  (``remove_diacritics 2``): a term that tokenizer would fold or split (``oréal`` →
  ``oreal``, ``a・b`` → ``a``, ``b``) is replaced by what it makes of it, asked of SQLite
  itself (``fts5_tokens``). So a term the analyzer gives is exactly a term of the index,
  and a phrase can be matched against the stored analyzed text in memory
  (``bot.forward_index``) with FTS5's result.
* ``analyzer_identity`` names everything the terms depend on (this module's source, the
  SudachiPy, dictionary and PyStemmer versions); the index stores it and a change forces a
  full rebuild.
* ``squash`` reduces a name to lowercase letters and digits for fuzzy matching
  (``GPT‐5.2`` → ``gpt52``); ``consonant_skeleton`` and ``romanize_katakana`` serve the
  katakana fallback (ディープシーク → ``dipushiku`` → ``dpsk`` ≈ DeepSeek).

Measurements behind these choices are in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import jaconv
import Stemmer
from sudachipy import Dictionary, SplitMode

__all__ = [
    "MAX_SUDACHI_CHARS",
    "analyze",
    "analyze_to_text",
    "analyzer_identity",
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
_JAPANESE_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶー・"
JAPANESE_RUN = rf"[{_JAPANESE_CHARS}]+"
_RUN_RE = re.compile(rf"({JAPANESE_RUN})|([^\W_{_JAPANESE_CHARS}]+)")
_LATIN_RUN_RE = re.compile(rf"[^\W_{_JAPANESE_CHARS}]+")
_JAPANESE_RE = re.compile(JAPANESE_RUN)
_KATAKANA_WORD_RE = re.compile(r"^[\u30a0-\u30ffー・]+$")
# Sudachi parts of speech that carry no content for search.
_DROPPED_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

# A letter followed by "++" or "#" (C++, C#, F#, Q#) and ".NET", in normalized (casefolded)
# text; ASCII-only look-arounds, so "でC#を" matches and "ASP.NET", "a.net" or "#c" do not.
_SYMBOL_NAME_RE = re.compile(r"(?<![a-z0-9_.+#])(?:([a-z])(\+\+|#)(?![a-z_+#])|\.net(?![a-z0-9_]))")
_SYMBOL_WORDS = {"++": "plusplus", "#": "sharp"}

#: Longest Japanese run (characters) analyzed by Sudachi at once. Sudachi refuses input
#: over 49,149 bytes ("Input is too long"; sudachi.rs ``MAX_LENGTH``), and a kana or kanji
#: takes 3 bytes in UTF-8: 4,000 characters stay far below it.
MAX_SUDACHI_CHARS = 4_000
# How far back from the limit a split looks for the end of a hiragana run (a particle or
# an inflection) followed by kanji or katakana, where a word most likely starts.
_SPLIT_LOOKBACK = 200
_HIRAGANA_RE = re.compile("[\u3040-\u309f]")

# Characters of a term that FTS5's unicode61 tokenizer keeps as they are without a doubt:
# lowercase ASCII letters and digits, kana, the prolonged sound and iteration marks, kanji.
# A term with any other character is tokenized by SQLite (``fts5_tokens``).
_PLAIN_JAPANESE = (
    "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆"
)
_PLAIN_TERM_RE = re.compile(f"[a-z0-9{_PLAIN_JAPANESE}]+")
_PLAIN_JAPANESE_TERM_RE = re.compile(f"[{_PLAIN_JAPANESE}]+")
_fts_local = threading.local()

_stemmer_lock = threading.Lock()
_stemmer = Stemmer.Stemmer("english")
_sudachi_local = threading.local()
#: The Sudachi word fields the analysis reads (surface and out-of-vocabulary flags are
#: always there): https://worksapplications.github.io/sudachi.rs/python/topics/subsetting.html
SUDACHI_FIELDS = frozenset({"pos", "normalized_form"})


def normalize(text: str) -> str:
    """Fold ``text`` for matching: NFKC, unicode hyphens to ``-``, casefold, single spaces.

    ``"ＤｅｅｐＳｅｅｋ　ＧＰＴ‐5.2 "`` → ``"deepseek gpt-5.2"``. Returns ``""`` for blank input.
    """
    folded = unicodedata.normalize("NFKC", text)
    if _HYPHEN_RE.search(folded):
        folded = _HYPHEN_RE.sub("-", folded)
    # str.split() splits on exactly the whitespace of ``\s``; cheaper than a regex.
    return " ".join(folded.casefold().split())


def is_japanese(text: str) -> bool:
    """True when ``text`` contains any kana or kanji."""
    return _JAPANESE_RE.search(text) is not None


def _sudachi() -> object:
    tokenizer = getattr(_sudachi_local, "tokenizer", None)
    if tokenizer is None:
        dictionary = _dictionary()
        # sudachipy 0.7 renamed create() to tokenizer(); 0.6 has only create().
        make = getattr(dictionary, "tokenizer", None) or dictionary.create
        # Only the fields read (``_japanese_terms``, ``morphemes``): Sudachi then decodes
        # less of each word's entry (about a tenth of its time in a build).
        tokenizer = make(mode=SplitMode.C, fields=set(SUDACHI_FIELDS))
        _sudachi_local.tokenizer = tokenizer
    return tokenizer


def symbol_names(normalized: str) -> str:
    """Replace names made of a letter and symbols in ``normalized`` text (see
    ``normalize``) by a word the run split keeps: ``"c++ and c#"`` → ``" cplusplus  and
    csharp "``, ``".net"`` → ``" dotnet "``. Text without ``++``, ``#`` or ``.net`` is
    returned as it is."""
    if "++" not in normalized and "#" not in normalized and ".net" not in normalized:
        return normalized
    return _SYMBOL_NAME_RE.sub(_symbol_word, normalized)


def _symbol_word(match: re.Match[str]) -> str:
    if match.group(1) is None:
        return " dotnet "
    return f" {match.group(1)}{_SYMBOL_WORDS[match.group(2)]} "


def _sudachi_chunks(run: str) -> Iterator[str]:
    """``run`` in pieces of at most ``MAX_SUDACHI_CHARS`` characters, each cut after a
    hiragana character followed by another script where one is near the limit."""
    while len(run) > MAX_SUDACHI_CHARS:
        cut = MAX_SUDACHI_CHARS
        for position in range(MAX_SUDACHI_CHARS, MAX_SUDACHI_CHARS - _SPLIT_LOOKBACK, -1):
            if _HIRAGANA_RE.match(run[position - 1]) and not _HIRAGANA_RE.match(run[position]):
                cut = position
                break
        yield run[:cut]
        run = run[cut:]
    yield run


@lru_cache(maxsize=1)
def _dictionary() -> Dictionary:
    return Dictionary(dict="small")


@lru_cache(maxsize=1)
def _dropped_pos_ids() -> frozenset[int]:
    """Sudachi part-of-speech ids whose first level is in ``_DROPPED_POS``
    (``Dictionary.pos_of`` gives None past the last id)."""
    dictionary = _dictionary()
    dropped = set()
    pos_id = 0
    while (pos := dictionary.pos_of(pos_id)) is not None:
        if pos[0] in _DROPPED_POS:
            dropped.add(pos_id)
        pos_id += 1
    return frozenset(dropped)


def is_plain_term(term: str) -> bool:
    """True when FTS5's unicode61 tokenizer reads ``term`` as exactly itself (lowercase
    ASCII letters and digits, kana and kanji): no need to ask SQLite."""
    return _PLAIN_TERM_RE.fullmatch(term) is not None


def fts5_tokens(term: str) -> tuple[str, ...]:
    """The tokens FTS5's ``unicode61 remove_diacritics 2`` tokenizer (the index's) makes of
    ``term``: ``"oréal"`` → ``("oreal",)``, ``"a・b"`` → ``("a", "b")``, ``"・"`` → ``()``.
    Plain terms (``is_plain_term``) are returned as they are; others are tokenized by
    SQLite itself (an in-memory FTS5 table per thread and process), so the answer is the
    index's own."""
    if is_plain_term(term):
        return (term,)
    return _fts5_tokens(term)


@lru_cache(maxsize=4096)
def _fts5_tokens(term: str) -> tuple[str, ...]:
    connection = getattr(_fts_local, "connection", None)
    if connection is None or getattr(_fts_local, "pid", None) != os.getpid():
        connection = sqlite3.connect(":memory:")
        connection.execute(
            "CREATE VIRTUAL TABLE tokens USING fts5(term, tokenize='unicode61 remove_diacritics 2')"
        )
        connection.execute("CREATE VIRTUAL TABLE token_rows USING fts5vocab(tokens, instance)")
        _fts_local.connection, _fts_local.pid = connection, os.getpid()
    with connection:
        connection.execute("DELETE FROM tokens")
        connection.execute("INSERT INTO tokens(rowid, term) VALUES (1, ?)", [term])
        rows = connection.execute("SELECT term FROM token_rows ORDER BY offset").fetchall()
    return tuple(str(token) for (token,) in rows)


# Latin runs keep their terms in ``_LATIN_TERMS``; this cache serves the word lists'
# lookups (``stem``), a few thousand distinct words.
@lru_cache(maxsize=2_048)
def _stem(word: str) -> str:
    with _stemmer_lock:
        stemmed: str = _stemmer.stemWord(word)
    return stemmed


# Terms of Japanese and of Latin runs, by run (Sudachi is most of the analysis, and runs
# repeat): dicts emptied when they reach the limit, so memory stays bounded. A query
# process keeps small ones (about a megabyte; its messages rarely repeat a run beyond the
# few popular queries); a build raises the limit (``set_run_cache_limit``).
QUERY_RUN_CACHE = 1_000
_RUN_TERMS: dict[str, tuple[str, ...]] = {}
_LATIN_TERMS: dict[str, str] = {}
_run_terms_limit = QUERY_RUN_CACHE


def set_run_cache_limit(runs: int) -> int:
    """Keep the terms of up to ``runs`` Japanese runs, and as many Latin runs (at least
    four times QUERY_RUN_CACHE), in memory (default QUERY_RUN_CACHE: a query process; an
    index build, whose runs repeat across documents, raises it). Returns the previous
    limit; a lower limit empties the caches."""
    global _run_terms_limit
    previous, _run_terms_limit = _run_terms_limit, max(0, runs)
    if _run_terms_limit < previous:
        _RUN_TERMS.clear()
        _LATIN_TERMS.clear()
    return previous


def _japanese_run_terms(run: str) -> tuple[str, ...]:
    terms = _RUN_TERMS.get(run)
    if terms is None:
        if len(run) <= MAX_SUDACHI_CHARS:
            terms = _japanese_terms(run)
        else:
            terms = tuple(term for chunk in _sudachi_chunks(run) for term in _japanese_terms(chunk))
        if len(_RUN_TERMS) >= _run_terms_limit:
            _RUN_TERMS.clear()
        _RUN_TERMS[run] = terms
    return terms


def _japanese_terms(run: str) -> tuple[str, ...]:
    dropped = _dropped_pos_ids()
    terms: list[str] = []
    for morpheme in _sudachi().tokenize(run):  # type: ignore[attr-defined]
        if morpheme.part_of_speech_id() in dropped:
            continue
        form = morpheme.normalized_form()
        if _PLAIN_JAPANESE_TERM_RE.fullmatch(form):
            terms.append(form)
            continue
        form = form.casefold()
        if form and _JAPANESE_RE.search(form):
            terms.extend(fts5_tokens(form))
    return tuple(terms)


def _latin_term(run: str) -> str:
    """The index term of a Latin or digit run: the stem of an ASCII word, else the run as
    FTS5 tokenizes it (``oréal`` → ``oreal``; kept whole if that would not be one token)."""
    term = _LATIN_TERMS.get(run)
    if term is None:
        if run.isascii():
            term = _stem(run) if run.isalpha() else run
        else:
            tokens = fts5_tokens(run)
            term = tokens[0] if len(tokens) == 1 else run
        if len(_LATIN_TERMS) >= max(_run_terms_limit, 4 * QUERY_RUN_CACHE):
            _LATIN_TERMS.clear()
        _LATIN_TERMS[run] = term
    return term


def analyze(text: str) -> list[str]:
    """Return the index terms of ``text`` in order: stemmed English words, numbers, and
    Sudachi-normalized Japanese words (without particles and symbols).

    ``analyze("OpenAIが規制を発表、GPT-5.2 launched")`` →
    ``["openai", "規制", "発表", "gpt", "5", "2", "launch"]``; ``analyze("C++ and C#")`` →
    ``["cplusplus", "and", "csharp"]``.
    """
    normalized = symbol_names(normalize(text))
    latin_terms = _LATIN_TERMS
    if not _JAPANESE_RE.search(normalized):
        return [
            latin_terms.get(run) or _latin_term(run) for run in _LATIN_RUN_RE.findall(normalized)
        ]
    terms: list[str] = []
    for japanese, latin in _RUN_RE.findall(normalized):
        if japanese:
            terms.extend(_japanese_run_terms(japanese))
        else:
            terms.append(latin_terms.get(latin) or _latin_term(latin))
    return terms


def analyze_to_text(text: str) -> str:
    """``analyze`` joined by spaces: the form stored in the FTS5 table (``unicode61``
    tokenizer), so SQLite sees exactly the terms the Python side computed."""
    return " ".join(analyze(text))


# Everything ``str.isalnum`` refuses: ``\w`` is exactly alphanumerics and "_" (both use
# CPython's Py_UNICODE_ISALNUM), so one C-level substitution does a character loop's work.
_NOT_ALPHANUMERIC_RE = re.compile(r"[\W_]+")


def squash(text: str) -> str:
    """Lowercase letters and digits only, after ``normalize``: the key for fuzzy name
    matching (``"Claude Opus 4.6"`` → ``"claudeopus46"``)."""
    return _NOT_ALPHANUMERIC_RE.sub("", normalize(text))


def is_katakana_word(text: str) -> bool:
    """True for a word written only in katakana (and ー・)."""
    return bool(_KATAKANA_WORD_RE.match(text))


def romanize_katakana(text: str) -> str:
    """Hepburn-like romanization of katakana via jaconv (``ディープシーク`` → ``dipushiku``).
    Long-vowel marks and middle dots are dropped."""
    hiragana = jaconv.kata2hira(text.replace("ー", "").replace("・", ""))
    return str(jaconv.kana2alphabet(hiragana)).casefold()


_SKELETON_REPLACEMENTS = (("ph", "f"), ("th", "s"), ("sh", "s"), ("ch", "c"), ("l", "r"))
_SKELETON_VOWELS_RE = re.compile(r"[aeiouyhw]+")
_SKELETON_DOUBLES_RE = re.compile(r"(.)\1+")


def consonant_skeleton(text: str) -> str:
    """Consonants of a squashed name after spelling folds (ph→f, th→s, l→r, c→k, z→s, j/dj/dg→g;
    vowels and doubled letters dropped), so a romanized katakana name and its Latin spelling meet:
    ``dipushiku`` and ``deepseek`` both give ``dpsk``."""
    word = squash(text)
    for old, new in _SKELETON_REPLACEMENTS:
        word = word.replace(old, new)
    word = word.replace("c", "k").replace("q", "k").replace("x", "ks").replace("v", "b")
    # An English plural "s" sounds z (Labs is ラボズ); a soft g is written ジ (Merge is
    # マージ, Gemini ジェミニ, Fidji and Edge フィジ and エッジ: dj and dg sound j).
    word = word.replace("z", "s").replace("dj", "g").replace("dg", "g").replace("j", "g")
    skeleton = _SKELETON_VOWELS_RE.sub("", word)
    return _SKELETON_DOUBLES_RE.sub(r"\1", skeleton)


class Morpheme(NamedTuple):
    """One Sudachi morpheme: ``surface`` as written, ``normalized`` form (casefolded),
    ``pos`` the part-of-speech tuple (``("名詞", "固有名詞", "人名", "姓", "*", "*")``) and
    ``oov`` when the dictionary does not know the word."""

    surface: str
    normalized: str
    pos: tuple[str, ...]
    oov: bool


def japanese_morphemes(run: str) -> list[Morpheme]:
    """Sudachi morphemes of a Japanese run (split mode C). Used by the query parser, which
    needs the part of speech to drop question words and to find names, and by answer
    extraction, which looks for people, places and organizations."""
    tokenizer = _sudachi()
    return [
        Morpheme(m.surface(), m.normalized_form().casefold(), tuple(m.part_of_speech()), m.is_oov())
        for chunk in _sudachi_chunks(run)
        for m in tokenizer.tokenize(chunk)  # type: ignore[attr-defined]
    ]


def reading_cost_per_character(word: str) -> float:
    """The cost of Sudachi's best reading of ``word`` (its lattice path: connection and
    word costs, ``MorphemeList.get_internal_cost``) per character: how hard ``word`` is to
    read as Japanese. Hiragana chatter stays under about 2,000 (``どうなった`` 1,737,
    ``について`` 879); a foreign name spelled in hiragana goes above 3,000 (``べぞす``
    5,836, ``ぷろめてうす`` 6,270), read as a string of single kana. 0.0 for ``""``."""
    if not word:
        return 0.0
    cost: int = _sudachi().tokenize(word).get_internal_cost()  # type: ignore[attr-defined]
    return cost / len(word)


def is_dictionary_word(word: str) -> bool:
    """True when Sudachi reads ``word`` as one word its dictionary knows (``ほんと``,
    ``すごい``), so it is Japanese and not a name spelled in kana."""
    morphemes = japanese_morphemes(word)
    return len(morphemes) == 1 and not morphemes[0].oov


def stem(word: str) -> str:
    """Snowball English stem of one lowercase word (``launches`` → ``launch``); words with
    digits or non-ASCII letters are returned unchanged."""
    return _stem(word) if word.isascii() and word.isalpha() else word


def dictionary_file() -> Path:
    """The Sudachi system dictionary the analyzer maps (sudachidict-small's
    ``system.dic``, about 115 MB)."""
    import sudachidict_small

    return Path(sudachidict_small.__file__).parent / "resources" / "system.dic"


def _distribution_version(name: str) -> str:
    from importlib import metadata  # only to name the analyzer (an index build)

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


@lru_cache(maxsize=1)
def analyzer_identity() -> dict[str, str]:
    """Everything the terms of ``analyze`` depend on, as ``{component: version}``:

    * ``analyzer``: SHA-256 (16 hex digits) of this module's source, which holds every rule
      of the analysis (normalization, symbol names, run split, dropped parts of speech);
    * ``sudachipy``, ``pystemmer``: the installed versions;
    * ``dictionary``: the sudachidict-small version and a SHA-256 of the dictionary file's
      header (its format version, build time and description), so a replaced file counts.

    The index stores this; any difference means its contentless FTS rows can no longer be
    deleted term for term, so the index is rebuilt in full (``bot.index``). The project's
    other data files (aliases, glossary) shape queries only and are not part of it.
    """
    source = Path(__file__).read_bytes()
    try:
        with dictionary_file().open("rb") as dictionary:
            header = hashlib.sha256(dictionary.read(4096)).hexdigest()[:16]
    except (OSError, ImportError):
        header = "unreadable"
    return {
        "analyzer": hashlib.sha256(source).hexdigest()[:16],
        "sudachipy": _distribution_version("SudachiPy"),
        "dictionary": f"sudachidict-small {_distribution_version('sudachidict-small')} {header}",
        "pystemmer": _distribution_version("PyStemmer"),
    }
