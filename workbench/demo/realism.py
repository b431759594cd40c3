"""Realism figures: the same measurements on real exports and on the demo.

Each function takes plain frames (daily or monthly counts) so that the real series in
``../shared/realdata`` and the demo's rows are measured by one definition. Used by
``tests/test_calibration.py`` and ``benchmarks/bench_realism.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

#: Daily-volume bands (downloads a day, lower bound included) for the noise figures.
BANDS: tuple[tuple[float, float], ...] = ((2.0, 5.0), (5.0, 20.0), (50.0, 500.0))
#: Days dropped at the start of each series (a new package's launch is not noise).
SKIP_DAYS = 14


@dataclass(frozen=True)
class Noise:
    lo: float
    hi: float
    packages: int
    cv: float
    zero_days: float
    peak_over_median: float


def complete(daily: pl.DataFrame, first: dt.date, last: dt.date) -> pl.DataFrame:
    """``project, day, n`` with a zero row for every day of ``first..last`` without one."""
    days = pl.DataFrame({"day": pl.date_range(first, last, "1d", eager=True)})
    grid = daily.select("project").unique().join(days, how="cross")
    return (
        grid.join(daily, on=["project", "day"], how="left")
        .with_columns(pl.col("n").fill_null(0))
        .sort("project", "day")
    )


def per_package(daily: pl.DataFrame) -> pl.DataFrame:
    """Per project: mean, CV, zero-day share, peak ÷ median and weekend ÷ weekday, each
    series from its ``SKIP_DAYS``-th day. ``daily`` must hold zero days."""
    weekend = pl.col("day").dt.weekday() >= 6
    return (
        daily.sort("day")
        .group_by("project")
        .agg(pl.col("day", "n").slice(SKIP_DAYS))
        .explode("day", "n")
        .group_by("project")
        .agg(
            mean=pl.col("n").mean(),
            cv=pl.col("n").std() / pl.col("n").mean(),
            zero_days=(pl.col("n") == 0).mean(),
            peak_over_median=pl.col("n").max() / pl.col("n").median(),
            weekend_ratio=pl.col("n").filter(weekend).mean() / pl.col("n").filter(~weekend).mean(),
        )
    )


def noise_by_band(
    packages: pl.DataFrame, bands: tuple[tuple[float, float], ...] = BANDS
) -> list[Noise]:
    """Median over the packages of each volume band (from :func:`per_package`)."""
    out = []
    for lo, hi in bands:
        band = packages.filter(pl.col("mean").is_between(lo, hi, closed="left"))
        if band.height == 0:
            out.append(Noise(lo, hi, 0, float("nan"), float("nan"), float("nan")))
            continue
        out.append(
            Noise(
                lo,
                hi,
                band.height,
                float(band["cv"].median()),  # type: ignore[arg-type]
                float(band["zero_days"].median()),  # type: ignore[arg-type]
                float(band["peak_over_median"].median()),  # type: ignore[arg-type]
            )
        )
    return out


def weekend_spread(packages: pl.DataFrame, min_mean: float = 5.0) -> tuple[float, float]:
    """p10 and p90 over packages (mean ≥ ``min_mean`` a day) of weekend ÷ weekday."""
    ratio = packages.filter(pl.col("mean") >= min_mean)["weekend_ratio"].drop_nans()
    return float(ratio.quantile(0.1)), float(ratio.quantile(0.9))  # type: ignore[arg-type]


def long_tail(per_day: np.ndarray) -> tuple[float, float]:
    """Median downloads a day over packages, and the share of packages under 1 a day."""
    return float(np.median(per_day)), float(np.mean(per_day < 1.0))


def share_spread(counts: pl.DataFrame, category: str) -> tuple[float, float]:
    """``project, category, n``: p10 and p90 over projects of ``category``'s share."""
    shares = counts.group_by("project").agg(
        share=pl.col("n").filter(pl.col("category") == category).sum() / pl.col("n").sum()
    )["share"]
    return float(shares.quantile(0.1)), float(shares.quantile(0.9))  # type: ignore[arg-type]


def first_weeks(daily: pl.DataFrame, releases: pl.DataFrame) -> np.ndarray:
    """Per project, downloads in the 7 days from its release day (``project, release``)."""
    age = (pl.col("day") - pl.col("release")).dt.total_days()
    return (
        daily.join(releases, on="project")
        .filter((age >= 0) & (age < 7))
        .group_by("project")
        .agg(pl.col("n").sum())["n"]
        .to_numpy()
    )


def new_version_share(monthly: pl.DataFrame) -> float:
    """``project, month, version, n``: median over (project, month) with new versions of
    the share of that month's downloads going to versions first seen in it (a project's
    first month is skipped: every version is new there)."""
    first = monthly.group_by("project", "version").agg(first=pl.col("month").min())
    start = monthly.group_by("project").agg(start=pl.col("month").min())
    shares = (
        monthly.join(first, on=["project", "version"])
        .join(start, on="project")
        .filter(pl.col("month") > pl.col("start"))
        .group_by("project", "month")
        .agg(
            new=pl.col("n").filter(pl.col("month") == pl.col("first")).sum(),
            total=pl.col("n").sum(),
        )
        .filter(pl.col("new") > 0)
    )
    return float((shares["new"] / shares["total"]).median())  # type: ignore[arg-type]


def old_version_floor(monthly: pl.DataFrame, days_in_month: float = 30.4) -> float:
    """``project, month, version, n``: median a day of a version neither among the two
    most downloaded of its month nor first seen in it (the mirror and scanner floor)."""
    first = monthly.group_by("project", "version").agg(first=pl.col("month").min())
    ranked = (
        monthly.join(first, on=["project", "version"])
        .filter(pl.col("month") > pl.col("first"))
        .with_columns(rank=pl.col("n").rank("ordinal", descending=True).over("project", "month"))
        .filter(pl.col("rank") > 2)
    )
    return float(ranked["n"].median()) / days_in_month  # type: ignore[arg-type]


def quantiles(values: np.ndarray, qs: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(float(np.quantile(values, q)) for q in qs)
