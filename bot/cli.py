"""``technyan-bot``: the command line.

``technyan-bot`` with no command starts the bot: on Discord when ``DISCORD_TOKEN`` is set
(as ``technyan-bot run``), otherwise the terminal console on the configured (by default the
bundled) corpus. ``technyan-bot sync [--guild ID]`` registers the application commands.
Exit status: 0 success, 1 unexpected failure, 2 bad input (missing corpus, bad config,
missing or rejected token).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot import text
from bot.config import ConfigError, Settings, check_settings, load_settings
from bot.console import run_console, styled_reply
from bot.persona import reply_locale
from bot.replies import Reply
from bot.search import IndexMissingError, rebuild_command
from bot.service import NewsService
from bot.terminal import Terminal
from bot.user_input import InvalidOption, clean_text, parse_digest_date, parse_story_count

if TYPE_CHECKING:
    from bot.index import IndexReport

__all__ = ["build_parser", "main"]

log = logging.getLogger("bot")

DEFAULT_CONFIG = Path("config.toml")


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit status 2."""


def _add_common(parser: argparse.ArgumentParser, *, top: bool = False) -> None:
    """``--config`` and ``--db``, accepted before and after the subcommand: on a
    subcommand they default to "not given" so a value given before it is kept."""
    default = None if top else argparse.SUPPRESS
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        help="config.toml (default: ./config.toml if present)",
    )
    parser.add_argument(
        "--db", type=Path, default=default, help="index database (overrides index.path)"
    )


def _story_count(value: str) -> int:
    """``--count``: a whole number of stories from 1 to 25 (``parse_story_count``, as the
    console and Discord check it)."""
    try:
        return parse_story_count(value if value.strip() else "-")
    except InvalidOption as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _date_option(value: str) -> dt.date:
    """``--date`` (the digest's day) and ``--as-of`` (the day a query is read as asked on,
    for the relative periods it holds: "last month", "先週"): ``YYYY-MM-DD``, read by
    ``parse_digest_date`` as the console reads it."""
    try:
        return parse_digest_date(value)
    except InvalidOption as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=_date_option,
        metavar="YYYY-MM-DD",
        help="read relative periods ('last month', '先週') as asked on this day (default: today)",
    )


def _add_locale(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--locale", choices=("ja", "en"), help="reply language (default: en)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``technyan-bot`` with all its subcommands."""
    parser = argparse.ArgumentParser(
        prog="technyan-bot",
        description="テクにゃん. — AI news on Discord and in the terminal.",
    )
    _add_common(parser, top=True)
    commands = parser.add_subparsers(dest="command")

    index = commands.add_parser("index", help="build or update the search index")
    _add_common(index)
    index.add_argument("corpus", nargs="?", type=Path, help="corpus folder (default: corpus.path)")
    index.add_argument("--full", action="store_true", help="rebuild from scratch")
    index.add_argument("--json", action="store_true", help="print the report as JSON")

    news = commands.add_parser("news", help="answer one /news command and exit")
    news_commands = news.add_subparsers(dest="news_command", required=True)
    latest = news_commands.add_parser("latest", help="newest stories")
    latest.add_argument("--count", type=_story_count, default=None, help="1-25 (default 5)")
    latest.add_argument("--category")
    about = news_commands.add_parser("about", help="stories about a topic")
    about.add_argument("query", nargs="+")
    ask = news_commands.add_parser("ask", help="answer a question from the articles")
    ask.add_argument("question", nargs="+")
    for sub in (latest, about, ask):
        _add_common(sub)
        _add_locale(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object")
    for sub in (about, ask):
        _add_as_of(sub)
    trend = news_commands.add_parser(
        "trend", help="chart stories per month about up to three topics (comma-separated)"
    )
    trend.add_argument("topic", nargs="+")
    trend.add_argument("--period", help="all (default), 1y, 6m, 3m, 1m, 8w, 90d …")
    trend.add_argument("--out", type=Path, help="PNG file (default: ./trend-TOPIC.png)")
    _add_common(trend)
    _add_locale(trend)

    for name, help_text in (("search", "batch search"), ("ask", "batch answers")):
        batch = commands.add_parser(name, help=f"{help_text}: one query per line on stdin")
        _add_common(batch)
        _add_locale(batch)
        _add_as_of(batch)
        batch.add_argument("--stdin", action="store_true", required=True)
        batch.add_argument("--json", action="store_true", required=True)

    console = commands.add_parser("console", help="the bot in the terminal")
    _add_common(console)
    _add_locale(console)

    run = commands.add_parser("run", help="run the bot on Discord (token from DISCORD_TOKEN)")
    _add_common(run)

    sync = commands.add_parser(
        "sync",
        help="register the /news commands with Discord: --guild ID for development "
        "(instant), globally for production; never both for one guild",
    )
    _add_common(sync)
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to this guild only")
    sync.add_argument(
        "--clear", action="store_true", help="remove the commands from --guild instead"
    )
    check = commands.add_parser(
        "check-config", help="validate config.toml: file:line key: problem (exit 2 on any)"
    )
    check.add_argument("path", nargs="?", type=Path, help="config file (default: --config)")
    _add_common(check)
    health = commands.add_parser(
        "health", help="exit 0 when the index answers and the state database is writable"
    )
    _add_common(health)
    backup = commands.add_parser("backup", help="copy state.db safely while the bot runs")
    backup.add_argument("out", type=Path, help="destination file")
    _add_common(backup)
    copy_state = commands.add_parser(
        "copy-state",
        help="copy state.db (state.path) into the empty PostgreSQL database of state.url",
    )
    _add_common(copy_state)

    digest = commands.add_parser("digest", help="the daily digest")
    digest_commands = digest.add_subparsers(dest="digest_command", required=True)
    preview = digest_commands.add_parser(
        "preview", help="print the digest as a new subscription would get it"
    )
    _add_common(preview)
    _add_locale(preview)
    preview.add_argument(
        "--date", type=_date_option, help="digest date YYYY-MM-DD (default: the last 24 hours)"
    )
    preview.add_argument("--max-items", type=int, default=5, help="stories, 1-10 (default 5)")
    preview.add_argument("--timezone", help="IANA zone (default: digest.default_timezone)")
    return parser


def _config_path(args: argparse.Namespace) -> Path | None:
    """``--config``, else ``./config.toml`` when there is one, else None (defaults)."""
    if args.config is None and DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG
    return Path(args.config) if args.config is not None else None


def _settings(args: argparse.Namespace) -> Settings:
    """The settings of the file, the environment and ``--db``; raises ``ConfigError``."""
    settings = load_settings(_config_path(args))
    return settings.with_paths(index=args.db, source="--db") if args.db else settings


def _counted(count: int, singular: str, plural: str) -> str:
    """``1 story``, ``2 stories``: a count with its noun in the right number."""
    return f"{count} {singular if count == 1 else plural}"


def _print_report(report: IndexReport, stream: TextIO) -> None:
    stream.write(f"corpus    {report.corpus}\nindex     {report.db_path}\n")
    stream.write(
        f"documents {report.documents}\nstories   {report.stories}\n"
        + "".join(
            f"  {name:<12} {_counted(count, 'story', 'stories')}\n"
            for name, count in report.stories_by_collection.items()
        )
        + "".join(
            f"  {name:<15} {_counted(count, 'document', 'documents')}\n"
            for name, count in report.documents_by_locale.items()
        )
    )
    if report.single_locale_stories:
        stream.write(f"one language only: {', '.join(report.single_locale_stories)}\n")
    stream.write(
        f"this run  {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged in {report.seconds:.2f} s\n"
    )
    stream.write(f"skipped   {len(report.skipped)}\n")
    for path, reason in report.skipped:
        stream.write(f"  {path}: {reason}\n")
    stream.write(f"warnings  {len(report.warnings)}\n")
    for path, message in report.warnings:
        stream.write(f"  {path}: {message}\n")


def _command_index(args: argparse.Namespace) -> int:
    settings = _settings(args)
    corpus = (args.corpus or settings.corpus_path).resolve()
    if corpus.exists() and not corpus.is_dir():
        raise UsageError(
            f"not a folder: {corpus} (give the corpus folder, which holds articles/ and "
            "aiTimeline/)"
        )
    if not corpus.is_dir():
        raise UsageError(f"corpus folder not found: {corpus}")
    # The builder and its progress bars, loaded only by this command.
    from bot.index import build_index
    from bot.index_progress import index_progress

    with index_progress(sys.stderr) as progress:
        report = build_index(corpus, settings.index_path, full=args.full, progress=progress)
    if report.refused:
        print(f"technyan-bot: {report.refused}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.__dict__, ensure_ascii=False, default=str))
    elif not report.refused:
        _print_report(report, sys.stdout)
    return 2 if report.refused or not report.documents else 0


def _service(args: argparse.Namespace) -> NewsService:
    settings = _settings(args)
    if not settings.index_path.exists() and not settings.corpus_path.is_dir():
        raise UsageError(
            f"no index at {settings.index_path} and no corpus at {settings.corpus_path}"
        )
    service = NewsService(settings)
    report = service.ensure_index()
    if report is not None:
        if report.refused:
            raise UsageError(report.refused)
        print(
            f"indexed {_counted(report.documents, 'document', 'documents')} "
            f"({_counted(report.stories, 'story', 'stories')}) from "
            f"{report.corpus}" + (f", {len(report.skipped)} skipped" if report.skipped else ""),
            file=sys.stderr,
        )
    try:
        service.engine  # noqa: B018 - open it now: a damaged index is one line, not a traceback
    except IndexMissingError as error:
        raise UsageError(str(error)) from None
    return service


def _reply_json(reply_kind: str, query: str, reply: Reply) -> dict[str, object]:
    """The ``--json`` object of ``about`` (``{"query", "results": [card], "weak": [card],
    "suggestions"?}``: confident stories in ``results`` only, partial matches in ``weak``)
    or of ``ask`` (``{"question", "answer": {…} | null}``)."""
    if reply_kind == "ask":
        return {
            "question": query,
            "answer": reply.answer.to_json() if reply.answer is not None else None,
        }
    confident = not reply.weak
    payload: dict[str, object] = {
        "query": query,
        "results": [card.to_json() for card in reply.cards] if confident else [],
        "weak": [card.to_json() for card in reply.cards] if not confident else [],
    }
    if reply.suggestions:
        payload["suggestions"] = list(reply.suggestions)
    return payload


def _query_locale(args: argparse.Namespace, service: NewsService, query: str) -> str:
    """``--locale`` when given; else Japanese for a query written in Japanese, else the
    configured default (a terminal has no Discord locale to go by)."""
    if args.locale:
        return str(args.locale)
    return "ja" if text.is_japanese(query) else service.settings.default_locale


def _print_reply(reply: Reply) -> None:
    """``reply`` on standard output, laid out for the terminal (or 80 columns)."""
    terminal = Terminal()
    terminal.print(styled_reply(reply, terminal.width))


def _command_news(args: argparse.Namespace) -> int:
    """``news latest · about · ask``: one command, answered on standard output."""
    service = _service(args)
    commands: dict[str, Callable[[argparse.Namespace, NewsService], int]] = {
        "latest": _news_latest,
        "about": _news_search,
        "ask": _news_search,
        "trend": _news_trend,
    }
    return commands[args.news_command](args, service)


def _news_latest(args: argparse.Namespace, service: NewsService) -> int:
    """``news latest``: exit 2 with the categories there are for an unknown category."""
    locale = reply_locale(args.locale, service.settings.default_locale)
    reply = service.latest(args.count, args.category, locale)
    if reply.invalid == "category":
        raise UsageError(
            f"unknown category {clean_text(args.category)!r}; the categories are: "
            + ", ".join(service.categories())
        )
    if args.json:
        payload = {"query": None, "results": [card.to_json() for card in reply.cards]}
        print(json.dumps(payload, ensure_ascii=False))
    else:
        _print_reply(reply)
    return 0


def _news_search(args: argparse.Namespace, service: NewsService) -> int:
    """``news about QUERY`` and ``news ask QUESTION``, in the query's language unless
    ``--locale`` says otherwise."""
    words = args.query if args.news_command == "about" else args.question
    query = clean_text(" ".join(words))
    locale = _query_locale(args, service, query)
    search = service.about if args.news_command == "about" else service.ask
    reply = search(query, locale, as_of=args.as_of)
    if args.json:
        print(json.dumps(_reply_json(args.news_command, query, reply), ensure_ascii=False))
    else:
        _print_reply(reply)
    return 0


def _news_trend(args: argparse.Namespace, service: NewsService) -> int:
    """``news trend``: write the chart and print technyan's line, the counts as sparklines
    and the PNG's path (last line). Exit 1 with nothing written when there is no chart,
    2 when ``--period`` cannot be read (technyan's line says which periods work); raises
    ``UsageError`` (exit 2) naming ``--out`` when the file cannot be written."""
    from bot.chart import answer_trend
    from bot.trend import PeriodError, TrendService, parse_trend_period

    query = clean_text(" ".join(args.topic))
    answer = answer_trend(
        TrendService(service), query, args.period, _query_locale(args, service, query)
    )
    print(answer.reply.text)
    if answer.image is None:
        try:
            parse_trend_period(args.period)
        except PeriodError:
            return 2  # a usage error, as any other option's
        return 1
    out = args.out or Path(answer.image.filename)
    try:
        out.write_bytes(answer.image.png)
    except OSError as error:
        raise UsageError(f"cannot write the chart to {out}: {error.strerror}") from None
    print(out)
    return 0


def _stdin_lines() -> Iterator[str]:
    """Lines of standard input without their line ends, as clean text: bytes that are not
    UTF-8 become U+FFFD instead of stopping the batch."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text stream (tests, embedding)
        for line in sys.stdin:
            yield clean_text(line.rstrip("\n").rstrip("\r"))
        return
    for raw in stream:
        yield clean_text(raw.rstrip(b"\n").rstrip(b"\r"))


def _command_batch(args: argparse.Namespace) -> int:
    """``search --stdin --json`` and ``ask --stdin --json``: one JSON object per input
    line, in order, each on one line."""
    service = _service(args)
    for query in _stdin_lines():
        locale = _query_locale(args, service, query)
        try:
            if args.command == "search":
                reply = service.about(query, locale, as_of=args.as_of)
                payload = _reply_json("about", query, reply)
            else:
                payload = _reply_json("ask", query, service.ask(query, locale, as_of=args.as_of))
        except Exception:
            log.exception("batch %s failed for one line", args.command)
            if args.command == "search":
                payload = {"query": query, "results": [], "error": True}
            else:
                payload = {"question": query, "answer": None, "error": True}
        print(json.dumps(payload, ensure_ascii=False), flush=True)
    return 0


def _command_digest(args: argparse.Namespace) -> int:
    """``digest preview``: the digest's messages as they would be posted, on stdout."""
    from bot.digest import preview_text, render_digest_messages, standalone_digest
    from bot.digest_options import MAX_ITEMS_RANGE, resolve_timezone

    service = _service(args)
    zone = resolve_timezone(args.timezone or service.settings.default_timezone)
    if zone is None:
        raise UsageError(f"unknown time zone: {args.timezone}")
    if not MAX_ITEMS_RANGE[0] <= args.max_items <= MAX_ITEMS_RANGE[1]:
        raise UsageError(f"--max-items must be 1-10, got {args.max_items}")
    digest = standalone_digest(
        service,
        locale=reply_locale(args.locale, service.settings.default_locale),
        timezone=zone,
        max_items=args.max_items,
        day=args.date,
    )
    _print_digest(preview_text(render_digest_messages(digest)))
    return 0


def _print_digest(text: str) -> None:
    """The digest's messages: wrapped for reading on a terminal, verbatim (as they are
    posted) when standard output is a file or a pipe."""
    terminal = Terminal()
    if terminal.is_terminal:
        terminal.print_wrapped(text)
    else:
        print(text)


def _command_console(args: argparse.Namespace) -> int:
    service = _service(args)
    locale = reply_locale(
        args.locale or os.environ.get("TECHNYAN_LOCALE"), service.settings.default_locale
    )
    banner = [f"corpus: {service.settings.corpus_path}", f"index:  {service.settings.index_path}"]
    return run_console(service, locale, banner=banner, trend=_console_trend(service))


def _console_trend(service: NewsService) -> Callable[[str, str | None, str], str]:
    """``/news trend`` at the console: the chart written to the system's temporary folder
    (``technyan-bot/trend-TOPIC.png``), technyan's line, the sparklines and the path."""
    import tempfile

    from bot.chart import answer_trend
    from bot.trend import TrendService

    trends = TrendService(service)

    def trend(query: str, period: str | None, locale: str) -> str:
        answer = answer_trend(trends, query, period, locale)
        if answer.image is None:
            return answer.reply.text
        folder = Path(tempfile.gettempdir()) / "technyan-bot"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / answer.image.filename
        path.write_bytes(answer.image.png)
        saved = service.persona.say("trend_saved", locale, path=str(path))
        return f"{answer.reply.text}\n{saved}"

    return trend


def _command_run(args: argparse.Namespace) -> int:
    """``run``: check the configuration as ``check-config`` does, then the bot on Discord
    until SIGINT/SIGTERM (exit 2: bad configuration, missing or rejected token)."""
    from bot.discord_app.runner import run_bot

    problems = check_settings(_config_path(args), index=args.db)
    if problems:
        raise ConfigError(problems)
    return run_bot(_settings(args))


def _command_check_config(args: argparse.Namespace) -> int:
    """``check-config [PATH]``: every problem of the file, the environment and the paths
    in one run, each as ``SOURCE:LINE key: problem``; exit 2 on any, 0 when clean."""
    path = args.path or _config_path(args)
    problems = check_settings(path, index=args.db)
    for problem in problems:
        print(problem)
    if problems:
        return 2
    print(f"{path or '<defaults>'}: configuration OK")
    return 0


def _command_health(args: argparse.Namespace) -> int:
    """``health``: 0 when healthy, else 1 with one line per problem."""
    from bot.ops import check_health

    problems = check_health(_settings(args))
    for problem in problems:
        print(problem)
    if problems:
        return 1
    print("healthy")
    return 0


def _command_copy_state(args: argparse.Namespace) -> int:
    """``copy-state``: move subscriptions and the digest ledger from ``state.path`` to the
    PostgreSQL database of ``state.url`` (which must be empty), when one process becomes
    several."""
    from bot.state import SqliteStateStore, StateError, copy_state
    from bot.state_postgres import PostgresStateStore

    settings = _settings(args)
    if not settings.state_url:
        raise UsageError("set state.url (or TECHNYAN_STATE_URL) to the PostgreSQL database")
    if not settings.state_path.is_file():
        raise UsageError(f"state database not found: {settings.state_path}")
    try:
        subscriptions, entries = copy_state(
            SqliteStateStore(settings.state_path), PostgresStateStore(settings.state_url)
        )
    except StateError as error:
        raise UsageError(str(error)) from None
    print(
        f"copied {_counted(subscriptions, 'subscription', 'subscriptions')} and "
        f"{_counted(entries, 'ledger row', 'ledger rows')} to PostgreSQL"
    )
    return 0


def _command_backup(args: argparse.Namespace) -> int:
    """``backup OUT``: an online copy of state.db (SQLite backup API)."""
    from bot.ops import backup_state

    settings = _settings(args)
    if settings.state_url:
        raise UsageError("state is in PostgreSQL (state.url): back it up with pg_dump")
    try:
        size = backup_state(settings.state_path, args.out)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(f"backed up {settings.state_path} to {args.out} ({size} bytes)")
    return 0


def _command_sync(args: argparse.Namespace) -> int:
    """``sync [--guild ID] [--clear]``: register (or remove) the application commands."""
    from bot.discord_app.runner import configure_logging, sync_commands

    if args.clear and args.guild is None:
        raise UsageError("--clear needs --guild ID")
    settings = _settings(args)
    if settings.discord_token:
        configure_logging(settings, [settings.discord_token])
    return sync_commands(settings, args.guild, clear=args.clear)


def _discord_wanted(args: argparse.Namespace) -> bool:
    return args.command in ("run", "sync") or (
        args.command is None and bool(os.environ.get("DISCORD_TOKEN"))
    )


def _command_start(args: argparse.Namespace) -> int:
    """No subcommand: the bot on Discord when ``DISCORD_TOKEN`` is set, else the console."""
    if os.environ.get("DISCORD_TOKEN"):
        return _command_run(args)
    args.locale = None
    return _command_console(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``technyan-bot`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        # A terminal or pipe that cannot show Japanese (PYTHONIOENCODING=ascii) gets
        # escapes, never an encoding error.
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    if not _discord_wanted(args):  # the Discord runner configures its own logging
        logging.basicConfig(
            level=os.environ.get("TECHNYAN_BOT_LOG_LEVEL", "WARNING").upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    handlers = {
        "index": _command_index,
        "news": _command_news,
        "search": _command_batch,
        "ask": _command_batch,
        "console": _command_console,
        "run": _command_run,
        "sync": _command_sync,
        "digest": _command_digest,
        "check-config": _command_check_config,
        "health": _command_health,
        "backup": _command_backup,
        "copy-state": _command_copy_state,
        None: _command_start,
    }
    try:
        status = handlers[args.command](args)
        sys.stdout.flush()  # a full disk or closed pipe is reported here, not at exit
        return status
    except (UsageError, FileNotFoundError) as error:
        print(f"technyan-bot: {error}", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"technyan-bot: configuration problems:\n{error}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as error:
        if args.command in _STATE_COMMANDS:
            print(
                f"technyan-bot: the state database is damaged ({error}); restore a copy made "
                "by `technyan-bot backup`, or move the file aside to start with no subscriptions",
                file=sys.stderr,
            )
            return 2
        rebuild = rebuild_command(getattr(args, "db", None))
        print(
            f"technyan-bot: a database is damaged ({error}); rebuild the index with `{rebuild}`",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as error:  # standard output on a full disk, a closed terminal
        _silence_stdout()
        print(f"technyan-bot: cannot write the output: {error}", file=sys.stderr)
        return 1


# Commands whose only database is the state database (subscriptions and the ledger).
_STATE_COMMANDS = frozenset({"backup", "copy-state"})


def _silence_stdout() -> None:
    """Point standard output at the null device, so the interpreter's last flush at exit
    does not fail again on what could not be written."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    raise SystemExit(main())
