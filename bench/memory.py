"""Resident memory of a serving process over thousands of commands.

    python bench/memory.py [--size 100000] [--work bench/out] [--commands 5000]

Three fresh processes each open ``NewsService`` on the index of the synthetic corpus of
``--size`` documents, warm it as the bot does when it starts (``SearchEngine.warm``) and
answer one query: their memory then is "start". The first starts with the Japanese
dictionary file and the environment's shared libraries out of the page cache, the others
with the dictionary read whole into it (``_cache_mapped_files``), never as the install
or an earlier step left them. The commands' texts are
prepared by this (parent) process and handed over as a small file, so the measured one
holds nothing of the benchmark's own (the corpus manifest it builds queries from is 5 MB
of JSON). Each then runs ``--commands`` commands as users send them: about (distinct
queries from ``bench/query_set.py``, and repeats of popular ones), latest with counts and
categories, ask, and autocomplete on prefixes; the third also draws a ``/news trend``
chart every 250 commands (matplotlib and its fonts load with the first one, as in the
bot). Memory is read from ``/proc/self/status`` every 500 commands: ``VmRSS``, split into
``RssAnon`` (the process's own allocations: caches, loaded names) and ``RssFile`` (pages
of mapped files: mostly the 115 MB Japanese dictionary, which Sudachi maps and touches
page by page as new words come; shared, and given back under memory pressure), and
``VmHWM`` at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    DEFAULT_WORK,
    SHARED_CORPUS,
    ensure_indexes,
    load_average,
    machine,
    proc_memory_mb,
    run_child,
    table,
    warm_page_cache,
)
from bench.query_set import build_queries, prefixes  # noqa: E402

TARGET_START_MB = 150.0
TARGET_GROWTH_MB = 10.0
SAMPLE_EVERY = 500


def child(index: Path, texts_path: str, commands: int, charts: bool) -> dict[str, object]:
    """Run in the measured process: open, warm, serve ``commands`` commands; memory
    samples. ``texts_path``: the queries and typed prefixes the parent prepared (JSON),
    so this process holds none of the benchmark's corpus data."""
    from bot.config import load_settings
    from bot.service import NewsService
    from bot.trend import TrendService

    texts = json.loads(Path(texts_path).read_text(encoding="utf-8"))
    queries: list[str] = texts["queries"]
    typed: list[str] = texts["typed"]
    settings = load_settings(None, environ={}).with_paths(index=index)
    service = NewsService(settings)
    service.engine.warm()
    service.about("OpenAI", locale="en")
    start = proc_memory_mb()
    categories = [name for name, _ in service.engine.categories()[:20]]
    generator = random.Random(11)
    trends = TrendService(service)
    samples: list[tuple[int, dict[str, float]]] = [(0, start)]
    started = time.perf_counter()
    for number in range(1, commands + 1):
        kind = number % 10
        if charts and number % 250 == 0:
            from bot.chart import answer_trend  # as the bot: on the first chart

            answer_trend(trends, generator.choice(["OpenAI", "Gemini, Claude"]), "1y", "en")
        elif kind < 5:
            # Distinct queries, with a popular few repeated as people do.
            if generator.random() < 0.3:
                query = generator.choice(queries[:50])
            else:
                query = queries[number % len(queries)]
            service.about(query, locale=generator.choice(["en", "ja"]))
        elif kind < 7:
            service.latest(
                count=generator.randint(1, 25),
                category=generator.choice([None, *categories]),
                locale="en",
            )
        elif kind < 8:
            service.ask(queries[(number * 7) % len(queries)], locale="ja")
        else:
            service.suggest(typed[number % len(typed)], locale="en")
        if number % SAMPLE_EVERY == 0:
            samples.append((number, proc_memory_mb()))
    return {"samples": samples, "end": proc_memory_mb(), "seconds": time.perf_counter() - started}


def prepare(work: Path, size: int, seed: int) -> dict[str, str]:
    """Bring the index of ``size`` documents up to date and write the commands' texts:
    ``{"index": path, "texts": path}``, or ``{"error": message}`` without the real
    corpus. Run in a child: the measured processes load neither the corpus manifest (5 MB
    of JSON at 100,000 documents, tens of MB once parsed) nor the query-set builder, and
    the benchmark's own process never maps the Japanese dictionary."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        index, _trigram, manifest = ensure_indexes(work, size, seed)
    except FileNotFoundError as error:
        return {"error": str(error)}
    queries = [q for _, q in build_queries(index, manifest, SHARED_CORPUS, per_kind=200)]
    texts_path = work / f"memory-commands-{size}.json"
    texts_path.write_text(
        json.dumps({"queries": queries, "typed": prefixes(queries, 3000)}, ensure_ascii=False),
        encoding="utf-8",
    )
    return {"index": str(index), "texts": str(texts_path)}


def _status(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _mapped_files() -> list[Path]:
    """The installed files a serving process maps: the Japanese dictionary and every
    shared object under the environment's site-packages (numpy's, Sudachi's, rapidfuzz's
    and the libraries they bundle)."""
    from bot.text import dictionary_file

    packages = Path(sysconfig.get_paths()["platlib"])
    return [dictionary_file(), *(p for p in sorted(packages.rglob("*.so*")) if p.is_file())]


def _cache_mapped_files(cached: bool) -> None:
    """Take the files a serving process maps (``_mapped_files``) out of the page cache
    (``posix_fadvise(POSIX_FADV_DONTNEED)``, which leaves the pages a process maps: this
    one maps neither the dictionary, see ``prepare``, nor most of the libraries), as after
    a reboot or in a new container; or read the dictionary whole into it. A process shows
    every page of a mapped file that it touched, and also the cached pages around each
    one the kernel maps with it (fault-around): how many depends on how the cached pages
    got there. With the same code, the start reading was 151.3 MB in an environment pip
    had just written (its libraries wholly cached) and 146.0 MB in an older one; right
    after an index build (whose workers use the whole dictionary), 17–20 MB more. The
    first process therefore starts with all of them evicted; the later ones with the
    dictionary read whole, the libraries as the first left them."""
    files = _mapped_files()
    if cached:
        warm_page_cache(files[0])
        return
    for path in files:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring); exit 2 when the real corpus is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--commands", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    if args.child:
        index, texts, commands, charts = args.child
        print(json.dumps(child(Path(index), texts, int(commands), charts == "charts")))
        return 0
    if args.prepare:
        print(json.dumps(prepare(work, args.size, args.seed)))
        return 0
    # Prepared in a process of its own: building the queries maps the dictionary, and
    # a file some process maps cannot be taken out of the page cache.
    command = [str(Path(__file__)), "--prepare", "--work", str(work)]
    prepared = run_child([*command, "--size", str(args.size), "--seed", str(args.seed)])
    if "error" in prepared:
        print(prepared["error"], file=sys.stderr)
        return 2
    index, texts_path = Path(str(prepared["index"])), Path(str(prepared["texts"]))
    load_before = load_average()
    rows = []
    curves = []
    for scenario, cached in (("text", False), ("text", True), ("charts", True)):
        _cache_mapped_files(cached)
        result = run_child(
            [
                str(Path(__file__)),
                "--child",
                str(index),
                str(texts_path),
                str(args.commands),
                scenario,
            ]
        )
        samples = [(int(n), dict(mb)) for n, mb in result["samples"]]  # type: ignore[union-attr]
        start, end = samples[0][1], samples[-1][1]
        warm = next((mb for n, mb in samples if n >= SAMPLE_EVERY), start)
        peak = float(result["end"]["VmHWM"])  # type: ignore[index]
        growth = end["VmRSS"] - start["VmRSS"]
        rows.append(
            [
                args.size,
                "about, latest, ask, autocomplete"
                + (" + a chart every 250" if scenario == "charts" else "")
                + ("; dictionary cached" if cached else "; dictionary and libraries evicted"),
                args.commands,
                _split(start),
                _split(warm),
                _split(end),
                _growth(start, end),
                _growth(warm, end),
                f"{peak:.1f}",
                f"{float(result['seconds']):.0f}",  # type: ignore[arg-type]
                f"start ≤{TARGET_START_MB:g} MB {_status(start['VmRSS'] <= TARGET_START_MB)}; "
                f"growth <{TARGET_GROWTH_MB:g} MB {_status(growth < TARGET_GROWTH_MB)}",
            ]
        )
        curves.append(
            f"{scenario}, {'dictionary cached' if cached else 'dictionary and libraries evicted'}: "
            + ", ".join(f"{mb['VmRSS']:.1f} ({mb['RssAnon']:.1f})" for _, mb in samples)
        )
    print(f"## Memory over {args.commands} commands — {machine()}\n")
    print(f"Load average (1, 5, 15 min): {load_before} before, {load_average()} after.\n")
    print(
        table(
            [
                "docs",
                "commands",
                "n",
                "start VmRSS MB (anon + file)",
                f"after {SAMPLE_EVERY}",
                "at the end",
                "growth from start MB",
                f"growth after {SAMPLE_EVERY} MB",
                "peak (VmHWM) MB",
                "seconds",
                "targets (VmRSS)",
            ],
            rows,
        )
    )
    print(f"\nVmRSS (RssAnon) every {SAMPLE_EVERY} commands, MB:\n")
    for curve in curves:
        print(f"- {curve}")
    print(
        "\nFrom /proc/self/status of the serving process itself. RssFile is mostly the "
        "Japanese dictionary (a 115 MB file Sudachi maps and touches as new words come); "
        "RssAnon is what the process allocates (caches, names, filters, matplotlib)."
    )
    return 0


def _growth(before: dict[str, float], after: dict[str, float]) -> str:
    anon = after["RssAnon"] - before["RssAnon"]
    return f"{after['VmRSS'] - before['VmRSS']:+.1f} ({anon:+.1f} anon)"


def _split(memory: dict[str, float]) -> str:
    return f"{memory['VmRSS']:.1f} ({memory['RssAnon']:.1f} + {memory['RssFile']:.1f})"


if __name__ == "__main__":
    sys.exit(main())
