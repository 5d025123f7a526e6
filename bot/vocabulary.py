"""The names the bot knows: the index's entities, and how people write them.

``EntityVocabulary`` holds the index's names (tags, companies, capitalized names of the
text) for exact and fuzzy lookups, and links what users type to them:

* katakana spellings (``ディープシーク``) through the alias table of
  ``bot/data/aliases.toml`` (also clipped: ``アンスロ``, ``スノフレ``), spelled out letter
  by letter (``アールワン``: R1) or, for names the table lacks, by transliteration (romaji
  consonant skeletons);
* hiragana spellings (``くろーど``, ``さむあるとまん``): a hiragana run is read as katakana
  and linked the same way when it stands between particles (``めたのらま`` → Meta, Llama);
* nicknames and stock tickers (``oai``, ``NVDA``, ``MS``) through the ``[nicknames]`` table
  of the same file; two-letter ones only as typed in capitals.
"""

from __future__ import annotations

import bisect
import re
import threading
import tomllib
from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from importlib import resources
from itertools import combinations
from typing import NamedTuple

import jaconv
from rapidfuzz import fuzz, process

from bot import text
from bot.fuzzy_index import FILTER_MIN_KEYS, FuzzyPool, NgramFilter, length_bounds

__all__ = [
    "FUZZY_POOL_LIMIT",
    "KANJI_RE",
    "Entity",
    "EntityVocabulary",
    "clipped_alias",
    "hiragana_names",
    "known_name",
    "mixed_script_names",
    "nickname",
    "spelled_letters",
]

# Above this many entities, only names mentioned by two stories or more are matched fuzzily.
FUZZY_POOL_LIMIT = 50_000
# Fuzzy lookups remembered (cleared when full, so memory stays flat).
RECENT_LOOKUPS = 2048
# Particles and honorifics that may end a word written in hiragana (めた の らま, じぇみに さん).
_PARTICLES = ("って", "から", "より", "とか", "さん", "くん", "ちゃん", "の", "と", "が", "は",
              "も", "や", "を", "に", "で", "へ")  # fmt: skip
_HIRAGANA_RUN_RE = re.compile(r"[ぁ-ゖー・]+")
_LOANWORD_MARK_RE = re.compile("[ーぁぃぅぇぉゎゔ]")
# Syllables only loanwords spell (ちぇ, ふぃ, うぃ, でぃ…: a small vowel after a kana of
# another vowel), and a long-vowel mark inside a word (まーく): Sudachi may read them into
# a Japanese word of its own (まー, ちぇ), so they are looked for in the spelling itself.
_LOAN_SYLLABLE_RE = re.compile(
    "[ちしじ][ぇ]|[ふ][ぁぃぇぉ]|[う][ぃぇぉ]|[てで][ぃぅ]|[とど][ぅ]|[つ][ぁぃぇぉ]|い[ぇ]|ゔ|"
    "[ぁ-ゖ]ー[ぁ-ゖ]"
)
#: One kanji (CJK unified ideographs, extension A, and the iteration mark 々).
KANJI_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff々]")


#: A person's name as the site writes it: two or three capitalized words ("Andrej Karpathy").
_PERSON_SHAPED_RE = re.compile(r"[A-Z][a-z]+ (?:[A-Z][a-z]+ )?[A-Z][a-z]+")
#: How close a katakana word's romanization must be to a person's surname (fuzz.ratio)
#: to be read as that surname: カルパシー ``karupashi`` and Karpathy score 71, スレイマン
#: and Suleyman 75, ブレッチリー ``burecchiri`` and Blackwell 21.
SURNAME_CUTOFF = 70
#: Letters a surname (and the romanization read as one) needs: shorter ones match too
#: much.
SURNAME_MIN_LETTERS = 4
#: A squashed name with the version before its last word: letters, digits, letters
#: (``claude37sonnet``); the last word is group 1.
_VERSION_FIRST_KEY_RE = re.compile(r"[a-z]{1,12}[0-9]+([a-z]+)")
#: How the letters of the Latin alphabet and the digits zero to nine are said in katakana,
#: for names spelled out (アールワン is R1, ジーピーティーフォー GPT4, エーアイ AI).
SPELLED_LETTERS = {
    "エー": "a", "エイ": "a", "ビー": "b", "シー": "c", "ディー": "d", "イー": "e",
    "エフ": "f", "ジー": "g", "エイチ": "h", "エッチ": "h", "アイ": "i", "ジェー": "j",
    "ジェイ": "j", "ケー": "k", "ケイ": "k", "エル": "l", "エム": "m", "エヌ": "n",
    "オー": "o", "ピー": "p", "キュー": "q", "アール": "r", "エス": "s", "ティー": "t",
    "ユー": "u", "ブイ": "v", "ヴィー": "v", "ダブリュー": "w", "エックス": "x",
    "ワイ": "y", "ゼット": "z", "ゼロ": "0", "ワン": "1", "ツー": "2", "スリー": "3",
    "フォー": "4", "ファイブ": "5", "シックス": "6", "セブン": "7", "エイト": "8",
    "ナイン": "9",
}  # fmt: skip
#: Kana (long-vowel marks aside) a clipped katakana name keeps (``clipped_alias``): fewer
#: match too much.
CLIPPED_MIN_KANA = 4


class Entity(NamedTuple):
    """A name known to the index: display ``name``, squashed ``key``, ``kind``, the number
    of stories that mention it, and its consonant ``skeleton`` (``""`` when the key is not
    alphabetic or shorter than three letters). A named tuple: a large index loads tens of
    thousands of them at once."""

    name: str
    key: str
    kind: str
    stories: int
    skeleton: str = ""


class EntityVocabulary:
    """Names known to the index, held in memory for fuzzy lookups (rapidfuzz over squashed
    keys, ``processor=None``), plus the katakana alias table. ``lookup(key)`` finds
    exact names that are not held (a large index keeps only names seen twice in memory).

    ``entities`` is a sequence of ``Entity``; or ``loader`` gives them on the first lookup
    that needs them in memory (fuzzy names, transliteration), while exact names are
    found by ``lookup`` and names with a version by ``versions(name_key, version_key)``
    (the held names whose key starts with the one and ends with the other, by key), so
    opening an index and answering a query that names things exactly loads nothing.
    """

    def __init__(
        self,
        entities: Sequence[Entity] = (),
        *,
        fuzzy_pool_limit: int = FUZZY_POOL_LIMIT,
        lookup: Callable[[str], Entity | None] | None = None,
        loader: Callable[[], Sequence[Entity]] | None = None,
        versions: Callable[[str, str], Sequence[Entity]] | None = None,
    ) -> None:
        self._lookup = lookup
        self._loader = loader
        self._versions = versions
        self._fuzzy_pool_limit = fuzzy_pool_limit
        self._recent: dict[tuple[str, float, int], list[tuple[Entity, float]]] = {}
        self._load_lock = threading.Lock()
        self._loaded = False
        self.aliases = _katakana_aliases()
        self.alias_keys = list(self.aliases)
        if loader is None:
            self._load(entities)

    def detach(self) -> None:
        """Forget the callbacks into the index (its engine is closing)."""
        self._loader = self._lookup = self._versions = None

    def ensure_loaded(self) -> None:
        """Hold the names in memory now (``loader``), if they are not yet."""
        if not self._loaded:
            with self._load_lock:
                if not self._loaded and self._loader is not None:
                    self._load(self._loader())

    def _load(self, entities: Sequence[Entity]) -> None:
        fuzzy_pool_limit = self._fuzzy_pool_limit
        self.entities = list(entities)
        self.by_key = {entity.key: entity for entity in self.entities}
        self._sorted_keys = sorted(self.by_key)
        # The keys of names with the version first (claude37sonnet), by their last word;
        # made on first use (versions_before_name).
        self._version_first: dict[str, list[str]] | None = None
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
        # Surnames of person-shaped names ("Andrej Karpathy": karpathy → Karpathy): a
        # person is often called by the surname alone (カルパシー, ``_surname``).
        self.surnames: dict[str, str] = {}
        for entity in pool:
            if len(entity.skeleton) >= 2:
                self.skeletons.setdefault(entity.skeleton, []).append(entity)
            if _PERSON_SHAPED_RE.fullmatch(entity.name):
                surname = entity.name.rsplit(" ", 1)[1]
                if len(surname) >= SURNAME_MIN_LETTERS:
                    self.surnames.setdefault(surname.casefold(), surname)
        self.surname_keys = FuzzyPool(list(self.surnames))
        self._by_length = {
            length: ([entity.key for entity in group], group) for length, group in by_length.items()
        }
        # The same keys in one list, bucket after bucket (by length), for the n-gram filter
        # of a large pool (bot.fuzzy_index), built on the first fuzzy lookup.
        self._pool_keys: list[str] = []
        self._bucket_starts: dict[int, int] = {}
        for length in sorted(self._by_length):
            self._bucket_starts[length] = len(self._pool_keys)
            self._pool_keys.extend(self._by_length[length][0])
        self._pool_filter: NgramFilter | None = None
        self.skeleton_keys = FuzzyPool(list(self.skeletons))
        self._loaded = True

    def exact(self, key: str) -> Entity | None:
        """The entity whose squashed key is ``key``, if any (held in memory, or found by
        ``lookup`` for a vocabulary held only in part)."""
        found = self.by_key.get(key) if self._loaded else None
        if found is None and self._lookup is not None:
            found = self._lookup(key)
        return found

    def named_versions(self, name_key: str, version_key: str, limit: int = 8) -> list[Entity]:
        """Names that hold a name and its version with words between them, found in the
        vocabulary held in memory: ``claude``, ``45`` → Claude Opus 4.5, Claude Sonnet 4.5
        (squashed keys; the words between are letters only, at most twelve of them, so
        ``claude``, ``4`` never finds Claude 3.4)."""
        if not self._loaded and self._versions is not None:
            candidates = list(self._versions(name_key, version_key))
        else:
            self.ensure_loaded()
            start = bisect.bisect_left(self._sorted_keys, name_key)
            candidates = []
            for key in self._sorted_keys[start:]:
                if not key.startswith(name_key):
                    break
                if key.endswith(version_key):
                    candidates.append(self.by_key[key])
        return _letters_between(candidates, len(name_key), len(version_key), limit)

    def versions_before_name(self, name_key: str, version_key: str, limit: int = 8) -> list[Entity]:
        """Names that put the version before the name, after a head of letters (at most
        twelve): ``sonnet``, ``37`` → Claude 3.7 Sonnet, as the older model names are
        written (squashed keys). Held names are looked up in a table of those shaped so,
        by their last word, made on first use (``SearchEngine.warm`` makes it); before the
        names are held, ``versions`` reads every name of the index (GLOB ``*37sonnet``),
        so callers ask only for a version no name holds the usual way round."""
        suffix = f"{version_key}{name_key}"
        if not self._loaded and self._versions is not None:
            candidates = list(self._versions("", suffix))
        else:
            self.ensure_loaded()
            if self._version_first is None:
                self._version_first = defaultdict(list)
                for key in self._sorted_keys:
                    if match := _VERSION_FIRST_KEY_RE.fullmatch(key):
                        self._version_first[match[1]].append(key)
            keys = self._version_first.get(name_key, ())
            candidates = [self.by_key[key] for key in keys if key.endswith(suffix)]
        return _letters_between(candidates, 0, len(suffix), limit)

    def has_numbered_names(self, name_key: str) -> bool:
        """The vocabulary holds names that are ``name_key`` and a number (``pixel``: Pixel
        9, Pixel 8 Pro), a product line people name by version (squashed keys)."""
        if not name_key.isalpha():
            return False
        if not self._loaded and self._versions is not None:
            return bool(self._versions(f"{name_key}[0-9]", ""))
        self.ensure_loaded()
        start = bisect.bisect_left(self._sorted_keys, name_key)
        for key in self._sorted_keys[start:]:
            if not key.startswith(name_key):
                return False
            if key[len(name_key) : len(name_key) + 1].isdigit():
                return True
        return False

    def _extract(self, key: str, cutoff: float, limit: int) -> list[tuple[Entity, float]]:
        """The best ``limit`` matches of each length bucket that can reach ``cutoff``, then
        the best ``limit`` of them all (ties: more stories first). In a large pool only
        the keys the n-gram filter lets through are compared: the same matches. Recent
        answers are kept (a query's words are looked up again for "did you mean")."""
        remembered = self._recent.get((key, cutoff, limit))
        if remembered is not None:
            return remembered
        found = self._extract_now(key, cutoff, limit)
        if len(self._recent) >= RECENT_LOOKUPS:
            self._recent.clear()
        self._recent[(key, cutoff, limit)] = found
        return found

    def _extract_now(self, key: str, cutoff: float, limit: int) -> list[tuple[Entity, float]]:
        self.ensure_loaded()
        low, high = length_bounds(len(key), cutoff)
        passing: list[int] | None = None
        if len(self._pool_keys) >= FILTER_MIN_KEYS:
            if self._pool_filter is None:
                self._pool_filter = NgramFilter(self._pool_keys)
            passing = self._pool_filter.candidates(key, cutoff)
        found: list[tuple[Entity, float]] = []
        for length in range(low, high + 1):
            bucket = self._by_length.get(length)
            if bucket is None:
                continue
            keys, group = bucket
            if passing is not None:
                start = self._bucket_starts[length]
                first = bisect.bisect_left(passing, start)
                last = bisect.bisect_left(passing, start + len(keys))
                offsets = [position - start for position in passing[first:last]]
                if not offsets:
                    continue
                keys = [keys[offset] for offset in offsets]
                group = [group[offset] for offset in offsets]
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

    def katakana_name(
        self, word: str, *, aliases: bool = True, exact: bool = False
    ) -> tuple[str, str] | None:
        """The Latin name for a katakana word: from the alias table (fuzzy, ratio ≥ 85;
        how = ``alias``; or, for one word Sudachi does not know, as a clipping of one of its
        spellings, how = ``clipping``: ``clipped_alias``; both skipped when ``aliases`` is
        false), else as a known name spelled out letter by letter (``アールワン`` → R1; how
        = ``spelling``: ``spelled_letters``), else by transliteration when
        its consonant skeleton (four consonants or more: three match too many short names)
        matches one known name (``exact``: only exactly) with a
        clear lead (ratio ≥ 90 and no runner-up within 5; how = ``transliteration``), or
        when it spells a known person's surname (``カルパシー`` → ``Karpathy``, from
        "Andrej Karpathy"; ``_surname``), given as that surname.
        Returns ``(name, how)`` or None."""
        if aliases and self.alias_keys:
            match = process.extractOne(
                word, self.alias_keys, scorer=fuzz.ratio, processor=None, score_cutoff=85
            )
            if match:
                return self.aliases[match[0]], "alias"
            clipped = clipped_alias(word)
            if clipped is not None and _one_unknown_word(word):
                return clipped, "clipping"
        letters = spelled_letters(word)
        if letters is not None and (spelled := self.exact(letters)) is not None:
            return spelled.name, "spelling"
        self.ensure_loaded()
        if not self.skeleton_keys:
            return None
        skeleton = text.consonant_skeleton(text.romanize_katakana(word))
        found = self._transliteration(skeleton, 100 if exact else 90)
        if found is None and "ー" in word:
            # A long vowel often stands for an English "r" (マイククリーガー Mike Krieger):
            # each mark read as "r" in turn; an exact skeleton of five consonants or more
            # only (with four, クリーガー alone would be Clare Liguori).
            # Exact, so a lookup: no other skeleton of five is within 5 of ratio 100.
            for variant in _rhotic_readings(word):
                rhotic = text.consonant_skeleton(text.romanize_katakana(variant))
                named = self.skeletons.get(rhotic) if len(rhotic) >= 5 else None
                if named:
                    found = max(named, key=lambda entity: entity.stories).name
                    break
        if found is None:
            found = self._surname(word, skeleton)
        return (found, "transliteration") if found is not None else None

    def _surname(self, word: str, skeleton: str) -> str | None:
        """The surname of a known person (the last of two or three capitalized words)
        that katakana ``word`` spells (its romanization at ``fuzz.ratio`` ≥
        SURNAME_CUTOFF with no runner-up within 5: カルパシー ``karupashi`` → Karpathy 71,
        ベゾス → Bezos), when Sudachi reads ``word`` as one person's name or one word it
        does not know, and both begin with the same consonant (``skeleton`` is the word's);
        None otherwise. Loanwords Sudachi knows (ブローカー) are no surname."""
        if not self.surname_keys:
            return None
        morphemes = text.japanese_morphemes(word)
        if len(morphemes) != 1:
            return None
        if not morphemes[0].oov and morphemes[0].pos[:3] != ("名詞", "固有名詞", "人名"):
            return None
        romanized = text.romanize_katakana(word)
        if len(romanized) < SURNAME_MIN_LETTERS:
            return None
        matches = self.surname_keys.extract(romanized, SURNAME_CUTOFF - 5, 2)
        if not matches or matches[0][1] < SURNAME_CUTOFF:
            return None
        if len(matches) > 1 and matches[0][1] - matches[1][1] < 5:
            return None
        surname = self.surnames[matches[0][0]]
        # The first consonant survives transliteration: ラボズ is not "About".
        if text.consonant_skeleton(surname)[:1] != skeleton[:1]:
            return None
        return surname

    def _transliteration(self, skeleton: str, cutoff: float) -> str | None:
        """The name whose consonant skeleton matches ``skeleton`` (four consonants or more)
        at ``cutoff`` or above with no runner-up within 5, or None."""
        if len(skeleton) < 4:
            return None
        # A runner-up below 85 is more than 5 behind a best of 90: the cutoff decides
        # nothing the rule below would not.
        matches = self.skeleton_keys.extract(skeleton, 85, 2)
        if not matches or matches[0][1] < cutoff:
            return None
        if len(matches) > 1 and matches[0][1] - matches[1][1] < 5:
            return None
        candidates = self.skeletons[matches[0][0]]
        return max(candidates, key=lambda entity: entity.stories).name

    def hiragana_name(
        self,
        word: str,
        *,
        after_name: bool = False,
        known_term: Callable[[str], bool] | None = None,
    ) -> tuple[str, float] | None:
        """The Latin name for a word written in hiragana (``くろーど`` → ``Claude``), read
        as katakana, with how sure the reading is: 1.0 for a spelling of the alias table,
        0.8 for a close one (ratio ≥ 90; words of three kana or more), 0.6 for a
        transliteration, which needs a mark that only loanwords carry in hiragana (``ー``
        or a small vowel such as ``ぇ`` that Sudachi cannot place in any word: ``すげー``
        and ``さー`` are Japanese) or a word Sudachi reads only at a high cost per kana
        (``べぞす``: ``_unreadable_as_japanese``). Ordinary Japanese words (Sudachi knows
        them as one word) are names only as an exact alias right after another name and a
        particle (``そら`` alone is Japanese, ``おーぷんえーあいのそら`` is OpenAI's Sora:
        ``after_name``). A loanword of the corpus spelled in hiragana (``ぶらうざ``: the
        corpus writes ブラウザ; ``known_term`` answers for a katakana word) comes back as
        itself in katakana with sureness 0.7. Returns ``(name, sureness)`` or None."""
        if len(word) < 2:
            return None
        katakana = str(jaconv.hira2kata(word)).replace("・", "")
        # Sudachi is asked whether the word is Japanese only once a reading is found:
        # most stretches the split tries are no name at all.
        name = self.aliases.get(katakana)
        if name is not None:
            return (name, 1.0) if after_name or not text.is_dictionary_word(word) else None
        if len(word) < 3:
            return None
        found: tuple[str, float] | None = None
        match = process.extractOne(
            katakana, self.alias_keys, scorer=fuzz.ratio, processor=None, score_cutoff=90
        )
        if match:
            found = self.aliases[match[0]], 0.8
        elif known_term is not None and known_term(katakana):
            found = katakana, 0.7
        elif _has_loose_loanword_mark(word) or _unreadable_as_japanese(word):
            # Exact skeletons only: a stretch of hiragana chatter read as one long word
            # comes within one consonant of some name (まいくくりーがーがらぼず, Merge Labs).
            transliterated = self.katakana_name(katakana, aliases=False, exact=True)
            found = (transliterated[0], 0.6) if transliterated is not None else None
        return found if found is not None and not text.is_dictionary_word(word) else None


def _letters_between(
    candidates: Sequence[Entity], skipped: int, cut: int, limit: int
) -> list[Entity]:
    """The first ``limit`` of ``candidates`` whose key, without its first ``skipped`` and
    last ``cut`` characters, is letters only, at most twelve: the words a name puts
    between, or before, itself and its version."""
    found: list[Entity] = []
    for entity in candidates:
        between = entity.key[skipped : len(entity.key) - cut]
        if between.isalpha() and len(between) <= 12:
            found.append(entity)
            if len(found) >= limit:
                break
    return found


def _rhotic_readings(word: str) -> list[str]:
    """``word`` (katakana) with some of its long-vowel marks (at most four) read as ル,
    the ones nearest the start first: マークチェン → マルクチェン."""
    marks = [i for i, ch in enumerate(word) if ch == "ー"][:4]
    readings = []
    for count in range(1, len(marks) + 1):
        for chosen in combinations(marks, count):
            readings.append("".join("ル" if i in chosen else ch for i, ch in enumerate(word)))
    return readings


def _has_loose_loanword_mark(word: str) -> bool:
    """True when ``word`` is spelled like a loanword: a syllable only loanwords use, a
    long-vowel mark inside it (``まーくちぇん``), a middle dot between two words (how
    foreign full names are written: ``ぱとりっく・ころりそん``), or a long-vowel mark or
    small vowel that Sudachi leaves on its own (``くろーど`` → くろ / ー / ど)."""
    if _LOAN_SYLLABLE_RE.search(word) or (len(word) >= 5 and word.endswith("ー")):
        return True  # a long word ending in a long vowel: さらふらいやー (すげー is short)
    if "・" in word.strip("・"):
        return True  # a dot between words, as in a foreign full name: ぱとりっく・ころりそん
    if not _LOANWORD_MARK_RE.search(word):
        return False  # no mark for Sudachi to leave alone
    return any(
        morpheme.pos[0] == "補助記号" and _LOANWORD_MARK_RE.fullmatch(morpheme.surface)
        for morpheme in text.japanese_morphemes(word)
    )


def _unreadable_as_japanese(word: str) -> bool:
    """True when ``word`` (hiragana, three kana or more, not starting as no word can, with
    ``っ``, ``ん``, ``ー`` or a small kana) is too costly for Sudachi to read as Japanese:
    at least UNREADABLE_COST_PER_KANA per kana (``text.reading_cost_per_character``), as
    foreign names spelled in hiragana are (``べぞす``, ``ぷろめてうす``)."""
    if len(word) < 3 or word[0] in _NEVER_FIRST_KANA:
        return False
    return text.reading_cost_per_character(word) >= UNREADABLE_COST_PER_KANA


def hiragana_names(
    run: str, vocabulary: EntityVocabulary, known_term: Callable[[str], bool] | None = None
) -> str:
    """``run`` (Japanese text) with the names written in hiragana turned into katakana, so
    that the katakana rules link them: ``めたのらま`` → ``メタのラマ``,
    ``くろーどのはいく`` → ``クロードのハイク``. A name must fill a hiragana stretch between
    the run's edges, non-hiragana text and particles (``の``, ``と``, ``って``…); hiragana
    right after a kanji is its inflection and never a name."""
    pieces: list[str] = []
    position = 0
    for match in _HIRAGANA_RUN_RE.finditer(run):
        start, end = match.span()
        if start > 0 and KANJI_RE.match(run[start - 1]):
            continue  # okurigana: 始めた, 使える
        converted = _convert_stretch(match.group(0), vocabulary, known_term)
        if converted != match.group(0):
            pieces.append(run[position:start])
            pieces.append(converted)
            position = end
    pieces.append(run[position:])
    return "".join(pieces)


#: Sudachi's reading cost per kana above which a hiragana word is read as a foreign name:
#: over the hiragana of this project's evaluation messages and the site's Japanese
#: articles, words a Japanese reader writes stay under 2,000 (okurigana aside, which is
#: never read for names), names spelled in hiragana cost 3,000 to 7,000.
UNREADABLE_COST_PER_KANA = 3_000
_NEVER_FIRST_KANA = frozenset("っんーゃゅょぁぃぅぇぉゎ")

#: Longest hiragana stretch read for names in one piece (characters).
MAX_STRETCH = 24


def _convert_stretch(
    stretch: str, vocabulary: EntityVocabulary, known_term: Callable[[str], bool] | None
) -> str:
    """Names in one hiragana stretch: the best split into names and particles, names
    covering as many kana as possible. The first name starts the stretch or follows a
    particle; the text before and after that run of names is read the same way
    (``さいもんうぃりそんがぶろぐでくろーどこーどのこと``: two names with a word between).
    A stretch longer than MAX_STRETCH is cut after a particle and read piece by piece (the
    split tries every substring: its cost grows with the square of the length)."""
    size = len(stretch)
    if size < 2:
        return stretch
    after_particles = [
        position
        for position in range(1, size)
        if any(stretch.endswith(p, 0, position) for p in _PARTICLES)
    ]
    if size > MAX_STRETCH:
        cuts = after_particles
        if not cuts:
            return stretch
        cut = min(cuts, key=lambda position: abs(position - size // 2))
        return _convert_stretch(stretch[:cut], vocabulary, known_term) + _convert_stretch(
            stretch[cut:], vocabulary, known_term
        )

    @cache
    def best(start: int, after_name: bool) -> tuple[float, tuple[tuple[int, int], ...]]:
        """(score, name spans) for stretch[start:] with a name starting here: kana covered
        by names, each weighted by how sure its reading is."""
        options: list[tuple[float, tuple[tuple[int, int], ...]]] = [(0.0, ())]
        for end in range(size, start + 1, -1):
            # A name ends at a particle or the stretch's end: other ends are not read.
            follow = [p for p in _PARTICLES if stretch.startswith(p, end)] if end < size else []
            if end < size and not follow:
                continue
            found = vocabulary.hiragana_name(
                stretch[start:end], after_name=after_name, known_term=known_term
            )
            if found is None:
                continue
            score = (end - start) * found[1]
            rest: tuple[tuple[int, int], ...] = ()
            if follow:
                continuation = max(
                    (best(end + len(p), True) for p in follow if end + len(p) < size),
                    default=(0.0, ()),
                )
                # The particle after a name is read too: "まーくちぇん" + "が" explains the
                # stretch better than one name "まーくちぇんが".
                score += continuation[0] + min(len(p) for p in follow)
                rest = continuation[1]
            options.append((score, ((start, end), *rest)))
        return max(options, key=lambda option: option[0])

    starts = [0] + [position for position in after_particles if position < size - 1]
    _score, names = max((best(start, False) for start in starts), key=lambda option: option[0])
    if not names:
        return stretch
    out, position = [_convert_stretch(stretch[: names[0][0]], vocabulary, known_term)], 0
    for start, end in names:
        if position:
            out.append(stretch[position:start])
        out.append(str(jaconv.hira2kata(stretch[start:end])))
        position = end
    out.append(_convert_stretch(stretch[position:], vocabulary, known_term))
    return "".join(out)


def nickname(word: str, typed: str) -> str | None:
    """The name a nickname or stock ticker stands for (``oai`` → OpenAI, ``NVDA`` →
    Nvidia), from the ``[nicknames]`` table of ``bot/data/aliases.toml``; ``word`` is the
    normalized word, ``typed`` the word as the user wrote it (two-letter nicknames count
    only in capitals: ``MS`` but not ``ms``; three-letter ones the table writes with
    capitals count only typed with them: ``SEC`` or ``BoE``, not "a sec")."""
    found = _nicknames().get(word)
    if found is None:
        return None
    name, written = found
    if len(word) <= 2 and not typed.isupper():
        return None
    if len(word) == 3 and not written.islower() and not (typed.isupper() or typed == written):
        return None
    return name


def spelled_letters(word: str) -> str | None:
    """The letters and digits ``word`` (katakana) spells out, two or more, each said as in
    SPELLED_LETTERS: ``アールワン`` → ``r1``, ``エーアイ`` → ``ai``; None for any other
    word (``ワイン`` is no spelling)."""
    word = word.replace("・", "")
    # spelled[i]: the letters spelling word[:i], or None when no split reaches i.
    spelled: list[str | None] = [""] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - 5), end):
            letter = SPELLED_LETTERS.get(word[start:end])
            before = spelled[start]
            if letter is not None and before is not None:
                spelled[end] = before + letter
                break
    letters = spelled[-1]
    return letters if letters is not None and len(letters) >= 2 else None


def clipped_alias(word: str) -> str | None:
    """The name whose katakana spelling in the alias table ``word`` (katakana) clips the
    way Japanese shortens names, long-vowel marks aside: its first kana (``アンスロ`` of
    アンスロピック) or the first two kana of each of two parts (``スノフレ`` of
    スノーフレーク, ``ソフバン`` of ソフトバンク); at least CLIPPED_MIN_KANA kana. None
    unless the spellings it clips are of one name."""
    kana = word.replace("ー", "")
    if len(kana) < CLIPPED_MIN_KANA or not text.is_katakana_word(kana):
        return None
    names = {name for spelling, name in _katakana_spellings() if _clips(kana, spelling)}
    return names.pop() if len(names) == 1 else None


def _clips(kana: str, spelling: str) -> bool:
    if len(spelling) <= len(kana) or spelling[:2] != kana[:2]:
        return False
    second = kana[2:]
    return spelling.startswith(kana) or (len(second) <= 3 and spelling.find(second, 2) >= 2)


@lru_cache(maxsize=1)
def _katakana_spellings() -> list[tuple[str, str]]:
    """The alias table's katakana-only spellings without long-vowel marks, with their
    names."""
    return [
        (spelling.replace("ー", ""), name)
        for spelling, name in _katakana_aliases().items()
        if text.is_katakana_word(spelling)
    ]


def _one_unknown_word(word: str) -> bool:
    """True when Sudachi reads ``word`` as one word its dictionary does not know."""
    morphemes = text.japanese_morphemes(word)
    return len(morphemes) == 1 and morphemes[0].oov


def known_name(word: str) -> bool:
    """True when ``word`` is a name of the field the alias table knows (``devin``,
    ``windsurf``), even when the corpus never mentions it: a question about it is a
    question about a name."""
    return text.squash(word) in _alias_names()


@lru_cache(maxsize=1)
def _alias_names() -> frozenset[str]:
    table = _alias_table()
    names = [*table["names"], *table.get("nicknames", {})]
    return frozenset(text.squash(name) for name in names)


@lru_cache(maxsize=1)
def _alias_table() -> dict[str, dict[str, list[str]]]:
    raw = resources.files("bot").joinpath("data", "aliases.toml").read_bytes()
    return tomllib.loads(raw.decode("utf-8"))


def mixed_script_names(normalized: str) -> tuple[str, list[tuple[str, str]]]:
    """``normalized`` (text folded by ``text.normalize``) with the spellings of the alias
    table that mix kana and Latin letters (``オープンai``, ``チャットgpt``) replaced by their
    names, which a split into Japanese and Latin words would tear apart; and the
    ``(spelling, name)`` pairs replaced."""
    found: list[tuple[str, str]] = []
    for spelling, name in _mixed_spellings():
        if spelling in normalized:
            normalized = normalized.replace(spelling, f" {text.normalize(name)} ")
            found.append((spelling, name))
    return normalized, found


@lru_cache(maxsize=1)
def _mixed_spellings() -> list[tuple[str, str]]:
    """Spellings of the alias table that mix kana and Latin letters (``チャットgpt``), and
    the same in hiragana (``ちゃっとgpt``), longest first, with their names."""
    pairs = [
        (spelling, name)
        for spelling, name in _katakana_aliases().items()
        if text.is_japanese(spelling) and any(ch.isascii() and ch.isalpha() for ch in spelling)
    ]
    pairs += [(str(jaconv.kata2hira(spelling)), name) for spelling, name in pairs]
    return sorted(set(pairs), key=lambda pair: (-len(pair[0]), pair))


@lru_cache(maxsize=1)
def _katakana_aliases() -> dict[str, str]:
    aliases: dict[str, str] = {}
    for name, spellings in _alias_table()["names"].items():
        for spelling in spellings:
            aliases[text.normalize(spelling).replace("・", "").replace(" ", "")] = name
    return aliases


@lru_cache(maxsize=1)
def _nicknames() -> dict[str, tuple[str, str]]:
    """Normalized nickname → (the name, the nickname as the table writes it)."""
    table: dict[str, tuple[str, str]] = {}
    for name, spellings in _alias_table().get("nicknames", {}).items():
        for spelling in spellings:
            table[text.normalize(spelling)] = (name, spelling)
    return table
