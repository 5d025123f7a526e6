"""The queries the scale benchmarks time: many distinct ones per kind, made from the corpus.

Every query is run for the first time when it is timed, so the figures are first runs (no
cache of the bot has seen the query); a skeptic's p99 needs about a thousand of them. They
are built deterministically (``seed``) from what the corpus holds, never from an
evaluation set:

* words and names of the real corpus (``../shared/corpus-technyan``): English words and
  Japanese nouns of its titles and descriptions, its tags and companies; classed common or
  rare by the number of documents of the benchmark's index that hold them;
* the names the synthetic corpus invented (its manifest), with their katakana spellings;
* the katakana spellings of ``bot/data/aliases.toml``;
* sentence templates for dates, questions, chat and Discord noise written for this file.

Kinds: ``common_en``, ``rare_en``, ``common_ja``, ``rare_ja``, ``katakana``, ``typo``,
``date``, ``question``, ``noise``, ``cross_lang``, ``chatty``, ``invented_rare``,
``invented_common``.
"""

from __future__ import annotations

import random
import re
import sqlite3
import tomllib
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KINDS = (
    "common_en",
    "rare_en",
    "common_ja",
    "rare_ja",
    "katakana",
    "typo",
    "date",
    "question",
    "noise",
    "cross_lang",
    "chatty",
    "invented_rare",
    "invented_common",
)
# A word is common when at least this share of the index's documents hold it, rare when
# at most RARE_SHARE do (and at least one does).
COMMON_SHARE = 0.01
RARE_SHARE = 0.001
_ENGLISH_WORD_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9.\-]{2,}\b")
_STOPWORDS = frozenset(
    "the and for with from that this into over about after their more than what when will "
    "have has its are was were new how why who can not you your our all any been also".split()
)
_MONTHS = (
    "January February March April May June July August September October November December".split()
)
_EN_QUESTIONS = (
    "What did {name} announce?",
    "When did {name} release {word}?",
    "How much did {name} raise?",
    "Who leads {name} now?",
    "Why is everyone talking about {name}?",
    "What is new in {name} {word}?",
    "How does {name} compare to {other}?",
)
_JA_QUESTIONS = (
    "{name}は何を発表した？",
    "{name}の評価額はいくら？",
    "{name}の{ja}はいつから？",
    "{name}と{other}の違いは？",
    "{ja}について{name}はどう対応した？",
    "{name}の新しい{ja}ってどうなった？",
)
_DATES = (
    "{year}年{month}月",
    "{year}年{month}月の{name}",
    "{month_name} {year}",
    "{name} {month_name} {year}",
    "{name} news from {year}",
    "{year}年の{ja}",
    "latest {name} news",
    "最新の{name}",
    "{name} in Q{quarter} {year}",
)
_CHATTY = (
    "hey does anyone know what happened with {name} and {word}? i saw something last week "
    "but couldn't find it again",
    "ok so my friend keeps talking about {name}, is there any news about {word} or is it "
    "just hype lol",
    "anything new on {name}? asking for our team's {word} project",
    "{name}の{ja}ってどうなったんだっけ？先週ちょっと話題になってた気がする",
    "最近{name}の話よく聞くけど、{ja}関係で何か新しいニュースある？",
    "sorry if this was asked before but what's the latest on {name} {word}",
)
_NOISE = (
    "<@{digits}> {name}",
    "**{name}** {word}!!!",
    "{name}?? 🤔🤔",
    '"{name} ({word}',
    "{name} AND -{word}",
    "https://example.com/{word} {name}",
    "{fullwidth}",
    "{name}　{ja}",
    "<#{digits}> {name} NEAR {word}",
)


def _mutate(word: str, rng: random.Random) -> str:
    """A typo of ``word``: two neighbouring letters swapped, one dropped or one doubled."""
    if len(word) < 4:
        return word + word[-1]
    position = rng.randrange(1, len(word) - 2)
    how = rng.randrange(3)
    if how == 0:
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    if how == 1:
        return word[:position] + word[position + 1 :]
    return word[:position] + word[position] + word[position:]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else "\u3000" for ch in text)


def _real_vocabulary(corpus: Path) -> tuple[list[str], list[str], list[str], list[str]]:
    """English words and Japanese nouns of the real corpus's titles and descriptions, and
    its names (tags and companies): ``(english, japanese, names_en, names_ja)``."""
    from bot import text
    from bot.corpus import CorpusError, discover, parse_article

    english: set[str] = set()
    japanese: set[str] = set()
    names: set[str] = set()
    for path, location in discover(corpus):
        try:
            article = parse_article(path, location, path.relative_to(corpus).as_posix())
        except CorpusError:
            continue
        names.update(tag for tag in article.tags if tag.isascii())
        names.update(article.related_companies)
        for field in (article.title, article.description):
            if article.locale == "en":
                english.update(
                    word
                    for word in _ENGLISH_WORD_RE.findall(field)
                    if word.casefold() not in _STOPWORDS
                )
            else:
                for run in re.findall(text.JAPANESE_RUN, text.normalize(field)):
                    for morpheme in text.japanese_morphemes(run):
                        if morpheme.pos[0] == "名詞" and len(morpheme.surface) >= 2:
                            japanese.add(morpheme.surface)
    ascii_names = sorted(n for n in names if n.isascii() and 2 <= len(n) <= 30)
    return sorted(english), sorted(japanese), ascii_names, sorted(names - set(ascii_names))


def _katakana_aliases() -> list[str]:
    raw = (ROOT / "bot" / "data" / "aliases.toml").read_bytes()
    table = tomllib.loads(raw.decode("utf-8"))["names"]
    return sorted({s for spellings in table.values() for s in spellings if not s.isascii()})


def _frequencies(index: Path, words: Sequence[str]) -> dict[str, int]:
    """Documents of ``index`` holding each word (its rarest analyzed term; 0 when the index
    lacks one), from the index's term statistics."""
    from bot import text

    connection = sqlite3.connect(f"file:{index}?mode=ro", uri=True)
    found: dict[str, int] = {}
    for word in words:
        terms = text.analyze(word)
        counts = []
        for term in terms:
            row = connection.execute(
                "SELECT documents FROM term_stats WHERE term = ?", [term]
            ).fetchone()
            counts.append(int(row[0]) if row else 0)
        found[word] = min(counts) if counts else 0
    total = int(connection.execute("SELECT count(*) FROM documents").fetchone()[0])
    found[""] = total
    connection.close()
    return found


def build_queries(
    index: Path,
    manifest: dict[str, object],
    corpus: Path,
    per_kind: int = 100,
    seed: int = 7,
) -> list[tuple[str, str]]:
    """``(kind, query)`` pairs, ``per_kind`` of each kind of ``KINDS`` (fewer when the
    corpus offers fewer), all distinct, in a shuffled order (kinds interleaved, as a bot
    would see them)."""
    rng = random.Random(seed)
    english, japanese, names_en, _names_ja = _real_vocabulary(corpus)
    frequencies = _frequencies(index, english + japanese + names_en)
    total = frequencies.pop("")

    def share(word: str) -> float:
        return frequencies.get(word, 0) / max(1, total)

    common_en = [w for w in english if share(w) >= COMMON_SHARE] or english
    rare_en = [w for w in english if 0 < share(w) <= RARE_SHARE] or english
    common_ja = [w for w in japanese if share(w) >= COMMON_SHARE] or japanese
    rare_ja = [w for w in japanese if 0 < share(w) <= RARE_SHARE] or japanese
    known_names = [n for n in names_en if share(n) > 0] or names_en
    invented = manifest.get("names") or []
    assert isinstance(invented, list)
    invented_rare = [n for n in invented if n["stories"] <= 2]
    invented_common = sorted(invented, key=lambda n: -n["stories"])[:300]
    katakana = _katakana_aliases() + [str(n["katakana"]) for n in invented_common[:150]]

    def pick(pool: Sequence[str]) -> str:
        return pool[rng.randrange(len(pool))]

    def name() -> str:
        return pick(known_names) if rng.random() < 0.7 else str(pick(invented_common)["name"])

    makers = {
        "common_en": lambda: " ".join(pick(common_en) for _ in range(rng.choice((1, 2, 2, 3)))),
        "rare_en": lambda: " ".join(
            [pick(rare_en)] + ([pick(common_en)] if rng.random() < 0.4 else [])
        ),
        "common_ja": lambda: rng.choice(("", "の", "と", " ")).join(
            pick(common_ja) for _ in range(rng.choice((1, 2)))
        ),
        "rare_ja": lambda: rng.choice(("", "の", " ")).join(
            [pick(rare_ja)] + ([pick(common_ja)] if rng.random() < 0.4 else [])
        ),
        "katakana": lambda: (
            pick(katakana)
            + (rng.choice(("", "の", "の" + pick(common_ja))) if rng.random() < 0.4 else "")
        ),
        "typo": lambda: " ".join(
            _mutate(word, rng) if len(word) >= 5 else word
            for word in (name() + (" " + pick(common_en) if rng.random() < 0.3 else "")).split()
        ),
        "date": lambda: rng.choice(_DATES).format(
            year=rng.randrange(2020, 2027),
            month=rng.randrange(1, 13),
            month_name=pick(_MONTHS),
            quarter=rng.randrange(1, 5),
            name=name(),
            ja=pick(common_ja),
        ),
        "question": lambda: rng.choice(_EN_QUESTIONS + _JA_QUESTIONS).format(
            name=name(), other=name(), word=pick(common_en), ja=pick(common_ja)
        ),
        "noise": lambda: rng.choice(_NOISE).format(
            digits=rng.randrange(10**17, 10**18),
            name=name(),
            word=pick(common_en),
            ja=pick(common_ja),
            fullwidth=_fullwidth(name()),
        ),
        "cross_lang": lambda: f"{name()} {pick(common_ja)}",
        "chatty": lambda: rng.choice(_CHATTY).format(
            name=name(), word=pick(common_en + rare_en), ja=pick(common_ja)
        ),
        "invented_rare": lambda: str(pick(invented_rare)["name"]) if invented_rare else name(),
        "invented_common": lambda: str(pick(invented_common)["name"]),
    }
    queries: list[tuple[str, str]] = []
    seen: set[str] = set()
    for kind in KINDS:
        made = 0
        for _attempt in range(per_kind * 50):
            if made >= per_kind:
                break
            query = makers[kind]()
            if query and query not in seen:
                seen.add(query)
                queries.append((kind, query))
                made += 1
    rng.shuffle(queries)
    return queries


def prefixes(queries: Sequence[str], count: int, seed: int = 7) -> list[str]:
    """Distinct prefixes of ``queries`` as a user types them (every prefix of each query in
    turn), at most ``count``."""
    found: list[str] = []
    seen: set[str] = set()
    for query in queries:
        for end in range(1, len(query) + 1):
            prefix = query[:end]
            if prefix not in seen:
                seen.add(prefix)
                found.append(prefix)
                if len(found) >= count:
                    return found
    return found
