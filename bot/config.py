"""Settings from ``config.toml`` and the environment.

Every key is declared once in ``SCHEMA`` (section, key, type, default, description);
config.example.toml documents the same keys. Environment variables override the file for
every key: ``TECHNYAN_<SECTION>_<KEY>`` in upper case (``TECHNYAN_INDEX_PATH``,
``TECHNYAN_SITE_ARTICLE_URL``). The Discord token is read from ``DISCORD_TOKEN`` only, never
from a file. Relative paths are resolved against the config file's folder (or the current
folder when there is no file).
"""

from __future__ import annotations

import contextlib
import os
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "SCHEMA",
    "ConfigError",
    "ConfigProblem",
    "Settings",
    "SubscriptionConfig",
    "check_config",
    "check_paths",
    "load_settings",
]


@dataclass(frozen=True)
class Key:
    """One configuration key: its Python type, default and meaning."""

    type: type
    default: Any
    description: str


SCHEMA: dict[str, dict[str, Key]] = {
    "corpus": {
        "path": Key(str, "corpus", "Folder holding articles/ and aiTimeline/"),
        "refresh_minutes": Key(int, 30, "Minutes between incremental reindexes; 0 disables"),
        "git_pull": Key(bool, False, "Run `git pull --ff-only` in the corpus before a refresh"),
    },
    "index": {
        "path": Key(str, "data/index.db", "The derived search index (rebuilt at will)"),
    },
    "state": {
        "path": Key(str, "data/state.db", "Subscriptions and the digest ledger (precious)"),
        "url": Key(str, "", "postgresql://… to keep state in PostgreSQL instead of state.path"),
    },
    "site": {
        "article_url": Key(
            str,
            "https://technyanai.com/articles/{locale}/{date}/{slug}",
            "Article page; {locale}, {date} (YYYYMMDD), {slug}, {story} are filled in",
        ),
        "timeline_url": Key(
            str, "https://technyanai.com/history", "Page for timeline entries (no own page)"
        ),
    },
    "bot": {
        "default_locale": Key(str, "en", "Reply language when the user's is unknown: ja or en"),
        "log_level": Key(str, "INFO", "DEBUG, INFO, WARNING or ERROR"),
        "log_format": Key(str, "text", "text, or json for one JSON object per line"),
        "shard_count": Key(int, 0, "Total shards across all processes; 0 lets Discord decide"),
        "shard_ids": Key(list, [], "Shards this process connects, e.g. [0, 1]"),
    },
    "digest": {
        "misfire_grace_seconds": Key(
            int, 21600, "A digest missed by downtime is still posted within this many seconds"
        ),
        "default_timezone": Key(str, "Asia/Tokyo", "IANA zone for subscriptions without one"),
        "subscriptions": Key(list, [], "Subscriptions declared by the operator"),
    },
}

SUBSCRIPTION_KEYS: dict[str, Key] = {
    "guild_id": Key(int, None, "Guild (server) id"),
    "channel_id": Key(int, None, "Channel id"),
    "time": Key(str, "09:00", "Local time HH:MM"),
    "timezone": Key(str, "", "IANA zone; default digest.default_timezone"),
    "locale": Key(str, "ja", "ja or en"),
    "max_items": Key(int, 5, "Stories per digest, 1–10"),
    "post_empty": Key(bool, False, "Post a short line on days without news"),
}

_STATE_URL_SCHEMES = ("postgresql://", "postgres://")
_TOKEN_RE = re.compile(r"[MNO][\w-]{23,}\.[\w-]{6}\.[\w-]{27,}")


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file: ``file:line key: problem``."""

    file: str
    line: int
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.key}: {self.problem}"


class ConfigError(Exception):
    """Configuration that cannot be used; ``problems`` lists each one."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class SubscriptionConfig:
    """A digest subscription declared in config.toml."""

    guild_id: int
    channel_id: int
    time: str
    timezone: str
    locale: str
    max_items: int
    post_empty: bool


@dataclass(frozen=True)
class Settings:
    """Resolved settings. Paths are absolute. ``discord_token`` comes from the environment
    (``DISCORD_TOKEN``) and is never printed (``repr`` hides it)."""

    config_path: Path | None
    corpus_path: Path
    corpus_refresh_minutes: int
    corpus_git_pull: bool
    index_path: Path
    state_path: Path
    state_url: str = field(repr=False)  # may hold a password
    article_url: str
    timeline_url: str
    default_locale: str
    log_level: str
    log_format: str
    shard_count: int
    shard_ids: tuple[int, ...]
    misfire_grace_seconds: int
    default_timezone: str
    subscriptions: tuple[SubscriptionConfig, ...] = ()
    discord_token: str | None = field(default=None, repr=False)

    def with_paths(self, *, corpus: Path | None = None, index: Path | None = None) -> Settings:
        """A copy with the corpus and/or index path replaced (command-line overrides)."""
        from dataclasses import replace

        return replace(
            self,
            corpus_path=corpus.resolve() if corpus else self.corpus_path,
            index_path=index.resolve() if index else self.index_path,
        )


def _key_lines(source: str) -> dict[str, int]:
    """Line numbers of ``section.key`` assignments in TOML text (best effort)."""
    lines: dict[str, int] = {}
    section = ""
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if match := re.match(r"^\[\[?\s*([\w.]+)\s*\]\]?", stripped):
            section = match.group(1)
            lines.setdefault(section, number)
            continue
        if match := re.match(r"^([\w\-]+)\s*=", stripped):
            lines.setdefault(f"{section}.{match.group(1)}" if section else match.group(1), number)
    return lines


def _check_type(value: Any, expected: type) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _check_time(value: str) -> bool:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
    return bool(match) and int(match[1]) < 24 and int(match[2]) < 60  # type: ignore[index]


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def check_config(
    data: Mapping[str, Any], file: str = "<env>", source: str = ""
) -> list[ConfigProblem]:
    """Validate parsed config ``data`` against ``SCHEMA``: unknown sections and keys, wrong
    types, bad locales, times and time zones, and a Discord token written into the file.
    ``source`` (the file's text) gives line numbers. Returns the problems (empty: clean)."""
    lines = _key_lines(source)
    problems: list[ConfigProblem] = []

    def problem(key: str, text: str) -> None:
        problems.append(
            ConfigProblem(file, lines.get(key, lines.get(key.split(".")[0], 0)), key, text)
        )

    if _TOKEN_RE.search(source) or any(
        str(k).casefold() in {"token", "discord_token", "bot_token"}
        for section in data.values()
        if isinstance(section, dict)
        for k in section
    ):
        line = next(
            (
                n
                for n, text in enumerate(source.splitlines(), 1)
                if _TOKEN_RE.search(text)
                or re.match(r"\s*(discord_)?token\s*=", text, re.IGNORECASE)
            ),
            0,
        )
        problems.append(
            ConfigProblem(
                file, line, "token", "a Discord token must not be in a file; set DISCORD_TOKEN"
            )
        )
    for section, values in data.items():
        if section not in SCHEMA:
            problem(section, "unknown section")
            continue
        if not isinstance(values, dict):
            problem(section, "expected a table")
            continue
        for key, value in values.items():
            name = f"{section}.{key}"
            spec = SCHEMA[section].get(key)
            if spec is None:
                if key.casefold() not in {"token", "discord_token", "bot_token"}:
                    problem(name, "unknown key")
                continue
            if not _check_type(value, spec.type):
                problem(
                    name, f"expected {spec.type.__name__}, got {type(value).__name__} {value!r}"
                )
                continue
            if name == "bot.default_locale" and value not in ("ja", "en"):
                problem(name, f"expected ja or en, got {value!r}")
            if name == "bot.log_format" and value not in ("text", "json"):
                problem(name, f"expected text or json, got {value!r}")
            if name == "bot.log_level" and value.upper() not in (
                "DEBUG",
                "INFO",
                "WARNING",
                "ERROR",
            ):
                problem(name, f"expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
            if name == "digest.default_timezone" and not _valid_zone(value):
                problem(name, f"unknown time zone {value!r}")
            if name in ("corpus.refresh_minutes", "digest.misfire_grace_seconds") and value < 0:
                problem(name, f"must not be negative, got {value}")
            if name == "state.url" and value and not value.startswith(_STATE_URL_SCHEMES):
                problem(name, "expected a postgresql://user:password@host:5432/database URL")
            if name == "bot.shard_ids" and not all(_check_type(v, int) for v in value):
                problem(name, f"expected a list of integers, got {value!r}")
            if name == "digest.subscriptions":
                for position, entry in enumerate(value):
                    problems.extend(_check_subscription(entry, position, file, lines))
    return problems


def _check_shards(merged: dict[str, dict[str, Any]], file: str, source: str) -> list[ConfigProblem]:
    """``bot.shard_ids`` needs ``bot.shard_count`` (discord.py requires both) and each id
    in ``0 .. shard_count - 1``, once. Checked on the merged settings, so the file may hold
    the count and each process's environment its ids."""
    lines = _key_lines(source)
    count, ids = merged["bot"]["shard_count"], list(merged["bot"]["shard_ids"])
    problems = []

    def problem(key: str, text: str) -> None:
        problems.append(ConfigProblem(file, lines.get(key, 0), key, text))

    if count < 0:
        problem("bot.shard_count", f"must not be negative, got {count}")
    elif ids and not count:
        problem("bot.shard_ids", "needs bot.shard_count as well")
    elif ids:
        outside = [i for i in ids if not 0 <= i < count]
        if outside:
            problem("bot.shard_ids", f"{outside} outside 0..{count - 1} (bot.shard_count {count})")
        if len(set(ids)) != len(ids):
            problem("bot.shard_ids", f"lists a shard twice: {ids}")
    return problems


def _check_subscription(
    entry: Any, position: int, file: str, lines: dict[str, int]
) -> list[ConfigProblem]:
    name = f"digest.subscriptions[{position}]"
    line = lines.get("digest.subscriptions", 0)
    if not isinstance(entry, dict):
        return [ConfigProblem(file, line, name, "expected a table")]
    problems = []
    for key in ("guild_id", "channel_id"):
        if key not in entry:
            problems.append(ConfigProblem(file, line, f"{name}.{key}", "missing"))
    for key, value in entry.items():
        spec = SUBSCRIPTION_KEYS.get(key)
        if spec is None:
            problems.append(ConfigProblem(file, line, f"{name}.{key}", "unknown key"))
        elif not _check_type(value, spec.type):
            problems.append(
                ConfigProblem(
                    file, line, f"{name}.{key}", f"expected {spec.type.__name__}, got {value!r}"
                )
            )
        elif key == "time" and not _check_time(value):
            problems.append(
                ConfigProblem(file, line, f"{name}.time", f"expected HH:MM, got {value!r}")
            )
        elif key == "timezone" and value and not _valid_zone(value):
            problems.append(
                ConfigProblem(file, line, f"{name}.timezone", f"unknown time zone {value!r}")
            )
        elif key == "locale" and value not in ("ja", "en"):
            problems.append(
                ConfigProblem(file, line, f"{name}.locale", f"expected ja or en, got {value!r}")
            )
        elif key == "max_items" and not 1 <= value <= 10:
            problems.append(
                ConfigProblem(file, line, f"{name}.max_items", f"expected 1–10, got {value}")
            )
    return problems


def _from_environment(
    environ: Mapping[str, str],
) -> tuple[dict[str, dict[str, Any]], list[ConfigProblem]]:
    overrides: dict[str, dict[str, Any]] = {}
    problems: list[ConfigProblem] = []
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            variable = f"TECHNYAN_{section}_{key}".upper()
            if variable not in environ or key == "subscriptions":
                continue
            raw = environ[variable]
            try:
                value: Any
                if spec.type is bool:
                    if raw.casefold() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                        raise ValueError(raw)
                    value = raw.casefold() in {"1", "true", "yes", "on"}
                elif spec.type is int:
                    value = int(raw)
                elif spec.type is list:
                    value = [int(part) for part in raw.replace(",", " ").split()]
                else:
                    value = raw
            except ValueError:
                problems.append(
                    ConfigProblem(variable, 0, f"{section}.{key}", f"bad value {raw!r}")
                )
                continue
            overrides.setdefault(section, {})[key] = value
    return overrides, problems


def check_paths(settings: Settings) -> list[ConfigProblem]:
    """Problems with the paths of ``settings``: the corpus must be a readable folder, and
    the folders of the index and state databases must exist or be creatable and be
    writable. Line numbers point into ``settings.config_path`` when the key is there."""
    file = str(settings.config_path) if settings.config_path else "<defaults>"
    source = ""
    if settings.config_path is not None:
        with contextlib.suppress(OSError):
            source = settings.config_path.read_text(encoding="utf-8")
    lines = _key_lines(source)
    problems: list[ConfigProblem] = []

    def problem(key: str, text: str) -> None:
        problems.append(ConfigProblem(file, lines.get(key, 0), key, text))

    corpus = settings.corpus_path
    if not corpus.is_dir():
        problem("corpus.path", f"not a folder: {corpus}")
    elif not os.access(corpus, os.R_OK | os.X_OK):
        problem("corpus.path", f"not readable: {corpus}")
    for key, path in (("index.path", settings.index_path), ("state.path", settings.state_path)):
        if key == "state.path" and settings.state_url:
            continue
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            problem(key, f"not readable and writable: {path}")
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem(key, f"folder not writable: {folder}")
    return problems


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (a TOML file; None: defaults only) and the environment.

    Raises ``ConfigError`` listing every problem (file:line key: problem): an unreadable
    or invalid file, unknown keys, wrong types, bad zones, a token in the file, or a bad
    environment value."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    source = ""
    base = Path.cwd()
    file = "<defaults>"
    if path is not None:
        file = str(path)
        try:
            source = Path(path).read_text(encoding="utf-8")
            data = tomllib.loads(source)
        except OSError as error:
            raise ConfigError(
                [ConfigProblem(file, 0, "file", f"unreadable ({error.strerror})")]
            ) from None
        except UnicodeDecodeError as error:
            line = error.object[: error.start].count(b"\n") + 1
            raise ConfigError([ConfigProblem(file, line, "file", "not UTF-8 text")]) from None
        except tomllib.TOMLDecodeError as error:
            line = int(m[1]) if (m := re.search(r"line (\d+)", str(error))) else 0
            raise ConfigError(
                [ConfigProblem(file, line, "file", f"invalid TOML: {error}")]
            ) from None
        base = Path(path).resolve().parent
    problems = check_config(data, file, source)
    overrides, env_problems = _from_environment(environ)
    problems += env_problems
    merged: dict[str, dict[str, Any]] = {
        section: {key: spec.default for key, spec in keys.items()}
        for section, keys in SCHEMA.items()
    }
    for section, values in data.items():
        if section in merged and isinstance(values, dict):
            merged[section].update({k: v for k, v in values.items() if k in SCHEMA[section]})
    for section, values in overrides.items():
        merged[section].update(values)
    problems += [p for p in check_config(overrides, "<environment>") if p.key != "token"]
    if not problems:
        problems += _check_shards(merged, file, source)
    if problems:
        raise ConfigError(problems)

    def resolve(value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    default_zone = merged["digest"]["default_timezone"]
    subscriptions = tuple(
        SubscriptionConfig(
            guild_id=entry["guild_id"],
            channel_id=entry["channel_id"],
            time=entry.get("time", "09:00"),
            timezone=entry.get("timezone") or default_zone,
            locale=entry.get("locale", "ja"),
            max_items=entry.get("max_items", 5),
            post_empty=entry.get("post_empty", False),
        )
        for entry in merged["digest"]["subscriptions"]
    )
    token = environ.get("DISCORD_TOKEN") or None
    return Settings(
        config_path=Path(path).resolve() if path else None,
        corpus_path=resolve(merged["corpus"]["path"]),
        corpus_refresh_minutes=merged["corpus"]["refresh_minutes"],
        corpus_git_pull=merged["corpus"]["git_pull"],
        index_path=resolve(merged["index"]["path"]),
        state_path=resolve(merged["state"]["path"]),
        state_url=merged["state"]["url"],
        article_url=merged["site"]["article_url"],
        timeline_url=merged["site"]["timeline_url"],
        default_locale=merged["bot"]["default_locale"],
        log_level=merged["bot"]["log_level"].upper(),
        log_format=merged["bot"]["log_format"],
        shard_count=merged["bot"]["shard_count"],
        shard_ids=tuple(merged["bot"]["shard_ids"]),
        misfire_grace_seconds=merged["digest"]["misfire_grace_seconds"],
        default_timezone=default_zone,
        subscriptions=subscriptions,
        discord_token=token,
    )
