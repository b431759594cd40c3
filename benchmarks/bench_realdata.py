"""The signals on real download data (no labels of fake traffic): how often do they fire on
real packages? Every flag here is real organic noise the detectors should tolerate (or a
real event worth a look; the largest are printed so a person can judge).

Inputs (``../shared/realdata``, see its SOURCES.md):

* daily pip downloads of 622 packages first released 24–30 April 2023, through 31 August
  2023 (``soodoku__social_proof_stars/…/pkg_pypi_downloads.csv``) with each package's first
  release (``check-github-url.csv``): the volume signal on their daily series, the
  new-package burst on their first weeks (and the ramp over weeks 3–4), and the screen
  over their features;
* monthly downloads per version of ``bork`` (``duckinator__bork-statistics``), 2019–2021,
  spread evenly over each month's days: the version signal at the end of every month.

Peers: the volume signal judges a jump by how often packages of the same size jump that far.
Here the peers are the real packages themselves, cross-fitted (half the packages are the
population for the other half, and the other way round), so no package is its own peer.

Run: ``.venv/bin/python benchmarks/bench_realdata.py``. Nothing is asserted; the target is
at most 2 % of real packages flagged (suspicion medium or high).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from workbench.population import features, peers, screen
from workbench.query import DayRange
from workbench.schema import RELEASES, conform, empty
from workbench.signals import Context, summarize
from workbench.signals.newpkg import new_package_findings
from workbench.signals.versions import version_findings
from workbench.signals.volume import volume_findings

REAL = Path(__file__).resolve().parents[2] / "shared/realdata"
DAILY = REAL / "soodoku__social_proof_stars/github_exp/get_metrics/output/pkg_pypi_downloads.csv"
FIRSTS = (
    REAL
    / "soodoku__social_proof_stars/github_exp/sample_and_random_assign/output/check-github-url.csv"
)
BORK = REAL / "duckinator__bork-statistics/data/pypi"


def _rollup(raw: pl.DataFrame) -> pl.DataFrame:
    return conform(
        raw.select(
            project=pl.col("pkg"),
            date=pl.col("date"),
            version=pl.lit("0"),
            file_type=pl.lit("bdist_wheel"),
            installer=pl.lit("pip"),
            python=pl.lit(None),
            system=pl.lit(None),
            country=pl.lit(None),
            ci=pl.lit(False),
            downloads=pl.col("download_count"),
        ).filter(pl.col("downloads") > 0),
        "downloads",
    )


def _releases(raw: pl.DataFrame) -> pl.DataFrame:
    if not FIRSTS.exists():
        return pl.DataFrame(schema=RELEASES)
    firsts = pl.read_csv(FIRSTS, try_parse_dates=True).filter(
        pl.col("pkg").is_in(raw["pkg"].unique().implode())
    )
    return firsts.select(
        project="pkg",
        version=pl.lit("0"),
        upload_time=pl.col("earliest_release").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        packagetypes=pl.lit(["bdist_wheel"]),
        requires_dist=pl.lit([], dtype=pl.List(pl.String)),
    ).select([pl.col(c).cast(t) for c, t in RELEASES.items()])


def daily_series() -> None:
    raw = pl.read_csv(DAILY, try_parse_dates=True)
    rollup = _rollup(raw)
    days = DayRange(raw["date"].min(), raw["date"].max())  # type: ignore[arg-type]
    names = sorted(raw["pkg"].unique().to_list())
    halves = (set(names[0::2]), set(names[1::2]))
    packages = len(names)
    print(f"{packages} real new packages, {days} ({days.days} days), pip downloads only")
    feats = features.from_rollups(rollup.lazy(), empty("fingerprints").lazy())
    findings = []
    for mine, theirs in (halves, halves[::-1]):
        population = feats.filter(pl.col("project").is_in(list(theirs)))
        baseline = peers.build(population, days, source="the other half", tier="basic")
        part = rollup.filter(pl.col("project").is_in(list(mine)))
        ctx = Context(
            days, part.lazy(), empty("fingerprints").lazy(), peers=baseline, releases=_releases(raw)
        )
        findings += volume_findings(ctx) + new_package_findings(ctx)
    volume = [f for f in findings if f.signal == "volume_change" and f.fired]
    new = [f for f in findings if f.signal == "new_package_burst" and f.fired]
    ramps = {f.project for f in findings if f.title == "New package ramping up"}
    flagged = [s for s in summarize(findings) if s.flagged]
    print(
        f"  volume_change fired on {len({f.project for f in volume})} packages "
        f"({len({f.project for f in volume}) / packages:.1%})"
    )
    print(
        f"  new_package_burst fired on {len({f.project for f in new})} packages "
        f"({len({f.project for f in new}) / packages:.1%}); first weeks counted from release"
    )
    print(
        f"  new-package ramp (weeks 3–4 beyond the limit and busier than week 1) on "
        f"{len(ramps)} packages ({len(ramps) / packages:.1%}); without client detail here it "
        "stays low (inorganic only with a narrow client pool)"
    )
    print(f"  flagged by the signals: {len(flagged)} ({len(flagged) / packages:.1%})")
    surges = [f for f in volume if "excess" in f.metrics]
    for f in sorted(surges, key=lambda f: -f.metrics["excess"])[:5]:
        print(
            f"    {f.project:32s} {f.when():24s} ×{f.metrics['ratio']:<6} "
            f"{f.metrics['excess']:>7,.0f} extra"
        )
    ranked = screen.screen(feats, days, source="the 622 packages").table
    flagged_screen = ranked.filter(pl.col("score") >= 0.4)
    print(
        f"  the screen (features only) flags {flagged_screen.height} "
        f"({flagged_screen.height / packages:.1%}); its signals: "
        f"{flagged_screen['signals'].value_counts().sort('count', descending=True).rows()[:4]}"
    )


def versions() -> None:
    months = sorted(BORK.glob("*.json"))
    rows = []
    for path in months:
        month = dt.date.fromisoformat(path.stem)
        for item in json.loads(path.read_text()):
            rows.append({"month": month, "version": item["version"], "count": item["count"]})
    frame = pl.DataFrame(rows)
    first = frame.group_by("version").agg(up=pl.col("month").min())
    fired = 0
    for path in months[3:]:
        end = dt.date.fromisoformat(path.stem)
        start = end - dt.timedelta(days=27)
        month = frame.filter(pl.col("month") == dt.date(start.year, start.month, 1))
        daily = [
            {
                "project": "bork",
                "date": start + dt.timedelta(days=d),
                "version": r["version"],
                "file_type": "bdist_wheel",
                "installer": "pip",
                "python": None,
                "system": None,
                "country": None,
                "ci": False,
                "downloads": max(1, r["count"] // 30),
            }
            for r in month.iter_rows(named=True)
            for d in range(28)
        ]
        released = first.filter(pl.col("up") <= end).select(
            project=pl.lit("bork"),
            version="version",
            upload_time=pl.col("up").cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
            packagetypes=pl.lit(["bdist_wheel"]),
            requires_dist=pl.lit([], dtype=pl.List(pl.String)),
        )
        ctx = Context(
            DayRange(start, end - dt.timedelta(days=1)),
            conform(pl.DataFrame(daily), "downloads").lazy(),
            empty("fingerprints").lazy(),
            releases=released.select([pl.col(c).cast(t) for c, t in RELEASES.items()]),
        )
        fired += any(f.fired for f in version_findings(ctx))
    print(
        f"bork, {len(months) - 3} months of per-version downloads: the version signal fired "
        f"in {fired} ({fired / max(len(months) - 3, 1):.0%}); old versions each get the "
        "mirror/scanner floor, the newest most of the rest"
    )


def main() -> None:
    if not DAILY.exists():
        print(f"skipped: the real export is not here ({DAILY})")
        return
    daily_series()
    if BORK.exists():
        versions()
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
