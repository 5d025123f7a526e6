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
import os
import re
import reprlib
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

__all__ = [
    "COLLECTIONS",
    "LINK_LEADS_NOWHERE",
    "LOCALES",
    "Article",
    "CorpusError",
    "FrontmatterRefused",
    "Passage",
    "check_inside",
    "discover",
    "discover_files",
    "parse_article",
    "parse_date",
    "read_article_bytes",
    "read_inside",
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


#: Longest value text (characters) a ``CorpusError`` keeps, and the longest it shows.
MAX_VALUE_CHARS = 200
MAX_SHOWN_CHARS = 80
#: Longest reason (characters) a ``CorpusError`` keeps.
MAX_REASON_CHARS = 300

_BOUNDED_REPR = reprlib.Repr()
_BOUNDED_REPR.maxlevel = 3
_BOUNDED_REPR.maxlist = _BOUNDED_REPR.maxtuple = _BOUNDED_REPR.maxdict = 5
_BOUNDED_REPR.maxstring = _BOUNDED_REPR.maxother = MAX_SHOWN_CHARS


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CorpusError(Exception):
    """A corpus file that cannot become an article.

    ``path`` is the file (relative to the corpus root where known), ``field`` the frontmatter
    field or ``"file"``/``"frontmatter"`` for the whole file, ``reason`` a human sentence
    (at most ``MAX_REASON_CHARS`` characters). ``value`` is the offending value as text:
    a string as written (cut to ``MAX_VALUE_CHARS``), anything else (a list, a mapping,
    bytes) as a bounded ``repr`` that looks at no more than a few items on a few levels, so
    a value of any size (a YAML alias bomb expands to billions of items) costs nothing to
    report. ``shown`` is the form used in messages (``repr`` of a string, at most
    ``MAX_SHOWN_CHARS``).

    Errors cross process boundaries (the index parses in a process pool): an instance
    survives ``pickle`` with every attribute.
    """

    def __init__(self, path: str, field: str, value: object, reason: str) -> None:
        if isinstance(value, str):
            text, shown = _clip(value, MAX_VALUE_CHARS), _BOUNDED_REPR.repr(value)
        else:
            text = shown = _BOUNDED_REPR.repr(value)
        self._set(str(path), str(field), text, _clip(shown, MAX_SHOWN_CHARS), reason)

    def _set(self, path: str, field: str, value: str, shown: str, reason: str) -> None:
        self.path = path
        self.field = field
        self.value = value
        self.shown = shown
        self.reason = _clip(str(reason), MAX_REASON_CHARS)
        super().__init__(f"{path}: {self.describe()}")

    def describe(self) -> str:
        """``field=value: reason`` (bounded), the form stored in the index and reported."""
        return f"{self.field}={self.shown}: {self.reason}"

    def __reduce__(self) -> tuple[object, tuple[str, str, str, str, str]]:
        return (_restore_corpus_error, (self.path, self.field, self.value, self.shown, self.reason))


def _restore_corpus_error(
    path: str, field: str, value: str, shown: str, reason: str
) -> CorpusError:
    error = CorpusError.__new__(CorpusError)
    error._set(path, field, value, shown, reason)
    return error


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
    ``aiTimeline/202307-llama2-open-release``), shared by both languages. ``date`` is the
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
    None) and the locale its file name implies. ``stray``: a file in a story's folder
    that is neither ``ja.md`` nor ``en.md`` (``de.md``, ``notes.md``), which
    ``parse_article`` refuses rather than index as a story of its own."""

    story: str
    collection: str
    slug: str
    folder_date: str | None
    filename_locale: str
    stray: bool = False


class FrontmatterRefused(ValueError):
    """A frontmatter block that is refused before it is built: it uses YAML aliases."""


_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


def _reject_aliases(root: yaml.Node) -> None:
    """Raise ``FrontmatterRefused`` when a node of the YAML graph is reached twice, which
    only an alias (``*name``) does. The walk visits each distinct node once, so it is
    linear in the size of the text even for an alias bomb (anchors nested nine deep expand
    to 9⁹ items when built into plain lists)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            raise FrontmatterRefused("YAML aliases (*name) are not allowed in frontmatter")
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for key, item in node.value:
                stack.extend((key, item))


class _VerbatimYAMLHandler(YAMLHandler):  # type: ignore[misc]
    """python-frontmatter handler that keeps every scalar as the author's text and refuses
    aliases (see ``_reject_aliases``)."""

    def load(self, fm: str, **kwargs: object) -> Any:
        loader = _YAML_LOADER(fm)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _reject_aliases(node)
            return loader.construct_document(node)
        finally:
            loader.dispose()


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
    named_locale = True
    if last in LOCALES and len(stem_parts) >= 3:
        locale, story_parts = last, stem_parts[:-1]
    elif match := _LOCALE_SUFFIX_RE.match(last):
        locale, story_parts = match["locale"], [*stem_parts[:-1], match["slug"]]
    else:
        locale, story_parts, named_locale = "en", stem_parts, False
    folder_date = next((p for p in story_parts[1:-1] if _FOLDER_DATE_RE.match(p)), None)
    # articles/YYYYMMDD/<slug>/<file>.md and aiTimeline/<slug>/<file>.md: the story's
    # folder, where only ja.md and en.md are its versions.
    in_story_folder = len(parts) == (4 if parts[0] == "articles" else 3) and (
        parts[0] != "articles" or _FOLDER_DATE_RE.match(parts[1]) is not None
    )
    return StoryLocation(
        story="/".join(story_parts),
        collection=parts[0],
        slug=story_parts[-1],
        folder_date=folder_date,
        filename_locale=locale,
        stray=in_story_folder and not named_locale,
    )


def _files_under(folder: str, relative: str) -> Iterator[tuple[str, str, str]]:
    """``(path, path relative to the corpus with "/", kind)`` of the entries under
    ``folder`` (``relative`` is the folder's own relative path): ``file`` for files and
    links to files, ``folder`` for folders (yielded, then walked into), ``link`` for a
    link to a folder or to nothing (never entered), ``other`` for a FIFO, socket or
    device; depth first with each folder's entries sorted by name: the order of
    ``sorted(Path.rglob("*"))``. A folder that cannot be read is skipped. ``os.scandir``
    tells these apart without a system call per entry (``Path.rglob`` and ``is_file``
    make two): a 100,000-file corpus is listed in a fraction of the time."""
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path, entry_relative = entry.path, f"{relative}/{entry.name}"
        if entry.is_dir(follow_symlinks=False):
            yield path, entry_relative, "folder"
            yield from _files_under(path, entry_relative)
        elif entry.is_file():
            yield path, entry_relative, "file"
        else:
            yield path, entry_relative, "link" if entry.is_symlink() else "other"


def discover_files(
    root: Path, not_files: list[tuple[Path, str]] | None = None
) -> Iterator[tuple[Path, str, StoryLocation]]:
    """Yield ``(path, relative path with "/", location)`` for every article file under
    ``root``, sorted by path; ``path`` is ``root`` joined with the relative path. Files
    outside the collection folders are not yielded. ``not_files``: where to list
    ``(path, relative path)`` of what a build should name as skipped: a link to a folder
    or to nothing anywhere in a collection (a linked date or story folder is not
    followed), and a folder, FIFO, socket or device standing at an article's place
    (named ``en.md``); never opened here."""
    for collection in COLLECTIONS:
        folder = root / collection
        if not folder.is_dir():
            continue
        for path, relative, kind in _files_under(str(folder), collection):
            if kind == "link":
                if not_files is not None:
                    not_files.append((Path(path), relative))
                continue
            if kind != "file" and (not_files is None or not relative.endswith(".md")):
                continue  # the story and date folders themselves: no article's place
            location = story_location(Path(relative))
            if location is None:
                continue
            if kind == "file":
                yield Path(path), relative, location
            elif not_files is not None:
                not_files.append((Path(path), relative))


def discover(root: Path) -> Iterator[tuple[Path, StoryLocation]]:
    """Yield ``(path, location)`` for every article file under ``root``, sorted by path
    (``discover_files`` without the relative paths)."""
    for path, _relative, location in discover_files(root):
        yield path, location


#: Why ``CorpusError`` refuses a link to nothing (or a loop of links).
LINK_LEADS_NOWHERE = "a link that leads nowhere"


def _refuse_outside(real: Path, resolved_root: Path, relative: str) -> None:
    """Raise ``CorpusError`` (field ``file``) when ``real`` (a resolved path) lies outside
    ``resolved_root``; the target is not named."""
    if not real.is_relative_to(resolved_root):
        raise CorpusError(
            relative, "file", relative, "a link to a file outside the corpus folder; not read"
        )


def check_inside(
    path: Path, root: Path, relative: str, *, resolved_root: Path | None = None
) -> None:
    """Raise ``CorpusError`` (field ``file``) when ``path`` resolves outside the corpus
    folder ``root``: a symbolic link (of the file or of a folder on its way) to a file
    elsewhere is never read, so a link to a system file cannot leak into the index, the
    report or the log. Links that stay inside the corpus are fine. The target is not
    named in the error. ``resolved_root``: ``root`` already resolved by the caller (a
    build checks every file against one resolution, not one per file)."""
    try:
        resolved = path.resolve(strict=True)
        resolved_root = resolved_root or root.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link or a loop
        raise CorpusError(relative, "file", relative, LINK_LEADS_NOWHERE) from None
    _refuse_outside(resolved, resolved_root, relative)


_READ_CHUNK_BYTES = 1 << 20


@lru_cache(maxsize=1)
def _descriptor_links() -> bool:
    """True where ``/proc/self/fd/N`` names the file an open descriptor refers to (Linux)."""
    return os.path.isdir("/proc/self/fd")


def read_inside(path: Path, relative: str, resolved_root: Path) -> bytes:
    """The bytes of the corpus file ``path`` once the file actually opened is known to lie
    inside ``resolved_root`` (the corpus folder, resolved): what ``check_inside`` then
    ``read_article_bytes`` do, but the check is of the open file itself (its real path
    read from ``/proc/self/fd`` where there is one), so a link swapped in between cannot
    slip through, and it costs one open instead of a ``stat`` per folder on the way.

    Raises ``CorpusError`` (field ``file``): a link that leads nowhere or outside the
    corpus (as ``check_inside``), something other than a regular file (a FIFO or a
    device swapped in after the scan: never waited on), or a file that cannot be read
    (as ``read_article_bytes``)."""
    # Non-blocking: a FIFO put in a file's place opens at once (and is refused below)
    # instead of waiting for a writer; regular files read as ever.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        # The slow path names the reason as the two-step check would.
        check_inside(path, resolved_root, relative, resolved_root=resolved_root)
        raise CorpusError(relative, "file", str(path), f"unreadable ({error})") from None
    try:
        try:
            if _descriptor_links():
                real = os.readlink(f"/proc/self/fd/{descriptor}")
            else:
                real = os.path.realpath(path, strict=True)
        except OSError:
            raise CorpusError(relative, "file", relative, LINK_LEADS_NOWHERE) from None
        _refuse_outside(Path(real), resolved_root, relative)
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise CorpusError(relative, "file", relative, "not a regular file; not read")
        chunks = []
        while chunk := os.read(descriptor, _READ_CHUNK_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise CorpusError(relative, "file", str(path), f"unreadable ({error})") from None
    finally:
        os.close(descriptor)


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


# Backslash escapes a markdown formatter adds to text it takes for a paragraph or heading
# (CommonMark: any ASCII punctuation may be escaped); YAML double-quoted strings use "\\"
# and '\\"' themselves, so those two are left alone.
_MARKDOWN_ESCAPE_RE = re.compile(r"\\([!#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~])")


def _recover_mangled(text: str) -> str | None:
    """A formatter can turn the frontmatter into a heading: the opening ``---``, possibly a
    blank line, then one line ``## title: "…" description: "…" date: …`` and no closing
    ``---`` (or one after blank lines). The formatter also escapes markdown punctuation
    (``tags: \\["Cursor", "AI"\\]``). Rebuild a normal frontmatter block from that line,
    escapes removed; return None when the text is not of that shape.
    """
    lines = text.split("\n")
    if len(lines) < 2 or lines[0].strip() != "---":
        return None
    position = 1
    while position < len(lines) and not lines[position].strip():
        position += 1
    if position >= len(lines):
        return None
    heading = lines[position].lstrip()
    if not heading.startswith("#"):
        return None
    heading = _MARKDOWN_ESCAPE_RE.sub(r"\1", heading.lstrip("#").strip())
    matches = list(_MANGLED_KEY_RE.finditer(" " + heading))
    if not matches or matches[0].group(1) != "title":
        return None
    shifted = " " + heading
    yaml_lines = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(shifted)
        yaml_lines.append(f"{match.group(1)}: {shifted[match.end() : end].strip()}")
    rest = lines[position + 1 :]
    after = 0
    while after < len(rest) and not rest[after].strip():
        after += 1
    if after < len(rest) and rest[after].strip() == "---":
        rest = rest[after + 1 :]
    return "---\n" + "\n".join(yaml_lines) + "\n---\n" + "\n".join(rest)


_CONTROL_CHARACTER_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _text_field(meta: dict[str, Any], key: str, path: str, *, required: bool) -> str | None:
    """A text field, stripped of spaces and control characters (a YAML ``"\\e"`` is an
    ESC); ``None`` when absent, empty or blank (spaces only). A required field must hold
    text: blank raises ``CorpusError``, like missing."""
    value = meta.get(key)
    if value is not None and not isinstance(value, str):
        raise CorpusError(path, key, value, "expected text")
    stripped = _CONTROL_CHARACTER_RE.sub("", value).strip() if value is not None else ""
    if not stripped:
        if required:
            reason = "missing" if value is None else "empty or only spaces"
            raise CorpusError(path, key, value, reason)
        return None
    return stripped


def _list_field(meta: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = meta.get(key)
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CorpusError(path, key, value, "expected a list of text")
    items = (_CONTROL_CHARACTER_RE.sub("", item).strip() for item in value)
    return tuple(item for item in items if item)


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
        # Cheap tests first: most lines open neither a fence nor a heading.
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence or line[:1] != "#" else _HEADING_RE.match(line)
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


def read_article_bytes(path: Path, relative: str) -> bytes:
    """The bytes of the corpus file ``path``; ``CorpusError`` (field ``file``) when it
    cannot be read."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise CorpusError(relative, "file", str(path), f"unreadable ({error})") from None


def parse_article(
    path: Path, location: StoryLocation, relative: str, raw: bytes | None = None
) -> Article:
    """Parse one corpus file into an ``Article``; ``raw``: its bytes when the caller has
    read them already (``read_article_bytes``), else they are read here.

    Tolerates a UTF-8 BOM, CRLF line endings, a frontmatter mangled into a ``## title: …``
    heading and ``---`` horizontal rules in the body; control characters (NUL, ESC…; not
    tab or newline) are dropped. Raises ``CorpusError`` (naming
    ``relative``, the field and the value) for anything that cannot be read or validated.
    """
    if location.stray:
        raise CorpusError(
            relative, "file", Path(relative).name, "expected ja.md or en.md in a story's folder"
        )
    if raw is None:
        raw = read_article_bytes(path, relative)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CorpusError(relative, "file", raw[:20], f"not UTF-8 ({error.reason})") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Control characters (NUL, ESC and the rest but tab and newline) belong in no article:
    # an ESC would colour or move the cursor of the terminal a console prints it to.
    text = _CONTROL_CHARACTER_RE.sub("", text)
    text = _recover_mangled(text) or text
    if not _HANDLER.detect(text):
        raise CorpusError(relative, "frontmatter", text[:40], "no frontmatter block (---)")
    try:
        # parse(), not loads(): loads() passes the fields to Post() as keyword arguments,
        # so a field named "content" or "handler" would be a TypeError.
        meta, content = frontmatter.parse(text, handler=_HANDLER)
    except FrontmatterRefused as refused:
        raise CorpusError(relative, "frontmatter", text[:40], str(refused)) from None
    except (yaml.YAMLError, ValueError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorpusError(
            relative, "frontmatter", text[:40], f"invalid YAML: {first_line}"
        ) from None
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
    body = content.strip("\n")
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
