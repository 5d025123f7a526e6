"""Mutants per module after ``mutmut run``: generated, killed, survived and the rest.

Run as ``python -m tests.mutation_summary [PATTERN …]`` from the folder ``mutmut`` ran in
(``make mutation`` does, with the patterns it gave ``mutmut run``: only mutants whose names
match one are counted). It reads ``mutmut results --all true`` (one ``name: status`` line per
mutant, the name starting with the module's dotted path), prints a table per module and
then every surviving mutant, and exits 0; judging survivors is the reader's job
(docs/MUTATION.md holds the last run and the verdict on each survivor).
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

#: Statuses counted as killed: a test failed, the run timed out (a mutant that never
#: ends is caught), or the type checker refused the mutant.
KILLED = {"killed", "timeout", "caught by type check"}


def mutant_statuses(mutmut: str) -> list[tuple[str, str]]:
    """``(mutant name, status)`` for every mutant mutmut knows."""
    done = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    )
    found = []
    for line in done.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            found.append((name, status.strip()))
    return found


def module_of(mutant: str) -> str:
    """``bot.corpus.x_parse_date__mutmut_3`` → ``bot.corpus`` (a method's mutant,
    ``bot.query.xǁAlternativeǁfts__mutmut_1``, has no dot after its module either)."""
    return mutant.rsplit(".", 1)[0]


def main() -> int:
    mutmut = str(Path(sys.executable).with_name("mutmut"))
    patterns = sys.argv[1:] or ["*"]
    statuses = [
        (name, status)
        for name, status in mutant_statuses(mutmut)
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    ]
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses:
        per_module[module_of(name)][status] += 1
    header = f"{'module':36} {'mutants':>8} {'killed':>8} {'survived':>9} {'other':>6}"
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for module in sorted(per_module):
        counts = per_module[module]
        total = sum(counts.values())
        killed = sum(counts[s] for s in KILLED)
        survived = counts["survived"]
        totals.update({"total": total, "killed": killed, "survived": survived})
        print(f"{module:36} {total:8} {killed:8} {survived:9} {total - killed - survived:6}")
    print("-" * len(header))
    rest = totals["total"] - totals["killed"] - totals["survived"]
    print(f"{'all':36} {totals['total']:8} {totals['killed']:8} {totals['survived']:9} {rest:6}")
    others = sorted({s for _, s in statuses} - KILLED - {"survived"})
    if others:
        print("other statuses:", ", ".join(others))
    survivors = [name for name, status in statuses if status == "survived"]
    if survivors:
        print("\nsurvived (mutmut show NAME shows the change):")
        for name in survivors:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
