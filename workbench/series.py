"""Daily download series: baselines, surge and drop days, runs of days, volume bands.

Pure functions over tidy frames (``project, date, downloads`` dense over days), shared by the
volume signal (one package or a few), the peer baselines and the screen (every package of a
population): a surge means the same thing wherever it is measured.

Method, per project, on daily downloads without mirror clients:

1. weekday factors (median of each weekday / median day) remove the weekly rhythm, for
   packages with at least 20 downloads a day (below that the rhythm is noise);
2. the baseline of each day is the median of the 28 days before it (at least 7; the mean
   where that is higher, for sparse series), with earlier surge days left out, so a surge
   never raises its own baseline;
3. a day is a **surge** when it is ≥ 3× its expected value *and* the excess is beyond count
   noise; a **drop** is ≤ ¼ of expected with the same margin. Daily downloads are not
   Poisson: a package's users come in bursts (one CI job, one team's rebuild, a release
   fetched by scanners), so the variance grows as ``μ + φ·μ²`` (negative binomial), and the
   smaller the package the larger ``φ`` (real new packages at ~10 a day have a CV of ~1.35,
   at 100–1,000 a day 0.45–0.84). ``φ`` is the larger of a volume prior fitted to those
   figures and the package's own dispersion in its 28 days of history (robust: from their
   interquartile range), and the margin is ``Z·√(μ + φ·μ²) + MIN_EXCESS`` (a drop, which
   must last three days, keeps the Poisson margin). Three consecutive days at ≥ 3× are
   judged together: day multipliers are independent, so their summed excess need only
   pass the margin of the sum (√3, not 3, times a day's);
4. a new package's first 14 days are left out (its launch curve is not a baseline).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.query import DayRange

RATIO = 3.0
HISTORY = 28
MIN_HISTORY = 7
YOUNG_DAYS = 14
#: Below this many downloads a day (median), a series is sparse and its mean is the baseline.
SPARSE = 5.0
#: Overdispersion prior ``φ(μ) = PHI_FLOOR + PHI_AT_10 · (10 / μ) ** PHI_SLOPE``: the excess
#: of the squared CV over Poisson's ``1/μ`` on real new packages' daily series (CV ~1.35 at
#: ~10 a day, 0.45–0.84 at 100–1,000 a day; ``workbench.demo.realism``).
PHI_FLOOR, PHI_AT_10, PHI_SLOPE = 0.15, 1.5, 0.5
#: Standard deviations of count noise a surge's excess must pass, plus a floor of downloads.
Z = 4.0
MIN_EXCESS = 5.0
#: Consecutive days at ≥ 3× judged together against their summed noise.
RUN_DAYS = 3


def volume_bin(per_day: pl.Expr) -> pl.Expr:
    """Comparable-size bins: half-decades of daily volume (1–3, 3–10, 10–30, …)."""
    return (per_day.clip(lower_bound=0.5).log10() * 2).floor().cast(pl.Int32)


def day_band(downloads: pl.Expr) -> pl.Expr:
    """Day-level bands: ⌊log₂ downloads⌋ (the busiest client's share falls with volume)."""
    return downloads.clip(lower_bound=1).log(2).floor().cast(pl.Int32)


def dense(frame: pl.DataFrame, days: DayRange) -> pl.DataFrame:
    """``project, date, downloads`` → every day of ``days`` for every project (0 when quiet),
    with the weekday (1 = Monday)."""
    projects = frame.select("project").unique().sort("project")
    grid = projects.join(
        pl.DataFrame({"date": pl.date_range(days.start, days.end, eager=True)}), how="cross"
    )
    return (
        grid.join(
            frame.select("project", "date", "downloads"),
            on=["project", "date"],
            how="left",
            maintain_order="left",
        )
        .with_columns(pl.col("downloads").fill_null(0))
        .with_columns(weekday=pl.col("date").dt.weekday().cast(pl.Int8))
    )


def dispersion_prior(expected: pl.Expr) -> pl.Expr:
    """The overdispersion ``φ`` a package of ``expected`` downloads a day has at least."""
    return PHI_FLOOR + PHI_AT_10 * (10 / expected.clip(lower_bound=0.5)) ** PHI_SLOPE


def _margin(expected: pl.Expr, phi: pl.Expr, z: float = Z) -> pl.Expr:
    """How far a day may stray from ``expected`` by count noise alone (negative binomial)."""
    return z * (expected + 1 + phi * expected**2).sqrt() + MIN_EXCESS


def day_flags(daily: pl.DataFrame, days: DayRange) -> pl.DataFrame:
    """Daily series (``project, date, downloads, weekday``; dense) with the weekday-adjusted
    baseline, the expected value and surge/drop flags."""
    d = daily.sort("project", "date")
    first = d.filter(pl.col("downloads") > 0).group_by("project").agg(first=pl.col("date").min())
    d = d.join(first, on="project", how="inner").with_columns(
        age=(pl.col("date") - pl.col("first")).dt.total_days()
    )
    active = d.filter(pl.col("age") >= 0)
    overall = active.group_by("project").agg(
        med=pl.col("downloads").median(), mean=pl.col("downloads").mean()
    )
    factors = (
        active.group_by("project", "weekday")
        .agg(wmed=pl.col("downloads").median())
        .join(overall, on="project")
        .with_columns(
            factor=pl.when((pl.col("mean") >= 20) & (pl.col("med") > 0))
            .then((pl.col("wmed") / pl.col("med")).clip(0.3, 1.7))
            .otherwise(1.0)
        )
        .select("project", "weekday", "factor")
    )
    d = d.join(factors, on=["project", "weekday"], how="left").with_columns(
        pl.col("factor").fill_null(1.0)
    )
    # A new package's launch curve is not a baseline: its first 14 days stay out of it.
    new = pl.col("first") > days.start + dt.timedelta(days=2)
    launch = new & (pl.col("age") < YOUNG_DAYS)
    adjusted = pl.when((pl.col("age") >= 0) & ~launch).then(pl.col("downloads") / pl.col("factor"))
    d = _flag(d.with_columns(adjusted=adjusted))
    # Second pass: surge days are left out of later baselines, so the end of a campaign
    # is a return to normal, not a "drop".
    masked = pl.when(pl.col("surge")).then(None).otherwise(pl.col("adjusted"))
    return _flag(d.with_columns(adjusted=masked).drop("baseline", "expected", "surge", "drop"))


def _flag(d: pl.DataFrame) -> pl.DataFrame:
    history = pl.col("adjusted").shift(1)
    median = history.rolling_median(HISTORY, min_samples=MIN_HISTORY).over("project")
    mean = history.rolling_mean(HISTORY, min_samples=MIN_HISTORY).over("project")
    q75 = history.rolling_quantile(0.75, window_size=HISTORY, min_samples=MIN_HISTORY)
    q25 = history.rolling_quantile(0.25, window_size=HISTORY, min_samples=MIN_HISTORY)
    spread = ((q75 - q25) / 1.349).over("project")  # the normal σ of that IQR
    # The median is robust to bursts; only for sparse series (a median near zero, but regular
    # small bursts) is the mean the better typical level — elsewhere a burst would drag it up.
    d = d.with_columns(
        baseline=pl.when(median < SPARSE).then(pl.max_horizontal(median, mean)).otherwise(median)
    )
    expected = pl.col("baseline") * pl.col("factor")
    level = pl.col("baseline").clip(lower_bound=0.5)
    own = ((spread**2 - level) / level**2).clip(lower_bound=0.0).fill_null(0.0)
    phi = pl.max_horizontal(dispersion_prior(pl.col("baseline")), own)
    obs = pl.col("downloads")
    usable = (pl.col("age") >= YOUNG_DAYS) & pl.col("baseline").is_not_null()
    margin = _margin(pl.col("expected"), pl.col("phi"))
    # A day's noise multiplier is independent of the next day's, so RUN_DAYS consecutive
    # days at ≥ 3× pass together when their summed excess is beyond the summed variance
    # (the margin of a k-day sum grows as √k, not k): a sustained rise is evidence that no
    # single one of its days is.
    candidate = usable & (obs >= RATIO * pl.col("expected"))
    cand_excess = pl.when(candidate).then(obs - pl.col("expected")).otherwise(0.0)
    cand_var = (
        pl.when(candidate)
        .then(pl.col("expected") + 1 + pl.col("phi") * pl.col("expected") ** 2)
        .otherwise(0.0)
    )

    def summed(column: str) -> pl.Expr:
        return pl.col(column).rolling_sum(RUN_DAYS, min_samples=RUN_DAYS)

    run_ok = ((summed("_n") == RUN_DAYS) & (summed("_x") > Z * summed("_v").sqrt())).over("project")
    ending_here = run_ok.fill_null(False)
    # a day belongs to a passing run if one of the runs ending on it or the next days does
    in_run = pl.any_horizontal(
        ending_here.shift(-k).over("project").fill_null(False) for k in range(RUN_DAYS)
    )
    return (
        d.with_columns(expected=expected, phi=phi)
        .with_columns(_n=candidate.cast(pl.Int32), _x=cand_excess, _v=cand_var)
        .with_columns(
            surge=candidate & ((obs - pl.col("expected") > margin) | in_run),
            # a drop must last 3 days (:func:`drops`), which is its guard against bursty noise
            drop=usable
            & (obs <= pl.col("expected") / 4)
            & (pl.col("expected") - obs > _margin(pl.col("expected"), pl.lit(0.0), 4.0)),
        )
        .drop("phi", "_n", "_x", "_v")
    )


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


def runs(flags: pl.DataFrame, column: str, *, gap: int = 1) -> pl.DataFrame:
    """Consecutive flagged days per project (gaps of ``gap`` day tolerated) → one row per run:
    its days, observed and expected downloads, the baseline per day and the peak."""
    marked = mark_runs(flags, column, bridge_gaps=bool(gap))
    return (
        marked.filter(pl.col("in_run"))
        .group_by("project", "run")
        .agg(
            start=pl.col("date").min(),
            end=pl.col("date").max(),
            days=pl.len(),
            observed=pl.col("downloads").sum(),
            expected=pl.col("expected").sum(),
            base_per_day=pl.col("expected").first(),
            peak=pl.col("downloads").max(),
        )
        .sort("project", "start")
    )


def surges(flags: pl.DataFrame) -> pl.DataFrame:
    """The surge events of :func:`day_flags` output, with their ratio and excess."""
    events = runs(flags, "surge")
    return events.with_columns(
        ratio=pl.col("observed") / pl.col("expected").clip(lower_bound=1.0),
        excess=pl.col("observed") - pl.col("expected"),
    )


def drops(flags: pl.DataFrame) -> pl.DataFrame:
    """Drops of three days or more."""
    return runs(flags, "drop", gap=0).filter(pl.col("days") >= 3)
