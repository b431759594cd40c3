"""Installer-mix shifts: growth that is the same audience switching installer.

When users move from pip to uv, counts can rise with no new users: uv in CI
often runs without a persistent cache and re-downloads what pip served from its
cache. The signal compares the first and last third of the range.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from workbench.query import DayRange
from workbench.signals.context import Context
from workbench.signals.findings import Finding, pct

MIN_SHIFT = 0.2
MIN_PER_DAY = 20


def _thirds(days: DayRange) -> tuple[DayRange, DayRange]:
    third = max(days.days // 3, 7)
    return (
        DayRange(days.start, days.start + dt.timedelta(days=third - 1)),
        DayRange(days.end - dt.timedelta(days=third - 1), days.end),
    )


def _mix(ctx: Context, part: DayRange) -> pl.DataFrame:
    return (
        ctx.clean.filter(pl.col("date").is_between(part.start, part.end))
        .group_by("project")
        .agg(
            total=pl.col("downloads").sum() / part.days,
            uv=pl.col("downloads").filter(pl.col("installer") == "uv").sum() / part.days,
            pip=pl.col("downloads").filter(pl.col("installer") == "pip").sum() / part.days,
        )
        .collect()
    )


def installer_findings(ctx: Context) -> list[Finding]:
    if ctx.days.days < 21:
        return []
    early, late = _thirds(ctx.days)
    joined = (
        _mix(ctx, early)
        .join(_mix(ctx, late), on="project", suffix="_late")
        .with_columns(
            uv_share=pl.col("uv") / pl.col("total"),
            uv_share_late=pl.col("uv_late") / pl.col("total_late"),
        )
    )
    hits = joined.filter(
        (pl.col("total") >= MIN_PER_DAY)
        & (pl.col("uv_share_late") - pl.col("uv_share") >= MIN_SHIFT)
        & (pl.col("pip_late") < 0.85 * pl.col("pip"))
    )
    out = []
    for r in hits.iter_rows(named=True):
        growth = r["total_late"] / r["total"] - 1
        text = (
            f"uv's share rose from {pct(r['uv_share'])} to {pct(r['uv_share_late'])} while pip "
            f"downloads fell {pct(1 - r['pip_late'] / r['pip'])} (from {r['pip']:.0f} to "
            f"{r['pip_late']:.0f} a day). Total volume changed {growth:+.0%}, but the pattern is "
            "the same audience switching installer: uv re-downloads where pip used its cache, so "
            "the rise is not new users."
        )
        evidence = pl.DataFrame(
            {
                "period": [f"{early.start}..{early.end}", f"{late.start}..{late.end}"],
                "per_day": [r["total"], r["total_late"]],
                "pip_per_day": [r["pip"], r["pip_late"]],
                "uv_per_day": [r["uv"], r["uv_late"]],
                "uv_share": [r["uv_share"], r["uv_share_late"]],
            }
        )
        out.append(
            Finding(
                "installer_shift",
                r["project"],
                "pip → uv shift",
                text,
                min(1.0, 0.4 + (r["uv_share_late"] - r["uv_share"]) / 2),
                False,
                early.start,
                late.end,
                {
                    "uv_share_before": round(r["uv_share"], 3),
                    "uv_share_after": round(r["uv_share_late"], 3),
                    "growth": round(growth, 3),
                },
                evidence,
            )
        )
    return out
