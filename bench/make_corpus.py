"""Write a synthetic corpus of N documents in the site's layout, recombined from the real one.

    python bench/make_corpus.py N OUT [--seed S] [--source ../shared/corpus-technyan]

Every synthetic story is built from real material of the same locale:

* its title is a real story's title (both locales) with the names in it swapped for
  invented ones; its description, technyan comment and body sections are sampled from real
  documents of the same locale (headings kept), with some of the names in them swapped too,
  and in Japanese 30 % of katakana words and kanji compounds replaced by other real words of
  the same script (so clauses are not verbatim repeats: the analyzer's cache of Japanese
  runs would otherwise hit 93 % of the time, against 35 % on the real corpus);
* its tags are real tags of that locale plus the story's invented names;
* dates spread over 2019-01-01 … 2026-02-08, denser towards the present like the site.

Invented names (products with versions, companies, people) are pronounceable syllable
combinations with a katakana spelling (``Kasumira 3.5`` / ``カスミラ``); about half the
stories invent a new product and company, the rest reuse earlier ones (older names more
often), so the number of distinct terms grows roughly linearly with N. Japanese documents
write the names in Latin letters like the site, sometimes in katakana.

Layouts as on the site: ``articles/YYYYMMDD/<slug>/{ja,en}.md`` for ~80 % of stories and
``aiTimeline/YYYYMM-<slug>/{ja,en}.md`` (with ``impactLevel`` and ``relatedCompanies``)
for ~20 %; about 2 % of stories exist in one language only. N counts files.

Deterministic: story ``i`` depends only on the seed and the stories before it, so the
corpus of 1 000 documents is the first stories of the corpus of 100 000. A manifest
``OUT/bench-manifest.json`` lists the invented names with their story counts (the query
benchmark picks rare names from it). Prints a one-line table of what was written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.corpus import Article, CorpusError, discover, parse_article  # noqa: E402

DEFAULT_SOURCE = Path(
    os.environ.get("TECHNYAN_REAL_CORPUS") or ROOT.parent / "shared" / "corpus-technyan"
)
MANIFEST = "bench-manifest.json"
FIRST_DAY = dt.date(2019, 1, 1)
LAST_DAY = dt.date(2026, 2, 8)
TIMELINE_SHARE = 0.2
SINGLE_LOCALE_SHARE = 0.02
NEW_NAME_SHARE = 0.5
# Latin words of titles and tags that are not names and stay as written.
KEEP_WORDS = frozenset(
    "AI CEO API LLM LLMs IPO CES MCP GPU GPUs DX PC US UK EU AGI USA SDK IDE OS App Apps "
    "The and of for in on to with".split()
)
_LATIN_TOKEN_RE = re.compile(r"[A-Za-z][A-Za-z0-9+]*(?:[.\-][A-Za-z0-9+]+)*")
# Japanese words that can stand in for one another: katakana words and kanji compounds.
_KATAKANA_WORD_RE = re.compile(r"[ァ-ヴ][ァ-ヴー]+")
_KANJI_WORD_RE = re.compile(r"[一-龯々]{2,}")
_JAPANESE_WORD_RE = re.compile(rf"{_KATAKANA_WORD_RE.pattern}|{_KANJI_WORD_RE.pattern}")
# Share of Japanese words in sampled passages replaced by another word of the same script.
# Recombined text repeats the real corpus's clauses; without this, 93 % of the Japanese runs
# the analyzer sees are repeats (the real corpus: 35 %), which flatters its run cache.
JAPANESE_WORD_SHARE = 0.3
_KANA = (
    "ka:カ ki:キ ku:ク ke:ケ ko:コ sa:サ shi:シ su:ス se:セ so:ソ ta:タ te:テ to:ト na:ナ "
    "ni:ニ nu:ヌ ne:ネ no:ノ ha:ハ hi:ヒ fu:フ ho:ホ ma:マ mi:ミ mu:ム me:メ mo:モ ya:ヤ "
    "yu:ユ yo:ヨ ra:ラ ri:リ ru:ル re:レ ro:ロ wa:ワ ga:ガ gi:ギ go:ゴ za:ザ zu:ズ da:ダ "
    "de:デ do:ド ba:バ bi:ビ bu:ブ be:ベ bo:ボ pa:パ pi:ピ po:ポ"
)
SYLLABLES = tuple(tuple(pair.split(":")) for pair in _KANA.split())
COMPANY_SUFFIXES = ("", " AI", " Labs", " Robotics", " Systems", " Dynamics", " Technologies")
VERSIONS = ("", " 2", " 3", " 3.5", " 4", " 5", " 1.5", " 2.1", " Pro", " Flash", " Max", " Mini")
IMPACT_LEVELS = ("critical",) * 3 + ("high",) * 11 + ("medium",) * 5 + ("low",)
CHANGE_LINES = {
    "en": "{product}, built by {company}, is at the center of this development.",
    "ja": "{company}の{product}がこの動きの中心にある。",
}


@dataclass(frozen=True)
class Name:
    """An invented name: Latin spelling (``Kasumira 3.5``), the katakana spelling of its
    base word (``カスミラ``) and its kind (``product``, ``company`` or ``person``)."""

    latin: str
    katakana: str
    kind: str


@dataclass
class Template:
    """One real document, pre-split for fast recombination: pieces alternate between
    literal text and real names (odd positions), so swapping names is a join."""

    article: Article
    title: list[str]
    description: list[str]
    comment: list[str]
    lead: list[str]
    sections: list[list[str]]
    sources: str
    body_chars: int


@dataclass
class Source:
    """The real corpus by locale: templates, stories with both locales, tags."""

    by_locale: dict[str, list[Template]] = field(default_factory=dict)
    stories: list[tuple[Template, Template]] = field(default_factory=list)
    timeline_stories: list[tuple[Template, Template]] = field(default_factory=list)
    tags: dict[str, list[str]] = field(default_factory=dict)
    sections: dict[str, list[list[str]]] = field(default_factory=dict)
    katakana_words: list[str] = field(default_factory=list)
    kanji_words: list[str] = field(default_factory=list)


def _split_sections(body: str) -> tuple[str, list[str], str]:
    """Split a markdown body at level-2 headings: ``(lead, sections, sources section)``;
    each section keeps its heading line."""
    parts = re.split(r"(?m)^(?=## )", body)
    lead, sections, sources = parts[0].strip("\n"), [], ""
    for part in parts[1:]:
        heading = part.split("\n", 1)[0][3:].strip(" *:：")
        if re.match(r"(?i)^(ソース|参考|情報源|出典|sources?|references?)", heading):
            sources = part.strip("\n")
        else:
            sections.append(part.strip("\n"))
    return lead, sections, sources


def load_source(folder: Path) -> Source:
    """Read the real corpus at ``folder`` and pre-split it for recombination.

    Raises ``FileNotFoundError`` when ``folder`` holds no readable article."""
    articles: list[Article] = []
    for path, location in discover(folder):
        try:
            articles.append(parse_article(path, location, path.relative_to(folder).as_posix()))
        except CorpusError:
            continue
    if not articles:
        raise FileNotFoundError(f"no articles under {folder}")
    names: set[str] = set()
    for article in articles:
        latin_fields = [article.title] if article.locale == "ja" else []
        latin_fields += list(article.tags) + list(article.related_companies)
        for value in latin_fields:
            for token in _LATIN_TOKEN_RE.findall(value):
                if len(token) >= 3 and token not in KEEP_WORDS:
                    names.add(token)
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    name_re = re.compile(rf"(?<![A-Za-z0-9])({alternation})(?![A-Za-z0-9])")

    source = Source()
    by_story: dict[str, dict[str, Template]] = {}
    tag_counts: dict[str, Counter[str]] = {"ja": Counter(), "en": Counter()}
    for article in articles:
        lead, sections, sources = _split_sections(article.body)
        template = Template(
            article=article,
            title=name_re.split(article.title),
            description=name_re.split(article.description),
            comment=name_re.split(article.technyan_comment or ""),
            lead=name_re.split(lead),
            sections=[name_re.split(s) for s in sections],
            sources=sources,
            body_chars=len(article.body),
        )
        source.by_locale.setdefault(article.locale, []).append(template)
        source.sections.setdefault(article.locale, []).extend(template.sections)
        by_story.setdefault(article.story, {})[article.locale] = template
        tag_counts[article.locale].update(article.tags)
    for story in sorted(by_story):
        pair = by_story[story]
        if "ja" in pair and "en" in pair:
            entry = (pair["ja"], pair["en"])
            source.stories.append(entry)
            if pair["ja"].article.collection == "aiTimeline":
                source.timeline_stories.append(entry)
    # Tags with repetition, so common real tags stay common.
    source.tags = {locale: sorted(counts.elements()) for locale, counts in tag_counts.items()}
    japanese = " ".join(t.article.body for t in source.by_locale.get("ja", []))
    source.katakana_words = sorted(set(_KATAKANA_WORD_RE.findall(japanese)))
    source.kanji_words = sorted(set(_KANJI_WORD_RE.findall(japanese)))
    return source


class NamePool:
    """Invented names, made on demand and reused with a bias towards older ones."""

    def __init__(self) -> None:
        self.names: dict[str, list[Name]] = {"product": [], "company": [], "person": []}
        self.used: set[str] = set()
        self.stories: Counter[str] = Counter()

    def _word(self, rng: random.Random, low: int, high: int) -> tuple[str, str]:
        while True:
            picked = [rng.choice(SYLLABLES) for _ in range(rng.randint(low, high))]
            latin = "".join(p[0] for p in picked).capitalize()
            katakana = "".join(p[1] for p in picked)
            if rng.random() < 0.25:
                latin, katakana = latin + "n", katakana + "ン"
            if latin not in self.used:
                self.used.add(latin)
                return latin, katakana

    def invent(self, rng: random.Random, kind: str) -> Name:
        """A new name of ``kind`` (``product``, ``company`` or ``person``)."""
        if kind == "product":
            word, kana = self._word(rng, 2, 4)
            name = Name(word + rng.choice(VERSIONS), kana, kind)
        elif kind == "company":
            word, kana = self._word(rng, 2, 4)
            name = Name(word + rng.choice(COMPANY_SUFFIXES), kana, kind)
        else:
            first, first_kana = self._word(rng, 2, 3)
            last, last_kana = self._word(rng, 2, 4)
            name = Name(f"{first} {last}", f"{first_kana}・{last_kana}", kind)
        self.names[kind].append(name)
        return name

    def pick(self, rng: random.Random, kind: str) -> Name:
        """A new name with probability ``NEW_NAME_SHARE``, else an earlier one (older
        names more likely, so a few become common)."""
        pool = self.names[kind]
        if not pool or rng.random() < NEW_NAME_SHARE:
            return self.invent(rng, kind)
        return pool[int(len(pool) * rng.random() ** 3)]


def _swap(pieces: list[str], replacements: list[str], rng: random.Random, share: float) -> str:
    """Join pre-split ``pieces``, replacing each real name (odd positions) with one of
    ``replacements`` with probability ``share``."""
    if len(pieces) == 1:
        return pieces[0]
    out = []
    for index, piece in enumerate(pieces):
        if index % 2 and rng.random() < share:
            out.append(rng.choice(replacements))
        else:
            out.append(piece)
    return "".join(out)


def _vary_japanese(text: str, source: Source, rng: random.Random) -> str:
    """Replace ``JAPANESE_WORD_SHARE`` of the katakana words and kanji compounds of
    ``text`` with other words of the same script from the real corpus (headings kept), so
    that recombined Japanese text does not repeat the real clauses verbatim."""

    def replace(match: re.Match[str]) -> str:
        if rng.random() >= JAPANESE_WORD_SHARE:
            return match.group(0)
        katakana = "ァ" <= match.group(0)[0] <= "ヴ"
        words = source.katakana_words if katakana else source.kanji_words
        return rng.choice(words) if words else match.group(0)

    heading, newline, rest = text.partition("\n") if text.startswith("#") else ("", "", text)
    return heading + newline + _JAPANESE_WORD_RE.sub(replace, rest)


def _swap_title(pieces: list[str], names: list[str]) -> tuple[str, bool]:
    """The title with its real names replaced in order by ``names`` (the same real name
    always gets the same invented one), and whether anything was replaced."""
    mapping: dict[str, str] = {}
    out = []
    for index, piece in enumerate(pieces):
        if index % 2:
            if piece not in mapping and len(mapping) < len(names):
                mapping[piece] = names[len(mapping)]
            out.append(mapping.get(piece, piece))
        else:
            out.append(piece)
    return "".join(out), bool(mapping)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


@dataclass
class Story:
    """What a synthetic story shares across its locales."""

    index: int
    collection: str
    date: dt.date
    slug: str
    product: Name
    company: Name
    person: Name | None
    locales: tuple[str, ...]
    impact: str


def _date(rng: random.Random) -> dt.date:
    span = (LAST_DAY - FIRST_DAY).days
    return FIRST_DAY + dt.timedelta(days=int(span * rng.random() ** 0.5))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _document(story: Story, template: Template, source: Source, rng: random.Random) -> str:
    """The markdown file of ``story`` in the locale of ``template``."""
    article = template.article
    locale = article.locale
    ja = locale == "ja"

    def spelled(name: Name) -> str:
        return name.katakana if ja and rng.random() < 0.2 else name.latin

    story_names = [story.product.latin, story.company.latin]
    if story.person is not None:
        story_names.append(story.person.latin)
    title, swapped = _swap_title(template.title, story_names)
    if not swapped:
        title = f"{story.product.latin}: {title}" if not ja else f"{story.product.latin}、{title}"
    # Descriptions: the template's own half the time, else another document's.
    description_source = template
    if rng.random() < 0.5:
        description_source = rng.choice(source.by_locale[locale])
    description = _swap(description_source.description, story_names, rng, 0.5)
    if ja:
        description = _vary_japanese(description, source, rng)
    if story.product.latin not in description:
        description = f"{story.product.latin}: {description}"
    comment = _swap(rng.choice(source.by_locale[locale]).comment, story_names, rng, 0.3)

    target = int(template.body_chars * rng.uniform(0.6, 1.2))
    injected = [spelled(n) for n in (story.product, story.company)] + story_names
    lead = _swap(template.lead, injected, rng, 0.4)
    if ja:
        lead = _vary_japanese(lead, source, rng)
    if lead.startswith("# "):
        lead = f"# {title}" + lead[lead.index("\n") :] if "\n" in lead else f"# {title}"
    lead = (lead + "\n\n" if lead else "") + CHANGE_LINES[locale].format(
        product=spelled(story.product), company=spelled(story.company)
    )
    parts, size = [lead], len(lead)
    pool = source.sections[locale]
    while size < target and pool:
        section = _swap(rng.choice(pool), injected, rng, 0.3)
        if ja:
            section = _vary_japanese(section, source, rng)
        parts.append(section)
        size += len(section) + 2
    if template.sources:
        parts.append(template.sources)
    body = "\n\n".join(parts)

    tag_count = rng.randint(3, 6)
    tags = [story.product.latin, story.company.latin]
    while len(tags) < tag_count + 2:
        tag = rng.choice(source.tags[locale])
        if tag not in tags:
            tags.append(tag)
    lines = [
        "---",
        f"title: {_quote(title)}",
        f"description: {_quote(description)}",
        f"date: {story.date.isoformat()}",
        f"category: {_quote(article.category)}",
    ]
    if story.collection == "aiTimeline":
        lines.append(f"impactLevel: {_quote(story.impact)}")
    lines.append(f"tags: {json.dumps(tags, ensure_ascii=False)}")
    if story.collection == "aiTimeline":
        companies = [story.company.latin, *article.related_companies[:2]]
        lines.append(f"relatedCompanies: {json.dumps(companies, ensure_ascii=False)}")
    lines.append(f'locale: "{locale}"')
    if comment:
        lines.append(f"technyanComment: {_quote(comment)}")
    lines.append("---")
    return "\n".join(lines) + "\n\n" + body + "\n"


def story_path(story: Story, locale: str) -> str:
    """The corpus-relative path of ``story``'s document in ``locale``."""
    if story.collection == "aiTimeline":
        return f"aiTimeline/{story.date:%Y%m}-{story.slug}/{locale}.md"
    return f"articles/{story.date:%Y%m%d}/{story.slug}/{locale}.md"


def make_corpus(count: int, out: Path, *, seed: int = 1, source_dir: Path = DEFAULT_SOURCE) -> dict:
    """Write ``count`` documents (files) under ``out`` and return the manifest (also saved
    as ``out/bench-manifest.json``): counts, seconds taken, and the invented names with
    the number of stories naming each. Replaces a corpus this script wrote before; raises
    ``FileExistsError`` when ``out`` holds anything else."""
    started = time.perf_counter()
    if out.exists() and any(out.iterdir()):
        if not (out / MANIFEST).exists():
            raise FileExistsError(f"{out} is not empty and was not written by make_corpus")
        for child in ("articles", "aiTimeline"):
            shutil.rmtree(out / child, ignore_errors=True)
        (out / MANIFEST).unlink()
    out.mkdir(parents=True, exist_ok=True)
    source = load_source(source_dir)
    pool = NamePool()
    written = 0
    stories = 0
    total_bytes = 0
    locales_written: Counter[str] = Counter()
    index = 0
    while written < count:
        rng = random.Random(f"{seed}:{index}")
        timeline = rng.random() < TIMELINE_SHARE and source.timeline_stories
        ja_template, en_template = rng.choice(
            source.timeline_stories if timeline else source.stories
        )
        product = pool.pick(rng, "product")
        company = pool.pick(rng, "company")
        person = pool.pick(rng, "person") if rng.random() < 0.3 else None
        locales: tuple[str, ...] = ("ja", "en")
        if rng.random() < SINGLE_LOCALE_SHARE or count - written == 1:
            locales = (rng.choice(("ja", "en")),)
        slug_words = _slug(product.latin) + "-" + ja_template.article.slug.split("-", 1)[-1]
        story = Story(
            index=index,
            collection="aiTimeline" if timeline else "articles",
            date=_date(rng),
            slug=f"{slug_words[:60].strip('-')}-{index:x}",
            product=product,
            company=company,
            person=person,
            locales=locales,
            impact=rng.choice(IMPACT_LEVELS),
        )
        for name in {product.latin, company.latin} | ({person.latin} if person else set()):
            pool.stories[name] += 1
        for locale in locales:
            template = ja_template if locale == "ja" else en_template
            document = _document(story, template, source, rng)
            path = out / story_path(story, locale)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = document.encode("utf-8")
            path.write_bytes(data)
            total_bytes += len(data)
            written += 1
            locales_written[locale] += 1
        stories += 1
        index += 1
    manifest = {
        "documents": written,
        "stories": stories,
        "seed": seed,
        "bytes": total_bytes,
        "locales": dict(locales_written),
        "seconds": round(time.perf_counter() - started, 2),
        "names": [
            {
                "name": n.latin,
                "katakana": n.katakana,
                "kind": kind,
                "stories": pool.stories[n.latin],
            }
            for kind, names in pool.names.items()
            for n in names
        ],
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command line: ``make_corpus.py N OUT [--seed S] [--source DIR]``; exit 2 when the
    real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of documents (files) to write")
    parser.add_argument("out", type=Path, help="output folder (articles/, aiTimeline/)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args(argv)
    if not args.source.is_dir():
        print(f"real corpus not found at {args.source} (../shared is absent)", file=sys.stderr)
        return 2
    manifest = make_corpus(args.count, args.out, seed=args.seed, source_dir=args.source)
    names = manifest["names"]
    print("| documents | stories | ja | en | MB | invented names | seconds |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {manifest['documents']} | {manifest['stories']} | {manifest['locales'].get('ja', 0)} "
        f"| {manifest['locales'].get('en', 0)} | {manifest['bytes'] / 1e6:.1f} | {len(names)} "
        f"| {manifest['seconds']:.1f} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
