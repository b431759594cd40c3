"""The interface every source implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl

from workbench import config
from workbench.query import RollupQuery

#: The rollup kinds fetched per query, in order.
KINDS: tuple[str, ...] = ("downloads", "fingerprints")

#: Called with a short line on each step of a long computation.
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class CostEstimate:
    """What running some queries would cost, from BigQuery dry runs."""

    bytes_processed: int
    queries: int

    @property
    def usd(self) -> float:
        return self.bytes_processed / 2**40 * config.PRICE_PER_TIB

    def __add__(self, other: CostEstimate) -> CostEstimate:
        return CostEstimate(
            self.bytes_processed + other.bytes_processed, self.queries + other.queries
        )

    def __str__(self) -> str:
        return (
            f"{self.queries} quer{'y' if self.queries == 1 else 'ies'}, "
            f"{human_bytes(self.bytes_processed)} processed, ≈ ${self.usd:.4f}"
        )


class Source(Protocol):
    """Answers rollup queries. Implementations must be cheap to construct."""

    @property
    def identity(self) -> dict[str, Any]:
        """What makes this source's answers distinct (part of every cache key)."""
        ...

    @property
    def live(self) -> bool:
        """True when recent days can still change (BigQuery), so they expire in the cache."""
        ...

    def describe(self) -> str:
        """One line naming the source for provenance and messages."""
        ...

    def rollup(self, kind: str, query: RollupQuery) -> pl.LazyFrame:
        """The rollup of ``kind`` (one of :data:`KINDS`) for ``query``."""
        ...

    def estimate(self, query: RollupQuery) -> CostEstimate | None:
        """Bytes that :meth:`rollup` would process for all kinds; ``None`` if free."""
        ...

    def releases(self, projects: tuple[str, ...]) -> pl.LazyFrame:
        """One row per release of ``projects`` (see :data:`workbench.schema.RELEASES`)."""
        ...

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.LazyFrame:
        """Releases of other packages, uploaded since ``since``, that require ``projects``."""
        ...

    def project_names(self) -> list[str]:
        """Every package the source knows, most downloaded first; may be empty."""
        ...


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
