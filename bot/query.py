"""Turn what a user typed into a search plan: concepts with roles, a period, a recency wish.

A *concept* is one thing the message mentions ("DeepSeek", "規制", "Claude Opus 4.6",
"news"). It has one or more *alternatives*: FTS5 phrases (sequences of analyzed terms)
that count as finding it, namely the user's own spelling, a corrected spelling of a
misspelled name, the Latin name of a katakana or hiragana spelling or of a nickname, or a
translation from the domain glossary. Each concept also has a *role* that decides how
much it weighs when a story is scored (``bot.ranking``):

* ``entity``: a name — of the index's vocabulary, or written like a name (capitals,
  letters and digits, a version after a name) even when the corpus lacks it, so that a
  question about something the corpus does not know is not answered with a neighbour;
* ``topic``: any other word the corpus knows;
* ``context``: chat filler, reactions and words that only ask for news (``anyone``,
  ``update``, ``のニュース``, ``マジ``; ``bot/data/lexicon.toml``); weighed lightly and
  never required;
* ``unknown``: an ordinary word the corpus never uses ("vegetable", "ごめん"): it lowers
  every story's coverage alike, lightly.

Before planning, ``bot.message.clean_message`` removes Discord markup, links and emoji;
``bot.periods.parse_period`` takes out a period (months, quarters, halves, seasons, eras,
relative phrases) resolved against ``as_of``.

The rules here are about kinds of query, and the data (``bot/data/aliases.toml``,
``bot/data/glossary.toml``, ``bot/data/lexicon.toml``) about the language and the domain.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import pairwise

from bot import fuzzy_index, text
from bot.lexicon import lexicon
from bot.message import clean_message
from bot.periods import DateRange, parse_period
from bot.vocabulary import (
    FUZZY_POOL_LIMIT,
    KANJI_RE,
    Entity,
    EntityVocabulary,
    hiragana_names,
    known_name,
    mixed_script_names,
    nickname,
)

__all__ = [
    "FUZZY_POOL_LIMIT",
    "ROLE_WEIGHTS",
    "UNKNOWN_WORD_WEIGHT",
    "Alternative",
    "Concept",
    "DateRange",
    "Entity",
    "EntityVocabulary",
    "QueryPlan",
    "glossary",
    "plan_query",
]

# A word the corpus never uses and that is not written like a name ("vegetable", "ごめん")
# weighs like this share of an unknown name: it lowers every story's coverage alike.
UNKNOWN_WORD_WEIGHT = 0.3
# How much a concept's idf counts, by role (see the module docstring).
ROLE_WEIGHTS = {"entity": 1.5, "topic": 1.0, "context": 0.15, "unknown": UNKNOWN_WORD_WEIGHT}
# A single-word entity counts as a name (not a common word that is also a tag, such as
# "Coding") when its documents are at most this many times the stories that name it.
PROPER_NAME_SPREAD = 3.0

# Sudachi parts of speech that never carry a topic in a query.
_DROPPED_QUERY_POS = frozenset(
    {"助詞", "助動詞", "補助記号", "記号", "空白", "代名詞", "接尾辞", "接頭辞", "感動詞", "接続詞"}
)
_SYMBOL_POS = frozenset({"補助記号", "記号"})
_LATIN_UNIT = r"\.?[a-z0-9]+(?:[.\-+'][a-z0-9]+)*[+#]*"  # C++, C#, .NET whole
_QUERY_UNIT_RE = re.compile(rf"{text.JAPANESE_RUN}|{_LATIN_UNIT}")
_TYPED_WORD_RE = re.compile(r"\.?[A-Za-z0-9]+(?:[.\-+'][A-Za-z0-9]+)*[+#]*")
# What makes the number after it a rank: "#1", "no. 1", "number 1", "第1位".
_RANK_BEFORE_RE = re.compile(r"(?:#|\bno\.?|\bnumber|第)\s*$")
# What makes the number before it an amount: "4 trillion", "30 percent", "2 hours".
_MAGNITUDE_AFTER_RE = re.compile(
    r"\s*(?:thousand|million|billion|trillion|percent|"
    r"(?:second|minute|hour|day|week|month|year|time)s?)\b"
)
# An amount written short, as in "$10B", "4T", "500M", "200k" (number, then the magnitude's
# letter), and what each letter multiplies by.
_SHORT_AMOUNT_RE = re.compile(r"^(\d+(?:\.\d+)?)([kmbt])$")
_SHORT_MAGNITUDES = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}
_ENGLISH_MAGNITUDES = ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand"))
_JAPANESE_MAGNITUDES = ((1e12, "兆"), (1e8, "億"), (1e4, "万"))
# A version after a name: 4, 3.5, 2.0, 4o, r1, v3, o3, k2 (not amounts such as 10b, 200k).
_VERSION_RE = re.compile(r"^(?:v?\d{1,2}(?:\.\d+){0,2}o?|[a-z]\d{1,2}(?:\.\d+)?)$")
_LETTERS_THEN_VERSION_RE = re.compile(r"^([a-z]{2,})(\d+(?:\.\d+)*)$")
# A version with a letter, which people use as a model's name: 4o, o3, r1, k2 (not 10b).
_MODEL_TOKEN_RE = re.compile(r"\d{1,2}o|[a-z]\d{1,2}")
_POSSESSIVE_RE = re.compile(r"'s$")
_JOINED_NAME_RE = re.compile(r"[a-z]{2,}\.[a-z]{2,}", re.IGNORECASE)
_KANA_WORD_RE = re.compile(r"^[ぁ-ゖァ-ヺー]{3,}$")
# Ordinals and amounts written with a unit are not names: 8th, 4t, 10b, 200k, 3x, 5gb.
_AMOUNT_RE = re.compile(
    r"^[~$]?\d+(?:[.,]\d+)*(?:st|nd|rd|th|k|m|b|bn|t|x|gb|tb|ms|s|h|yr)\+?$"  # 13B+, ~200k
)
# Where a sentence of a message ends: its words are weighed by whether it names something.
_SENTENCE_END_RE = re.compile(r"[.!?。！？]+(?=\s|$)|[。！？]")
# A message of this many names and topic words is a long one (see _focus_long_message).
LONG_MESSAGE_CONCEPTS = 6
_HOW_MUCH_RE = re.compile(r"\bhow (?:many|much|large|big|far|long|fast|high|low|old|often)\b")


@lru_cache(maxsize=1)
def _query_unit_pattern() -> re.Pattern[str]:
    """Query words: multi-word English phrases of the glossary first (``go public``, ``data
    center``: one concept each, translated as a whole), then Japanese runs, then Latin
    words."""
    phrases = [p for p in _glossary_table() if " " in p]
    alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b|{_QUERY_UNIT_RE.pattern}")


@dataclass(frozen=True)
class Alternative:
    """An FTS5 phrase that counts as finding a concept: ``terms`` are analyzed terms (in
    order, adjacent), ``how`` says where it came from (``exact``, ``entity``, ``typo``,
    ``katakana``, ``nickname``, ``translation``), ``trust`` in (0, 1] scales the concept's
    weight when only this alternative matches."""

    terms: tuple[str, ...]
    how: str = "exact"
    trust: float = 1.0
    near: bool = False
    near_distance: int = 0

    def near_window(self) -> int:
        """For a ``near`` alternative, the most tokens allowed between its first and last
        terms: ``near_distance``, or else twice the number of terms (at least 3)."""
        return self.near_distance or max(3, 2 * len(self.terms))

    def fts(self) -> str:
        """The alternative as an FTS5 expression: a phrase in double quotes (inner quotes
        doubled), or with ``near`` each term quoted inside ``NEAR(…, N)`` where N is
        ``near_window()``."""
        if self.near:
            quoted = " ".join('"' + t.replace('"', '""') + '"' for t in self.terms)
            return f"NEAR({quoted}, {self.near_window()})"
        return '"' + " ".join(self.terms).replace('"', '""') + '"'


@dataclass
class Concept:
    """One thing the message mentions: ``label`` as typed, its alternatives, its ``role``
    (``entity``, ``topic`` or ``context``), and ``importance``, a factor on its weight
    (0.5 for the verb of a Japanese question: 入る, 始まる say little about which story is
    meant). ``version`` is set for a name with a version (``Claude Opus 4.5``), and
    ``unversioned`` then holds the name's own alternatives, which find its other
    versions. ``person`` marks a name of several words each typed with a capital, as people
    write a person's name ("Lisa Su"): quoted in stories about something else, a person
    is still found by their mentions."""

    label: str
    alternatives: list[Alternative]
    latin: bool = True
    importance: float = 1.0
    role: str = "topic"
    version: str | None = None
    unversioned: list[Alternative] = field(default_factory=list)
    sentence: int = 0
    person: bool = False

    def add(self, alternative: Alternative) -> None:
        """Add an alternative unless the same terms are already there."""
        same = (
            (a.terms, a.near) == (alternative.terms, alternative.near) for a in self.alternatives
        )
        if alternative.terms and not any(same):
            self.alternatives.append(alternative)


@dataclass
class QueryPlan:
    """The parsed message: ``concepts`` to find, an optional ``date_range``, ``recency``
    when the user asked for the latest, ``corrections`` ``(typed, linked name)``,
    ``unknown`` labels the index lacks entirely, and ``missing_versions``: names with a
    version the corpus does not have (``Sora 4`` when only Sora 2 is known)."""

    original: str
    normalized: str
    concepts: list[Concept] = field(default_factory=list)
    date_range: DateRange | None = None
    recency: bool = False
    corrections: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    missing_versions: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _glossary_table() -> dict[str, list[str]]:
    raw = resources.files("bot").joinpath("data", "glossary.toml").read_bytes()
    terms: dict[str, list[str]] = tomllib.loads(raw.decode("utf-8"))["terms"]
    return terms


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """The bilingual glossary as analyzed term tuples, in both directions:
    ``glossary()[("regul",)]`` → ``[("規制",)]``."""
    mapping: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for english, japanese_words in _glossary_table().items():
        source = tuple(text.analyze(english))
        for japanese in japanese_words:
            target = tuple(text.analyze(japanese))
            if not source or not target:
                continue
            mapping.setdefault(source, []).append(target)
            mapping.setdefault(target, []).append(source)
    return mapping


@dataclass
class _Unit:
    """A word of the query: its surface, analyzed terms, script, part of speech (Japanese),
    the katakana spelling it was linked from, how it was linked (``named``: ``alias``,
    ``transliteration``, ``nickname``), whether it is a proper noun (Japanese), and
    ``gap_before`` when Japanese particles stand between it and the word before it (a name
    never spans them: ``SiriってGemini`` is two names), and the ``sentence`` it stands in
    (0 for the first), and the English stopwords typed right before it (``for`` before
    ``teachers`` in "ChatGPT for Teachers"), which a name may hold."""

    surface: str
    terms: tuple[str, ...]
    latin: bool
    japanese_pos: str = ""
    katakana: tuple[str, ...] = ()
    named: str = ""
    proper: bool = False
    typed: str = ""
    quantity: bool = False
    gap_before: bool = False
    sentence: int = 0
    stopwords_before: str = ""

    def is_version(self) -> bool:
        """Written like a version (4, 3.5, 4o, r1), not a quantity with a counter or a
        unit, and right after the word before it ("ChatGPT after 2 hours": no version)."""
        return (
            not self.quantity
            and not self.stopwords_before
            and _VERSION_RE.match(self.surface) is not None
        )


DocumentFrequency = Callable[[tuple[str, ...]], int]


def _japanese_units(
    chunk: str,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    plan: QueryPlan,
) -> tuple[list[_Unit], bool]:
    """Words of a Japanese run, and whether dropped words (particles, stopwords) end it.
    Names written in hiragana are read as katakana first; adjacent katakana morphemes are
    one word (モルト+ブック); a katakana word that names something (alias table, or
    transliteration when the corpus lacks the word) becomes a Latin unit. Adjacent nouns
    form one compound unit (天気+予報), matched as a phrase or, with less trust, as nearby
    words. Stopwords and particles are dropped."""
    words = lexicon()
    grouped: list[tuple[str, tuple[str, ...], str, bool]] = []

    def known_katakana(word: str) -> bool:
        return len(word) >= 3 and document_frequency(tuple(text.analyze(word))) > 0

    for morpheme in text.japanese_morphemes(hiragana_names(chunk, vocabulary, known_katakana)):
        surface, form, pos = morpheme.surface, morpheme.normalized, morpheme.pos[0]
        proper = len(morpheme.pos) > 1 and morpheme.pos[1] == "固有名詞"
        if grouped and text.is_katakana_word(surface) and text.is_katakana_word(grouped[-1][0]):
            previous_surface, previous_terms, previous_pos, previous_proper = grouped[-1]
            # A middle dot between katakana words (ニューヨーク・タイムズ) is written, not
            # searched: the analyzer drops it, so it adds to the surface and no term.
            if previous_pos in _SYMBOL_POS:
                previous_terms, previous_proper = (), proper
            if pos in _SYMBOL_POS:
                grouped[-1] = (
                    previous_surface + surface,
                    previous_terms,
                    previous_pos,
                    previous_proper,
                )
            else:
                grouped[-1] = (
                    previous_surface + surface,
                    (*previous_terms, form),
                    "名詞",
                    previous_proper,
                )
        else:
            grouped.append((surface, (form,), pos, proper))
    units: list[_Unit] = []
    joinable = False
    gap = False
    for surface, terms, pos, proper in grouped:
        if text.is_katakana_word(surface) and len(surface) >= 2:
            found = vocabulary.katakana_name(surface.replace("・", ""))
            known = document_frequency(terms) > 0
            if found is not None and (found[1] == "alias" or not known):
                katakana = terms if known else ()
                latin_terms = tuple(text.analyze(found[0]))
                units.append(
                    _Unit(
                        found[0],
                        latin_terms,
                        latin=True,
                        katakana=katakana,
                        named=found[1],
                        gap_before=gap,
                    )
                )
                plan.corrections.append((surface, found[0]))
                joinable = gap = False
                continue
        content = (
            pos not in _DROPPED_QUERY_POS
            and not any(words.is_stopword(t) for t in terms)
            and all(text.is_japanese(t) for t in terms)
        )
        if not content:
            joinable = False
            gap = True
            continue
        if pos == "名詞" and joinable and len(units[-1].terms) < 4:
            last = units[-1]
            units[-1] = _Unit(
                last.surface + surface,
                (*last.terms, *terms),
                False,
                "名詞",
                proper=last.proper,
                gap_before=last.gap_before,
            )
        else:
            units.append(
                _Unit(surface, terms, latin=False, japanese_pos=pos, proper=proper, gap_before=gap)
            )
        joinable = pos == "名詞" and not any(words.is_context(t) for t in terms)
        gap = False
    return units, gap


def _typed_forms(cleaned: str) -> tuple[dict[str, str], set[str]]:
    """Latin words of the cleaned message as typed, by their normalized form (the first
    spelling wins), so capitals are still known after normalization; and the normalized
    words typed with a capital inside a sentence (``UK Online Safety Act``, ``Brave Leo``), or
    anywhere in a search of a few words: the first word of a sentence is capitalized by
    grammar, not because it is a name."""
    forms: dict[str, str] = {}
    capitalized: set[str] = set()
    # A few words are a search, not a sentence: a capital there is no grammar either.
    search_like = len(_TYPED_WORD_RE.findall(cleaned)) <= 4
    for match in _TYPED_WORD_RE.finditer(cleaned):
        word = match.group(0)
        normalized = text.normalize(word)
        forms.setdefault(normalized, word)
        before = cleaned[: match.start()].rstrip()
        sentence_start = not before or before[-1] in ".!?。！？:：\n"
        # In Japanese text no word is capitalized by grammar: "Mistralは" is a name.
        in_japanese = text.is_japanese(cleaned[match.end() : match.end() + 1])
        grammar = sentence_start and not in_japanese and not search_like
        if word.lstrip(".")[:1].isupper() and not grammar:
            capitalized.add(normalized)
    return forms, capitalized


def _looks_like_a_name(typed: str) -> bool:
    """A word written like a name: capitalized or in capitals (``Leo``, ``NTT``), letters
    and digits mixed (``R2``, ``K2``), or words joined by a dot (``character.ai``)."""
    if not typed or _AMOUNT_RE.match(typed.casefold()):
        return False
    has_digit = any(ch.isdigit() for ch in typed)
    has_alpha = any(ch.isalpha() for ch in typed)
    joined = _JOINED_NAME_RE.search(typed) is not None  # character.ai, node.js
    return typed.lstrip(".")[:1].isupper() or (has_digit and has_alpha) or joined


def plan_query(
    query: str,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    japanese_terms: Callable[[], Sequence[str]] | None = None,
    katakana_spellings: Callable[[str], Sequence[str]] | None = None,
    *,
    as_of: dt.date | None = None,
    periods: bool = True,
    alternative_frequency: Callable[[Alternative], int] | None = None,
) -> QueryPlan:
    """Parse ``query`` (a message as typed) into a ``QueryPlan``.

    Steps: clean Discord markup, links and emoji; normalize; take out a period (resolved
    against ``as_of``, default today; skipped when ``periods`` is false) and recency words;
    split into words (Sudachi for Japanese, names in hiragana and katakana linked to Latin
    names; English stopwords dropped; nicknames and tickers linked); join adjacent Latin
    words that form a known name (exactly, or fuzzily when a word is unknown: ``claude
    opsu 4.6`` → ``Claude Opus 4.6``) with the version that follows; correct other
    unknown words against the vocabulary; give every concept its role; add glossary
    translations, and katakana words of the corpus that sound like an English word
    (``katakana_spellings``: ``california`` → ``カリフォルニア``). ``document_frequency``
    answers how many documents hold a phrase, ``alternative_frequency`` how many match an
    alternative (NEAR groups included; default: its phrase). Never raises on user text.
    """
    cleaned = clean_message(query)
    typed_forms, capitalized = _typed_forms(cleaned)
    normalized = text.normalize(cleaned)
    plan = QueryPlan(original=query, normalized=normalized)
    rest, mixed = mixed_script_names(normalized)
    plan.corrections.extend(mixed)
    if periods:
        plan.date_range, rest = parse_period(rest, as_of)
    words = lexicon()
    kept = []
    for word in rest.split(" "):
        if word.strip("!?.,？！。、") in words.recency:
            plan.recency = True
        else:
            kept.append(word)
    rest = _HOW_MUCH_RE.sub(" ", " ".join(kept))
    for recency_word in ("最新", "最近"):
        if recency_word in rest:
            plan.recency = True
            rest = rest.replace(recency_word, " ")

    units: list[_Unit] = []
    gap = False
    stopwords: list[str] = []
    for match in _query_unit_pattern().finditer(rest):
        chunk = match.group(0)
        sentence = len(_SENTENCE_END_RE.findall(rest, 0, match.start()))
        # A number with a counter (1枚, 3年, 10億) or a percent sign is a quantity, and one
        # after "#" or "no." a rank ("was #1", "No. 1 app"): never a version.
        quantity = chunk[-1].isdigit() and (
            KANJI_RE.match(rest, match.end()) is not None
            or rest.startswith("%", match.end())
            or _RANK_BEFORE_RE.search(rest, 0, match.start()) is not None
            or _MAGNITUDE_AFTER_RE.match(rest, match.end()) is not None
        )
        if text.is_japanese(chunk):
            found, trailing_gap = _japanese_units(chunk, vocabulary, document_frequency, plan)
            if found:
                found[0].gap_before = found[0].gap_before or gap
                gap = trailing_gap
            else:
                gap = gap or trailing_gap
            for unit in found:
                unit.sentence = sentence
            units += found
            stopwords = []
            continue
        if words.is_stopword(chunk):
            stopwords.append(chunk)
            continue
        elif name := nickname(_POSSESSIVE_RE.sub("", chunk), typed_forms.get(chunk, chunk)):
            units.append(
                _Unit(
                    name,
                    tuple(text.analyze(name)),
                    latin=True,
                    named="nickname",
                    gap_before=gap,
                    sentence=sentence,
                )
            )
            plan.corrections.append((typed_forms.get(chunk, chunk), name))
            gap = False
        elif terms := tuple(text.analyze(_POSSESSIVE_RE.sub("", chunk))):
            typed = typed_forms.get(chunk, "")
            units.append(
                _Unit(
                    chunk,
                    terms,
                    latin=True,
                    typed=typed,
                    quantity=quantity,
                    gap_before=gap,
                    sentence=sentence,
                    stopwords_before=" ".join(stopwords),
                )
            )
            gap = False
        stopwords = []

    if plan.date_range is not None or plan.recency:
        units = _without_news_words(units)

    def phrase_frequency(alternative: Alternative) -> int:
        return document_frequency(alternative.terms)

    concepts = _concepts(
        units,
        vocabulary,
        document_frequency,
        plan,
        japanese_terms,
        alternative_frequency or phrase_frequency,
    )
    _add_translations(concepts, document_frequency)
    if katakana_spellings is not None:
        for concept in concepts:
            word = concept.label
            if concept.latin and word.isascii() and word.isalpha() and len(word) >= 5:
                # A word the corpus lacks is a name, if anything: a loanword that only
                # shares its consonants (ソリューション for "sarashina") is not its spelling.
                unknown = document_frequency(concept.alternatives[0].terms) == 0
                for spelling in katakana_spellings(word):
                    if not (unknown and _is_common_noun(spelling)):
                        concept.add(Alternative((spelling,), "transliteration", 0.7))
    plan.concepts = [c for c in concepts if c.alternatives]
    for concept in plan.concepts:
        known = any(document_frequency(a.terms) > 0 for a in concept.alternatives)
        if not known:
            plan.unknown.append(concept.label)
        if concept.role != "context":
            concept.role = _role(
                concept, known, vocabulary, document_frequency, typed_forms, capitalized
            )
    _names_before_a_company_word(plan.concepts, normalized)
    _quoted_unknown_words(plan.concepts, normalized)
    _focus_long_message(plan.concepts)
    if plan.concepts and all(c.role == "context" for c in plan.concepts):
        if any(words.is_generic_news(a.terms[0]) for c in plan.concepts for a in c.alternatives):
            plan.recency = True  # "any news?", "最新情報ある？": the newest stories
        elif plan.date_range is None:
            for concept in plan.concepts:
                concept.role = "topic"  # "AI", "lol": nothing else to search for
        # else "anything big in Q1 2024?": the period is the request (dropped below)
    if plan.date_range is not None or plan.recency:
        # "AI news from summer 2024", "最新のニュース": the period or the wish for the newest is
        # the request; words around it only say "news".
        plan.concepts = [c for c in plan.concepts if c.role != "context"]
    return plan


def _focus_long_message(concepts: list[Concept]) -> None:
    """In a long message (LONG_MESSAGE_CONCEPTS names and topic words or more) that names
    something, the words of sentences that name nothing weigh half: "I don't follow this
    stuff closely" says nothing about the story asked for."""
    key = [c for c in concepts if c.role in ("entity", "topic")]
    named = {c.sentence for c in concepts if c.role == "entity"}
    if len(key) < LONG_MESSAGE_CONCEPTS or not named:
        return
    for concept in key:
        if concept.sentence not in named:
            concept.importance *= 0.5


def _without_news_words(units: list[_Unit]) -> list[_Unit]:
    """Units without the words that only ask for news, for a query with a period or a
    wish for the newest; a glossary phrase holding one (``model release``) keeps its other
    words as units of their own."""
    words = lexicon()
    kept: list[_Unit] = []
    for unit in units:
        if unit.named:
            kept.append(unit)
            continue
        if all(words.is_generic_news(term) for term in unit.terms):
            continue
        if not unit.latin or " " not in unit.surface:
            kept.append(unit)
            continue
        parts = unit.surface.split(" ")
        if not any(words.is_generic_news(part) for part in parts):
            kept.append(unit)
            continue
        for part in parts:
            if not words.is_generic_news(part) and not words.is_stopword(part):
                kept.append(_Unit(part, tuple(text.analyze(part)), latin=True))
    return kept


def _concepts(
    units: list[_Unit],
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    plan: QueryPlan,
    japanese_terms: Callable[[], Sequence[str]] | None,
    alternative_frequency: Callable[[Alternative], int],
) -> list[Concept]:
    """Concepts of the query's words, in order: Japanese words (compounds with nearby and
    part alternatives), names spanning several Latin words, a name with its version, and
    single words with their corrections."""
    words = lexicon()
    concepts: list[Concept] = []
    index = 0
    while index < len(units):
        unit = units[index]
        if not unit.latin:
            concept = Concept(unit.surface, [Alternative(unit.terms)], latin=False)
            if all(words.is_context(t) for t in unit.terms):
                concept.role = "context"
            elif unit.proper:
                concept.role = "entity"
            if unit.japanese_pos == "動詞":
                concept.importance = 0.5
            if len(unit.terms) > 1:
                concept.add(Alternative(unit.terms, "near", 0.8, near=True))
                for term in unit.terms:
                    if len(term) > 1 and not words.is_context(term):
                        concept.add(Alternative((term,), "part", 0.45))
            elif document_frequency(unit.terms) == 0 and japanese_terms is not None:
                _correct_japanese(concept, unit, japanese_terms(), document_frequency)
            concept.sentence = unit.sentence
            concepts.append(concept)
            index += 1
            continue
        run_end = index + 1
        while run_end < len(units) and units[run_end].latin and not units[run_end].gap_before:
            run_end += 1
        best = _best_entity_window(units, index, run_end, vocabulary, document_frequency)
        if best is not None:
            length, entity, how = best
            window = units[index : index + length]
            surface = " ".join(u.surface for u in window)
            phrase = tuple(text.analyze(entity.name))
            concept = Concept(surface, [], role="entity")
            concept.person = length > 1 and all(u.typed[:1].isupper() for u in window)
            own = tuple(t for u in window for t in u.terms)
            if how == "entity":
                concept.add(Alternative(own))
            concept.add(Alternative(phrase, how, 1.0 if how == "entity" else 0.9))
            if length == 1 and window[0].katakana:
                # The katakana the name was typed in, as the Japanese stories write it
                # (ジェンスン・フアン): their sentences hold it, not the Latin name.
                concept.add(Alternative(window[0].katakana, "katakana"))
            if len(phrase) > 1 and not any(term.isdigit() for term in phrase):
                # "Google AI" written apart ("Google's new AI glasses"); never for a name
                # with a version, whose numbers must stay together.
                concept.add(Alternative(phrase, "near", 0.8, near=True))
            if how == "typo":
                plan.corrections.append((surface, entity.name))
            index += length
            if (
                index < run_end
                and units[index].is_version()
                and not any(ch.isdigit() for ch in entity.key)  # gpt-5.2 70.9 is no version
            ):
                _attach_version(
                    concept,
                    entity.name,
                    units[index],
                    vocabulary,
                    document_frequency,
                    alternative_frequency,
                    plan,
                )
                index += 1
            elif index < run_end and _missing_variant(
                concept, entity.name, units[index], vocabulary, document_frequency, plan
            ):
                index += 1
            concept.sentence = unit.sentence
            concepts.append(concept)
            continue
        following = units[index + 1] if index + 1 < run_end else None
        if (
            following is not None
            and unit.surface.isalpha()
            and following.is_version()
            and (
                vocabulary.exact(text.squash(unit.surface)) is not None
                or (
                    unit.typed[:1].isupper()
                    and vocabulary.has_numbered_names(text.squash(unit.surface))
                )
            )
        ):
            # "llama 5", "claude 4.6": a name and its version are one concept, found as
            # the adjacent phrase or, with a little less trust, close together; so is a
            # capitalized product line the corpus names only with numbers ("Pixel 10",
            # when it holds Pixel 9 and Pixel 8 Pro).
            concept = Concept(unit.surface, [Alternative(unit.terms)], role="entity")
            known_name = vocabulary.exact(text.squash(unit.surface))
            _attach_version(
                concept,
                known_name.name if known_name is not None else unit.typed or unit.surface,
                following,
                vocabulary,
                document_frequency,
                alternative_frequency,
                plan,
            )
            concept.sentence = unit.sentence
            concepts.append(concept)
            index += 2
            continue
        if (split := _name_and_version(unit, vocabulary)) is not None:
            # "deepseek-v3" the corpus never writes as one name: the known name and its
            # version, found together or close ("DeepSeek's V3 model"), as "deepseek v3".
            name, version = split
            concept = Concept(unit.surface, [Alternative(tuple(text.analyze(name)))], role="entity")
            _attach_version(
                concept,
                name,
                version,
                vocabulary,
                document_frequency,
                alternative_frequency,
                plan,
            )
            concept.label = unit.typed or unit.surface
            concept.sentence = unit.sentence
            concepts.append(concept)
            index += 1
            continue
        concept = Concept(unit.surface, [Alternative(unit.terms, unit.named or "exact")])
        if unit.named:
            concept.role = "entity"
        elif words.is_context(unit.surface):
            concept.role = "context"
        if unit.katakana and document_frequency(unit.katakana) > 0:
            concept.add(Alternative(unit.katakana))
        amounts = spelled_out_amounts(unit.surface)
        for amount in amounts:
            concept.add(Alternative(tuple(text.analyze(amount)), "amount", 0.9))
        # An amount is no misspelled name ("4t" is not "4o").
        unknown = document_frequency(unit.terms) == 0 and not amounts
        if unknown and not unit.katakana and not unit.named:
            _correct_latin(concept, unit, vocabulary, plan)
        elif _stem_hides_a_typo(unit) and not unit.named:
            # The stemmer can turn a misspelled name into a common word ("openal" ->
            # "open"): a close name is searched too, as an alternative.
            key = text.squash(unit.surface)
            found = vocabulary.fuzzy(key, cutoff=83)
            if (
                found is not None
                and text.stem(found[0].key) != unit.terms[0]
                and not found[0].key.startswith(key)  # "image" is a word, not "Imagen"
            ):
                concept.alternatives = [
                    Alternative(tuple(text.analyze(found[0].name)), "typo", 0.9),
                    Alternative(unit.terms, "stem", 0.5),
                ]
        concept.label = unit.typed or unit.surface
        concept.sentence = unit.sentence
        concepts.append(concept)
        index += 1
    return concepts


def spelled_out_amounts(word: str) -> list[str]:
    """An amount written short (``word`` normalized: ``"4t"``, ``"10b"``, ``"1.5m"``,
    ``"200k"``) as stories write it in full, in English and in Japanese: ``"4t"`` →
    ``["4 trillion", "4兆"]``, ``"10b"`` → ``["10 billion", "100億"]``, ``"500m"`` →
    ``["500 million", "5億"]``. Empty for any other word."""
    match = _SHORT_AMOUNT_RE.match(word)
    if match is None:
        return []
    value = float(match.group(1)) * _SHORT_MAGNITUDES[match.group(2)]
    spelled = []
    for magnitudes in (_ENGLISH_MAGNITUDES, _JAPANESE_MAGNITUDES):
        for size, name in magnitudes:
            if value >= size:
                count = f"{value / size:.2f}".rstrip("0").rstrip(".")
                spelled.append(f"{count} {name}" if name.isascii() else f"{count}{name}")
                break
    return spelled


#: Words that name a model's variant after its version (Gemini 3 Flash, GPT-4o mini,
#: Claude 3.5 Sonnet): written after a versioned name, they name another model.
VARIANT_WORDS = frozenset(
    {"pro", "ultra", "mini", "nano", "lite", "flash", "turbo", "sonnet", "opus", "haiku", "codex"}
)


def _missing_variant(
    concept: Concept,
    name: str,
    following: _Unit,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    plan: QueryPlan,
) -> bool:
    """When ``name`` (a name with its version: ``Gemini 3``) is followed by a variant word
    (VARIANT_WORDS, or several joined by hyphens: ``flash-lite``) that the corpus never
    writes after it (``Gemini 3 Ultra``: no name of the vocabulary, no phrase of any
    story), make ``concept`` that variant, recorded in ``plan.missing_versions`` as a
    version the corpus lacks: stories about ``name`` are neighbours, not answers. Returns
    whether ``following`` was taken."""
    variant = following.surface.casefold()
    if not set(variant.split("-")) <= VARIANT_WORDS or not any(ch.isdigit() for ch in name):
        return False
    full = f"{name} {following.typed or following.surface}"
    terms = (*text.analyze(name), *following.terms)
    if vocabulary.exact(text.squash(full)) is not None or document_frequency(terms) > 0:
        return False
    concept.unversioned = [a for a in concept.alternatives if not a.near]
    concept.alternatives = [Alternative(terms, "entity")]
    concept.label = full
    concept.version = following.surface
    plan.missing_versions.append(full)
    return True


def _standalone_name(words: str, vocabulary: EntityVocabulary) -> bool:
    """True when ``words`` name something on their own in two stories or more, written
    with a capital (``Grok``; not the ``code`` of "Claude Code")."""
    entity = vocabulary.exact(text.squash(words))
    return entity is not None and entity.stories >= 2 and not entity.name.islower()


def _attach_version(
    concept: Concept,
    name: str,
    version: _Unit,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    alternative_frequency: Callable[[Alternative], int],
    plan: QueryPlan,
) -> None:
    """Make ``concept`` (a name) the name with ``version``: found as the adjacent phrase or,
    with a little less trust, as the vocabulary's names that put words between them
    (``Claude 4.5`` → Claude Opus 4.5).
    A version the corpus never writes with that name is recorded in
    ``plan.missing_versions``, and the concept then finds nothing: a story about another
    version is no answer to it."""
    base = [a for a in concept.alternatives if not a.near]
    concept.alternatives = []
    for alternative in base:
        terms = (*alternative.terms, *version.terms)
        concept.add(Alternative(terms, alternative.how, alternative.trust))
        if any(ch.isalpha() for ch in version.surface) and len(version.terms) == 1:
            # A version with a letter (R1, V3, 4o) is a word of its own: near the name it
            # counts ("DeepSeek's new R1"). Not one with a point (V3.1): its "1" near V3
            # would be any number.
            concept.add(
                Alternative(terms, "near", 0.9 * alternative.trust, near=True, near_distance=3)
            )
    # A product named after its maker ("xAI Grok", "Meta Llama") takes the version on the
    # product's own name too: the corpus writes "xAI Grok 4.1" but also "Grok 5".
    maker, _, product = name.partition(" ")
    if product and all(_standalone_name(part, vocabulary) for part in (maker, product)):
        concept.add(Alternative((*text.analyze(product), *version.terms), "entity", 0.9))
    # A number counts right after the name, or after the name's own words: "Claude 4.5"
    # is found as the names the corpus writes, Claude Opus 4.5 and Claude Sonnet 4.5.
    for entity in vocabulary.named_versions(text.squash(name), text.squash(version.surface)):
        concept.add(Alternative(tuple(text.analyze(entity.name)), "entity", 0.9))
    if not any(alternative_frequency(a) > 0 for a in concept.alternatives):
        # Older model names put the version first (Claude 3.7 Sonnet, asked as "Sonnet 3.7").
        for entity in vocabulary.versions_before_name(
            text.squash(name), text.squash(version.surface)
        ):
            concept.add(Alternative(tuple(text.analyze(entity.name)), "entity", 0.9))
    concept.label = f"{concept.label} {version.surface}"
    concept.version = version.surface
    concept.unversioned = base
    if not any(alternative_frequency(a) > 0 for a in concept.alternatives):
        name_known = any(document_frequency(a.terms) > 0 for a in base)
        if name_known:
            plan.missing_versions.append(f"{name} {version.typed or version.surface}")


# Words that follow a company's or product's own name: "kling ai", "さかなAI", "acme labs".
_COMPANY_WORDS = frozenset({"ai", "labs", "lab"})


def _quoted_unknown_words(concepts: list[Concept], normalized: str) -> None:
    """A word the corpus lacks that the message quotes alone ("the codename is 'gumdrop'",
    "“gumdrop”") is a name: a story that lacks it answers nothing about it."""
    for concept in concepts:
        if concept.role == "unknown" and re.search(
            rf"(?:^|[\s(])(['\"“‘「『]){re.escape(concept.label.casefold())}['\"”’」』]",
            normalized,
        ):
            concept.role = "entity"


def _is_common_noun(word: str) -> bool:
    """Sudachi reads ``word`` as one common noun it knows (ソリューション, チャレンジ), not
    a name or a word it does not know."""
    morphemes = text.japanese_morphemes(word)
    return (
        len(morphemes) == 1
        and not morphemes[0].oov
        and morphemes[0].pos[:2] == ("名詞", "普通名詞")
    )


def _names_before_a_company_word(concepts: list[Concept], normalized: str) -> None:
    """A word the corpus lacks written right before "AI" or "Labs" in the ``normalized``
    message ("kling ai", "さかなAI") names a company or product: it counts as a name, which
    no story that lacks it answers about."""
    for concept, following in pairwise(concepts):
        if (
            concept.role == "unknown"
            and "-" not in concept.label  # "low-effort AI": a compound adjective
            and following.label.casefold() in _COMPANY_WORDS
            and re.search(
                rf"(?<![a-z0-9-]){re.escape(concept.label.casefold())} ?"
                rf"{re.escape(following.label.casefold())}",
                normalized,
            )
        ):
            concept.role = "entity"


def _role(
    concept: Concept,
    known: bool,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
    typed_forms: dict[str, str],
    capitalized: set[str],
) -> str:
    """The role of a concept that is not context: ``entity`` for names (already set by the
    parser, a known name of the vocabulary, or an unknown word written like a name or
    named in the alias table), ``unknown`` for other words the corpus lacks, else
    ``topic``. A word the user
    capitalized inside a sentence is a name; a capitalized word of the corpus's text counts
    as one only when two stories or more write it so (one sentence that starts with
    "Exposure" does not make it a name)."""
    if concept.role == "entity":
        return "entity"
    if not known:
        if not concept.latin:
            # A kana word the corpus never uses (ぽけもん, テスラボット) is a name or a
            # loanword it lacks, not Japanese chatter, which Sudachi knows.
            word = concept.label
            kana_name = _KANA_WORD_RE.match(word) and not text.is_dictionary_word(word)
            return "entity" if kana_name else "unknown"
        typed = typed_forms.get(concept.label.casefold(), concept.label)
        named = _looks_like_a_name(typed) or known_name(concept.label)
        return "entity" if named else "unknown"
    first = concept.alternatives[0]
    if concept.latin and concept.label.casefold() in capitalized:
        return "entity"  # "Act" in "UK Online Safety Act", "Leo" in "Brave Leo"
    if concept.latin and _MODEL_TOKEN_RE.fullmatch(concept.label.casefold()):
        return "entity"  # "4o", "o3", "r1": a model people name by its version alone
    if concept.latin and len(first.terms) == 1:
        entity = vocabulary.exact(text.squash(_POSSESSIVE_RE.sub("", concept.label)))
        proper = entity is not None and (entity.kind != "name" or entity.stories >= 2)
        if entity is not None and proper and entity.kind != "category":
            spread = document_frequency(first.terms) / max(1, entity.stories)
            if spread <= PROPER_NAME_SPREAD:
                return "entity"
    return "topic"


def _best_entity_window(
    units: Sequence[_Unit],
    start: int,
    end: int,
    vocabulary: EntityVocabulary,
    document_frequency: DocumentFrequency,
) -> tuple[int, Entity, str] | None:
    """The longest window of Latin words starting at ``start`` that names an entity:
    exactly (any window of two or more words, one word with punctuation inside such as
    ``gpt-5.2``, or one word the corpus lacks as written, such as ``gpt5``), or fuzzily
    (ratio ≥ 85) when the window holds a word the corpus lacks that is not one of the
    lexicon's (``data/lexicon.toml``)."""
    longest = min(4, end - start)
    # Per word of the longest window: the corpus lacks it and it is no word of the lexicon
    # (chat filler such as "ok", "lol" is a known word the corpus happens to lack, never a
    # name mistyped).
    words = lexicon()
    unknown = [
        document_frequency(u.terms) == 0
        and not words.is_context(surface := u.surface.casefold())
        and not words.is_stopword(surface)
        for u in units[start : start + longest]
    ]
    for length in range(longest, 0, -1):
        window = units[start : start + length]
        key = text.squash(" ".join(u.surface for u in window))
        if len(key) < 2:
            continue
        terms = tuple(t for u in window for t in u.terms)
        if any(u.stopwords_before for u in window[1:]):
            # A name that holds a stopword: "ChatGPT for Teachers", "Claude for Healthcare".
            spoken = " ".join(
                f"{u.stopwords_before} {u.surface}" if i and u.stopwords_before else u.surface
                for i, u in enumerate(window)
            )
            entity = vocabulary.exact(text.squash(spoken))
            if entity is not None:
                return length, entity, "entity"
        entity = vocabulary.exact(key)
        if entity is not None and (length > 1 or len(terms) > 1 or document_frequency(terms) == 0):
            return length, entity, "entity"
        has_unknown = any(unknown[:length])
        glued = length == 1 and _LETTERS_THEN_VERSION_RE.match(window[0].surface)
        if has_unknown and len(key) >= 5 and not glued:
            found = vocabulary.fuzzy(key, cutoff=85)
            if (
                found is not None
                and _digits(found[0].key) == _digits(key)
                and (found[0].kind != "name" or found[0].stories >= 2)
            ):
                # A typo of a name, never another version of it (a typed 2.4 is not the
                # 2.1 the corpus holds), nor of a capitalized phrase one story happens to hold.
                return length, found[0], "typo"
    return None


def _name_and_version(unit: _Unit, vocabulary: EntityVocabulary) -> tuple[str, _Unit] | None:
    """A word written as a known name, a hyphen and a version (``deepseek-v3``,
    ``gemini-2.5``) split into the name as the vocabulary spells it and the version as a
    word of its own; None for any other word (the caller has already looked the whole word
    up as a name)."""
    name, hyphen, version = unit.surface.rpartition("-")
    if not hyphen or not name or unit.named or _VERSION_RE.match(version) is None:
        return None
    entity = vocabulary.exact(text.squash(name))
    if entity is None or any(ch.isdigit() for ch in entity.key):
        return None
    typed_version = (unit.typed or unit.surface).rpartition("-")[2]
    return entity.name, _Unit(
        version, tuple(text.analyze(version)), latin=True, typed=typed_version
    )


def _digits(key: str) -> str:
    return "".join(ch for ch in key if ch.isdigit())


def _stem_hides_a_typo(unit: _Unit) -> bool:
    """A single ASCII word of five letters or more that the stemmer shortened."""
    word = unit.surface
    return (
        len(unit.terms) == 1
        and len(word) >= 5
        and word.isascii()
        and word.isalpha()
        and unit.terms[0] != word
    )


def _correct_latin(
    concept: Concept, unit: _Unit, vocabulary: EntityVocabulary, plan: QueryPlan
) -> None:
    key = text.squash(unit.surface)
    if glued := _LETTERS_THEN_VERSION_RE.match(unit.surface):
        # "claude3", "gpt5": a name and its version written together, found like
        # "claude 3" (the version must not be dropped by a fuzzy match to "claude").
        spaced = tuple(text.analyze(f"{glued[1]} {glued[2]}"))
        concept.add(Alternative(spaced, "typo", 0.9))
        concept.add(Alternative(spaced, "near", 0.85, near=True, near_distance=1))
        return
    if len(key) >= 5:
        found = vocabulary.fuzzy(key, cutoff=83)
        if found is not None and _digits(found[0].key) == _digits(key):
            phrase = tuple(text.analyze(found[0].name))
            concept.add(Alternative(phrase, "typo", 0.9))
            plan.corrections.append((unit.surface, found[0].name))


def _correct_japanese(
    concept: Concept,
    unit: _Unit,
    vocabulary: Sequence[str],
    document_frequency: DocumentFrequency,
) -> None:
    """A Japanese word the corpus lacks, of three or more characters, gets the closest
    indexed word that starts with the same character (ratio ≥ 74; ties go to the more
    common word) as an alternative."""
    word = unit.terms[0]
    if len(word) < 3 or not vocabulary:
        return
    matches = (
        vocabulary.extract(word, 74, 5)  # its key list, and its n-gram filter when large
        if isinstance(vocabulary, fuzzy_index.FuzzyPool)
        else fuzzy_index.extract(word, vocabulary, 74, 5)
    )
    # A word typed wrong keeps its first kana (デイープシーク); one that starts otherwise
    # is another word (トレーディング is not コーディング).
    matches = [m for m in matches if m[0][:1] == word[:1]]
    if matches:
        best = max(matches, key=lambda m: (m[1], document_frequency((m[0],))))
        concept.add(Alternative((best[0],), "typo", 0.8))


def _add_translations(
    concepts: list[Concept], document_frequency: Callable[[tuple[str, ...]], int]
) -> None:
    mapping = glossary()
    for concept in concepts:
        for alternative in list(concept.alternatives):
            for target in mapping.get(alternative.terms, []):
                if document_frequency(target) > 0:
                    concept.add(Alternative(target, "translation", 0.8))
                # Words of the same language that translate alike (リリース ~ 発表 through
                # "release"): a second hop, trusted a little less.
                for synonym in mapping.get(target, []):
                    if synonym != alternative.terms and document_frequency(synonym) > 0:
                        concept.add(Alternative(synonym, "synonym", 0.85))
