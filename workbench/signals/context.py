"""What signals look at: the rollups of one or many packages, releases, dependents, and the
peer baselines of the population. Everything is loaded before a signal runs: signals do no
I/O (:mod:`workbench.analysis` assembles the context).

Signals are functions ``(Context) -> list[Finding]`` over *all* projects of the context at
once (vectorised Polars), so scanning thousands of packages costs about as much as
investigating a few.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from workbench import breakdowns as b
from workbench.population import features as feature_set
from workbench.population import peers as peer_stats
from workbench.population.peers import Peers
from workbench.query import DayRange
from workbench.schema import DEPENDENTS, FIRST_RELEASES, RELEASES, empty


@dataclass
class Context:
    """Everything the signals need, for one or more projects over one day range."""

    days: DayRange
    downloads: pl.LazyFrame
    fingerprints: pl.LazyFrame
    releases: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RELEASES))
    dependents: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DEPENDENTS))
    #: Downloads rollup rows of the packages that started to require one of ours (a surge
    #: they explain moves with their downloads of those releases).
    related: pl.DataFrame = field(default_factory=lambda: empty("downloads"))
    #: Every package's first upload, where the source knows it (new-package signals).
    first_releases: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=FIRST_RELEASES)
    )
    #: Baselines from the population (``None``: no population held, fixed limits apply).
    peers: Peers | None = None
    #: What the source cannot tell (see :attr:`workbench.sources.base.Source.lacks`).
    lacks: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def clean(self) -> pl.LazyFrame:
        """Downloads without mirror clients (they fetch every file, not users)."""
        return b.Filters(without_mirrors=True).apply(self.downloads)

    @cached_property
    def daily(self) -> pl.DataFrame:
        """Dense daily downloads per project, mirrors excluded."""
        return b.daily(self.clean, self.days)

    @cached_property
    def daily_all(self) -> pl.DataFrame:
        """Dense daily downloads per project, every client."""
        return b.daily(self.downloads, self.days)

    @cached_property
    def totals(self) -> pl.DataFrame:
        """Per project: downloads (all, clean) and mean per day."""
        clean = self.daily.group_by("project").agg(clean=pl.col("downloads").sum())
        every = self.daily_all.group_by("project").agg(all=pl.col("downloads").sum())
        return every.join(clean, on="project", how="left").with_columns(
            per_day=pl.col("clean") / self.days.days
        )

    @cached_property
    def projects(self) -> list[str]:
        return sorted(self.totals.filter(pl.col("all") > 0)["project"].to_list())

    @cached_property
    def features(self) -> pl.DataFrame:
        """The population features of these projects, measured as their peers are."""
        return feature_set.from_rollups(self.downloads, self.fingerprints)

    @cached_property
    def client_days(self) -> pl.DataFrame:
        """Per project-day: downloads without mirrors, the busiest client's share of them,
        distinct clients per 1,000 downloads, the day band."""
        return peer_stats.day_stats(self.features)

    def baseline(self) -> str:
        """Which population the peer baselines come from, in words."""
        if self.peers is None:
            return "no population held (fixed limits apply)"
        return self.peers.describe()

    def recent(self, days: int = 28) -> DayRange:
        start = max(self.days.start, self.days.end - dt.timedelta(days=days - 1))
        return DayRange(start, self.days.end)
