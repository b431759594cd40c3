"""Counts for the reliability and security suite, printed at the end of every test run.

A test calls ``tally.count("hostile input: package names")`` once per case it tried (or per
fault it injected, per file it scanned for secrets, …); ``tally.lost(...)`` records data lost,
which every test also asserts is zero. ``conftest.pytest_terminal_summary`` prints the table,
so the counts appear in the output of the normal test command.
"""

from __future__ import annotations

from collections import Counter

CASES: Counter[str] = Counter()
LOST: Counter[str] = Counter()
VOLUMES: Counter[str] = Counter()


def count(what: str, n: int = 1) -> None:
    """Record ``n`` cases tried (inputs, faults injected, files scanned) under ``what``."""
    CASES[what] += n


def volume(what: str, n: int) -> None:
    """Record an amount (bytes scanned, rows read) shown apart from the cases."""
    VOLUMES[what] += n


def lost(what: str, n: int) -> None:
    """Record ``n`` units of data lost or corrupted under ``what`` (tests assert it is 0)."""
    LOST[what] += n


def summary_lines() -> list[str]:
    if not CASES:
        return []
    width = max(len(k) for k in [*CASES, *VOLUMES])
    lines = [f"{what:<{width}}  {n:>10,}" for what, n in sorted(CASES.items())]
    lines.append(f"{'total cases':<{width}}  {sum(CASES.values()):>10,}")
    lines += [f"{what:<{width}}  {n:>10,}" for what, n in sorted(VOLUMES.items())]
    lines.append(f"{'data lost':<{width}}  {sum(LOST.values()):>10,}")
    return lines
