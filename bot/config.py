"""Settings from ``config.toml`` and the environment.

Every key is declared once in ``SCHEMA`` (section, key, type, default, description);
config.example.toml documents the same keys. Environment variables override the file for
every key: ``TECHNYAN_<SECTION>_<KEY>`` in upper case (``TECHNYAN_INDEX_PATH``,
``TECHNYAN_SITE_ARTICLE_URL``). The Discord token is read from ``DISCORD_TOKEN`` only, never
from a file. Relative paths are resolved against the config file's folder (or the current
folder when there is no file).

Every problem is reported in one run, each as ``SOURCE:LINE key: problem`` where SOURCE is
where the value came from: the config file (LINE its line), the environment variable
(``TECHNYAN_CORPUS_PATH:0``), a command-line option (``--db:0``) or ``<defaults>``; LINE
is 0 when the value is not on a line of a file.
"""

from __future__ import annotations

import difflib
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
    "Origin",
    "Settings",
    "SubscriptionConfig",
    "check_config",
    "check_paths",
    "check_settings",
    "load_settings",
    "state_url_problems",
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

#: ``TECHNYAN_`` variables read outside ``SCHEMA``: the console's reply language
#: (``technyan-bot console``) and the corpus the Docker image copies into an empty corpus
#: folder (``docker/entrypoint.sh``). Any other ``TECHNYAN_`` variable is a problem
#: of the configuration (``check-config``; ``load_settings`` refuses it), most likely a
#: misspelt setting.
OTHER_VARIABLES = ("TECHNYAN_LOCALE", "TECHNYAN_BUNDLED_CORPUS")

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
_TOKEN_KEYS = frozenset({"token", "discord_token", "bot_token"})
#: Where a value comes from when neither a file nor a variable set it.
DEFAULTS_SOURCE = "<defaults>"
#: Characters of a bad value shown in a problem; longer values are cut with "…".
_SHOWN_CHARACTERS = 60

#: libpq connection parameters with a fixed set of values, and those that are integers,
#: as libpq checks them when it connects ("Parameter Key Words", PostgreSQL
#: documentation, libpq-connect.html#LIBPQ-PARAMKEYWORDS).
_CONNINFO_CHOICES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "target_session_attrs": (
        "any",
        "read-write",
        "read-only",
        "primary",
        "standby",
        "prefer-standby",
    ),
    "load_balance_hosts": ("disable", "random"),
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
}
_CONNINFO_INTEGERS = (
    "connect_timeout",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
)


@dataclass(frozen=True)
class ConfigProblem:
    """One configuration problem, printed ``SOURCE:LINE key: problem``.

    ``source`` is where the value came from: the config file's path, the environment
    variable's name (``TECHNYAN_CORPUS_PATH``), a command-line option (``--db``) or
    ``<defaults>``; ``line`` is its 1-based line in the file, 0 when it has none."""

    source: str
    line: int
    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line} {self.key}: {self.problem}"


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from (``source`` and ``line`` as in
    ``ConfigProblem``); ``default`` is true when nothing set it."""

    source: str
    line: int = 0
    default: bool = False


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
    (``DISCORD_TOKEN``) and is never printed (``repr`` hides it). ``origins`` maps
    ``section.key`` to where its value came from, for problems found later (paths)."""

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
    origins: Mapping[str, Origin] = field(default_factory=dict, repr=False, compare=False)

    def with_paths(
        self,
        *,
        corpus: Path | None = None,
        index: Path | None = None,
        source: str = "<command line>",
    ) -> Settings:
        """A copy with the corpus and/or index path replaced (command-line overrides);
        ``source`` names the option, for problems found with the new path."""
        from dataclasses import replace

        origins = dict(self.origins)
        if corpus:
            origins["corpus.path"] = Origin(source)
        if index:
            origins["index.path"] = Origin(source)
        return replace(
            self,
            corpus_path=corpus.resolve() if corpus else self.corpus_path,
            index_path=index.resolve() if index else self.index_path,
            origins=origins,
        )


# -- where keys are ------------------------------------------------------------------------

_TABLE_RE = re.compile(r"^\[\s*([\w.\-]+)\s*\]")
_ARRAY_TABLE_RE = re.compile(r"^\[\[\s*([\w.\-]+)\s*\]\]")
_ASSIGNMENT_RE = re.compile(r"^([\w\-]+(?:\s*\.\s*[\w\-]+)*)\s*=")


def _key_lines(source: str) -> dict[str, int]:
    """Line numbers (1-based) of the tables and assignments of TOML text: ``section``,
    ``section.key``, and for arrays of tables ``digest.subscriptions[0]`` (its header) and
    ``digest.subscriptions[0].time``. Best effort: a line inside a multi-line string that
    looks like an assignment may be taken for one."""
    lines: dict[str, int] = {}
    table = ""
    occurrences: dict[str, int] = {}
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if match := _ARRAY_TABLE_RE.match(stripped):
            name = match[1]
            position = occurrences.get(name, 0)
            occurrences[name] = position + 1
            table = f"{name}[{position}]"
            lines.setdefault(name, number)
            lines[table] = number
        elif match := _TABLE_RE.match(stripped):
            table = match[1]
            lines.setdefault(table, number)
        elif match := _ASSIGNMENT_RE.match(stripped):
            key = re.sub(r"\s*\.\s*", ".", match[1])
            lines.setdefault(f"{table}.{key}" if table else key, number)
    return lines


def _line_of(lines: Mapping[str, int], key: str) -> int:
    """The line of ``key``, else of the nearest enclosing table or array element, else 0."""
    while key:
        if key in lines:
            return lines[key]
        key = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", key) if re.search(r"[.\[]", key) else ""
    return 0


# -- values --------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    """``repr(value)``, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARACTERS else text[: _SHOWN_CHARACTERS - 1] + "…"


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


def _redacted(message: str, url: str) -> str:
    """First line of ``message`` without the URL or its password."""
    line = message.strip().splitlines()[0] if message.strip() else "unreadable"
    line = line.replace(url, "<url>")
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", line)


def state_url_problems(url: str) -> list[str]:
    """What ``run`` would refuse in a PostgreSQL ``state.url``: a scheme other than
    ``postgresql://``, text libpq's conninfo parser rejects (psycopg's ``conninfo_to_dict``:
    unknown parameters, bad percent-encoding, an unclosed IPv6 bracket), a port that is not
    a number from 1 to 65535 (or more ports than hosts), a parameter with a fixed set of
    values (``sslmode``, ``target_session_attrs``, …) set to another, or a timeout that is
    not a whole number. Returns the problems (empty: usable); never the password."""
    if not url.startswith(_STATE_URL_SCHEMES):
        return ["expected a postgresql://user:password@host:5432/database URL"]
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as error:
        return [f"not a valid PostgreSQL URL ({_redacted(str(error), url)})"]
    problems = []
    ports = [p for p in str(params.get("port") or "").split(",")] if params.get("port") else []
    for port in ports:
        if not (port.strip().isdigit() and 1 <= int(port) <= 65535):
            problems.append(f"port {_shown(port)} is not a number from 1 to 65535")
    hosts = str(params.get("host") or params.get("hostaddr") or "").split(",")
    if len(ports) > 1 and len(ports) != len(hosts):
        problems.append(f"{len(ports)} ports for {len(hosts)} hosts")
    for name, choices in _CONNINFO_CHOICES.items():
        if name in params and params[name] not in choices:
            problems.append(f"{name} {_shown(params[name])} is not one of {', '.join(choices)}")
    for name in _CONNINFO_INTEGERS:
        if name in params and not re.fullmatch(r"\s*-?\d+\s*", str(params[name])):
            problems.append(f"{name} {_shown(params[name])} is not a whole number")
    return problems


def _value_problems(name: str, value: Any) -> list[str]:
    """Problems with ``value`` for the key ``section.key`` (``digest.subscriptions``
    excepted: see ``_check_subscription``)."""
    section, key = name.split(".", 1)
    spec = SCHEMA[section][key]
    if not _check_type(value, spec.type):
        return [f"expected {spec.type.__name__}, got {type(value).__name__} {_shown(value)}"]
    if name == "bot.default_locale" and value not in ("ja", "en"):
        return [f"expected ja or en, got {_shown(value)}"]
    if name == "bot.log_format" and value not in ("text", "json"):
        return [f"expected text or json, got {_shown(value)}"]
    if name == "bot.log_level" and value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return [f"expected DEBUG, INFO, WARNING or ERROR, got {_shown(value)}"]
    if name == "digest.default_timezone" and not _valid_zone(value):
        return [f"unknown time zone {_shown(value)}"]
    if name in ("corpus.refresh_minutes", "digest.misfire_grace_seconds") and value < 0:
        return [f"must not be negative, got {value}"]
    if name == "state.url" and value:
        return state_url_problems(value)
    if name == "bot.shard_ids" and not all(_check_type(v, int) for v in value):
        return [f"expected a list of integers, got {_shown(value)}"]
    return []


def check_config(
    data: Mapping[str, Any], file: str = DEFAULTS_SOURCE, source: str = ""
) -> list[ConfigProblem]:
    """Validate parsed config ``data`` (from the file ``file``, whose text ``source`` gives
    line numbers) against ``SCHEMA``: unknown sections and keys, wrong types, bad locales,
    times, time zones and ``state.url``, each subscription entry, and a Discord token
    written into the file. Returns the problems (empty: clean)."""
    lines = _key_lines(source)
    problems: list[ConfigProblem] = []

    def problem(key: str, text: str) -> None:
        problems.append(ConfigProblem(file, _line_of(lines, key), key, text))

    token_line = next(
        (
            number
            for number, text in enumerate(source.splitlines(), 1)
            if _TOKEN_RE.search(text) or re.match(r"\s*(discord_|bot_)?token\s*=", text, re.I)
        ),
        None,
    )
    if token_line is not None or any(
        str(k).casefold() in _TOKEN_KEYS
        for section in data.values()
        if isinstance(section, dict)
        for k in section
    ):
        problems.append(
            ConfigProblem(
                file,
                token_line or 0,
                "token",
                "a Discord token must not be in a file; set DISCORD_TOKEN",
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
            if key not in SCHEMA[section]:
                if key.casefold() not in _TOKEN_KEYS:
                    problem(name, "unknown key")
            elif name == "digest.subscriptions":
                if not isinstance(value, list):
                    problem(name, f"expected an array of tables, got {_shown(value)}")
                    continue
                for position, entry in enumerate(value):
                    for key_name, text in _check_subscription(entry, f"{name}[{position}]"):
                        problem(key_name, text)
            else:
                for text in _value_problems(name, value):
                    problem(name, text)
    return problems


def _check_subscription(entry: Any, name: str) -> list[tuple[str, str]]:
    """``(key, problem)`` for one ``[[digest.subscriptions]]`` entry called ``name``."""
    if not isinstance(entry, dict):
        return [(name, "expected a table")]
    problems = [
        (f"{name}.{key}", "missing") for key in ("guild_id", "channel_id") if key not in entry
    ]
    for key, value in entry.items():
        spec = SUBSCRIPTION_KEYS.get(key)
        where = f"{name}.{key}"
        if spec is None:
            problems.append((where, "unknown key"))
        elif not _check_type(value, spec.type):
            problems.append((where, f"expected {spec.type.__name__}, got {_shown(value)}"))
        elif key == "time" and not _check_time(value):
            problems.append((where, f"expected HH:MM, got {_shown(value)}"))
        elif key == "timezone" and value and not _valid_zone(value):
            problems.append((where, f"unknown time zone {_shown(value)}"))
        elif key == "locale" and value not in ("ja", "en"):
            problems.append((where, f"expected ja or en, got {_shown(value)}"))
        elif key == "max_items" and not 1 <= value <= 10:
            problems.append((where, f"expected 1–10, got {value}"))
    return problems


def _check_shards(
    merged: dict[str, dict[str, Any]], origins: Mapping[str, Origin]
) -> list[ConfigProblem]:
    """``bot.shard_ids`` needs ``bot.shard_count`` (discord.py requires both) and each id
    in ``0 .. shard_count - 1``, once. Checked on the merged settings, so the file may hold
    the count and each process's environment its ids."""
    count, ids = merged["bot"]["shard_count"], list(merged["bot"]["shard_ids"])
    problems = []

    def problem(key: str, text: str) -> None:
        origin = origins[key]
        problems.append(ConfigProblem(origin.source, origin.line, key, text))

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


def _environment_value(raw: str, spec: Key) -> Any:
    """A variable's text as the key's type. Raises ``ValueError``."""
    if spec.type is bool:
        if raw.casefold() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(raw)
        return raw.casefold() in {"1", "true", "yes", "on"}
    if spec.type is int:
        return int(raw)
    if spec.type is list:
        return [int(part) for part in raw.replace(",", " ").split()]
    return raw


def _from_environment(
    environ: Mapping[str, str],
) -> tuple[dict[str, tuple[Any, str]], list[ConfigProblem]]:
    """``{section.key: (value, variable)}`` for the ``TECHNYAN_<SECTION>_<KEY>`` variables
    set in ``environ`` with usable values, and the problems of the others (each under
    the variable's name)."""
    values: dict[str, tuple[Any, str]] = {}
    problems: list[ConfigProblem] = []
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            variable = f"TECHNYAN_{section}_{key}".upper()
            if variable not in environ:
                continue
            name, raw = f"{section}.{key}", environ[variable]
            if key == "subscriptions":
                problems.append(
                    ConfigProblem(
                        variable, 0, name, "not read from the environment; use the config file"
                    )
                )
                continue
            try:
                value = _environment_value(raw, spec)
            except ValueError:
                expected = "a list of integers" if spec.type is list else spec.type.__name__
                problems.append(
                    ConfigProblem(variable, 0, name, f"expected {expected}, got str {_shown(raw)}")
                )
                continue
            found = _value_problems(name, value)
            problems += [ConfigProblem(variable, 0, name, text) for text in found]
            if not found:
                values[name] = (value, variable)
    known = [
        f"TECHNYAN_{section}_{key}".upper() for section, keys in SCHEMA.items() for key in keys
    ]
    allowed = {*known, *OTHER_VARIABLES}
    for variable in sorted(environ):
        if variable.startswith("TECHNYAN_") and variable not in allowed:
            close = difflib.get_close_matches(variable, known, n=1, cutoff=0.8)
            hint = f"; did you mean {close[0]}?" if close else ""
            problems.append(ConfigProblem(variable, 0, "environment", f"unknown variable{hint}"))
    return values, problems


# -- paths ---------------------------------------------------------------------------------


def check_paths(settings: Settings) -> list[ConfigProblem]:
    """Problems with the paths of ``settings``: the corpus must be a readable folder, and
    the folders of the index and state databases must exist or be creatable and be
    writable. Each is reported against where the path came from (``settings.origins``)."""
    problems: list[ConfigProblem] = []
    fallback = Origin(str(settings.config_path or DEFAULTS_SOURCE), 0, default=True)

    def problem(key: str, text: str) -> None:
        origin = settings.origins.get(key, fallback)
        if origin.default:
            variable = "TECHNYAN_" + key.replace(".", "_").upper()
            text += f" (the default; set {key} or {variable})"
        problems.append(ConfigProblem(origin.source, origin.line, key, text))

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
        elif not folder.is_dir():
            problem(key, f"not in a folder: {folder} is a file")
        elif not os.access(folder, os.W_OK | os.X_OK):
            problem(key, f"folder not writable: {folder}")
    return problems


# -- loading -------------------------------------------------------------------------------


def _read_file(path: Path) -> tuple[dict[str, Any], str, list[ConfigProblem]]:
    """The parsed file, its text, and the problem that stopped reading it (if any)."""
    file = str(path)
    try:
        source = Path(path).read_text(encoding="utf-8")
        return tomllib.loads(source), source, []
    except OSError as error:
        reason = "not found" if isinstance(error, FileNotFoundError) else "unreadable"
        return {}, "", [ConfigProblem(file, 0, "file", f"{reason} ({error.strerror})")]
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        return {}, "", [ConfigProblem(file, line, "file", "not UTF-8 text")]
    except tomllib.TOMLDecodeError as error:
        line = int(m[1]) if (m := re.search(r"line (\d+)", str(error))) else 0
        return {}, "", [ConfigProblem(file, line, "file", f"invalid TOML: {error}")]


def _load(
    path: Path | None, environ: Mapping[str, str]
) -> tuple[Settings | None, list[ConfigProblem]]:
    """Settings from the file and the environment, built from the values that passed
    their checks (defaults stand in for the others), and every problem found. The
    settings are None when the file could not be read."""
    file = str(path) if path is not None else DEFAULTS_SOURCE
    data: dict[str, Any] = {}
    source = ""
    problems: list[ConfigProblem] = []
    if path is not None:
        data, source, problems = _read_file(path)
    unreadable = bool(problems)
    problems += check_config(data, file, source)
    refused = {problem.key for problem in problems}
    lines = _key_lines(source)
    merged: dict[str, dict[str, Any]] = {
        section: {key: spec.default for key, spec in keys.items()}
        for section, keys in SCHEMA.items()
    }
    origins: dict[str, Origin] = {
        f"{section}.{key}": Origin(file, 0, default=True)
        for section, keys in SCHEMA.items()
        for key in keys
    }
    for section, values in data.items():
        if section not in merged or not isinstance(values, dict):
            continue
        for key, value in values.items():
            name = f"{section}.{key}"
            if key in SCHEMA[section] and not any(
                bad == name or bad.startswith(f"{name}[") for bad in refused
            ):
                merged[section][key] = value
                origins[name] = Origin(file, _line_of(lines, name))
    overrides, environment_problems = _from_environment(environ)
    problems += environment_problems
    for name, (value, variable) in overrides.items():
        section, key = name.split(".", 1)
        merged[section][key] = value
        origins[name] = Origin(variable)
    problems += _check_shards(merged, origins)
    if unreadable:
        return None, problems
    base = Path(path).resolve().parent if path is not None else Path.cwd()

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
    settings = Settings(
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
        discord_token=environ.get("DISCORD_TOKEN") or None,
        origins=origins,
    )
    return settings, problems


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load settings from ``path`` (a TOML file; None: defaults only) and the environment
    (``environ``, default ``os.environ``).

    Raises ``ConfigError`` listing every problem (``SOURCE:LINE key: problem``): an
    unreadable or invalid file, unknown keys, wrong types, bad zones, a token in the file,
    or a bad environment value. Paths are not checked here (see ``check_settings``)."""
    settings, problems = _load(path, os.environ if environ is None else environ)
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def check_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    index: Path | None = None,
) -> list[ConfigProblem]:
    """Every problem of the configuration in one list, as ``technyan-bot check-config``
    prints it: those ``load_settings`` raises and, unless the file could not be read,
    those of the paths (``check_paths``; ``index`` replaces ``index.path``, as ``--db``
    does), each against the file line or the environment variable its value came from.
    Empty when the configuration is usable."""
    settings, problems = _load(path, os.environ if environ is None else environ)
    if settings is not None:
        if index is not None:
            settings = settings.with_paths(index=index, source="--db")
        problems += check_paths(settings)
    return problems
