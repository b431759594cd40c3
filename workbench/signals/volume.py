"""Sudden volume changes, robust to weekly seasonality and small-package noise, and
what explains them (a release nearby; a package that started to require this one).

Method, per project, on daily downloads without mirror clients:

1. weekday factors (median of each weekday / median day) remove the weekly rhythm,
   for packages with at least 20 downloads a day (below that the rhythm is noise);
2. the baseline of each day is the median of the 28 days before it (at least 7; the
   mean where that is higher, for sparse series), with earlier surge days left out,
   so a surge never raises its own baseline;
3. a day is a **surge** when it is ≥ 3× its expected value *and* the excess is
   beyond Poisson noise (> 4·√expected + 5): a 2→8 jump on a tiny package is noise,
   500→50,000 a week is not; a **drop** is ≤ ¼ of expected with the same margin,
   for 3 days or more (a drop to zero included);
4. consecutive days (one quiet day tolerated) form one event; events of fewer than
   100 extra downloads are reported at low strength (real small packages have them).

A package's first 14 days are left to the new-package signal.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from workbench.signals.context import Context, mark_runs
from workbench.signals.findings import Finding, fmt_int, pct

RATIO = 3.0
HISTORY = 28
MIN_HISTORY = 7
YOUNG_DAYS = 14
RELEASE_WINDOW = (-3, 1)  # days around the start of a surge
DEPENDENT_WINDOW = (-10, 3)
MIN_CORRELATION = 0.5
#: A surge with fewer extra downloads than this is reported at low strength: on the daily
#: series of 622 real new packages (benchmarks/bench_realdata.py) organic bursts of 10–50
#: extra downloads are common (a release fetched by scanners, one CI job); that is also
#: where a ~100-download campaign sits, which volume alone therefore cannot tell apart.
SMALL_BLIP = 100
#: Below this many downloads a day (median), a series is sparse and its mean is the baseline.
SPARSE = 5.0


def _margin(expected: pl.Expr) -> pl.Expr:
    return 4 * (expected + 1).sqrt() + 5


def day_flags(ctx: Context) -> pl.DataFrame:
    """Daily series with weekday-adjusted baseline, expected value and surge/drop flags."""
    d = ctx.daily.sort("project", "date")
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
    new = pl.col("first") > ctx.days.start + dt.timedelta(days=2)
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
    # The median is robust to bursts; only for sparse series (a median near zero, but regular
    # small bursts) is the mean the better typical level — elsewhere a burst would drag it up.
    d = d.with_columns(
        baseline=pl.when(median < SPARSE).then(pl.max_horizontal(median, mean)).otherwise(median)
    )
    expected = pl.col("baseline") * pl.col("factor")
    obs = pl.col("downloads")
    usable = (pl.col("age") >= YOUNG_DAYS) & pl.col("baseline").is_not_null()
    return d.with_columns(expected=expected).with_columns(
        surge=usable
        & (obs >= RATIO * pl.col("expected"))
        & (obs - pl.col("expected") > _margin(pl.col("expected"))),
        drop=usable
        & (obs <= pl.col("expected") / 4)
        & (pl.col("expected") - obs > _margin(pl.col("expected"))),
    )


def _runs(flags: pl.DataFrame, column: str, *, gap: int = 1) -> pl.DataFrame:
    """Consecutive flagged days per project (gaps of ``gap`` day tolerated) → one row per run."""
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


def surges_and_drops(ctx: Context) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    flags = day_flags(ctx)
    surges = _runs(flags, "surge")
    drops = _runs(flags, "drop", gap=0).filter(pl.col("days") >= 3)
    return flags, surges, drops


def _release_near(ctx: Context, project: str, start: dt.date) -> pl.DataFrame:
    lo, hi = (start + dt.timedelta(days=d) for d in RELEASE_WINDOW)
    return ctx.releases.filter(
        (pl.col("project") == project) & pl.col("upload_time").dt.date().is_between(lo, hi)
    )


def _pearson(a: list[float], b: list[float]) -> float:
    n = len(a)
    if n < 5:
        return float("nan")
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")


def _dependent_explanation(
    ctx: Context, project: str, start: dt.date, end: dt.date, series: pl.DataFrame
) -> tuple[str, dict[str, object]] | None:
    deps = ctx.dependents.filter(pl.col("project") == project)
    if deps.is_empty():
        return None
    firsts = deps.group_by("dependent").agg(
        first=pl.col("upload_time").min(),
        version=pl.col("version").sort_by("upload_time").first(),
        requirement=pl.col("requirement").sort_by("upload_time").first(),
        versions=pl.col("version"),
    )
    lo, hi = (start + dt.timedelta(days=d) for d in DEPENDENT_WINDOW)
    candidates = firsts.filter(pl.col("first").dt.date().is_between(lo, hi))
    best: tuple[float, dict[str, object]] | None = None
    window = (
        max(ctx.days.start, start - dt.timedelta(days=21)),
        min(ctx.days.end, end + dt.timedelta(days=21)),
    )
    mine = series.filter(pl.col("date").is_between(*window)).sort("date")
    for row in candidates.iter_rows(named=True):
        frame = _downloads_of(ctx, row["dependent"])
        if frame is None:
            continue
        theirs = (
            frame.filter(
                pl.col("version").is_in(row["versions"]) & pl.col("date").is_between(*window)
            )
            .group_by("date")
            .agg(pl.col("downloads").sum())
            .collect()
        )
        joined = mine.join(theirs, on="date", how="left", suffix="_dep").with_columns(
            pl.col("downloads_dep").fill_null(0)
        )
        r = _pearson(
            joined["downloads"].cast(pl.Float64).to_list(),
            joined["downloads_dep"].cast(pl.Float64).to_list(),
        )
        volume = float(joined["downloads_dep"].sum())
        if math.isnan(r) or r < MIN_CORRELATION or volume < float(joined["downloads"].sum()) * 0.5:
            continue
        info = {
            "dependent": row["dependent"],
            "version": row["version"],
            "requirement": row["requirement"],
            "uploaded": row["first"].date(),
            "correlation": round(r, 3),
            "dependent_downloads": volume,
        }
        if best is None or r > best[0]:
            best = (r, info)
    if best is None:
        return None
    info = best[1]
    text = (
        f"{info['dependent']} started to require it in {info['version']} (uploaded "
        f"{info['uploaded']}, '{info['requirement']}'); daily downloads of the "
        f"{info['dependent']} releases that require it move with this package's "
        f"(r = {info['correlation']:.2f})."
    )
    return text, info


def _downloads_of(ctx: Context, project: str) -> pl.LazyFrame | None:
    for source in (ctx, ctx.peers):
        if source is not None and project in source.projects:
            return source.downloads.filter(pl.col("project") == project)
    if ctx.lookup is not None:
        return ctx.lookup(project)
    return None


def volume_findings(ctx: Context) -> list[Finding]:
    flags, surges, drops = surges_and_drops(ctx)
    out: list[Finding] = []
    last7 = (
        flags.filter(pl.col("date") > ctx.days.end - dt.timedelta(days=7))
        .group_by("project")
        .agg(recent=pl.col("downloads").mean())
    )
    recent = dict(last7.iter_rows())
    for ev in surges.iter_rows(named=True):
        out.append(_surge_finding(ctx, ev, flags, recent.get(ev["project"], 0.0)))
    for ev in drops.iter_rows(named=True):
        out.append(_drop_finding(ev, flags))
    return out


def _surge_finding(
    ctx: Context, ev: dict[str, object], flags: pl.DataFrame, recent: float
) -> Finding:
    project, start, end = str(ev["project"]), ev["start"], ev["end"]
    assert isinstance(start, dt.date) and isinstance(end, dt.date)
    observed, expected = float(ev["observed"]), float(ev["expected"])  # type: ignore[arg-type]
    base = float(ev["base_per_day"])  # type: ignore[arg-type]
    ratio = observed / max(expected, 1.0)
    days = int(ev["days"])  # type: ignore[call-overload]
    strength = min(1.0, 0.35 + 0.45 * math.log10(max(ratio, 1.0)))
    if observed - expected < SMALL_BLIP:
        strength = min(strength, 0.3)  # real small packages have such bursts: worth a look, no more
    # The event ends when the trailing baseline has caught up; the new level may go on.
    persists = recent >= 2 * max(base, 1.0)
    series = flags.filter(pl.col("project") == project).select("date", "downloads")
    evidence = flags.filter(
        (pl.col("project") == project)
        & pl.col("date").is_between(start - dt.timedelta(days=14), end + dt.timedelta(days=7))
    ).select("date", "downloads", "expected", "surge")
    explanation: str | None
    inorganic: bool | None
    explanation, inorganic, metrics = (
        None,
        True,
        {
            "ratio": round(ratio, 2),
            "excess": observed - expected,
            "baseline_per_day": round(base, 1),
            "days": days,
            "persists": persists,
        },
    )
    dep = _dependent_explanation(ctx, project, start, end, series)
    if dep is not None:
        explanation, inorganic = dep[0], False
        metrics.update(dep[1])
        strength = min(strength, 0.45)
    else:
        rel = _release_near(ctx, project, start)
        if not rel.is_empty():
            versions = rel["version"].to_list()
            on_new = _share_on(ctx, project, start, end, versions)
            first_upload = str(rel["upload_time"].dt.date().min())
            if on_new >= 0.5:
                explanation = (
                    f"release {', '.join(versions)} was uploaded on {first_upload}, "
                    f"and {pct(on_new)} of the surge's downloads are of it: a release can explain "
                    "a burst of CI and upgrade traffic, but not a lasting multiple."
                )
                metrics["release"] = ", ".join(versions)
                inorganic = None
    span = f"on {start}" if days == 1 else f"from {start} to {end} ({days} days)"
    text = (
        f"Downloads jumped {ratio:.1f}× above the expected level {span}: {fmt_int(observed)} "
        f"against ~{fmt_int(expected)} expected (baseline ~{fmt_int(base)}/day, weekly rhythm "
        "removed)." + (" The higher level persists to the end of the range." if persists else "")
    )
    if explanation is None:
        text += " Nothing in the release history or the dependency graph explains it."
    return Finding(
        "volume_change",
        project,
        f"Surge ×{ratio:.1f}",
        text,
        strength,
        inorganic,
        start,
        end,
        metrics,
        evidence,
        explanation,
    )


def _share_on(
    ctx: Context, project: str, start: dt.date, end: dt.date, versions: list[str]
) -> float:
    frame = ctx.clean.filter((pl.col("project") == project) & pl.col("date").is_between(start, end))
    sums = frame.select(
        total=pl.col("downloads").sum(),
        new=pl.col("downloads").filter(pl.col("version").is_in(versions)).sum(),
    ).collect()
    total = int(sums["total"][0] or 0)
    return int(sums["new"][0] or 0) / total if total else 0.0


def _drop_finding(ev: dict[str, object], flags: pl.DataFrame) -> Finding:
    project, start, end = str(ev["project"]), ev["start"], ev["end"]
    assert isinstance(start, dt.date) and isinstance(end, dt.date)
    observed, expected = float(ev["observed"]), float(ev["expected"])  # type: ignore[arg-type]
    days = int(ev["days"])  # type: ignore[call-overload]
    to_zero = observed == 0
    fall = 1 - observed / max(expected, 1.0)
    what = "stopped entirely" if to_zero else f"fell {pct(fall)} below the expected level"
    text = (
        f"Downloads {what} from {start} to {end} ({days} days): {fmt_int(observed)} against "
        f"~{fmt_int(expected)} expected. A yanked or deleted release, a renamed package, or the "
        "end of automated traffic (a CI pipeline or a campaign) would look like this."
    )
    evidence = flags.filter(
        (pl.col("project") == project)
        & pl.col("date").is_between(start - dt.timedelta(days=14), end)
    ).select("date", "downloads", "expected", "drop")
    return Finding(
        "volume_change",
        project,
        "Drop to zero" if to_zero else f"Drop −{pct(fall)}",
        text,
        0.45 if to_zero else 0.4,
        None,
        start,
        end,
        {"fall": round(fall, 3), "days": days, "to_zero": to_zero},
        evidence,
    )
