"""Version distribution: are recent downloads on recent releases, or on an old pinned one?"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.signals.context import Context
from workbench.signals.findings import Finding, pct

OLD_DAYS = 540  # ~18 months: "two years old" with margin for release-date noise
RECENT_RELEASE_DAYS = 180
WINDOW = 14
MIN_DOWNLOADS = 100
ADOPTION_DAYS = 30


def version_findings(ctx: Context) -> list[Finding]:
    window = ctx.recent(WINDOW)
    per = (
        ctx.clean.filter(pl.col("date").is_between(window.start, window.end))
        .group_by("project", "version")
        .agg(pl.col("downloads").sum())
        .collect()
        .with_columns(
            share=pl.col("downloads") / pl.col("downloads").sum().over("project"),
            total=pl.col("downloads").sum().over("project"),
        )
    )
    rel = ctx.releases.select("project", "version", up=pl.col("upload_time").dt.date())
    latest = rel.group_by("project").agg(
        latest_up=pl.col("up").max(), latest=pl.col("version").sort_by("up").last()
    )
    joined = per.join(rel, on=["project", "version"], how="left").join(
        latest, on="project", how="left"
    )
    cutoff = window.end - dt.timedelta(days=RECENT_RELEASE_DAYS)
    recent_share = joined.group_by("project").agg(
        recent=pl.col("share").filter(pl.col("up") >= cutoff).sum()
    )
    top = (
        joined.filter(pl.col("total") >= MIN_DOWNLOADS)
        .sort("share", descending=True)
        .group_by("project", maintain_order=True)
        .first()
        .join(recent_share, on="project", how="left")
    )
    out = []
    for row in top.iter_rows(named=True):
        if row["up"] is None:
            continue
        age = (window.end - row["up"]).days
        if row["share"] <= 0.5 or age < OLD_DAYS:
            continue
        # Newer releases count once they have had time to be adopted (a release from last
        # week is adoption in progress, not a package stuck on its old version).
        settled = window.end - dt.timedelta(days=ADOPTION_DAYS)
        newer = rel.filter(
            (pl.col("project") == row["project"])
            & (pl.col("up") > row["up"])
            & (pl.col("up") <= settled)
        )
        years = age / 365.25
        if newer.is_empty():
            text = (
                f"{pct(row['share'])} of recent downloads are of {row['version']}, released "
                f"{years:.1f} years ago — and still the latest release: a stable package, not a "
                "stuck one."
            )
            strength, title = 0.1, "Stable: latest release is old"
        else:
            text = (
                f"{pct(row['share'])} of the last {WINDOW} days' downloads are of "
                f"{row['version']}, released {years:.1f} years ago, although {newer.height} newer "
                f"release(s) exist (latest {row['latest']}, {row['latest_up']}); only "
                f"{pct(row['recent'] or 0)} are on releases from the last six months. The data "
                "suggests consumers pinned to an old version (lock files, base images, a dependent "
                "with an upper bound) rather than a stable package."
            )
            strength = min(1.0, 0.4 + (row["share"] - 0.5))
            title = f"Pinned on {row['version']}"
        evidence = (
            joined.filter(pl.col("project") == row["project"])
            .sort("share", descending=True)
            .select("version", "downloads", "share", pl.col("up").alias("released"))
        )
        out.append(
            Finding(
                "version_distribution",
                row["project"],
                title,
                text,
                strength,
                False if not newer.is_empty() else None,
                window.start,
                window.end,
                {"share": round(row["share"], 3), "age_days": age, "newer_releases": newer.height},
                evidence,
            )
        )
    return out
