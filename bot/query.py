"""Turn what a user typed into a search plan: concepts, a date range, a recency wish.

A *concept* is one thing the user asked about ("DeepSeek", "規制", "Claude Opus 4.6"). It
has one or more *alternatives*: FTS5 phrases (sequences of analyzed terms) that count as
finding it, namely the user's own spelling, a corrected spelling of a misspelled name, the
Latin name of a katakana spelling, or a translation from the domain glossary. A story
answers the query as far as it contains its concepts, each weighted by its rarity (idf).

The rules here are about kinds of query (names, typos, katakana, questions, dates), and
the data (``bot/data/aliases.toml``, ``bot/data/glossary.toml``) is about the domain.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import tomllib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

from bot import text

__all__ = [
    "Alternative",
    "Concept",
    "DateRange",
    "EntityVocabulary",
    "QueryPlan",
    "parse_dates",
    "plan_query",
]

# Words that carry no topic in a question or a news request (English, after normalize).
ENGLISH_STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be been before being
    between both but by can could did do does doing done during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your yours tell show give find know get got happened happen please
    many much did does any anything something thing things say said says""".split()
)
# Words that only say "news" or "recent": ignored when a date or recency carries the query.
GENERIC_NEWS_WORDS = frozenset(
    text.stem(word)
    for word in "news announced announcement release launch update story headline ai "
    "ニュース 発表 公開 リリース 出来事 話題 記事 情報".split()
)
RECENCY_WORDS = frozenset(
    "latest newest recent recently 最新 最近 新しい 直近 最新版 最新情報".split()
)
# Sudachi parts of speech that never carry a topic in a query.
_DROPPED_QUERY_POS = frozenset(
    {"助詞", "助動詞", "補助記号", "記号", "空白", "代名詞", "接尾辞", "接頭辞", "感動詞", "接続詞"}
)
# Normalized forms of Japanese words that only shape a question.
JAPANESE_STOPWORDS = frozenset(
    """何 いつ どこ 誰 なぜ 何故 どう どの どれ どんな いくら いくつ 幾つ 為る 有る 居る 成る
    出来る 言う 事 物 もの こと 教える 知る 件 個 人 頃 ころ 位 方 ため 様 よう 辺り 際 今
    について 何人 何個 何件 何日 何年 いかが どれくらい どのくらい 予定 見る 思う""".split()
)

_MONTHS = {name: index for index, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name: index for index, name in enumerate(calendar.month_abbr) if name})
_MONTHS = {name.casefold(): index for name, index in _MONTHS.items()}
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_LATIN_UNIT = r"\.?[a-z0-9]+(?:[.\-+'][a-z0-9]+)*[+#]*"  # C++, C#, .NET whole
_QUERY_UNIT_RE = re.compile(rf"{text.JAPANESE_RUN}|{_LATIN_UNIT}")
# Above this many entities, only names mentioned by two stories or more are matched fuzzily.
FUZZY_POOL_LIMIT = 50_000
_VERSION_RE = re.compile(r"^v?\d+(?:\.\d+)*$")
_LETTERS_THEN_VERSION_RE = re.compile(r"^([a-z]{2,})(\d+(?:\.\d+)*)$")


@lru_cache(maxsize=1)
def _query_unit_pattern() -> re.Pattern[str]:
    """Query words: multi-word English phrases of the glossary first (``go public``, ``data
    center``: one concept each, translated as a whole), then Japanese runs, then Latin
    words."""
    raw = resources.files("bot").joinpath("data", "glossary.toml").read_bytes()
    phrases = [p for p in tomllib.loads(raw.decode("utf-8"))["terms"] if " " in p]
    alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b|{_QUERY_UNIT_RE.pattern}")


@dataclass(frozen=True)
class DateRange:
    """Inclusive calendar range asked for by a query, with its granularity (``day``,
    ``month`` or ``year``). Day ranges are widened by one day on each side when matched,
    since a story's date depends on the author's time zone."""

    start: dt.date
    end: dt.date
    granularity: str

    def contains(self, day: dt.date) -> bool:
        """True when ``day`` falls in the range (one day of slack for day ranges)."""
        slack = dt.timedelta(days=1 if self.granularity == "day" else 0)
        return self.start - slack <= day <= self.end + slack


@dataclass(frozen=True)
class Alternative:
    """An FTS5 phrase that counts as finding a concept: ``terms`` are analyzed terms (in
    order, adjacent), ``how`` says where it came from (``exact``, ``entity``, ``typo``,
    ``katakana``, ``translation``), ``trust`` in (0, 1] scales the concept's weight when
    only this alternative matches."""

    terms: tuple[str, ...]
    how: str = "exact"
    trust: float = 1.0
    near: bool = False
    near_distance: int = 0

    def fts(self) -> str:
        """The alternative as an FTS5 expression: a phrase in double quotes (inner quotes
        doubled), or with ``near`` each term quoted inside ``NEAR(…, N)`` where N is
        ``near_distance`` or else twice the number of terms (at least 3)."""
        if self.near:
            quoted = " ".join('"' + t.replace('"', '""') + '"' for t in self.terms)
            distance = self.near_distance or max(3, 2 * len(self.terms))
            return f"NEAR({quoted}, {distance})"
        return '"' + " ".join(self.terms).replace('"', '""') + '"'


@dataclass
class Concept:
    """One thing the user asked about: ``label`` as they typed it, its alternatives, and
    ``importance``, a factor on its idf weight (0.5 for the verb of a Japanese question:
    入る, 始まる say little about which story is meant)."""

    label: str
    alternatives: list[Alternative]
    latin: bool = True
    importance: float = 1.0

    def add(self, alternative: Alternative) -> None:
        """Add an alternative unless the same terms are already there."""
        same = (
            (a.terms, a.near) == (alternative.terms, alternative.near) for a in self.alternatives
        )
        if alternative.terms and not any(same):
            self.alternatives.append(alternative)


@dataclass
class QueryPlan:
    """The parsed query: ``concepts`` to find, an optional ``date_range``, ``recency``
    when the user asked for the latest, and ``corrections`` ``(typed, corrected)``."""

    original: str
    normalized: str
    concepts: list[Concept] = field(default_factory=list)
    date_range: DateRange | None = None
    recency: bool = False
    corrections: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Entity:
    """A name known to the index: display ``name``, squashed ``key``, ``kind``, the number
    of stories that mention it, and its consonant ``skeleton`` (``""`` when the key is not
    alphabetic or shorter than three letters)."""

    name: str
    key: str
    kind: str
    stories: int
    skeleton: str = ""


class EntityVocabulary:
    """Names known to the index, held in memory for fuzzy lookups (rapidfuzz over squashed
    keys, ``processor=None``), plus the katakana alias table. ``lookup(key)`` finds
    exact names that are not held (a large index keeps only names seen twice in memory).

    ``entities`` is a sequence of ``Entity``; ``document_frequency`` maps a tuple of
    analyzed terms to the number of documents containing that phrase.
    """

    def __init__(
        self,
        entities: Sequence[Entity],
        *,
        fuzzy_pool_limit: int = FUZZY_POOL_LIMIT,
        lookup: Callable[[str], Entity | None] | None = None,
    ) -> None:
        self.entities = list(entities)
        self._lookup = lookup
        self.by_key = {entity.key: entity for entity in self.entities}
        # Fuzzy matching compares keys of plausible length only (fuzz.ratio ≥ 70 needs
        # lengths within a factor of about 1.9), held as ready lists per length. In a
        # large vocabulary only names mentioned by two stories or more take part: a typo
        # of a name seen once is rare, and comparing every key would cost tens of ms.
        pool = self.entities
        if len(pool) > fuzzy_pool_limit:
            pool = [entity for entity in pool if entity.stories >= 2]
        by_length: dict[int, list[Entity]] = defaultdict(list)
        self.skeletons: dict[str, list[Entity]] = {}
        for entity in pool:
            by_length[len(entity.key)].append(entity)
        for entity in pool:
            if len(entity.skeleton) >= 2:
                self.skeletons.setdefault(entity.skeleton, []).append(entity)
        self._by_length = {
            length: ([entity.key for entity in group], group) for length, group in by_length.items()
        }
        self.skeleton_keys = list(self.skeletons)
        self.aliases = _katakana_aliases()
        self.alias_keys = list(self.aliases)

    def exact(self, key: str) -> Entity | None:
        """The entity whose squashed key is ``key``, if any (held in memory, or found by
        ``lookup`` for a vocabulary held only in part)."""
        found = self.by_key.get(key)
        if found is None and self._lookup is not None:
            found = self._lookup(key)
        return found

    def _extract(self, key: str, cutoff: float, limit: int) -> list[tuple[Entity, float]]:
        # ratio = 2·matches / (len(a) + len(b)) ≤ 2·min / (len(a) + len(b)).
        size = len(key)
        low = max(1, int(size * cutoff / (200 - cutoff)))
        high = int(size * (200 - cutoff) / cutoff) + 1
        found: list[tuple[Entity, float]] = []
        for length in range(low, high + 1):
            bucket = self._by_length.get(length)
            if bucket is None:
                continue
            keys, group = bucket
            for _, score, index in process.extract(
                key, keys, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, limit=limit
            ):
                found.append((group[index], float(score)))
        found.sort(key=lambda match: (-match[1], -match[0].stories))
        return found[:limit]

    def fuzzy(self, key: str, cutoff: float) -> tuple[Entity, float] | None:
        """Best entity by ``fuzz.ratio`` on squashed keys at or above ``cutoff`` (0–100);
        ties go to the entity mentioned by more stories."""
        matches = self._extract(key, cutoff, limit=5)
        return matches[0] if matches else None

    def similar_scored(self, key: str, cutoff: float, limit: int) -> list[tuple[Entity, float]]:
        """Entities close to ``key`` (``fuzz.ratio`` ≥ ``cutoff``) with their ratio, best
        first (ties: more stories first), for "did you mean" suggestions."""
        return self._extract(key, cutoff, limit=limit * 3)[:limit]

    def katakana_name(self, word: str) -> tuple[str, str] | None:
        """The Latin name for a katakana word: from the alias table (fuzzy, ratio ≥ 85;
        how = ``alias``), else by transliteration when its consonant skeleton matches one
        known name with a clear lead (ratio ≥ 85 and no runner-up within 5; how =
        ``transliteration``). Returns ``(name, how)`` or None."""
        if self.alias_keys:
            match = process.extractOne(
                word, self.alias_keys, scorer=fuzz.ratio, processor=None, score_cutoff=85
            )
            if match:
                return self.aliases[match[0]], "alias"
        skeleton = text.consonant_skeleton(text.romanize_katakana(word))
        if len(skeleton) < 3 or not self.skeleton_keys:
            return None
        matches = process.extract(
            skeleton, self.skeleton_keys, scorer=fuzz.ratio, processor=None, limit=2
        )
        if not matches or matches[0][1] < 85:
            return None
        if len(matches) > 1 and matches[0][1] - matches[1][1] < 5:
            return None
        candidates = self.skeletons[matches[0][0]]
        best = max(candidates, key=lambda entity: entity.stories)
        return best.name, "transliteration"


@lru_cache(maxsize=1)
def _katakana_aliases() -> dict[str, str]:
    raw = resources.files("bot").joinpath("data", "aliases.toml").read_bytes()
    table = tomllib.loads(raw.decode("utf-8"))["names"]
    aliases: dict[str, str] = {}
    for name, spellings in table.items():
        for spelling in spellings:
            aliases[text.normalize(spelling).replace("・", "").replace(" ", "")] = name
    return aliases


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], list[tuple[str, ...]]]:
    """The bilingual glossary as analyzed term tuples, in both directions:
    ``glossary()[("regul",)]`` → ``[("規制",)]``."""
    raw = resources.files("bot").joinpath("data", "glossary.toml").read_bytes()
    table = tomllib.loads(raw.decode("utf-8"))["terms"]
    mapping: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    for english, japanese_words in table.items():
        source = tuple(text.analyze(english))
        for japanese in japanese_words:
            target = tuple(text.analyze(japanese))
            if not source or not target:
                continue
            mapping.setdefault(source, []).append(target)
            mapping.setdefault(target, []).append(source)
    return mapping


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_dates(normalized: str) -> tuple[DateRange | None, str]:
    """Find a date expression in normalized query text and return it with the text that
    remains. Understands ``2025年12月16日``, ``2025年12月``, ``2025年``, ``december 11
    2025``, ``11 december 2025``, ``november 2025``, ``2025-12-11``, ``2025/12``, and a bare
    year ``2025``. The first expression wins."""
    patterns: list[tuple[str, Callable[[re.Match[str]], DateRange | None]]] = [
        (r"(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日", lambda m: _range_day(m[1], m[2], m[3])),
        (r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", lambda m: _range_day(m[1], m[2], m[3])),
        (
            rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b",
            lambda m: _range_day(m[3], str(_MONTHS[m[1]]), m[2]),
        ),
        (
            rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+(\d{{4}})\b",
            lambda m: _range_day(m[3], str(_MONTHS[m[2]]), m[1]),
        ),
        (r"(\d{4})年\s*(\d{1,2})月", lambda m: _range_month(m[1], m[2])),
        (rf"\b({_MONTH_RE})\.?,?\s+(\d{{4}})\b", lambda m: _range_month(m[2], str(_MONTHS[m[1]]))),
        (r"\b(\d{4})[-/](\d{1,2})\b", lambda m: _range_month(m[1], m[2])),
        (r"(\d{4})年", lambda m: _range_year(m[1])),
        (r"(?<![\w.\-])((?:19|20)\d{2})(?![\w.\-])", lambda m: _range_year(m[1])),
    ]
    for pattern, build in patterns:
        match = re.search(pattern, normalized)
        if match:
            found = build(match)
            if found is not None:
                rest = (normalized[: match.start()] + " " + normalized[match.end() :]).strip()
                return found, re.sub(r"\s+", " ", rest)
    return None, normalized


def _range_day(year: str, month: str, day: str) -> DateRange | None:
    date = _day(int(year), int(month), int(day))
    return DateRange(date, date, "day") if date else None


def _range_month(year: str, month: str) -> DateRange | None:
    if not 1 <= int(month) <= 12:
        return None
    last = calendar.monthrange(int(year), int(month))[1]
    return DateRange(
        dt.date(int(year), int(month), 1), dt.date(int(year), int(month), last), "month"
    )


def _range_year(year: str) -> DateRange:
    return DateRange(dt.date(int(year), 1, 1), dt.date(int(year), 12, 31), "year")


@dataclass
class _Unit:
    """A word of the query: its surface, analyzed terms, script, and whether it is known."""

    surface: str
    terms: tuple[str, ...]
    latin: bool
    japanese_pos: str = ""
    katakana: tuple[str, ...] = ()


def _japanese_units(
    chunk: str,
    vocabulary: EntityVocabulary,
    document_frequency: Callable[[tuple[str, ...]], int],
    plan: QueryPlan,
) -> list[_Unit]:
    """Words of a Japanese run. Adjacent katakana morphemes are one word (モルト+ブック);
    a katakana word that names something (alias table, or transliteration when the corpus
    lacks the word) becomes a Latin unit. Adjacent nouns form one compound unit (天気+予報),
    matched as a phrase or, with less trust, as nearby words."""
    grouped: list[tuple[str, tuple[str, ...], str]] = []
    for surface, form, pos in text.japanese_morphemes(chunk):
        if grouped and text.is_katakana_word(surface) and text.is_katakana_word(grouped[-1][0]):
            previous = grouped[-1]
            grouped[-1] = (previous[0] + surface, (*previous[1], form), "名詞")
        else:
            grouped.append((surface, (form,), pos))
    units: list[_Unit] = []
    joinable = False
    for surface, terms, pos in grouped:
        if text.is_katakana_word(surface) and len(surface) >= 2:
            found = vocabulary.katakana_name(surface.replace("・", ""))
            known = document_frequency(terms) > 0
            if found is not None and (found[1] == "alias" or not known):
                katakana = terms if known else ()
                latin_terms = tuple(text.analyze(found[0]))
                units.append(_Unit(found[0], latin_terms, latin=True, katakana=katakana))
                plan.corrections.append((surface, found[0]))
                joinable = False
                continue
        content = (
            pos not in _DROPPED_QUERY_POS
            and not any(t in JAPANESE_STOPWORDS for t in terms)
            and all(text.is_japanese(t) for t in terms)
        )
        if not content:
            joinable = False
            continue
        if pos == "名詞" and joinable and len(units[-1].terms) < 4:
            last = units[-1]
            units[-1] = _Unit(last.surface + surface, (*last.terms, *terms), False, "名詞")
        else:
            units.append(_Unit(surface, terms, latin=False, japanese_pos=pos))
        joinable = pos == "名詞"
    return units


def plan_query(
    query: str,
    vocabulary: EntityVocabulary,
    document_frequency: Callable[[tuple[str, ...]], int],
    japanese_terms: Callable[[], Sequence[str]] | None = None,
    katakana_spellings: Callable[[str], Sequence[str]] | None = None,
) -> QueryPlan:
    """Parse ``query`` into a ``QueryPlan``.

    Steps: normalize; take out a date expression and recency words; split into words
    (Sudachi for Japanese, dropping particles and question words; English stopwords
    dropped); turn katakana names into Latin names; join adjacent Latin words that form a
    known name (exactly, or fuzzily when a word is unknown: ``claude opsu 4.6`` → ``Claude
    Opus 4.6``); correct other unknown words against the vocabulary; add glossary
    translations, and katakana words of the corpus that sound like an English word
    (``katakana_spellings``: ``california`` → ``カリフォルニア``). ``document_frequency``
    answers how many documents hold a phrase.
    """
    normalized = text.normalize(query)
    plan = QueryPlan(original=query, normalized=normalized)
    date_range, rest = parse_dates(normalized)
    plan.date_range = date_range
    words = rest.split(" ")
    kept = []
    for word in words:
        if word.strip("!?.,？！。、") in RECENCY_WORDS:
            plan.recency = True
        else:
            kept.append(word)
    rest = re.sub(
        r"\bhow (?:many|much|large|big|far|long|fast|high|low|old|often)\b", " ", " ".join(kept)
    )
    for recency_word in ("最新", "最近"):
        if recency_word in rest:
            plan.recency = True
            rest = rest.replace(recency_word, " ")

    units: list[_Unit] = []
    for match in _query_unit_pattern().finditer(rest):
        chunk = match.group(0)
        if text.is_japanese(chunk):
            units += _japanese_units(chunk, vocabulary, document_frequency, plan)
        elif chunk not in ENGLISH_STOPWORDS and (terms := tuple(text.analyze(chunk))):
            units.append(_Unit(chunk, terms, latin=True))
    if plan.date_range is not None or plan.recency:
        units = [u for u in units if not (len(u.terms) == 1 and u.terms[0] in GENERIC_NEWS_WORDS)]

    resolved = units

    # Adjacent Latin words that form a known name become one concept.
    concepts: list[Concept] = []
    index = 0
    while index < len(resolved):
        unit = resolved[index]
        if not unit.latin:
            concept = Concept(unit.surface, [Alternative(unit.terms)], latin=False)
            if unit.japanese_pos == "動詞":
                concept.importance = 0.5
            if len(unit.terms) > 1:
                concept.add(Alternative(unit.terms, "near", 0.8, near=True))
                for term in unit.terms:
                    if len(term) > 1:
                        concept.add(Alternative((term,), "part", 0.45))
            elif document_frequency(unit.terms) == 0 and japanese_terms is not None:
                _correct_japanese(concept, unit, japanese_terms(), document_frequency)
            concepts.append(concept)
            index += 1
            continue
        run_end = index
        while run_end < len(resolved) and resolved[run_end].latin:
            run_end += 1
        best = _best_entity_window(resolved, index, run_end, vocabulary, document_frequency)
        if best is not None:
            length, entity, how = best
            surface = " ".join(u.surface for u in resolved[index : index + length])
            phrase = tuple(text.analyze(entity.name))
            concept = Concept(surface, [])
            own = tuple(t for u in resolved[index : index + length] for t in u.terms)
            if how == "entity":
                concept.add(Alternative(own))
            concept.add(Alternative(phrase, how, 1.0 if how == "entity" else 0.9))
            if how == "typo":
                plan.corrections.append((surface, entity.name))
            concepts.append(concept)
            index += length
            continue
        following = resolved[index + 1] if index + 1 < run_end else None
        if (
            following is not None
            and unit.surface.isalpha()
            and _VERSION_RE.match(following.surface)
            and document_frequency(unit.terms) > 0
        ):
            # "llama 5", "claude 4.6": a name and its version are one concept, found as
            # the adjacent phrase or, with a little less trust, close together.
            terms = (*unit.terms, *following.terms)
            concept = Concept(f"{unit.surface} {following.surface}", [Alternative(terms)])
            concept.add(Alternative(terms, "near", 0.9, near=True, near_distance=1))
            concepts.append(concept)
            index += 2
            continue
        concept = Concept(unit.surface, [Alternative(unit.terms)])
        if unit.katakana and document_frequency(unit.katakana) > 0:
            concept.add(Alternative(unit.katakana))
        if document_frequency(unit.terms) == 0 and not unit.katakana:
            _correct_latin(concept, unit, vocabulary, plan)
        elif _stem_hides_a_typo(unit):
            # The stemmer can turn a misspelled name into a common word ("openal" ->
            # "open"): a close name is searched too, as an alternative.
            found = vocabulary.fuzzy(text.squash(unit.surface), cutoff=83)
            if found is not None and text.stem(found[0].key) != unit.terms[0]:
                concept.alternatives = [
                    Alternative(tuple(text.analyze(found[0].name)), "typo", 0.9),
                    Alternative(unit.terms, "stem", 0.5),
                ]
        concepts.append(concept)
        index += 1

    _add_translations(concepts, document_frequency)
    if katakana_spellings is not None:
        for concept in concepts:
            word = concept.label
            if concept.latin and word.isascii() and word.isalpha() and len(word) >= 5:
                for spelling in katakana_spellings(word):
                    concept.add(Alternative((spelling,), "transliteration", 0.7))
    plan.concepts = [c for c in concepts if c.alternatives]
    plan.unknown = [
        c.label
        for c in plan.concepts
        if all(document_frequency(a.terms) == 0 for a in c.alternatives)
    ]
    return plan


def _best_entity_window(
    units: Sequence[_Unit],
    start: int,
    end: int,
    vocabulary: EntityVocabulary,
    document_frequency: Callable[[tuple[str, ...]], int],
) -> tuple[int, Entity, str] | None:
    """The longest window of Latin words starting at ``start`` that names an entity:
    exactly (any window of two or more words, one word with punctuation inside such as
    ``gpt-5.2``, or one word the corpus lacks as written, such as ``gpt5``), or fuzzily
    (ratio ≥ 85) when the window holds a word the corpus lacks."""
    for length in range(min(4, end - start), 0, -1):
        window = units[start : start + length]
        key = text.squash(" ".join(u.surface for u in window))
        if len(key) < 2:
            continue
        terms = tuple(t for u in window for t in u.terms)
        entity = vocabulary.exact(key)
        if entity is not None and (length > 1 or len(terms) > 1 or document_frequency(terms) == 0):
            return length, entity, "entity"
        has_unknown = any(document_frequency(u.terms) == 0 for u in window)
        glued = length == 1 and _LETTERS_THEN_VERSION_RE.match(window[0].surface)
        if has_unknown and len(key) >= 5 and not glued:
            found = vocabulary.fuzzy(key, cutoff=85)
            if found is not None:
                return length, found[0], "typo"
    return None


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
        if found is not None:
            phrase = tuple(text.analyze(found[0].name))
            concept.add(Alternative(phrase, "typo", 0.9))
            plan.corrections.append((unit.surface, found[0].name))


def _correct_japanese(
    concept: Concept,
    unit: _Unit,
    vocabulary: Sequence[str],
    document_frequency: Callable[[tuple[str, ...]], int],
) -> None:
    """A Japanese word the corpus lacks, of three or more characters, gets the closest
    indexed word (ratio ≥ 74; ties go to the more common word) as an alternative."""
    word = unit.terms[0]
    if len(word) < 3 or not vocabulary:
        return
    matches = process.extract(
        word, vocabulary, scorer=fuzz.ratio, processor=None, score_cutoff=74, limit=5
    )
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
