"""The signals on real daily download series (no labels of fake traffic): how often do they
fire on real small packages?

Input: ``../shared/realdata/soodoku__social_proof_stars/.../pkg_pypi_downloads.csv`` — daily
pip downloads of 622 packages first released 24–30 April 2023, through 31 August 2023. None
was given fake downloads (the "treated" ones had GitHub stars bought, which may or may not move
downloads). Every finding here is either real organic noise the detector should tolerate, or
a real event worth a look; the script prints them so a person can judge.

Run: ``.venv/bin/python benchmarks/bench_realdata.py``
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from workbench.query import DayRange
from workbench.schema import conform, empty
from workbench.signals import Context, summarize
from workbench.signals.newpkg import new_package_findings
from workbench.signals.volume import volume_findings

PATH = (
    Path(__file__).resolve().parents[2]
    / "shared/realdata/soodoku__social_proof_stars"
    / "github_exp/get_metrics/output/pkg_pypi_downloads.csv"
)


def main() -> None:
    if not PATH.exists():
        print(f"skipped: the real export is not here ({PATH})")
        return
    raw = pl.read_csv(PATH, try_parse_dates=True)
    rollup = conform(
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
    days = DayRange(raw["date"].min(), raw["date"].max())  # type: ignore[arg-type]
    ctx = Context(days, rollup.lazy(), empty("fingerprints").lazy())
    volume = [f for f in volume_findings(ctx) if f.fired]
    new = [f for f in new_package_findings(ctx) if f.fired]
    packages = raw["pkg"].n_unique()
    treated = set(raw.filter(pl.col("treated") == 1)["pkg"].unique().to_list())
    hit = {f.project for f in volume}
    print(f"{packages} real new packages, {days} ({days.days} days), pip downloads only")
    print(
        f"volume_change fired on {len(hit)} packages ({len(hit) / packages:.1%}); "
        f"{len(hit & treated)} of them among the {len(treated)} 'treated' (stars bought)"
    )
    flagged = [s for s in summarize(volume + new) if s.flagged]
    print(
        f"flagged (suspicion medium or high) on volume alone: {len(flagged)} "
        f"({len(flagged) / packages:.1%}); this export has no client, country or release data"
    )
    print(
        f"new_package_burst fired on {len({f.project for f in new})} packages (its limit is the "
        "sample's largest first week counted from the first calendar day of the export; the signal "
        "counts from the first day with downloads, so a few real launches exceed it)"
    )
    surges = [f for f in volume if "ratio" in f.metrics]
    for f in sorted(surges, key=lambda f: -f.metrics["excess"])[:10]:
        ratio, extra = f.metrics["ratio"], f.metrics["excess"]
        print(f"  {f.project:32s} {f.when():24s} ×{ratio:<6} {extra:>7,.0f} extra")
    print(f"measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")


if __name__ == "__main__":
    main()
