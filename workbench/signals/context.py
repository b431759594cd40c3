"""What signals look at: the rollups of one or many packages, releases, dependents, peers.

Signals are functions ``(Context) -> list[Finding]`` over *all* projects of the
context at once (vectorised Polars), so scanning thousands of packages costs
about as much as investigating a few. Peer baselines ("comparable packages")
come from the same context when it holds many packages, or from a reference
context the caller supplies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from workbench import breakdowns as b
from workbench.data import Rollup
from workbench.query import DayRange
from workbench.schema import DEPENDENTS, RELEASES

#: Fetch another package's downloads rollup (e.g. a dependent's) for the same days.
Lookup = Callable[[str], pl.LazyFrame | None]


@dataclass
class Context:
    """Everything the signals need, for one or more projects over one day range."""

    days: DayRange
    downloads: pl.LazyFrame
    fingerprints: pl.LazyFrame
    releases: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=RELEASES))
    dependents: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=DEPENDENTS))
    lookup: Lookup | None = None
    peers: Context | None = None

    @classmethod
    def from_rollup(cls, rollup: Rollup, **kw: object) -> Context:
        return cls(rollup.query.days, rollup.downloads, rollup.fingerprints, **kw)  # type: ignore[arg-type]

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
    def client_days(self) -> pl.DataFrame:
        """Per project-day, the busiest client's share (computed once per context)."""
        from workbench.signals.fingerprint import top_client_days  # the signal owns the definition

        return top_client_days(self)

    def reference(self) -> Context:
        """The context peer baselines are drawn from (``peers`` or this one)."""
        return self.peers or self

    def recent(self, days: int = 28) -> DayRange:
        start = max(self.days.start, self.days.end - dt.timedelta(days=days - 1))
        return DayRange(start, self.days.end)


def volume_bin(per_day: pl.Expr) -> pl.Expr:
    """Comparable-size bins: half-decades of daily volume (1–3, 3–10, 10–30, …)."""
    return (per_day.clip(lower_bound=0.5).log10() * 2).floor().cast(pl.Int32)


def mark_runs(frame: pl.DataFrame, flag: str, *, bridge_gaps: bool = True) -> pl.DataFrame:
    """Add ``in_run`` and ``run`` (an id per project) for runs of consecutive flagged days.

    ``frame`` is sorted by project and date; with ``bridge_gaps`` a single unflagged day
    between two flagged ones joins them into one run (one quiet day does not end an event).
    """
    f = pl.col(flag)
    neighbours = f.shift(1).over("project").fill_null(False) & f.shift(-1).over(
        "project"
    ).fill_null(False)
    in_run = (f | neighbours) if bridge_gaps else f
    return frame.with_columns(in_run=in_run).with_columns(
        run=(pl.col("in_run") != pl.col("in_run").shift(1).over("project"))
        .fill_null(True)
        .cum_sum()
        .over("project")
    )
