"""The base class every source derives from: what a source must answer, and defaults for
everything it may not have.

A source answers three kinds of request, always for whole UTC days (the cache in
:mod:`workbench.data` decides *which* days to ask for; a source never caches):

* :meth:`Source.fetch`: the rollups (:data:`KINDS`) of some packages, or of every package,
  as frames; a source whose engine writes Parquet itself (:attr:`Source.writes_files`)
  also answers :meth:`Source.fetch_files`, which writes every package's rollups straight
  into files the cache stages, so that a large answer never sits in memory;
* :meth:`Source.population`: compact features of every package per day
  (:mod:`workbench.population.features`);
* release metadata: :meth:`Source.releases`, :meth:`Source.dependents`,
  :meth:`Source.first_releases`.

A paying source prices a request first (:meth:`Source.estimate`) and is asked to
:meth:`Source.authorize` it before anything runs. What a source cannot know (ClickPy has
no CI flag, for instance) is said in :attr:`Source.lacks`, so a signal can say "not
available on this source" rather than report a zero.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from workbench import config
from workbench.errors import SourceError
from workbench.query import DayRange, RollupQuery, utc_today
from workbench.schema import DEPENDENTS, FIRST_RELEASES, RELEASES

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


def total(estimates: list[CostEstimate | None]) -> CostEstimate | None:
    """The sum of the known estimates (``None`` when there is none: a free source)."""
    known = [e for e in estimates if e is not None]
    return sum(known[1:], known[0]) if known else None


class Source(abc.ABC):
    """Answers rollup, population and metadata requests. Must be cheap to construct."""

    #: True when recent days can still change (BigQuery, ClickPy): they expire in the cache.
    live: bool = False
    #: Short name for messages and the apps' source box ("demo", "parquet", "bigquery"…).
    kind: str = "source"
    #: True when queries cost money (BigQuery): nothing is bought without being asked for.
    paid: bool = False
    #: True when the source can write rollups as Parquet files itself
    #: (:meth:`fetch_files`): a large every-package answer then never sits in memory.
    writes_files: bool = False

    def __init__(self) -> None:
        #: Bytes the source's queries processed so far (paying sources count them).
        self.bytes_processed = 0

    # -- identity -------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def identity(self) -> dict[str, Any]:
        """What makes this source's answers distinct (part of every cache key)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line naming the source for provenance and messages."""

    @property
    def lacks(self) -> Mapping[str, str]:
        """What this source cannot tell (:data:`~workbench.dimensions.CI`,
        :data:`~workbench.dimensions.CLIENTS`), with the reason."""
        return {}

    def engine(self) -> str:
        """Text that changes when the way this source computes its answers changes (the SQL
        it sends, say): part of the cache key, so a changed definition is fetched again."""
        return ""

    # -- days -----------------------------------------------------------------------
    def today(self) -> dt.date:
        """The source's "today": days before it are complete."""
        return utc_today()

    def first_day(self) -> dt.date | None:
        """The first day the source holds, where it is known (the demo's first day)."""
        return None

    def last_day(self) -> dt.date:
        """The last whole day worth asking for by default (yesterday)."""
        return self.today() - dt.timedelta(days=1)

    def default_range(self, days: int) -> DayRange:
        """The last ``days`` days of the source (never before its first day)."""
        last = self.last_day()
        first = last - dt.timedelta(days=days - 1)
        held = self.first_day()
        if held is not None:
            first = min(max(first, held), last)
        return DayRange(first, last)

    def complete_before(self) -> dt.date:
        """Days before this one will not change any more (live sources: the day before
        yesterday and earlier, as BigQuery's table lags a day)."""
        return self.today() - dt.timedelta(days=1) if self.live else dt.date.max

    # -- preparation and money ----------------------------------------------------------
    def prepare(self, progress: Progress | None = None) -> None:  # noqa: B027 (a default)
        """Get ready to answer (the demo generates its data on first use)."""

    def estimate(self, kinds: tuple[str, ...], query: RollupQuery) -> CostEstimate | None:
        """What :meth:`fetch` of ``kinds`` for ``query`` would cost; ``None`` when free."""
        return None

    def estimate_population(self, days: DayRange, tier: str) -> CostEstimate | None:
        """What :meth:`population` for ``days`` would cost; ``None`` when free."""
        return None

    def authorize(self, estimate: CostEstimate) -> None:  # noqa: B027 (a default)
        """Refuse or confirm a priced request before it runs (free sources accept)."""

    def caveats(self) -> list[str]:
        """What the numbers leave out of this source's data, in words (with the provenance)."""
        return []

    # -- answers ----------------------------------------------------------------------
    @abc.abstractmethod
    def fetch(
        self, kinds: tuple[str, ...], query: RollupQuery, progress: Progress | None = None
    ) -> dict[str, pl.DataFrame]:
        """The rollups of ``kinds`` for ``query`` (computed now; the caller caches them)."""

    def fetch_files(
        self,
        query: RollupQuery,
        targets: Mapping[str, tuple[Path, Mapping[str, str]]],
        progress: Progress | None = None,
    ) -> None:
        """Write the rollups of ``query`` as Parquet files: for each kind of ``targets``, at
        its path, in the kind's schema, with the given footer metadata. Only called when
        :attr:`writes_files` is true."""
        raise NotImplementedError(f"{self.describe()} does not write rollup files")

    def file_spans(self, days: DayRange) -> list[DayRange]:
        """How :meth:`fetch_files` had best write ``days``: spans in order, each written as
        a file per kind of its own. The whole, unless the source says otherwise."""
        return [days]

    def population(
        self, days: DayRange, tier: str, progress: Progress | None = None
    ) -> pl.DataFrame:
        """Population features of every package for ``days`` (see
        :mod:`workbench.population.features`)."""
        raise SourceError(f"{self.describe()} has no population of every package")

    def population_tiers(self) -> tuple[str, ...]:
        """The population tiers this source offers, cheapest first."""
        return ()

    def default_tier(self) -> str:
        """The population tier bought or computed when none is asked for or held: the
        cheapest on a paying source (client detail costs about twice the bytes on
        BigQuery), the richest where it is free."""
        tiers = self.population_tiers()
        if not tiers:
            raise SourceError(f"{self.describe()} has no population of every package")
        return tiers[0] if self.paid else tiers[-1]

    def releases(self, projects: tuple[str, ...]) -> pl.DataFrame:
        """One row per release of ``projects`` (see :data:`workbench.schema.RELEASES`)."""
        return pl.DataFrame(schema=RELEASES)

    def dependents(self, projects: tuple[str, ...], since: dt.date) -> pl.DataFrame:
        """Releases of other packages, uploaded since ``since``, that require ``projects``."""
        return pl.DataFrame(schema=DEPENDENTS)

    def first_releases(self) -> pl.DataFrame:
        """Every package's first upload (see :data:`workbench.schema.FIRST_RELEASES`)."""
        return pl.DataFrame(schema=FIRST_RELEASES)

    def names(self) -> pl.DataFrame | None:
        """Every package with its downloads, most first, where that is cheap to list
        (``None``: the source cannot list its packages for free)."""
        return None

    def project_names(self) -> list[str]:
        """:meth:`names` as a list, most downloaded first (empty when they cannot be listed);
        :func:`workbench.data.project_names` caches it."""
        names = self.names()
        return [] if names is None else names["project"].to_list()

    def ground_truth(self) -> pl.DataFrame | None:
        """Labelled scenarios, for sources that have them (the demo)."""
        return None


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    raise AssertionError("unreachable")
