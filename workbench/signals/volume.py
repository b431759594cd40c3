"""Sudden volume changes and what explains them (a release nearby; a package that started
to require this one), judged against how often packages of the same size jump that far.

The days are flagged by :mod:`workbench.series` (weekday-adjusted baseline of the 28 days
before, ≥ 3× and beyond Poisson noise); consecutive flagged days (one quiet day tolerated)
form one event. Two things keep real noise quiet:

* events of fewer than 100 extra downloads are reported at low strength (real small packages
  have them: a release fetched by scanners, one CI job), and
* with a population, the share of peers of the same volume band whose largest jump in the
  population's days reached the same ratio: a jump that one package in ten of its size
  makes is noise for that size, however large it looks (real small packages peak at ~17×
  their median).

A package's first 14 days are left to the new-package signal.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import polars as pl

from workbench import series
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct

RELEASE_WINDOW = (-3, 1)  # days around the start of a surge
DEPENDENT_WINDOW = (-10, 3)
MIN_CORRELATION = 0.5
#: Days summed before correlating a package with a dependent (day-level noise averaged out).
SMOOTH_DAYS = 3
#: A surge with fewer extra downloads than this is reported at low strength: on the daily
#: series of 622 real new packages (benchmarks/bench_realdata.py) organic bursts of 10–50
#: extra downloads are common (a release fetched by scanners, one CI job); that is also
#: where a ~100-download campaign sits, which volume alone therefore cannot tell apart.
SMALL_BLIP = 100
#: A surge is a copy of the release history when it covers this share of the released
#: versions (of at least this many), none holding more than this share of its downloads.
MIRROR_COVERAGE, MIRROR_MIN_VERSIONS, MIRROR_TOP = 0.8, 5, 0.35
#: An unexplained surge this short is a burst, reported as context, not as a sign of fake
#: traffic: on real new packages' daily series (``../shared/realdata``, 622 packages) the
#: busiest day is ~17× the median day at ~10 downloads a day, and one- to three-day bursts
#: (a team's rebuild, a CI matrix, a scanner) are everyday noise. Campaigns that mean to
#: move a package's numbers last longer; their short echoes are not needed to find them.
BURST_DAYS = 3
#: Peers' rate of a jump this large at and above which the jump is ordinary for the size,
#: and below which it is rare (the strength scales between the two).
COMMON_RATE, RARE_RATE = 0.10, 0.01


def day_flags(ctx: Context) -> pl.DataFrame:
    """The context's daily series with baseline, expected value and surge/drop flags."""
    return series.day_flags(ctx.daily, ctx.days)


def surges_and_drops(ctx: Context) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    flags = day_flags(ctx)
    return flags, series.runs(flags, "surge"), series.drops(flags)


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
        # Over SMOOTH_DAYS-day sums: each package's days are noisy on their own (bursty
        # users), while a dependent's users move both series together over days.
        smooth = joined.select(
            pl.col("downloads", "downloads_dep")
            .cast(pl.Float64)
            .rolling_sum(SMOOTH_DAYS, min_samples=1)
        )
        r = _pearson(smooth["downloads"].to_list(), smooth["downloads_dep"].to_list())
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
    """A dependent's downloads rollup rows (loaded with the context; None if not held)."""
    for frame in (ctx.related.lazy(), ctx.downloads):
        rows = frame.filter(pl.col("project") == project)
        if rows.select(pl.len()).collect().item():
            return rows
    return None


def peer_rarity(ctx: Context, per_day: float, ratio: float) -> tuple[float, str] | None:
    """How rare a jump of ``ratio`` is among peers of ``per_day`` downloads a day: a factor
    for the strength (1 rare … 0 common) and the words that say so; None without peers."""
    if ctx.peers is None:
        return None
    found = ctx.peers.surge_rate(_bin(per_day), ratio)
    if found is None:
        return None
    rate, peers = found
    factor = min(1.0, max(0.0, (COMMON_RATE - rate) / (COMMON_RATE - RARE_RATE)))
    words = (
        f"{pct(rate)} of {peers:,} packages of similar volume jumped this far in the "
        f"population's days ({ctx.peers.describe()})"
    )
    return factor, words


def _bin(per_day: float) -> int:
    return math.floor(math.log10(max(per_day, 0.5)) * 2)


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
    rarity = peer_rarity(ctx, base, ratio)
    if rarity is not None:  # as common among peers as it is large: a look, not a verdict
        strength = min(strength, 0.3 + (strength - 0.3) * rarity[0]) if strength > 0.3 else strength
    # The event ends when the trailing baseline has caught up; the new level may go on.
    persists = recent >= 2 * max(base, 1.0)
    series = flags.filter(pl.col("project") == project).select("date", "downloads")
    evidence = flags.filter(
        (pl.col("project") == project)
        & pl.col("date").is_between(start - dt.timedelta(days=14), end + dt.timedelta(days=7))
    ).select("date", "downloads", "expected", "surge")
    metrics: dict[str, object] = {
        "ratio": round(ratio, 2),
        "excess": observed - expected,
        "baseline_per_day": round(base, 1),
        "days": days,
        "persists": persists,
        "peer_rate_words": rarity[1] if rarity else None,
        "baseline": ctx.baseline(),
    }
    why = explain(ctx, project, start, end, series)
    explanation, inorganic = why.text, why.inorganic
    metrics.update(why.metrics)
    if why.dependent is not None or why.mirror is not None:
        strength = min(strength, 0.45)
    burst = explanation is None and days <= BURST_DAYS
    if burst:
        inorganic, strength = None, min(strength, 0.45)
    span = f"on {start}" if days == 1 else f"from {start} to {end} ({days} days)"
    text = (
        f"Downloads jumped {ratio:.1f}× above the expected level {span}: {fmt_int(observed)} "
        f"against ~{fmt_int(expected)} expected (baseline ~{fmt_int(base)}/day, weekly rhythm "
        "removed)." + (" The higher level persists to the end of the range." if persists else "")
    )
    if rarity is not None:
        text += f" {rarity[1][0].upper()}{rarity[1][1:]}."
    if explanation is None:
        text += " Nothing in the release history or the dependency graph explains it."
    if burst:
        text += (
            f" A burst of {days} day{'s' if days > 1 else ''} is everyday noise for real "
            "packages (their busiest day is often 10–20× their median day): on its own it is "
            "no sign of fake traffic; look at who downloaded on that day."
        )
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


@dataclass(frozen=True)
class Explanation:
    """What explains a surge: a package that started to require this one (organic), a
    release most of the surge downloaded (context), or nothing (``text`` None)."""

    text: str | None
    inorganic: bool | None
    metrics: dict[str, object]
    dependent: str | None = None
    release: tuple[str, ...] = ()
    #: The surge fetched (nearly) every released version evenly: a mirror or a sync script
    #: copying the release history, not installs (share of the versions it covered).
    mirror: float | None = None


def explain(
    ctx: Context, project: str, start: dt.date, end: dt.date, series: pl.DataFrame
) -> Explanation:
    """The explanation of ``project``'s surge from ``start`` to ``end`` (``series``: its
    daily ``date, downloads``)."""
    dep = _dependent_explanation(ctx, project, start, end, series)
    if dep is not None:
        return Explanation(dep[0], False, dict(dep[1]), dependent=str(dep[1]["dependent"]))
    covered = copies_every_release(ctx, project, start, end)
    if covered is not None:
        text = (
            f"the surge's downloads cover {pct(covered)} of the package's released versions, "
            "spread evenly, old ones included: a mirror or a sync script copying the release "
            "history (installs fetch the current release, a copy fetches them all)."
        )
        return Explanation(text, False, {"versions_covered": round(covered, 3)}, mirror=covered)
    rel = _release_near(ctx, project, start)
    if not rel.is_empty():
        versions = rel["version"].to_list()
        on_new = _share_on(ctx, project, start, end, versions)
        first_upload = str(rel["upload_time"].dt.date().min())
        if on_new >= 0.5:
            text = (
                f"release {', '.join(versions)} was uploaded on {first_upload}, "
                f"and {pct(on_new)} of the surge's downloads are of it: a release can explain "
                "a burst of CI and upgrade traffic, but not a lasting multiple."
            )
            return Explanation(
                text, None, {"release": ", ".join(versions)}, release=tuple(versions)
            )
    return Explanation(None, True, {})


def copies_every_release(ctx: Context, project: str, start: dt.date, end: dt.date) -> float | None:
    """The share of the released versions that ``start..end``'s *extra* downloads covered
    (beyond the usual users' downloads in their usual version mix, from the 28 days before),
    when they cover most of the release history evenly (None otherwise): what a mirror
    re-sync or a script copying every file looks like, and what installs (of the current
    release, or of what users pin) do not."""
    released = ctx.releases.filter(
        (pl.col("project") == project) & (pl.col("upload_time").dt.date() <= end)
    )["version"].unique()
    if released.len() < MIRROR_MIN_VERSIONS:
        return None
    rows = ctx.clean.filter(pl.col("project") == project)
    usual_from = start - dt.timedelta(days=28)
    per = (
        rows.filter(pl.col("date").is_between(usual_from, end))
        .group_by("version")
        .agg(
            surge=pl.col("downloads").filter(pl.col("date") >= start).sum(),
            usual=pl.col("downloads").filter(pl.col("date") < start).sum(),
        )
        .collect()
    )
    usual_days = max((start - max(usual_from, ctx.days.start)).days, 1)
    days = (end - start).days + 1
    per = per.with_columns(
        extra=(pl.col("surge") - pl.col("usual") * days / usual_days).clip(lower_bound=0)
    )
    total = float(per["extra"].sum())
    if total <= 0:
        return None
    hit = per.filter((pl.col("extra") > 0) & pl.col("version").is_in(released.implode()))
    share = hit.height / released.len()
    top = float(per["extra"].max()) / total  # type: ignore[arg-type]
    return share if share >= MIRROR_COVERAGE and top <= MIRROR_TOP else None


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
