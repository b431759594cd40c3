"""Brand-new packages with an implausible first week.

Real baseline (622 packages first released in one week of April 2023, pip
downloads, see ``workbench.demo.calibration``): median 28 downloads in the first
7 days, 90th percentile 112, 99th 535, maximum 1,029. A new package passing
1,029 in its first week is beyond everything in that sample.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from workbench.demo import calibration as cal
from workbench.signals.context import Context
from workbench.signals.findings import Finding, fmt_int, pct

#: Beyond the largest first week in the real sample.
FIRST_WEEK_LIMIT = cal.FIRST_WEEK_MAX


def new_package_findings(ctx: Context) -> list[Finding]:
    d = ctx.daily
    first = d.filter(pl.col("downloads") > 0).group_by("project").agg(first=pl.col("date").min())
    uploads = pl.concat(
        [
            ctx.releases.select("project", "upload_time"),
            ctx.first_releases.select("project", upload_time="first_upload"),
        ]
    )
    uploaded = uploads.group_by("project").agg(first_upload=pl.col("upload_time").min().dt.date())
    first = first.join(uploaded, on="project", how="left")
    # new = first seen after the range began (or first uploaded inside it)
    new = first.filter(
        (pl.col("first") > ctx.days.start + dt.timedelta(days=2))
        | (pl.col("first_upload") >= ctx.days.start).fill_null(False)
    )
    week = (
        d.join(new, on="project")
        .filter(pl.col("date").is_between(pl.col("first"), pl.col("first") + dt.timedelta(days=6)))
        .group_by("project", "first")
        .agg(week=pl.col("downloads").sum(), days=pl.len())
    )
    out = []
    for r in week.filter(pl.col("week") > FIRST_WEEK_LIMIT).iter_rows(named=True):
        top_share = _top_client_share(ctx, r["project"], r["first"])
        times = r["week"] / cal.FIRST_WEEK_MEDIAN
        strength = min(1.0, 0.5 + 0.25 * math.log10(r["week"] / FIRST_WEEK_LIMIT + 1) * 2)
        text = (
            f"First seen on {r['first']}, it had {fmt_int(r['week'])} downloads in its first 7 "
            f"days: {times:.0f}× the median new package ({cal.FIRST_WEEK_MEDIAN:.0f}) and above "
            "the largest of 622 real new packages (1,029)."
        )
        if top_share is not None:
            text += f" The busiest single client accounts for {pct(top_share)} of that week."
        evidence = (
            d.filter((pl.col("project") == r["project"]) & (pl.col("date") >= r["first"]))
            .head(21)
            .select("date", "downloads")
        )
        out.append(
            Finding(
                "new_package_burst",
                r["project"],
                f"New package, {fmt_int(r['week'])} in week one",
                text,
                strength,
                True,
                r["first"],
                r["first"] + dt.timedelta(days=6),
                {
                    "first_week": r["week"],
                    "times_median": round(times, 1),
                    "top_client_share": top_share,
                },
                evidence,
            )
        )
    return out


def _top_client_share(ctx: Context, project: str, first: dt.date) -> float | None:
    end = first + dt.timedelta(days=6)
    fp = ctx.fingerprints.filter(
        (pl.col("project") == project) & pl.col("date").is_between(first, end)
    )
    per = fp.group_by("fingerprint").agg(pl.col("downloads").sum()).collect()
    total = ctx.daily_all.filter(
        (pl.col("project") == project) & pl.col("date").is_between(first, end)
    )
    n = int(total["downloads"].sum())
    return float(per["downloads"].max()) / n if n and per.height else None  # type: ignore[arg-type]
