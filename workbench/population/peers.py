"""Peer baselines from the population: what is usual for a package of the same size.

Every statistic here is computed by one function for the package under investigation (from
its own rollups, :func:`workbench.population.features.from_rollups`) and for its peers (from
the population), from the same features: a package is compared with its peers like with
like. Baselines are per volume band (half-decades of daily downloads, or ⌊log₂⌋ of a day's
downloads for day-level statistics), because almost every statistic moves with volume: the
busiest client's share falls as a day's downloads grow, country concentration and noise
shrink.

:class:`Peers` is small (a few hundred numbers) and is cached: an investigation reopens
with its peers without reading the population again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from workbench import series
from workbench.query import DayRange

#: Projects with fewer downloads than this in the window say nothing about concentration.
MIN_GEO_DOWNLOADS = 100
#: The surge ratios whose frequency among peers is kept (see :meth:`Peers.surge_rate`).
SURGE_RATIOS = (3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 300.0)
#: Peers' worth of weight the pooled spread of concentration gets against a band's own.
SHRINK = 30
#: A surge is counted among peers only with at least this many extra downloads.
SURGE_EXCESS = 20.0
SCHEMA: dict[str, Any] = {
    "metric": pl.String,
    "band": pl.Int32,
    #: For a surge rate: the ratio it is the rate of.
    "threshold": pl.Float64,
    "value": pl.Float64,
    "count": pl.Int64,
}


def window_stats(features: pl.DataFrame, window: DayRange) -> pl.DataFrame:
    """Per project over ``window``: volume, its band, concentration and mix shares."""
    frame = features.filter(pl.col("date").is_between(window.start, window.end))
    total = pl.col("downloads").sum()

    def share(column: str) -> pl.Expr:
        return pl.col(column).sum() / total

    tops = (
        frame.group_by("project", "top_country")
        .agg(top=pl.col("top_country_downloads").sum())
        .sort(["project", "top", "top_country"], descending=[False, True, False])
        .group_by("project", maintain_order=True)
        .first()
    )
    stats = frame.group_by("project").agg(
        downloads=total,
        clean=(pl.col("downloads") - pl.col("mirror_downloads")).sum(),
        hhi=(pl.col("downloads") * pl.col("country_hhi")).sum() / total,
        ci_share=pl.when(pl.col("ci_downloads").null_count() == 0).then(share("ci_downloads")),
        desktop_share=share("desktop_downloads"),
        uv_share=share("uv_downloads"),
        pip_share=share("pip_downloads"),
        clients_per_k=pl.when(pl.col("clients").null_count() == 0).then(
            1000 * pl.col("clients").sum() / total
        ),
    )
    return (
        stats.join(tops, on="project", how="left")
        .with_columns(
            per_day=pl.col("clean") / window.days,
            top_share=pl.col("top") / pl.col("downloads"),
        )
        .with_columns(bin=series.volume_bin(pl.col("per_day")), log_hhi=pl.col("hhi").log())
    )


def day_stats(features: pl.DataFrame) -> pl.DataFrame:
    """Per project-day: downloads without mirrors, the busiest client's share of them and
    distinct clients per 1,000 downloads (NULL where the source has no client detail)."""
    clean = pl.col("downloads") - pl.col("mirror_downloads")
    return (
        features.with_columns(clean=clean)
        .filter(pl.col("clean") > 0)
        .with_columns(
            share=pl.col("top_client_downloads") / pl.col("clean"),
            clients_per_k=1000 * pl.col("clients") / pl.col("downloads"),
            band=series.day_band(pl.col("clean")),
        )
    )


def clean_daily(features: pl.DataFrame, days: DayRange) -> pl.DataFrame:
    """Dense daily downloads without mirrors, per project."""
    clean = features.select(
        "project", "date", downloads=pl.col("downloads") - pl.col("mirror_downloads")
    )
    return series.dense(clean, days)


def surge_flags(features: pl.DataFrame, days: DayRange) -> pl.DataFrame:
    """:func:`workbench.series.day_flags` of every project's clean daily series."""
    return series.day_flags(clean_daily(features, days), days)


def largest_surges(flags: pl.DataFrame) -> pl.DataFrame:
    """Per project: the ratio of its largest surge in the flagged days (0 when none)."""
    events = series.surges(flags).filter(pl.col("excess") >= SURGE_EXCESS)
    biggest = events.group_by("project").agg(ratio=pl.col("ratio").max())
    volume = flags.group_by("project").agg(per_day=pl.col("downloads").mean())
    return (
        volume.join(biggest, on="project", how="left")
        .with_columns(pl.col("ratio").fill_null(0.0))
        .with_columns(bin=series.volume_bin(pl.col("per_day")))
    )


def _band_medians(frame: pl.DataFrame, metric: str, value: str, band: str) -> pl.DataFrame:
    return (
        frame.drop_nulls(value)
        .group_by(band)
        .agg(value=pl.col(value).median(), count=pl.len())
        .select(pl.lit(metric).alias("metric"), pl.col(band).alias("band"), "value", "count")
    )


@dataclass(frozen=True)
class Peers:
    """Baselines per volume band, from a population: what a finding is judged against."""

    source: str
    days: DayRange
    packages: int
    tier: str
    table: pl.DataFrame

    def describe(self) -> str:
        """Which population the baseline came from (every finding says it)."""
        return f"{self.packages:,} packages of {self.source}, {self.days} ({self.tier} tier)"

    def _rows(self, metric: str) -> pl.DataFrame:
        return self.table.filter(pl.col("metric") == metric)

    # -- day-level: the busiest client, rotation ------------------------------------------
    def client_medians(self, min_days: int = 40) -> pl.DataFrame:
        """``band, median`` of the busiest client's share of a day, for bands with enough
        days; a band with too few borrows the next lower one (limits fall with volume)."""
        bands = self._rows("client_share").filter(pl.col("count") >= min_days)
        if bands.is_empty():
            return pl.DataFrame(schema={"band": pl.Int32, "median": pl.Float64})
        top = int(bands["band"].max())  # type: ignore[arg-type]
        full = pl.DataFrame({"band": list(range(top + 8))}, schema={"band": pl.Int32})
        return (
            full.join(bands.select("band", median="value"), on="band", how="left")
            .with_columns(pl.col("median").forward_fill())
            .drop_nulls("median")
        )

    def rotation(self, band: int) -> float | None:
        """Peers' median distinct clients per 1,000 downloads for days of ``band``."""
        rows = self._rows("clients_per_k").filter(pl.col("count") >= 20).sort("band")
        if rows.is_empty():
            return None
        nearest = rows.with_columns(gap=(pl.col("band") - band).abs()).sort("gap")
        return float(nearest["value"][0])

    # -- package-level: concentration, surges, CI ------------------------------------------
    def geography(self, volume_bin: int, min_band: int = 20) -> tuple[float, float, int] | None:
        """(median, MAD, peers) of log country-HHI for ``volume_bin`` (all bins pooled when
        that bin has too few peers)."""
        rows = self._rows("geo_median").filter(pl.col("band") == volume_bin)
        band = volume_bin if not rows.is_empty() and rows["count"][0] >= min_band else -1
        med = self._rows("geo_median").filter(pl.col("band") == band)
        mad = self._rows("geo_mad").filter(pl.col("band") == band)
        if med.is_empty() or mad.is_empty():
            return None
        spread, count = float(mad["value"][0]), int(med["count"][0])
        pooled = self._rows("geo_mad").filter(pl.col("band") == -1)
        if band != -1 and not pooled.is_empty():
            # A band's MAD from a few dozen peers is itself noisy (one odd peer moves it):
            # shrink it towards the MAD of all peers, weighted by how many peers each has.
            spread = (count * spread + SHRINK * float(pooled["value"][0])) / (count + SHRINK)
        return float(med["value"][0]), spread, count

    def surge_rate(self, volume_bin: int, ratio: float) -> tuple[float, int] | None:
        """The share of peers of ``volume_bin`` whose largest surge in the population's days
        reached ``ratio`` (interpolated between :data:`SURGE_RATIOS`), and how many peers."""
        rows = self._rows("surge_rate").filter(pl.col("band") == volume_bin)
        if rows.is_empty() or int(rows["count"][0]) < 20:
            return None
        rows = rows.sort("threshold")
        below = rows.filter(pl.col("threshold") <= ratio)
        rate = float(below["value"][-1]) if below.height else float(rows["value"][0])
        return rate, int(rows["count"][0])

    def typical(self, metric: str, volume_bin: int) -> float | None:
        rows = self._rows(metric).filter(pl.col("band") == volume_bin)
        return None if rows.is_empty() else float(rows["value"][0])

    # -- storage ----------------------------------------------------------------------------
    def to_frame(self) -> pl.DataFrame:
        meta = pl.DataFrame(
            {
                "metric": ["_meta"],
                "band": [0],
                "threshold": [None],
                "value": [float(self.packages)],
                "count": [0],
            },
            schema=SCHEMA,
        )
        return pl.concat([meta, self.table.select(list(SCHEMA))])

    @classmethod
    def from_frame(cls, frame: pl.DataFrame, *, source: str, days: DayRange, tier: str) -> Peers:
        packages = int(frame.filter(pl.col("metric") == "_meta")["value"][0])
        return cls(source, days, packages, tier, frame.filter(pl.col("metric") != "_meta"))


def build(
    features: pl.DataFrame,
    days: DayRange,
    *,
    source: str,
    tier: str,
    window: int = 28,
    flags: pl.DataFrame | None = None,
) -> Peers:
    """The baselines of a population (``features`` over ``days``); package-level statistics
    use its last ``window`` days. ``flags`` (:func:`surge_flags` of the same features) is
    reused when the caller has it already (the screen)."""
    recent = DayRange(max(days.start, days.end - dt.timedelta(days=window - 1)), days.end)
    parts: list[pl.DataFrame] = []
    daily = day_stats(features)
    if daily["share"].null_count() < daily.height:
        parts.append(_band_medians(daily, "client_share", "share", "band"))
        parts.append(_band_medians(daily, "clients_per_k", "clients_per_k", "band"))
    stats = window_stats(features, recent)
    geo = stats.filter(pl.col("clean") >= MIN_GEO_DOWNLOADS)
    deviation = (pl.col("log_hhi") - pl.col("log_hhi").median()).abs().median()
    for grouped in (geo.group_by("bin"), None):
        agg = {
            "med": pl.col("log_hhi").median(),
            "mad": deviation,
            "count": pl.len(),
        }
        rows = (
            grouped.agg(**agg).rename({"bin": "band"})
            if grouped is not None
            else geo.select(**agg).with_columns(band=pl.lit(-1, pl.Int32))
        )
        parts.append(
            rows.select(pl.lit("geo_median").alias("metric"), "band", value="med", count="count")
        )
        parts.append(
            rows.select(pl.lit("geo_mad").alias("metric"), "band", value="mad", count="count")
        )
    parts.append(_band_medians(stats, "ci_share", "ci_share", "bin"))
    parts.append(_band_medians(stats, "top_share", "top_share", "bin"))
    largest = largest_surges(flags if flags is not None else surge_flags(features, days))
    for ratio in SURGE_RATIOS:
        rate = largest.group_by("bin").agg(value=(pl.col("ratio") >= ratio).mean(), count=pl.len())
        parts.append(
            rate.select(
                pl.lit("surge_rate").alias("metric"),
                pl.col("bin").alias("band"),
                pl.lit(ratio).alias("threshold"),
                "value",
                "count",
            )
        )
    table = pl.concat(
        [
            p.with_columns(*(pl.lit(None).alias(c) for c in SCHEMA if c not in p.columns)).select(
                pl.col(c).cast(t) for c, t in SCHEMA.items()
            )
            for p in parts
        ]
    )
    packages = int(features["project"].n_unique())
    return Peers(source, days, packages, tier, table)
