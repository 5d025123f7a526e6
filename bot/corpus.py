"""Find and parse corpus files into ``Article`` records.

A corpus is a folder holding the site's two collections, ``articles/`` and ``aiTimeline/``.
Every layout the site has used is read (see ``story_location``); anything outside those two
folders (a README, the site's TAGS.md) is not an article and is not reported.

Frontmatter is YAML read with PyYAML's ``BaseLoader`` through python-frontmatter, so every
scalar stays the author's exact text: YAML 1.1 would turn ``no`` into ``False``, ``1.10``
into ``1.1``, ``0123`` into ``83`` and ``1:30`` into ``90``. Fields are then validated here,
and each problem becomes a ``CorpusError`` naming the file, the field and the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

__all__ = [
    "COLLECTIONS",
    "LOCALES",
    "Article",
    "CorpusError",
    "Passage",
    "discover",
    "parse_article",
    "parse_date",
    "story_location",
]

COLLECTIONS = ("articles", "aiTimeline")
LOCALES = ("ja", "en")
IMPACT_LEVELS = ("critical", "high", "medium", "low")

_FOLDER_DATE_RE = re.compile(r"^\d{8}$")
_LOCALE_SUFFIX_RE = re.compile(r"^(?P<slug>.+)-(?P<locale>ja|en)$")
_HEADING_RE = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>.+?)\s*#*\s*$")
_SOURCES_HEADING_RE = re.compile(
    r"^(ソース|参考|参考文献|参考リンク|参考資料|出典|情報源|sources?|references?)\s*[:：]?$",
    re.IGNORECASE,
)
_MD_LINK_RE = re.compile(r"\[(?P<label>[^\]]+)\]\((?P<url>https?://[^)\s]+)\)")
_BARE_URL_RE = re.compile(r"(?<!\()https?://[^\s)>\]]+")
_MANGLED_KEYS = (
    "title",
    "description",
    "date",
    "category",
    "tags",
    "locale",
    "technyanComment",
    "impactLevel",
    "relatedCompanies",
)
_MANGLED_KEY_RE = re.compile(r"(?:^|\s)(" + "|".join(_MANGLED_KEYS) + r"):\s")
_FENCE_RE = re.compile(r"^(```|~~~)")


class CorpusError(Exception):
    """A corpus file that cannot become an article.

    ``path`` is the file (relative to the corpus root where known), ``field`` the frontmatter
    field or ``"file"``/``"frontmatter"`` for the whole file, ``value`` the offending value
    (``repr``-able, shortened), ``reason`` a human sentence.
    """

    def __init__(self, path: str, field: str, value: object, reason: str) -> None:
        self.path = path
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{path}: {field}={shown}: {reason}")


@dataclass(frozen=True)
class Passage:
    """A section of an article body: the heading path it sits under (``""`` for text before
    the first heading) and its markdown text."""

    heading: str
    text: str


@dataclass(frozen=True)
class Article:
    """One locale's document of a story, as parsed from one corpus file.

    ``story`` is the corpus path without the locale part (``articles/20251118/slug``,
    ``aiTimeline/202412-deepseek-v3``), shared by both languages. ``date`` is the
    frontmatter date (a calendar date, in the zone the author wrote). ``path`` is the file
    relative to the corpus root, with ``/`` separators.
    """

    path: str
    story: str
    collection: str
    slug: str
    folder_date: str | None
    locale: str
    title: str
    description: str
    date: dt.date
    category: str
    tags: tuple[str, ...]
    technyan_comment: str | None
    impact_level: str | None
    related_companies: tuple[str, ...]
    body: str
    passages: tuple[Passage, ...] = field(default=())
    sources: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True)
class StoryLocation:
    """Where a corpus file sits: its story id, collection, slug, folder date (YYYYMMDD or
    None) and the locale its file name implies."""

    story: str
    collection: str
    slug: str
    folder_date: str | None
    filename_locale: str


class _VerbatimYAMLHandler(YAMLHandler):  # type: ignore[misc]
    """python-frontmatter handler that keeps every scalar as the author's text."""

    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=getattr(yaml, "CBaseLoader", yaml.BaseLoader))


_HANDLER = _VerbatimYAMLHandler()


def story_location(relative: Path) -> StoryLocation | None:
    """Map a path relative to the corpus root onto its story, or None when it is not in a
    collection folder or not a markdown article.

    Layouts: ``articles/YYYYMMDD/<slug>/{ja,en}.md``, ``aiTimeline/<slug>/{ja,en}.md``,
    ``articles/YYYYMMDD/<slug>-ja.md`` beside ``<slug>-en.md`` or a bare ``<slug>.md``
    (English), and flat ``articles/<slug>-ja.md`` beside ``articles/<slug>.md``.
    """
    parts = relative.parts
    if len(parts) < 2 or parts[0] not in COLLECTIONS or relative.suffix.lower() != ".md":
        return None
    if relative.stem.casefold() == "readme":
        return None
    stem_parts = [*parts[:-1], relative.stem]
    last = stem_parts[-1]
    if last in LOCALES and len(stem_parts) >= 3:
        locale, story_parts = last, stem_parts[:-1]
    elif match := _LOCALE_SUFFIX_RE.match(last):
        locale, story_parts = match["locale"], [*stem_parts[:-1], match["slug"]]
    else:
        locale, story_parts = "en", stem_parts
    folder_date = next((p for p in story_parts[1:-1] if _FOLDER_DATE_RE.match(p)), None)
    return StoryLocation(
        story="/".join(story_parts),
        collection=parts[0],
        slug=story_parts[-1],
        folder_date=folder_date,
        filename_locale=locale,
    )


def discover(root: Path) -> Iterator[tuple[Path, StoryLocation]]:
    """Yield ``(absolute path, location)`` for every article file under ``root``, sorted by
    path. Files outside the collection folders are not yielded."""
    for collection in COLLECTIONS:
        folder = root / collection
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            location = story_location(path.relative_to(root))
            if location is not None:
                yield path, location


def parse_date(value: object, path: str, field_name: str = "date") -> dt.date:
    """Parse a frontmatter date: ``2025-11-18``, ``"2025-11-18"``, ``2025/11/18``, or a date
    with a time and zone (``2025-11-18T09:30:00+09:00``, ``2025-11-18 09:30:00Z``). The date
    is taken as written, in its own zone.

    Raises ``CorpusError`` for a missing, malformed or impossible date (``2025-02-30``).
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise CorpusError(path, field_name, value, "expected a date like 2025-11-18")
    text = value.strip().replace("/", "-")
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    match = re.match(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$", text)
    if not match:
        raise CorpusError(path, field_name, value, "expected a date like 2025-11-18")
    try:
        date = dt.date(int(match[1]), int(match[2]), int(match[3]))
        if len(text) > match.end(3):
            dt.datetime.fromisoformat(f"{date.isoformat()}{text[match.end(3) :]}")
    except ValueError as error:
        raise CorpusError(path, field_name, value, f"impossible date ({error})") from None
    return date


def _recover_mangled(text: str) -> str | None:
    """A formatter can turn the frontmatter into a setext heading: the opening ``---``, then
    one line ``## title: "…" description: "…" date: …`` and no closing ``---``. Rebuild a
    normal frontmatter block from that line; return None when the text is not of that shape.
    """
    lines = text.split("\n")
    if len(lines) < 2 or lines[0].strip() != "---":
        return None
    heading = lines[1].lstrip()
    if not heading.startswith("#"):
        return None
    heading = heading.lstrip("#").strip()
    matches = list(_MANGLED_KEY_RE.finditer(" " + heading))
    if not matches or matches[0].group(1) != "title":
        return None
    shifted = " " + heading
    yaml_lines = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(shifted)
        yaml_lines.append(f"{match.group(1)}: {shifted[match.end() : end].strip()}")
    rest = lines[2:]
    if rest and rest[0].strip() == "---":
        rest = rest[1:]
    return "---\n" + "\n".join(yaml_lines) + "\n---\n" + "\n".join(rest)


def _text_field(meta: dict[str, Any], key: str, path: str, *, required: bool) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        if required:
            raise CorpusError(path, key, value, "missing or empty")
        return None
    if not isinstance(value, str):
        raise CorpusError(path, key, value, "expected text")
    return value.strip()


def _list_field(meta: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CorpusError(path, key, value, "expected a list of text")
    return tuple(item.strip() for item in value if item.strip())


def split_passages(body: str) -> tuple[tuple[Passage, ...], tuple[tuple[str, str], ...]]:
    """Split a markdown body into passages at headings and collect the links of its sources
    section (``## ソース`` / ``## 参考`` / ``## Sources``). Headings inside fenced code
    blocks do not split. Returns ``(passages, sources)``; sources are ``(label, url)``."""
    passages: list[Passage] = []
    sources: list[tuple[str, str]] = []
    heading_path: list[tuple[int, str]] = []
    current: list[str] = []
    in_sources = False
    in_fence = False

    def flush() -> None:
        text = "\n".join(current).strip()
        if text and not in_sources:
            passages.append(Passage(" › ".join(h for _, h in heading_path), text))
        current.clear()

    for line in body.split("\n"):
        if _FENCE_RE.match(line.strip()):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING_RE.match(line)
        if heading:
            flush()
            level, title = len(heading["marks"]), heading["text"].strip()
            while heading_path and heading_path[-1][0] >= level:
                heading_path.pop()
            heading_path.append((level, title))
            if _SOURCES_HEADING_RE.match(title.strip("*_ ")):
                in_sources = True
            elif in_sources and level <= 2:
                in_sources = False
            continue
        if in_sources:
            for match in _MD_LINK_RE.finditer(line):
                sources.append((match["label"].strip(), match["url"]))
            for url in _BARE_URL_RE.findall(_MD_LINK_RE.sub("", line)):
                sources.append((url, url))
        current.append(line)
    flush()
    return tuple(passages), tuple(sources)


def parse_article(path: Path, location: StoryLocation, relative: str) -> Article:
    """Parse one corpus file into an ``Article``.

    Tolerates a UTF-8 BOM, CRLF line endings, a frontmatter mangled into a ``## title: …``
    heading and ``---`` horizontal rules in the body. Raises ``CorpusError`` (naming
    ``relative``, the field and the value) for anything that cannot be read or validated.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise CorpusError(relative, "file", str(path), f"unreadable ({error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(relative, "file", raw[:20], f"not UTF-8 ({error.reason})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _recover_mangled(text) or text
    if not _HANDLER.detect(text):
        raise CorpusError(relative, "frontmatter", text[:40], "no frontmatter block (---)")
    try:
        post = frontmatter.loads(text, handler=_HANDLER)
    except (yaml.YAMLError, ValueError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorpusError(
            relative, "frontmatter", text[:40], f"invalid YAML: {first_line}"
        ) from None
    meta = post.metadata
    if not isinstance(meta, dict) or not meta:
        raise CorpusError(relative, "frontmatter", meta, "expected a mapping of fields")

    locale = _text_field(meta, "locale", relative, required=False) or location.filename_locale
    if locale not in LOCALES:
        raise CorpusError(relative, "locale", locale, f"expected one of {', '.join(LOCALES)}")
    title = _text_field(meta, "title", relative, required=True)
    description = _text_field(meta, "description", relative, required=True)
    category = _text_field(meta, "category", relative, required=True)
    assert title is not None and description is not None and category is not None
    date = parse_date(meta.get("date"), relative)
    impact = _text_field(meta, "impactLevel", relative, required=False)
    if impact is not None and impact.casefold() not in IMPACT_LEVELS:
        raise CorpusError(
            relative, "impactLevel", impact, f"expected one of {', '.join(IMPACT_LEVELS)}"
        )
    body = post.content.strip("\n")
    passages, sources = split_passages(body)
    return Article(
        path=relative,
        story=location.story,
        collection=location.collection,
        slug=location.slug,
        folder_date=location.folder_date,
        locale=locale,
        title=title,
        description=description,
        date=date,
        category=category,
        tags=_list_field(meta, "tags", relative),
        technyan_comment=_text_field(meta, "technyanComment", relative, required=False),
        impact_level=impact.casefold() if impact else None,
        related_companies=_list_field(meta, "relatedCompanies", relative),
        body=body,
        passages=passages,
        sources=sources,
    )
